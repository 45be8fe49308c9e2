package apply

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

var ctx = context.Background()

// config is an SDK configuration for the test server with c's credentials.
func config(s *servertest.Server, c servertest.Creds) aws.Config {
	return aws.Config{
		Region:           servertest.DefaultRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(c.ID, c.Secret, c.Token),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

// admin makes the management account's administrator, as docs/apply.md asks, and
// returns its credentials.
func admin(t *testing.T, s *servertest.Server) servertest.Creds {
	t.Helper()
	root := s.IAM(servertest.Root)
	must(t, func() error {
		_, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("admin")})
		return err
	})
	must(t, func() error {
		_, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
		return err
	})
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")})
	if err != nil {
		t.Fatal(err)
	}
	return servertest.Creds{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
}

func must(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

// fileIn writes a file into a new directory and returns its path.
func fileIn(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// run applies a file and returns its changes as lines.
func run(t *testing.T, cfg aws.Config, path string, o Options) ([]string, *Result) {
	t.Helper()
	w, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Poll, o.AssumeRetries = 1, 1
	var notes []string
	o.Note = func(s string) { notes = append(notes, s) }
	res, err := Run(ctx, cfg, w, o)
	if err != nil {
		t.Fatalf("apply %s: %v\nchanges so far:\n%s", path, err, strings.Join(lines(res), "\n"))
	}
	for _, n := range notes {
		t.Log("note:", n)
	}
	return lines(res), res
}

func lines(res *Result) []string {
	var out []string
	for _, c := range res.Changes {
		out = append(out, c.String())
	}
	return out
}

// shape is a change without the names and details that only a real run knows
// (account ids, bucket names made of them).
func shape(res *Result) []string {
	var out []string
	for _, c := range res.Changes {
		name := c.Name
		if c.Kind == "bucket" {
			name = ""
		}
		out = append(out, c.Op+" "+c.Account+" "+c.Kind+" "+name)
	}
	return out
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func accountIDs(t *testing.T, s *servertest.Server, c servertest.Creds) map[string]string {
	t.Helper()
	out, err := s.Organizations(c).ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, a := range out.Accounts {
		ids[aws.ToString(a.Name)] = aws.ToString(a.Id)
	}
	return ids
}

// readCredentials returns the key of profile in a credentials file.
func readCredentials(t *testing.T, path, profile string) servertest.Creds {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c servertest.Creds
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := sectionName(line); ok {
			in = name == profile
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		switch k, v = strings.TrimSpace(k), strings.TrimSpace(v); {
		case in && k == "aws_access_key_id":
			c.ID = v
		case in && k == "aws_secret_access_key":
			c.Secret = v
		}
	}
	if c.ID == "" || c.Secret == "" {
		t.Fatalf("no profile %s in %s:\n%s", profile, path, data)
	}
	return c
}

// TestWorld applies examples/world.yaml: the plan, the changes, nothing the second
// time, and an organization that works as the file says.
func TestWorld(t *testing.T) {
	s := servertest.Start(t, "")
	adm := admin(t, s)
	cfg := config(s, adm)
	dir := t.TempDir()
	data, err := os.ReadFile("../../examples/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := fileIn(t, dir, "world.yaml", string(data))

	// The plan changes nothing.
	planned, plan := run(t, cfg, path, Options{DryRun: true})
	for _, want := range []string{"create organization: all features", "update organization: enable policy type SERVICE_CONTROL_POLICY",
		"create ou workloads", "create account dev: dev@world.example", "update account dev: move from root to ou workloads",
		"create [prod] role deploy", "create [prod] role deploy: inline policy reports", "create [prod] role deploy: attach ReadOnlyAccess",
		"create [management] user automation: permissions boundary automation-boundary",
		"create [management] user automation: access key (written to " + filepath.Join(dir, "world-credentials") + " [automation])",
		"create [management] group operators: add member automation",
		"create scp deny-gpu-instances", "create scp deny-gpu-instances: attach to ou workloads"} {
		if !slices.Contains(planned, want) {
			t.Errorf("the plan lacks %q:\n%s", want, strings.Join(planned, "\n"))
		}
	}
	if _, err := s.Organizations(adm).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); code(err) != "AWSOrganizationsNotInUseException" {
		t.Fatalf("the dry run created the organization: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "world-credentials")); err == nil {
		t.Fatal("the dry run wrote a credentials file")
	}

	t.Log("plan:\n" + strings.Join(planned, "\n"))
	// The changes are the plan's.
	made, res := run(t, cfg, path, Options{})
	if !slices.Equal(shape(plan), shape(res)) {
		t.Errorf("the changes differ from the plan:\nplan:\n%s\nmade:\n%s", strings.Join(planned, "\n"), strings.Join(made, "\n"))
	}
	t.Log("made:\n" + strings.Join(made, "\n"))
	if len(res.Keys) != 1 || res.Keys[0].Profile != "automation" {
		t.Fatalf("keys: %+v", res.Keys)
	}
	credFile := filepath.Join(dir, "world-credentials")
	if st, err := os.Stat(credFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", st, err)
	}

	// Again: nothing to do, for the plan and the run.
	if again, _ := run(t, cfg, path, Options{DryRun: true}); len(again) != 0 {
		t.Fatalf("second plan is not empty:\n%s", strings.Join(again, "\n"))
	}
	if again, _ := run(t, cfg, path, Options{}); len(again) != 0 {
		t.Fatalf("second apply changed:\n%s", strings.Join(again, "\n"))
	}

	ids := accountIDs(t, s, adm)
	prod, dev := ids["prod"], ids["dev"]
	if prod == "" || dev == "" || ids["playground"] == "" {
		t.Fatalf("accounts: %v", ids)
	}

	// The automation user's key works, and assumes deploy in prod only with the ExternalId.
	auto := readCredentials(t, credFile, "automation")
	deploy := "arn:aws:iam::" + prod + ":role/deploy"
	if _, err := s.STS(auto).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deploy), RoleSessionName: aws.String("test")}); code(err) != "AccessDenied" {
		t.Fatalf("assumed deploy without the ExternalId: %v", err)
	}
	out, err := s.STS(auto).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deploy), RoleSessionName: aws.String("test"), ExternalId: aws.String("world-7731")})
	if err != nil {
		t.Fatalf("assume deploy with the ExternalId: %v", err)
	}
	dc := servertest.Creds{ID: aws.ToString(out.Credentials.AccessKeyId), Secret: aws.ToString(out.Credentials.SecretAccessKey), Token: aws.ToString(out.Credentials.SessionToken)}
	role, err := s.IAM(dc).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deploy")})
	if err != nil || aws.ToInt32(role.Role.MaxSessionDuration) != 7200 || aws.ToString(role.Role.Description) == "" {
		t.Fatalf("deploy role: %+v %v", role, err)
	}

	// The boundary: the operators group grants iam:List*, the boundary does not.
	if _, err := s.IAM(auto).ListUsers(ctx, &iam.ListUsersInput{}); code(err) != "AccessDenied" {
		t.Fatalf("automation listed users through its boundary: %v", err)
	}
	if _, err := s.IAM(auto).GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Fatalf("automation may get itself: %v", err)
	}

	// The bucket and its policy: deploy may put a report.
	bucket := "reports-" + prod
	if _, err := s.S3(dc).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("r.txt"), Body: strings.NewReader("ok")}); err != nil {
		t.Fatalf("deploy puts a report: %v", err)
	}
	pol, err := s.S3(dc).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), "DeployRoleOnly") {
		t.Fatalf("bucket policy: %v %v", pol, err)
	}

	// The SCP: no GPU instances in dev (workloads), micro ones allowed; none in playground.
	runAs := func(account, typ string) error {
		out, err := s.STS(adm).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("test")})
		if err != nil {
			t.Fatal(err)
		}
		c := servertest.Creds{ID: aws.ToString(out.Credentials.AccessKeyId), Secret: aws.ToString(out.Credentials.SecretAccessKey), Token: aws.ToString(out.Credentials.SessionToken)}
		_, err = s.EC2(c).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a1f2e3d4c5b6a701"), InstanceType: ec2types.InstanceType(typ),
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
		return err
	}
	if err := runAs(dev, "g5.xlarge"); code(err) != "UnauthorizedOperation" {
		t.Fatalf("a GPU instance in dev: %v", err)
	}
	if err := runAs(dev, "t3.micro"); err != nil {
		t.Fatalf("a micro instance in dev: %v", err)
	}
	if err := runAs(ids["playground"], "g5.xlarge"); err != nil {
		t.Fatalf("a GPU instance in the sandbox: %v", err)
	}
}

const updateV1 = `
ous: [{name: a}, {name: b}]
accounts:
  - name: dev
    email: dev@update.example
    ou: a
    policies:
      - name: boundary
        document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:*", Resource: "*"}]}
    users:
      - name: alice
        permissionsBoundary: boundary
    groups:
      - name: devs
        members: [alice]
        inlinePolicies:
          read: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:Get*", Resource: "*"}]}
    roles:
      - name: ci
        trustPolicy:
          Version: "2012-10-17"
          Statement: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::${account:management}:root"}, Action: sts:AssumeRole}]
        inlinePolicies:
          one: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:ListBucket", Resource: "*"}]}
          two: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ec2:Describe*", Resource: "*"}]}
        managedPolicies: [ReadOnlyAccess]
    buckets:
      - name: data-${account:self}
        policy:
          Version: "2012-10-17"
          Statement: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::${account:self}:role/ci"}, Action: "s3:GetObject", Resource: "arn:aws:s3:::data-${account:self}/*"}]
scps:
  - name: deny-leave
    document: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "organizations:LeaveOrganization", Resource: "*"}]}
    targets: {ous: [a]}
`

const updateV2 = `
ous: [{name: a}, {name: b}]
accounts:
  - name: dev
    email: dev@update.example
    ou: b
    policies:
      - name: boundary
        document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ["s3:*", "ec2:*"], Resource: "*"}]}
    users:
      - name: alice
      - name: bob
    groups:
      - name: devs
        inlinePolicies:
          read: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:Get*", Resource: "*"}]}
    roles:
      - name: ci
        trustPolicy:
          Version: "2012-10-17"
          Statement: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::${account:management}:root"}, Action: sts:AssumeRole,
                       Condition: {StringEquals: {sts:ExternalId: x-1}}}]
        inlinePolicies:
          one: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ["s3:ListBucket", "s3:GetObject"], Resource: "*"}]}
        managedPolicies: [PowerUserAccess]
    buckets:
      - name: data-${account:self}
scps:
  - name: deny-leave
    document: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "organizations:LeaveOrganization", Resource: "*"}]}
    targets: {ous: [b]}
`

// TestUpdate changes a file and checks that apply changes exactly what changed, puts
// declared entities back as the file says, and leaves alone what the file does not
// declare.
func TestUpdate(t *testing.T) {
	s := servertest.Start(t, "")
	adm := admin(t, s)
	cfg := config(s, adm)
	dir := t.TempDir()
	v1 := fileIn(t, dir, "v1.yaml", updateV1)
	v2 := fileIn(t, dir, "v2.yaml", updateV2)
	run(t, cfg, v1, Options{})
	dev := accountIDs(t, s, adm)["dev"]

	// Changes made by hand: one to an entity the file declares, one to an entity it
	// does not, and an extra SCP attachment.
	out, err := s.STS(adm).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + dev + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("test")})
	if err != nil {
		t.Fatal(err)
	}
	in := s.IAM(servertest.Creds{ID: aws.ToString(out.Credentials.AccessKeyId), Secret: aws.ToString(out.Credentials.SecretAccessKey), Token: aws.ToString(out.Credentials.SessionToken)})
	doc := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`)
	must(t, func() error {
		_, err := in.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String("manual"), PolicyDocument: doc})
		return err
	})
	must(t, func() error {
		_, err := in.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("outsider")})
		return err
	})
	must(t, func() error {
		_, err := in.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("outsider"), PolicyName: aws.String("manual"), PolicyDocument: doc})
		return err
	})
	org := s.Organizations(adm)
	var policyID, ouB string
	pols, _ := org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: "SERVICE_CONTROL_POLICY"})
	for _, p := range pols.Policies {
		if aws.ToString(p.Name) == "deny-leave" {
			policyID = aws.ToString(p.Id)
		}
	}
	roots, _ := org.ListRoots(ctx, &organizations.ListRootsInput{})
	ous, _ := org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: roots.Roots[0].Id})
	for _, ou := range ous.OrganizationalUnits {
		if aws.ToString(ou.Name) == "b" {
			ouB = aws.ToString(ou.Id)
		}
	}
	must(t, func() error {
		_, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(policyID), TargetId: aws.String(ouB)})
		return err
	})

	// v1 again: the declared role and SCP are put back; the outsider is left alone.
	got, _ := run(t, cfg, v1, Options{})
	want := []string{
		"delete [dev] role ci: inline policy manual",
		"delete scp deny-leave: detach from ou b",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("v1 again:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := in.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("outsider"), PolicyName: aws.String("manual")}); err != nil {
		t.Fatalf("the undeclared user lost its policy: %v", err)
	}

	// v2: the plan, then the same changes, then nothing.
	want = []string{
		"update account dev: move from ou a to ou b",
		"update [dev] policy boundary: new default version",
		"delete [dev] user alice: permissions boundary boundary",
		"create [dev] user bob",
		"delete [dev] group devs: remove member alice",
		"update [dev] role ci: trust policy",
		"update [dev] role ci: inline policy one",
		"delete [dev] role ci: inline policy two",
		"delete [dev] role ci: detach ReadOnlyAccess",
		"create [dev] role ci: attach PowerUserAccess",
		"delete [dev] bucket data-" + dev + ": bucket policy",
		"create scp deny-leave: attach to ou b",
		"delete scp deny-leave: detach from ou a",
	}
	plan, _ := run(t, cfg, v2, Options{DryRun: true})
	if !slices.Equal(plan, want) {
		t.Fatalf("v2 plan:\n%s\nwant:\n%s", strings.Join(plan, "\n"), strings.Join(want, "\n"))
	}
	if again, _ := run(t, cfg, v2, Options{DryRun: true}); !slices.Equal(again, want) {
		t.Fatalf("the dry run changed something: a second plan says\n%s", strings.Join(again, "\n"))
	}
	if got, _ := run(t, cfg, v2, Options{}); !slices.Equal(got, want) {
		t.Fatalf("v2:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, _ := run(t, cfg, v2, Options{}); len(got) != 0 {
		t.Fatalf("v2 again:\n%s", strings.Join(got, "\n"))
	}
	if _, err := in.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("outsider")}); err != nil {
		t.Fatalf("the undeclared user is gone: %v", err)
	}
	// The new trust policy holds: the ExternalId is now required.
	if _, err := s.STS(adm).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + dev + ":role/ci"), RoleSessionName: aws.String("test")}); code(err) != "AccessDenied" {
		t.Fatalf("ci without the ExternalId: %v", err)
	}
	if _, err := s.STS(adm).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + dev + ":role/ci"), RoleSessionName: aws.String("test"), ExternalId: aws.String("x-1")}); err != nil {
		t.Fatalf("ci with the ExternalId: %v", err)
	}
}

// TestPolicyVersions updates a managed policy more often than IAM keeps versions.
func TestPolicyVersions(t *testing.T) {
	s := servertest.Start(t, "")
	cfg := config(s, admin(t, s))
	dir := t.TempDir()
	for i := range 7 {
		path := fileIn(t, dir, "p.yaml", `
management:
  policies:
    - name: p
      document: {Version: "2012-10-17", Statement: [{Sid: S`+string(rune('a'+i))+`, Effect: Allow, Action: "s3:GetObject", Resource: "*"}]}
`)
		got, _ := run(t, cfg, path, Options{})
		if len(got) != 1 {
			t.Fatalf("round %d: %v", i, got)
		}
		if i >= 5 && !strings.Contains(got[0], "deleted: IAM keeps five") {
			t.Fatalf("round %d: %v", i, got)
		}
	}
	out, err := s.IAM(servertest.Root).ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String("arn:aws:iam::111111111111:policy/p")})
	if err != nil || len(out.Versions) != 5 {
		t.Fatalf("versions: %v %v", out, err)
	}
}

// TestExamplesApply applies every example to a new server twice: the second time
// changes nothing. bootstrap.yaml runs as the root user, as it says.
func TestExamplesApply(t *testing.T) {
	files, _ := filepath.Glob("../../examples/apply/*.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := servertest.Start(t, "")
			creds := servertest.Root
			if filepath.Base(f) != "bootstrap.yaml" {
				creds = admin(t, s)
			}
			o := Options{CredentialsFile: filepath.Join(t.TempDir(), "credentials")}
			first, _ := run(t, config(s, creds), f, o)
			t.Log("\n" + strings.Join(first, "\n"))
			if len(first) == 0 {
				t.Fatal("nothing done")
			}
			if again, _ := run(t, config(s, creds), f, o); len(again) != 0 {
				t.Fatalf("second apply changed:\n%s", strings.Join(again, "\n"))
			}
		})
	}
}

// TestExistingAccounts: an account made by hand is found by its email and placed; one
// whose name and email disagree with the file stops apply at its declaration.
func TestExistingAccounts(t *testing.T) {
	s := servertest.Start(t, "")
	adm := admin(t, s)
	cfg := config(s, adm)
	org := s.Organizations(adm)
	must(t, func() error {
		_, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: "ALL"})
		return err
	})
	must(t, func() error {
		_, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("legacy"), Email: aws.String("legacy@example.com")})
		return err
	})
	dir := t.TempDir()
	got, _ := run(t, cfg, fileIn(t, dir, "a.yaml", `
ous: [{name: old}]
accounts: [{name: legacy, email: LEGACY@example.com, ou: old}]
`), Options{})
	want := []string{"create ou old", "update account legacy: move from root to ou old"}
	if !slices.Equal(got, want) {
		t.Fatalf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	w, err := Parse(filepath.Join(dir, "b.yaml"), []byte("accounts:\n  - name: legacy\n    email: other@example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, cfg, w, Options{})
	if err == nil || !strings.Contains(err.Error(), "b.yaml:2: accounts[0]: account legacy: account ") ||
		!strings.Contains(err.Error(), `is named "legacy" with email legacy@example.com, and apply cannot change either`) {
		t.Fatalf("%v", err)
	}
}
