package saml

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testOnce       sync.Once
	testIdP, other *IdP
)

// idps are two identity providers with keys from testdata (generating RSA keys is
// slow, and slower still in a fuzzing worker).
func idps(t testing.TB) (*IdP, *IdP) {
	t.Helper()
	testOnce.Do(func() {
		testIdP = fixedIdP("corp", "testdata/corp-key.pem")
		other = fixedIdP("other", "testdata/other-key.pem")
	})
	return testIdP, other
}

func fixedIdP(name, keyFile string) *IdP {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(data)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	key := k.(*rsa.PrivateKey)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &IdP{Name: name, EntityID: "urn:iamlocal:idp:" + name, Key: key, Cert: cert}
}

func sample(t testing.TB, p *IdP, sign Sign) string {
	t.Helper()
	resp, err := p.Response(ResponseInput{
		Subject: "alice", Now: time.Now(), Sign: sign,
		Attributes: []Attribute{
			{Name: AttrRole, Values: []string{"arn:aws:iam::111111111111:role/dev,arn:aws:iam::111111111111:saml-provider/corp"}},
			{Name: AttrRoleSessionName, Values: []string{"alice"}},
			{Name: AttrPrincipalTagPrefix + "team", Values: []string{"blue"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestMetadataRoundTrip(t *testing.T) {
	p, _ := idps(t)
	doc, err := p.Metadata("http://127.0.0.1:1/sso")
	if err != nil {
		t.Fatal(err)
	}
	if len(doc) < 1000 {
		t.Fatalf("metadata is %d bytes; CreateSAMLProvider wants at least 1000", len(doc))
	}
	md, err := ParseMetadata(doc)
	if err != nil {
		t.Fatal(err)
	}
	if md.EntityID != p.EntityID || len(md.Certs) != 1 || !md.Certs[0].Equal(p.Cert) || !md.ValidUntil.IsZero() {
		t.Fatalf("got %+v", md)
	}
}

func TestMetadataRefusals(t *testing.T) {
	p, _ := idps(t)
	good, _ := p.Metadata("")
	cases := map[string]string{
		"not xml":      "hello",
		"other root":   `<foo xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>`,
		"no entity id": strings.Replace(string(good), `entityID="urn:iamlocal:idp:corp"`, "", 1),
		"no idp":       `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`,
		"no cert":      strings.Replace(string(good), "<ds:X509Certificate>", "<ds:X509CertificateX>", 1),
		"bad cert":     strings.Replace(string(good), "<ds:X509Certificate>", "<ds:X509Certificate>AAAA", 1),
		"doctype":      `<!DOCTYPE x [<!ENTITY a "b">]>` + string(good)[strings.Index(string(good), "<md:"):],
		"two roots":    string(good) + "<x/>",
		"bad date":     strings.Replace(string(good), `entityID=`, `validUntil="tomorrow" entityID=`, 1),
	}
	for name, doc := range cases {
		if _, err := ParseMetadata([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	enc := strings.Replace(string(good), `use="signing"`, `use="encryption"`, 1)
	if _, err := ParseMetadata([]byte(enc)); err == nil {
		t.Error("an encryption-only key was taken as a signing certificate")
	}
	vu := strings.Replace(string(good), `entityID=`, `validUntil="2031-01-02T03:04:05Z" entityID=`, 1)
	md, err := ParseMetadata([]byte(vu))
	if err != nil || !md.ValidUntil.Equal(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("validUntil: %v %v", md, err)
	}
}

func TestVerifySignModes(t *testing.T) {
	p, _ := idps(t)
	for _, mode := range []Sign{SignAssertion, SignResponse, SignBoth} {
		a, err := Verify(sample(t, p, mode), []*x509.Certificate{p.Cert})
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if a.Issuer != p.EntityID || a.Subject != "alice" || a.SubjectFormat != NameIDPersistent {
			t.Fatalf("%s: %+v", mode, a)
		}
		if len(a.Audiences) != 1 || a.Audiences[0] != AWSAudience || len(a.SubjectConfirmations) != 1 ||
			a.SubjectConfirmations[0].Recipient != AWSAudience {
			t.Fatalf("%s: audience/recipient %+v", mode, a)
		}
		if got := a.Values(AttrPrincipalTagPrefix + "team"); len(got) != 1 || got[0] != "blue" {
			t.Fatalf("%s: attributes %+v", mode, a.Attributes)
		}
		if a.ResponseSigned != (mode != SignAssertion) || a.AssertionSigned != (mode != SignResponse) {
			t.Fatalf("%s: signed flags %v %v", mode, a.ResponseSigned, a.AssertionSigned)
		}
	}
}

func decoded(t testing.TB, b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func encode(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestVerifyRefusesTampering(t *testing.T) {
	p, o := idps(t)
	for _, mode := range []Sign{SignAssertion, SignResponse, SignBoth} {
		xml := decoded(t, sample(t, p, mode))
		tampered := map[string]string{
			"subject":    strings.Replace(xml, ">alice</saml:NameID>", ">mallory</saml:NameID>", 1),
			"tag value":  strings.Replace(xml, ">blue<", ">red<", 1),
			"role":       strings.Replace(xml, "role/dev", "role/admin", 1),
			"audience":   strings.Replace(xml, "<saml:Audience>https://signin.aws.amazon.com/saml", "<saml:Audience>https://evil.example/saml", 1),
			"new attr":   strings.Replace(xml, "</saml:AttributeStatement>", `<saml:Attribute Name="x"><saml:AttributeValue>y</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`, 1),
			"no sig":     removeSignatures(xml),
			"sig value":  flipSignatureValue(xml),
			"id changed": strings.ReplaceAll(xml, `ID="_`, `ID="_x`),
		}
		for name, doc := range tampered {
			if doc == xml {
				t.Fatalf("%s/%s: the tampering changed nothing", mode, name)
			}
			if _, err := Verify(encode(doc), []*x509.Certificate{p.Cert}); err == nil {
				t.Errorf("%s/%s: accepted", mode, name)
			}
		}
		if _, err := Verify(encode(xml), []*x509.Certificate{o.Cert}); KindOf(err) != BadSignature {
			t.Errorf("%s: signed by another IdP: %v", mode, err)
		}
		if _, err := Verify(encode(xml), []*x509.Certificate{o.Cert, p.Cert}); err != nil {
			t.Errorf("%s: the second of two certificates: %v", mode, err)
		}
	}
}

func removeSignatures(doc string) string {
	for {
		i := strings.Index(doc, "<ds:Signature")
		if i < 0 {
			return doc
		}
		j := strings.Index(doc[i:], "</ds:Signature>")
		doc = doc[:i] + doc[i+j+len("</ds:Signature>"):]
	}
}

func flipSignatureValue(doc string) string {
	i := strings.Index(doc, "<ds:SignatureValue>") + len("<ds:SignatureValue>")
	c := doc[i]
	r := byte('A')
	if c == 'A' {
		r = 'B'
	}
	return doc[:i] + string(r) + doc[i+1:]
}

// TestVerifyRefusesWrapping: a signed assertion moved aside and an unsigned one put
// in its place, or added beside it, is never what Verify returns.
func TestVerifyRefusesWrapping(t *testing.T) {
	p, _ := idps(t)
	xml := decoded(t, sample(t, p, SignAssertion))
	start := strings.Index(xml, "<saml:Assertion")
	end := strings.Index(xml, "</saml:Assertion>") + len("</saml:Assertion>")
	signed := xml[start:end]
	evil := strings.Replace(removeSignatures(signed), ">alice<", ">mallory<", 1)
	evil = strings.Replace(evil, `ID="_`, `ID="_evil`, 1)
	wrapped := map[string]string{
		"two assertions":      xml[:start] + evil + signed + xml[end:],
		"signed in extension": xml[:start] + `<samlp:Extensions>` + signed + `</samlp:Extensions>` + evil + xml[end:],
		"signed inside evil":  xml[:start] + strings.Replace(evil, "</saml:Assertion>", signed+"</saml:Assertion>", 1) + xml[end:],
	}
	for name, doc := range wrapped {
		a, err := Verify(encode(doc), []*x509.Certificate{p.Cert})
		if err == nil && a.Subject != "alice" {
			t.Errorf("%s: returned the unsigned assertion (%s)", name, a.Subject)
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestVerifyStatusAndShape(t *testing.T) {
	p, _ := idps(t)
	xml := decoded(t, sample(t, p, SignAssertion))
	failed := strings.Replace(xml, StatusSuccess, "urn:oasis:names:tc:SAML:2.0:status:Requester", 1)
	if _, err := Verify(encode(failed), []*x509.Certificate{p.Cert}); KindOf(err) != Rejected {
		t.Errorf("failed status: %v", err)
	}
	for name, doc := range map[string]string{
		"not base64": "%%%",
		"not xml":    encode("<<<"),
		"not saml":   encode("<Response/>"),
		"doctype":    encode(`<!DOCTYPE r [<!ENTITY x "y">]>` + xml),
	} {
		if _, err := Verify(doc, []*x509.Certificate{p.Cert}); KindOf(err) != Malformed {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Line breaks in the base64, as browsers post it.
	b64 := sample(t, p, SignAssertion)
	var wrapped bytes.Buffer
	for i := 0; i < len(b64); i += 76 {
		wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
	}
	if _, err := Verify(wrapped.String(), []*x509.Certificate{p.Cert}); err != nil {
		t.Errorf("wrapped base64: %v", err)
	}
}

func TestIsAWSEndpoint(t *testing.T) {
	for u, want := range map[string]bool{
		"https://signin.aws.amazon.com/saml":                 true,
		"https://eu-west-1.signin.aws.amazon.com/saml":       true,
		"https://us-east-1.signin.aws.amazon.com/saml/acs/X": true,
		"http://signin.aws.amazon.com/saml":                  false,
		"https://signin.aws.amazon.com/saml2":                false,
		"https://evil.com/signin.aws.amazon.com/saml":        false,
		"https://a.b.signin.aws.amazon.com/saml":             false,
		"urn:amazon:webservices":                             false,
	} {
		if IsAWSEndpoint(u) != want {
			t.Errorf("%s: want %v", u, want)
		}
	}
}

// TestNewIdP: a fresh IdP's key and certificate survive storing.
func TestNewIdP(t *testing.T) {
	p, err := NewIdP("fresh", "urn:x", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	der, err := p.KeyDER()
	if err != nil {
		t.Fatal(err)
	}
	q, err := LoadIdP(p.Name, p.EntityID, der, p.Cert.Raw)
	if err != nil || !q.Key.Equal(p.Key) || !q.Cert.Equal(p.Cert) {
		t.Fatalf("reloaded: %v", err)
	}
	if _, err := Verify(sample(t, q, SignBoth), []*x509.Certificate{p.Cert}); err != nil {
		t.Fatal(err)
	}
}

// TestEncryptedAssertions: an EncryptedAssertion opens with the private key it was
// encrypted to and verifies as a plain one; without that key, or altered, never.
func TestEncryptedAssertions(t *testing.T) {
	p, o := idps(t)
	spKey, wrongKey := o.Key, p.Key // any RSA keys do
	for _, mode := range []Sign{SignAssertion, SignResponse, SignBoth} {
		resp, err := p.Response(ResponseInput{Subject: "alice", Now: time.Now(), Sign: mode, EncryptTo: &spKey.PublicKey,
			Attributes: []Attribute{{Name: AttrRoleSessionName, Values: []string{"alice"}}}})
		if err != nil {
			t.Fatal(err)
		}
		xml := decoded(t, resp)
		if strings.Contains(xml, "alice") || !strings.Contains(xml, "EncryptedAssertion") {
			t.Fatalf("%s: the assertion is in clear", mode)
		}
		a, err := Verify(resp, []*x509.Certificate{p.Cert}, wrongKey, spKey)
		if err != nil || a.Subject != "alice" || !a.Encrypted {
			t.Fatalf("%s: %+v %v", mode, a, err)
		}
		if _, err := Verify(resp, []*x509.Certificate{p.Cert}); KindOf(err) != Encrypted {
			t.Errorf("%s without a key: %v", mode, err)
		}
		if _, err := Verify(resp, []*x509.Certificate{p.Cert}, wrongKey); KindOf(err) != Encrypted {
			t.Errorf("%s with the wrong key: %v", mode, err)
		}
		// Flip a byte of the encrypted data (AES-GCM refuses it).
		i := strings.LastIndex(xml, "<xenc:CipherValue>") + len("<xenc:CipherValue>") + 10
		c := byte('A')
		if xml[i] == 'A' {
			c = 'B'
		}
		if _, err := Verify(encode(xml[:i]+string(c)+xml[i+1:]), []*x509.Certificate{p.Cert}, spKey); err == nil {
			t.Errorf("%s: altered ciphertext accepted", mode)
		}
		if _, err := Verify(resp, []*x509.Certificate{o.Cert}, spKey); err == nil {
			t.Errorf("%s: verified with another IdP's certificate", mode)
		}
	}
}
