package organizations

import (
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		action("DescribeEffectivePolicy", onTarget, false, describeEffectivePolicy),
		action("ListEffectivePolicyValidationErrors", onAccount, false, listEffectivePolicyValidationErrors),
		action("ListAccountsWithInvalidEffectivePolicy", onAny, false, listAccountsWithInvalidEffectivePolicy),
	)
}

func effectivePolicyNotFound(typ string) error {
	return orgError("EffectivePolicyNotFoundException", "We can't find an effective policy of type %s for the account: the policy type is not enabled, or no policy of the type applies to the account.", typ)
}

// effectivePolicy merges the policies of a management type that an account
// inherits from the root and its OUs and that are attached to it. It returns "" when
// the type is not enabled or nothing applies, and the latest change among the
// contributing policies and attachments.
func effectivePolicy(tx store.Tx, org *directory.Organization, a *directory.Account, typ string) (string, time.Time, error) {
	var updated time.Time
	if !enabled(org, typ) {
		return "", updated, nil
	}
	targets, err := chain(tx, org, a.ParentID)
	if err != nil {
		return "", updated, err
	}
	var levels [][]string
	for _, target := range append(targets, a.ID) {
		ats, err := attachments(tx, target)
		if err != nil {
			return "", updated, err
		}
		var docs []string
		for _, at := range ats {
			if at.Type != typ {
				continue
			}
			p, err := loadPolicy(tx, at.PolicyID)
			if err != nil {
				return "", updated, err
			}
			if p == nil {
				continue
			}
			docs = append(docs, p.Content)
			for _, t := range []time.Time{p.Updated, at.At} {
				if t.After(updated) {
					updated = t
				}
			}
		}
		levels = append(levels, docs)
	}
	content, err := effectiveContent(levels)
	return content, updated, err
}

type effectivePolicyOut struct {
	PolicyContent        string
	LastUpdatedTimestamp *epoch `json:",omitempty"`
	TargetId             string
	PolicyType           string
}

// describeEffectivePolicy returns an account's effective policy of a management
// type. Any account of the organization may ask for its own; another account's takes
// the management account or a delegation. Roots and OUs are refused: "Specifying an
// organization root or organizational unit (OU) as the target is not supported."
func describeEffectivePolicy(c *service.Call) (any, error) {
	var in struct {
		PolicyType *string
		TargetId   *string
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	org, err := memberOrg(c)
	if err != nil {
		return nil, err
	}
	typ, err := need("PolicyType", in.PolicyType)
	if err != nil {
		return nil, err
	}
	if _, err := checkManagementType("PolicyType", typ); err != nil {
		return nil, err
	}
	target := c.Account()
	if in.TargetId != nil {
		target = *in.TargetId
		switch {
		case rootIDPattern.MatchString(target) || ouIDPattern.MatchString(target):
			return nil, invalidInput("TARGET_NOT_SUPPORTED", "You can't perform the specified operation on that target entity: specifying an organization root or organizational unit (OU) as the target is not supported.")
		case !accountIDPattern.MatchString(target):
			return nil, invalidInput("INVALID_PATTERN_TARGET_ID", "You specified a policy target ID that doesn't match the required pattern: %s.", target)
		}
	}
	if target != c.Account() {
		if _, err := managementOrg(c); err != nil {
			return nil, err
		}
	}
	a, err := loadAccount(c.Tx, target)
	if err != nil {
		return nil, err
	}
	if a == nil || a.ParentID == "" {
		return nil, targetNotFound()
	}
	content, updated, err := effectivePolicy(c.Tx, org, a, typ)
	if err != nil {
		return nil, err
	}
	if content == "" {
		return nil, effectivePolicyNotFound(typ)
	}
	return &struct{ EffectivePolicy effectivePolicyOut }{effectivePolicyOut{content, stamp(updated), a.ID, typ}}, nil
}

type validationErrorOut struct {
	ErrorCode            string
	ErrorMessage         string
	PathToError          string
	ContributingPolicies []string
}

// listEffectivePolicyValidationErrors lists what makes an account's effective policy
// fail validation. iamlocal's doors refuse every policy its merge could not use, so
// an effective policy has no validation errors: the list is empty (README.md).
func listEffectivePolicyValidationErrors(c *service.Call) (any, error) {
	var in struct {
		AccountId  *string
		PolicyType *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	a, err := memberAccount(c, "AccountId", in.AccountId)
	if err != nil {
		return nil, err
	}
	typ, err := need("PolicyType", in.PolicyType)
	if err != nil {
		return nil, err
	}
	if _, err := checkManagementType("PolicyType", typ); err != nil {
		return nil, err
	}
	content, _, err := effectivePolicy(c.Tx, org, a, typ)
	if err != nil {
		return nil, err
	}
	if content == "" {
		return nil, effectivePolicyNotFound(typ)
	}
	p, err := path(c.Tx, org, a.ParentID)
	if err != nil {
		return nil, err
	}
	res, err := page("EffectivePolicyValidationErrors", in.pageIn, []keyed[validationErrorOut]{})
	if err != nil {
		return nil, err
	}
	out := res.(map[string]any)
	out["AccountId"], out["PolicyType"], out["Path"], out["EvaluationTimestamp"] = a.ID, typ, p+a.ID+"/", stamp(c.Now)
	return out, nil
}

// listAccountsWithInvalidEffectivePolicy lists the accounts whose effective policy of
// a type fails validation: none (see listEffectivePolicyValidationErrors), once the
// type is enabled.
func listAccountsWithInvalidEffectivePolicy(c *service.Call) (any, error) {
	var in struct {
		PolicyType *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	typ, err := need("PolicyType", in.PolicyType)
	if err != nil {
		return nil, err
	}
	if _, err := checkManagementType("PolicyType", typ); err != nil {
		return nil, err
	}
	if !enabled(org, typ) {
		return nil, effectivePolicyNotFound(typ)
	}
	res, err := page("Accounts", in.pageIn, []keyed[accountOut]{})
	if err != nil {
		return nil, err
	}
	res.(map[string]any)["PolicyType"] = typ
	return res, nil
}
