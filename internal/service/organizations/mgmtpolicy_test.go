package organizations_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// inheritanceCase is a case of testdata/inheritance.json.
type inheritanceCase struct {
	Name      string            `json:"name"`
	Source    string            `json:"source"`
	Type      types.PolicyType  `json:"type"`
	Root      []json.RawMessage `json:"root"`
	OU        []json.RawMessage `json:"ou"`
	Account   []json.RawMessage `json:"account"`
	Effective json.RawMessage   `json:"effective"`
}

// TestInheritanceCases plays AWS's documented inheritance examples through the API:
// policies attached to the root, an OU and an account, in order, then the account's
// DescribeEffectivePolicy.
func TestInheritanceCases(t *testing.T) {
	data, err := os.ReadFile("testdata/inheritance.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Cases []inheritanceCase }
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) < 7 {
		t.Fatalf("%d cases", len(file.Cases))
	}
	f := newOrg(t)
	enabled := map[types.PolicyType]bool{}
	for i, c := range file.Cases {
		if !strings.HasPrefix(c.Source, "https://docs.aws.amazon.com/") {
			t.Fatalf("%s: no source", c.Name)
		}
		if !enabled[c.Type] {
			f.enable(t, c.Type)
			enabled[c.Type] = true
		}
		ou := f.createOU(t, f.root, fmt.Sprint("ou", i))
		acct := f.createAccount(t, fmt.Sprint("acct", i))
		if _, err := f.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: &acct, SourceParentId: &f.root, DestinationParentId: &ou}); err != nil {
			t.Fatal(err)
		}
		var rootPolicies []string
		for _, lv := range []struct {
			target string
			docs   []json.RawMessage
		}{{f.root, c.Root}, {ou, c.OU}, {acct, c.Account}} {
			for j, doc := range lv.docs {
				id := f.createPolicy(t, c.Type, fmt.Sprintf("case%d-%s-%d", i, lv.target, j), string(doc))
				f.attach(t, id, lv.target)
				if lv.target == f.root {
					rootPolicies = append(rootPolicies, id)
				}
			}
		}
		out, err := f.org.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyType(c.Type), TargetId: &acct})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var got, want any
		if err := json.Unmarshal([]byte(aws.ToString(out.EffectivePolicy.PolicyContent)), &got); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		_ = json.Unmarshal(c.Effective, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s (%s)\n got %s\nwant %s", c.Name, c.Source, aws.ToString(out.EffectivePolicy.PolicyContent), c.Effective)
		}
		if aws.ToString(out.EffectivePolicy.TargetId) != acct || out.EffectivePolicy.PolicyType != types.EffectivePolicyType(c.Type) ||
			out.EffectivePolicy.LastUpdatedTimestamp == nil {
			t.Errorf("%s: %+v", c.Name, out.EffectivePolicy)
		}
		for _, id := range rootPolicies { // the next case starts from a bare root
			if _, err := f.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: &f.root}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// managementKeys are the top-level keys of the management policy types, from each
// type's syntax page.
var managementKeys = map[types.PolicyType]string{
	types.PolicyTypeTagPolicy: "tags", types.PolicyTypeBackupPolicy: "plans", types.PolicyTypeAiservicesOptOutPolicy: "services",
	types.PolicyTypeChatbotPolicy: "chatbot", types.PolicyTypeDeclarativePolicyEc2: "ec2_attributes",
	types.PolicyTypeSecurityhubPolicy: "securityhub", types.PolicyTypeInspectorPolicy: "inspector",
	types.PolicyTypeUpgradeRolloutPolicy: "upgrade_rollout", types.PolicyTypeBedrockPolicy: "bedrock",
	types.PolicyTypeS3Policy: "s3_attributes", types.PolicyTypeNetworkSecurityDirectorPolicy: "network_security_director",
	types.PolicyTypeGuarddutyPolicy: "guardduty",
}

func TestManagementPolicyTypes(t *testing.T) {
	f := newOrg(t)
	acct := f.createAccount(t, "member")
	// Every value of the SDK's PolicyType enum but SCPs and RCPs is a management type.
	for _, typ := range types.PolicyType("").Values() {
		if typ == types.PolicyTypeServiceControlPolicy || typ == types.PolicyTypeResourceControlPolicy {
			continue
		}
		key, ok := managementKeys[typ]
		if !ok {
			t.Fatalf("no top-level key for %s", typ)
		}
		if typ == types.PolicyTypeSecurityhubPolicy {
			_, err := f.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: &f.root, PolicyType: typ})
			wantReason(t, "SECURITYHUB_POLICY before trusted access", err, "ConstraintViolationException", "SERVICE_ACCESS_NOT_ENABLED")
			if _, err := f.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("securityhub.amazonaws.com")}); err != nil {
				t.Fatal(err)
			}
		}
		f.enable(t, typ)
		doc := fmt.Sprintf(`{"%s":{"setting":{"@@assign":"value"}}}`, key)
		out, err := f.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: typ, Name: aws.String(string(typ)), Description: aws.String("d"), Content: &doc})
		if err != nil {
			t.Fatalf("CreatePolicy %s: %v", typ, err)
		}
		id := aws.ToString(out.Policy.PolicySummary.Id)
		if !strings.Contains(aws.ToString(out.Policy.PolicySummary.Arn), "/"+strings.ToLower(string(typ))+"/"+id) || out.Policy.PolicySummary.Type != typ {
			t.Fatalf("CreatePolicy %s: %+v", typ, out.Policy.PolicySummary)
		}
		f.attach(t, id, acct)
		eff, err := f.org.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyType(typ), TargetId: &acct})
		if err != nil || aws.ToString(eff.EffectivePolicy.PolicyContent) != fmt.Sprintf(`{"%s":{"setting":"value"}}`, key) {
			t.Fatalf("DescribeEffectivePolicy %s: %v %+v", typ, err, eff)
		}
		other := `{"nope":{"setting":{"@@assign":"value"}}}`
		_, err = f.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: typ, Name: aws.String("other"), Description: aws.String(""), Content: &other})
		wantCode(t, string(typ)+" with another type's key", err, "MalformedPolicyDocumentException")
	}
	if typ := types.PolicyTypeSecurityhubPolicy; true {
		_, err := f.org.DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String("securityhub.amazonaws.com")})
		wantReason(t, "DisableAWSServiceAccess with SECURITYHUB_POLICY enabled", err, "ConstraintViolationException", "POLICY_TYPE_ENABLED_FOR_THIS_SERVICE")
		if _, err := f.org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: &f.root, PolicyType: typ}); err != nil {
			t.Fatal(err)
		}
		if got := f.attachedIDs(t, acct, typ); len(got) != 0 {
			t.Fatalf("SECURITYHUB_POLICY attachments after DisablePolicyType: %v", got)
		}
	}

	// The grammar: "Management policy syntax and inheritance" and "Inheritance operators".
	create := func(typ types.PolicyType, content string) error {
		_, err := f.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Type: typ, Name: aws.String("p" + fmt.Sprint(len(content))), Description: aws.String(""), Content: &content})
		return err
	}
	for _, c := range []struct{ name, doc string }{
		{"not JSON", `{"tags":`},
		{"not an object", `["tags"]`},
		{"duplicate key", `{"tags":{"a":{"@@assign":"x"}},"tags":{}}`},
		{"a bare value", `{"tags":{"costcenter":{"tag_key":"CostCenter"}}}`},
		{"an unknown operator", `{"tags":{"costcenter":{"tag_key":{"@@replace":"CostCenter"}}}}`},
		{"@@append of a single value", `{"tags":{"costcenter":{"tag_value":{"@@append":"Support"}}}}`},
		{"@@remove of objects", `{"tags":{"costcenter":{"tag_value":{"@@remove":[{"a":1}]}}}}`},
		{"@@assign of an object", `{"tags":{"costcenter":{"tag_key":{"@@assign":{"a":"b"}}}}}`},
		{"an unknown child control", `{"tags":{"costcenter":{"@@operators_allowed_for_child_policies":["@@replace"]}}}`},
		{"@@none with others", `{"tags":{"costcenter":{"@@operators_allowed_for_child_policies":["@@none","@@assign"]}}}`},
		{"an empty child control", `{"tags":{"costcenter":{"@@operators_allowed_for_child_policies":[]}}}`},
		{"a value and settings", `{"tags":{"costcenter":{"@@assign":"x","tag_key":{"@@assign":"CostCenter"}}}}`},
	} {
		wantCode(t, c.name, create(types.PolicyTypeTagPolicy, c.doc), "MalformedPolicyDocumentException")
	}
	if err := create(types.PolicyTypeTagPolicy, `{"tags":{"@@operators_allowed_for_child_policies":["@@none"],"costcenter":{"tag_value":{"@@assign":["a"],"@@operators_allowed_for_child_policies":["@@append","@@remove"]}}}}`); err != nil {
		t.Fatalf("child control operators beside settings: %v", err)
	}
	// Sizes per type: AI services opt-out policies 2,500 characters, upgrade rollout 5,120, tag 10,000.
	pad := func(key string, n int) string {
		head := `{"` + key + `":{"x":{"@@assign":"`
		return head + strings.Repeat("a", n-len(head)-4) + `"}}}`
	}
	if err := create(types.PolicyTypeAiservicesOptOutPolicy, pad("services", 2500)); err != nil {
		t.Fatalf("AI opt-out policy of 2,500 characters: %v", err)
	}
	wantReason(t, "AI opt-out policy of 2,501 characters", create(types.PolicyTypeAiservicesOptOutPolicy, pad("services", 2501)), "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED")
	wantReason(t, "upgrade rollout policy of 5,121 characters", create(types.PolicyTypeUpgradeRolloutPolicy, pad("upgrade_rollout", 5121)), "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED")
	if err := create(types.PolicyTypeTagPolicy, pad("tags", 10000)); err != nil {
		t.Fatalf("tag policy of 10,000 characters: %v", err)
	}
	wantReason(t, "tag policy of 10,001 characters", create(types.PolicyTypeTagPolicy, pad("tags", 10001)), "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED")

	// Five AI services opt-out policies on one target at most (one is attached above).
	for i := range 4 {
		f.attach(t, f.createPolicy(t, types.PolicyTypeAiservicesOptOutPolicy, fmt.Sprint("ai", i), `{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}`), acct)
	}
	sixth := f.createPolicy(t, types.PolicyTypeAiservicesOptOutPolicy, "ai-sixth", `{"services":{"default":{"opt_out_policy":{"@@assign":"optIn"}}}}`)
	_, err := f.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: &sixth, TargetId: &acct})
	wantReason(t, "sixth AI opt-out policy", err, "ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
}

func TestEffectivePolicyRequests(t *testing.T) {
	f := newOrg(t)
	acct := f.createAccount(t, "member")
	other := f.createAccount(t, "other")
	describe := func(c *organizations.Client, typ types.EffectivePolicyType, target *string) (*organizations.DescribeEffectivePolicyOutput, error) {
		return c.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: typ, TargetId: target})
	}
	_, err := describe(f.org, types.EffectivePolicyTypeTagPolicy, &acct)
	wantCode(t, "type not enabled", err, "EffectivePolicyNotFoundException")
	f.enable(t, types.PolicyTypeTagPolicy)
	_, err = describe(f.org, types.EffectivePolicyTypeTagPolicy, &acct)
	wantCode(t, "nothing attached", err, "EffectivePolicyNotFoundException")
	_, err = describe(f.org, "SERVICE_CONTROL_POLICY", &acct)
	wantReason(t, "an SCP", err, "InvalidInputException", "INVALID_ENUM_POLICY_TYPE")
	_, err = describe(f.org, types.EffectivePolicyTypeTagPolicy, &f.root)
	wantReason(t, "the root as target", err, "InvalidInputException", "TARGET_NOT_SUPPORTED")
	_, err = describe(f.org, types.EffectivePolicyTypeTagPolicy, aws.String("999999999999"))
	wantCode(t, "an unknown account", err, "TargetNotFoundException")

	// Management policies apply to the management account too.
	tp := f.createPolicy(t, types.PolicyTypeTagPolicy, "cc", `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`)
	f.attach(t, tp, f.root)
	mine, err := describe(f.org, types.EffectivePolicyTypeTagPolicy, nil)
	if err != nil || aws.ToString(mine.EffectivePolicy.TargetId) != "111111111111" {
		t.Fatalf("DescribeEffectivePolicy of the management account: %v %+v", err, mine)
	}
	// A member account sees its own, not another's.
	member := f.s.Organizations(f.s.RootKey(t, acct))
	own, err := describe(member, types.EffectivePolicyTypeTagPolicy, nil)
	if err != nil || aws.ToString(own.EffectivePolicy.TargetId) != acct || aws.ToString(own.EffectivePolicy.PolicyContent) != `{"tags":{"costcenter":{"tag_key":"CostCenter"}}}` {
		t.Fatalf("DescribeEffectivePolicy by a member: %v %+v", err, own)
	}
	_, err = describe(member, types.EffectivePolicyTypeTagPolicy, &other)
	wantCode(t, "another account's by a member", err, "AccessDeniedException")

	// Validation errors: none can arise, for an account with an effective policy.
	v, err := f.org.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: &acct, PolicyType: types.EffectivePolicyTypeTagPolicy})
	if err != nil || v.EffectivePolicyValidationErrors == nil || len(v.EffectivePolicyValidationErrors) != 0 || aws.ToString(v.AccountId) != acct ||
		aws.ToString(v.Path) != f.id+"/"+f.root+"/"+acct+"/" || v.PolicyType != types.EffectivePolicyTypeTagPolicy || v.EvaluationTimestamp == nil {
		t.Fatalf("ListEffectivePolicyValidationErrors: %v %+v", err, v)
	}
	_, err = f.org.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: aws.String("999999999999"), PolicyType: types.EffectivePolicyTypeTagPolicy})
	wantCode(t, "validation errors of an unknown account", err, "AccountNotFoundException")
	_, err = f.org.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: &acct, PolicyType: types.EffectivePolicyTypeBackupPolicy})
	wantCode(t, "validation errors without an effective policy", err, "EffectivePolicyNotFoundException")
	_, err = member.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: &acct, PolicyType: types.EffectivePolicyTypeTagPolicy})
	wantCode(t, "validation errors by a member", err, "AccessDeniedException")

	inv, err := f.org.ListAccountsWithInvalidEffectivePolicy(ctx, &organizations.ListAccountsWithInvalidEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy})
	if err != nil || inv.Accounts == nil || len(inv.Accounts) != 0 || inv.PolicyType != types.EffectivePolicyTypeTagPolicy {
		t.Fatalf("ListAccountsWithInvalidEffectivePolicy: %v %+v", err, inv)
	}
	_, err = f.org.ListAccountsWithInvalidEffectivePolicy(ctx, &organizations.ListAccountsWithInvalidEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeBackupPolicy})
	wantCode(t, "invalid effective policies of a type not enabled", err, "EffectivePolicyNotFoundException")
}
