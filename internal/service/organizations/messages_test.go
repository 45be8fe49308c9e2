package organizations_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// botocoreErrors is where the messages below are written: the documentation of the
// error shapes and of their Reason values in botocore's Organizations model
// (organizations/2016-11-28/service-2.json), which the API reference repeats.
const botocoreErrors = "botocore organizations service-2.json, error shapes"

// TestDocumentedMessages pins the messages AWS documents for the new operations'
// errors.
func TestDocumentedMessages(t *testing.T) {
	f := newOrg(t)
	acct := f.createAccount(t, "member")
	if _, err := f.org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: &acct}); err != nil {
		t.Fatal(err)
	}
	other := f.createAccount(t, "other")
	if _, err := f.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("sso.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, code, message string
		call                func() error
	}{
		{"AccountAlreadyClosedException", "AccountAlreadyClosedException", "You attempted to close an account that is already closed.", func() error {
			_, err := f.org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: &acct})
			return err
		}},
		{"CANNOT_CLOSE_MANAGEMENT_ACCOUNT", "ConstraintViolationException", "You attempted to close the management account. To close the management account for the organization, you must first either remove or close all member accounts in the organization.", func() error {
			_, err := f.org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(servertest.Account)})
			return err
		}},
		{"CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR", "ConstraintViolationException", "You can designate only a member account as a delegated administrator.", func() error {
			_, err := f.org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(servertest.Account), ServicePrincipal: aws.String("sso.amazonaws.com")})
			return err
		}},
		{"CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR", "ConstraintViolationException", "You cannot register a suspended account as a delegated administrator.", func() error {
			_, err := f.org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: &acct, ServicePrincipal: aws.String("sso.amazonaws.com")})
			return err
		}},
		{"SERVICE_ACCESS_NOT_ENABLED", "ConstraintViolationException", "You attempted to register a delegated administrator before you enabled service access. Call the EnableAWSServiceAccess API first.", func() error {
			_, err := f.org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: &other, ServicePrincipal: aws.String("guardduty.amazonaws.com")})
			return err
		}},
		{"AccountNotRegisteredException", "AccountNotRegisteredException", "The specified account is not a delegated administrator for this Amazon Web Services service.", func() error {
			_, err := f.org.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: &other, ServicePrincipal: aws.String("sso.amazonaws.com")})
			return err
		}},
		{"UNRECOGNIZED_SERVICE_PRINCIPAL", "InvalidInputException", "You specified a service principal that isn't recognized", func() error {
			_, err := f.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("nosuch.amazonaws.com")})
			return err
		}},
		{"ResourcePolicyNotFoundException", "ResourcePolicyNotFoundException", "We can't find a resource policy request with the parameter that you specified.", func() error {
			_, err := f.org.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
			return err
		}},
		{"ORGANIZATION_ALREADY_HAS_ALL_FEATURES", "HandshakeConstraintViolationException", "The handshake request is invalid because the organization has already enabled all features.", func() error {
			_, err := f.org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
			return err
		}},
		{"MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED", "ConstraintViolationException", "To complete this operation, the management account must have an associated account in the Amazon Web Services GovCloud (US-West) Region.", func() error {
			_, err := f.org.CreateGovCloudAccount(ctx, &organizations.CreateGovCloudAccountInput{AccountName: aws.String("gov"), Email: aws.String("gov@example.com")})
			return err
		}},
		{"ResponsibilityTransferNotFoundException", "ResponsibilityTransferNotFoundException", "We can't find a transfer that you specified.", func() error {
			_, err := f.org.DescribeResponsibilityTransfer(ctx, &organizations.DescribeResponsibilityTransferInput{Id: aws.String("rt-0000000000")})
			return err
		}},
		{"TARGET_NOT_SUPPORTED", "InvalidInputException", "You can't perform the specified operation on that target entity", func() error {
			_, err := f.org.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: "TAG_POLICY", TargetId: &f.root})
			return err
		}},
	} {
		err := c.call()
		wantCode(t, c.name, err, c.code)
		if !strings.Contains(err.Error(), c.message) {
			t.Errorf("%s: want the documented message %q (%s), got %v", c.name, c.message, botocoreErrors, err)
		}
	}
}
