package iam

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		&service.Action{Name: "CreateUser", IAMAction: "iam:CreateUser", Write: true,
			Resource: userResourceFromParams, Context: createUserContext, Handle: createUser},
		&service.Action{Name: "GetUser", IAMAction: "iam:GetUser", Resource: userResource, Handle: getUser},
		&service.Action{Name: "ListUsers", IAMAction: "iam:ListUsers", Handle: listUsers},
		&service.Action{Name: "DeleteUser", IAMAction: "iam:DeleteUser", Write: true, Resource: userResource, Handle: deleteUser},
		&service.Action{Name: "UpdateUser", IAMAction: "iam:UpdateUser", Write: true,
			Resource: userEntity.resource, Context: userEntity.context(false), Handle: updateUser},
	)
}

type userXML struct {
	Path                string        `xml:"Path"`
	UserName            string        `xml:"UserName"`
	UserID              string        `xml:"UserId"`
	Arn                 string        `xml:"Arn"`
	CreateDate          string        `xml:"CreateDate"`
	PermissionsBoundary *boundary     `xml:"PermissionsBoundary,omitempty"`
	Tags                *list[tagXML] `xml:"Tags,omitempty"`
}

type boundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

// newUserXML describes a user; full adds what listings leave out (boundary, tags).
func newUserXML(u *directory.User, full bool) userXML {
	x := userXML{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.Arn, CreateDate: isoTime(u.CreateDate)}
	if full {
		x.PermissionsBoundary, x.Tags = boundaryXML(&u.Principal), optTags(u.Tags)
	}
	return x
}

// userResourceFromParams is the ARN the new user will have.
func userResourceFromParams(c *service.Call) (string, string, error) {
	return arn(c.Account(), "user", optionalPath(c, "Path"), c.Params.Get("UserName")), c.Account(), nil
}

// userResource is the ARN of an existing user (with its path), or of the caller when
// UserName is omitted, as GetUser allows.
func userResource(c *service.Call) (string, string, error) {
	name := c.Params.Get("UserName")
	if name == "" && c.Identity != nil {
		switch c.Identity.Caller.Kind {
		case policy.User:
			name = c.Identity.Caller.Name
		case policy.RootUser:
			return rootArn(c.Account()), c.Account(), nil
		}
	}
	var u directory.User
	if err := c.Tx.Get(directory.KindUser, directory.NameKey(c.Account(), name), &u); err == nil {
		return u.Arn, c.Account(), nil
	}
	return arn(c.Account(), "user", "/", name), c.Account(), nil
}

func createUserContext(c *service.Call, ctx policy.Context) error {
	tags, err := readTags(c)
	if err != nil {
		return err
	}
	tagContext(tags, ctx)
	if b := c.Params.Get("PermissionsBoundary"); b != "" {
		ctx.Set("iam:PermissionsBoundary", b)
	}
	return nil
}

type createUserResult struct {
	User userXML `xml:"User"`
}

func createUser(c *service.Call) (any, error) {
	name, err := required(c, "UserName")
	if err != nil {
		return nil, err
	}
	path := optionalPath(c, "Path")
	var v validation
	v.name(name, "userName", 64)
	v.path(path, "path")
	if err := v.Err(); err != nil {
		return nil, err
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	u := directory.User{Principal: directory.Principal{Account: c.Account(), Name: name, Path: path,
		ID: directory.NewID("AIDA"), Arn: arn(c.Account(), "user", path, name), CreateDate: c.Now.UTC(), Tags: tags}}
	l := wrapUser(&u)
	if exists, err := has(c.Tx, directory.KindUser, l.key); err != nil || exists {
		if err == nil {
			err = alreadyExists("User with name %s already exists.", name)
		}
		return nil, err
	}
	if b := c.Params.Get("PermissionsBoundary"); b != "" {
		if err := l.setBoundary(c.Tx, b); err != nil {
			return nil, err
		}
	}
	if err := l.save(c.Tx); err != nil {
		return nil, err
	}
	if err := c.Tx.Put(directory.KindUniqueID, u.ID, l.key); err != nil {
		return nil, err
	}
	return &createUserResult{newUserXML(&u, true)}, nil
}

// wrapUser makes a new user a loaded entity.
func wrapUser(u *directory.User) *loaded {
	return &loaded{e: userEntity, key: directory.NameKey(u.Account, u.Name), obj: u, Principal: &u.Principal, user: u}
}

// has reports whether an object exists.
func has(tx store.Tx, kind, key string) (bool, error) {
	var raw json.RawMessage
	err := tx.Get(kind, key, &raw)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

type getUserResult struct {
	User userXML `xml:"User"`
}

func getUser(c *service.Call) (any, error) {
	name := c.Params.Get("UserName")
	if name == "" {
		switch c.Identity.Caller.Kind {
		case policy.User:
			name = c.Identity.Caller.Name
		case policy.RootUser:
			return rootUser(c)
		default:
			return nil, invalidInput("Must specify userName when calling with non-User credentials")
		}
	}
	var u directory.User
	if err := get(c.Tx, directory.KindUser, c.Account(), name, &u, "user"); err != nil {
		return nil, err
	}
	return &getUserResult{newUserXML(&u, true)}, nil
}

// rootUser is GetUser's answer to the root user asking about itself: AWS returns
// the account id as UserId, the root ARN and no user name or path (the CLI shows
// {"User": {"UserId": "123456789012", "Arn": "arn:aws:iam::123456789012:root",
// "CreateDate": …}} — botocore's User shape marks UserName and Path required, which
// the SDKs do not enforce on responses). CreateDate is the account's creation (or
// joining) date as iamlocal records it.
func rootUser(c *service.Call) (any, error) {
	acct := c.Account()
	var a directory.Account
	if err := c.Tx.Get(directory.KindAccount, acct, &a); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return &getRootUserResult{rootUserXML{UserID: acct, Arn: rootArn(acct), CreateDate: isoTime(a.JoinedAt)}}, nil
}

type rootUserXML struct {
	UserID     string `xml:"UserId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type getRootUserResult struct {
	User rootUserXML `xml:"User"`
}

type listUsersResult struct {
	Users       list[userXML] `xml:"Users"`
	IsTruncated bool          `xml:"IsTruncated"`
	Marker      string        `xml:"Marker,omitempty"`
}

func listUsers(c *service.Call) (any, error) {
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	prefix := optionalPath(c, "PathPrefix")
	res := &listUsersResult{}
	res.IsTruncated, res.Marker, err = scanPage(c.Tx, directory.KindUser, c.Account()+"/", p, func(data []byte) (bool, error) {
		var u directory.User
		if err := jsonUnmarshal(data, &u); err != nil {
			return false, err
		}
		if !strings.HasPrefix(u.Path, prefix) {
			return false, nil
		}
		res.Users.Member = append(res.Users.Member, newUserXML(&u, false))
		return true, nil
	})
	return res, err
}

func deleteUser(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name("UserName", 128)
	if err := in.err(); err != nil {
		return nil, err
	}
	l, err := userEntity.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	switch {
	case len(l.InlinePolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	case len(l.AttachedPolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must detach all policies first.")
	case len(l.user.Groups) > 0:
		return nil, deleteConflict("Cannot delete entity, must remove users from group first.")
	}
	if err := userMFAConflict(c.Tx, l.Account, l.Name); err != nil {
		return nil, err
	}
	if err := userCredentials(c.Tx, l); err != nil {
		return nil, err
	}
	if err := l.setBoundary(c.Tx, ""); err != nil {
		return nil, err
	}
	if _, err := c.Tx.Delete(directory.KindUser, l.key); err != nil {
		return nil, err
	}
	_, err = c.Tx.Delete(directory.KindUniqueID, l.ID)
	return nil, err
}

// updateUser renames a user or changes its path. A new name needs iam:UpdateUser on
// the new ARN too, and every key that holds the old name moves: the user itself, its
// unique id, its access keys, group memberships and policy indexes.
func updateUser(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name("UserName", 128)
	newName := in.optName("NewUserName", 64)
	newPath := ""
	if c.Params.Has("NewPath") {
		newPath = in.path("NewPath")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	l, err := userEntity.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	oldName, oldKey := l.Name, l.key
	if newPath != "" {
		l.Path = newPath
	}
	if newName != "" {
		if err := renameCheck(c, l, newName); err != nil {
			return nil, err
		}
		l.Name, l.key = newName, directory.NameKey(l.Account, newName)
	}
	l.Arn = arn(l.Account, "user", l.Path, l.Name)
	if err := moveUserKeys(c.Tx, l, oldName, oldKey); err != nil {
		return nil, err
	}
	return nil, l.save(c.Tx)
}

// renameCheck authorizes the new name and makes sure no other user holds it.
func renameCheck(c *service.Call, l *loaded, newName string) error {
	newArn := arn(l.Account, "user", l.Path, newName)
	if err := c.Authorize(service.Request{Action: "iam:UpdateUser", Resource: newArn, ResourceAccount: l.Account}); err != nil {
		return err
	}
	if strings.EqualFold(newName, l.Name) {
		return nil
	}
	exists, err := has(c.Tx, directory.KindUser, directory.NameKey(l.Account, newName))
	if err == nil && exists {
		err = alreadyExists("User with name %s already exists.", newName)
	}
	return err
}

// moveUserKeys rewrites what refers to a renamed user by name.
func moveUserKeys(tx store.Tx, l *loaded, oldName, oldKey string) error {
	if oldName == l.Name {
		return nil
	}
	if l.key != oldKey {
		if _, err := tx.Delete(directory.KindUser, oldKey); err != nil {
			return err
		}
		if err := tx.Put(directory.KindUniqueID, l.ID, l.key); err != nil {
			return err
		}
	}
	if err := moveAccessKeys(tx, l, oldKey); err != nil {
		return err
	}
	for _, g := range l.user.Groups {
		if _, err := tx.Delete(groupMemberIndex, memberKey(l.Account, g, oldName)); err != nil {
			return err
		}
		if err := tx.Put(groupMemberIndex, memberKey(l.Account, g, l.Name), l.Name); err != nil {
			return err
		}
	}
	return l.reindex(tx, oldName)
}
