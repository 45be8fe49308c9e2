package policy

import (
	"fmt"
	"strings"
)

// Mismatch says why a statement does not apply to a request: the element that did
// not match and, in words, how.
type Mismatch struct {
	Element string // "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"
	Detail  string
}

// Explain returns nil when the statement applies to the request, else the first
// element that does not match and why. It is for people, not the hot path: it may
// allocate.
func (st *Statement) Explain(r *Request) *Mismatch {
	if !st.matchesAction(r.action) {
		if st.notAction {
			return &Mismatch{"NotAction", fmt.Sprintf("NotAction lists %s", r.Action)}
		}
		return &Mismatch{"Action", fmt.Sprintf("%s is not among %s", r.Action, rawList(st.actions))}
	}
	if !st.MatchesResource(r) {
		if st.notResource {
			return &Mismatch{"NotResource", fmt.Sprintf("NotResource covers %s", r.Resource)}
		}
		return &Mismatch{"Resource", fmt.Sprintf("%s does not match %s", r.Resource, rawList(st.resources))}
	}
	if st.MatchesPrincipal(&r.Caller) == NoPrincipalMatch {
		if st.notPrincipal {
			return &Mismatch{"NotPrincipal", fmt.Sprintf("NotPrincipal lists every identity of %s", r.Caller.Arn)}
		}
		return &Mismatch{"Principal", fmt.Sprintf("Principal does not name %s", r.Caller.Arn)}
	}
	if i := st.MatchesConditions(r); i >= 0 {
		return &Mismatch{"Condition", st.conditions[i].explain(r)}
	}
	return nil
}

func (c *condition) explain(r *Request) string {
	want := c.rawValues()
	values, ok := r.Lookup(c.key)
	switch {
	case c.op.family == fNull:
		if ok && len(values) > 0 {
			return fmt.Sprintf("Null %s %s: the key is present", c.Key, want)
		}
		return fmt.Sprintf("Null %s %s: the key is absent", c.Key, want)
	case !ok || len(values) == 0:
		return fmt.Sprintf("%s %s %s: the request has no %s", c.Operator, c.Key, want, c.Key)
	}
	return fmt.Sprintf("%s %s %s: the request has %s", c.Operator, c.Key, want, quoteList(values))
}

func (c *condition) rawValues() string { return quoteList(c.raw) }

func rawList(ps []pattern) string { return quoteList(raws(ps)) }

func quoteList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "[" + strings.Join(q, ", ") + "]"
}
