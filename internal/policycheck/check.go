// Package policycheck checks policy documents against AWS's data — the service
// authorization reference and the global condition keys of internal/awsdata — as IAM
// Access Analyzer's policy validation does: actions and services that do not exist,
// condition keys no service defines, resources that none of a statement's actions can
// apply to, operators of the wrong type for their key. Findings carry Access
// Analyzer's finding types and issue codes where Access Analyzer has the check, and
// the place of the value at fault. It does no I/O; the doors' own validation stays in
// internal/policy (Lint runs both).
package policycheck

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iamlocal/iamlocal/internal/awsdata"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// Finding types, as IAM Access Analyzer's ValidatePolicy names them.
const (
	Error           = "ERROR"            // a part of the policy is not functional
	SecurityWarning = "SECURITY_WARNING" // the policy allows more than it probably means to
	Warning         = "WARNING"          // the policy does not follow policy-writing practice
	Suggestion      = "SUGGESTION"       // a stylistic improvement that changes no access
)

// Issue codes. Those of IAM Access Analyzer's policy validation (IAM User Guide,
// "IAM Access Analyzer policy check reference") keep its names; the two checks
// Access Analyzer does not make are iamlocal's and say so in their names' docs.
const (
	CodeInvalidServiceInAction     = "INVALID_SERVICE_IN_ACTION"
	CodeInvalidAction              = "INVALID_ACTION"
	CodeInvalidService             = "INVALID_SERVICE"
	CodeInvalidGlobalConditionKey  = "INVALID_GLOBAL_CONDITION_KEY"
	CodeInvalidServiceConditionKey = "INVALID_SERVICE_CONDITION_KEY"
	CodeInvalidConditionKeyFormat  = "INVALID_CONDITION_KEY_FORMAT"
	CodeDeprecatedGlobalKey        = "DEPRECATED_GLOBAL_CONDITION_KEY"
	CodeTypeMismatch               = "TYPE_MISMATCH"
	CodeForAllValuesSingleValued   = "FORALLVALUES_WITH_SINGLE_VALUED_KEY"
	// CodeResourceNotForActions (iamlocal's): a resource that matches the ARN format of
	// no resource type of the statement's actions, so the statement grants or denies
	// nothing on it.
	CodeResourceNotForActions = "RESOURCE_NOT_FOR_STATEMENT_ACTIONS"
	// CodeKeyNotForActions (iamlocal's): a service condition key that no service of
	// the statement's actions defines, so it is absent from every request the
	// statement applies to.
	CodeKeyNotForActions = "CONDITION_KEY_NOT_FOR_STATEMENT_ACTIONS"
	// CodeMalformedPolicyDocument is a door's refusal (Lint): IAM's error code.
	CodeMalformedPolicyDocument = "MalformedPolicyDocument"
)

// Finding is one problem in a policy document, placed by statement, JSON path and
// line and column.
type Finding struct {
	Type      string // Error, SecurityWarning, Warning or Suggestion
	Code      string // Access Analyzer's issue code, or iamlocal's
	Message   string
	Statement int // -1: the document as a whole
	Sid       string
	Path      string // Statement[0].Action[1]; empty when the finding is not about one value
	Pos       policy.Position
}

func (f Finding) String() string {
	return fmt.Sprintf("%d:%d: %s %s: %s", f.Pos.Line, f.Pos.Column, f.Type, f.Code, f.Message)
}

// Check checks a parsed policy against AWS's data. It reads the document as written
// (p.Text) to place each finding.
func Check(p *policy.Policy) []Finding {
	o, err := policy.OutlineDocument([]byte(p.Text))
	if err != nil {
		return nil
	}
	return CheckOutline(o)
}

// CheckOutline checks a document as written against AWS's data.
func CheckOutline(o *policy.Outline) []Finding {
	var out []Finding
	for i := range o.Statements {
		out = append(out, checkStatement(&o.Statements[i])...)
	}
	return out
}

// statementCheck gathers what the checks of one statement need.
type statementCheck struct {
	st       *policy.OutlineStatement
	out      []Finding
	services map[string]bool // services of the statement's actions; nil when any service (*, NotAction)
	actions  []namedAction   // every action the Action patterns name
	resolved bool            // every Action pattern named known actions
}

func (c *statementCheck) add(typ, code string, at policy.Located, format string, args ...any) {
	c.out = append(c.out, Finding{Type: typ, Code: code, Message: fmt.Sprintf(format, args...),
		Statement: c.st.Index, Sid: c.st.Sid, Path: at.Path, Pos: at.Pos})
}

func checkStatement(st *policy.OutlineStatement) []Finding {
	c := &statementCheck{st: st, services: map[string]bool{}, resolved: !st.NotAction && len(st.Actions) > 0}
	if st.NotAction {
		c.services = nil
	}
	for _, a := range st.Actions {
		c.action(a)
	}
	for _, cond := range st.Conditions {
		c.condition(cond)
	}
	if !st.NotResource {
		c.resources()
	}
	return c.out
}

// action checks one Action or NotAction value: its service, then its name.
func (c *statementCheck) action(a policy.Located) {
	if a.Value == "*" {
		c.services, c.resolved = nil, false
		return
	}
	svc, name, ok := strings.Cut(a.Value, ":")
	if !ok || svc == "" || name == "" || strings.Contains(name, ":") || strings.ContainsAny(svc, "*? ") {
		// The door refuses it (no vendor, two colons, a wildcard in the vendor).
		c.services, c.resolved = nil, false
		return
	}
	if _, known := awsdata.Service(svc); !known {
		c.resolved = false
		if name, ok := awsdata.RetiredService(svc); ok {
			// Valid when written, dead now: a warning, so that the policies AWS
			// published before the service ended are not reported as broken.
			c.add(Warning, CodeInvalidServiceInAction, a, "The service %s specified in the action does not exist: AWS has retired %s.", svc, name)
			return
		}
		msg := fmt.Sprintf("The service %s specified in the action does not exist.", svc)
		if s := nearestService(svc); s != "" {
			msg += fmt.Sprintf(" Did you mean %s?", s)
		}
		c.add(Error, CodeInvalidServiceInAction, a, "%s", msg)
		return
	}
	if c.services != nil {
		c.services[strings.ToLower(svc)] = true
	}
	matched := awsdata.ExpandAction(svc, name)
	if len(matched) == 0 {
		c.resolved = false
		msg := fmt.Sprintf("The action %s does not exist.", a.Value)
		if s := nearestAction(svc, name); s != "" {
			msg += fmt.Sprintf(" Did you mean %s?", s)
		}
		c.add(Error, CodeInvalidAction, a, "%s", msg)
		return
	}
	if !c.st.NotAction {
		for _, m := range matched {
			c.actions = append(c.actions, namedAction{strings.ToLower(svc), m})
		}
	}
}

// namedAction is an action of the reference with its service prefix.
type namedAction struct {
	service string
	*awsdata.Action
}

// nearestAction suggests the action of the service closest to a mistyped name, or "".
func nearestAction(svc, name string) string {
	if strings.ContainsAny(name, "*?") {
		return ""
	}
	var names []string
	for _, a := range awsdata.ServiceActions(svc) {
		names = append(names, a.Name)
	}
	if n := nearest(name, names); n != "" {
		return strings.ToLower(svc) + ":" + n
	}
	return ""
}

// nearestService suggests the service prefix closest to a mistyped one, or "".
func nearestService(svc string) string {
	return nearest(svc, awsdata.ServicePrefixes())
}

// nearest is the candidate at the smallest edit distance from s (case ignored), if
// that distance is small for s's length; ties go to the first in sorted order.
func nearest(s string, candidates []string) string {
	sort.Strings(candidates)
	limit := max(1, min(3, len(s)/4))
	best, bestD := "", limit+1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if d := distance(ls, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
