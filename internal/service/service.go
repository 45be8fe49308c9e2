// Package service holds what every AWS service of iamlocal shares: an action table
// describing each API action (its IAM action, resource, condition keys and handler),
// and the Call a handler works with. A service never decides access itself: it
// describes the request, and Call.Authorize asks the engine.
package service

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/events"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/sigv4"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Env is what handlers share across calls.
type Env struct {
	Store    store.Store
	Ring     *session.Ring
	Resolver *directory.Resolver
	Region   string
	// ManagementAccount is the account whose root user bootstraps the server.
	ManagementAccount string
	// DataDir is the data directory, for services that keep files (S3 objects).
	DataDir string
	// Endpoints opens and closes the loopback listeners of VPC endpoints; nil when the
	// server runs without them (tests that do not need them).
	Endpoints EndpointListeners
	// Decisions receives a record of every decision Authorize makes; nil drops them.
	Decisions *events.Stream
}

// EndpointListeners gives each VPC endpoint its own loopback listener.
type EndpointListeners interface {
	// Open starts a listener for the endpoint (on port, or a free one when 0) and
	// returns its address, host:port.
	Open(endpointID string, port int) (string, error)
	Close(endpointID string) error
}

// NoEndpointPortError is Open's error when every port of the configured range
// (serve --endpoint-ports) is taken.
type NoEndpointPortError struct{ Range string }

func (e *NoEndpointPortError) Error() string {
	return "every port of the --endpoint-ports range " + e.Range + " is taken"
}

// Endpoint is the VPC endpoint a request came through.
type Endpoint struct {
	ID     string
	Policy *policy.Policy // nil: the default policy, which allows everything
}

// Action describes one API action.
type Action struct {
	Name string
	// IAMAction is authorized by the front door before Handle runs, on the resource
	// Resource returns; "" when the action needs no permission (GetCallerIdentity)
	// or authorizes itself inside Handle.
	IAMAction string
	// Resource returns the resource ARN and the account that owns it; nil means "*"
	// in the caller's account.
	Resource func(c *Call) (arn, account string, err error)
	// ResourcePolicy returns the resource-based policy of the resource that Resource
	// names, for the engine's resource layer (Organizations' delegation policy); nil
	// when the resource has none, as when the field is nil.
	ResourcePolicy func(c *Call) (*policy.Policy, error)
	// Context adds the request's condition keys (aws:RequestTag, iam:PermissionsBoundary…).
	Context func(c *Call, ctx policy.Context) error
	// Write runs the call in a read-write transaction.
	Write bool
	// Anonymous actions may be called without a signature (AssumeRoleWithWebIdentity).
	Anonymous bool
	// Grants returns the permissions an account gives its principals beyond their
	// policies (the password policy's AllowUsersToChangePassword); they join the
	// caller's identity-based policies in the decision. nil: none.
	Grants func(c *Call) ([]*policy.Policy, error)
	Handle func(c *Call) (any, error)
}

// Call is one API call in progress.
type Call struct {
	Ctx       context.Context
	Env       *Env
	Tx        store.Tx
	Identity  *directory.Identity // nil for an anonymous caller
	Params    wire.Params         // Query protocol
	Body      []byte              // JSON protocol
	Now       time.Time
	RequestID string
	SourceIP  string
	Secure    bool
	Host      string // the request's Host header
	Region    string
	// Endpoint is set when the request came through a VPC endpoint's listener.
	Endpoint *Endpoint
	// Trace, when set (serve --log-requests), records what the engine decided.
	Trace *Trace
}

// Trace is what the engine decided during one call, for the request log.
type Trace struct {
	// Action is the first action authorized (the S3 plane's s3:GetObject…).
	Action string
	// Denied is the first denial's decision, and DeniedAction its action.
	Denied       *authz.Decision
	DeniedAction string
}

// Account is the caller's account.
func (c *Call) Account() string {
	if c.Identity == nil {
		return ""
	}
	return c.Identity.Caller.Account
}

// Request describes one authorization question beyond the front door's.
type Request struct {
	Action          string
	Resource        string
	ResourceAccount string
	Context         policy.Context
	ResourcePolicy  *policy.Policy
	ResourceKind    authz.ResourcePolicyKind
	// Grants are identity-based policies the caller's account grants it (Action.Grants).
	Grants []*policy.Policy
}

// Decide asks the engine about a request by the caller: it gathers the caller's
// layers, the resource account's RCPs and the request's global context keys.
func (c *Call) Decide(req Request) (*authz.Decision, *policy.Request, error) {
	d, _, pr, err := c.decide(req)
	return d, pr, err
}

func (c *Call) decide(req Request) (*authz.Decision, *authz.Input, *policy.Request, error) {
	in := &authz.Input{Resource: req.ResourcePolicy, ResourceKind: req.ResourceKind}
	if c.Endpoint != nil {
		in.Endpoint = c.Endpoint.Policy
		if in.Endpoint == nil {
			in.Endpoint = fullAccessEndpoint
		}
	}
	ctx := make(policy.Context, len(req.Context)+8)
	for k, v := range req.Context {
		ctx[k] = v
	}
	c.globalContext(ctx)
	pr := &policy.Request{Action: req.Action, Resource: req.Resource, ResourceAccount: req.ResourceAccount, Context: ctx}
	if c.Identity != nil {
		pr.Caller = c.Identity.Caller
		if err := c.Env.Resolver.CallerSide(c.Tx, c.Identity, in, ctx, c.Now); err != nil {
			return nil, nil, nil, err
		}
		in.Identity = append(in.Identity, req.Grants...)
	} else {
		pr.Caller = policy.Caller{Kind: policy.Anonymous, Arn: "anonymous"}
	}
	if err := c.Env.Resolver.ResourceSide(c.Tx, req.ResourceAccount, in, ctx); err != nil {
		return nil, nil, nil, err
	}
	pr.Prepare()
	d := &authz.Decision{}
	authz.Decide(pr, in, d)
	return d, in, pr, nil
}

// Denied is a request the engine refused, with everything needed to say why: the
// front door turns it into each protocol's error (AccessDenied with AWS's enhanced
// message; EC2's UnauthorizedOperation with an encoded authorization message).
type Denied struct {
	Decision *authz.Decision
	Request  *policy.Request
	Input    *authz.Input
	UserID   string
	Message  string // AWS's AccessDenied message
}

func (d *Denied) Error() string { return "AccessDenied: " + d.Message }

// Authorize decides a request; a denial is a *Denied.
func (c *Call) Authorize(req Request) error {
	d, in, pr, err := c.decide(req)
	if err != nil {
		return err
	}
	if t := c.Trace; t != nil {
		if t.Action == "" {
			t.Action = req.Action
		}
		if !d.Allowed() && t.Denied == nil {
			t.Denied, t.DeniedAction = d, req.Action
		}
	}
	c.publish(req, d.Outcome)
	if d.Allowed() {
		return nil
	}
	den := &Denied{Decision: d, Request: pr, Input: in, Message: AccessDenied(c, req.Action, req.Resource, d).Message}
	if c.Identity != nil {
		den.UserID = c.Identity.UserID
	}
	return den
}

// publish hands the decision to the stream of decisions (bounded, never blocking).
func (c *Call) publish(req Request, outcome authz.Outcome) {
	if c.Env.Decisions == nil {
		return
	}
	r := events.Record{Time: c.Now, RequestID: c.RequestID, Action: req.Action, Resource: req.Resource,
		ResourceAccount: req.ResourceAccount, Outcome: outcome, Region: c.Region, Principal: "anonymous"}
	if id := c.Identity; id != nil {
		r.Account, r.Principal, r.Entity = id.Caller.Account, id.Caller.Arn, events.EntityOf(&id.Caller)
		r.UniqueID, r.AccessKeyID = id.UserID, id.AccessKeyID
	}
	c.Env.Decisions.Publish(r)
}

// fullAccessEndpoint is the default VPC endpoint policy.
var fullAccessEndpoint = func() *policy.Policy {
	p, err := policy.Parse([]byte(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`), policy.Endpoint)
	if err != nil {
		panic(err)
	}
	return p
}()

// AccessDenied is AWS's message: "User: ARN is not authorized to perform: ACTION on
// resource: RESOURCE because …".
func AccessDenied(c *Call, action, resource string, d *authz.Decision) *wire.Error {
	who := "anonymous"
	if c.Identity != nil {
		who = c.Identity.Caller.Arn
	}
	return wire.Errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: %s on resource: %s%s",
		who, action, resource, d.Reason(action))
}

// globalContext adds the keys every request carries.
func (c *Call) globalContext(ctx policy.Context) {
	setDefault := func(k string, v ...string) {
		if _, ok := ctx[k]; !ok {
			ctx[k] = v
		}
	}
	setDefault("aws:currenttime", c.Now.UTC().Format(time.RFC3339))
	setDefault("aws:epochtime", strconv.FormatInt(c.Now.Unix(), 10))
	setDefault("aws:securetransport", strconv.FormatBool(c.Secure))
	setDefault("aws:viaawsservice", "false")
	if c.Endpoint != nil {
		// Through a VPC endpoint AWS sets aws:SourceVpce and not aws:SourceIp.
		setDefault("aws:sourcevpce", c.Endpoint.ID)
	} else if c.SourceIP != "" {
		setDefault("aws:sourceip", c.SourceIP)
	}
	if c.Region != "" {
		setDefault("aws:requestedregion", c.Region)
	}
}

// Table maps wire action names to actions.
type Table map[string]*Action

// NewTable indexes actions by name.
func NewTable(actions ...*Action) Table {
	t := Table{}
	t.Add(actions...)
	return t
}

// Add indexes more actions.
func (t Table) Add(actions ...*Action) {
	for _, a := range actions {
		t[a.Name] = a
	}
}

// KnownError maps the errors every front end meets — AWS errors, the engine's
// denials, signature failures, a vanished principal (answered with noEntity), a
// canceled request — to their AWS form; nil for anything else, which the caller logs
// and answers as an internal failure.
func KnownError(err error, noEntity *wire.Error) *wire.Error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	var den *Denied
	if errors.As(err, &den) {
		return wire.Errorf(http.StatusForbidden, "AccessDenied", "%s", den.Message)
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &wire.Error{Code: se.Code, Status: se.Status, Message: se.Message, Sender: true}
	}
	if errors.Is(err, directory.ErrNoEntity) {
		return noEntity
	}
	if errors.Is(err, context.Canceled) {
		return &wire.Error{Code: "RequestCanceled", Status: 499, Message: "The request was canceled"}
	}
	return nil
}
