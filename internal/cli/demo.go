package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// demoExternalID guards the demo's cross-account role.
const demoExternalID = "iamlocal-demo-7731"

// runDemo builds the sample organization through the server's own API, exactly as a
// user would with the AWS CLI: an organization with three member accounts, an
// automation user in the management account, and in the first member account a role
// that trusts the management account and requires an ExternalId. It does nothing when
// an organization already exists.
func runDemo(ctx context.Context, out io.Writer, endpoint, rootKey, rootSecret, mgmt string) error {
	cfg := func(id, secret, token string) aws.Config {
		return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, token)}
	}
	root := cfg(rootKey, rootSecret, "")
	org := organizations.NewFromConfig(root)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "AlreadyInOrganizationException" {
			fmt.Fprintln(out, "demo: the organization exists already; nothing to do")
			return nil
		}
		return fmt.Errorf("create organization: %w", err)
	}
	var members []string
	for _, name := range []string{"dev", "staging", "prod"} {
		id, err := demoAccount(ctx, org, name)
		if err != nil {
			return err
		}
		members = append(members, id)
	}
	admin := iam.NewFromConfig(root)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("automation")}); err != nil {
		return err
	}
	if _, err := admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("automation"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		return err
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("automation")})
	if err != nil {
		return err
	}
	kid, ksecret := aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
	// Into the first member account through OrganizationAccountAccessRole, to create
	// the cross-account role there.
	as, err := sts.NewFromConfig(cfg(kid, ksecret, "")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::" + members[0] + ":role/OrganizationAccountAccessRole"),
		RoleSessionName: aws.String("demo-setup")})
	if err != nil {
		return fmt.Errorf("assume OrganizationAccountAccessRole in %s: %w", members[0], err)
	}
	c := as.Credentials
	member := iam.NewFromConfig(cfg(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"%s"}}}]}`, mgmt, demoExternalID)
	if _, err := member.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("partner-readonly"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		return err
	}
	if _, err := member.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("partner-readonly"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		return err
	}
	fmt.Fprintf(out, `demo organization ready:
  management account %s, member accounts %v (OrganizationAccountAccessRole in each)
  user "automation" (AdministratorAccess):
    export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=us-east-1
  then, for example:
    aws --endpoint-url %s sts assume-role --role-arn arn:aws:iam::%s:role/partner-readonly --role-session-name demo --external-id %s
`, mgmt, members, kid, ksecret, endpoint, members[0], demoExternalID)
	return nil
}

// demoAccount creates a member account and waits for it.
func demoAccount(ctx context.Context, org *organizations.Client, name string) (string, error) {
	out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name),
		Email: aws.String(name + "@demo.iamlocal")})
	if err != nil {
		return "", fmt.Errorf("create account %s: %w", name, err)
	}
	for i := 0; i < 100; i++ {
		st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{
			CreateAccountRequestId: out.CreateAccountStatus.Id})
		if err != nil {
			return "", err
		}
		switch st.CreateAccountStatus.State {
		case orgtypes.CreateAccountStateSucceeded:
			return aws.ToString(st.CreateAccountStatus.AccountId), nil
		case orgtypes.CreateAccountStateFailed:
			return "", fmt.Errorf("create account %s: %s", name, st.CreateAccountStatus.FailureReason)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("create account %s: still in progress", name)
}
