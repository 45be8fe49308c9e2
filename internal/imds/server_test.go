package imds

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestTokenTTLBounds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tc := range []struct {
		ttl  []string // nil: no header
		want int
	}{
		{nil, http.StatusBadRequest},
		{[]string{""}, http.StatusBadRequest},
		{[]string{"0"}, http.StatusBadRequest},
		{[]string{"21601"}, http.StatusBadRequest},
		{[]string{"-1"}, http.StatusBadRequest},
		{[]string{"+5"}, http.StatusBadRequest},
		{[]string{"1.5"}, http.StatusBadRequest},
		{[]string{"abc"}, http.StatusBadRequest},
		{[]string{"99999999999999999999"}, http.StatusBadRequest},
		{[]string{"60", "60"}, http.StatusBadRequest},
		{[]string{"1"}, http.StatusOK},
		{[]string{"21600"}, http.StatusOK},
		{[]string{"00060"}, http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodPut, h.ts.URL+TokenPath, nil)
		for _, v := range tc.ttl {
			req.Header.Add(TokenTTLHeader, v)
		}
		resp, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("TTL %q: status %d, want %d", tc.ttl, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusOK && resp.Header.Get(TokenTTLHeader) != strings.TrimLeft(tc.ttl[0], "0") {
			t.Errorf("TTL %q: response TTL header %q", tc.ttl, resp.Header.Get(TokenTTLHeader))
		}
	}
}

func TestTokenFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(i *Instance) { i.HttpTokens = "required" })
	tok := h.token(t, "21600")
	if len(tok) < 40 || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token %q", tok)
	}
	status, hdr, body := h.do(t, "GET", "/latest/meta-data/instance-id", map[string]string{TokenHeader: tok})
	if status != 200 || body != testInstance {
		t.Fatalf("GET with token: %d %q", status, body)
	}
	if hdr.Get(TokenTTLHeader) != "21600" || hdr.Get("Content-Type") != "text/plain" || hdr.Get("Server") != "EC2ws" {
		t.Errorf("headers %v", hdr)
	}
	other, err := New(t.Context(), Config{Backend: h.api.client(), InstanceID: testInstance, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	foreign := startHarness(t, h.api, h.clock, other).token(t, "60")
	tampered := []byte(tok)
	tampered[len(tampered)/2] ^= 1
	for name, bad := range map[string]string{
		"empty": "", "garbage": "not-a-token", "tampered": string(tampered), "other process": foreign,
		"too long": strings.Repeat("A", 10000), "truncated": tok[:len(tok)-1],
	} {
		if status, _, _ := h.do(t, "GET", "/latest/meta-data/instance-id", map[string]string{TokenHeader: bad}); status != http.StatusUnauthorized {
			t.Errorf("%s token: status %d, want 401", name, status)
		}
	}
	if status, _, _ := h.do(t, "GET", "/latest/meta-data/instance-id", nil); status != http.StatusUnauthorized {
		t.Errorf("no token with HttpTokens=required: status %d, want 401", status)
	}
}

func TestInvalidTokenRefusedEvenWhenOptional(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil) // HttpTokens=optional
	if status, _, body := h.do(t, "GET", "/latest/meta-data/instance-id", nil); status != 200 || body != testInstance {
		t.Fatalf("IMDSv1 GET: %d %q", status, body)
	}
	if status, _, _ := h.do(t, "GET", "/latest/meta-data/instance-id", map[string]string{TokenHeader: "bogus"}); status != 401 {
		t.Fatalf("bad token with HttpTokens=optional: %d, want 401", status)
	}
	tok := h.token(t, "60")
	if status, _, _ := h.do(t, "GET", "/latest/meta-data/instance-id", map[string]string{TokenHeader: tok}); status != 200 {
		t.Fatalf("IMDSv2 GET with HttpTokens=optional: %d", status)
	}
}

func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(i *Instance) { i.HttpTokens = "required" })
	tok := h.token(t, "60")
	h.clock.Advance(59*time.Second + 500*time.Millisecond)
	status, hdr, _ := h.do(t, "GET", "/latest/meta-data/instance-id", map[string]string{TokenHeader: tok})
	if status != 200 || hdr.Get(TokenTTLHeader) != "1" {
		t.Fatalf("just before expiry: %d, TTL %q", status, hdr.Get(TokenTTLHeader))
	}
	h.clock.Advance(time.Second)
	if status, _, _ := h.do(t, "GET", "/latest/meta-data/instance-id", map[string]string{TokenHeader: tok}); status != 401 {
		t.Fatalf("expired token: %d, want 401", status)
	}
}

func TestXForwardedFor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	status, _, _ := h.do(t, http.MethodPut, TokenPath, map[string]string{TokenTTLHeader: "60", "X-Forwarded-For": "203.0.113.7"})
	if status != http.StatusForbidden {
		t.Fatalf("PUT with X-Forwarded-For: %d, want 403", status)
	}
	// Only token issuance is refused; a GET through a proxy is served (IMDSv1 here).
	if status, _, _ := h.do(t, "GET", "/latest/meta-data/instance-id", map[string]string{"X-Forwarded-For": "203.0.113.7"}); status != 200 {
		t.Fatalf("GET with X-Forwarded-For: %d", status)
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tc := range []struct{ method, path string }{
		{"GET", TokenPath}, {"POST", TokenPath}, {"POST", "/latest/meta-data/"}, {"PUT", "/latest/meta-data/instance-id"},
		{"DELETE", "/latest/meta-data/instance-id"},
	} {
		status, hdr, _ := h.do(t, tc.method, tc.path, map[string]string{TokenTTLHeader: "60"})
		if status != http.StatusMethodNotAllowed || hdr.Get("Allow") == "" {
			t.Errorf("%s %s: %d (Allow %q), want 405", tc.method, tc.path, status, hdr.Get("Allow"))
		}
	}
	status, hdr, body := h.do(t, "HEAD", "/latest/meta-data/instance-id", nil)
	if status != 200 || body != "" || hdr.Get("Content-Length") != "19" {
		t.Errorf("HEAD: %d %q %v", status, body, hdr)
	}
}

func TestHttpEndpointDisabled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(i *Instance) { i.HttpEndpoint = "disabled" })
	for _, tc := range []struct{ method, path string }{
		{"PUT", TokenPath}, {"GET", "/latest/meta-data/instance-id"}, {"GET", "/"}, {"GET", "/nope"},
	} {
		if status, _, _ := h.do(t, tc.method, tc.path, map[string]string{TokenTTLHeader: "60"}); status != http.StatusForbidden {
			t.Errorf("%s %s with HttpEndpoint=disabled: %d, want 403", tc.method, tc.path, status)
		}
	}
}

func TestRefreshAppliesMetadataOptions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	if status, _, _ := h.do(t, "GET", "/latest/meta-data/instance-id", nil); status != 200 {
		t.Fatal(status)
	}
	h.api.update(testInstance, func(i *Instance) { i.HttpTokens = "required" })
	if err := h.srv.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := h.do(t, "GET", "/latest/meta-data/instance-id", nil); status != 401 {
		t.Fatalf("after HttpTokens=required: %d, want 401", status)
	}
	h.api.update(testInstance, func(i *Instance) { i.HttpEndpoint = "disabled" })
	h.srv.Refresh(t.Context())
	if status, _, _ := h.do(t, "PUT", TokenPath, map[string]string{TokenTTLHeader: "60"}); status != 403 {
		t.Fatalf("after HttpEndpoint=disabled: %d, want 403", status)
	}
	// The server going away keeps the last state.
	h.api.set(func(f *fakeAPI) { f.down = true })
	if err := h.srv.Refresh(t.Context()); err == nil {
		t.Fatal("refresh against a failing server succeeded")
	}
	if got := h.srv.Instance().HttpEndpoint; got != "disabled" {
		t.Fatalf("HttpEndpoint %q after failed refresh", got)
	}
}

func TestRunRefreshesPeriodically(t *testing.T) {
	t.Parallel()
	c := newClock()
	api := newFakeAPI(t, c.Now)
	srv, err := New(t.Context(), Config{Backend: api.client(), InstanceID: testInstance, Now: c.Now, RefreshInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	api.update(testInstance, func(i *Instance) { i.HttpTokens = "required" })
	deadline := time.Now().Add(5 * time.Second)
	for srv.Instance().HttpTokens != "required" {
		if time.Now().After(deadline) {
			t.Fatal("Run did not pick up the change")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestUnknownInstance(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, time.Now)
	_, err := New(t.Context(), Config{Backend: api.client(), InstanceID: "i-00000000000000000"})
	if err == nil || !strings.Contains(err.Error(), "InvalidInstanceID.NotFound") {
		t.Fatalf("err = %v", err)
	}
}

func TestPathsAndListings(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	metaData := "ami-id\nami-launch-index\nhostname\niam/\ninstance-action\ninstance-id\ninstance-life-cycle\n" +
		"instance-type\nlocal-hostname\nlocal-ipv4\nplacement/\nservices/"
	for _, tc := range []struct {
		path   string
		status int
		body   string // "" = don't check
	}{
		{"/", 200, strings.Join(versions, "\n")},
		{"/latest", 200, "dynamic\nmeta-data"},
		{"/latest/", 200, "dynamic\nmeta-data"},
		{"/latest/meta-data/", 200, metaData},
		{"/latest/meta-data", 200, metaData},
		{"/2021-07-15/meta-data/", 200, metaData},
		{"/latest/meta-data/instance-id", 200, testInstance},
		{"/latest/meta-data/instance-type", 200, "t3.micro"},
		{"/latest/meta-data/ami-id", 200, "ami-0abcdef1234567890"},
		{"/latest/meta-data/placement/", 200, "availability-zone\nregion"},
		{"/latest/meta-data/placement/availability-zone", 200, "us-east-1a"},
		{"/latest/meta-data/placement/region", 200, "us-east-1"},
		{"/latest/meta-data/local-ipv4", 200, "10.0.0.12"},
		{"/latest/meta-data/hostname", 200, "ip-10-0-0-12.ec2.internal"},
		{"/latest/meta-data/services/partition", 200, "aws"},
		{"/latest/meta-data/iam/", 200, "info\nsecurity-credentials/"},
		{"/latest/meta-data/iam/security-credentials/", 200, testRole},
		{"/latest/meta-data/iam/security-credentials", 200, testRole},
		{"/latest/dynamic/", 200, "instance-identity/"},
		{"/latest/dynamic", 200, "instance-identity/"},
		{"/latest/dynamic/instance-identity/", 200, "document"},
		{"/latest/meta-data/iam/security-credentials/other-role", 404, ""},
		{"/latest/meta-data/instance-id/", 404, ""},
		{"/latest/meta-data//instance-id", 404, ""},
		{"/latest/meta-data/nope", 404, ""},
		{"/latest/user-data", 404, ""},
		{"/latest/api/", 404, ""},
		{"/2099-01-01/meta-data/", 404, ""},
		{"/latest/meta-data/../meta-data/instance-id", 404, ""},
		{"//", 404, ""},
	} {
		status, _, body := h.do(t, "GET", tc.path, nil)
		if status != tc.status || (tc.body != "" && body != tc.body) {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, status, body, tc.status, tc.body)
		}
	}
}

func TestEveryListedEntryResolves(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var walk func(path string)
	seen := 0
	walk = func(path string) {
		status, _, body := h.do(t, "GET", path, nil)
		if status != 200 {
			t.Errorf("GET %s: %d", path, status)
			return
		}
		seen++
		if !strings.HasSuffix(path, "/") {
			return
		}
		for entry := range strings.SplitSeq(body, "\n") {
			walk(path + entry)
			if path == "/latest/" {
				walk(path + entry + "/") // listed without the slash at this level
			}
		}
	}
	walk("/latest/")
	if seen < 25 {
		t.Errorf("walked %d paths", seen)
	}
}

func TestDocuments(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	_, _, body := h.do(t, "GET", "/latest/dynamic/instance-identity/document", nil)
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"accountId": testAccount, "architecture": "x86_64", "availabilityZone": "us-east-1a",
		"imageId": "ami-0abcdef1234567890", "instanceId": testInstance, "instanceType": "t3.micro",
		"pendingTime": "2026-11-21T11:00:00Z", "privateIp": "10.0.0.12", "region": "us-east-1", "version": "2017-09-30"}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("identity document %s = %v, want %v", k, doc[k], v)
		}
	}

	_, _, body = h.do(t, "GET", "/latest/meta-data/iam/info", nil)
	var info map[string]string
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	if info["Code"] != "Success" || info["InstanceProfileArn"] != testProfile || !strings.HasPrefix(info["InstanceProfileId"], "AIPA") ||
		len(info["InstanceProfileId"]) != 21 || info["LastUpdated"] != "2026-11-21T12:00:00Z" {
		t.Errorf("iam/info %v", info)
	}

	_, _, body = h.do(t, "GET", "/latest/meta-data/iam/security-credentials/"+testRole, nil)
	var creds map[string]string
	if err := json.Unmarshal([]byte(body), &creds); err != nil {
		t.Fatal(err)
	}
	if creds["Code"] != "Success" || creds["Type"] != "AWS-HMAC" || creds["AccessKeyId"] != "ASIAFAKE000000000001" ||
		creds["SecretAccessKey"] != "secret-1" || creds["Token"] != "token-1" ||
		creds["Expiration"] != "2026-11-21T13:00:00Z" || creds["LastUpdated"] != "2026-11-21T12:00:00Z" || len(creds) != 7 {
		t.Errorf("credentials %v", creds)
	}
	if h.api.count() != 1 {
		t.Errorf("credentials issued %d times for iam/info and one credentials GET, want 1 (cached)", h.api.count())
	}
}

func TestExtendedFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(i *Instance) {
		i.AvailabilityZoneId, i.Architecture, i.PrivateDnsName = "use1-az1", "arm64", "ip-10-0-0-12.ec2.internal"
		i.MacAddress, i.VpcId, i.SubnetId = "0e:11:22:33:44:55", "vpc-1", "subnet-1"
		i.SecurityGroups, i.SecurityGroupIds = []string{"default", "web"}, []string{"sg-1", "sg-2"}
		i.ReservationId, i.AmiLaunchIndex = "r-1", 2
		i.InstanceMetadataTags, i.Tags = "enabled", map[string]string{"Name": "web-1", "env": "test", "a/b": "skipped"}
	})
	mac := "/latest/meta-data/network/interfaces/macs/0e:11:22:33:44:55/"
	for path, want := range map[string]string{
		"/latest/meta-data/placement/availability-zone-id": "use1-az1",
		"/latest/meta-data/ami-launch-index":               "2",
		"/latest/meta-data/reservation-id":                 "r-1",
		"/latest/meta-data/security-groups":                "default\nweb",
		"/latest/meta-data/mac":                            "0e:11:22:33:44:55",
		"/latest/meta-data/network/interfaces/macs/":       "0e:11:22:33:44:55/",
		mac:                                    "device-number\nlocal-hostname\nlocal-ipv4s\nmac\nowner-id\nsecurity-group-ids\nsecurity-groups\nsubnet-id\nvpc-id",
		mac + "security-group-ids":             "sg-1\nsg-2",
		mac + "vpc-id":                         "vpc-1",
		"/latest/meta-data/tags/instance/":     "Name\nenv",
		"/latest/meta-data/tags/instance/Name": "web-1",
	} {
		if status, _, body := h.do(t, "GET", path, nil); status != 200 || body != want {
			t.Errorf("GET %s: %d %q, want %q", path, status, body, want)
		}
	}
	if _, _, doc := h.do(t, "GET", "/latest/dynamic/instance-identity/document", nil); !strings.Contains(doc, `"architecture": "arm64"`) {
		t.Errorf("identity document %s", doc)
	}
	h.api.update(testInstance, func(i *Instance) { i.InstanceMetadataTags = "disabled" })
	h.srv.Refresh(t.Context())
	if status, _, _ := h.do(t, "GET", "/latest/meta-data/tags/instance/Name", nil); status != 404 {
		t.Errorf("tags with InstanceMetadataTags=disabled: %d", status)
	}
}

func TestArchitectureAndHostname(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]string{"t3.micro": "x86_64", "t4g.nano": "arm64", "m6gd.large": "arm64",
		"c7gn.xlarge": "arm64", "a1.medium": "arm64", "g5.xlarge": "x86_64", "g5g.xlarge": "arm64", "m5.large": "x86_64"} {
		if got := architecture(typ); got != want {
			t.Errorf("architecture(%s) = %s, want %s", typ, got, want)
		}
	}
	if got := hostname("10.1.2.3", "eu-west-1"); got != "ip-10-1-2-3.eu-west-1.compute.internal" {
		t.Errorf("hostname = %s", got)
	}
}

func TestNoRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(i *Instance) { i.RoleName, i.InstanceProfileArn = "", "" })
	_, _, body := h.do(t, "GET", "/latest/meta-data/", nil)
	if strings.Contains(body, "iam") {
		t.Errorf("meta-data/ lists iam without a role: %q", body)
	}
	for _, p := range []string{"/latest/meta-data/iam/", "/latest/meta-data/iam/info", "/latest/meta-data/iam/security-credentials/",
		"/latest/meta-data/iam/security-credentials/" + testRole} {
		if status, _, _ := h.do(t, "GET", p, nil); status != 404 {
			t.Errorf("GET %s without a role: %d, want 404", p, status)
		}
	}
}

func TestRoleChangeDropsCredentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.do(t, "GET", "/latest/meta-data/iam/security-credentials/"+testRole, nil)
	h.api.update(testInstance, func(i *Instance) { i.RoleName = "other-role" })
	h.srv.Refresh(t.Context())
	if status, _, _ := h.do(t, "GET", "/latest/meta-data/iam/security-credentials/"+testRole, nil); status != 404 {
		t.Errorf("old role after the change: %d, want 404", status)
	}
	_, _, body := h.do(t, "GET", "/latest/meta-data/iam/security-credentials/other-role", nil)
	if !strings.Contains(body, "ASIAFAKE000000000002") {
		t.Errorf("new role's credentials are the old ones: %s", body)
	}
}

func credsOf(t *testing.T, h *harness) (int, map[string]string) {
	t.Helper()
	status, _, body := h.do(t, "GET", "/latest/meta-data/iam/security-credentials/"+testRole, nil)
	var m map[string]string
	if status == 200 {
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
	}
	return status, m
}

func TestCredentialsRefresh(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	_, c1 := credsOf(t, h)
	h.clock.Advance(30 * time.Minute)
	if _, c := credsOf(t, h); c["AccessKeyId"] != c1["AccessKeyId"] || h.api.count() != 1 {
		t.Fatalf("credentials renewed with 30 minutes left (issued %d)", h.api.count())
	}
	// 14 minutes left: renewed, so clients always get at least 15 minutes.
	h.clock.Advance(16 * time.Minute)
	_, c2 := credsOf(t, h)
	if c2["AccessKeyId"] == c1["AccessKeyId"] || h.api.count() != 2 {
		t.Fatalf("credentials not renewed with 14 minutes left: %v", c2)
	}
	exp, _ := time.Parse(time.RFC3339, c2["Expiration"])
	if left := exp.Sub(h.clock.Now()); left < 15*time.Minute {
		t.Fatalf("served credentials with %v left", left)
	}

	// The server goes away: the current credentials are served while they are valid,
	// renewal is retried at most every 30 s, and nothing is served once they expire.
	h.api.set(func(f *fakeAPI) { f.down = true })
	h.clock.Advance(50 * time.Minute) // 10 minutes left
	if status, c := credsOf(t, h); status != 200 || c["AccessKeyId"] != c2["AccessKeyId"] {
		t.Fatalf("server down, credentials valid: %d %v", status, c)
	}
	h.api.set(func(f *fakeAPI) { f.down = false })
	h.clock.Advance(10 * time.Second)
	if _, c := credsOf(t, h); c["AccessKeyId"] != c2["AccessKeyId"] {
		t.Fatal("renewal retried within 30 s of a failure")
	}
	h.clock.Advance(30 * time.Second)
	if _, c := credsOf(t, h); c["AccessKeyId"] == c2["AccessKeyId"] {
		t.Fatal("renewal not retried 40 s after a failure")
	}
	h.api.set(func(f *fakeAPI) { f.down = true })
	h.clock.Advance(2 * time.Hour)
	if status, _ := credsOf(t, h); status != http.StatusServiceUnavailable {
		t.Fatalf("expired credentials and the server down: %d, want 503", status)
	}
}

func TestTrustDenied(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.api.set(func(f *fakeAPI) { f.denied = true })
	for _, p := range []string{"/latest/meta-data/iam/security-credentials/" + testRole, "/latest/meta-data/iam/info"} {
		status, _, body := h.do(t, "GET", p, nil)
		var m map[string]string
		json.Unmarshal([]byte(body), &m)
		if status != 200 || m["Code"] != "AssumeRoleUnauthorizedAccess" || !strings.Contains(m["Message"], "EC2 cannot assume the role web-role") ||
			m["AccessKeyId"] != "" {
			t.Errorf("GET %s with trust denied: %d %s", p, status, body)
		}
	}
}

func TestStoppedInstanceHasNoCredentials(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(i *Instance) { i.State = "stopped" })
	if status, _ := credsOf(t, h); status != 404 {
		t.Fatalf("stopped instance: %d, want 404", status)
	}
}

func TestHopLimit(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("IP TTL is set on unix only")
	}
	t.Parallel()
	h := newHarness(t, func(i *Instance) { i.HttpPutResponseHopLimit = 3 })
	h.do(t, http.MethodPut, TokenPath, map[string]string{TokenTTLHeader: "60"})
	select {
	case ttl := <-h.closedTTL:
		if ttl != 3 {
			t.Fatalf("IP TTL of the token response's connection = %d, want 3", ttl)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the token response's connection was not closed")
	}
	// Other responses keep the system's TTL (the connection is kept alive and then
	// closed by the test server).
	h.do(t, "GET", "/latest/meta-data/instance-id", nil)
	h.ts.CloseClientConnections()
	select {
	case ttl := <-h.closedTTL:
		if ttl == 3 {
			t.Fatalf("a GET connection has the token TTL")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed")
	}
}

func TestRoleMode(t *testing.T) {
	t.Parallel()
	c := newClock()
	api := newFakeAPI(t, c.Now)
	srv, err := New(t.Context(), Config{Backend: api.client(), RoleArn: "arn:aws:iam::222222222222:role/app/deployer", Region: "eu-west-1",
		HTTPTokens: "required", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := startHarness(t, api, c, srv)
	tok := h.token(t, "60")
	hdr := map[string]string{TokenHeader: tok}
	_, _, id := h.do(t, "GET", "/latest/meta-data/instance-id", hdr)
	if !strings.HasPrefix(id, "i-") || len(id) != 19 {
		t.Errorf("synthetic instance id %q", id)
	}
	if _, _, region := h.do(t, "GET", "/latest/meta-data/placement/region", hdr); region != "eu-west-1" {
		t.Errorf("region %q", region)
	}
	if _, _, roles := h.do(t, "GET", "/latest/meta-data/iam/security-credentials/", hdr); roles != "deployer" {
		t.Errorf("roles %q", roles)
	}
	status, _, body := h.do(t, "GET", "/latest/meta-data/iam/security-credentials/deployer", hdr)
	if status != 200 || !strings.Contains(body, "ASIAFAKE000000000001") {
		t.Errorf("credentials %d %s", status, body)
	}
	if len(api.services) != 1 || api.services[0] != EC2Service || api.sessions[0] != id {
		t.Errorf("service principals asked: %v, sessions %v", api.services, api.sessions)
	}
	_, _, doc := h.do(t, "GET", "/latest/dynamic/instance-identity/document", hdr)
	if !strings.Contains(doc, `"accountId": "222222222222"`) {
		t.Errorf("identity document %s", doc)
	}
	// Stable across restarts.
	again, _ := SyntheticInstance("arn:aws:iam::222222222222:role/app/deployer", "eu-west-1", "", 0, time.Now())
	if again.InstanceId != id {
		t.Errorf("synthetic instance id not stable: %s, %s", again.InstanceId, id)
	}
}

func TestParseRoleArn(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "arn:aws:iam::111111111111:user/x", "arn:aws:iam::11111:role/x",
		"arn:aws:iam:us-east-1:111111111111:role/x", "arn:aws:sts::111111111111:role/x", "arn:aws:iam::111111111111:role/",
		"role/x"} {
		if _, _, _, err := ParseRoleArn(bad); err == nil {
			t.Errorf("ParseRoleArn(%q) accepted", bad)
		}
	}
	p, a, n, err := ParseRoleArn("arn:aws-cn:iam::111111111111:role/a/b/name")
	if err != nil || p != "aws-cn" || a != "111111111111" || n != "name" {
		t.Errorf("ParseRoleArn = %s %s %s %v", p, a, n, err)
	}
}

func TestCredentialsNotLogged(t *testing.T) {
	t.Parallel()
	c := Credentials{AccessKeyId: "ASIAX", SecretAccessKey: "very-secret", Token: "session-token"}
	var b strings.Builder
	for _, s := range []string{c.String(), c.LogValue().String()} {
		b.WriteString(s)
	}
	if strings.Contains(b.String(), "very-secret") || strings.Contains(b.String(), "session-token") {
		t.Fatalf("secret in %q", b.String())
	}
}
