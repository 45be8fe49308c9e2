package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// explainWorld is an organization with SCPs on: in the management account an
// administrator (whose key is in the environment), alice (may assume any role) and
// nobody (no policies); in the member account dev, user bob, a deny-S3 SCP, and roles
// audit (trusts alice with an ExternalId), first (trusts alice) and second (trusts
// first).
type explainWorld struct {
	s     *servertest.Server
	dev   string
	alice servertest.Creds
}

func newExplainWorld(t *testing.T) *explainWorld {
	t.Helper()
	s := servertest.Start(t, "")
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	org := s.Organizations(servertest.Root)
	must(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	must(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: roots.Roots[0].Id, PolicyType: orgtypes.PolicyTypeServiceControlPolicy}))
	created, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: created.CreateAccountStatus.Id})
	if err != nil {
		t.Fatal(err)
	}
	w := &explainWorld{s: s, dev: aws.ToString(st.CreateAccountStatus.AccountId)}

	mgmt := s.IAM(servertest.Root)
	key := func(c *iam.Client, user string) servertest.Creds {
		k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		return servertest.Creds{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
	}
	for _, u := range []string{"admin", "alice", "nobody"} {
		must(mgmt.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
	}
	must(mgmt.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	must(mgmt.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}))
	admin := key(mgmt, "admin")
	w.alice = key(mgmt, "alice")

	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(admin.ID, admin.Secret, ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + w.dev + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("setup")})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	dev := iam.NewFromConfig(cfg)
	must(dev.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	must(dev.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("work"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"},` +
			`{"Sid":"Office","Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)}))
	trust := func(principal, cond string) *string {
		if cond != "" {
			cond = `,"Condition":` + cond
		}
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"` + cond + `}]}`)
	}
	must(dev.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("audit"), AssumeRolePolicyDocument: trust("arn:aws:iam::111111111111:user/alice", `{"StringEquals":{"sts:ExternalId":"x-1"}}`)}))
	must(dev.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("first"), AssumeRolePolicyDocument: trust("arn:aws:iam::111111111111:user/alice", "")}))
	must(dev.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("first"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}))
	must(dev.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("second"), AssumeRolePolicyDocument: trust("arn:aws:iam::"+w.dev+":role/first", "")}))
	scp, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("deny-logs"), Description: aws.String("no logs"),
		Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"NoLogs","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::logs*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	must(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: scp.Policy.PolicySummary.Id, TargetId: aws.String(w.dev)}))
	credsEnv(t, admin.ID, admin.Secret)
	return w
}

// step is one run of the command line: its arguments, exit status and what its
// output must hold.
type step struct {
	args       []string
	code       int
	stdout     []string
	stderr     []string
	notStdout  []string
	checkJSON  func(t *testing.T, out []byte)
	oneLineErr bool
}

func runSteps(t *testing.T, url string, steps []step) {
	t.Helper()
	for _, st := range steps {
		args := append([]string{}, st.args...)
		if len(args) > 0 && args[0] != "--help" && !contains(args, "--help") {
			args = append(args, "--endpoint-url", url)
		}
		var out, errOut bytes.Buffer
		code := Main(args, nil, &out, &errOut)
		name := strings.Join(st.args, " ")
		if code != st.code {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, st.code, out.String(), errOut.String())
			continue
		}
		for _, w := range st.stdout {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: stdout lacks %q:\n%s", name, w, out.String())
			}
		}
		for _, w := range st.notStdout {
			if strings.Contains(out.String(), w) {
				t.Errorf("%s: stdout has %q:\n%s", name, w, out.String())
			}
		}
		for _, w := range st.stderr {
			if !strings.Contains(errOut.String(), w) {
				t.Errorf("%s: stderr lacks %q:\n%s", name, w, errOut.String())
			}
		}
		if st.oneLineErr && strings.Count(strings.TrimRight(errOut.String(), "\n"), "\n") != 0 {
			t.Errorf("%s: the error is not one line:\n%s", name, errOut.String())
		}
		if strings.Contains(out.String(), "\x1b[") {
			t.Errorf("%s: colours outside a terminal", name)
		}
		if st.checkJSON != nil {
			st.checkJSON(t, out.Bytes())
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestExplainCommand(t *testing.T) {
	w := newExplainWorld(t)
	bob := "arn:aws:iam::" + w.dev + ":user/bob"
	runSteps(t, w.s.URL, []step{
		{args: []string{"explain", "--principal", bob, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::data/x", "--resource-account", w.dev},
			stdout: []string{"decision: allowed", `inline policy "work" of user bob`, `statement 0 (Sid "S3")  Allow  applies`, "SCP deny-logs"}},
		// An explicit deny by an SCP, named with its statement.
		{args: []string{"explain", "--principal", bob, "--action", "s3:PutObject", "--resource", "arn:aws:s3:::logs-2024/x", "--resource-account", w.dev},
			stdout: []string{"decision: explicitDeny", "because:  explicit deny in a service control policy", `statement 0 (Sid "NoLogs") of SCP deny-logs`, "applies: denies"}},
		{args: []string{"explain", "--json", "--principal", bob, "--action", "s3:PutObject", "--resource", "arn:aws:s3:::logs-2024/x", "--resource-account", w.dev},
			checkJSON: func(t *testing.T, out []byte) {
				var tree struct {
					Decision string
					Layers   []struct {
						Layer, Verdict string
						Levels         []struct {
							Verdict  string
							Policies []struct {
								Name       string
								Statements []struct {
									Sid     string
									Applies bool
								}
							}
						}
					}
				}
				if err := json.Unmarshal(out, &tree); err != nil || tree.Decision != "explicitDeny" || tree.Layers[0].Layer != "scp" || tree.Layers[0].Verdict != "denies" {
					t.Fatalf("--json: %v %s", err, out)
				}
				lv := tree.Layers[0].Levels[1]
				found := false
				for _, p := range lv.Policies {
					found = found || p.Name == "deny-logs" && p.Statements[0].Sid == "NoLogs" && p.Statements[0].Applies
				}
				if lv.Verdict != "denies" || !found {
					t.Fatalf("--json account level: %+v", lv)
				}
			}},
		// An implicit deny: a condition fails, with the request's value.
		{args: []string{"explain", "--principal", bob, "--action", "ec2:RunInstances", "--resource", "*", "--context", "aws:SourceIp=192.0.2.7"},
			stdout: []string{"decision: implicitDeny", "no identity-based policy allows ec2:RunInstances",
				`statement 1 (Sid "Office") of inline policy "work" of user bob does not apply: Condition: IpAddress aws:SourceIp "10.0.0.0/8": the request has "192.0.2.7"`}},
		{args: []string{"explain", "--principal", bob, "--action", "ec2:RunInstances", "--resource", "*", "--context", "aws:SourceIp=10.1.2.3"},
			stdout: []string{"decision: allowed"}},
		// Errors: one line, with AWS's code, and the command that explains a denial.
		{args: []string{"explain", "--principal", "arn:aws:iam::" + w.dev + ":user/ghost", "--action", "s3:GetObject", "--resource", "*"},
			code: 1, stderr: []string{"NoSuchEntity", "ghost"}, oneLineErr: true},
		{args: []string{"explain", "--principal", bob, "--resource", "*"}, code: 2, stderr: []string{"--action and --resource are required"}, oneLineErr: true},
		{args: []string{"explain", "--principal", bob, "--action", "s3:GetObject", "--resource", "*", "--context", "novalue"}, code: 2, stderr: []string{"want KEY=VALUE"}},
		{args: []string{"explain", "--help"}, stdout: []string{"Examples:", "iamlocal explain --principal", "--source-vpce"}},
	})

	// As alice, who may not read IAM: AWS's AccessDenied, and the hint.
	credsEnv(t, w.alice.ID, w.alice.Secret)
	runSteps(t, w.s.URL, []step{
		{args: []string{"explain", "--action", "s3:GetObject", "--resource", "*"}, code: 1, oneLineErr: true,
			stderr: []string{"AccessDenied", "iamlocal doctor call --principal arn:aws:iam::111111111111:user/alice --action iam:GetUser --resource arn:aws:iam::111111111111:user/alice"}},
	})
}

func TestDoctorCommand(t *testing.T) {
	w := newExplainWorld(t)
	alice := "arn:aws:iam::111111111111:user/alice"
	role := func(name string) string { return "arn:aws:iam::" + w.dev + ":role/" + name }
	runSteps(t, w.s.URL, []step{
		{args: []string{"doctor", "assume-role", "--principal", alice, "--role-arn", role("audit"), "--external-id", "x-1"},
			stdout: []string{"ok    ExternalId", "ok    decision"}, notStdout: []string{"FAIL"}},
		{args: []string{"doctor", "assume-role", "--principal", alice, "--role-arn", role("audit")}, code: 1,
			stdout: []string{"FAIL  ExternalId", `requires StringEquals sts:ExternalId "x-1"; the request has none`, "fix: pass the ExternalId"},
			stderr: []string{"sts:AssumeRole would be denied (implicitDeny): failed: ExternalId"}, oneLineErr: true},
		{args: []string{"doctor", "assume-role", "--principal", alice, "--role-arn", role("missing")}, code: 1,
			stdout: []string{"FAIL  role exists", "aws iam create-role --role-name missing", `"AWS": "` + alice + `"`}},
		{args: []string{"doctor", "assume-role", "--principal", "arn:aws:iam::111111111111:user/nobody", "--role-arn", role("OrganizationAccountAccessRole")}, code: 1,
			stdout: []string{"FAIL  identity policy allows sts:AssumeRole", "aws iam put-user-policy --user-name nobody", `"Resource": "` + role("OrganizationAccountAccessRole") + `"`}},
		{args: []string{"doctor", "assume-role", "--principal", alice, "--role-arn", role("second")}, code: 1,
			stdout: []string{"FAIL  trust policy allows the caller", "aws iam update-assume-role-policy --role-name second"}},
		{args: []string{"doctor", "assume-role", "--principal", alice, "--role-arn", role("first"), "--duration", "2h"}, code: 1,
			stdout: []string{"FAIL  MaxSessionDuration", "--max-session-duration 7200"}},
		{args: []string{"doctor", "assume-role", "--json", "--principal", alice, "--role-arn", role("audit")}, code: 1,
			checkJSON: func(t *testing.T, out []byte) {
				var r struct {
					Decision string
					Checks   []struct{ Check, Status, Fix string }
				}
				if err := json.Unmarshal(out, &r); err != nil || r.Decision != "implicitDeny" {
					t.Fatalf("--json: %v %s", err, out)
				}
				for _, c := range r.Checks {
					if c.Check == "ExternalId" && (c.Status != "fail" || c.Fix == "") {
						t.Fatalf("--json ExternalId check: %+v", c)
					}
				}
			}},
		{args: []string{"doctor", "assume-role", "--role-arn", "not-an-arn"}, code: 2, stderr: []string{"want arn:aws:iam::ACCOUNT:role/NAME"}, oneLineErr: true},
		{args: []string{"doctor", "assume-role"}, code: 2, stderr: []string{"--role-arn is required"}},
		{args: []string{"doctor", "call", "--principal", "arn:aws:iam::" + w.dev + ":user/bob", "--action", "s3:PutObject", "--resource", "arn:aws:s3:::logs/x", "--resource-account", w.dev}, code: 1,
			stdout: []string{"FAIL  SCPs of the caller's account " + w.dev, `statement 0 (Sid "NoLogs") of SCP deny-logs`, `"ArnNotEquals"`}},
		{args: []string{"doctor", "call", "--principal", "arn:aws:iam::" + w.dev + ":user/bob", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::data/x", "--resource-account", w.dev},
			notStdout: []string{"FAIL"}},
		{args: []string{"doctor", "--help"}, stdout: []string{"assume-role", "call", "Examples:"}},
		{args: []string{"doctor", "assume-role", "--help"}, stdout: []string{"Examples:", "--external-id"}},
	})
	// The caller by default: alice herself may not read IAM, so the doctor says so.
	credsEnv(t, w.alice.ID, w.alice.Secret)
	runSteps(t, w.s.URL, []step{
		{args: []string{"doctor", "assume-role", "--role-arn", role("first")}, code: 1, oneLineErr: true, stderr: []string{"AccessDenied"}},
	})
}

func TestGraphCommand(t *testing.T) {
	w := newExplainWorld(t)
	alice := "arn:aws:iam::111111111111:user/alice"
	role := func(name string) string { return "arn:aws:iam::" + w.dev + ":role/" + name }
	runSteps(t, w.s.URL, []step{
		{args: []string{"graph"}, stdout: []string{"accounts: 111111111111 (management), " + w.dev + " (dev)", alice + "\n",
			"  → " + role("audit") + `  if StringEquals sts:ExternalId "x-1"`, "  → " + role("second")},
			notStdout: []string{"user/nobody\n"}},
		{args: []string{"graph", "--to", role("second")}, stdout: []string{"who can reach " + role("second"), alice + "\n    → " + role("first") + "  (names the caller)\n    → " + role("second")}},
		{args: []string{"graph", "--format", "dot"}, stdout: []string{"digraph iamlocal {", `[label="StringEquals sts:ExternalId \"x-1\""]`}},
		{args: []string{"graph", "--format", "mermaid", "--to", role("second")}, stdout: []string{"flowchart LR", "-->"}},
		{args: []string{"graph", "--format", "json"}, checkJSON: func(t *testing.T, out []byte) {
			var g struct {
				Edges []struct {
					From, To   string
					Conditions []string
				}
			}
			if err := json.Unmarshal(out, &g); err != nil || len(g.Edges) == 0 {
				t.Fatalf("--format json: %v %s", err, out)
			}
		}},
		{args: []string{"graph", "--format", "svg"}, code: 2, stderr: []string{"want text, dot, mermaid, json"}},
		{args: []string{"graph", "--to", role("nope")}, code: 2, stderr: []string{"not a role of the accounts read"}},
		{args: []string{"graph", "--help"}, stdout: []string{"Examples:", "--to"}},
	})
}
