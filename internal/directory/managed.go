package directory

import (
	"strings"

	"github.com/iamlocal/iamlocal/internal/awsdata"
)

// AWSManagedPrefix starts every AWS managed policy ARN.
const AWSManagedPrefix = awsdata.ManagedArnPrefix

// AWSManagedDocument returns the default version's document of an AWS managed
// policy, from AWS's catalogue (internal/awsdata). The ARN must be AWS's exactly,
// path included: arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole.
func AWSManagedDocument(arn string) (string, bool) {
	if !strings.HasPrefix(arn, AWSManagedPrefix) {
		return "", false // a name alone would find it in the catalogue; callers hold ARNs
	}
	p, ok := awsdata.ManagedPolicy(arn)
	if !ok {
		return "", false
	}
	return p.Document, true
}
