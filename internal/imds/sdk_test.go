package imds

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	sdkimds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// The SDK tests run on the real clock: the SDK checks expirations itself.
func newRealHarness(t *testing.T, mutate func(*Instance)) *harness {
	t.Helper()
	api := newFakeAPI(t, time.Now)
	if mutate != nil {
		api.update(testInstance, mutate)
	}
	srv, err := New(t.Context(), Config{Backend: api.client(), InstanceID: testInstance})
	if err != nil {
		t.Fatal(err)
	}
	return startHarness(t, api, nil, srv)
}

func TestSDKIMDSClient(t *testing.T) {
	t.Parallel()
	for _, tokens := range []string{"required", "optional"} {
		t.Run(tokens, func(t *testing.T) {
			h := newRealHarness(t, func(i *Instance) { i.HttpTokens = tokens })
			c := sdkimds.New(sdkimds.Options{Endpoint: h.ts.URL})
			ctx := t.Context()
			md, err := c.GetMetadata(ctx, &sdkimds.GetMetadataInput{Path: "instance-id"})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(md.Content)
			if string(b) != testInstance {
				t.Errorf("instance-id %q", b)
			}
			region, err := c.GetRegion(ctx, nil)
			if err != nil || region.Region != "us-east-1" {
				t.Errorf("GetRegion = %v, %v", region, err)
			}
			doc, err := c.GetInstanceIdentityDocument(ctx, nil)
			if err != nil || doc.AccountID != testAccount || doc.InstanceID != testInstance || doc.PrivateIP != "10.0.0.12" ||
				doc.PendingTime.IsZero() || doc.Architecture != "x86_64" {
				t.Errorf("GetInstanceIdentityDocument = %+v, %v", doc, err)
			}
			info, err := c.GetIAMInfo(ctx, nil)
			if err != nil || info.InstanceProfileArn != testProfile || info.Code != "Success" {
				t.Errorf("GetIAMInfo = %+v, %v", info, err)
			}
		})
	}
}

func TestSDKEC2RoleCreds(t *testing.T) {
	t.Parallel()
	h := newRealHarness(t, func(i *Instance) { i.HttpTokens = "required" })
	p := ec2rolecreds.New(func(o *ec2rolecreds.Options) {
		o.Client = sdkimds.New(sdkimds.Options{Endpoint: h.ts.URL})
	})
	creds, err := p.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIAFAKE000000000001" || creds.SecretAccessKey != "secret-1" || creds.SessionToken != "token-1" ||
		!creds.CanExpire || time.Until(creds.Expires) < 50*time.Minute {
		t.Errorf("credentials %+v", creds)
	}

	h.api.set(func(f *fakeAPI) { f.denied = true })
	h.srv.creds.drop()
	if _, err := p.Retrieve(t.Context()); err == nil || !strings.Contains(err.Error(), "AssumeRoleUnauthorizedAccess") {
		t.Errorf("trust denied: err = %v", err)
	}
}

// isolateEnv points the SDK's shared config at nothing and clears credentials
// from the environment, so the chain reaches IMDS or ECS.
func isolateEnv(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_ROLE_ARN": "", "AWS_EC2_METADATA_DISABLED": "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "", "AWS_REGION": "us-east-1",
	} {
		t.Setenv(k, v)
	}
}

// TestSDKDefaultChain: config.LoadDefaultConfig, as any application on an instance,
// finds the credentials through AWS_EC2_METADATA_SERVICE_ENDPOINT.
func TestSDKDefaultChain(t *testing.T) {
	isolateEnv(t)
	h := newRealHarness(t, func(i *Instance) { i.HttpTokens = "required" })
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", h.ts.URL)
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIAFAKE000000000001" || creds.Source != ec2rolecreds.ProviderName {
		t.Errorf("credentials %+v", creds)
	}
}

func newECSHarness(t *testing.T) (*fakeAPI, *ECS, *httptest.Server) {
	t.Helper()
	api := newFakeAPI(t, time.Now)
	e, err := NewECS(ECSConfig{Backend: api.client(), RoleArn: testRoleArn})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return api, e, ts
}

func TestECSEndpoint(t *testing.T) {
	t.Parallel()
	api, e, ts := newECSHarness(t)
	if !strings.HasPrefix(e.Path(), "/v2/credentials/") || len(e.Path()) != len("/v2/credentials/")+36 || len(e.AuthToken()) < 40 {
		t.Fatalf("path %q token %q", e.Path(), e.AuthToken())
	}
	get := func(path, auth string) (int, string) {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		path, auth string
		status     int
		code       string
	}{
		{e.Path(), "", 401, `"code":"AccessDenied"`},
		{e.Path(), "wrong", 401, `"code":"AccessDenied"`},
		{e.Path(), e.AuthToken() + "x", 401, `"code":"AccessDenied"`},
		{"/v2/credentials/other", e.AuthToken(), 404, `"code":"NotFound"`},
		{"/latest/meta-data/", e.AuthToken(), 404, `"code":"NotFound"`},
		{e.Path(), e.AuthToken(), 200, `"AccessKeyId":"ASIAFAKE000000000001"`},
	} {
		status, body := get(tc.path, tc.auth)
		if status != tc.status || !strings.Contains(body, tc.code) {
			t.Errorf("GET %s (auth %q): %d %s", tc.path, tc.auth, status, body)
		}
	}
	_, body := get(e.Path(), e.AuthToken())
	for _, want := range []string{`"RoleArn":"` + testRoleArn + `"`, `"SecretAccessKey":"secret-1"`, `"Token":"token-1"`, `"Expiration":"`, `"AccountId":"111111111111"`} {
		if !strings.Contains(body, want) {
			t.Errorf("body %s lacks %s", body, want)
		}
	}
	if len(api.services) == 0 || api.services[0] != ECSService || len(api.sessions[0]) != 32 {
		t.Errorf("service principals asked: %v, sessions %v", api.services, api.sessions)
	}
	api.set(func(f *fakeAPI) { f.denied = true })
	e.creds.drop()
	if status, body := get(e.Path(), e.AuthToken()); status != 403 || !strings.Contains(body, `"code":"AccessDenied"`) {
		t.Errorf("trust denied: %d %s", status, body)
	}
}

func TestSDKEndpointCreds(t *testing.T) {
	t.Parallel()
	_, e, ts := newECSHarness(t)
	p := endpointcreds.New(ts.URL+e.Path(), func(o *endpointcreds.Options) { o.AuthorizationToken = e.AuthToken() })
	creds, err := p.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIAFAKE000000000001" || creds.SessionToken != "token-1" || !creds.CanExpire || creds.AccountID != testAccount {
		t.Errorf("credentials %+v", creds)
	}
	bad := endpointcreds.New(ts.URL+e.Path(), func(o *endpointcreds.Options) { o.AuthorizationToken = "nope" })
	if _, err := bad.Retrieve(t.Context()); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("wrong token: err = %v", err)
	}
}

func TestSDKDefaultChainECS(t *testing.T) {
	isolateEnv(t)
	_, e, ts := newECSHarness(t)
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", ts.URL+e.Path())
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", e.AuthToken())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIAFAKE000000000001" || creds.Source != endpointcreds.ProviderName {
		t.Errorf("credentials %+v", creds)
	}
}

// TestRawHTTPTokenFlow speaks HTTP/1.1 on a bare connection, byte for byte what
// `curl -X PUT … -H "X-aws-ec2-metadata-token-ttl-seconds: 21600"` sends.
func TestRawHTTPTokenFlow(t *testing.T) {
	t.Parallel()
	h := newRealHarness(t, func(i *Instance) { i.HttpTokens = "required" })
	addr := strings.TrimPrefix(h.ts.URL, "http://")
	roundTrip := func(raw string) (*http.Response, string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, tok := roundTrip("PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: curl/8.14.1\r\nAccept: */*\r\n" +
		"X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n")
	if resp.StatusCode != 200 || !resp.Close || resp.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") != "21600" {
		t.Fatalf("PUT: %s %v close=%v", resp.Status, resp.Header, resp.Close)
	}
	resp, body := roundTrip("GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n" +
		"X-aws-ec2-metadata-token: " + tok + "\r\n\r\n")
	if resp.StatusCode != 200 || body != testRole {
		t.Fatalf("GET with token: %s %q", resp.Status, body)
	}
	resp, _ = roundTrip("GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n")
	if resp.StatusCode != 401 {
		t.Fatalf("GET without token: %s", resp.Status)
	}
	resp, _ = roundTrip("PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-Forwarded-For: 10.0.0.1\r\n" +
		"X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n")
	if resp.StatusCode != 403 {
		t.Fatalf("PUT with X-Forwarded-For: %s", resp.Status)
	}
}

// TestCurl runs the documented curl commands when curl is installed.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	t.Parallel()
	h := newRealHarness(t, func(i *Instance) { i.HttpTokens = "required" })
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, curl, append([]string{"-sS", "--fail", "--noproxy", "*"}, args...)...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = fmt.Errorf("%w: %s", err, ee.Stderr)
			}
			t.Fatalf("curl %v: %v", args, err)
		}
		return string(out)
	}
	tok := run("-X", "PUT", h.ts.URL+"/latest/api/token", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 21600")
	role := run("-H", "X-aws-ec2-metadata-token: "+tok, h.ts.URL+"/latest/meta-data/iam/security-credentials/")
	creds := run("-H", "X-aws-ec2-metadata-token: "+tok, h.ts.URL+"/latest/meta-data/iam/security-credentials/"+role)
	if role != testRole || !strings.Contains(creds, `"AccessKeyId" : "ASIA`) && !strings.Contains(creds, `"AccessKeyId": "ASIA`) {
		t.Fatalf("role %q credentials %s", role, creds)
	}
}
