package sigv4

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken  = "FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDBRt+q0s/token=="
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newRequest builds a request as net/http's server would present it.
func newRequest(t testing.TB, method, rawURL, body string) *http.Request {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	r := &http.Request{
		Method: method,
		URL:    &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery},
		Host:   u.Host,
		Header: make(http.Header),
	}
	if body != "" {
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		r.ContentLength = int64(len(body))
	}
	return r
}

// stsPost returns a signed STS POST (form body, session token) at t.
func stsPost(t testing.TB, service string, ts time.Time) (*http.Request, []byte) {
	t.Helper()
	body := "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fdemo&RoleSessionName=s1&Version=2011-06-15"
	r := newRequest(t, http.MethodPost, "https://sts.amazonaws.com/", body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Security-Token", testToken)
	r.Header.Set("User-Agent", "aws-cli/2.15.0")
	Sign(r, []byte(body), testAKID, testSecret, "us-east-1", service, ts)
	return r, []byte(body)
}

// presign adds presigned-query authentication to r, signing host only, the way
// SDKs do (S3: UNSIGNED-PAYLOAD; other services: the body hash).
func presign(r *http.Request, body []byte, region, service string, ts time.Time, expires int, token string) {
	date := ts.Format(DateFormat)
	scope := Scope(date, region, service)
	q := []string{
		"X-Amz-Algorithm=" + Algorithm,
		"X-Amz-Credential=" + escape(testAKID+"/"+scope),
		"X-Amz-Date=" + ts.Format(TimeFormat),
		"X-Amz-SignedHeaders=host",
	}
	if expires >= 0 {
		q = append(q, "X-Amz-Expires="+strconv.Itoa(expires))
	}
	if token != "" {
		q = append(q, "X-Amz-Security-Token="+escape(token))
	}
	if r.URL.RawQuery != "" {
		q = append([]string{r.URL.RawQuery}, q...)
	}
	r.URL.RawQuery = strings.Join(q, "&")
	var cr string
	if service == "s3" {
		cr = CanonicalRequestS3(r, []string{"host"}, UnsignedPayload, true)
	} else {
		cr = CanonicalRequest(r, []string{"host"}, hexSHA256(body), true)
	}
	mac := hmacSHA256(SigningKey(testSecret, date, region, service), StringToSign(ts, scope, cr))
	r.URL.RawQuery += "&X-Amz-Signature=" + hex.EncodeToString(mac[:])
}
