package organizations

// The AWS services that integrate with Organizations, from the table of "AWS services
// that you can use with AWS Organizations"
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_services_list.html)
// and each row's "Learn more" page, which names the service principal. A principal
// missing here is UNRECOGNIZED_SERVICE_PRINCIPAL for EnableAWSServiceAccess and
// RegisterDelegatedAdministrator. This file is data: add a row when AWS adds a service.

// integration is what a service supports: trusted access always (a principal is
// listed only if it does); delegated administrators when admins > 0, at most admins
// accounts at a time.
type integration struct {
	service string
	admins  int
}

// Services that allow more than one delegated administrator say so in their guides:
// CloudFormation StackSets "up to five", AWS Config three.
var integrations = map[string]integration{
	"access-analyzer.amazonaws.com":                      {"IAM Access Analyzer", 1},
	"account.amazonaws.com":                              {"AWS Account Management", 1},
	"auditmanager.amazonaws.com":                         {"AWS Audit Manager", 1},
	"aws-artifact-account-sync.amazonaws.com":            {"AWS Artifact", 0},
	"backup.amazonaws.com":                               {"AWS Backup", 1},
	"cloudtrail.amazonaws.com":                           {"AWS CloudTrail", 1},
	"compute-optimizer.amazonaws.com":                    {"AWS Compute Optimizer", 1},
	"config.amazonaws.com":                               {"AWS Config", 3},
	"config-multiaccountsetup.amazonaws.com":             {"AWS Config rules and conformance packs", 3},
	"controltower.amazonaws.com":                         {"AWS Control Tower", 0},
	"cost-optimization-hub.bcm.amazonaws.com":            {"Cost Optimization Hub", 1},
	"detective.amazonaws.com":                            {"Amazon Detective", 1},
	"devops-guru.amazonaws.com":                          {"Amazon DevOps Guru", 1},
	"ds.amazonaws.com":                                   {"AWS Directory Service", 0},
	"fms.amazonaws.com":                                  {"AWS Firewall Manager", 1},
	"guardduty.amazonaws.com":                            {"Amazon GuardDuty", 1},
	"health.amazonaws.com":                               {"AWS Health", 1},
	"iam.amazonaws.com":                                  {"AWS Identity and Access Management", 1},
	"inspector2.amazonaws.com":                           {"Amazon Inspector", 1},
	"ipam.amazonaws.com":                                 {"Amazon VPC IP Address Manager", 1},
	"license-management.marketplace.amazonaws.com":       {"AWS Marketplace", 0},
	"license-manager.amazonaws.com":                      {"AWS License Manager", 1},
	"license-manager.member-account.amazonaws.com":       {"AWS License Manager (member accounts)", 0},
	"macie.amazonaws.com":                                {"Amazon Macie", 1},
	"member.org.stacksets.cloudformation.amazonaws.com":  {"AWS CloudFormation StackSets", 5},
	"mgn.amazonaws.com":                                  {"AWS Application Migration Service", 0},
	"networkmanager.amazonaws.com":                       {"AWS Network Manager", 1},
	"notifications.amazonaws.com":                        {"AWS User Notifications", 1},
	"ram.amazonaws.com":                                  {"AWS Resource Access Manager", 0},
	"reachabilityanalyzer.networkinsights.amazonaws.com": {"VPC Reachability Analyzer", 1},
	"reporting.trustedadvisor.amazonaws.com":             {"AWS Trusted Advisor", 1},
	"resource-explorer-2.amazonaws.com":                  {"AWS Resource Explorer", 1},
	"securityhub.amazonaws.com":                          {"AWS Security Hub", 1},
	"securitylake.amazonaws.com":                         {"Amazon Security Lake", 1},
	"servicecatalog.amazonaws.com":                       {"AWS Service Catalog", 1},
	"servicequotas.amazonaws.com":                        {"Service Quotas", 0},
	"ssm.amazonaws.com":                                  {"AWS Systems Manager", 1},
	"sso.amazonaws.com":                                  {"AWS IAM Identity Center", 1},
	"storage-lens.s3.amazonaws.com":                      {"Amazon S3 Storage Lens", 1},
	"tagpolicies.tag.amazonaws.com":                      {"Tag policies", 0},
	"wellarchitected.amazonaws.com":                      {"AWS Well-Architected Tool", 1},
}
