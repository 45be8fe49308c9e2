package apply

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestParseErrors: every fault is named by file, line and field.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"required", `
accounts:
  - name: dev
`, "t.yaml:3: accounts[0].email: required"},
		{"unknown field", `
accounts:
  - name: dev
    email: dev@example.com
    emial: dev@example.com
`, "t.yaml:5: accounts[0].emial: unknown field (known: "},
		{"unknown top-level field", `
acounts: []
`, "t.yaml:2: acounts: unknown field (known: accounts, credentialsFile, management, ous, rcps, scps)"},
		{"missing principal", `
management:
  roles:
    - name: r
      trustPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: sts:AssumeRole
`, "t.yaml:8: management.roles[0].trustPolicy.Statement[0]: MalformedPolicyDocument: Principal: Missing required field Principal"},
		{"bad element", `
management:
  users:
    - name: u
      inlinePolicies:
        p:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: s3:GetObject
              Resource: "*"
            - Effect: Permit
              Action: s3:GetObject
              Resource: "*"
`, "t.yaml:12: management.users[0].inlinePolicies.p.Statement[1].Effect: MalformedPolicyDocument: "},
		{"principal in an identity policy", `
management:
  policies:
    - name: p
      document: {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}
`, "t.yaml:5: management.policies[0].document.Statement.Principal: MalformedPolicyDocument: Policy document should not specify a principal"},
		{"JSON string", `
management:
  roles:
    - name: r
      trustPolicy: '{"Version": "2012-10-17", "Statement": [}'
`, "t.yaml:5: management.roles[0].trustPolicy: MalformedPolicyDocument: Syntax errors in policy"},
		{"SCP", `
scps:
  - name: s
    document:
      Version: "2012-10-17"
      Statement: [{Effect: Deny, Action: "ec2:*"}]
`, "t.yaml:6: scps[0].document.Statement[0]: MalformedPolicyDocument: Resource: "},
		{"unknown variable", `
management:
  roles:
    - name: r
      trustPolicy:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {AWS: "arn:aws:iam::${account:nope}:root"}, Action: sts:AssumeRole}]
`, "t.yaml:5: management.roles[0].trustPolicy: unknown variable ${account:nope}"},
		{"unknown OU", `
ous: [{name: workloads}]
accounts:
  - name: dev
    email: dev@example.com
    ou: workload
`, `t.yaml:6: accounts[0].ou: no OU "workload" is declared`},
		{"nested OU path", `
ous: [{name: workloads, children: [{name: prod}]}]
accounts:
  - {name: dev, email: dev@example.com, ou: prod}
`, `t.yaml:4: accounts[0].ou: no OU "prod" is declared under ous: (write the path from the root, e.g. workloads/prod)`},
		{"not a number", `
management:
  roles:
    - name: r
      maxSessionDuration: long
      trustPolicy: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]}
`, `t.yaml:5: management.roles[0].maxSessionDuration: want a whole number, not "long"`},
		{"out of range", `
management:
  roles:
    - name: r
      maxSessionDuration: 60
      trustPolicy: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]}
`, `t.yaml:4: management.roles[0].maxSessionDuration: must be 3600 to 43200 seconds`},
		{"duplicate", `
management:
  users: [{name: u}, {name: U}]
`, `t.yaml:3: management.users[1].name: user "U" is declared twice in this account`},
		{"syntax", `
accounts:
  - name: dev
   email: x
`, "t.yaml:2: did not find expected '-' indicator"},
		{"list wanted", `
accounts: dev
`, `t.yaml:2: accounts: want a list, not "dev"`},
		{"FullAWSAccess with a document", `
scps:
  - name: FullAWSAccess
    document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "*", Resource: "*"}]}
`, "t.yaml:4: scps[0].document: FullAWSAccess is AWS managed: list only its targets"},
		{"unknown target", `
scps:
  - name: FullAWSAccess
    targets: {accounts: [prod]}
`, `t.yaml:4: scps[0].targets.accounts[0]: no account "prod" is declared`},
		{"reserved name", `
accounts: [{name: management, email: m@example.com}]
`, `t.yaml:2: accounts[0].name: "management" is reserved`},
		{"bucket name", `
management:
  buckets: [{name: Bad_Name}]
`, `t.yaml:3: management.buckets[0].name: "Bad_Name" is not a bucket name`},
		{"empty item", `
management:
  users:
    -
`, `t.yaml:4: management.users[0]: empty list item`},
		{"access key profile clash", `
management:
  users:
    - {name: a, accessKey: {profile: p}}
    - {name: b, accessKey: {profile: p}}
`, `t.yaml:5: management.users[1].accessKey: profile "p" is also written for management.users[0] (line 4)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("%T %v", err, err)
			}
			for _, e := range list {
				if strings.HasPrefix(e.Error(), tc.want) {
					return
				}
			}
			t.Fatalf("got:\n%v\nwant a line starting %q", err, tc.want)
		})
	}
}

// TestAccessKeyNeedsAFile: a key is asked for, but there is nowhere to write it.
func TestAccessKeyNeedsAFile(t *testing.T) {
	w, err := Parse("t.yaml", []byte("management:\n  users:\n    - name: a\n      accessKey: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, aws.Config{}, w, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "t.yaml:4: management.users[0].accessKey: a new access key needs a credentials file") {
		t.Fatalf("%v", err)
	}
}

// TestExamplesParse: every shipped example is valid.
func TestExamplesParse(t *testing.T) {
	files, _ := filepath.Glob("../../examples/apply/*.yaml")
	files = append(files, "../../examples/world.yaml")
	if len(files) < 2 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		if _, err := Load(f, nil); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestCanonical(t *testing.T) {
	a := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}`
	b := `{"Statement":[{"Resource":"*","Action":"s3:*","Effect":"Allow"}],"Version":"2012-10-17"}`
	if !sameDoc(a, b) {
		t.Fatal("same documents differ")
	}
	if sameDoc(a, strings.Replace(b, "s3:*", "s3:Get*", 1)) {
		t.Fatal("different documents are the same")
	}
}

func TestCredentialsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "credentials")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("[default]\naws_access_key_id = D\naws_secret_access_key = d\n\n[a]\naws_access_key_id = OLD\naws_secret_access_key = old\n[b]\nregion = x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeProfile(path, "a", "NEW", "new"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := "[default]\naws_access_key_id = D\naws_secret_access_key = d\n\n[b]\nregion = x\n\n[a]\naws_access_key_id = NEW\naws_secret_access_key = new\n"
	if string(data) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", data, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	if readProfileKey(path, "a") != "NEW" || readProfileKey(path, "c") != "" {
		t.Fatal("readProfileKey")
	}
}

// TestDocExample: the complete example of docs/apply.md is examples/world.yaml.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/apply.md")
	if err != nil {
		t.Fatal(err)
	}
	world, err := os.ReadFile("../../examples/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "## A complete example")
	_, block, ok2 := strings.Cut(after, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 || block != string(world) {
		t.Fatal("the example in docs/apply.md is not examples/world.yaml: copy it again")
	}
}
