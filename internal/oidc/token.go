package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// MaxTokenLength is the longest WebIdentityToken STS accepts (botocore:
// clientTokenType, 4–20000).
const MaxTokenLength = 20000

// Mint signs claims with a built-in issuer's key: a compact JWS with the key id and
// "typ": "JWT" in its header.
func Mint(signing *jose.JSONWebKey, claims map[string]any) (string, error) {
	alg := jose.SignatureAlgorithm(signing.Algorithm)
	if alg == "" {
		alg = SigningAlgorithm
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), signing.KeyID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signing.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("mint: %w", err)
	}
	return jws.CompactSerialize()
}

// Errors of Verify and CheckTimes.
var (
	ErrMalformed   = errors.New("the token is not a signed JSON Web Token")
	ErrNoKey       = errors.New("no verification key of the issuer matches the token")
	ErrSignature   = errors.New("the token's signature does not verify with the issuer's key")
	ErrNoExpiry    = errors.New("the token has no exp claim")
	ErrBadTime     = errors.New("a time claim (exp, nbf, iat) is not an integer")
	ErrNotYet      = errors.New("the token is not valid yet (nbf)")
	ErrFutureIssue = errors.New("the token was issued in the future (iat)")
)

// ExpiredError is a token whose exp has passed.
type ExpiredError struct{ Now, Exp int64 }

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("the token expired at %d (now %d)", e.Exp, e.Now)
}

// Claims are a token's payload, numbers kept exact.
type Claims map[string]any

// Token is a JWT whose signature verified.
type Token struct {
	KeyID     string
	Algorithm string
	Claims    Claims
}

// Peek reads a token's claims without verifying anything: for choosing the issuer
// whose keys verify it, and for explaining a refusal. Never trust what it returns.
func Peek(token string) (Claims, error) {
	jws, err := jose.ParseSignedCompact(token, Algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrMalformed
	}
	return decodeClaims(jws.UnsafePayloadWithoutVerification())
}

// Verify checks a compact JWS against an issuer's keys — the key its header names
// (kid), or each key when it names none — and returns its claims. It checks no
// claim: see CheckTimes and the caller's iss and aud rules.
func Verify(token string, keys []jose.JSONWebKey) (*Token, error) {
	jws, err := jose.ParseSignedCompact(token, Algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrMalformed
	}
	h := jws.Signatures[0].Protected
	var candidates []jose.JSONWebKey
	for _, k := range keys {
		if h.KeyID == "" || k.KeyID == "" || k.KeyID == h.KeyID {
			candidates = append(candidates, k)
		}
	}
	if len(candidates) == 0 {
		return nil, ErrNoKey
	}
	for _, k := range candidates {
		if !k.IsPublic() {
			k = k.Public()
		}
		payload, err := jws.Verify(k.Key)
		if err != nil {
			continue
		}
		claims, err := decodeClaims(payload)
		if err != nil {
			return nil, err
		}
		return &Token{KeyID: h.KeyID, Algorithm: h.Algorithm, Claims: claims}, nil
	}
	return nil, ErrSignature
}

func decodeClaims(payload []byte) (Claims, error) {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var c Claims
	if err := d.Decode(&c); err != nil || c == nil || d.More() {
		return nil, ErrMalformed
	}
	return c, nil
}

// String is a string claim.
func (c Claims) String(name string) (string, bool) {
	s, ok := c[name].(string)
	return s, ok
}

// Strings is a claim that is a string or an array of strings (aud, amr); the
// strings of an array that holds other values too.
func (c Claims) Strings(name string) []string {
	switch v := c[name].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Time reads a NumericDate claim: present reports whether the token has it, and an
// error says it is not an integer (STS: "Timestamps in the token must be formatted
// as either an integer or a long integer").
func (c Claims) Time(name string) (seconds int64, present bool, err error) {
	v, ok := c[name]
	if !ok {
		return 0, false, nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		return 0, true, ErrBadTime
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return 0, true, ErrBadTime
	}
	return i, true, nil
}

// Skew is how far in the future a token's nbf and iat may be: five minutes, the
// tolerance AWS gives a request's signing time (AWS documents none for tokens).
const Skew = 5 * time.Minute

// CheckTimes applies exp, nbf and iat at now. exp is required and has no leeway:
// STS's refusal reads "current date/time must be before the expiration date/time".
func (c Claims) CheckTimes(now time.Time) error {
	exp, ok, err := c.Time("exp")
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoExpiry
	}
	n := now.Unix()
	if n >= exp {
		return &ExpiredError{Now: n, Exp: exp}
	}
	limit := now.Add(Skew).Unix()
	for _, t := range []struct {
		name string
		err  error
	}{{"nbf", ErrNotYet}, {"iat", ErrFutureIssue}} {
		v, ok, err := c.Time(t.name)
		if err != nil {
			return err
		}
		if ok && v > limit {
			return t.err
		}
	}
	return nil
}

// Render is a claim's value as a condition key's string: strings as they are,
// numbers and booleans in JSON, anything else as compact JSON.
func Render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
