package iam_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// A new user's report: SimulatePrincipalPolicy without context entries answered
// allowed with no missing keys although an SCP's deny reads ec2:InstanceType.
func TestSimulatePrincipalPolicyMissingSCPKeys(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	org := s.Organizations(servertest.Root)
	ok(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))(t)
	acc := ok(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com")}))(t)
	st := ok(org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: acc.CreateAccountStatus.Id}))(t)
	member := aws.ToString(st.CreateAccountStatus.AccountId)
	roots := ok(org.ListRoots(ctx, &organizations.ListRootsInput{}))(t)
	ok(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: roots.Roots[0].Id, PolicyType: orgtypes.PolicyTypeServiceControlPolicy}))(t)
	p := ok(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("micro-only"), Description: aws.String("d"),
		Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"*","Resource":"*"},
		{"Sid":"NoGPU","Effect":"Deny","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*",
		 "Condition":{"StringLike":{"ec2:InstanceType":["p*","g*"]}}}]}`)}))(t).Policy
	ok(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: p.PolicySummary.Id, TargetId: &member}))(t)

	out := ok(s.IAM(servertest.Root).SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"),
		ActionNames:     []string{"ec2:RunInstances"}}))(t)
	r := out.EvaluationResults[0]
	if len(r.MissingContextValues) != 1 || r.MissingContextValues[0] != "ec2:InstanceType" {
		t.Fatalf("decision %s, missing %v: want ec2:InstanceType", r.EvalDecision, r.MissingContextValues)
	}
}
