// Package policy is the IAM policy language: it parses and validates policy documents
// of every kind, compiles them once, and matches compiled statements against requests
// without JSON work or allocation. It does no I/O.
package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of policy a document is; it decides which elements are required
// or forbidden.
type Kind uint8

const (
	Identity Kind = iota
	Resource
	Trust
	Boundary
	Session
	SCP
	RCP
	Endpoint
)

var kindNames = [...]string{"identity", "resource", "trust", "permissions boundary", "session", "service control", "resource control", "VPC endpoint"}

func (k Kind) String() string { return kindNames[k] }

// hasPrincipal reports whether statements of this kind name principals.
func (k Kind) hasPrincipal() bool {
	return k == Resource || k == Trust || k == RCP || k == Endpoint
}

// iamGrammar reports whether IAM (or Organizations) validates this kind, with IAM's
// stricter rules for Sids and characters.
func (k Kind) iamGrammar() bool { return k != Resource && k != Endpoint }

// Versions of the policy language.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect of a statement.
type Effect uint8

const (
	Allow Effect = iota
	Deny
)

func (e Effect) String() string {
	if e == Deny {
		return "Deny"
	}
	return "Allow"
}

// Policy is a parsed, validated and compiled policy document.
type Policy struct {
	Kind       Kind
	Version    string // as written; empty when absent
	ID         string
	Statements []Statement
	Text       string
}

// Statement is one compiled statement.
type Statement struct {
	Index  int
	Sid    string
	Effect Effect
	Start  Position
	End    Position

	principal    *principalSet // nil: no Principal element
	notPrincipal bool
	actions      []pattern
	notAction    bool
	resources    []pattern
	notResource  bool
	anyResource  bool // no Resource element (trust policies)
	conditions   []condition
}

// Error is IAM's MalformedPolicyDocument, naming the statement and element at fault.
type Error struct {
	Statement int // -1 when the fault is in the document as a whole
	Sid       string
	Element   string
	Message   string
}

// Code is the AWS error code.
func (e *Error) Code() string { return "MalformedPolicyDocument" }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("MalformedPolicyDocument: ")
	if e.Statement >= 0 {
		fmt.Fprintf(&b, "Statement[%d]", e.Statement)
		if e.Sid != "" {
			fmt.Fprintf(&b, " (Sid %q)", e.Sid)
		}
		b.WriteString(": ")
	}
	if e.Element != "" {
		b.WriteString(e.Element)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Parse validates a policy document of the given kind and compiles it.
func Parse(doc []byte, kind Kind) (*Policy, error) {
	docErr := func(element, format string, args ...any) error {
		return &Error{Statement: -1, Element: element, Message: fmt.Sprintf(format, args...)}
	}
	if err := checkCharacters(string(doc)); err != nil {
		return nil, docErr("", "%v", err)
	}
	root, err := parseTree(doc)
	if err != nil {
		return nil, docErr("", "Syntax errors in policy: %v", err)
	}
	if root.kind != kObject {
		return nil, docErr("", "Syntax errors in policy: the document must be a JSON object, not %s", root.kind)
	}
	p := &Policy{Kind: kind, Text: string(doc)}
	var stmts *node
	for _, f := range root.fields {
		switch f.key {
		case "Version":
			if f.val.kind != kString || (f.val.str != Version2012 && f.val.str != Version2008) {
				return nil, docErr("Version", "The policy must use Version %q or %q", Version2012, Version2008)
			}
			p.Version = f.val.str
		case "Id":
			if f.val.kind != kString {
				return nil, docErr("Id", "must be a string")
			}
			p.ID = f.val.str
		case "Statement":
			stmts = f.val
		default:
			return nil, docErr(f.key, "Unknown field %s: a policy has Version, Id and Statement", f.key)
		}
	}
	if stmts == nil {
		return nil, docErr("Statement", "Missing required field Statement")
	}
	list := []*node{stmts}
	switch stmts.kind {
	case kArray:
		list = stmts.items
	case kObject:
	default:
		return nil, docErr("Statement", "must be an object or an array of objects, not %s", stmts.kind)
	}
	if len(list) == 0 {
		return nil, docErr("Statement", "The policy must contain at least one statement")
	}
	sids := map[string]bool{}
	for i, sn := range list {
		st, err := parseStatement(sn, i, p.Version == Version2012, kind)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, &Error{Statement: i, Sid: st.Sid, Element: "Sid", Message: "Statement IDs (SID) in a single policy must be unique"}
			}
			sids[st.Sid] = true
		}
		st.Start, st.End = position(doc, sn.start), position(doc, sn.end)
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// checkCharacters enforces IAM's alphabet: TAB, LF, CR and U+0020–U+00FF.
func checkCharacters(s string) error {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return fmt.Errorf("the document is not valid UTF-8 (byte %d)", i)
		}
		if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
			return fmt.Errorf("character %U at byte %d is not allowed: policies may hold only TAB, LF, CR and U+0020 to U+00FF", r, i)
		}
	}
	return nil
}

var statementElements = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true, "Action": true,
	"NotAction": true, "Resource": true, "NotResource": true, "Condition": true,
}

func parseStatement(n *node, index int, vars bool, kind Kind) (Statement, error) {
	st := Statement{Index: index}
	fail := func(element, format string, args ...any) (Statement, error) {
		return Statement{}, &Error{Statement: index, Sid: st.Sid, Element: element, Message: fmt.Sprintf(format, args...)}
	}
	if n.kind != kObject {
		return fail("", "a statement must be an object, not %s", n.kind)
	}
	if sid := n.get("Sid"); sid != nil {
		if sid.kind != kString {
			return fail("Sid", "must be a string")
		}
		st.Sid = sid.str
		if kind.iamGrammar() && !isAlnum(st.Sid) {
			return fail("Sid", "Statement IDs (SID) must be alpha-numeric")
		}
	}
	for _, f := range n.fields {
		if !statementElements[f.key] {
			return fail(f.key, "Unknown field %s", f.key)
		}
	}
	if err := st.parseEffect(n.get("Effect")); err != nil {
		return fail("Effect", "%v", err)
	}
	if err := st.parsePrincipal(n, kind); err != nil {
		return Statement{}, &Error{Statement: index, Sid: st.Sid, Element: err.element, Message: err.msg}
	}
	if err := st.parseActions(n, kind); err != nil {
		return Statement{}, &Error{Statement: index, Sid: st.Sid, Element: err.element, Message: err.msg}
	}
	if err := st.parseResources(n, vars, kind); err != nil {
		return Statement{}, &Error{Statement: index, Sid: st.Sid, Element: err.element, Message: err.msg}
	}
	if c := n.get("Condition"); c != nil {
		conds, err := parseConditions(c, vars)
		if err != nil {
			return fail("Condition", "%v", err)
		}
		st.conditions = conds
	}
	if kind == RCP && st.Effect == Allow && !st.isFullAccess() {
		return fail("Effect", "The effect Allow is supported only in the RCPFullAWSAccess policy; custom RCP statements deny")
	}
	return st, nil
}

// elementError names the element at fault inside a statement.
type elementError struct{ element, msg string }

func elemErr(element, format string, args ...any) *elementError {
	return &elementError{element, fmt.Sprintf(format, args...)}
}

func (st *Statement) parseEffect(n *node) error {
	if n == nil {
		return fmt.Errorf("Missing required field Effect")
	}
	if n.kind != kString {
		return fmt.Errorf("must be a string")
	}
	switch n.str {
	case "Allow":
		st.Effect = Allow
	case "Deny":
		st.Effect = Deny
	default:
		return fmt.Errorf("Invalid effect: %s (must be Allow or Deny, with that case)", n.str)
	}
	return nil
}

func (st *Statement) parsePrincipal(n *node, kind Kind) *elementError {
	pn, npn := n.get("Principal"), n.get("NotPrincipal")
	name := "Principal"
	switch {
	case pn != nil && npn != nil:
		return elemErr("NotPrincipal", "a statement cannot have both Principal and NotPrincipal")
	case npn != nil:
		name, pn, st.notPrincipal = "NotPrincipal", npn, true
	}
	if !kind.hasPrincipal() {
		if pn != nil {
			return elemErr(name, "Policy document should not specify a principal (%s policies apply to the principal they are attached to)", kind)
		}
		return nil
	}
	if pn == nil {
		return elemErr("Principal", "Missing required field Principal (%s policies must name who they apply to)", kind)
	}
	if st.notPrincipal && (kind == Trust || kind == RCP) {
		return elemErr("NotPrincipal", "NotPrincipal is not supported in %s policies", kind)
	}
	if st.notPrincipal && st.Effect == Allow {
		return elemErr("NotPrincipal", "NotPrincipal must be used with \"Effect\":\"Deny\"")
	}
	ps, err := parsePrincipal(pn)
	if err != nil {
		return elemErr(name, "%v", err)
	}
	if kind == RCP && !ps.any {
		return elemErr("Principal", "RCPs support only \"Principal\": \"*\"; restrict principals with conditions")
	}
	st.principal = ps
	return nil
}

func (st *Statement) parseActions(n *node, kind Kind) *elementError {
	an, nan := n.get("Action"), n.get("NotAction")
	name := "Action"
	switch {
	case an != nil && nan != nil:
		return elemErr("NotAction", "a statement cannot have both Action and NotAction")
	case an == nil && nan == nil:
		return elemErr("Action", "Policy statement must contain actions (Action or NotAction)")
	case nan != nil:
		name, an, st.notAction = "NotAction", nan, true
	}
	actions, err := stringList(an)
	if err != nil {
		return elemErr(name, "%v", err)
	}
	if len(actions) == 0 {
		return elemErr(name, "Policy statement must contain actions")
	}
	for _, a := range actions {
		if err := checkAction(a); err != nil {
			return elemErr(name, "%v", err)
		}
		if kind == Trust && !st.notAction && a != "*" && !hasPrefixFold(a, "sts:") {
			return elemErr(name, "AssumeRole policy may only specify STS actions, not %q", a)
		}
		st.actions = append(st.actions, compilePattern(a, compileOptions{wildcards: true, lower: true}))
	}
	return nil
}

func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return fmt.Errorf("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.: %q", a)
	}
	for i := 0; i < len(svc); i++ {
		c := lower(svc[i])
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("Vendor %s is not valid in action %q: a service prefix has no wildcards", svc, a)
		}
	}
	return nil
}

func (st *Statement) parseResources(n *node, vars bool, kind Kind) *elementError {
	rn, nrn := n.get("Resource"), n.get("NotResource")
	name := "Resource"
	switch {
	case rn != nil && nrn != nil:
		return elemErr("NotResource", "a statement cannot have both Resource and NotResource")
	case nrn != nil:
		name, rn, st.notResource = "NotResource", nrn, true
	}
	if kind == Trust {
		if rn != nil {
			return elemErr(name, "Has prohibited field %s: a trust policy applies to its role", name)
		}
		st.anyResource = true
		return nil
	}
	if rn == nil {
		return elemErr("Resource", "Policy statement must contain resources (Resource or NotResource)")
	}
	list, err := stringList(rn)
	if err != nil {
		return elemErr(name, "%v", err)
	}
	if len(list) == 0 {
		return elemErr(name, "Policy statement must contain resources")
	}
	for _, r := range list {
		p, err := compileResource(r, vars)
		if err != nil {
			return elemErr(name, "%v", err)
		}
		st.resources = append(st.resources, p)
	}
	return nil
}

// compileResource compiles a Resource pattern: "*" or an ARN whose service part is
// fully qualified. Variables count only in the resource part, after the fifth colon.
func compileResource(r string, vars bool) (pattern, error) {
	if r == "*" {
		return compilePattern(r, compileOptions{wildcards: true}), nil
	}
	start := arnResourceStart(r)
	if start < 0 {
		return pattern{}, fmt.Errorf("Resource %s must be in ARN format or \"*\"", r)
	}
	svc := strings.SplitN(r, ":", 4)[2]
	if svc == "" || strings.ContainsAny(svc, "*?") {
		return pattern{}, fmt.Errorf("Resource vendor must be fully qualified and cannot contain regexes: %s", r)
	}
	return compilePattern(r, compileOptions{wildcards: true, variables: vars, varsFrom: start}), nil
}

func parseConditions(n *node, vars bool) ([]condition, error) {
	if n.kind != kObject {
		return nil, fmt.Errorf("must be an object of condition operators, not %s", n.kind)
	}
	var out []condition
	for _, opf := range n.fields {
		if opf.val.kind != kObject || len(opf.val.fields) == 0 {
			return nil, fmt.Errorf("%s: must be a non-empty object of condition keys and values", opf.key)
		}
		for _, kf := range opf.val.fields {
			values, err := stringList(kf.val)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", opf.key, kf.key, err)
			}
			if len(values) == 0 {
				return nil, fmt.Errorf("%s: %s: a condition key needs at least one value", opf.key, kf.key)
			}
			if kf.key == "" {
				return nil, fmt.Errorf("%s: a condition key is empty", opf.key)
			}
			c, err := compileCondition(opf.key, kf.key, values, vars)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// stringList reads an element that is a scalar or a list of scalars. Numbers and
// booleans count as their JSON text, as IAM reads them.
func stringList(n *node) ([]string, error) {
	scalar := func(v *node) (string, error) {
		switch v.kind {
		case kString, kNumber:
			return v.str, nil
		case kBool:
			if v.b {
				return "true", nil
			}
			return "false", nil
		}
		return "", fmt.Errorf("must be a string or a list of strings, not %s", v.kind)
	}
	if n.kind != kArray {
		s, err := scalar(n)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	out := make([]string, 0, len(n.items))
	for _, it := range n.items {
		s, err := scalar(it)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// isFullAccess reports whether the statement allows every principal every action on
// every resource without conditions, as RCPFullAWSAccess does.
func (st *Statement) isFullAccess() bool {
	return !st.notAction && !st.notResource && len(st.conditions) == 0 &&
		len(st.actions) == 1 && st.actions[0].shape == shapeAny &&
		len(st.resources) == 1 && st.resources[0].shape == shapeAny &&
		st.principal != nil && st.principal.any && !st.notPrincipal
}
