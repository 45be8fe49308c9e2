package organizations_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

const denyIAM = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`

// TestCreatedAccountRoleAndSCP follows the usual path: create an account, assume its
// OrganizationAccountAccessRole as an administrator of the management account, and
// see an SCP attached to the account limit that session.
func TestCreatedAccountRoleAndSCP(t *testing.T) {
	f := newOrg(t)
	f.enable(t, types.PolicyTypeServiceControlPolicy)
	admin := adminUser(t, f.s, "admin")
	acct := f.createAccount(t, "workload")

	// The management account's root user may not assume roles at all.
	_, err := assume(f.s, servertest.Root, acct, "OrganizationAccountAccessRole")
	wantCode(t, "AssumeRole by the root user", err, "AccessDenied")

	session, err := assume(f.s, admin, acct, "OrganizationAccountAccessRole")
	if err != nil {
		t.Fatalf("AssumeRole OrganizationAccountAccessRole: %v", err)
	}
	member := f.s.IAM(session)
	if _, err := member.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers in the new account: %v", err)
	}
	roles, err := member.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil || len(roles.Roles) != 1 || aws.ToString(roles.Roles[0].RoleName) != "OrganizationAccountAccessRole" {
		t.Fatalf("ListRoles in the new account: %v %+v", err, roles)
	}

	scp := f.createPolicy(t, types.PolicyTypeServiceControlPolicy, "DenyIAM", denyIAM)
	f.attach(t, scp, acct)
	_, err = member.ListUsers(ctx, &iam.ListUsersInput{})
	wantSCPDeny(t, "ListUsers under a deny-iam SCP", err)
	if !strings.Contains(err.Error(), "arn:aws:sts::"+acct+":assumed-role/OrganizationAccountAccessRole/test is not authorized to perform: iam:ListUsers") {
		t.Fatalf("ListUsers denial message: %v", err)
	}
	_, err = member.ListRoles(ctx, &iam.ListRolesInput{})
	wantSCPDeny(t, "ListRoles under a deny-iam SCP", err)

	// The same SCP on the root does not limit the management account.
	f.attach(t, scp, f.root)
	if _, err := f.s.IAM(admin).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("management account under a deny-iam SCP at the root: %v", err)
	}
	if _, err := f.s.IAM(servertest.Root).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("management root user under a deny-iam SCP at the root: %v", err)
	}

	// Detached from the account but still on the root: still denied.
	if _, err := f.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: &scp, TargetId: &acct}); err != nil {
		t.Fatal(err)
	}
	_, err = member.ListUsers(ctx, &iam.ListUsersInput{})
	wantSCPDeny(t, "ListUsers under a deny-iam SCP at the root", err)

	// Disabling SCPs lifts every limit.
	if _, err := f.org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: &f.root, PolicyType: types.PolicyTypeServiceControlPolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := member.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers with SCPs disabled: %v", err)
	}
}

// TestOUSCP: an SCP on an OU applies to the accounts moved into it, and an OU whose
// SCPs allow only some services denies the rest (every level must allow).
func TestOUSCP(t *testing.T) {
	f := newOrg(t)
	f.enable(t, types.PolicyTypeServiceControlPolicy)
	admin := adminUser(t, f.s, "admin")
	acct := f.createAccount(t, "mover")
	session, err := assume(f.s, admin, acct, "OrganizationAccountAccessRole")
	if err != nil {
		t.Fatal(err)
	}
	member := f.s.IAM(session)

	locked := f.createOU(t, f.root, "Locked")
	f.attach(t, f.createPolicy(t, types.PolicyTypeServiceControlPolicy, "DenyIAM", denyIAM), locked)
	allowS3 := f.createPolicy(t, types.PolicyTypeServiceControlPolicy, "OnlyS3",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	s3only := f.createOU(t, f.root, "S3Only")
	f.attach(t, allowS3, s3only)
	if _, err := f.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: &s3only}); err != nil {
		t.Fatal(err)
	}

	if _, err := member.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers under the root: %v", err)
	}
	move := func(src, dst string) {
		t.Helper()
		if _, err := f.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: &acct, SourceParentId: &src, DestinationParentId: &dst}); err != nil {
			t.Fatal(err)
		}
	}
	move(f.root, locked)
	_, err = member.ListUsers(ctx, &iam.ListUsersInput{})
	wantSCPDeny(t, "ListUsers in the Locked OU", err)

	move(locked, s3only)
	_, err = member.ListUsers(ctx, &iam.ListUsersInput{})
	wantSCPDeny(t, "ListUsers in the S3Only OU", err)

	move(s3only, f.root)
	if _, err := member.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers back under the root: %v", err)
	}

	// Nested: an OU below Locked inherits its deny.
	inner := f.createOU(t, locked, "Inner")
	move(f.root, inner)
	_, err = member.ListUsers(ctx, &iam.ListUsersInput{})
	wantSCPDeny(t, "ListUsers in an OU below Locked", err)
}

// TestOrganizationsIAMAuthorization: IAM principals of the management account need
// organizations:<Action>, checked on the resource the request names.
func TestOrganizationsIAMAuthorization(t *testing.T) {
	f := newOrg(t)
	acct := f.createAccount(t, "target")
	c := f.s.IAM(servertest.Root)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	reader := f.s.Organizations(servertest.Creds{ID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)})

	_, err = reader.ListRoots(ctx, &organizations.ListRootsInput{})
	wantCode(t, "ListRoots without permission", err, "AccessDeniedException")
	if !strings.Contains(err.Error(), "organizations:ListRoots") {
		t.Fatalf("ListRoots denial: %v", err)
	}

	// IAMFullAccess allows a few organizations reads, ListRoots and DescribeAccount among them.
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMFullAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Fatalf("ListRoots with IAMFullAccess: %v", err)
	}
	if _, err := reader.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: &acct}); err != nil {
		t.Fatalf("DescribeAccount with IAMFullAccess: %v", err)
	}
	_, err = reader.ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantCode(t, "ListAccounts with IAMFullAccess", err, "AccessDeniedException")
	_, err = reader.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &f.root, Name: aws.String("x")})
	wantCode(t, "CreateOrganizationalUnit with IAMFullAccess", err, "AccessDeniedException")
	if !strings.Contains(err.Error(), "arn:aws:organizations::111111111111:root/"+f.id+"/"+f.root) {
		t.Fatalf("CreateOrganizationalUnit is checked on the parent: %v", err)
	}

	// Resource-level permission: DescribeAccount allowed on one account only.
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("deny-one"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:DescribeAccount",` +
			`"Resource":"arn:aws:organizations::111111111111:account/` + f.id + `/` + acct + `"}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = reader.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: &acct})
	wantCode(t, "DescribeAccount of the denied account", err, "AccessDeniedException")
	if _, err := reader.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(servertest.Account)}); err != nil {
		t.Fatalf("DescribeAccount of another account: %v", err)
	}

	// organizations:PolicyType: CreatePolicy allowed for RCPs only.
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("rcp-author"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"organizations:CreatePolicy","Resource":"*",` +
			`"Condition":{"StringEquals":{"organizations:PolicyType":"RESOURCE_CONTROL_POLICY"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = reader.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: types.PolicyTypeServiceControlPolicy, Name: aws.String("scp"),
		Description: aws.String(""), Content: aws.String(denyIAM)})
	wantCode(t, "CreatePolicy SCP under a PolicyType condition", err, "AccessDeniedException")
	_, err = reader.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: types.PolicyTypeResourceControlPolicy, Name: aws.String("rcp"),
		Description: aws.String(""), Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatalf("CreatePolicy RCP under a PolicyType condition: %v", err)
	}
	// With tags, CreatePolicy also needs organizations:TagResource.
	_, err = reader.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: types.PolicyTypeResourceControlPolicy, Name: aws.String("rcp2"),
		Description: aws.String(""), Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, "CreatePolicy with tags without TagResource", err, "AccessDeniedException")
	if !strings.Contains(err.Error(), "organizations:TagResource") {
		t.Fatalf("CreatePolicy with tags: %v", err)
	}

	// aws:ResourceTag: UpdateOrganizationalUnit allowed on OUs tagged env=prod.
	prod, err := f.org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &f.root, Name: aws.String("prod"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	dev := f.createOU(t, f.root, "dev")
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("prod-ous"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"organizations:UpdateOrganizationalUnit","Resource":"*",` +
			`"Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: prod.OrganizationalUnit.Id,
		Name: aws.String("production")}); err != nil {
		t.Fatalf("UpdateOrganizationalUnit of a prod OU: %v", err)
	}
	_, err = reader.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: &dev, Name: aws.String("development")})
	wantCode(t, "UpdateOrganizationalUnit of an untagged OU", err, "AccessDeniedException")
}
