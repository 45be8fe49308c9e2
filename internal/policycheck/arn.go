package policycheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iamlocal/iamlocal/internal/awsdata"
)

// Matching a policy's Resource against the ARN formats of the reference
// (arn:${Partition}:s3:::${BucketName}/${ObjectName}). Both are patterns: the policy's
// has wildcards (*, ?) and variables, the format has placeholders. A resource can
// name a resource type when some ARN matches both. The check leans to "it can": a
// wildcard or variable matches any text (":" and "/" included), a placeholder too,
// except the few whose values AWS defines without ":" and "/" (partition, region,
// account, S3 bucket name). So a resource is reported only when no ARN of any type of
// the statement's actions could match it.

// elem is one position of a pattern: a literal character, any one character, or a
// run of characters (all, or all but ':' and '/').
type elem struct {
	kind byte // 'c' literal, '?' one character, '*' any run, 's' a run without ':' and '/'
	c    byte
}

// resourcePattern reads a policy's Resource value: * and ? are wildcards, a variable
// (${aws:username}, ${*}…) is any run of characters.
func resourcePattern(s string) []elem {
	var out []elem
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '*':
			out = append(out, elem{kind: '*'})
		case s[i] == '?':
			out = append(out, elem{kind: '?'})
		case strings.HasPrefix(s[i:], "${") && strings.IndexByte(s[i:], '}') > 0:
			out = append(out, elem{kind: '*'})
			i += strings.IndexByte(s[i:], '}')
		default:
			out = append(out, elem{kind: 'c', c: lower(s[i])})
		}
	}
	return out
}

// segmentPlaceholders are the placeholders whose values hold no ':' or '/'.
var segmentPlaceholders = map[string]bool{"Partition": true, "Region": true, "Account": true, "BucketName": true}

// formatPattern reads an ARN format of the reference.
func formatPattern(f string) []elem {
	var out []elem
	for i := 0; i < len(f); i++ {
		switch {
		case strings.HasPrefix(f[i:], "${") && strings.IndexByte(f[i:], '}') > 0:
			j := strings.IndexByte(f[i:], '}')
			kind := byte('*')
			if segmentPlaceholders[f[i+2:i+j]] {
				kind = 's'
			}
			out = append(out, elem{kind: kind})
			i += j
		case f[i] == '*':
			out = append(out, elem{kind: '*'})
		default:
			out = append(out, elem{kind: 'c', c: lower(f[i])})
		}
	}
	return out
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// accepts reports whether some character is taken by both positions.
func accepts(a, b elem) bool {
	switch {
	case a.kind == 'c' && b.kind == 'c':
		return a.c == b.c
	case a.kind == 'c' && b.kind == 's':
		return a.c != ':' && a.c != '/'
	case b.kind == 'c' && a.kind == 's':
		return b.c != ':' && b.c != '/'
	}
	return true
}

func isRun(e elem) bool { return e.kind == '*' || e.kind == 's' }

// intersect reports whether some string matches both patterns: a search over pairs
// of positions, a run either skipped or kept while it takes a character.
func intersect(a, b []elem) bool {
	w := len(b) + 1
	seen := make([]bool, (len(a)+1)*w)
	stack := []int{0}
	seen[0] = true
	push := func(i, j int) {
		if k := i*w + j; !seen[k] {
			seen[k] = true
			stack = append(stack, k)
		}
	}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i, j := k/w, k%w
		if i == len(a) && j == len(b) {
			return true
		}
		if i < len(a) && isRun(a[i]) {
			push(i+1, j)
		}
		if j < len(b) && isRun(b[j]) {
			push(i, j+1)
		}
		if i < len(a) && j < len(b) && accepts(a[i], b[j]) {
			ni, nj := i+1, j+1
			if isRun(a[i]) {
				ni = i
			}
			if isRun(b[j]) {
				nj = j
			}
			if ni != i || nj != j {
				push(ni, nj)
			}
		}
	}
	return false
}

// resourceType is one resource type an action applies to, with its ARN format.
type resourceType struct {
	service, name, format string
}

// typesOf lists the resource types of actions, each once, in order of service and
// name; none when an action has no resource-level permissions (ok false).
func typesOf(actions []namedAction) (types []resourceType, ok bool) {
	seen := map[string]bool{}
	for _, a := range actions {
		if len(a.Resources) == 0 {
			return nil, false
		}
		svc := a.service
		for _, r := range a.Resources {
			f, found := awsdata.ARNFormat(svc, r.Type)
			if !found {
				return nil, false // the reference names a type it does not define: no judgement
			}
			if k := svc + "|" + r.Type; !seen[k] {
				seen[k] = true
				types = append(types, resourceType{svc, r.Type, f})
			}
		}
	}
	sort.Slice(types, func(i, j int) bool {
		if types[i].service != types[j].service {
			return types[i].service < types[j].service
		}
		return types[i].name < types[j].name
	})
	return types, true
}

// resources checks each Resource of a statement whose actions are all known and all
// have resource-level permissions: one that no ARN format of their types can match
// is named by no request of those actions.
func (c *statementCheck) resources() {
	if !c.resolved || len(c.actions) == 0 {
		return
	}
	types, ok := typesOf(c.actions)
	if !ok {
		return
	}
	formats := make([][]elem, len(types))
	for i, t := range types {
		formats[i] = formatPattern(t.format)
	}
	for _, r := range c.st.Resources {
		if r.Value == "*" || !strings.HasPrefix(r.Value, "arn:") || strings.Count(r.Value, ":") < 5 {
			continue // "*" names everything; a resource that is no ARN is the door's
		}
		pat := resourcePattern(r.Value)
		matched := false
		for _, f := range formats {
			if intersect(pat, f) {
				matched = true
				break
			}
		}
		if !matched {
			c.add(Warning, CodeResourceNotForActions, r, "The resource %s matches no resource type of the statement's actions, so the statement does not apply to it: they apply to %s.",
				r.Value, describeTypes(types))
		}
	}
}

func describeTypes(types []resourceType) string {
	const most = 4
	var parts []string
	for i, t := range types {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(types)-most))
			break
		}
		parts = append(parts, fmt.Sprintf("%s:%s (%s)", t.service, t.name, t.format))
	}
	return strings.Join(parts, ", ")
}

// resourceTypeOf is the first of types whose ARN format the resource can match.
func resourceTypeOf(types []resourceType, resource string) (resourceType, bool) {
	pat := resourcePattern(resource)
	for _, t := range types {
		if intersect(pat, formatPattern(t.format)) {
			return t, true
		}
	}
	return resourceType{}, false
}
