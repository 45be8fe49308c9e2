package apply

import "testing"

// A bare name of an AWS managed policy resolves to its ARN with the path AWS's
// catalogue gives it; a file's own policy and an ARN as written win.
func TestPolicyArn(t *testing.T) {
	r := &runner{partition: "aws", accounts: map[string]*account{}, ouIDs: map[string]string{}}
	a := &account{id: "111111111111", res: &Resources{Policies: []*ManagedPolicy{{Name: "ReadOnlyAccess", Path: "/mine/"}}}}
	for ref, want := range map[string]string{
		"AdministratorAccess":                     "arn:aws:iam::aws:policy/AdministratorAccess",
		"AWSLambdaBasicExecutionRole":             "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
		"job-function/ViewOnlyAccess":             "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
		"NotInTheCatalogue":                       "arn:aws:iam::aws:policy/NotInTheCatalogue",
		"ReadOnlyAccess":                          "arn:aws:iam::111111111111:policy/mine/ReadOnlyAccess",
		"arn:aws:iam::222222222222:policy/legacy": "arn:aws:iam::222222222222:policy/legacy",
	} {
		if got := r.policyArn(a, ref); got != want {
			t.Errorf("%s: %s, want %s", ref, got, want)
		}
	}
}
