package explain

import (
	"fmt"
	"sort"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/policycheck"
	"github.com/iamlocal/iamlocal/internal/reasons"
)

// Tree is a decision with every layer, policy and statement that took part, and why
// each statement applied or not: the data of `iamlocal explain` and its --json.
type Tree struct {
	Principal          string              `json:"principal"`
	Action             string              `json:"action"`
	Resource           string              `json:"resource"`
	PrincipalAccount   string              `json:"principalAccount"`
	ResourceAccount    string              `json:"resourceAccount"`
	Decision           string              `json:"decision"`
	BlockedBy          []string            `json:"blockedBy"`
	Reasons            []string            `json:"reasons"`
	Layers             []LayerNode         `json:"layers"`
	Context            map[string][]string `json:"context"`
	MissingContextKeys []string            `json:"missingContextKeys"`
	Notes              []string            `json:"notes,omitempty"`
	Warnings           []string            `json:"warnings,omitempty"`
	// ActionInfo is what AWS's service authorization reference says of the action:
	// its access level and the resource type the request's resource is; absent for an
	// action the reference does not list.
	ActionInfo *policycheck.ActionInfo `json:"actionInfo,omitempty"`
}

// Verdicts of a layer or level.
const (
	VerdictAllows     = "allows"        // an Allow applied
	VerdictDenies     = "denies"        // a Deny applied
	VerdictNoAllow    = "doesNotAllow"  // no Allow applied, and the decision needed one
	VerdictNoMatch    = "noMatch"       // no statement applied; the decision did not need one here
	VerdictAbsent     = "absent"        // the layer has no policy
	VerdictNotApplied = "notApplicable" // the layer does not apply to this request (exempt)
)

// LayerNode is one layer of the decision.
type LayerNode struct {
	Layer    string       `json:"layer"` // scp, rcp, resource, identity, permissionsBoundary, session, endpoint
	Title    string       `json:"title"`
	Verdict  string       `json:"verdict"`
	Note     string       `json:"note,omitempty"`
	Levels   []LevelNode  `json:"levels,omitempty"`   // SCP and RCP
	Policies []PolicyNode `json:"policies,omitempty"` // the other layers
}

// LevelNode is one SCP or RCP level: the root, an OU or the account.
type LevelNode struct {
	Level    int          `json:"level"`
	Target   Target       `json:"target"`
	Verdict  string       `json:"verdict"`
	Policies []PolicyNode `json:"policies"`
}

// PolicyNode is one policy document.
type PolicyNode struct {
	Name       string          `json:"name"`
	ARN        string          `json:"arn,omitempty"`
	ID         string          `json:"id,omitempty"`
	Origin     string          `json:"origin"`
	Statements []StatementNode `json:"statements"`
}

// StatementNode is one statement and whether it applied.
type StatementNode struct {
	Index   int    `json:"index"`
	Sid     string `json:"sid,omitempty"`
	Effect  string `json:"effect"`
	Applies bool   `json:"applies"`
	Naming  string `json:"naming,omitempty"`  // resource-side: how the statement names the caller
	Element string `json:"element,omitempty"` // the element that did not match
	Why     string `json:"why,omitempty"`     // how it did not match
}

// layerOrder is the order of the tree: organization guardrails, the resource side,
// then the caller's own side.
var layerOrder = []authz.Layer{authz.SCP, authz.RCP, authz.Endpoint, authz.Resource, authz.Identity, authz.PermissionsBoundary, authz.Session}

// Build makes the tree of a decision.
func Build(c *Case, d *authz.Decision) *Tree {
	req := &c.Request
	t := &Tree{Principal: req.Caller.Arn, Action: req.Action, Resource: req.Resource,
		PrincipalAccount: c.PrincipalAccount, ResourceAccount: c.ResourceAccount,
		Decision: d.Outcome.String(), BlockedBy: []string{}, Reasons: []string{}, Context: map[string][]string{},
		MissingContextKeys: authz.MissingContextKeys(req, &c.Input, d), Notes: c.Notes, Warnings: c.Warnings,
		ActionInfo: actionInfo(req.Action, req.Resource)}
	for _, l := range d.BlockedBy.List() {
		t.BlockedBy = append(t.BlockedBy, l.String())
	}
	t.Reasons = Reasons(c, d)
	for _, l := range layerOrder {
		t.Layers = append(t.Layers, c.layerNode(l, d))
	}
	keys := make([]string, 0, len(req.Context))
	for k := range req.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Context[k] = req.Context[k]
	}
	return t
}

// actionInfo looks the request's action up in AWS's data; nil when it is not there.
func actionInfo(action, resource string) *policycheck.ActionInfo {
	if info, ok := policycheck.DescribeAction(action, resource); ok {
		return &info
	}
	return nil
}

// actionLine is the line of text naming what AWS's data says of the action.
func actionLine(info *policycheck.ActionInfo, action string) string {
	if info == nil {
		return action + " is not in AWS's service authorization reference"
	}
	return info.String()
}

// Reasons says why the decision went as it did, naming policies and statements.
func Reasons(c *Case, d *authz.Decision) []string {
	req, in := &c.Request, &c.Input
	var out []string
	if d.Outcome == authz.Allowed {
		return []string{reasons.Allowed(d, req)}
	}
	for _, l := range d.BlockedBy.List() {
		out = append(out, reasons.Blocked(l, d, req, in))
		if d.Outcome == authz.ExplicitDeny {
			for _, m := range d.Matched {
				if m.Layer == l && m.Effect == policy.Deny {
					out = append(out, fmt.Sprintf("  %s of %s denies", reasons.StatementName(m.Statement, m.Sid), c.named(m.Layer, m.Level, m.Policy).Origin))
				}
			}
			continue
		}
		named := c.layerNamed(l)
		for _, n := range reasons.NearMisses(l, req, in) {
			out = append(out, fmt.Sprintf("  %s of %s does not apply: %s: %s", reasons.StatementName(n.Statement, n.Sid),
				named[n.Policy].Origin, n.Mismatch.Element, n.Mismatch.Detail))
		}
	}
	return out
}

// named returns the policy a Matched entry points at.
func (c *Case) named(l authz.Layer, level, index int) *Named {
	switch l {
	case authz.SCP:
		return &c.SCPs[level][index]
	case authz.RCP:
		return &c.RCPs[level][index]
	case authz.Identity:
		return &c.Identity[index]
	case authz.Session:
		return &c.Session[index]
	case authz.PermissionsBoundary:
		return c.Boundary
	case authz.Resource:
		return c.Resource
	}
	return c.Endpoint
}

// layerNamed lists a layer's policies in the order of reasons.LayerPolicies.
func (c *Case) layerNamed(l authz.Layer) []*Named {
	var out []*Named
	one := func(n *Named) {
		if n != nil {
			out = append(out, n)
		}
	}
	switch l {
	case authz.Identity:
		for i := range c.Identity {
			out = append(out, &c.Identity[i])
		}
	case authz.Session:
		for i := range c.Session {
			out = append(out, &c.Session[i])
		}
	case authz.PermissionsBoundary:
		one(c.Boundary)
	case authz.Resource:
		one(c.Resource)
	case authz.Endpoint:
		one(c.Endpoint)
	case authz.SCP, authz.RCP:
		levels := c.SCPs
		if l == authz.RCP {
			levels = c.RCPs
		}
		for _, lv := range levels {
			for i := range lv {
				out = append(out, &lv[i])
			}
		}
	}
	return out
}

// exemption says why a layer does not apply to this request, or "".
func (c *Case) exemption(l authz.Layer) string {
	in, caller := &c.Input, &c.Request.Caller
	switch l {
	case authz.SCP:
		switch {
		case in.SCPs == nil:
			return ""
		case in.ManagementAccount:
			return "principals of the management account are exempt from SCPs"
		case in.ServiceLinkedRole:
			return "service-linked roles are exempt from SCPs"
		}
	case authz.RCP:
		switch {
		case in.RCPs == nil:
			return ""
		case in.ResourceManagement:
			return "resources of the management account are exempt from RCPs"
		case in.ServiceLinkedRole:
			return "service-linked roles are exempt from RCPs"
		case !authz.RCPCovers(c.Request.Action):
			return "RCPs govern S3, STS, SQS, Secrets Manager and KMS only"
		}
	case authz.Identity, authz.PermissionsBoundary, authz.Session:
		if caller.Kind == policy.RootUser && l == authz.Identity {
			return "the root user has every permission of its account"
		}
	}
	return ""
}

func (c *Case) layerTitle(l authz.Layer) string {
	switch l {
	case authz.SCP:
		return "service control policies of account " + c.PrincipalAccount
	case authz.RCP:
		return "resource control policies of account " + c.ResourceAccount
	case authz.Endpoint:
		return "VPC endpoint policy"
	case authz.Resource:
		if c.Resource != nil {
			return c.Resource.Origin
		}
		return "resource-based policy"
	case authz.Identity:
		if c.Principal != nil {
			return fmt.Sprintf("identity-based policies of %s %s", c.Principal.Kind, c.Principal.Name)
		}
		return "identity-based policies"
	case authz.PermissionsBoundary:
		return "permissions boundary"
	}
	return "session policies"
}

// absentNote says why a layer has no policy.
func (c *Case) absentNote(l authz.Layer) string {
	switch l {
	case authz.SCP, authz.RCP:
		switch {
		case c.Org == nil:
			return "the account is not in an organization"
		case c.Org.Unreadable != "":
			return "the organization's policies could not be read"
		}
		typ, acct, levels := SCPType, c.PrincipalAccount, c.SCPLevels
		if l == authz.RCP {
			typ, acct, levels = RCPType, c.ResourceAccount, c.RCPLevels
		}
		if levels == nil {
			return fmt.Sprintf("account %s is not in the organization", acct)
		}
		if !c.Org.Enabled(typ) {
			return typ + " is not enabled in the organization"
		}
	case authz.Endpoint:
		return "the request does not come through a VPC endpoint"
	}
	return ""
}

func (c *Case) layerNode(l authz.Layer, d *authz.Decision) LayerNode {
	n := LayerNode{Layer: l.String(), Title: c.layerTitle(l)}
	if why := c.exemption(l); why != "" {
		n.Verdict, n.Note = VerdictNotApplied, why
	}
	switch l {
	case authz.SCP, authz.RCP:
		levels, targets, raw := c.SCPs, c.SCPLevels, c.Input.SCPs
		if l == authz.RCP {
			levels, targets, raw = c.RCPs, c.RCPLevels, c.Input.RCPs
		}
		if raw == nil {
			if n.Verdict == "" {
				n.Verdict, n.Note = VerdictAbsent, c.absentNote(l)
			}
			return n
		}
		for lv, pols := range levels {
			ln := LevelNode{Level: lv, Target: targets[lv], Verdict: VerdictNoAllow, Policies: []PolicyNode{}}
			if reasons.LevelAllows(d, l, lv) {
				ln.Verdict = VerdictAllows
			}
			for i := range pols {
				pn := c.policyNode(&pols[i])
				for _, st := range pn.Statements {
					if st.Applies && st.Effect == "Deny" {
						ln.Verdict = VerdictDenies
					}
				}
				ln.Policies = append(ln.Policies, pn)
			}
			if n.Verdict == VerdictNotApplied {
				ln.Verdict = VerdictNotApplied
			}
			n.Levels = append(n.Levels, ln)
		}
	default:
		for _, nm := range c.layerNamed(l) {
			n.Policies = append(n.Policies, c.policyNode(nm))
		}
		if len(n.Policies) == 0 && n.Verdict == "" {
			n.Verdict, n.Note = VerdictAbsent, c.absentNote(l)
		}
	}
	if n.Verdict == "" {
		n.Verdict = layerVerdict(l, d)
	}
	return n
}

func layerVerdict(l authz.Layer, d *authz.Decision) string {
	allow, deny := false, false
	for _, m := range d.Matched {
		if m.Layer == l {
			allow = allow || m.Effect == policy.Allow
			deny = deny || m.Effect == policy.Deny
		}
	}
	switch {
	case deny:
		return VerdictDenies
	case d.BlockedBy.Has(l):
		return VerdictNoAllow
	case allow:
		return VerdictAllows
	}
	return VerdictNoMatch
}

func (c *Case) policyNode(nm *Named) PolicyNode {
	pn := PolicyNode{Name: nm.Name, ARN: nm.ARN, ID: nm.ID, Origin: nm.Origin, Statements: []StatementNode{}}
	req := &c.Request
	for i := range nm.Policy.Statements {
		st := &nm.Policy.Statements[i]
		sn := StatementNode{Index: i, Sid: st.Sid, Effect: st.Effect.String()}
		if m := st.Explain(req); m != nil {
			sn.Element, sn.Why = m.Element, m.Detail
		} else {
			sn.Applies = true
			if st.HasPrincipal() {
				sn.Naming = reasons.Naming(st.MatchesPrincipal(&req.Caller))
			}
		}
		pn.Statements = append(pn.Statements, sn)
	}
	return pn
}
