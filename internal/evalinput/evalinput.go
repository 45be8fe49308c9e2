// Package evalinput reads the `iamlocal eval` request format (docs/eval.md), runs each
// request through the decision engine and renders the decisions.
package evalinput

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/policycheck"
)

// Options adjust how requests are read.
type Options struct {
	// Now, when set, fills aws:CurrentTime and aws:EpochTime unless a request sets them.
	Now time.Time
	// Strict refuses a request whose policies the doors that store them would refuse.
	// Otherwise such a request is decided, as the IAM policy simulator decides it, and
	// each finding becomes a warning of its decision.
	Strict bool
}

// Matched is one statement that applied to a request.
type Matched struct {
	Layer     string `json:"layer"`
	Level     *int   `json:"level,omitempty"`
	Policy    int    `json:"policy"`
	Statement int    `json:"statement"`
	Sid       string `json:"sid,omitempty"`
	Effect    string `json:"effect"`
}

// Output is one decision in the `--json` shape, or, for a request that could not be
// read, its error in the decision's place.
type Output struct {
	Decision           string      `json:"decision"`
	BlockedBy          []string    `json:"blockedBy"`
	MatchedStatements  []Matched   `json:"matchedStatements"`
	MissingContextKeys []string    `json:"missingContextKeys"`
	Warnings           []Warning   `json:"warnings,omitempty"`
	Error              *InputError `json:"-"`
}

// MarshalJSON writes an error entry as {"error": …, "field": …} alone.
func (o Output) MarshalJSON() ([]byte, error) {
	if o.Error != nil {
		return json.Marshal(struct {
			Error string `json:"error"`
			Field string `json:"field,omitempty"`
		}{o.Error.Error(), o.Error.Field})
	}
	type plain Output
	return json.Marshal(plain(o))
}

// Warning is a finding about one of the request's policies: what the door that would
// store it refuses it for (the request is decided anyway, with the element meaning
// what AWS documents), or, with a finding type and an issue code, what AWS's data says
// is wrong with it (internal/policycheck: an action or condition key that does not
// exist, a resource no action of the statement applies to…).
type Warning struct {
	Layer     string `json:"layer"`
	Level     *int   `json:"level,omitempty"`
	Policy    int    `json:"policy"`
	Statement *int   `json:"statement,omitempty"` // absent: the document as a whole
	Message   string `json:"message"`
	Type      string `json:"findingType,omitempty"` // AWS's data: ERROR, SECURITY_WARNING, WARNING, SUGGESTION
	Code      string `json:"issueCode,omitempty"`   // AWS's data: Access Analyzer's issue code (INVALID_ACTION…)
	Path      string `json:"path,omitempty"`        // AWS's data: the value at fault, Statement[0].Action[1]
}

// InputError is invalid input, naming the request and the field at fault.
type InputError struct {
	Index int // request index in the input array (0 for a single request)
	Field string
	Err   error
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("request %d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("request %d: %s: %v", e.Index, e.Field, e.Err)
}

func (e *InputError) Unwrap() error { return e.Err }

// Case is one request ready for the engine, or the error that kept it from being read.
type Case struct {
	Request  policy.Request
	Input    authz.Input
	Warnings []Warning
	Err      *InputError
}

// rawRequest is the wire form of one request.
type rawRequest struct {
	Principal                 string                     `json:"principal"`
	RoleArn                   string                     `json:"roleArn"`
	Action                    string                     `json:"action"`
	Resource                  string                     `json:"resource"`
	ResourceAccount           string                     `json:"resourceAccount"`
	Context                   map[string]json.RawMessage `json:"context"`
	IdentityPolicies          []json.RawMessage          `json:"identityPolicies"`
	PermissionsBoundary       json.RawMessage            `json:"permissionsBoundary"`
	SessionPolicies           []json.RawMessage          `json:"sessionPolicies"`
	ResourcePolicy            json.RawMessage            `json:"resourcePolicy"`
	ResourcePolicyType        string                     `json:"resourcePolicyType"`
	EndpointPolicy            json.RawMessage            `json:"endpointPolicy"`
	SCPs                      [][]json.RawMessage        `json:"scps"`
	RCPs                      [][]json.RawMessage        `json:"rcps"`
	ManagementAccount         bool                       `json:"managementAccount"`
	ResourceManagementAccount *bool                      `json:"resourceManagementAccount"`
	ServiceLinkedRole         bool                       `json:"serviceLinkedRole"`
}

// Parse reads one request object or an array of them; array reports which. A single
// request that cannot be read is the error; in an array, each such request is a Case
// with Err set, in its place, and the others are decided.
func Parse(data []byte, opts Options) (cases []*Case, array bool, err error) {
	data = bytes.TrimSpace(data)
	var raws []json.RawMessage
	if len(data) > 0 && data[0] == '[' {
		array = true
		if err := json.Unmarshal(data, &raws); err != nil {
			return nil, true, &InputError{Err: fmt.Errorf("invalid JSON: %v", err)}
		}
	} else {
		raws = []json.RawMessage{data}
	}
	for i, raw := range raws {
		c, err := parseOne(raw, opts)
		if err != nil {
			err.Index = i
			if !array {
				return nil, false, err
			}
			c = &Case{Err: err}
		}
		cases = append(cases, c)
	}
	return cases, array, nil
}

func parseOne(raw json.RawMessage, opts Options) (*Case, *InputError) {
	var r rawRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return nil, &InputError{Err: fmt.Errorf("invalid request: %v", err)}
	}
	fail := func(field string, err error) (*Case, *InputError) {
		return nil, &InputError{Field: field, Err: err}
	}
	c := &Case{}
	req := &c.Request
	switch {
	case r.Principal == "":
		return fail("principal", fmt.Errorf("required"))
	case r.Action == "":
		return fail("action", fmt.Errorf("required"))
	case r.Resource == "":
		return fail("resource", fmt.Errorf("required"))
	}
	caller, err := policy.ParseCaller(r.Principal)
	if err != nil {
		return fail("principal", err)
	}
	if r.RoleArn != "" {
		if caller.Kind != policy.AssumedRole || !strings.HasSuffix(r.RoleArn, "/"+caller.RoleName) ||
			!strings.HasPrefix(r.RoleArn, "arn:"+caller.Partition+":iam::"+caller.Account+":role/") {
			return fail("roleArn", fmt.Errorf("%q is not the role of principal %q", r.RoleArn, r.Principal))
		}
		caller.RoleArn = r.RoleArn
	}
	if strings.Count(r.Action, ":") != 1 || strings.ContainsAny(r.Action, "*? ") {
		return fail("action", fmt.Errorf("%q is not an action such as s3:GetObject", r.Action))
	}
	req.Caller, req.Action, req.Resource = caller, r.Action, r.Resource
	req.ResourceAccount = r.ResourceAccount
	if req.ResourceAccount == "" {
		req.ResourceAccount = policy.OwnerAccount(r.Resource)
	}
	if req.ResourceAccount == "" {
		req.ResourceAccount = caller.Account
	}
	if req.Context, err = readContext(r.Context, opts.Now); err != nil {
		return fail("context", err)
	}
	// An action without resource-level permissions (the service authorization
	// reference lists no resource type for it) is authorized on "*" alone: AWS decides
	// it so whatever resource the request names, and only statements whose Resource
	// matches "*" apply.
	if res, changed := authz.AuthorizedResource(r.Action, r.Resource); changed {
		c.Warnings = append(c.Warnings, Warning{Layer: "request", Message: fmt.Sprintf(
			"%s has no resource-level permissions: AWS authorizes it on \"*\", so the request is decided on \"*\", not on %s", r.Action, r.Resource)})
		req.Resource = res
	}

	in := &c.Input
	if e := parseInput(&r, in, opts.Strict, &c.Warnings); e != nil {
		return nil, e
	}
	in.ManagementAccount = r.ManagementAccount
	in.ServiceLinkedRole = r.ServiceLinkedRole
	if r.ResourceManagementAccount != nil {
		in.ResourceManagement = *r.ResourceManagementAccount
	} else {
		in.ResourceManagement = r.ManagementAccount && caller.Account != "" && req.ResourceAccount == caller.Account
	}
	req.Prepare()
	return c, nil
}

// parseInput compiles every policy of the request, naming the field of one that fails;
// leniently, the doors' findings become warnings.
func parseInput(r *rawRequest, in *authz.Input, strict bool, warnings *[]Warning) *InputError {
	var err *InputError
	parse := policy.ParseLenient
	if strict {
		parse = policy.Parse
	}
	// one compiles the policy at index i (of level, for SCPs and RCPs) of a layer.
	one := func(field string, layer authz.Layer, level, i int, raw json.RawMessage, kind policy.Kind) *policy.Policy {
		if err != nil || len(raw) == 0 || string(raw) == "null" {
			return nil
		}
		p, e := parse(raw, kind)
		if e != nil {
			err = &InputError{Field: field, Err: e}
			return nil
		}
		for _, f := range p.Findings {
			*warnings = append(*warnings, newWarning(layer, level, i, f))
		}
		// The checks of AWS's data run here, when the request is read, never in the
		// engine's decision.
		for _, f := range policycheck.Check(p) {
			*warnings = append(*warnings, dataWarning(layer, level, i, f))
		}
		return p
	}
	list := func(field string, layer authz.Layer, level int, raws []json.RawMessage, kind policy.Kind) []*policy.Policy {
		var out []*policy.Policy
		for i, raw := range raws {
			if p := one(fmt.Sprintf("%s[%d]", field, i), layer, level, i, raw, kind); p != nil {
				out = append(out, p)
			}
		}
		return out
	}
	levels := func(field string, layer authz.Layer, raws [][]json.RawMessage, kind policy.Kind) [][]*policy.Policy {
		if raws == nil {
			return nil
		}
		out := make([][]*policy.Policy, len(raws))
		for i, lv := range raws {
			out[i] = list(fmt.Sprintf("%s[%d]", field, i), layer, i, lv, kind)
		}
		return out
	}
	switch r.ResourcePolicyType {
	case "":
		in.ResourceKind = authz.ResourceKindFor(r.Action, r.Resource)
	case "resource":
		in.ResourceKind = authz.ResourcePolicy
	case "trust":
		in.ResourceKind = authz.TrustPolicy
	case "key":
		in.ResourceKind = authz.KeyPolicy
	default:
		return &InputError{Field: "resourcePolicyType", Err: fmt.Errorf("%q: want resource, trust or key", r.ResourcePolicyType)}
	}
	resourceKind := in.ResourceKind.PolicyKind()
	in.Identity = list("identityPolicies", authz.Identity, -1, r.IdentityPolicies, policy.Identity)
	in.Boundary = one("permissionsBoundary", authz.PermissionsBoundary, -1, 0, r.PermissionsBoundary, policy.Boundary)
	in.Session = list("sessionPolicies", authz.Session, -1, r.SessionPolicies, policy.Session)
	in.Resource = one("resourcePolicy", authz.Resource, -1, 0, r.ResourcePolicy, resourceKind)
	in.Endpoint = one("endpointPolicy", authz.Endpoint, -1, 0, r.EndpointPolicy, policy.Endpoint)
	in.SCPs = levels("scps", authz.SCP, r.SCPs, policy.SCP)
	in.RCPs = levels("rcps", authz.RCP, r.RCPs, policy.RCP)
	return err
}

// newWarning places a door finding: its layer, level (SCPs, RCPs), policy and statement.
func newWarning(layer authz.Layer, level, i int, f *policy.Error) Warning {
	msg := f.Text()
	if f.Element != "" {
		msg = f.Element + ": " + msg
	}
	w := Warning{Layer: layer.String(), Policy: i, Message: msg}
	if level >= 0 {
		w.Level = &level
	}
	if f.Statement >= 0 {
		st := f.Statement
		w.Statement = &st
	}
	return w
}

// dataWarning places a finding of the checks of AWS's data.
func dataWarning(layer authz.Layer, level, i int, f policycheck.Finding) Warning {
	w := Warning{Layer: layer.String(), Policy: i, Message: f.Message, Type: f.Type, Code: f.Code, Path: f.Path}
	if level >= 0 {
		w.Level = &level
	}
	if f.Statement >= 0 {
		st := f.Statement
		w.Statement = &st
	}
	return w
}

// readContext turns the JSON context into engine form; the clock fills the time keys.
func readContext(raw map[string]json.RawMessage, now time.Time) (policy.Context, error) {
	ctx := policy.Context{}
	for k, v := range raw {
		values, err := contextValues(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		if _, dup := ctx[strings.ToLower(k)]; dup {
			return nil, fmt.Errorf("%s: given twice (key names are case-insensitive)", k)
		}
		ctx.Set(k, values...)
	}
	if !now.IsZero() {
		if _, ok := ctx["aws:currenttime"]; !ok {
			ctx.Set("aws:CurrentTime", now.UTC().Format(time.RFC3339))
		}
		if _, ok := ctx["aws:epochtime"]; !ok {
			ctx.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
		}
	}
	return ctx, nil
}

func contextValues(raw json.RawMessage) ([]string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	scalar := func(v any) (string, error) {
		switch t := v.(type) {
		case string:
			return t, nil
		case json.Number:
			return t.String(), nil
		case bool:
			return strconv.FormatBool(t), nil
		}
		return "", fmt.Errorf("a value is a string, number, boolean or a list of them")
	}
	if list, ok := v.([]any); ok {
		out := make([]string, 0, len(list))
		for _, item := range list {
			s, err := scalar(item)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// Decide runs one case through the engine, by the path the simulators share
// (authz.Evaluate).
func (c *Case) Decide() *authz.Decision {
	return authz.Evaluate(&c.Request, &c.Input)
}

// Output decides the case and renders the decision, its warnings included, or the
// case's error.
func (c *Case) Output() Output {
	if c.Err != nil {
		return Output{Error: c.Err}
	}
	d := c.Decide()
	o := NewOutput(d)
	o.Warnings = c.Warnings
	if d.Protected != "" {
		o.Warnings = append(o.Warnings, Warning{Layer: authz.AWSOwned.String(), Message: d.Protected})
	}
	return o
}

// NewOutput renders a decision in the `--json` shape.
func NewOutput(d *authz.Decision) Output {
	o := Output{Decision: d.Outcome.String(), BlockedBy: []string{}, MatchedStatements: []Matched{}, MissingContextKeys: []string{}}
	for _, l := range d.BlockedBy.List() {
		o.BlockedBy = append(o.BlockedBy, l.String())
	}
	for _, m := range d.Matched {
		om := Matched{Layer: m.Layer.String(), Policy: m.Policy, Statement: m.Statement, Sid: m.Sid, Effect: m.Effect.String()}
		if m.Layer == authz.SCP || m.Layer == authz.RCP {
			level := m.Level
			om.Level = &level
		}
		o.MatchedStatements = append(o.MatchedStatements, om)
	}
	o.MissingContextKeys = append(o.MissingContextKeys, d.Missing...)
	return o
}

// Evaluate decides every request in data: one request object or an array of them.
// array reports which form data had.
func Evaluate(data []byte, opts Options) (outs []Output, array bool, err error) {
	cases, array, err := Parse(data, opts)
	if err != nil {
		return nil, array, err
	}
	for _, c := range cases {
		outs = append(outs, c.Output())
	}
	return outs, array, nil
}
