// Package outbound is IAM's outbound web identity federation: per account, an issuer
// (a unique id under the server's /_iamlocal/outbound-oidc/ path) with its signing keys, kept
// in the store; STS GetWebIdentityToken signs JWTs with them, and the server publishes
// the OpenID Connect discovery document and the JWKS that verify them.
package outbound

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/iamlocal/iamlocal/internal/store"
)

// Kinds in the store.
const (
	Kind       = "outboundfed"    // key: account id
	KindIssuer = "outboundissuer" // key: issuer id; value: the account id
)

// PathPrefix is where issuers live on the server: PathPrefix + ID is an issuer.
const PathPrefix = "/_iamlocal/outbound-oidc/"

// Algorithms GetWebIdentityToken signs with, as AWS offers them.
var Algorithms = []string{"RS256", "ES384"}

// Config is an account's outbound federation.
type Config struct {
	Account string
	Enabled bool
	ID      string // the issuer's unique id (a UUID, as AWS's issuer host names carry)
	// Keys are PKCS #8 DER private keys by algorithm, with their key ids.
	Keys map[string]Key
}

// Key is one signing key.
type Key struct {
	ID  string
	DER []byte
}

// Load reads an account's configuration; nil when it was never enabled.
func Load(tx store.Tx, account string) (*Config, error) {
	var c Config
	err := tx.Get(Kind, account, &c)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ByIssuer reads the configuration of an issuer id; nil when unknown.
func ByIssuer(tx store.Tx, id string) (*Config, error) {
	var account string
	err := tx.Get(KindIssuer, id, &account)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return Load(tx, account)
}

// Enable turns federation on, making the issuer and its keys the first time; a
// re-enabled account keeps its issuer and keys.
func Enable(tx store.Tx, account string) (*Config, error) {
	c, err := Load(tx, account)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = &Config{Account: account, ID: newUUID(), Keys: map[string]Key{}}
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		ek, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			return nil, err
		}
		for alg, k := range map[string]crypto.Signer{"RS256": rk, "ES384": ek} {
			der, err := x509.MarshalPKCS8PrivateKey(k)
			if err != nil {
				return nil, err
			}
			c.Keys[alg] = Key{ID: newUUID(), DER: der}
		}
		if err := tx.Put(KindIssuer, c.ID, account); err != nil {
			return nil, err
		}
	}
	c.Enabled = true
	return c, tx.Put(Kind, account, c)
}

// Save writes a configuration (Disable).
func Save(tx store.Tx, c *Config) error { return tx.Put(Kind, c.Account, c) }

// Issuer is the issuer URL for a request that reached the server as scheme://host.
func (c *Config) Issuer(secure bool, host string) string {
	scheme := "http"
	if secure {
		scheme = "https"
	}
	return scheme + "://" + host + PathPrefix + c.ID
}

func (c *Config) signer(alg string) (crypto.Signer, string, error) {
	k, ok := c.Keys[alg]
	if !ok {
		return nil, "", fmt.Errorf("no %s key", alg)
	}
	pk, err := x509.ParsePKCS8PrivateKey(k.DER)
	if err != nil {
		return nil, "", err
	}
	s, ok := pk.(crypto.Signer)
	if !ok {
		return nil, "", errors.New("not a signing key")
	}
	return s, k.ID, nil
}

// Sign makes a compact JWS of the claims with the account's key for alg.
func (c *Config) Sign(alg string, claims any) (string, error) {
	key, kid, err := c.signer(alg)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// JWKS is the public key set.
func (c *Config) JWKS() (*jose.JSONWebKeySet, error) {
	set := &jose.JSONWebKeySet{}
	for _, alg := range Algorithms {
		key, kid, err := c.signer(alg)
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: key.Public(), KeyID: kid, Algorithm: alg, Use: "sig"})
	}
	return set, nil
}

// Serve answers PathPrefix + ID + "/.well-known/openid-configuration" and
// ".../.well-known/jwks.json" for issuers of accounts that have federation enabled.
func Serve(st store.Store, w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, PathPrefix)
	id, doc, _ := strings.Cut(rest, "/")
	var c *Config
	err := st.Read(r.Context(), func(tx store.Tx) error {
		var err error
		c, err = ByIssuer(tx, id)
		return err
	})
	if err != nil {
		http.Error(w, "internal failure", http.StatusInternalServerError)
		return
	}
	if c == nil || !c.Enabled {
		http.NotFound(w, r)
		return
	}
	var body any
	switch doc {
	case ".well-known/openid-configuration":
		issuer := c.Issuer(r.TLS != nil, r.Host)
		body = map[string]any{
			"issuer":                                issuer,
			"jwks_uri":                              issuer + "/.well-known/jwks.json",
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": Algorithms,
			"scopes_supported":                      []string{"openid"},
			"claims_supported":                      []string{"aud", "exp", "iat", "iss", "jti", "sub", "https://sts.amazonaws.com/"},
		}
	case ".well-known/jwks.json":
		set, err := c.JWKS()
		if err != nil {
			http.Error(w, "internal failure", http.StatusInternalServerError)
			return
		}
		body = set
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	json.NewEncoder(w).Encode(body)
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Claims are a token's claims: the standard ones, and AWS's under its namespace.
type Claims struct {
	Issuer   string    `json:"iss"`
	Audience audience  `json:"aud"`
	Subject  string    `json:"sub"`
	IssuedAt int64     `json:"iat"`
	Expires  int64     `json:"exp"`
	ID       string    `json:"jti"`
	AWS      AWSClaims `json:"https://sts.amazonaws.com/"`
}

// AWSClaims are the identity and request claims AWS nests in its namespace.
type AWSClaims struct {
	Account       string            `json:"aws_account"`
	SourceRegion  string            `json:"source_region,omitempty"`
	OrgID         string            `json:"org_id,omitempty"`
	OUPath        string            `json:"ou_path,omitempty"`
	PrincipalTags map[string]string `json:"principal_tags,omitempty"`
	RequestTags   map[string]string `json:"request_tags,omitempty"`
}

// audience is one string, or an array when there are several, as JWTs write it.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// NewClaims fills the standard claims.
func NewClaims(issuer, subject string, aud []string, now time.Time, d time.Duration) *Claims {
	return &Claims{Issuer: issuer, Audience: aud, Subject: subject, IssuedAt: now.Unix(), Expires: now.Add(d).Unix(), ID: newUUID()}
}
