package iam

import (
	"errors"
	"net/http"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Centralized root access: the organization-wide IAM features RootCredentialsManagement
// and RootSessions, kept in directory.KindOrgFeatures for STS AssumeRoot.

func init() {
	register(
		&service.Action{Name: "ListOrganizationsFeatures", IAMAction: "iam:ListOrganizationsFeatures", Handle: listOrganizationsFeatures},
		&service.Action{Name: "EnableOrganizationsRootCredentialsManagement", IAMAction: "iam:EnableOrganizationsRootCredentialsManagement",
			Write: true, Handle: setOrgFeature(func(f *directory.OrgFeatures) *bool { return &f.RootCredentialsManagement }, true)},
		&service.Action{Name: "DisableOrganizationsRootCredentialsManagement", IAMAction: "iam:DisableOrganizationsRootCredentialsManagement",
			Write: true, Handle: setOrgFeature(func(f *directory.OrgFeatures) *bool { return &f.RootCredentialsManagement }, false)},
		&service.Action{Name: "EnableOrganizationsRootSessions", IAMAction: "iam:EnableOrganizationsRootSessions",
			Write: true, Handle: setOrgFeature(func(f *directory.OrgFeatures) *bool { return &f.RootSessions }, true)},
		&service.Action{Name: "DisableOrganizationsRootSessions", IAMAction: "iam:DisableOrganizationsRootSessions",
			Write: true, Handle: setOrgFeature(func(f *directory.OrgFeatures) *bool { return &f.RootSessions }, false)},
	)
}

// The errors of these actions have no code of their own in IAM's model: their code
// is the shape's name, HTTP 400, and their message the model's description.
func orgFeatureError(code, msg string) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, code, "%s", msg)
}

var (
	errOrgNotFound = orgFeatureError("OrganizationNotFoundException",
		"The request was rejected because no organization is associated with your account.")
	errNotAllFeatures = orgFeatureError("OrganizationNotInAllFeaturesModeException",
		"The request was rejected because your organization does not have All features enabled.")
	errServiceAccess = orgFeatureError("ServiceAccessNotEnabledException",
		"The request was rejected because trusted access is not enabled for IAM in Organizations.")
	errNotManagementOrDelegated = orgFeatureError("AccountNotManagementOrDelegatedAdministratorException",
		"The request was rejected because the account making the request is not the management account or delegated administrator account for centralized root access.")
	errNotManagement = orgFeatureError("CallerIsNotManagementAccountException",
		"The request was rejected because the account making the request is not the management account for the organization.")
)

// featureOrg checks the preconditions, in the order the model lists them: an
// organization the caller's account belongs to, with all features, the caller in the
// management account (enabling and disabling: the management account alone), and
// trusted access for IAM.
func featureOrg(c *service.Call, managementOnly bool) (*directory.Organization, error) {
	var org directory.Organization
	err := c.Tx.Get(directory.KindOrganization, "org", &org)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errOrgNotFound
	}
	if err != nil {
		return nil, err
	}
	if c.Account() != org.MasterAccountID {
		var a directory.Account
		if err := c.Tx.Get(directory.KindAccount, c.Account(), &a); err != nil || a.ParentID == "" {
			return nil, errOrgNotFound
		}
	}
	if org.FeatureSet != "" && org.FeatureSet != "ALL" {
		return nil, errNotAllFeatures
	}
	if c.Account() != org.MasterAccountID {
		if managementOnly {
			return nil, errNotManagement
		}
		return nil, errNotManagementOrDelegated
	}
	on, err := directory.TrustedAccess(c.Tx, "iam.amazonaws.com")
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, errServiceAccess
	}
	return &org, nil
}

type orgFeaturesResult struct {
	OrganizationId  string       `xml:"OrganizationId"`
	EnabledFeatures list[string] `xml:"EnabledFeatures"`
}

func featuresResult(org *directory.Organization, f directory.OrgFeatures) *orgFeaturesResult {
	res := &orgFeaturesResult{OrganizationId: org.ID}
	res.EnabledFeatures.Member = []string{}
	if f.RootCredentialsManagement {
		res.EnabledFeatures.Member = append(res.EnabledFeatures.Member, "RootCredentialsManagement")
	}
	if f.RootSessions {
		res.EnabledFeatures.Member = append(res.EnabledFeatures.Member, "RootSessions")
	}
	return res
}

func listOrganizationsFeatures(c *service.Call) (any, error) {
	org, err := featureOrg(c, false)
	if err != nil {
		return nil, err
	}
	f, err := directory.LoadOrgFeatures(c.Tx, org.ID)
	if err != nil {
		return nil, err
	}
	return featuresResult(org, f), nil
}

// setOrgFeature turns a feature on or off; doing it again changes nothing.
func setOrgFeature(field func(*directory.OrgFeatures) *bool, on bool) func(*service.Call) (any, error) {
	return func(c *service.Call) (any, error) {
		org, err := featureOrg(c, true)
		if err != nil {
			return nil, err
		}
		f, err := directory.LoadOrgFeatures(c.Tx, org.ID)
		if err != nil {
			return nil, err
		}
		*field(&f) = on
		if err := c.Tx.Put(directory.KindOrgFeatures, org.ID, f); err != nil {
			return nil, err
		}
		return featuresResult(org, f), nil
	}
}
