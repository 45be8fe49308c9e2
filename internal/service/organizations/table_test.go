package organizations

import (
	"testing"

	"github.com/iamlocal/iamlocal/internal/awsdata"
)

// TestActionTable: every operation of botocore's Organizations model (63 today) is a
// row whose IAM action the service authorization reference knows.
func TestActionTable(t *testing.T) {
	if len(Actions) != 63 {
		t.Fatalf("%d Organizations actions, want botocore's 63", len(Actions))
	}
	for name, a := range Actions {
		if a.IAMAction != "organizations:"+name || a.Resource == nil || a.ResourcePolicy == nil {
			t.Errorf("%s: %+v", name, a)
		}
		if _, ok := awsdata.LookupAction(a.IAMAction); !ok {
			t.Errorf("%s: the service authorization reference has no %s", name, a.IAMAction)
		}
	}
}

// TestCloseQuota: "Within a rolling 30 day period you can close the higher of either
// 250 or 20% of the member accounts in your organization, up to a maximum of 1,000"
// (CloseAccount, API reference).
func TestCloseQuota(t *testing.T) {
	for members, want := range map[int]int{1: 250, 1250: 250, 1255: 251, 4000: 800, 10000: 1000} {
		if got := closeQuota(members); got != want {
			t.Errorf("closeQuota(%d) = %d, want %d", members, got, want)
		}
	}
}

// TestWildcard: IAM's action wildcards, as delegation policies use them.
func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"list*", "listaccounts", true}, {"*", "", true}, {"describe?ccount", "describeaccount", true},
		{"list*", "describeaccount", false}, {"listaccounts", "listaccount", false}, {"*accounts", "listaccounts", true},
	} {
		if got := wildcard(c.pattern, c.s); got != c.want {
			t.Errorf("wildcard(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}
