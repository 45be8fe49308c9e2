package imds

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	testInstance = "i-0123456789abcdef0"
	testAccount  = "111111111111"
	testRole     = "web-role"
	testRoleArn  = "arn:aws:iam::111111111111:role/web-role"
	testProfile  = "arn:aws:iam::111111111111:instance-profile/web"
)

func testInstanceDoc() Instance {
	return Instance{InstanceId: testInstance, AccountId: testAccount, Region: "us-east-1",
		AvailabilityZone: "us-east-1a", InstanceType: "t3.micro", ImageId: "ami-0abcdef1234567890",
		PrivateIpAddress: "10.0.0.12", LaunchTime: "2026-11-21T11:00:00Z", State: "running",
		HttpTokens: "optional", HttpEndpoint: "enabled", HttpPutResponseHopLimit: 1,
		InstanceProfileArn: testProfile, RoleName: testRole}
}

// fakeAPI implements the internal API of docs/imds.md.
type fakeAPI struct {
	mu       sync.Mutex
	now      func() time.Time
	inst     map[string]*Instance
	lifetime time.Duration
	denied   bool     // the role's trust policy does not allow the service
	down     bool     // answer 500
	issued   int      // credentials issued
	services []string // service= of role credential requests
	sessions []string // sessionName= of role credential requests
	srv      *httptest.Server
}

func newFakeAPI(t testing.TB, now func() time.Time) *fakeAPI {
	f := &fakeAPI{now: now, inst: map[string]*Instance{}, lifetime: time.Hour}
	inst := testInstanceDoc()
	f.inst[inst.InstanceId] = &inst
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_iamlocal/ec2/instances/{id}", f.getInstance)
	mux.HandleFunc("POST /_iamlocal/ec2/instances/{id}/credentials", f.instanceCredentials)
	mux.HandleFunc("POST /_iamlocal/roles/credentials", f.roleCredentials)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" { // the client's Token
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"Code":"AccessDenied","Message":"no secret"}`)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) client() *Client { return &Client{Endpoint: f.srv.URL, Token: "t"} }

func (f *fakeAPI) update(id string, fn func(*Instance)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.inst[id])
}

func (f *fakeAPI) set(fn func(*fakeAPI)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Code": code, "Message": msg})
}

func (f *fakeAPI) getInstance(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	inst := f.inst[r.PathValue("id")]
	if inst == nil {
		apiError(w, http.StatusNotFound, "InvalidInstanceID.NotFound", "The instance ID '"+r.PathValue("id")+"' does not exist")
		return
	}
	json.NewEncoder(w).Encode(inst)
}

func (f *fakeAPI) issue(w http.ResponseWriter, roleArn string) {
	if f.denied {
		apiError(w, http.StatusForbidden, "AccessDenied", "the trust policy of "+roleArn+" does not allow the service")
		return
	}
	f.issued++
	now := f.now()
	json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "LastUpdated": now.Format(time.RFC3339),
		"Type": "AWS-HMAC", "AccessKeyId": fmt.Sprintf("ASIAFAKE%012d", f.issued), "SecretAccessKey": fmt.Sprintf("secret-%d", f.issued),
		"Token": fmt.Sprintf("token-%d", f.issued), "Expiration": now.Add(f.lifetime).Format(time.RFC3339), "RoleArn": roleArn})
}

func (f *fakeAPI) instanceCredentials(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	inst := f.inst[r.PathValue("id")]
	switch {
	case inst == nil:
		apiError(w, http.StatusNotFound, "InvalidInstanceID.NotFound", "no such instance")
	case inst.RoleName == "":
		apiError(w, http.StatusNotFound, "NoRoleForInstance", "the instance has no instance profile")
	case inst.State != "running":
		apiError(w, http.StatusConflict, "IncorrectInstanceState", "the instance is "+inst.State)
	default:
		f.issue(w, "arn:aws:iam::"+inst.AccountId+":role/"+inst.RoleName)
	}
}

func (f *fakeAPI) roleCredentials(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	arn, svc := r.URL.Query().Get("roleArn"), r.URL.Query().Get("service")
	f.services = append(f.services, svc)
	f.sessions = append(f.sessions, r.URL.Query().Get("sessionName"))
	if !strings.HasPrefix(arn, "arn:aws:iam::") || svc == "" {
		apiError(w, http.StatusBadRequest, "ValidationError", "roleArn and service are required")
		return
	}
	f.issue(w, arn)
}

// harness is a metadata server over a fake API, on a real listener.
type harness struct {
	api   *fakeAPI
	clock *clock
	srv   *Server
	ts    *httptest.Server
	// closedTTL receives, for each server-side connection closed, its IP TTL then.
	closedTTL chan int
}

func newHarness(t testing.TB, mutate func(*Instance)) *harness {
	t.Helper()
	c := newClock()
	api := newFakeAPI(t, c.Now)
	if mutate != nil {
		api.update(testInstance, mutate)
	}
	srv, err := New(t.Context(), Config{Backend: api.client(), InstanceID: testInstance, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return startHarness(t, api, c, srv)
}

func startHarness(t testing.TB, api *fakeAPI, c *clock, srv *Server) *harness {
	h := &harness{api: api, clock: c, srv: srv, closedTTL: make(chan int, 100)}
	ts := httptest.NewUnstartedServer(srv)
	ts.Listener = &spyListener{Listener: ts.Listener, closed: h.closedTTL}
	ts.Config.ConnContext = ConnContext
	ts.Start()
	t.Cleanup(ts.Close)
	h.ts = ts
	return h
}

// spyListener reports each accepted connection's IP TTL when it is closed.
type spyListener struct {
	net.Listener
	closed chan int
}

func (l *spyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &spyConn{TCPConn: tc, closed: l.closed}, nil
	}
	return c, nil
}

type spyConn struct {
	*net.TCPConn
	closed chan int
	once   sync.Once
}

func (c *spyConn) Close() error {
	c.once.Do(func() {
		if ttl, err := getHopLimit(c.TCPConn); err == nil {
			select {
			case c.closed <- ttl:
			default:
			}
		}
	})
	return c.TCPConn.Close()
}

// do sends a request to the metadata server.
func (h *harness) do(t testing.TB, method, path string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// token obtains an IMDSv2 token.
func (h *harness) token(t testing.TB, ttl string) string {
	t.Helper()
	status, _, body := h.do(t, http.MethodPut, TokenPath, map[string]string{TokenTTLHeader: ttl})
	if status != http.StatusOK {
		t.Fatalf("PUT token: %d %s", status, body)
	}
	return body
}

// drop forgets the cached credentials.
func (c *credCache) drop() {
	c.mu.Lock()
	c.cur, c.lastTry = nil, time.Time{}
	c.mu.Unlock()
}
