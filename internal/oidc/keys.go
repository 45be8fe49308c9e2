package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// SigningAlgorithm is what the built-in issuers sign with: RS256, as GitHub Actions,
// EKS, GitLab and Google do, and which AWS accepts everywhere (STS API reference,
// AssumeRoleWithWebIdentity: "Tokens must be signed using either RSA keys (RS256,
// RS384, or RS512) or ECDSA keys (ES256, ES384, or ES512)").
const SigningAlgorithm = jose.RS256

// Algorithms are the signature algorithms a token may use (the same sentence).
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

// NewSigningKey makes a fresh RSA-2048 signing key and returns it as a private JWK
// (JSON), with its key id: the RFC 7638 thumbprint of the public key.
func NewSigningKey() (jwkJSON []byte, kid string, err error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", fmt.Errorf("signing key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: k, Algorithm: string(SigningAlgorithm), Use: "sig"}
	pub := jwk.Public()
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, "", fmt.Errorf("signing key: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	b, err := jwk.MarshalJSON()
	if err != nil {
		return nil, "", fmt.Errorf("signing key: %w", err)
	}
	return b, jwk.KeyID, nil
}

// ParseSigningKey reads a private JWK that NewSigningKey made.
func ParseSigningKey(jwkJSON []byte) (*jose.JSONWebKey, error) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(jwkJSON); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if k.IsPublic() || !k.Valid() || k.KeyID == "" {
		return nil, errors.New("signing key: not a private key with a key id")
	}
	return &k, nil
}

// PublicKey is the verification key of a signing key.
func PublicKey(signing *jose.JSONWebKey) jose.JSONWebKey { return signing.Public() }

// JWKS is a JSON Web Key Set of public keys, as an issuer serves it at its jwks_uri.
func JWKS(keys ...jose.JSONWebKey) ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return json.Marshal(set)
}

// maxJWKSKeys bounds an imported key set.
const maxJWKSKeys = 100

// ParseJWKS reads a JSON Web Key Set to verify tokens with: public RSA (2048 bits or
// more) and ECDSA (P-256, P-384, P-521) signature keys only. A key with private
// parameters, a symmetric key or an encryption key is refused rather than dropped,
// so an import never silently keeps less than it was given.
func ParseJWKS(data []byte) ([]jose.JSONWebKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	if len(raw.Keys) == 0 {
		return nil, errors.New(`not a JSON Web Key Set: no "keys"`)
	}
	if len(raw.Keys) > maxJWKSKeys {
		return nil, fmt.Errorf("the key set has %d keys; at most %d", len(raw.Keys), maxJWKSKeys)
	}
	keys := make([]jose.JSONWebKey, 0, len(raw.Keys))
	for i, r := range raw.Keys {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(r, &probe); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		for _, p := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "priv"} {
			if _, ok := probe[p]; ok {
				return nil, fmt.Errorf("key %d holds private parameters: import public keys only", i+1)
			}
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, fmt.Errorf("key %d: use %q is not a signature key", i+1, k.Use)
		}
		switch pk := k.Key.(type) {
		case *rsa.PublicKey:
			if pk.N.BitLen() < 2048 {
				return nil, fmt.Errorf("key %d: an RSA key of %d bits (at least 2048)", i+1, pk.N.BitLen())
			}
		case *ecdsa.PublicKey:
			switch pk.Curve {
			case elliptic.P256(), elliptic.P384(), elliptic.P521():
			default:
				return nil, fmt.Errorf("key %d: an unsupported curve", i+1)
			}
		default:
			return nil, fmt.Errorf("key %d: a %T (RSA and EC public keys only)", i+1, k.Key)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
