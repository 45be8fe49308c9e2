package organizations_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/store"
)

// isDelegatedAdmin asks the directory, as AssumeRoot and IAM's root credentials
// management will.
func isDelegatedAdmin(t *testing.T, s *servertest.Server, account, sp string) bool {
	t.Helper()
	var ok bool
	err := s.Env.Store.Read(ctx, func(tx store.Tx) error {
		var err error
		ok, err = directory.IsDelegatedAdministrator(tx, account, sp)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestTrustedAccess(t *testing.T) {
	f := newOrg(t)
	enable := func(sp string) error {
		_, err := f.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: &sp})
		return err
	}
	list := func() []types.EnabledServicePrincipal {
		t.Helper()
		out, err := f.org.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.EnabledServicePrincipals
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("trusted services of a new organization: %+v", got)
	}
	wantReason(t, "an unknown service", enable("nosuch.amazonaws.com"), "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")
	wantReason(t, "a malformed principal", enable("no such"), "InvalidInputException", "INVALID_PATTERN")
	for range 2 { // enabling twice changes nothing
		if err := enable("guardduty.amazonaws.com"); err != nil {
			t.Fatal(err)
		}
	}
	if err := enable("sso.amazonaws.com"); err != nil {
		t.Fatal(err)
	}
	got := list()
	if len(got) != 2 || aws.ToString(got[0].ServicePrincipal) != "guardduty.amazonaws.com" || got[0].DateEnabled == nil {
		t.Fatalf("ListAWSServiceAccessForOrganization: %+v", got)
	}
	if _, err := f.org.DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String("sso.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	if got := list(); len(got) != 1 {
		t.Fatalf("trusted services after DisableAWSServiceAccess: %+v", got)
	}
	_, err := f.org.DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String("nosuch.amazonaws.com")})
	wantReason(t, "DisableAWSServiceAccess of an unknown service", err, "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")

	// Members may not; consolidated billing organizations may not either.
	member := f.s.Organizations(f.s.RootKey(t, f.createAccount(t, "member")))
	_, err = member.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("sso.amazonaws.com")})
	wantCode(t, "EnableAWSServiceAccess by a member", err, "AccessDeniedException")
	_, err = member.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
	wantCode(t, "ListAWSServiceAccessForOrganization by a member", err, "AccessDeniedException")

	cb := servertest.Start(t, "")
	cbOrg := cb.Organizations(servertest.Root)
	if _, err := cbOrg.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling}); err != nil {
		t.Fatal(err)
	}
	_, err = cbOrg.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("sso.amazonaws.com")})
	wantReason(t, "EnableAWSServiceAccess without all features", err, "ConstraintViolationException", "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")
}

func TestDelegatedAdministrators(t *testing.T) {
	f := newOrg(t)
	var accts []string
	for _, n := range []string{"security", "audit", "logs", "spare"} {
		accts = append(accts, f.createAccount(t, n))
	}
	security := accts[0]
	register := func(account, sp string) error {
		_, err := f.org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: &account, ServicePrincipal: &sp})
		return err
	}
	const gd = "guardduty.amazonaws.com"
	wantReason(t, "before trusted access", register(security, gd), "ConstraintViolationException", "SERVICE_ACCESS_NOT_ENABLED")
	for _, sp := range []string{gd, "config.amazonaws.com", "ram.amazonaws.com"} {
		if _, err := f.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(sp)}); err != nil {
			t.Fatal(err)
		}
	}
	wantReason(t, "the management account", register(servertest.Account, gd), "ConstraintViolationException", "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR")
	wantCode(t, "an account outside the organization", register("999999999999", gd), "AccountNotFoundException")
	wantReason(t, "a malformed account", register("12", gd), "InvalidInputException", "INVALID_PATTERN")
	wantReason(t, "an unknown service", register(security, "nosuch.amazonaws.com"), "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")
	wantReason(t, "a service without delegated administrators", register(security, "ram.amazonaws.com"), "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")
	if err := register(security, gd); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "registered twice", register(security, gd), "AccountAlreadyRegisteredException")
	wantReason(t, "a second GuardDuty administrator", register(accts[1], gd), "ConstraintViolationException", "DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE")
	// AWS Config allows three.
	for _, a := range accts[:3] {
		if err := register(a, "config.amazonaws.com"); err != nil {
			t.Fatal(err)
		}
	}
	wantReason(t, "a fourth Config administrator", register(accts[3], "config.amazonaws.com"), "ConstraintViolationException", "MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED")

	if !isDelegatedAdmin(t, f.s, security, gd) || isDelegatedAdmin(t, f.s, accts[1], gd) || isDelegatedAdmin(t, f.s, security, "iam.amazonaws.com") {
		t.Fatal("IsDelegatedAdministrator disagrees with the registrations")
	}

	admins, err := f.org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{})
	if err != nil || len(admins.DelegatedAdministrators) != 3 {
		t.Fatalf("ListDelegatedAdministrators: %v %+v", err, admins)
	}
	gdAdmins, err := f.org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String(gd)})
	if err != nil || len(gdAdmins.DelegatedAdministrators) != 1 {
		t.Fatalf("ListDelegatedAdministrators guardduty: %v %+v", err, gdAdmins)
	}
	_, err = f.org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String("nosuch.amazonaws.com")})
	wantReason(t, "ListDelegatedAdministrators of an unknown service", err, "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL")
	d := gdAdmins.DelegatedAdministrators[0]
	if aws.ToString(d.Id) != security || aws.ToString(d.Name) != "security" || aws.ToString(d.Email) != "security@example.com" ||
		d.Status != types.AccountStatusActive || d.State != types.AccountStateActive || d.JoinedMethod != types.AccountJoinedMethodCreated ||
		d.DelegationEnabledDate == nil || aws.ToString(d.Arn) != "arn:aws:organizations::111111111111:account/"+f.id+"/"+security {
		t.Fatalf("delegated administrator: %+v", d)
	}
	services, err := f.org.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: &security})
	var sps []string
	for _, s := range services.DelegatedServices {
		sps = append(sps, aws.ToString(s.ServicePrincipal))
	}
	if err != nil || !slices.Equal(sps, []string{"config.amazonaws.com", gd}) || services.DelegatedServices[0].DelegationEnabledDate == nil {
		t.Fatalf("ListDelegatedServicesForAccount: %v %v", err, sps)
	}
	_, err = f.org.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: &accts[3]})
	wantCode(t, "services of an account that administers none", err, "AccountNotRegisteredException")
	_, err = f.org.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String("999999999999")})
	wantCode(t, "services of an unknown account", err, "AccountNotFoundException")

	// A delegated administrator reads the organization ("It grants read-only access to
	// Organizations service data") and changes nothing; other members read nothing.
	da := f.s.Organizations(f.s.RootKey(t, security))
	all, err := da.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil || len(all.Accounts) != 5 {
		t.Fatalf("ListAccounts by a delegated administrator: %v %+v", err, all)
	}
	if _, err := da.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{}); err != nil {
		t.Fatalf("ListDelegatedAdministrators by a delegated administrator: %v", err)
	}
	_, err = da.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &f.root, Name: aws.String("x")})
	wantCode(t, "CreateOrganizationalUnit by a delegated administrator", err, "AccessDeniedException")
	_, err = da.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: &accts[1], ServicePrincipal: aws.String("config.amazonaws.com")})
	wantCode(t, "RegisterDelegatedAdministrator by a delegated administrator", err, "AccessDeniedException")
	spare := f.s.Organizations(f.s.RootKey(t, accts[3]))
	_, err = spare.ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantCode(t, "ListAccounts by another member", err, "AccessDeniedException")

	// A delegated administrator stays in the organization until deregistered.
	_, err = f.org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: &security})
	wantReason(t, "RemoveAccountFromOrganization of a delegated administrator", err, "ConstraintViolationException", "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG")
	_, err = da.LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{})
	wantReason(t, "LeaveOrganization by a delegated administrator", err, "ConstraintViolationException", "CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG")

	// Registrations survive a restart.
	f.s.Close()
	s2 := servertest.Start(t, f.s.DataDir)
	org2 := s2.Organizations(servertest.Root)
	again, err := org2.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String(gd)})
	if err != nil || len(again.DelegatedAdministrators) != 1 || !isDelegatedAdmin(t, s2, security, gd) {
		t.Fatalf("delegated administrators after a restart: %v %+v", err, again)
	}

	deregister := func(account, sp string) error {
		_, err := org2.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: &account, ServicePrincipal: &sp})
		return err
	}
	if err := deregister(security, gd); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deregistered twice", deregister(security, gd), "AccountNotRegisteredException")
	wantCode(t, "deregister an unknown account", deregister("999999999999", gd), "AccountNotFoundException")
	if isDelegatedAdmin(t, s2, security, gd) {
		t.Fatal("still a delegated administrator after DeregisterDelegatedAdministrator")
	}
	for _, a := range accts[:3] {
		if err := deregister(a, "config.amazonaws.com"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := org2.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: &security}); err != nil {
		t.Fatalf("RemoveAccountFromOrganization after deregistering: %v", err)
	}
}
