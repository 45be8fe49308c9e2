package iam

import (
	"errors"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// entity is one kind of IAM principal — user, group or role — for what the three
// share: inline policies, attached managed policies, tags and boundaries.
type entity struct {
	kind      string // store kind
	what      string // "user", "group", "role": messages and ARNs name it so
	title     string // "User", "Group", "Role": action names
	param     string // "UserName", "GroupName", "RoleName"
	nameMax   int    // longest name the API accepts
	inlineMax int    // aggregate size of the inline policies
	boundary  bool   // iam:PermissionsBoundary applies to its actions
}

var (
	userEntity  = &entity{directory.KindUser, "user", "User", "UserName", 128, 2048, true}
	groupEntity = &entity{directory.KindGroup, "group", "Group", "GroupName", 128, 5120, false}
	roleEntity  = &entity{directory.KindRole, "role", "Role", "RoleName", 64, 10240, true}
)

// quota is AWS's name for the limit of attached managed policies.
func (e *entity) quota() string { return "PoliciesPer" + e.title }

// loaded is a principal read from the store, to change and save.
type loaded struct {
	e   *entity
	key string
	obj any // *directory.User, *directory.Group or *directory.Role
	*directory.Principal
	user *directory.User
	role *directory.Role
}

func (e *entity) load(tx store.Tx, account, name string) (*loaded, error) {
	l := &loaded{e: e, key: directory.NameKey(account, name)}
	switch e.kind {
	case directory.KindUser:
		l.user = &directory.User{}
		l.obj, l.Principal = l.user, &l.user.Principal
	case directory.KindGroup:
		g := &directory.Group{}
		l.obj, l.Principal = g, &g.Principal
	default:
		l.role = &directory.Role{}
		l.obj, l.Principal = l.role, &l.role.Principal
	}
	if err := get(tx, e.kind, account, name, l.obj, e.what); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *loaded) save(tx store.Tx) error { return tx.Put(l.e.kind, l.key, l.obj) }

// modifiable refuses changes to a service-linked or AWS-reserved role, which only AWS
// may modify (authz.Protected is the same rule in the offline decisions).
func (l *loaded) modifiable() error {
	if l.role != nil && (l.role.ServiceLinked || strings.HasPrefix(l.role.Path, reservedRolePathPrefix)) {
		return unmodifiable(l.Name)
	}
	return nil
}

// find loads the entity a request names, if it exists.
func (e *entity) find(c *service.Call) (*loaded, bool, error) {
	l, err := e.load(c.Tx, c.Account(), c.Params.Get(e.param))
	var we *wire.Error
	if errors.As(err, &we) && we.Code == "NoSuchEntity" {
		return nil, false, nil
	}
	return l, err == nil, err
}

// resource is the ARN, with its path, of the entity the request names.
func (e *entity) resource(c *service.Call) (string, string, error) {
	l, ok, err := e.find(c)
	if err != nil {
		return "", "", err
	}
	if ok {
		return l.Arn, c.Account(), nil
	}
	return arn(c.Account(), e.what, "/", c.Params.Get(e.param)), c.Account(), nil
}

// context adds the named entity's tags and, for the actions AWS defines it on, its
// permissions boundary (iam:PermissionsBoundary).
func (e *entity) context(withBoundary bool) func(*service.Call, policy.Context) error {
	return func(c *service.Call, ctx policy.Context) error {
		l, ok, err := e.find(c)
		if !ok {
			return err
		}
		if e.kind != directory.KindGroup {
			resourceTags(l.Tags, ctx)
		}
		if withBoundary && e.boundary && l.PermissionsBoundary != "" {
			ctx.Set("iam:PermissionsBoundary", l.PermissionsBoundary)
		}
		return nil
	}
}

// Indexes kept beside the entities, each "<account>|<policy ARN>|<kind>|<lower name>"
// with an entityRef value: which principals have a managed policy attached, and
// which use it as their permissions boundary.
const (
	attachIndex   = "iamattach"
	boundaryIndex = "iamboundary"
)

type entityRef struct {
	Kind string
	Name string
}

func indexKey(account, policyArn, kind, name string) string {
	return account + "|" + policyArn + "|" + kind + "|" + strings.ToLower(name)
}

func indexPrefix(account, policyArn string) string { return account + "|" + policyArn + "|" }

func (l *loaded) indexKey(policyArn string) string {
	return indexKey(l.Account, policyArn, l.e.kind, l.Name)
}

// reindex moves a principal's index entries from its old name to its current one.
func (l *loaded) reindex(tx store.Tx, oldName string) error {
	move := func(index, policyArn string) error {
		if _, err := tx.Delete(index, indexKey(l.Account, policyArn, l.e.kind, oldName)); err != nil {
			return err
		}
		return tx.Put(index, l.indexKey(policyArn), entityRef{l.e.kind, l.Name})
	}
	for _, a := range l.AttachedPolicies {
		if err := move(attachIndex, a); err != nil {
			return err
		}
	}
	if l.PermissionsBoundary != "" {
		return move(boundaryIndex, l.PermissionsBoundary)
	}
	return nil
}
