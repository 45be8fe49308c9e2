package iam_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/go-jose/go-jose/v4"
)

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// The JWT GetWebIdentityToken returns verifies against the JWKS the issuer serves.
func TestOutboundWebIdentityFederation(t *testing.T) {
	e := start(t)
	_, err := e.root.GetOutboundWebIdentityFederationInfo(e.ctx, &iam.GetOutboundWebIdentityFederationInfoInput{})
	wantErr(t, err, "FeatureDisabled", 404, "The request failed because outbound identity federation is already disabled for your Amazon Web Services account. You cannot disable the feature multiple times")
	_, creds := e.signer("app", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetWebIdentityToken","Resource":"*",
	  "Condition":{"ForAllValues:StringEquals":{"sts:IdentityTokenAudience":"https://api.example.com"},"NumericLessThanEquals":{"sts:DurationSeconds":"900"}}}]}`)
	app := e.s.STS(creds)
	in := &sts.GetWebIdentityTokenInput{Audience: []string{"https://api.example.com"}, SigningAlgorithm: aws.String("ES384"),
		Tags: []ststypes.Tag{{Key: aws.String("job"), Value: aws.String("42")}}}
	_, err = app.GetWebIdentityToken(e.ctx, in)
	wantErr(t, err, "OutboundWebIdentityFederationDisabledException", 403, "The outbound web identity federation feature is not enabled for this account. To use this feature, you must first enable it through the Amazon Web Services Management Console or API.")

	issuer := aws.ToString(ok(e.root.EnableOutboundWebIdentityFederation(e.ctx, &iam.EnableOutboundWebIdentityFederationInput{}))(t).IssuerIdentifier)
	if !strings.HasPrefix(issuer, e.s.URL+"/_iamlocal/outbound-oidc/") || len(issuer) != len(e.s.URL+"/_iamlocal/outbound-oidc/")+36 {
		t.Fatalf("issuer %q", issuer)
	}
	_, err = e.root.EnableOutboundWebIdentityFederation(e.ctx, &iam.EnableOutboundWebIdentityFederationInput{})
	wantErr(t, err, "FeatureEnabled", 409, "The request failed because outbound identity federation is already enabled…")
	info := ok(e.root.GetOutboundWebIdentityFederationInfo(e.ctx, &iam.GetOutboundWebIdentityFederationInfoInput{}))(t)
	if aws.ToString(info.IssuerIdentifier) != issuer || !info.JwtVendingEnabled {
		t.Fatalf("info: %+v", info)
	}

	var discovery struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, issuer+"/.well-known/openid-configuration", &discovery)
	if discovery.Issuer != issuer || discovery.JWKSURI != issuer+"/.well-known/jwks.json" {
		t.Fatalf("discovery: %+v", discovery)
	}
	var jwks jose.JSONWebKeySet
	getJSON(t, discovery.JWKSURI, &jwks)

	for _, alg := range []string{"ES384", "RS256"} {
		in.SigningAlgorithm = aws.String(alg)
		out := ok(app.GetWebIdentityToken(e.ctx, in))(t)
		tok, err := jose.ParseSigned(aws.ToString(out.WebIdentityToken), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatal(err)
		}
		keys := jwks.Key(tok.Signatures[0].Header.KeyID)
		if len(keys) != 1 {
			t.Fatalf("%s: kid %q not in the JWKS", alg, tok.Signatures[0].Header.KeyID)
		}
		payload, err := tok.Verify(keys[0])
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		var claims struct {
			Iss, Sub, Aud, Jti string
			Iat, Exp           int64
			AWS                struct {
				Account     string            `json:"aws_account"`
				Region      string            `json:"source_region"`
				RequestTags map[string]string `json:"request_tags"`
			} `json:"https://sts.amazonaws.com/"`
		}
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		if claims.Iss != issuer || claims.Sub != "arn:aws:iam::111111111111:user/app" || claims.Aud != "https://api.example.com" ||
			claims.Exp-claims.Iat != 300 || claims.Jti == "" || claims.AWS.Account != account || claims.AWS.Region != "us-east-1" ||
			claims.AWS.RequestTags["job"] != "42" || out.Expiration == nil || time.Until(*out.Expiration) > 301*time.Second {
			t.Fatalf("%s claims: %s", alg, payload)
		}
	}

	// The policy's conditions see the audience and the duration.
	_, err = app.GetWebIdentityToken(e.ctx, &sts.GetWebIdentityTokenInput{Audience: []string{"https://elsewhere.example"}, SigningAlgorithm: aws.String("RS256")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/app is not authorized to perform: sts:GetWebIdentityToken…")
	_, err = app.GetWebIdentityToken(e.ctx, &sts.GetWebIdentityTokenInput{Audience: []string{"https://api.example.com"}, SigningAlgorithm: aws.String("RS256"), DurationSeconds: aws.Int32(3600)})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/app is not authorized to perform: sts:GetWebIdentityToken…")
	_, err = app.GetWebIdentityToken(e.ctx, &sts.GetWebIdentityTokenInput{Audience: []string{"https://api.example.com"}, SigningAlgorithm: aws.String("HS256")})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value 'HS256' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [RS256, ES384]")

	ok(e.root.DisableOutboundWebIdentityFederation(e.ctx, &iam.DisableOutboundWebIdentityFederationInput{}))(t)
	_, err = e.root.DisableOutboundWebIdentityFederation(e.ctx, &iam.DisableOutboundWebIdentityFederationInput{})
	wantErr(t, err, "FeatureDisabled", 404, "The request failed because outbound identity federation is already disabled…")
	if info := ok(e.root.GetOutboundWebIdentityFederationInfo(e.ctx, &iam.GetOutboundWebIdentityFederationInfoInput{}))(t); info.JwtVendingEnabled {
		t.Fatalf("info after disable: %+v", info)
	}
	_, err = app.GetWebIdentityToken(e.ctx, in)
	wantErr(t, err, "OutboundWebIdentityFederationDisabledException", 403, "The outbound web identity federation feature is not enabled…")
	if resp, err := http.Get(discovery.JWKSURI); err != nil || resp.StatusCode != 404 {
		t.Fatalf("JWKS of a disabled issuer: %v %v", resp, err)
	}
}
