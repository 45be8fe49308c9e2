package explain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// Query is a request to explain.
type Query struct {
	Principal       string // ARN; empty for the caller. A role ARN stands for a session of it.
	Action          string
	Resource        string
	ResourceAccount string              // overrides the account found from the ARN or the bucket's owner
	Context         map[string][]string // request context keys, over the ones gathered
	SourceVpce      string              // the request comes through this VPC endpoint
	SessionPolicies []string            // session policy documents of the principal's session
	Region          string              // aws:RequestedRegion
	Now             time.Time
}

// Named is one policy of a layer, with where it comes from.
type Named struct {
	Doc
	Origin string  // "inline policy "s3" of user alice", "SCP deny-s3 (p-…) attached to OU dev"
	Target *Target // SCP and RCP: where it is attached
	Policy *policy.Policy
}

// Case is a request with every policy that applies to it, gathered and named. The
// slices run parallel to Input's, so that authz.Matched indexes name policies.
type Case struct {
	Query
	Request policy.Request
	Input   authz.Input

	Identity   []Named
	Boundary   *Named
	Session    []Named
	Resource   *Named
	Endpoint   *Named
	SCPs, RCPs [][]Named
	SCPLevels  []Target // the target of each SCP level: root, OUs, account
	RCPLevels  []Target

	Org              *Org
	PrincipalAccount string
	ResourceAccount  string
	Principal        *Entity // the caller's user or role; nil for root and federated users
	Role             *Entity // sts:AssumeRole…: the role of the resource, when it exists
	RoleMissing      bool    // sts:AssumeRole…: the role does not exist
	RoleErr          error   // sts:AssumeRole…: the role could not be read

	Notes    []string // facts that shaped the decision ("the management account is exempt")
	Warnings []string // what could not be read
}

// Decide runs the case through the engine.
func (c *Case) Decide() *authz.Decision {
	d := &authz.Decision{}
	authz.Decide(&c.Request, &c.Input, d)
	return d
}

func (c *Case) warn(format string, args ...any) {
	c.Warnings = append(c.Warnings, fmt.Sprintf(format, args...))
}
func (c *Case) note(format string, args ...any) {
	c.Notes = append(c.Notes, fmt.Sprintf(format, args...))
}

// SessionName is the session explain gives a role named as principal.
const SessionName = "iamlocal-explain"

// ParsePrincipal reads a principal ARN; a role ARN stands for a session of the role,
// an OIDC provider ARN (or a provider AWS federates with built in, such as
// accounts.google.com) for a web identity it vouches for.
func ParsePrincipal(s string) (policy.Caller, error) {
	if c, ok := webIdentityCaller(s); ok {
		return c, nil // webidentity.go
	}
	if parts := strings.SplitN(s, ":", 6); len(parts) == 6 && parts[2] == "iam" && strings.HasPrefix(parts[5], "role/") {
		name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
		c, err := policy.ParseCaller(fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", parts[1], parts[4], name, SessionName))
		if err != nil {
			return c, err
		}
		c.RoleArn = s
		return c, nil
	}
	return policy.ParseCaller(s)
}

// ArnAccount returns the account field of an ARN, or "".
func ArnAccount(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		return parts[4]
	}
	return ""
}

// s3Bucket returns the bucket of an S3 bucket or object ARN.
func s3Bucket(resource string) (string, bool) {
	parts := strings.SplitN(resource, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "s3" || parts[3] != "" || parts[4] != "" || parts[5] == "" {
		return "", false
	}
	b, _, _ := strings.Cut(parts[5], "/")
	return b, b != ""
}

// Gather reads every layer that applies to q and prepares the engine's input.
func Gather(ctx context.Context, src Source, q Query) (*Case, error) {
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	c := &Case{Query: q}
	req := &c.Request
	req.Action, req.Resource = q.Action, q.Resource
	req.Context = policy.Context{}
	if strings.Count(q.Action, ":") != 1 || strings.ContainsAny(q.Action, "*? ") {
		return nil, fmt.Errorf("action %q: want one action such as s3:GetObject", q.Action)
	}
	if q.Resource == "" {
		return nil, errors.New("a resource is required (an ARN, or * for actions without one)")
	}
	if q.Principal == "" {
		id, err := src.CallerIdentity(ctx)
		if err != nil {
			return nil, err
		}
		q.Principal, c.Query.Principal = id.Arn, id.Arn
	}
	caller, err := ParsePrincipal(q.Principal)
	if err != nil {
		return nil, fmt.Errorf("principal: %w", err)
	}
	req.Caller = caller
	c.PrincipalAccount = caller.Account

	org, err := src.Organization(ctx)
	if err != nil {
		c.warn("the organization could not be read, so SCPs and RCPs are left out: %v", err)
	}
	c.Org = org
	if org != nil && org.Unreadable != "" {
		c.warn("the organization's policies could not be read, so SCPs and RCPs are left out: %s", org.Unreadable)
	}

	if err := c.principalSide(ctx, src); err != nil {
		return nil, err
	}
	c.resourceSide(ctx, src)
	if err := c.endpoint(ctx, src); err != nil {
		return nil, err
	}
	for i, doc := range q.SessionPolicies {
		p, err := policy.Parse([]byte(doc), policy.Session)
		if err != nil {
			return nil, fmt.Errorf("session policy %d: %w", i+1, err)
		}
		c.Session = append(c.Session, Named{Doc: Doc{Name: fmt.Sprintf("session policy %d", i+1), Text: doc}, Origin: fmt.Sprintf("session policy %d (given with --session-policy)", i+1), Policy: p})
		c.Input.Session = append(c.Input.Session, p)
	}
	if caller.Kind == policy.AssumedRole && len(q.SessionPolicies) == 0 {
		c.note("session policies of a role session are not visible through AWS's APIs; give them with --session-policy if the session has some")
	}

	// The keys every request carries, then the caller's own.
	set := func(k string, v ...string) {
		if _, ok := req.Context[strings.ToLower(k)]; !ok {
			req.Context.Set(k, v...)
		}
	}
	set("aws:CurrentTime", q.Now.UTC().Format(time.RFC3339))
	set("aws:EpochTime", strconv.FormatInt(q.Now.Unix(), 10))
	set("aws:SecureTransport", "true")
	set("aws:ViaAWSService", "false")
	if q.Region != "" {
		set("aws:RequestedRegion", q.Region)
	}
	for k, v := range q.Context {
		req.Context.Set(k, v...)
	}
	if q.SourceVpce != "" {
		delete(req.Context, "aws:sourceip") // AWS sets aws:SourceVpce instead
	}
	req.Prepare()
	return c, nil
}

// principalSide reads the caller's identity policies, boundary, tags and SCP levels.
func (c *Case) principalSide(ctx context.Context, src Source) error {
	caller := &c.Request.Caller
	rctx := c.Request.Context
	if caller.Kind == policy.WebIdentity {
		return nil // an identity provider has no policies of its own, and SCPs do not limit it
	}
	switch caller.Kind {
	case policy.User:
		u, err := src.User(ctx, caller.Account, caller.Name)
		if err != nil {
			return fmt.Errorf("principal %s: %w", caller.Arn, err)
		}
		if u.Arn != "" && u.Arn != caller.Arn {
			// The user has a path; its ARN carries it.
			caller.Arn = u.Arn
			c.Query.Principal = u.Arn
		}
		c.Principal = u
		c.addEntity(u)
		rctx.Set("aws:userid", u.ID)
	case policy.AssumedRole:
		r, err := src.Role(ctx, caller.Account, caller.RoleName)
		if err != nil {
			return fmt.Errorf("principal %s: role %s: %w", caller.Arn, caller.RoleName, err)
		}
		c.Principal = r
		if r.Arn != "" {
			caller.RoleArn = r.Arn
		}
		c.addEntity(r)
		if r.ID != "" {
			rctx.Set("aws:userid", r.ID+":"+caller.Name)
		}
		if strings.HasPrefix(r.Path, "/aws-service-role/") {
			c.Input.ServiceLinkedRole = true
			c.note("%s is a service-linked role: SCPs and RCPs do not limit it", r.Arn)
		}
	case policy.RootUser:
		c.note("the root user has every permission of its own account; only SCPs (in a member account) and other accounts' policies limit it")
	case policy.FederatedUser:
		c.warn("a federated user's permissions are its session policy (GetFederationToken); give it with --session-policy")
	}
	if c.Org == nil || c.Org.Unreadable != "" {
		return nil
	}
	levels, targets, member, err := c.orgLevels(ctx, src, caller.Account, SCPType, policy.SCP)
	if err != nil {
		c.warn("SCPs of account %s could not be read: %v", caller.Account, err)
		return nil
	}
	if !member {
		c.note("account %s is not in the organization %s: no SCPs apply", caller.Account, c.Org.ID)
		return nil
	}
	c.SCPs, c.SCPLevels = levels, targets
	c.Input.SCPs = policies(levels)
	c.Input.ManagementAccount = caller.Account == c.Org.ManagementAccount
	var path []string
	for _, t := range targets[:len(targets)-1] {
		path = append(path, t.ID)
	}
	rctx.Set("aws:PrincipalOrgID", c.Org.ID)
	rctx.Set("aws:PrincipalOrgPaths", c.Org.ID+"/"+strings.Join(path, "/")+"/")
	return nil
}

// addEntity adds a user's or role's identity policies (inline, attached, then its
// groups'), its boundary and its tags, in the order the server evaluates them.
func (c *Case) addEntity(e *Entity) {
	add := func(d Doc, origin string) {
		p, err := policy.Parse([]byte(d.Text), policy.Identity)
		if err != nil {
			c.warn("%s is left out: %v", origin, err)
			return
		}
		c.Identity = append(c.Identity, Named{Doc: d, Origin: origin, Policy: p})
		c.Input.Identity = append(c.Input.Identity, p)
	}
	for _, d := range e.Inline {
		add(d, fmt.Sprintf("inline policy %q of %s %s", d.Name, e.Kind, e.Name))
	}
	for _, d := range e.Attached {
		add(d, fmt.Sprintf("managed policy %s attached to %s %s", d.Name, e.Kind, e.Name))
	}
	for _, g := range e.Groups {
		for _, d := range g.Inline {
			add(d, fmt.Sprintf("inline policy %q of group %s", d.Name, g.Name))
		}
		for _, d := range g.Attached {
			add(d, fmt.Sprintf("managed policy %s attached to group %s", d.Name, g.Name))
		}
	}
	if e.Boundary != nil {
		origin := fmt.Sprintf("permissions boundary %s of %s %s", e.Boundary.Name, e.Kind, e.Name)
		p, err := policy.Parse([]byte(e.Boundary.Text), policy.Boundary)
		if err != nil {
			c.warn("%s is left out: %v", origin, err)
		} else {
			c.Boundary = &Named{Doc: *e.Boundary, Origin: origin, Policy: p}
			c.Input.Boundary = p
		}
	}
	for _, t := range e.Tags {
		c.Request.Context.Set("aws:PrincipalTag/"+t.Key, t.Value)
	}
}

func policies(levels [][]Named) [][]*policy.Policy {
	if levels == nil {
		return nil // outside the organization, or the type is not enabled
	}
	out := make([][]*policy.Policy, len(levels))
	for i, lv := range levels {
		out[i] = []*policy.Policy{}
		for _, n := range lv {
			out[i] = append(out[i], n.Policy)
		}
	}
	return out
}

// orgLevels reads the policies of a type at every level above and at an account.
// member is false when the account is outside the organization; levels are nil when
// the type is not enabled.
func (c *Case) orgLevels(ctx context.Context, src Source, account, typ string, kind policy.Kind) (levels [][]Named, targets []Target, member bool, err error) {
	return OrgLevels(ctx, src, c.Org, account, typ, kind, c.warn)
}

// OrgLevels reads the policies of a type at every level from the root through the
// OUs to an account. member is false when the account is outside the organization;
// levels are nil when the type is not enabled. Policies that do not parse are left
// out and reported to warn.
func OrgLevels(ctx context.Context, src Source, org *Org, account, typ string, kind policy.Kind, warn func(string, ...any)) (levels [][]Named, targets []Target, member bool, err error) {
	parents, err := src.Parents(ctx, account)
	if err != nil || len(parents) == 0 {
		return nil, nil, false, err
	}
	targets = append(parents, Target{ID: account, Kind: "account"})
	if !org.Enabled(typ) {
		return nil, targets, true, nil
	}
	short := map[string]string{SCPType: "SCP", RCPType: "RCP"}[typ]
	for _, t := range targets {
		docs, err := src.OrgPolicies(ctx, t.ID, typ)
		if err != nil {
			return nil, nil, true, err
		}
		level := []Named{}
		for _, d := range docs {
			t := t
			origin := fmt.Sprintf("%s %s (%s) attached to %s", short, d.Name, d.ID, targetName(t))
			p, err := policy.Parse([]byte(d.Text), kind)
			if err != nil {
				warn("%s is left out: %v", origin, err)
				continue
			}
			level = append(level, Named{Doc: d, Origin: origin, Target: &t, Policy: p})
		}
		levels = append(levels, level)
	}
	return levels, targets, true, nil
}

func targetName(t Target) string {
	switch t.Kind {
	case "root":
		return "the root " + t.ID
	case "ou":
		if t.Name != "" {
			return fmt.Sprintf("OU %s (%s)", t.Name, t.ID)
		}
		return "OU " + t.ID
	}
	if t.Name != "" {
		return fmt.Sprintf("account %s (%s)", t.ID, t.Name)
	}
	return "account " + t.ID
}

// resourceSide finds the resource's account, its policy and its RCP levels.
func (c *Case) resourceSide(ctx context.Context, src Source) {
	req := &c.Request
	account := c.Query.ResourceAccount
	if account == "" {
		account = ArnAccount(req.Resource)
	}
	bucket, isS3 := s3Bucket(req.Resource)
	ownerUnknown := false
	if isS3 && account == "" {
		account = c.bucketOwner(ctx, src, bucket)
		ownerUnknown = account == ""
	}
	if account == "" {
		account = req.Caller.Account
	}
	c.ResourceAccount, req.ResourceAccount = account, account

	switch {
	case authz.IsTrustRequest(req.Action, req.Resource):
		c.trustPolicy(ctx, src)
	case isS3 && ownerUnknown:
		// bucketOwner said so
	case isS3:
		doc, err := src.BucketPolicy(ctx, account, bucket)
		switch {
		case errors.Is(err, ErrNotFound):
			c.note("bucket %s does not exist in account %s", bucket, account)
		case err != nil:
			c.warn("the policy of bucket %s could not be read: %v", bucket, err)
		case doc == "":
			c.note("bucket %s has no bucket policy", bucket)
		default:
			c.setResource(Doc{Name: bucket, Text: doc}, "bucket policy of "+bucket, policy.Resource)
		}
	case req.Resource != "*":
		c.note("explain reads the resource-based policies of IAM roles (trust) and S3 buckets; this resource's policy, if it has one, is not considered")
	}

	if c.Org == nil || c.Org.Unreadable != "" {
		return
	}
	levels, targets, member, err := c.orgLevels(ctx, src, account, RCPType, policy.RCP)
	if err != nil {
		c.warn("RCPs of account %s could not be read: %v", account, err)
		return
	}
	if !member {
		return
	}
	c.RCPs, c.RCPLevels = levels, targets
	c.Input.RCPs = policies(levels)
	c.Input.ResourceManagement = account == c.Org.ManagementAccount
	req.Context.Set("aws:ResourceOrgID", c.Org.ID)
}

func (c *Case) setResource(d Doc, origin string, kind policy.Kind) {
	p, err := policy.Parse([]byte(d.Text), kind)
	if err != nil {
		c.warn("%s is left out: %v", origin, err)
		return
	}
	c.Resource = &Named{Doc: d, Origin: origin, Policy: p}
	c.Input.Resource = p
}

// trustPolicy reads the role of an sts:AssumeRole… request and its trust policy.
func (c *Case) trustPolicy(ctx context.Context, src Source) {
	arn := c.Request.Resource
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	r, err := src.Role(ctx, c.ResourceAccount, name)
	switch {
	case errors.Is(err, ErrNotFound):
		c.RoleMissing = true
		c.note("role %s does not exist in account %s", name, c.ResourceAccount)
		return
	case err != nil:
		c.RoleErr = err
		c.warn("role %s could not be read, so its trust policy is left out: %v", arn, err)
		return
	}
	c.Role = r
	if r.Arn != arn {
		c.note("the role's ARN is %s: AssumeRole needs it exactly, path included", r.Arn)
		return
	}
	c.setResource(Doc{Name: r.Name, ARN: r.Arn, Text: r.Trust}, "trust policy of role "+r.Name, policy.Trust)
}

// bucketOwner finds the account that owns a bucket: the principal's, the caller's,
// then the organization's accounts.
func (c *Case) bucketOwner(ctx context.Context, src Source, bucket string) string {
	var candidates []string
	seen := map[string]bool{}
	add := func(a string) {
		if a != "" && !seen[a] {
			seen[a] = true
			candidates = append(candidates, a)
		}
	}
	add(c.Request.Caller.Account)
	if id, err := src.CallerIdentity(ctx); err == nil {
		add(id.Account)
	}
	if c.Org != nil && c.Org.Unreadable == "" {
		if accts, err := src.Accounts(ctx); err == nil {
			for _, a := range accts {
				add(a.ID)
			}
		}
	}
	var errs []string
	for _, a := range candidates {
		names, err := src.Buckets(ctx, a)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, n := range names {
			if n == bucket {
				return a
			}
		}
	}
	msg := fmt.Sprintf("bucket %s is not in the accounts read (%s), so its policy is left out and the principal's account stands for the resource's; --resource-account names its owner",
		bucket, strings.Join(candidates, ", "))
	if len(errs) > 0 {
		msg += "; " + strings.Join(errs, "; ")
	}
	c.warn("%s", msg)
	return ""
}

// endpoint reads the policy of the VPC endpoint the request comes through.
func (c *Case) endpoint(ctx context.Context, src Source) error {
	id := c.Query.SourceVpce
	if id == "" {
		return nil
	}
	c.Request.Context.Set("aws:SourceVpce", id)
	doc, err := src.EndpointPolicy(ctx, c.Request.Caller.Account, id)
	if errors.Is(err, ErrNotFound) {
		if caller, cerr := src.CallerIdentity(ctx); cerr == nil && caller.Account != c.Request.Caller.Account {
			doc, err = src.EndpointPolicy(ctx, caller.Account, id)
		}
	}
	if err != nil {
		return fmt.Errorf("--source-vpce %s: %w", id, err)
	}
	origin := "policy of VPC endpoint " + id
	if doc == "" {
		doc = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
		origin += " (the default: full access)"
	}
	p, err := policy.Parse([]byte(doc), policy.Endpoint)
	if err != nil {
		return fmt.Errorf("%s: %w", origin, err)
	}
	c.Endpoint = &Named{Doc: Doc{Name: id, Text: doc}, Origin: origin, Policy: p}
	c.Input.Endpoint = p
	return nil
}
