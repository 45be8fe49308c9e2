package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/iamlocal/iamlocal/internal/server"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv4"
)

// dial opens a raw connection to the test server.
func dial(t *testing.T, s *servertest.Server) net.Conn {
	t.Helper()
	u, _ := url.Parse(s.URL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send writes r's head (and partial of its body) on c: the rest of the body never comes.
func send(t *testing.T, c net.Conn, r *http.Request, partial string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", r.Method, r.URL.RequestURI(), r.Host, r.ContentLength)
	for k, vs := range r.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	b.WriteString(partial)
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
}

// answer reads the response on c within d.
func answer(t *testing.T, c net.Conn, d time.Duration) (*http.Response, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", d, err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// closed reports whether the server closes c within d.
func closed(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	return err == nil // EOF: closed by the server
}

func putRequest(t *testing.T, s *servertest.Server, path string, length int64, signed bool) *http.Request {
	t.Helper()
	r, _ := http.NewRequest("PUT", s.URL+path, nil)
	r.ContentLength = length
	if signed {
		r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		sigv4.Sign(r, nil, servertest.RootKeyID, servertest.RootSecret, "us-east-1", "s3", time.Now())
	}
	return r
}

func withBucket(t *testing.T, s *servertest.Server, name string) {
	t.Helper()
	if _, err := s.S3(servertest.Root).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

// An anonymous 64 MiB PUT whose body never comes is refused on its headers: the
// answer arrives without the server waiting for (or holding) a byte of the body.
func TestAnonymousPutRefusedBeforeBody(t *testing.T) {
	s := servertest.Start(t, "")
	withBucket(t, s, "private")
	c := dial(t, s)
	send(t, c, putRequest(t, s, "/private/k", 64<<20, false), "")
	resp, body := answer(t, c, 5*time.Second)
	if resp.StatusCode != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Fatalf("want 403 AccessDenied, got %d %s", resp.StatusCode, body)
	}
	// A signed request with a wrong signature costs no more.
	r := putRequest(t, s, "/private/k", 64<<20, true)
	auth := r.Header.Get("Authorization")
	flip := map[byte]string{'0': "1"}[auth[len(auth)-1]]
	if flip == "" {
		flip = "0"
	}
	r.Header.Set("Authorization", auth[:len(auth)-1]+flip)
	c2 := dial(t, s)
	send(t, c2, r, "")
	if resp, body := answer(t, c2, 5*time.Second); resp.StatusCode != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("want 403 SignatureDoesNotMatch, got %d %s", resp.StatusCode, body)
	}
}

// A signed upload whose body stalls gets RequestTimeout within the body deadline,
// and its connection is closed.
func TestStalledBodyTimesOut(t *testing.T) {
	s := servertest.Start(t, "")
	withBucket(t, s, "bkt")
	l := server.DefaultLimits()
	l.BodyBase, l.QueryBodyBase = 300*time.Millisecond, 300*time.Millisecond
	s.Handler.(*server.Server).SetLimits(l)
	c := dial(t, s)
	start := time.Now()
	send(t, c, putRequest(t, s, "/bkt/k", 60<<20, true), strings.Repeat("x", 1000))
	resp, body := answer(t, c, 5*time.Second)
	if resp.StatusCode != 400 || !strings.Contains(body, "<Code>RequestTimeout</Code>") {
		t.Fatalf("want 400 RequestTimeout, got %d %s", resp.StatusCode, body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("answered after %v", d)
	}
	if !closed(c, 2*time.Second) {
		t.Fatal("the connection stays open")
	}
	if _, err := s.S3(servertest.Root).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}); err == nil {
		t.Fatal("a timed-out upload created the object")
	}

	// A Query request with a partial body is closed as quickly.
	c2 := dial(t, s)
	q, _ := http.NewRequest("POST", s.URL+"/", nil)
	q.ContentLength = 100
	q.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	send(t, c2, q, "Action=GetCallerIdentity")
	resp, body = answer(t, c2, 5*time.Second)
	if resp.StatusCode != 400 || !strings.Contains(body, "RequestTimeout") {
		t.Fatalf("query: want 400 RequestTimeout, got %d %s", resp.StatusCode, body)
	}
	if !closed(c2, 2*time.Second) {
		t.Fatal("the query connection stays open")
	}
}

// Past the bound of requests in flight, or of body bytes, the server sheds load
// with 503 (SlowDown for S3, ServiceUnavailable for the Query APIs).
func TestInFlightBounds(t *testing.T) {
	s := servertest.Start(t, "")
	withBucket(t, s, "bkt")
	l := server.DefaultLimits()
	l.MaxInFlight = 1
	l.MaxBodyBytes = 1 << 20
	s.Handler.(*server.Server).SetLimits(l)
	// One upload that stalls holds the only slot.
	hold := dial(t, s)
	send(t, hold, putRequest(t, s, "/bkt/held", 1000, true), "x")
	time.Sleep(200 * time.Millisecond)
	_, err := s.S3(servertest.Root).ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if apiCode(err) != "SlowDown" {
		t.Fatalf("S3 past the bound: want SlowDown, got %v", err)
	}
	_, err = s.STS(servertest.Root).GetCallerIdentity(context.Background(), nil)
	if apiCode(err) != "ServiceUnavailable" {
		t.Fatalf("STS past the bound: want ServiceUnavailable, got %v", err)
	}
	hold.Close()
	time.Sleep(200 * time.Millisecond)

	// A body larger than the whole budget is shed when the plane starts reading it.
	l.MaxInFlight = 10
	s.Handler.(*server.Server).SetLimits(l)
	c := dial(t, s)
	send(t, c, putRequest(t, s, "/bkt/big", 2<<20, true), "")
	if resp, body := answer(t, c, 5*time.Second); resp.StatusCode != 503 || !strings.Contains(body, "<Code>SlowDown</Code>") {
		t.Fatalf("over the byte budget: want 503 SlowDown, got %d %s", resp.StatusCode, body)
	}
}
