package saml

import (
	"crypto/x509"
	"slices"
	"testing"
)

// FuzzVerify: whatever the bytes, Verify never panics, and what it accepts is what
// the identity provider signed. Every seed is signed by the test IdP for subject
// alice with the same attributes; the fuzzer has no key, so an accepted input must
// carry exactly that signed content (mutations outside the signed part may pass).
func FuzzVerify(f *testing.F) {
	p, _ := idps(f)
	var want *Assertion
	for _, mode := range []Sign{SignAssertion, SignResponse, SignBoth} {
		xml := decoded(f, sample(f, p, mode))
		f.Add([]byte(xml))
		f.Add([]byte(removeSignatures(xml)))
		f.Add([]byte(flipSignatureValue(xml)))
		if want == nil {
			a, err := VerifyXML([]byte(xml), []*x509.Certificate{p.Cert})
			if err != nil {
				f.Fatal(err)
			}
			want = a
		}
	}
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:Response>`))
	certs := []*x509.Certificate{p.Cert}
	f.Fuzz(func(t *testing.T, doc []byte) {
		a, err := VerifyXML(doc, certs)
		if err != nil {
			return
		}
		if !a.ResponseSigned && !a.AssertionSigned {
			t.Fatal("accepted with no verified signature")
		}
		if a.Subject != want.Subject || a.Issuer != want.Issuer || !slices.EqualFunc(a.Attributes, want.Attributes, func(x, y Attribute) bool {
			return x.Name == y.Name && slices.Equal(x.Values, y.Values)
		}) {
			t.Fatalf("accepted content the IdP did not sign: %+v", a)
		}
	})
}

// FuzzMetadata: ParseMetadata never panics, and what it accepts has an entity id and
// a certificate.
func FuzzMetadata(f *testing.F) {
	p, _ := idps(f)
	doc, err := p.Metadata("")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc)
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		md, err := ParseMetadata(doc)
		if err != nil {
			return
		}
		if md.EntityID == "" || len(md.Certs) == 0 {
			t.Fatalf("accepted metadata without entity id or certificate: %+v", md)
		}
	})
}
