package organizations

import (
	"errors"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		action("CreateOrganizationalUnit", onParent, true, createOrganizationalUnit),
		action("DescribeOrganizationalUnit", onOU, false, describeOrganizationalUnit),
		action("UpdateOrganizationalUnit", onOU, true, updateOrganizationalUnit),
		action("DeleteOrganizationalUnit", onOU, true, deleteOrganizationalUnit),
		action("ListOrganizationalUnitsForParent", onParent, false, listOrganizationalUnitsForParent),
		action("ListParents", onChild, false, listParents),
		action("ListChildren", onParent, false, listChildren),
	)
}

type ouOut struct {
	Id   string
	Arn  string
	Name string
	Path string `json:",omitempty"`
}

func newOUOut(tx store.Tx, org *directory.Organization, ou *directory.OU) (ouOut, error) {
	p, err := path(tx, org, ou.ID)
	return ouOut{Id: ou.ID, Arn: ou.Arn, Name: ou.Name, Path: p}, err
}

type ouResult struct {
	OrganizationalUnit ouOut
}

// existingParent reads a ParentId member naming the root or an existing OU.
func existingParent(c *service.Call, org *directory.Organization, v *string) (string, error) {
	parent, err := needID("ParentId", v, rootIDPattern, ouIDPattern)
	if err != nil {
		return "", err
	}
	kind, err := parentKind(c.Tx, org, parent)
	if err != nil {
		return "", err
	}
	if kind == "" {
		return "", parentNotFound()
	}
	return parent, nil
}

// existingOU reads an OrganizationalUnitId member naming an existing OU.
func existingOU(c *service.Call, v *string) (*directory.OU, error) {
	id, err := needID("OrganizationalUnitId", v, ouIDPattern)
	if err != nil {
		return nil, err
	}
	ou, err := loadOU(c.Tx, id)
	if err != nil {
		return nil, err
	}
	if ou == nil {
		return nil, ouNotFound()
	}
	return ou, nil
}

// checkOUName refuses a name another OU under the same parent has.
func checkOUName(tx store.Tx, parent, name, self string) error {
	return scanOUs(tx, func(ou *directory.OU) error {
		if ou.ParentID == parent && ou.Name == name && ou.ID != self {
			return orgError("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
		}
		return nil
	})
}

func createOrganizationalUnit(c *service.Call) (any, error) {
	var in struct {
		ParentId *string
		Name     *string
		Tags     []tagIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	parent, err := needID("ParentId", in.ParentId, rootIDPattern, ouIDPattern)
	if err != nil {
		return nil, err
	}
	name, err := needLength("Name", in.Name, 1, 128)
	if err != nil {
		return nil, err
	}
	tags, err := readTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if kind, err := parentKind(c.Tx, org, parent); err != nil || kind == "" {
		if err == nil {
			err = parentNotFound()
		}
		return nil, err
	}
	ids, err := chain(c.Tx, org, parent)
	if err != nil {
		return nil, err
	}
	if len(ids) > maxOUDepth { // the root and five OUs above the new one
		return nil, constraintViolation("OU_DEPTH_LIMIT_EXCEEDED", "You attempted to create an OU tree that is too many levels deep: OUs nest at most %d levels below the root.", maxOUDepth)
	}
	count := 0
	err = scanOUs(c.Tx, func(ou *directory.OU) error {
		count++
		if ou.ParentID == parent && ou.Name == name {
			return orgError("DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if count >= maxOUs {
		return nil, constraintViolation("OU_NUMBER_LIMIT_EXCEEDED", "You attempted to exceed the number of OUs (%d) that you can have in an organization.", maxOUs)
	}
	ou := &directory.OU{Name: name, ParentID: parent, Tags: tags}
	for {
		ou.ID = "ou-" + strings.TrimPrefix(org.RootID, "r-") + "-" + directory.RandomLower(8)
		ou.Arn = ouArn(org, ou.ID)
		ok, err := c.Tx.Insert(directory.KindOU, ou.ID, ou)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
	}
	if err := authorizeTags(c, org, tags, ou.Arn); err != nil {
		return nil, err
	}
	if err := attachDefaults(c.Tx, org, ou.ID, c.Now); err != nil {
		return nil, err
	}
	out, err := newOUOut(c.Tx, org, ou)
	if err != nil {
		return nil, err
	}
	return &ouResult{out}, nil
}

func describeOrganizationalUnit(c *service.Call) (any, error) {
	var in struct{ OrganizationalUnitId *string }
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	ou, err := existingOU(c, in.OrganizationalUnitId)
	if err != nil {
		return nil, err
	}
	out, err := newOUOut(c.Tx, org, ou)
	if err != nil {
		return nil, err
	}
	return &ouResult{out}, nil
}

func updateOrganizationalUnit(c *service.Call) (any, error) {
	var in struct {
		OrganizationalUnitId *string
		Name                 *string
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	ou, err := existingOU(c, in.OrganizationalUnitId)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := checkLength("Name", *in.Name, 1, 128); err != nil {
			return nil, err
		}
		if err := checkOUName(c.Tx, ou.ParentID, *in.Name, ou.ID); err != nil {
			return nil, err
		}
		ou.Name = *in.Name
		if err := c.Tx.Put(directory.KindOU, ou.ID, ou); err != nil {
			return nil, err
		}
	}
	out, err := newOUOut(c.Tx, org, ou)
	if err != nil {
		return nil, err
	}
	return &ouResult{out}, nil
}

var errStop = errors.New("stop")

func deleteOrganizationalUnit(c *service.Call) (any, error) {
	var in struct{ OrganizationalUnitId *string }
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if _, err := managementOrg(c); err != nil {
		return nil, err
	}
	ou, err := existingOU(c, in.OrganizationalUnitId)
	if err != nil {
		return nil, err
	}
	err = scanOUs(c.Tx, func(o *directory.OU) error {
		if o.ParentID == ou.ID {
			return errStop
		}
		return nil
	})
	if err == nil {
		err = scanAccounts(c.Tx, func(a *directory.Account) error {
			if a.ParentID == ou.ID {
				return errStop
			}
			return nil
		})
	}
	if errors.Is(err, errStop) {
		return nil, orgError("OrganizationalUnitNotEmptyException", "The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.")
	}
	if err != nil {
		return nil, err
	}
	if err := detachAll(c.Tx, ou.ID); err != nil {
		return nil, err
	}
	if _, err := c.Tx.Delete(directory.KindOU, ou.ID); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func listOrganizationalUnitsForParent(c *service.Call) (any, error) {
	var in struct {
		ParentId *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	parent, err := existingParent(c, org, in.ParentId)
	if err != nil {
		return nil, err
	}
	var items []keyed[ouOut]
	err = scanOUs(c.Tx, func(ou *directory.OU) error {
		if ou.ParentID != parent {
			return nil
		}
		out, err := newOUOut(c.Tx, org, ou)
		items = append(items, keyed[ouOut]{ou.ID, out})
		return err
	})
	if err != nil {
		return nil, err
	}
	return page("OrganizationalUnits", in.pageIn, items)
}

type idType struct {
	Id   string
	Type string
}

func listParents(c *service.Call) (any, error) {
	var in struct {
		ChildId *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	child, err := needID("ChildId", in.ChildId, accountIDPattern, ouIDPattern)
	if err != nil {
		return nil, err
	}
	parent := ""
	if ouIDPattern.MatchString(child) {
		ou, err := loadOU(c.Tx, child)
		if err != nil {
			return nil, err
		}
		if ou != nil {
			parent = ou.ParentID
		}
	} else {
		a, err := loadAccount(c.Tx, child)
		if err != nil {
			return nil, err
		}
		if a != nil {
			parent = a.ParentID
		}
	}
	if parent == "" {
		return nil, orgError("ChildNotFoundException", "We can't find an organizational unit (OU) or Amazon Web Services account with the ChildId that you specified.")
	}
	typ := kindOU
	if parent == org.RootID {
		typ = kindRoot
	}
	return page("Parents", in.pageIn, []keyed[idType]{{parent, idType{parent, typ}}})
}

func listChildren(c *service.Call) (any, error) {
	var in struct {
		ParentId  *string
		ChildType *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	parent, err := existingParent(c, org, in.ParentId)
	if err != nil {
		return nil, err
	}
	typ, err := need("ChildType", in.ChildType)
	if err != nil {
		return nil, err
	}
	var items []keyed[idType]
	switch typ {
	case kindAccount:
		err = scanAccounts(c.Tx, func(a *directory.Account) error {
			if a.ParentID == parent {
				items = append(items, keyed[idType]{a.ID, idType{a.ID, kindAccount}})
			}
			return nil
		})
	case kindOU:
		err = scanOUs(c.Tx, func(ou *directory.OU) error {
			if ou.ParentID == parent {
				items = append(items, keyed[idType]{ou.ID, idType{ou.ID, kindOU}})
			}
			return nil
		})
	default:
		return nil, invalidInput("INVALID_ENUM", "You specified an invalid value for ChildType: ACCOUNT or ORGANIZATIONAL_UNIT.")
	}
	if err != nil {
		return nil, err
	}
	return page("Children", in.pageIn, items)
}
