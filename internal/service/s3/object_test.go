package s3_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
	s3plane "github.com/iamlocal/iamlocal/internal/service/s3"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestObjectRoundTrip(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "objs")
	body := "hello, object"
	put := must[*s3.PutObjectOutput](t)(f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/hello.txt"),
		Body: strings.NewReader(body), ContentType: aws.String("text/plain"), Metadata: map[string]string{"Owner-Name": "alice"},
		Tagging: aws.String("class=public&team=blue"), CacheControl: aws.String("max-age=60")}))
	if aws.ToString(put.ETag) != `"`+md5hex(body)+`"` {
		t.Fatalf("ETag %s", aws.ToString(put.ETag))
	}
	out := must[*s3.GetObjectOutput](t)(f.root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/hello.txt")}))
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != body || aws.ToString(out.ContentType) != "text/plain" || out.Metadata["owner-name"] != "alice" ||
		aws.ToString(out.ETag) != aws.ToString(put.ETag) || aws.ToInt64(out.ContentLength) != int64(len(body)) ||
		aws.ToString(out.CacheControl) != "max-age=60" || aws.ToInt32(out.TagCount) != 2 || out.LastModified == nil {
		t.Fatalf("GetObject: %q %+v", got, out)
	}
	head := must[*s3.HeadObjectOutput](t)(f.root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/hello.txt")}))
	if aws.ToInt64(head.ContentLength) != int64(len(body)) || aws.ToString(head.ETag) != aws.ToString(put.ETag) || head.Metadata["owner-name"] != "alice" {
		t.Fatalf("HeadObject: %+v", head)
	}
	// Keys keep their exact bytes: spaces, unicode, slashes, dots.
	for _, key := range []string{"a b/c+d", "ünïcödé/ключ", "./x/../y", "//double", "q?x=1&y", "pct%20key"} {
		f.put(f.root, "objs", key, "v:"+key)
		if got, err := get(f.root, "objs", key); err != nil || got != "v:"+key {
			t.Fatalf("key %q: %q %v", key, got, err)
		}
	}
	// Overwrite, then delete.
	f.put(f.root, "objs", "dir/hello.txt", "second")
	if got, _ := get(f.root, "objs", "dir/hello.txt"); got != "second" {
		t.Fatalf("after overwrite: %q", got)
	}
	must[*s3.DeleteObjectOutput](t)(f.root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/hello.txt")}))
	_, err := get(f.root, "objs", "dir/hello.txt")
	wantErr(t, "deleted", err, "NoSuchKey", http.StatusNotFound)
	_, err = f.root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/hello.txt")})
	if httpStatus(err) != http.StatusNotFound {
		t.Fatalf("HeadObject of a deleted key: %v", err)
	}
	// Deleting a missing key succeeds, as on S3.
	must[*s3.DeleteObjectOutput](t)(f.root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/hello.txt")}))
	_, err = get(f.root, "nobucket", "k")
	wantErr(t, "missing bucket", err, "NoSuchBucket", http.StatusNotFound)

	// Empty objects.
	f.put(f.root, "objs", "empty", "")
	if got, err := get(f.root, "objs", "empty"); err != nil || got != "" {
		t.Fatalf("empty: %q %v", got, err)
	}
}

func TestObjectFilesFollowObjects(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "files")
	f.put(f.root, "files", "a", "one")
	f.put(f.root, "files", "b", "two")
	if n := f.blobFiles(); n != 2 {
		t.Fatalf("%d files for two objects", n)
	}
	f.put(f.root, "files", "a", "one again")
	if n := f.blobFiles(); n != 2 {
		t.Fatalf("%d files after an overwrite", n)
	}
	must[*s3.CopyObjectOutput](t)(f.root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("files"), Key: aws.String("c"), CopySource: aws.String("files/b")}))
	if n := f.blobFiles(); n != 3 {
		t.Fatalf("%d files after a copy", n)
	}
	must[*s3.DeleteObjectOutput](t)(f.root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("files"), Key: aws.String("b")}))
	if got, err := get(f.root, "files", "c"); err != nil || got != "two" {
		t.Fatalf("the copy after its source's deletion: %q %v", got, err)
	}
	if n := f.blobFiles(); n != 2 {
		t.Fatalf("%d files after a delete", n)
	}
	// A refused write leaves no file behind.
	_, err := f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantErr(t, "no bucket", err, "NoSuchBucket", http.StatusNotFound)
	if n := f.blobFiles(); n != 2 {
		t.Fatalf("%d files after a failed put", n)
	}
}

func TestObjectsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, dir)
	c := s.S3(servertest.Root)
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("durable")}))
	must[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("durable"), Key: aws.String("k"), Body: strings.NewReader("kept")}))
	s.Close()
	s = servertest.Start(t, dir)
	if got, err := get(s.S3(servertest.Root), "durable", "k"); err != nil || got != "kept" {
		t.Fatalf("after restart: %q %v", got, err)
	}
}

func TestRange(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "ranges")
	body := "0123456789"
	f.put(f.root, "ranges", "digits", body)
	for _, c := range []struct{ rng, want, contentRange string }{
		{"bytes=2-5", "2345", "bytes 2-5/10"},
		{"bytes=7-", "789", "bytes 7-9/10"},
		{"bytes=-3", "789", "bytes 7-9/10"},
		{"bytes=8-100", "89", "bytes 8-9/10"},
		{"bytes=-100", body, "bytes 0-9/10"},
		{"bytes=0-0", "0", "bytes 0-0/10"},
	} {
		out, err := f.root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), Range: aws.String(c.rng)})
		if err != nil {
			t.Fatalf("%s: %v", c.rng, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != c.want || aws.ToString(out.ContentRange) != c.contentRange || aws.ToInt64(out.ContentLength) != int64(len(c.want)) {
			t.Fatalf("%s: %q %q", c.rng, got, aws.ToString(out.ContentRange))
		}
	}
	for _, rng := range []string{"bytes=10-", "bytes=20-30", "bytes=-0"} {
		_, err := f.root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), Range: aws.String(rng)})
		wantErr(t, rng, err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
	}
	// Ranges S3 cannot use are ignored: the whole object, 200.
	for _, rng := range []string{"bytes=5-2", "items=1-2", "bytes=1-2,4-5", "bytes=x-y"} {
		resp := f.raw(&servertest.Root, "GET", "/ranges/digits", nil, map[string]string{"Range": rng})
		if resp.StatusCode != 200 || readBody(t, resp) != body {
			t.Fatalf("%s: status %d", rng, resp.StatusCode)
		}
	}
	// Conditional requests.
	etag := `"` + md5hex(body) + `"`
	resp := f.raw(&servertest.Root, "GET", "/ranges/digits", nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	_, err := f.root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), IfMatch: aws.String(`"other"`)})
	wantErr(t, "If-Match", err, "PreconditionFailed", http.StatusPreconditionFailed)
	// A part of a simple object is the whole object.
	out := must[*s3.GetObjectOutput](t)(f.root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), PartNumber: aws.Int32(1)}))
	out.Body.Close()
	if aws.ToInt32(out.PartsCount) != 1 || aws.ToInt64(out.ContentLength) != 10 {
		t.Fatalf("partNumber=1: %+v", out)
	}
}

func TestCopyObject(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "src")
	f.createBucket(f.root, "dst")
	must[*s3.PutObjectOutput](t)(f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("a b"),
		Body: strings.NewReader("copied"), ContentType: aws.String("text/x"), Metadata: map[string]string{"m": "1"}, Tagging: aws.String("t=1")}))
	out := must[*s3.CopyObjectOutput](t)(f.root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"),
		CopySource: aws.String("src/" + url.PathEscape("a b"))}))
	if aws.ToString(out.CopyObjectResult.ETag) != `"`+md5hex("copied")+`"` {
		t.Fatalf("copy ETag %s", aws.ToString(out.CopyObjectResult.ETag))
	}
	head := must[*s3.HeadObjectOutput](t)(f.root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")}))
	if aws.ToString(head.ContentType) != "text/x" || head.Metadata["m"] != "1" {
		t.Fatalf("copied metadata: %+v", head)
	}
	// REPLACE takes the request's metadata and tags.
	must[*s3.CopyObjectOutput](t)(f.root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy2"),
		CopySource: aws.String("/src/a%20b"), MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/y"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("u=2")}))
	head = must[*s3.HeadObjectOutput](t)(f.root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy2")}))
	if aws.ToString(head.ContentType) != "text/y" || head.Metadata["m"] != "" {
		t.Fatalf("replaced metadata: %+v", head)
	}
	tags := must[*s3.GetObjectTaggingOutput](t)(f.root.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("dst"), Key: aws.String("copy2")}))
	if len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "u" {
		t.Fatalf("replaced tags: %+v", tags.TagSet)
	}
	_, err := f.root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("a b"), CopySource: aws.String("src/a%20b")})
	wantErr(t, "copy onto itself", err, "InvalidRequest", http.StatusBadRequest)
	_, err = f.root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/missing")})
	wantErr(t, "missing source", err, "NoSuchKey", http.StatusNotFound)
	_, err = f.root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src")})
	wantErr(t, "source without key", err, "InvalidArgument", http.StatusBadRequest)
	_, err = f.root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/a%20b"),
		CopySourceIfMatch: aws.String(`"nope"`)})
	wantErr(t, "copy-source-if-match", err, "PreconditionFailed", http.StatusPreconditionFailed)
}

func TestObjectTagging(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "tags")
	f.put(f.root, "tags", "k", "v")
	out := must[*s3.GetObjectTaggingOutput](t)(f.root.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k")}))
	if len(out.TagSet) != 0 {
		t.Fatalf("new object's tags: %+v", out.TagSet)
	}
	must[*s3.PutObjectTaggingOutput](t)(f.root.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}}))
	out = must[*s3.GetObjectTaggingOutput](t)(f.root.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k")}))
	if len(out.TagSet) != 1 || aws.ToString(out.TagSet[0].Value) != "1" {
		t.Fatalf("tags: %+v", out.TagSet)
	}
	var eleven []types.Tag
	for i := range 11 {
		eleven = append(eleven, types.Tag{Key: aws.String(string(rune('a' + i))), Value: aws.String("v")})
	}
	_, err := f.root.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k"), Tagging: &types.Tagging{TagSet: eleven}})
	wantErr(t, "11 tags", err, "BadRequest", http.StatusBadRequest)
	_, err = f.root.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("missing"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}})
	wantErr(t, "missing key", err, "NoSuchKey", http.StatusNotFound)
	_, err = f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags"), Key: aws.String("k2"), Body: strings.NewReader("x"), Tagging: aws.String("a=1&a=2")})
	wantErr(t, "duplicate header tags", err, "InvalidArgument", http.StatusBadRequest)
	must[*s3.DeleteObjectTaggingOutput](t)(f.root.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k")}))
	out = must[*s3.GetObjectTaggingOutput](t)(f.root.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("k")}))
	if len(out.TagSet) != 0 {
		t.Fatalf("tags after delete: %+v", out.TagSet)
	}
}

func TestDeleteObjects(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "multi")
	for _, k := range []string{"a", "b", "c"} {
		f.put(f.root, "multi", k, k)
	}
	out := must[*s3.DeleteObjectsOutput](t)(f.root.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b")}, {Key: aws.String("zz")}}}}))
	if len(out.Deleted) != 3 || len(out.Errors) != 0 {
		t.Fatalf("DeleteObjects: %+v %+v", out.Deleted, out.Errors)
	}
	list := must[*s3.ListObjectsV2Output](t)(f.root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("multi")}))
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "c" {
		t.Fatalf("left: %+v", list.Contents)
	}
	if n := f.blobFiles(); n != 1 {
		t.Fatalf("%d files left", n)
	}
}

// TestErrorShape checks S3's XML error document and request id.
func TestErrorShape(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "errs")
	resp := f.raw(&servertest.Root, "GET", "/errs/missing", nil, nil)
	body := readBody(t, resp)
	var doc struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if resp.StatusCode != 404 || doc.Code != "NoSuchKey" || doc.Message != "The specified key does not exist." ||
		doc.RequestID == "" || resp.Header.Get("x-amz-request-id") != doc.RequestID || resp.Header.Get("Content-Type") != "application/xml" ||
		!strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Fatalf("error document: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"PUT", "/errs?acl", 501, "NotImplemented"},
		{"GET", "/errs/k?versionId=abc", 400, "InvalidArgument"},
		{"PATCH", "/errs/k", 405, "MethodNotAllowed"},
		{"POST", "/errs/k", 405, "MethodNotAllowed"},
		{"GET", "/errs?list-type=3", 400, "InvalidArgument"},
		{"GET", "/errs?list-type=2&max-keys=x", 400, "InvalidArgument"},
		{"GET", "/errs?list-type=2&continuation-token=%%%", 400, "InvalidArgument"},
		{"PUT", "/errs/k?partNumber=0&uploadId=x", 400, "InvalidArgument"},
		{"PUT", "/errs/" + strings.Repeat("k", 1025), 400, "KeyTooLongError"},
		{"POST", "/errs/k?uploadId=nope", 400, "MalformedXML"},
		{"PUT", "/errs?tagging", 400, "MalformedXML"},
		{"DELETE", "/errs/k?uploadId=nope", 404, "NoSuchUpload"},
	} {
		resp := f.raw(&servertest.Root, c.method, c.path, nil, nil)
		body := readBody(t, resp)
		if resp.StatusCode != c.status || !strings.Contains(body, "<Code>"+c.code+"</Code>") {
			t.Fatalf("%s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
	// Content-MD5 is checked.
	resp = f.raw(&servertest.Root, "PUT", "/errs/md5", []byte("abc"), map[string]string{"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
	if body := readBody(t, resp); resp.StatusCode != 400 || !strings.Contains(body, "BadDigest") {
		t.Fatalf("bad Content-MD5: %d %s", resp.StatusCode, body)
	}
	resp = f.raw(&servertest.Root, "PUT", "/errs/md5", []byte("abc"), map[string]string{"Content-MD5": "nope"})
	if body := readBody(t, resp); resp.StatusCode != 400 || !strings.Contains(body, "InvalidDigest") {
		t.Fatalf("invalid Content-MD5: %d %s", resp.StatusCode, body)
	}
	// A public ACL is refused: ACLs are disabled (bucket owner enforced).
	_, err := f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("errs"), Key: aws.String("acl"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPublicRead})
	wantErr(t, "public-read", err, "AccessControlListNotSupported", http.StatusBadRequest)
	must[*s3.PutObjectOutput](t)(f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("errs"), Key: aws.String("acl"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLBucketOwnerFullControl}))
}

// TestVirtualHosted addresses buckets as bucket.localhost:port.
func TestVirtualHosted(t *testing.T) {
	f := start(t)
	addr := strings.TrimPrefix(f.s.URL, "http://")
	_, port, _ := net.SplitHostPort(addr)
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		}}}
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://localhost:" + port), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(servertest.RootKeyID, servertest.RootSecret, ""), RetryMaxAttempts: 1})
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost")}))
	must[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("a/b"), Body: strings.NewReader("virtual")}))
	if got, err := get(c, "vhost", "a/b"); err != nil || got != "virtual" {
		t.Fatalf("virtual-hosted get: %q %v", got, err)
	}
	// The same object path-style.
	if got, err := get(f.root, "vhost", "a/b"); err != nil || got != "virtual" {
		t.Fatalf("path-style get: %q %v", got, err)
	}
	list := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vhost")}))
	if len(list.Contents) != 1 {
		t.Fatalf("virtual-hosted list: %+v", list.Contents)
	}
}

// TestPresignedGet reads an object through a presigned URL.
func TestPresignedGet(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "pre")
	f.put(f.root, "pre", "k", "presigned")
	ps := s3.NewPresignClient(f.root)
	req := must[*v4Req](t)(presign(ps, "pre", "k"))
	resp, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "presigned" {
		t.Fatalf("presigned GET: %d %s", resp.StatusCode, b)
	}
}

type v4Req struct{ URL string }

func presign(ps *s3.PresignClient, bucket, key string) (*v4Req, error) {
	out, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		return nil, err
	}
	return &v4Req{URL: out.URL}, nil
}

func TestLimits(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "limits")
	resp := f.raw(&servertest.Root, "PUT", "/limits/huge", make([]byte, s3plane.MaxBody+1), nil)
	if body := readBody(t, resp); resp.StatusCode != 400 || !strings.Contains(body, "<Code>EntityTooLarge</Code>") {
		t.Fatalf("a body over the cap: %d %s", resp.StatusCode, body)
	}
	_, err := f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("limits"), Key: aws.String("meta"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"big": strings.Repeat("m", 2100)}})
	wantErr(t, "metadata over 2 KB", err, "MetadataTooLarge", http.StatusBadRequest)
	_, err = f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("limits"), Key: aws.String("k"), Body: strings.NewReader("x"),
		ExpectedBucketOwner: aws.String("999999999999")})
	wantErr(t, "another expected owner", err, "AccessDenied", http.StatusForbidden)
	must[*s3.PutObjectOutput](t)(f.root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("limits"), Key: aws.String("k"), Body: strings.NewReader("x"),
		ExpectedBucketOwner: aws.String(account)}))
	if n := f.blobFiles(); n != 1 {
		t.Fatalf("%d files after refused puts", n)
	}
}
