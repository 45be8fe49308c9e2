package s3_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/service"
	s3plane "github.com/iamlocal/iamlocal/internal/service/s3"
)

func allow(actions, resources string, extra ...string) string {
	cond := ""
	if len(extra) > 0 {
		cond = `,"Condition":` + extra[0]
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + actions + `,"Resource":` + resources + cond + `}]}`
}

func TestSameAccountIdentityPolicy(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "team")
	iamc := f.s.IAM(servertest.Root)
	none := f.s.S3(f.user(iamc, "nobody", ""))
	_, err := none.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("team"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantDenied(t, "no policy", err, "User: arn:aws:iam::111111111111:user/nobody is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::team/k because no identity-based policy allows the s3:PutObject action")
	if n := f.blobFiles(); n != 0 {
		t.Fatalf("a denied put wrote %d files", n)
	}
	_, err = none.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantDenied(t, "ListBuckets", err, "s3:ListAllMyBuckets")

	writer := f.s.S3(f.user(iamc, "writer", allow(`["s3:PutObject","s3:GetObject"]`, `"arn:aws:s3:::team/*"`)))
	f.put(writer, "team", "k", "v")
	if got, err := get(writer, "team", "k"); err != nil || got != "v" {
		t.Fatalf("writer get: %q %v", got, err)
	}
	// Without s3:ListBucket a missing key is AccessDenied, not NoSuchKey.
	_, err = get(writer, "team", "missing")
	wantDenied(t, "missing key without ListBucket", err, "s3:ListBucket on resource: arn:aws:s3:::team")
	_, err = writer.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("team"), Key: aws.String("k")})
	wantDenied(t, "delete", err, "s3:DeleteObject")
	_, err = writer.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("team")})
	wantDenied(t, "delete bucket", err, "s3:DeleteBucket on resource: arn:aws:s3:::team")
	// The bucket owner's policy can grant in its own account.
	f.policy(f.root, "team", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/nobody"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::team/*"}]}`)
	if got, err := get(none, "team", "k"); err != nil || got != "v" {
		t.Fatalf("granted by the bucket policy: %q %v", got, err)
	}

	// DeleteObjects reports refused keys one by one.
	deleter := f.s.S3(f.user(iamc, "deleter", allow(`"s3:DeleteObject"`, `"arn:aws:s3:::team/tmp/*"`)))
	f.put(f.root, "team", "tmp/a", "a")
	out := must[*s3.DeleteObjectsOutput](t)(deleter.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("team"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("tmp/a")}, {Key: aws.String("k")}}}}))
	if len(out.Deleted) != 1 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "k" || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Fatalf("DeleteObjects: %+v %+v", out.Deleted, out.Errors)
	}
	if got, _ := get(f.root, "team", "k"); got != "v" {
		t.Fatal("a refused key was deleted")
	}
}

func TestCrossAccount(t *testing.T) {
	f := start(t)
	other, otherRoot := f.memberAccount("partner")
	owner := f.s.S3(otherRoot)
	f.createBucket(owner, "partner-data")
	f.put(owner, "partner-data", "report.csv", "a,b")

	iamc := f.s.IAM(servertest.Root)
	alice := f.s.S3(f.user(iamc, "alice", allow(`["s3:GetObject","s3:PutObject","s3:ListBucket"]`, `["arn:aws:s3:::partner-data","arn:aws:s3:::partner-data/*"]`)))
	bob := f.s.S3(f.user(iamc, "bob", ""))

	// Alice's own policy allows, but the bucket's account has not agreed.
	_, err := get(alice, "partner-data", "report.csv")
	wantDenied(t, "no bucket policy", err, "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::partner-data/report.csv")

	f.policy(owner, "partner-data", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::partner-data","arn:aws:s3:::partner-data/*"]}]}`)
	if got, err := get(alice, "partner-data", "report.csv"); err != nil || got != "a,b" {
		t.Fatalf("both sides allow: %q %v", got, err)
	}
	list := must[*s3.ListObjectsV2Output](t)(alice.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("partner-data")}))
	if len(list.Contents) != 1 {
		t.Fatalf("cross-account list: %+v", list.Contents)
	}
	// The bucket policy allows reads only.
	_, err = alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("partner-data"), Key: aws.String("x"), Body: strings.NewReader("x")})
	wantDenied(t, "write not in the bucket policy", err, "s3:PutObject")
	// Bob's account is named by the bucket policy, but his own side allows nothing.
	_, err = get(bob, "partner-data", "report.csv")
	wantDenied(t, "no identity policy", err, "because no identity-based policy allows the s3:GetObject action")
	// The bucket owner's account sees only its own buckets; alice's ListBuckets shows none of them.
	mine := must[*s3.ListBucketsOutput](t)(f.root.ListBuckets(ctx, &s3.ListBucketsInput{}))
	if len(mine.Buckets) != 0 {
		t.Fatalf("management account lists %+v", mine.Buckets)
	}
	_ = other
}

func TestAnonymousAccess(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "public-site")
	f.put(f.root, "public-site", "index.html", "<h1>hi</h1>")
	anon := func(method, path string) *http.Response { return f.raw(nil, method, path, nil, nil) }

	resp := anon("GET", "/public-site/index.html")
	if body := readBody(t, resp); resp.StatusCode != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") || !strings.Contains(body, "<Message>Access Denied</Message>") { // S3 explains denials only within the owner's account or organization
		t.Fatalf("anonymous without a policy: %d %s", resp.StatusCode, body)
	}
	f.policy(f.root, "public-site", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public-site/*"}]}`)
	resp = anon("GET", "/public-site/index.html")
	if body := readBody(t, resp); resp.StatusCode != 200 || body != "<h1>hi</h1>" {
		t.Fatalf("anonymous with Principal *: %d %s", resp.StatusCode, body)
	}
	// Only what the policy grants: no listing, no writes, no missing-key 404.
	for _, c := range [][2]string{{"GET", "/public-site"}, {"PUT", "/public-site/new"}, {"GET", "/public-site/missing"}, {"GET", "/"}, {"PUT", "/anon-bucket"}} {
		if resp := anon(c[0], c[1]); resp.StatusCode != 403 {
			t.Fatalf("anonymous %s %s: %d %s", c[0], c[1], resp.StatusCode, readBody(t, resp))
		}
	}
	// The SDK with anonymous credentials.
	c := s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(f.s.URL), Credentials: aws.AnonymousCredentials{}},
		func(o *s3.Options) { o.UsePathStyle = true })
	if got, err := get(c, "public-site", "index.html"); err != nil || got != "<h1>hi</h1>" {
		t.Fatalf("SDK anonymous: %q %v", got, err)
	}
}

func TestPrefixCondition(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "homes")
	for _, k := range []string{"home/alice/a", "home/bob/b"} {
		f.put(f.root, "homes", k, k)
	}
	alice := f.s.S3(f.user(f.s.IAM(servertest.Root), "alice", allow(`"s3:ListBucket"`, `"arn:aws:s3:::homes"`,
		`{"StringLike":{"s3:prefix":["home/alice/*"]},"NumericLessThanEquals":{"s3:max-keys":"100"}}`)))
	list := func(prefix string, max int32) error {
		_, err := alice.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("homes"), Prefix: aws.String(prefix), MaxKeys: aws.Int32(max)})
		return err
	}
	if err := list("home/alice/", 10); err != nil {
		t.Fatalf("own prefix: %v", err)
	}
	wantDenied(t, "other prefix", list("home/bob/", 10), "s3:ListBucket on resource: arn:aws:s3:::homes")
	wantDenied(t, "too many keys", list("home/alice/", 1000), "s3:ListBucket")
	_, err := alice.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("homes")})
	wantDenied(t, "no prefix", err, "s3:ListBucket")
}

func TestObjectTagConditions(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "classified")
	must[*s3.PutObjectOutput](t)(f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("classified"), Key: aws.String("open"), Body: strings.NewReader("o"), Tagging: aws.String("classification=public")}))
	f.put(f.root, "classified", "secret", "s")
	iamc := f.s.IAM(servertest.Root)
	reader := f.s.S3(f.user(iamc, "reader", allow(`["s3:GetObject","s3:GetObjectTagging"]`, `"arn:aws:s3:::classified/*"`,
		`{"StringEquals":{"s3:ExistingObjectTag/classification":"public"}}`)))
	if got, err := get(reader, "classified", "open"); err != nil || got != "o" {
		t.Fatalf("tagged public: %q %v", got, err)
	}
	_, err := get(reader, "classified", "secret")
	wantDenied(t, "untagged", err, "s3:GetObject on resource: arn:aws:s3:::classified/secret")
	must[*s3.GetObjectTaggingOutput](t)(reader.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("classified"), Key: aws.String("open")}))

	// Writes that must carry a tag.
	tagger := f.s.S3(f.user(iamc, "tagger", allow(`["s3:PutObject","s3:PutObjectTagging"]`, `"arn:aws:s3:::classified/*"`,
		`{"StringEquals":{"s3:RequestObjectTag/team":"blue"},"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["team"]}}`)))
	_, err = tagger.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("classified"), Key: aws.String("t"), Body: strings.NewReader("x")})
	wantDenied(t, "untagged write", err, "s3:PutObject")
	_, err = tagger.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("classified"), Key: aws.String("t"), Body: strings.NewReader("x"), Tagging: aws.String("team=blue&cost=1")})
	wantDenied(t, "extra tag key", err, "s3:PutObject")
	must[*s3.PutObjectOutput](t)(tagger.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("classified"), Key: aws.String("t"), Body: strings.NewReader("x"), Tagging: aws.String("team=blue")}))
	_, err = tagger.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("classified"), Key: aws.String("t"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("red")}}}})
	wantDenied(t, "retag", err, "s3:PutObjectTagging")

	// s3:x-amz-acl: only bucket-owner-full-control.
	aclWriter := f.s.S3(f.user(iamc, "acl-writer", allow(`"s3:PutObject"`, `"arn:aws:s3:::classified/*"`,
		`{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}`)))
	_, err = aclWriter.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("classified"), Key: aws.String("a"), Body: strings.NewReader("x")})
	wantDenied(t, "without the ACL header", err, "s3:PutObject")
	must[*s3.PutObjectOutput](t)(aclWriter.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("classified"), Key: aws.String("a"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLBucketOwnerFullControl}))
}

func TestCopyNeedsBothPermissions(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "from")
	f.createBucket(f.root, "into")
	f.put(f.root, "from", "k", "v")
	iamc := f.s.IAM(servertest.Root)
	readOnly := f.s.S3(f.user(iamc, "ro", allow(`"s3:GetObject"`, `"arn:aws:s3:::from/*"`)))
	_, err := readOnly.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("into"), Key: aws.String("k"), CopySource: aws.String("from/k")})
	wantDenied(t, "no PutObject", err, "s3:PutObject on resource: arn:aws:s3:::into/k")
	writeOnly := f.s.S3(f.user(iamc, "wo", allow(`"s3:PutObject"`, `"arn:aws:s3:::into/*"`)))
	_, err = writeOnly.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("into"), Key: aws.String("k"), CopySource: aws.String("from/k")})
	wantDenied(t, "no GetObject", err, "s3:GetObject on resource: arn:aws:s3:::from/k")
	both := f.s.S3(f.user(iamc, "rw", allow(`["s3:GetObject","s3:PutObject"]`, `["arn:aws:s3:::from/*","arn:aws:s3:::into/*"]`)))
	must[*s3.CopyObjectOutput](t)(both.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("into"), Key: aws.String("k"), CopySource: aws.String("from/k")}))
}

func TestSecureTransportDeny(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "tls-only")
	f.put(f.root, "tls-only", "k", "v")
	f.policy(f.root, "tls-only", `{"Version":"2012-10-17","Statement":[{"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::tls-only","arn:aws:s3:::tls-only/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
	// Plain HTTP: everyone is denied, the root user included…
	_, err := get(f.root, "tls-only", "k")
	wantDenied(t, "over http", err, "with an explicit deny in a resource-based policy")
	_, err = f.root.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tls-only"), Tagging: &types.Tagging{TagSet: []types.Tag{}}})
	wantDenied(t, "bucket action over http", err, "explicit deny")
	// …except the bucket owner's root user on the policy itself, which cannot lock it out.
	must[*s3.GetBucketPolicyOutput](t)(f.root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("tls-only")}))
	must[*s3.DeleteBucketPolicyOutput](t)(f.root.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("tls-only")}))
	if got, err := get(f.root, "tls-only", "k"); err != nil || got != "v" {
		t.Fatalf("after removing the policy: %q %v", got, err)
	}
}

// TestSourceVpce calls the plane as the front door does for a request that came
// through a VPC endpoint: aws:SourceVpce is set and the endpoint's policy applies.
func TestSourceVpce(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "private")
	f.put(f.root, "private", "k", "v")
	f.policy(f.root, "private", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::private/*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}`)
	_, err := get(f.root, "private", "k")
	wantDenied(t, "outside the endpoint", err, "explicit deny in a resource-based policy")

	rootID := &directory.Identity{AccessKeyID: servertest.RootKeyID, UserID: account,
		Caller: policy.Caller{Kind: policy.RootUser, Partition: "aws", Account: account, Arn: "arn:aws:iam::" + account + ":root"}}
	plane := s3plane.NewPlane()
	call := func(ep *service.Endpoint) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "http://127.0.0.1/private/k", nil)
		w := httptest.NewRecorder()
		c := &service.Call{Ctx: ctx, Env: f.s.Env, Identity: rootID, Now: time.Now(), RequestID: "req-1", SourceIP: "127.0.0.1", Region: "us-east-1", Endpoint: ep}
		plane.Serve(c, w, r)
		return w
	}
	if w := call(&service.Endpoint{ID: "vpce-1a2b3c4d"}); w.Code != 200 || w.Body.String() != "v" {
		t.Fatalf("through the endpoint: %d %s", w.Code, w.Body.String())
	}
	if w := call(&service.Endpoint{ID: "vpce-99999999"}); w.Code != 403 {
		t.Fatalf("through another endpoint: %d %s", w.Code, w.Body.String())
	}
	// An endpoint policy restricts what passes through it.
	ep, err := policy.Parse([]byte(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*"}]}`), policy.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if w := call(&service.Endpoint{ID: "vpce-1a2b3c4d", Policy: ep}); w.Code != 403 || !strings.Contains(w.Body.String(), "VPC endpoint policy") {
		t.Fatalf("endpoint policy: %d %s", w.Code, w.Body.String())
	}
}

// TestDenialOutsideTheOrganization: S3 explains a denial only to callers of the bucket
// owner's account or organization; anyone else reads "Access Denied".
func TestDenialOutsideTheOrganization(t *testing.T) {
	f := start(t)
	f.memberAccount("insider") // creates the organization
	org := f.s.Organizations(servertest.Root)
	// An invited account that has not accepted is outside the organization.
	must[*organizations.InviteAccountToOrganizationOutput](t)(org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &orgtypes.HandshakeParty{Id: aws.String("444444444444"), Type: orgtypes.HandshakePartyTypeAccount}}))
	outsider := f.s.S3(f.s.RootKey(t, "444444444444"))
	f.createBucket(outsider, "outside-data")
	f.put(outsider, "outside-data", "k", "v")
	alice := f.s.S3(f.user(f.s.IAM(servertest.Root), "alice", allow(`"s3:GetObject"`, `"*"`)))
	_, err := get(alice, "outside-data", "k")
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || strings.Contains(err.Error(), "is not authorized") {
		t.Fatalf("a caller outside the owner's organization: %v", err)
	}
}
