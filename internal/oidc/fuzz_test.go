package oidc

import (
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

var (
	fuzzOnce   sync.Once
	fuzzKey    *jose.JSONWebKey
	fuzzTokens []string
)

// fuzzSetup mints the seeds with one key; only what that key signed may verify.
func fuzzSetup(t testing.TB) {
	fuzzOnce.Do(func() {
		fuzzKey = signingKey(t)
		now := time.Unix(1_700_000_000, 0)
		for _, c := range []map[string]any{
			Build("token.actions.githubusercontent.com", "repo:o/r:ref:refs/heads/main", "", nil, now, time.Hour),
			Build("oidc.eks.us-east-1.amazonaws.com/id/ABC", "system:serviceaccount:ns:sa", "", nil, now, time.Hour),
			Build(Google, "1234567890", "aud", map[string]any{"https://aws.amazon.com/tags": map[string]any{"principal_tags": map[string]any{"k": []any{"v"}}}}, now, time.Hour),
			{"iss": "https://x", "sub": 1, "aud": []any{1, "a"}, "exp": 1.5, "amr": map[string]any{}},
		} {
			tok, err := Mint(fuzzKey, c)
			if err != nil {
				t.Fatal(err)
			}
			fuzzTokens = append(fuzzTokens, tok)
		}
	})
}

// signedPart is a compact JWS's signing input: header.payload.
func signedPart(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return tok
	}
	return tok[:i]
}

// FuzzVerify feeds arbitrary tokens to the verification path of
// AssumeRoleWithWebIdentity: Peek, Verify, the time checks, the audience and the
// condition keys. Nothing may panic, and Verify may accept only a header and payload
// that the issuer's key signed.
func FuzzVerify(f *testing.F) {
	fuzzSetup(f)
	for _, tok := range fuzzTokens {
		f.Add(tok)
		parts := strings.Split(tok, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add("eyJhbGciOiJub25lIn0." + parts[1] + ".")
		f.Add("eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ." + parts[1] + "." + parts[2])
	}
	f.Add("")
	f.Add("....")
	f.Add(`{"payload":"e30","signatures":[]}`)
	signed := map[string]bool{}
	for _, tok := range fuzzTokens {
		signed[signedPart(tok)] = true
	}
	keys := []jose.JSONWebKey{fuzzKey.Public()}
	now := time.Unix(1_700_000_100, 0)
	f.Fuzz(func(t *testing.T, tok string) {
		if c, err := Peek(tok); err == nil {
			_ = AudienceOf(c)
			_, _ = c.String("iss")
		}
		got, err := Verify(tok, keys)
		if err != nil {
			return
		}
		if !signed[signedPart(tok)] {
			t.Fatalf("verified a token the key never signed: %q", tok)
		}
		_ = got.Claims.CheckTimes(now)
		sub, _ := got.Claims.String("sub")
		auds := AudienceOf(got.Claims)
		aud := ""
		if len(auds) > 0 {
			aud = auds[0]
		}
		for _, name := range []string{"token.actions.githubusercontent.com", Google, Cognito, Amazon, "gitlab.com"} {
			fed := &Federation{Name: name, Provider: name, Audience: aud, Subject: sub, Claims: got.Claims}
			_ = fed.TrustKeys()
			_ = fed.SessionKeys()
		}
	})
}
