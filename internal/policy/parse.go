// Package policy is the IAM policy language: it parses and validates policy documents
// of every kind, compiles them once, and matches compiled statements against requests
// without JSON work or allocation. It does no I/O.
package policy

import (
	"errors"
	"fmt"
	"github.com/iamlocal/iamlocal/internal/awsdata"
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

// Error is a problem in a policy document: what the door storing it refuses it for
// (IAM's MalformedPolicyDocument), or what makes it no policy at all.
//
// The door answers AWS's bare message and names no position, as AWS does: that is
// Message ("Syntax errors in policy.", "Policy statement must contain actions.").
// Where the problem is and what exactly is wrong stay here for eval's warnings,
// explain and lint: Statement, Sid and Element place it, Detail says it in iamlocal's
// words naming the value at fault (empty when Message says it all). Error() is the
// position and the detail, for logs, the CLI and lint.
type Error struct {
	Statement int // -1 when the fault is in the document as a whole
	Sid       string
	Element   string
	Message   string // AWS's message, as the door answers it
	Detail    string // what is wrong, naming the value; empty when Message says it
	check     check  // where in AWS's order of checks the problem is found
}

// Code is the AWS error code.
func (e *Error) Code() string { return "MalformedPolicyDocument" }

// Text is the detail when there is one, else AWS's message.
func (e *Error) Text() string {
	if e.Detail != "" {
		return e.Detail
	}
	return e.Message
}

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
	b.WriteString(e.Text())
	return b.String()
}

// check is a step of IAM's validation, in the order IAM takes them: a document with
// several problems is refused for the one found by the earliest step, whatever its
// place in the document ("Version and duplicate Sids before missing actions"). The
// order is read off AWS's answers to CreatePolicy (testdata/doors); where AWS's
// order is not known (principals, trust policies, SCPs), the step is a guess that
// keeps the known ones in place.
type check uint8

const (
	checkSyntax         check = iota // JSON, element types, unknown elements, Effect, Action with NotAction…
	checkGrammar                     // elements the kind prohibits: a trust policy's Resource
	checkVersion                     // managed policies: Version 2012-10-17
	checkLegacy                      // the legacy parser: Effect's case, condition values, short ARNs
	checkSidUnique                   // duplicate Sids
	checkSid                         // Sid alphabet
	checkPrincipal                   // Principal where none may be or missing where one must be
	checkActionsExist                // every statement has actions
	checkResourcesExist              // every statement has resources (none in a trust policy)
	checkResourceFormat              // each resource: ARN, partition, vendor, region, IAM path
	checkActionFormat                // each action: vendor prefix and one colon
	checkOther                       // the rest (principal entries, trust actions, RCP rules…)
)

// AWS's messages (IAM CreatePolicy; testdata/doors/managed-policy.json).
const (
	msgSyntax           = "Syntax errors in policy."
	msgVersion          = "Policy document must be version 2012-10-17 or greater."
	msgLegacy           = "The policy failed legacy parsing"
	msgSidUnique        = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlnum         = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgActions          = "Policy statement must contain actions."
	msgResources        = "Policy statement must contain resources."
	msgNoPrincipal      = "Policy document should not specify a principal."
	msgMissingPrincipal = "Missing required field Principal"
	msgVendor           = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgColon            = "Actions/Condition can contain only one colon."
	msgResourceVendor   = "Resource vendor must be fully qualified and cannot contain regexes."
	msgTrustAction      = "AssumeRole policy may only specify STS AssumeRole actions."
	msgIAMPath          = `IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.`
)

// Parse validates a policy document of the given kind, as the API door that stores
// it does, and compiles it: the problem IAM reports first is an *Error.
func Parse(doc []byte, kind Kind) (*Policy, error) {
	return (&parser{}).parse(doc, kind)
}

// ParseManaged validates a managed policy as CreatePolicy and CreatePolicyVersion
// do: an identity policy that must be version 2012-10-17 (IAM checks that right
// after the syntax).
func ParseManaged(doc []byte) (*Policy, error) {
	return (&parser{version2012: true}).parse(doc, Identity)
}

// ParseLenient compiles any policy document that is valid JSON of the policy shape,
// as the IAM policy simulator decides documents its doors would refuse. What a door
// would refuse is listed in Policy.Findings, in the document's order, and the
// element means what AWS documents it to mean (a resource policy statement without
// a principal matches no one, NotPrincipal with Allow allows everyone but those
// listed, an invalid principal or action matches nothing). Unparseable JSON and
// elements of the wrong JSON type (a number as Effect) remain errors.
func ParseLenient(doc []byte, kind Kind) (*Policy, error) {
	return (&parser{lenient: true}).parse(doc, kind)
}

// parser reads one document. Both modes read it whole and collect every door
// finding; strictly, the finding of IAM's earliest check is then the error.
type parser struct {
	lenient     bool
	version2012 bool
	findings    []*Error
}

// door records a problem the door that stores the document refuses it for: msg is
// AWS's message, the detail names the value at fault.
func (ps *parser) door(c check, stmt int, sid, element, msg, format string, args ...any) {
	e := &Error{Statement: stmt, Sid: sid, Element: element, Message: msg, check: c}
	if format != "" {
		e.Detail = fmt.Sprintf(format, args...)
	}
	ps.findings = append(ps.findings, e)
}

// first is the finding IAM reports: the earliest check's, first in the document.
func (ps *parser) first() *Error {
	var f *Error
	for _, e := range ps.findings {
		if f == nil || e.check < f.check {
			f = e
		}
	}
	return f
}

// syntaxErr is a document that is no policy: an error in both modes.
func syntaxErr(stmt int, sid, element, format string, args ...any) *Error {
	return &Error{Statement: stmt, Sid: sid, Element: element, Message: msgSyntax, Detail: fmt.Sprintf(format, args...)}
}

func (ps *parser) parse(doc []byte, kind Kind) (*Policy, error) {
	p, err := ps.read(doc, kind)
	if err != nil {
		return nil, err
	}
	if !ps.lenient && len(ps.findings) > 0 {
		return nil, ps.first()
	}
	p.Findings = ps.findings
	return p, nil
}

func (ps *parser) read(doc []byte, kind Kind) (*Policy, error) {
	root, badChar, err := parseTree(doc)
	if err != nil {
		return nil, syntaxErr(-1, "", "", "Syntax errors in policy: %v", err)
	}
	if badChar != nil {
		// Not a MalformedPolicyDocument at IAM (the API's pattern refuses it first);
		// IAM's wording for it is not known here.
		ps.door(checkSyntax, -1, "", "", badChar.Error(), "")
	}
	if root.kind != kObject {
		return nil, syntaxErr(-1, "", "", "Syntax errors in policy: the document must be a JSON object, not %s", root.kind)
	}
	p := &Policy{Kind: kind, Text: string(doc)}
	var stmts *node
	for _, f := range root.fields {
		switch f.key {
		case "Version":
			if f.val.kind != kString {
				return nil, syntaxErr(-1, "", "Version", "must be a string")
			}
			p.Version = f.val.str
			if p.Version != Version2012 && p.Version != Version2008 {
				ps.door(checkSyntax, -1, "", "Version", msgSyntax, "The policy must use Version %q or %q", Version2012, Version2008)
			}
		case "Id":
			if f.val.kind != kString {
				return nil, syntaxErr(-1, "", "Id", "must be a string")
			}
			p.ID = f.val.str
		case "Statement":
			stmts = f.val
		default:
			ps.door(checkSyntax, -1, "", f.key, msgSyntax, "Unknown field %s: a policy has Version, Id and Statement", f.key)
		}
	}
	if ps.version2012 && p.Version != Version2012 {
		ps.door(checkVersion, -1, "", "Version", msgVersion, "")
	}
	if stmts == nil {
		ps.door(checkSyntax, -1, "", "Statement", msgSyntax, "Missing required field Statement")
		return p, nil
	}
	list := []*node{stmts}
	switch stmts.kind {
	case kArray:
		list = stmts.items
	case kObject:
	default:
		return nil, syntaxErr(-1, "", "Statement", "must be an object or an array of objects, not %s", stmts.kind)
	}
	if len(list) == 0 {
		ps.door(checkSyntax, -1, "", "Statement", msgSyntax, "The policy must contain at least one statement")
	}
	sids := map[string]bool{}
	for i, sn := range list {
		st, err := ps.parseStatement(sn, i, p.Version == Version2012, kind)
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				ps.door(checkSidUnique, i, st.Sid, "Sid", msgSidUnique, "")
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

func (ps *parser) parseStatement(n *node, index int, vars bool, kind Kind) (Statement, error) {
	st := Statement{Index: index}
	if n.kind != kObject {
		return Statement{}, syntaxErr(index, "", "", "a statement must be an object, not %s", n.kind)
	}
	if sid := n.get("Sid"); sid != nil {
		if sid.kind != kString {
			return Statement{}, syntaxErr(index, "", "Sid", "must be a string")
		}
		st.Sid = sid.str
	}
	door := func(c check, element, msg, format string, args ...any) {
		ps.door(c, index, st.Sid, element, msg, format, args...)
	}
	if kind.iamGrammar() && !isAlnum(st.Sid) {
		door(checkSid, "Sid", msgSidAlnum, "Statement IDs (SID) must be alpha-numeric: %q", st.Sid)
	}
	for _, f := range n.fields {
		if !statementElements[f.key] {
			door(checkSyntax, f.key, msgSyntax, "Unknown field %s", f.key)
		}
	}
	for _, step := range []func(*node, bool, Kind, doorFunc) error{st.parseEffect, st.parsePrincipal, st.parseActions, st.parseResources, st.parseConditions} {
		if err := step(n, vars, kind, door); err != nil {
			var ee *elementError
			if errors.As(err, &ee) {
				return Statement{}, syntaxErr(index, st.Sid, ee.element, "%s", ee.msg)
			}
			return Statement{}, err
		}
	}
	if kind == RCP && st.Effect == Allow && !st.isFullAccess() && !st.inert {
		const m = "The effect Allow is supported only in the RCPFullAWSAccess policy; custom RCP statements deny"
		door(checkOther, "Effect", m, "")
	}
	return st, nil
}

// doorFunc records a door finding about an element of the statement being read: the
// check of IAM's that finds it, AWS's message and the detail. The reader then goes on
// with AWS's meaning of the element.
type doorFunc func(c check, element, msg, format string, args ...any)

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
		door(checkSyntax, "Effect", msgSyntax, "Missing required field Effect")
		return nil
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
		// IAM's grammar reads the effect without regard to case ("allow" passes the
		// syntax check), its legacy parser then refuses it.
		c, msg := checkSyntax, msgSyntax
		if strings.EqualFold(e.str, "Allow") || strings.EqualFold(e.str, "Deny") {
			c, msg = checkLegacy, msgLegacy
		}
		door(c, "Effect", msg, "Invalid effect: %s (must be Allow or Deny, with that case)", e.str)
	}
	return nil
}

func (st *Statement) parsePrincipal(n *node, _ bool, kind Kind, door doorFunc) error {
	pn, npn := n.get("Principal"), n.get("NotPrincipal")
	name := "Principal"
	switch {
	case pn != nil && npn != nil:
		st.inert = true
		door(checkSyntax, "NotPrincipal", msgSyntax, "a statement cannot have both Principal and NotPrincipal")
		return nil
	case npn != nil:
		name, pn, st.notPrincipal = "NotPrincipal", npn, true
	}
	if !kind.hasPrincipal() {
		if pn != nil {
			// Leniently, the statement applies to the principal the policy is attached to.
			st.notPrincipal = false
			door(checkPrincipal, name, msgNoPrincipal, "Policy document should not specify a principal (%s policies apply to the principal they are attached to)", kind)
		}
		return nil
	}
	if pn == nil {
		st.nobody = true
		door(checkPrincipal, "Principal", msgMissingPrincipal, "Missing required field Principal (%s policies must name who they apply to)", kind)
		return nil
	}
	if st.notPrincipal && (kind == Trust || kind == RCP) {
		door(checkOther, "NotPrincipal", fmt.Sprintf("NotPrincipal is not supported in %s policies", kind), "")
	}
	if st.notPrincipal && st.Effect == Allow && !st.inert {
		door(checkOther, "NotPrincipal", `NotPrincipal must be used with "Effect":"Deny"`, "")
	}
	set, err := parsePrincipal(pn, name, func(msg, detail string) { door(checkOther, name, msg, "%s", detail) })
	if err != nil {
		return err
	}
	if kind == RCP && !set.any {
		door(checkOther, "Principal", `RCPs support only "Principal": "*"; restrict principals with conditions`, "")
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
		door(checkSyntax, "NotAction", msgSyntax, "a statement cannot have both Action and NotAction")
		return nil
	case an == nil && nan == nil:
		door(checkActionsExist, "Action", msgActions, "Policy statement must contain actions (Action or NotAction)") // and matches none
		return nil
	case nan != nil:
		name, an, st.notAction = "NotAction", nan, true
	}
	actions, err := stringList(an)
	if err != nil {
		return elemErr(name, "%v", err)
	}
	if len(actions) == 0 {
		door(checkActionsExist, name, msgActions, "")
	}
	for _, a := range actions {
		if msg, detail := checkAction(a); msg != "" {
			door(checkActionFormat, name, msg, "%s", detail)
		}
		if kind == Trust && !st.notAction && !trustAction(a) {
			door(checkOther, name, msgTrustAction, "AssumeRole policy may only specify STS AssumeRole actions (sts:AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity, TagSession, SetSourceIdentity, SetContext), not %q", a)
		}
		// Leniently, an invalid action is matched as written: it names no real action.
		st.actions = append(st.actions, compilePattern(a, compileOptions{wildcards: true, lower: true}))
	}
	return nil
}

// trustActions are the actions a role's trust policy decides: assuming the role and
// what may come with it (IAM User Guide, "Role trust policies"; sts:SetContext for
// trusted identity propagation).
var trustActions = []string{"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity",
	"sts:tagsession", "sts:setsourceidentity", "sts:setcontext"}

// trustAction reports whether a trust policy may name an action: "*", or a pattern
// that matches one of trustActions (sts:AssumeRole*).
func trustAction(a string) bool {
	if a == "*" {
		return true
	}
	p := compilePattern(a, compileOptions{wildcards: true, lower: true})
	for _, t := range trustActions {
		if p.match(t, foldCase, nil) {
			return true
		}
	}
	return false
}

// checkAction checks an action's form as IAM does: AWS's message and a detail, or
// empty when the action is valid. The name after the colon may be anything (IAM
// accepts "iam: asdf safdsf af "); the vendor is letters, digits, '-', '.' and '_'.
func checkAction(a string) (msg, detail string) {
	if a == "*" {
		return "", ""
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return msgVendor, fmt.Sprintf("action %q has no service prefix (such as s3:GetObject)", a)
	}
	if strings.Contains(name, ":") {
		return msgColon, fmt.Sprintf("action %q has more than one colon", a)
	}
	for i := 0; i < len(svc); i++ {
		c := lower(svc[i])
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return fmt.Sprintf("Vendor %s is not valid", svc), fmt.Sprintf("Vendor %s is not valid in action %q: a service prefix has no wildcards or spaces", svc, a)
		}
	}
	return "", ""
}

func (st *Statement) parseResources(n *node, vars bool, kind Kind, door doorFunc) error {
	rn, nrn := n.get("Resource"), n.get("NotResource")
	name := "Resource"
	switch {
	case rn != nil && nrn != nil:
		st.inert = true
		door(checkSyntax, "NotResource", msgSyntax, "a statement cannot have both Resource and NotResource")
		return nil
	case nrn != nil:
		name, rn, st.notResource = "NotResource", nrn, true
	}
	if kind == Trust {
		if rn == nil {
			st.anyResource = true
			return nil
		}
		// Leniently, a trust policy's Resource is matched as written, against the role.
		door(checkGrammar, name, "Has prohibited field "+name, "Has prohibited field %s: a trust policy applies to its role", name)
	}
	if rn == nil {
		door(checkResourcesExist, "Resource", msgResources, "Policy statement must contain resources (Resource or NotResource)") // and matches none
		return nil
	}
	list, err := stringList(rn)
	if err != nil {
		return elemErr(name, "%v", err)
	}
	if len(list) == 0 {
		door(checkResourcesExist, name, msgResources, "")
	}
	for _, r := range list {
		p, c, msg := compileResource(r, vars)
		if msg != "" {
			door(c, name, msg, "")
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
		// An operator with no keys is accepted, as AWS accepts it (also an unknown
		// one), and holds.
		for _, kf := range opf.val.fields {
			values, err := stringList(kf.val)
			if err != nil {
				return elemErr("Condition", "%s: %s: %v", opf.key, kf.key, err)
			}
			// A key with no values is accepted, as AWS accepts it: no value matches.
			cond, err := compileCondition(opf.key, kf.key, values, vars)
			var oe *operatorError
			switch {
			case errors.As(err, &oe):
				door(checkSyntax, "Condition", msgSyntax, "%v", err)
			case err != nil:
				// IAM's legacy parser refuses the values it cannot read (dates
				// in AWS's catalogue; numbers, addresses and base64 alike).
				door(checkLegacy, "Condition", msgLegacy, "%v", err)
			case kf.key == "":
				err = fmt.Errorf("%s: a condition key is empty", opf.key)
				door(checkSyntax, "Condition", msgSyntax, "%v", err)
			}
			if err != nil {
				// Leniently, a condition the door would refuse never holds.
				cond = condition{Operator: opf.key, Key: kf.key, key: strings.ToLower(kf.key), never: true, raw: values}
			}
			st.conditions = append(st.conditions, cond)
		}
	}
	return nil
}

// knownARNService reports a service AWS lists (the service authorization reference):
// a short ARN of one of them fails IAM's legacy parsing as AWS's does (arn:aws:s3::b).
func knownARNService(svc string) bool {
	_, ok := awsdata.Service(svc)
	return ok
}

// partitions are AWS's partitions, the second field of every ARN.
var partitions = map[string]bool{"aws": true, "aws-cn": true, "aws-us-gov": true, "aws-iso": true,
	"aws-iso-b": true, "aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true}

// iamResourcePrefixes are the resource types of IAM ARNs, as IAM's message lists them.
var iamResourcePrefixes = []string{"user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/",
	"server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/", "report/", "access-report/"}

// compileResource compiles a Resource pattern and checks it as IAM does: "*", or an
// ARN of a known partition (or "*") whose service is fully qualified, without a
// region for IAM and for S3 other than access points, with one of IAM's resource
// types for IAM. A problem is the check that
// finds it and AWS's message; leniently, the pattern is then the resource matched as
// a whole string. Variables count only in the resource part, after the fifth colon.
func compileResource(r string, vars bool) (pattern, check, string) {
	literal := compilePattern(r, compileOptions{wildcards: true})
	if r == "*" {
		return literal, 0, ""
	}
	parts := strings.Split(r, ":")
	if len(parts) < 2 {
		return literal, checkResourceFormat, fmt.Sprintf("Resource %s must be in ARN format or \"*\".", r)
	}
	if !partitions[parts[1]] && parts[1] != "*" {
		// "*" stands for every partition (moto's AWS-verified validator accepts it,
		// and AWS's own managed policies use arn:*:…). IAM reads the resource as an
		// ARN of at least six fields and names it so.
		shown := append([]string{"arn"}, parts[1:]...)
		for len(shown) < 6 {
			shown = append(shown, "*")
		}
		return literal, checkResourceFormat, fmt.Sprintf("Partition %q is not valid for resource %q.", parts[1], strings.Join(shown, ":"))
	}
	if parts[0] != "arn" {
		return literal, checkResourceFormat, fmt.Sprintf("Resource %s must be in ARN format or \"*\".", r)
	}
	if len(parts) < 3 || strings.ContainsAny(parts[2], "*?") || parts[2] == "" && len(parts) == 3 {
		return literal, checkResourceFormat, msgResourceVendor
	}
	svc := strings.ToLower(parts[2])
	if svc == "" || len(parts) < 6 && knownARNService(svc) {
		// An empty service (arn:aws::x) or a short ARN of a service whose format
		// is known (arn:aws:s3::b) fails the legacy parser. AWS accepts a short ARN
		// of a service it does not know (arn:aws:fdsasf): it can only match itself.
		return literal, checkLegacy, msgLegacy
	}
	if len(parts) < 6 {
		return literal, 0, ""
	}
	switch {
	case svc == "iam" && parts[3] != "":
		return literal, checkResourceFormat, fmt.Sprintf("IAM resource %s cannot contain region information.", r)
	case svc == "s3" && parts[3] != "" && !strings.HasPrefix(strings.Join(parts[5:], ":"), "accesspoint/"):
		// Access points are regional (arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME);
		// buckets and objects are not.
		return literal, checkResourceFormat, fmt.Sprintf("Resource %s can not contain region information.", r)
	case svc == "iam":
		res := strings.Join(parts[5:], ":")
		ok := res == "*"
		for _, p := range iamResourcePrefixes {
			ok = ok || strings.HasPrefix(res, p)
		}
		if !ok {
			return literal, checkResourceFormat, msgIAMPath
		}
	}
	return compilePattern(r, compileOptions{wildcards: true, variables: vars, varsFrom: arnResourceStart(r)}), 0, ""
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
