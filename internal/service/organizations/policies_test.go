package organizations_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

const denyS3 = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`

func TestPolicies(t *testing.T) {
	f := newOrg(t)

	out, err := f.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: types.PolicyTypeServiceControlPolicy, Name: aws.String("DenyS3"),
		Description: aws.String("no S3"), Content: aws.String(denyS3)})
	if err != nil {
		t.Fatal(err)
	}
	ps := out.Policy.PolicySummary
	id := aws.ToString(ps.Id)
	if !regexp.MustCompile(`^p-[a-z0-9]{8}$`).MatchString(id) || ps.AwsManaged ||
		aws.ToString(ps.Arn) != "arn:aws:organizations::111111111111:policy/"+f.id+"/service_control_policy/"+id ||
		aws.ToString(out.Policy.Content) != denyS3 || aws.ToString(ps.Description) != "no S3" {
		t.Fatalf("CreatePolicy: %+v %s", ps, aws.ToString(out.Policy.Content))
	}

	create := func(typ types.PolicyType, name, content string) error {
		_, err := f.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: typ, Name: &name, Description: aws.String(""), Content: &content})
		return err
	}
	wantCode(t, "duplicate name", create(types.PolicyTypeServiceControlPolicy, "DenyS3", denyS3), "DuplicatePolicyException")
	wantCode(t, "the name of an AWS managed policy", create(types.PolicyTypeServiceControlPolicy, "FullAWSAccess", denyS3), "DuplicatePolicyException")
	wantCode(t, "malformed JSON", create(types.PolicyTypeServiceControlPolicy, "bad", `{"Version":`), "MalformedPolicyDocumentException")
	wantCode(t, "SCP with a Principal", create(types.PolicyTypeServiceControlPolicy, "bad",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`), "MalformedPolicyDocumentException")
	wantCode(t, "RCP that allows", create(types.PolicyTypeResourceControlPolicy, "bad",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`), "MalformedPolicyDocumentException")
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["` + strings.Repeat("s3:GetObject\",\"", 400) + `s3:PutObject"],"Resource":"*"}]}`
	wantReason(t, "too big", create(types.PolicyTypeServiceControlPolicy, "big", big), "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED")
	wantCode(t, "TAG_POLICY without its tags key", create(types.PolicyTypeTagPolicy, "tags", `{}`), "MalformedPolicyDocumentException")
	_, err = f.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: types.PolicyTypeServiceControlPolicy, Name: aws.String(strings.Repeat("n", 129)),
		Description: aws.String(""), Content: aws.String(denyS3)})
	wantReason(t, "long name", err, "InvalidInputException", "MAX_LENGTH_EXCEEDED")

	rcp := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	if err := create(types.PolicyTypeResourceControlPolicy, "TLSOnly", rcp); err != nil {
		t.Fatal(err)
	}

	// The AWS managed policies.
	full, err := f.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
	if err != nil {
		t.Fatal(err)
	}
	fs := full.Policy.PolicySummary
	if !fs.AwsManaged || aws.ToString(fs.Name) != "FullAWSAccess" || aws.ToString(fs.Arn) != "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess" ||
		!strings.Contains(aws.ToString(full.Policy.Content), `"Action": "*"`) {
		t.Fatalf("FullAWSAccess: %+v %s", fs, aws.ToString(full.Policy.Content))
	}
	rfull, err := f.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-RCPFullAWSAccess")})
	if err != nil || aws.ToString(rfull.Policy.PolicySummary.Arn) != "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess" ||
		!strings.Contains(aws.ToString(rfull.Policy.Content), `"Principal": "*"`) {
		t.Fatalf("RCPFullAWSAccess: %v %+v", err, rfull)
	}
	_, err = f.org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String("p-FullAWSAccess"), Name: aws.String("x")})
	wantReason(t, "update FullAWSAccess", err, "InvalidInputException", "IMMUTABLE_POLICY")
	_, err = f.org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
	wantReason(t, "delete FullAWSAccess", err, "InvalidInputException", "IMMUTABLE_POLICY")
	_, err = f.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-00000000")})
	wantCode(t, "describe unknown", err, "PolicyNotFoundException")
	_, err = f.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("policy")})
	wantReason(t, "describe malformed", err, "InvalidInputException", "INVALID_SYNTAX_POLICY_ID")

	list, err := f.org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Policies {
		names = append(names, aws.ToString(p.Name))
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"DenyS3", "FullAWSAccess"}) {
		t.Fatalf("ListPolicies SCP: %v", names)
	}
	list, err = f.org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeResourceControlPolicy})
	if err != nil || len(list.Policies) != 2 {
		t.Fatalf("ListPolicies RCP: %v %+v", err, list)
	}
	_, err = f.org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: "NOPE"})
	wantReason(t, "ListPolicies bad filter", err, "InvalidInputException", "INVALID_ENUM_POLICY_TYPE")

	// UpdatePolicy.
	newDoc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["s3:*","ec2:*"],"Resource":"*"}]}`
	up, err := f.org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: &id, Name: aws.String("DenyS3EC2"), Content: &newDoc})
	if err != nil || aws.ToString(up.Policy.PolicySummary.Name) != "DenyS3EC2" || aws.ToString(up.Policy.Content) != newDoc ||
		aws.ToString(up.Policy.PolicySummary.Description) != "no S3" {
		t.Fatalf("UpdatePolicy: %v %+v", err, up)
	}
	_, err = f.org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: &id, Content: aws.String(`{"Statement":[]}`)})
	wantCode(t, "update with a bad document", err, "MalformedPolicyDocumentException")
	_, err = f.org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: &id, Name: aws.String("FullAWSAccess")})
	wantCode(t, "rename onto another policy", err, "DuplicatePolicyException")
	_, err = f.org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String("p-00000000")})
	wantCode(t, "update unknown", err, "PolicyNotFoundException")

	// Tags on a policy.
	if _, err := f.org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: &id, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := f.org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: &id})
	if err != nil || len(tags.Tags) != 1 {
		t.Fatalf("ListTagsForResource: %v %+v", err, tags)
	}
	if _, err := f.org.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: &id, TagKeys: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	tags, _ = f.org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: &id})
	if len(tags.Tags) != 0 {
		t.Fatalf("tags after UntagResource: %+v", tags.Tags)
	}
	_, err = f.org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String("ou-zzzz-zzzzzzzz"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, "tag unknown OU", err, "TargetNotFoundException")

	if _, err := f.org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err = f.org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: &id})
	wantCode(t, "delete twice", err, "PolicyNotFoundException")
}

func TestAttachments(t *testing.T) {
	f := newOrg(t)
	ou := f.createOU(t, f.root, "ou")
	acct := f.createAccount(t, "target")
	deny := f.createPolicy(t, types.PolicyTypeServiceControlPolicy, "deny", denyS3)

	_, err := f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &deny, TargetId: &acct})
	wantCode(t, "attach before enabling", err, "PolicyTypeNotEnabledException")
	f.enable(t, types.PolicyTypeServiceControlPolicy)
	f.enable(t, types.PolicyTypeResourceControlPolicy)

	_, err = f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &deny, TargetId: aws.String("ou-zzzz-zzzzzzzz")})
	wantCode(t, "attach to unknown OU", err, "TargetNotFoundException")
	_, err = f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &deny, TargetId: aws.String("999999999999")})
	wantCode(t, "attach to unknown account", err, "TargetNotFoundException")
	_, err = f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &deny, TargetId: aws.String("everything")})
	wantReason(t, "attach to malformed target", err, "InvalidInputException", "INVALID_PATTERN_TARGET_ID")
	_, err = f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String("p-00000000"), TargetId: &acct})
	wantCode(t, "attach unknown policy", err, "PolicyNotFoundException")

	f.attach(t, deny, acct)
	_, err = f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &deny, TargetId: &acct})
	wantCode(t, "attach twice", err, "DuplicatePolicyAttachmentException")

	// At most five SCPs on one target (FullAWSAccess, deny and three more).
	for i := range 3 {
		f.attach(t, f.createPolicy(t, types.PolicyTypeServiceControlPolicy, fmt.Sprint("p", i), denyS3), acct)
	}
	sixth := f.createPolicy(t, types.PolicyTypeServiceControlPolicy, "sixth", denyS3)
	_, err = f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &sixth, TargetId: &acct})
	wantReason(t, "sixth SCP", err, "ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
	// RCPs count apart.
	rcp := f.createPolicy(t, types.PolicyTypeResourceControlPolicy, "rcp",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`)
	f.attach(t, rcp, acct)

	targets, err := f.org.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[types.TargetType]int{}
	for _, tg := range targets.Targets {
		kinds[tg.Type]++
		if tg.Type == types.TargetTypeRoot && (aws.ToString(tg.Name) != "Root" || aws.ToString(tg.Arn) != "arn:aws:organizations::111111111111:root/"+f.id+"/"+f.root) {
			t.Fatalf("root target: %+v", tg)
		}
		if tg.Type == types.TargetTypeOrganizationalUnit && (aws.ToString(tg.Name) != "ou" || aws.ToString(tg.TargetId) != ou) {
			t.Fatalf("OU target: %+v", tg)
		}
	}
	if kinds[types.TargetTypeRoot] != 1 || kinds[types.TargetTypeOrganizationalUnit] != 1 || kinds[types.TargetTypeAccount] != 2 {
		t.Fatalf("ListTargetsForPolicy FullAWSAccess: %+v", targets.Targets)
	}
	_, err = f.org.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-00000000")})
	wantCode(t, "ListTargetsForPolicy unknown", err, "PolicyNotFoundException")
	_, err = f.org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String("ou-zzzz-zzzzzzzz"), Filter: types.PolicyTypeServiceControlPolicy})
	wantCode(t, "ListPoliciesForTarget unknown", err, "TargetNotFoundException")
	if got := f.attachedIDs(t, acct, types.PolicyTypeServiceControlPolicy); len(got) != 5 {
		t.Fatalf("SCPs on the account: %v", got)
	}
	p := organizations.NewListPoliciesForTargetPaginator(f.org, &organizations.ListPoliciesForTargetInput{TargetId: &acct,
		Filter: types.PolicyTypeServiceControlPolicy, MaxResults: aws.Int32(2)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Policies)
	}
	if n != 5 {
		t.Fatalf("paginated ListPoliciesForTarget: %d", n)
	}

	_, err = f.org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: &deny})
	wantCode(t, "delete attached", err, "PolicyInUseException")

	// Detach: not attached, the last SCP, the RCPFullAWSAccess.
	_, err = f.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: &deny, TargetId: &ou})
	wantCode(t, "detach not attached", err, "PolicyNotAttachedException")
	_, err = f.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: &ou})
	wantReason(t, "detach the last SCP", err, "ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
	_, err = f.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-RCPFullAWSAccess"), TargetId: &ou})
	wantReason(t, "detach RCPFullAWSAccess", err, "InvalidInputException", "NON_DETACHABLE_POLICY")
	f.attach(t, deny, ou)
	if _, err := f.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: &ou}); err != nil {
		t.Fatal(err)
	}
	if got := f.attachedIDs(t, ou, types.PolicyTypeServiceControlPolicy); !slices.Equal(got, []string{deny}) {
		t.Fatalf("SCPs on the OU: %v", got)
	}
	_, err = f.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: &deny, TargetId: &ou})
	wantReason(t, "detach the last SCP again", err, "ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")

	// Removing an account drops its attachments.
	if _, err := f.org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: &acct}); err != nil {
		t.Fatal(err)
	}
	targets, _ = f.org.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: &deny})
	if len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].TargetId) != ou {
		t.Fatalf("targets of deny after removing the account: %+v", targets.Targets)
	}
}
