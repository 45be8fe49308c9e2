package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv2"
)

func presignV2(t *testing.T, s *servertest.Server, path, secret string, expires time.Time) string {
	t.Helper()
	exp := strconv.FormatInt(expires.Unix(), 10)
	r, _ := http.NewRequest("GET", s.URL+path+"?AWSAccessKeyId="+servertest.RootKeyID+"&Expires="+exp, nil)
	r.RequestURI = r.URL.RequestURI()
	sig := sigv2.Signature(sigv2.StringToSign(r, true, ""), secret)
	return s.URL + path + "?AWSAccessKeyId=" + servertest.RootKeyID + "&Expires=" + exp + "&Signature=" + url.QueryEscape(sig)
}

func fetchURL(t *testing.T, u string, header map[string]string) (int, string) {
	t.Helper()
	r, _ := http.NewRequest("GET", u, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// S3 still accepts Signature Version 2, which boto3 uses for presigned URLs against
// a custom endpoint; before, iamlocal took these requests for anonymous ones.
func TestSigV2(t *testing.T) {
	s := servertest.Start(t, "")
	c := s.S3(servertest.Root)
	withBucket(t, s, "v2bkt")
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("v2bkt"), Key: aws.String("a b.txt"), Body: strings.NewReader("hello v2")}); err != nil {
		t.Fatal(err)
	}
	good := presignV2(t, s, "/v2bkt/a%20b.txt", servertest.RootSecret, time.Now().Add(time.Minute))
	if code, body := fetchURL(t, good, nil); code != 200 || body != "hello v2" {
		t.Fatalf("presigned V2: %d %s", code, body)
	}
	if code, body := fetchURL(t, strings.Replace(good, "Expires=", "Expires=1", 1), nil); code != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("tampered: %d %s", code, body)
	}
	expired := presignV2(t, s, "/v2bkt/a%20b.txt", servertest.RootSecret, time.Now().Add(-time.Minute))
	if code, body := fetchURL(t, expired, nil); code != 403 || !strings.Contains(body, "<Message>Request has expired</Message>") {
		t.Fatalf("expired: %d %s", code, body)
	}
	unknown := strings.Replace(good, servertest.RootKeyID, "AKIAUNKNOWNKEY000000", 1)
	if code, body := fetchURL(t, unknown, nil); code != 403 || !strings.Contains(body, "<Code>InvalidAccessKeyId</Code>") {
		t.Fatalf("unknown key: %d %s", code, body)
	}
	// The header form.
	date := time.Now().UTC().Format(http.TimeFormat)
	r, _ := http.NewRequest("GET", s.URL+"/v2bkt/a%20b.txt", nil)
	r.Header.Set("Date", date)
	r.RequestURI = r.URL.RequestURI()
	sig := sigv2.Signature(sigv2.StringToSign(r, false, ""), servertest.RootSecret)
	if code, body := fetchURL(t, s.URL+"/v2bkt/a%20b.txt", map[string]string{"Date": date, "Authorization": "AWS " + servertest.RootKeyID + ":" + sig}); code != 200 || body != "hello v2" {
		t.Fatalf("header V2: %d %s", code, body)
	}
	// A bucket policy sees s3:signatureversion "AWS".
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::v2bkt/*","Condition":{"StringEquals":{"s3:signatureversion":"AWS"}}}]}`
	if _, err := c.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String("v2bkt"), Policy: &pol}); err != nil {
		t.Fatal(err)
	}
	if code, body := fetchURL(t, good, nil); code != 403 || !strings.Contains(body, "AccessDenied") {
		t.Fatalf("policy on s3:signatureversion: %d %s", code, body)
	}
	if _, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("v2bkt"), Key: aws.String("a b.txt")}); err != nil {
		t.Fatalf("SigV4 is not denied: %v", err)
	}
}
