// Package local is iamlocal's own API, beside AWS's: what a local stand-in for the
// outside world needs — a built-in SAML identity provider that signs assertions, and
// the current code of a virtual MFA device — for the `iamlocal saml` and `iamlocal
// mfa` commands. It speaks JSON 1.1 (X-Amz-Target: IAMLocal.OPERATION) at
// /_iamlocal/api, signed with SigV4 like any AWS call, and every operation is an
// IAM action (iamlocal:SignSAMLAssertion, iamlocal:GetSAMLIdPMetadata,
// iamlocal:GetMFACode) that the engine decides: the root user and administrators
// ("Action": "*") may, others only when a policy allows it.
package local

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/mfa"
	"github.com/iamlocal/iamlocal/internal/saml"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// TargetPrefix is the X-Amz-Target prefix of iamlocal's own operations.
const TargetPrefix = "IAMLocal"

// Path is where the API answers.
const Path = "/_iamlocal/api"

// SigningName is the service name of the API's SigV4 scope.
const SigningName = "iamlocal"

// Actions is the table of iamlocal's own operations.
var Actions = service.NewTable(
	&service.Action{Name: "GetSAMLIdPMetadata", IAMAction: "iamlocal:GetSAMLIdPMetadata", Write: true,
		Resource: idpResource, Handle: getSAMLIdPMetadata},
	&service.Action{Name: "SignSAMLAssertion", IAMAction: "iamlocal:SignSAMLAssertion",
		Resource: idpResource, Handle: signSAMLAssertion},
	&service.Action{Name: "GetMFACode", IAMAction: "iamlocal:GetMFACode",
		Resource: mfaResource, Handle: getMFACode},
)

func badRequest(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func notFound(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}

// decode reads the request body; a body that does not decode is answered before the
// engine is asked (the resource comes from it).
func decode[T any](c *service.Call) (*T, error) {
	v := new(T)
	if err := wire.DecodeJSON(c.Body, v); err != nil {
		return nil, err
	}
	return v, nil
}

// The built-in identity providers: server-wide, by name (an IdP is outside any
// account, as a company's Okta is).
const kindIdP = "samlidp" // key: lower-case name

type storedIdP struct {
	Name     string
	EntityID string
	Key      string // PKCS #8 DER, sealed for session.PurposeStoredSecret
	Cert     []byte
	Created  time.Time
}

var idpNamePattern = regexp.MustCompile(`^[\w.-]{1,64}$`)

// IdPArn is the resource a built-in IdP's operations are authorized on.
func IdPArn(name string) string { return "arn:aws:iamlocal:::saml-idp/" + name }

// EntityID is a built-in IdP's default entity id, the Issuer of its assertions.
func EntityID(name string) string { return "urn:iamlocal:saml:idp:" + name }

type idpRequest struct {
	Name string `json:"Name"`
}

// idpResource reads the IdP name of either operation's body ("Name" or "IdP"); the
// decision is the caller's account's.
func idpResource(c *service.Call) (string, string, error) {
	var body struct {
		Name string `json:"Name"`
		IdP  string `json:"IdP"`
	}
	_ = jsonLenient(c.Body, &body)
	name := body.Name
	if name == "" {
		name = body.IdP
	}
	return IdPArn(name), c.Account(), nil
}

func loadIdP(c *service.Call, tx store.Tx, name string) (*saml.IdP, error) {
	var s storedIdP
	if err := tx.Get(kindIdP, strings.ToLower(name), &s); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("No SAML identity provider named %s: make one with `iamlocal saml metadata --name %s`", name, name)
		}
		return nil, err
	}
	key, err := c.Env.Ring.OpenBytes(session.PurposeStoredSecret, s.Key)
	if err != nil {
		return nil, err
	}
	return saml.LoadIdP(s.Name, s.EntityID, key, s.Cert)
}

type metadataRequest struct {
	Name string `json:"Name"`
	// EntityId is the entity id of a new IdP; "" is urn:iamlocal:saml:idp:NAME. An
	// existing IdP keeps its own.
	EntityId string `json:"EntityId,omitempty"`
	// SSOUrl is the SingleSignOnService Location the metadata shows.
	SSOUrl string `json:"SSOUrl,omitempty"`
}

type metadataResult struct {
	Name     string `json:"Name"`
	EntityId string `json:"EntityId"`
	Metadata string `json:"Metadata"`
	Created  bool   `json:"Created"`
}

// getSAMLIdPMetadata returns an IdP's metadata, making the IdP (an RSA-2048 key and a
// self-signed certificate) on first use.
func getSAMLIdPMetadata(c *service.Call) (any, error) {
	in, err := decode[metadataRequest](c)
	if err != nil {
		return nil, err
	}
	if !idpNamePattern.MatchString(in.Name) {
		return nil, badRequest("Name %q: an IdP name has 1 to 64 letters, digits and _.-", in.Name)
	}
	created := false
	idp, err := loadIdP(c, c.Tx, in.Name)
	var we *wire.Error
	if errors.As(err, &we) && we.Code == "ResourceNotFoundException" {
		entityID := in.EntityId
		if entityID == "" {
			entityID = EntityID(in.Name)
		}
		if len(entityID) > 1024 {
			return nil, badRequest("EntityId is longer than 1024 characters")
		}
		if idp, err = saml.NewIdP(in.Name, entityID, c.Now); err != nil {
			return nil, err
		}
		der, err := idp.KeyDER()
		if err != nil {
			return nil, err
		}
		s := storedIdP{Name: in.Name, EntityID: entityID, Key: c.Env.Ring.SealBytes(session.PurposeStoredSecret, der),
			Cert: idp.Cert.Raw, Created: c.Now.UTC()}
		if err := c.Tx.Put(kindIdP, strings.ToLower(in.Name), s); err != nil {
			return nil, err
		}
		created = true
	} else if err != nil {
		return nil, err
	}
	doc, err := idp.Metadata(in.SSOUrl)
	if err != nil {
		return nil, err
	}
	return &metadataResult{Name: idp.Name, EntityId: idp.EntityID, Metadata: string(doc), Created: created}, nil
}

// SignRequest asks the IdP for a signed SAML response.
type SignRequest struct {
	IdP           string `json:"IdP"`
	Subject       string `json:"Subject"`
	SubjectFormat string `json:"SubjectFormat,omitempty"`
	// Roles are "ROLE_ARN,PROVIDER_ARN" pairs, the Role attribute's values.
	Roles []string `json:"Roles,omitempty"`
	// RoleSessionName defaults to the subject.
	RoleSessionName string `json:"RoleSessionName,omitempty"`
	SessionDuration int    `json:"SessionDuration,omitempty"`
	SourceIdentity  string `json:"SourceIdentity,omitempty"`
	// Attributes are more attributes, name → values (PrincipalTag:…, eduPerson…).
	Attributes []saml.Attribute `json:"Attributes,omitempty"`
	Recipient  string           `json:"Recipient,omitempty"`
	Audience   string           `json:"Audience,omitempty"`
	// ValidForSeconds is how long the assertion may be redeemed (default 300).
	ValidForSeconds int `json:"ValidForSeconds,omitempty"`
	// IssuedSecondsAgo back-dates the response, to try AWS's expiry rules.
	IssuedSecondsAgo int    `json:"IssuedSecondsAgo,omitempty"`
	Sign             string `json:"Sign,omitempty"` // assertion (default), response or both
	// EncryptFor, a PEM public key, certificate or RSA private key, encrypts the
	// assertion to it (the key pair whose private half the provider holds).
	EncryptFor string `json:"EncryptFor,omitempty"`
}

type signResult struct {
	SAMLResponse string `json:"SAMLResponse"`
	Issuer       string `json:"Issuer"`
}

func signSAMLAssertion(c *service.Call) (any, error) {
	in, err := decode[SignRequest](c)
	if err != nil {
		return nil, err
	}
	if in.Subject == "" {
		return nil, badRequest("Subject is required")
	}
	if in.ValidForSeconds < 0 || in.ValidForSeconds > 86400 || in.IssuedSecondsAgo < 0 || in.IssuedSecondsAgo > 86400*365 {
		return nil, badRequest("ValidForSeconds and IssuedSecondsAgo are seconds from 0 to a day (a year for IssuedSecondsAgo)")
	}
	idp, err := loadIdP(c, c.Tx, in.IdP)
	if err != nil {
		return nil, err
	}
	var attrs []saml.Attribute
	if len(in.Roles) > 0 {
		attrs = append(attrs, saml.Attribute{Name: saml.AttrRole, Values: in.Roles})
	}
	name := in.RoleSessionName
	if name == "" {
		name = in.Subject
	}
	attrs = append(attrs, saml.Attribute{Name: saml.AttrRoleSessionName, Values: []string{name}})
	if in.SessionDuration > 0 {
		attrs = append(attrs, saml.Attribute{Name: saml.AttrSessionDuration, Values: []string{itoa(in.SessionDuration)}})
	}
	if in.SourceIdentity != "" {
		attrs = append(attrs, saml.Attribute{Name: saml.AttrSourceIdentity, Values: []string{in.SourceIdentity}})
	}
	attrs = append(attrs, in.Attributes...)
	var encryptTo *rsa.PublicKey
	if in.EncryptFor != "" {
		if encryptTo, err = publicKey(in.EncryptFor); err != nil {
			return nil, badRequest("EncryptFor: %v", err)
		}
	}
	resp, err := idp.Response(saml.ResponseInput{
		Subject: in.Subject, SubjectFormat: in.SubjectFormat, Attributes: attrs,
		Recipient: in.Recipient, Audience: in.Audience,
		Now:      c.Now.Add(-time.Duration(in.IssuedSecondsAgo) * time.Second),
		ValidFor: time.Duration(in.ValidForSeconds) * time.Second, Sign: saml.Sign(in.Sign), EncryptTo: encryptTo,
	})
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return &signResult{SAMLResponse: resp, Issuer: idp.EntityID}, nil
}

type mfaRequest struct {
	SerialNumber string `json:"SerialNumber"`
	// Count asks for that many consecutive codes (1 to 3; EnableMFADevice takes two).
	Count int `json:"Count,omitempty"`
}

// mfaResource is the device the body names; its account owns it.
func mfaResource(c *service.Call) (string, string, error) {
	var in mfaRequest
	_ = jsonLenient(c.Body, &in)
	if account, _, ok := mfa.ParseSerial(in.SerialNumber); ok {
		return in.SerialNumber, account, nil
	}
	return in.SerialNumber, c.Account(), nil
}

type mfaResult struct {
	SerialNumber string   `json:"SerialNumber"`
	Code         string   `json:"Code"`
	Codes        []string `json:"Codes"` // Code and the ones after it, Count in all
	// NotBefore is when STS accepts the code: now, or the start of a later 30-second
	// step when the device's current code was used already.
	NotBefore time.Time `json:"NotBefore"`
}

// getMFACode returns the code a virtual MFA device shows, as its owner's phone would:
// the current one, or the next one when the current one was used.
func getMFACode(c *service.Call) (any, error) {
	in, err := decode[mfaRequest](c)
	if err != nil {
		return nil, err
	}
	if in.Count == 0 {
		in.Count = 1
	}
	if in.Count < 1 || in.Count > 3 {
		return nil, badRequest("Count is from 1 to 3")
	}
	d, err := mfa.Load(c.Tx, in.SerialNumber)
	if errors.Is(err, mfa.ErrNoDevice) {
		return nil, notFound("No virtual MFA device has the serial number %s", in.SerialNumber)
	}
	if err != nil {
		return nil, err
	}
	seed, err := mfa.OpenSeed(c.Env.Ring, d)
	if err != nil {
		return nil, err
	}
	codes, from, err := d.NextCodes(seed, c.Now, in.Count)
	if err != nil {
		return nil, err
	}
	return &mfaResult{SerialNumber: d.SerialNumber, Code: codes[0], Codes: codes, NotBefore: from.UTC()}, nil
}

// jsonLenient decodes what it can of a body, for the resource of a request whose body
// the handler validates.
func jsonLenient(body []byte, v any) error { return json.Unmarshal(body, v) }

func itoa(n int) string { return strconv.Itoa(n) }

// publicKey reads an RSA public key from PEM: a public key, a certificate, or a
// private key (of which the public half is used).
func publicKey(text string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("not PEM")
	}
	var key any
	switch block.Type {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		key = cert.PublicKey
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		key = k
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		key = &k.PublicKey
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		if rk, ok := k.(*rsa.PrivateKey); ok {
			key = &rk.PublicKey
		}
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA key or certificate")
	}
	return rk, nil
}
