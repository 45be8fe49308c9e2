package explain

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/reasons"
)

// Some actions are authorized on more than one resource in one call: a fix that
// allows only the resource asked about is then denied on the next one. These are
// the resources besides the asked one, as ARN patterns (REGION and ACCOUNT filled
// in). RunInstances: internal/service/ec2 authorizes the instances and the image;
// AWS also the network interface, security group, subnet and volume, and the key
// pair and launch template when given, so the fix names them all.
var companionResources = map[string][]string{
	"ec2:runinstances": {
		"arn:aws:ec2:REGION::image/*",
		"arn:aws:ec2:REGION:ACCOUNT:network-interface/*",
		"arn:aws:ec2:REGION:ACCOUNT:security-group/*",
		"arn:aws:ec2:REGION:ACCOUNT:subnet/*",
		"arn:aws:ec2:REGION:ACCOUNT:volume/*",
		"arn:aws:ec2:REGION:ACCOUNT:key-pair/*",
		"arn:aws:ec2:REGION:ACCOUNT:launch-template/*",
	},
}

// checkedResources are the resources iamlocal's server authorizes besides the asked
// one: what doctor re-decides its fix on. An image id stands for every image.
var checkedResources = map[string][]string{
	"ec2:runinstances": {"arn:aws:ec2:REGION::image/ami-*"},
}

// regionAccount reads the region and account of an ARN, "*" where it has none.
func regionAccount(arn string) (string, string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "*", "*"
	}
	region, account := parts[3], parts[4]
	if region == "" {
		region = "*"
	}
	if account == "" {
		account = "*"
	}
	return region, account
}

func fillARNs(patterns []string, resource string) []string {
	region, account := regionAccount(resource)
	r := strings.NewReplacer("REGION", region, "ACCOUNT", account)
	out := make([]string, len(patterns))
	for i, p := range patterns {
		out[i] = r.Replace(p)
	}
	return out
}

// fixResources is the Resource element of an Allow fix: every resource the action
// authorizes, the asked one first.
func fixResources(req *policy.Request) any {
	more := companionResources[strings.ToLower(req.Action)]
	if len(more) == 0 || req.Resource == "*" {
		return req.Resource
	}
	return append([]string{req.Resource}, fillARNs(more, req.Resource)...)
}

// verifyFixes re-decides the call with every fix of the report applied, on every
// resource the action authorizes. A fix that would still be denied is not printed:
// the check says instead what else blocks.
func (c *Case) verifyFixes(r *Report, d, nd *authz.Decision) {
	in, err := c.fixedInput(d, nd)
	if err != nil {
		return
	}
	res, fd, why := c.firstDenied(&in)
	if fd == nil {
		return
	}
	for i := range r.Checks {
		ch := &r.Checks[i]
		if ch.Status == StatusFail && ch.FixPolicy != "" {
			ch.Fix = fmt.Sprintf("no fix printed: with it, %s on %s would still be denied (%s): %s", c.Request.Action, res, fd.Outcome, why)
			ch.FixPolicy = ""
		}
	}
}

// firstDenied decides the call with in on every resource the action authorizes and
// returns the first one denied, the decision and why; a nil decision when all pass.
func (c *Case) firstDenied(in *authz.Input) (string, *authz.Decision, string) {
	for _, res := range c.authorizedResources() {
		req := cloneRequest(&c.Request)
		req.Resource = res
		req.Prepare()
		fd := &authz.Decision{}
		authz.Decide(req, in, fd)
		if !fd.Allowed() {
			fc := c.with(req, in)
			return res, fd, strings.TrimSpace(strings.Join(Reasons(fc, fd), "; "))
		}
	}
	return "", nil, ""
}

// with is the case with another request and input, keeping the policies' names.
func (c *Case) with(req *policy.Request, in *authz.Input) *Case {
	fc := *c
	fc.Request, fc.Input = *req, *in
	return &fc
}

func (c *Case) authorizedResources() []string {
	more := checkedResources[strings.ToLower(c.Request.Action)]
	return append([]string{c.Request.Resource}, fillARNs(more, c.Request.Resource)...)
}

// companionCheck checks the resources the call authorizes besides the asked one
// (RunInstances: the image), which a decision on the asked one alone hides.
func (c *Case) companionCheck(d *authz.Decision) (Check, bool) {
	more := fillARNs(checkedResources[strings.ToLower(c.Request.Action)], c.Request.Resource)
	if len(more) == 0 {
		return Check{}, false
	}
	ch := Check{Name: "other resources " + c.Request.Action + " authorizes", Status: StatusOK, Detail: "allowed on " + strings.Join(more, ", ")}
	if !d.Allowed() {
		// The checks above fail already; their fixes are decided on these too.
		ch.Status, ch.Detail = StatusSkip, "the fixes above are checked on "+strings.Join(more, ", ")+" too"
		return ch, true
	}
	for _, res := range more {
		req := cloneRequest(&c.Request)
		req.Resource = res
		req.Prepare()
		fd := &authz.Decision{}
		authz.Decide(req, &c.Input, fd)
		if !fd.Allowed() {
			fc := c.with(req, &c.Input)
			ch.Status = StatusFail
			ch.Detail = fmt.Sprintf("%s on %s: %s: %s", c.Request.Action, res, fd.Outcome, strings.TrimSpace(strings.Join(Reasons(fc, fd), "; ")))
			ch.Fix = fmt.Sprintf("allow every resource the call authorizes (see the fixes above), or check it alone: iamlocal doctor call --action %s --resource '%s'", c.Request.Action, res)
			break
		}
	}
	return ch, true
}

// fixedInput is the input as the report's fixes would leave it: each Deny that
// applied lifted (its fix leaves the caller out of it, or removes it), each layer
// that lacked an Allow given one.
func (c *Case) fixedInput(d, nd *authz.Decision) (authz.Input, error) {
	in := c.Input
	in.Identity = append([]*policy.Policy(nil), in.Identity...)
	in.Session = append([]*policy.Policy(nil), in.Session...)
	in.SCPs, in.RCPs = copyLevels(in.SCPs), copyLevels(in.RCPs)
	denied := authz.Layers(0)
	drops := map[**policy.Policy][]int{}
	for _, m := range d.Matched {
		if m.Effect == policy.Deny {
			denied |= 1 << m.Layer
			slot := policySlot(&in, m.Layer, m.Level, m.Policy)
			drops[slot] = append(drops[slot], m.Statement)
		}
	}
	for slot, idx := range drops {
		p, err := dropStatements(*slot, idx)
		if err != nil {
			return in, err
		}
		*slot = p
	}
	for _, l := range nd.BlockedBy.List() {
		if denied.Has(l) {
			continue // the printed fix lifts the Deny only: the Allow stays missing
		}
		if err := c.addAllow(&in, nd, l); err != nil {
			return in, err
		}
	}
	return in, nil
}

func copyLevels(ls [][]*policy.Policy) [][]*policy.Policy {
	if ls == nil {
		return nil
	}
	out := make([][]*policy.Policy, len(ls))
	for i, l := range ls {
		out[i] = append([]*policy.Policy{}, l...)
	}
	return out
}

func policySlot(in *authz.Input, l authz.Layer, level, index int) **policy.Policy {
	switch l {
	case authz.SCP:
		return &in.SCPs[level][index]
	case authz.RCP:
		return &in.RCPs[level][index]
	case authz.Identity:
		return &in.Identity[index]
	case authz.Session:
		return &in.Session[index]
	case authz.PermissionsBoundary:
		return &in.Boundary
	case authz.Resource:
		return &in.Resource
	}
	return &in.Endpoint
}

// addAllow gives layer l the Allow its fix adds.
func (c *Case) addAllow(in *authz.Input, nd *authz.Decision, l authz.Layer) error {
	req := &c.Request
	allow := Statement{Effect: "Allow", Action: req.Action, Resource: fixResources(req)}
	add := func(p *policy.Policy, kind policy.Kind, st Statement) (*policy.Policy, error) {
		text := docOf(st)
		if p != nil {
			text = withStatement(p.Text, st)
		}
		return policy.Parse([]byte(text), kind)
	}
	var err error
	switch l {
	case authz.Identity:
		var p *policy.Policy
		p, err = add(nil, policy.Identity, allow)
		in.Identity = append(in.Identity, p)
	case authz.PermissionsBoundary:
		in.Boundary, err = add(in.Boundary, policy.Boundary, allow)
	case authz.Session:
		if len(in.Session) == 0 {
			in.Session = []*policy.Policy{nil}
		}
		for i := range in.Session {
			if in.Session[i], err = add(in.Session[i], policy.Session, allow); err != nil {
				return err
			}
		}
	case authz.Endpoint:
		allow.Principal = "*"
		in.Endpoint, err = add(in.Endpoint, policy.Endpoint, allow)
	case authz.Resource:
		allow.Principal = map[string]any{"AWS": principalRef(&req.Caller)}
		kind := policy.Resource
		if in.Resource != nil && in.Resource.Kind == policy.Trust {
			allow.Resource, kind = nil, policy.Trust
		}
		in.Resource, err = add(in.Resource, kind, allow)
	case authz.SCP, authz.RCP:
		levels, kind, st := in.SCPs, policy.SCP, Statement{Effect: "Allow", Action: req.Action, Resource: "*"}
		if l == authz.RCP {
			levels, kind, st.Principal = in.RCPs, policy.RCP, "*"
		}
		for lv := range levels {
			if !reasons.LevelAllows(nd, l, lv) {
				var p *policy.Policy
				if p, err = add(nil, kind, st); err != nil {
					return err
				}
				levels[lv] = append(levels[lv], p)
			}
		}
	}
	return err
}

// dropStatements returns p without the statements at idx. A policy left empty gets an
// Allow that never applies, in the shape its kind requires.
func dropStatements(p *policy.Policy, idx []int) (*policy.Policy, error) {
	doc, list, err := statementsOf(p)
	if err != nil {
		return nil, err
	}
	skip := map[int]bool{}
	for _, i := range idx {
		skip[i] = true
	}
	var kept []any
	for i, s := range list {
		if !skip[i] {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return allowsOnly(p), nil
	}
	doc["Statement"] = kept
	text, _ := json.Marshal(doc)
	return policy.Parse(text, p.Kind)
}
