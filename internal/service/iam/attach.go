package iam

import (
	"slices"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
)

// maxAttached is how many managed policies a user, group or role may have attached.
const maxAttached = 10

func init() {
	for _, e := range []*entity{userEntity, groupEntity, roleEntity} {
		t := e.title
		register(
			&service.Action{Name: "Attach" + t + "Policy", IAMAction: "iam:Attach" + t + "Policy", Write: true,
				Resource: e.resource, Context: contexts(e.context(true), policyArnContext), Handle: e.attachPolicy},
			&service.Action{Name: "Detach" + t + "Policy", IAMAction: "iam:Detach" + t + "Policy", Write: true,
				Resource: e.resource, Context: contexts(e.context(true), policyArnContext), Handle: e.detachPolicy},
			&service.Action{Name: "ListAttached" + t + "Policies", IAMAction: "iam:ListAttached" + t + "Policies",
				Resource: e.resource, Context: e.context(false), Handle: e.listAttached},
		)
	}
	register(&service.Action{Name: "ListEntitiesForPolicy", IAMAction: "iam:ListEntitiesForPolicy",
		Resource: policyResource, Handle: listEntitiesForPolicy})
}

// policyArnContext adds iam:PolicyARN, the managed policy being attached or detached.
func policyArnContext(c *service.Call, ctx policy.Context) error {
	if a := c.Params.Get("PolicyArn"); a != "" {
		ctx.Set("iam:PolicyARN", a)
	}
	return nil
}

// attachParams reads the principal's name and the policy ARN, and loads both.
func (e *entity) attachParams(c *service.Call) (*loaded, *directory.ManagedPolicy, error) {
	in := newInput(c)
	name := in.name(e.param, e.nameMax)
	a := in.arn("PolicyArn")
	if err := in.err(); err != nil {
		return nil, nil, err
	}
	mp, err := loadPolicy(c.Tx, c.Account(), a, true)
	if err != nil {
		return nil, nil, err
	}
	l, err := e.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, nil, err
	}
	return l, mp, l.modifiable()
}

func (e *entity) attachPolicy(c *service.Call) (any, error) {
	l, mp, err := e.attachParams(c)
	if err != nil {
		return nil, err
	}
	if slices.Contains(l.AttachedPolicies, mp.Arn) {
		return nil, nil
	}
	if len(l.AttachedPolicies) >= maxAttached {
		return nil, limitExceeded("Cannot exceed quota for %s: %d", e.quota(), maxAttached)
	}
	l.AttachedPolicies = append(l.AttachedPolicies, mp.Arn)
	mp.AttachmentCount++
	if err := c.Tx.Put(attachIndex, l.indexKey(mp.Arn), entityRef{e.kind, l.Name}); err != nil {
		return nil, err
	}
	if err := savePolicy(c.Tx, mp); err != nil {
		return nil, err
	}
	return nil, l.save(c.Tx)
}

func (e *entity) detachPolicy(c *service.Call) (any, error) {
	l, mp, err := e.attachParams(c)
	if err != nil {
		return nil, err
	}
	i := slices.Index(l.AttachedPolicies, mp.Arn)
	if i < 0 {
		return nil, noSuchEntity("Policy %s was not found.", mp.Arn)
	}
	l.AttachedPolicies = slices.Delete(l.AttachedPolicies, i, i+1)
	mp.AttachmentCount--
	if _, err := c.Tx.Delete(attachIndex, l.indexKey(mp.Arn)); err != nil {
		return nil, err
	}
	if err := savePolicy(c.Tx, mp); err != nil {
		return nil, err
	}
	return nil, l.save(c.Tx)
}

type attachedPolicyXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

func newAttachedXML(policyArn string) attachedPolicyXML {
	return attachedPolicyXML{PolicyName: policyArn[strings.LastIndexByte(policyArn, '/')+1:], PolicyArn: policyArn}
}

type listAttachedResult struct {
	AttachedPolicies list[attachedPolicyXML] `xml:"AttachedPolicies"`
	IsTruncated      bool                    `xml:"IsTruncated"`
	Marker           string                  `xml:"Marker,omitempty"`
}

func (e *entity) listAttached(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name(e.param, e.nameMax)
	prefix := in.pathPrefix()
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	l, err := e.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	arns := slices.DeleteFunc(slices.Clone(l.AttachedPolicies), func(a string) bool {
		_, path, _, _ := policyArnParts(a)
		return !strings.HasPrefix(path, prefix)
	})
	start, end, truncated, marker, err := slicePage(len(arns), p)
	if err != nil {
		return nil, err
	}
	res := &listAttachedResult{IsTruncated: truncated, Marker: marker}
	for _, a := range arns[start:end] {
		res.AttachedPolicies.Member = append(res.AttachedPolicies.Member, newAttachedXML(a))
	}
	return res, nil
}

type policyUserXML struct {
	UserName string `xml:"UserName"`
	UserID   string `xml:"UserId"`
}

type policyGroupXML struct {
	GroupName string `xml:"GroupName"`
	GroupID   string `xml:"GroupId"`
}

type policyRoleXML struct {
	RoleName string `xml:"RoleName"`
	RoleID   string `xml:"RoleId"`
}

type listEntitiesResult struct {
	PolicyGroups list[policyGroupXML] `xml:"PolicyGroups"`
	PolicyUsers  list[policyUserXML]  `xml:"PolicyUsers"`
	PolicyRoles  list[policyRoleXML]  `xml:"PolicyRoles"`
	IsTruncated  bool                 `xml:"IsTruncated"`
	Marker       string               `xml:"Marker,omitempty"`
}

var entityFilterKinds = map[string]string{"User": directory.KindUser, "Group": directory.KindGroup, "Role": directory.KindRole}

func listEntitiesForPolicy(c *service.Call) (any, error) {
	in := newInput(c)
	in.arn("PolicyArn")
	filter := in.enum("EntityFilter", "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")
	usage := in.enum("PolicyUsageFilter", "PermissionsPolicy", "PermissionsBoundary")
	prefix := in.path("PathPrefix")
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	mp, err := loadPolicy(c.Tx, c.Account(), c.Params.Get("PolicyArn"), false)
	if err != nil {
		return nil, err
	}
	found, err := policyEntities(c, mp.Arn, usage, filter, prefix)
	if err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(found), p)
	if err != nil {
		return nil, err
	}
	res := &listEntitiesResult{IsTruncated: truncated, Marker: marker}
	for _, l := range found[start:end] {
		switch l.e {
		case userEntity:
			res.PolicyUsers.Member = append(res.PolicyUsers.Member, policyUserXML{l.Name, l.ID})
		case groupEntity:
			res.PolicyGroups.Member = append(res.PolicyGroups.Member, policyGroupXML{l.Name, l.ID})
		default:
			res.PolicyRoles.Member = append(res.PolicyRoles.Member, policyRoleXML{l.Name, l.ID})
		}
	}
	return res, nil
}

// policyEntities lists the principals of the caller's account that use a managed
// policy — attached, as a boundary or both — in index order (groups, roles, users).
func policyEntities(c *service.Call, policyArn, usage, filter, prefix string) ([]*loaded, error) {
	var out []*loaded
	seen := map[string]bool{}
	for _, index := range []string{attachIndex, boundaryIndex} {
		if (usage == "PermissionsPolicy" && index == boundaryIndex) || (usage == "PermissionsBoundary" && index == attachIndex) {
			continue
		}
		err := c.Tx.Scan(index, indexPrefix(c.Account(), policyArn), "", 0, func(_ string, data []byte) (bool, error) {
			var ref entityRef
			if err := jsonUnmarshal(data, &ref); err != nil {
				return false, err
			}
			id := ref.Kind + "/" + strings.ToLower(ref.Name)
			if seen[id] {
				return true, nil
			}
			seen[id] = true
			if filter != "" && entityFilterKinds[filter] != ref.Kind {
				return true, nil
			}
			l, err := entityOf(ref.Kind).load(c.Tx, c.Account(), ref.Name)
			if err != nil {
				return false, err
			}
			if strings.HasPrefix(l.Path, prefix) {
				out = append(out, l)
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func entityOf(kind string) *entity {
	switch kind {
	case directory.KindUser:
		return userEntity
	case directory.KindGroup:
		return groupEntity
	}
	return roleEntity
}
