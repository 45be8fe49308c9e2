package sts_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

const auditTask = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"

func TestAssumeRoot(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	root := s.IAM(servertest.Root)
	org := s.Organizations(servertest.Root)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	ca, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: ca.CreateAccountStatus.Id})
	if err != nil {
		t.Fatal(err)
	}
	member := aws.ToString(st.CreateAccountStatus.AccountId)
	memberIAM := s.IAM(s.RootKey(t, member))
	if _, err := memberIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}

	// ops may AssumeRoot for the audit task only.
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*",
		  "Condition":{"StringEquals":{"sts:TaskPolicyArn":"` + auditTask + `"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ops")})
	if err != nil {
		t.Fatal(err)
	}
	ops := s.STS(servertest.Creds{ID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)})
	assume := func(c *sts.Client, target, task string, seconds int32) (*sts.AssumeRootOutput, error) {
		in := &sts.AssumeRootInput{TargetPrincipal: aws.String(target), TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String(task)}}
		if seconds >= 0 {
			in.DurationSeconds = aws.Int32(seconds)
		}
		return c.AssumeRoot(ctx, in)
	}

	_, err = assume(ops, member, auditTask, -1)
	apiErr(t, err, "AccessDenied", "Root sessions are not enabled for the organization")
	// Trusted access for IAM, then IAM's switch.
	if _, err := org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("iam.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.EnableOrganizationsRootSessions(ctx, &iam.EnableOrganizationsRootSessionsInput{}); err != nil {
		t.Fatal(err)
	}

	out, err := assume(ops, "arn:aws:iam::"+member+":root", auditTask, -1)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d > 15*time.Minute || d < 14*time.Minute {
		t.Fatalf("expires in %v; AssumeRoot's default is 900 seconds", d)
	}
	sess := sessionCreds(out.Credentials)
	who, err := s.STS(sess).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::"+member+":root" || aws.ToString(who.Account) != member {
		t.Fatalf("caller %+v %v", who, err)
	}
	// The task policy allows auditing the root user's credentials, nothing else.
	if _, err := s.IAM(sess).ListMFADevices(ctx, &iam.ListMFADevicesInput{}); err != nil {
		t.Fatalf("ListMFADevices of the root user: %v", err)
	}
	_, err = s.IAM(sess).ListUsers(ctx, &iam.ListUsersInput{})
	apiErr(t, err, "AccessDenied", "User: arn:aws:iam::"+member+":root is not authorized to perform: iam:ListUsers on resource: * with an explicit deny in a session policy")
	_, err = s.IAM(sess).ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("bob")})
	apiErr(t, err, "AccessDenied", "with an explicit deny in a session policy")

	// Refusals.
	_, err = assume(ops, member, "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy", -1)
	apiErr(t, err, "AccessDenied", "User: arn:aws:iam::111111111111:user/ops is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::"+member+":root")
	_, err = assume(ops, member, "arn:aws:iam::aws:policy/AdministratorAccess", -1)
	apiErr(t, err, "ValidationError", "is not a root task policy")
	_, err = assume(ops, member, auditTask, 901)
	apiErr(t, err, "ValidationError", "durationSeconds")
	_, err = assume(ops, servertest.Account, auditTask, -1)
	apiErr(t, err, "ValidationError", "is the management account")
	_, err = assume(ops, "222222222222", auditTask, -1)
	apiErr(t, err, "ValidationError", "is not a member account of the organization")
	_, err = assume(ops, "arn:aws:iam::"+member+":user/bob", auditTask, -1)
	apiErr(t, err, "ValidationError", "is not an account id")
	_, err = assume(s.STS(servertest.Root), member, auditTask, -1)
	apiErr(t, err, "AccessDenied", "AssumeRoot cannot be called with root user credentials")
	// A member account's principals are neither the management account nor a
	// delegated administrator.
	if _, err := memberIAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	bk, err := memberIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	bob := s.STS(servertest.Creds{ID: aws.ToString(bk.AccessKey.AccessKeyId), Secret: aws.ToString(bk.AccessKey.SecretAccessKey)})
	_, err = assume(bob, member, auditTask, -1)
	apiErr(t, err, "AccessDenied", "AssumeRoot must be called from the organization's management account or a delegated administrator for IAM")

	// Once the member account is a delegated administrator for IAM, bob may.
	if _, err := org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(member),
		ServicePrincipal: aws.String("iam.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	ca2, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("prod"), Email: aws.String("prod@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	st2, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: ca2.CreateAccountStatus.Id})
	if err != nil {
		t.Fatal(err)
	}
	prod := aws.ToString(st2.CreateAccountStatus.AccountId)
	if out, err := assume(bob, prod, auditTask, 300); err != nil {
		t.Fatalf("delegated administrator: %v", err)
	} else if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d > 5*time.Minute {
		t.Fatalf("DurationSeconds 300: expires in %v", d)
	}
}
