package awsdata

import "strings"

// GlobalKey is a condition key that AWS defines for every service: the global
// condition context keys (aws:SourceIp, aws:PrincipalTag/tag-key…) and the role-session
// keys AWS lists with them (ec2:SourceInstanceArn, lambda:SourceFunctionArn…).
type GlobalKey struct {
	Key   string   // as AWS writes it; a tag-key template ends in "/"
	Types []string // the data types AWS documents (most have one); none when it does not say
	Multi bool     // multivalued: the request holds a list (ForAllValues/ForAnyValue)
}

// globalKeys is the table of the IAM User Guide, "AWS global condition context keys"
// (reference_policies_condition-keys), with each key's documented data type and value
// type. The service authorization reference (sar.json.gz) does not list them, so they
// are kept here by hand; the aws: keys that services list (aws:RequestTag/${TagKey},
// aws:TagKeys…) come from the reference as well.
var globalKeys = []GlobalKey{
	// Properties of the principal.
	{"aws:PrincipalArn", []string{"ARN"}, false},
	{"aws:PrincipalAccount", []string{"String"}, false},
	{"aws:PrincipalOrgPaths", []string{"String"}, true},
	{"aws:PrincipalOrgID", []string{"String"}, false},
	{"aws:PrincipalTag/", []string{"String"}, false},
	{"aws:PrincipalIsAWSService", []string{"Bool"}, false},
	{"aws:PrincipalServiceName", []string{"String"}, false},
	{"aws:PrincipalServiceNamesList", []string{"String"}, true},
	{"aws:PrincipalType", []string{"String"}, false},
	{"aws:userid", []string{"String"}, false},
	{"aws:username", []string{"String"}, false},
	// Properties of a role session.
	{"aws:AssumedRoot", nil, false},
	{"aws:FederatedProvider", []string{"String", "ARN"}, false}, // ARN for IdPs outside AWS
	{"aws:TokenIssueTime", []string{"Date"}, false},
	{"aws:SignInSessionArn", []string{"ARN"}, false},
	{"aws:MultiFactorAuthAge", []string{"Numeric"}, false},
	{"aws:MultiFactorAuthPresent", []string{"Bool"}, false},
	{"aws:ChatbotSourceArn", []string{"ARN"}, false},
	{"aws:Ec2InstanceSourceVpc", []string{"String"}, false},
	{"aws:Ec2InstanceSourcePrivateIPv4", []string{"IPAddress"}, false},
	{"aws:SourceIdentity", []string{"String"}, false},
	{"ec2:RoleDelivery", []string{"Numeric"}, false},
	{"ec2:SourceInstanceArn", []string{"ARN"}, false},
	{"glue:RoleAssumedBy", []string{"String"}, false},
	{"glue:CredentialIssuingService", []string{"String"}, false},
	{"codebuild:BuildArn", []string{"ARN"}, false},
	{"codebuild:ProjectArn", []string{"ARN"}, false},
	{"lambda:SourceFunctionArn", []string{"ARN"}, false},
	{"ssm:SourceInstanceArn", []string{"ARN"}, false},
	{"identitystore:UserId", []string{"String"}, false},
	// Properties of the network.
	{"aws:SourceIp", []string{"IPAddress"}, false},
	{"aws:SourceVpc", []string{"String"}, false},
	{"aws:SourceVpcArn", []string{"ARN"}, false},
	{"aws:SourceVpce", []string{"String"}, false},
	{"aws:VpceAccount", []string{"String"}, false},
	{"aws:VpceOrgID", []string{"String"}, false},
	{"aws:VpceOrgPaths", []string{"String"}, true},
	{"aws:VpcSourceIp", []string{"IPAddress"}, false},
	// Properties of the resource.
	{"aws:ResourceAccount", []string{"String"}, false},
	{"aws:ResourceOrgID", []string{"String"}, false},
	{"aws:ResourceOrgPaths", []string{"String"}, true},
	{"aws:ResourceTag/", []string{"String"}, false},
	// Properties of the request.
	{"aws:CalledVia", []string{"String"}, true},
	{"aws:CalledViaFirst", []string{"String"}, false},
	{"aws:CalledViaLast", []string{"String"}, false},
	{"aws:CalledViaAWSMCP", nil, false},
	{"aws:ViaAWSService", []string{"Bool"}, false},
	{"aws:ViaAWSMCPService", nil, false},
	{"aws:CurrentTime", []string{"Date"}, false},
	{"aws:EpochTime", []string{"Date", "Numeric"}, false},
	{"aws:referer", []string{"String"}, false},
	{"aws:RequestedRegion", []string{"String"}, false},
	{"aws:RequestTag/", []string{"String"}, false},
	{"aws:TagKeys", []string{"String"}, true},
	{"aws:SecureTransport", []string{"Bool"}, false},
	{"aws:SourceAccount", []string{"String"}, false},
	{"aws:SourceArn", []string{"ARN"}, false},
	{"aws:SourceOrgID", []string{"String"}, false},
	{"aws:SourceOrgPaths", []string{"String"}, true},
	{"aws:UserAgent", []string{"String"}, false},
	{"aws:IsMcpServiceAction", nil, false},
	// Older keys AWS still accepts: aws:SourceOwner (Amazon SNS) and aws:ARN, which
	// IAM Access Analyzer reports as deprecated ("use aws:PrincipalArn or aws:SourceArn").
	{"aws:SourceOwner", []string{"String"}, false},
	// Not in the table, but AWS's own managed policy AWSSSOServiceRolePolicy conditions
	// on it: the management account of the principal's organization.
	{"aws:PrincipalOrgMasterAccountId", []string{"String"}, false},
	{"aws:ARN", []string{"ARN"}, false},
}

// GlobalConditionKey finds a global condition key, without regard to case: an exact
// key (aws:SourceIp) or a tag key of a template (aws:PrincipalTag/team matches
// aws:PrincipalTag/).
func GlobalConditionKey(key string) (GlobalKey, bool) {
	for _, g := range globalKeys {
		if strings.HasSuffix(g.Key, "/") {
			if len(key) > len(g.Key) && strings.EqualFold(key[:len(g.Key)], g.Key) {
				return g, true
			}
			continue
		}
		if strings.EqualFold(key, g.Key) {
			return g, true
		}
	}
	return GlobalKey{}, false
}
