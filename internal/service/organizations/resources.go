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
	onTransfer  = "Id" // a responsibility transfer
	// onResourcePolicy is the organization's resource policy, which no member names.
	onResourcePolicy = "-resourcepolicy"
	// onNewPolicy is the policy CreatePolicy makes: any policy of its Type
	// ("arn:aws:organizations::<management>:policy/o-…/<type>/*").
	onNewPolicy = "-newpolicy"
)

// requestIDs are the members the front door's authorization reads, leniently:
// Handle validates the request itself.
type requestIDs struct {
	AccountId, OrganizationalUnitId, ParentId, ChildId, TargetId string
	RootId, PolicyId, HandshakeId, ResourceId, Id                string
	Type, PolicyType, Filter, ServicePrincipal                   string
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
	case onTransfer:
		return r.Id
	}
	return ""
}

// action describes one Organizations operation: its IAM action is
// organizations:<name>, checked on the resource the member `on` names, in the
// account callerAccess says (with the organization's resource policy for a member
// account's delegated call).
func action(name, on string, write bool, handle func(c *service.Call) (any, error)) *service.Action {
	return &service.Action{
		Name: name, IAMAction: "organizations:" + name, Write: write,
		Resource: func(c *service.Call) (string, string, error) { return resourceArn(c, name, on) },
		ResourcePolicy: func(c *service.Call) (*policy.Policy, error) {
			org, err := loadOrg(c.Tx)
			if err != nil {
				return nil, err
			}
			acc, err := callerAccess(c, org, name)
			return acc.policy, err
		},
		Context: func(c *service.Call, ctx policy.Context) error { return requestContext(c, name, on, ctx) },
		Handle: func(c *service.Call) (any, error) {
			withAction(c, name)
			return handle(c)
		},
	}
}

// resourceArn is the ARN of the resource a request names; "*" when there is no
// organization yet or the member is absent. The request is authorized in the
// caller's own account — members call DescribeOrganization or AcceptHandshake with
// their identity policies alone — except a member's delegated call, which is
// authorized in the management account with the organization's resource policy.
func resourceArn(c *service.Call, name, on string) (string, string, error) {
	org, err := loadOrg(c.Tx)
	if err != nil || org == nil {
		return "*", c.Account(), err
	}
	acc, err := callerAccess(c, org, name)
	if err != nil {
		return "", "", err
	}
	r := peek(c)
	switch on {
	case onResourcePolicy:
		return storedResourcePolicyArn(c.Tx, org), acc.account, nil
	case onNewPolicy:
		if _, ok := policyTypes[r.Type]; ok {
			return policyArn(org, r.Type, "*"), acc.account, nil
		}
	}
	id := r.get(on)
	if id == "" {
		return "*", acc.account, nil
	}
	switch on {
	case onAccount:
		return accountArn(org, id), acc.account, nil
	case onOU:
		return ouArn(org, id), acc.account, nil
	case onHandshake:
		return storedHandshakeArn(c.Tx, org, id), acc.account, nil
	case onPolicy:
		return storedPolicyArn(c.Tx, org, id), acc.account, nil
	case onTransfer:
		return storedTransferArn(c, org, id), acc.account, nil
	case onResource:
		switch {
		case policyIDPattern.MatchString(id):
			return storedPolicyArn(c.Tx, org, id), acc.account, nil
		case resourcePolicyIDPattern.MatchString(id):
			return storedResourcePolicyArn(c.Tx, org), acc.account, nil
		case transferIDPattern.MatchString(id):
			return storedTransferArn(c, org, id), acc.account, nil
		}
	}
	return targetArn(org, id), acc.account, nil
}

func storedPolicyArn(tx store.Tx, org *directory.Organization, id string) string {
	typ := typeSCP
	if p, err := loadPolicy(tx, id); err == nil && p != nil {
		typ = p.Type
	}
	return policyArn(org, typ, id)
}

// requestContext adds the condition keys of Organizations: organizations:PolicyType,
// organizations:ServicePrincipal, organizations:TransferType and TransferDirection,
// aws:RequestTag/*, aws:TagKeys and the named resource's aws:ResourceTag/*.
func requestContext(c *service.Call, name, on string, ctx policy.Context) error {
	r := peek(c)
	if transferActions[name] {
		setTransferContext(c, name, r, ctx)
	} else if typ := requestPolicyType(c, r); typ != "" {
		ctx.Set("organizations:PolicyType", typ)
	}
	if r.ServicePrincipal != "" {
		ctx.Set("organizations:ServicePrincipal", r.ServicePrincipal)
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

// requestPolicyType is the policy type a request names or acts on.
func requestPolicyType(c *service.Call, r requestIDs) string {
	for _, typ := range []string{r.Type, r.PolicyType, r.Filter} {
		if typ != "" {
			return typ
		}
	}
	if r.PolicyId != "" {
		if p, err := loadPolicy(c.Tx, r.PolicyId); err == nil && p != nil {
			return p.Type
		}
	}
	return ""
}

// resourceTags returns the tags of a root, OU, account, policy, resource policy or
// transfer; nil when the id names nothing.
func resourceTags(tx store.Tx, org *directory.Organization, id string) ([]directory.Tag, error) {
	r, err := taggedResource(tx, org, id)
	if err != nil || r == nil {
		return nil, err
	}
	return r.tags, nil
}
