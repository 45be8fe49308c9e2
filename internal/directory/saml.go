package directory

import (
	"errors"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/store"
)

// KindSAMLProvider holds IAM SAML providers; key NameKey(account, name).
const KindSAMLProvider = "samlprovider"

// SAMLProvider is an IAM SAML identity provider: its metadata as uploaded and what
// STS needs of it to verify AssumeRoleWithSAML.
type SAMLProvider struct {
	Account    string
	Name       string
	Arn        string // arn:aws:iam::ACCOUNT:saml-provider/NAME
	UUID       string // SAMLProviderUUID: the IdP-ID of the /saml/acs/IdP-ID sign-in URL
	Metadata   string // the document as uploaded
	EntityID   string // the IdP's entityID: the Issuer its assertions carry
	Certs      [][]byte
	ValidUntil time.Time
	CreateDate time.Time
	// AssertionEncryptionMode is Required or Allowed ("" when never set: Allowed).
	AssertionEncryptionMode string
	// PrivateKeys decrypt encrypted assertions; at most two.
	PrivateKeys []SAMLPrivateKey
	Tags        []Tag
}

// SAMLPrivateKey is a provider's decryption key. Sealed is the PEM, sealed for
// session.PurposeStoredSecret.
type SAMLPrivateKey struct {
	KeyID     string
	Timestamp time.Time
	Sealed    string
}

// SAMLProviderName returns the name an IAM SAML provider ARN names and its account.
func SAMLProviderName(arn string) (account, name string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return "", "", false
	}
	account, res, ok := strings.Cut(rest, ":")
	if !ok || len(account) != 12 {
		return "", "", false
	}
	name, ok = strings.CutPrefix(res, "saml-provider/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", "", false
	}
	return account, name, true
}

// LoadSAMLProvider reads the provider an ARN names; ErrNoEntity when there is none.
func LoadSAMLProvider(tx store.Tx, arn string) (*SAMLProvider, error) {
	account, name, ok := SAMLProviderName(arn)
	if !ok {
		return nil, ErrNoEntity
	}
	var p SAMLProvider
	if err := tx.Get(KindSAMLProvider, NameKey(account, name), &p); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNoEntity
		}
		return nil, err
	}
	if p.Arn != arn { // names are unique without regard to case; ARNs match exactly
		return nil, ErrNoEntity
	}
	return &p, nil
}
