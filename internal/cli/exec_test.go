package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// chainWorld: user alice may assume role first, which may assume role second.
func chainWorld(t *testing.T) (*servertest.Server, string, string) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	root := s.IAM(servertest.Root)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	allowAssume := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	must(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))
	must(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("a"), PolicyDocument: aws.String(allowAssume)}))
	must(root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("first"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-1"}}}]}`)}))
	must(root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("first"), PolicyName: aws.String("a"), PolicyDocument: aws.String(allowAssume)}))
	must(root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("second"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/first"},"Action":"sts:AssumeRole"}]}`)}))
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	return s, aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
}

func credsEnv(t *testing.T, key, secret string) {
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
}

func TestExecChainsRolesAndPassesExitStatus(t *testing.T) {
	s, key, secret := chainWorld(t)
	credsEnv(t, key, secret)
	var out, errOut bytes.Buffer
	args := []string{"exec", "--endpoint-url", s.URL, "--role-arn", "arn:aws:iam::111111111111:role/first", "--external-id", "x-1",
		"--role-arn", "arn:aws:iam::111111111111:role/second", "--session-name", "chain", "--",
		"sh", "-c", `echo "$AWS_ACCESS_KEY_ID $AWS_CREDENTIAL_EXPIRATION"; test -n "$AWS_SESSION_TOKEN"; exit 7`}
	if code := Main(args, nil, &out, &errOut); code != 7 {
		t.Fatalf("exit %d (want the command's 7): %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "ASIA") || !strings.Contains(out.String(), "T") {
		t.Fatalf("child saw %q", out.String())
	}
	if _, err := os.Stat("/usr/bin/aws"); err == nil { // the real AWS CLI as the child
		out.Reset()
		args := []string{"exec", "--endpoint-url", s.URL, "--role-arn", "arn:aws:iam::111111111111:role/first", "--external-id", "x-1",
			"--", "/usr/bin/aws", "--endpoint-url", s.URL, "sts", "get-caller-identity", "--query", "Arn", "--output", "text"}
		if code := Main(args, nil, &out, &errOut); code != 0 || strings.TrimSpace(out.String()) != "arn:aws:sts::111111111111:assumed-role/first/"+strings.TrimSpace(sessionOf(out.String())) {
			t.Fatalf("aws CLI under exec: exit %d: %q %s", code, out.String(), errOut.String())
		}
	}
	// Without the ExternalId the first hop is denied, and iamlocal says so.
	errOut.Reset()
	if code := Main([]string{"exec", "--endpoint-url", s.URL, "--role-arn", "arn:aws:iam::111111111111:role/first", "--", "true"}, nil, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "AccessDenied") {
		t.Fatalf("without ExternalId: exit %d: %s", code, errOut.String())
	}
}

func sessionOf(arn string) string { return arn[strings.LastIndexByte(strings.TrimSpace(arn), '/')+1:] }

func TestExportFormats(t *testing.T) {
	s, key, secret := chainWorld(t)
	credsEnv(t, key, secret)
	var out, errOut bytes.Buffer
	base := []string{"export", "--endpoint-url", s.URL, "--role-arn", "arn:aws:iam::111111111111:role/first", "--external-id", "x-1"}
	if code := Main(append(base, "--format", "credential-process"), nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var cp map[string]any
	if err := json.Unmarshal(out.Bytes(), &cp); err != nil || cp["Version"] != float64(1) || !strings.HasPrefix(cp["AccessKeyId"].(string), "ASIA") || cp["Expiration"] == nil {
		t.Fatalf("credential-process output %s (%v)", out.String(), err)
	}
	out.Reset()
	if code := Main(base, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), `export AWS_SESSION_TOKEN="`) {
		t.Fatalf("env format: %d %s", code, out.String())
	}
}

// TestProfileRoleChain: a profile with role_arn, source_profile and external_id, as
// the AWS CLI reads it.
func TestProfileRoleChain(t *testing.T) {
	s, key, secret := chainWorld(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	os.WriteFile(cfg, []byte("[profile base]\nregion = us-east-1\n\n[profile first]\nrole_arn = arn:aws:iam::111111111111:role/first\nsource_profile = base\nexternal_id = x-1\nrole_session_name = from-profile\n"), 0o600)
	creds := filepath.Join(dir, "credentials")
	os.WriteFile(creds, []byte("[base]\naws_access_key_id = "+key+"\naws_secret_access_key = "+secret+"\n"), 0o600)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	var out, errOut bytes.Buffer
	if code := Main([]string{"export", "--endpoint-url", s.URL, "--profile", "first", "--format", "json"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `"AccessKeyId": "ASIA`) {
		t.Fatalf("profile chain: %s", out.String())
	}
}

// Issue 13 item 2: the child reaches the endpoint exec used — by --endpoint-url or by
// AWS_ENDPOINT_URL — for every service iamlocal serves, whatever service-specific
// endpoint it inherited.
func TestExecGivesTheChildTheEndpoint(t *testing.T) {
	s, key, secret := chainWorld(t)
	credsEnv(t, key, secret)
	t.Setenv("AWS_ENDPOINT_URL_S3", "https://s3.amazonaws.com")
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	show := `echo "$AWS_ENDPOINT_URL $AWS_ENDPOINT_URL_S3 $AWS_ENDPOINT_URL_STS $AWS_ENDPOINT_URL_ORGANIZATIONS [$AWS_IGNORE_CONFIGURED_ENDPOINT_URLS]"`
	want := s.URL + " " + s.URL + " " + s.URL + " " + s.URL + " []"
	for _, how := range []string{"flag", "environment"} {
		args := []string{"exec", "--role-arn", "arn:aws:iam::111111111111:role/first", "--external-id", "x-1", "--", "sh", "-c", show}
		if how == "flag" {
			args = append([]string{"exec", "--endpoint-url", s.URL}, args[1:]...)
		} else {
			t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "")
			t.Setenv("AWS_ENDPOINT_URL", s.URL)
		}
		var out, errOut bytes.Buffer
		if code := Main(args, nil, &out, &errOut); code != 0 {
			t.Fatalf("%s: exit %d: %s", how, code, errOut.String())
		}
		if got := strings.TrimSpace(out.String()); got != want {
			t.Fatalf("%s: the child's endpoints are %q, want %q", how, got, want)
		}
	}
}

// An AWS CLI that ignores AWS_ENDPOINT_URL (v1 before 1.29, v2 before 2.13) run
// without --endpoint-url would call AWS: exec warns, once.
func TestEndpointWarning(t *testing.T) {
	dir := t.TempDir()
	fake := func(version string) string {
		p := filepath.Join(dir, version, "aws")
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, []byte("#!/bin/sh\necho 'aws-cli/"+version+" Python/3.11.2 Linux/6 source/x86_64.debian.12 prompt/off'\n"), 0o700)
		return p
	}
	ctx := context.Background()
	for _, c := range []struct {
		version string
		args    []string
		warn    bool
	}{
		{"2.9.19", []string{"s3", "ls"}, true},
		{"1.27.0", []string{"s3", "ls"}, true},
		{"2.9.19", []string{"--endpoint-url", "http://x", "s3", "ls"}, false},
		{"2.9.19", []string{"s3", "ls", "--endpoint-url=http://x"}, false},
		{"2.13.0", []string{"s3", "ls"}, false},
		{"1.45.11", []string{"s3", "ls"}, false},
	} {
		msg := endpointWarning(ctx, "http://127.0.0.1:4577", append([]string{fake(c.version)}, c.args...))
		if (msg != "") != c.warn || (c.warn && !strings.Contains(msg, "--endpoint-url http://127.0.0.1:4577")) {
			t.Errorf("aws-cli/%s %v: warning %q", c.version, c.args, msg)
		}
	}
	if msg := endpointWarning(ctx, "", []string{fake("2.9.19"), "s3", "ls"}); msg != "" {
		t.Errorf("no endpoint configured, yet: %q", msg)
	}
}

// Issue 13 item 9: with no server at the endpoint, one line says which endpoint could
// not be reached and how to start a server there — not the SDK's retry chatter.
func TestServerDownIsOneLine(t *testing.T) {
	credsEnv(t, "AKIAIOSFODNN7EXAMPLE", "secret")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, args := range [][]string{
		{"exec", "--endpoint-url", endpoint, "--role-arn", "arn:aws:iam::111111111111:role/r", "--", "true"},
		{"export", "--endpoint-url", endpoint, "--role-arn", "arn:aws:iam::111111111111:role/r"},
	} {
		var out, errOut bytes.Buffer
		if code := Main(args, nil, &out, &errOut); code == 0 {
			t.Fatalf("%s: exit 0 with no server", args[0])
		}
		got := strings.TrimSpace(errOut.String())
		want := "iamlocal: could not reach " + endpoint + " (connection refused): is iamlocal serve running? Start it with: iamlocal serve --addr " + ln.Addr().String()
		if got != want {
			t.Fatalf("%s: %q\nwant %q", args[0], got, want)
		}
	}
}
