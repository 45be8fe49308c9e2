package explain_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

var ctx = context.Background()

// world is an organization on an in-process server: the management account with an
// administrator user, and a created member account "dev" whose
// OrganizationAccountAccessRole the administrator can assume. SCPs and RCPs are on.
type world struct {
	t      *testing.T
	s      *servertest.Server
	org    *organizations.Client
	root   string // the organization's root id
	dev    string // the member account
	admin  servertest.Creds
	mgmt   *iam.Client // the management account's IAM, as its root user
	devIAM *iam.Client // dev's IAM, through OrganizationAccountAccessRole
}

func (w *world) must(_ any, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s := servertest.Start(t, "")
	w := &world{t: t, s: s, org: s.Organizations(servertest.Root), mgmt: s.IAM(servertest.Root)}
	w.must(w.org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	roots, err := w.org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	w.root = aws.ToString(roots.Roots[0].Id)
	for _, typ := range []orgtypes.PolicyType{orgtypes.PolicyTypeServiceControlPolicy, orgtypes.PolicyTypeResourceControlPolicy} {
		w.must(w.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: &w.root, PolicyType: typ}))
	}
	w.dev = w.createAccount("dev")
	w.admin = w.user(w.mgmt, "admin", "")
	w.must(w.mgmt.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	w.devIAM = iam.NewFromConfig(w.roleConfig(w.admin, "arn:aws:iam::"+w.dev+":role/OrganizationAccountAccessRole"))
	return w
}

func (w *world) createAccount(name string) string {
	out, err := w.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
	if err != nil {
		w.t.Fatal(err)
	}
	st, err := w.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(st.CreateAccountStatus.AccountId)
}

// config is an SDK configuration against the test server.
func (w *world) config(c servertest.Creds) aws.Config {
	return aws.Config{Region: servertest.DefaultRegion, BaseEndpoint: aws.String(w.s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(c.ID, c.Secret, c.Token),
		HTTPClient:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
}

// roleConfig assumes a role with c and returns a configuration with the session.
func (w *world) roleConfig(c servertest.Creds, roleArn string) aws.Config {
	w.t.Helper()
	out, err := sts.NewFromConfig(w.config(c)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("setup")})
	if err != nil {
		w.t.Fatal(err)
	}
	cr := out.Credentials
	return w.config(servertest.Creds{ID: aws.ToString(cr.AccessKeyId), Secret: aws.ToString(cr.SecretAccessKey), Token: aws.ToString(cr.SessionToken)})
}

// source reads as c, through OrganizationAccountAccessRole elsewhere.
func (w *world) source(c servertest.Creds) *explain.AWS {
	return explain.NewAWS(w.config(c), "")
}

// user creates a user with an optional inline policy "p" and returns its key.
func (w *world) user(client *iam.Client, name, doc string) servertest.Creds {
	w.t.Helper()
	w.must(client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
	if doc != "" {
		w.must(client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}))
	}
	k, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		w.t.Fatal(err)
	}
	return servertest.Creds{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
}

// role creates a role with a trust policy and an optional inline policy "p".
func (w *world) role(client *iam.Client, name, trust, doc string, maxSession int32) {
	w.t.Helper()
	in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}
	if maxSession > 0 {
		in.MaxSessionDuration = aws.Int32(maxSession)
	}
	w.must(client.CreateRole(ctx, in))
	if doc != "" {
		w.must(client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}))
	}
}

// orgPolicy creates an SCP or RCP and attaches it to target.
func (w *world) orgPolicy(typ orgtypes.PolicyType, name, doc, target string) string {
	w.t.Helper()
	out, err := w.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(name), Description: aws.String(name),
		Type: typ, Content: aws.String(doc)})
	if err != nil {
		w.t.Fatal(err)
	}
	id := out.Policy.PolicySummary.Id
	w.must(w.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: id, TargetId: aws.String(target)}))
	return aws.ToString(id)
}

const allowAssumeAny = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`

func trustOf(principal string, condition string) string {
	cond := ""
	if condition != "" {
		cond = `,"Condition":` + condition
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"` + cond + `}]}`
}
