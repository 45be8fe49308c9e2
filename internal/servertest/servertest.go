// Package servertest runs an iamlocal server in-process for tests, with aws-sdk-go-v2
// clients configured against it.
package servertest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/server"
	"github.com/iamlocal/iamlocal/internal/service"
)

// Management account and its root key in every test server.
const (
	Account       = "111111111111"
	RootKeyID     = "AKIAIOSFODNN7EXAMPLE"
	RootSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	DefaultRegion = "us-east-1"
)

// Server is a running test server.
type Server struct {
	URL     string
	Handler http.Handler
	DataDir string
	Env     *service.Env
	// InternalToken is the secret of the internal API (/_iamlocal/ec2/…, /_iamlocal/roles/…).
	InternalToken string
	close         func()
}

// Start runs a server on a fresh data directory (or dataDir, to test restarts).
func Start(t testing.TB, dataDir string) *Server {
	t.Helper()
	return StartClock(t, dataDir, time.Now)
}

// StartClock is Start with the server's clock.
func StartClock(t testing.TB, dataDir string, now func() time.Time) *Server {
	t.Helper()
	return StartWith(t, Options{DataDir: dataDir, Now: now})
}

// Options configure a test server as serve's flags do.
type Options struct {
	DataDir string           // "": a fresh one
	Now     func() time.Time // nil: time.Now
	// EndpointPorts is serve --endpoint-ports: the VPC endpoint listeners' ports.
	EndpointPorts server.PortRange
	// Log receives the server's warnings; nil discards them.
	Log *slog.Logger
	// RequestLog is serve --log-requests: a line per request; nil, none.
	RequestLog *slog.Logger
}

// StartWith runs a server with options.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	dataDir, now := o.DataDir, o.Now
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	if now == nil {
		now = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	st, ring, _, err := server.Open(context.Background(), server.Config{DataDir: dataDir, AccountID: Account,
		Region: DefaultRegion, RootAccessKeyID: RootKeyID, RootSecretAccessKey: RootSecret})
	if err != nil {
		t.Fatal(err)
	}
	env := &service.Env{Store: st, Ring: ring, Resolver: &directory.Resolver{Policies: directory.NewPolicies()},
		Region: DefaultRegion, ManagementAccount: Account, DataDir: dataDir}
	h := server.New(env, log, now)
	h.LogRequests(o.RequestLog)
	endpoints := h.Listeners()
	endpoints.SetPorts(o.EndpointPorts)
	env.Endpoints = endpoints
	if err := endpoints.Reopen(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	token, err := server.InternalToken(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	s := &Server{URL: hs.URL, Handler: h, DataDir: dataDir, Env: env, InternalToken: token}
	s.close = func() { hs.Close(); h.Close(context.Background()); endpoints.CloseAll(); st.Close() }
	t.Cleanup(s.Close)
	return s
}

// SyncLastAccessed waits until every decision made so far is in the store's
// last-accessed data (which the server otherwise writes once per second).
func (s *Server) SyncLastAccessed(t testing.TB) {
	t.Helper()
	if err := s.Handler.(*server.Server).LastAccess().Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Close stops the server (again is a no-op).
func (s *Server) Close() {
	if s.close != nil {
		s.close()
		s.close = nil
	}
}

// Creds are static credentials.
type Creds struct{ ID, Secret, Token string }

// Root is the management account's root user.
var Root = Creds{ID: RootKeyID, Secret: RootSecret}

func (s *Server) config(c Creds) aws.Config {
	return aws.Config{
		Region:           DefaultRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(c.ID, c.Secret, c.Token),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
		// Each request gets a body of its own (see ownBody) on a fresh connection.
		HTTPClient: &http.Client{Transport: ownBody{&http.Transport{DisableKeepAlives: true}}},
	}
}

// STS, IAM and Organizations return SDK clients signing with c.
func (s *Server) STS(c Creds) *sts.Client { return sts.NewFromConfig(s.config(c)) }
func (s *Server) IAM(c Creds) *iam.Client { return iam.NewFromConfig(s.config(c)) }
func (s *Server) Organizations(c Creds) *organizations.Client {
	return organizations.NewFromConfig(s.config(c))
}

// EC2 returns an EC2 client signing with c.
func (s *Server) EC2(c Creds) *ec2.Client { return ec2.NewFromConfig(s.config(c)) }

// ownBody hands the transport a body of its own, which the SDK cannot close: a fast
// answer can arrive before net/http's writeLoop has read the SDK's body to EOF, and
// the SDK then closes that body under it, which tears the connection down
// mid-response ("use of closed network connection"; aws-sdk-go-v2 issue 2737).
type ownBody struct{ rt http.RoundTripper }

func (o ownBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return o.rt.RoundTrip(r)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return o.rt.RoundTrip(r)
}

// S3 returns an S3 client signing with c, addressing buckets path-style.
func (s *Server) S3(c Creds) *s3.Client {
	return s3.NewFromConfig(s.config(c), func(o *s3.Options) { o.UsePathStyle = true })
}
