package sts_test

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/saml"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

var (
	idpOnce     sync.Once
	corp, rogue *saml.IdP
)

func idps() (*saml.IdP, *saml.IdP) {
	idpOnce.Do(func() {
		var err error
		if corp, err = saml.NewIdP("corp", "https://idp.example.com/saml", time.Now()); err != nil {
			panic(err)
		}
		if rogue, err = saml.NewIdP("rogue", "https://idp.example.com/saml", time.Now()); err != nil {
			panic(err)
		}
	})
	return corp, rogue
}

const (
	providerArn = "arn:aws:iam::111111111111:saml-provider/corp"
	devArn      = "arn:aws:iam::111111111111:role/dev"
	// trustSAML is the trust policy AWS's console writes for SAML 2.0 federation.
	trustSAML = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerArn + `"},
	  "Action":["sts:AssumeRoleWithSAML","sts:TagSession","sts:SetSourceIdentity"],
	  "Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
)

type samlWorld struct {
	s    *servertest.Server
	ctx  context.Context
	root *iam.Client
	anon *sts.Client
}

// samlSetup registers the corp IdP as provider "corp" and makes role dev trusting it.
func samlSetup(t *testing.T, trust string) *samlWorld {
	t.Helper()
	idp, _ := idps()
	s := servertest.Start(t, "")
	w := &samlWorld{s: s, ctx: context.Background(), root: s.IAM(servertest.Root), anon: s.STS(servertest.Creds{})}
	doc, err := idp.Metadata("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.root.CreateSAMLProvider(w.ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(string(doc))}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.root.CreateRole(w.ctx, &iam.CreateRoleInput{RoleName: aws.String("dev"), AssumeRolePolicyDocument: aws.String(trust),
		MaxSessionDuration: aws.Int32(7200)}); err != nil {
		t.Fatal(err)
	}
	// The role's permissions read the session's SAML keys: GetUser only for alice.
	if _, err := w.root.PutRolePolicy(w.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("dev"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"},
		  {"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"StringEquals":{"saml:sub":"alice","saml:sub_type":"persistent"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	return w
}

// assertion signs a response for alice naming dev and corp, with changes.
func assertion(t *testing.T, idp *saml.IdP, change func(*saml.ResponseInput)) string {
	t.Helper()
	in := saml.ResponseInput{Subject: "alice", Now: time.Now(), Attributes: []saml.Attribute{
		{Name: saml.AttrRole, Values: []string{devArn + "," + providerArn}},
		{Name: saml.AttrRoleSessionName, Values: []string{"alice@example.com"}},
	}}
	if change != nil {
		change(&in)
	}
	resp, err := idp.Response(in)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (w *samlWorld) assume(resp string, mod ...func(*sts.AssumeRoleWithSAMLInput)) (*sts.AssumeRoleWithSAMLOutput, error) {
	in := &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(devArn), PrincipalArn: aws.String(providerArn), SAMLAssertion: aws.String(resp)}
	for _, m := range mod {
		m(in)
	}
	return w.anon.AssumeRoleWithSAML(w.ctx, in)
}

func addAttr(name string, values ...string) func(*saml.ResponseInput) {
	return func(in *saml.ResponseInput) {
		in.Attributes = append(in.Attributes, saml.Attribute{Name: name, Values: values})
	}
}

func TestAssumeRoleWithSAML(t *testing.T) {
	w := samlSetup(t, trustSAML)
	idp, _ := idps()
	out, err := w.assume(assertion(t, idp, func(in *saml.ResponseInput) {
		addAttr(saml.AttrPrincipalTagPrefix+"team", "blue")(in)
		addAttr(saml.AttrTransitiveTagKeys, "team")(in)
		addAttr(saml.AttrSourceIdentity, "alice")(in)
		addAttr(saml.AttrSessionDuration, "1800")(in)
		in.Sign = saml.SignBoth
	}))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::111111111111:assumed-role/dev/alice@example.com" {
		t.Fatalf("arn %s", aws.ToString(out.AssumedRoleUser.Arn))
	}
	sum := sha1.Sum([]byte("https://idp.example.com/saml" + "111111111111" + "/corp"))
	want := map[string]string{
		"Subject": "alice", "SubjectType": "persistent", "Issuer": "https://idp.example.com/saml",
		"Audience": "https://signin.aws.amazon.com/saml", "NameQualifier": base64.StdEncoding.EncodeToString(sum[:]),
		"SourceIdentity": "alice",
	}
	got := map[string]string{"Subject": aws.ToString(out.Subject), "SubjectType": aws.ToString(out.SubjectType), "Issuer": aws.ToString(out.Issuer),
		"Audience": aws.ToString(out.Audience), "NameQualifier": aws.ToString(out.NameQualifier), "SourceIdentity": aws.ToString(out.SourceIdentity)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	// SessionDuration shortens the default hour to half of it.
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 29*time.Minute || d > 31*time.Minute {
		t.Fatalf("expires in %v", d)
	}
	if out.PackedPolicySize == nil {
		t.Fatal("session tags were passed: PackedPolicySize is due")
	}
	sess := w.s.IAM(sessionCreds(out.Credentials))
	if _, err := sess.ListUsers(w.ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	// saml:sub and saml:sub_type reach the role's permissions policy.
	if _, err := sess.ListRoles(w.ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatalf("saml:sub in the permissions policy: %v", err)
	}

	// Role chaining keeps the transitive tag and the source identity.
	if _, err := w.root.UpdateAssumeRolePolicy(w.ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("dev"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[` + strings.TrimSuffix(strings.TrimPrefix(trustSAML, `{"Version":"2012-10-17","Statement":[`), "]}") +
			`,{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/dev"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue","aws:SourceIdentity":"alice"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.root.PutRolePolicy(w.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("dev"), PolicyName: aws.String("chain"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.STS(sessionCreds(out.Credentials)).AssumeRole(w.ctx, &sts.AssumeRoleInput{RoleArn: aws.String(devArn), RoleSessionName: aws.String("chained")}); err != nil {
		t.Fatalf("chained: %v", err)
	}
}

// TestAssumeRoleWithSAMLSessionKeys: a subject other than the policy's gets the role
// but not what the permissions policy keeps for alice.
func TestAssumeRoleWithSAMLSessionKeys(t *testing.T) {
	w := samlSetup(t, trustSAML)
	idp, _ := idps()
	out, err := w.assume(assertion(t, idp, func(in *saml.ResponseInput) { in.Subject = "bob"; in.SubjectFormat = saml.NameIDTransient }))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SubjectType) != "transient" {
		t.Fatalf("SubjectType %q", aws.ToString(out.SubjectType))
	}
	_, err = w.s.IAM(sessionCreds(out.Credentials)).ListRoles(w.ctx, &iam.ListRolesInput{})
	apiErr(t, err, "AccessDenied", "iam:ListRoles")
}

// TestAssumeRoleWithSAMLRefusals: each way a SAMLResponse fails, with AWS's code and,
// where AWS documents or users report it, its wording: the IAM User Guide's
// "Troubleshoot SAML federation with IAM" (Response signature invalid;
// RoleSessionName is required in AuthnResponse; RoleSessionName in AuthnResponse must
// match …; Source Identity must match …; Not authorized to perform
// sts:AssumeRoleWithSAML; Response does not contain the required audience), STS's
// "Issuer not present in specified provider" (dbeaver/cloudbeaver#3112),
// "Token must be redeemed within 5 minutes of issuance" (Nike-Inc/gimme-aws-creds#251)
// and "Principal ARN is invalid" (Versent/saml2aws#536).
func TestAssumeRoleWithSAMLRefusals(t *testing.T) {
	w := samlSetup(t, trustSAML)
	idp, other := idps()
	good := assertion(t, idp, nil)
	xml := func(b64 string) string {
		raw, _ := base64.StdEncoding.DecodeString(b64)
		return string(raw)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

	cases := []struct {
		name, resp, code, msg string
		mod                   func(*sts.AssumeRoleWithSAMLInput)
	}{
		{"tampered", b64(strings.Replace(xml(good), ">alice</saml:NameID>", ">mallory</saml:NameID>", 1)), "InvalidIdentityToken", "Response signature invalid", nil},
		{"unsigned", b64(strings.Replace(xml(good), xml(good)[strings.Index(xml(good), "<ds:Signature"):strings.Index(xml(good), "</ds:Signature>")+len("</ds:Signature>")], "", 1)),
			"InvalidIdentityToken", "Response signature invalid", nil},
		{"another key", assertion(t, other, nil), "InvalidIdentityToken", "Response signature invalid", nil},
		{"not base64", "%%%%", "InvalidIdentityToken", "Invalid SAML response: the SAML response is not base64", nil},
		{"failed status", b64(strings.Replace(xml(good), saml.StatusSuccess, "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed", 1)),
			"IDPRejectedClaim", "The identity provider rejected the authentication: urn:oasis:names:tc:SAML:2.0:status:AuthnFailed", nil},
		{"wrong audience", assertion(t, idp, func(in *saml.ResponseInput) { in.Audience = "https://app.example.com" }),
			"InvalidIdentityToken", "Response does not contain the required audience.", nil},
		{"wrong recipient", assertion(t, idp, func(in *saml.ResponseInput) { in.Recipient = "https://app.example.com/acs" }),
			"InvalidIdentityToken", "The SubjectConfirmationData Recipient https://app.example.com/acs is not AWS's SAML endpoint (https://signin.aws.amazon.com/saml)", nil},
		{"issued 6 minutes ago", assertion(t, idp, func(in *saml.ResponseInput) { in.Now = time.Now().Add(-6 * time.Minute); in.ValidFor = time.Hour }),
			"ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance", nil},
		{"expired", assertion(t, idp, func(in *saml.ResponseInput) { in.Now = time.Now().Add(-2 * time.Minute); in.ValidFor = time.Minute }),
			"ExpiredTokenException", "The SAML assertion expired at", nil},
		{"role pair missing", assertion(t, idp, func(in *saml.ResponseInput) {
			in.Attributes[0].Values = []string{"arn:aws:iam::111111111111:role/other," + providerArn}
		}), "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML", nil},
		{"no role attribute", assertion(t, idp, func(in *saml.ResponseInput) { in.Attributes = in.Attributes[1:] }),
			"InvalidIdentityToken", "The SAML assertion has no https://aws.amazon.com/SAML/Attributes/Role attribute", nil},
		{"no session name", assertion(t, idp, func(in *saml.ResponseInput) { in.Attributes = in.Attributes[:1] }),
			"InvalidIdentityToken", "RoleSessionName is required in AuthnResponse", nil},
		{"bad session name", assertion(t, idp, func(in *saml.ResponseInput) { in.Attributes[1].Values = []string{"John Doe"} }),
			"InvalidIdentityToken", "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}", nil},
		{"bad source identity", assertion(t, idp, addAttr(saml.AttrSourceIdentity, "aws:x")),
			"InvalidIdentityToken", `Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:"`, nil},
		{"no such role", good, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML",
			func(in *sts.AssumeRoleWithSAMLInput) { in.RoleArn = aws.String("arn:aws:iam::111111111111:role/none") }},
		{"no such provider", good, "InvalidIdentityToken", "Specified provider doesn't exist.",
			func(in *sts.AssumeRoleWithSAMLInput) {
				in.PrincipalArn = aws.String("arn:aws:iam::111111111111:saml-provider/none")
			}},
		{"principal not a provider", good, "ValidationError", "Principal ARN is invalid",
			func(in *sts.AssumeRoleWithSAMLInput) {
				in.PrincipalArn = aws.String("arn:aws:iam::111111111111:user/alice")
			}},
		{"longer than the role allows", good, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
			func(in *sts.AssumeRoleWithSAMLInput) { in.DurationSeconds = aws.Int32(7201) }},
		{"bad session policy", good, "MalformedPolicyDocument", "",
			func(in *sts.AssumeRoleWithSAMLInput) { in.Policy = aws.String(`{"Statement":[{"Effect":"allow"}]}`) }},
		{"too many tags", assertion(t, idp, func(in *saml.ResponseInput) {
			for i := 0; i < 40; i++ {
				addAttr(saml.AttrPrincipalTagPrefix+"k"+strings.Repeat("x", 100)+string(rune('a'+i%26))+string(rune('a'+i/26)), strings.Repeat("v", 200))(in)
			}
		}), "PackedPolicyTooLarge", "Packed size of session policies and session tags is too large", nil},
	}
	for _, c := range cases {
		_, err := w.assume(c.resp, func(in *sts.AssumeRoleWithSAMLInput) {
			if c.mod != nil {
				c.mod(in)
			}
		})
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		apiErr(t, err, c.code, c.msg)
	}

	// The issuer must be the provider's entity id.
	if _, err := w.root.UpdateSAMLProvider(w.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(providerArn),
		SAMLMetadataDocument: aws.String(strings.Replace(mustMetadata(t, idp), "https://idp.example.com/saml", "https://elsewhere.example.com", 1))}); err != nil {
		t.Fatal(err)
	}
	_, err := w.assume(good)
	apiErr(t, err, "InvalidIdentityToken", "Issuer not present in specified provider")
}

func mustMetadata(t *testing.T, idp *saml.IdP) string {
	t.Helper()
	doc, err := idp.Metadata("")
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// TestAssumeRoleWithSAMLTrust: the trust policy decides, with the Federated principal
// and the keys AWS derives from the assertion.
func TestAssumeRoleWithSAMLTrust(t *testing.T) {
	idp, _ := idps()
	for _, c := range []struct {
		name, condition string
		change          func(*saml.ResponseInput)
		allowed         bool
	}{
		{"eduPersonPrincipalName", `{"StringEquals":{"saml:edupersonprincipalname":"alice@example.edu"}}`,
			addAttr("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "alice@example.edu"), true},
		{"wrong eduPersonPrincipalName", `{"StringEquals":{"saml:edupersonprincipalname":"alice@example.edu"}}`,
			addAttr("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "bob@example.edu"), false},
		{"affiliation list", `{"ForAnyValue:StringEquals":{"saml:edupersonaffiliation":"staff"}}`,
			addAttr("urn:oid:1.3.6.1.4.1.5923.1.1.1.1", "member", "staff"), true},
		{"issuer and doc", `{"StringEquals":{"saml:iss":"https://idp.example.com/saml","saml:doc":"111111111111/corp"}}`, nil, true},
		{"namequalifier and sub", `{"StringEquals":{"saml:sub":"alice","saml:namequalifier":"` + nameQualifier() + `"}}`, nil, true},
		{"mail (AD claim)", `{"StringLike":{"saml:mail":"*@example.com"}}`,
			addAttr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "alice@example.com"), true},
		{"session name", `{"StringEquals":{"sts:RoleSessionName":"someone-else"}}`, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerArn + `"},"Action":"sts:AssumeRoleWithSAML","Condition":` + c.condition + `}]}`
			w := samlSetup(t, trust)
			_, err := w.assume(assertion(t, idp, c.change))
			if c.allowed && err != nil {
				t.Fatal(err)
			}
			if !c.allowed {
				apiErr(t, err, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
			}
		})
	}
	// Session tags need sts:TagSession in the trust policy.
	w := samlSetup(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+providerArn+`"},"Action":"sts:AssumeRoleWithSAML"}]}`)
	_, err := w.assume(assertion(t, idp, addAttr(saml.AttrPrincipalTagPrefix+"team", "blue")))
	apiErr(t, err, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
	// Another provider, even with a valid assertion of its own, is not the trusted one.
	if _, err := w.root.CreateSAMLProvider(w.ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp2"),
		SAMLMetadataDocument: aws.String(mustMetadata(t, idp)), Tags: []iamtypes.Tag{}}); err != nil {
		t.Fatal(err)
	}
	other := "arn:aws:iam::111111111111:saml-provider/corp2"
	_, err = w.assume(assertion(t, idp, func(in *saml.ResponseInput) { in.Attributes[0].Values = []string{devArn + "," + other} }),
		func(in *sts.AssumeRoleWithSAMLInput) { in.PrincipalArn = aws.String(other) })
	apiErr(t, err, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML")
}

func nameQualifier() string {
	sum := sha1.Sum([]byte("https://idp.example.com/saml111111111111/corp"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestAssumeRoleWithEncryptedSAML: a provider with a private key (AddPrivateKey)
// decrypts EncryptedAssertions; with AssertionEncryptionMode Required it takes only
// those.
func TestAssumeRoleWithEncryptedSAML(t *testing.T) {
	w := samlSetup(t, trustSAML)
	idp, rogue := idps()
	spKey := rogue.Key // an RSA key pair whose private half the provider holds
	der, err := x509.MarshalPKCS8PrivateKey(spKey)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	encrypted := func(to *rsa.PublicKey) string {
		return assertion(t, idp, func(in *saml.ResponseInput) { in.EncryptTo = to })
	}
	// Without a key the provider cannot read it.
	_, err = w.assume(encrypted(&spKey.PublicKey))
	apiErr(t, err, "InvalidIdentityToken", "The SAML assertion is encrypted and the provider has no private key to decrypt it")
	if _, err := w.root.UpdateSAMLProvider(w.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(providerArn), AddPrivateKey: aws.String(keyPEM),
		AssertionEncryptionMode: iamtypes.AssertionEncryptionModeTypeRequired}); err != nil {
		t.Fatal(err)
	}
	out, err := w.assume(encrypted(&spKey.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Subject) != "alice" {
		t.Fatalf("subject %q", aws.ToString(out.Subject))
	}
	_, err = w.assume(assertion(t, idp, nil))
	apiErr(t, err, "InvalidIdentityToken", "The SAML provider corp requires encrypted assertions")
	_, err = w.assume(encrypted(&idp.Key.PublicKey))
	apiErr(t, err, "InvalidIdentityToken", "The SAML assertion is encrypted and no private key of the provider decrypts the EncryptedAssertion")
}
