package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
)

func TestParseProviderURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com"},
		{"HTTPS://Token.Actions.GitHubUserContent.com", "token.actions.githubusercontent.com"},
		{"https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE", "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"},
		// The path keeps its case and a trailing slash (Auth0's issuers end in "/").
		{"https://auth-dev.mozilla.auth0.com/", "auth-dev.mozilla.auth0.com/"},
		{"https://gitlab.example.com/Group", "gitlab.example.com/Group"},
	} {
		got, err := ParseProviderURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseProviderURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "token.actions.githubusercontent.com", "http://example.com", "https://", "https:///path",
		"https://example.com:8443", "https://example.com?x=1", "https://example.com/#frag", "https://user@example.com",
		"https://exa mple.com", "https://example..com", "https://example.com//x", "https://.example.com"} {
		if got, err := ParseProviderURL(bad); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("ParseProviderURL(%q) = %q, %v; want ErrInvalidURL", bad, got, err)
		}
	}
}

func TestProviderARN(t *testing.T) {
	arn := ProviderARN("111111111111", "oidc.eks.us-east-1.amazonaws.com/id/ABC")
	if arn != "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC" {
		t.Fatal(arn)
	}
	a, n, ok := ParseProviderARN(arn)
	if !ok || a != "111111111111" || n != "oidc.eks.us-east-1.amazonaws.com/id/ABC" {
		t.Fatal(a, n, ok)
	}
	for _, bad := range []string{"arn:aws:iam::111111111111:role/x", "arn:aws:iam::11111111111x:oidc-provider/a", "arn:aws:iam::111111111111:oidc-provider/", "x"} {
		if _, _, ok := ParseProviderARN(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func signingKey(t testing.TB) *jose.JSONWebKey {
	t.Helper()
	raw, kid, err := NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseSigningKey(raw)
	if err != nil || k.KeyID != kid {
		t.Fatal(err, kid)
	}
	return k
}

func TestMintVerify(t *testing.T) {
	k := signingKey(t)
	now := time.Unix(1_700_000_000, 0)
	claims := Build("token.actions.githubusercontent.com", "repo:octo-org/octo-repo:environment:prod", "", nil, now, 10*time.Minute)
	tok, err := Mint(k, claims)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(tok, []jose.JSONWebKey{k.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyID != k.KeyID || got.Algorithm != "RS256" {
		t.Fatalf("header %q %q", got.KeyID, got.Algorithm)
	}
	for name, want := range map[string]string{"iss": "https://token.actions.githubusercontent.com", "aud": "sts.amazonaws.com",
		"repository": "octo-org/octo-repo", "repository_owner": "octo-org", "environment": "prod", "ref": "refs/heads/main"} {
		if v, _ := got.Claims.String(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if err := got.Claims.CheckTimes(now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Another key, a tampered payload, a key the header does not name: refused.
	other := signingKey(t)
	if _, err := Verify(tok, []jose.JSONWebKey{other.Public()}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("other key: %v", err)
	}
	anon := other.Public()
	anon.KeyID = ""
	if _, err := Verify(tok, []jose.JSONWebKey{anon}); !errors.Is(err, ErrSignature) {
		t.Fatalf("other key without kid: %v", err)
	}
	parts := strings.Split(tok, ".")
	forged := parts[0] + "." + strings.TrimRight(parts[1], "Q") + "Q." + parts[2]
	if _, err := Verify(forged, []jose.JSONWebKey{k.Public()}); err == nil {
		t.Fatal("tampered token verified")
	}
	// alg none and HS256 are not among the algorithms STS accepts.
	none := "eyJhbGciOiJub25lIn0." + parts[1] + "."
	if _, err := Verify(none, []jose.JSONWebKey{k.Public()}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("alg none: %v", err)
	}
	for _, junk := range []string{"", "abc", "a.b.c", "{}", tok + "."} {
		if _, err := Verify(junk, []jose.JSONWebKey{k.Public()}); err == nil {
			t.Fatalf("%q verified", junk)
		}
	}
}

func TestVerifyEC(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k := &jose.JSONWebKey{Key: ec, KeyID: "ec1", Algorithm: "ES256"}
	tok, err := Mint(k, map[string]any{"sub": "x", "exp": 2_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(tok, []jose.JSONWebKey{k.Public()}); err != nil {
		t.Fatal(err)
	}
}

func TestCheckTimes(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := func(s string) Claims {
		var m Claims
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	var expired *ExpiredError
	if err := c(`{"exp":1700000000}`).CheckTimes(now); !errors.As(err, &expired) || expired.Now != 1700000000 || expired.Exp != 1700000000 {
		t.Fatalf("exp == now: %v", err)
	}
	if err := c(`{"exp":1700000001,"nbf":1700000300,"iat":1700000300}`).CheckTimes(now); err != nil {
		t.Fatalf("five minutes of skew: %v", err)
	}
	for doc, want := range map[string]error{
		`{}`:                                  ErrNoExpiry,
		`{"exp":"1700000100"}`:                ErrBadTime,
		`{"exp":1700000100.5}`:                ErrBadTime,
		`{"exp":1700000100,"nbf":1700000301}`: ErrNotYet,
		`{"exp":1700000100,"iat":1700000301}`: ErrFutureIssue,
	} {
		if err := c(doc).CheckTimes(now); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", doc, err, want)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	k := signingKey(t)
	set, err := JWKS(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseJWKS(set)
	if err != nil || len(keys) != 1 || keys[0].KeyID != k.KeyID {
		t.Fatal(keys, err)
	}
	private, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{*k}})
	for name, doc := range map[string]string{
		"private key": string(private),
		"empty":       `{"keys":[]}`,
		"not json":    `keys`,
		"symmetric":   `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`,
		"encryption":  strings.Replace(string(set), `"use":"sig"`, `"use":"enc"`, 1),
	} {
		if _, err := ParseJWKS([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestFederationKeys(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	gh := Build("token.actions.githubusercontent.com", "repo:octo-org/octo-repo:ref:refs/heads/main", "", nil, now, time.Minute)
	f := &Federation{Name: "token.actions.githubusercontent.com", Provider: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
		Audience: "sts.amazonaws.com", Subject: "repo:octo-org/octo-repo:ref:refs/heads/main", Claims: jsonRoundTrip(t, gh)}
	trust := f.TrustKeys()
	for k, want := range map[string]string{
		"token.actions.githubusercontent.com:sub":              "repo:octo-org/octo-repo:ref:refs/heads/main",
		"token.actions.githubusercontent.com:aud":              "sts.amazonaws.com",
		"token.actions.githubusercontent.com:repository":       "octo-org/octo-repo",
		"token.actions.githubusercontent.com:ref":              "refs/heads/main",
		"token.actions.githubusercontent.com:job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
		"token.actions.githubusercontent.com:actor":            "octocat",
		"aws:federatedprovider":                                f.Provider,
	} {
		if got := trust[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// GitHub's extra keys are for the trust policy only.
	session := f.SessionKeys()
	if _, ok := session["token.actions.githubusercontent.com:repository"]; ok {
		t.Error("repository reached the session")
	}
	if _, ok := session["token.actions.githubusercontent.com:sub"]; !ok {
		t.Error("sub missing from the session")
	}
	// Google: azp is the audience AWS checks, aud the original one.
	g := jsonRoundTrip(t, Build(Google, "123456789012345678901", "my-audience", nil, now, time.Minute))
	if got := AudienceOf(g); !cmp.Equal(got, []string{"123456789012345678901"}) {
		t.Fatal(got)
	}
	gf := &Federation{Name: Google, Provider: Google, Audience: "123456789012345678901", Subject: "123456789012345678901", Claims: g}
	keys := gf.TrustKeys()
	if !cmp.Equal(keys["accounts.google.com:aud"], []string{"123456789012345678901"}) || !cmp.Equal(keys["accounts.google.com:oaud"], []string{"my-audience"}) {
		t.Fatal(keys)
	}
	// Cognito's amr is multi-valued.
	cg := jsonRoundTrip(t, Build(Cognito, "us-east-1:abc", "", map[string]any{"amr": []any{"authenticated", "graph.facebook.com"}}, now, time.Minute))
	cf := &Federation{Name: Cognito, Provider: Cognito, Audience: "us-east-1:00000000-0000-0000-0000-000000000000", Subject: "us-east-1:abc", Claims: cg}
	if got := cf.SessionKeys()["cognito-identity.amazonaws.com:amr"]; !cmp.Equal(got, []string{"authenticated", "graph.facebook.com"}) {
		t.Fatal(got)
	}
	// EKS: aud is a list.
	eks := jsonRoundTrip(t, Build("oidc.eks.us-east-1.amazonaws.com/id/ABC", "system:serviceaccount:default:app", "", nil, now, time.Minute))
	if got := eks.Strings("aud"); !cmp.Equal(got, []string{"sts.amazonaws.com"}) {
		t.Fatal(got)
	}
	if _, ok := eks["aud"].([]any); !ok {
		t.Fatal("EKS aud is not a list")
	}
	// GitLab's keys from the service authorization reference.
	gl := jsonRoundTrip(t, Build("gitlab.com", "project_path:mygroup/myproject:ref_type:branch:ref:main", "", nil, now, time.Minute))
	glf := &Federation{Name: "gitlab.com", Provider: "x", Audience: "https://gitlab.com", Subject: "s", Claims: gl}
	if got := glf.TrustKeys()["gitlab.com:project_id"]; len(got) != 1 {
		t.Fatal(glf.TrustKeys())
	}
	if v, _ := gl.String("namespace_path"); v != "mygroup" {
		t.Fatal(v)
	}
}

func jsonRoundTrip(t *testing.T, m map[string]any) Claims {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeClaims(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseClaimFlag(t *testing.T) {
	k, v, err := ParseClaimFlag(`https://aws.amazon.com/tags={"principal_tags":{"team":["infra"]}}`)
	if err != nil || k != "https://aws.amazon.com/tags" {
		t.Fatal(k, v, err)
	}
	if _, ok := v.(map[string]any); !ok {
		t.Fatalf("%T", v)
	}
	if k, v, err := ParseClaimFlag("environment=prod=1"); err != nil || k != "environment" || v != "prod=1" {
		t.Fatal(k, v, err)
	}
	for _, bad := range []string{"noequals", "=x", "amr=[unclosed"} {
		if _, _, err := ParseClaimFlag(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
