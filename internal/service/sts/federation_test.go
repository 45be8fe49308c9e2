package sts_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func TestGetFederationToken(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	root := s.IAM(servertest.Root)
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("broker")}); err != nil {
		t.Fatal(err)
	}
	root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("broker"), PolicyName: aws.String("p"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetFederationToken","ec2:Describe*"],"Resource":"*"}]}`)})
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("broker")})
	if err != nil {
		t.Fatal(err)
	}
	broker := servertest.Creds{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}

	out, err := s.STS(broker).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("bob"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeRegions","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.FederatedUser.Arn) != "arn:aws:sts::111111111111:federated-user/bob" || aws.ToString(out.FederatedUser.FederatedUserId) != "111111111111:bob" || out.PackedPolicySize == nil {
		t.Fatalf("FederatedUser %+v, packed %v", out.FederatedUser, out.PackedPolicySize)
	}
	fed := sessionCreds(out.Credentials)
	who, err := s.STS(fed).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:sts::111111111111:federated-user/bob" || aws.ToString(who.UserId) != "111111111111:bob" {
		t.Fatalf("GetCallerIdentity: %+v %v", who, err)
	}
	// The user's permissions intersected with the session policy.
	if _, err := s.EC2(fed).DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
		t.Fatalf("DescribeRegions, allowed by both: %v", err)
	}
	if _, err := s.EC2(fed).DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}); err == nil {
		t.Fatal("DescribeAvailabilityZones is outside the session policy")
	}
	// No IAM, and in STS only GetCallerIdentity.
	_, err = s.IAM(fed).ListUsers(ctx, &iam.ListUsersInput{})
	apiErr(t, err, "AccessDenied", "federated user credentials")
	_, err = s.STS(fed).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	apiErr(t, err, "AccessDenied", "federated user credentials")

	// Without a session policy the federated user has no permissions.
	bare, err := s.STS(broker).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("nopolicy")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EC2(sessionCreds(bare.Credentials)).DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err == nil {
		t.Fatal("a federated user without session policy could call DescribeRegions")
	}
	// Validation, and who may call it.
	_, err = s.STS(broker).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("x")})
	apiErr(t, err, "ValidationError", "name")
	_, err = s.STS(fed).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("again")})
	apiErr(t, err, "AccessDenied", "")
}
