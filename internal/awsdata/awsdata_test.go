package awsdata

import (
	"runtime"
	"testing"
	"time"
)

// Facts of the service authorization reference (docs.aws.amazon.com/service-authorization/
// latest/reference), checked against the generated data.
func TestServiceAuthorizationReference(t *testing.T) {
	if name, ok := Service("s3"); !ok || name != "Amazon S3" {
		t.Fatalf("Service(s3) = %q %v", name, ok)
	}
	if _, ok := Service("fdsasf"); ok {
		t.Fatal("an unknown service is listed")
	}
	for action, want := range map[string]bool{
		"s3:ListAllMyBuckets": false, "ec2:DescribeInstances": false, "sts:GetCallerIdentity": false,
		"s3:GetObject": true, "sts:AssumeRole": true, "ec2:RunInstances": true, "kms:Decrypt": true,
	} {
		got, known := ResourceLevel(action)
		if !known || got != want {
			t.Errorf("ResourceLevel(%s) = %v %v, want %v", action, got, known, want)
		}
	}
	if _, known := ResourceLevel("s3:NoSuchAction"); known {
		t.Error("an unknown action is known")
	}
	a, ok := LookupAction("S3:getobject")
	hasObject := false
	for _, r := range a.Resources {
		hasObject = hasObject || r.Type == "object"
	}
	if !ok || a.Name != "GetObject" || a.Access != "Read" || !hasObject {
		t.Fatalf("LookupAction(s3:GetObject) = %+v %v", a, ok)
	}
	if f, ok := ARNFormat("iam", "role"); !ok || f != "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}" {
		t.Errorf("ARNFormat(iam, role) = %q", f)
	}
	if ty, ok := ConditionKeyType("s3", "s3:prefix"); !ok || ty != "String" {
		t.Errorf("ConditionKeyType(s3:prefix) = %q %v", ty, ok)
	}
	// RCPs launched with these five (AWS Organizations User Guide) and now govern more.
	for _, p := range []string{"s3", "sts", "kms", "sqs", "secretsmanager"} {
		if !RCPService(p) {
			t.Errorf("RCPs do not govern %s", p)
		}
	}
	if RCPService("ec2") || RCPService("iam") {
		t.Error("RCPs govern ec2 or iam")
	}
}

// The data loads lazily, quickly and small (issue 14's targets for AWS's data: start-up
// untouched, tens of MB at most once loaded).
func TestLoadCost(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	s := decode()
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("decoded %s in %v, %.1f MB of heap", s.Package, took, float64(heap)/1e6)
	if heap > 30<<20 {
		t.Errorf("the reference takes %.1f MB once loaded", float64(heap)/1e6)
	}
}
