// Package sigv2 verifies S3's legacy Signature Version 2 (HMAC-SHA1), which S3 still
// accepts and some clients still send: boto3's generate_presigned_url against a
// custom endpoint (?AWSAccessKeyId=…&Expires=…&Signature=…) and the header form
// Authorization: AWS AKID:signature.
//
//	StringToSign = Verb \n Content-MD5 \n Content-Type \n Date-or-Expires \n
//	               CanonicalizedAmzHeaders CanonicalizedResource
//
// Errors are *sigv4.Error values with S3's codes and messages.
package sigv2

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/sigv4"
)

// Parsed is what a request claims about its SigV2 signature.
type Parsed struct {
	AccessKeyID   string
	Signature     string // base64, as sent
	Presigned     bool
	Expires       int64     // presigned: seconds since the epoch
	Time          time.Time // header form: x-amz-date or Date
	SecurityToken string
}

// MaxSkew is how far a header-signed request's time may be from the server's clock.
const MaxSkew = 15 * time.Minute

func fail(code string, status int, msg string) *sigv4.Error {
	return &sigv4.Error{Code: code, Status: status, Message: msg}
}

// Is reports whether r carries a SigV2 signature (header or query form).
func Is(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "AWS ") {
		return true
	}
	q := r.URL.RawQuery
	return strings.Contains(q, "AWSAccessKeyId=") && strings.Contains(q, "Signature=")
}

// Parse reads the SigV2 signature of r; nil, nil when it has none.
func Parse(r *http.Request) (*Parsed, error) {
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "AWS ") {
		return parseHeader(r, a)
	}
	if !Is(r) {
		return nil, nil
	}
	return parseQuery(r)
}

func parseHeader(r *http.Request, auth string) (*Parsed, error) {
	id, sig, ok := strings.Cut(strings.TrimSpace(auth[len("AWS "):]), ":")
	if !ok || id == "" || sig == "" {
		return nil, fail("InvalidArgument", http.StatusBadRequest, "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature")
	}
	p := &Parsed{AccessKeyID: id, Signature: sig, SecurityToken: r.Header.Get("X-Amz-Security-Token")}
	date := r.Header.Get("X-Amz-Date")
	if date == "" {
		date = r.Header.Get("Date")
	}
	t, err := http.ParseTime(date)
	if err != nil {
		t, err = time.Parse(time.RFC1123Z, date) // AWS's examples use "+0000"
	}
	if err != nil {
		return nil, fail("AccessDenied", http.StatusForbidden, "AWS authentication requires a valid Date or x-amz-date header")
	}
	p.Time = t.UTC()
	return p, nil
}

func parseQuery(r *http.Request) (*Parsed, error) {
	q := parseRawQuery(r.URL.RawQuery)
	id, sig, exp := q.get("AWSAccessKeyId"), q.get("Signature"), q.get("Expires")
	if id == "" || sig == "" || exp == "" {
		return nil, fail("AccessDenied", http.StatusForbidden, "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return nil, fail("AccessDenied", http.StatusForbidden, "Invalid date (should be seconds since epoch): "+exp)
	}
	p := &Parsed{AccessKeyID: id, Signature: sig, Presigned: true, Expires: n,
		SecurityToken: q.get("x-amz-security-token")}
	if p.SecurityToken == "" {
		p.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	}
	return p, nil
}

// Verify checks p's signature of r with the secret key at now. hostBucket is the
// bucket a virtual-hosted request names in its Host ("" for path style): the
// canonical resource always starts with the bucket.
func Verify(r *http.Request, p *Parsed, secret, hostBucket string, now time.Time) error {
	if p.Presigned {
		if now.Unix() > p.Expires {
			return fail("AccessDenied", http.StatusForbidden, "Request has expired")
		}
	} else if d := now.Sub(p.Time); d > MaxSkew || d < -MaxSkew {
		return fail("RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the current time is too large.")
	}
	want := Signature(StringToSign(r, p.Presigned, hostBucket), secret)
	if !hmac.Equal([]byte(want), []byte(p.Signature)) {
		e := fail("SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		e.StringToSign = StringToSign(r, p.Presigned, hostBucket)
		return e
	}
	return nil
}

// Signature is base64(HMAC-SHA1(secret, stringToSign)).
func Signature(stringToSign, secret string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// StringToSign builds the string S3 signs for r: the date line is Expires for a
// presigned request, empty when x-amz-date is sent (it is then among the amz
// headers), the Date header otherwise.
func StringToSign(r *http.Request, presigned bool, hostBucket string) string {
	q := parseRawQuery(r.URL.RawQuery)
	std := func(name string) string {
		if v := r.Header.Get(name); v != "" || !presigned {
			return strings.TrimSpace(v)
		}
		return q.get(strings.ToLower(name)) // presigners move these into the query
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + std("Content-Md5") + "\n" + std("Content-Type") + "\n")
	switch {
	case presigned:
		b.WriteString(q.get("Expires"))
	case r.Header.Get("X-Amz-Date") == "":
		b.WriteString(strings.TrimSpace(r.Header.Get("Date")))
	}
	b.WriteString("\n")
	writeAmzHeaders(&b, r, q, presigned)
	writeResource(&b, r, q, hostBucket)
	return b.String()
}

// writeAmzHeaders writes the x-amz-* headers (and, presigned, query parameters)
// as lower-case name:value lines in name order, repeated values joined by commas.
func writeAmzHeaders(b *strings.Builder, r *http.Request, q rawQuery, presigned bool) {
	amz := map[string][]string{}
	for k, vs := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			for _, v := range vs {
				amz[lk] = append(amz[lk], strings.TrimSpace(v))
			}
		}
	}
	if presigned {
		for _, kv := range q {
			if lk := strings.ToLower(kv.k); strings.HasPrefix(lk, "x-amz-") {
				amz[lk] = append(amz[lk], strings.TrimSpace(kv.v))
			}
		}
	}
	names := make([]string, 0, len(amz))
	for k := range amz {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b.WriteString(k + ":" + strings.Join(amz[k], ",") + "\n")
	}
}

// subresources are the query parameters the canonical resource includes.
var subresources = map[string]bool{}

func init() {
	for _, s := range strings.Fields(`accelerate acl analytics cors defaultObjectAcl delete inventory
		lifecycle location logging metrics notification object-lock partNumber policy replication
		requestPayment response-cache-control response-content-disposition response-content-encoding
		response-content-language response-content-type response-expires restore select select-type
		storageClass tagging torrent uploadId uploads versionId versioning versions website`) {
		subresources[s] = true
	}
}

// writeResource writes the path as sent, with the bucket of a virtual-hosted
// request before it, and the subresources in name order (values decoded).
func writeResource(b *strings.Builder, r *http.Request, q rawQuery, hostBucket string) {
	path := r.URL.EscapedPath()
	if uri := r.RequestURI; uri != "" && !strings.Contains(uri, "://") {
		path, _, _ = strings.Cut(uri, "?")
	}
	if hostBucket != "" {
		b.WriteString("/" + hostBucket)
	}
	b.WriteString(path)
	var subs rawQuery
	for _, kv := range q {
		if subresources[kv.k] {
			subs = append(subs, kv)
		}
	}
	sort.SliceStable(subs, func(i, j int) bool { return subs[i].k < subs[j].k })
	for i, kv := range subs {
		if i == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("&")
		}
		b.WriteString(kv.k)
		if kv.eq { // "acl" and "acl=" are signed as sent
			b.WriteString("=" + kv.v)
		}
	}
}

// rawQuery is a query string's name/value pairs in order, values percent-decoded
// ('+' kept: S3 signs what the client meant, and clients encode spaces as %20).
type rawQuery []param

type param struct {
	k, v string
	eq   bool // the parameter had an '='
}

func (q rawQuery) get(name string) string {
	for _, kv := range q {
		if kv.k == name {
			return kv.v
		}
	}
	return ""
}

func parseRawQuery(raw string) rawQuery {
	var q rawQuery
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, eq := strings.Cut(part, "=")
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		q = append(q, param{k, v, eq})
	}
	return q
}
