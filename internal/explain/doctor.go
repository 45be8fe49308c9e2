package explain

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/policycheck"
	"github.com/iamlocal/iamlocal/internal/reasons"
)

// Check statuses.
const (
	StatusOK   = "ok"
	StatusFail = "fail"
	StatusWarn = "warn" // could not be checked
	StatusSkip = "skip" // does not apply, or an earlier failure makes it moot
)

// Check is one precondition of a call.
type Check struct {
	Name      string `json:"check"`
	Status    string `json:"status"`
	Detail    string `json:"detail"`
	Fix       string `json:"fix,omitempty"`
	FixPolicy string `json:"fixPolicy,omitempty"` // the statement or document to add, as JSON
}

// Report is the outcome of `iamlocal doctor`: each precondition in order, and the
// engine's decision.
type Report struct {
	Principal string   `json:"principal"`
	Action    string   `json:"action"`
	Resource  string   `json:"resource"`
	Decision  string   `json:"decision"`
	Reasons   []string `json:"reasons"`
	Checks    []Check  `json:"checks"`
	Notes     []string `json:"notes,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	// ActionInfo is what AWS's data says of the action (see Tree.ActionInfo).
	ActionInfo *policycheck.ActionInfo `json:"actionInfo,omitempty"`
}

// Failed lists the checks that failed.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == StatusFail {
			out = append(out, c)
		}
	}
	return out
}

// AssumeQuery is an sts:AssumeRole call to check.
type AssumeQuery struct {
	RoleArn         string
	ExternalID      string
	Principal       string        // empty: the caller
	Duration        time.Duration // 0: AWS's default, one hour
	SessionName     string
	SessionPolicies []string // of the principal's own session
	Context         map[string][]string
	Region          string
	Now             time.Time
}

var (
	roleArnPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}$`)
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// IsRoleArn reports whether s is a role ARN, arn:aws:iam::ACCOUNT:role/[PATH/]NAME.
func IsRoleArn(s string) bool { return roleArnPattern.MatchString(s) }

// DoctorAssumeRole checks, in order, every precondition of an AssumeRole call: the
// principal may assume roles, the role exists, the principal's own policies allow
// sts:AssumeRole, the trust policy names it, the ExternalId, SCPs and RCPs, the
// boundary and session policies, MaxSessionDuration and role chaining.
func DoctorAssumeRole(ctx context.Context, src Source, q AssumeQuery) (*Report, error) {
	if !roleArnPattern.MatchString(q.RoleArn) {
		return nil, fmt.Errorf("--role-arn %q: want arn:aws:iam::ACCOUNT:role/NAME", q.RoleArn)
	}
	if q.Duration == 0 {
		q.Duration = time.Hour
	}
	if q.SessionName == "" {
		q.SessionName = "iamlocal-doctor"
	}
	rctx := map[string][]string{"sts:RoleSessionName": {q.SessionName}}
	if q.ExternalID != "" {
		rctx["sts:ExternalId"] = []string{q.ExternalID}
	}
	for k, v := range q.Context {
		rctx[k] = v
	}
	c, err := Gather(ctx, src, Query{Principal: q.Principal, Action: "sts:AssumeRole", Resource: q.RoleArn,
		Context: rctx, SessionPolicies: q.SessionPolicies, Region: q.Region, Now: q.Now})
	if err != nil {
		return nil, err
	}
	d := c.Decide()
	nd := c.decideWithoutDenies()
	r := c.report(d)
	caller := &c.Request.Caller
	roleName := q.RoleArn[strings.LastIndexByte(q.RoleArn, '/')+1:]

	// The principal.
	ch := Check{Name: "principal may assume roles", Status: StatusOK, Detail: fmt.Sprintf("%s (%s)", caller.Arn, kindName(caller.Kind))}
	if caller.Kind == policy.RootUser {
		ch.Status, ch.Detail = StatusFail, "Roles may not be assumed by root accounts: AWS refuses AssumeRole with the root user's credentials"
		ch.Fix = "act as an IAM user or role of account " + caller.Account + " whose identity policy holds this statement"
		ch.FixPolicy = docOf(Statement{Effect: "Allow", Action: "sts:AssumeRole", Resource: q.RoleArn})
	}
	r.Checks = append(r.Checks, ch)

	// The role.
	trustFix := Statement{Effect: "Allow", Principal: map[string]any{"AWS": principalRef(caller)}, Action: "sts:AssumeRole"}
	if q.ExternalID != "" {
		trustFix.Condition = map[string]map[string]any{"StringEquals": {"sts:ExternalId": q.ExternalID}}
	}
	roleOK := false
	ch = Check{Name: "role exists"}
	switch {
	case (c.RoleErr != nil || c.RoleMissing) && roleName == accessRole && invited(ctx, src, c.ResourceAccount):
		ch = invitedCheck(c, r)
	case c.RoleErr != nil:
		ch.Status, ch.Detail = StatusWarn, fmt.Sprintf("could not read the role: %v", c.RoleErr)
	case c.RoleMissing:
		ch.Status, ch.Detail = StatusFail, fmt.Sprintf("role %s does not exist in account %s", roleName, c.ResourceAccount)
		ch.Fix = fmt.Sprintf("create it in account %s, trusting the caller: aws iam create-role --role-name %s --assume-role-policy-document file://trust.json (with trust.json:)", c.ResourceAccount, roleName)
		ch.FixPolicy = docOf(trustFix)
	case c.Role != nil && c.Role.Arn != q.RoleArn:
		ch.Status, ch.Detail = StatusFail, fmt.Sprintf("the role's ARN is %s, not %s: AssumeRole needs it exactly, path included", c.Role.Arn, q.RoleArn)
		ch.Fix = "use --role-arn " + c.Role.Arn
	default:
		roleOK = true
		ch.Status, ch.Detail = StatusOK, fmt.Sprintf("%s (MaxSessionDuration %d s)", c.Role.Arn, c.Role.MaxSessionDuration)
	}
	r.Checks = append(r.Checks, ch)

	// The caller's own side.
	ch = c.layerCheck(d, nd, authz.Identity, "identity policy allows sts:AssumeRole")
	if caller.Kind == policy.RootUser {
		ch.Status, ch.Detail, ch.Fix, ch.FixPolicy = StatusSkip, "the root user cannot assume roles at all", "", ""
	}
	r.Checks = append(r.Checks, ch)

	// The trust policy and ExternalId.
	switch {
	case caller.Kind == policy.RootUser:
		r.Checks = append(r.Checks, Check{Name: "trust policy allows the caller", Status: StatusSkip, Detail: "the root user cannot assume roles at all"},
			Check{Name: "ExternalId", Status: StatusSkip, Detail: "the root user cannot assume roles at all"})
	case roleOK:
		r.Checks = append(r.Checks, c.trustChecks(d, nd, q, trustFix)...)
	default:
		r.Checks = append(r.Checks, Check{Name: "trust policy allows the caller", Status: StatusSkip, Detail: "no role to read a trust policy from"},
			Check{Name: "ExternalId", Status: StatusSkip, Detail: "no role to read a trust policy from"})
	}

	// Guardrails of both sides, then the caller's limits.
	r.Checks = append(r.Checks,
		c.layerCheck(d, nd, authz.SCP, "SCPs of the caller's account "+c.PrincipalAccount),
		c.layerCheck(d, nd, authz.RCP, "RCPs of the role's account "+c.ResourceAccount),
		c.layerCheck(d, nd, authz.PermissionsBoundary, "permissions boundary"),
		c.layerCheck(d, nd, authz.Session, "session policies"))

	ch = Check{Name: "MaxSessionDuration", Status: StatusSkip, Detail: "no role to compare with"}
	if roleOK {
		max := time.Duration(c.Role.MaxSessionDuration) * time.Second
		ch.Status, ch.Detail = StatusOK, fmt.Sprintf("%d s requested, the role allows up to %d s", int(q.Duration.Seconds()), int(max.Seconds()))
		if q.Duration > max {
			ch.Status = StatusFail
			ch.Detail = fmt.Sprintf("ValidationError: The requested DurationSeconds (%d) exceeds the MaxSessionDuration (%d) set for this role", int(q.Duration.Seconds()), int(max.Seconds()))
			ch.Fix = fmt.Sprintf("ask for at most %d s (--duration %s), or raise the role's limit (at most 43200): aws iam update-role --role-name %s --max-session-duration %d",
				int(max.Seconds()), max, c.Role.Name, min(int(q.Duration.Seconds()), 43200))
		}
	}
	r.Checks = append(r.Checks, ch)

	ch = Check{Name: "role chaining", Status: StatusOK, Detail: "not chained: the caller is not a role session"}
	if caller.Kind == policy.AssumedRole {
		ch.Detail = "chained: a role session assuming a role gets at most 1 hour"
		if q.Duration > time.Hour {
			ch.Status = StatusFail
			ch.Detail = fmt.Sprintf("ValidationError: The requested DurationSeconds (%d) exceeds the 1 hour session limit for roles assumed by role chaining", int(q.Duration.Seconds()))
			ch.Fix = "ask for at most 3600 s (--duration 1h), or assume the role from long-term credentials instead of a role session"
		}
	}
	r.Checks = append(r.Checks, ch)
	if caller.Kind == policy.RootUser {
		// AWS refuses before any policy is read.
		r.Decision, r.Reasons = authz.ImplicitDeny.String(), []string{"Roles may not be assumed by root accounts."}
		r.Checks = append(r.Checks, Check{Name: "decision", Status: StatusFail, Detail: "AccessDenied: Roles may not be assumed by root accounts."})
		return r, nil
	}
	r.Checks = append(r.Checks, decisionCheck(r, d))
	return r, nil
}

// DoctorCall checks, layer by layer, what a call needs.
func DoctorCall(ctx context.Context, src Source, q Query) (*Report, error) {
	c, err := Gather(ctx, src, q)
	if err != nil {
		return nil, err
	}
	d := c.Decide()
	nd := c.decideWithoutDenies()
	r := c.report(d)
	caller := &c.Request.Caller
	r.Checks = append(r.Checks, Check{Name: "principal", Status: StatusOK, Detail: fmt.Sprintf("%s (%s)", caller.Arn, kindName(caller.Kind))})
	r.Checks = append(r.Checks,
		c.layerCheck(d, nd, authz.SCP, "SCPs of the caller's account "+c.PrincipalAccount),
		c.layerCheck(d, nd, authz.RCP, "RCPs of the resource's account "+c.ResourceAccount),
		c.layerCheck(d, nd, authz.Endpoint, "VPC endpoint policy"),
		c.layerCheck(d, nd, authz.Resource, "resource-based policy"),
		c.layerCheck(d, nd, authz.Identity, "identity policy allows "+q.Action),
		c.layerCheck(d, nd, authz.PermissionsBoundary, "permissions boundary"),
		c.layerCheck(d, nd, authz.Session, "session policies"))
	if ch, ok := c.companionCheck(d); ok {
		r.Checks = append(r.Checks, ch)
	}
	c.verifyFixes(r, d, nd)
	r.Checks = append(r.Checks, decisionCheck(r, d))
	return r, nil
}

// accessRole is the role CreateAccount makes in each new member account.
const accessRole = "OrganizationAccountAccessRole"

// invited reports whether account joined its organization by invitation.
func invited(ctx context.Context, src Source, account string) bool {
	accts, err := src.Accounts(ctx)
	if err != nil {
		return false
	}
	for _, a := range accts {
		if a.ID == account {
			return a.JoinedMethod == "INVITED"
		}
	}
	return false
}

// invitedCheck says why an invited account has no OrganizationAccountAccessRole and
// how to create it, with the member account's own credentials. It drops the warning
// that pointed back at this very check.
func invitedCheck(c *Case, r *Report) Check {
	acct, mgmt := c.ResourceAccount, ""
	if c.Org != nil {
		mgmt = c.Org.ManagementAccount
	}
	trust := docOf(Statement{Effect: "Allow", Principal: map[string]any{"AWS": "arn:aws:iam::" + mgmt + ":root"}, Action: "sts:AssumeRole"})
	var kept []string
	for _, w := range r.Warnings {
		if !strings.Contains(w, "role/"+accessRole) {
			kept = append(kept, w)
		}
	}
	r.Warnings = kept
	return Check{Name: "role exists", Status: StatusFail,
		Detail: fmt.Sprintf("account %s joined the organization by invitation (JoinedMethod INVITED): invited accounts get no %s; only CreateAccount makes it", acct, accessRole),
		Fix: fmt.Sprintf("create it with credentials of account %s (its root user: `iamlocal root-key --account-id %s` prints a key), trusting the management account %s: "+
			"aws iam create-role --role-name %s --assume-role-policy-document %s; aws iam attach-role-policy --role-name %s --policy-arn arn:aws:iam::aws:policy/AdministratorAccess",
			acct, acct, mgmt, accessRole, shellQuote(compact(trust)), accessRole),
		FixPolicy: trust}
}

func (c *Case) report(d *authz.Decision) *Report {
	return &Report{Principal: c.Request.Caller.Arn, Action: c.Request.Action, Resource: c.Request.Resource,
		Decision: d.Outcome.String(), Reasons: Reasons(c, d), Notes: c.Notes, Warnings: c.Warnings,
		ActionInfo: actionInfo(c.Request.Action, c.Request.Resource)}
}

// decisionCheck is the engine's verdict: it fails when no earlier check explains a
// denial (which would be a gap in the checks, said plainly).
func decisionCheck(r *Report, d *authz.Decision) Check {
	ch := Check{Name: "decision", Status: StatusOK, Detail: d.Outcome.String()}
	if d.Outcome != authz.Allowed {
		ch.Status = StatusFail
		var rs []string
		for _, x := range r.Reasons {
			rs = append(rs, strings.TrimSpace(x))
		}
		ch.Detail = d.Outcome.String() + ": " + strings.Join(rs, "; ")
	}
	return ch
}

func kindName(k policy.CallerKind) string {
	switch k {
	case policy.RootUser:
		return "root user"
	case policy.User:
		return "IAM user"
	case policy.AssumedRole:
		return "role session"
	case policy.FederatedUser:
		return "federated user"
	}
	return strings.ToLower(k.PrincipalType())
}

// trustChecks says whether the trust policy names the caller and whether the
// ExternalId passes.
func (c *Case) trustChecks(d, nd *authz.Decision, q AssumeQuery, fix Statement) []Check {
	req := &c.Request
	trust := c.Resource
	tc := Check{Name: "trust policy allows the caller"}
	ec := Check{Name: "ExternalId"}
	if trust == nil {
		tc.Status, tc.Detail = StatusWarn, "the trust policy could not be read"
		ec.Status, ec.Detail = StatusSkip, "the trust policy could not be read"
		return []Check{tc, ec}
	}
	if denies := c.denies(d, authz.Resource); len(denies) > 0 {
		tc.Status, tc.Detail = StatusFail, strings.Join(denies, "; ")
		tc.Fix, tc.FixPolicy = c.denyFix(d, authz.Resource)
	}
	// Allow statements for sts:AssumeRole that name the caller, and their ExternalId
	// conditions.
	var naming, external []string
	var otherFail string
	externalOK := true
	var names []string
	for i := range trust.Policy.Statements {
		st := &trust.Policy.Statements[i]
		if st.Effect != policy.Allow || !st.MatchesAction(req.Action) {
			continue
		}
		ps, _ := st.Principals()
		names = append(names, ps...)
		pm := st.MatchesPrincipal(&req.Caller)
		if pm == policy.NoPrincipalMatch {
			continue
		}
		name := reasons.StatementName(i, st.Sid)
		naming = append(naming, fmt.Sprintf("%s (%s)", name, reasons.Naming(pm)))
		hasExt := false
		for _, ci := range st.Conditions() {
			if strings.EqualFold(ci.Key, "sts:ExternalId") {
				hasExt = true
				external = append(external, fmt.Sprintf("%s requires %s %s %s", name, ci.Operator, ci.Key, quoted(ci.Values)))
			}
		}
		// With the ExternalId the statement asks for, would it apply?
		if hasExt {
			if !conditionHolds(st, req, "sts:ExternalId") {
				externalOK = false
			}
		}
		if m := st.Explain(withExternalIDs(req, st)); m != nil && otherFail == "" {
			otherFail = fmt.Sprintf("%s names the caller, but %s: %s", name, m.Element, m.Detail)
		}
	}
	if tc.Status == "" {
		switch {
		case len(naming) == 0:
			tc.Status = StatusFail
			tc.Detail = fmt.Sprintf("no Allow statement of the trust policy of %s names %s for sts:AssumeRole", c.Role.Name, req.Caller.Arn)
			if len(names) > 0 {
				tc.Detail += " (it names " + strings.Join(names, ", ") + ")"
			}
			tc.Fix = fmt.Sprintf("add the statement naming %s to the trust policy of role %s: aws iam update-assume-role-policy --role-name %s --policy-document file://trust.json (the whole new trust.json:)",
				principalRef(&req.Caller), c.Role.Name, c.Role.Name)
			tc.FixPolicy = withStatement(c.Role.Trust, fix)
		case nd.BlockedBy.Has(authz.Resource) && otherFail != "":
			tc.Status, tc.Detail = StatusFail, otherFail
			tc.Fix = "make the request meet the condition, or change the condition in the trust policy of role " + c.Role.Name
		default:
			tc.Status, tc.Detail = StatusOK, strings.Join(naming, "; ")
			if d.Outcome == authz.Allowed || !nd.BlockedBy.Has(authz.Resource) {
				tc.Detail = "names the caller: " + tc.Detail
			}
		}
	}
	switch {
	case q.ExternalID != "" && (len(q.ExternalID) < 2 || len(q.ExternalID) > 1224 || !externalIDPattern.MatchString(q.ExternalID)):
		ec.Status = StatusFail
		ec.Detail = "ValidationError: an ExternalId has 2 to 1224 characters of [\\w+=,.@:/-]"
		ec.Fix = "use the ExternalId the role's owner gave you, exactly"
	case len(external) == 0 && q.ExternalID != "":
		ec.Status, ec.Detail = StatusOK, "the trust policy does not ask for one (the one given is ignored)"
	case len(external) == 0:
		ec.Status, ec.Detail = StatusOK, "the trust policy does not ask for one"
	case q.ExternalID == "" && !externalOK:
		ec.Status = StatusFail
		ec.Detail = strings.Join(external, "; ") + "; the request has none"
		ec.Fix = "pass the ExternalId: --external-id VALUE (aws sts assume-role --external-id VALUE, or external_id in the profile of ~/.aws/config)"
	case !externalOK:
		ec.Status = StatusFail
		ec.Detail = fmt.Sprintf("%s; the request has %q", strings.Join(external, "; "), q.ExternalID)
		ec.Fix = "pass the ExternalId the role's owner gave you, or change the condition in the trust policy"
	default:
		ec.Status, ec.Detail = StatusOK, strings.Join(external, "; ")+": it matches"
	}
	return []Check{tc, ec}
}

func quoted(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// conditionHolds reports whether every condition of st on key holds for req.
func conditionHolds(st *policy.Statement, req *policy.Request, key string) bool {
	for {
		i := st.MatchesConditions(req)
		if i < 0 {
			return true
		}
		if strings.EqualFold(st.Conditions()[i].Key, key) {
			return false
		}
		// Another condition fails first: look past it with its key satisfied.
		next, ok := assume(req, st.Conditions()[i])
		if !ok {
			return true // cannot tell; report the other failure instead
		}
		req = next
	}
}

// withExternalIDs returns req with the ExternalId st asks for, if it asks for one.
func withExternalIDs(req *policy.Request, st *policy.Statement) *policy.Request {
	for _, ci := range st.Conditions() {
		if strings.EqualFold(ci.Key, "sts:ExternalId") && len(ci.Values) > 0 {
			r := cloneRequest(req)
			r.Context.Set("sts:ExternalId", likeValue(ci.Values[0]))
			return r
		}
	}
	return req
}

// cloneRequest copies a request and its context, prepared.
func cloneRequest(req *policy.Request) *policy.Request {
	r := &policy.Request{Caller: req.Caller, Action: req.Action, Resource: req.Resource, ResourceAccount: req.ResourceAccount, Context: policy.Context{}}
	for k, v := range req.Context {
		r.Context[k] = v
	}
	r.Prepare()
	return r
}

// layerCheck checks one layer: a Deny that applied, or a required Allow missing.
func (c *Case) layerCheck(d, nd *authz.Decision, l authz.Layer, name string) Check {
	ch := Check{Name: name, Status: StatusOK}
	req, in := &c.Request, &c.Input
	if why := c.exemption(l); why != "" {
		ch.Detail = why
		return ch
	}
	var failures []string
	if denies := c.denies(d, l); len(denies) > 0 {
		failures = append(failures, denies...)
		ch.Fix, ch.FixPolicy = c.denyFix(d, l)
	}
	if nd.BlockedBy.Has(l) {
		failures = append(failures, reasons.Blocked(l, nd, req, in))
		named := c.layerNamed(l)
		for i, n := range reasons.NearMisses(l, req, in) {
			if i == 3 {
				failures = append(failures, "…")
				break
			}
			failures = append(failures, fmt.Sprintf("%s of %s does not apply: %s: %s", reasons.StatementName(n.Statement, n.Sid),
				named[n.Policy].Origin, n.Mismatch.Element, clip(n.Mismatch.Detail)))
		}
		if ch.Fix == "" {
			ch.Fix, ch.FixPolicy = c.allowFix(nd, l)
		}
	}
	if len(failures) > 0 {
		ch.Status, ch.Detail = StatusFail, strings.Join(failures, "; ")
		return ch
	}
	var allows []string
	for _, m := range d.Matched {
		if m.Layer == l && m.Effect == policy.Allow {
			allows = append(allows, fmt.Sprintf("%s of %s", reasons.StatementName(m.Statement, m.Sid), c.named(m.Layer, m.Level, m.Policy).Origin))
		}
	}
	switch {
	case len(allows) > 0:
		if len(allows) > 3 {
			allows = append(allows[:3], "…")
		}
		ch.Detail = "allowed by " + strings.Join(allows, "; ")
	case len(reasons.LayerPolicies(l, in)) == 0:
		ch.Detail = "none"
		if n := c.absentNote(l); n != "" {
			ch.Detail += ": " + n
		}
	case l == authz.Identity:
		ch.Detail = "not needed: the resource-based policy names the caller itself, in the same account"
	case l == authz.Resource:
		ch.Detail = "not needed: in the same account an identity-based policy is enough"
	default:
		ch.Detail = "no statement applies, and none is needed"
	}
	return ch
}

// denies describes the Deny statements of a layer that applied.
func (c *Case) denies(d *authz.Decision, l authz.Layer) []string {
	var out []string
	for _, m := range d.Matched {
		if m.Layer == l && m.Effect == policy.Deny {
			out = append(out, fmt.Sprintf("%s of %s denies %s", reasons.StatementName(m.Statement, m.Sid), c.named(m.Layer, m.Level, m.Policy).Origin, c.Request.Action))
		}
	}
	return out
}

// denyFix says how to lift a Deny: leave the principal out of it (guardrails and
// resource policies), or remove or narrow it (the principal's own policies).
func (c *Case) denyFix(d *authz.Decision, l authz.Layer) (string, string) {
	for _, m := range d.Matched {
		if m.Layer != l || m.Effect != policy.Deny {
			continue
		}
		n := c.named(m.Layer, m.Level, m.Policy)
		st := &n.Policy.Statements[m.Statement]
		switch l {
		case authz.SCP, authz.RCP, authz.Resource, authz.Endpoint:
			ref := principalRef(&c.Request.Caller)
			return fmt.Sprintf("leave %s out of %s of %s with this condition (or detach the policy, or narrow the statement):",
				ref, reasons.StatementName(m.Statement, m.Sid), n.Origin), indentJSON(exempting(st, ref))
		default:
			return fmt.Sprintf("remove %s from %s, or narrow its Action or Resource so that it leaves out %s on %s; it reads:",
				reasons.StatementName(m.Statement, m.Sid), n.Origin, c.Request.Action, c.Request.Resource), indentJSON(StatementOf(st))
		}
	}
	return "", ""
}

// allowFix is the statement that would give the missing Allow, and where it goes.
func (c *Case) allowFix(d *authz.Decision, l authz.Layer) (string, string) {
	req := &c.Request
	caller := &req.Caller
	allow := Statement{Effect: "Allow", Action: req.Action, Resource: fixResources(req)}
	switch l {
	case authz.Identity:
		doc := docOf(allow)
		name := "allow-" + strings.ReplaceAll(req.Action, ":", "-")
		switch {
		case caller.Kind == policy.User:
			return fmt.Sprintf("add this policy to user %s in account %s: aws iam put-user-policy --user-name %s --policy-name %s --policy-document %s",
				caller.Name, caller.Account, caller.Name, name, shellQuote(compact(doc))), doc
		case caller.Kind == policy.AssumedRole:
			return fmt.Sprintf("add this policy to role %s in account %s: aws iam put-role-policy --role-name %s --policy-name %s --policy-document %s",
				caller.RoleName, caller.Account, caller.RoleName, name, shellQuote(compact(doc))), doc
		}
		return "add this statement to the caller's identity policy:", doc
	case authz.PermissionsBoundary:
		b := c.Boundary
		return fmt.Sprintf("add this statement to the boundary %s as a new default version: aws iam create-policy-version --policy-arn %s --set-as-default --policy-document file://boundary.json (the whole new boundary.json:)",
			b.Name, b.ARN), withStatement(b.Text, allow)
	case authz.Session:
		return "the session policy given to AssumeRole must allow it too; add this statement to it:", indentJSON(allow)
	case authz.Endpoint:
		allow.Principal = "*"
		return fmt.Sprintf("add this statement to the policy of VPC endpoint %s: aws ec2 modify-vpc-endpoint --vpc-endpoint-id %s --policy-document file://endpoint.json (the whole new endpoint.json:)",
			c.Endpoint.Name, c.Endpoint.Name), withStatement(c.Endpoint.Text, allow)
	case authz.Resource:
		allow.Principal = map[string]any{"AWS": principalRef(caller)}
		if c.Resource != nil && c.Resource.Policy.Kind == policy.Trust {
			allow.Resource = nil
			return fmt.Sprintf("add this statement to the trust policy of role %s: aws iam update-assume-role-policy --role-name %s --policy-document file://trust.json (the whole new trust.json:)",
				c.Role.Name, c.Role.Name), withStatement(c.Role.Trust, allow)
		}
		if bucket, ok := s3Bucket(req.Resource); ok {
			existing := ""
			if c.Resource != nil {
				existing = c.Resource.Text
			}
			return fmt.Sprintf("the caller is in account %s and the resource in %s, so the bucket policy must allow it too: aws s3api put-bucket-policy --bucket %s --policy file://bucket.json (the whole new bucket.json:)",
				caller.Account, c.ResourceAccount, bucket), withStatement(existing, allow)
		}
		return "the resource's policy must allow the caller; add this statement to it:", indentJSON(allow)
	case authz.SCP, authz.RCP:
		levels, targets, typ := c.Input.SCPs, c.SCPLevels, SCPType
		allowDoc := docOf(Statement{Effect: "Allow", Action: req.Action, Resource: "*"})
		if l == authz.RCP {
			levels, targets, typ = c.Input.RCPs, c.RCPLevels, RCPType
			allowDoc = docOf(Statement{Effect: "Allow", Principal: "*", Action: req.Action, Resource: "*"})
		}
		var missing []string
		for lv := range levels {
			if !reasons.LevelAllows(d, l, lv) {
				missing = append(missing, targets[lv].ID)
			}
		}
		return fmt.Sprintf("every level needs an Allow: attach a policy like this one to %s: aws organizations create-policy --type %s --name allow-%s --description 'allow %s' --content file://allow.json, then aws organizations attach-policy --policy-id ID --target-id %s",
			strings.Join(missing, ", "), typ, strings.ReplaceAll(req.Action, ":", "-"), req.Action, missing[0]), allowDoc
	}
	return "", ""
}

// decideWithoutDenies decides the case as if no Deny statement existed: which layers
// would still lack an Allow. A Deny stops AWS's evaluation early; the doctor wants
// every missing Allow too.
func (c *Case) decideWithoutDenies() *authz.Decision {
	in := c.Input
	strip := func(p *policy.Policy) *policy.Policy {
		if p == nil {
			return nil
		}
		return allowsOnly(p)
	}
	list := func(ps []*policy.Policy) []*policy.Policy {
		var out []*policy.Policy
		for _, p := range ps {
			out = append(out, strip(p))
		}
		return out
	}
	levels := func(ls [][]*policy.Policy) [][]*policy.Policy {
		if ls == nil {
			return nil
		}
		out := make([][]*policy.Policy, len(ls))
		for i, l := range ls {
			out[i] = list(l)
			if out[i] == nil {
				out[i] = []*policy.Policy{}
			}
		}
		return out
	}
	in.Identity, in.Session = list(in.Identity), list(in.Session)
	in.Boundary, in.Resource, in.Endpoint = strip(in.Boundary), strip(in.Resource), strip(in.Endpoint)
	in.SCPs, in.RCPs = levels(in.SCPs), levels(in.RCPs)
	req := cloneRequest(&c.Request)
	d := &authz.Decision{}
	authz.Decide(req, &in, d)
	return d
}

// statementsOf decodes a policy's text: the document and its statements as a list
// (a single statement object counts as a list of one).
func statementsOf(p *policy.Policy) (map[string]any, []any, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(p.Text), &doc); err != nil {
		return nil, nil, err
	}
	switch s := doc["Statement"].(type) {
	case []any:
		return doc, s, nil
	case map[string]any:
		return doc, []any{s}, nil
	}
	return doc, nil, nil
}

// allowsOnly returns the policy without its Deny statements; a policy of only Deny
// statements becomes one whose Allow never applies.
func allowsOnly(p *policy.Policy) *policy.Policy {
	hasDeny := false
	for i := range p.Statements {
		hasDeny = hasDeny || p.Statements[i].Effect == policy.Deny
	}
	if !hasDeny {
		return p
	}
	doc, list, err := statementsOf(p)
	if err != nil {
		return p
	}
	var kept []any
	for _, s := range list {
		if m, ok := s.(map[string]any); ok && m["Effect"] == "Deny" {
			continue
		}
		kept = append(kept, s)
	}
	if len(kept) > 0 {
		doc["Statement"] = kept
		text, _ := json.Marshal(doc)
		if np, err := policy.Parse(text, p.Kind); err == nil {
			return np
		}
		return p
	}
	// An Allow that never applies, in the shape the kind requires.
	for _, drop := range []string{"", "Principal", "Resource"} {
		never := map[string]any{"Effect": "Allow", "Principal": "*", "Action": "sts:IamlocalNever", "Resource": "*"}
		delete(never, drop)
		doc["Statement"] = []any{never}
		text, _ := json.Marshal(doc)
		if np, err := policy.Parse(text, p.Kind); err == nil {
			return np
		}
	}
	return p
}
