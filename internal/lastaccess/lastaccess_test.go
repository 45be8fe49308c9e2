package lastaccess

import "testing"

func TestTrackedAction(t *testing.T) {
	for action, want := range map[string]bool{
		"s3:CreateBucket":        true,  // S3 management action
		"s3:PutBucketPolicy":     true,  // permissions management
		"s3:PutObject":           false, // object-level: a data event
		"s3:GetBucketPolicy":     false, // Read
		"iam:CreateRole":         true,
		"iam:GetUser":            false,
		"ec2:RunInstances":       true,
		"lambda:CreateFunction":  true,
		"dynamodb:CreateTable":   false, // not tracked at action level
		"iam:NoSuchActionAnyway": false,
	} {
		if got := TrackedAction(action); got != want {
			t.Errorf("%s: got %v want %v", action, got, want)
		}
	}
}

func TestRoleOf(t *testing.T) {
	acct, name, ok := roleOf("arn:aws:iam::111111111111:role/svc/app")
	if !ok || acct != "111111111111" || name != "app" {
		t.Fatalf("%s %s %v", acct, name, ok)
	}
	if _, _, ok := roleOf("arn:aws:iam::111111111111:user/kim"); ok {
		t.Fatal("a user is not a role")
	}
}
