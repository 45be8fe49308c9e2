// Package reasons puts a decision of the engine into words: why a layer blocked it,
// why it was allowed, which statements nearly applied and how a matched statement is
// named. `iamlocal eval`, `explain` and `doctor` share it, so that one decision reads
// the same everywhere. It does no I/O.
package reasons

import (
	"fmt"
	"strings"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// Blocked says why layer l blocked decision d of request req with layers in.
func Blocked(l authz.Layer, d *authz.Decision, req *policy.Request, in *authz.Input) string {
	if d.Outcome == authz.ExplicitDeny {
		return "explicit deny in " + l.Phrase()
	}
	action := req.Action
	switch l {
	case authz.SCP, authz.RCP:
		levels := in.SCPs
		if l == authz.RCP {
			levels = in.RCPs
		}
		var missing []string
		for lv := range levels {
			if !LevelAllows(d, l, lv) {
				missing = append(missing, LevelName(lv, len(levels)))
			}
		}
		return fmt.Sprintf("no %s at the %s allows %s (an Allow is needed at every level)",
			strings.TrimPrefix(l.Phrase(), "a "), strings.Join(missing, ", "), action)
	case authz.Resource:
		if in.Resource == nil {
			return fmt.Sprintf("there is no resource-based policy, and this request needs one to allow %s", action)
		}
		return fmt.Sprintf("no statement of the %s allows this caller %s", ResourcePolicyName(in), action)
	}
	return fmt.Sprintf("%s allows %s", map[authz.Layer]string{
		authz.Identity:            "no identity-based policy",
		authz.PermissionsBoundary: "the permissions boundary never",
		authz.Session:             "no session policy",
		authz.Endpoint:            "the VPC endpoint policy never",
	}[l], action)
}

// Allowed says why an allowed decision was allowed.
func Allowed(d *authz.Decision, req *policy.Request) string {
	if authz.NeedsNoPermission(req) {
		return req.Action + " needs no permission: AWS allows it even under an explicit deny"
	}
	for _, m := range d.Matched {
		if m.Layer == authz.Resource && m.Effect == policy.Allow && m.Principal == policy.Direct {
			return "the resource-based policy allows this caller by name"
		}
	}
	if req.Caller.Kind == policy.RootUser {
		return "the root user has every permission in its account"
	}
	return "every required layer allows and no statement denies"
}

// NearMiss is an Allow statement that covers the action but did not apply.
type NearMiss struct {
	Policy    int // index among LayerPolicies
	Statement int
	Sid       string
	Mismatch  policy.Mismatch
}

// String is "statement 0 (Sid "X") does not apply: Condition: …".
func (n NearMiss) String() string {
	return fmt.Sprintf("%s does not apply: %s: %s", StatementName(n.Statement, n.Sid), n.Mismatch.Element, n.Mismatch.Detail)
}

// NearMisses lists, for a layer that gave no Allow, the Allow statements that cover
// the action but did not apply, and why.
func NearMisses(l authz.Layer, req *policy.Request, in *authz.Input) []NearMiss {
	var out []NearMiss
	for pi, p := range LayerPolicies(l, in) {
		for i := range p.Statements {
			st := &p.Statements[i]
			if st.Effect != policy.Allow || !st.MatchesAction(req.Action) {
				continue
			}
			if m := st.Explain(req); m != nil {
				out = append(out, NearMiss{Policy: pi, Statement: i, Sid: st.Sid, Mismatch: *m})
			}
		}
	}
	return out
}

// LayerPolicies returns the policies of a layer, SCP and RCP levels flattened.
func LayerPolicies(l authz.Layer, in *authz.Input) []*policy.Policy {
	var levels [][]*policy.Policy
	switch l {
	case authz.Identity:
		return in.Identity
	case authz.Session:
		return in.Session
	case authz.PermissionsBoundary:
		levels = [][]*policy.Policy{{in.Boundary}}
	case authz.Resource:
		levels = [][]*policy.Policy{{in.Resource}}
	case authz.Endpoint:
		levels = [][]*policy.Policy{{in.Endpoint}}
	case authz.SCP:
		levels = in.SCPs
	case authz.RCP:
		levels = in.RCPs
	}
	var out []*policy.Policy
	for _, lv := range levels {
		for _, p := range lv {
			if p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// ResourcePolicyName is "role's trust policy" or "resource-based policy".
func ResourcePolicyName(in *authz.Input) string {
	if in.Resource != nil && in.Resource.Kind == policy.Trust {
		return "role's trust policy"
	}
	return "resource-based policy"
}

// LevelAllows reports whether some Allow statement applied at an SCP or RCP level.
func LevelAllows(d *authz.Decision, l authz.Layer, level int) bool {
	for _, m := range d.Matched {
		if m.Layer == l && m.Level == level && m.Effect == policy.Allow {
			return true
		}
	}
	return false
}

// LevelName names an SCP or RCP level among n: "root level (0)", "OU level 1",
// "account level (2)".
func LevelName(level, n int) string {
	switch {
	case level == 0:
		return "root level (0)"
	case level == n-1:
		return fmt.Sprintf("account level (%d)", level)
	}
	return fmt.Sprintf("OU level %d", level)
}

// StatementName is "statement 0" or "statement 0 (Sid "X")".
func StatementName(index int, sid string) string {
	if sid == "" {
		return fmt.Sprintf("statement %d", index)
	}
	return fmt.Sprintf("statement %d (Sid %q)", index, sid)
}

// Naming says how a resource-side statement named the caller, or "".
func Naming(m policy.PrincipalMatch) string {
	switch m {
	case policy.ByAccount:
		return "names the caller's account"
	case policy.ByRole:
		return "names the caller's role"
	case policy.Direct:
		return "names the caller"
	}
	return ""
}

// DescribeMatch names a matched statement by layer, level and index:
// "identity policy 0, statement 1 (Sid "X")".
func DescribeMatch(m authz.Matched, in *authz.Input) string {
	var b strings.Builder
	switch m.Layer {
	case authz.SCP, authz.RCP:
		fmt.Fprintf(&b, "%s level %d policy %d", m.Layer, m.Level, m.Policy)
	case authz.Identity, authz.Session:
		fmt.Fprintf(&b, "%s policy %d", m.Layer, m.Policy)
	case authz.Resource:
		b.WriteString(ResourcePolicyName(in))
	default:
		b.WriteString(strings.TrimPrefix(strings.TrimPrefix(m.Layer.Phrase(), "a "), "an "))
	}
	b.WriteString(", ")
	b.WriteString(StatementName(m.Statement, m.Sid))
	if m.Layer == authz.Resource || m.Layer == authz.Endpoint {
		if n := Naming(m.Principal); n != "" {
			b.WriteString(", ")
			b.WriteString(n)
		}
	}
	return b.String()
}
