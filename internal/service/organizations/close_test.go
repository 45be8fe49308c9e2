package organizations_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/store"
)

func TestCloseAccount(t *testing.T) {
	f := newOrg(t)
	acct := f.createAccount(t, "closing")
	rootKey := f.s.RootKey(t, acct)
	session, err := assume(f.s, adminUser(t, f.s, "admin"), acct, "OrganizationAccountAccessRole")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.IAM(session).ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatalf("ListRoles before closing: %v", err)
	}

	closeAcct := func(c *organizations.Client, id string) error {
		_, err := c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: &id})
		return err
	}
	wantCode(t, "CloseAccount by the member itself", closeAcct(f.s.Organizations(rootKey), acct), "AccessDeniedException")
	wantReason(t, "CloseAccount of the management account", closeAcct(f.org, servertest.Account), "ConstraintViolationException", "CANNOT_CLOSE_MANAGEMENT_ACCOUNT")
	wantCode(t, "CloseAccount of an unknown account", closeAcct(f.org, "999999999999"), "AccountNotFoundException")
	wantReason(t, "CloseAccount of a malformed id", closeAcct(f.org, "12345"), "InvalidInputException", "INVALID_PATTERN")
	if err := closeAcct(f.org, acct); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "CloseAccount twice", closeAcct(f.org, acct), "AccountAlreadyClosedException")

	d, err := f.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: &acct})
	if err != nil || d.Account.Status != types.AccountStatusSuspended || d.Account.State != types.AccountStateSuspended {
		t.Fatalf("DescribeAccount after CloseAccount: %v %+v", err, d)
	}
	list, err := f.org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil || len(list.Accounts) != 2 {
		t.Fatalf("ListAccounts after CloseAccount: %v %+v", err, list)
	}

	// Its principals can no longer act: neither its root user nor a role session.
	_, err = f.s.IAM(rootKey).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, "ListUsers by the closed account's root user", err, "InvalidClientTokenId")
	_, err = f.s.IAM(session).ListRoles(ctx, &iam.ListRolesInput{})
	wantCode(t, "ListRoles by a session in the closed account", err, "InvalidClientTokenId")

	// After the 90-day post-closure period, State is CLOSED and Status stays SUSPENDED.
	err = writeStore(f.s, func(tx store.Tx) error {
		var a directory.Account
		if err := tx.Get(directory.KindAccount, acct, &a); err != nil {
			return err
		}
		a.ClosedAt = time.Now().Add(-91 * 24 * time.Hour)
		return tx.Put(directory.KindAccount, acct, &a)
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err = f.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: &acct})
	if err != nil || d.Account.Status != types.AccountStatusSuspended || d.Account.State != types.AccountStateClosed {
		t.Fatalf("DescribeAccount 91 days after CloseAccount: %v %+v", err, d)
	}

	// A closed account cannot be a delegated administrator.
	if _, err := f.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("sso.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	_, err = f.org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: &acct, ServicePrincipal: aws.String("sso.amazonaws.com")})
	wantReason(t, "RegisterDelegatedAdministrator of a closed account", err, "ConstraintViolationException", "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR")
}

// TestCloseAccountQuota fills the 30-day quota, "the higher of either 250 or 20% of
// the member accounts in your organization", with closed accounts written into the
// store.
func TestCloseAccountQuota(t *testing.T) {
	f := newOrg(t)
	open := f.createAccount(t, "last")
	closed := func(at time.Time) error {
		return writeStore(f.s, func(tx store.Tx) error {
			for i := range 250 {
				id := fmt.Sprintf("5%011d", i)
				a := directory.Account{ID: id, Name: id, Email: id + "@example.com", Status: "SUSPENDED", ClosedAt: at,
					JoinedMethod: "CREATED", ParentID: f.root}
				if err := tx.Put(directory.KindAccount, id, &a); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := closed(time.Now().Add(-29 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err := f.org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: &open})
	wantReason(t, "the 251st closure in 30 days", err, "ConstraintViolationException", "CLOSE_ACCOUNT_QUOTA_EXCEEDED")
	if err := closed(time.Now().Add(-31 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: &open}); err != nil {
		t.Fatalf("CloseAccount once the closures are older than 30 days: %v", err)
	}
}

func TestCloseAccountConsolidatedBilling(t *testing.T) {
	s := servertest.Start(t, "")
	org := s.Organizations(servertest.Root)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{s: s, org: org}
	acct := f.createAccount(t, "cb")
	_, err := org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: &acct})
	wantReason(t, "CloseAccount without all features", err, "ConstraintViolationException", "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")
}

func TestCreateGovCloudAccount(t *testing.T) {
	f := newOrg(t)
	in := func(email string) *organizations.CreateGovCloudAccountInput {
		return &organizations.CreateGovCloudAccountInput{AccountName: aws.String("gov"), Email: aws.String(email)}
	}
	_, err := f.org.CreateGovCloudAccount(ctx, in("gov@example.com"))
	wantReason(t, "CreateGovCloudAccount", err, "ConstraintViolationException", "MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED")
	_, err = f.org.CreateGovCloudAccount(ctx, in("not-an-email"))
	wantReason(t, "CreateGovCloudAccount with a bad email", err, "InvalidInputException", "INVALID_PATTERN")
	member := f.s.Organizations(f.s.RootKey(t, f.createAccount(t, "member")))
	_, err = member.CreateGovCloudAccount(ctx, in("gov@example.com"))
	wantCode(t, "CreateGovCloudAccount by a member", err, "AccessDeniedException")
}

// TestRemovedAccount: a removed account loses its attachments and its tags, "AWS
// accounts outside of an organization do not support tags".
func TestRemovedAccount(t *testing.T) {
	f := newOrg(t)
	f.enable(t, types.PolicyTypeServiceControlPolicy)
	acct := f.createAccount(t, "leaving")
	if _, err := f.org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: &acct, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	root := f.s.RootKey(t, acct)
	f.attach(t, f.createPolicy(t, types.PolicyTypeServiceControlPolicy, "DenyIAM", denyIAM), acct)
	_, err := f.s.IAM(root).ListUsers(ctx, &iam.ListUsersInput{})
	wantSCPDeny(t, "ListUsers under the SCP", err)
	if _, err := f.org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: &acct}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.IAM(root).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers once removed, SCPs no longer apply: %v", err)
	}
	err = f.s.Env.Store.Read(ctx, func(tx store.Tx) error {
		var a directory.Account
		if err := tx.Get(directory.KindAccount, acct, &a); err != nil {
			return err
		}
		if len(a.Tags) != 0 || a.ParentID != "" {
			return fmt.Errorf("removed account: %+v", a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
