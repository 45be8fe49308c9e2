package s3_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// TestMetadataCacheFollowsWrites: bucket and object metadata are cached per store
// generation, so every committed write is seen by the next read.
func TestMetadataCacheFollowsWrites(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "cached")
	if _, err := get(f.root, "cached", "k"); apiCode(err) != "NoSuchKey" {
		t.Fatalf("before the put: %v", err)
	}
	for i := range 3 {
		want := fmt.Sprintf("v%d", i)
		f.put(f.root, "cached", "k", want)
		for range 2 { // the second read is answered from the caches
			if got, err := get(f.root, "cached", "k"); err != nil || got != want {
				t.Fatalf("after put %d: %q %v", i, got, err)
			}
		}
	}
	// Tags: a policy conditioned on them sees each change.
	alice := f.s.S3(f.user(f.s.IAM(servertest.Root), "alice", allow(`"s3:GetObject"`, `"*"`, `{"StringEquals":{"s3:ExistingObjectTag/share":"yes"}}`)))
	_, err := get(alice, "cached", "k")
	wantErr(t, "untagged", err, "AccessDenied", http.StatusForbidden)
	tag := func(v string) {
		must[*s3.PutObjectTaggingOutput](t)(f.root.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("cached"), Key: aws.String("k"),
			Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("share"), Value: aws.String(v)}}}}))
	}
	tag("yes")
	if got, err := get(alice, "cached", "k"); err != nil || got != "v2" {
		t.Fatalf("tagged: %q %v", got, err)
	}
	tag("no")
	_, err = get(alice, "cached", "k")
	wantErr(t, "tag changed", err, "AccessDenied", http.StatusForbidden)
	// A bucket policy change applies to the next read.
	f.policy(f.root, "cached", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cached/*"}]}`)
	_, err = get(f.root, "cached", "k")
	wantErr(t, "bucket policy", err, "AccessDenied", http.StatusForbidden)
	must[*s3.DeleteBucketPolicyOutput](t)(f.root.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("cached")}))
	if got, err := get(f.root, "cached", "k"); err != nil || got != "v2" {
		t.Fatalf("policy removed: %q %v", got, err)
	}
	// Delete the object, then the bucket.
	must[*s3.DeleteObjectOutput](t)(f.root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("cached"), Key: aws.String("k")}))
	_, err = get(f.root, "cached", "k")
	wantErr(t, "deleted object", err, "NoSuchKey", http.StatusNotFound)
	must[*s3.DeleteBucketOutput](t)(f.root.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("cached")}))
	_, err = get(f.root, "cached", "k")
	wantErr(t, "deleted bucket", err, "NoSuchBucket", http.StatusNotFound)
	f.createBucket(f.root, "cached")
	f.put(f.root, "cached", "k", "again")
	if got, err := get(f.root, "cached", "k"); err != nil || got != "again" {
		t.Fatalf("recreated: %q %v", got, err)
	}
}

// TestConcurrentOverwriteServesWholeObjects: readers racing an overwriting and
// deleting writer only ever see a whole object with its own ETag and length, or
// NoSuchKey; never another object's bytes under an ETag.
func TestConcurrentOverwriteServesWholeObjects(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "race")
	contents := map[string]string{}
	for i := range 20 {
		// Sizes on both sides of the large-body threshold (64 KiB).
		c := strings.Repeat(fmt.Sprintf("%02d", i), (1+i%3)*20000)
		contents[md5hex(c)] = c
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := f.root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("race"), Key: aws.String("k")})
				if apiCode(err) == "NoSuchKey" {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(out.Body)
				out.Body.Close()
				etag := strings.Trim(aws.ToString(out.ETag), `"`)
				if err != nil || contents[etag] != string(b) || aws.ToInt64(out.ContentLength) != int64(len(b)) {
					errs <- fmt.Errorf("ETag %s: %d bytes, want %d (%v)", etag, len(b), len(contents[etag]), err)
					return
				}
			}
		}()
	}
	i := 0
	for range 3 {
		for _, c := range contents {
			f.put(f.root, "race", "k", c)
			if i++; i%7 == 0 {
				must[*s3.DeleteObjectOutput](t)(f.root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("race"), Key: aws.String("k")}))
			}
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
