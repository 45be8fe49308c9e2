package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestMultipartUpload(t *testing.T) {
	f := start(t)
	c := f.root
	f.createBucket(c, "mpu")
	bucket, key := aws.String("mpu"), aws.String("big/object.bin")
	created := must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key,
		ContentType: aws.String("application/x-test"), Metadata: map[string]string{"origin": "test"}, Tagging: aws.String("kind=mp")}))
	id := created.UploadId
	if aws.ToString(created.Bucket) != "mpu" || aws.ToString(created.Key) != "big/object.bin" || aws.ToString(id) == "" {
		t.Fatalf("CreateMultipartUpload: %+v", created)
	}
	p1, p2 := randomBytes(5<<20, 1), []byte("the tail of the object")
	upload := func(n int32, data []byte) string {
		t.Helper()
		out := must[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: id, PartNumber: aws.Int32(n), Body: bytes.NewReader(data)}))
		return aws.ToString(out.ETag)
	}
	upload(1, []byte("to be replaced"))
	e1, e2 := upload(1, p1), upload(2, p2)
	sum1, sum2 := md5.Sum(p1), md5.Sum(p2)
	if e1 != `"`+hex.EncodeToString(sum1[:])+`"` {
		t.Fatalf("part ETag %s", e1)
	}
	parts := must[*s3.ListPartsOutput](t)(c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: id}))
	if len(parts.Parts) != 2 || aws.ToInt64(parts.Parts[0].Size) != 5<<20 || aws.ToString(parts.Parts[1].ETag) != e2 {
		t.Fatalf("ListParts: %+v", parts.Parts)
	}
	uploads := must[*s3.ListMultipartUploadsOutput](t)(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket}))
	if len(uploads.Uploads) != 1 || aws.ToString(uploads.Uploads[0].UploadId) != aws.ToString(id) {
		t.Fatalf("ListMultipartUploads: %+v", uploads.Uploads)
	}
	if n := f.blobFiles(); n != 2 {
		t.Fatalf("%d files for two parts (one replaced)", n)
	}

	complete := func(parts ...types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
		return c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	}
	part := func(n int32, etag string) types.CompletedPart {
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)}
	}
	_, err := complete(part(1, e1), part(2, `"00000000000000000000000000000000"`))
	wantErr(t, "wrong ETag", err, "InvalidPart", http.StatusBadRequest)
	_, err = complete(part(1, e1), part(3, e2))
	wantErr(t, "missing part", err, "InvalidPart", http.StatusBadRequest)
	_, err = complete(part(2, e2), part(1, e1))
	wantErr(t, "order", err, "InvalidPartOrder", http.StatusBadRequest)
	_, err = complete(part(2, e2), part(2, e2))
	wantErr(t, "repeated part", err, "InvalidPartOrder", http.StatusBadRequest)

	out := must[*s3.CompleteMultipartUploadOutput](t)(complete(part(1, e1), part(2, e2)))
	want := md5.Sum(append(sum1[:], sum2[:]...))
	if aws.ToString(out.ETag) != `"`+hex.EncodeToString(want[:])+`-2"` || aws.ToString(out.Key) != "big/object.bin" || aws.ToString(out.Location) == "" {
		t.Fatalf("CompleteMultipartUpload: %+v", out)
	}
	whole := append(append([]byte{}, p1...), p2...)
	obj := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key}))
	got, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(got, whole) || aws.ToString(obj.ContentType) != "application/x-test" || obj.Metadata["origin"] != "test" ||
		aws.ToString(obj.ETag) != aws.ToString(out.ETag) || aws.ToInt32(obj.TagCount) != 1 {
		t.Fatalf("assembled object: %d bytes, %+v", len(got), obj)
	}
	// A range across the parts' boundary.
	obj = must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key, Range: aws.String("bytes=5242870-5242889")}))
	got, _ = io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(got, whole[5242870:5242890]) {
		t.Fatalf("range across parts: %x", got)
	}
	// One part by number.
	obj = must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key, PartNumber: aws.Int32(2)}))
	got, _ = io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(got, p2) || aws.ToInt32(obj.PartsCount) != 2 {
		t.Fatalf("part 2: %q parts %d", got, aws.ToInt32(obj.PartsCount))
	}
	if n := f.blobFiles(); n != 2 {
		t.Fatalf("%d files for a two-part object", n)
	}
	_, err = complete(part(1, e1), part(2, e2))
	wantErr(t, "completed upload", err, "NoSuchUpload", http.StatusNotFound)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: id, PartNumber: aws.Int32(3), Body: bytes.NewReader(p2)})
	wantErr(t, "part of a completed upload", err, "NoSuchUpload", http.StatusNotFound)
	if n := f.blobFiles(); n != 2 {
		t.Fatalf("%d files after a refused part", n)
	}

	// A copy of a multipart object is one part.
	cp := must[*s3.CopyObjectOutput](t)(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("copy"), CopySource: aws.String("mpu/big/object.bin")}))
	if sum := md5.Sum(whole); aws.ToString(cp.CopyObjectResult.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Fatalf("copy ETag %s", aws.ToString(cp.CopyObjectResult.ETag))
	}
	// Overwriting the object removes its parts' files.
	f.put(c, "mpu", "big/object.bin", "small now")
	if n := f.blobFiles(); n != 3 {
		t.Fatalf("%d files after overwriting the multipart object", n)
	}
}

func TestMultipartSmallPartsAndAbort(t *testing.T) {
	f := start(t)
	c := f.root
	f.createBucket(c, "mpu")
	bucket, key := aws.String("mpu"), aws.String("k")
	id := must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})).UploadId
	var parts []types.CompletedPart
	for n := int32(1); n <= 2; n++ {
		out := must[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: id, PartNumber: aws.Int32(n), Body: bytes.NewReader([]byte("small"))}))
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
	}
	_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	wantErr(t, "small first part", err, "EntityTooSmall", http.StatusBadRequest)
	// The upload is intact after the failed completion; the last part alone may be small.
	one := must[*s3.CompleteMultipartUploadOutput](t)(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts[1:]}}))
	if got, err := get(c, "mpu", "k"); err != nil || got != "small" {
		t.Fatalf("one-part object: %q %v", got, err)
	}
	if n := f.blobFiles(); n != 1 {
		t.Fatalf("%d files: the unused part's should be gone", n)
	}
	_ = one

	id = must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})).UploadId
	must[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: id, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("x"))}))
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String("other-key"), UploadId: id})
	wantErr(t, "abort with another key", err, "NoSuchUpload", http.StatusNotFound)
	must[*s3.AbortMultipartUploadOutput](t)(c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: id}))
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: id})
	wantErr(t, "aborted", err, "NoSuchUpload", http.StatusNotFound)
	if n := f.blobFiles(); n != 1 {
		t.Fatalf("%d files after abort", n)
	}
	// Deleting a bucket drops its uploads in progress.
	must[*s3.DeleteObjectOutput](t)(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key}))
	id = must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})).UploadId
	must[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: id, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("x"))}))
	must[*s3.DeleteBucketOutput](t)(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket}))
	if n := f.blobFiles(); n != 0 {
		t.Fatalf("%d files after deleting the bucket", n)
	}
}
