package organizations_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/store"
)

var ctx = context.Background()

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wantCode fails unless err is the AWS error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Fatalf("%s: want %s, got %v", what, code, err)
	}
}

// wantReason fails unless err is a ConstraintViolationException or
// InvalidInputException with the reason.
func wantReason(t *testing.T, what string, err error, code, reason string) {
	t.Helper()
	wantCode(t, what, err, code)
	var got string
	var cve *types.ConstraintViolationException
	var iie *types.InvalidInputException
	var hce *types.HandshakeConstraintViolationException
	switch {
	case errors.As(err, &cve):
		got = string(cve.Reason)
	case errors.As(err, &iie):
		got = string(iie.Reason)
	case errors.As(err, &hce):
		got = string(hce.Reason)
	}
	if got != reason {
		t.Fatalf("%s: want reason %s, got %q (%v)", what, reason, got, err)
	}
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// fixture is a server with an organization.
type fixture struct {
	s    *servertest.Server
	org  *organizations.Client
	root string // root id
	id   string // organization id
}

func newOrg(t *testing.T) *fixture {
	t.Helper()
	s := servertest.Start(t, "")
	org := s.Organizations(servertest.Root)
	out := must[*organizations.CreateOrganizationOutput](t, "CreateOrganization")(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))
	roots := must[*organizations.ListRootsOutput](t, "ListRoots")(org.ListRoots(ctx, &organizations.ListRootsInput{}))
	return &fixture{s: s, org: org, root: aws.ToString(roots.Roots[0].Id), id: aws.ToString(out.Organization.Id)}
}

// enable turns a policy type on.
func (f *fixture) enable(t *testing.T, typ types.PolicyType) {
	t.Helper()
	_, err := f.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: &f.root, PolicyType: typ})
	if err != nil {
		t.Fatalf("EnablePolicyType %s: %v", typ, err)
	}
}

// createAccount creates an account and returns its id, as a client polls for it.
func (f *fixture) createAccount(t *testing.T, name string) string {
	t.Helper()
	out, err := f.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
	if err != nil {
		t.Fatalf("CreateAccount %s: %v", name, err)
	}
	st, err := f.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
	if err != nil {
		t.Fatalf("DescribeCreateAccountStatus: %v", err)
	}
	if st.CreateAccountStatus.State != types.CreateAccountStateSucceeded {
		t.Fatalf("CreateAccount %s: %s %s", name, st.CreateAccountStatus.State, st.CreateAccountStatus.FailureReason)
	}
	return aws.ToString(st.CreateAccountStatus.AccountId)
}

func (f *fixture) createOU(t *testing.T, parent, name string) string {
	t.Helper()
	out, err := f.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &parent, Name: &name})
	if err != nil {
		t.Fatalf("CreateOrganizationalUnit %s: %v", name, err)
	}
	return aws.ToString(out.OrganizationalUnit.Id)
}

func (f *fixture) createPolicy(t *testing.T, typ types.PolicyType, name, content string) string {
	t.Helper()
	out, err := f.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: typ, Name: &name, Description: aws.String(""), Content: &content})
	if err != nil {
		t.Fatalf("CreatePolicy %s: %v", name, err)
	}
	return aws.ToString(out.Policy.PolicySummary.Id)
}

func (f *fixture) attach(t *testing.T, policyID, target string) {
	t.Helper()
	if _, err := f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &policyID, TargetId: &target}); err != nil {
		t.Fatalf("AttachPolicy %s to %s: %v", policyID, target, err)
	}
}

// attachedIDs lists the policies of a type attached to a target.
func (f *fixture) attachedIDs(t *testing.T, target string, typ types.PolicyType) []string {
	t.Helper()
	out, err := f.org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: &target, Filter: typ})
	if err != nil {
		t.Fatalf("ListPoliciesForTarget %s: %v", target, err)
	}
	var ids []string
	for _, p := range out.Policies {
		ids = append(ids, aws.ToString(p.Id))
	}
	return ids
}

const adminPolicy = "arn:aws:iam::aws:policy/AdministratorAccess"

// adminUser makes an IAM user with AdministratorAccess and an access key in the
// management account: AWS refuses AssumeRole to root users. It uses IAM's API and,
// where an action is not served yet, writes the user's key or attachment into the
// store directly.
func adminUser(t *testing.T, s *servertest.Server, name string) servertest.Creds {
	t.Helper()
	c := s.IAM(servertest.Root)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: &name}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &name, PolicyArn: aws.String(adminPolicy)})
	if apiCode(err) == "InvalidAction" {
		err = writeStore(s, func(tx store.Tx) error { // IAM AttachUserPolicy not served yet
			var u directory.User
			key := directory.NameKey(servertest.Account, name)
			if err := tx.Get(directory.KindUser, key, &u); err != nil {
				return err
			}
			u.AttachedPolicies = append(u.AttachedPolicies, adminPolicy)
			return tx.Put(directory.KindUser, key, &u)
		})
	}
	if err != nil {
		t.Fatalf("AttachUserPolicy: %v", err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &name})
	if apiCode(err) == "InvalidAction" { // IAM CreateAccessKey not served yet
		k := directory.AccessKey{ID: directory.NewAccessKeyID("AKIA", servertest.Account), Secret: directory.NewSecret(),
			Account: servertest.Account, User: name, Status: "Active", CreateDate: time.Now().UTC()}
		if err := writeStore(s, func(tx store.Tx) error { return tx.Put(directory.KindAccessKey, k.ID, k) }); err != nil {
			t.Fatalf("write access key: %v", err)
		}
		return servertest.Creds{ID: k.ID, Secret: k.Secret}
	}
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	return servertest.Creds{ID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)}
}

func writeStore(s *servertest.Server, fn func(tx store.Tx) error) error {
	return s.Env.Store.Write(ctx, fn)
}

// assume assumes a role and returns the session's credentials.
func assume(s *servertest.Server, c servertest.Creds, account, role string) (servertest.Creds, error) {
	out, err := s.STS(c).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + role),
		RoleSessionName: aws.String("test")})
	if err != nil {
		return servertest.Creds{}, err
	}
	cr := out.Credentials
	return servertest.Creds{ID: aws.ToString(cr.AccessKeyId), Secret: aws.ToString(cr.SecretAccessKey), Token: aws.ToString(cr.SessionToken)}, nil
}

// wantSCPDeny fails unless err is AccessDenied because of a service control policy.
func wantSCPDeny(t *testing.T, what string, err error) {
	t.Helper()
	if code := apiCode(err); code != "AccessDenied" && code != "AccessDeniedException" {
		t.Fatalf("%s: want AccessDenied, got %v", what, err)
	}
	if !strings.Contains(err.Error(), "with an explicit deny in a service control policy") {
		t.Fatalf("%s: want an SCP denial, got %v", what, err)
	}
}
