package s3_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketLifecycle(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "alpha")
	_, err := f.root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
	wantErr(t, "create again", err, "BucketAlreadyOwnedByYou", http.StatusConflict)

	must[*s3.HeadBucketOutput](t)(f.root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")}))
	_, err = f.root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope")})
	if httpStatus(err) != http.StatusNotFound {
		t.Fatalf("HeadBucket of a missing bucket: %v", err)
	}

	loc := must[*s3.GetBucketLocationOutput](t)(f.root.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("alpha")}))
	if loc.LocationConstraint != "" {
		t.Fatalf("us-east-1 location: %q", loc.LocationConstraint)
	}
	must[*s3.CreateBucketOutput](t)(f.root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("beta.eu"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}))
	loc = must[*s3.GetBucketLocationOutput](t)(f.root.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("beta.eu")}))
	if loc.LocationConstraint != types.BucketLocationConstraintEuWest1 {
		t.Fatalf("location: %q", loc.LocationConstraint)
	}
	_, err = f.root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("gamma"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "us-east-1"}})
	wantErr(t, "us-east-1 constraint", err, "InvalidLocationConstraint", http.StatusBadRequest)

	list := must[*s3.ListBucketsOutput](t)(f.root.ListBuckets(ctx, &s3.ListBucketsInput{}))
	var names []string
	for _, b := range list.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	if strings.Join(names, ",") != "alpha,beta.eu" || list.Owner == nil || len(aws.ToString(list.Owner.ID)) != 64 {
		t.Fatalf("ListBuckets: %v owner %+v", names, list.Owner)
	}
	if aws.ToString(list.Buckets[1].BucketRegion) != "eu-west-1" {
		t.Fatalf("region: %v", aws.ToString(list.Buckets[1].BucketRegion))
	}

	f.put(f.root, "alpha", "k", "v")
	_, err = f.root.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantErr(t, "delete non-empty", err, "BucketNotEmpty", http.StatusConflict)
	must[*s3.DeleteObjectOutput](t)(f.root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")}))
	must[*s3.DeleteBucketOutput](t)(f.root.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")}))
	_, err = f.root.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantErr(t, "delete again", err, "NoSuchBucket", http.StatusNotFound)
	_, err = f.root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("alpha")})
	wantErr(t, "list deleted", err, "NoSuchBucket", http.StatusNotFound)
	// The name is free again.
	f.createBucket(f.root, "alpha")
}

func TestBucketNames(t *testing.T) {
	f := start(t)
	for _, name := range []string{"ab", "UPPER", "-lead", "trail-", "a..b", "192.168.1.1", "xn--abc", "has_underscore",
		"bucket-s3alias", strings.Repeat("a", 64)} {
		_, err := f.root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		wantErr(t, name, err, "InvalidBucketName", http.StatusBadRequest)
	}
	for _, name := range []string{"abc", "my.bucket-1", strings.Repeat("a", 63)} {
		f.createBucket(f.root, name)
	}
}

func TestBucketAlreadyExistsAcrossAccounts(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "shared-name")
	_, memberRoot := f.memberAccount("member")
	_, err := f.s.S3(memberRoot).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared-name")})
	wantErr(t, "another account's bucket", err, "BucketAlreadyExists", http.StatusConflict)
	// Each account lists only its own buckets.
	f.createBucket(f.s.S3(memberRoot), "member-bucket")
	out := must[*s3.ListBucketsOutput](t)(f.s.S3(memberRoot).ListBuckets(ctx, &s3.ListBucketsInput{}))
	if len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != "member-bucket" {
		t.Fatalf("member's buckets: %+v", out.Buckets)
	}
}

func TestBucketPolicyDocument(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "pol")
	_, err := f.root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pol")})
	wantErr(t, "no policy", err, "NoSuchBucketPolicy", http.StatusNotFound)

	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}]}`
	f.policy(f.root, "pol", doc)
	got := must[*s3.GetBucketPolicyOutput](t)(f.root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pol")}))
	if aws.ToString(got.Policy) != doc {
		t.Fatalf("policy: %s", aws.ToString(got.Policy))
	}
	for _, c := range []struct{ doc, msg string }{
		{`[1]`, "Policies must be valid JSON and the first byte must be '{'"},
		{`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}]`, "Syntax errors in policy"},
		{`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}]}`, "Principal"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"arn:aws:s3:::pol/*"}]}`, "Policy has invalid action"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}`, "Policy has invalid resource"},
		// S3 refuses an action that applies to none of the statement's resources: an
		// object action on the bucket ARN and the reverse (S3's answer, as users quote it).
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol"}]}`, "Action does not apply to any resource(s) in statement"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::pol/*"}]}`, "Action does not apply to any resource(s) in statement"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::pol/*"}]}`, "Policy has invalid action"},
	} {
		_, err := f.root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pol"), Policy: aws.String(c.doc)})
		wantErr(t, c.doc, err, "MalformedPolicy", http.StatusBadRequest)
		if !strings.Contains(err.Error(), c.msg) {
			t.Fatalf("%s: %v does not say %q", c.doc, err, c.msg)
		}
	}
	// Accepted: a wildcard action that names some bucket action, an action with both
	// kinds of resource, a resource wildcard before any "/" (it can name objects too).
	for _, ok := range []string{
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::pol"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::pol","arn:aws:s3:::pol/*"]}]}`,
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::po*"}]}`,
		`{"Statement":[{"Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::pol"}]}`,
	} {
		if _, err := f.root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pol"), Policy: aws.String(ok)}); err != nil {
			t.Fatalf("%s: %v", ok, err)
		}
	}
	f.policy(f.root, "pol", doc)
	// A refused policy changed nothing.
	got = must[*s3.GetBucketPolicyOutput](t)(f.root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pol")}))
	if aws.ToString(got.Policy) != doc {
		t.Fatalf("policy after refused puts: %s", aws.ToString(got.Policy))
	}
	must[*s3.DeleteBucketPolicyOutput](t)(f.root.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("pol")}))
	_, err = f.root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pol")})
	wantErr(t, "deleted policy", err, "NoSuchBucketPolicy", http.StatusNotFound)
	_, err = f.root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("missing"), Policy: aws.String(doc)})
	wantErr(t, "missing bucket", err, "NoSuchBucket", http.StatusNotFound)
}

func TestBucketTagging(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "tagged")
	_, err := f.root.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	wantErr(t, "no tags", err, "NoSuchTagSet", http.StatusNotFound)
	must[*s3.PutBucketTaggingOutput](t)(f.root.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("env"), Value: aws.String("")}}}}))
	out := must[*s3.GetBucketTaggingOutput](t)(f.root.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")}))
	if len(out.TagSet) != 2 || aws.ToString(out.TagSet[0].Key) != "team" || aws.ToString(out.TagSet[0].Value) != "blue" {
		t.Fatalf("tags: %+v", out.TagSet)
	}
	_, err = f.root.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}})
	wantErr(t, "aws: prefix", err, "InvalidTag", http.StatusBadRequest)
	_, err = f.root.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}}})
	wantErr(t, "duplicate key", err, "InvalidTag", http.StatusBadRequest)
	must[*s3.DeleteBucketTaggingOutput](t)(f.root.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String("tagged")}))
	_, err = f.root.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	wantErr(t, "tags deleted", err, "NoSuchTagSet", http.StatusNotFound)
}
