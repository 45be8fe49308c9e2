package organizations_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// delegationPolicy is the user guide's example "Fully_manage_backup_policies"
// (orgs_delegate_policies.html): read the organization and manage backup policies,
// delegated to one member account.
func delegationPolicy(member, orgID, root string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Fully_manage_backup_policies","Effect":"Allow",
"Principal":{"AWS":"%[1]s"},
"Action":["organizations:DescribeOrganization","organizations:ListAccounts","organizations:CreatePolicy","organizations:DescribePolicy",
"organizations:UpdatePolicy","organizations:DeletePolicy","organizations:AttachPolicy","organizations:DetachPolicy"],
"Resource":["arn:aws:organizations::111111111111:root/%[2]s/%[3]s","arn:aws:organizations::111111111111:ou/%[2]s/*",
"arn:aws:organizations::111111111111:account/%[2]s/*","arn:aws:organizations::111111111111:policy/%[2]s/backup_policy/*"],
"Condition":{"StringLikeIfExists":{"organizations:PolicyType":["BACKUP_POLICY"]}}},
{"Sid":"ReadAccounts","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%[1]s:root"},"Action":["organizations:ListAccounts","organizations:List*"],"Resource":"*"}]}`, member, orgID, root)
}

func TestResourcePolicy(t *testing.T) {
	f := newOrg(t)
	delegate := f.createAccount(t, "delegate")
	other := f.createAccount(t, "other")

	_, err := f.org.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	wantCode(t, "DescribeResourcePolicy before any", err, "ResourcePolicyNotFoundException")
	_, err = f.org.DeleteResourcePolicy(ctx, &organizations.DeleteResourcePolicyInput{})
	wantCode(t, "DeleteResourcePolicy before any", err, "ResourcePolicyNotFoundException")

	put := func(content string, tags ...types.Tag) (*organizations.PutResourcePolicyOutput, error) {
		return f.org.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: &content, Tags: tags})
	}
	statement := func(principal, action, resource string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"` + action + `","Resource":"` + resource + `"}]}`
	}
	acct := `{"AWS":"` + delegate + `"}`
	for _, c := range []struct{ name, doc, reason string }{
		{"not JSON", `{"Statement":`, "INVALID_RESOURCE_POLICY_JSON"},
		{"no statement", `{"Version":"2012-10-17"}`, "INVALID_RESOURCE_POLICY_JSON"},
		{"no principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"organizations:ListAccounts","Resource":"*"}]}`, "INVALID_PRINCIPAL"},
		{"a service principal", statement(`{"Service":"backup.amazonaws.com"}`, "organizations:ListAccounts", "*"), "INVALID_PRINCIPAL"},
		{"another service's action", statement(acct, "s3:GetObject", "*"), "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY"},
		{"an action that cannot be delegated", statement(acct, "organizations:CreateAccount", "*"), "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY"},
		{"a pattern that delegates nothing", statement(acct, "organizations:Invite*", "*"), "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY"},
		{"another service's resource", statement(acct, "organizations:ListAccounts", "arn:aws:s3:::bucket"), "UNSUPPORTED_RESOURCE_IN_RESOURCE_POLICY"},
	} {
		_, err := put(c.doc)
		wantReason(t, c.name, err, "InvalidInputException", c.reason)
	}
	_, err = put(strings.Repeat(" ", 40001))
	wantReason(t, "content over 40,000 characters", err, "InvalidInputException", "MAX_LENGTH_EXCEEDED")

	doc := delegationPolicy(delegate, f.id, f.root)
	out, err := put(doc, types.Tag{Key: aws.String("team"), Value: aws.String("platform")})
	if err != nil {
		t.Fatal(err)
	}
	sum := out.ResourcePolicy.ResourcePolicySummary
	id := aws.ToString(sum.Id)
	if !regexp.MustCompile(`^rp-[a-z0-9]{8}$`).MatchString(id) || aws.ToString(sum.Arn) != "arn:aws:organizations::111111111111:resourcepolicy/"+f.id+"/"+id ||
		aws.ToString(out.ResourcePolicy.Content) != doc {
		t.Fatalf("PutResourcePolicy: %+v", out.ResourcePolicy)
	}
	tags, err := f.org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: &id})
	if err != nil || len(tags.Tags) != 1 {
		t.Fatalf("tags of the resource policy: %v %+v", err, tags)
	}
	_, err = put(doc, types.Tag{Key: aws.String("k"), Value: aws.String("v")})
	wantReason(t, "tags when replacing the policy", err, "InvalidInputException", "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED")
	if again, err := put(doc); err != nil || aws.ToString(again.ResourcePolicy.ResourcePolicySummary.Id) != id {
		t.Fatalf("PutResourcePolicy again keeps the id: %v %+v", err, again)
	}
	d, err := f.org.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	if err != nil || aws.ToString(d.ResourcePolicy.Content) != doc || aws.ToString(d.ResourcePolicy.ResourcePolicySummary.Id) != id {
		t.Fatalf("DescribeResourcePolicy: %v %+v", err, d)
	}

	// The delegated member acts across accounts: its identity policies and the
	// organization's resource policy both allow.
	admin := adminUser(t, f.s, "admin")
	session, err := assume(f.s, admin, delegate, "OrganizationAccountAccessRole")
	if err != nil {
		t.Fatal(err)
	}
	dm := f.s.Organizations(session)
	accounts, err := dm.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil || len(accounts.Accounts) != 3 {
		t.Fatalf("ListAccounts delegated by the resource policy: %v %+v", err, accounts)
	}
	if _, err := dm.ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Fatalf("ListRoots delegated by organizations:List*: %v", err)
	}
	f.enable(t, types.PolicyTypeBackupPolicy)
	bp, err := dm.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: types.PolicyTypeBackupPolicy, Name: aws.String("nightly"), Description: aws.String(""),
		Content: aws.String(`{"plans":{"nightly":{"regions":{"@@assign":["us-east-1"]}}}}`)})
	if err != nil {
		t.Fatalf("CreatePolicy BACKUP_POLICY by the delegate: %v", err)
	}
	bpID := aws.ToString(bp.Policy.PolicySummary.Id)
	if _, err := dm.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &bpID, TargetId: &other}); err != nil {
		t.Fatalf("AttachPolicy BACKUP_POLICY by the delegate: %v", err)
	}
	_, err = dm.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: types.PolicyTypeServiceControlPolicy, Name: aws.String("scp"), Description: aws.String(""), Content: aws.String(denyS3)})
	wantResourceDenial(t, "CreatePolicy SCP by the delegate", err)
	_, err = dm.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String("ou-zzzz-zzzzzzzz")})
	wantResourceDenial(t, "an action the policy does not delegate", err)
	_, err = dm.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("x@example.com")})
	wantCode(t, "CreateAccount by the delegate", err, "AccessDeniedException")

	// Another member is not named.
	om := f.s.Organizations(f.s.RootKey(t, other))
	_, err = om.ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantResourceDenial(t, "ListAccounts by a member the policy does not name", err)
	if _, err := om.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
		t.Fatalf("DescribeOrganization by a member stays open: %v", err)
	}

	// The policy survives a restart; deleting it ends the delegation.
	f.s.Close()
	s2 := servertest.Start(t, f.s.DataDir)
	org2 := s2.Organizations(servertest.Root)
	if d, err := org2.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{}); err != nil || aws.ToString(d.ResourcePolicy.Content) != doc {
		t.Fatalf("DescribeResourcePolicy after a restart: %v", err)
	}
	if _, err := s2.Organizations(session).ListAccounts(ctx, &organizations.ListAccountsInput{}); err != nil {
		t.Fatalf("ListAccounts by the delegate after a restart: %v", err)
	}
	if _, err := org2.DeleteResourcePolicy(ctx, &organizations.DeleteResourcePolicyInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = s2.Organizations(session).ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantCode(t, "ListAccounts by the delegate after DeleteResourcePolicy", err, "AccessDeniedException")
	_, err = s2.Organizations(session).PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: &doc})
	wantCode(t, "PutResourcePolicy by a member", err, "AccessDeniedException")
}

// wantResourceDenial fails unless err is the engine's denial for want of a
// resource-based policy that allows the call.
func wantResourceDenial(t *testing.T, what string, err error) {
	t.Helper()
	if code := apiCode(err); code != "AccessDenied" && code != "AccessDeniedException" {
		t.Fatalf("%s: want AccessDenied, got %v", what, err)
	}
	if !strings.Contains(err.Error(), "resource-based policy") {
		t.Fatalf("%s: want a denial by the resource-based policy, got %v", what, err)
	}
}
