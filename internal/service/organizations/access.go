package organizations

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		action("PutResourcePolicy", onResourcePolicy, true, putResourcePolicy),
		action("DescribeResourcePolicy", onAny, false, describeResourcePolicy),
		action("DeleteResourcePolicy", onAny, true, deleteResourcePolicy),
	)
}

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

// maxResourcePolicySize is the model's limit of ResourcePolicyContent.
const maxResourcePolicySize = 40000

const resourcePolicyKey = "policy"

// resourcePolicy is the organization's resource-based delegation policy.
type resourcePolicy struct {
	ID      string
	Arn     string
	Content string
	Tags    []directory.Tag
	Updated time.Time
}

func loadResourcePolicy(tx store.Tx) (*resourcePolicy, error) {
	var rp resourcePolicy
	if err := tx.Get(directory.KindOrgResource, resourcePolicyKey, &rp); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &rp, nil
}

func storedResourcePolicyArn(tx store.Tx, org *directory.Organization) string {
	if rp, err := loadResourcePolicy(tx); err == nil && rp != nil {
		return rp.Arn
	}
	return "*"
}

func resourcePolicyNotFound() error {
	return orgError("ResourcePolicyNotFoundException", "We can't find a resource policy request with the parameter that you specified.")
}

type resourcePolicyOut struct {
	ResourcePolicySummary struct{ Id, Arn string }
	Content               string
}

func (rp *resourcePolicy) result() any {
	var out resourcePolicyOut
	out.ResourcePolicySummary.Id, out.ResourcePolicySummary.Arn, out.Content = rp.ID, rp.Arn, rp.Content
	return &struct{ ResourcePolicy resourcePolicyOut }{out}
}

// putResourcePolicy creates or replaces the delegation policy. The document is
// validated as a resource-based policy by the policy package's door, then against
// what Organizations delegates: organizations actions of the delegation list,
// Organizations resources, AWS principals.
func putResourcePolicy(c *service.Call) (any, error) {
	var in struct {
		Content *string
		Tags    []tagIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	content, err := needLength("Content", in.Content, 1, maxResourcePolicySize)
	if err != nil {
		return nil, err
	}
	tags, err := readTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if err := checkResourcePolicy(c, org, content); err != nil {
		return nil, err
	}
	rp, err := loadResourcePolicy(c.Tx)
	if err != nil {
		return nil, err
	}
	if rp == nil {
		rp = &resourcePolicy{ID: "rp-" + directory.RandomLower(8), Tags: tags}
		rp.Arn = fmt.Sprintf("arn:aws:organizations::%s:resourcepolicy/%s/%s", org.MasterAccountID, org.ID, rp.ID)
		if err := authorizeTags(c, org, tags, rp.Arn); err != nil {
			return nil, err
		}
	} else if len(tags) > 0 {
		// "Calls with tags apply to the initial creation of the resource policy,
		// otherwise an exception is thrown" (PutResourcePolicy, Tags).
		return nil, invalidInput("UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED",
			"You can specify Tags only when you create the resource policy; use TagResource to tag the existing policy %s.", rp.ID)
	}
	rp.Content, rp.Updated = content, c.Now.UTC()
	if err := c.Tx.Put(directory.KindOrgResource, resourcePolicyKey, rp); err != nil {
		return nil, err
	}
	return rp.result(), nil
}

// checkResourcePolicy validates a delegation policy.
func checkResourcePolicy(c *service.Call, org *directory.Organization, content string) error {
	p, err := c.Env.Resolver.Policies.Compile(content, policy.Resource)
	if err != nil {
		reason := "INVALID_RESOURCE_POLICY_JSON"
		var pe *policy.Error
		if errors.As(err, &pe) && (pe.Element == "Principal" || pe.Element == "NotPrincipal") {
			reason = "INVALID_PRINCIPAL"
		}
		return invalidInput(reason, "The resource policy is not valid: %s", strings.TrimPrefix(err.Error(), "MalformedPolicyDocument: "))
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		principals, _ := st.Principals()
		for _, pr := range principals {
			if pr != "*" && !strings.HasPrefix(pr, "AWS:") {
				return invalidInput("INVALID_PRINCIPAL", "Statement %d names the principal %s: a delegation policy names AWS accounts and their principals.", i, pr)
			}
		}
		actions, not := st.Actions()
		if not {
			return invalidInput("UNSUPPORTED_ACTION_IN_RESOURCE_POLICY", "Statement %d uses NotAction: a delegation policy lists the Organizations actions it delegates.", i)
		}
		for _, a := range actions {
			if !delegatesSome(a) {
				return invalidInput("UNSUPPORTED_ACTION_IN_RESOURCE_POLICY", "Statement %d: %s is not an Organizations action that can be delegated.", i, a)
			}
		}
		resources, _ := st.Resources()
		for _, r := range resources {
			if r != "*" && !strings.HasPrefix(r, "arn:aws:organizations::") {
				return invalidInput("UNSUPPORTED_RESOURCE_IN_RESOURCE_POLICY", "Statement %d names the resource %s: a delegation policy names Organizations resources.", i, r)
			}
		}
	}
	return nil
}

// delegatesSome reports whether an action pattern covers at least one of the
// actions a delegation policy may grant.
func delegatesSome(pattern string) bool {
	prefix, name, ok := strings.Cut(strings.ToLower(pattern), ":")
	if !ok || prefix != "organizations" {
		return false
	}
	for _, a := range delegableNames() {
		if wildcard(name, strings.ToLower(a)) {
			return true
		}
	}
	return false
}

// delegableNames lists the actions a delegation policy may grant, sorted.
func delegableNames() []string {
	var out []string
	for name := range Actions {
		if delegable(name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// wildcard matches IAM's action wildcards: * any run of characters, ? one.
func wildcard(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcard(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			_, n := utf8.DecodeRuneInString(s)
			pattern, s = pattern[1:], s[n:]
		default:
			if s == "" || pattern[0] != s[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}

func describeResourcePolicy(c *service.Call) (any, error) {
	if _, err := decodeForManagement(c, &struct{}{}); err != nil {
		return nil, err
	}
	rp, err := loadResourcePolicy(c.Tx)
	if err != nil {
		return nil, err
	}
	if rp == nil {
		return nil, resourcePolicyNotFound()
	}
	return rp.result(), nil
}

func deleteResourcePolicy(c *service.Call) (any, error) {
	if _, err := decodeForManagement(c, &struct{}{}); err != nil {
		return nil, err
	}
	ok, err := c.Tx.Delete(directory.KindOrgResource, resourcePolicyKey)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, resourcePolicyNotFound()
	}
	return struct{}{}, nil
}
