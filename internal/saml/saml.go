// Package saml is SAML 2.0 as AWS STS federation uses it: an identity provider's
// metadata (the entity id and signing certificates an IAM SAML provider keeps), a
// built-in identity provider that signs responses with XML-DSig (RSA-SHA256,
// exclusive canonicalization, through github.com/russellhaering/goxmldsig), and the
// verification of a base64 SAMLResponse against a provider's certificates.
//
// The package knows SAML; it knows nothing of IAM or STS. What AWS requires of an
// assertion beyond a valid signature (audience, times, the Role attribute) is
// decided by internal/service/sts, which reads the Assertion this package returns.
package saml

import (
	"errors"
	"fmt"
	"strings"
)

// XML namespaces of SAML 2.0 and XML-DSig.
const (
	NSAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	NSProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	NSMetadata  = "urn:oasis:names:tc:SAML:2.0:metadata"
	NSDSig      = "http://www.w3.org/2000/09/xmldsig#"
)

// SAML 2.0 values iamlocal reads or writes.
const (
	StatusSuccess      = "urn:oasis:names:tc:SAML:2.0:status:Success"
	BearerMethod       = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	NameIDFormatPrefix = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
	NameIDPersistent   = NameIDFormatPrefix + "persistent"
	NameIDTransient    = NameIDFormatPrefix + "transient"
	AttrNameFormatURI  = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	PasswordProtected  = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	HTTPPostBinding    = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	HTTPRedirect       = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
)

// The attributes AWS reads from an assertion (IAM User Guide, "Configure SAML
// assertions for the authentication response").
const (
	AttrRole               = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrRoleSessionName    = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrSessionDuration    = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
	AttrSourceIdentity     = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
	AttrPrincipalTagPrefix = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
	AttrTransitiveTagKeys  = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
)

// AWSAudience is the global sign-in endpoint, the Recipient and Audience AWS
// expects; regional endpoints are https://REGION.signin.aws.amazon.com/saml.
const AWSAudience = "https://signin.aws.amazon.com/saml"

// AWSURNAudience is the other Audience AWS documents.
const AWSURNAudience = "urn:amazon:webservices"

// IsAWSEndpoint reports whether u is AWS's SAML sign-in endpoint: the global one or a
// regional one (https://REGION.signin.aws.amazon.com/saml), optionally with the
// /acs/IDP-ID suffix AWS gives a provider that requires encrypted assertions.
func IsAWSEndpoint(u string) bool {
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		return false
	}
	host, path, _ := strings.Cut(rest, "/")
	if path != "saml" && !strings.HasPrefix(path, "saml/acs/") {
		return false
	}
	if host == "signin.aws.amazon.com" {
		return true
	}
	region, ok := strings.CutSuffix(host, ".signin.aws.amazon.com")
	return ok && region != "" && !strings.ContainsAny(region, "./")
}

// ErrorKind says why a SAMLResponse was refused.
type ErrorKind int

const (
	// Malformed: not base64, not XML, not a SAML Response, or missing what every
	// response must hold.
	Malformed ErrorKind = iota
	// BadSignature: unsigned, signed by a key the provider does not list, or altered
	// after signing.
	BadSignature
	// Rejected: the identity provider answered with a status other than Success.
	Rejected
	// Encrypted: an EncryptedAssertion this package cannot open.
	Encrypted
)

// Error is a refused SAMLResponse.
type Error struct {
	Kind   ErrorKind
	Reason string
}

func (e *Error) Error() string { return e.Reason }

func malformed(format string, args ...any) error {
	return &Error{Kind: Malformed, Reason: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of a refusal; Malformed for any other error.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Malformed
}
