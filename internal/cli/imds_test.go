package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeToken is the internal API's secret of the fake server.
const fakeToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// fakeDataDir is a server's data directory holding the fake server's secret.
func fakeDataDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "internal-api-token"), []byte(fakeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeInternalAPI answers the documented internal API for one instance, to callers
// sending the secret of fakeDataDir.
func fakeInternalAPI(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_iamlocal/health", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /_iamlocal/ec2/instances/i-0123456789abcdef0", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"InstanceId": "i-0123456789abcdef0", "AccountId": "111111111111",
			"Region": "eu-west-1", "AvailabilityZone": "eu-west-1a", "InstanceType": "t3.micro", "ImageId": "ami-1",
			"PrivateIpAddress": "10.0.0.12", "LaunchTime": "2026-11-21T12:00:00Z", "State": "running",
			"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1,
			"InstanceProfileArn": "arn:aws:iam::111111111111:instance-profile/web", "RoleName": "web-role"})
	})
	creds := func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UTC()
		json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "LastUpdated": now.Format(time.RFC3339), "Type": "AWS-HMAC",
			"AccessKeyId": "ASIAFAKE", "SecretAccessKey": "s", "Token": "t", "Expiration": now.Add(time.Hour).Format(time.RFC3339),
			"RoleArn": "arn:aws:iam::111111111111:role/web-role"})
	}
	mux.HandleFunc("POST /_iamlocal/ec2/instances/i-0123456789abcdef0/credentials", creds)
	mux.HandleFunc("POST /_iamlocal/roles/credentials", creds)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_iamlocal/health" && r.Header.Get("Authorization") != "Bearer "+fakeToken {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"Code":"AccessDenied","Message":"no secret"}`)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// startImds runs `iamlocal imds args…` until the test ends and returns the
// environment it printed.
func startImds(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	root := newRoot()
	root.SetArgs(append([]string{"imds", "--addr", "127.0.0.1:0"}, args...))
	root.SetOut(pw)
	root.SetErr(io.Discard)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx); pw.Close() }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("imds returned %v after cancel", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("imds did not stop")
		}
	})
	env := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			env[k] = v
		}
		if strings.HasPrefix(line, "unset ") {
			go io.Copy(io.Discard, pr)
			return env
		}
	}
	select {
	case err := <-done:
		t.Fatalf("imds exited: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("imds printed no environment")
	}
	return nil
}

func TestImdsCommandInstance(t *testing.T) {
	api := fakeInternalAPI(t)
	env := startImds(t, "--instance-id", "i-0123456789abcdef0", "--endpoint", api.URL, "--data", fakeDataDir(t))
	base := env["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
	// botocore appends "latest/api/token" to the endpoint: it must end in "/".
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/") || env["AWS_REGION"] != "eu-west-1" ||
		env["AWS_DEFAULT_REGION"] != "eu-west-1" || env["AWS_ENDPOINT_URL"] != api.URL {
		t.Fatalf("environment %v", env)
	}
	req, _ := http.NewRequest(http.MethodPut, base+"latest/api/token", nil)
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, base+"latest/meta-data/iam/security-credentials/", nil)
	req.Header.Set("X-aws-ec2-metadata-token", string(tok))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "web-role" {
		t.Fatalf("roles: %d %q", resp.StatusCode, body)
	}
}

func TestImdsCommandECS(t *testing.T) {
	api := fakeInternalAPI(t)
	env := startImds(t, "--ecs", "--role-arn", "arn:aws:iam::111111111111:role/web-role", "--endpoint", api.URL, "--data", fakeDataDir(t))
	uri, tok := env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
	if !strings.Contains(uri, "/v2/credentials/") || tok == "" {
		t.Fatalf("environment %v", env)
	}
	req, _ := http.NewRequest(http.MethodGet, uri, nil)
	req.Header.Set("Authorization", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"AccessKeyId":"ASIAFAKE"`) {
		t.Fatalf("credentials: %d %s", resp.StatusCode, body)
	}
}

func TestImdsCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"imds"},
		{"imds", "--instance-id", "i-1", "--role-arn", "arn:aws:iam::111111111111:role/r"},
		{"imds", "--ecs", "--instance-id", "i-1"},
		{"imds", "--role-arn", "not-an-arn"},
		{"imds", "--instance-id", "vol-1"},
		{"imds", "--instance-id", "i-1", "--endpoint", "127.0.0.1:4577"},
	} {
		var stderr strings.Builder
		if code := Main(args, strings.NewReader(""), io.Discard, &stderr); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, stderr.String())
		}
	}
}

// Without the server's data directory, imds says where it looked.
func TestImdsCommandNeedsToken(t *testing.T) {
	api := fakeInternalAPI(t)
	dir := filepath.Join(t.TempDir(), "nowhere")
	var stderr strings.Builder
	code := Main([]string{"imds", "--instance-id", "i-0123456789abcdef0", "--endpoint", api.URL, "--data", dir, "--addr", "127.0.0.1:0"},
		strings.NewReader(""), io.Discard, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "is iamlocal serve using --data "+dir+"?") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// A wrong secret is the server's 403, not a hang.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "internal-api-token"), []byte("wrong"), 0o600)
	stderr.Reset()
	code = Main([]string{"imds", "--instance-id", "i-0123456789abcdef0", "--endpoint", api.URL, "--data", bad, "--addr", "127.0.0.1:0"},
		strings.NewReader(""), io.Discard, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "AccessDenied") {
		t.Fatalf("wrong secret: exit %d: %s", code, stderr.String())
	}
}
