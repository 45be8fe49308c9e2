package cli

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
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/iamlocal/iamlocal/internal/service/local"
)

// localAPI calls iamlocal's own API (/_iamlocal/api, internal/service/local) with the
// caller's AWS credentials, signed with SigV4 as any AWS call: the server decides by
// its policies whether the caller may (iamlocal:SignSAMLAssertion…).
type localAPI struct {
	cfg      aws.Config
	endpoint string
	client   *http.Client
}

func newLocalAPI(ctx context.Context, opts broker.Options) (*localAPI, error) {
	cfg, err := broker.Load(ctx, opts)
	if err != nil {
		return nil, err
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint == "" {
		return nil, &exitError{2, errors.New("give --endpoint-url (or AWS_ENDPOINT_URL): the iamlocal server to ask")}
	}
	return &localAPI{cfg: cfg, endpoint: strings.TrimSuffix(*cfg.BaseEndpoint, "/"), client: &http.Client{Timeout: 30 * time.Second}}, nil
}

// apiError is an error answer of iamlocal's API.
type apiError struct {
	Op, Code, Message string
}

func (e *apiError) Error() string { return "iamlocal:" + e.Op + ": " + e.Code + ": " + e.Message }

// call runs one operation: in is sent as JSON, the answer decoded into out.
func (a *localAPI) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint+local.Path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", local.TargetPrefix+"."+op)
	creds, err := a.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("credentials to sign iamlocal:%s: %w", op, err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), local.SigningName, a.cfg.Region, time.Now()); err != nil {
		return err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"Message"`
		}
		if json.Unmarshal(data, &e) != nil || e.Type == "" {
			return fmt.Errorf("iamlocal:%s: HTTP %d from %s%s: is it an iamlocal server?", op, resp.StatusCode, a.endpoint, local.Path)
		}
		return &apiError{op, e.Type, e.Message}
	}
	return json.Unmarshal(data, out)
}
