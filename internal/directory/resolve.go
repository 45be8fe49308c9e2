package directory

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/store"
)

// Identity is an authenticated caller.
type Identity struct {
	Caller      policy.Caller
	AccessKeyID string
	UserID      string          // aws:userid
	Claims      *session.Claims // temporary credentials; nil for long-term keys
}

// Temporary reports whether the caller signed with temporary credentials.
func (id *Identity) Temporary() bool { return id.Claims != nil }

// Policies compiles policy documents once and keeps them by content: a document's
// text never changes, so the cache never needs invalidating, only bounding.
type Policies struct {
	mu sync.Mutex
	m  map[[32]byte]*policy.Policy
}

const maxCachedPolicies = 50_000

// NewPolicies makes an empty cache.
func NewPolicies() *Policies { return &Policies{m: map[[32]byte]*policy.Policy{}} }

// Compile returns the compiled policy for a document of a kind.
func (c *Policies) Compile(doc string, kind policy.Kind) (*policy.Policy, error) {
	return c.compile(doc, kind, false)
}

// CompileStored compiles a document that AWS itself stored (an AWS managed policy)
// leniently: AWS wrote it without the checks its doors make of customers' documents,
// and the engine must read whatever AWS stores. Some 60 of AWS's own policies fail
// a door check (an S3 access grant or IAM root ARN IAM's door does not list); what
// such a resource means leniently is the ARN as written, wildcards and all.
func (c *Policies) CompileStored(doc string, kind policy.Kind) (*policy.Policy, error) {
	return c.compile(doc, kind, true)
}

func (c *Policies) compile(doc string, kind policy.Kind, lenient bool) (*policy.Policy, error) {
	h := sha256.Sum256([]byte(strconv.Itoa(int(kind)) + "\x00" + strconv.FormatBool(lenient) + "\x00" + doc))
	c.mu.Lock()
	p := c.m[h]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	parse := policy.Parse
	if lenient {
		parse = policy.ParseLenient
	}
	p, err := parse([]byte(doc), kind)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedPolicies {
		clear(c.m)
	}
	c.m[h] = p
	c.mu.Unlock()
	return p, nil
}

// Resolver turns identities and resources into the engine's input. What it reads of
// principals and the organization is cached per store generation.
type Resolver struct {
	Policies *Policies
	once     sync.Once
	sides    *store.GenCache[sideKey, *principalSide]
	orgs     *store.GenCache[sideKey, *orgSide]
	roles    *store.GenCache[string, *RoleTrust]
}

// RoleTrust is a role with its compiled trust policy.
type RoleTrust struct {
	Role  Role
	Trust *policy.Policy
}

// Role reads a role and compiles its trust policy (cached); nil when it does not exist.
func (r *Resolver) Role(tx store.Tx, account, name string) (*RoleTrust, error) {
	r.init()
	key := NameKey(account, name)
	if rt, ok := r.roles.Get(tx.Generation(), key); ok {
		return rt, nil
	}
	rt := &RoleTrust{}
	err := tx.Get(KindRole, key, &rt.Role)
	if errors.Is(err, store.ErrNotFound) {
		rt = nil
	} else if err != nil {
		return nil, err
	} else if rt.Trust, err = r.Policies.Compile(rt.Role.AssumeRolePolicy, policy.Trust); err != nil {
		return nil, err
	}
	r.roles.Put(tx.Generation(), key, rt)
	return rt, nil
}

type sideKey struct {
	kind          policy.CallerKind
	account, name string
}

// principalSide is what a user or role brings to every decision, whatever session.
type principalSide struct {
	identity []*policy.Policy
	boundary *policy.Policy
	context  [][2]string // aws:username, aws:PrincipalTag/…
	slr      bool
	id       string // the entity's unique id (AIDA…, AROA…); "" for the root user
}

// gone is the side of a session whose user or role was deleted, or replaced by a
// new entity of the same name: permissions are evaluated on every request against
// the entity the session was issued for (by unique id, as AWS does), and it has none.
var gone = &principalSide{}

// orgSide is an account's place in the organization for one policy type.
type orgSide struct {
	levels      [][]*policy.Policy
	mgmt        bool
	path, orgID string
	closed      bool // the account was closed (CloseAccount)
}

func (r *Resolver) init() {
	r.once.Do(func() {
		r.sides = store.NewGenCache[sideKey, *principalSide](10_000)
		r.orgs = store.NewGenCache[sideKey, *orgSide](10_000)
		r.roles = store.NewGenCache[string, *RoleTrust](10_000)
	})
}

// ErrNoEntity is returned when the caller's user or role no longer exists.
var ErrNoEntity = errors.New("the principal no longer exists")

// CallerSide fills in the caller's own layers: identity policies, boundary, session
// policies and SCP levels, and adds the caller's context keys to ctx.
func (r *Resolver) CallerSide(tx store.Tx, id *Identity, in *authz.Input, ctx policy.Context, now time.Time) error {
	c := &id.Caller
	ps, err := r.principal(tx, c)
	if id.Claims != nil && (errors.Is(err, ErrNoEntity) || (err == nil && id.Claims.PrincipalID != "" && ps.id != id.Claims.PrincipalID)) {
		ps, err = gone, nil
	}
	if err != nil {
		return err
	}
	in.Identity = append(in.Identity, ps.identity...)
	in.Boundary = ps.boundary
	in.ServiceLinkedRole = ps.slr
	for _, kv := range ps.context {
		ctx.Set(kv[0], kv[1])
	}
	if err := r.addSession(tx, id, in, ctx, now); err != nil {
		return err
	}
	if id.UserID != "" {
		ctx.Set("aws:userid", id.UserID)
	}
	org, err := r.org(tx, c.Account, "SERVICE_CONTROL_POLICY", policy.SCP)
	if err != nil {
		return err
	}
	if org.closed {
		// A closed account's principals can no longer act, whatever their credentials.
		return fmt.Errorf("account %s is closed: %w", c.Account, ErrNoEntity)
	}
	in.SCPs, in.ManagementAccount = org.levels, org.mgmt
	if org.orgID != "" {
		ctx.Set("aws:PrincipalOrgID", org.orgID)
		ctx.Set("aws:PrincipalOrgPaths", org.path)
	}
	return nil
}

// principal reads a user's or role's policies, boundary and tags (cached).
func (r *Resolver) principal(tx store.Tx, c *policy.Caller) (*principalSide, error) {
	r.init()
	key := sideKey{c.Kind, c.Account, c.Name}
	switch c.Kind {
	case policy.AssumedRole:
		key.name = c.RoleName
	case policy.FederatedUser:
		key.name = c.Parent
	}
	if ps, ok := r.sides.Get(tx.Generation(), key); ok {
		return ps, nil
	}
	ps := &principalSide{}
	var p *Principal
	switch c.Kind {
	case policy.FederatedUser:
		// A federated user has the permissions of the user who asked for its token
		// (intersected with its session policy); of the root user, all of them.
		if c.Parent == "" {
			ps.identity = append(ps.identity, allowAll)
			break
		}
		var u User
		if err := tx.Get(KindUser, NameKey(c.Account, c.Parent), &u); err != nil {
			return nil, noEntity(err)
		}
		if err := r.addUser(tx, &u, ps); err != nil {
			return nil, err
		}
		p, ps.id = &u.Principal, u.ID
	case policy.User:
		var u User
		if err := tx.Get(KindUser, NameKey(c.Account, c.Name), &u); err != nil {
			return nil, noEntity(err)
		}
		if err := r.addUser(tx, &u, ps); err != nil {
			return nil, err
		}
		p, ps.id = &u.Principal, u.ID
		ps.context = append(ps.context, [2]string{"aws:username", u.Name})
	case policy.AssumedRole:
		var role Role
		if err := tx.Get(KindRole, NameKey(c.Account, c.RoleName), &role); err != nil {
			return nil, noEntity(err)
		}
		if err := r.addPrincipal(tx, &role.Principal, ps); err != nil {
			return nil, err
		}
		ps.slr = role.ServiceLinked
		p, ps.id = &role.Principal, role.ID
	}
	if p != nil {
		for _, t := range p.Tags {
			if c.Kind == policy.FederatedUser {
				break // a federated user's tags are its session tags, not its parent's
			}
			ps.context = append(ps.context, [2]string{"aws:PrincipalTag/" + t.Key, t.Value})
		}
		if p.PermissionsBoundary != "" {
			doc, aws, err := managedDocument(tx, p.PermissionsBoundary)
			if err != nil {
				return nil, err
			}
			if ps.boundary, err = r.compileManaged(doc, aws, policy.Boundary); err != nil {
				return nil, err
			}
		}
	}
	r.sides.Put(tx.Generation(), key, ps)
	return ps, nil
}

// org reads an account's organization levels for a policy type (cached).
func (r *Resolver) org(tx store.Tx, account, typ string, kind policy.Kind) (*orgSide, error) {
	r.init()
	key := sideKey{policy.CallerKind(kind), account, typ}
	if o, ok := r.orgs.Get(tx.Generation(), key); ok {
		return o, nil
	}
	levels, mgmt, path, orgID, err := r.OrgLevels(tx, account, typ, kind)
	if err != nil {
		return nil, err
	}
	o := &orgSide{levels: levels, mgmt: mgmt, path: path, orgID: orgID}
	var acct Account
	if err := tx.Get(KindAccount, account, &acct); err == nil {
		o.closed = acct.Closed()
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	r.orgs.Put(tx.Generation(), key, o)
	return o, nil
}

func noEntity(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoEntity
	}
	return err
}

// addSession adds what temporary credentials carry: session policies and tags,
// source identity, MFA and issue time.
func (r *Resolver) addSession(tx store.Tx, id *Identity, in *authz.Input, ctx policy.Context, now time.Time) error {
	cl := id.Claims
	if cl == nil {
		return nil
	}
	for _, doc := range cl.PolicyDocs {
		p, err := r.Policies.Compile(doc, policy.Session)
		if err != nil {
			return err
		}
		in.Session = append(in.Session, p)
	}
	for _, arn := range cl.PolicyArns {
		doc, aws, err := managedDocument(tx, arn)
		if err != nil {
			continue // a deleted managed session policy grants nothing
		}
		p, err := r.compileManaged(doc, aws, policy.Session)
		if err != nil {
			return err
		}
		in.Session = append(in.Session, p)
	}
	for lk, v := range cl.Tags {
		ctx.Set("aws:PrincipalTag/"+lk, v)
	}
	if cl.SourceIdentity != "" {
		ctx.Set("aws:SourceIdentity", cl.SourceIdentity)
	}
	for k, v := range cl.Context {
		ctx.Set(k, v...)
	}
	// A request that authenticates with MFA itself (AssumeRole with a TokenCode) has
	// set the MFA keys already.
	if _, set := ctx["aws:multifactorauthpresent"]; !set {
		ctx.Set("aws:MultiFactorAuthPresent", strconv.FormatBool(cl.MFA))
		if cl.MFA && !cl.MFAAt.IsZero() {
			ctx.Set("aws:MultiFactorAuthAge", strconv.FormatInt(max(0, int64(now.Sub(cl.MFAAt)/time.Second)), 10))
		}
	}
	ctx.Set("aws:TokenIssueTime", cl.IssuedAt.UTC().Format(time.RFC3339))
	return nil
}

// addUser adds a user's own policies and its groups'.
func (r *Resolver) addUser(tx store.Tx, u *User, ps *principalSide) error {
	if err := r.addPrincipal(tx, &u.Principal, ps); err != nil {
		return err
	}
	for _, g := range u.Groups {
		var grp Group
		if err := tx.Get(KindGroup, NameKey(u.Account, g), &grp); err == nil {
			if err := r.addPrincipal(tx, &grp.Principal, ps); err != nil {
				return err
			}
		}
	}
	return nil
}

// allowAll is the root user's identity, for the federated users it creates.
var allowAll = func() *policy.Policy {
	p, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`), policy.Identity)
	if err != nil {
		panic(err)
	}
	return p
}()

func (r *Resolver) addPrincipal(tx store.Tx, p *Principal, ps *principalSide) error {
	names := make([]string, 0, len(p.InlinePolicies))
	for name := range p.InlinePolicies {
		names = append(names, name)
	}
	sort.Strings(names) // a stable order, so decisions report stable policy indexes
	for _, name := range names {
		pol, err := r.Policies.Compile(p.InlinePolicies[name], policy.Identity)
		if err != nil {
			return fmt.Errorf("inline policy %s of %s: %w", name, p.Arn, err)
		}
		ps.identity = append(ps.identity, pol)
	}
	for _, arn := range p.AttachedPolicies {
		doc, aws, err := managedDocument(tx, arn)
		if err != nil {
			return err
		}
		pol, err := r.compileManaged(doc, aws, policy.Identity)
		if err != nil {
			return fmt.Errorf("%s: %w", arn, err)
		}
		ps.identity = append(ps.identity, pol)
	}
	return nil
}

// managedDocument returns the default version of a managed policy, and whether it
// is one of AWS's.
func managedDocument(tx store.Tx, arn string) (doc string, aws bool, err error) {
	var mp ManagedPolicy
	if err := tx.Get(KindPolicy, arn, &mp); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			if doc, ok := AWSManagedDocument(arn); ok {
				return doc, true, nil
			}
		}
		return "", false, fmt.Errorf("managed policy %s: %w", arn, err)
	}
	return mp.Default(), false, nil
}

// compileManaged compiles a managed policy's document as kind: AWS's own as stored
// documents, customers' as their door accepted them.
func (r *Resolver) compileManaged(doc string, aws bool, kind policy.Kind) (*policy.Policy, error) {
	if aws {
		return r.Policies.CompileStored(doc, kind)
	}
	return r.Policies.Compile(doc, kind)
}

// OrgLevels returns the organization policies of a type that apply to an account, one
// list per level from the root through the OUs to the account. levels is nil when the
// account is outside the organization or the type is not enabled. It also reports
// whether the account is the management account, its aws:PrincipalOrgPaths value and
// the organization id.
func (r *Resolver) OrgLevels(tx store.Tx, account, typ string, kind policy.Kind) (levels [][]*policy.Policy, mgmt bool, path, orgID string, err error) {
	var org Organization
	if err := tx.Get(KindOrganization, "org", &org); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, "", "", nil
		}
		return nil, false, "", "", err
	}
	var acct Account
	if err := tx.Get(KindAccount, account, &acct); err != nil || acct.ParentID == "" {
		return nil, false, "", "", nil
	}
	chain, err := parentChain(tx, &org, acct.ParentID)
	if err != nil {
		return nil, false, "", "", err
	}
	path = org.ID + "/" + strings.Join(chain, "/") + "/"
	mgmt = account == org.MasterAccountID
	enabled := false
	for _, t := range org.EnabledPolicyType {
		enabled = enabled || t == typ
	}
	if !enabled {
		return nil, mgmt, path, org.ID, nil
	}
	for _, target := range append(chain, account) {
		var level []*policy.Policy
		err := tx.Scan(KindOrgAttachment, target+"/", "", 0, func(key string, _ []byte) (bool, error) {
			var op OrgPolicy
			if err := tx.Get(KindOrgPolicy, strings.TrimPrefix(key, target+"/"), &op); err != nil {
				return false, err
			}
			if op.Type != typ {
				return true, nil
			}
			p, err := r.Policies.Compile(op.Content, kind)
			if err != nil {
				return false, err
			}
			level = append(level, p)
			return true, nil
		})
		if err != nil {
			return nil, false, "", "", err
		}
		levels = append(levels, level)
	}
	return levels, mgmt, path, org.ID, nil
}

// parentChain lists the ids from the root down to parent.
func parentChain(tx store.Tx, org *Organization, parent string) ([]string, error) {
	var chain []string
	for id := parent; id != org.RootID; {
		chain = append([]string{id}, chain...)
		var ou OU
		if err := tx.Get(KindOU, id, &ou); err != nil {
			return nil, fmt.Errorf("organizational unit %s: %w", id, err)
		}
		id = ou.ParentID
		if len(chain) > 10 {
			return nil, errors.New("organizational units nest too deeply")
		}
	}
	return append([]string{org.RootID}, chain...), nil
}

// ResourceSide fills in the RCP levels of the resource's account.
func (r *Resolver) ResourceSide(tx store.Tx, resourceAccount string, in *authz.Input, ctx policy.Context) error {
	if resourceAccount == "" {
		return nil
	}
	o, err := r.org(tx, resourceAccount, "RESOURCE_CONTROL_POLICY", policy.RCP)
	if err != nil {
		return err
	}
	in.RCPs, in.ResourceManagement = o.levels, o.mgmt
	if o.orgID != "" {
		ctx.Set("aws:ResourceOrgID", o.orgID)
	}
	return nil
}
