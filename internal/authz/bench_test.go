package authz_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// identityPolicyDoc is a realistic identity policy: five statements over several
// services, most with conditions; n varies the buckets and tables it names.
func identityPolicyDoc(n int) string {
	return fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ReadTeamBucket%[1]d", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::team-%[1]d-data", "arn:aws:s3:::team-%[1]d-data/${aws:PrincipalTag/team}/*"],
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["payments", "ledger"]}, "Bool": {"aws:SecureTransport": "true"}}},
    {"Sid": "WriteReports%[1]d", "Effect": "Allow", "Action": "s3:PutObject",
     "Resource": "arn:aws:s3:::reports-%[1]d/*",
     "Condition": {"StringLike": {"s3:x-amz-server-side-encryption": "aws:kms*"}}},
    {"Sid": "Instances%[1]d", "Effect": "Allow", "Action": ["ec2:StartInstances", "ec2:StopInstances"],
     "Resource": "arn:aws:ec2:*:111111111111:instance/*",
     "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
    {"Sid": "Tables%[1]d", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
     "Resource": "arn:aws:dynamodb:eu-west-1:111111111111:table/orders-%[1]d",
     "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["id", "status", "total"]}}},
    {"Sid": "NoDeleteOutsideOffice%[1]d", "Effect": "Deny", "Action": "s3:Delete*",
     "Resource": "*",
     "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}}
  ]
}`, n)
}

const boundaryDoc = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "Services", "Effect": "Allow", "Action": ["s3:*", "ec2:*", "dynamodb:*", "logs:*"], "Resource": "*"},
  {"Sid": "NoIAM", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}`

var scpDocs = []string{
	`{"Version": "2012-10-17", "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}]}`,
	`{"Version": "2012-10-17", "Statement": [
	  {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"},
	  {"Sid": "Regions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"], "Resource": "*",
	   "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}]}`,
	`{"Version": "2012-10-17", "Statement": [
	  {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"},
	  {"Sid": "ProtectRoles", "Effect": "Deny", "Action": ["iam:DeleteRole", "iam:PutRolePolicy"], "Resource": "arn:aws:iam::*:role/platform-*",
	   "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/platform-admin"}}}]}`,
}

const bucketPolicyDoc = `{"Version": "2012-10-17", "Statement": [
  {"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::team-3-data", "arn:aws:s3:::team-3-data/*"],
   "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
  {"Sid": "OrgRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/analyst"}, "Action": "s3:GetObject",
   "Resource": "arn:aws:s3:::team-3-data/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}]}`

func mustParse(tb testing.TB, doc string, kind policy.Kind) *policy.Policy {
	tb.Helper()
	p, err := policy.Parse([]byte(doc), kind)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// realistic builds the request of BenchmarkDecide: a role session reading an object,
// with nPolicies identity policies, a boundary, three SCP levels and a bucket policy.
func realistic(tb testing.TB, nPolicies int) (*policy.Request, *authz.Input) {
	in := &authz.Input{
		Boundary: mustParse(tb, boundaryDoc, policy.Boundary),
		Resource: mustParse(tb, bucketPolicyDoc, policy.Resource),
	}
	for i := 0; i < nPolicies; i++ {
		in.Identity = append(in.Identity, mustParse(tb, identityPolicyDoc(i), policy.Identity))
	}
	for _, d := range scpDocs {
		in.SCPs = append(in.SCPs, []*policy.Policy{mustParse(tb, d, policy.SCP)})
	}
	caller, err := policy.ParseCaller("arn:aws:sts::111111111111:assumed-role/analyst/alice")
	if err != nil {
		tb.Fatal(err)
	}
	req := &policy.Request{
		Caller:          caller,
		Action:          "s3:GetObject",
		Resource:        "arn:aws:s3:::team-3-data/payments/2026/report.csv",
		ResourceAccount: "111111111111",
		Context: policy.Context{
			"aws:principaltag/team":      {"payments"},
			"aws:securetransport":        {"true"},
			"aws:sourceip":               {"203.0.113.9"},
			"aws:requestedregion":        {"eu-west-1"},
			"aws:principalorgid":         {"o-a1b2c3d4e5"},
			"aws:currenttime":            {"2026-11-21T12:00:00Z"},
			"aws:multifactorauthpresent": {"true"},
		},
	}
	req.Prepare()
	return req, in
}

func TestRealisticRequestIsAllowed(t *testing.T) {
	req, in := realistic(t, 10)
	var d authz.Decision
	authz.Decide(req, in, &d)
	if d.Outcome != authz.Allowed {
		t.Fatalf("outcome %s, blocked by %v", d.Outcome, d.BlockedBy.List())
	}
	var sids []string
	for _, m := range d.Matched {
		sids = append(sids, m.Layer.String()+":"+m.Sid)
	}
	want := "scp:FullAWSAccess scp:AllowAll scp:AllowAll resource:OrgRead identity:ReadTeamBucket3 permissionsBoundary:Services"
	if got := strings.Join(sids, " "); got != want {
		t.Fatalf("matched %q\nwant    %q", got, want)
	}
}

func TestDecideDoesNotAllocate(t *testing.T) {
	req, in := realistic(t, 10)
	var d authz.Decision
	authz.Decide(req, in, &d) // grow d's slices once
	if n := testing.AllocsPerRun(100, func() { authz.Decide(req, in, &d) }); n != 0 {
		t.Fatalf("Decide allocates %v times per call", n)
	}
}

// BenchmarkDecide is the engine's headline figure (bench/RESULTS.md): one decision for
// a realistic request. Target: under 2 µs and 0 allocations.
func BenchmarkDecide(b *testing.B) {
	req, in := realistic(b, 10)
	var d authz.Decision
	b.ReportAllocs()
	for b.Loop() {
		authz.Decide(req, in, &d)
	}
	if d.Outcome != authz.Allowed {
		b.Fatal("the realistic request must be allowed")
	}
}

// BenchmarkDecidePolicies shows how evaluation time grows with the number of identity
// policies (five statements each).
func BenchmarkDecidePolicies(b *testing.B) {
	for _, n := range []int{1, 10, 20, 50, 100} {
		b.Run(fmt.Sprintf("policies=%d", n), func(b *testing.B) {
			req, in := realistic(b, n)
			var d authz.Decision
			b.ReportAllocs()
			for b.Loop() {
				authz.Decide(req, in, &d)
			}
		})
	}
}

// BenchmarkParse measures compiling one identity policy, done once per write.
func BenchmarkParse(b *testing.B) {
	doc := []byte(identityPolicyDoc(1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policy.Parse(doc, policy.Identity); err != nil {
			b.Fatal(err)
		}
	}
}
