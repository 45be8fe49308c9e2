package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

const applyWorld = `credentialsFile: creds
ous: [{name: workloads}]
accounts:
  - name: dev
    email: dev@cli.example
    ou: workloads
    roles:
      - name: reader
        trustPolicy:
          Version: "2012-10-17"
          Statement: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::${account:management}:user/bot"}, Action: sts:AssumeRole,
                       Condition: {StringEquals: {sts:ExternalId: cli-1}}}]
        managedPolicies: [ReadOnlyAccess]
management:
  users:
    - name: bot
      accessKey: true
      inlinePolicies:
        assume: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: sts:AssumeRole, Resource: "*"}]}
`

// applyAdmin makes the management account's administrator and puts its key in the
// environment, as a user of apply would.
func applyAdmin(t *testing.T, s *servertest.Server) {
	t.Helper()
	ctx := t.Context()
	root := s.IAM(servertest.Root)
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("admin")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")})
	if err != nil {
		t.Fatal(err)
	}
	credsEnv(t, aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey))
}

func runApply(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	// Keys of a relative credentialsFile without a data directory go to the user's
	// config directory: a temporary one in tests.
	if os.Getenv("IAMLOCAL_TEST_CONFIG") == "" {
		t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	}
	var out, errOut bytes.Buffer
	code = Main(append([]string{"apply"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestApplyCommand(t *testing.T) {
	s := servertest.Start(t, "")
	applyAdmin(t, s)
	dir := t.TempDir()
	path := filepath.Join(dir, "world.yaml")
	if err := os.WriteFile(path, []byte(applyWorld), 0o644); err != nil {
		t.Fatal(err)
	}

	// The server's data directory: a relative credentialsFile goes under it.
	dataDir := t.TempDir()
	code, out, errOut := runApply(t, "-f", path, "--endpoint-url", s.URL, "--dry-run", "--data", dataDir)
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"plan for " + path + " (dry run: nothing is changed)", "create organization", "create account dev: dev@cli.example",
		"create [dev] role reader", "create [management] user bot: access key (written to " + filepath.Join(dataDir, "credentials", "creds") + " [bot])",
		"9 changes planned (dry run: nothing was changed)"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = runApply(t, "-f", path, "--endpoint-url", s.URL, "--dry-run", "--json")
	var plan struct {
		DryRun  bool
		Changes []struct{ Op, Account, Kind, Name, Detail string }
		Keys    []any
	}
	if err := json.Unmarshal([]byte(out), &plan); code != 0 || err != nil || !plan.DryRun || len(plan.Changes) != 9 || plan.Keys == nil {
		t.Fatalf("--json: exit %d, %v: %s %s", code, err, out, errOut)
	}

	credFile := filepath.Join(dir, "elsewhere", "credentials")
	code, out, errOut = runApply(t, "-f", path, "--endpoint-url", s.URL, "--credentials-file", credFile)
	if code != 0 {
		t.Fatalf("apply: exit %d: %s\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "9 changes made") || !strings.Contains(out, "create account dev: dev@cli.example → ") ||
		!strings.Contains(out, "new access keys are in the credentials file "+credFile+" (mode 0600), profiles bot (their secrets are not shown again)") {
		t.Fatalf("apply:\n%s", out)
	}
	data, err := os.ReadFile(credFile)
	if err != nil || !strings.Contains(string(data), "[bot]\naws_access_key_id = AKIA") {
		t.Fatalf("credentials file: %v\n%s", err, data)
	}
	if strings.Contains(out, "aws_secret_access_key") || strings.Contains(errOut, "aws_secret_access_key") {
		t.Fatal("a secret was printed")
	}

	// Again: no changes, and a note that the key's secret cannot be written (the
	// file's own credentialsFile is not where the key went).
	code, out, errOut = runApply(t, "-f", path, "--endpoint-url", s.URL, "--data", dataDir)
	if code != 0 || strings.TrimSpace(out) != "no changes" {
		t.Fatalf("second apply: exit %d:\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "note: "+path+":17: management.users[0].accessKey: user bot already has access key AKIA") {
		t.Fatalf("no note about the unwritable key: %s", errOut)
	}
	code, out, _ = runApply(t, "-f", path, "--endpoint-url", s.URL, "--credentials-file", credFile, "--dry-run")
	if code != 0 || !strings.HasSuffix(out, "\nno changes\n") {
		t.Fatalf("second dry run: exit %d:\n%s", code, out)
	}

	// The bot's key works through the AWS CLI's own credential chain, profile bot.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)
	var xo, eo bytes.Buffer
	if code := Main([]string{"export", "--endpoint-url", s.URL, "--profile", "bot", "--role-arn", "arn:aws:iam::" + accountOf(t, s, "dev") + ":role/reader",
		"--external-id", "cli-1", "--format", "json"}, nil, &xo, &eo); code != 0 {
		t.Fatalf("assume reader as bot: exit %d: %s", code, eo.String())
	}
}

// accountOf finds the id of the account named name.
func accountOf(t *testing.T, s *servertest.Server, name string) string {
	t.Helper()
	accts, err := s.Organizations(servertest.Root).ListAccounts(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts.Accounts {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Id)
		}
	}
	t.Fatalf("no account %s", name)
	return ""
}

func TestApplyFailures(t *testing.T) {
	s := servertest.Start(t, "")
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}

	t.Run("no file", func(t *testing.T) {
		if code, _, errOut := runApply(t); code != 2 || !strings.Contains(errOut, "give the file to apply with -f FILE") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("one fault", func(t *testing.T) {
		path := write("one.yaml", "accounts:\n  - name: dev\n")
		code, _, errOut := runApply(t, "-f", path, "--endpoint-url", s.URL)
		if code != 2 || errOut != "iamlocal: "+path+":2: accounts[0].email: required\n" {
			t.Fatalf("exit %d: %q", code, errOut)
		}
	})
	t.Run("several faults", func(t *testing.T) {
		path := write("two.yaml", "accounts:\n  - name: dev\n    colour: blue\n    emails: dev@example.com\n")
		code, _, errOut := runApply(t, "-f", path, "--endpoint-url", s.URL)
		if code != 2 || !strings.Contains(errOut, path+":3: accounts[0].colour: unknown field") ||
			!strings.Contains(errOut, path+":4: accounts[0].emails: unknown field") || !strings.Contains(errOut, "iamlocal: 2 faults in "+path) {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("malformed policy", func(t *testing.T) {
		path := write("policy.yaml", `management:
  roles:
    - name: r
      trustPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: "not an arn"}
            Action: sts:AssumeRole
`)
		code, _, errOut := runApply(t, "-f", path, "--endpoint-url", s.URL)
		if code != 2 || !strings.HasPrefix(errOut, "iamlocal: "+path+":8: management.roles[0].trustPolicy.Statement[0].Principal: MalformedPolicyDocument: ") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("root user", func(t *testing.T) {
		credsEnv(t, servertest.RootKeyID, servertest.RootSecret)
		path := write("root.yaml", "accounts:\n  - name: dev\n    email: dev@root.example\n    users: [{name: u}]\n")
		code, _, errOut := runApply(t, "-f", path, "--endpoint-url", s.URL)
		if code != 2 || !strings.Contains(errOut, "AWS forbids the root user") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("failed call", func(t *testing.T) {
		applyAdmin(t, s)
		path := write("call.yaml", `scps:
  - name: s
    document: {Version: "2012-10-17", Statement: [{Effect: Deny, Action: "ec2:*", Resource: "*"}]}
    targets:
      ous: [ou-abcd-12345678]
`)
		code, out, errOut := runApply(t, "-f", path, "--endpoint-url", s.URL)
		if code != 1 || !strings.Contains(errOut, path+":5: scps[0].targets.ous[0]: attach scp s to ou ou-abcd-12345678: TargetNotFoundException") ||
			!strings.Contains(out, "create scp s\n") || !strings.Contains(out, "changes made before the error") {
			t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
		}
	})
}

func TestApplyHelp(t *testing.T) {
	code, out, _ := runApply(t, "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--dry-run") || !strings.Contains(out, "docs/apply.md") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
