package iam

import (
	"testing"

	"github.com/iamlocal/iamlocal/internal/awsdata"
)

// Every AWS managed policy's ARN reads as a policy ARN of account "aws" with the
// catalogue's path and name, so every one can be named in a request.
func TestCatalogueArnsParse(t *testing.T) {
	for _, p := range awsdata.ManagedPolicies() {
		owner, path, name, ok := policyArnParts(p.Arn)
		if !ok || owner != "aws" || path != p.Path || name != p.Name {
			t.Errorf("%s: %q %q %q %v", p.Arn, owner, path, name, ok)
		}
	}
}
