package authzmsg

import "strings"

// The engine keeps context keys in lower case (their names are case-insensitive);
// messages show them as AWS spells them.
var canonicalKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"aws:CalledVia", "aws:CurrentTime", "aws:EpochTime", "aws:MultiFactorAuthAge", "aws:MultiFactorAuthPresent",
		"aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalIsAWSService", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
		"aws:PrincipalType", "aws:RequestedRegion", "aws:ResourceAccount", "aws:ResourceOrgID", "aws:SecureTransport",
		"aws:SourceAccount", "aws:SourceArn", "aws:SourceIdentity", "aws:SourceIp", "aws:SourceVpc", "aws:SourceVpce",
		"aws:TagKeys", "aws:TokenIssueTime", "aws:userid", "aws:username", "aws:ViaAWSService",
		"ec2:InstanceType", "ec2:Region", "ec2:ImageType", "ec2:Owner", "ec2:InstanceProfile", "ec2:CreateAction",
		"ec2:MetadataHttpTokens", "ec2:MetadataHttpEndpoint", "ec2:MetadataHttpPutResponseHopLimit", "ec2:Tenancy",
		"s3:prefix", "s3:delimiter", "s3:max-keys", "s3:x-amz-acl", "s3:authType", "s3:signatureversion",
		"s3:x-amz-server-side-encryption", "s3:x-amz-copy-source", "s3:LocationConstraint", "s3:RequestObjectTagKeys",
		"sts:ExternalId", "sts:RoleSessionName", "sts:SourceIdentity", "sts:TransitiveTagKeys",
		"iam:PassedToService", "iam:PermissionsBoundary", "iam:PolicyARN", "iam:AWSServiceName",
		"organizations:PolicyType",
	} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

var tagPrefixes = []string{"aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/", "iam:ResourceTag/",
	"s3:ExistingObjectTag/", "s3:RequestObjectTag/"}

// displayKey spells a lower-cased context key as AWS does; a tag key keeps the case
// it arrived in (lower).
func displayKey(k string) string {
	if c, ok := canonicalKeys[k]; ok {
		return c
	}
	for _, p := range tagPrefixes {
		if strings.HasPrefix(k, strings.ToLower(p)) {
			return p + k[len(p):]
		}
	}
	return k
}
