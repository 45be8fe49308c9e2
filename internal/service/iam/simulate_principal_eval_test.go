package iam_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/evalinput"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// minComparedPrincipal is how many corpus cases TestSimulatePrincipalPolicyMatchesEval
// reaches; the count may grow, never drop.
const minComparedPrincipal = 247

// TestSimulatePrincipalPolicyMatchesEval: for the corpus cases whose caller is an IAM
// user of the test server's account, it creates that user with the case's identity
// policies (inline) and boundary (a managed policy), asks SimulatePrincipalPolicy —
// the stored principal's policies, read from the directory — and requires eval's
// decision. Cases whose policies the doors refuse cannot be stored and are skipped.
func TestSimulatePrincipalPolicyMatchesEval(t *testing.T) {
	s := servertest.Start(t, "")
	client := s.IAM(servertest.Root)
	compared, skipped := 0, map[string]int{}
	forEachCorpusCase(t, func(file string, i int, c corpusCase) {
		custom, why := simulateInput(c)
		if custom == nil {
			skipped[why]++
			return
		}
		var r evalRequest
		json.Unmarshal(c.Request, &r)
		if why := storable(r); why != "" {
			skipped[why]++
			return
		}
		if t.Run(file+"/"+c.Name, func(t *testing.T) {
			comparePrincipalCase(t, client, c, r, custom, fmt.Sprintf("%s-%d", file, i))
		}) {
			compared++
		}
	})
	t.Logf("%d corpus cases compared through SimulatePrincipalPolicy and eval; skipped: %v", compared, skipped)
	if compared < minComparedPrincipal {
		t.Errorf("only %d corpus cases compared, want at least %d", compared, minComparedPrincipal)
	}
}

// storable says why a case's principal and policies cannot be stored as they are.
func storable(r evalRequest) string {
	if !strings.HasPrefix(r.Principal, "arn:aws:iam::"+servertest.Account+":user/") {
		return "caller not a user of the test account"
	}
	docs := append([]json.RawMessage{}, r.IdentityPolicies...)
	if !isNull(r.PermissionsBoundary) {
		docs = append(docs, r.PermissionsBoundary)
	}
	size := 0
	for _, d := range docs {
		if _, err := policy.ParseManaged(d); err != nil {
			return "a policy the doors refuse"
		}
		size += len(d)
	}
	if size > 2048 {
		return "policies over the user's inline quota"
	}
	return ""
}

func comparePrincipalCase(t *testing.T, client *iam.Client, c corpusCase, r evalRequest, custom *iam.SimulateCustomPolicyInput, tag string) {
	ctx := context.Background()
	arn := r.Principal
	rest := strings.TrimPrefix(arn, "arn:aws:iam::"+servertest.Account+":user")
	path, name := rest[:strings.LastIndex(rest, "/")+1], rest[strings.LastIndex(rest, "/")+1:]
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	defer cleanUser(t, client, name)
	for i, doc := range r.IdentityPolicies {
		if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(fmt.Sprint("p", i)),
			PolicyDocument: aws.String(string(doc))}); err != nil {
			t.Fatalf("PutUserPolicy: %v", err)
		}
	}
	if !isNull(r.PermissionsBoundary) {
		mp, err := client.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("boundary-" + tag), PolicyDocument: aws.String(string(r.PermissionsBoundary))})
		if err != nil {
			t.Fatalf("CreatePolicy: %v", err)
		}
		if _, err := client.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String(name), PermissionsBoundary: mp.Policy.Arn}); err != nil {
			t.Fatalf("PutUserPermissionsBoundary: %v", err)
		}
	}
	outs, _, err := evalinput.Evaluate(c.Request, evalinput.Options{})
	if err != nil {
		t.Fatalf("eval refused the request: %v", err)
	}
	out, err := client.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(arn),
		ActionNames: custom.ActionNames, ResourceArns: custom.ResourceArns, ResourcePolicy: custom.ResourcePolicy,
		ResourceOwner: custom.ResourceOwner, ContextEntries: custom.ContextEntries})
	if err != nil {
		t.Fatalf("SimulatePrincipalPolicy: %v (eval decided %s)", err, outs[0].Decision)
	}
	if got := string(out.EvaluationResults[0].EvalDecision); got != outs[0].Decision {
		t.Errorf("SimulatePrincipalPolicy decided %s, eval %s (blockedBy %v)", got, outs[0].Decision, outs[0].BlockedBy)
	}
}

// cleanUser deletes a case's user and what it holds, so that the next case starts clean.
func cleanUser(t *testing.T, client *iam.Client, name string) {
	ctx := context.Background()
	if names, err := client.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(name)}); err == nil {
		for _, p := range names.PolicyNames {
			client.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(p)})
		}
	}
	client.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String(name)})
	if _, err := client.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
}
