package iam

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// The policy simulator: the same engine as every request, run on the policies of a
// principal (SimulatePrincipalPolicy) or on policies given in the call
// (SimulateCustomPolicy), for each action and resource asked about.

func init() {
	register(
		&service.Action{Name: "SimulatePrincipalPolicy", IAMAction: "iam:SimulatePrincipalPolicy",
			Resource: func(c *service.Call) (string, string, error) {
				return c.Params.Get("PolicySourceArn"), c.Account(), nil
			}, Handle: simulatePrincipalPolicy},
		&service.Action{Name: "SimulateCustomPolicy", IAMAction: "iam:SimulateCustomPolicy", Handle: simulateCustomPolicy},
	)
}

// sourced is a compiled policy with the names the simulator reports it by.
type sourced struct {
	p    *policy.Policy
	id   string // SourcePolicyId
	kind string // SourcePolicyType
}

type simulation struct {
	caller    policy.Caller
	identity  []sourced
	boundary  []sourced
	scps      [][]*policy.Policy
	mgmt      bool
	resource  *sourced // ResourcePolicy compiled as a resource-based (or key) policy
	trust     *sourced // and as a trust policy, for STS actions on a role
	owner     string
	context   policy.Context
	actions   []string
	resources []string
}

type position struct {
	Line   int `xml:"Line"`
	Column int `xml:"Column"`
}

type statementXML struct {
	SourcePolicyID   string   `xml:"SourcePolicyId"`
	SourcePolicyType string   `xml:"SourcePolicyType"`
	StartPosition    position `xml:"StartPosition"`
	EndPosition      position `xml:"EndPosition"`
}

type evalResultXML struct {
	EvalActionName                    string         `xml:"EvalActionName"`
	EvalResourceName                  string         `xml:"EvalResourceName"`
	EvalDecision                      string         `xml:"EvalDecision"`
	MatchedStatements                 []statementXML `xml:"MatchedStatements>member"`
	MissingContextValues              []string       `xml:"MissingContextValues>member"`
	OrganizationsDecisionDetail       *orgDetail     `xml:"OrganizationsDecisionDetail,omitempty"`
	PermissionsBoundaryDecisionDetail *pbDetail      `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
	EvalDecisionDetails               []entryXML     `xml:"EvalDecisionDetails>entry,omitempty"`
}

type orgDetail struct {
	AllowedByOrganizations bool `xml:"AllowedByOrganizations"`
}

type pbDetail struct {
	AllowedByPermissionsBoundary bool `xml:"AllowedByPermissionsBoundary"`
}

type entryXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type simulateResult struct {
	EvaluationResults []evalResultXML `xml:"EvaluationResults>member"`
	IsTruncated       bool            `xml:"IsTruncated"`
	Marker            string          `xml:"Marker,omitempty"`
}

func simulateCustomPolicy(c *service.Call) (any, error) {
	sim := &simulation{}
	if err := sim.readCommon(c, true); err != nil {
		return nil, err
	}
	caller := c.Params.Get("CallerArn")
	if caller == "" {
		caller = "arn:aws:iam::" + c.Account() + ":user/iamlocal-simulated-caller"
	}
	cl, err := policy.ParseCaller(caller)
	if err != nil {
		return nil, invalidInput("Invalid CallerArn %s: %v", caller, err)
	}
	sim.caller = cl
	return sim.run(c)
}

func simulatePrincipalPolicy(c *service.Call) (any, error) {
	src, err := required(c, "PolicySourceArn")
	if err != nil {
		return nil, err
	}
	sim := &simulation{}
	if err := sim.readCommon(c, false); err != nil {
		return nil, err
	}
	if err := sim.loadPrincipal(c, src); err != nil {
		return nil, err
	}
	if ca := c.Params.Get("CallerArn"); ca != "" {
		cl, err := policy.ParseCaller(ca)
		if err != nil {
			return nil, invalidInput("Invalid CallerArn %s: %v", ca, err)
		}
		sim.caller = cl
	}
	return sim.run(c)
}

// readCommon reads the parameters both simulations take.
func (sim *simulation) readCommon(c *service.Call, custom bool) error {
	docs, err := c.Params.List("PolicyInputList")
	if err != nil {
		return err
	}
	if custom && len(docs) == 0 {
		return wire.ValidationError("1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null")
	}
	for i, d := range docs {
		p, err := simPolicy(fmt.Sprintf("PolicyInputList.%d", i+1), d, policy.Identity)
		if err != nil {
			return err
		}
		sim.identity = append(sim.identity, sourced{p, fmt.Sprintf("PolicyInputList.%d", i+1), "none"})
	}
	pbs, err := c.Params.List("PermissionsBoundaryPolicyInputList")
	if err != nil {
		return err
	}
	for i, d := range pbs {
		p, err := simPolicy(fmt.Sprintf("PermissionsBoundaryPolicyInputList.%d", i+1), d, policy.Boundary)
		if err != nil {
			return err
		}
		sim.boundary = append(sim.boundary, sourced{p, fmt.Sprintf("PermissionsBoundaryPolicyInputList.%d", i+1), "none"})
	}
	if sim.actions, err = c.Params.List("ActionNames"); err != nil {
		return err
	}
	if len(sim.actions) == 0 {
		return wire.ValidationError("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	for _, a := range sim.actions {
		if strings.Count(a, ":") != 1 {
			return invalidInput("Action %s is not valid: an action is service:Action", a)
		}
	}
	if sim.resources, err = c.Params.List("ResourceArns"); err != nil {
		return err
	}
	if len(sim.resources) == 0 {
		sim.resources = []string{"*"}
	}
	if doc := c.Params.Get("ResourcePolicy"); doc != "" {
		p, err := simPolicy("ResourcePolicy", doc, policy.Resource)
		if err != nil {
			return err
		}
		sim.resource = &sourced{p, "ResourcePolicy", "resource"}
		if p, err = simPolicy("ResourcePolicy", doc, policy.Trust); err != nil {
			return err
		}
		sim.trust = &sourced{p, "ResourcePolicy", "resource"}
	}
	if owner := c.Params.Get("ResourceOwner"); owner != "" {
		// AWS documents an account ARN (arn:aws:iam::112233445566:root); an account id
		// alone is taken too.
		sim.owner = owner
		if parts := strings.SplitN(owner, ":", 6); len(parts) == 6 && parts[0] == "arn" {
			sim.owner = parts[4]
		}
		if !isAccountID(sim.owner) {
			return invalidInput("Invalid ResourceOwner %s: want an account ARN such as arn:aws:iam::112233445566:root", owner)
		}
	}
	return sim.readContext(c)
}

// simPolicy compiles a policy the simulators are given or read, as `iamlocal eval`
// does: leniently. Like the IAM policy simulator, they decide every document that is
// a JSON policy, also one the door storing it would refuse (the element then means
// what AWS documents, see docs/eval.md). A document that is not a JSON policy is an
// invalid value for the parameter: InvalidInput, the operation's error for it in
// botocore's model of SimulateCustomPolicy and SimulatePrincipalPolicy, which list
// InvalidInput and PolicyEvaluation but not MalformedPolicyDocument.
func simPolicy(param, doc string, kind policy.Kind) (*policy.Policy, error) {
	p, err := policy.ParseLenient([]byte(doc), kind)
	if err != nil {
		return nil, invalidInput("%s is not a valid policy document: %s", param, strings.TrimPrefix(err.Error(), "MalformedPolicyDocument: "))
	}
	return p, nil
}

// readContext reads ContextEntries, checking values against their declared type.
func (sim *simulation) readContext(c *service.Call) error {
	sim.context = policy.Context{}
	entries, err := c.Params.Structs("ContextEntries")
	if err != nil {
		return err
	}
	for i, e := range entries {
		name := e["ContextKeyName"]
		if name == "" {
			return invalidInput("ContextEntries.member.%d.ContextKeyName is required", i+1)
		}
		var values []string
		for j := 1; ; j++ {
			v, ok := e[fmt.Sprintf("ContextKeyValues.member.%d", j)]
			if !ok {
				break
			}
			values = append(values, v)
		}
		typ := e["ContextKeyType"]
		if !strings.HasSuffix(typ, "List") && len(values) > 1 {
			return invalidInput("Context key %s of type %s takes one value, not %d", name, typ, len(values))
		}
		sim.context.Set(name, values...)
	}
	return nil
}

// loadPrincipal gathers a user's, group's or role's policies, boundary and SCPs.
func (sim *simulation) loadPrincipal(c *service.Call, src string) error {
	parts := strings.SplitN(src, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" {
		return invalidInput("Invalid PolicySourceArn %s", src)
	}
	account, res := parts[4], parts[5]
	kind, name := res, ""
	if i := strings.IndexByte(res, '/'); i >= 0 {
		kind, name = res[:i], res[strings.LastIndexByte(res, '/')+1:]
	}
	var p *directory.Principal
	switch kind {
	case "user":
		var u directory.User
		if err := get(c.Tx, directory.KindUser, account, name, &u, "user"); err != nil {
			return err
		}
		p = &u.Principal
		sim.caller = policy.Caller{Kind: policy.User, Partition: "aws", Account: account, Arn: u.Arn, Name: u.Name}
		sim.context.Set("aws:username", u.Name)
		for _, g := range u.Groups {
			var grp directory.Group
			if err := c.Tx.Get(directory.KindGroup, directory.NameKey(account, g), &grp); err == nil {
				if err := sim.addPolicies(c.Tx, &grp.Principal, "group"); err != nil {
					return err
				}
			}
		}
	case "group":
		var g directory.Group
		if err := get(c.Tx, directory.KindGroup, account, name, &g, "group"); err != nil {
			return err
		}
		p = &g.Principal
		sim.caller = policy.Caller{Kind: policy.User, Partition: "aws", Account: account, Arn: "arn:aws:iam::" + account + ":user/iamlocal-simulated-member", Name: "iamlocal-simulated-member"}
	case "role":
		var r directory.Role
		if err := get(c.Tx, directory.KindRole, account, name, &r, "role"); err != nil {
			return err
		}
		p = &r.Principal
		sim.caller = policy.Caller{Kind: policy.AssumedRole, Partition: "aws", Account: account, RoleName: r.Name, RoleArn: r.Arn,
			Name: policy.SimulatedSession, Arn: "arn:aws:sts::" + account + ":assumed-role/" + r.Name + "/" + policy.SimulatedSession}
	default:
		return invalidInput("Invalid PolicySourceArn %s: simulate a user, group or role", src)
	}
	for _, t := range p.Tags {
		sim.context.Set("aws:PrincipalTag/"+t.Key, t.Value)
	}
	if err := sim.addPolicies(c.Tx, p, kind); err != nil {
		return err
	}
	if p.PermissionsBoundary != "" && len(sim.boundary) == 0 {
		doc, typ, err := managedDoc(c.Tx, p.PermissionsBoundary)
		if err != nil {
			return err
		}
		pol, err := simPolicy(p.PermissionsBoundary, doc, policy.Boundary)
		if err != nil {
			return err
		}
		sim.boundary = append(sim.boundary, sourced{pol, p.PermissionsBoundary, typ})
	}
	r := c.Env.Resolver
	levels, mgmt, _, _, err := r.OrgLevels(c.Tx, account, "SERVICE_CONTROL_POLICY", policy.SCP)
	if err != nil {
		return err
	}
	sim.scps, sim.mgmt = levels, mgmt
	return nil
}

func (sim *simulation) addPolicies(tx store.Tx, p *directory.Principal, kind string) error {
	names := make([]string, 0, len(p.InlinePolicies))
	for n := range p.InlinePolicies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		pol, err := simPolicy(n, p.InlinePolicies[n], policy.Identity)
		if err != nil {
			return err
		}
		sim.identity = append(sim.identity, sourced{pol, n, kind})
	}
	for _, arn := range p.AttachedPolicies {
		doc, typ, err := managedDoc(tx, arn)
		if err != nil {
			return err
		}
		pol, err := simPolicy(arn, doc, policy.Identity)
		if err != nil {
			return err
		}
		sim.identity = append(sim.identity, sourced{pol, arn, typ})
	}
	return nil
}

// managedDoc returns a managed policy's default document and its SourcePolicyType.
func managedDoc(tx store.Tx, arn string) (string, string, error) {
	if doc, ok := directory.AWSManagedDocument(arn); ok {
		return doc, "aws-managed", nil
	}
	var mp directory.ManagedPolicy
	if err := tx.Get(directory.KindPolicy, arn, &mp); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", "", noSuchEntity("Policy %s does not exist or is not attachable.", arn)
		}
		return "", "", err
	}
	return mp.Default(), "user-managed", nil
}

// run evaluates every action on every resource.
func (sim *simulation) run(c *service.Call) (any, error) {
	pg, err := readPage(c)
	if err != nil {
		return nil, err
	}
	res := &simulateResult{EvaluationResults: []evalResultXML{}}
	start := 0
	if pg.marker != "" {
		fmt.Sscan(pg.marker, &start)
	}
	n := 0
	for _, action := range sim.actions {
		for _, resource := range sim.resources {
			if n < start {
				n++
				continue
			}
			if len(res.EvaluationResults) == pg.max {
				res.IsTruncated, res.Marker = true, fmt.Sprint(n)
				return res, nil
			}
			res.EvaluationResults = append(res.EvaluationResults, sim.evaluate(action, resource))
			n++
		}
	}
	return res, nil
}

func (sim *simulation) evaluate(action, resource string) evalResultXML {
	in := &authz.Input{Resource: nil, SCPs: sim.scps, ManagementAccount: sim.mgmt}
	for _, s := range sim.identity {
		in.Identity = append(in.Identity, s.p)
	}
	if len(sim.boundary) > 0 {
		in.Boundary = sim.boundary[0].p
	}
	// ResourcePolicy is "treated as if it had this policy attached" to each resource:
	// a role's trust policy, a KMS key's key policy, else a resource-based policy,
	// as eval decides it without resourcePolicyType (authz.ResourceKindFor).
	in.ResourceKind = authz.ResourceKindFor(action, resource)
	rp := sim.resource
	if in.ResourceKind == authz.TrustPolicy {
		rp = sim.trust
	}
	if rp != nil {
		in.Resource = rp.p
	}
	// The resource's account is the one its ARN names; ResourceOwner is the owner of
	// a resource whose ARN does not (an S3 bucket or object), and of the resource
	// policy; without it, the caller's account (SimulateCustomPolicy's ResourceOwner).
	owner := policy.OwnerAccount(resource)
	if owner == "" {
		owner = sim.owner
	}
	if owner == "" {
		owner = sim.caller.Account
	}
	ctx := policy.Context{}
	for k, v := range sim.context {
		ctx[k] = v
	}
	authorized, _ := authz.AuthorizedResource(action, resource)
	req := &policy.Request{Caller: sim.caller, Action: action, Resource: authorized, ResourceAccount: owner, Context: ctx}
	req.Prepare()
	d := authz.Evaluate(req, in)
	out := evalResultXML{EvalActionName: action, EvalResourceName: resource, EvalDecision: d.Outcome.String(),
		MatchedStatements: []statementXML{}, MissingContextValues: d.Missing}
	for _, m := range d.Matched {
		if src := sim.source(m, rp); src != nil {
			st := &src.p.Statements[m.Statement]
			out.MatchedStatements = append(out.MatchedStatements, statementXML{src.id, src.kind,
				position{st.Start.Line, st.Start.Column}, position{st.End.Line, st.End.Column}})
		}
	}
	if sim.scps != nil && !sim.mgmt {
		out.OrganizationsDecisionDetail = &orgDetail{!d.BlockedBy.Has(authz.SCP)}
	}
	if in.Boundary != nil {
		out.PermissionsBoundaryDecisionDetail = &pbDetail{!d.BlockedBy.Has(authz.PermissionsBoundary)}
	}
	if in.Resource != nil {
		detail := "allowed"
		if d.BlockedBy.Has(authz.Resource) {
			detail = "implicitDeny"
			if d.Outcome == authz.ExplicitDeny {
				detail = "explicitDeny"
			}
		}
		out.EvalDecisionDetails = []entryXML{{"IAM Policy", out.EvalDecision}, {"Resource Policy", detail}}
	}
	return out
}

// source names the policy a matched statement came from (SCP statements are not
// reported as matched statements, as IAM's simulator does not).
func (sim *simulation) source(m authz.Matched, resource *sourced) *sourced {
	switch m.Layer {
	case authz.Identity:
		return &sim.identity[m.Policy]
	case authz.PermissionsBoundary:
		return &sim.boundary[0]
	case authz.Resource:
		return resource
	}
	return nil
}
