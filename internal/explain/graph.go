package explain

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/reasons"
)

// Node kinds of the graph.
const (
	NodeUser      = "user"
	NodeRole      = "role"
	NodeAccount   = "account"   // an account outside the accounts read, named in a trust policy
	NodeService   = "service"   // a service principal
	NodeFederated = "federated" // an identity provider
	NodeAnyone    = "anyone"    // "Principal": "*"
)

// Node is a principal or a role.
type Node struct {
	ID       string `json:"id"` // the ARN, "service:NAME", "federated:PROVIDER" or "*"
	Kind     string `json:"kind"`
	Account  string `json:"account,omitempty"`
	Name     string `json:"name"`
	External bool   `json:"external,omitempty"` // outside the accounts read: its own policies are not known
}

// Edge says that From may assume the role To.
type Edge struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	Naming     string   `json:"naming,omitempty"`     // how the trust policy names From
	Conditions []string `json:"conditions,omitempty"` // what the request must meet (ExternalId…)
}

// Graph is who can assume which role across the accounts read.
type Graph struct {
	Accounts []Account `json:"accounts"`
	Nodes    []Node    `json:"nodes"`
	Edges    []Edge    `json:"edges"`
	Target   string    `json:"target,omitempty"`
	Paths    [][]Edge  `json:"paths,omitempty"` // with a target: how each principal reaches it
	Warnings []string  `json:"warnings,omitempty"`

	index map[string]int
}

// GraphOptions adjust BuildGraph.
type GraphOptions struct {
	Now    time.Time
	Region string
}

// gprincipal is a principal's side of an AssumeRole decision, built once.
type gprincipal struct {
	node     Node
	caller   policy.Caller
	action   string
	identity []*policy.Policy
	boundary *policy.Policy
	context  policy.Context
	scps     [][]*policy.Policy
	mgmt     bool
	slr      bool
}

// grole is a role's side, built once.
type grole struct {
	node    Node
	entity  *Entity
	trust   *policy.Policy
	rcps    [][]*policy.Policy
	resMgmt bool
	orgID   string
}

// orgSide is an account's place in the organization.
type orgSide struct {
	scps, rcps [][]*policy.Policy
	mgmt       bool
	member     bool
	path       string
}

// BuildGraph reads every account of the organization (or the caller's alone) and
// decides, with the engine, which principal may assume which role: the trust policy,
// the principal's identity policies, boundary and SCPs, and the role account's RCPs.
// Conditions a request can meet (an ExternalId, a source IP, MFA…) are assumed met
// and shown on the edge; conditions on what the principal is are decided.
func BuildGraph(ctx context.Context, src Source, opts GraphOptions) (*Graph, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	g := &Graph{index: map[string]int{}}
	warn := func(format string, args ...any) { g.Warnings = append(g.Warnings, fmt.Sprintf(format, args...)) }
	caller, err := src.CallerIdentity(ctx)
	if err != nil {
		return nil, err
	}
	org, err := src.Organization(ctx)
	if err != nil {
		warn("the organization could not be read; only account %s is shown: %v", caller.Account, err)
	}
	if org != nil && org.Unreadable != "" {
		warn("the organization's policies could not be read, so SCPs and RCPs are left out: %s", org.Unreadable)
	}
	g.Accounts = []Account{{ID: caller.Account}}
	if org != nil && org.Unreadable == "" {
		accts, err := src.Accounts(ctx)
		if err != nil {
			warn("the organization's accounts could not be listed; only account %s is shown: %v", caller.Account, err)
		} else {
			g.Accounts = accts
		}
	}
	sort.Slice(g.Accounts, func(i, j int) bool { return g.Accounts[i].ID < g.Accounts[j].ID })

	sides := map[string]*orgSide{}
	side := func(account string) *orgSide {
		if s, ok := sides[account]; ok {
			return s
		}
		s := &orgSide{}
		sides[account] = s
		if org == nil || org.Unreadable != "" {
			return s
		}
		scps, targets, member, err := OrgLevels(ctx, src, org, account, SCPType, policy.SCP, warn)
		if err != nil {
			warn("SCPs of account %s could not be read: %v", account, err)
			return s
		}
		s.member, s.mgmt = member, account == org.ManagementAccount
		if member {
			s.scps = policies(scps)
			var path []string
			for _, t := range targets[:len(targets)-1] {
				path = append(path, t.ID)
			}
			s.path = org.ID + "/" + strings.Join(path, "/") + "/"
			rcps, _, _, err := OrgLevels(ctx, src, org, account, RCPType, policy.RCP, warn)
			if err != nil {
				warn("RCPs of account %s could not be read: %v", account, err)
			}
			s.rcps = policies(rcps)
		}
		return s
	}

	var principals []*gprincipal
	var roles []*grole
	read := map[string]bool{}
	for _, acct := range g.Accounts {
		det, err := src.Details(ctx, acct.ID)
		if err != nil {
			warn("account %s is left out: %v", acct.ID, err)
			continue
		}
		read[acct.ID] = true
		os := side(acct.ID)
		for _, u := range det.Users {
			p := g.entityPrincipal(u, os, org, warn)
			if p != nil {
				principals = append(principals, p)
			}
		}
		for _, r := range det.Roles {
			if p := g.entityPrincipal(r, os, org, warn); p != nil {
				principals = append(principals, p)
			}
			gr := &grole{node: Node{ID: r.Arn, Kind: NodeRole, Account: r.Account, Name: r.Name}, entity: r,
				rcps: os.rcps, resMgmt: os.mgmt}
			if os.member && org != nil {
				gr.orgID = org.ID
			}
			trust, err := policy.Parse([]byte(r.Trust), policy.Trust)
			if err != nil {
				warn("the trust policy of %s is left out: %v", r.Arn, err)
				continue
			}
			gr.trust = trust
			g.addNode(gr.node)
			roles = append(roles, gr)
		}
	}
	// Principals outside the accounts read, as trust policies name them.
	externals := map[string]bool{}
	for _, r := range roles {
		for _, p := range externalPrincipals(r.trust, read) {
			if !externals[p.node.ID] {
				externals[p.node.ID] = true
				principals = append(principals, p)
			}
		}
	}

	seen := map[[2]string]bool{}
	for _, r := range roles {
		for _, p := range principals {
			if p.node.ID == r.node.ID || seen[[2]string{p.node.ID, r.node.ID}] {
				continue
			}
			if e := evaluateEdge(p, r, opts); e != nil {
				seen[[2]string{p.node.ID, r.node.ID}] = true
				g.addNode(p.node)
				g.Edges = append(g.Edges, *e)
			}
		}
	}
	for _, p := range principals {
		if !p.node.External {
			g.addNode(p.node)
		}
	}
	sort.Slice(g.Edges, func(i, j int) bool {
		a, b := g.Edges[i], g.Edges[j]
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	sort.Slice(g.Nodes, func(i, j int) bool { return g.Nodes[i].ID < g.Nodes[j].ID })
	g.reindex()
	return g, nil
}

func (g *Graph) addNode(n Node) {
	if _, ok := g.index[n.ID]; ok {
		return
	}
	g.index[n.ID] = len(g.Nodes)
	g.Nodes = append(g.Nodes, n)
}

func (g *Graph) reindex() {
	g.index = map[string]int{}
	for i, n := range g.Nodes {
		g.index[n.ID] = i
	}
}

// Node returns a node by id.
func (g *Graph) Node(id string) (Node, bool) {
	i, ok := g.index[id]
	if !ok {
		return Node{}, false
	}
	return g.Nodes[i], true
}

// entityPrincipal builds a user's or a role's (as a session of it) side.
func (g *Graph) entityPrincipal(e *Entity, os *orgSide, org *Org, warn func(string, ...any)) *gprincipal {
	c := &Case{Request: policy.Request{Context: policy.Context{}}}
	var caller policy.Caller
	var err error
	if e.Kind == "role" {
		caller, err = ParsePrincipal(e.Arn)
	} else {
		caller, err = policy.ParseCaller(e.Arn)
	}
	if err != nil {
		warn("%s is left out: %v", e.Arn, err)
		return nil
	}
	c.Request.Caller = caller
	c.addEntity(e)
	for _, w := range c.Warnings {
		warn("%s", w)
	}
	p := &gprincipal{node: Node{ID: e.Arn, Kind: e.Kind, Account: e.Account, Name: e.Name}, caller: caller, action: "sts:AssumeRole",
		identity: c.Input.Identity, boundary: c.Input.Boundary, context: c.Request.Context,
		scps: os.scps, mgmt: os.mgmt, slr: strings.HasPrefix(e.Path, "/aws-service-role/")}
	if e.ID != "" {
		if e.Kind == "role" {
			p.context.Set("aws:userid", e.ID+":"+caller.Name)
		} else {
			p.context.Set("aws:userid", e.ID)
		}
	}
	if os.member && org != nil {
		p.context.Set("aws:PrincipalOrgID", org.ID)
		p.context.Set("aws:PrincipalOrgPaths", os.path)
	}
	return p
}

// allowAll stands for the unknown identity policies of a principal outside the
// accounts read: only the role's side is decided for it.
var allowAll = func() *policy.Policy {
	p, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`), policy.Identity)
	if err != nil {
		panic(err)
	}
	return p
}()

// externalPrincipals lists the principals a trust policy names outside the
// accounts read: other accounts, their users and roles, services, identity
// providers, and anyone.
func externalPrincipals(trust *policy.Policy, read map[string]bool) []*gprincipal {
	var out []*gprincipal
	for i := range trust.Statements {
		st := &trust.Statements[i]
		ps, not := st.Principals()
		if st.Effect != policy.Allow || not {
			continue
		}
		for _, p := range ps {
			kind, v, _ := strings.Cut(p, ":")
			gp := &gprincipal{context: policy.Context{}, action: "sts:AssumeRole", identity: []*policy.Policy{allowAll}}
			switch {
			case p == "*":
				gp.node = Node{ID: "*", Kind: NodeAnyone, Name: "anyone", External: true}
				gp.caller = policy.Caller{Kind: policy.User, Partition: "aws", Account: "000000000000", Arn: "arn:aws:iam::000000000000:user/anyone", Name: "anyone"}
			case kind == "AWS":
				acct := ArnAccount(v)
				if read[acct] {
					continue // evaluated principal by principal
				}
				var err error
				switch {
				case strings.HasSuffix(v, ":root"):
					gp.node = Node{ID: v, Kind: NodeAccount, Account: acct, Name: "account " + acct, External: true}
					gp.caller = policy.Caller{Kind: policy.User, Partition: "aws", Account: acct, Arn: "arn:aws:iam::" + acct + ":user/any-principal", Name: "any-principal"}
				case strings.Contains(v, ":role/"):
					gp.node = Node{ID: v, Kind: NodeRole, Account: acct, Name: v[strings.LastIndexByte(v, '/')+1:], External: true}
					gp.caller, err = ParsePrincipal(v)
				default:
					gp.node = Node{ID: v, Kind: NodeUser, Account: acct, Name: v[strings.LastIndexByte(v, '/')+1:], External: true}
					gp.caller, err = policy.ParseCaller(v)
				}
				if err != nil {
					continue
				}
			case kind == "Service":
				gp.node = Node{ID: "service:" + v, Kind: NodeService, Name: v, External: true}
				gp.caller = policy.Caller{Kind: policy.ServicePrincipal, Arn: v, Name: v}
				gp.identity = nil
			case kind == "Federated":
				gp.node = Node{ID: "federated:" + v, Kind: NodeFederated, Name: v, External: true}
				gp.caller = policy.Caller{Kind: policy.WebIdentity, Arn: v, Name: v}
				gp.identity = nil
				gp.action = "sts:AssumeRoleWithWebIdentity"
				if strings.Contains(v, ":saml-provider/") {
					gp.action = "sts:AssumeRoleWithSAML"
				}
			default:
				continue
			}
			out = append(out, gp)
		}
	}
	return out
}

// assumable reports whether the graph may assume a condition's key present: keys a
// request carries (an ExternalId, a source IP, MFA, tags…), not what the principal
// is — unless the principal is outside the accounts read, and nothing is known.
func assumable(key string, external bool) bool {
	if external {
		return true
	}
	k := strings.ToLower(key)
	for _, p := range []string{"aws:principal", "aws:userid", "aws:username", "aws:resource", "aws:currenttime", "aws:epochtime"} {
		if strings.HasPrefix(k, p) {
			return false
		}
	}
	return true
}

// evaluateEdge decides whether p may assume r, assuming request conditions met one
// by one, and returns the edge or nil.
func evaluateEdge(p *gprincipal, r *grole, opts GraphOptions) *Edge {
	if r.trust == nil {
		return nil
	}
	req := &policy.Request{Caller: p.caller, Action: p.action, Resource: r.entity.Arn, ResourceAccount: r.entity.Account, Context: policy.Context{}}
	for k, v := range p.context {
		req.Context[k] = v
	}
	req.Context.Set("aws:CurrentTime", opts.Now.UTC().Format(time.RFC3339))
	req.Context.Set("aws:EpochTime", strconv.FormatInt(opts.Now.Unix(), 10))
	req.Context.Set("aws:SecureTransport", "true")
	if opts.Region != "" {
		req.Context.Set("aws:RequestedRegion", opts.Region)
	}
	if r.orgID != "" {
		req.Context.Set("aws:ResourceOrgID", r.orgID)
	}
	req.Prepare()
	in := authz.Input{Identity: p.identity, Boundary: p.boundary, SCPs: p.scps, ManagementAccount: p.mgmt, ServiceLinkedRole: p.slr,
		Resource: r.trust, ResourceKind: authz.TrustPolicy, RCPs: r.rcps, ResourceManagement: r.resMgmt}
	var assumed []string
	d := &authz.Decision{}
	for range 8 {
		authz.Decide(req, &in, d)
		switch d.Outcome {
		case authz.ExplicitDeny:
			return nil
		case authz.Allowed:
			return edgeOf(p, r, d, assumed)
		}
		next, cond := nextAssumption(req, &in, d, p.node.External)
		if next == nil {
			return nil
		}
		req, assumed = next, append(assumed, cond)
	}
	return nil
}

// nextAssumption finds, in a layer that blocked, an Allow statement that fails only
// on an assumable condition, and returns the request with that condition met.
func nextAssumption(req *policy.Request, in *authz.Input, d *authz.Decision, external bool) (*policy.Request, string) {
	for _, l := range d.BlockedBy.List() {
		for _, pol := range reasons.LayerPolicies(l, in) {
			for i := range pol.Statements {
				st := &pol.Statements[i]
				if st.Effect != policy.Allow || !st.MatchesAction(req.Action) || !st.MatchesResource(req) ||
					st.MatchesPrincipal(&req.Caller) == policy.NoPrincipalMatch {
					continue
				}
				ci := st.MatchesConditions(req)
				if ci < 0 {
					continue
				}
				info := st.Conditions()[ci]
				if !assumable(info.Key, external) {
					continue
				}
				if next, ok := assume(req, info); ok {
					return next, conditionText(info)
				}
			}
		}
	}
	return nil, ""
}

func conditionText(ci policy.ConditionInfo) string {
	return fmt.Sprintf("%s %s %s", ci.Operator, ci.Key, quoted(ci.Values))
}

// edgeOf makes the edge of an allowed decision: how the trust policy named the
// principal, and every condition of the statements that allowed it.
func edgeOf(p *gprincipal, r *grole, d *authz.Decision, assumed []string) *Edge {
	e := &Edge{From: p.node.ID, To: r.node.ID}
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			e.Conditions = append(e.Conditions, s)
		}
	}
	for _, m := range d.Matched {
		if m.Layer != authz.Resource || m.Effect != policy.Allow {
			continue
		}
		if e.Naming == "" {
			e.Naming = reasons.Naming(m.Principal)
		}
		for _, ci := range r.trust.Statements[m.Statement].Conditions() {
			add(conditionText(ci))
		}
	}
	for _, a := range assumed {
		add(a)
	}
	return e
}

// To keeps what reaches a role, directly or through a chain of roles, and lists for
// each principal the shortest chain.
func (g *Graph) To(target string) (*Graph, error) {
	if n, ok := g.Node(target); !ok || n.Kind != NodeRole || n.External {
		return nil, fmt.Errorf("--to %s: not a role of the accounts read (%d roles)", target, g.count(NodeRole))
	}
	into := map[string][]Edge{}
	for _, e := range g.Edges {
		into[e.To] = append(into[e.To], e)
	}
	// Breadth first from the target, backwards: next[n] is n's first hop toward it.
	next := map[string]Edge{}
	queue := []string{target}
	reached := map[string]bool{target: true}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range into[n] {
			if !reached[e.From] {
				reached[e.From] = true
				next[e.From] = e
				queue = append(queue, e.From)
			}
		}
	}
	out := &Graph{Accounts: g.Accounts, Target: target, Warnings: g.Warnings, index: map[string]int{}}
	for _, n := range g.Nodes {
		if reached[n.ID] {
			out.addNode(n)
		}
	}
	for _, e := range g.Edges {
		if reached[e.From] && reached[e.To] && e.From != target {
			out.Edges = append(out.Edges, e)
		}
	}
	var starts []string
	for id := range next {
		starts = append(starts, id)
	}
	for _, id := range starts {
		var path []Edge
		for n := id; n != target; n = next[n].To {
			path = append(path, next[n])
		}
		out.Paths = append(out.Paths, path)
	}
	sort.Slice(out.Paths, func(i, j int) bool {
		a, b := out.Paths[i], out.Paths[j]
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a[0].From < b[0].From
	})
	return out, nil
}

func (g *Graph) count(kind string) int {
	n := 0
	for _, x := range g.Nodes {
		if x.Kind == kind && !x.External {
			n++
		}
	}
	return n
}
