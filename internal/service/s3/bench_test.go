package s3_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv4"
)

// BenchmarkGetObject reads a 1 KiB and a 1 MiB object over HTTP from iamlocal
// (signed GetObject: authentication, the engine's decision, the metadata read and
// the file) and, for comparison, the same bytes from a bare net/http handler.
func BenchmarkGetObject(b *testing.B) {
	s := servertest.Start(b, "")
	c := s.S3(servertest.Root)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for _, size := range []int{1 << 10, 1 << 20} {
		name := strconv.Itoa(size>>10) + "KiB"
		if size >= 1<<20 {
			name = strconv.Itoa(size>>20) + "MiB"
		}
		data := randomBytes(size, uint64(size))
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(name), Body: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/iamlocal", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				r, _ := http.NewRequest("GET", s.URL+"/bench/"+name, nil)
				sigv4.Sign(r, nil, servertest.RootKeyID, servertest.RootSecret, "us-east-1", "s3", time.Now())
				fetch(b, client, r, size)
			}
		})
		bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Write(data)
		}))
		b.Run(name+"/bare-net-http", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				r, _ := http.NewRequest("GET", bare.URL+"/bench/"+name, nil)
				fetch(b, client, r, size)
			}
		})
		bare.Close()
	}
}

func fetch(b *testing.B, client *http.Client, r *http.Request, size int) {
	resp, err := client.Do(r)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n != int64(size) {
		b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
	}
}
