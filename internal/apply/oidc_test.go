package apply

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// TestApplyOIDCProvider: a file declares a GitHub Actions provider and a role that
// trusts it; applying it again changes nothing, and a changed client id list and
// thumbprint are reconciled.
func TestApplyOIDCProvider(t *testing.T) {
	s := servertest.Start(t, "")
	dir := t.TempDir()
	doc := func(ids, thumbs string) string {
		return `management:
  oidcProviders:
    - url: https://token.actions.githubusercontent.com
      clientIds: [` + ids + `]
      thumbprints: [` + thumbs + `]
  roles:
    - name: deploy
      trustPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Federated: "arn:aws:iam::${account:self}:oidc-provider/token.actions.githubusercontent.com"}
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
              StringEquals: {"token.actions.githubusercontent.com:aud": sts.amazonaws.com}
              StringLike: {"token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:*"}
`
	}
	cfg := config(s, servertest.Root)
	path := fileIn(t, dir, "world.yaml", doc("sts.amazonaws.com", ""))
	got, _ := run(t, cfg, path, Options{})
	if !slices.Equal(got, []string{"create [management] oidc-provider token.actions.githubusercontent.com: client ids sts.amazonaws.com", "create [management] role deploy"}) {
		t.Fatalf("%q", got)
	}
	if got, _ := run(t, cfg, path, Options{}); len(got) != 0 {
		t.Fatalf("second apply: %q", got)
	}
	path = fileIn(t, dir, "world.yaml", doc("sts.amazonaws.com, other", strings.Repeat("a", 40)))
	got, _ = run(t, cfg, path, Options{})
	if !slices.Equal(got, []string{"create [management] oidc-provider token.actions.githubusercontent.com: client id other",
		"update [management] oidc-provider token.actions.githubusercontent.com: thumbprints"}) {
		t.Fatalf("%q", got)
	}
	path = fileIn(t, dir, "world.yaml", doc("other", strings.Repeat("a", 40)))
	got, _ = run(t, cfg, path, Options{})
	if !slices.Equal(got, []string{"delete [management] oidc-provider token.actions.githubusercontent.com: client id sts.amazonaws.com"}) {
		t.Fatalf("%q", got)
	}
	out, err := s.IAM(servertest.Root).GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String("arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com")})
	if err != nil || !slices.Equal(out.ClientIDList, []string{"other"}) {
		t.Fatal(out, err)
	}
}

func TestParseOIDCProviderErrors(t *testing.T) {
	_, err := Parse("w.yaml", []byte(`management:
  oidcProviders:
    - url: http://example.com
    - url: https://a.example.com
      clientIds: [""]
      thumbprints: [abc]
    - url: https://a.example.com
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`"http://example.com" is not an OIDC provider URL`, "a client id has 1 to 255 characters",
		`"abc" is not a thumbprint`, "provider https://a.example.com is declared twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
