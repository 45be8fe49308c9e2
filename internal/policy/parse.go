// Package policy is the IAM policy language: it parses and validates policy documents
// of every kind, compiles them once, and matches compiled statements against requests
// without JSON work or allocation. It does no I/O.
package policy

import (
	"errors"
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
	// Findings are what the door storing the document would refuse it for; only
	// ParseLenient returns a policy that has any.
	Findings []*Error
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
	nobody       bool // matches no principal: a lenient statement without a Principal where one is needed
	inert        bool // matches nothing: a lenient statement without a valid Effect, or with contradicting elements
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

// Parse validates a policy document of the given kind, as the API door that stores
// it does, and compiles it: the first problem is an *Error.
func Parse(doc []byte, kind Kind) (*Policy, error) {
	return (&parser{}).parse(doc, kind)
}

// ParseLenient compiles any policy document that is valid JSON of the policy shape,
// as the IAM policy simulator decides documents its doors would refuse. What a door
// would refuse is listed in Policy.Findings, and the element means what AWS documents
// it to mean (a resource policy statement without a principal matches no one,
// NotPrincipal with Allow allows everyone but those listed, an invalid principal or
// action matches nothing). Unparseable JSON and elements of the wrong JSON type (a
// number as Effect) remain errors.
func ParseLenient(doc []byte, kind Kind) (*Policy, error) {
	return (&parser{lenient: true}).parse(doc, kind)
}

// parser reads one document, strictly (the first door finding is the error) or
// leniently (findings are collected and the document is decided anyway).
type parser struct {
	lenient  bool
	findings []*Error
}

// door reports a problem the door that stores the document refuses it for: an error
// when strict, a finding when lenient (nil: carry on with AWS's meaning).
func (ps *parser) door(stmt int, sid, element, format string, args ...any) error {
	e := &Error{Statement: stmt, Sid: sid, Element: element, Message: fmt.Sprintf(format, args...)}
	if !ps.lenient {
		return e
	}
	ps.findings = append(ps.findings, e)
	return nil
}

func (ps *parser) parse(doc []byte, kind Kind) (*Policy, error) {
	docErr := func(element, format string, args ...any) error {
		return &Error{Statement: -1, Element: element, Message: fmt.Sprintf(format, args...)}
	}
	root, badChar, err := parseTree(doc)
	if err != nil {
		return nil, docErr("", "Syntax errors in policy: %v", err)
	}
	if badChar != nil {
		if err := ps.door(-1, "", "", "%v", badChar); err != nil {
			return nil, err
		}
	}
	if root.kind != kObject {
		return nil, docErr("", "Syntax errors in policy: the document must be a JSON object, not %s", root.kind)
	}
	p := &Policy{Kind: kind, Text: string(doc)}
	var stmts *node
	for _, f := range root.fields {
		switch f.key {
		case "Version":
			if f.val.kind != kString {
				return nil, docErr("Version", "must be a string")
			}
			p.Version = f.val.str
			if p.Version != Version2012 && p.Version != Version2008 {
				if err := ps.door(-1, "", "Version", "The policy must use Version %q or %q", Version2012, Version2008); err != nil {
					return nil, err
				}
			}
		case "Id":
			if f.val.kind != kString {
				return nil, docErr("Id", "must be a string")
			}
			p.ID = f.val.str
		case "Statement":
			stmts = f.val
		default:
			if err := ps.door(-1, "", f.key, "Unknown field %s: a policy has Version, Id and Statement", f.key); err != nil {
				return nil, err
			}
		}
	}
	if stmts == nil {
		err := ps.door(-1, "", "Statement", "Missing required field Statement")
		p.Findings = ps.findings
		return p, err
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
		if err := ps.door(-1, "", "Statement", "The policy must contain at least one statement"); err != nil {
			return nil, err
		}
	}
	sids := map[string]bool{}
	for i, sn := range list {
		st, err := ps.parseStatement(sn, i, p.Version == Version2012, kind)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				if err := ps.door(i, st.Sid, "Sid", "Statement IDs (SID) in a single policy must be unique"); err != nil {
					return nil, err
				}
			}
			sids[st.Sid] = true
		}
		st.Start, st.End = position(doc, sn.start), position(doc, sn.end)
		p.Statements = append(p.Statements, st)
	}
	p.Findings = ps.findings
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

func (ps *parser) parseStatement(n *node, index int, vars bool, kind Kind) (Statement, error) {
	st := Statement{Index: index}
	typeErr := func(element, format string, args ...any) (Statement, error) {
		return Statement{}, &Error{Statement: index, Sid: st.Sid, Element: element, Message: fmt.Sprintf(format, args...)}
	}
	door := func(element, format string, args ...any) error {
		return ps.door(index, st.Sid, element, format, args...)
	}
	if n.kind != kObject {
		return typeErr("", "a statement must be an object, not %s", n.kind)
	}
	if sid := n.get("Sid"); sid != nil {
		if sid.kind != kString {
			return typeErr("Sid", "must be a string")
		}
		st.Sid = sid.str
		if kind.iamGrammar() && !isAlnum(st.Sid) {
			if err := door("Sid", "Statement IDs (SID) must be alpha-numeric"); err != nil {
				return Statement{}, err
			}
		}
	}
	for _, f := range n.fields {
		if !statementElements[f.key] {
			if err := door(f.key, "Unknown field %s", f.key); err != nil {
				return Statement{}, err
			}
		}
	}
	for _, step := range []func(*node, bool, Kind, doorFunc) error{st.parseEffect, st.parsePrincipal, st.parseActions, st.parseResources, st.parseConditions} {
		if err := step(n, vars, kind, door); err != nil {
			var ee *elementError
			if errors.As(err, &ee) {
				return typeErr(ee.element, "%s", ee.msg)
			}
			return Statement{}, err
		}
	}
	if kind == RCP && st.Effect == Allow && !st.isFullAccess() && !st.inert {
		if err := door("Effect", "The effect Allow is supported only in the RCPFullAWSAccess policy; custom RCP statements deny"); err != nil {
			return Statement{}, err
		}
	}
	return st, nil
}

// doorFunc reports a door finding about an element of the statement being read: an
// error when strict, nil when lenient (the reader then goes on with AWS's meaning).
type doorFunc func(element, format string, args ...any) error

// elementError is an element of the wrong JSON type: an error in both modes.
type elementError struct{ element, msg string }

func (e *elementError) Error() string { return e.element + ": " + e.msg }

func elemErr(element, format string, args ...any) *elementError {
	return &elementError{element, fmt.Sprintf(format, args...)}
}

func (st *Statement) parseEffect(n *node, _ bool, _ Kind, door doorFunc) error {
	e := n.get("Effect")
	switch {
	case e == nil:
		st.inert = true
		return door("Effect", "Missing required field Effect")
	case e.kind != kString:
		return elemErr("Effect", "must be a string")
	}
	switch e.str {
	case "Allow":
		st.Effect = Allow
	case "Deny":
		st.Effect = Deny
	default:
		st.inert = true // neither Allow nor Deny: it can do neither
		return door("Effect", "Invalid effect: %s (must be Allow or Deny, with that case)", e.str)
	}
	return nil
}

func (st *Statement) parsePrincipal(n *node, _ bool, kind Kind, door doorFunc) error {
	pn, npn := n.get("Principal"), n.get("NotPrincipal")
	name := "Principal"
	switch {
	case pn != nil && npn != nil:
		st.inert = true
		return door("NotPrincipal", "a statement cannot have both Principal and NotPrincipal")
	case npn != nil:
		name, pn, st.notPrincipal = "NotPrincipal", npn, true
	}
	if !kind.hasPrincipal() {
		if pn != nil {
			// Leniently, the statement applies to the principal the policy is attached to.
			st.notPrincipal = false
			return door(name, "Policy document should not specify a principal (%s policies apply to the principal they are attached to)", kind)
		}
		return nil
	}
	if pn == nil {
		st.nobody = true
		return door("Principal", "Missing required field Principal (%s policies must name who they apply to)", kind)
	}
	if st.notPrincipal && (kind == Trust || kind == RCP) {
		if err := door("NotPrincipal", "NotPrincipal is not supported in %s policies", kind); err != nil {
			return err
		}
	}
	if st.notPrincipal && st.Effect == Allow && !st.inert {
		if err := door("NotPrincipal", "NotPrincipal must be used with \"Effect\":\"Deny\""); err != nil {
			return err
		}
	}
	set, err := parsePrincipal(pn, name, func(format string, args ...any) error { return door(name, format, args...) })
	if err != nil {
		return err
	}
	if kind == RCP && !set.any {
		if err := door("Principal", "RCPs support only \"Principal\": \"*\"; restrict principals with conditions"); err != nil {
			return err
		}
	}
	st.principal = set
	return nil
}

func (st *Statement) parseActions(n *node, _ bool, kind Kind, door doorFunc) error {
	an, nan := n.get("Action"), n.get("NotAction")
	name := "Action"
	switch {
	case an != nil && nan != nil:
		st.inert = true
		return door("NotAction", "a statement cannot have both Action and NotAction")
	case an == nil && nan == nil:
		return door("Action", "Policy statement must contain actions (Action or NotAction)") // and matches none
	case nan != nil:
		name, an, st.notAction = "NotAction", nan, true
	}
	actions, err := stringList(an)
	if err != nil {
		return elemErr(name, "%v", err)
	}
	if len(actions) == 0 {
		if err := door(name, "Policy statement must contain actions"); err != nil {
			return err
		}
	}
	for _, a := range actions {
		if err := checkAction(a); err != nil {
			if err := door(name, "%v", err); err != nil {
				return err
			}
		}
		if kind == Trust && !st.notAction && a != "*" && !hasPrefixFold(a, "sts:") {
			if err := door(name, "AssumeRole policy may only specify STS actions, not %q", a); err != nil {
				return err
			}
		}
		// Leniently, an invalid action is matched as written: it names no real action.
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
	if strings.Contains(name, ":") {
		return fmt.Errorf("Actions/Condition can contain only one colon.: %q", a)
	}
	for i := 0; i < len(svc); i++ {
		c := lower(svc[i])
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("Vendor %s is not valid in action %q: a service prefix has no wildcards", svc, a)
		}
	}
	return nil
}

func (st *Statement) parseResources(n *node, vars bool, kind Kind, door doorFunc) error {
	rn, nrn := n.get("Resource"), n.get("NotResource")
	name := "Resource"
	switch {
	case rn != nil && nrn != nil:
		st.inert = true
		return door("NotResource", "a statement cannot have both Resource and NotResource")
	case nrn != nil:
		name, rn, st.notResource = "NotResource", nrn, true
	}
	if kind == Trust {
		if rn == nil {
			st.anyResource = true
			return nil
		}
		// Leniently, a trust policy's Resource is matched as written, against the role.
		if err := door(name, "Has prohibited field %s: a trust policy applies to its role", name); err != nil {
			return err
		}
	}
	if rn == nil {
		return door("Resource", "Policy statement must contain resources (Resource or NotResource)") // and matches none
	}
	list, err := stringList(rn)
	if err != nil {
		return elemErr(name, "%v", err)
	}
	if len(list) == 0 {
		if err := door(name, "Policy statement must contain resources"); err != nil {
			return err
		}
	}
	for _, r := range list {
		p, err := compileResource(r, vars)
		if err != nil {
			if err := door(name, "%v", err); err != nil {
				return err
			}
			// Leniently, a resource that is no ARN is matched as a whole string.
			p = compilePattern(r, compileOptions{wildcards: true})
		}
		st.resources = append(st.resources, p)
	}
	return nil
}

func (st *Statement) parseConditions(n *node, vars bool, _ Kind, door doorFunc) error {
	c := n.get("Condition")
	if c == nil {
		return nil
	}
	if c.kind != kObject {
		return elemErr("Condition", "must be an object of condition operators, not %s", c.kind)
	}
	for _, opf := range c.fields {
		if opf.val.kind != kObject {
			return elemErr("Condition", "%s: must be an object of condition keys and values, not %s", opf.key, opf.val.kind)
		}
		// An operator with no keys is accepted, as AWS accepts it, and holds.
		for _, kf := range opf.val.fields {
			values, err := stringList(kf.val)
			if err != nil {
				return elemErr("Condition", "%s: %s: %v", opf.key, kf.key, err)
			}
			cond, err := compileCondition(opf.key, kf.key, values, vars)
			if err == nil && len(values) == 0 {
				err = fmt.Errorf("%s: %s: a condition key needs at least one value", opf.key, kf.key)
			}
			if err == nil && kf.key == "" {
				err = fmt.Errorf("%s: a condition key is empty", opf.key)
			}
			if err != nil {
				if err := door("Condition", "%v", err); err != nil {
					return err
				}
				// Leniently, a condition the door would refuse never holds.
				cond = condition{Operator: opf.key, Key: kf.key, key: strings.ToLower(kf.key), never: true, raw: values}
			}
			st.conditions = append(st.conditions, cond)
		}
	}
	return nil
}

// knownARNServices are the services whose ARN format iamlocal knows, so that a short
// ARN of one of them is refused as AWS refuses it. (Until the service authorization
// reference is generated into the repository: then every service AWS knows.)
var knownARNServices = map[string]bool{"s3": true, "iam": true, "sts": true, "ec2": true, "organizations": true,
	"kms": true, "sqs": true, "sns": true, "secretsmanager": true, "lambda": true, "dynamodb": true}

// compileResource compiles a Resource pattern: "*" or an ARN whose service part is
// fully qualified. Variables count only in the resource part, after the fifth colon.
func compileResource(r string, vars bool) (pattern, error) {
	if r == "*" {
		return compilePattern(r, compileOptions{wildcards: true}), nil
	}
	start := arnResourceStart(r)
	if start < 0 {
		// AWS accepts a short ARN of a service it does not know (arn:aws:fdsasf): it
		// can only match itself. A service iamlocal knows keeps its ARN format.
		if parts := strings.Split(r, ":"); len(parts) >= 3 && parts[0] == "arn" && parts[2] != "" &&
			!strings.ContainsAny(parts[2], "*?") && !knownARNServices[strings.ToLower(parts[2])] {
			return compilePattern(r, compileOptions{wildcards: true}), nil
		}
		return pattern{}, fmt.Errorf("Resource %s must be in ARN format or \"*\"", r)
	}
	svc := strings.SplitN(r, ":", 4)[2]
	if svc == "" || strings.ContainsAny(svc, "*?") {
		return pattern{}, fmt.Errorf("Resource vendor must be fully qualified and cannot contain regexes: %s", r)
	}
	return compilePattern(r, compileOptions{wildcards: true, variables: vars, varsFrom: start}), nil
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
