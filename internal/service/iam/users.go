package iam

import (
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
	)
}

type userXML struct {
	Path                string    `xml:"Path"`
	UserName            string    `xml:"UserName"`
	UserID              string    `xml:"UserId"`
	Arn                 string    `xml:"Arn"`
	CreateDate          string    `xml:"CreateDate"`
	PermissionsBoundary *boundary `xml:"PermissionsBoundary,omitempty"`
	Tags                []tagXML  `xml:"Tags>member,omitempty"`
}

type boundary struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

func newUserXML(u *directory.User, withTags bool) userXML {
	x := userXML{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.Arn, CreateDate: isoTime(u.CreateDate)}
	if u.PermissionsBoundary != "" {
		x.PermissionsBoundary = &boundary{"PermissionsBoundaryPolicy", u.PermissionsBoundary}
	}
	if withTags {
		x.Tags = tagsXML(u.Tags)
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
	if name == "" && c.Identity != nil && c.Identity.Caller.Kind == policy.User {
		name = c.Identity.Caller.Name
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
	if err := v.err(); err != nil {
		return nil, err
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	u := directory.User{Principal: directory.Principal{Account: c.Account(), Name: name, Path: path,
		ID: directory.NewID("AIDA"), Arn: arn(c.Account(), "user", path, name), CreateDate: c.Now.UTC(), Tags: tags}}
	if b := c.Params.Get("PermissionsBoundary"); b != "" {
		if err := checkBoundary(c.Tx, b); err != nil {
			return nil, err
		}
		u.PermissionsBoundary = b
	}
	ok, err := c.Tx.Insert(directory.KindUser, directory.NameKey(u.Account, name), &u)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, alreadyExists("User with name %s already exists.", name)
	}
	if err := c.Tx.Put(directory.KindUniqueID, u.ID, directory.NameKey(u.Account, name)); err != nil {
		return nil, err
	}
	return &createUserResult{newUserXML(&u, true)}, nil
}

// checkBoundary makes sure a permissions boundary names an existing managed policy.
func checkBoundary(tx store.Tx, policyArn string) error {
	if _, ok := directory.AWSManagedDocument(policyArn); ok {
		return nil
	}
	var mp directory.ManagedPolicy
	if err := tx.Get(directory.KindPolicy, policyArn, &mp); err != nil {
		return invalidInput("ARN %s is not valid.", policyArn)
	}
	return nil
}

type getUserResult struct {
	User userXML `xml:"User"`
}

func getUser(c *service.Call) (any, error) {
	name := c.Params.Get("UserName")
	if name == "" {
		if c.Identity.Caller.Kind != policy.User {
			return nil, invalidInput("Must specify userName when calling with non-User credentials")
		}
		name = c.Identity.Caller.Name
	}
	var u directory.User
	if err := get(c.Tx, directory.KindUser, c.Account(), name, &u, "user"); err != nil {
		return nil, err
	}
	return &getUserResult{newUserXML(&u, true)}, nil
}

type listUsersResult struct {
	Users       []userXML `xml:"Users>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

func listUsers(c *service.Call) (any, error) {
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	prefix := optionalPath(c, "PathPrefix")
	res := &listUsersResult{Users: []userXML{}}
	res.IsTruncated, res.Marker, err = scanPage(c.Tx, directory.KindUser, c.Account()+"/", p, func(data []byte) (bool, error) {
		var u directory.User
		if err := jsonUnmarshal(data, &u); err != nil {
			return false, err
		}
		if !strings.HasPrefix(u.Path, prefix) {
			return false, nil
		}
		res.Users = append(res.Users, newUserXML(&u, false))
		return true, nil
	})
	return res, err
}

func deleteUser(c *service.Call) (any, error) {
	name, err := required(c, "UserName")
	if err != nil {
		return nil, err
	}
	var u directory.User
	if err := get(c.Tx, directory.KindUser, c.Account(), name, &u, "user"); err != nil {
		return nil, err
	}
	switch {
	case len(u.InlinePolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	case len(u.AttachedPolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must detach all policies first.")
	case len(u.Groups) > 0:
		return nil, deleteConflict("Cannot delete entity, must remove users from group first.")
	}
	hasKeys := false
	err = c.Tx.Scan(userKeyIndex, directory.NameKey(u.Account, u.Name)+"/", "", 1, func(string, []byte) (bool, error) {
		hasKeys = true
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if hasKeys {
		return nil, deleteConflict("Cannot delete entity, must delete access keys first.")
	}
	if _, err := c.Tx.Delete(directory.KindUser, directory.NameKey(u.Account, u.Name)); err != nil {
		return nil, err
	}
	_, err = c.Tx.Delete(directory.KindUniqueID, u.ID)
	return nil, err
}

// userKeyIndex lists a user's access keys: key "<account>/<user>/<key id>".
const userKeyIndex = "userkey"
