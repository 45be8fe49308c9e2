package iam

import (
	"fmt"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

// Limits of roles.
const (
	trustPolicyMaxSize   = 2048
	defaultSessionLength = 3600
	maxSessionLength     = 43200
)

func init() {
	register(
		&service.Action{Name: "CreateRole", IAMAction: "iam:CreateRole", Write: true,
			Resource: newRoleResource, Context: contexts(requestTags, newBoundaryContext), Handle: createRole},
		&service.Action{Name: "GetRole", IAMAction: "iam:GetRole", Resource: roleEntity.resource, Context: roleEntity.context(false), Handle: getRole},
		&service.Action{Name: "ListRoles", IAMAction: "iam:ListRoles", Handle: listRoles},
		&service.Action{Name: "DeleteRole", IAMAction: "iam:DeleteRole", Write: true,
			Resource: roleEntity.resource, Context: roleEntity.context(false), Handle: deleteRole},
		&service.Action{Name: "UpdateRole", IAMAction: "iam:UpdateRole", Write: true,
			Resource: roleEntity.resource, Context: roleEntity.context(false), Handle: updateRole},
		&service.Action{Name: "UpdateRoleDescription", IAMAction: "iam:UpdateRoleDescription", Write: true,
			Resource: roleEntity.resource, Context: roleEntity.context(false), Handle: updateRoleDescription},
		&service.Action{Name: "UpdateAssumeRolePolicy", IAMAction: "iam:UpdateAssumeRolePolicy", Write: true,
			Resource: roleEntity.resource, Context: roleEntity.context(false), Handle: updateAssumeRolePolicy},
	)
}

type roleLastUsedXML struct {
	LastUsedDate string `xml:"LastUsedDate,omitempty"`
	Region       string `xml:"Region,omitempty"`
}

type roleXML struct {
	Path                     string           `xml:"Path"`
	RoleName                 string           `xml:"RoleName"`
	RoleID                   string           `xml:"RoleId"`
	Arn                      string           `xml:"Arn"`
	CreateDate               string           `xml:"CreateDate"`
	AssumeRolePolicyDocument string           `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string           `xml:"Description,omitempty"`
	MaxSessionDuration       int              `xml:"MaxSessionDuration,omitempty"`
	PermissionsBoundary      *boundary        `xml:"PermissionsBoundary,omitempty"`
	Tags                     *list[tagXML]    `xml:"Tags,omitempty"`
	RoleLastUsed             *roleLastUsedXML `xml:"RoleLastUsed,omitempty"`
}

// newRoleXML describes a role; full adds what ListRoles leaves out (boundary, tags,
// last use). The trust policy is percent-encoded, as IAM returns it.
func newRoleXML(r *directory.Role, full bool) roleXML {
	x := roleXML{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.Arn, CreateDate: isoTime(r.CreateDate),
		AssumeRolePolicyDocument: encodeDoc(r.AssumeRolePolicy), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration}
	if !full {
		return x
	}
	if r.PermissionsBoundary != "" {
		x.PermissionsBoundary = &boundary{"PermissionsBoundaryPolicy", r.PermissionsBoundary}
	}
	x.Tags = optTags(r.Tags)
	x.RoleLastUsed = &roleLastUsedXML{}
	if !r.LastUsed.IsZero() {
		x.RoleLastUsed.LastUsedDate = isoTime(r.LastUsed)
	}
	return x
}

func newRoleResource(c *service.Call) (string, string, error) {
	return arn(c.Account(), "role", optionalPath(c, "Path"), c.Params.Get("RoleName")), c.Account(), nil
}

func wrapRole(r *directory.Role) *loaded {
	return &loaded{e: roleEntity, key: directory.NameKey(r.Account, r.Name), obj: r, Principal: &r.Principal, role: r}
}

type roleResult struct {
	Role roleXML `xml:"Role"`
}

// sessionDuration reads MaxSessionDuration (3600 to 43200 seconds).
func (in *input) sessionDuration() (int, bool) {
	n, given, err := in.c.Params.Int("MaxSessionDuration")
	if err != nil {
		in.v.Check(false, in.c.Params.Get("MaxSessionDuration"), "maxSessionDuration", "be a number")
		return 0, false
	}
	if !given {
		return 0, false
	}
	s := fmt.Sprint(n)
	in.v.Check(n >= defaultSessionLength, s, "maxSessionDuration", fmt.Sprintf("have value greater than or equal to %d", defaultSessionLength))
	in.v.Check(n <= maxSessionLength, s, "maxSessionDuration", fmt.Sprintf("have value less than or equal to %d", maxSessionLength))
	return n, given
}

// trustPolicy validates a role's trust policy and its size.
func trustPolicy(c *service.Call, doc string) error {
	if err := compile(c, doc, policy.Trust); err != nil {
		return err
	}
	if policySize(doc) > trustPolicyMaxSize {
		return limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", trustPolicyMaxSize)
	}
	return nil
}

func createRole(c *service.Call) (any, error) {
	in := newInput(c)
	r := &directory.Role{Principal: directory.Principal{Account: c.Account(), Name: in.name("RoleName", 64), Path: in.path("Path"),
		ID: directory.NewID("AROA"), CreateDate: c.Now.UTC()}, MaxSessionDuration: defaultSessionLength}
	r.AssumeRolePolicy = in.document("AssumeRolePolicyDocument")
	r.Description = in.description("Description")
	if n, given := in.sessionDuration(); given {
		r.MaxSessionDuration = n
	}
	b := ""
	if c.Params.Has("PermissionsBoundary") {
		b = in.arn("PermissionsBoundary")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	if strings.HasPrefix(r.Path, serviceRolePathPrefix) {
		// AWS's answer; service-linked roles come from CreateServiceLinkedRole only.
		return nil, invalidInput("Path prefix '%s' can only be used for AWS Service linked Roles", serviceRolePathPrefix)
	}
	if strings.HasPrefix(r.Path, reservedRolePathPrefix) {
		// AWS documents no message for it; worded like the service-role one.
		return nil, invalidInput("Path prefix '%s' can only be used for roles AWS creates", reservedRolePathPrefix)
	}
	var err error
	if r.Tags, err = readTags(c); err != nil {
		return nil, err
	}
	if err := trustPolicy(c, r.AssumeRolePolicy); err != nil {
		return nil, err
	}
	r.Arn = arn(r.Account, "role", r.Path, r.Name)
	if err := insertRole(c.Tx, r, b); err != nil {
		return nil, err
	}
	return &roleResult{newRoleXML(r, true)}, nil
}

// insertRole stores a new role with its boundary and unique id.
func insertRole(tx store.Tx, r *directory.Role, boundaryArn string) error {
	l := wrapRole(r)
	exists, err := has(tx, directory.KindRole, l.key)
	if err != nil {
		return err
	}
	if exists {
		return alreadyExists("Role with name %s already exists.", r.Name)
	}
	if err := l.setBoundary(tx, boundaryArn); err != nil {
		return err
	}
	if err := l.save(tx); err != nil {
		return err
	}
	return tx.Put(directory.KindUniqueID, r.ID, l.key)
}

// roleParam reads RoleName and loads the role.
func roleParam(c *service.Call) (*loaded, error) {
	in := newInput(c)
	name := in.name("RoleName", 64)
	if err := in.err(); err != nil {
		return nil, err
	}
	return roleEntity.load(c.Tx, c.Account(), name)
}

func getRole(c *service.Call) (any, error) {
	l, err := roleParam(c)
	if err != nil {
		return nil, err
	}
	return &roleResult{newRoleXML(l.role, true)}, nil
}

type listRolesResult struct {
	Roles       list[roleXML] `xml:"Roles"`
	IsTruncated bool          `xml:"IsTruncated"`
	Marker      string        `xml:"Marker,omitempty"`
}

func listRoles(c *service.Call) (any, error) {
	res := &listRolesResult{}
	var err error
	res.IsTruncated, res.Marker, err = listByPath(c, directory.KindRole, func(r *directory.Role) string { return r.Path },
		func(r *directory.Role) error {
			res.Roles.Member = append(res.Roles.Member, newRoleXML(r, false))
			return nil
		})
	return res, err
}

func deleteRole(c *service.Call) (any, error) {
	l, err := roleParam(c)
	if err != nil {
		return nil, err
	}
	if err := l.modifiable(); err != nil {
		return nil, err
	}
	profiles, err := roleProfiles(c.Tx, l.Account, l.Name)
	if err != nil {
		return nil, err
	}
	switch {
	case len(l.InlinePolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	case len(l.AttachedPolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must detach all policies first.")
	case len(profiles) > 0:
		return nil, deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	}
	return nil, removeRole(c.Tx, l)
}

// removeRole deletes a role without policies or instance profiles, with its boundary
// use and unique id.
func removeRole(tx store.Tx, l *loaded) error {
	if err := l.setBoundary(tx, ""); err != nil {
		return err
	}
	if _, err := tx.Delete(directory.KindRole, l.key); err != nil {
		return err
	}
	_, err := tx.Delete(directory.KindUniqueID, l.ID)
	return err
}

func updateRole(c *service.Call) (any, error) {
	in := newInput(c)
	in.name("RoleName", 64)
	desc := in.description("Description")
	n, given := in.sessionDuration()
	if err := in.err(); err != nil {
		return nil, err
	}
	l, err := roleParam(c)
	if err != nil {
		return nil, err
	}
	// "You can edit the description of any role" (IAM User Guide, Update a
	// service-linked role): only the rest is the service's to change.
	if given {
		if err := l.modifiable(); err != nil {
			return nil, err
		}
	}
	if c.Params.Has("Description") {
		l.role.Description = desc
	}
	if given {
		l.role.MaxSessionDuration = n
	}
	return &struct{}{}, l.save(c.Tx) // UpdateRoleResult is empty but present
}

func updateRoleDescription(c *service.Call) (any, error) {
	in := newInput(c)
	in.name("RoleName", 64)
	if _, ok := in.required("Description"); ok {
		in.description("Description")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	l, err := roleParam(c)
	if err != nil {
		return nil, err
	}
	l.role.Description = c.Params.Get("Description")
	if err := l.save(c.Tx); err != nil {
		return nil, err
	}
	return &roleResult{newRoleXML(l.role, true)}, nil
}

func updateAssumeRolePolicy(c *service.Call) (any, error) {
	in := newInput(c)
	in.name("RoleName", 64)
	doc := in.document("PolicyDocument")
	if err := in.err(); err != nil {
		return nil, err
	}
	if err := trustPolicy(c, doc); err != nil {
		return nil, err
	}
	l, err := roleParam(c)
	if err != nil {
		return nil, err
	}
	if err := l.modifiable(); err != nil {
		return nil, err
	}
	l.role.AssumeRolePolicy = doc
	return nil, l.save(c.Tx)
}
