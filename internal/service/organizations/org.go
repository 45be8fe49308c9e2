package organizations

import (
	"fmt"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		action("CreateOrganization", onAny, true, createOrganization),
		action("DescribeOrganization", onAny, false, describeOrganization),
		action("DeleteOrganization", onAny, true, deleteOrganization),
		action("ListRoots", onAny, false, listRoots),
		action("EnablePolicyType", onRoot, true, enablePolicyType),
		action("DisablePolicyType", onRoot, true, disablePolicyType),
	)
}

type policyTypeSummary struct {
	Type   string
	Status string
}

type organizationOut struct {
	Id                   string
	Arn                  string
	FeatureSet           string
	MasterAccountArn     string
	MasterAccountId      string
	MasterAccountEmail   string
	AvailablePolicyTypes []policyTypeSummary
}

func newOrganizationOut(org *directory.Organization) organizationOut {
	out := organizationOut{Id: org.ID, Arn: org.Arn, FeatureSet: org.FeatureSet,
		MasterAccountArn: accountArn(org, org.MasterAccountID), MasterAccountId: org.MasterAccountID,
		MasterAccountEmail: org.MasterEmail, AvailablePolicyTypes: []policyTypeSummary{}}
	// AvailablePolicyTypes is deprecated; AWS reports the SCP type in it for
	// organizations with all features, whatever the root says.
	if org.FeatureSet == "ALL" {
		out.AvailablePolicyTypes = append(out.AvailablePolicyTypes, policyTypeSummary{typeSCP, "ENABLED"})
	}
	return out
}

type organizationResult struct {
	Organization organizationOut
}

type rootOut struct {
	Id          string
	Arn         string
	Name        string
	PolicyTypes []policyTypeSummary
}

func newRootOut(org *directory.Organization) rootOut {
	out := rootOut{Id: org.RootID, Arn: org.RootArn, Name: rootName, PolicyTypes: []policyTypeSummary{}}
	for _, t := range org.EnabledPolicyType {
		out.PolicyTypes = append(out.PolicyTypes, policyTypeSummary{t, "ENABLED"})
	}
	return out
}

func createOrganization(c *service.Call) (any, error) {
	var in struct{ FeatureSet *string }
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	featureSet := "ALL"
	if in.FeatureSet != nil {
		featureSet = *in.FeatureSet
		if featureSet != "ALL" && featureSet != "CONSOLIDATED_BILLING" {
			return nil, invalidInput("INVALID_ENUM", "You specified an invalid value for FeatureSet: ALL or CONSOLIDATED_BILLING.")
		}
	}
	existing, err := loadOrg(c.Tx)
	if err != nil {
		return nil, err
	}
	caller, err := loadAccount(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if c.Account() == existing.MasterAccountID || (caller != nil && caller.ParentID != "") {
			return nil, orgError("AlreadyInOrganizationException", "The provided account is already a member of an organization.")
		}
		return nil, accessDenied() // iamlocal holds one organization
	}
	if c.Account() != c.Env.ManagementAccount {
		return nil, accessDenied() // only the server's management account creates it
	}
	if caller == nil {
		caller = &directory.Account{ID: c.Account(), Name: managementName, Email: "root@" + c.Account() + ".iamlocal", Status: "ACTIVE"}
	}
	id := "o-" + directory.RandomLower(10)
	org := &directory.Organization{ID: id, Arn: fmt.Sprintf("arn:aws:organizations::%s:organization/%s", c.Account(), id),
		MasterAccountID: c.Account(), MasterEmail: caller.Email, FeatureSet: featureSet,
		RootID: "r-" + directory.RandomLower(4), CreatedAt: c.Now.UTC()}
	org.RootArn = targetArn(org, org.RootID)
	for _, p := range awsManagedPolicies {
		if err := c.Tx.Put(directory.KindOrgPolicy, p.ID, p); err != nil {
			return nil, err
		}
	}
	caller.ParentID, caller.JoinedMethod, caller.JoinedAt = org.RootID, "INVITED", c.Now.UTC()
	if err := c.Tx.Put(directory.KindAccount, caller.ID, caller); err != nil {
		return nil, err
	}
	if err := c.Tx.Put(directory.KindOrganization, "org", org); err != nil {
		return nil, err
	}
	return &organizationResult{newOrganizationOut(org)}, nil
}

func describeOrganization(c *service.Call) (any, error) {
	if err := decode(c, &struct{}{}); err != nil {
		return nil, err
	}
	org, err := memberOrg(c)
	if err != nil {
		return nil, err
	}
	return &organizationResult{newOrganizationOut(org)}, nil
}

func deleteOrganization(c *service.Call) (any, error) {
	if err := decode(c, &struct{}{}); err != nil {
		return nil, err
	}
	org, err := managementOrg(c)
	if err != nil {
		return nil, err
	}
	members := 0
	if err := scanAccounts(c.Tx, func(a *directory.Account) error {
		if a.ID != org.MasterAccountID {
			members++
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if members > 0 {
		return nil, orgError("OrganizationNotEmptyException", "The organization isn't empty. To delete an organization, you must first remove all accounts except the management account.")
	}
	if err := checkNoActiveTransfer(c); err != nil {
		return nil, err
	}
	for _, kind := range []string{directory.KindOU, directory.KindOrgPolicy, directory.KindOrgAttachment, directory.KindHandshake,
		directory.KindCreateStatus, directory.KindServiceAccess, directory.KindDelegatedAdmin, directory.KindOrgResource, directory.KindTransfer} {
		if err := deleteKind(c.Tx, kind); err != nil {
			return nil, err
		}
	}
	mgmt, err := loadAccount(c.Tx, org.MasterAccountID)
	if err != nil {
		return nil, err
	}
	if mgmt != nil {
		mgmt.ParentID, mgmt.JoinedMethod = "", ""
		if err := c.Tx.Put(directory.KindAccount, mgmt.ID, mgmt); err != nil {
			return nil, err
		}
	}
	if _, err := c.Tx.Delete(directory.KindOrganization, "org"); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// deleteKind removes every object of a kind.
func deleteKind(tx store.Tx, kind string) error {
	var keys []string
	if err := tx.Scan(kind, "", "", 0, func(key string, _ []byte) (bool, error) {
		keys = append(keys, key)
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := tx.Delete(kind, k); err != nil {
			return err
		}
	}
	return nil
}

func listRoots(c *service.Call) (any, error) {
	var in struct{ pageIn }
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	return page("Roots", in.pageIn, []keyed[rootOut]{{org.RootID, newRootOut(org)}})
}

type policyTypeIn struct {
	RootId     *string
	PolicyType *string
}

// readPolicyTypeRequest checks EnablePolicyType and DisablePolicyType requests.
func readPolicyTypeRequest(c *service.Call) (*directory.Organization, string, policyType, error) {
	var in policyTypeIn
	if err := decode(c, &in); err != nil {
		return nil, "", policyType{}, err
	}
	org, err := managementOrg(c)
	if err != nil {
		return nil, "", policyType{}, err
	}
	rootID, err := needID("RootId", in.RootId, rootIDPattern)
	if err != nil {
		return nil, "", policyType{}, err
	}
	typ, err := need("PolicyType", in.PolicyType)
	if err != nil {
		return nil, "", policyType{}, err
	}
	pt, err := checkPolicyType("PolicyType", typ)
	if err != nil {
		return nil, "", pt, err
	}
	if rootID != org.RootID {
		return nil, "", pt, orgError("RootNotFoundException", "We can't find a root with the RootId that you specified.")
	}
	return org, typ, pt, nil
}

// enablePolicyType enables a policy type in the root. An authorization policy type
// starts from its AWS managed full-access policy alone on every root, OU and
// account; a management policy type starts with nothing attached, and a type that a
// service enforces needs that service's trusted access first.
func enablePolicyType(c *service.Call) (any, error) {
	org, typ, pt, err := readPolicyTypeRequest(c)
	if err != nil {
		return nil, err
	}
	if org.FeatureSet != "ALL" {
		return nil, orgError("PolicyTypeNotAvailableForOrganizationException", "You can't use the specified policy type with the feature set currently enabled for this organization.")
	}
	if enabled(org, typ) {
		return nil, orgError("PolicyTypeAlreadyEnabledException", "The specified policy type is already enabled.")
	}
	if pt.service != "" {
		on, err := serviceAccessEnabled(c.Tx, pt.service)
		if err != nil {
			return nil, err
		}
		if !on {
			return nil, constraintViolation("SERVICE_ACCESS_NOT_ENABLED", "You attempted to enable a policy type before you enabled service access. Call the EnableAWSServiceAccess API first for %s.", pt.service)
		}
	}
	if err := detachType(c.Tx, typ); err != nil {
		return nil, err
	}
	org.EnabledPolicyType = append(org.EnabledPolicyType, typ)
	if err := c.Tx.Put(directory.KindOrganization, "org", org); err != nil {
		return nil, err
	}
	if pt.full != "" {
		full, err := loadPolicy(c.Tx, pt.full)
		if err != nil {
			return nil, err
		}
		targets := []string{org.RootID}
		if err := scanOUs(c.Tx, func(ou *directory.OU) error { targets = append(targets, ou.ID); return nil }); err != nil {
			return nil, err
		}
		if err := scanAccounts(c.Tx, func(a *directory.Account) error { targets = append(targets, a.ID); return nil }); err != nil {
			return nil, err
		}
		for _, t := range targets {
			if err := attach(c.Tx, t, full, c.Now); err != nil {
				return nil, err
			}
		}
	}
	return &struct{ Root rootOut }{newRootOut(org)}, nil
}

func disablePolicyType(c *service.Call) (any, error) {
	org, typ, _, err := readPolicyTypeRequest(c)
	if err != nil {
		return nil, err
	}
	if !enabled(org, typ) {
		return nil, orgError("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
	}
	kept := org.EnabledPolicyType[:0]
	for _, t := range org.EnabledPolicyType {
		if t != typ {
			kept = append(kept, t)
		}
	}
	org.EnabledPolicyType = kept
	if err := c.Tx.Put(directory.KindOrganization, "org", org); err != nil {
		return nil, err
	}
	if err := detachType(c.Tx, typ); err != nil {
		return nil, err
	}
	return &struct{ Root rootOut }{newRootOut(org)}, nil
}

// detachType removes every attachment of a policy type.
func detachType(tx store.Tx, typ string) error {
	ats, err := attachments(tx, "")
	if err != nil {
		return err
	}
	for _, at := range ats {
		if at.Type != typ {
			continue
		}
		if _, err := tx.Delete(directory.KindOrgAttachment, attachmentKey(at.TargetID, at.PolicyID)); err != nil {
			return err
		}
	}
	return nil
}
