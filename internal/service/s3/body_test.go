package s3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv4"
)

// signedPut sends a PUT whose x-amz-content-sha256 declares the hash of declared
// while the body is body.
func (f *fixture) signedPut(path string, declared, body []byte) *http.Response {
	f.t.Helper()
	r, _ := http.NewRequest("PUT", f.s.URL+path, nil)
	sum := sha256.Sum256(declared)
	r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	sigv4.Sign(r, nil, servertest.RootKeyID, servertest.RootSecret, "us-east-1", "s3", time.Now())
	return f.send(r, body)
}

// The signature covers the declared payload hash, checked only once the body has
// streamed: a body that differs is refused and leaves no file and no object.
func TestPayloadHashMismatch(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "hashes")
	before := f.blobFiles()
	big := bytes.Repeat([]byte("a"), 3<<20)
	evil := bytes.Repeat([]byte("b"), 3<<20)
	resp := f.signedPut("/hashes/k", big, evil)
	body := readBody(t, resp)
	if resp.StatusCode != 400 || !strings.Contains(body, "<Code>XAmzContentSHA256Mismatch</Code>") ||
		!strings.Contains(body, "The provided &#39;x-amz-content-sha256&#39; header does not match what was computed.") {
		t.Fatalf("want 400 XAmzContentSHA256Mismatch, got %d %s", resp.StatusCode, body)
	}
	if n := f.blobFiles(); n != before {
		t.Fatalf("%d files left behind", n-before)
	}
	if _, err := f.root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("hashes"), Key: aws.String("k")}); httpStatus(err) != 404 {
		t.Fatalf("the refused object exists: %v", err)
	}
	// The same body with its own hash is stored, and a multipart part likewise.
	if resp := f.signedPut("/hashes/k", big, big); resp.StatusCode != 200 {
		t.Fatalf("matching hash: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if got, err := get(f.root, "hashes", "k"); err != nil || got != string(big) {
		t.Fatalf("stored content differs (%d bytes, %v)", len(got), err)
	}
	up := must[*s3.CreateMultipartUploadOutput](t)(f.root.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("hashes"), Key: aws.String("mp")}))
	resp = f.signedPut("/hashes/mp?partNumber=1&uploadId="+aws.ToString(up.UploadId), []byte("part"), []byte("trap"))
	if body := readBody(t, resp); resp.StatusCode != 400 || !strings.Contains(body, "XAmzContentSHA256Mismatch") {
		t.Fatalf("part: want XAmzContentSHA256Mismatch, got %d %s", resp.StatusCode, body)
	}
	if n := f.blobFiles(); n != before+1 {
		t.Fatalf("want one file (the object), have %d", n-before)
	}
}

// An upload larger than MaxBody is refused from its Content-Length, before its body.
func TestEntityTooLarge(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "large")
	r, _ := http.NewRequest("PUT", f.s.URL+"/large/k", strings.NewReader(""))
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	sigv4.Sign(r, nil, servertest.RootKeyID, servertest.RootSecret, "us-east-1", "s3", time.Now())
	r.Body = io.NopCloser(io.LimitReader(zeros{}, 65<<20))
	r.ContentLength = 65 << 20
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if body := readBody(t, resp); resp.StatusCode != 400 || !strings.Contains(body, "EntityTooLarge") {
		t.Fatalf("want EntityTooLarge, got %d %s", resp.StatusCode, body)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
