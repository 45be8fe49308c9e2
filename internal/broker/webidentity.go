package broker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/iamlocal/iamlocal/internal/oidc"
)

// TokenRequest asks an iamlocal server's built-in issuer for a web identity token.
type TokenRequest struct {
	Issuer   string         // HOST[/PATH] or https://HOST[/PATH]
	Subject  string         // sub
	Audience string         // "": the issuer preset's
	Claims   map[string]any // extra claims, over the preset's
	TTL      time.Duration  // 0: oidc.DefaultTTL
}

// MintWebIdentityToken signs a token with cfg's credentials (the caller needs
// iamlocal:MintWebIdentityToken) at cfg's endpoint.
func MintWebIdentityToken(ctx context.Context, cfg aws.Config, req TokenRequest) (*oidc.MintResult, error) {
	claims, err := json.Marshal(req.Claims)
	if err != nil {
		return nil, err
	}
	form := url.Values{"Issuer": {req.Issuer}, "Subject": {req.Subject}, "Claims": {string(claims)}}
	if req.Audience != "" {
		form.Set("Audience", req.Audience)
	}
	if req.TTL != 0 {
		form.Set("TTL", strconv.Itoa(int(req.TTL/time.Second)))
	}
	var res oidc.MintResult
	return &res, callIssuer(ctx, cfg, oidc.MintPath, form, &res)
}

// ImportJWKS registers the public keys of an issuer (the caller needs
// iamlocal:ImportWebIdentityKeys, in the management account).
func ImportJWKS(ctx context.Context, cfg aws.Config, issuer string, jwks []byte) (*oidc.ImportResult, error) {
	var res oidc.ImportResult
	return &res, callIssuer(ctx, cfg, oidc.ImportPath, url.Values{"Issuer": {issuer}, "JWKS": {string(jwks)}}, &res)
}

// IssuerError is an error answer of the issuers' API.
type IssuerError struct {
	Status        int
	Code, Message string
}

func (e *IssuerError) Error() string { return e.Code + ": " + e.Message }

// callIssuer sends a SigV4-signed form POST to one of the issuers' operations and
// decodes its JSON answer.
func callIssuer(ctx context.Context, cfg aws.Config, path string, form url.Values, out any) error {
	endpoint := aws.ToString(cfg.BaseEndpoint)
	if endpoint == "" {
		return errors.New("no endpoint: give --endpoint-url (or AWS_ENDPOINT_URL) — the issuers are iamlocal's, not AWS's")
	}
	if cfg.Credentials == nil {
		return errors.New("no credentials to sign the request with")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), oidc.SigningService, region, time.Now()); err != nil {
		return err
	}
	client := http.DefaultClient
	if hc, ok := cfg.HTTPClient.(*http.Client); ok && hc != nil {
		client = hc
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		e := &IssuerError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			return fmt.Errorf("%s: HTTP %d: %s", path, resp.StatusCode, strings.TrimSpace(string(data)))
		}
		return e
	}
	return json.Unmarshal(data, out)
}
