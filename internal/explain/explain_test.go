package explain_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func explainText(t *testing.T, src explain.Source, q explain.Query) (*explain.Tree, string) {
	t.Helper()
	c, err := explain.Gather(ctx, src, q)
	if err != nil {
		t.Fatal(err)
	}
	tree := explain.Build(c, c.Decide())
	var buf bytes.Buffer
	explain.WriteText(&buf, tree, explain.Painter{})
	return tree, buf.String()
}

func wantAll(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q:\n%s", w, text)
		}
	}
}

func TestExplainAllowedAndSCPDeny(t *testing.T) {
	w := newWorld(t)
	w.user(w.devIAM, "bob", `{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	bob := "arn:aws:iam::" + w.dev + ":user/bob"
	src := w.source(w.admin)

	tree, text := explainText(t, src, explain.Query{Principal: bob, Action: "s3:GetObject", Resource: "arn:aws:s3:::data/x", ResourceAccount: w.dev})
	if tree.Decision != "allowed" {
		t.Fatalf("decision %s:\n%s", tree.Decision, text)
	}
	wantAll(t, text, `inline policy "p" of user bob`, `statement 0 (Sid "S3")  Allow  applies`, "FullAWSAccess", "level 0: the root "+w.root, "identity-based policies of user bob — allows")

	w.orgPolicy(orgtypes.PolicyTypeServiceControlPolicy, "deny-s3", `{"Version":"2012-10-17","Statement":[{"Sid":"NoS3","Effect":"Deny","Action":"s3:*","Resource":"*"}]}`, w.dev)
	tree, text = explainText(t, w.source(w.admin), explain.Query{Principal: bob, Action: "s3:GetObject", Resource: "arn:aws:s3:::data/x", ResourceAccount: w.dev})
	if tree.Decision != "explicitDeny" || tree.BlockedBy[0] != "scp" {
		t.Fatalf("decision %s %v:\n%s", tree.Decision, tree.BlockedBy, text)
	}
	wantAll(t, text, "explicit deny in a service control policy", `statement 0 (Sid "NoS3") of SCP deny-s3`, "attached to account "+w.dev, "applies: denies")
}

func TestExplainConditionFails(t *testing.T) {
	w := newWorld(t)
	w.user(w.mgmt, "carol", `{"Version":"2012-10-17","Statement":[{"Sid":"FromOffice","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	tree, text := explainText(t, w.source(w.admin), explain.Query{Principal: "arn:aws:iam::111111111111:user/carol", Action: "s3:GetObject",
		Resource: "arn:aws:s3:::b/k", ResourceAccount: "111111111111", Context: map[string][]string{"aws:SourceIp": {"192.0.2.7"}}})
	if tree.Decision != "implicitDeny" {
		t.Fatalf("decision %s:\n%s", tree.Decision, text)
	}
	wantAll(t, text, `no identity-based policy allows s3:GetObject`, `Condition: IpAddress aws:SourceIp "10.0.0.0/8": the request has "192.0.2.7"`,
		`statement 0 (Sid "FromOffice") of inline policy "p" of user carol does not apply`, "not applied (principals of the management account are exempt from SCPs)")
}

func TestExplainBucketPolicyAcrossAccounts(t *testing.T) {
	w := newWorld(t)
	aliceKey := w.user(w.mgmt, "alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	alice := "arn:aws:iam::111111111111:user/alice"
	devS3 := s3.NewFromConfig(w.roleConfig(w.admin, "arn:aws:iam::"+w.dev+":role/OrganizationAccountAccessRole"), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := devS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared-data")}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	w.must(devS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("shared-data"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-data/*"}]}`)}))

	// The bucket's owner is found among the organization's accounts.
	tree, text := explainText(t, w.source(w.admin), explain.Query{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::shared-data/report.csv"})
	if tree.Decision != "allowed" || tree.ResourceAccount != w.dev {
		t.Fatalf("alice: %s in %s:\n%s", tree.Decision, tree.ResourceAccount, text)
	}
	wantAll(t, text, `bucket policy of shared-data`, `statement 0 (Sid "Alice")  Allow  applies, names the caller`)

	// The administrator's own policies allow everything, but the bucket is another
	// account's and does not name it.
	r, err := explain.DoctorCall(ctx, w.source(w.admin), explain.Query{Action: "s3:GetObject", Resource: "arn:aws:s3:::shared-data/report.csv"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteReport(&buf, r, explain.Painter{})
	c := onlyFailure(t, r, buf.String(), "resource-based policy")
	wantAll(t, c.Fix, "aws s3api put-bucket-policy --bucket shared-data")
	wantAll(t, c.FixPolicy, `"Sid": "Alice"`, `"AWS": "arn:aws:iam::111111111111:user/admin"`, `"Resource": "arn:aws:s3:::shared-data/report.csv"`)

	// The server decides the same.
	w.must(devS3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared-data"), Key: aws.String("report.csv"), Body: strings.NewReader("a,b\n")}))
	get := func(c servertest.Creds) error {
		client := s3.NewFromConfig(w.config(c), func(o *s3.Options) { o.UsePathStyle = true })
		_, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("shared-data"), Key: aws.String("report.csv")})
		return err
	}
	if err := get(aliceKey); err != nil {
		t.Errorf("the server denies alice: %v", err)
	}
	if err := get(w.admin); explain.ErrorCode(err) != "AccessDenied" {
		t.Errorf("the server lets the administrator in: %v", err)
	}
}
