package organizations

import (
	"github.com/iamlocal/iamlocal/internal/policy"
)

// The authorization policy types; every other type is a management policy.
const (
	typeSCP = "SERVICE_CONTROL_POLICY"
	typeRCP = "RESOURCE_CONTROL_POLICY"
)

// policyType is what iamlocal knows of one of AWS's policy types.
type policyType struct {
	// key is the one top-level key of a management policy (the service's fixed key
	// name, as "tags" for tag policies); "" for SCPs and RCPs, which are IAM policies.
	key string
	// maxSize is the largest document, in characters as sent ("If you save the
	// policy using an SDK operation or the AWS CLI, then the policy is saved exactly
	// as you provided it").
	maxSize int
	// maxAttached is how many policies of the type one root, OU or account may hold.
	maxAttached int
	// full is the AWS managed policy every target holds while the type is enabled.
	full string
	// service is the service principal that must have trusted access before the type
	// can be enabled (and keeps it while the type is enabled).
	service string
}

// policyTypes are the values of the PolicyType enum (botocore's and the SDK's). Sizes and attachment
// counts are from "Quotas and service limits for AWS Organizations"
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html)
// and the types' syntax pages: SCPs and RCPs 5,120 characters and 5 per target; AI
// services opt-out policies 2,500 and 5; backup and tag policies 10,000 and 10;
// upgrade rollout policies 5,120 ("the maximum policy size of 5,120 bytes",
// orgs_manage_policies_upgrade_syntax). For the newer types whose limits the pages
// do not state, iamlocal allows 10,000 characters and 10 per target, as for backup
// and tag policies (README.md).
var policyTypes = map[string]policyType{
	typeSCP:                            {maxSize: 5120, maxAttached: 5, full: fullAWSAccessID},
	typeRCP:                            {maxSize: 5120, maxAttached: 5, full: rcpFullAWSAccessID},
	"TAG_POLICY":                       {key: "tags", maxSize: 10000, maxAttached: 10},
	"BACKUP_POLICY":                    {key: "plans", maxSize: 10000, maxAttached: 10},
	"AISERVICES_OPT_OUT_POLICY":        {key: "services", maxSize: 2500, maxAttached: 5},
	"CHATBOT_POLICY":                   {key: "chatbot", maxSize: 10000, maxAttached: 10},
	"DECLARATIVE_POLICY_EC2":           {key: "ec2_attributes", maxSize: 10000, maxAttached: 10},
	"SECURITYHUB_POLICY":               {key: "securityhub", maxSize: 10000, maxAttached: 10, service: "securityhub.amazonaws.com"},
	"INSPECTOR_POLICY":                 {key: "inspector", maxSize: 10000, maxAttached: 10},
	"UPGRADE_ROLLOUT_POLICY":           {key: "upgrade_rollout", maxSize: 5120, maxAttached: 10},
	"BEDROCK_POLICY":                   {key: "bedrock", maxSize: 10000, maxAttached: 10},
	"S3_POLICY":                        {key: "s3_attributes", maxSize: 10000, maxAttached: 10},
	"NETWORK_SECURITY_DIRECTOR_POLICY": {key: "network_security_director", maxSize: 10000, maxAttached: 10},
	// GUARDDUTY_POLICY is newer than the botocore model on this machine; the SDK for Go
	// v2 sends it (orgs_manage_policies_guardduty_syntax).
	"GUARDDUTY_POLICY": {key: "guardduty", maxSize: 10000, maxAttached: 10},
}

// management reports whether a policy type is a management policy type (the types
// of DescribeEffectivePolicy's EffectivePolicyType).
func (t policyType) management() bool { return t.key != "" }

// policyKind is the engine's kind of an authorization policy type's documents.
func policyKind(typ string) policy.Kind {
	if typ == typeRCP {
		return policy.RCP
	}
	return policy.SCP
}

// checkPolicyType reads a policy type member.
func checkPolicyType(member, t string) (policyType, error) {
	pt, ok := policyTypes[t]
	if !ok {
		return pt, invalidInput("INVALID_ENUM_POLICY_TYPE", "You specified an invalid policy type string for %s.", member)
	}
	return pt, nil
}

// readManagementType reads a required PolicyType member of the EffectivePolicyType
// enum: a management policy type.
func readManagementType(v *string) (string, error) {
	t, err := need("PolicyType", v)
	if err != nil {
		return "", err
	}
	pt, err := checkPolicyType("PolicyType", t)
	if err == nil && !pt.management() {
		err = invalidInput("INVALID_ENUM_POLICY_TYPE", "You specified an invalid value for PolicyType: effective policies are computed for management policy types only, not %s.", t)
	}
	return t, err
}
