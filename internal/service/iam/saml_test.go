package iam_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/iamlocal/iamlocal/internal/saml"
)

var (
	idpOnce sync.Once
	testIdP *saml.IdP
)

// metadata is a SAML IdP's metadata document (one IdP for the package: RSA keys are
// slow to make).
func metadata(t *testing.T) string {
	t.Helper()
	idpOnce.Do(func() {
		var err error
		if testIdP, err = saml.NewIdP("corp", "https://idp.example.com/saml", time.Now()); err != nil {
			panic(err)
		}
	})
	doc, err := testIdP.Metadata("https://idp.example.com/sso")
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

func pemKey(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestSAMLProviderLifecycle(t *testing.T) {
	e := start(t)
	doc := metadata(t)
	created := ok(e.root.CreateSAMLProvider(e.ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(doc),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}))(t)
	arn := "arn:aws:iam::" + account + ":saml-provider/corp"
	if aws.ToString(created.SAMLProviderArn) != arn || len(created.Tags) != 1 {
		t.Fatalf("created %+v", created)
	}
	got := ok(e.root.GetSAMLProvider(e.ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)}))(t)
	if aws.ToString(got.SAMLMetadataDocument) != doc || len(aws.ToString(got.SAMLProviderUUID)) < 22 || len(got.Tags) != 1 {
		t.Fatalf("got %+v", got)
	}
	// Metadata without validUntil: the provider is valid for a hundred years.
	if got.ValidUntil.Year() != got.CreateDate.Year()+100 || got.AssertionEncryptionMode != "" || len(got.PrivateKeyList) != 0 {
		t.Fatalf("validity and encryption: %+v", got)
	}
	list := ok(e.root.ListSAMLProviders(e.ctx, &iam.ListSAMLProvidersInput{}))(t)
	if len(list.SAMLProviderList) != 1 || aws.ToString(list.SAMLProviderList[0].Arn) != arn {
		t.Fatalf("list %+v", list.SAMLProviderList)
	}

	// A new document with a validUntil.
	doc2 := strings.Replace(doc, `entityID=`, `validUntil="2040-01-02T03:04:05Z" entityID=`, 1)
	ok(e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), SAMLMetadataDocument: aws.String(doc2)}))(t)
	got = ok(e.root.GetSAMLProvider(e.ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)}))(t)
	if !got.ValidUntil.Equal(time.Date(2040, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("ValidUntil %v", got.ValidUntil)
	}

	// Encryption settings and private keys, with AWS's rules.
	ok(e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), AddPrivateKey: aws.String(pemKey(t)),
		AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired}))(t)
	ok(e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), AddPrivateKey: aws.String(pemKey(t))}))(t)
	_, err := e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), AddPrivateKey: aws.String(pemKey(t))})
	wantErr(t, err, "LimitExceeded", 409, "Private key limit of 2 is reached.")
	got = ok(e.root.GetSAMLProvider(e.ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)}))(t)
	if got.AssertionEncryptionMode != types.AssertionEncryptionModeTypeRequired || len(got.PrivateKeyList) != 2 {
		t.Fatalf("keys %+v", got)
	}
	k0, k1 := aws.ToString(got.PrivateKeyList[0].KeyId), aws.ToString(got.PrivateKeyList[1].KeyId)
	if len(k0) < 22 || strings.Trim(k0, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" || got.PrivateKeyList[0].Timestamp == nil {
		t.Fatalf("key id %q", k0)
	}
	ok(e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), RemovePrivateKey: aws.String(k0)}))(t)
	_, err = e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), RemovePrivateKey: aws.String(k1)})
	wantErr(t, err, "InvalidInput", 400, "Failed to remove private key.")
	ok(e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), AssertionEncryptionMode: types.AssertionEncryptionModeTypeAllowed}))(t)
	ok(e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(arn), RemovePrivateKey: aws.String(k1)}))(t)

	// Tags.
	ok(e.root.TagSAMLProvider(e.ctx, &iam.TagSAMLProviderInput{SAMLProviderArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("Env"), Value: aws.String("prod")}}}))(t)
	ok(e.root.UntagSAMLProvider(e.ctx, &iam.UntagSAMLProviderInput{SAMLProviderArn: aws.String(arn), TagKeys: []string{"TEAM"}}))(t)
	tags := ok(e.root.ListSAMLProviderTags(e.ctx, &iam.ListSAMLProviderTagsInput{SAMLProviderArn: aws.String(arn)}))(t)
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "Env" {
		t.Fatalf("tags %+v", tags.Tags)
	}

	ok(e.root.DeleteSAMLProvider(e.ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(arn)}))(t)
	_, err = e.root.GetSAMLProvider(e.ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
	// "Manifest not found for arn …" is IAM's NoSuchEntity for SAML providers.
	wantErr(t, err, "NoSuchEntity", 404, "Manifest not found for arn "+arn)
	_, err = e.root.DeleteSAMLProvider(e.ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(arn)})
	wantErr(t, err, "NoSuchEntity", 404, "Manifest not found for arn "+arn)
}

// TestSAMLProviderRefusals pins the errors of the IAM User Guide's "Troubleshoot SAML
// federation with IAM" (Could not parse metadata; the private key and encryption
// mode rules) and the model's constraints.
func TestSAMLProviderRefusals(t *testing.T) {
	e := start(t)
	doc := metadata(t)
	create := func(in *iam.CreateSAMLProviderInput) error {
		if in.SAMLMetadataDocument == nil {
			in.SAMLMetadataDocument = aws.String(doc)
		}
		_, err := e.root.CreateSAMLProvider(e.ctx, in)
		return err
	}
	wantErr(t, create(&iam.CreateSAMLProviderInput{Name: aws.String("p"), SAMLMetadataDocument: aws.String("<short/>")}),
		"ValidationError", 400, "1 validation error detected: Value '<short/>' at 'sAMLMetadataDocument' failed to satisfy constraint: Member must have length greater than or equal to 1000")
	wantErr(t, create(&iam.CreateSAMLProviderInput{Name: aws.String("p"), SAMLMetadataDocument: aws.String("<a>" + strings.Repeat("x", 1000) + "</a>")}),
		"InvalidInput", 400, "Could not parse metadata.")
	wantErr(t, create(&iam.CreateSAMLProviderInput{Name: aws.String("has space")}), "ValidationError", 400, "1 validation error detected: Value 'has space' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w._-]+")
	wantErr(t, create(&iam.CreateSAMLProviderInput{Name: aws.String("p"), AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired}),
		"InvalidInput", 400, "Unable to set assertion encryption mode to Required because no private key is provided.")
	wantErr(t, create(&iam.CreateSAMLProviderInput{Name: aws.String("p"), AddPrivateKey: aws.String("not a key")}), "InvalidInput", 400, "Invalid private key.")
	if err := create(&iam.CreateSAMLProviderInput{Name: aws.String("Okta")}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, create(&iam.CreateSAMLProviderInput{Name: aws.String("OKTA")}), "EntityAlreadyExists", 409, "SAMLProvider OKTA already exists.")
	arn := aws.String("arn:aws:iam::" + account + ":saml-provider/Okta")
	_, err := e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: arn})
	wantErr(t, err, "InvalidInput", 400, "Unable to update identity provider. No updates are defined for metadata or encryption assertion.")
	_, err = e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: arn, AddPrivateKey: aws.String(pemKey(t)), RemovePrivateKey: aws.String(strings.Repeat("A", 24))})
	wantErr(t, err, "InvalidInput", 400, "Unable to add and remove private keys in the same request. Set a value for only one of the two parameters.")
	_, err = e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: arn, RemovePrivateKey: aws.String(strings.Repeat("A", 24))})
	wantErr(t, err, "InvalidInput", 400, "Failed to remove private key because the Key ID does not match a private key.")
	_, err = e.root.UpdateSAMLProvider(e.ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: arn, AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired})
	wantErr(t, err, "InvalidInput", 400, "Unable to set assertion encryption mode to Required because no private key is provided.")
	_, err = e.root.GetSAMLProvider(e.ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String("arn:aws:iam::" + account + ":role/x")})
	wantErr(t, err, "InvalidInput", 400, "ARN arn:aws:iam::"+account+":role/x is not valid.")

	// Who may manage providers is the engine's decision, with their tags.
	ok(e.root.TagSAMLProvider(e.ctx, &iam.TagSAMLProviderInput{SAMLProviderArn: arn, Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("alice")}}}))(t)
	alice, _ := e.signer("alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetSAMLProvider","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"alice"}}}]}`)
	ok(alice.GetSAMLProvider(e.ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: arn}))(t)
	_, err = alice.DeleteSAMLProvider(e.ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: arn})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::"+account+":user/alice is not authorized to perform: iam:DeleteSAMLProvider on resource: "+*arn+" because no identity-based policy allows the iam:DeleteSAMLProvider action")
}
