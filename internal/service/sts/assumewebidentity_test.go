package sts_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

const (
	account   = servertest.Account
	github    = "token.actions.githubusercontent.com"
	githubArn = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
	eksIssuer = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"

	// trustGitHub is GitHub's "Configuring OpenID Connect in Amazon Web Services"
	// trust policy, verbatim but for the account id.
	trustGitHub = `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                },
                "StringLike": {
                    "token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:*"
                }
            }
        }
    ]
}`

	// trustEKS is the IRSA trust policy of the Amazon EKS User Guide ("Assign IAM
	// roles to Kubernetes service accounts"), with its placeholders filled in.
	trustEKS = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Federated": "arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
      },
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub": "system:serviceaccount:default:my-service-account",
          "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud": "sts.amazonaws.com"
        }
      }
    }
  ]
}`
)

// fed is a server with the management account's root clients and a clock tests move.
type fed struct {
	t    *testing.T
	ctx  context.Context
	s    *servertest.Server
	root *iam.Client
	mu   sync.Mutex
	now  time.Time
}

func startFed(t *testing.T) *fed {
	t.Helper()
	f := &fed{t: t, ctx: context.Background(), now: time.Now()}
	f.s = servertest.StartClock(t, "", f.clock)
	f.root = f.s.IAM(servertest.Root)
	return f
}

func (f *fed) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fed) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fed) must(_ any, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// provider registers an OIDC provider with client ids.
func (f *fed) provider(url string, clientIDs ...string) string {
	f.t.Helper()
	out, err := f.root.CreateOpenIDConnectProvider(f.ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(url), ClientIDList: clientIDs})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.OpenIDConnectProviderArn)
}

func (f *fed) role(name, trust, permissions string) string {
	f.t.Helper()
	out, err := f.root.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		f.t.Fatal(err)
	}
	if permissions != "" {
		f.must(f.root.PutRolePolicy(f.ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(permissions)}))
	}
	return aws.ToString(out.Role.Arn)
}

func (f *fed) config(c servertest.Creds) aws.Config {
	return aws.Config{Region: servertest.DefaultRegion, BaseEndpoint: aws.String(f.s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(c.ID, c.Secret, c.Token)}
}

// mint asks the server's built-in issuer for a token, as the root user.
func (f *fed) mint(issuer, sub string, claims map[string]any) string {
	f.t.Helper()
	return f.mintReq(broker.TokenRequest{Issuer: issuer, Subject: sub, Claims: claims})
}

func (f *fed) mintReq(req broker.TokenRequest) string {
	f.t.Helper()
	res, err := broker.MintWebIdentityToken(f.ctx, f.config(servertest.Root), req)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Token
}

// anon is an STS client without credentials: AssumeRoleWithWebIdentity is unsigned.
func (f *fed) anon() *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: servertest.DefaultRegion, BaseEndpoint: aws.String(f.s.URL), RetryMaxAttempts: 1,
		Credentials: aws.AnonymousCredentials{}})
}

func (f *fed) assume(roleArn, token string, opts ...func(*sts.AssumeRoleWithWebIdentityInput)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	in := &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("web"), WebIdentityToken: aws.String(token)}
	for _, o := range opts {
		o(in)
	}
	return f.anon().AssumeRoleWithWebIdentity(f.ctx, in)
}

// wantErr checks an AWS error's code, HTTP status and exact message.
func wantErr(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("want %s %q\ngot  %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: want HTTP %d, got %d", code, status, re.HTTPStatusCode())
	}
}

// notAuthorized is STS's refusal by the trust policy (aws/aws-sdk-net#1522).
const notAuthorized = "Not authorized to perform sts:AssumeRoleWithWebIdentity"

func TestWebIdentityGitHubActions(t *testing.T) {
	f := startFed(t)
	if got := f.provider("https://token.actions.githubusercontent.com", "sts.amazonaws.com"); got != githubArn {
		t.Fatal(got)
	}
	role := f.role("deploy", trustGitHub, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}`)
	tok := f.mint(github, "repo:octo-org/octo-repo:ref:refs/heads/main", nil)
	out, err := f.assume(role, tok, func(in *sts.AssumeRoleWithWebIdentityInput) { in.DurationSeconds = aws.Int32(900) })
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::111111111111:assumed-role/deploy/web" {
		t.Fatal(got)
	}
	if id := aws.ToString(out.AssumedRoleUser.AssumedRoleId); !strings.HasPrefix(id, "AROA") || !strings.HasSuffix(id, ":web") {
		t.Fatal(id)
	}
	if aws.ToString(out.Provider) != githubArn || aws.ToString(out.Audience) != "sts.amazonaws.com" ||
		aws.ToString(out.SubjectFromWebIdentityToken) != "repo:octo-org/octo-repo:ref:refs/heads/main" || out.PackedPolicySize != nil {
		t.Fatalf("Provider %q Audience %q Subject %q Packed %v", aws.ToString(out.Provider), aws.ToString(out.Audience),
			aws.ToString(out.SubjectFromWebIdentityToken), out.PackedPolicySize)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 14*time.Minute || d > 16*time.Minute {
		t.Fatalf("expires in %v", d)
	}
	creds := sessionCreds(out.Credentials)
	who, err := f.s.STS(creds).GetCallerIdentity(f.ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:sts::111111111111:assumed-role/deploy/web" {
		t.Fatal(who, err)
	}
	if _, err := f.s.IAM(creds).ListRoles(f.ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatal(err)
	}
	// Another repository, and a token for another audience, do not get in.
	wantErr(t, second(f.assume(role, f.mint(github, "repo:octo-org/other-repo:ref:refs/heads/main", nil))), "AccessDenied", 403, notAuthorized)
	// A signed request is no different: the token is the identity.
	signed := f.s.STS(servertest.Root)
	if _, err := signed.AssumeRoleWithWebIdentity(f.ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role),
		RoleSessionName: aws.String("signed"), WebIdentityToken: aws.String(tok)}); err != nil {
		t.Fatal(err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestWebIdentityDefaultChain: an application's SDK with AWS_ROLE_ARN and
// AWS_WEB_IDENTITY_TOKEN_FILE, as GitHub Actions and EKS set them, reaches the role.
func TestWebIdentityDefaultChain(t *testing.T) {
	f := startFed(t)
	f.provider("https://token.actions.githubusercontent.com", "sts.amazonaws.com")
	role := f.role("deploy", trustGitHub, "")
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(f.mint(github, "repo:octo-org/octo-repo:environment:prod", nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_ROLE_ARN", role)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", file)
	t.Setenv("AWS_ROLE_SESSION_NAME", "gha-run-1")
	cfg, err := config.LoadDefaultConfig(f.ctx, config.WithRegion("us-east-1"), config.WithBaseEndpoint(f.s.URL))
	if err != nil {
		t.Fatal(err)
	}
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(f.ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(who.Arn); got != "arn:aws:sts::111111111111:assumed-role/deploy/gha-run-1" {
		t.Fatal(got)
	}
}

func TestWebIdentityEKS(t *testing.T) {
	f := startFed(t)
	f.provider("https://"+eksIssuer, "sts.amazonaws.com")
	role := f.role("s3-reader", trustEKS, "")
	out, err := f.assume(role, f.mint(eksIssuer, "system:serviceaccount:default:my-service-account", nil))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Provider) != "arn:aws:iam::111111111111:oidc-provider/"+eksIssuer || aws.ToString(out.Audience) != "sts.amazonaws.com" {
		t.Fatal(aws.ToString(out.Provider), aws.ToString(out.Audience))
	}
	wantErr(t, second(f.assume(role, f.mint(eksIssuer, "system:serviceaccount:kube-system:other", nil))), "AccessDenied", 403, notAuthorized)
}

// TestWebIdentityRefusals walks every refusal before and after the trust policy,
// each with STS's wording where AWS's is known (the source beside it).
func TestWebIdentityRefusals(t *testing.T) {
	f := startFed(t)
	f.provider("https://token.actions.githubusercontent.com", "sts.amazonaws.com")
	role := f.role("deploy", trustGitHub, "")
	good := f.mint(github, "repo:octo-org/octo-repo:ref:refs/heads/main", nil)

	// The token's size (botocore: WebIdentityToken 4–20000); the message does not echo it.
	wantErr(t, second(f.assume(role, strings.Repeat("a", 20001))), "ValidationError", 400,
		"1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000")
	wantErr(t, second(f.assume("arn:aws:iam::111111111111:user/deploy", good)), "ValidationError", 400, "arn:aws:iam::111111111111:user/deploy is invalid")
	// Not a JWT (iamlocal's wording; AWS's is not documented).
	wantErr(t, second(f.assume(role, "not-a-token")), "InvalidIdentityToken", 400, "The web identity token is not a signed JSON Web Token")
	// An issuer the role's account did not register: aws-actions/configure-aws-credentials#721.
	wantErr(t, second(f.assume(role, f.mint("gitlab.com", "project_path:g/p:ref_type:branch:ref:main", nil))), "InvalidIdentityToken", 400,
		"No OpenIDConnect provider found in your account for https://gitlab.com")
	// A key the issuer never published: awslabs/aws-sdk-rust#827 (two spaces after the comma).
	foreign := foreignToken(t, "other-kid", map[string]any{"iss": "https://" + github, "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
		"aud": "sts.amazonaws.com", "exp": time.Now().Add(time.Hour).Unix()})
	wantErr(t, second(f.assume(role, foreign)), "InvalidIdentityToken", 400,
		"Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
	// The issuer's key id on another key's signature (iamlocal's wording).
	kid := headerKid(t, good)
	forged := foreignToken(t, kid, map[string]any{"iss": "https://" + github, "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
		"aud": "sts.amazonaws.com", "exp": time.Now().Add(time.Hour).Unix()})
	wantErr(t, second(f.assume(role, forged)), "InvalidIdentityToken", 400,
		"The token's signature does not verify with the keys of https://token.actions.githubusercontent.com")
	// An audience the provider does not list: awslabs/amazon-eks-irsa-cfn#18.
	wantErr(t, second(f.assume(role, f.mintReq(broker.TokenRequest{Issuer: github, Subject: "repo:octo-org/octo-repo:ref:refs/heads/main", Audience: "sts.amazon.com"}))),
		"InvalidIdentityToken", 400, "Incorrect token audience")
	// nbf in the future, beyond five minutes of skew (iamlocal's wording).
	wantErr(t, second(f.assume(role, f.mint(github, "repo:octo-org/octo-repo:ref:refs/heads/main", map[string]any{"nbf": time.Now().Add(time.Hour).Unix()}))),
		"InvalidIdentityToken", 400, "The token is not valid yet (nbf)")
	wantErr(t, second(f.assume(role, f.mint(github, "repo:octo-org/octo-repo:ref:refs/heads/main", map[string]any{"exp": "tomorrow"}))),
		"InvalidIdentityToken", 400, "A time claim (exp, nbf, iat) is not an integer")
	// Expired: STS's message with both times in Unix seconds (parseablehq/parseable#604).
	short := f.mintReq(broker.TokenRequest{Issuer: github, Subject: "repo:octo-org/octo-repo:ref:refs/heads/main", TTL: time.Minute})
	exp := claimInt(t, short, "exp")
	f.advance(2 * time.Minute)
	now := f.clock().Unix()
	wantErr(t, second(f.assume(role, short)), "ExpiredTokenException", 400,
		"Token expired: current date/time "+itoa(now)+" must be before the expiration date/time "+itoa(exp))
	// A role that does not exist is refused like a trust policy that says no.
	wantErr(t, second(f.assume("arn:aws:iam::111111111111:role/nope", good)), "AccessDenied", 403, notAuthorized)
	wantErr(t, second(f.assume("arn:aws:iam::111111111111:role/path/deploy", good)), "AccessDenied", 403, notAuthorized)
	// Longer than the role's MaxSessionDuration (3600 by default).
	wantErr(t, second(f.assume(role, good, func(in *sts.AssumeRoleWithWebIdentityInput) { in.DurationSeconds = aws.Int32(7200) })),
		"ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	// A session policy IAM's door refuses.
	var ae smithy.APIError
	if err := second(f.assume(role, good, func(in *sts.AssumeRoleWithWebIdentityInput) { in.Policy = aws.String(`{"Statement":[]`) })); !errors.As(err, &ae) || ae.ErrorCode() != "MalformedPolicyDocument" {
		t.Fatalf("malformed session policy: %v", err)
	}
	// An OAuth 2.0 provider that rejects the access token: aws/aws-sdk-js#198.
	wantErr(t, second(f.assume(role, "EAAGm0PX4ZCpsBAgarbage", func(in *sts.AssumeRoleWithWebIdentityInput) { in.ProviderId = aws.String("graph.facebook.com") })),
		"IDPRejectedClaim", 403, "graph.facebook.com: graph.facebook.com responded with HTTP/1.1 400 Bad Request")
	// A provider deleted after the token was minted: nothing to trust any more.
	f.must(f.root.DeleteOpenIDConnectProvider(f.ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(githubArn)}))
	wantErr(t, second(f.assume(role, good)), "InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for https://token.actions.githubusercontent.com")
}

// TestWebIdentityPackedPolicy: session tags from the token and a session policy
// count against the packed size.
func TestWebIdentityPackedPolicy(t *testing.T) {
	f := startFed(t)
	f.provider("https://token.actions.githubusercontent.com", "sts.amazonaws.com")
	role := f.role("deploy", strings.Replace(trustGitHub, `"Action": "sts:AssumeRoleWithWebIdentity"`, `"Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]`, 1), "")
	tags := map[string]any{}
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		tags[k+strings.Repeat("k", 100)] = []any{strings.Repeat("v", 200)}
	}
	tok := f.mint(github, "repo:octo-org/octo-repo:ref:refs/heads/main", map[string]any{"https://aws.amazon.com/tags": map[string]any{"principal_tags": tags}})
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("x", 1400) + `","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	err := second(f.assume(role, tok, func(in *sts.AssumeRoleWithWebIdentityInput) { in.Policy = aws.String(big) }))
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "PackedPolicyTooLarge" {
		t.Fatalf("want PackedPolicyTooLarge, got %v", err)
	}
	out, err := f.assume(role, tok)
	if err != nil {
		t.Fatal(err)
	}
	if out.PackedPolicySize == nil || *out.PackedPolicySize < 1 {
		t.Fatal(out.PackedPolicySize)
	}
}

// TestWebIdentitySessionTagsAndSourceIdentity: the token's
// https://aws.amazon.com/tags and https://aws.amazon.com/source_identity claims need
// sts:TagSession and sts:SetSourceIdentity in the trust policy, and reach the session.
func TestWebIdentitySessionTagsAndSourceIdentity(t *testing.T) {
	f := startFed(t)
	f.provider("https://token.actions.githubusercontent.com", "sts.amazonaws.com")
	perms := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*",
		"Condition":{"StringEquals":{"aws:PrincipalTag/team":"infra","aws:SourceIdentity":"octocat"}}}]}`
	plain := f.role("plain", trustGitHub, perms)
	tagged := f.role("tagged", strings.Replace(trustGitHub, `"Action": "sts:AssumeRoleWithWebIdentity"`,
		`"Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"]`, 1), perms)
	tok := f.mint(github, "repo:octo-org/octo-repo:ref:refs/heads/main", map[string]any{
		"https://aws.amazon.com/tags":            map[string]any{"principal_tags": map[string]any{"team": []any{"infra"}}, "transitive_tag_keys": []any{"team"}},
		"https://aws.amazon.com/source_identity": "octocat",
	})
	wantErr(t, second(f.assume(plain, tok)), "AccessDenied", 403, notAuthorized)
	out, err := f.assume(tagged, tok)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SourceIdentity) != "octocat" {
		t.Fatal(aws.ToString(out.SourceIdentity))
	}
	if _, err := f.s.IAM(sessionCreds(out.Credentials)).ListRoles(f.ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatal(err)
	}
	bad := f.mint(github, "repo:octo-org/octo-repo:ref:refs/heads/main", map[string]any{"https://aws.amazon.com/source_identity": "aws:me"})
	wantErr(t, second(f.assume(tagged, bad)), "ValidationError", 400, "SourceIdentity cannot start with the prefix 'aws:'")
}

// TestWebIdentitySessionKeys: a web identity session's requests carry
// aws:FederatedProvider and the provider's sub, aud and amr; GitHub's extra keys
// decide the trust policy only.
func TestWebIdentitySessionKeys(t *testing.T) {
	f := startFed(t)
	f.provider("https://token.actions.githubusercontent.com", "sts.amazonaws.com")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + githubArn + `"},"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"token.actions.githubusercontent.com:repository":"octo-org/octo-repo","token.actions.githubusercontent.com:environment":"prod",
		"token.actions.githubusercontent.com:job_workflow_ref":"octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main"}}}]}`
	perms := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"StringEquals":{"aws:FederatedProvider":"` + githubArn + `"},
			"StringLike":{"token.actions.githubusercontent.com:sub":"repo:octo-org/*"}}},
		{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"StringEquals":{"token.actions.githubusercontent.com:repository":"octo-org/octo-repo"}}}]}`
	role := f.role("deploy", trust, perms)
	wantErr(t, second(f.assume(role, f.mint(github, "repo:octo-org/octo-repo:environment:staging", nil))), "AccessDenied", 403, notAuthorized)
	out, err := f.assume(role, f.mint(github, "repo:octo-org/octo-repo:environment:prod", nil))
	if err != nil {
		t.Fatal(err)
	}
	c := f.s.IAM(sessionCreds(out.Credentials))
	if _, err := c.ListRoles(f.ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatal(err)
	}
	var ae smithy.APIError
	if _, err := c.ListUsers(f.ctx, &iam.ListUsersInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("repository reached the session: %v", err)
	}
}

// TestWebIdentityBuiltInProviders: Cognito and Google need no IAM provider; the trust
// policy names them and checks their aud (IAM User Guide examples).
func TestWebIdentityBuiltInProviders(t *testing.T) {
	f := startFed(t)
	pool := "us-east-1:12345678-abcd-abcd-abcd-123456789012"
	cognito := f.role("cognito", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"`+pool+`"},
		"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}}]}`, "")
	id := "us-east-1:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	out, err := f.assume(cognito, f.mintReq(broker.TokenRequest{Issuer: "cognito-identity.amazonaws.com", Subject: id, Audience: pool}))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Provider) != "cognito-identity.amazonaws.com" || aws.ToString(out.Audience) != pool || aws.ToString(out.SubjectFromWebIdentityToken) != id {
		t.Fatal(aws.ToString(out.Provider), aws.ToString(out.Audience))
	}
	unauth := f.mintReq(broker.TokenRequest{Issuer: "cognito-identity.amazonaws.com", Subject: id, Audience: pool, Claims: map[string]any{"amr": []any{"unauthenticated"}}})
	wantErr(t, second(f.assume(cognito, unauth)), "AccessDenied", 403, notAuthorized)

	google := f.role("google", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"accounts.google.com:aud":"107806444890271851399",
		"accounts.google.com:oaud":"sts.amazonaws.com","accounts.google.com:sub":"107806444890271851399"}}}]}`, "")
	out, err = f.assume(google, f.mint("accounts.google.com", "107806444890271851399", nil))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Provider) != "accounts.google.com" || aws.ToString(out.Audience) != "107806444890271851399" {
		t.Fatal(aws.ToString(out.Provider), aws.ToString(out.Audience))
	}

	// Login with Amazon: an OAuth 2.0 provider named by ProviderId; its keys are
	// www.amazon.com:app_id and :user_id (the STS API reference's example role).
	amazon := f.role("amazon", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"www.amazon.com"},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"www.amazon.com:app_id":"amzn1.application-oa2-client.5d6"}}}]}`, "")
	tok := f.mintReq(broker.TokenRequest{Issuer: "www.amazon.com", Subject: "amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A", Audience: "amzn1.application-oa2-client.5d6"})
	out, err = f.assume(amazon, tok, func(in *sts.AssumeRoleWithWebIdentityInput) { in.ProviderId = aws.String("www.amazon.com") })
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Provider) != "www.amazon.com" || aws.ToString(out.Audience) != "amzn1.application-oa2-client.5d6" {
		t.Fatal(aws.ToString(out.Provider), aws.ToString(out.Audience))
	}
	// Without ProviderId, an OAuth provider's token names no OIDC provider.
	wantErr(t, second(f.assume(amazon, tok)), "InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for https://www.amazon.com")
	wantErr(t, second(f.assume(amazon, tok, func(in *sts.AssumeRoleWithWebIdentityInput) { in.ProviderId = aws.String("example.com") })),
		"InvalidParameterValue", 400, "ProviderId example.com is not supported: only the OAuth 2.0 providers www.amazon.com and graph.facebook.com take a ProviderId; leave it out for OpenID Connect ID tokens")
}

// TestWebIdentityImportedKeys: tokens of a real issuer verify with the JWKS imported
// for it; only the management account may import.
func TestWebIdentityImportedKeys(t *testing.T) {
	f := startFed(t)
	f.provider("https://token.actions.githubusercontent.com", "sts.amazonaws.com")
	role := f.role("deploy", trustGitHub, "")
	key := rsaJWK(t, "github-real-1")
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.Public()}})
	real := signWith(t, key, map[string]any{"iss": "https://" + github, "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
		"aud": "sts.amazonaws.com", "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()})
	wantErr(t, second(f.assume(role, real)), "InvalidIdentityToken", 400,
		"Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
	res, err := broker.ImportJWKS(f.ctx, f.config(servertest.Root), "https://"+github, set)
	if err != nil {
		t.Fatal(err)
	}
	if res.Issuer != "https://"+github || len(res.KeyIDs) != 1 || res.KeyIDs[0] != "github-real-1" {
		t.Fatal(res)
	}
	if _, err := f.assume(role, real); err != nil {
		t.Fatal(err)
	}
	// The built-in issuer's tokens still verify beside the imported keys.
	if _, err := f.assume(role, f.mint(github, "repo:octo-org/octo-repo:ref:refs/heads/main", nil)); err != nil {
		t.Fatal(err)
	}
	// A private key is refused.
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key}})
	var ie *broker.IssuerError
	if _, err := broker.ImportJWKS(f.ctx, f.config(servertest.Root), github, priv); !errors.As(err, &ie) || ie.Code != "InvalidParameterValue" {
		t.Fatalf("private key: %v", err)
	}
}

// TestMintAuthorization: minting is an action the engine decides.
func TestMintAuthorization(t *testing.T) {
	f := startFed(t)
	user := func(name, policy string) servertest.Creds {
		f.must(f.root.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
		if policy != "" {
			f.must(f.root.PutUserPolicy(f.ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}))
		}
		k, err := f.root.CreateAccessKey(f.ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return servertest.Creds{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
	}
	req := broker.TokenRequest{Issuer: github, Subject: "repo:o/r:ref:refs/heads/main"}
	nobody := user("nobody", "")
	var ie *broker.IssuerError
	_, err := broker.MintWebIdentityToken(f.ctx, f.config(nobody), req)
	if !errors.As(err, &ie) || ie.Status != 403 || ie.Code != "AccessDenied" ||
		ie.Message != "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: iamlocal:MintWebIdentityToken on resource: "+githubArn+" because no identity-based policy allows the iamlocal:MintWebIdentityToken action" {
		t.Fatalf("%v", err)
	}
	admin := user("admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	if _, err := broker.MintWebIdentityToken(f.ctx, f.config(admin), req); err != nil {
		t.Fatal(err)
	}
	scoped := user("scoped", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iamlocal:MintWebIdentityToken","Resource":"arn:aws:iam::*:oidc-provider/gitlab.com"}]}`)
	if _, err := broker.MintWebIdentityToken(f.ctx, f.config(scoped), req); !errors.As(err, &ie) || ie.Code != "AccessDenied" {
		t.Fatalf("scoped to gitlab.com minted for GitHub: %v", err)
	}
	if _, err := broker.MintWebIdentityToken(f.ctx, f.config(scoped), broker.TokenRequest{Issuer: "https://gitlab.com", Subject: "s"}); err != nil {
		t.Fatal(err)
	}
	// Unsigned: refused before anything else.
	resp, err := http.Post(f.s.URL+oidc.MintPath, "application/x-www-form-urlencoded", strings.NewReader("Issuer=gitlab.com&Subject=s"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "MissingAuthenticationToken") {
		t.Fatal(resp.StatusCode, string(body))
	}
	// Importing is decided too: nobody may not; an empty key set is refused.
	if _, err := broker.ImportJWKS(f.ctx, f.config(nobody), github, []byte(`{"keys":[]}`)); !errors.As(err, &ie) || ie.Code != "AccessDenied" {
		t.Fatalf("import by nobody: %v", err)
	}
	if _, err := broker.ImportJWKS(f.ctx, f.config(admin), github, []byte(`{"keys":[]}`)); !errors.As(err, &ie) || ie.Code != "InvalidParameterValue" {
		t.Fatalf("empty import: %v", err)
	}
}

// TestIssuerDocumentsAndRestart: the discovery document and JWKS are served, and the
// issuer's key survives a restart (tokens minted before still verify).
func TestIssuerDocumentsAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, dir)
	f := &fed{t: t, ctx: context.Background(), s: s, root: s.IAM(servertest.Root), now: time.Now()}
	f.provider("https://"+eksIssuer, "sts.amazonaws.com")
	tok := f.mint(eksIssuer, "system:serviceaccount:default:my-service-account", nil)
	get := func(path string) []byte {
		resp, err := http.Get(f.s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(get(oidc.PathPrefix+eksIssuer+"/.well-known/openid-configuration"), &disc); err != nil {
		t.Fatal(err)
	}
	if disc.Issuer != "https://"+eksIssuer || disc.JWKSURI != f.s.URL+oidc.PathPrefix+eksIssuer+"/jwks" {
		t.Fatal(disc)
	}
	keys, err := oidc.ParseJWKS(get(oidc.PathPrefix + eksIssuer + "/jwks"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oidc.Verify(tok, keys); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(f.s.URL + oidc.PathPrefix + "unknown.example.com/jwks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatal(resp.StatusCode)
	}
	role := f.role("s3-reader", trustEKS, "")
	s.Close()
	s2 := servertest.Start(t, dir)
	f.s = s2
	if _, err := f.assume(role, tok); err != nil {
		t.Fatal(err)
	}
}

// foreignToken signs claims with a key iamlocal never saw, under a key id.
func foreignToken(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	return signWith(t, rsaJWK(t, kid), claims)
}

func rsaJWK(t *testing.T, kid string) jose.JSONWebKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "RS256", Use: "sig"}
}

func signWith(t *testing.T, k jose.JSONWebKey, claims map[string]any) string {
	t.Helper()
	tok, err := oidc.Mint(&k, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func headerKid(t *testing.T, tok string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, oidc.Algorithms)
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Protected.KeyID
}

func claimInt(t *testing.T, tok, name string) int64 {
	t.Helper()
	c, err := oidc.Peek(tok)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := c.Time(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func itoa(n int64) string { return strings.TrimSpace(jsonNumber(n)) }

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
