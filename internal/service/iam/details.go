package iam

import (
	"fmt"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		&service.Action{Name: "GetAccountAuthorizationDetails", IAMAction: "iam:GetAccountAuthorizationDetails", Handle: getAccountAuthorizationDetails},
	)
}

type policyDetailXML struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

type userDetailXML struct {
	Path                    string                  `xml:"Path"`
	UserName                string                  `xml:"UserName"`
	UserID                  string                  `xml:"UserId"`
	Arn                     string                  `xml:"Arn"`
	CreateDate              string                  `xml:"CreateDate"`
	UserPolicyList          list[policyDetailXML]   `xml:"UserPolicyList"`
	GroupList               list[string]            `xml:"GroupList"`
	AttachedManagedPolicies list[attachedPolicyXML] `xml:"AttachedManagedPolicies"`
	PermissionsBoundary     *boundary               `xml:"PermissionsBoundary,omitempty"`
	Tags                    *list[tagXML]           `xml:"Tags,omitempty"`
}

type groupDetailXML struct {
	Path                    string                  `xml:"Path"`
	GroupName               string                  `xml:"GroupName"`
	GroupID                 string                  `xml:"GroupId"`
	Arn                     string                  `xml:"Arn"`
	CreateDate              string                  `xml:"CreateDate"`
	GroupPolicyList         list[policyDetailXML]   `xml:"GroupPolicyList"`
	AttachedManagedPolicies list[attachedPolicyXML] `xml:"AttachedManagedPolicies"`
}

type roleDetailXML struct {
	Path                     string                  `xml:"Path"`
	RoleName                 string                  `xml:"RoleName"`
	RoleID                   string                  `xml:"RoleId"`
	Arn                      string                  `xml:"Arn"`
	CreateDate               string                  `xml:"CreateDate"`
	AssumeRolePolicyDocument string                  `xml:"AssumeRolePolicyDocument"`
	InstanceProfileList      list[profileXML]        `xml:"InstanceProfileList"`
	RolePolicyList           list[policyDetailXML]   `xml:"RolePolicyList"`
	AttachedManagedPolicies  list[attachedPolicyXML] `xml:"AttachedManagedPolicies"`
	PermissionsBoundary      *boundary               `xml:"PermissionsBoundary,omitempty"`
	Tags                     *list[tagXML]           `xml:"Tags,omitempty"`
	RoleLastUsed             *roleLastUsedXML        `xml:"RoleLastUsed,omitempty"`
}

type managedDetailXML struct {
	PolicyName                    string                 `xml:"PolicyName"`
	PolicyID                      string                 `xml:"PolicyId"`
	Arn                           string                 `xml:"Arn"`
	Path                          string                 `xml:"Path"`
	DefaultVersionID              string                 `xml:"DefaultVersionId"`
	AttachmentCount               int                    `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int                    `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool                   `xml:"IsAttachable"`
	Description                   string                 `xml:"Description,omitempty"`
	CreateDate                    string                 `xml:"CreateDate"`
	UpdateDate                    string                 `xml:"UpdateDate"`
	PolicyVersionList             list[policyVersionXML] `xml:"PolicyVersionList"`
}

type detailsResult struct {
	UserDetailList  list[userDetailXML]    `xml:"UserDetailList"`
	GroupDetailList list[groupDetailXML]   `xml:"GroupDetailList"`
	RoleDetailList  list[roleDetailXML]    `xml:"RoleDetailList"`
	Policies        list[managedDetailXML] `xml:"Policies"`
	IsTruncated     bool                   `xml:"IsTruncated"`
	Marker          string                 `xml:"Marker,omitempty"`
}

// inlineDetails lists inline policies by name with their encoded documents.
func inlineDetails(policies map[string]string) list[policyDetailXML] {
	var out list[policyDetailXML]
	for _, name := range sortedNames(policies) {
		out.Member = append(out.Member, policyDetailXML{name, encodeDoc(policies[name])})
	}
	return out
}

func attachedDetails(arns []string) list[attachedPolicyXML] {
	var out list[attachedPolicyXML]
	for _, a := range arns {
		out.Member = append(out.Member, newAttachedXML(a))
	}
	return out
}

func boundaryXML(p *directory.Principal) *boundary {
	if p.PermissionsBoundary == "" {
		return nil
	}
	return &boundary{"PermissionsBoundaryPolicy", p.PermissionsBoundary}
}

// details gathers what GetAccountAuthorizationDetails reports, in its order: users,
// groups, roles, then managed policies (the account's, then the AWS managed ones
// the account uses).
type details struct {
	tx      store.Tx
	account string
	items   []any // *directory.User, *directory.Group, *directory.Role, *directory.ManagedPolicy
}

func (d *details) scan(kind, prefix string, newObj func() any) error {
	return d.tx.Scan(kind, prefix, "", 0, func(_ string, data []byte) (bool, error) {
		obj := newObj()
		if err := jsonUnmarshal(data, obj); err != nil {
			return false, err
		}
		d.items = append(d.items, obj)
		return true, nil
	})
}

func (d *details) gather(filter []string) error {
	want := func(t string) bool { return len(filter) == 0 || containsFold(filter, t) }
	steps := []struct {
		typ, kind, prefix string
		newObj            func() any
	}{
		{"User", directory.KindUser, d.account + "/", func() any { return &directory.User{} }},
		{"Group", directory.KindGroup, d.account + "/", func() any { return &directory.Group{} }},
		{"Role", directory.KindRole, d.account + "/", func() any { return &directory.Role{} }},
		{"LocalManagedPolicy", directory.KindPolicy, "arn:aws:iam::" + d.account + ":policy/", func() any { return &directory.ManagedPolicy{} }},
	}
	for _, s := range steps {
		if want(s.typ) {
			if err := d.scan(s.kind, s.prefix, s.newObj); err != nil {
				return err
			}
		}
	}
	if !want("AWSManagedPolicy") {
		return nil
	}
	all, err := scopedPolicies(d.tx, d.account, "AWS")
	for _, mp := range all {
		if mp.AttachmentCount > 0 || mp.BoundaryCount > 0 {
			d.items = append(d.items, mp)
		}
	}
	return err
}

func getAccountAuthorizationDetails(c *service.Call) (any, error) {
	filter, err := c.Params.List("Filter")
	if err != nil {
		return nil, err
	}
	in := newInput(c)
	for i, f := range filter {
		in.v.Check(containsFold([]string{"User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"}, f), f,
			fmt.Sprintf("filter.%d.member", i+1), "satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	d := &details{tx: c.Tx, account: c.Account()}
	if err := d.gather(filter); err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(d.items), p)
	if err != nil {
		return nil, err
	}
	res := &detailsResult{IsTruncated: truncated, Marker: marker}
	return res, d.render(res, d.items[start:end])
}

func (d *details) render(res *detailsResult, items []any) error {
	var profiles map[string][]profileXML
	for _, item := range items {
		switch v := item.(type) {
		case *directory.User:
			res.UserDetailList.Member = append(res.UserDetailList.Member, userDetail(v))
		case *directory.Group:
			res.GroupDetailList.Member = append(res.GroupDetailList.Member, groupDetailXML{Path: v.Path, GroupName: v.Name,
				GroupID: v.ID, Arn: v.Arn, CreateDate: isoTime(v.CreateDate), GroupPolicyList: inlineDetails(v.InlinePolicies),
				AttachedManagedPolicies: attachedDetails(v.AttachedPolicies)})
		case *directory.Role:
			if profiles == nil {
				var err error
				if profiles, err = d.profilesByRole(); err != nil {
					return err
				}
			}
			res.RoleDetailList.Member = append(res.RoleDetailList.Member, roleDetail(v, profiles[strings.ToLower(v.Name)]))
		case *directory.ManagedPolicy:
			awsDocuments(v) // every version is listed with its document; read only for the page shown
			res.Policies.Member = append(res.Policies.Member, managedDetail(v))
		}
	}
	return nil
}

func userDetail(u *directory.User) userDetailXML {
	x := userDetailXML{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.Arn, CreateDate: isoTime(u.CreateDate),
		UserPolicyList: inlineDetails(u.InlinePolicies), AttachedManagedPolicies: attachedDetails(u.AttachedPolicies),
		PermissionsBoundary: boundaryXML(&u.Principal), Tags: optTags(u.Tags)}
	x.GroupList.Member = append([]string{}, u.Groups...)
	return x
}

func roleDetail(r *directory.Role, profiles []profileXML) roleDetailXML {
	full := newRoleXML(r, true)
	x := roleDetailXML{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.Arn, CreateDate: full.CreateDate,
		AssumeRolePolicyDocument: full.AssumeRolePolicyDocument, RolePolicyList: inlineDetails(r.InlinePolicies),
		AttachedManagedPolicies: attachedDetails(r.AttachedPolicies), PermissionsBoundary: full.PermissionsBoundary,
		Tags: full.Tags, RoleLastUsed: full.RoleLastUsed}
	x.InstanceProfileList.Member = profiles
	return x
}

func managedDetail(mp *directory.ManagedPolicy) managedDetailXML {
	px := newPolicyXML(mp)
	x := managedDetailXML{PolicyName: px.PolicyName, PolicyID: px.PolicyID, Arn: px.Arn, Path: px.Path,
		DefaultVersionID: px.DefaultVersionID, AttachmentCount: px.AttachmentCount,
		PermissionsBoundaryUsageCount: px.PermissionsBoundaryUsageCount, IsAttachable: true,
		Description: mp.Description, CreateDate: px.CreateDate, UpdateDate: px.UpdateDate}
	for i := len(mp.Versions) - 1; i >= 0; i-- {
		x.PolicyVersionList.Member = append(x.PolicyVersionList.Member, newVersionXML(mp, &mp.Versions[i], true))
	}
	return x
}

// profilesByRole maps lower-case role names to the instance profiles holding them.
func (d *details) profilesByRole() (map[string][]profileXML, error) {
	out := map[string][]profileXML{}
	err := d.tx.Scan(directory.KindInstanceProfile, d.account+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var p directory.InstanceProfile
		if err := jsonUnmarshal(data, &p); err != nil {
			return false, err
		}
		x, err := newProfileXML(d.tx, &p)
		for _, r := range p.Roles {
			out[strings.ToLower(r)] = append(out[strings.ToLower(r)], x)
		}
		return err == nil, err
	})
	return out, err
}
