package apply

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/saml"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// idpMetadata is the metadata of a fresh IdP, indented for a YAML block scalar.
func idpMetadata(t *testing.T, name string) string {
	t.Helper()
	idp, err := saml.NewIdP(name, "https://"+name+".example.com/idp", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	md, err := idp.Metadata("https://" + name + ".example.com/sso")
	if err != nil {
		t.Fatal(err)
	}
	return "        " + strings.ReplaceAll(strings.TrimSpace(string(md)), "\n", "\n        ")
}

// TestApplySAMLProvider: a file declares a SAML provider and a role that trusts it;
// applying it again changes nothing, and new metadata (a rotated IdP) updates it.
func TestApplySAMLProvider(t *testing.T) {
	s := servertest.Start(t, "")
	dir := t.TempDir()
	doc := func(md string) string {
		return `management:
  samlProviders:
    - name: corp
      metadata: |
` + md + `
  roles:
    - name: staff
      trustPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Federated: "arn:aws:iam::${account:self}:saml-provider/corp"}
            Action: sts:AssumeRoleWithSAML
            Condition:
              StringEquals: {"saml:aud": "https://signin.aws.amazon.com/saml"}
`
	}
	cfg := config(s, servertest.Root)
	first := idpMetadata(t, "corp")
	path := fileIn(t, dir, "world.yaml", doc(first))
	got, _ := run(t, cfg, path, Options{})
	if !slices.Equal(got, []string{"create [management] saml-provider corp", "create [management] role staff"}) {
		t.Fatalf("%q", got)
	}
	if got, _ := run(t, cfg, path, Options{}); len(got) != 0 {
		t.Fatalf("second apply: %q", got)
	}
	rotated := idpMetadata(t, "corp")
	path = fileIn(t, dir, "world.yaml", doc(rotated))
	got, _ = run(t, cfg, path, Options{})
	if !slices.Equal(got, []string{"update [management] saml-provider corp: metadata"}) {
		t.Fatalf("%q", got)
	}
	out, err := s.IAM(servertest.Root).GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{
		SAMLProviderArn: aws.String("arn:aws:iam::111111111111:saml-provider/corp")})
	if err != nil || strings.TrimSpace(aws.ToString(out.SAMLMetadataDocument)) == strings.TrimSpace(strings.ReplaceAll(first, "\n        ", "\n")) {
		t.Fatal("metadata not replaced", err)
	}
}

func TestParseSAMLProviderErrors(t *testing.T) {
	_, err := Parse("w.yaml", []byte(`management:
  samlProviders:
    - name: "a b"
      metadata: "<x/>"
    - name: ok
    - name: ok
      metadata: "<x/>"
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`"a b" is not a SAML provider name`, "required: the IdP's SAML metadata document",
		"SAML provider ok is declared twice", "not SAML metadata IAM accepts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
