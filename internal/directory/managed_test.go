package directory

import (
	"slices"
	"testing"

	"github.com/iamlocal/iamlocal/internal/awsdata"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// doorRefuses are the AWS managed policies whose default version IAM's door for
// customers' managed policies (CreatePolicy) would refuse: AWS wrote them without
// it. Three deny everything but arn:aws:iam::*:root, an ARN the door does not list
// among IAM's resource types; one names an S3 access grant with a region. The
// engine still reads them (CompileStored). A change here means the catalogue or
// the door moved: look at which.
var doorRefuses = []string{
	"IAMAuditRootUserCredentials", "IAMCreateRootUserPassword", "IAMDeleteRootUserCredentials",
	"SageMakerStudioProjectRoleMachineLearningPolicy",
}

// AWS stores every managed policy it publishes, so the engine must read each one's
// default version as it reads an attached policy (boundaries and managed session
// policies are read the same way, as other kinds).
func TestAWSManagedPoliciesParse(t *testing.T) {
	all := awsdata.ManagedPolicies()
	cache := NewPolicies()
	var refused []string
	for _, p := range all {
		doc, ok := AWSManagedDocument(p.Arn)
		if !ok {
			t.Fatalf("%s: no document", p.Arn)
		}
		if _, err := cache.CompileStored(doc, policy.Identity); err != nil {
			t.Errorf("%s %s: the engine cannot read it: %v", p.Name, p.DefaultVersion, err)
		}
		if _, err := policy.ParseManaged([]byte(doc)); err != nil {
			t.Logf("%s %s: CreatePolicy's door would refuse it: %v", p.Name, p.DefaultVersion, err)
			refused = append(refused, p.Name)
		}
	}
	if !slices.Equal(refused, doorRefuses) {
		t.Errorf("the door refuses %v, want %v", refused, doorRefuses)
	}
	t.Logf("%d of %d default versions pass the door (%s)", len(all)-len(refused), len(all), awsdata.ManagedSource())
}

func TestAWSManagedDocument(t *testing.T) {
	if doc, ok := AWSManagedDocument("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"); !ok || doc == "" {
		t.Error("a policy under /service-role/ is missing")
	}
	for _, miss := range []string{"AdministratorAccess", "arn:aws:iam::aws:policy/service-role/AdministratorAccess", "arn:aws:iam::111111111111:policy/AdministratorAccess"} {
		if _, ok := AWSManagedDocument(miss); ok {
			t.Errorf("%s found", miss)
		}
	}
}
