package iam_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func TestSimulateCustomPolicy(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"Read\", \"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/*\",\n     \"Condition\": {\"IpAddress\": {\"aws:SourceIp\": \"203.0.113.0/24\"}}},\n    {\"Sid\": \"NoDelete\", \"Effect\": \"Deny\", \"Action\": \"s3:Delete*\", \"Resource\": \"*\"}\n  ]\n}"
	out, err := s.IAM(servertest.Root).SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{doc},
		ActionNames:     []string{"s3:GetObject", "s3:DeleteObject"},
		ResourceArns:    []string{"arn:aws:s3:::b/k"},
		ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:SourceIp"),
			ContextKeyValues: []string{"203.0.113.9"}, ContextKeyType: types.ContextKeyTypeEnumIp}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.EvaluationResults) != 2 {
		t.Fatalf("%d results", len(out.EvaluationResults))
	}
	get, del := out.EvaluationResults[0], out.EvaluationResults[1]
	if get.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || del.EvalDecision != types.PolicyEvaluationDecisionTypeExplicitDeny {
		t.Fatalf("decisions %s, %s", get.EvalDecision, del.EvalDecision)
	}
	m := get.MatchedStatements[0]
	if aws.ToString(m.SourcePolicyId) != "PolicyInputList.1" || m.StartPosition.Line != 4 || m.StartPosition.Column != 5 || m.EndPosition.Line != 5 {
		t.Fatalf("matched statement %s %+v %+v", aws.ToString(m.SourcePolicyId), *m.StartPosition, *m.EndPosition)
	}
	// Without the context key the condition cannot hold, and the simulator says which key was missing.
	out, err = s.IAM(servertest.Root).SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{doc}, ActionNames: []string{"s3:GetObject"}, ResourceArns: []string{"arn:aws:s3:::b/k"}})
	if err != nil {
		t.Fatal(err)
	}
	r := out.EvaluationResults[0]
	if r.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny || len(r.MissingContextValues) != 1 || r.MissingContextValues[0] != "aws:SourceIp" {
		t.Fatalf("without context: %s %v", r.EvalDecision, r.MissingContextValues)
	}
}

// Like the IAM policy simulator (and `iamlocal eval`), the simulators decide every
// document that is a JSON policy, also one CreatePolicy would refuse: an Effect other
// than Allow or Deny applies to nothing (docs/eval.md).
func TestSimulateCustomPolicyLenient(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	out, err := s.IAM(servertest.Root).SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{
			`{"Statement":{"Effect":"Permit","Action":"*","Resource":"*"}}`,
			`{"Statement":{"Sid":"no version","Effect":"Allow","Action":"s3:Get*","Resource":"*"}}`,
		}, ActionNames: []string{"s3:GetObject", "s3:PutObject"}})
	if err != nil {
		t.Fatalf("a valid-JSON policy a door would refuse was not decided: %v", err)
	}
	if got, put := out.EvaluationResults[0].EvalDecision, out.EvaluationResults[1].EvalDecision; got != types.PolicyEvaluationDecisionTypeAllowed ||
		put != types.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Fatalf("decisions %s, %s: want allowed, implicitDeny", got, put)
	}
}

// A document that is not a JSON policy is refused with InvalidInput: botocore's model
// of SimulateCustomPolicy (and SimulatePrincipalPolicy) lists InvalidInput (400,
// "an invalid or out-of-range value was supplied for an input parameter") and
// PolicyEvaluation as its errors, not MalformedPolicyDocument.
func TestSimulateCustomPolicyNotAPolicy(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	for _, in := range []*iam.SimulateCustomPolicyInput{
		{PolicyInputList: []string{`{"Statement":[`}, ActionNames: []string{"s3:GetObject"}},
		{PolicyInputList: []string{`{"Statement":{"Effect":7,"Action":"*","Resource":"*"}}`}, ActionNames: []string{"s3:GetObject"}},
		{PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[]}`}, PermissionsBoundaryPolicyInputList: []string{`[]`}, ActionNames: []string{"s3:GetObject"}},
		{PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[]}`}, ResourcePolicy: aws.String(`not json`), ActionNames: []string{"s3:GetObject"}},
	} {
		_, err := s.IAM(servertest.Root).SimulateCustomPolicy(ctx, in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidInput" {
			t.Errorf("%v: got %v, want InvalidInput", in.PolicyInputList, err)
		}
	}
}

func TestSimulatePrincipalPolicy(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	root := s.IAM(servertest.Root)
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String("arn:aws:iam::aws:policy/PowerUserAccess")}); err != nil {
		t.Fatal(err)
	}
	out, err := root.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::111111111111:user/carol"),
		ActionNames:     []string{"ec2:RunInstances", "iam:CreateUser"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.EvaluationResults[0].EvalDecision != types.PolicyEvaluationDecisionTypeAllowed ||
		out.EvaluationResults[1].EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Fatalf("decisions %s, %s", out.EvaluationResults[0].EvalDecision, out.EvaluationResults[1].EvalDecision)
	}
	m := out.EvaluationResults[0].MatchedStatements[0]
	if aws.ToString(m.SourcePolicyId) != "arn:aws:iam::aws:policy/PowerUserAccess" || m.SourcePolicyType != types.PolicySourceTypeAwsManaged {
		t.Fatalf("source %s %s", aws.ToString(m.SourcePolicyId), m.SourcePolicyType)
	}
	_, err = root.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::111111111111:user/nobody"), ActionNames: []string{"s3:GetObject"}})
	if err == nil {
		t.Fatal("simulated a user that does not exist")
	}
}
