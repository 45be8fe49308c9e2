package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/server"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

const trustEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// internalCall makes a request to base+path with a Host and an Authorization header
// (each left as Go sets it when empty) and returns the status and JSON answer.
func internalCall(t *testing.T, method, base, path, host, auth string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s %s: %d %q: not JSON: %v", method, path, resp.StatusCode, body, err)
	}
	return resp.StatusCode, m
}

func TestInternalAPIGuards(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	_, err := s.IAM(servertest.Root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ec2role"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	if err != nil {
		t.Fatal(err)
	}
	roleCreds := "/_iamlocal/roles/credentials?" + url.Values{"roleArn": {"arn:aws:iam::" + servertest.Account + ":role/ec2role"},
		"service": {"ec2.amazonaws.com"}}.Encode()
	port := s.URL[strings.LastIndexByte(s.URL, ':')+1:]
	bearer := "Bearer " + s.InternalToken

	cases := []struct {
		name, method, path, host, auth string
		status                         int
	}{
		{"secret and loopback host", "POST", roleCreds, "", bearer, 200},
		{"localhost with port", "POST", roleCreds, "localhost:" + port, bearer, 200},
		{"localhost", "POST", roleCreds, "LOCALHOST", bearer, 200},
		{"IPv6 loopback", "POST", roleCreds, "[::1]:" + port, bearer, 200},
		{"other loopback address", "POST", roleCreds, "127.0.0.2", bearer, 200},
		{"no secret", "POST", roleCreds, "", "", 403},
		{"wrong secret", "POST", roleCreds, "", "Bearer " + strings.Repeat("0", len(s.InternalToken)), 403},
		{"secret prefix", "POST", roleCreds, "", bearer[:len(bearer)-1], 403},
		{"secret without Bearer", "POST", roleCreds, "", s.InternalToken, 403},
		{"SigV4-looking header", "POST", roleCreds, "", "AWS4-HMAC-SHA256 Credential=x", 403},
		{"DNS rebinding host", "POST", roleCreds, "evil.example.com", bearer, 403},
		{"rebinding host with port", "POST", roleCreds, "evil.example.com:" + port, bearer, 403},
		{"localhost suffix", "POST", roleCreds, "localhost.evil.example.com", bearer, 403},
		{"non-loopback address", "POST", roleCreds, "10.0.0.1:" + port, bearer, 403},
		{"instance, no secret", "POST", "/_iamlocal/ec2/instances/i-0123456789abcdef0/credentials", "", "", 403},
		{"instance metadata, no secret", "GET", "/_iamlocal/ec2/instances/i-0123456789abcdef0", "", "", 403},
		{"instance with secret", "GET", "/_iamlocal/ec2/instances/i-0123456789abcdef0", "", bearer, 404},
		{"health", "GET", "/_iamlocal/health", "", "", 200},
		{"health, rebinding host", "GET", "/_iamlocal/health", "evil.example.com", "", 403},
		{"unknown internal path", "GET", "/_iamlocal/nothing", "", bearer, 404},
	}
	for _, c := range cases {
		status, m := internalCall(t, c.method, s.URL, c.path, c.host, c.auth)
		if status != c.status {
			t.Errorf("%s: %d %v, want %d", c.name, status, m, c.status)
			continue
		}
		if status == 200 && strings.HasPrefix(c.path, "/_iamlocal/roles/") && m["AccessKeyId"] == nil {
			t.Errorf("%s: no credentials: %v", c.name, m)
		}
		if status == 403 && m["Code"] != "AccessDenied" {
			t.Errorf("%s: %v", c.name, m)
		}
		if msg, _ := m["Message"].(string); status != 200 && strings.Contains(msg, s.InternalToken) {
			t.Errorf("%s: the error shows the secret", c.name)
		}
	}
}

// Through a VPC endpoint's listener, iamlocal's own paths do not exist, even with
// the secret.
func TestInternalAPINotThroughVpcEndpoints(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	_, err := s.IAM(servertest.Root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ec2role"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := s.EC2(servertest.Root).CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"),
		VpcEndpointType: ec2types.VpcEndpointTypeInterface, ServiceName: aws.String("com.amazonaws.us-east-1.sts")})
	if err != nil {
		t.Fatal(err)
	}
	addr := aws.ToString(ep.VpcEndpoint.DnsEntries[0].DnsName) // localhost:PORT
	base := "http://" + strings.Replace(addr, "localhost", "127.0.0.1", 1)
	roleCreds := "/_iamlocal/roles/credentials?" + url.Values{"roleArn": {"arn:aws:iam::" + servertest.Account + ":role/ec2role"}}.Encode()
	for _, path := range []string{roleCreds, "/_iamlocal/health"} {
		method := "POST"
		if path == "/_iamlocal/health" {
			method = "GET"
		}
		if status, m := internalCall(t, method, base, path, "", "Bearer "+s.InternalToken); status != 404 {
			t.Errorf("%s through the endpoint: %d %v", path, status, m)
		}
		// The main listener still answers.
		if status, m := internalCall(t, method, s.URL, path, "", "Bearer "+s.InternalToken); status != 200 {
			t.Errorf("%s: %d %v", path, status, m)
		}
	}
}

// The secret is made once, 0600, and kept across restarts.
func TestInternalTokenKept(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, dir)
	tok := s.InternalToken
	s.Close()
	fi, err := os.Stat(filepath.Join(dir, server.InternalTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", fi.Mode().Perm())
	}
	if len(tok) != 64 {
		t.Errorf("token %d characters", len(tok))
	}
	s = servertest.Start(t, dir)
	if s.InternalToken != tok {
		t.Fatal("the token changed on restart")
	}
	if status, _ := internalCall(t, "GET", s.URL, "/_iamlocal/ec2/instances/i-0123456789abcdef0", "", "Bearer "+tok); status != 404 {
		t.Fatalf("after restart: %d", status)
	}
}
