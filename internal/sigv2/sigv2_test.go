package sigv2

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	exampleKey    = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// The worked examples of S3's "Signing and authenticating REST requests" page
// (virtual-hosted bucket awsexamplebucket1; static.example.com for the upload).
var awsExamples = []struct {
	name, method, target, bucket string
	headers                      map[string]string
	stringToSign, signature      string
}{
	{"object GET", "GET", "/photos/puppy.jpg", "awsexamplebucket1",
		map[string]string{"Date": "Tue, 27 Mar 2007 19:36:42 +0000"},
		"GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg", "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="},
	{"object PUT", "PUT", "/photos/puppy.jpg", "awsexamplebucket1",
		map[string]string{"Date": "Tue, 27 Mar 2007 21:15:45 +0000", "Content-Type": "image/jpeg", "Content-Length": "94328"},
		"PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg", "iqRzw+ileNPu1fhspnRs8nOjjIA="},
	{"list", "GET", "/?prefix=photos&max-keys=50&marker=puppy", "awsexamplebucket1",
		map[string]string{"Date": "Tue, 27 Mar 2007 19:42:41 +0000", "User-Agent": "Mozilla/5.0"},
		"GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/", "m0WP8eCtspQl5Ahe6L1SozdX9YA="},
	{"fetch ACL", "GET", "/?acl", "awsexamplebucket1",
		map[string]string{"Date": "Tue, 27 Mar 2007 19:44:46 +0000"},
		"GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl", "82ZHiFIjc+WbcwFKGUVEQspPn+0="},
	{"upload with amz headers", "PUT", "/db-backup.dat.gz", "static.example.com",
		map[string]string{"Date": "Tue, 27 Mar 2007 21:06:08 +0000", "x-amz-acl": "public-read", "content-type": "application/x-download",
			"Content-MD5": "4gJE4saaMU4BqNR0kLY+lw==", "X-Amz-Meta-ReviewedBy": "joe@example.com,jane@example.com",
			"X-Amz-Meta-FileChecksum": "0x02661779", "X-Amz-Meta-ChecksumAlgorithm": "crc32"},
		"PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n" +
			"x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n" +
			"x-amz-meta-reviewedby:joe@example.com,jane@example.com\n/static.example.com/db-backup.dat.gz", "jtBQa0Aq+DkULFI8qrpwIjGEx0E="},
}

func TestAWSExamples(t *testing.T) {
	for _, ex := range awsExamples {
		r := httptest.NewRequest(ex.method, ex.target, nil)
		for k, v := range ex.headers {
			r.Header.Set(k, v)
		}
		got := StringToSign(r, false, ex.bucket)
		if got != ex.stringToSign {
			t.Errorf("%s: string to sign\n%q\nwant\n%q", ex.name, got, ex.stringToSign)
			continue
		}
		if sig := Signature(got, exampleSecret); sig != ex.signature {
			t.Errorf("%s: signature %s, want %s", ex.name, sig, ex.signature)
		}
		r.Header.Set("Authorization", "AWS "+exampleKey+":"+ex.signature)
		p, err := Parse(r)
		if err != nil {
			t.Fatalf("%s: %v", ex.name, err)
		}
		if err := Verify(r, p, exampleSecret, ex.bucket, p.Time.Add(time.Minute)); err != nil {
			t.Errorf("%s: %v", ex.name, err)
		}
	}
}

// The query-string example (bucket johnsmith on that page): Expires takes the place
// of the date.
func TestAWSQueryExample(t *testing.T) {
	r := httptest.NewRequest("GET", "/photos/puppy.jpg?AWSAccessKeyId="+exampleKey+"&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620", nil)
	if got, want := StringToSign(r, true, "johnsmith"), "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg"; got != want {
		t.Fatalf("string to sign %q, want %q", got, want)
	}
	p, err := Parse(r)
	if err != nil || !p.Presigned || p.AccessKeyID != exampleKey {
		t.Fatalf("parse: %+v %v", p, err)
	}
	if err := Verify(r, p, exampleSecret, "johnsmith", time.Unix(1175139000, 0)); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := Verify(r, p, exampleSecret, "johnsmith", time.Unix(1175139621, 0)); err == nil || err.Error() != "AccessDenied: Request has expired" {
		t.Fatalf("expired: %v", err)
	}
	tampered := httptest.NewRequest("GET", strings.Replace(r.RequestURI, "puppy", "kitty", 1), nil)
	if err := Verify(tampered, p, exampleSecret, "johnsmith", time.Unix(1175139000, 0)); err == nil || !strings.HasPrefix(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("tampered: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		target, auth, date, code string
	}{
		{"/b/k", "AWS nocolon", "Tue, 27 Mar 2007 19:36:42 GMT", "InvalidArgument"},
		{"/b/k", "AWS id:sig", "", "AccessDenied"},
		{"/b/k?AWSAccessKeyId=a&Signature=s", "", "", "AccessDenied"},
		{"/b/k?AWSAccessKeyId=a&Signature=s&Expires=soon", "", "", "AccessDenied"},
	} {
		r := httptest.NewRequest("GET", c.target, nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		if c.date != "" {
			r.Header.Set("Date", c.date)
		}
		_, err := Parse(r)
		if err == nil || !strings.HasPrefix(err.Error(), c.code) {
			t.Errorf("%s %q: want %s, got %v", c.target, c.auth, c.code, err)
		}
	}
	if p, err := Parse(httptest.NewRequest("GET", "/b/k", nil)); p != nil || err != nil {
		t.Fatalf("unsigned: %v %v", p, err)
	}
	r := httptest.NewRequest("GET", "/b/k", nil)
	r.Header.Set("Authorization", "AWS id:sig")
	r.Header.Set("Date", "yesterday")
	if _, err := Parse(r); err == nil {
		t.Fatal("a bad date is accepted")
	}
}
