package iam

import (
	"errors"
	"slices"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

// maxRolesPerProfile is how many roles an instance profile may hold.
const maxRolesPerProfile = 1

func init() {
	register(
		&service.Action{Name: "CreateInstanceProfile", IAMAction: "iam:CreateInstanceProfile", Write: true,
			Resource: newProfileResource, Context: requestTags, Handle: createInstanceProfile},
		&service.Action{Name: "GetInstanceProfile", IAMAction: "iam:GetInstanceProfile", Resource: profileResource, Handle: getInstanceProfile},
		&service.Action{Name: "ListInstanceProfiles", IAMAction: "iam:ListInstanceProfiles", Handle: listInstanceProfiles},
		&service.Action{Name: "ListInstanceProfilesForRole", IAMAction: "iam:ListInstanceProfilesForRole",
			Resource: roleEntity.resource, Handle: listInstanceProfilesForRole},
		&service.Action{Name: "AddRoleToInstanceProfile", IAMAction: "iam:AddRoleToInstanceProfile", Write: true,
			Resource: profileResource, Handle: addRoleToInstanceProfile},
		&service.Action{Name: "RemoveRoleFromInstanceProfile", IAMAction: "iam:RemoveRoleFromInstanceProfile", Write: true,
			Resource: profileResource, Handle: removeRoleFromInstanceProfile},
		&service.Action{Name: "DeleteInstanceProfile", IAMAction: "iam:DeleteInstanceProfile", Write: true,
			Resource: profileResource, Handle: deleteInstanceProfile},
	)
}

func newProfileResource(c *service.Call) (string, string, error) {
	return arn(c.Account(), "instance-profile", optionalPath(c, "Path"), c.Params.Get("InstanceProfileName")), c.Account(), nil
}

func profileResource(c *service.Call) (string, string, error) {
	name := c.Params.Get("InstanceProfileName")
	var p directory.InstanceProfile
	if err := c.Tx.Get(directory.KindInstanceProfile, directory.NameKey(c.Account(), name), &p); err == nil {
		return p.Arn, c.Account(), nil
	}
	return arn(c.Account(), "instance-profile", "/", name), c.Account(), nil
}

type profileXML struct {
	Path                string        `xml:"Path"`
	InstanceProfileName string        `xml:"InstanceProfileName"`
	InstanceProfileID   string        `xml:"InstanceProfileId"`
	Arn                 string        `xml:"Arn"`
	CreateDate          string        `xml:"CreateDate"`
	Roles               list[roleXML] `xml:"Roles"`
	Tags                *list[tagXML] `xml:"Tags,omitempty"`
}

// newProfileXML describes a profile with its roles.
func newProfileXML(tx store.Tx, p *directory.InstanceProfile) (profileXML, error) {
	x := profileXML{Path: p.Path, InstanceProfileName: p.Name, InstanceProfileID: p.ID, Arn: p.Arn,
		CreateDate: isoTime(p.CreateDate), Tags: optTags(p.Tags)}
	for _, name := range p.Roles {
		l, err := roleEntity.load(tx, p.Account, name)
		if err != nil {
			return x, err
		}
		x.Roles.Member = append(x.Roles.Member, newRoleXML(l.role, false))
	}
	return x, nil
}

type profileResult struct {
	InstanceProfile profileXML `xml:"InstanceProfile"`
}

func createInstanceProfile(c *service.Call) (any, error) {
	in := newInput(c)
	name, path := in.name("InstanceProfileName", 128), in.path("Path")
	if err := in.err(); err != nil {
		return nil, err
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	p := &directory.InstanceProfile{Account: c.Account(), Name: name, Path: path, ID: directory.NewID("AIPA"),
		Arn: arn(c.Account(), "instance-profile", path, name), CreateDate: c.Now.UTC(), Tags: tags}
	ok, err := c.Tx.Insert(directory.KindInstanceProfile, directory.NameKey(p.Account, name), p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, alreadyExists("Instance Profile %s already exists.", name)
	}
	x, err := newProfileXML(c.Tx, p)
	return &profileResult{x}, err
}

// loadProfile reads an instance profile or returns AWS's NoSuchEntity.
func loadProfile(tx store.Tx, account, name string) (*directory.InstanceProfile, error) {
	var p directory.InstanceProfile
	err := tx.Get(directory.KindInstanceProfile, directory.NameKey(account, name), &p)
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchEntity("Instance Profile %s cannot be found.", name)
	}
	return &p, err
}

// profileParam reads InstanceProfileName (and RoleName when role is set) and loads them.
func profileParam(c *service.Call, role bool) (*directory.InstanceProfile, *loaded, error) {
	in := newInput(c)
	name := in.name("InstanceProfileName", 128)
	roleName := ""
	if role {
		roleName = in.name("RoleName", 64)
	}
	if err := in.err(); err != nil {
		return nil, nil, err
	}
	p, err := loadProfile(c.Tx, c.Account(), name)
	if err != nil || !role {
		return p, nil, err
	}
	l, err := roleEntity.load(c.Tx, c.Account(), roleName)
	return p, l, err
}

func getInstanceProfile(c *service.Call) (any, error) {
	p, _, err := profileParam(c, false)
	if err != nil {
		return nil, err
	}
	x, err := newProfileXML(c.Tx, p)
	return &profileResult{x}, err
}

type listProfilesResult struct {
	InstanceProfiles list[profileXML] `xml:"InstanceProfiles"`
	IsTruncated      bool             `xml:"IsTruncated"`
	Marker           string           `xml:"Marker,omitempty"`
}

func listInstanceProfiles(c *service.Call) (any, error) {
	res := &listProfilesResult{}
	var err error
	res.IsTruncated, res.Marker, err = listByPath(c, directory.KindInstanceProfile, func(p *directory.InstanceProfile) string { return p.Path },
		func(p *directory.InstanceProfile) error {
			x, err := newProfileXML(c.Tx, p)
			res.InstanceProfiles.Member = append(res.InstanceProfiles.Member, x)
			return err
		})
	return res, err
}

// roleProfiles lists the instance profiles that hold a role.
func roleProfiles(tx store.Tx, account, role string) ([]directory.InstanceProfile, error) {
	var out []directory.InstanceProfile
	err := tx.Scan(directory.KindInstanceProfile, account+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var p directory.InstanceProfile
		if err := jsonUnmarshal(data, &p); err != nil {
			return false, err
		}
		if containsFold(p.Roles, role) {
			out = append(out, p)
		}
		return true, nil
	})
	return out, err
}

func listInstanceProfilesForRole(c *service.Call) (any, error) {
	l, err := roleParam(c)
	if err != nil {
		return nil, err
	}
	pg, err := readPage(c)
	if err != nil {
		return nil, err
	}
	profiles, err := roleProfiles(c.Tx, l.Account, l.Name)
	if err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(profiles), pg)
	if err != nil {
		return nil, err
	}
	res := &listProfilesResult{IsTruncated: truncated, Marker: marker}
	for i := start; i < end; i++ {
		x, err := newProfileXML(c.Tx, &profiles[i])
		if err != nil {
			return nil, err
		}
		res.InstanceProfiles.Member = append(res.InstanceProfiles.Member, x)
	}
	return res, nil
}

// addRoleToInstanceProfile also needs iam:PassRole on the role, as AWS requires.
func addRoleToInstanceProfile(c *service.Call) (any, error) {
	p, l, err := profileParam(c, true)
	if err != nil {
		return nil, err
	}
	if len(p.Roles) >= maxRolesPerProfile {
		return nil, limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", maxRolesPerProfile)
	}
	if err := c.Authorize(service.Request{Action: "iam:PassRole", Resource: l.Arn, ResourceAccount: l.Account}); err != nil {
		return nil, err
	}
	p.Roles = append(p.Roles, l.Name)
	return nil, c.Tx.Put(directory.KindInstanceProfile, directory.NameKey(p.Account, p.Name), p)
}

func removeRoleFromInstanceProfile(c *service.Call) (any, error) {
	p, l, err := profileParam(c, true)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(p.Roles, func(r string) bool { return strings.EqualFold(r, l.Name) })
	if i < 0 {
		return nil, noSuchEntity("The role with name %s cannot be found in instance profile %s.", l.Name, p.Name)
	}
	p.Roles = slices.Delete(p.Roles, i, i+1)
	return nil, c.Tx.Put(directory.KindInstanceProfile, directory.NameKey(p.Account, p.Name), p)
}

func deleteInstanceProfile(c *service.Call) (any, error) {
	p, _, err := profileParam(c, false)
	if err != nil {
		return nil, err
	}
	if len(p.Roles) > 0 {
		return nil, deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	}
	_, err = c.Tx.Delete(directory.KindInstanceProfile, directory.NameKey(p.Account, p.Name))
	return nil, err
}
