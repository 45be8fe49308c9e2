package sigv4

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary Authorization headers, query strings, paths and
// header values through Parse and, when they parse, Verify and the canonical
// request builders: none may panic, and a parsed request must be self-consistent.
func FuzzParse(f *testing.F) {
	seeds := [][4]string{
		{"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + emptySHA256, "", "/", "20260101T000000Z"},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "/b/k%20e", ""},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/b/c/d/e&X-Amz-Date=x&X-Amz-Expires=-1&X-Amz-SignedHeaders=&X-Amz-Signature=", "//./..", ""},
		{"Basic abc==", "a=%zz&b", "/%", "Mon, 02 Jan 2006 15:04:05 GMT"},
		{"AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=zz", "X-Amz-Expires=99999999999999999999", "", ""},
		{"AWS4-HMAC-SHA256 ,,, =, Credential=a=b", "&&&=&", "/a/../../b", "20261301T250000Z"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, auth, rawQuery, path, date string) {
		r := &http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Path: path, RawPath: path, RawQuery: rawQuery},
			Host:   "sts.amazonaws.com",
			Header: http.Header{},
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
			r.Header.Set("Date", date)
		}
		r.Header.Set("X-Amz-Content-Sha256", date)
		p, err := Parse(r)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Code == "" || e.Status == 0 || e.Message == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		_ = CanonicalRequest(r, []string{"host", auth}, date, true)
		_ = CanonicalRequestS3(r, []string{"host", date}, "", false)
		if p == nil {
			return
		}
		if p.Date != p.Time.UTC().Format(DateFormat) || !p.signs("host") {
			t.Fatalf("inconsistent parse %+v", p)
		}
		for _, now := range []time.Time{p.Time, time.Unix(0, 0)} {
			if err := Verify(r, []byte(rawQuery), p, "secret", now); err == nil {
				t.Fatalf("random signature verified: %+v", p)
			}
		}
	})
}
