package explain

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/oidc"
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
	// Provider describes an identity provider (kind federated).
	Provider *IdentityProvider `json:"provider,omitempty"`
}

// Edge says that From may assume the role To.
type Edge struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	Action     string   `json:"action"`               // sts:AssumeRole, sts:AssumeRoleWithWebIdentity or sts:AssumeRoleWithSAML
	Naming     string   `json:"naming,omitempty"`     // how the trust policy names From
	Conditions []string `json:"conditions,omitempty"` // what the request must meet (ExternalId…)
	// Claims are, for an identity provider, the conditions on its keys as what the
	// token or assertion must carry: "sub: repo:octo-org/octo-repo:*",
	// "aud: sts.amazonaws.com". A provider has one edge per trust statement that
	// lets it in.
	Claims []string `json:"claims,omitempty"`
	// Statement is the trust statement (index, or Sid) of a provider's edge.
	Statement string `json:"statement,omitempty"`

	labels []string // what diagrams and text show: the claims, then the other conditions
}

// Labels are what an edge is labelled with: a provider's claims, then the
// conditions that are not on its keys; the conditions for other principals.
func (e Edge) Labels() []string {
	if e.labels != nil {
		return e.labels
	}
	return e.Conditions
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
	// provider is set for an identity provider, with its name as condition keys
	// spell it (token.actions.githubusercontent.com) or a SAML provider's name.
	provider     *IdentityProvider
	providerName string
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
	var providers []*gprincipal
	providerByArn := map[string]*gprincipal{}
	providersRead := map[string]bool{}
	addProvider := func(ip IdentityProvider, external bool) {
		if providerByArn[ip.Arn] != nil {
			return
		}
		p := providerPrincipal(ip, external)
		providerByArn[ip.Arn] = p
		providers = append(providers, p)
	}
	ps, listsProviders := src.(ProviderSource)
	for _, acct := range g.Accounts {
		det, err := src.Details(ctx, acct.ID)
		if err != nil {
			warn("account %s is left out: %v", acct.ID, err)
			continue
		}
		read[acct.ID] = true
		if listsProviders {
			list, listed, err := ps.IdentityProviders(ctx, acct.ID)
			if err != nil {
				warn("the identity providers of account %s could not be read; those its trust policies name are shown: %v", acct.ID, err)
			} else {
				for _, typ := range listed {
					providersRead[acct.ID+"/"+typ] = true
				}
				for _, ip := range list {
					addProvider(ip, false)
				}
			}
		}
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
	// Identity providers trust policies name that no account read listed: built-in
	// ones, those of accounts not read, and those their account never registered.
	for _, r := range roles {
		for _, v := range federatedNames(r.trust) {
			ip, acct, _ := federatedProvider(v)
			switch {
			case providerByArn[v] != nil:
			case acct != "" && providersRead[acct+"/"+ip.Type]:
				ip.Unregistered = true
				addProvider(ip, false)
			default:
				addProvider(ip, acct == "" || !read[acct])
			}
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
	// Every identity provider is a node, with an edge to each role a trust statement
	// lets its users into.
	for _, p := range providers {
		g.addNode(p.node)
		for _, r := range roles {
			g.Edges = append(g.Edges, providerEdges(p, r, opts, warn)...)
		}
	}
	sort.SliceStable(g.Edges, func(i, j int) bool {
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
			default: // Federated: identity providers have edges of their own (providerEdges)
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
	var assumed []policy.ConditionInfo
	d := &authz.Decision{}
	for range 8 {
		authz.Decide(req, &in, d)
		if d.Outcome == authz.Allowed {
			return edgeOf(p, r, d, assumed)
		}
		next, cond := nextAssumption(req, &in, d, p.node.External || p.provider != nil)
		if next == nil {
			return nil
		}
		req, assumed = next, append(assumed, cond)
	}
	return nil
}

// nextAssumption finds, in a layer that blocked, an Allow statement that fails only
// on an assumable condition, and returns the request with that condition met — or,
// after an explicit deny, a Deny statement that applies only because a key its
// negated condition reads is absent ("StringNotLike …:sub repo:octo-org/*"), and
// returns the request with the key set so that the Deny no longer applies; the
// condition returned is then the positive one the request meets
// ("StringLike …:sub repo:octo-org/*").
func nextAssumption(req *policy.Request, in *authz.Input, d *authz.Decision, external bool) (*policy.Request, policy.ConditionInfo) {
	deny := d.Outcome == authz.ExplicitDeny
	for _, l := range d.BlockedBy.List() {
		for _, pol := range reasons.LayerPolicies(l, in) {
			for i := range pol.Statements {
				st := &pol.Statements[i]
				if (st.Effect == policy.Deny) != deny || !st.MatchesAction(req.Action) || !st.MatchesResource(req) ||
					st.MatchesPrincipal(&req.Caller) == policy.NoPrincipalMatch {
					continue
				}
				if deny {
					if st.MatchesConditions(req) >= 0 {
						continue // does not apply
					}
					for _, info := range st.Conditions() {
						pos, ok := positive(info)
						if !ok || !assumable(info.Key, external) {
							continue
						}
						if next, ok := assume(req, pos); ok {
							return next, pos
						}
					}
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
					return next, info
				}
			}
		}
	}
	return nil, policy.ConditionInfo{}
}

// positive is the condition a request meets when a negated one (StringNotEquals,
// StringNotLike, ArnNotLike, NotIpAddress…, IfExists or not) is false for it.
func positive(ci policy.ConditionInfo) (policy.ConditionInfo, bool) {
	op := strings.TrimSuffix(ci.Operator, "IfExists")
	var pos string
	switch {
	case strings.Contains(op, ":"):
		return ci, false // set operators: negating them is not one condition
	case op == "NotIpAddress":
		pos = "IpAddress"
	case strings.HasPrefix(op, "StringNot"), strings.HasPrefix(op, "ArnNot"):
		pos = strings.Replace(op, "Not", "", 1)
	default:
		return ci, false
	}
	return policy.ConditionInfo{Operator: pos, Key: ci.Key, Values: ci.Values}, true
}

func conditionText(ci policy.ConditionInfo) string {
	return fmt.Sprintf("%s %s %s", ci.Operator, ci.Key, quoted(ci.Values))
}

// edgeOf makes the edge of an allowed decision: how the trust policy named the
// principal, and every condition of the statements that allowed it; for an
// identity provider, also those conditions as claims.
func edgeOf(p *gprincipal, r *grole, d *authz.Decision, assumed []policy.ConditionInfo) *Edge {
	e := &Edge{From: p.node.ID, To: r.node.ID, Action: p.action}
	seen := map[string]bool{}
	var infos []policy.ConditionInfo
	add := func(ci policy.ConditionInfo) {
		s := conditionText(ci)
		if !seen[s] {
			seen[s] = true
			e.Conditions = append(e.Conditions, s)
			infos = append(infos, ci)
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
			add(ci)
		}
	}
	for _, a := range assumed {
		add(a)
	}
	if p.provider != nil {
		e.Claims, e.labels = claimsOf(infos, claimPrefix(p.provider, p.providerName))
	}
	return e
}

// claimsOf splits an edge's conditions into the provider's claims (sub first, then
// aud) and the others, and returns the claims and the labels: claims, then others.
func claimsOf(infos []policy.ConditionInfo, prefix string) (claims, labels []string) {
	type claim struct {
		label string
		order int
	}
	var cs []claim
	var others []string
	for _, ci := range infos {
		if label, name, ok := claimLabel(ci, prefix); ok {
			cs = append(cs, claim{label, claimOrder(name)})
		} else {
			others = append(others, conditionText(ci))
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].order < cs[j].order })
	for _, c := range cs {
		claims = append(claims, c.label)
	}
	labels = append(append([]string{}, claims...), others...)
	return claims, labels
}

// providerPrincipal is an identity provider's side of its decisions: the web
// identity caller STS makes of it (with aws:FederatedProvider for OIDC), deciding
// sts:AssumeRoleWithWebIdentity or sts:AssumeRoleWithSAML.
func providerPrincipal(ip IdentityProvider, external bool) *gprincipal {
	_, account, name := federatedProvider(ip.Arn)
	if ip.Type == "" {
		ip.Type = ProviderOIDC
	}
	p := &gprincipal{node: Node{ID: "federated:" + ip.Arn, Kind: NodeFederated, Account: account, Name: name, External: external, Provider: &ip},
		caller:  policy.Caller{Kind: policy.WebIdentity, Partition: "aws", Arn: ip.Arn, Name: name},
		context: policy.Context{}, action: providerAction(&ip), provider: &ip, providerName: name}
	if ip.Type == ProviderOIDC {
		p.context.Set("aws:FederatedProvider", ip.Arn)
	}
	return p
}

// federatedNames lists the Federated principals a trust policy's Allow statements
// name.
func federatedNames(trust *policy.Policy) []string {
	var out []string
	for i := range trust.Statements {
		for _, v := range namedFederated(&trust.Statements[i]) {
			out = append(out, v)
		}
	}
	return out
}

func namedFederated(st *policy.Statement) []string {
	ps, not := st.Principals()
	if st.Effect != policy.Allow || not {
		return nil
	}
	var out []string
	for _, p := range ps {
		if v, ok := strings.CutPrefix(p, "Federated:"); ok {
			out = append(out, v)
		}
	}
	return out
}

// providerEdges decides, statement by statement, which of a role's trust
// statements let a provider's users in: one edge per statement, labelled with the
// claims it asks for. A provider STS would never let reach the role — one its
// account never registered, or an OIDC provider of another account (STS looks a
// token's issuer up in the role's own account) — has no edge, and a trust policy
// that names it is warned about.
func providerEdges(p *gprincipal, r *grole, opts GraphOptions, warn func(string, ...any)) []Edge {
	if r.trust == nil {
		return nil
	}
	var allows []int
	var denies []policy.Statement
	names := false
	for i := range r.trust.Statements {
		st := &r.trust.Statements[i]
		if st.Effect != policy.Allow {
			denies = append(denies, *st)
			continue
		}
		if !st.MatchesAction(p.action) || st.MatchesPrincipal(&p.caller) == policy.NoPrincipalMatch {
			continue
		}
		allows = append(allows, i)
		for _, v := range namedFederated(st) {
			names = names || v == p.provider.Arn
		}
	}
	if len(allows) == 0 {
		return nil
	}
	switch {
	case p.provider.Unregistered:
		if names {
			warn("%s trusts %s, which account %s has not registered: STS refuses its users before reading the trust policy", r.node.ID, p.provider.Arn, p.node.Account)
		}
		return nil
	case p.provider.Type == ProviderOIDC && p.node.Account != "" && p.node.Account != r.entity.Account:
		if names {
			warn("%s trusts %s of account %s: STS looks a token's issuer up among the OIDC providers of the role's own account, so no token reaches it that way (name %s)",
				r.node.ID, p.provider.Arn, p.node.Account, oidc.ProviderARN(r.entity.Account, p.providerName))
		}
		return nil
	}
	var out []Edge
	for _, i := range allows {
		one := *r.trust
		one.Statements = append([]policy.Statement{r.trust.Statements[i]}, denies...)
		rr := *r
		rr.trust = &one
		if e := evaluateEdge(p, &rr, opts); e != nil {
			e.Statement = strconv.Itoa(r.trust.Statements[i].Index)
			if sid := r.trust.Statements[i].Sid; sid != "" {
				e.Statement = sid
			}
			out = append(out, *e)
		}
	}
	return out
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
