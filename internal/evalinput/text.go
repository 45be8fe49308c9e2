package evalinput

import (
	"fmt"
	"io"
	"strings"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// WriteText explains a decision for a person: what was asked, the outcome, which
// layers decided and why, and the statements that applied.
func WriteText(w io.Writer, c *Case, d *authz.Decision) {
	r := &c.Request
	fmt.Fprintf(w, "%s  %s  on %s\n", r.Caller.Arn, r.Action, r.Resource)
	fmt.Fprintf(w, "  decision: %s\n", d.Outcome)
	for _, l := range d.BlockedBy.List() {
		fmt.Fprintf(w, "  because:  %s\n", blockReason(l, d, c))
		if d.Outcome == authz.ImplicitDeny {
			writeNearMisses(w, l, c)
		}
	}
	if d.Outcome == authz.Allowed {
		fmt.Fprintf(w, "  because:  %s\n", allowReason(d, c))
	}
	for _, m := range d.Matched {
		fmt.Fprintf(w, "  %-5s     %s\n", m.Effect, describeMatch(m, c))
	}
	if len(d.Missing) > 0 {
		fmt.Fprintf(w, "  missing context keys: %s\n", strings.Join(d.Missing, ", "))
	}
}

func blockReason(l authz.Layer, d *authz.Decision, c *Case) string {
	if d.Outcome == authz.ExplicitDeny {
		return "explicit deny in " + l.Phrase()
	}
	action := c.Request.Action
	switch l {
	case authz.SCP, authz.RCP:
		levels := c.Input.SCPs
		if l == authz.RCP {
			levels = c.Input.RCPs
		}
		var missing []string
		for lv := range levels {
			if !levelAllows(d, l, lv) {
				missing = append(missing, levelName(lv, len(levels)))
			}
		}
		return fmt.Sprintf("no %s at the %s allows %s (an Allow is needed at every level)",
			strings.TrimPrefix(l.Phrase(), "a "), strings.Join(missing, ", "), action)
	case authz.Resource:
		if c.Input.Resource == nil {
			return fmt.Sprintf("there is no resource-based policy, and this request needs one to allow %s", action)
		}
		return fmt.Sprintf("no statement of the %s allows this caller %s", resourcePolicyName(c), action)
	}
	return fmt.Sprintf("%s allows %s", map[authz.Layer]string{
		authz.Identity:            "no identity-based policy",
		authz.PermissionsBoundary: "the permissions boundary never",
		authz.Session:             "no session policy",
		authz.Endpoint:            "the VPC endpoint policy never",
	}[l], action)
}

// writeNearMisses shows, for a layer that gave no Allow, the Allow statements that
// cover the action but did not apply, and why.
func writeNearMisses(w io.Writer, l authz.Layer, c *Case) {
	for _, p := range layerPolicies(l, c) {
		for i := range p.Statements {
			st := &p.Statements[i]
			if st.Effect != policy.Allow || !st.MatchesAction(c.Request.Action) {
				continue
			}
			if m := st.Explain(&c.Request); m != nil {
				name := fmt.Sprintf("statement %d", i)
				if st.Sid != "" {
					name = fmt.Sprintf("%s (Sid %q)", name, st.Sid)
				}
				fmt.Fprintf(w, "            %s does not apply: %s: %s\n", name, m.Element, m.Detail)
			}
		}
	}
}

func layerPolicies(l authz.Layer, c *Case) []*policy.Policy {
	in := &c.Input
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

func resourcePolicyName(c *Case) string {
	if c.Input.Resource != nil && c.Input.Resource.Kind == policy.Trust {
		return "role's trust policy"
	}
	return "resource-based policy"
}

func allowReason(d *authz.Decision, c *Case) string {
	for _, m := range d.Matched {
		if m.Layer == authz.Resource && m.Effect == policy.Allow && m.Principal == policy.Direct {
			return "the resource-based policy allows this caller by name"
		}
	}
	if c.Request.Caller.Kind == policy.RootUser {
		return "the root user has every permission in its account"
	}
	return "every required layer allows and no statement denies"
}

func levelAllows(d *authz.Decision, l authz.Layer, level int) bool {
	for _, m := range d.Matched {
		if m.Layer == l && m.Level == level && m.Effect == policy.Allow {
			return true
		}
	}
	return false
}

func levelName(level, n int) string {
	switch {
	case level == 0:
		return "root level (0)"
	case level == n-1:
		return fmt.Sprintf("account level (%d)", level)
	}
	return fmt.Sprintf("OU level %d", level)
}

func describeMatch(m authz.Matched, c *Case) string {
	var b strings.Builder
	switch m.Layer {
	case authz.SCP, authz.RCP:
		fmt.Fprintf(&b, "%s level %d policy %d", m.Layer, m.Level, m.Policy)
	case authz.Identity, authz.Session:
		fmt.Fprintf(&b, "%s policy %d", m.Layer, m.Policy)
	case authz.Resource:
		b.WriteString(resourcePolicyName(c))
	default:
		b.WriteString(strings.TrimPrefix(strings.TrimPrefix(m.Layer.Phrase(), "a "), "an "))
	}
	fmt.Fprintf(&b, ", statement %d", m.Statement)
	if m.Sid != "" {
		fmt.Fprintf(&b, " (Sid %q)", m.Sid)
	}
	if m.Layer == authz.Resource || m.Layer == authz.Endpoint {
		switch m.Principal {
		case policy.ByAccount:
			b.WriteString(", names the caller's account")
		case policy.ByRole:
			b.WriteString(", names the caller's role")
		case policy.Direct:
			b.WriteString(", names the caller")
		}
	}
	return b.String()
}
