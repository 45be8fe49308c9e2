package iam

import (
	"slices"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

// maxGroupsPerUser is how many groups a user may belong to.
const maxGroupsPerUser = 10

// groupMemberIndex lists a group's users: key "<account>/<lower group>/<lower user>",
// value the user's name. User.Groups is the other direction.
const groupMemberIndex = "iamgroupmember"

func memberKey(account, group, user string) string {
	return directory.NameKey(account, group) + "/" + strings.ToLower(user)
}

func init() {
	register(
		&service.Action{Name: "CreateGroup", IAMAction: "iam:CreateGroup", Write: true, Resource: newGroupResource, Handle: createGroup},
		&service.Action{Name: "GetGroup", IAMAction: "iam:GetGroup", Resource: groupEntity.resource, Handle: getGroup},
		&service.Action{Name: "ListGroups", IAMAction: "iam:ListGroups", Handle: listGroups},
		&service.Action{Name: "DeleteGroup", IAMAction: "iam:DeleteGroup", Write: true, Resource: groupEntity.resource, Handle: deleteGroup},
		&service.Action{Name: "AddUserToGroup", IAMAction: "iam:AddUserToGroup", Write: true,
			Resource: groupEntity.resource, Handle: addUserToGroup},
		&service.Action{Name: "RemoveUserFromGroup", IAMAction: "iam:RemoveUserFromGroup", Write: true,
			Resource: groupEntity.resource, Handle: removeUserFromGroup},
		&service.Action{Name: "ListGroupsForUser", IAMAction: "iam:ListGroupsForUser",
			Resource: userEntity.resource, Context: userEntity.context(false), Handle: listGroupsForUser},
		&service.Action{Name: "UpdateGroup", IAMAction: "iam:UpdateGroup", Write: true,
			Resource: groupEntity.resource, Handle: updateGroup},
	)
}

type groupXML struct {
	Path       string `xml:"Path"`
	GroupName  string `xml:"GroupName"`
	GroupID    string `xml:"GroupId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

func newGroupXML(p *directory.Principal) groupXML {
	return groupXML{Path: p.Path, GroupName: p.Name, GroupID: p.ID, Arn: p.Arn, CreateDate: isoTime(p.CreateDate)}
}

func newGroupResource(c *service.Call) (string, string, error) {
	return arn(c.Account(), "group", optionalPath(c, "Path"), c.Params.Get("GroupName")), c.Account(), nil
}

type groupResult struct {
	Group groupXML `xml:"Group"`
}

func createGroup(c *service.Call) (any, error) {
	in := newInput(c)
	name, path := in.name("GroupName", 128), in.path("Path")
	if err := in.err(); err != nil {
		return nil, err
	}
	g := directory.Group{Principal: directory.Principal{Account: c.Account(), Name: name, Path: path,
		ID: directory.NewID("AGPA"), Arn: arn(c.Account(), "group", path, name), CreateDate: c.Now.UTC()}}
	ok, err := c.Tx.Insert(directory.KindGroup, directory.NameKey(c.Account(), name), &g)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, alreadyExists("Group with name %s already exists.", name)
	}
	return &groupResult{newGroupXML(&g.Principal)}, nil
}

type getGroupResult struct {
	Group       groupXML      `xml:"Group"`
	Users       list[userXML] `xml:"Users"`
	IsTruncated bool          `xml:"IsTruncated"`
	Marker      string        `xml:"Marker,omitempty"`
}

func getGroup(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name("GroupName", 128)
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	g, err := groupEntity.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	res := &getGroupResult{Group: newGroupXML(g.Principal)}
	res.IsTruncated, res.Marker, err = scanPage(c.Tx, groupMemberIndex, g.key+"/", p, func(data []byte) (bool, error) {
		var user string
		if err := jsonUnmarshal(data, &user); err != nil {
			return false, err
		}
		u, err := userEntity.load(c.Tx, c.Account(), user)
		if err != nil {
			return false, err
		}
		res.Users.Member = append(res.Users.Member, newUserXML(u.user, false))
		return true, nil
	})
	return res, err
}

type listGroupsResult struct {
	Groups      list[groupXML] `xml:"Groups"`
	IsTruncated bool           `xml:"IsTruncated"`
	Marker      string         `xml:"Marker,omitempty"`
}

func listGroups(c *service.Call) (any, error) {
	res := &listGroupsResult{}
	var err error
	res.IsTruncated, res.Marker, err = listByPath(c, directory.KindGroup, func(g *directory.Group) string { return g.Path },
		func(g *directory.Group) error {
			res.Groups.Member = append(res.Groups.Member, newGroupXML(&g.Principal))
			return nil
		})
	return res, err
}

func deleteGroup(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name("GroupName", 128)
	if err := in.err(); err != nil {
		return nil, err
	}
	g, err := groupEntity.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	members, err := count(c.Tx, groupMemberIndex, g.key+"/")
	if err != nil {
		return nil, err
	}
	switch {
	case members > 0:
		return nil, deleteConflict("Cannot delete entity, must remove users from group first.")
	case len(g.InlinePolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	case len(g.AttachedPolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must detach all policies first.")
	}
	_, err = c.Tx.Delete(directory.KindGroup, g.key)
	return nil, err
}

// membership reads GroupName and UserName and loads both.
func membership(c *service.Call) (g, u *loaded, err error) {
	in := newInput(c)
	group, user := in.name("GroupName", 128), in.name("UserName", 128)
	if err := in.err(); err != nil {
		return nil, nil, err
	}
	if g, err = groupEntity.load(c.Tx, c.Account(), group); err != nil {
		return nil, nil, err
	}
	if u, err = userEntity.load(c.Tx, c.Account(), user); err != nil {
		return nil, nil, err
	}
	return g, u, nil
}

// groupIndex finds a group among a user's groups.
func groupIndex(groups []string, name string) int {
	return slices.IndexFunc(groups, func(g string) bool { return strings.EqualFold(g, name) })
}

func addUserToGroup(c *service.Call) (any, error) {
	g, u, err := membership(c)
	if err != nil {
		return nil, err
	}
	if groupIndex(u.user.Groups, g.Name) >= 0 {
		return nil, nil
	}
	if len(u.user.Groups) >= maxGroupsPerUser {
		return nil, limitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
	}
	u.user.Groups = append(u.user.Groups, g.Name)
	if err := c.Tx.Put(groupMemberIndex, memberKey(c.Account(), g.Name, u.Name), u.Name); err != nil {
		return nil, err
	}
	return nil, u.save(c.Tx)
}

func removeUserFromGroup(c *service.Call) (any, error) {
	g, u, err := membership(c)
	if err != nil {
		return nil, err
	}
	i := groupIndex(u.user.Groups, g.Name)
	if i < 0 {
		return nil, noSuchEntity("The user with name %s is not a member of the group %s.", u.Name, g.Name)
	}
	u.user.Groups = slices.Delete(u.user.Groups, i, i+1)
	if _, err := c.Tx.Delete(groupMemberIndex, memberKey(c.Account(), g.Name, u.Name)); err != nil {
		return nil, err
	}
	return nil, u.save(c.Tx)
}

func listGroupsForUser(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name("UserName", 128)
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	u, err := userEntity.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(u.user.Groups), p)
	if err != nil {
		return nil, err
	}
	res := &listGroupsResult{IsTruncated: truncated, Marker: marker}
	for _, name := range u.user.Groups[start:end] {
		g, err := groupEntity.load(c.Tx, c.Account(), name)
		if err != nil {
			return nil, err
		}
		res.Groups.Member = append(res.Groups.Member, newGroupXML(g.Principal))
	}
	return res, nil
}

// updateGroup renames a group or changes its path, keeping its members and
// policies. AWS: "The person making the request (the principal), must have
// permission to change the group with the old name and the new name."
func updateGroup(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name("GroupName", 128)
	newName := in.optName("NewGroupName", 128)
	newPath := ""
	if c.Params.Has("NewPath") {
		newPath = in.path("NewPath")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	g, err := groupEntity.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	oldName, oldKey := g.Name, g.key
	if newPath != "" {
		g.Path = newPath
	}
	if newName != "" {
		g.Name, g.key = newName, directory.NameKey(g.Account, newName)
	}
	g.Arn = arn(g.Account, "group", g.Path, g.Name)
	if err := c.Authorize(service.Request{Action: "iam:UpdateGroup", Resource: g.Arn, ResourceAccount: g.Account}); err != nil {
		return nil, err
	}
	if g.key != oldKey {
		exists, err := has(c.Tx, directory.KindGroup, g.key)
		if err != nil {
			return nil, err
		}
		if exists {
			return nil, alreadyExists("Group with name %s already exists.", newName)
		}
		if _, err := c.Tx.Delete(directory.KindGroup, oldKey); err != nil {
			return nil, err
		}
	}
	if oldName != g.Name {
		if err := moveMembers(c.Tx, g, oldName, oldKey); err != nil {
			return nil, err
		}
		if err := g.reindex(c.Tx, oldName); err != nil {
			return nil, err
		}
	}
	return nil, g.save(c.Tx)
}

// moveMembers follows a group's rename: its member index and its users' lists.
func moveMembers(tx store.Tx, g *loaded, oldName, oldKey string) error {
	var users []string
	err := tx.Scan(groupMemberIndex, oldKey+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var u string
		if err := jsonUnmarshal(data, &u); err != nil {
			return false, err
		}
		users = append(users, u)
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, name := range users {
		if _, err := tx.Delete(groupMemberIndex, memberKey(g.Account, oldName, name)); err != nil {
			return err
		}
		if err := tx.Put(groupMemberIndex, memberKey(g.Account, g.Name, name), name); err != nil {
			return err
		}
		u, err := userEntity.load(tx, g.Account, name)
		if err != nil {
			return err
		}
		if i := groupIndex(u.user.Groups, oldName); i >= 0 {
			u.user.Groups[i] = g.Name
		}
		if err := u.save(tx); err != nil {
			return err
		}
	}
	return nil
}
