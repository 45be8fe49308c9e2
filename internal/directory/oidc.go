package directory

import (
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/iamlocal/iamlocal/internal/store"
)

// Web identity federation's objects in the store.
const (
	// KindOIDCProvider is an account's IAM OIDC provider; key "<account>/<name>",
	// the name being the URL without https:// (host in lower case).
	KindOIDCProvider = "oidcprovider"
	// KindOIDCIssuer is an issuer's verification material, shared by every account:
	// iamlocal's signing key for it and the JWKS imported for it; key: its name.
	KindOIDCIssuer = "oidcissuer"
)

// OIDCProvider is an IAM OpenID Connect provider.
type OIDCProvider struct {
	Account     string
	Name        string // the URL without https://
	Arn         string
	ClientIDs   []string
	Thumbprints []string
	CreateDate  time.Time
	Tags        []Tag
}

// OIDCProviderKey is the store key of an account's provider.
func OIDCProviderKey(account, name string) string { return account + "/" + name }

// OIDCIssuer is what iamlocal verifies an issuer's tokens with: the private key of
// its built-in issuer (it mints with it) and the public keys imported for it
// (`iamlocal oidc jwks import`, for tokens of the real issuer).
type OIDCIssuer struct {
	Name       string
	SigningKey string // private JWK (JSON); "" until iamlocal first needs to mint or serve
	KeyID      string
	Created    time.Time
	Imported   string // a JSON Web Key Set of public keys; "" when none was imported
	ImportedAt time.Time
}

// Signing is the issuer's private key; nil when it has none.
func (i *OIDCIssuer) Signing() (*jose.JSONWebKey, error) {
	if i.SigningKey == "" {
		return nil, nil
	}
	return oidc.ParseSigningKey([]byte(i.SigningKey))
}

// VerificationKeys are the public keys tokens of the issuer may be signed with: its
// built-in key's and the imported ones.
func (i *OIDCIssuer) VerificationKeys() ([]jose.JSONWebKey, error) {
	var keys []jose.JSONWebKey
	k, err := i.Signing()
	if err != nil {
		return nil, err
	}
	if k != nil {
		keys = append(keys, k.Public())
	}
	if i.Imported != "" {
		imported, err := oidc.ParseJWKS([]byte(i.Imported))
		if err != nil {
			return nil, fmt.Errorf("imported key set of %s: %w", i.Name, err)
		}
		keys = append(keys, imported...)
	}
	return keys, nil
}

// LoadOIDCIssuer reads an issuer; nil when iamlocal has nothing for it.
func LoadOIDCIssuer(tx store.Tx, name string) (*OIDCIssuer, error) {
	var i OIDCIssuer
	if err := tx.Get(KindOIDCIssuer, name, &i); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &i, nil
}

// EnsureOIDCIssuer returns an issuer with a signing key, making the key (and the
// issuer) on first use; tx must be a write transaction.
func EnsureOIDCIssuer(tx store.Tx, name string, now time.Time) (*OIDCIssuer, error) {
	i, err := LoadOIDCIssuer(tx, name)
	if err != nil {
		return nil, err
	}
	if i == nil {
		i = &OIDCIssuer{Name: name}
	}
	if i.SigningKey != "" {
		return i, nil
	}
	key, kid, err := oidc.NewSigningKey()
	if err != nil {
		return nil, err
	}
	i.SigningKey, i.KeyID, i.Created = string(key), kid, now.UTC()
	return i, tx.Put(KindOIDCIssuer, name, i)
}

// OIDCProviderByName finds an account's provider for an issuer name; nil when the
// account has none. Hosts are matched without regard to case, paths exactly.
func OIDCProviderByName(tx store.Tx, account, name string) (*OIDCProvider, error) {
	var p OIDCProvider
	err := tx.Get(KindOIDCProvider, OIDCProviderKey(account, name), &p)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// normalizedName lower-cases a provider name's host, as ParseProviderURL does.
func normalizedName(name string) string {
	host, path, found := strings.Cut(name, "/")
	if !found {
		return strings.ToLower(host)
	}
	return strings.ToLower(host) + "/" + path
}

// OIDCProviderByArn reads a provider by its ARN; nil when it does not exist.
func OIDCProviderByArn(tx store.Tx, arn string) (*OIDCProvider, error) {
	account, name, ok := oidc.ParseProviderARN(arn)
	if !ok {
		return nil, nil
	}
	return OIDCProviderByName(tx, account, normalizedName(name))
}
