package directory

import (
	"crypto/sha256"
	"errors"
	"fmt"
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
	h := sha256.Sum256([]byte(strconv.Itoa(int(kind)) + "\x00" + doc))
	c.mu.Lock()
	p := c.m[h]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := policy.Parse([]byte(doc), kind)
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

// Resolver turns identities and resources into the engine's input.
type Resolver struct {
	Policies *Policies
}

// ErrNoEntity is returned when the caller's user or role no longer exists.
var ErrNoEntity = errors.New("the principal no longer exists")

// CallerSide fills in the caller's own layers: identity policies, boundary, session
// policies and SCP levels, and adds the caller's context keys to ctx.
func (r *Resolver) CallerSide(tx store.Tx, id *Identity, in *authz.Input, ctx policy.Context, now time.Time) error {
	c := &id.Caller
	var p *Principal
	switch c.Kind {
	case policy.User:
		var u User
		if err := tx.Get(KindUser, NameKey(c.Account, c.Name), &u); err != nil {
			return noEntity(err)
		}
		if err := r.addPrincipal(tx, &u.Principal, in); err != nil {
			return err
		}
		for _, g := range u.Groups {
			var grp Group
			if err := tx.Get(KindGroup, NameKey(c.Account, g), &grp); err == nil {
				if err := r.addPrincipal(tx, &grp.Principal, in); err != nil {
					return err
				}
			}
		}
		p = &u.Principal
		ctx.Set("aws:username", u.Name)
	case policy.AssumedRole:
		var role Role
		if err := tx.Get(KindRole, NameKey(c.Account, c.RoleName), &role); err != nil {
			return noEntity(err)
		}
		if err := r.addPrincipal(tx, &role.Principal, in); err != nil {
			return err
		}
		in.ServiceLinkedRole = role.ServiceLinked
		p = &role.Principal
	}
	if p != nil {
		for _, t := range p.Tags {
			ctx.Set("aws:PrincipalTag/"+t.Key, t.Value)
		}
		if p.PermissionsBoundary != "" {
			doc, err := managedDocument(tx, p.PermissionsBoundary)
			if err != nil {
				return err
			}
			if in.Boundary, err = r.Policies.Compile(doc, policy.Boundary); err != nil {
				return err
			}
		}
	}
	if err := r.addSession(tx, id, in, ctx); err != nil {
		return err
	}
	if id.UserID != "" {
		ctx.Set("aws:userid", id.UserID)
	}
	levels, mgmt, path, orgID, err := r.OrgLevels(tx, c.Account, "SERVICE_CONTROL_POLICY", policy.SCP)
	if err != nil {
		return err
	}
	in.SCPs, in.ManagementAccount = levels, mgmt
	if orgID != "" {
		ctx.Set("aws:PrincipalOrgID", orgID)
		ctx.Set("aws:PrincipalOrgPaths", path)
	}
	return nil
}

func noEntity(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoEntity
	}
	return err
}

// addSession adds what temporary credentials carry: session policies and tags,
// source identity, MFA and issue time.
func (r *Resolver) addSession(tx store.Tx, id *Identity, in *authz.Input, ctx policy.Context) error {
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
		doc, err := managedDocument(tx, arn)
		if err != nil {
			continue // a deleted managed session policy grants nothing
		}
		p, err := r.Policies.Compile(doc, policy.Session)
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
	ctx.Set("aws:MultiFactorAuthPresent", strconv.FormatBool(cl.MFA))
	ctx.Set("aws:TokenIssueTime", cl.IssuedAt.UTC().Format(time.RFC3339))
	return nil
}

func (r *Resolver) addPrincipal(tx store.Tx, p *Principal, in *authz.Input) error {
	for name, doc := range p.InlinePolicies {
		pol, err := r.Policies.Compile(doc, policy.Identity)
		if err != nil {
			return fmt.Errorf("inline policy %s of %s: %w", name, p.Arn, err)
		}
		in.Identity = append(in.Identity, pol)
	}
	for _, arn := range p.AttachedPolicies {
		doc, err := managedDocument(tx, arn)
		if err != nil {
			return err
		}
		pol, err := r.Policies.Compile(doc, policy.Identity)
		if err != nil {
			return fmt.Errorf("%s: %w", arn, err)
		}
		in.Identity = append(in.Identity, pol)
	}
	return nil
}

// managedDocument returns the default version of a managed policy.
func managedDocument(tx store.Tx, arn string) (string, error) {
	var mp ManagedPolicy
	if err := tx.Get(KindPolicy, arn, &mp); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			if doc, ok := AWSManagedDocument(arn); ok {
				return doc, nil
			}
		}
		return "", fmt.Errorf("managed policy %s: %w", arn, err)
	}
	return mp.Default(), nil
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
	levels, mgmt, _, orgID, err := r.OrgLevels(tx, resourceAccount, "RESOURCE_CONTROL_POLICY", policy.RCP)
	if err != nil {
		return err
	}
	in.RCPs, in.ResourceManagement = levels, mgmt
	if orgID != "" {
		ctx.Set("aws:ResourceOrgID", orgID)
	}
	return nil
}
