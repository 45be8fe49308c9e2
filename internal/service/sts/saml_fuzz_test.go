package sts

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/saml"
)

// FuzzAssumeRoleWithSAMLPath runs a SAMLResponse through everything AssumeRoleWithSAML
// does before the trust policy — verification, AWS's checks, the attributes and the
// trust context — and requires that nothing panics and that whatever passes was
// signed by the provider's IdP for the role and subject it signed.
func FuzzAssumeRoleWithSAMLPath(f *testing.F) {
	data, err := os.ReadFile("../../saml/testdata/corp-key.pem")
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(data)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		f.Fatal(err)
	}
	key := k.(*rsa.PrivateKey)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "corp"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		f.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	idp := &saml.IdP{Name: "corp", EntityID: "https://idp.example.com/saml", Key: key, Cert: cert}
	provider := &directory.SAMLProvider{Account: "111111111111", Name: "corp", Arn: "arn:aws:iam::111111111111:saml-provider/corp",
		EntityID: idp.EntityID, Certs: [][]byte{der}}
	role := "arn:aws:iam::111111111111:role/dev"
	for _, sign := range []saml.Sign{saml.SignAssertion, saml.SignResponse, saml.SignBoth} {
		resp, err := idp.Response(saml.ResponseInput{Subject: "alice", Now: now, Sign: sign, Attributes: []saml.Attribute{
			{Name: saml.AttrRole, Values: []string{role + "," + provider.Arn}},
			{Name: saml.AttrRoleSessionName, Values: []string{"alice"}},
			{Name: saml.AttrPrincipalTagPrefix + "team", Values: []string{"blue"}},
			{Name: "urn:oid:1.3.6.1.4.1.5923.1.1.1.1", Values: []string{"staff", "member"}},
		}})
		if err != nil {
			f.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(resp)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		a, err := VerifySAML(provider, base64.StdEncoding.EncodeToString(doc), nil)
		if err != nil {
			return
		}
		if a.Subject != "alice" || a.Issuer != idp.EntityID {
			t.Fatalf("accepted what the IdP did not sign: %+v", a)
		}
		req := &SAMLRequest{RoleArn: role, PrincipalArn: provider.Arn, Assertion: a, Provider: provider}
		_ = SAMLChecks(req, now)
		attrs, err := ReadSAMLAttributes(req)
		if err != nil {
			return
		}
		if attrs.SessionName != "alice" {
			t.Fatalf("session name %q was not signed", attrs.SessionName)
		}
		_ = SAMLContext(req, attrs)
	})
}
