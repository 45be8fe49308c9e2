package explain_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/explain"
)

// fake is an in-memory Source.
type fake struct {
	caller      explain.Identity
	org         *explain.Org
	accounts    []explain.Account
	parents     map[string][]explain.Target
	orgPolicies map[string][]explain.Doc // "target/type"
	users       map[string]*explain.Entity
	roles       map[string]*explain.Entity // "account/name"
	buckets     map[string][]string
	bucketPols  map[string]string
	endpoints   map[string]string
}

func notFound(what string) error { return fmt.Errorf("%s: %w", what, explain.ErrNotFound) }

func (f *fake) CallerIdentity(context.Context) (*explain.Identity, error) { return &f.caller, nil }
func (f *fake) Organization(context.Context) (*explain.Org, error)        { return f.org, nil }
func (f *fake) Accounts(context.Context) ([]explain.Account, error)       { return f.accounts, nil }
func (f *fake) Parents(_ context.Context, a string) ([]explain.Target, error) {
	return f.parents[a], nil
}
func (f *fake) OrgPolicies(_ context.Context, target, typ string) ([]explain.Doc, error) {
	return f.orgPolicies[target+"/"+typ], nil
}
func (f *fake) User(_ context.Context, a, n string) (*explain.Entity, error) {
	if u, ok := f.users[a+"/"+n]; ok {
		return u, nil
	}
	return nil, notFound("user " + n)
}
func (f *fake) Role(_ context.Context, a, n string) (*explain.Entity, error) {
	if r, ok := f.roles[a+"/"+n]; ok {
		return r, nil
	}
	return nil, notFound("role " + n)
}
func (f *fake) Details(_ context.Context, a string) (*explain.Details, error) {
	d := &explain.Details{Account: a}
	for k, u := range f.users {
		if strings.HasPrefix(k, a+"/") {
			d.Users = append(d.Users, u)
		}
	}
	for k, r := range f.roles {
		if strings.HasPrefix(k, a+"/") {
			d.Roles = append(d.Roles, r)
		}
	}
	return d, nil
}
func (f *fake) Buckets(_ context.Context, a string) ([]string, error) { return f.buckets[a], nil }
func (f *fake) BucketPolicy(_ context.Context, a, b string) (string, error) {
	for _, n := range f.buckets[a] {
		if n == b {
			return f.bucketPols[b], nil
		}
	}
	return "", notFound("bucket " + b)
}
func (f *fake) EndpointPolicy(_ context.Context, a, id string) (string, error) {
	if d, ok := f.endpoints[id]; ok {
		return d, nil
	}
	return "", notFound("endpoint " + id)
}

const (
	acctA = "111111111111" // management
	acctB = "222222222222" // member, under OU ou-prod
)

const fullAccess = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// newFake: an organization with A (management) and B under an OU; SCPs on. User
// carol in B has an inline policy and a boundary.
func newFake() *fake {
	f := &fake{
		caller:   explain.Identity{Arn: "arn:aws:iam::" + acctA + ":user/admin", Account: acctA},
		org:      &explain.Org{ID: "o-abc", ManagementAccount: acctA, RootID: "r-1", EnabledTypes: []string{explain.SCPType}},
		accounts: []explain.Account{{ID: acctA, Name: "mgmt"}, {ID: acctB, Name: "prod"}},
		parents: map[string][]explain.Target{acctA: {{ID: "r-1", Kind: "root", Name: "Root"}},
			acctB: {{ID: "r-1", Kind: "root", Name: "Root"}, {ID: "ou-prod", Kind: "ou", Name: "prod"}}},
		orgPolicies: map[string][]explain.Doc{},
		users:       map[string]*explain.Entity{},
		roles:       map[string]*explain.Entity{},
		buckets:     map[string][]string{},
		bucketPols:  map[string]string{},
		endpoints:   map[string]string{},
	}
	full := explain.Doc{Name: "FullAWSAccess", ID: "p-FullAWSAccess", Text: fullAccess}
	for _, t := range []string{"r-1", "ou-prod", acctA, acctB} {
		f.orgPolicies[t+"/"+explain.SCPType] = []explain.Doc{full}
	}
	f.users[acctB+"/carol"] = &explain.Entity{Kind: "user", Account: acctB, Name: "carol", Arn: "arn:aws:iam::" + acctB + ":user/carol", ID: "AIDACAROL",
		Inline:   []explain.Doc{{Name: "work", Text: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","ec2:*"],"Resource":"*"}]}`}},
		Boundary: &explain.Doc{Name: "s3-only", ARN: "arn:aws:iam::" + acctB + ":policy/s3-only", Text: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`},
		Tags:     []explain.Tag{{Key: "team", Value: "red"}}}
	return f
}

func gather(t *testing.T, f *fake, q explain.Query) (*explain.Tree, string) {
	t.Helper()
	return explainText(t, f, q)
}

func TestFakeBoundaryAndEndpoint(t *testing.T) {
	f := newFake()
	carol := "arn:aws:iam::" + acctB + ":user/carol"
	tree, text := gather(t, f, explain.Query{Principal: carol, Action: "ec2:RunInstances", Resource: "*"})
	if tree.Decision != "implicitDeny" || strings.Join(tree.BlockedBy, ",") != "permissionsBoundary" {
		t.Fatalf("boundary: %s %v\n%s", tree.Decision, tree.BlockedBy, text)
	}
	wantAll(t, text, "the permissions boundary never allows ec2:RunInstances", "permissions boundary s3-only of user carol", "aws:principaltag/team = red", "aws:principalorgpaths = o-abc/r-1/ou-prod/")

	// Through a VPC endpoint whose policy allows only one bucket.
	f.endpoints["vpce-1"] = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::allowed/*"}]}`
	tree, text = gather(t, f, explain.Query{Principal: carol, Action: "s3:GetObject", Resource: "arn:aws:s3:::other/k", SourceVpce: "vpce-1",
		ResourceAccount: acctB, Context: map[string][]string{"aws:SourceIp": {"10.0.0.1"}}})
	if tree.Decision != "implicitDeny" || strings.Join(tree.BlockedBy, ",") != "endpoint" {
		t.Fatalf("endpoint: %s %v\n%s", tree.Decision, tree.BlockedBy, text)
	}
	wantAll(t, text, "policy of VPC endpoint vpce-1", "aws:sourcevpce = vpce-1", `Resource: arn:aws:s3:::other/k does not match "arn:aws:s3:::allowed/*"`)
	if strings.Contains(text, "aws:sourceip") {
		t.Errorf("aws:SourceIp kept through a VPC endpoint:\n%s", text)
	}
	r, err := explain.DoctorCall(ctx, f, explain.Query{Principal: carol, Action: "s3:GetObject", Resource: "arn:aws:s3:::other/k", SourceVpce: "vpce-1", ResourceAccount: acctB})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteReport(&buf, r, explain.Painter{})
	c := onlyFailure(t, r, buf.String(), "VPC endpoint policy")
	wantAll(t, c.Fix, "aws ec2 modify-vpc-endpoint --vpc-endpoint-id vpce-1")
	wantAll(t, c.FixPolicy, `"Principal": "*"`, `"Resource": "arn:aws:s3:::other/k"`)

	if _, err := explain.Gather(ctx, f, explain.Query{Principal: carol, Action: "s3:GetObject", Resource: "*", SourceVpce: "vpce-nope"}); err == nil || !strings.Contains(err.Error(), "vpce-nope") {
		t.Fatalf("unknown endpoint: %v", err)
	}
}

func TestFakeSCPMissingAtOULevel(t *testing.T) {
	f := newFake()
	f.orgPolicies["ou-prod/"+explain.SCPType] = []explain.Doc{{Name: "s3-only", ID: "p-s3", Text: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}}
	f.users[acctB+"/carol"].Boundary = nil
	carol := "arn:aws:iam::" + acctB + ":user/carol"
	tree, text := gather(t, f, explain.Query{Principal: carol, Action: "ec2:RunInstances", Resource: "*"})
	if tree.Decision != "implicitDeny" || strings.Join(tree.BlockedBy, ",") != "scp" {
		t.Fatalf("%s %v\n%s", tree.Decision, tree.BlockedBy, text)
	}
	wantAll(t, text, "no service control policy at the OU level 1 allows ec2:RunInstances", "level 1: OU prod (ou-prod) — does not allow")
	r, err := explain.DoctorCall(ctx, f, explain.Query{Principal: carol, Action: "ec2:RunInstances", Resource: "*"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteReport(&buf, r, explain.Painter{})
	c := onlyFailure(t, r, buf.String(), "SCPs of the caller's account")
	wantAll(t, c.Fix, "attach a policy like this one to ou-prod", "--target-id ou-prod")
	wantAll(t, c.FixPolicy, `"Action": "ec2:RunInstances"`)
}

func TestFakeRolePathAndSessionPolicy(t *testing.T) {
	f := newFake()
	f.roles[acctB+"/deploy"] = &explain.Entity{Kind: "role", Account: acctB, Name: "deploy", Arn: "arn:aws:iam::" + acctB + ":role/ci/deploy", ID: "AROADEPLOY",
		Path: "/ci/", Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctB + `:user/carol"},"Action":"sts:AssumeRole"}]}`,
		MaxSessionDuration: 3600, Inline: []explain.Doc{{Name: "s3", Text: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}}}
	carol := "arn:aws:iam::" + acctB + ":user/carol"
	r, err := explain.DoctorAssumeRole(ctx, f, explain.AssumeQuery{Principal: carol, RoleArn: "arn:aws:iam::" + acctB + ":role/deploy"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteReport(&buf, r, explain.Painter{})
	c := onlyFailure(t, r, buf.String(), "role exists")
	wantAll(t, c.Fix, "--role-arn arn:aws:iam::"+acctB+":role/ci/deploy")

	// A role session, limited by the session policy it was given.
	tree, text := gather(t, f, explain.Query{Principal: "arn:aws:sts::" + acctB + ":assumed-role/deploy/s1", Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k",
		ResourceAccount: acctB, SessionPolicies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`}})
	if tree.Decision != "implicitDeny" || strings.Join(tree.BlockedBy, ",") != "session" {
		t.Fatalf("%s %v\n%s", tree.Decision, tree.BlockedBy, text)
	}
	wantAll(t, text, "aws:userid = AROADEPLOY:s1", "session policy 1")
}

func TestFakeMemberWithoutOrgAccess(t *testing.T) {
	f := newFake()
	f.org.Unreadable = "organizations ListRoots: AccessDeniedException: not the management account"
	tree, text := gather(t, f, explain.Query{Principal: "arn:aws:iam::" + acctB + ":user/carol", Action: "s3:GetObject", Resource: "*"})
	if tree.Decision != "allowed" || len(tree.Warnings) == 0 {
		t.Fatalf("%s %v\n%s", tree.Decision, tree.Warnings, text)
	}
	wantAll(t, text, "warning: the organization's policies could not be read", "SCP      service control policies of account "+acctB+" — none")
}

func TestFakeGraphExternalAndConditions(t *testing.T) {
	f := newFake()
	f.users[acctA+"/ops"] = &explain.Entity{Kind: "user", Account: acctA, Name: "ops", Arn: "arn:aws:iam::" + acctA + ":user/ops",
		Inline: []explain.Doc{{Name: "a", Text: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`}}}
	f.roles[acctB+"/admin"] = &explain.Entity{Kind: "role", Account: acctB, Name: "admin", Arn: "arn:aws:iam::" + acctB + ":role/admin",
		Trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}},` +
			`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-other"}}}]}`}
	g, err := explain.BuildGraph(ctx, f, explain.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteGraphText(&buf, g, explain.Painter{})
	e, ok := findEdge(g, "arn:aws:iam::"+acctA+":user/ops", "arn:aws:iam::"+acctB+":role/admin")
	if !ok || strings.Join(e.Conditions, "; ") != `StringEquals aws:PrincipalOrgID "o-abc"; Bool aws:MultiFactorAuthPresent "true"` {
		t.Fatalf("ops → admin: %+v %v\n%s", e, ok, buf.String())
	}
	if e, ok := findEdge(g, "*", "arn:aws:iam::"+acctB+":role/admin"); !ok || !strings.Contains(strings.Join(e.Conditions, ""), "o-other") {
		t.Fatalf("anyone → admin: %+v %v\n%s", e, ok, buf.String())
	}
	// carol's identity policy has no sts:AssumeRole: no edge.
	if _, ok := findEdge(g, "arn:aws:iam::"+acctB+":user/carol", "arn:aws:iam::"+acctB+":role/admin"); ok {
		t.Fatalf("carol → admin:\n%s", buf.String())
	}
}

func TestPainter(t *testing.T) {
	if got := (explain.Painter{}).Red("x"); got != "x" {
		t.Fatalf("plain painter coloured: %q", got)
	}
	if got := (explain.Painter{On: true}).Red("x"); got != "\x1b[31mx\x1b[0m" {
		t.Fatalf("terminal painter: %q", got)
	}
}

// Issue 14: explain and doctor name the action's access level and the resource type
// the action expects, from AWS's service authorization reference: the type whose ARN
// format the resource matches, "*" for an action without resource-level permissions.
func TestFakeActionAccessLevelAndResourceType(t *testing.T) {
	f := newFake()
	carol := "arn:aws:iam::" + acctB + ":user/carol"
	tree, text := gather(t, f, explain.Query{Principal: carol, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", ResourceAccount: acctB})
	wantAll(t, text, "action:   s3:GetObject (Amazon S3): access level Read; resource type object, arn:${Partition}:s3:::${BucketName}/${ObjectName}\n")
	if i := tree.ActionInfo; i == nil || i.AccessLevel != "Read" || i.ResourceType != "object" || strings.Join(i.ResourceTypes, ",") != "accesspointobject,object" {
		t.Fatalf("actionInfo %+v", tree.ActionInfo)
	}
	_, text = gather(t, f, explain.Query{Principal: carol, Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", ResourceAccount: acctB})
	wantAll(t, text, "action:   s3:ListBucket (Amazon S3): access level List; resource type bucket, arn:${Partition}:s3:::${BucketName}\n")
	_, text = gather(t, f, explain.Query{Principal: carol, Action: "s3:ListAllMyBuckets", Resource: "*"})
	wantAll(t, text, `action:   s3:ListAllMyBuckets (Amazon S3): access level List; resource type * (no resource-level permissions: authorized on "*")`)
	_, text = gather(t, f, explain.Query{Principal: carol, Action: "s3:GetObject", Resource: "arn:aws:s3:::b", ResourceAccount: acctB})
	wantAll(t, text, "action:   s3:GetObject (Amazon S3): access level Read; the resource is none of its resource types (accesspointobject, object)")
	_, text = gather(t, f, explain.Query{Principal: carol, Action: "s3:Frobnicate", Resource: "*"})
	wantAll(t, text, "action:   s3:Frobnicate is not in AWS's service authorization reference")

	r, err := explain.DoctorCall(ctx, f, explain.Query{Principal: carol, Action: "iam:PutRolePolicy", Resource: "arn:aws:iam::" + acctB + ":role/app"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteReport(&buf, r, explain.Painter{})
	wantAll(t, buf.String(), "  action: iam:PutRolePolicy (AWS Identity and Access Management (IAM)): access level Permissions management, Write; resource type role, arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}\n")
	if r.ActionInfo == nil || r.ActionInfo.ResourceType != "role" {
		t.Fatalf("report actionInfo %+v", r.ActionInfo)
	}
	r, err = explain.DoctorCall(ctx, f, explain.Query{Principal: carol, Action: "ec2:RunInstances", Resource: "*"})
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	explain.WriteReport(&buf, r, explain.Painter{})
	wantAll(t, buf.String(), "  action: ec2:RunInstances (Amazon EC2): access level Write; resource types ", `instance, `, `(the request names "*")`)
}
