package policy

import "strings"

// Applies reports whether the statement applies to the request: its principal (for
// policies that name principals), action, resource and conditions all match. For a
// statement with a Principal element it also says how the caller was named.
func (st *Statement) Applies(r *Request) (bool, PrincipalMatch) {
	if !st.matchesAction(r.action) || !st.MatchesResource(r) {
		return false, NoPrincipalMatch
	}
	pm := st.MatchesPrincipal(&r.Caller)
	if pm == NoPrincipalMatch {
		return false, pm
	}
	return st.MatchesConditions(r) < 0, pm
}

// MatchesAction reports whether the Action or NotAction element covers action.
func (st *Statement) MatchesAction(action string) bool {
	return st.matchesAction(strings.ToLower(action))
}

// matchesAction matches a lower-cased action: action patterns are lower-cased when
// compiled, so the comparison is exact and fast.
func (st *Statement) matchesAction(action string) bool {
	if st.inert {
		return false
	}
	for i := range st.actions {
		if st.actions[i].match(action, 0, nil) {
			return !st.notAction
		}
	}
	return st.notAction
}

// MatchesResource reports whether the Resource or NotResource element covers the
// request's resource. Prepare must have been called on r.
func (st *Statement) MatchesResource(r *Request) bool {
	if st.anyResource {
		return true
	}
	mode := arnParts
	if r.resStart < 0 {
		mode = 0 // not an ARN: only the whole pattern can match
	}
	for i := range st.resources {
		if st.resources[i].match(r.Resource, mode, r) {
			return !st.notResource
		}
	}
	return st.notResource
}

// MatchesPrincipal reports how the Principal or NotPrincipal element names the caller.
// A statement without either applies to the caller it is attached to (Direct).
func (st *Statement) MatchesPrincipal(c *Caller) PrincipalMatch {
	switch {
	case st.nobody:
		return NoPrincipalMatch
	case st.principal == nil:
		return Direct
	case st.notPrincipal:
		if st.principal.excludes(c) {
			return NoPrincipalMatch
		}
		return Direct
	}
	return st.principal.match(c)
}

// MatchesConditions returns -1 when every condition holds, else the index of the
// first that does not. Every condition is evaluated, so that all the keys the
// statement needs are noted as missing.
func (st *Statement) MatchesConditions(r *Request) int {
	failed := -1
	for i := range st.conditions {
		if !st.conditions[i].eval(r) && failed < 0 {
			failed = i
		}
	}
	return failed
}

// HasPrincipal reports whether the statement has a Principal or NotPrincipal element.
func (st *Statement) HasPrincipal() bool { return st.principal != nil }
