package awsdata

import "testing"

// The whole-reference lookups policy checks read, and the data kept by hand beside
// the reference: the global condition keys (IAM User Guide, "AWS global condition
// context keys") and the services AWS has retired.
func TestLookupsAndGlobalKeys(t *testing.T) {
	prefixes := ServicePrefixes()
	if len(prefixes) < 400 || prefixes[0] > prefixes[len(prefixes)-1] {
		t.Fatalf("%d service prefixes, sorted: %v", len(prefixes), prefixes[:3])
	}
	keys := ConditionKeys("S3")
	if keys["s3:prefix"] != "String" || keys["s3:ExistingObjectTag/<key>"] != "String" || keys["aws:TagKeys"] != "ArrayOfString" {
		t.Errorf("ConditionKeys(s3): %d keys", len(keys))
	}
	keys["s3:prefix"] = "changed"
	if ConditionKeys("s3")["s3:prefix"] != "String" {
		t.Error("ConditionKeys returns the package's own map")
	}
	if rt := ResourceTypes("s3"); rt["object"] != "arn:${Partition}:s3:::${BucketName}/${ObjectName}" {
		t.Errorf("ResourceTypes(s3)[object] = %q", rt["object"])
	}
	if ConditionKeys("nope") != nil || ResourceTypes("nope") != nil {
		t.Error("an unknown service has keys or types")
	}
	for key, want := range map[string]string{
		"aws:SourceIp": "aws:SourceIp", "AWS:SOURCEIP": "aws:SourceIp", "aws:PrincipalTag/team": "aws:PrincipalTag/",
		"aws:requesttag/Env": "aws:RequestTag/", "ec2:SourceInstanceArn": "ec2:SourceInstanceArn", "aws:EpochTime": "aws:EpochTime",
	} {
		if g, ok := GlobalConditionKey(key); !ok || g.Key != want {
			t.Errorf("GlobalConditionKey(%s) = %v %v, want %s", key, g, ok, want)
		}
	}
	for _, key := range []string{"aws:PrincipalTag/", "aws:SourceIpAddress", "s3:prefix"} {
		if g, ok := GlobalConditionKey(key); ok {
			t.Errorf("GlobalConditionKey(%s) = %v", key, g)
		}
	}
	if g, _ := GlobalConditionKey("aws:TagKeys"); !g.Multi {
		t.Error("aws:TagKeys is single-valued")
	}
	for _, p := range []string{"deepcomposer", "IOT1CLICK"} {
		if _, ok := RetiredService(p); !ok {
			t.Errorf("%s is not retired", p)
		}
		if _, ok := Service(p); ok {
			t.Errorf("%s is both listed and retired", p)
		}
	}
}
