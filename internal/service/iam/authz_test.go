package iam_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestUserDeniedCreateRole(t *testing.T) {
	e := start(t)
	c, _ := e.signer("limited", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::111111111111:user/limited"}]}`)
	ok(c.GetUser(e.ctx, &iam.GetUserInput{}))(t)
	_, err := c.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("X"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/limited is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111111111111:role/X because no identity-based policy allows the iam:CreateRole action")
	_, err = e.root.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String("X")})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name X cannot be found.")
}

func TestPolicyArnCondition(t *testing.T) {
	e := start(t)
	e.user("target")
	c, _ := e.signer("delegate", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"*",
		"Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/ReadOnlyAccess"}}}]}`)
	ok(c.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("target"), PolicyArn: aws.String(readOnly)}))(t)
	_, err := c.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("target"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/delegate is not authorized to perform: iam:AttachUserPolicy on resource: arn:aws:iam::111111111111:user/target…")
}

func TestPermissionsBoundaryCondition(t *testing.T) {
	e := start(t)
	c, _ := e.signer("creator", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateRole","iam:PutRolePolicy"],"Resource":"*",
		"Condition":{"StringEquals":{"iam:PermissionsBoundary":"arn:aws:iam::aws:policy/ReadOnlyAccess"}}}]}`)
	_, err := c.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("free"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	wantErr(t, err, "AccessDenied", 403, "…")
	ok(c.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("bounded"), AssumeRolePolicyDocument: aws.String(trustEC2), PermissionsBoundary: aws.String(readOnly)}))(t)
	// PutRolePolicy sees the role's existing boundary.
	ok(c.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("bounded"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)}))(t)
	e.role("other", trustEC2)
	_, err = c.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("other"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)})
	wantErr(t, err, "AccessDenied", 403, "…")
}

func TestRequestTagCondition(t *testing.T) {
	e := start(t)
	c, _ := e.signer("tagger", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateRole","Resource":"*",
		"Condition":{"StringEquals":{"aws:RequestTag/team":"red"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}},
		{"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"red"}}}]}`)
	red := []types.Tag{{Key: aws.String("team"), Value: aws.String("red")}}
	ok(c.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("red"), AssumeRolePolicyDocument: aws.String(trustEC2), Tags: red}))(t)
	_, err := c.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("blue"), AssumeRolePolicyDocument: aws.String(trustEC2),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	wantErr(t, err, "AccessDenied", 403, "…")
	ok(c.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String("red")}))(t)
	e.role("untagged", trustEC2)
	_, err = c.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String("untagged")})
	wantErr(t, err, "AccessDenied", 403, "…")
}
