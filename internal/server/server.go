// Package server is iamlocal's front door: it routes a request to its service,
// authenticates it (SigV4, long-term keys and sealed session tokens), runs the action
// in one transaction — authorization by the engine first — and writes the response in
// the service's protocol.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/authzmsg"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/events"
	"github.com/iamlocal/iamlocal/internal/lastaccess"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/service/ec2"
	"github.com/iamlocal/iamlocal/internal/service/iam"
	"github.com/iamlocal/iamlocal/internal/service/local"
	"github.com/iamlocal/iamlocal/internal/service/organizations"
	"github.com/iamlocal/iamlocal/internal/service/s3"
	"github.com/iamlocal/iamlocal/internal/service/sts"
	"github.com/iamlocal/iamlocal/internal/sigv4"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// maxBody caps request bodies; AWS's Query APIs take far less.
const maxBody = 1 << 20

// Server serves the AWS APIs.
type Server struct {
	env      *service.Env
	log      *slog.Logger
	now      func() time.Time
	verifier *sigv4.Verifier
	keys     *store.GenCache[string, longTermKey]
	s3       *s3.Plane
	inFlight admission // limits.go
	// internalToken is the internal API's secret (internal.go); empty refuses all.
	internalToken string
	// reqLog, when set, gets a line per request (reqlog.go).
	reqLog *slog.Logger
	// lastAccess keeps IAM's last-accessed data from the stream of decisions;
	// ownStream is set when New made env.Decisions, which Close then closes.
	lastAccess *lastaccess.Tracker
	ownStream  bool
}

// protocol is how a service speaks.
type protocol struct {
	name    string
	xmlns   string
	actions service.Table
	json    bool // JSON 1.1 with X-Amz-Target
	ec2     bool // EC2's Query dialect: its own response and error shapes
}

// Query services by SigV4 service name; JSON services by X-Amz-Target prefix.
var (
	querySvcs = map[string]*protocol{
		"sts": {name: "sts", xmlns: sts.XMLNS, actions: sts.Actions},
		"iam": {name: "iam", xmlns: iam.XMLNS, actions: iam.Actions},
		"ec2": {name: "ec2", xmlns: wire.EC2XMLNS, actions: ec2.Actions, ec2: true},
	}
	jsonSvcs = map[string]*protocol{
		organizations.TargetPrefix: {name: "organizations", actions: organizations.Actions, json: true},
		local.TargetPrefix:         {name: "iamlocal", actions: local.Actions, json: true}, // at local.Path only
	}
)

// New makes a server over an opened environment.
func New(env *service.Env, log *slog.Logger, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{env: env, log: log, now: now, verifier: &sigv4.Verifier{Keys: sigv4.NewSigningKeyCache(4096)},
		keys: store.NewGenCache[string, longTermKey](10_000), s3: s3.NewPlane()}
	var err error
	if s.internalToken, err = InternalToken(env.DataDir); err != nil {
		log.Error("the internal API refuses every request", "err", err)
	}
	if env.Decisions == nil {
		env.Decisions, s.ownStream = events.NewStream(), true
	}
	s.lastAccess = lastaccess.Start(env.Store, env.Decisions, log)
	return s
}

// Close stops what New started in the background: the stream of decisions drains
// and the last-accessed data still in memory is written. Call it before closing
// the store.
func (s *Server) Close(ctx context.Context) error {
	if s.ownStream {
		s.env.Decisions.Close()
	}
	return s.lastAccess.Close(ctx)
}

// LastAccess is the tracker of last-accessed data (tests call its Sync).
func (s *Server) LastAccess() *lastaccess.Tracker { return s.lastAccess }

func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ServeHTTP handles one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.reqLog != nil {
		s.serveLogged(w, r) // reqlog.go
		return
	}
	if isInternalPath(r) {
		s.serveIamlocal(w, r) // internal.go
		return
	}
	s.serve(w, r, nil)
}

// serve handles one AWS API request; rec, when the request log is on, learns who
// called what and what the engine said.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rec *reqRecord) {
	reqID := newRequestID()
	if rec != nil {
		rec.id = reqID
	}
	s3 := isS3(r)
	if !s.enter() {
		s.shed(w, r, s3, reqID)
		return
	}
	defer s.leave()
	if s3 {
		s.serveS3(w, r, reqID, rec)
		return
	}
	r, release := s.guardBody(w, r, false, maxBody+1)
	defer release()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		werr := wire.Errorf(http.StatusBadRequest, "IncompleteBody", "The request body could not be read")
		errors.As(err, &werr) // RequestTimeout, ServiceUnavailable
		s.writeError(w, s.protocolOf(r), werr, reqID)
		return
	}
	proto, action, params, werr := s.route(r, body)
	if werr != nil {
		s.writeError(w, proto, werr, reqID)
		return
	}
	if len(body) > maxBody {
		s.writeError(w, proto, wire.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body exceeds %d bytes", maxBody), reqID)
		return
	}
	if rec != nil {
		rec.action = proto.name + ":" + action.Name
	}
	result, err := s.call(r, body, proto, action, params, reqID, rec)
	if err != nil {
		if proto.ec2 {
			s.writeError(w, proto, s.ec2Error(err, action, reqID), reqID)
			return
		}
		s.writeError(w, proto, s.toWire(err, action, reqID), reqID)
		return
	}
	switch {
	case proto.json:
		wire.JSONResponse(w, result, reqID)
	case proto.ec2:
		wire.EC2Response(w, proto.xmlns, action.Name, result, reqID)
	default:
		wire.QueryResponse(w, proto.xmlns, action.Name, result, reqID)
	}
}

// route finds the service and action: JSON services by X-Amz-Target, Query services
// by the SigV4 scope's service name (or, unsigned, by the action's name).
func (s *Server) route(r *http.Request, body []byte) (*protocol, *service.Action, wire.Params, *wire.Error) {
	if target := r.Header.Get("X-Amz-Target"); target != "" || r.URL.Path == local.Path {
		prefix, name, _ := strings.Cut(target, ".")
		if (prefix == local.TargetPrefix) != (r.URL.Path == local.Path) { // iamlocal's own API, and only it, there
			return &protocol{json: true}, nil, wire.Params{}, wire.Errorf(http.StatusBadRequest, "UnknownOperationException", "The target %s is not served at %s", target, r.URL.Path)
		}
		proto := jsonSvcs[prefix]
		if proto == nil {
			return &protocol{json: true}, nil, wire.Params{}, wire.Errorf(http.StatusBadRequest, "UnknownOperationException", "The target %s is not a service iamlocal serves", target)
		}
		a := proto.actions[name]
		if a == nil {
			return proto, nil, wire.Params{}, wire.Errorf(http.StatusBadRequest, "UnknownOperationException", "The operation %s is not supported", name)
		}
		return proto, a, wire.Params{}, nil
	}
	proto := querySvcs["sts"]
	if svc := scopeService(r); svc != "" {
		if querySvcs[svc] == nil {
			return proto, nil, wire.Params{}, wire.Errorf(http.StatusBadRequest, "InvalidAction", "The service %s is not one iamlocal serves", svc)
		}
		proto = querySvcs[svc]
	}
	params, werr := wire.ParseQuery(r, body)
	if werr != nil {
		return proto, nil, params, werr
	}
	name := params.Get("Action")
	if name == "" {
		return proto, nil, params, wire.Errorf(http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action")
	}
	a := proto.actions[name]
	if a == nil {
		return proto, nil, params, wire.Errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", name, params.Get("Version"))
	}
	return proto, a, params, nil
}

// scopeService reads the service name from a SigV4 credential scope, if any.
func scopeService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		if i := strings.Index(auth, "Credential="); i >= 0 {
			cred = auth[i+len("Credential="):]
			if j := strings.IndexAny(cred, ", "); j >= 0 {
				cred = cred[:j]
			}
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) == 5 {
		return parts[3]
	}
	return ""
}

// call authenticates the request and runs the action in one transaction.
func (s *Server) call(r *http.Request, body []byte, proto *protocol, a *service.Action, params wire.Params, reqID string, rec *reqRecord) (any, error) {
	now := s.now()
	c := &service.Call{Ctx: r.Context(), Env: s.env, Params: params, Body: body, Now: now,
		RequestID: reqID, SourceIP: sourceIP(r), Secure: r.TLS != nil, Host: r.Host}
	rec.observe(c)
	var result any
	// One transaction for the whole call: who signed it, whether they may, and what
	// the action does all see the same state.
	run := func(tx store.Tx) error {
		id, region, err := s.authenticate(tx, r, body, now)
		if err != nil {
			return err
		}
		c.Tx, c.Identity, c.Region = tx, id, region
		if id == nil && !a.Anonymous {
			return wire.Errorf(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
		}
		if err := sessionTokenLimits(id, proto.name, a.Name); err != nil {
			return err
		}
		if c.Endpoint, err = s.endpointOf(r, tx); err != nil {
			return err
		}
		if err := authorize(c, a); err != nil {
			return err
		}
		result, err = a.Handle(c)
		return err
	}
	var err error
	if a.Write {
		err = s.env.Store.Write(r.Context(), run)
	} else {
		err = s.env.Store.Read(r.Context(), run)
	}
	return result, err
}

// authorize runs the front door's check of the action's IAM permission.
func authorize(c *service.Call, a *service.Action) error {
	if a.IAMAction == "" {
		return nil
	}
	resource, account := "*", c.Account()
	if a.Resource != nil {
		var err error
		if resource, account, err = a.Resource(c); err != nil {
			return err
		}
	}
	ctx := policy.Context{}
	if a.Context != nil {
		if err := a.Context(c, ctx); err != nil {
			return err
		}
	}
	req := service.Request{Action: a.IAMAction, Resource: resource, ResourceAccount: account, Context: ctx}
	if a.Grants != nil {
		var err error
		if req.Grants, err = a.Grants(c); err != nil {
			return err
		}
	}
	if a.ResourcePolicy != nil {
		p, err := a.ResourcePolicy(c)
		if err != nil {
			return err
		}
		if p != nil {
			req.ResourcePolicy, req.ResourceKind = p, authz.ResourcePolicy
		}
	}
	return c.Authorize(req)
}

// sessionTokenLimits applies AWS's limits on GetSessionToken credentials: no IAM
// without MFA, and in STS only AssumeRole and GetCallerIdentity.
func sessionTokenLimits(id *directory.Identity, svc, action string) error {
	if id != nil && id.Claims != nil && id.Claims.Type == "FederatedUser" {
		// GetFederationToken credentials: no IAM at all, and in STS only GetCallerIdentity.
		if svc == "iam" || (svc == "sts" && action != "GetCallerIdentity") {
			return wire.AccessDenied("Cannot call %s with federated user credentials", action)
		}
		return nil
	}
	if id == nil || id.Claims == nil || (id.Claims.Type != "User" && id.Claims.Type != "Root") {
		return nil
	}
	switch {
	case svc == "iam" && !id.Claims.MFA:
		return wire.Errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid")
	case svc == "sts" && action != "AssumeRole" && action != "GetCallerIdentity":
		return wire.AccessDenied("Cannot call %s with session credentials", action)
	}
	return nil
}

func isLoopback(r *http.Request) bool {
	ip := net.ParseIP(sourceIP(r))
	return ip != nil && ip.IsLoopback()
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return host
}

// toWire turns a handler's error into an AWS error; anything unexpected is logged
// and answered as an internal failure without details.
func (s *Server) toWire(err error, a *service.Action, reqID string) *wire.Error {
	if e := service.KnownError(err, wire.Errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid")); e != nil {
		return e
	}
	name := ""
	if a != nil {
		name = a.Name
	}
	s.log.Error("internal failure", "request", reqID, "action", name, "err", err)
	return &wire.Error{Code: "InternalFailure", Status: http.StatusInternalServerError,
		Message: fmt.Sprintf("The request processing has failed because of an unknown error (request %s)", reqID)}
}

// ec2Error is EC2's form of an error: UnauthorizedOperation with an encoded
// authorization message for denials (none when a VPC endpoint policy denied, as on
// AWS), AuthFailure 401 for credentials it cannot validate.
func (s *Server) ec2Error(err error, a *service.Action, reqID string) *wire.Error {
	var den *service.Denied
	if errors.As(err, &den) {
		msg := "You are not authorized to perform this operation."
		if !den.Decision.BlockedBy.Has(authz.Endpoint) {
			enc, encErr := authzmsg.Encode(s.env.Ring, authzmsg.Build(den.Decision, den.Request, den.Input, den.UserID))
			if encErr == nil {
				msg += " Encoded authorization failure message: " + enc
			}
		}
		return wire.Errorf(http.StatusForbidden, "UnauthorizedOperation", "%s", msg)
	}
	e := s.toWire(err, a, reqID)
	switch e.Code {
	case "InvalidClientTokenId", "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken":
		return wire.Errorf(http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case "ExpiredToken":
		return wire.Errorf(http.StatusBadRequest, "RequestExpired", "Request has expired.")
	}
	return e
}

func (s *Server) writeError(w http.ResponseWriter, proto *protocol, e *wire.Error, reqID string) {
	if proto != nil && proto.json {
		if e.Code == "AccessDenied" { // JSON services name it so
			e = &wire.Error{Code: "AccessDeniedException", Status: e.Status, Message: e.Message, Sender: true}
		}
		wire.JSONError(w, e, reqID)
		return
	}
	if proto != nil && proto.ec2 {
		wire.EC2Error(w, e, reqID)
		return
	}
	xmlns := sts.XMLNS
	if proto != nil && proto.xmlns != "" {
		xmlns = proto.xmlns
	}
	wire.QueryError(w, xmlns, e, reqID)
}
