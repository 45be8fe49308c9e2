package explain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

const ghTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::%s:oidc-provider/token.actions.githubusercontent.com"},
	"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
	"StringLike":{"token.actions.githubusercontent.com:sub":"repo:octo-org/octo-repo:*"}}}]}`

func checkOf(t *testing.T, r *explain.Report, name string) explain.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, r.Checks)
	return explain.Check{}
}

// TestDoctorWebIdentity: the doctor finds, for each way a web identity assume fails,
// the check STS fails on, shows the token's claims and the condition that did not
// match, and says how to fix it; an RCP of the role's account decides too.
func TestDoctorWebIdentity(t *testing.T) {
	w := newWorld(t)
	w.must(w.devIAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.actions.githubusercontent.com"),
		ClientIDList: []string{"sts.amazonaws.com"}}))
	w.role(w.devIAM, "deploy", strings.ReplaceAll(ghTrust, "%s", w.dev), "", 0)
	roleArn := "arn:aws:iam::" + w.dev + ":role/deploy"
	mint := func(sub, aud string, ttl time.Duration) string {
		t.Helper()
		res, err := broker.MintWebIdentityToken(ctx, w.config(servertest.Root), broker.TokenRequest{Issuer: "token.actions.githubusercontent.com", Subject: sub, Audience: aud, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return res.Token
	}
	src := w.source(w.admin)
	doctor := func(tok string, now time.Time) *explain.Report {
		t.Helper()
		r, err := explain.DoctorAssumeRoleWithWebIdentity(ctx, src, explain.WebIdentityQuery{RoleArn: roleArn, Token: tok, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	r := doctor(mint("repo:octo-org/octo-repo:ref:refs/heads/main", "", 0), time.Time{})
	if r.Decision != "allowed" || len(r.Failed()) != 0 {
		t.Fatalf("%+v", r)
	}
	if c := checkOf(t, r, "signature"); c.Status != explain.StatusOK || !strings.HasPrefix(c.Detail, "RS256 with key ") {
		t.Fatalf("%+v", c)
	}

	r = doctor(mint("repo:octo-org/other:ref:refs/heads/main", "", 0), time.Time{})
	c := checkOf(t, r, "trust policy allows the token")
	if c.Status != explain.StatusFail || !strings.Contains(c.Detail, `StringLike token.actions.githubusercontent.com:sub "repo:octo-org/octo-repo:*": the request has "repo:octo-org/other:ref:refs/heads/main"`) ||
		!strings.Contains(c.FixPolicy, `"Federated": "arn:aws:iam::`+w.dev+`:oidc-provider/token.actions.githubusercontent.com"`) {
		t.Fatalf("%+v", c)
	}
	if c := checkOf(t, r, "token is a signed JWT"); !strings.Contains(c.Detail, "repository=octo-org/other") {
		t.Fatalf("claims not shown: %+v", c)
	}

	r = doctor(mint("repo:octo-org/octo-repo:ref:refs/heads/main", "sts.amazon.com", 0), time.Time{})
	if c := checkOf(t, r, "audience"); c.Status != explain.StatusFail || !strings.HasPrefix(c.Detail, "InvalidIdentityToken: Incorrect token audience") ||
		!strings.Contains(c.Fix, "add-client-id-to-open-id-connect-provider") {
		t.Fatalf("%+v", c)
	}

	r = doctor(mint("repo:octo-org/octo-repo:ref:refs/heads/main", "", time.Minute), time.Now().Add(10*time.Minute))
	if c := checkOf(t, r, "token lifetime"); c.Status != explain.StatusFail || !strings.HasPrefix(c.Detail, "ExpiredTokenException: Token expired: current date/time ") {
		t.Fatalf("%+v", c)
	}

	// The provider lives in dev: a role of the management account has none.
	w.role(w.mgmt, "deploy", strings.ReplaceAll(ghTrust, "%s", servertest.Account), "", 0)
	r, err := explain.DoctorAssumeRoleWithWebIdentity(ctx, src, explain.WebIdentityQuery{RoleArn: "arn:aws:iam::111111111111:role/deploy",
		Token: mint("repo:octo-org/octo-repo:ref:refs/heads/main", "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if c := checkOf(t, r, "identity provider"); c.Status != explain.StatusFail ||
		c.Detail != "InvalidIdentityToken: No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com" ||
		!strings.Contains(c.Fix, "aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com") {
		t.Fatalf("%+v", c)
	}

	// An RCP on dev that refuses web identity federation.
	w.orgPolicy(orgtypes.PolicyTypeResourceControlPolicy, "no-oidc",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*"}]}`, w.dev)
	r = doctor(mint("repo:octo-org/octo-repo:ref:refs/heads/main", "", 0), time.Time{})
	if c := checkOf(t, r, "RCPs of the role's account "+w.dev); c.Status != explain.StatusFail || r.Decision != "explicitDeny" {
		t.Fatalf("%s %+v", r.Decision, c)
	}

	// Not a token at all.
	r = doctor("hello", time.Time{})
	if c := checkOf(t, r, "token is a signed JWT"); c.Status != explain.StatusFail {
		t.Fatalf("%+v", c)
	}
}
