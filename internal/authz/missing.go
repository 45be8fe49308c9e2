package authz

import (
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
)

// MissingContextKeys returns the context keys a decision depends on that the request
// lacked: the keys Decide noted in the statements it tried, and, when the resource is
// "*" (the simulators' "every resource"), the keys read by every statement of every
// applicable layer that names the action, whatever resource it names. A deny for
// some resources then still shows the key it needs, as IAM's simulator does. The
// simulators, explain and doctor all report missing keys through this one function.
func MissingContextKeys(req *policy.Request, in *Input, d *Decision) []string {
	out := append([]string{}, d.Missing...)
	if req.Resource != "*" {
		return out
	}
	add := func(p *policy.Policy) {
		out = appendMissing(out, req, p)
	}
	if !in.ManagementAccount && !in.ServiceLinkedRole {
		forLevels(in.SCPs, add)
	}
	if !in.ResourceManagement && !in.ServiceLinkedRole && rcpCovers(req.Action) {
		forLevels(in.RCPs, add)
	}
	for _, p := range in.Identity {
		add(p)
	}
	for _, p := range in.Session {
		add(p)
	}
	add(in.Boundary)
	add(in.Resource)
	add(in.Endpoint)
	return out
}

func forLevels(levels [][]*policy.Policy, f func(*policy.Policy)) {
	for _, ps := range levels {
		for _, p := range ps {
			f(p)
		}
	}
}

// appendMissing adds the absent keys read by p's statements that name the action and
// the caller. Null conditions test absence itself, so they need no value.
func appendMissing(out []string, req *policy.Request, p *policy.Policy) []string {
	if p == nil {
		return out
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.MatchesAction(req.Action) || st.MatchesPrincipal(&req.Caller) == policy.NoPrincipalMatch {
			continue
		}
		for _, c := range st.Conditions() {
			if strings.HasSuffix(c.Operator, "Null") || present(req, c.Key) || hasKey(out, c.Key) {
				continue
			}
			out = append(out, c.Key)
		}
	}
	return out
}

func present(req *policy.Request, key string) bool {
	v, ok := req.Lookup(strings.ToLower(key))
	return ok && len(v) > 0
}

func hasKey(keys []string, key string) bool {
	for _, k := range keys {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// Evaluate is the decision of the offline doors — `iamlocal eval`,
// SimulatePrincipalPolicy and SimulateCustomPolicy: Decide, whose outcome, blocking
// layers and matched statements they report, with the missing context keys of
// MissingContextKeys, and AWS's own refusal of a change to a resource only AWS may
// change (Protected: an explicit deny by AWSOwned). It allocates a fresh Decision; the
// request path calls Decide, and the API doors answer a protected request with the
// service's own error (UnmodifiableEntity…) once the caller is authorized.
func Evaluate(req *policy.Request, in *Input) *Decision {
	d := &Decision{}
	Decide(req, in, d)
	d.Missing = MissingContextKeys(req, in, d)
	if why := Protected(req.Action, req.Resource); why != "" {
		if d.Outcome != ExplicitDeny {
			d.BlockedBy = 0
		}
		d.Outcome, d.Protected = ExplicitDeny, why
		d.BlockedBy.add(AWSOwned)
	}
	return d
}
