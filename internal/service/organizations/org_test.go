package organizations_test

import (
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func TestOrganizationLifecycle(t *testing.T) {
	s := servertest.Start(t, "")
	org := s.Organizations(servertest.Root)

	_, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantCode(t, "DescribeOrganization before CreateOrganization", err, "AWSOrganizationsNotInUseException")
	_, err = org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantCode(t, "ListAccounts before CreateOrganization", err, "AWSOrganizationsNotInUseException")
	_, err = org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	wantCode(t, "DeleteOrganization before CreateOrganization", err, "AWSOrganizationsNotInUseException")

	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: "HALF"})
	wantReason(t, "CreateOrganization FeatureSet HALF", err, "InvalidInputException", "INVALID_ENUM")

	out, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll})
	if err != nil {
		t.Fatal(err)
	}
	o := out.Organization
	id := aws.ToString(o.Id)
	if !regexp.MustCompile(`^o-[a-z0-9]{10}$`).MatchString(id) {
		t.Fatalf("organization id %q", id)
	}
	if aws.ToString(o.Arn) != "arn:aws:organizations::111111111111:organization/"+id ||
		aws.ToString(o.MasterAccountId) != servertest.Account ||
		aws.ToString(o.MasterAccountArn) != "arn:aws:organizations::111111111111:account/"+id+"/111111111111" ||
		o.FeatureSet != types.OrganizationFeatureSetAll || aws.ToString(o.MasterAccountEmail) == "" {
		t.Fatalf("CreateOrganization: %+v", o)
	}

	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	wantCode(t, "second CreateOrganization", err, "AlreadyInOrganizationException")

	d, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || aws.ToString(d.Organization.Id) != id {
		t.Fatalf("DescribeOrganization: %v %+v", err, d)
	}

	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("ListRoots: %v %+v", err, roots)
	}
	r := roots.Roots[0]
	rootID := aws.ToString(r.Id)
	if !regexp.MustCompile(`^r-[a-z0-9]{4}$`).MatchString(rootID) || aws.ToString(r.Name) != "Root" ||
		aws.ToString(r.Arn) != "arn:aws:organizations::111111111111:root/"+id+"/"+rootID || len(r.PolicyTypes) != 0 {
		t.Fatalf("root: %+v", r)
	}

	// The management account is in the organization, under the root.
	acct, err := org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(servertest.Account)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(acct.Account.Arn) != "arn:aws:organizations::111111111111:account/"+id+"/111111111111" ||
		acct.Account.Status != types.AccountStatusActive || acct.Account.JoinedTimestamp == nil {
		t.Fatalf("DescribeAccount management: %+v", acct.Account)
	}

	// Not empty while a member account exists.
	f := &fixture{s: s, org: org, root: rootID, id: id}
	member := f.createAccount(t, "member")
	_, err = org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	wantCode(t, "DeleteOrganization with a member", err, "OrganizationNotEmptyException")
	_, err = org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(servertest.Account)})
	wantCode(t, "RemoveAccountFromOrganization management", err, "MasterCannotLeaveOrganizationException")
	if _, err := org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: &member}); err != nil {
		t.Fatal(err)
	}
	_, err = org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: &member})
	wantCode(t, "RemoveAccountFromOrganization twice", err, "AccountNotFoundException")

	f.createOU(t, rootID, "leftover")
	if _, err := org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantCode(t, "DescribeOrganization after DeleteOrganization", err, "AWSOrganizationsNotInUseException")

	// A new organization starts afresh.
	out2, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out2.Organization.Id) == id {
		t.Fatal("the new organization reuses the old id")
	}
	roots, _ = org.ListRoots(ctx, &organizations.ListRootsInput{})
	ous, err := org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: roots.Roots[0].Id})
	if err != nil || len(ous.OrganizationalUnits) != 0 {
		t.Fatalf("OUs of the new organization: %v %+v", err, ous)
	}
}

func TestPolicyTypes(t *testing.T) {
	f := newOrg(t)
	ou := f.createOU(t, f.root, "ou")
	acct := f.createAccount(t, "a1")

	for _, target := range []string{f.root, ou, acct} {
		if got := f.attachedIDs(t, target, types.PolicyTypeServiceControlPolicy); len(got) != 0 {
			t.Fatalf("SCPs on %s before enabling: %v", target, got)
		}
	}

	_, err := f.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String("r-zzzz"), PolicyType: types.PolicyTypeServiceControlPolicy})
	wantCode(t, "EnablePolicyType unknown root", err, "RootNotFoundException")
	_, err = f.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String("root"), PolicyType: types.PolicyTypeServiceControlPolicy})
	wantReason(t, "EnablePolicyType malformed root", err, "InvalidInputException", "INVALID_PATTERN")
	_, err = f.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: &f.root, PolicyType: "NO_SUCH_POLICY"})
	wantReason(t, "EnablePolicyType unknown type", err, "InvalidInputException", "INVALID_ENUM_POLICY_TYPE")
	_, err = f.org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: &f.root, PolicyType: types.PolicyTypeServiceControlPolicy})
	wantCode(t, "DisablePolicyType not enabled", err, "PolicyTypeNotEnabledException")

	out, err := f.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: &f.root, PolicyType: types.PolicyTypeServiceControlPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Root.PolicyTypes) != 1 || out.Root.PolicyTypes[0].Type != types.PolicyTypeServiceControlPolicy || out.Root.PolicyTypes[0].Status != types.PolicyTypeStatusEnabled {
		t.Fatalf("EnablePolicyType root: %+v", out.Root)
	}
	_, err = f.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: &f.root, PolicyType: types.PolicyTypeServiceControlPolicy})
	wantCode(t, "EnablePolicyType twice", err, "PolicyTypeAlreadyEnabledException")
	f.enable(t, types.PolicyTypeResourceControlPolicy)

	for _, target := range []string{f.root, ou, acct, servertest.Account} {
		if got := f.attachedIDs(t, target, types.PolicyTypeServiceControlPolicy); len(got) != 1 || got[0] != "p-FullAWSAccess" {
			t.Fatalf("SCPs on %s after enabling: %v", target, got)
		}
		if got := f.attachedIDs(t, target, types.PolicyTypeResourceControlPolicy); len(got) != 1 || got[0] != "p-RCPFullAWSAccess" {
			t.Fatalf("RCPs on %s after enabling: %v", target, got)
		}
	}
	roots, _ := f.org.ListRoots(ctx, &organizations.ListRootsInput{})
	if len(roots.Roots[0].PolicyTypes) != 2 {
		t.Fatalf("ListRoots policy types: %+v", roots.Roots[0].PolicyTypes)
	}

	// Disabling detaches every SCP; re-enabling restores FullAWSAccess alone.
	deny := f.createPolicy(t, types.PolicyTypeServiceControlPolicy, "deny-s3", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`)
	f.attach(t, deny, ou)
	f.attach(t, deny, acct)
	if _, err := f.org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: &f.root, PolicyType: types.PolicyTypeServiceControlPolicy}); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{f.root, ou, acct} {
		if got := f.attachedIDs(t, target, types.PolicyTypeServiceControlPolicy); len(got) != 0 {
			t.Fatalf("SCPs on %s after disabling: %v", target, got)
		}
		if got := f.attachedIDs(t, target, types.PolicyTypeResourceControlPolicy); len(got) != 1 {
			t.Fatalf("RCPs on %s after disabling SCPs: %v", target, got)
		}
	}
	_, err = f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &deny, TargetId: &acct})
	wantCode(t, "AttachPolicy with the type disabled", err, "PolicyTypeNotEnabledException")
	f.enable(t, types.PolicyTypeServiceControlPolicy)
	for _, target := range []string{f.root, ou, acct} {
		if got := f.attachedIDs(t, target, types.PolicyTypeServiceControlPolicy); len(got) != 1 || got[0] != "p-FullAWSAccess" {
			t.Fatalf("SCPs on %s after re-enabling: %v", target, got)
		}
	}

	// A management policy type starts with nothing attached.
	if _, err = f.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: &f.root, PolicyType: types.PolicyTypeTagPolicy}); err != nil {
		t.Fatal(err)
	}
	if got := f.attachedIDs(t, acct, types.PolicyTypeTagPolicy); len(got) != 0 {
		t.Fatalf("tag policies on the account after enabling: %v", got)
	}
	tp, err := f.org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeTagPolicy})
	if err != nil || len(tp.Policies) != 0 {
		t.Fatalf("ListPolicies TAG_POLICY: %v %+v", err, tp)
	}
}

func TestConsolidatedBilling(t *testing.T) {
	s := servertest.Start(t, "")
	org := s.Organizations(servertest.Root)
	out, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling})
	if err != nil {
		t.Fatal(err)
	}
	if out.Organization.FeatureSet != types.OrganizationFeatureSetConsolidatedBilling || len(out.Organization.AvailablePolicyTypes) != 0 {
		t.Fatalf("CreateOrganization: %+v", out.Organization)
	}
	roots, _ := org.ListRoots(ctx, &organizations.ListRootsInput{})
	_, err = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: roots.Roots[0].Id, PolicyType: types.PolicyTypeServiceControlPolicy})
	wantCode(t, "EnablePolicyType without all features", err, "PolicyTypeNotAvailableForOrganizationException")
}
