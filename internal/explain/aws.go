package explain

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/broker"
)

// DefaultRoleName is the role explain assumes to read another account.
const DefaultRoleName = "OrganizationAccountAccessRole"

// AWS is a Source over aws-sdk-go-v2 clients: the caller's credentials for the
// caller's own account, and a role (RoleName) assumed from them for any other.
// It caches what does not change during one command. It is safe for concurrent use.
type AWS struct {
	cfg      aws.Config
	roleName string

	mu       sync.Mutex
	caller   *Identity
	configs  map[string]aws.Config
	failures map[string]error
	managed  map[string]Doc // managed policy ARN → default version
	orgDocs  map[string]Doc // organization policy id → document
	parents  map[string][]Target
	ouNames  map[string]string
	regions  map[string]string // bucket → region
	org      *Org
	orgRead  bool
}

// NewAWS returns a Source acting with cfg's credentials, and in other accounts
// through the role roleName (DefaultRoleName when empty).
func NewAWS(cfg aws.Config, roleName string) *AWS {
	if roleName == "" {
		roleName = DefaultRoleName
	}
	return &AWS{cfg: cfg, roleName: roleName, configs: map[string]aws.Config{}, failures: map[string]error{},
		managed: map[string]Doc{}, orgDocs: map[string]Doc{}, parents: map[string][]Target{}, ouNames: map[string]string{},
		regions: map[string]string{}}
}

// APIError is a failed call to AWS, said in one line: what was attempted, AWS's
// error code and message.
type APIError struct {
	What     string
	Err      error
	notFound bool
}

func (e *APIError) Error() string {
	var ae smithy.APIError
	if errors.As(e.Err, &ae) {
		return fmt.Sprintf("%s: %s: %s", e.What, ae.ErrorCode(), ae.ErrorMessage())
	}
	return e.What + ": " + e.Err.Error()
}

func (e *APIError) Unwrap() []error {
	if e.notFound {
		return []error{e.Err, ErrNotFound}
	}
	return []error{e.Err}
}

// Code is AWS's error code, or "".
func (e *APIError) Code() string { return ErrorCode(e.Err) }

// ErrorCode returns the AWS error code inside err, or "".
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var notFoundCodes = map[string]bool{
	"NoSuchEntity": true, "NoSuchBucket": true, "InvalidVpcEndpointId.NotFound": true,
	"ChildNotFoundException": true, "AccountNotFoundException": true, "NotFound": true,
}

func apiErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &APIError{What: fmt.Sprintf(format, args...), Err: err, notFound: notFoundCodes[ErrorCode(err)]}
}

func isAccessDenied(err error) bool {
	c := ErrorCode(err)
	return c == "AccessDenied" || c == "AccessDeniedException" || c == "UnauthorizedOperation"
}

// CallerIdentity calls sts:GetCallerIdentity once.
func (a *AWS) CallerIdentity(ctx context.Context) (*Identity, error) {
	a.mu.Lock()
	c := a.caller
	a.mu.Unlock()
	if c != nil {
		return c, nil
	}
	out, err := sts.NewFromConfig(a.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, apiErr(err, "sts GetCallerIdentity")
	}
	c = &Identity{Arn: aws.ToString(out.Arn), Account: aws.ToString(out.Account), UserID: aws.ToString(out.UserId)}
	a.mu.Lock()
	a.caller = c
	a.mu.Unlock()
	return c, nil
}

// config returns credentials that act in account: the caller's own, or the role's.
func (a *AWS) config(ctx context.Context, account string) (aws.Config, error) {
	caller, err := a.CallerIdentity(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	if account == "" || account == caller.Account {
		return a.cfg, nil
	}
	a.mu.Lock()
	cfg, ok := a.configs[account]
	failed := a.failures[account]
	a.mu.Unlock()
	if ok {
		return cfg, nil
	}
	if failed != nil {
		return aws.Config{}, failed
	}
	roleArn := fmt.Sprintf("arn:aws:iam::%s:role/%s", account, a.roleName)
	creds, err := broker.Assume(ctx, a.cfg, broker.AssumeOptions{RoleArns: []string{roleArn}, SessionName: "iamlocal-explain"})
	if err != nil {
		err = &APIError{What: fmt.Sprintf("read account %s through role %s (see `iamlocal doctor assume-role --role-arn %s`; --role-name picks another role)",
			account, a.roleName, roleArn), Err: err}
		a.mu.Lock()
		a.failures[account] = err
		a.mu.Unlock()
		return aws.Config{}, err
	}
	cfg = a.cfg.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	a.mu.Lock()
	a.configs[account] = cfg
	a.mu.Unlock()
	return cfg, nil
}

func (a *AWS) iam(ctx context.Context, account string) (*iam.Client, error) {
	cfg, err := a.config(ctx, account)
	if err != nil {
		return nil, err
	}
	return iam.NewFromConfig(cfg), nil
}

// decodeDoc undoes IAM's URL encoding of policy documents.
func decodeDoc(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// managedDoc reads a managed policy's default version (cached by ARN).
func (a *AWS) managedDoc(ctx context.Context, client *iam.Client, arn string) (Doc, error) {
	a.mu.Lock()
	d, ok := a.managed[arn]
	a.mu.Unlock()
	if ok {
		return d, nil
	}
	p, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return Doc{}, apiErr(err, "iam GetPolicy %s", arn)
	}
	v, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return Doc{}, apiErr(err, "iam GetPolicyVersion %s %s", arn, aws.ToString(p.Policy.DefaultVersionId))
	}
	d = Doc{Name: aws.ToString(p.Policy.PolicyName), ARN: arn, Text: decodeDoc(aws.ToString(v.PolicyVersion.Document))}
	a.mu.Lock()
	a.managed[arn] = d
	a.mu.Unlock()
	return d, nil
}

func (a *AWS) attachedDocs(ctx context.Context, client *iam.Client, attached []iamtypes.AttachedPolicy) ([]Doc, error) {
	var out []Doc
	for _, ap := range attached {
		d, err := a.managedDoc(ctx, client, aws.ToString(ap.PolicyArn))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func tagsOf(ts []iamtypes.Tag) []Tag {
	var out []Tag
	for _, t := range ts {
		out = append(out, Tag{aws.ToString(t.Key), aws.ToString(t.Value)})
	}
	return out
}

func (a *AWS) boundary(ctx context.Context, client *iam.Client, b *iamtypes.AttachedPermissionsBoundary) (*Doc, error) {
	if b == nil || aws.ToString(b.PermissionsBoundaryArn) == "" {
		return nil, nil
	}
	d, err := a.managedDoc(ctx, client, aws.ToString(b.PermissionsBoundaryArn))
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// User reads a user with its inline, attached and groups' policies and its boundary.
func (a *AWS) User(ctx context.Context, account, name string) (*Entity, error) {
	client, err := a.iam(ctx, account)
	if err != nil {
		return nil, err
	}
	u, err := client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if err != nil {
		return nil, apiErr(err, "iam GetUser %s in %s", name, account)
	}
	e := &Entity{Kind: "user", Account: account, Name: aws.ToString(u.User.UserName), Arn: aws.ToString(u.User.Arn),
		ID: aws.ToString(u.User.UserId), Path: aws.ToString(u.User.Path), Tags: tagsOf(u.User.Tags)}
	if e.Boundary, err = a.boundary(ctx, client, u.User.PermissionsBoundary); err != nil {
		return nil, err
	}
	var names []string
	for p := iam.NewListUserPoliciesPaginator(client, &iam.ListUserPoliciesInput{UserName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiErr(err, "iam ListUserPolicies %s", name)
		}
		names = append(names, page.PolicyNames...)
	}
	sort.Strings(names)
	for _, pn := range names {
		out, err := client.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil {
			return nil, apiErr(err, "iam GetUserPolicy %s %s", name, pn)
		}
		e.Inline = append(e.Inline, Doc{Name: pn, Text: decodeDoc(aws.ToString(out.PolicyDocument))})
	}
	var attached []iamtypes.AttachedPolicy
	for p := iam.NewListAttachedUserPoliciesPaginator(client, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiErr(err, "iam ListAttachedUserPolicies %s", name)
		}
		attached = append(attached, page.AttachedPolicies...)
	}
	if e.Attached, err = a.attachedDocs(ctx, client, attached); err != nil {
		return nil, err
	}
	for p := iam.NewListGroupsForUserPaginator(client, &iam.ListGroupsForUserInput{UserName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiErr(err, "iam ListGroupsForUser %s", name)
		}
		for _, g := range page.Groups {
			grp, err := a.group(ctx, client, aws.ToString(g.GroupName), aws.ToString(g.Arn))
			if err != nil {
				return nil, err
			}
			e.Groups = append(e.Groups, *grp)
		}
	}
	return e, nil
}

func (a *AWS) group(ctx context.Context, client *iam.Client, name, arn string) (*Group, error) {
	g := &Group{Name: name, Arn: arn}
	var names []string
	for p := iam.NewListGroupPoliciesPaginator(client, &iam.ListGroupPoliciesInput{GroupName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiErr(err, "iam ListGroupPolicies %s", name)
		}
		names = append(names, page.PolicyNames...)
	}
	sort.Strings(names)
	for _, pn := range names {
		out, err := client.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil {
			return nil, apiErr(err, "iam GetGroupPolicy %s %s", name, pn)
		}
		g.Inline = append(g.Inline, Doc{Name: pn, Text: decodeDoc(aws.ToString(out.PolicyDocument))})
	}
	var attached []iamtypes.AttachedPolicy
	for p := iam.NewListAttachedGroupPoliciesPaginator(client, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiErr(err, "iam ListAttachedGroupPolicies %s", name)
		}
		attached = append(attached, page.AttachedPolicies...)
	}
	var err error
	g.Attached, err = a.attachedDocs(ctx, client, attached)
	return g, err
}

// Role reads a role with its trust policy, inline and attached policies and boundary.
func (a *AWS) Role(ctx context.Context, account, name string) (*Entity, error) {
	client, err := a.iam(ctx, account)
	if err != nil {
		return nil, err
	}
	r, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, apiErr(err, "iam GetRole %s in %s", name, account)
	}
	e := &Entity{Kind: "role", Account: account, Name: aws.ToString(r.Role.RoleName), Arn: aws.ToString(r.Role.Arn),
		ID: aws.ToString(r.Role.RoleId), Path: aws.ToString(r.Role.Path), Tags: tagsOf(r.Role.Tags),
		Trust: decodeDoc(aws.ToString(r.Role.AssumeRolePolicyDocument)), MaxSessionDuration: aws.ToInt32(r.Role.MaxSessionDuration)}
	if e.MaxSessionDuration == 0 {
		e.MaxSessionDuration = 3600
	}
	if e.Boundary, err = a.boundary(ctx, client, r.Role.PermissionsBoundary); err != nil {
		return nil, err
	}
	var names []string
	for p := iam.NewListRolePoliciesPaginator(client, &iam.ListRolePoliciesInput{RoleName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiErr(err, "iam ListRolePolicies %s", name)
		}
		names = append(names, page.PolicyNames...)
	}
	sort.Strings(names)
	for _, pn := range names {
		out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil {
			return nil, apiErr(err, "iam GetRolePolicy %s %s", name, pn)
		}
		e.Inline = append(e.Inline, Doc{Name: pn, Text: decodeDoc(aws.ToString(out.PolicyDocument))})
	}
	var attached []iamtypes.AttachedPolicy
	for p := iam.NewListAttachedRolePoliciesPaginator(client, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiErr(err, "iam ListAttachedRolePolicies %s", name)
		}
		attached = append(attached, page.AttachedPolicies...)
	}
	if e.Attached, err = a.attachedDocs(ctx, client, attached); err != nil {
		return nil, err
	}
	return e, nil
}

// Details reads an account's users, groups, roles and policies in one paginated
// GetAccountAuthorizationDetails.
func (a *AWS) Details(ctx context.Context, account string) (*Details, error) {
	client, err := a.iam(ctx, account)
	if err != nil {
		return nil, err
	}
	var users []iamtypes.UserDetail
	var roles []iamtypes.RoleDetail
	groups := map[string]iamtypes.GroupDetail{}
	policies := map[string]Doc{}
	for p := iam.NewGetAccountAuthorizationDetailsPaginator(client, &iam.GetAccountAuthorizationDetailsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiErr(err, "iam GetAccountAuthorizationDetails in %s", account)
		}
		users = append(users, page.UserDetailList...)
		roles = append(roles, page.RoleDetailList...)
		for _, g := range page.GroupDetailList {
			groups[aws.ToString(g.GroupName)] = g
		}
		for _, mp := range page.Policies {
			for _, v := range mp.PolicyVersionList {
				if v.IsDefaultVersion {
					policies[aws.ToString(mp.Arn)] = Doc{Name: aws.ToString(mp.PolicyName), ARN: aws.ToString(mp.Arn), Text: decodeDoc(aws.ToString(v.Document))}
				}
			}
		}
	}
	docs := func(list []iamtypes.AttachedPolicy) ([]Doc, error) {
		var out []Doc
		for _, ap := range list {
			d, ok := policies[aws.ToString(ap.PolicyArn)]
			if !ok {
				var err error
				if d, err = a.managedDoc(ctx, client, aws.ToString(ap.PolicyArn)); err != nil {
					return nil, err
				}
			}
			out = append(out, d)
		}
		return out, nil
	}
	inline := func(list []iamtypes.PolicyDetail) []Doc {
		var out []Doc
		for _, p := range list {
			out = append(out, Doc{Name: aws.ToString(p.PolicyName), Text: decodeDoc(aws.ToString(p.PolicyDocument))})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
		return out
	}
	boundary := func(b *iamtypes.AttachedPermissionsBoundary) (*Doc, error) {
		if b == nil || aws.ToString(b.PermissionsBoundaryArn) == "" {
			return nil, nil
		}
		d, err := docs([]iamtypes.AttachedPolicy{{PolicyArn: b.PermissionsBoundaryArn}})
		if err != nil {
			return nil, err
		}
		return &d[0], nil
	}
	out := &Details{Account: account}
	for _, u := range users {
		e := &Entity{Kind: "user", Account: account, Name: aws.ToString(u.UserName), Arn: aws.ToString(u.Arn), ID: aws.ToString(u.UserId),
			Path: aws.ToString(u.Path), Tags: tagsOf(u.Tags), Inline: inline(u.UserPolicyList)}
		if e.Attached, err = docs(u.AttachedManagedPolicies); err != nil {
			return nil, err
		}
		if e.Boundary, err = boundary(u.PermissionsBoundary); err != nil {
			return nil, err
		}
		for _, gn := range u.GroupList {
			g, ok := groups[gn]
			if !ok {
				continue
			}
			grp := Group{Name: gn, Arn: aws.ToString(g.Arn), Inline: inline(g.GroupPolicyList)}
			if grp.Attached, err = docs(g.AttachedManagedPolicies); err != nil {
				return nil, err
			}
			e.Groups = append(e.Groups, grp)
		}
		out.Users = append(out.Users, e)
	}
	for _, r := range roles {
		e := &Entity{Kind: "role", Account: account, Name: aws.ToString(r.RoleName), Arn: aws.ToString(r.Arn), ID: aws.ToString(r.RoleId),
			Path: aws.ToString(r.Path), Tags: tagsOf(r.Tags), Inline: inline(r.RolePolicyList),
			Trust: decodeDoc(aws.ToString(r.AssumeRolePolicyDocument)), MaxSessionDuration: 3600}
		if e.Attached, err = docs(r.AttachedManagedPolicies); err != nil {
			return nil, err
		}
		if e.Boundary, err = boundary(r.PermissionsBoundary); err != nil {
			return nil, err
		}
		out.Roles = append(out.Roles, e)
	}
	return out, nil
}

// orgCall runs an Organizations call as the caller and, when the caller's account
// may not (a member account), again from the management account.
func (a *AWS) orgCall(ctx context.Context, fn func(*organizations.Client) error) error {
	err := fn(organizations.NewFromConfig(a.cfg))
	if err == nil || !isAccessDenied(err) {
		return err
	}
	org, oerr := a.Organization(ctx)
	caller, cerr := a.CallerIdentity(ctx)
	if oerr != nil || cerr != nil || org == nil || org.ManagementAccount == caller.Account {
		return err
	}
	cfg, cfgErr := a.config(ctx, org.ManagementAccount)
	if cfgErr != nil {
		return err
	}
	return fn(organizations.NewFromConfig(cfg))
}

// Organization describes the caller's organization and the policy types enabled.
func (a *AWS) Organization(ctx context.Context) (*Org, error) {
	a.mu.Lock()
	if a.orgRead {
		o := a.org
		a.mu.Unlock()
		return o, nil
	}
	a.mu.Unlock()
	out, err := organizations.NewFromConfig(a.cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		var nu *orgtypes.AWSOrganizationsNotInUseException
		if errors.As(err, &nu) {
			a.mu.Lock()
			a.org, a.orgRead = nil, true
			a.mu.Unlock()
			return nil, nil
		}
		return nil, apiErr(err, "organizations DescribeOrganization")
	}
	o := &Org{ID: aws.ToString(out.Organization.Id), ManagementAccount: aws.ToString(out.Organization.MasterAccountId)}
	a.mu.Lock()
	a.org, a.orgRead = o, true // orgCall below reads it
	a.mu.Unlock()
	var roots []orgtypes.Root
	err = a.orgCall(ctx, func(c *organizations.Client) error {
		roots = nil
		for p := organizations.NewListRootsPaginator(c, &organizations.ListRootsInput{}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			roots = append(roots, page.Roots...)
		}
		return nil
	})
	if err != nil {
		// A member account may read its organization but not its policies.
		o.Unreadable = apiErr(err, "organizations ListRoots").Error()
	}
	for _, r := range roots {
		o.RootID = aws.ToString(r.Id)
		for _, pt := range r.PolicyTypes {
			if pt.Status == orgtypes.PolicyTypeStatusEnabled {
				o.EnabledTypes = append(o.EnabledTypes, string(pt.Type))
			}
		}
	}
	return o, nil
}

// Accounts lists the organization's accounts.
func (a *AWS) Accounts(ctx context.Context) ([]Account, error) {
	var out []Account
	err := a.orgCall(ctx, func(c *organizations.Client) error {
		out = nil
		for p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, acc := range page.Accounts {
				out = append(out, Account{ID: aws.ToString(acc.Id), Name: aws.ToString(acc.Name), JoinedMethod: string(acc.JoinedMethod)})
			}
		}
		return nil
	})
	return out, apiErr(err, "organizations ListAccounts")
}

// Parents walks ListParents from the account up to the root.
func (a *AWS) Parents(ctx context.Context, account string) ([]Target, error) {
	a.mu.Lock()
	cached, ok := a.parents[account]
	a.mu.Unlock()
	if ok {
		return cached, nil
	}
	var chain []Target
	child := account
	for depth := 0; depth < 10; depth++ {
		var parents []orgtypes.Parent
		err := a.orgCall(ctx, func(c *organizations.Client) error {
			out, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
			if err == nil {
				parents = out.Parents
			}
			return err
		})
		if err != nil {
			if child == account && notFoundCodes[ErrorCode(err)] {
				return nil, nil // not a member
			}
			return nil, apiErr(err, "organizations ListParents %s", child)
		}
		if len(parents) == 0 {
			break
		}
		p := parents[0]
		t := Target{ID: aws.ToString(p.Id), Kind: "ou"}
		if p.Type == orgtypes.ParentTypeRoot {
			t.Kind, t.Name = "root", "Root"
		} else {
			t.Name = a.ouName(ctx, t.ID)
		}
		chain = append([]Target{t}, chain...)
		if t.Kind == "root" {
			break
		}
		child = t.ID
	}
	a.mu.Lock()
	a.parents[account] = chain
	a.mu.Unlock()
	return chain, nil
}

func (a *AWS) ouName(ctx context.Context, id string) string {
	a.mu.Lock()
	n, ok := a.ouNames[id]
	a.mu.Unlock()
	if ok {
		return n
	}
	_ = a.orgCall(ctx, func(c *organizations.Client) error {
		out, err := c.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(id)})
		if err == nil {
			n = aws.ToString(out.OrganizationalUnit.Name)
		}
		return err
	})
	a.mu.Lock()
	a.ouNames[id] = n
	a.mu.Unlock()
	return n
}

// OrgPolicies lists a target's policies of a type, with their documents.
func (a *AWS) OrgPolicies(ctx context.Context, target, typ string) ([]Doc, error) {
	var sums []orgtypes.PolicySummary
	err := a.orgCall(ctx, func(c *organizations.Client) error {
		sums = nil
		for p := organizations.NewListPoliciesForTargetPaginator(c, &organizations.ListPoliciesForTargetInput{
			TargetId: aws.String(target), Filter: orgtypes.PolicyType(typ)}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			sums = append(sums, page.Policies...)
		}
		return nil
	})
	if err != nil {
		return nil, apiErr(err, "organizations ListPoliciesForTarget %s %s", target, typ)
	}
	var out []Doc
	for _, s := range sums {
		id := aws.ToString(s.Id)
		a.mu.Lock()
		d, ok := a.orgDocs[id]
		a.mu.Unlock()
		if !ok {
			err := a.orgCall(ctx, func(c *organizations.Client) error {
				p, err := c.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
				if err == nil {
					d = Doc{Name: aws.ToString(s.Name), ARN: aws.ToString(s.Arn), ID: id, Text: aws.ToString(p.Policy.Content)}
				}
				return err
			})
			if err != nil {
				return nil, apiErr(err, "organizations DescribePolicy %s", id)
			}
			a.mu.Lock()
			a.orgDocs[id] = d
			a.mu.Unlock()
		}
		out = append(out, d)
	}
	return out, nil
}

func (a *AWS) s3(ctx context.Context, account string) (*s3.Client, error) {
	cfg, err := a.config(ctx, account)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// A custom endpoint (iamlocal) is addressed by path; AWS by host name.
		o.UsePathStyle = cfg.BaseEndpoint != nil
	}), nil
}

// Buckets lists an account's buckets (and remembers their regions).
func (a *AWS) Buckets(ctx context.Context, account string) ([]string, error) {
	client, err := a.s3(ctx, account)
	if err != nil {
		return nil, err
	}
	var names []string
	for p := s3.NewListBucketsPaginator(client, &s3.ListBucketsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, apiErr(err, "s3 ListBuckets in %s", account)
		}
		for _, b := range page.Buckets {
			names = append(names, aws.ToString(b.Name))
			if r := aws.ToString(b.BucketRegion); r != "" {
				a.mu.Lock()
				a.regions[aws.ToString(b.Name)] = r
				a.mu.Unlock()
			}
		}
	}
	return names, nil
}

// BucketPolicy reads a bucket's policy; "" when it has none.
func (a *AWS) BucketPolicy(ctx context.Context, account, bucket string) (string, error) {
	client, err := a.s3(ctx, account)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	region := a.regions[bucket]
	a.mu.Unlock()
	out, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)}, func(o *s3.Options) {
		if region != "" {
			o.Region = region
		}
	})
	if err != nil {
		if ErrorCode(err) == "NoSuchBucketPolicy" {
			return "", nil
		}
		return "", apiErr(err, "s3 GetBucketPolicy %s", bucket)
	}
	return aws.ToString(out.Policy), nil
}

// EndpointPolicy reads a VPC endpoint's policy (ec2:DescribeVpcEndpoints).
func (a *AWS) EndpointPolicy(ctx context.Context, account, id string) (string, error) {
	cfg, err := a.config(ctx, account)
	if err != nil {
		return "", err
	}
	out, err := ec2.NewFromConfig(cfg).DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}})
	if err != nil {
		return "", apiErr(err, "ec2 DescribeVpcEndpoints %s in %s", id, account)
	}
	if len(out.VpcEndpoints) == 0 {
		return "", &APIError{What: fmt.Sprintf("VPC endpoint %s in %s", id, account), Err: errors.New("no such endpoint"), notFound: true}
	}
	return aws.ToString(out.VpcEndpoints[0].PolicyDocument), nil
}
