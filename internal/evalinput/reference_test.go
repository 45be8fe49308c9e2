package evalinput_test

// A deliberately naive reference evaluator for `iamlocal eval` requests, used only by
// tests to cross-check the engine (internal/authz). It must stay independent of the
// engine: it imports no iamlocal package, works on the decoded JSON, matches every
// wildcard with a freshly built regexp, checks every statement by brute force and then
// combines the layers with the rules of docs/engine.md written out as boolean formulas.
// Speed does not matter here; being obviously right does.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/iamlocal/iamlocal/internal/awsdata"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// referenceDecide decides one decoded eval request (docs/eval.md) and returns
// "allowed", "explicitDeny" or "implicitDeny". It returns an error for a request it
// cannot read, such as an invalid policy.
func referenceDecide(req map[string]any) (string, error) {
	r, err := readRequest(req)
	if err != nil {
		return "", err
	}
	// STS API Reference, GetCallerIdentity: no permission needed, even under a deny.
	if strings.EqualFold(r.action, "sts:GetCallerIdentity") && r.caller.kind != "anonymous" {
		return "allowed", nil
	}
	if ownedByAWS(r.action, r.resource) {
		return "explicitDeny", nil
	}
	if r.anyDeny() {
		return "explicitDeny", nil
	}
	if r.allowed() {
		return "allowed", nil
	}
	return "implicitDeny", nil
}

// ownedByAWS: AWS refuses a change to an AWS managed policy (IAM User Guide, "AWS
// managed policies": you cannot change them) — every iam action whose access level is
// Write, Permissions management or Tagging on the policy resource type — and the role
// changes botocore's IAM model answers with UnmodifiableEntity on a service-linked or
// AWS-reserved role.
func ownedByAWS(action, resource string) bool {
	lower := strings.ToLower(action)
	if !strings.HasPrefix(lower, "iam:") {
		return false
	}
	parts := strings.SplitN(resource, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" {
		return false
	}
	if parts[4] == "aws" && strings.HasPrefix(parts[5], "policy/") {
		a, ok := awsdata.LookupAction(action)
		if !ok {
			return false
		}
		writes := strings.Contains(a.Access, "Write") || strings.Contains(a.Access, "Permissions") || strings.Contains(a.Access, "Tagging")
		return writes && slices.ContainsFunc(a.Resources, func(r awsdata.Resource) bool { return r.Type == "policy" })
	}
	if !strings.HasPrefix(parts[5], "role/aws-service-role/") && !strings.HasPrefix(parts[5], "role/aws-reserved/") {
		return false
	}
	switch strings.TrimPrefix(lower, "iam:") {
	case "attachrolepolicy", "detachrolepolicy", "putrolepolicy", "deleterolepolicy",
		"putrolepermissionsboundary", "deleterolepermissionsboundary", "updateassumerolepolicy", "deleterole":
		return true
	}
	return false
}

// ---------------------------------------------------------------------------------
// The request, read from the decoded JSON.

// caller is the principal making the request.
type caller struct {
	kind      string // user, session, root, federated, anonymous, service
	arn       string // the principal string as given
	partition string
	account   string
	name      string // user name, session name or federated-user name
	roleArn   string // sessions: the role's ARN
	service   string // service principals: ec2.amazonaws.com
}

// policy is one policy document: its version and statements.
type policy struct {
	version    string
	statements []statement
}

// statement keeps the elements of one statement, each list normalised to []string.
type statement struct {
	effect       string
	actions      []string
	notAction    bool
	resources    []string
	notResource  bool
	anyResource  bool                // no Resource element (trust policies)
	principal    map[string][]string // Principal or NotPrincipal, nil if neither
	notPrincipal bool
	// What a door would refuse, decided as docs/eval.md says: a statement whose
	// Effect is neither Allow nor Deny applies to nothing; a resource policy
	// statement without a principal applies to no one.
	inert, nobody bool
	condition     map[string]map[string][]string // operator → key → values
}

// request is a fully read eval request. A nil policy list means the layer is absent.
type request struct {
	caller          caller
	action          string
	resource        string
	resourceAccount string
	ctx             map[string][]string // lower-cased key → values; absent keys missing

	identity, boundary, session []policy
	resourcePolicy, endpoint    []policy
	scps, rcps                  [][]policy // one entry per level; nil = not in an org
	rpType                      string     // resource, trust or key

	mgmt, resMgmt, serviceLinked bool
}

// readRequest reads and validates every field the reference needs.
func readRequest(m map[string]any) (*request, error) {
	r := &request{}
	principal, err1 := requiredString(m, "principal")
	action, err2 := requiredString(m, "action")
	resource, err3 := requiredString(m, "resource")
	roleArn, err4 := optionalString(m, "roleArn")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	r.action, r.resource = action, resource
	var err error
	if r.caller, err = parseCaller(principal, roleArn); err != nil {
		return nil, err
	}
	if err := r.readAccounts(m); err != nil {
		return nil, err
	}
	// AWS's data (shared with the engine): an action without resource-level
	// permissions is authorized on "*", whatever resource the request names.
	if supported, known := awsdata.ResourceLevel(action); known && !supported {
		r.resource = "*"
	}
	if err := r.readLayers(m); err != nil {
		return nil, err
	}
	if err := r.readFlags(m); err != nil {
		return nil, err
	}
	return r, r.readContext(m)
}

func requiredString(m map[string]any, field string) (string, error) {
	s, err := optionalString(m, field)
	if err == nil && s == "" {
		err = fmt.Errorf("%s is required", field)
	}
	return s, err
}

func optionalString(m map[string]any, field string) (string, error) {
	v, ok := m[field]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string", field)
	}
	return s, nil
}

func optionalBool(m map[string]any, field string) (value, set bool, err error) {
	v, ok := m[field]
	if !ok || v == nil {
		return false, false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, false, fmt.Errorf("%s must be a boolean", field)
	}
	return b, true, nil
}

// parseCaller recognises the principal forms of docs/eval.md.
func parseCaller(p, roleArn string) (caller, error) {
	c := caller{arn: p}
	if p == "anonymous" || p == "*" {
		c.kind, c.arn = "anonymous", "anonymous"
		return c, nil
	}
	if isAccountID(p) { // an account id: its root user
		return parseCaller("arn:aws:iam::"+p+":root", roleArn)
	}
	if !strings.HasPrefix(p, "arn:") {
		if !strings.Contains(p, ".") {
			return c, fmt.Errorf("principal %q is not a known form", p)
		}
		c.kind, c.service = "service", p
		return c, nil
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) != 6 || !isAccountID(parts[4]) {
		return c, fmt.Errorf("principal %q is not a principal ARN", p)
	}
	c.partition, c.account = parts[1], parts[4]
	svc, res := parts[2], parts[5]
	switch {
	case svc == "iam" && res == "root":
		c.kind = "root"
	case svc == "iam" && strings.HasPrefix(res, "user/"):
		c.kind = "user"
		c.name = res[strings.LastIndex(res, "/")+1:]
	case svc == "sts" && strings.HasPrefix(res, "assumed-role/"):
		segs := strings.Split(res, "/")
		if len(segs) != 3 || segs[1] == "" || segs[2] == "" {
			return c, fmt.Errorf("principal %q: bad session ARN", p)
		}
		c.kind, c.name = "session", segs[2]
		c.roleArn = roleArn
		if c.roleArn == "" {
			c.roleArn = "arn:" + c.partition + ":iam::" + c.account + ":role/" + segs[1]
		}
	case svc == "sts" && strings.HasPrefix(res, "federated-user/"):
		c.kind, c.name = "federated", strings.TrimPrefix(res, "federated-user/")
	case svc == "iam" && strings.HasPrefix(res, "role/"):
		// A role: a session of it, the way SimulatePrincipalPolicy decides for a role.
		role := res[strings.LastIndex(res, "/")+1:]
		c.kind, c.name, c.roleArn = "session", "iamlocal-simulated", p
		c.arn = "arn:" + c.partition + ":sts::" + c.account + ":assumed-role/" + role + "/iamlocal-simulated"
	default:
		return c, fmt.Errorf("principal %q is not a known form", p)
	}
	if c.name == "" && c.kind != "root" {
		return c, fmt.Errorf("principal %q has no name", p)
	}
	return c, nil
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

func isAccountID(s string) bool { return accountID.MatchString(s) }

// readAccounts fills the resource's account: the resourceAccount field, else the
// resource ARN's account field, else the principal's account (docs/eval.md).
func (r *request) readAccounts(m map[string]any) error {
	acct, err := optionalString(m, "resourceAccount")
	if err != nil {
		return err
	}
	if acct == "" {
		if parts := strings.SplitN(r.resource, ":", 6); len(parts) == 6 && strings.HasPrefix(r.resource, "arn:") && parts[4] != "aws" {
			acct = parts[4]
		}
	}
	if acct == "" {
		acct = r.caller.account
	}
	r.resourceAccount = acct
	return nil
}

func (r *request) readFlags(m map[string]any) error {
	var resMgmtSet bool
	var err1, err2, err3 error
	r.mgmt, _, err1 = optionalBool(m, "managementAccount")
	r.resMgmt, resMgmtSet, err2 = optionalBool(m, "resourceManagementAccount")
	r.serviceLinked, _, err3 = optionalBool(m, "serviceLinkedRole")
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	// resourceManagementAccount defaults to managementAccount in the same account.
	if !resMgmtSet && r.sameAccount() {
		r.resMgmt = r.mgmt
	}
	return nil
}

// readLayers reads every policy layer and the resource policy's type.
func (r *request) readLayers(m map[string]any) error {
	var errs []error
	add := func(ps []policy, err error) []policy {
		errs = append(errs, err)
		return ps
	}
	r.identity = add(readPolicyList(m, "identityPolicies"))
	r.boundary = add(readOnePolicy(m, "permissionsBoundary"))
	r.session = add(readPolicyList(m, "sessionPolicies"))
	r.resourcePolicy = add(readOnePolicy(m, "resourcePolicy"))
	r.endpoint = add(readOnePolicy(m, "endpointPolicy"))
	var err error
	r.scps, err = readLevels(m, "scps")
	errs = append(errs, err)
	r.rcps, err = readLevels(m, "rcps")
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := r.checkPrincipals(); err != nil {
		return err
	}
	return r.readPolicyType(m)
}

// checkPrincipals enforces where Principal may and must appear: identity-side layers
// (identity, boundary, session, SCPs) must not name one; a resource policy must.
// Endpoint policies and RCPs without one are read as Principal "*".
func (r *request) checkPrincipals() error {
	// A principal in an identity-side policy is a door's finding: such a policy applies
	// to the principal it is attached to, whatever it names.
	for _, ps := range [][]policy{r.identity, r.boundary, r.session, flatten(r.scps)} {
		for _, p := range ps {
			for i := range p.statements {
				p.statements[i].principal, p.statements[i].notPrincipal = nil, false
			}
		}
	}
	// A resource policy statement without a principal applies to no one.
	for _, p := range r.resourcePolicy {
		for i := range p.statements {
			p.statements[i].nobody = p.statements[i].principal == nil
		}
	}
	for _, ps := range [][]policy{r.endpoint, flatten(r.rcps)} {
		for _, p := range ps {
			for i := range p.statements {
				if p.statements[i].principal == nil {
					p.statements[i].principal = map[string][]string{"AWS": {"*"}}
				}
			}
		}
	}
	return nil
}

func flatten(levels [][]policy) []policy {
	var all []policy
	for _, l := range levels {
		all = append(all, l...)
	}
	return all
}

// readPolicyType: "resource" by default, "trust" for sts:AssumeRole* on an IAM role.
func (r *request) readPolicyType(m map[string]any) error {
	t, err := optionalString(m, "resourcePolicyType")
	if err != nil {
		return err
	}
	switch t {
	case "resource", "trust", "key":
		r.rpType = t
	case "":
		r.rpType = "resource"
		parts := strings.SplitN(r.resource, ":", 6)
		isRole := len(parts) == 6 && parts[2] == "iam" && strings.HasPrefix(parts[5], "role/")
		if isRole && strings.HasPrefix(strings.ToLower(r.action), "sts:") {
			r.rpType = "trust"
		}
		// docs/eval.md: a KMS key's policy is a key policy unless the request says so.
		if len(parts) == 6 && parts[2] == "kms" && strings.HasPrefix(parts[5], "key/") {
			r.rpType = "key"
		}
	default:
		return fmt.Errorf("resourcePolicyType %q", t)
	}
	return nil
}

// readContext normalises the request context (lower-cased names, string values) and
// fills the principal-derived keys of docs/eval.md that the context does not set.
func (r *request) readContext(m map[string]any) error {
	r.ctx = map[string][]string{}
	if raw, ok := m["context"]; ok && raw != nil {
		obj, ok := raw.(map[string]any)
		if !ok {
			return errors.New("context must be an object")
		}
		for k, v := range obj {
			vals, err := scalarStrings(v)
			if err != nil {
				return fmt.Errorf("context %s: %w", k, err)
			}
			// An empty list is read as an absent key (the reference's choice).
			if len(vals) > 0 {
				r.ctx[strings.ToLower(k)] = vals
			}
		}
	}
	for k, v := range r.derivedKeys() {
		if _, set := r.ctx[strings.ToLower(k)]; !set && v != "" {
			r.ctx[strings.ToLower(k)] = []string{v}
		}
	}
	return nil
}

// derivedKeys lists the keys docs/eval.md derives from the principal; "" = not derived.
func (r *request) derivedKeys() map[string]string {
	c := r.caller
	keys := map[string]string{
		"aws:PrincipalIsAWSService": strconv.FormatBool(c.kind == "service"),
		"aws:ResourceAccount":       r.resourceAccount,
	}
	if c.kind == "service" {
		keys["aws:PrincipalServiceName"] = c.service
	}
	switch c.kind {
	case "user":
		keys["aws:PrincipalArn"], keys["aws:PrincipalType"], keys["aws:username"] = c.arn, "User", c.name
	case "session":
		keys["aws:PrincipalArn"], keys["aws:PrincipalType"] = c.roleArn, "AssumedRole"
	case "root":
		keys["aws:PrincipalArn"], keys["aws:PrincipalType"], keys["aws:userid"] = c.arn, "Account", c.account
	case "federated":
		keys["aws:PrincipalArn"], keys["aws:PrincipalType"] = c.arn, "FederatedUser"
		keys["aws:userid"] = c.account + ":" + c.name
	case "anonymous":
		keys["aws:PrincipalType"], keys["aws:userid"] = "Anonymous", "anonymous"
	}
	if c.account != "" {
		keys["aws:PrincipalAccount"] = c.account
	}
	return keys
}

// scalarStrings turns a JSON string, number, boolean or list of them into strings.
func scalarStrings(v any) ([]string, error) {
	if list, ok := v.([]any); ok {
		out := []string{}
		for _, e := range list {
			s, err := scalarString(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	if v == nil {
		return nil, nil
	}
	s, err := scalarString(v)
	return []string{s}, err
}

func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case json.Number:
		return x.String(), nil
	}
	return "", fmt.Errorf("value %v is not a string, number or boolean", v)
}

// ---------------------------------------------------------------------------------
// Reading policies.

func readPolicyList(m map[string]any, field string) ([]policy, error) {
	raw, ok := m[field]
	if !ok || raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s must be a list of policies", field)
	}
	if len(list) == 0 {
		return nil, nil // an empty list is the same as no such layer
	}
	var out []policy
	for i, p := range list {
		pol, err := readPolicy(p)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, pol)
	}
	return out, nil
}

func readOnePolicy(m map[string]any, field string) ([]policy, error) {
	raw, ok := m[field]
	if !ok || raw == nil {
		return nil, nil
	}
	pol, err := readPolicy(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return []policy{pol}, nil
}

// readLevels reads SCPs or RCPs: a list of levels, each a list of policies.
func readLevels(m map[string]any, field string) ([][]policy, error) {
	raw, ok := m[field]
	if !ok || raw == nil {
		return nil, nil
	}
	levels, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%s must be a list of levels", field)
	}
	out := [][]policy{}
	for i, lv := range levels {
		if obj, isObj := lv.(map[string]any); isObj {
			lv = []any{obj} // a level given as one policy
		}
		ps, err := readPolicyList(map[string]any{"level": lv}, "level")
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, ps) // a level with no policies allows nothing
	}
	return out, nil
}

// readPolicy reads one policy document (an object, or its JSON text).
func readPolicy(raw any) (policy, error) {
	if text, ok := raw.(string); ok {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return policy{}, err
		}
		raw = v
	}
	doc, ok := raw.(map[string]any)
	if !ok {
		return policy{}, errors.New("policy must be an object")
	}
	for k := range doc {
		if k != "Version" && k != "Id" && k != "Statement" {
			return policy{}, fmt.Errorf("unknown policy element %s", k)
		}
	}
	var p policy
	if v, ok := doc["Version"]; ok {
		p.version, _ = v.(string)
		if p.version != "2012-10-17" && p.version != "2008-10-17" {
			return p, fmt.Errorf("bad Version %v", v)
		}
	}
	stmts, ok := doc["Statement"]
	if !ok {
		return p, errors.New("missing Statement")
	}
	if one, isObj := stmts.(map[string]any); isObj {
		stmts = []any{one}
	}
	list, ok := stmts.([]any)
	if !ok {
		return p, errors.New("Statement must be an object or a list")
	}
	for i, s := range list {
		st, err := readStatement(s)
		if err != nil {
			return p, fmt.Errorf("statement %d: %w", i, err)
		}
		p.statements = append(p.statements, st)
	}
	return p, nil
}

var statementElements = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true, "Action": true,
	"NotAction": true, "Resource": true, "NotResource": true, "Condition": true,
}

func readStatement(raw any) (statement, error) {
	var st statement
	m, ok := raw.(map[string]any)
	if !ok {
		return st, errors.New("statement must be an object")
	}
	// Unknown elements are a door's finding: ignored here.
	effect, isString := m["Effect"].(string)
	if !isString {
		return st, fmt.Errorf("bad Effect %v", m["Effect"])
	}
	st.effect = effect
	st.inert = effect != "Allow" && effect != "Deny" // case-sensitive
	var err error
	if st.actions, st.notAction, err = pairedList(m, "Action", "NotAction", true); err != nil {
		return st, err
	}
	if st.resources, st.notResource, err = pairedList(m, "Resource", "NotResource", false); err != nil {
		return st, err
	}
	_, hasR := m["Resource"]
	_, hasNR := m["NotResource"]
	st.anyResource = !hasR && !hasNR
	if st.principal, st.notPrincipal, err = readPrincipal(m); err != nil {
		return st, err
	}
	// NotPrincipal with Allow is a door's finding; it allows all but those listed.
	st.condition, err = readCondition(m["Condition"])
	return st, err
}

// pairedList reads X or NotX (never both) as a []string.
func pairedList(m map[string]any, name, notName string, required bool) ([]string, bool, error) {
	v, has := m[name]
	nv, hasNot := m[notName]
	switch {
	case has && hasNot:
		return nil, false, fmt.Errorf("both %s and %s", name, notName)
	case hasNot:
		vals, err := stringList(nv)
		return vals, true, err
	case has:
		vals, err := stringList(v)
		return vals, false, err
	case required:
		return nil, false, fmt.Errorf("missing %s", name)
	}
	return nil, false, nil
}

// stringList normalises a string or a list of strings.
func stringList(v any) ([]string, error) {
	if s, ok := v.(string); ok {
		return []string{s}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a string or a list of strings", v)
	}
	out := []string{}
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a string", e)
		}
		out = append(out, s)
	}
	return out, nil
}

// readPrincipal reads Principal or NotPrincipal into type → values; "*" is {"AWS":"*"}.
func readPrincipal(m map[string]any) (map[string][]string, bool, error) {
	v, has := m["Principal"]
	nv, hasNot := m["NotPrincipal"]
	if has && hasNot {
		return nil, false, errors.New("both Principal and NotPrincipal")
	}
	if !has && !hasNot {
		return nil, false, nil
	}
	if hasNot {
		v = nv
	}
	if v == "*" {
		return map[string][]string{"AWS": {"*"}}, hasNot, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, false, fmt.Errorf("bad principal %v", v)
	}
	out := map[string][]string{}
	for typ, vals := range obj {
		switch typ {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return nil, false, fmt.Errorf("unknown principal type %s", typ)
		}
		list, err := stringList(vals)
		if err != nil {
			return nil, false, err
		}
		out[typ] = list
	}
	return out, hasNot, nil
}

// readCondition reads operator → key → values, checking that every operator is known.
func readCondition(raw any) (map[string]map[string][]string, error) {
	if raw == nil {
		return nil, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, errors.New("Condition must be an object")
	}
	out := map[string]map[string][]string{}
	for op, block := range obj {
		if _, _, _, err := parseOperator(op); err != nil {
			return nil, err
		}
		keys, ok := block.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("condition %s must be an object", op)
		}
		out[op] = map[string][]string{}
		for k, v := range keys {
			vals, err := scalarStrings(v)
			if err != nil || v == nil {
				return nil, fmt.Errorf("condition %s %s: bad value", op, k)
			}
			out[op][k] = vals
		}
	}
	return out, nil
}

// ---------------------------------------------------------------------------------
// Combining the layers: docs/engine.md "Combining layers", as boolean formulas.

// anyDeny is rule 1: a Deny that applies in any layer that applies. SCPs and RCPs
// that do not apply to this request (rules 2 and 3 exemptions) hold no Deny for it.
func (r *request) anyDeny() bool {
	layers := [][]policy{r.identity, r.boundary, r.session, r.resourcePolicy, r.endpoint}
	if r.scpsApply() {
		layers = append(layers, r.scps...)
	}
	if r.rcpsApply() {
		layers = append(layers, r.rcps...)
	}
	for _, l := range layers {
		if r.layerHas(l, "Deny") {
			return true
		}
	}
	return false
}

// allowed: every required layer allows (rules 2–11). Called only without a Deny.
func (r *request) allowed() bool {
	return r.scpsAllow() && r.rcpsAllow() && r.endpointAllows() && r.sidesAllow()
}

// scpsApply is rule 2's scope: the principal's account is in an organization, and the
// caller is not the management account, a service-linked role, a service or anonymous.
func (r *request) scpsApply() bool {
	k := r.caller.kind
	return r.scps != nil && !r.mgmt && !r.serviceLinked && k != "service" && k != "anonymous"
}

// rcpsApply is rule 3's scope: the resource's account is in an organization, the action
// belongs to a service RCPs cover, and the caller is no service-linked role or service,
// and the resource is not the management account's.
func (r *request) rcpsApply() bool {
	// Which services RCPs cover is AWS's data (shared with the engine: data, not logic).
	svc := strings.ToLower(strings.SplitN(r.action, ":", 2)[0])
	return r.rcps != nil && awsdata.RCPService(svc) && !r.resMgmt && !r.serviceLinked && r.caller.kind != "service"
}

// scpsAllow: rule 2, an Allow at every level.
func (r *request) scpsAllow() bool {
	return !r.scpsApply() || r.everyLevelAllows(r.scps)
}

// rcpsAllow: rule 3, an Allow at every level.
func (r *request) rcpsAllow() bool {
	return !r.rcpsApply() || r.everyLevelAllows(r.rcps)
}

func (r *request) everyLevelAllows(levels [][]policy) bool {
	for _, level := range levels {
		if !r.layerHas(level, "Allow") {
			return false
		}
	}
	return true
}

// endpointAllows: rule 4, through a VPC endpoint its policy must allow.
func (r *request) endpointAllows() bool {
	return r.endpoint == nil || r.layerHas(r.endpoint, "Allow")
}

// sidesAllow combines the principal's side and the resource policy: rules 5–11.
func (r *request) sidesAllow() bool {
	c := r.caller
	rp := r.resourceAllowKinds() // how the resource policy's Allows matched the caller
	anyRP := len(rp) > 0

	// Rules 10 and 11: anonymous and service callers have no side of their own; they
	// match only "*" or their service name, so any resource-policy Allow is that.
	if c.kind == "anonymous" || c.kind == "service" {
		return anyRP
	}

	// Rule 9: the root user has every permission on its own side.
	root := c.kind == "root"
	idAllows := root || r.layerHas(r.identity, "Allow")
	pbAllows := root || r.boundary == nil || r.layerHas(r.boundary, "Allow")
	spAllows := root || r.session == nil || r.layerHas(r.session, "Allow")
	ownSide := idAllows && pbAllows && spAllows
	// Rule 8: a federated user without session policies has no permissions of its own;
	// only an Allow naming it (rule 5: its ARN or "*") can grant.
	if c.kind == "federated" && r.session == nil {
		ownSide = false
	}

	// Rule 7: cross-account, both sides must allow; any principal form counts.
	if !r.sameAccount() {
		return ownSide && anyRP
	}

	// Rule 5 (and 6 "with the rules of 5"): what an Allow naming the caller grants.
	byUserArn := c.kind == "user" && rp["user"]                       // not limited by identity, boundary
	bySessionOrStar := rp["session"] || rp["federated"] || rp["star"] // not limited at all
	byRoleArn := rp["role"] && pbAllows && spAllows                   // limited by boundary, session
	namedCaller := byUserArn || bySessionOrStar || byRoleArn

	if r.rpType == "resource" {
		// Rule 5: named caller, or the identity side alone (account Allows delegate only).
		return namedCaller || ownSide
	}
	// Rule 6: trust and key policies must allow; through the account, the identity side
	// must allow too.
	return namedCaller || (rp["account"] && ownSide)
}

func (r *request) sameAccount() bool {
	return r.caller.account != "" && r.caller.account == r.resourceAccount
}

// resourceAllowKinds collects, over every Allow of the resource policy that applies,
// the ways its Principal matched the caller (see principalKinds).
func (r *request) resourceAllowKinds() map[string]bool {
	kinds := map[string]bool{}
	for _, p := range r.resourcePolicy {
		for _, st := range p.statements {
			if st.effect != "Allow" || !r.statementApplies(st, p.version) {
				continue
			}
			if st.notPrincipal { // Allow with NotPrincipal: everyone not listed, by name
				kinds["star"] = true
				continue
			}
			for k := range principalKinds(r.caller, st.principal) {
				kinds[k] = true
			}
		}
	}
	return kinds
}

// layerHas reports whether a statement with this effect applies in the policies.
func (r *request) layerHas(ps []policy, effect string) bool {
	for _, p := range ps {
		for _, st := range p.statements {
			if st.effect == effect && r.statementApplies(st, p.version) {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------------------------
// Matching one statement: principal, action, resource and condition must all match.

func (r *request) statementApplies(st statement, version string) bool {
	vars := version == "2012-10-17"
	return !st.inert && !st.nobody && r.principalMatches(st) && r.actionMatches(st) && r.resourceMatches(st, vars) &&
		r.conditionHolds(st.condition, vars)
}

func (r *request) principalMatches(st statement) bool {
	switch {
	case st.principal == nil: // identity-side policies
		return true
	case st.notPrincipal:
		// A caller with a permissions boundary is never excluded (docs/engine.md).
		return r.boundary != nil || !allIdentitiesListed(r.caller, st.principal)
	default:
		return len(principalKinds(r.caller, st.principal)) > 0
	}
}

// principalKinds lists how a Principal element matches the caller: "star" ("*" or
// {"AWS":"*"}), "account" (delegation), "user", "role", "session", "federated", "service".
// Unique ids, partial wildcards and Federated/CanonicalUser entries match nothing here.
func principalKinds(c caller, p map[string][]string) map[string]bool {
	kinds := map[string]bool{}
	for _, v := range p["AWS"] {
		switch {
		case v == "*":
			kinds["star"] = true
		case c.account != "" && (v == c.account || v == "arn:"+c.partition+":iam::"+c.account+":root"):
			kinds["account"] = true
		case c.kind == "user" && v == c.arn:
			kinds["user"] = true
		case c.kind == "session" && v == c.roleArn:
			kinds["role"] = true
		case c.kind == "session" && v == c.arn:
			kinds["session"] = true
		case c.kind == "federated" && v == c.arn:
			kinds["federated"] = true
		}
	}
	for _, v := range p["Service"] {
		if c.kind == "service" && strings.EqualFold(v, c.service) {
			kinds["service"] = true
		}
	}
	return kinds
}

// allIdentitiesListed: a NotPrincipal can exclude the caller only when it lists every
// identity of the caller (docs/engine.md): user = account + user ARN; session =
// account + role ARN + session ARN; federated = account + its ARN; root = account.
// Listing "*" excludes everyone; anonymous callers have nothing that can be listed.
func allIdentitiesListed(c caller, p map[string][]string) bool {
	k := principalKinds(c, p)
	if k["star"] {
		return true
	}
	switch c.kind {
	case "user":
		return k["account"] && k["user"]
	case "session":
		return k["account"] && k["role"] && k["session"]
	case "federated":
		return k["account"] && k["federated"]
	case "root":
		return k["account"]
	case "service":
		return k["service"]
	}
	return false
}

func (r *request) actionMatches(st statement) bool {
	matched := false
	for _, pat := range st.actions {
		if wildcardMatch([]piece{{text: pat}}, r.action, true) {
			matched = true
		}
	}
	return matched != st.notAction
}

func (r *request) resourceMatches(st statement, vars bool) bool {
	if st.anyResource {
		return true
	}
	matched := false
	for _, pat := range st.resources {
		if r.resourcePatternMatches(pat, vars) {
			matched = true
		}
	}
	return matched != st.notResource
}

// resourcePatternMatches: "*" matches anything; two ARNs are matched part by part over
// the six colon-separated parts, with policy variables in the resource part only; a
// non-ARN on either side is matched as whole text.
func (r *request) resourcePatternMatches(pat string, vars bool) bool {
	if pat == "*" {
		return true
	}
	pp := strings.SplitN(pat, ":", 6)
	rp := strings.SplitN(r.resource, ":", 6)
	if len(pp) != 6 || len(rp) != 6 || !strings.HasPrefix(r.resource, "arn:") {
		return wildcardMatch([]piece{{text: pat}}, r.resource, false)
	}
	for i := 0; i < 5; i++ {
		if !wildcardMatch([]piece{{text: pp[i]}}, rp[i], false) {
			return false
		}
	}
	pieces, ok := r.substitute(pp[5], vars)
	return ok && wildcardMatch(pieces, rp[5], false)
}

// ---------------------------------------------------------------------------------
// Wildcards and policy variables.

// piece is a run of pattern text; literal pieces (substituted variables) hold no
// wildcards.
type piece struct {
	text    string
	literal bool
}

// wildcardMatch converts the pieces to an anchored regexp: `*` → `.*`, `?` → `.`,
// everything else quoted.
func wildcardMatch(pieces []piece, s string, ignoreCase bool) bool {
	var b strings.Builder
	b.WriteString("(?s)")
	if ignoreCase {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for _, p := range pieces {
		if p.literal {
			b.WriteString(regexp.QuoteMeta(p.text))
			continue
		}
		for _, ch := range p.text {
			switch ch {
			case '*':
				b.WriteString(".*")
			case '?':
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(string(ch)))
			}
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()).MatchString(s)
}

// joinPieces is the text of the pieces with every wildcard taken literally.
func joinPieces(pieces []piece) string {
	var b strings.Builder
	for _, p := range pieces {
		b.WriteString(p.text)
	}
	return b.String()
}

var varPattern = regexp.MustCompile(`\$\{([^}]*)\}`)

// substitute replaces the policy variables of s (when vars is on, i.e. Version
// 2012-10-17) by literal pieces. ok is false when a variable cannot be resolved: the
// value then matches nothing.
func (r *request) substitute(s string, vars bool) (pieces []piece, ok bool) {
	if !vars {
		return []piece{{text: s}}, true
	}
	rest := s
	for {
		loc := varPattern.FindStringSubmatchIndex(rest)
		if loc == nil {
			return append(pieces, piece{text: rest}), true
		}
		value, resolved := r.resolveVariable(rest[loc[2]:loc[3]])
		if !resolved {
			return nil, false
		}
		pieces = append(pieces, piece{text: rest[:loc[0]]}, piece{text: value, literal: true})
		rest = rest[loc[1]:]
	}
}

// resolveVariable resolves the inside of ${…}: an escape (* ? $), a single-valued
// context key, or the key's default `'…'` when the key is absent or multi-valued.
func (r *request) resolveVariable(inner string) (string, bool) {
	inner = strings.TrimSpace(inner)
	if inner == "*" || inner == "?" || inner == "$" {
		return inner, true
	}
	key, def, hasDefault := strings.Cut(inner, ",")
	if vals := r.ctx[strings.ToLower(strings.TrimSpace(key))]; len(vals) == 1 {
		return vals[0], true
	}
	if !hasDefault {
		return "", false
	}
	def = strings.TrimSpace(def)
	if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
		def = def[1 : len(def)-1]
	}
	return def, true
}

// ---------------------------------------------------------------------------------
// Conditions.

// negatedOps maps each negated operator to the positive one it negates.
var negatedOps = map[string]string{
	"StringNotEquals":           "StringEquals",
	"StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringNotLike":             "StringLike",
	"NumericNotEquals":          "NumericEquals",
	"DateNotEquals":             "DateEquals",
	"NotIpAddress":              "IpAddress",
	"ArnNotEquals":              "ArnEquals",
	"ArnNotLike":                "ArnLike",
}

var positiveOps = map[string]bool{
	"StringEquals": true, "StringEqualsIgnoreCase": true, "StringLike": true,
	"NumericEquals": true, "NumericLessThan": true, "NumericLessThanEquals": true,
	"NumericGreaterThan": true, "NumericGreaterThanEquals": true,
	"DateEquals": true, "DateLessThan": true, "DateLessThanEquals": true,
	"DateGreaterThan": true, "DateGreaterThanEquals": true,
	"Bool": true, "BinaryEquals": true, "IpAddress": true, "ArnEquals": true, "ArnLike": true,
}

// parseOperator splits "ForAllValues:StringLikeIfExists" into its set qualifier, base
// operator and IfExists flag.
func parseOperator(op string) (qualifier, base string, ifExists bool, err error) {
	base = op
	for _, q := range []string{"ForAllValues:", "ForAnyValue:"} {
		if strings.HasPrefix(base, q) {
			qualifier, base = strings.TrimSuffix(q, ":"), strings.TrimPrefix(base, q)
		}
	}
	if base == "Null" {
		if qualifier != "" {
			return "", "", false, fmt.Errorf("operator %s", op)
		}
		return "", base, false, nil
	}
	if trimmed, found := strings.CutSuffix(base, "IfExists"); found {
		base, ifExists = trimmed, true
	}
	if !positiveOps[base] && negatedOps[base] == "" {
		return "", "", false, fmt.Errorf("unknown condition operator %s", op)
	}
	return qualifier, base, ifExists, nil
}

// conditionHolds: operators AND, keys within an operator AND.
func (r *request) conditionHolds(cond map[string]map[string][]string, vars bool) bool {
	for op, keys := range cond {
		for key, values := range keys {
			if !r.conditionKeyHolds(op, key, values, vars) {
				return false
			}
		}
	}
	return true
}

// conditionKeyHolds evaluates one operator on one key against the policy's values.
func (r *request) conditionKeyHolds(op, key string, values []string, vars bool) bool {
	qualifier, base, ifExists, _ := parseOperator(op) // checked when read
	reqValues := r.ctx[strings.ToLower(key)]
	present := len(reqValues) > 0
	negated := negatedOps[base] != ""

	if base == "Null" { // "true": the key is absent; "false": present. Values OR.
		for _, v := range values {
			if strings.EqualFold(v, "true") && !present || strings.EqualFold(v, "false") && present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case ifExists, qualifier == "ForAllValues":
			return true
		case qualifier == "ForAnyValue":
			return false
		}
		return negated
	}
	// oneValue: a request value matches some policy value (negated: none).
	oneValue := func(v string) bool {
		matched := false
		for _, p := range values {
			if r.valueMatches(base, v, p, vars) {
				matched = true
			}
		}
		return matched != negated
	}
	if qualifier == "ForAllValues" || (qualifier == "" && negated) {
		for _, v := range reqValues {
			if !oneValue(v) {
				return false
			}
		}
		return true
	}
	for _, v := range reqValues { // ForAnyValue, or a plain positive operator
		if oneValue(v) {
			return true
		}
	}
	return false
}

// valueMatches applies the positive form of base to one request value v and one
// policy value p.
func (r *request) valueMatches(base, v, p string, vars bool) bool {
	if pos := negatedOps[base]; pos != "" {
		base = pos
	}
	switch {
	case strings.HasPrefix(base, "String") || strings.HasPrefix(base, "Arn"):
		pieces, ok := r.substitute(p, vars)
		return ok && stringOrArnMatch(base, v, pieces)
	case strings.HasPrefix(base, "Numeric"):
		a, okA := parseNumber(v)
		b, okB := parseNumber(p)
		return okA && okB && compare(base, "Numeric", cmpFloat(a, b))
	case strings.HasPrefix(base, "Date"):
		a, okA := parseDate(v)
		b, okB := parseDate(p)
		return okA && okB && compare(base, "Date", a.Compare(b))
	case base == "Bool":
		lv, lp := strings.ToLower(v), strings.ToLower(p)
		return (lv == "true" || lv == "false") && lv == lp
	case base == "BinaryEquals":
		return binaryEquals(v, p)
	case base == "IpAddress":
		return ipMatches(v, p)
	}
	return false
}

func stringOrArnMatch(base, v string, pieces []piece) bool {
	switch base {
	case "StringEquals":
		return v == joinPieces(pieces)
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(v, joinPieces(pieces))
	case "StringLike":
		return wildcardMatch(pieces, v, false)
	}
	return arnMatch(pieces, v) // ArnEquals and ArnLike are the same operator
}

// arnMatch matches the six colon-separated parts one by one, so `*` does not cross
// the first five colons.
func arnMatch(pattern []piece, v string) bool {
	pparts := splitPieces(pattern, 6)
	vparts := strings.SplitN(v, ":", 6)
	if len(pparts) != 6 || len(vparts) != 6 {
		return false
	}
	for i := range 6 {
		if !wildcardMatch(pparts[i], vparts[i], false) {
			return false
		}
	}
	return true
}

// splitPieces splits pieces at the first n-1 colons (of any piece).
func splitPieces(pieces []piece, n int) [][]piece {
	parts := [][]piece{{}}
	for _, p := range pieces {
		text := p.text
		for len(parts) < n {
			i := strings.Index(text, ":")
			if i < 0 {
				break
			}
			last := len(parts) - 1
			parts[last] = append(parts[last], piece{text: text[:i], literal: p.literal})
			parts = append(parts, []piece{})
			text = text[i+1:]
		}
		last := len(parts) - 1
		parts[last] = append(parts[last], piece{text: text, literal: p.literal})
	}
	return parts
}

// compare reads the suffix of a Numeric/Date operator against c = cmp(request, policy).
func compare(op, family string, c int) bool {
	switch strings.TrimPrefix(op, family) {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var numberPattern = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

func parseNumber(s string) (float64, bool) {
	if !numberPattern.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsInf(f, 0)
}

var epochPattern = regexp.MustCompile(`^-?[0-9]+$`)

// parseDate accepts epoch seconds or an ISO 8601 date/time.
func parseDate(s string) (time.Time, bool) {
	if epochPattern.MatchString(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		return time.Unix(n, 0).UTC(), err == nil
	}
	layouts := []string{
		time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02",
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// binaryEquals compares base64 values by their bytes, or as text when either is not
// valid base64.
func binaryEquals(v, p string) bool {
	a, errA := base64.StdEncoding.DecodeString(v)
	b, errB := base64.StdEncoding.DecodeString(p)
	if errA != nil || errB != nil {
		return v == p
	}
	return string(a) == string(b)
}

// ipMatches: p is a CIDR or a bare address (one host); v an address.
func ipMatches(v, p string) bool {
	addr, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil {
		return false
	}
	prefix, err := netip.ParsePrefix(p)
	if err != nil {
		host, err2 := netip.ParseAddr(p)
		if err2 != nil {
			return false
		}
		prefix = netip.PrefixFrom(host, host.BitLen())
	}
	return prefix.Contains(addr)
}
