package s3_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv4"
)

var fuzzMethods = []string{"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"}

// FuzzS3Request sends arbitrary paths, queries, headers and bodies to the S3 plane,
// signed by the root user or anonymous: whatever they hold, the answer is an S3
// error or a success, never a panic or a 500.
func FuzzS3Request(f *testing.F) {
	seeds := []struct {
		method      uint8
		path, query string
		body        string
		hk, hv      string
	}{
		{0, "/", "", "", "", ""},
		{0, "/fuzz", "list-type=2&prefix=a/&delimiter=/&max-keys=1", "", "", ""},
		{0, "/fuzz", "list-type=2&continuation-token=aWFtbG9jYWwxOmE", "", "", ""},
		{0, "/fuzz", "marker=a/&delimiter=/", "", "", ""},
		{0, "/fuzz/a/b", "", "", "Range", "bytes=1-2"},
		{0, "/fuzz/a/b", "partNumber=1", "", "If-None-Match", "*"},
		{1, "/fuzz/new", "", "data", "X-Amz-Tagging", "a=1&b=%zz"},
		{1, "/fuzz/new", "tagging", "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>", "", ""},
		{1, "/fuzz", "policy", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::fuzz/*"}]}`, "", ""},
		{1, "/fuzz/copy", "", "", "X-Amz-Copy-Source", "/fuzz/a%2Fb?versionId=null"},
		{1, "/fuzz/part", "partNumber=1&uploadId=x", "p", "", ""},
		{1, "/fuzz/chunk", "", "5\r\nhello\r\n0\r\n\r\n", "X-Amz-Decoded-Content-Length", "5"},
		{2, "/fuzz/mp", "uploads", "", "", ""},
		{2, "/fuzz/mp", "uploadId=x", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag></Part></CompleteMultipartUpload>", "", ""},
		{2, "/fuzz", "delete", "<Delete><Object><Key>a/b</Key></Object></Delete>", "", ""},
		{3, "/fuzz/a/b", "uploadId=", "", "", ""},
		{4, "/fuzz", "", "", "", ""},
		{1, "/new-bucket", "", "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>", "", ""},
		{0, "//", "acl&versionId=1", "", "Host", "x.localhost"},
		{0, "/fuzz/%ff", "%", "", "", ""},
	}
	for i, s := range seeds {
		f.Add(s.method, s.path, s.query, []byte(s.body), s.hk, s.hv, i%3 != 0)
	}
	s := servertest.Start(f, "")
	c := s.S3(servertest.Root)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("fuzz")}); err != nil {
		f.Fatal(err)
	}
	for _, k := range []string{"a/b", "a/c", "d"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("fuzz"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, method uint8, path, query string, body []byte, hk, hv string, signed bool) {
		u := &url.URL{Path: path, RawQuery: query}
		r := &http.Request{Method: fuzzMethods[int(method)%len(fuzzMethods)], URL: u, Host: "127.0.0.1", Header: http.Header{},
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, RemoteAddr: "127.0.0.1:1234"}
		if hk != "" && validHeader(hk, hv) {
			if strings.EqualFold(hk, "Host") {
				r.Host = hv
			} else {
				r.Header.Set(hk, hv)
			}
		}
		if bytes.Contains(body, []byte("\r\n")) {
			r.Header.Set("Content-Encoding", "aws-chunked")
		}
		if signed {
			sigv4.Sign(r, body, servertest.RootKeyID, servertest.RootSecret, "us-east-1", "s3", time.Now())
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		w := httptest.NewRecorder()
		s.Handler.ServeHTTP(w, r)
		if w.Code >= 500 && w.Code != http.StatusNotImplemented {
			t.Fatalf("%s %q ?%q: %d %s", r.Method, path, query, w.Code, w.Body.String())
		}
	})
}

// validHeader keeps the fuzzer to headers net/http could carry.
func validHeader(k, v string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 && v[i] != '\t' || v[i] == 0x7f {
			return false
		}
	}
	return true
}
