// Package imds serves EC2's instance metadata service (IMDSv1 and IMDSv2) for one
// instance of iamlocal's EC2 plane, or for a role without an instance, and ECS's
// container-credentials endpoint. It reads instances and obtains credentials through
// the server's internal loopback API (docs/imds.md); it decides nothing itself: the
// server's engine decides whether a role trusts the EC2 or ECS service principal.
package imds

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Header names of IMDSv2.
const (
	TokenHeader    = "X-Aws-Ec2-Metadata-Token"
	TokenTTLHeader = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	// TokenPath is where IMDSv2 session tokens are issued (PUT).
	TokenPath = "/latest/api/token"
)

// Service principals credentials are issued to.
const (
	EC2Service = "ec2.amazonaws.com"
	ECSService = "ecs-tasks.amazonaws.com"
)

// Defaults of Config.
const (
	DefaultRefreshInterval = 10 * time.Second
	// DefaultRefreshBefore: credentials are renewed once less than this is left, so a
	// client always receives credentials valid for at least this long (the internal
	// API issues one-hour credentials).
	DefaultRefreshBefore = 15 * time.Minute
	// minRenewInterval bounds how often renewals are attempted while the cached
	// credentials are still valid (a server that issues short credentials, or is down).
	minRenewInterval = 30 * time.Second
)

// Config configures a metadata server.
type Config struct {
	Backend Backend
	// InstanceID selects instance mode: the metadata of this instance of the EC2 plane.
	InstanceID string
	// RoleArn selects role mode (when InstanceID is empty): a synthetic instance whose
	// profile's role is RoleArn.
	RoleArn string
	// Region, HTTPTokens ("optional" or "required") and HopLimit describe the synthetic
	// instance of role mode; defaults us-east-1, optional, 1.
	Region     string
	HTTPTokens string
	HopLimit   int
	// RefreshInterval is how often the instance is read again (instance mode), so
	// ModifyInstanceMetadataOptions and profile changes take effect.
	RefreshInterval time.Duration
	// RefreshBefore: see DefaultRefreshBefore.
	RefreshBefore time.Duration
	Now           func() time.Time
	Log           *slog.Logger
}

// Server is the metadata service's HTTP handler.
type Server struct {
	cfg    Config
	now    func() time.Time
	log    *slog.Logger
	tokens *tokenSigner
	creds  *credCache
	snap   atomic.Pointer[snapshot]

	mu         sync.Mutex
	lastErr    string // of the last failed refresh, to log each failure once
	hopWarning sync.Once
}

// snapshot is the instance as last read, and its metadata tree.
type snapshot struct {
	inst Instance
	tree *node
}

// New reads the instance (instance mode) or builds the synthetic one (role mode).
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("imds: no backend")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = DefaultRefreshBefore
	}
	s := &Server{cfg: cfg, now: cfg.Now, log: cfg.Log, tokens: newTokenSigner()}
	fetch := func(ctx context.Context) (*Credentials, error) {
		return cfg.Backend.InstanceCredentials(ctx, cfg.InstanceID)
	}
	if cfg.InstanceID == "" {
		if cfg.RoleArn == "" {
			return nil, errors.New("imds: neither an instance id nor a role ARN")
		}
		inst, err := SyntheticInstance(cfg.RoleArn, cfg.Region, cfg.HTTPTokens, cfg.HopLimit, cfg.Now())
		if err != nil {
			return nil, err
		}
		// The session is named after the (synthetic) instance, as EC2 names it, so
		// the credentials' aws:userid is AROA…:i-….
		fetch = func(ctx context.Context) (*Credentials, error) {
			return cfg.Backend.RoleCredentials(ctx, cfg.RoleArn, EC2Service, inst.InstanceId)
		}
		s.creds = newCredCache(fetch, cfg.Now, cfg.RefreshBefore, cfg.Log)
		s.install(inst)
		return s, nil
	}
	s.creds = newCredCache(fetch, cfg.Now, cfg.RefreshBefore, cfg.Log)
	inst, err := cfg.Backend.Instance(ctx, cfg.InstanceID)
	if err != nil {
		return nil, fmt.Errorf("reading instance %s: %w", cfg.InstanceID, err)
	}
	s.install(inst)
	return s, nil
}

// Instance is the instance as last read.
func (s *Server) Instance() Instance { return s.snap.Load().inst }

func (s *Server) install(inst *Instance) {
	normalize(inst)
	s.snap.Store(&snapshot{inst: *inst, tree: buildTree(inst, s.credentialLeaves(inst))})
}

func normalize(inst *Instance) {
	if inst.HttpTokens == "" {
		inst.HttpTokens = "optional"
	}
	if inst.HttpEndpoint == "" {
		inst.HttpEndpoint = "enabled"
	}
	if inst.HttpPutResponseHopLimit <= 0 {
		inst.HttpPutResponseHopLimit = 1
	}
	if inst.Tags == nil {
		inst.Tags = map[string]string{}
	}
	if inst.RoleName != "" && inst.InstanceProfileId == "" {
		inst.InstanceProfileId = syntheticID("AIPA", inst.InstanceProfileArn)
	}
}

// Refresh reads the instance again (instance mode; role mode has nothing to read).
func (s *Server) Refresh(ctx context.Context) error {
	if s.cfg.InstanceID == "" {
		return nil
	}
	inst, err := s.cfg.Backend.Instance(ctx, s.cfg.InstanceID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if msg := err.Error(); msg != s.lastErr {
			s.lastErr = msg
			s.log.Warn("cannot read the instance; serving what was last read", "instance", s.cfg.InstanceID, "err", err)
		}
		return err
	}
	if s.lastErr != "" {
		s.lastErr = ""
		s.log.Info("instance read again", "instance", s.cfg.InstanceID)
	}
	normalize(inst)
	if old := s.snap.Load().inst; !reflect.DeepEqual(old, *inst) {
		s.log.Info("instance changed", "instance", inst.InstanceId, "state", inst.State, "httpTokens", inst.HttpTokens,
			"httpEndpoint", inst.HttpEndpoint, "hopLimit", inst.HttpPutResponseHopLimit, "role", inst.RoleName)
		s.install(inst)
	}
	return nil
}

// Run reads the instance every RefreshInterval until ctx is done.
func (s *Server) Run(ctx context.Context) {
	if s.cfg.InstanceID == "" {
		return
	}
	t := time.NewTicker(s.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Refresh(ctx)
		}
	}
}

func (s *Server) credentialLeaves(inst *Instance) credentialLeaves {
	role, profileArn, profileID := inst.RoleName, inst.InstanceProfileArn, inst.InstanceProfileId
	get := func(ctx context.Context) (*Credentials, int, string) {
		c, err := s.creds.get(ctx, profileArn+"|"+role)
		if err == nil {
			return c, http.StatusOK, ""
		}
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
			s.log.Warn("EC2 cannot assume the role", "role", role, "err", err)
			return nil, http.StatusOK, failureDocument(s.now(), role)
		case errors.As(err, &ae) && ae.Status < 500:
			s.log.Warn("no credentials for the instance's role", "role", role, "err", err)
			return nil, http.StatusNotFound, ""
		default:
			s.log.Error("cannot obtain credentials", "role", role, "err", err)
			return nil, http.StatusServiceUnavailable, ""
		}
	}
	return credentialLeaves{
		info: func(ctx context.Context) (int, string) {
			c, status, body := get(ctx)
			if c == nil {
				return status, body
			}
			return http.StatusOK, infoDocument(c.LastUpdated, profileArn, profileID)
		},
		creds: func(ctx context.Context) (int, string) {
			c, status, body := get(ctx)
			if c == nil {
				return status, body
			}
			return http.StatusOK, credentialsDocument(c)
		},
	}
}

// ServeHTTP answers one metadata request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	snap := s.snap.Load()
	h := w.Header()
	h.Set("Server", "EC2ws")
	if snap.inst.HttpEndpoint == "disabled" {
		// As AWS: 403 Forbidden when the instance's metadata endpoint is turned off.
		errorPage(w, http.StatusForbidden)
		return
	}
	if r.URL.Path == TokenPath {
		s.serveToken(w, r, snap)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		errorPage(w, http.StatusMethodNotAllowed)
		return
	}
	if toks := r.Header.Values(TokenHeader); len(toks) > 0 {
		left, ok := s.tokens.verify(toks[0], s.now())
		if !ok || len(toks) != 1 {
			errorPage(w, http.StatusUnauthorized)
			return
		}
		h.Set(TokenTTLHeader, strconv.Itoa(int((left+time.Second-1)/time.Second)))
	} else if snap.inst.HttpTokens == "required" {
		errorPage(w, http.StatusUnauthorized)
		return
	}
	n := resolve(snap.tree, r.URL.Path)
	if n == nil {
		errorPage(w, http.StatusNotFound)
		return
	}
	status, body := http.StatusOK, ""
	if n.dir != nil {
		body = n.listing()
	} else {
		status, body = n.leaf(r.Context())
	}
	if status != http.StatusOK {
		errorPage(w, status)
		return
	}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, snap *snapshot) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", "PUT")
		errorPage(w, http.StatusMethodNotAllowed)
		return
	}
	if len(r.Header.Values("X-Forwarded-For")) > 0 {
		// IMDSv2 issues no token through a proxy.
		errorPage(w, http.StatusForbidden)
		return
	}
	ttl, ok := parseTTL(r.Header.Values(TokenTTLHeader))
	if !ok {
		errorPage(w, http.StatusBadRequest)
		return
	}
	tok := s.tokens.issue(s.now(), time.Duration(ttl)*time.Second)
	// The token's IP packets carry TTL = HttpPutResponseHopLimit, so a token does not
	// travel further than the instance allows. The connection is closed after this
	// response, so the lowered TTL never applies to anything else.
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
		if err := setHopLimit(c, snap.inst.HttpPutResponseHopLimit); err != nil {
			s.hopWarning.Do(func() {
				s.log.Warn("cannot set the IP TTL of token responses (HttpPutResponseHopLimit not applied)", "err", err)
			})
		}
		w.Header().Set("Connection", "close")
	}
	h := w.Header()
	h.Set(TokenTTLHeader, strconv.Itoa(ttl))
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", strconv.Itoa(len(tok)))
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(tok))
}

// parseTTL accepts exactly one X-aws-ec2-metadata-token-ttl-seconds of plain digits
// between MinTokenTTL and MaxTokenTTL.
func parseTTL(vals []string) (int, bool) {
	if len(vals) != 1 {
		return 0, false
	}
	v := strings.TrimSpace(vals[0])
	if v == "" || len(v) > 6 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < MinTokenTTL || n > MaxTokenTTL {
		return 0, false
	}
	return n, true
}

// errorPage writes IMDS's error answer: the status and a small XHTML page.
func errorPage(w http.ResponseWriter, status int) {
	msg := fmt.Sprintf("%d - %s", status, http.StatusText(status))
	body := `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
	"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>` + msg + `</title>
 </head>
 <body>
  <h1>` + msg + `</h1>
 </body>
</html>
`
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// credCache holds a role's credentials and renews them before they expire.
type credCache struct {
	fetch  func(context.Context) (*Credentials, error)
	now    func() time.Time
	before time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	key     string
	cur     *Credentials
	lastTry time.Time
}

func newCredCache(fetch func(context.Context) (*Credentials, error), now func() time.Time, before time.Duration, log *slog.Logger) *credCache {
	return &credCache{fetch: fetch, now: now, before: before, log: log}
}

// get returns credentials for key (the profile and role they belong to: a new key
// drops the old credentials). It renews them when less than c.before is left, at
// most every minRenewInterval while the old ones are valid, and keeps serving the
// old ones, while valid, when a renewal fails.
func (c *credCache) get(ctx context.Context, key string) (*Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if key != c.key {
		c.key, c.cur, c.lastTry = key, nil, time.Time{}
	}
	valid := c.cur != nil && c.cur.Expiration.After(now)
	if valid && (c.cur.Expiration.Sub(now) >= c.before || now.Sub(c.lastTry) < minRenewInterval) {
		return c.cur, nil
	}
	c.lastTry = now
	fresh, err := c.fetch(ctx)
	if err != nil {
		if valid {
			c.log.Warn("cannot renew credentials; serving the current ones until they expire",
				"expiration", c.cur.Expiration, "err", err)
			return c.cur, nil
		}
		return nil, err
	}
	if fresh.LastUpdated.IsZero() {
		fresh.LastUpdated = now
	}
	c.cur = fresh
	return fresh, nil
}

// SyntheticInstance is the instance of role mode: an instance of the role's account
// whose profile (named after the role) holds the role. Its ids are derived from the
// role ARN, so they are stable across restarts.
func SyntheticInstance(roleArn, region, httpTokens string, hopLimit int, now time.Time) (*Instance, error) {
	partition, account, roleName, err := ParseRoleArn(roleArn)
	if err != nil {
		return nil, err
	}
	if region == "" {
		region = "us-east-1"
	}
	switch httpTokens {
	case "":
		httpTokens = "optional"
	case "optional", "required":
	default:
		return nil, fmt.Errorf("http tokens %q: want optional or required", httpTokens)
	}
	if hopLimit == 0 {
		hopLimit = 1
	}
	if hopLimit < 1 || hopLimit > 64 {
		return nil, fmt.Errorf("hop limit %d: want 1 to 64", hopLimit)
	}
	sum := sha256.Sum256([]byte(roleArn))
	profileArn := "arn:" + partition + ":iam::" + account + ":instance-profile/" + roleName
	return &Instance{
		InstanceId: "i-" + hex.EncodeToString(sum[:9])[:17], AccountId: account, Region: region,
		AvailabilityZone: region + "a", InstanceType: "t3.micro", ImageId: "ami-" + hex.EncodeToString(sum[9:18])[:17],
		PrivateIpAddress: "172.31." + strconv.Itoa(int(sum[18])) + "." + strconv.Itoa(int(sum[19])%250+4),
		LaunchTime:       now.UTC().Format(time.RFC3339), State: "running",
		HttpTokens: httpTokens, HttpEndpoint: "enabled", HttpPutResponseHopLimit: hopLimit,
		InstanceProfileArn: profileArn, InstanceProfileId: syntheticID("AIPA", profileArn), RoleName: roleName,
	}, nil
}

// ParseRoleArn splits arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.
func ParseRoleArn(arn string) (partition, account, name string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "iam" || parts[3] != "" ||
		len(parts[4]) != 12 || strings.Trim(parts[4], "0123456789") != "" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", "", fmt.Errorf("%q is not a role ARN (arn:aws:iam::123456789012:role/NAME)", arn)
	}
	name = parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	if name == "" {
		return "", "", "", fmt.Errorf("%q is not a role ARN: no role name", arn)
	}
	return parts[1], parts[4], name, nil
}

// syntheticID is an IAM-style unique id (prefix and 17 characters) derived from s.
func syntheticID(prefix, s string) string {
	sum := sha256.Sum256([]byte(s))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// connKey keys the accepted connection in a request's context.
type connKey struct{}

// ConnContext is an http.Server ConnContext that lets the handler reach the
// connection (to set the IP TTL of token responses).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// NewHTTPServer is an http.Server for h with the connection in each request's
// context (see ConnContext) and timeouts fit for a metadata service.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ConnContext: ConnContext, ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
}
