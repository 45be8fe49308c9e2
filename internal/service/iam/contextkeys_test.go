package iam_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"
)

// AWS CLI Command Reference, get-context-keys-for-custom-policy, example 1: the keys of
// the Condition blocks and of the policy variables in Resource.
func TestGetContextKeysForCustomPolicy(t *testing.T) {
	e := start(t)
	awsExample := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}`
	out := ok(e.root.GetContextKeysForCustomPolicy(e.ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{awsExample}}))(t)
	if diff := cmp.Diff([]string{"aws:username", "aws:CurrentTime"}, out.ContextKeyNames); diff != "" {
		t.Fatalf("AWS's example (-want +got):\n%s", diff)
	}

	// Across policies, in the order written, each key once whatever its case; a
	// variable in a condition value counts, one under Version 2008-10-17 is literal text.
	second := `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b",
	   "Condition":{"StringLike":{"s3:prefix":"home/${aws:PrincipalTag/team, 'none'}/*"},"IpAddress":{"AWS:SOURCEIP":"203.0.113.0/24"}}},
	  {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"},"StringEquals":{"AWS:USERNAME":"x"}}}]}`
	old := `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:userid}/*","Condition":{"Null":{"aws:TokenIssueTime":"false"}}}}`
	out = ok(e.root.GetContextKeysForCustomPolicy(e.ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{awsExample, second, old}}))(t)
	want := []string{"aws:username", "aws:CurrentTime", "s3:prefix", "aws:PrincipalTag/team", "AWS:SOURCEIP", "aws:MultiFactorAuthPresent", "aws:TokenIssueTime"}
	if diff := cmp.Diff(want, out.ContextKeyNames); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}

	// A policy without conditions or variables reads no key.
	out = ok(e.root.GetContextKeysForCustomPolicy(e.ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{allowAll}}))(t)
	if len(out.ContextKeyNames) != 0 {
		t.Fatalf("keys of allowAll: %v", out.ContextKeyNames)
	}
}

// A document that is not a JSON policy is InvalidInput naming the parameter (botocore
// lists InvalidInput as the operation's only error); no PolicyInputList fails the
// model's constraint.
func TestGetContextKeysForCustomPolicyRejects(t *testing.T) {
	e := start(t)
	_, err := e.root.GetContextKeysForCustomPolicy(e.ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{allowAll, `{"Statement":[`}})
	wantErr(t, err, "InvalidInput", 400, "PolicyInputList.2 is not a valid policy document: …")
	status, body := e.raw(url.Values{"Action": {"GetContextKeysForCustomPolicy"}})
	if status != 400 || !strings.Contains(body, "<Code>ValidationError</Code>") || !strings.Contains(body, "Value null at &#39;policyInputList&#39;") {
		t.Fatalf("no PolicyInputList: %d %s", status, body)
	}
}

// A user's keys: its groups' policies, its inline and attached policies, its
// permissions boundary, then the PolicyInputList, in the order SimulatePrincipalPolicy
// reads them; a role's its own.
func TestGetContextKeysForPrincipalPolicy(t *testing.T) {
	e := start(t)
	u := e.user("alice")
	e.group("devs")
	ok(e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}))(t)
	cond := func(key string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"` + key + `":"x"}}}]}`
	}
	ok(e.root.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(cond("aws:PrincipalTag/team"))}))(t)
	managed := e.policy("managed", cond("aws:RequestedRegion"))
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: managed.Arn}))(t)
	ok(e.root.PutGroupPolicy(e.ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("g"), PolicyDocument: aws.String(cond("aws:SourceVpce"))}))(t)
	boundary := e.policy("boundary", cond("aws:PrincipalOrgID"))
	ok(e.root.PutUserPermissionsBoundary(e.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("alice"), PermissionsBoundary: boundary.Arn}))(t)

	out := ok(e.root.GetContextKeysForPrincipalPolicy(e.ctx, &iam.GetContextKeysForPrincipalPolicyInput{
		PolicySourceArn: u.Arn, PolicyInputList: []string{cond("aws:requestedregion"), cond("s3:ExistingObjectTag/owner")}}))(t)
	want := []string{"aws:SourceVpce", "aws:PrincipalTag/team", "aws:RequestedRegion", "aws:PrincipalOrgID", "s3:ExistingObjectTag/owner"}
	if diff := cmp.Diff(want, out.ContextKeyNames); diff != "" {
		t.Fatalf("user (-want +got):\n%s", diff)
	}

	r := e.role("app", trustEC2)
	ok(e.root.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("p"), PolicyDocument: aws.String(cond("ec2:ResourceTag/env"))}))(t)
	out = ok(e.root.GetContextKeysForPrincipalPolicy(e.ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: r.Arn}))(t)
	if diff := cmp.Diff([]string{"ec2:ResourceTag/env"}, out.ContextKeyNames); diff != "" {
		t.Fatalf("role (-want +got):\n%s", diff)
	}
}

// An entity that does not exist is NoSuchEntity, an ARN that names no user, group or
// role InvalidInput, a PolicyInputList document that is not a policy InvalidInput
// (botocore lists NoSuchEntity and InvalidInput).
func TestGetContextKeysForPrincipalPolicyRejects(t *testing.T) {
	e := start(t)
	_, err := e.root.GetContextKeysForPrincipalPolicy(e.ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + account + ":user/nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	_, err = e.root.GetContextKeysForPrincipalPolicy(e.ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:s3:::not-an-entity")})
	wantErr(t, err, "InvalidInput", 400, "Invalid PolicySourceArn arn:aws:s3:::not-an-entity")
	u := e.user("bob")
	_, err = e.root.GetContextKeysForPrincipalPolicy(e.ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: u.Arn, PolicyInputList: []string{"[]"}})
	wantErr(t, err, "InvalidInput", 400, "PolicyInputList.1 is not a valid policy document: …")
}
