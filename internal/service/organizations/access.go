package organizations

import (
	"context"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

// Who may call an action besides the management account.
type audience uint8

const (
	// managementOnly: the management account alone (the default).
	managementOnly audience = iota
	// delegatedRead: also delegated administrators of any service ("It grants
	// read-only access to Organizations service data", RegisterDelegatedAdministrator)
	// and the principals the organization's resource policy allows.
	delegatedRead
	// delegatedWrite: also the principals the organization's resource policy allows.
	delegatedWrite
)

// audiences lists the actions a member account may be delegated. The read actions
// are those whose API reference says "You can only call this operation from the
// management account or a member account that is a delegated administrator"; the
// whole list is the user guide's "Supported delegation policy actions"
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_delegate_policies.html).
var audiences = map[string]audience{
	"DescribeAccount": delegatedRead, "DescribeCreateAccountStatus": delegatedRead,
	"DescribeOrganizationalUnit": delegatedRead, "DescribePolicy": delegatedRead,
	"DescribeResourcePolicy": delegatedRead, "DescribeEffectivePolicy": delegatedRead,
	"DescribeHandshake": delegatedRead, "ListAWSServiceAccessForOrganization": delegatedRead,
	"ListAccounts": delegatedRead, "ListAccountsForParent": delegatedRead,
	"ListAccountsWithInvalidEffectivePolicy": delegatedRead, "ListChildren": delegatedRead,
	"ListCreateAccountStatus": delegatedRead, "ListDelegatedAdministrators": delegatedRead,
	"ListDelegatedServicesForAccount": delegatedRead, "ListEffectivePolicyValidationErrors": delegatedRead,
	"ListHandshakesForOrganization": delegatedRead, "ListOrganizationalUnitsForParent": delegatedRead,
	"ListParents": delegatedRead, "ListPolicies": delegatedRead, "ListPoliciesForTarget": delegatedRead,
	"ListRoots": delegatedRead, "ListTagsForResource": delegatedRead, "ListTargetsForPolicy": delegatedRead,

	"AttachPolicy": delegatedWrite, "CreatePolicy": delegatedWrite, "DeletePolicy": delegatedWrite,
	"DetachPolicy": delegatedWrite, "DisablePolicyType": delegatedWrite, "EnablePolicyType": delegatedWrite,
	"TagResource": delegatedWrite, "UntagResource": delegatedWrite, "UpdatePolicy": delegatedWrite,
}

// delegable reports whether the organization's resource policy may grant an action
// (PutResourcePolicy refuses any other with UNSUPPORTED_ACTION_IN_RESOURCE_POLICY).
func delegable(name string) bool {
	_, ok := audiences[name]
	return ok || name == "DescribeOrganization" || name == "ListHandshakesForAccount"
}

// access is how a call reaches the organization's data.
type access struct {
	account   string         // the resource account the engine decides in
	policy    *policy.Policy // the organization's resource policy, for a delegated call
	delegated bool           // a member account acting as the management account may
}

// actionKey carries the running action's name in the call's context, for the
// handlers' checks of who may call.
type actionKey struct{}

func withAction(c *service.Call, name string) {
	if c.Ctx == nil {
		c.Ctx = context.Background()
	}
	c.Ctx = context.WithValue(c.Ctx, actionKey{}, name)
}

func actionOf(c *service.Call) string {
	if c.Ctx == nil {
		return ""
	}
	name, _ := c.Ctx.Value(actionKey{}).(string)
	return name
}

// callerAccess decides how a member account's call of an action is authorized:
//   - a delegated administrator of any service calls the read actions with its own
//     identity policies, as the management account does;
//   - any other member calls a delegable action across accounts, as a principal of
//     the organization's resource policy: the engine then needs both the caller's
//     identity policies and the resource policy to allow it;
//   - otherwise the call is in the caller's own account and the handler answers
//     AccessDeniedException.
func callerAccess(c *service.Call, org *directory.Organization, name string) (access, error) {
	acc := access{account: c.Account()}
	if org == nil || c.Account() == org.MasterAccountID || c.Identity == nil {
		return acc, nil
	}
	aud, ok := audiences[name]
	if !ok || ownRequest(c, name) {
		return acc, nil
	}
	a, err := loadAccount(c.Tx, c.Account())
	if err != nil || a == nil || a.ParentID == "" || a.Closed() {
		return acc, err
	}
	if aud == delegatedRead {
		da, err := isDelegatedAdmin(c.Tx, c.Account())
		if err != nil {
			return acc, err
		}
		if da {
			acc.delegated = true
			return acc, nil
		}
	}
	rp, err := loadResourcePolicy(c.Tx)
	if err != nil || rp == nil {
		return acc, err
	}
	p, err := c.Env.Resolver.Policies.Compile(rp.Content, policy.Resource)
	if err != nil {
		return acc, err
	}
	return access{account: org.MasterAccountID, policy: p, delegated: true}, nil
}

// ownRequest reports a member's call about itself, which needs no delegation: its
// own effective policy, a handshake it is a party of.
func ownRequest(c *service.Call, name string) bool {
	r := peek(c)
	switch name {
	case "DescribeEffectivePolicy":
		return r.TargetId == "" || r.TargetId == c.Account()
	case "DescribeHandshake":
		var h handshake
		return c.Tx.Get(directory.KindHandshake, r.HandshakeId, &h) == nil && h.AccountID == c.Account()
	}
	return false
}

// isDelegatedAdmin reports whether an account is a delegated administrator of any
// service.
func isDelegatedAdmin(tx store.Tx, account string) (bool, error) {
	found := false
	err := tx.Scan(directory.KindDelegatedAdmin, account+"/", "", 1, func(string, []byte) (bool, error) {
		found = true
		return false, nil
	})
	return found, err
}

// request describes a further authorization question of the running call (a
// further resource, the tags of a new resource) in the account and with the
// resource policy the call's own question had.
func request(c *service.Call, org *directory.Organization, action, arn string, ctx policy.Context) (service.Request, error) {
	acc, err := callerAccess(c, org, actionOf(c))
	if err != nil {
		return service.Request{}, err
	}
	if ctx == nil {
		ctx = policy.Context{}
	}
	req := service.Request{Action: action, Resource: arn, ResourceAccount: acc.account, Context: ctx}
	if acc.policy != nil {
		req.ResourcePolicy, req.ResourceKind = acc.policy, authz.ResourcePolicy
	}
	return req, nil
}
