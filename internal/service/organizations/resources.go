package organizations

import (
	"encoding/json"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

// What an action's IAM permission is checked on, as in the Service Authorization
// Reference: nothing ("*"), or the resource that one request member names.
const (
	onAny       = ""
	onAccount   = "AccountId"
	onOU        = "OrganizationalUnitId"
	onParent    = "ParentId"
	onChild     = "ChildId"
	onTarget    = "TargetId"
	onRoot      = "RootId"
	onPolicy    = "PolicyId"
	onHandshake = "HandshakeId"
	onResource  = "ResourceId"
)

// requestIDs are the members the front door's authorization reads, leniently:
// Handle validates the request itself.
type requestIDs struct {
	AccountId, OrganizationalUnitId, ParentId, ChildId, TargetId string
	RootId, PolicyId, HandshakeId, ResourceId                    string
	Type, PolicyType, Filter                                     string
	Tags                                                         []tagIn
	TagKeys                                                      []string
}

func peek(c *service.Call) requestIDs {
	var v requestIDs
	_ = json.Unmarshal(c.Body, &v)
	return v
}

func (r requestIDs) get(member string) string {
	switch member {
	case onAccount:
		return r.AccountId
	case onOU:
		return r.OrganizationalUnitId
	case onParent:
		return r.ParentId
	case onChild:
		return r.ChildId
	case onTarget:
		return r.TargetId
	case onRoot:
		return r.RootId
	case onPolicy:
		return r.PolicyId
	case onHandshake:
		return r.HandshakeId
	case onResource:
		return r.ResourceId
	}
	return ""
}

// action describes one Organizations operation: its IAM action is
// organizations:<name>, checked on the resource the member `on` names.
func action(name, on string, write bool, handle func(c *service.Call) (any, error)) *service.Action {
	return &service.Action{
		Name: name, IAMAction: "organizations:" + name, Write: write, Handle: handle,
		Resource: func(c *service.Call) (string, string, error) { return resourceArn(c, on) },
		Context:  func(c *service.Call, ctx policy.Context) error { return requestContext(c, on, ctx) },
	}
}

// resourceArn is the ARN of the resource a request names; "*" when there is no
// organization yet or the member is absent. The request is authorized as one in the
// caller's own account: Organizations' resources have no resource-based policies,
// and members call DescribeOrganization or AcceptHandshake with their identity
// policies alone.
func resourceArn(c *service.Call, on string) (string, string, error) {
	org, err := loadOrg(c.Tx)
	if err != nil || org == nil {
		return "*", c.Account(), err
	}
	id := peek(c).get(on)
	if id == "" {
		return "*", c.Account(), nil
	}
	switch on {
	case onAccount:
		return accountArn(org, id), c.Account(), nil
	case onOU:
		return ouArn(org, id), c.Account(), nil
	case onHandshake:
		return handshakeArn(org, id), c.Account(), nil
	case onPolicy:
		return storedPolicyArn(c.Tx, org, id), c.Account(), nil
	case onResource:
		if policyIDPattern.MatchString(id) {
			return storedPolicyArn(c.Tx, org, id), c.Account(), nil
		}
	}
	return targetArn(org, id), c.Account(), nil
}

func storedPolicyArn(tx store.Tx, org *directory.Organization, id string) string {
	typ := typeSCP
	if p, err := loadPolicy(tx, id); err == nil && p != nil {
		typ = p.Type
	}
	return policyArn(org, typ, id)
}

// requestContext adds the condition keys of Organizations: organizations:PolicyType,
// aws:RequestTag/*, aws:TagKeys and the named resource's aws:ResourceTag/*.
func requestContext(c *service.Call, on string, ctx policy.Context) error {
	r := peek(c)
	typ := r.Type
	if typ == "" {
		typ = r.PolicyType
	}
	if typ == "" {
		typ = r.Filter
	}
	if typ == "" && r.PolicyId != "" {
		if p, err := loadPolicy(c.Tx, r.PolicyId); err == nil && p != nil {
			typ = p.Type
		}
	}
	if typ != "" {
		ctx.Set("organizations:PolicyType", typ)
	}
	var tags []directory.Tag
	for _, t := range r.Tags {
		if t.Key != nil && t.Value != nil {
			tags = append(tags, directory.Tag{Key: *t.Key, Value: *t.Value})
		}
	}
	tagContext(tags, ctx)
	if len(r.TagKeys) > 0 {
		ctx.Set("aws:TagKeys", r.TagKeys...)
	}
	if id := r.get(on); id != "" {
		org, err := loadOrg(c.Tx)
		if err != nil || org == nil {
			return err
		}
		have, err := resourceTags(c.Tx, org, id)
		if err != nil {
			return err
		}
		for _, t := range have {
			ctx.Set("aws:ResourceTag/"+t.Key, t.Value)
		}
	}
	return nil
}

// resourceTags returns the tags of a root, OU, account or policy; nil when the id
// names nothing.
func resourceTags(tx store.Tx, org *directory.Organization, id string) ([]directory.Tag, error) {
	switch {
	case id == org.RootID:
		return org.RootTags, nil
	case ouIDPattern.MatchString(id):
		ou, err := loadOU(tx, id)
		if err != nil || ou == nil {
			return nil, err
		}
		return ou.Tags, nil
	case policyIDPattern.MatchString(id):
		p, err := loadPolicy(tx, id)
		if err != nil || p == nil {
			return nil, err
		}
		return p.Tags, nil
	case accountIDPattern.MatchString(id):
		a, err := loadAccount(tx, id)
		if err != nil || a == nil || a.ParentID == "" {
			return nil, err
		}
		return a.Tags, nil
	}
	return nil, nil
}
