package saml

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Assertion is what a verified SAMLResponse says. Every field comes from the part of
// the document a signature covers: the signed Response, or the signed Assertion.
type Assertion struct {
	ID            string
	Issuer        string // the Assertion's Issuer
	IssueInstant  time.Time
	Subject       string // NameID
	SubjectFormat string // NameID's Format
	// SubjectConfirmations are the bearer SubjectConfirmationData elements.
	SubjectConfirmations []SubjectConfirmation
	// Conditions; HasConditions is false when the element is absent.
	HasConditions           bool
	NotBefore, NotOnOrAfter time.Time
	Audiences               []string
	// SessionNotOnOrAfter is the earliest AuthnStatement's, zero when none sets it.
	SessionNotOnOrAfter time.Time
	// Attributes in document order; several Attribute elements of one Name are kept.
	Attributes []Attribute
	// FriendlyNames maps an attribute's Name to its FriendlyName, when it has one.
	FriendlyNames map[string]string
	// ResponseSigned and AssertionSigned say which signatures were verified;
	// Encrypted that the assertion came in an EncryptedAssertion.
	ResponseSigned, AssertionSigned, Encrypted bool
}

// SubjectConfirmation is a bearer confirmation's data.
type SubjectConfirmation struct {
	Method       string
	NotOnOrAfter time.Time
	Recipient    string
}

// Values returns the values of the attributes named name, in document order.
func (a *Assertion) Values(name string) []string {
	var out []string
	for _, at := range a.Attributes {
		if at.Name == name {
			out = append(out, at.Values...)
		}
	}
	return out
}

// Has reports whether the assertion has an attribute named name.
func (a *Assertion) Has(name string) bool {
	for _, at := range a.Attributes {
		if at.Name == name {
			return true
		}
	}
	return false
}

// MaxResponseSize bounds a decoded response (AssumeRoleWithSAML takes at most
// 100,000 characters of base64).
const MaxResponseSize = 100_000

// Decode reads a base64 SAMLResponse (line breaks and spaces allowed, as browsers
// post it) into its XML.
func Decode(samlResponse string) ([]byte, error) {
	compact := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, samlResponse)
	if len(compact) > MaxResponseSize*4/3+4 {
		return nil, malformed("the SAML response is longer than %d characters", MaxResponseSize)
	}
	raw, err := base64.StdEncoding.DecodeString(compact)
	if err != nil {
		return nil, malformed("the SAML response is not base64")
	}
	return raw, nil
}

// Verify decodes a base64 SAMLResponse and verifies its signature against certs:
// either the Response is signed (and then an Assertion's own signature, if any, must
// verify too) or its one Assertion is. An EncryptedAssertion is decrypted with the
// first of keys that opens it; the decrypted assertion must be signed unless the
// Response is. It returns the assertion as signed; it does not check times, audiences
// or attributes.
func Verify(samlResponse string, certs []*x509.Certificate, keys ...*rsa.PrivateKey) (*Assertion, error) {
	raw, err := Decode(samlResponse)
	if err != nil {
		return nil, err
	}
	return VerifyXML(raw, certs, keys...)
}

// VerifyXML is Verify for a decoded response.
func VerifyXML(raw []byte, certs []*x509.Certificate, keys ...*rsa.PrivateKey) (*Assertion, error) {
	if err := refuseDTD(raw); err != nil {
		return nil, malformed("%v", err)
	}
	doc := etree.NewDocument()
	doc.ReadSettings.ValidateInput = true
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, malformed("the SAML response is not XML")
	}
	root := doc.Root()
	if root == nil || root.Tag != "Response" || root.NamespaceURI() != NSProtocol {
		return nil, malformed("the document is not a SAML 2.0 Response")
	}
	if status := statusOf(root); status != StatusSuccess {
		return nil, &Error{Kind: Rejected, Reason: "the identity provider answered " + status}
	}
	if len(certs) == 0 {
		return nil, &Error{Kind: BadSignature, Reason: "the provider has no signing certificate"}
	}

	var (
		assertionEl                         *etree.Element
		respSigned, assertSigned, encrypted bool
		err                                 error
	)
	resp := root
	if hasSignature(root) {
		if resp, err = validate(root, certs); err != nil {
			return nil, err
		}
		respSigned = true
	}
	if assertionEl, encrypted, err = oneAssertion(resp, keys); err != nil {
		return nil, err
	}
	switch {
	case hasSignature(assertionEl):
		if assertionEl, err = validateChild(assertionEl, certs); err != nil {
			return nil, err
		}
		assertSigned = true
	case !respSigned:
		return nil, &Error{Kind: BadSignature, Reason: "neither the Response nor its Assertion is signed"}
	}
	out, err := readAssertion(assertionEl)
	if err != nil {
		return nil, err
	}
	out.ResponseSigned, out.AssertionSigned, out.Encrypted = respSigned, assertSigned, encrypted
	return out, nil
}

// statusOf is the Response's top-level status code ("" when missing).
func statusOf(root *etree.Element) string {
	for _, st := range children(root, NSProtocol, "Status") {
		for _, code := range children(st, NSProtocol, "StatusCode") {
			return code.SelectAttrValue("Value", "")
		}
	}
	return ""
}

// children are el's child elements of a namespace and local name.
func children(el *etree.Element, ns, tag string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			out = append(out, c)
		}
	}
	return out
}

// hasSignature reports whether el carries an enveloped XML-DSig Signature child.
func hasSignature(el *etree.Element) bool { return len(children(el, NSDSig, "Signature")) > 0 }

// oneAssertion returns the Response's single assertion: an Assertion, or an
// EncryptedAssertion decrypted with one of keys (encrypted reports which).
func oneAssertion(resp *etree.Element, keys []*rsa.PrivateKey) (el *etree.Element, encrypted bool, err error) {
	as := children(resp, NSAssertion, "Assertion")
	encs := children(resp, NSAssertion, "EncryptedAssertion")
	switch n := len(as) + len(encs); {
	case n == 0:
		return nil, false, malformed("the response holds no Assertion")
	case n > 1:
		return nil, false, malformed("the response holds %d assertions; AWS takes one", n)
	case len(as) == 1:
		return as[0], false, nil
	}
	if len(keys) == 0 {
		return nil, true, &Error{Kind: Encrypted, Reason: "the response holds an EncryptedAssertion and the provider has no private key to decrypt it"}
	}
	data := children(encs[0], "http://www.w3.org/2001/04/xmlenc#", "EncryptedData")
	if len(data) != 1 {
		return nil, true, malformed("the EncryptedAssertion holds no EncryptedData")
	}
	for _, k := range keys {
		plain, err := xmlenc.Decrypt(k, data[0])
		if err != nil {
			continue
		}
		if err := refuseDTD(plain); err != nil {
			return nil, true, malformed("the decrypted assertion: %v", err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(plain); err != nil || doc.Root() == nil {
			return nil, true, malformed("the decrypted assertion is not XML")
		}
		a := doc.Root()
		if a.Tag != "Assertion" || a.NamespaceURI() != NSAssertion {
			return nil, true, malformed("the EncryptedAssertion does not hold a SAML 2.0 Assertion")
		}
		return a, true, nil
	}
	return nil, true, &Error{Kind: Encrypted, Reason: "no private key of the provider decrypts the EncryptedAssertion"}
}

// validateChild verifies the signature of an element inside the document: it is
// detached with the namespace declarations in scope, so that canonicalization sees
// what the signer saw.
func validateChild(el *etree.Element, certs []*x509.Certificate) (*etree.Element, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, malformed("the assertion's namespaces: %v", err)
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, malformed("the assertion's namespaces: %v", err)
	}
	return validate(detached, certs)
}

// validate verifies el's enveloped signature with each certificate in turn and
// returns the element as the signature covers it. AWS verifies with the key the
// provider's metadata lists; iamlocal, like IAM as far as it documents, does not
// refuse a certificate past its validity dates, so each one is checked at a moment
// inside them.
func validate(el *etree.Element, certs []*x509.Certificate) (*etree.Element, error) {
	var last error
	for _, cert := range certs {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
		ctx.IdAttribute = "ID"
		ctx.Clock = dsig.NewFakeClockAt(cert.NotBefore.Add(cert.NotAfter.Sub(cert.NotBefore) / 2))
		verified, err := ctx.Validate(el)
		if err == nil {
			return verified, nil
		}
		last = err
	}
	return nil, &Error{Kind: BadSignature, Reason: "the signature does not verify: " + last.Error()}
}

// The assertion as encoding/xml reads it from the verified, canonical element.
type xAssertion struct {
	XMLName      xml.Name      `xml:"urn:oasis:names:tc:SAML:2.0:assertion Assertion"`
	ID           string        `xml:"ID,attr"`
	IssueInstant string        `xml:"IssueInstant,attr"`
	Version      string        `xml:"Version,attr"`
	Issuer       []xText       `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
	Subject      []xSubject    `xml:"urn:oasis:names:tc:SAML:2.0:assertion Subject"`
	Conditions   []xConditions `xml:"urn:oasis:names:tc:SAML:2.0:assertion Conditions"`
	Authn        []xAuthn      `xml:"urn:oasis:names:tc:SAML:2.0:assertion AuthnStatement"`
	Statements   []xStatement  `xml:"urn:oasis:names:tc:SAML:2.0:assertion AttributeStatement"`
}

type xText struct {
	Format string `xml:"Format,attr"`
	Text   string `xml:",chardata"`
}

type xSubject struct {
	NameID        []xText         `xml:"urn:oasis:names:tc:SAML:2.0:assertion NameID"`
	Confirmations []xConfirmation `xml:"urn:oasis:names:tc:SAML:2.0:assertion SubjectConfirmation"`
}

type xConfirmation struct {
	Method string       `xml:"Method,attr"`
	Data   []xConfirmed `xml:"urn:oasis:names:tc:SAML:2.0:assertion SubjectConfirmationData"`
}

type xConfirmed struct {
	NotOnOrAfter string `xml:"NotOnOrAfter,attr"`
	Recipient    string `xml:"Recipient,attr"`
}

type xConditions struct {
	NotBefore    string          `xml:"NotBefore,attr"`
	NotOnOrAfter string          `xml:"NotOnOrAfter,attr"`
	Restrictions []xRestrictions `xml:"urn:oasis:names:tc:SAML:2.0:assertion AudienceRestriction"`
}

type xRestrictions struct {
	Audiences []string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Audience"`
}

type xAuthn struct {
	SessionNotOnOrAfter string `xml:"SessionNotOnOrAfter,attr"`
}

type xStatement struct {
	Attributes []xAttribute `xml:"urn:oasis:names:tc:SAML:2.0:assertion Attribute"`
}

type xAttribute struct {
	Name         string   `xml:"Name,attr"`
	FriendlyName string   `xml:"FriendlyName,attr"`
	Values       []xValue `xml:"urn:oasis:names:tc:SAML:2.0:assertion AttributeValue"`
}

type xValue struct {
	Text string `xml:",chardata"`
}

// readAssertion reads the verified assertion element.
func readAssertion(el *etree.Element) (*Assertion, error) {
	if el.Tag != "Assertion" || el.NamespaceURI() != NSAssertion {
		return nil, malformed("the signed element is not a SAML 2.0 Assertion")
	}
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, malformed("the assertion's namespaces: %v", err)
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, malformed("the assertion's namespaces: %v", err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(detached)
	raw, err := doc.WriteToBytes()
	if err != nil {
		return nil, malformed("the assertion cannot be read: %v", err)
	}
	var x xAssertion
	if err := xml.NewDecoder(bytes.NewReader(raw)).Decode(&x); err != nil {
		return nil, malformed("the assertion cannot be read: %v", err)
	}
	a := &Assertion{ID: x.ID, FriendlyNames: map[string]string{}}
	if x.Version != "2.0" {
		return nil, malformed("the assertion's Version is %q, not 2.0", x.Version)
	}
	if len(x.Issuer) != 1 {
		return nil, malformed("the assertion has %d Issuer elements, not one", len(x.Issuer))
	}
	a.Issuer = strings.TrimSpace(x.Issuer[0].Text)
	if a.IssueInstant, err = parseTime(x.IssueInstant, "IssueInstant"); err != nil {
		return nil, err
	}
	if len(x.Subject) != 1 || len(x.Subject[0].NameID) != 1 {
		return nil, malformed("the assertion has no Subject with one NameID")
	}
	s := x.Subject[0]
	a.Subject, a.SubjectFormat = strings.TrimSpace(s.NameID[0].Text), s.NameID[0].Format
	for _, c := range s.Confirmations {
		for _, d := range c.Data {
			sc := SubjectConfirmation{Method: c.Method, Recipient: d.Recipient}
			if d.NotOnOrAfter != "" {
				if sc.NotOnOrAfter, err = parseTime(d.NotOnOrAfter, "SubjectConfirmationData NotOnOrAfter"); err != nil {
					return nil, err
				}
			}
			a.SubjectConfirmations = append(a.SubjectConfirmations, sc)
		}
		if len(c.Data) == 0 {
			a.SubjectConfirmations = append(a.SubjectConfirmations, SubjectConfirmation{Method: c.Method})
		}
	}
	switch len(x.Conditions) {
	case 0:
	case 1:
		c := x.Conditions[0]
		a.HasConditions = true
		if c.NotBefore != "" {
			if a.NotBefore, err = parseTime(c.NotBefore, "Conditions NotBefore"); err != nil {
				return nil, err
			}
		}
		if c.NotOnOrAfter != "" {
			if a.NotOnOrAfter, err = parseTime(c.NotOnOrAfter, "Conditions NotOnOrAfter"); err != nil {
				return nil, err
			}
		}
		for _, r := range c.Restrictions {
			for _, au := range r.Audiences {
				a.Audiences = append(a.Audiences, strings.TrimSpace(au))
			}
		}
	default:
		return nil, malformed("the assertion has %d Conditions elements", len(x.Conditions))
	}
	for _, st := range x.Authn {
		if st.SessionNotOnOrAfter == "" {
			continue
		}
		t, err := parseTime(st.SessionNotOnOrAfter, "SessionNotOnOrAfter")
		if err != nil {
			return nil, err
		}
		if a.SessionNotOnOrAfter.IsZero() || t.Before(a.SessionNotOnOrAfter) {
			a.SessionNotOnOrAfter = t
		}
	}
	for _, st := range x.Statements {
		for _, at := range st.Attributes {
			attr := Attribute{Name: at.Name}
			for _, v := range at.Values {
				attr.Values = append(attr.Values, strings.TrimSpace(v.Text))
			}
			a.Attributes = append(a.Attributes, attr)
			if at.FriendlyName != "" {
				a.FriendlyNames[at.Name] = at.FriendlyName
			}
		}
	}
	return a, nil
}

func parseTime(v, what string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, malformed("%s %q is not a dateTime", what, v)
	}
	return t.UTC(), nil
}
