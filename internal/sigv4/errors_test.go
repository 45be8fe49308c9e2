package sigv4

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// check runs what the server runs: Parse, then Verify.
func check(r *http.Request, body []byte, now time.Time) (*Parsed, error) {
	p, err := Parse(r)
	if err != nil || p == nil {
		return p, err
	}
	return p, Verify(r, body, p, testSecret, now)
}

func editAuth(r *http.Request, old, new string) {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
}

func TestVerifyAccepts(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T) (*http.Request, []byte)
		now   time.Time
	}{
		{"sts post", func(t *testing.T) (*http.Request, []byte) { return stsPost(t, "sts", t0) }, t0},
		{"5 min old, iam", func(t *testing.T) (*http.Request, []byte) { return stsPost(t, "iam", t0) }, t0.Add(5 * time.Minute)},
		{"5 min ahead, iam", func(t *testing.T) (*http.Request, []byte) { return stsPost(t, "iam", t0) }, t0.Add(-5 * time.Minute)},
		{"15 min old, sts", func(t *testing.T) (*http.Request, []byte) { return stsPost(t, "sts", t0) }, t0.Add(15 * time.Minute)},
		{"unsigned header added", func(t *testing.T) (*http.Request, []byte) {
			r, b := stsPost(t, "sts", t0)
			r.Header.Set("X-Forwarded-For", "10.0.0.1")
			r.Header.Set("User-Agent", "changed")
			return r, b
		}, t0},
		{"Date header instead of X-Amz-Date", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", "")
			r.Header.Set("Date", t0.Format(http.TimeFormat))
			signed := []string{"date", "host"}
			scope := Scope(t0.Format(DateFormat), "us-east-1", "iam")
			cr := CanonicalRequest(r, signed, emptySHA256, false)
			mac := hmacSHA256(SigningKey(testSecret, t0.Format(DateFormat), "us-east-1", "iam"), StringToSign(t0, scope, cr))
			r.Header.Set("Authorization", Algorithm+" Credential="+testAKID+"/"+scope+", SignedHeaders=date;host, Signature="+hexOf(mac[:]))
			return r, nil
		}, t0},
		{"comma-only separators", func(t *testing.T) (*http.Request, []byte) {
			r, b := stsPost(t, "sts", t0)
			editAuth(r, ", SignedHeaders", ",SignedHeaders")
			editAuth(r, ", Signature", ",Signature")
			return r, b
		}, t0},
		{"uppercase hex signature", func(t *testing.T) (*http.Request, []byte) {
			r, b := stsPost(t, "sts", t0)
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
			return r, b
		}, t0},
		{"presigned sts", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15", "")
			presign(r, nil, "us-east-1", "sts", t0, 900, testToken)
			return r, nil
		}, t0.Add(14 * time.Minute)},
		{"presigned sts without X-Amz-Expires", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15", "")
			presign(r, nil, "us-east-1", "sts", t0, -1, "")
			return r, nil
		}, t0.Add(time.Minute)},
		{"presigned s3 one day", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://s3.amazonaws.com/bucket/a%20b/c%2Bd", "")
			presign(r, nil, "us-east-1", "s3", t0, 86400, "")
			return r, nil
		}, t0.Add(23 * time.Hour)},
		{"s3 header form unsigned payload", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodPut, "https://bucket.s3.amazonaws.com/dir/a%20b.txt", "hello")
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
			Sign(r, []byte("hello"), testAKID, testSecret, "us-east-1", "s3", t0)
			return r, []byte("anything")
		}, t0},
		{"s3 header form signed payload", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodPut, "https://bucket.s3.amazonaws.com/dir/a%20b.txt", "hello")
			Sign(r, []byte("hello"), testAKID, testSecret, "us-east-1", "s3", t0)
			return r, []byte("hello")
		}, t0},
		{"path normalized outside s3", func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://x.amazonaws.com/a/./b//c/../d%20e/", "")
			Sign(r, nil, testAKID, testSecret, "us-east-1", "execute-api", t0)
			if got := CanonicalRequest(r, nil, "", false); !strings.HasPrefix(got, "GET\n/a/b/d%2520e/\n") {
				t.Errorf("canonical = %q", got)
			}
			return r, nil
		}, t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := tt.build(t)
			p, err := check(r, body, tt.now)
			if err != nil {
				t.Fatalf("rejected: %v\n%s", err, messageOf(err))
			}
			if p == nil {
				t.Fatal("parsed as anonymous")
			}
		})
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func TestErrors(t *testing.T) {
	type tc struct {
		name     string
		build    func(t *testing.T) (*http.Request, []byte)
		now      time.Time
		code     string
		status   int
		msg      string // exact, when set
		contains string // substring, when set
	}
	sts := func(edit func(r *http.Request)) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			r, b := stsPost(t, "sts", t0)
			if edit != nil {
				edit(r)
			}
			return r, b
		}
	}
	iam := func(edit func(r *http.Request)) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			r, b := stsPost(t, "iam", t0)
			if edit != nil {
				edit(r)
			}
			return r, b
		}
	}
	auth := func(a string) func(r *http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", a) }
	}
	presigned := func(service, path string, expires int, edit func(r *http.Request)) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			host := service + ".amazonaws.com"
			r := newRequest(t, http.MethodGet, "https://"+host+path, "")
			presign(r, nil, "us-east-1", service, t0, expires, "")
			if edit != nil {
				edit(r)
			}
			return r, nil
		}
	}
	editQuery := func(old, new string) func(r *http.Request) {
		return func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, old, new, 1) }
	}
	const cred = "Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/sts/aws4_request"
	const sig = "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const s403, s400 = http.StatusForbidden, http.StatusBadRequest

	tests := []tc{
		// Missing parts of the Authorization header.
		{name: "missing Credential", build: sts(auth(Algorithm + " SignedHeaders=host;x-amz-date, " + sig)), now: t0,
			code: CodeIncompleteSignature, status: s400,
			msg: "Authorization header requires 'Credential' parameter. Authorization=" + Algorithm + " SignedHeaders=host;x-amz-date, " + sig},
		{name: "missing SignedHeaders", build: sts(auth(Algorithm + " " + cred + ", " + sig)), now: t0,
			code: CodeIncompleteSignature, status: s400, contains: "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential="},
		{name: "missing Signature", build: sts(auth(Algorithm + " " + cred + ", SignedHeaders=host;x-amz-date")), now: t0,
			code: CodeIncompleteSignature, status: s400, contains: "Authorization header requires 'Signature' parameter. Authorization="},
		{name: "missing date", build: sts(func(r *http.Request) { r.Header.Del("X-Amz-Date") }), now: t0,
			code: CodeIncompleteSignature, status: s400, contains: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 "},
		{name: "other scheme", build: sts(auth("Basic dXNlcjpwYXNz==")), now: t0,
			code: CodeIncompleteSignature, status: s400,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=Basic dXNlcjpwYXNz=="},
		{name: "missing equal sign", build: sts(func(r *http.Request) { editAuth(r, testAKID+"/", testAKID+" /") }), now: t0,
			code: CodeIncompleteSignature, status: s400, contains: "'/20260101/us-east-1/sts/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE /"},
		{name: "unsupported algorithm", build: sts(func(r *http.Request) { editAuth(r, Algorithm, "AWS4-HMAC-SHA512") }), now: t0,
			code: CodeIncompleteSignature, status: s400, msg: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"},

		// Credential scope.
		{name: "credential with 4 elements", build: sts(func(r *http.Request) { editAuth(r, "/us-east-1/", "/") }), now: t0,
			code: CodeIncompleteSignature, status: s400,
			msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIAIOSFODNN7EXAMPLE/20260101/sts/aws4_request'"},
		{name: "credential with empty key", build: sts(func(r *http.Request) { editAuth(r, testAKID, "") }), now: t0,
			code: CodeIncompleteSignature, status: s400, contains: "Credential must have exactly 5 slash-delimited elements"},
		{name: "wrong terminator", build: sts(func(r *http.Request) { editAuth(r, "aws4_request", "aws5_request") }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "},
		{name: "wrong scope date", build: sts(func(r *http.Request) { editAuth(r, "/20260101/", "/20251231/") }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403,
			msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251231' != '20260101', from '20260101T000000Z'."},
		{name: "malformed scope date", build: sts(func(r *http.Request) { editAuth(r, "/20260101/", "/2026-01-01/") }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, contains: "Date in Credential scope does not match YYYYMMDD"},
		{name: "bad region format", build: sts(func(r *http.Request) { editAuth(r, "/us-east-1/", "/US_EAST_1/") }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, msg: "Credential should be scoped to a valid region, not 'US_EAST_1'. "},
		{name: "bad service format", build: sts(func(r *http.Request) { editAuth(r, "/sts/", "/st$/") }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, msg: "Credential should be scoped to correct service: 'st$'. "},
		{name: "bad X-Amz-Date", build: sts(func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-01-01T00:00:00Z") }), now: t0,
			code: CodeIncompleteSignature, status: s400,
			msg: "Date must be in ISO-8601 'basic format'. Got '2026-01-01T00:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},

		// Time.
		{name: "expired, iam 5 min", build: iam(nil), now: t0.Add(5*time.Minute + time.Second),
			code: CodeSignatureDoesNotMatch, status: s403,
			msg: "Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z (20260101T000501Z - 5 min.)"},
		{name: "not yet current, iam 5 min", build: iam(nil), now: t0.Add(-5*time.Minute - time.Second),
			code: CodeSignatureDoesNotMatch, status: s403,
			msg: "Signature not yet current: 20260101T000000Z is still later than 20251231T235959Z (20251231T235459Z + 5 min.)"},
		{name: "expired, sts 15 min", build: sts(nil), now: t0.Add(16 * time.Minute),
			code: CodeSignatureDoesNotMatch, status: s403,
			msg: "Signature expired: 20260101T000000Z is now earlier than 20260101T000100Z (20260101T001600Z - 15 min.)"},

		// Tampering.
		{name: "tampered signature", build: sts(func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			repl := "0"
			if last == '0' {
				repl = "1"
			}
			r.Header.Set("Authorization", a[:len(a)-1]+repl)
		}), now: t0, code: CodeSignatureDoesNotMatch, status: s403,
			contains: msgSignatureDoesNotMatch + "\n\nThe Canonical String for this request should have been\n'POST\n/\n\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:sts.amazonaws.com\n"},
		{name: "signature not hex", build: sts(func(r *http.Request) { editAuth(r, "Signature=", "Signature=zz") }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, contains: "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/sts/aws4_request\n"},
		{name: "tampered signed header", build: sts(func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, contains: "content-type:application/json\n"},
		{name: "tampered session token", build: sts(func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "other") }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403},
		{name: "tampered body", build: func(t *testing.T) (*http.Request, []byte) {
			r, b := stsPost(t, "sts", t0)
			return r, append(b[:len(b):len(b)], "&DurationSeconds=43200"...)
		}, now: t0, code: CodeSignatureDoesNotMatch, status: s403},
		{name: "tampered query", build: func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://iam.amazonaws.com/?Action=GetUser&UserName=alice", "")
			Sign(r, nil, testAKID, testSecret, "us-east-1", "iam", t0)
			r.URL.RawQuery = "Action=GetUser&UserName=mallory"
			return r, nil
		}, now: t0, code: CodeSignatureDoesNotMatch, status: s403, contains: "\nAction=GetUser&UserName=mallory\n"},
		{name: "tampered path", build: func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://x.amazonaws.com/a", "")
			Sign(r, nil, testAKID, testSecret, "us-east-1", "execute-api", t0)
			r.URL.Path = "/b"
			return r, nil
		}, now: t0, code: CodeSignatureDoesNotMatch, status: s403},
		{name: "tampered method", build: sts(func(r *http.Request) { r.Method = http.MethodPut }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403},
		{name: "wrong host", build: sts(func(r *http.Request) { r.Host = "sts.us-west-2.amazonaws.com" }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403},
		{name: "signed header absent", build: sts(func(r *http.Request) { r.Header.Del("Content-Type") }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, contains: "\ncontent-type:\n"},
		{name: "unsigned host", build: sts(func(r *http.Request) { editAuth(r, "SignedHeaders=content-type;host;", "SignedHeaders=content-type;") }), now: t0,
			code: CodeIncompleteSignature, status: s400, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "empty SignedHeaders", build: sts(auth(Algorithm + " " + cred + ", SignedHeaders=, " + sig)), now: t0,
			code: CodeIncompleteSignature, status: s400, msg: msgHostNotSigned},
		{name: "payload hash header mismatch", build: sts(func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", emptySHA256) }), now: t0,
			code: CodeContentSHA256Mismatch, status: s400, msg: msgContentSHA256Mismatch},
		{name: "unsigned payload outside s3", build: sts(func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload) }), now: t0,
			code: CodeContentSHA256Mismatch, status: s400},

		// Both forms.
		{name: "header and query auth", build: sts(func(r *http.Request) {
			r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00"
		}), now: t0, code: CodeInvalidArgument, status: s400, msg: msgBothAuthForms},

		// Presigned, outside S3.
		{name: "presigned missing signature", build: presigned("sts", "/?Action=GetCallerIdentity", 900, func(r *http.Request) {
			r.URL.RawQuery = r.URL.RawQuery[:strings.Index(r.URL.RawQuery, "&X-Amz-Signature=")]
		}), now: t0, code: CodeIncompleteSignature, status: s400,
			msg: "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters."},
		{name: "presigned missing algorithm", build: presigned("sts", "/", 900, editQuery("X-Amz-Algorithm=AWS4-HMAC-SHA256&", "")), now: t0,
			code: CodeIncompleteSignature, status: s400, contains: "must include 'X-Amz-Algorithm'"},
		{name: "presigned missing date", build: presigned("sts", "/", 900, func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Date=", "X-Amz-Dat=", 1)
		}), now: t0, code: CodeIncompleteSignature, status: s400, contains: "must include 'X-Amz-Date'"},
		{name: "presigned bad algorithm", build: presigned("sts", "/", 900, editQuery("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")), now: t0,
			code: CodeIncompleteSignature, status: s400, msg: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'"},
		{name: "presigned expired by X-Amz-Expires", build: presigned("sts", "/?Action=GetCallerIdentity", 60, nil), now: t0.Add(61 * time.Second),
			code: CodeSignatureDoesNotMatch, status: s403,
			msg: "Signature expired: 20260101T000000Z is now earlier than 20260101T000001Z (20260101T000101Z - 1 min.)"},
		{name: "presigned expired by odd X-Amz-Expires", build: presigned("sts", "/", 90, nil), now: t0.Add(91 * time.Second),
			code: CodeSignatureDoesNotMatch, status: s403, contains: "(20260101T000131Z - 90 sec.)"},
		{name: "presigned expired by skew", build: presigned("sts", "/?Action=GetCallerIdentity", 3600, nil), now: t0.Add(16 * time.Minute),
			code: CodeSignatureDoesNotMatch, status: s403, contains: "(20260101T001600Z - 15 min.)"},
		{name: "presigned not yet current", build: presigned("sts", "/", 3600, nil), now: t0.Add(-16 * time.Minute),
			code: CodeSignatureDoesNotMatch, status: s403, contains: "Signature not yet current: 20260101T000000Z is still later than"},
		{name: "presigned expires too large", build: presigned("sts", "/", 604801, nil), now: t0,
			code: CodeIncompleteSignature, status: s400, msg: msgExpiresTooLarge},
		{name: "presigned expires huge", build: presigned("sts", "/", 0, editQuery("X-Amz-Expires=0", "X-Amz-Expires=99999999999999999999")), now: t0,
			code: CodeIncompleteSignature, status: s400, msg: msgExpiresTooLarge},
		{name: "presigned expires negative", build: presigned("sts", "/", 0, editQuery("X-Amz-Expires=0", "X-Amz-Expires=-5")), now: t0,
			code: CodeIncompleteSignature, status: s400, msg: msgExpiresNegative},
		{name: "presigned expires not a number", build: presigned("sts", "/", 0, editQuery("X-Amz-Expires=0", "X-Amz-Expires=1h")), now: t0,
			code: CodeIncompleteSignature, status: s400, msg: msgExpiresNotNumber},
		{name: "presigned tampered query", build: presigned("sts", "/?Action=GetCallerIdentity", 900, editQuery("GetCallerIdentity", "GetSessionToken")), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, contains: "\nAction=GetSessionToken&X-Amz-Algorithm="},
		{name: "presigned wrong scope date", build: presigned("sts", "/", 900, editQuery("%2F20260101%2F", "%2F20260102%2F")), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, contains: "'20260102' != '20260101'"},
		{name: "presigned unsigned host", build: presigned("sts", "/", 900, editQuery("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date")), now: t0,
			code: CodeIncompleteSignature, status: s400, msg: msgHostNotSigned},

		// S3.
		{name: "s3 presigned expired", build: presigned("s3", "/bucket/key", 60, nil), now: t0.Add(61 * time.Second),
			code: CodeAccessDenied, status: s403, msg: "Request has expired"},
		{name: "s3 presigned not yet valid", build: presigned("s3", "/bucket/key", 60, nil), now: t0.Add(-16 * time.Minute),
			code: CodeAccessDenied, status: s403, msg: "Request is not yet valid"},
		{name: "s3 presigned missing X-Amz-Expires", build: presigned("s3", "/bucket/key", -1, nil), now: t0,
			code: CodeQueryParametersError, status: s400, msg: msgS3QueryParamsRequired},
		{name: "s3 presigned expires too large", build: presigned("s3", "/bucket/key", 604801, nil), now: t0,
			code: CodeQueryParametersError, status: s400, msg: msgExpiresTooLarge},
		{name: "s3 presigned tampered key", build: presigned("s3", "/bucket/key", 60, func(r *http.Request) { r.URL.Path = "/bucket/other" }), now: t0,
			code: CodeSignatureDoesNotMatch, status: s403, msg: msgSignatureDoesNotMatchS3},
		{name: "s3 header skewed", build: func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://bucket.s3.amazonaws.com/key", "")
			Sign(r, nil, testAKID, testSecret, "us-east-1", "s3", t0)
			return r, nil
		}, now: t0.Add(16 * time.Minute), code: CodeRequestTimeTooSkewed, status: s403, msg: msgRequestTimeTooSkewed},
		{name: "s3 body does not match hash", build: func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodPut, "https://bucket.s3.amazonaws.com/key", "hello")
			Sign(r, []byte("hello"), testAKID, testSecret, "us-east-1", "s3", t0)
			return r, []byte("hellO")
		}, now: t0, code: CodeContentSHA256Mismatch, status: s400, msg: msgContentSHA256Mismatch},
		{name: "s3 bad payload literal", build: func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodPut, "https://bucket.s3.amazonaws.com/key", "hello")
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED")
			Sign(r, []byte("hello"), testAKID, testSecret, "us-east-1", "s3", t0)
			return r, []byte("hello")
		}, now: t0, code: CodeInvalidArgument, status: s400, msg: msgInvalidContentSHA256},
		{name: "s3 unsigned x-amz header", build: func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://bucket.s3.amazonaws.com/key", "")
			Sign(r, nil, testAKID, testSecret, "us-east-1", "s3", t0)
			r.Header.Set("X-Amz-Security-Token", testToken)
			return r, nil
		}, now: t0, code: CodeAccessDenied, status: s403, msg: msgHeadersNotSigned},
		{name: "s3 missing Signature", build: func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://bucket.s3.amazonaws.com/key", "")
			Sign(r, nil, testAKID, testSecret, "us-east-1", "s3", t0)
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
			return r, nil
		}, now: t0, code: CodeHeaderMalformed, status: s400,
			msg: "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature."},
		{name: "s3 wrong scope date", build: func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://bucket.s3.amazonaws.com/key", "")
			Sign(r, nil, testAKID, testSecret, "us-east-1", "s3", t0)
			editAuth(r, "/20260101/", "/20260102/")
			return r, nil
		}, now: t0, code: CodeHeaderMalformed, status: s400,
			msg: "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."},
		{name: "s3 both forms", build: func(t *testing.T) (*http.Request, []byte) {
			r := newRequest(t, http.MethodGet, "https://s3.amazonaws.com/bucket/key", "")
			presign(r, nil, "us-east-1", "s3", t0, 60, "")
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
			return r, nil
		}, now: t0, code: CodeInvalidArgument, status: s400, msg: msgBothAuthForms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := tt.build(t)
			_, err := check(r, body, tt.now)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want *Error %s", err, tt.code)
			}
			if e.Code != tt.code || e.Status != tt.status {
				t.Errorf("got %s %d, want %s %d (message %q)", e.Code, e.Status, tt.code, tt.status, e.Message)
			}
			if tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message:\n got %q\nwant %q", e.Message, tt.msg)
			}
			if tt.contains != "" && !strings.Contains(e.Message, tt.contains) {
				t.Errorf("message %q does not contain %q", e.Message, tt.contains)
			}
			if strings.Contains(e.Message, testSecret) || strings.Contains(e.Error(), testSecret) {
				t.Error("secret key in error")
			}
			if strings.Contains(e.Error(), "\n\n") || strings.Contains(e.Error(), testToken) {
				t.Errorf("Error() is not log-safe: %q", e.Error())
			}
		})
	}
}

func TestAnonymousAndNil(t *testing.T) {
	r := newRequest(t, http.MethodGet, "https://s3.amazonaws.com/bucket/key?X-Amz-Date=20260101T000000Z&x-id=GetObject", "")
	p, err := Parse(r)
	if p != nil || err != nil {
		t.Fatalf("anonymous request: %v, %v", p, err)
	}
	err = Verify(r, nil, nil, testSecret, t0)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeMissingAuthToken || e.Status != http.StatusForbidden {
		t.Fatalf("Verify(nil) = %v", err)
	}
}

func TestSignatureDoesNotMatchMessage(t *testing.T) {
	r, body := stsPost(t, "sts", t0)
	editAuth(r, "Signature=", "Signature=f")
	_, err := check(r, body, t0)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	want := msgSignatureDoesNotMatch + "\n\nThe Canonical String for this request should have been\n'" + e.CanonicalRequest +
		"'\n\nThe String-to-Sign should have been\n'" + e.StringToSign + "'\n"
	if e.Message != want {
		t.Errorf("message = %q", e.Message)
	}
	if e.StringToSign != StringToSign(t0, "20260101/us-east-1/sts/aws4_request", e.CanonicalRequest) {
		t.Error("string to sign does not match canonical request")
	}
	if got := e.Error(); got != CodeSignatureDoesNotMatch+": "+msgSignatureDoesNotMatch {
		t.Errorf("Error() = %q", got)
	}
}

func TestScopeErrors(t *testing.T) {
	if e := ScopeRegionError("us-east-2", false, "us-east-1"); e.Code != CodeSignatureDoesNotMatch ||
		e.Message != "Credential should be scoped to a valid region, not 'us-east-2'. " {
		t.Errorf("region: %+v", e)
	}
	if e := ScopeServiceError("iam", "sts"); e.Code != CodeSignatureDoesNotMatch ||
		e.Message != "Credential should be scoped to correct service: 'sts'. " {
		t.Errorf("service: %+v", e)
	}
	if e := ScopeRegionError("us-east-2", true, "eu-west-1"); e.Code != CodeHeaderMalformed || e.Status != http.StatusBadRequest {
		t.Errorf("s3 region: %+v", e)
	}
}

func TestNilURLAndHeader(t *testing.T) {
	r := &http.Request{Method: http.MethodGet, Host: "h"}
	if p, err := Parse(r); p != nil || err != nil {
		t.Fatalf("Parse: %v %v", p, err)
	}
	r.Header = http.Header{}
	Sign(r, nil, testAKID, testSecret, "us-east-1", "iam", t0)
	if _, err := check(r, nil, t0); err != nil {
		t.Fatalf("nil URL: %v", err)
	}
}
