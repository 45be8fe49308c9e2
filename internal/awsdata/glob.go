package awsdata

import (
	"sort"
	"strings"
)

// ExpandAction lists the actions of a service that an action-name pattern (GetObject,
// Get*, *) names, without regard to case, sorted by name.
func ExpandAction(svc, pattern string) []*Action {
	if !strings.ContainsAny(pattern, "*?") {
		if a, ok := LookupAction(svc + ":" + pattern); ok {
			return []*Action{a}
		}
		return nil
	}
	p := strings.ToLower(pattern)
	var out []*Action
	for _, a := range ServiceActions(svc) {
		if Glob(p, strings.ToLower(a.Name)) {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Glob matches s against a pattern in which * is any run of characters and ? any one,
// case-sensitively (lower both for IAM's case-insensitive names).
func Glob(p, s string) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
