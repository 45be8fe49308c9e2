package sigv4

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                "/",
		"/":               "/",
		"//":              "/",
		"/./":             "/",
		"/a/..":           "/",
		"/a/../..":        "/",
		"/a//b/":          "/a/b/",
		"//a//":           "/a/",
		"/a/./b":          "/a/b",
		"/a/b/../c":       "/a/c",
		"/a/%2E/b":        "/a/%2E/b",
		"/a/b":            "/a/b",
		"/a/b/":           "/a/b/",
		"/..a/b./c..":     "/..a/b./c..",
		"a/b":             "/a/b",
		"/a%20b/./c%2Fd/": "/a%20b/c%2Fd/",
	} {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	tests := []struct {
		wire       string // request target path as sent
		normalized string // every service but S3
		s3         string
	}{
		{"/", "/", "/"},
		{"/a%20b", "/a%2520b", "/a%20b"},
		{"/a+b", "/a%2Bb", "/a%2Bb"},
		{"/a%2Bb", "/a%252Bb", "/a%2Bb"},
		{"/a%2fb", "/a%252fb", "/a%2Fb"},
		{"/a!b*c'd(e)f", "/a%21b%2Ac%27d%28e%29f", "/a%21b%2Ac%27d%28e%29f"},
		{"/%E2%82%AC", "/%25E2%2582%25AC", "/%E2%82%AC"},
		{"/a/./b//c/", "/a/b/c/", "/a/./b//c/"},
	}
	for _, tt := range tests {
		u, err := url.ParseRequestURI(tt.wire)
		if err != nil {
			t.Fatal(err)
		}
		r := &http.Request{Method: "GET", URL: u, Host: "h", Header: http.Header{}}
		line := func(s string) string { return strings.Split(s, "\n")[1] }
		if got := line(CanonicalRequest(r, nil, "", false)); got != tt.normalized {
			t.Errorf("%s: normalized %q, want %q", tt.wire, got, tt.normalized)
		}
		if got := line(CanonicalRequestS3(r, nil, "", false)); got != tt.s3 {
			t.Errorf("%s: s3 %q, want %q", tt.wire, got, tt.s3)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for raw, want := range map[string]string{
		"":                        "",
		"b=2&a=1":                 "a=1&b=2",
		"a=2&a=1&a=10":            "a=1&a=10&a=2",
		"acl":                     "acl=",
		"a=b+c":                   "a=b%20c",
		"a=b%2Bc":                 "a=b%2Bc",
		"a=%7e%2a":                "a=~%2A",
		"x=%zz":                   "x=%25zz",
		"&&a=1&":                  "a=1",
		"a=1;b=2":                 "a=1%3Bb%3D2",
		"Z=1&a=1&_=1&-=1&~=1&.=1": "-=1&.=1&Z=1&_=1&a=1&~=1",
		"X-Amz-Signature=s&k=v":   "X-Amz-Signature=s&k=v",
		"%E1%88%B4=1&%e1%88%b4=0": "%E1%88%B4=0&%E1%88%B4=1",
	} {
		var b strings.Builder
		writeCanonicalQuery(&b, raw, false, false)
		if b.String() != want {
			t.Errorf("query %q: %q, want %q", raw, b.String(), want)
		}
	}
	var b strings.Builder
	writeCanonicalQuery(&b, "X-Amz-Signature=s&k=v&X-Amz-Security-Token=t", true, true)
	if b.String() != "k=v" {
		t.Errorf("presigned query: %q", b.String())
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := &http.Request{Method: "GET", URL: &url.URL{Path: "/"}, Host: " example.com ", Header: http.Header{
		"My-Header":  {"  a   b  ", "c\t\td", "e\n  f"},
		"my-header":  {"g"},
		"X-Amz-Date": {"20260101T000000Z"},
	}, ContentLength: 5}
	got := CanonicalRequest(r, []string{"content-length", "host", "my-header", "x-amz-date"}, "h", false)
	want := "GET\n/\n\ncontent-length:5\nhost:example.com\nmy-header:a b,c d,e f,g\nx-amz-date:20260101T000000Z\n\ncontent-length;host;my-header;x-amz-date\nh"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestS3StreamingPayloadAccepted(t *testing.T) {
	for _, lit := range s3PayloadLiterals {
		r := newRequest(t, http.MethodPut, "https://bucket.s3.amazonaws.com/key", "chunked")
		r.Header.Set("X-Amz-Content-Sha256", lit)
		r.Header.Set("X-Amz-Decoded-Content-Length", "5")
		Sign(r, nil, testAKID, testSecret, "us-east-1", "s3", t0)
		if _, err := check(r, []byte("chunked"), t0); err != nil {
			t.Errorf("%s: %v", lit, err)
		}
	}
}

func TestHasQueryAuth(t *testing.T) {
	for raw, want := range map[string]bool{
		"":                              false,
		"X-Amz-Date=20260101T000000Z":   false,
		"X-Amz-Security-Token=abc":      false,
		"x-amz-algorithm=AWS4":          false,
		"a=1&X-Amz-Credential=x":        true,
		"X-Amz-Signature=":              true,
		"X-Amz-Algorithm":               true,
		"X-Amz-SignedHeaders=host&a=%z": true,
	} {
		if got := hasQueryAuth(raw); got != want {
			t.Errorf("hasQueryAuth(%q) = %v", raw, got)
		}
	}
}
