package saml

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
)

// IdP is an identity provider that signs SAML responses: iamlocal's built-in one.
type IdP struct {
	Name     string
	EntityID string
	Key      *rsa.PrivateKey
	Cert     *x509.Certificate
}

// certLife is how long the built-in IdP's self-signed certificate is valid.
const certLife = 10 * 365 * 24 * time.Hour

// NewIdP makes an identity provider with a fresh RSA-2048 key and a self-signed
// certificate for it.
func NewIdP(name, entityID string, now time.Time) (*IdP, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"iamlocal"}},
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.Add(certLife).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &IdP{Name: name, EntityID: entityID, Key: key, Cert: cert}, nil
}

// LoadIdP rebuilds an identity provider from its stored key (PKCS #8 DER) and
// certificate (DER).
func LoadIdP(name, entityID string, keyDER, certDER []byte) (*IdP, error) {
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("the key of SAML IdP %s: %w", name, err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key of SAML IdP %s is not an RSA key", name)
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("the certificate of SAML IdP %s: %w", name, err)
	}
	return &IdP{Name: name, EntityID: entityID, Key: key, Cert: cert}, nil
}

// KeyDER is the private key in PKCS #8 DER, for storing.
func (p *IdP) KeyDER() ([]byte, error) { return x509.MarshalPKCS8PrivateKey(p.Key) }

// Metadata is the IdP's metadata document, to register with CreateSAMLProvider: an
// EntityDescriptor whose IDPSSODescriptor holds the signing certificate. ssoURL is
// where the IdP would receive authentication requests (iamlocal signs on demand and
// serves none); "" leaves a placeholder under urn:iamlocal.
func (p *IdP) Metadata(ssoURL string) ([]byte, error) {
	if ssoURL == "" {
		ssoURL = "urn:iamlocal:saml:sso"
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", NSMetadata)
	ed.CreateAttr("xmlns:ds", NSDSig)
	ed.CreateAttr("entityID", p.EntityID)
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("WantAuthnRequestsSigned", "false")
	idp.CreateAttr("protocolSupportEnumeration", NSProtocol)
	kd := idp.CreateElement("md:KeyDescriptor")
	kd.CreateAttr("use", "signing")
	kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
		SetText(base64.StdEncoding.EncodeToString(p.Cert.Raw))
	for _, f := range []string{NameIDPersistent, NameIDTransient, "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"} {
		idp.CreateElement("md:NameIDFormat").SetText(f)
	}
	for _, b := range []string{HTTPPostBinding, HTTPRedirect} {
		sso := idp.CreateElement("md:SingleSignOnService")
		sso.CreateAttr("Binding", b)
		sso.CreateAttr("Location", ssoURL)
	}
	doc.Indent(2)
	return doc.WriteToBytes()
}

// Attribute is a SAML attribute with its values.
type Attribute struct {
	Name   string
	Values []string
}

// Sign says which elements a response carries signatures on.
type Sign string

const (
	SignAssertion Sign = "assertion"
	SignResponse  Sign = "response"
	SignBoth      Sign = "both"
)

// ResponseInput describes the response to sign.
type ResponseInput struct {
	Subject       string
	SubjectFormat string // a NameID Format; "" is persistent
	Attributes    []Attribute
	// Recipient is SubjectConfirmationData's Recipient and the Response's Destination;
	// Audience is the AudienceRestriction's. "" is AWSAudience for both.
	Recipient, Audience string
	Now                 time.Time
	// ValidFor is how long the assertion may be redeemed: Conditions' and
	// SubjectConfirmationData's NotOnOrAfter are Now+ValidFor (0: 5 minutes).
	ValidFor time.Duration
	// SessionNotOnOrAfter, when set, is the AuthnStatement's.
	SessionNotOnOrAfter time.Time
	Sign                Sign // "" is SignAssertion
	// EncryptTo, when set, encrypts the (signed) assertion to this RSA key: an
	// EncryptedAssertion (RSA-OAEP key transport, AES-256-GCM), as an IdP does for a
	// provider that holds the private key (IAM's AddPrivateKey).
	EncryptTo *rsa.PublicKey
}

// Response builds and signs a SAML Response and returns it base64-encoded, as a
// browser would post it and as AssumeRoleWithSAML takes it.
func (p *IdP) Response(in ResponseInput) (string, error) {
	if in.Subject == "" {
		return "", errors.New("a SAML response needs a subject")
	}
	if in.Recipient == "" {
		in.Recipient = AWSAudience
	}
	if in.Audience == "" {
		in.Audience = AWSAudience
	}
	if in.SubjectFormat == "" {
		in.SubjectFormat = NameIDPersistent
	}
	if in.ValidFor <= 0 {
		in.ValidFor = 5 * time.Minute
	}
	if in.Sign == "" {
		in.Sign = SignAssertion
	}
	switch in.Sign {
	case SignAssertion, SignResponse, SignBoth:
	default:
		return "", fmt.Errorf("sign %q: want assertion, response or both", in.Sign)
	}
	now := in.Now.UTC()
	instant := now.Format("2006-01-02T15:04:05.000Z")
	until := now.Add(in.ValidFor).Format("2006-01-02T15:04:05.000Z")

	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", NSAssertion)
	a.CreateAttr("xmlns:xs", "http://www.w3.org/2001/XMLSchema")
	a.CreateAttr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
	a.CreateAttr("ID", newID())
	a.CreateAttr("IssueInstant", instant)
	a.CreateAttr("Version", "2.0")
	a.CreateElement("saml:Issuer").SetText(p.EntityID)
	subj := a.CreateElement("saml:Subject")
	nameID := subj.CreateElement("saml:NameID")
	nameID.CreateAttr("Format", in.SubjectFormat)
	nameID.SetText(in.Subject)
	sc := subj.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", BearerMethod)
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", until)
	scd.CreateAttr("Recipient", in.Recipient)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", now.Add(-time.Minute).Format("2006-01-02T15:04:05.000Z"))
	cond.CreateAttr("NotOnOrAfter", until)
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(in.Audience)
	authn := a.CreateElement("saml:AuthnStatement")
	authn.CreateAttr("AuthnInstant", instant)
	authn.CreateAttr("SessionIndex", newID())
	if !in.SessionNotOnOrAfter.IsZero() {
		authn.CreateAttr("SessionNotOnOrAfter", in.SessionNotOnOrAfter.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	authn.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").SetText(PasswordProtected)
	if len(in.Attributes) > 0 {
		as := a.CreateElement("saml:AttributeStatement")
		for _, attr := range in.Attributes {
			ae := as.CreateElement("saml:Attribute")
			ae.CreateAttr("Name", attr.Name)
			ae.CreateAttr("NameFormat", AttrNameFormatURI)
			for _, v := range attr.Values {
				ve := ae.CreateElement("saml:AttributeValue")
				ve.CreateAttr("xsi:type", "xs:string")
				ve.SetText(v)
			}
		}
	}
	if in.Sign != SignResponse {
		if err := p.signInPlace(a); err != nil {
			return "", err
		}
	}

	r := etree.NewElement("samlp:Response")
	r.CreateAttr("xmlns:samlp", NSProtocol)
	r.CreateAttr("xmlns:saml", NSAssertion)
	r.CreateAttr("ID", newID())
	r.CreateAttr("Version", "2.0")
	r.CreateAttr("IssueInstant", instant)
	r.CreateAttr("Destination", in.Recipient)
	r.CreateElement("saml:Issuer").SetText(p.EntityID)
	r.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", StatusSuccess)
	if in.EncryptTo != nil {
		enc, err := p.encrypt(a, in.EncryptTo, now)
		if err != nil {
			return "", err
		}
		r.AddChild(enc)
	} else {
		r.AddChild(a)
	}
	if in.Sign != SignAssertion {
		if err := p.signInPlace(r); err != nil {
			return "", err
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(r)
	out, err := doc.WriteToBytes()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(out), nil
}

// signInPlace adds an enveloped signature to el right after its Issuer, where the
// SAML schema puts it: RSA-SHA256 over the exclusive canonical form.
func (p *IdP) signInPlace(el *etree.Element) error {
	ctx, err := dsig.NewSigningContext(p.Key, [][]byte{p.Cert.Raw})
	if err != nil {
		return err
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return err
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return err
	}
	at := 0
	for i, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == "Issuer" {
			at = i + 1
			break
		}
	}
	el.InsertChildAt(at, sig)
	return nil
}

// encrypt wraps an assertion in an EncryptedAssertion for a key. XML Encryption
// carries the key as a certificate: the IdP issues one for it.
func (p *IdP) encrypt(a *etree.Element, to *rsa.PublicKey, now time.Time) (*etree.Element, error) {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "encryption"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(certLife), KeyUsage: x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.Cert, to, p.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.SetRoot(a)
	plain, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	e := xmlenc.OAEP()
	e.BlockCipher = xmlenc.AES256GCM
	data, err := e.Encrypt(cert, plain, nil)
	if err != nil {
		return nil, err
	}
	data.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	enc := etree.NewElement("saml:EncryptedAssertion")
	enc.AddChild(data)
	return enc, nil
}

// newID is a SAML ID: an NCName, so it starts with a letter or underscore.
func newID() string {
	b := make([]byte, 20)
	rand.Read(b)
	return "_" + hex.EncodeToString(b)
}
