package directory

import "strings"

// awsManaged are the AWS managed policies iamlocal ships, with AWS's documents.
// Their ARNs are arn:aws:iam::aws:policy/NAME.
var awsManaged = map[string]string{
	"AdministratorAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	"PowerUserAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},` +
		`{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetPrimaryEmail","account:ListRegions","iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization"],"Resource":"*"}]}`,
	"IAMFullAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization",` +
		`"organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents",` +
		`"organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}`,
	"ReadOnlyAccess": readOnlyAccess,
}

// AWSManagedPrefix starts every AWS managed policy ARN.
const AWSManagedPrefix = "arn:aws:iam::aws:policy/"

// AWSManagedDocument returns the document of an AWS managed policy iamlocal ships.
func AWSManagedDocument(arn string) (string, bool) {
	name, ok := strings.CutPrefix(arn, AWSManagedPrefix)
	if !ok {
		return "", false
	}
	doc, ok := awsManaged[name[strings.LastIndexByte(name, '/')+1:]]
	return doc, ok
}

// AWSManagedNames lists the AWS managed policies iamlocal ships.
func AWSManagedNames() []string {
	out := make([]string, 0, len(awsManaged))
	for n := range awsManaged {
		out = append(out, n)
	}
	return out
}
