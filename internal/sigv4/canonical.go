package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm iamlocal accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// Terminator ends every credential scope.
const Terminator = "aws4_request"

// UnsignedPayload is the literal payload hash of requests whose body is not signed (S3).
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// TimeFormat is the layout of X-Amz-Date: ISO 8601 basic format, UTC.
const TimeFormat = "20060102T150405Z"

// DateFormat is the layout of the credential scope's date.
const DateFormat = "20060102"

// emptySHA256 is the hex SHA-256 of an empty payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// CanonicalRequest returns the canonical request of r as every AWS service but S3
// computes it: the path as sent is normalized (empty, "." and ".." segments removed)
// and URI-encoded once more, so a path sent as /a%20b is canonicalized as /a%2520b.
// signedHeaders are lowercase header names; payloadHash is the last line as is.
// For presigned requests the X-Amz-Signature query parameter is left out.
func CanonicalRequest(r *http.Request, signedHeaders []string, payloadHash string, presigned bool) string {
	var b strings.Builder
	writeCanonicalRequest(&b, r, signedHeaders, payloadHash, presigned, pathNormalized, false)
	return b.String()
}

// CanonicalRequestS3 is CanonicalRequest with S3's path rule: the path is not
// normalized and each segment is URI-encoded once (a segment sent as a%20b stays a%20b).
func CanonicalRequestS3(r *http.Request, signedHeaders []string, payloadHash string, presigned bool) string {
	var b strings.Builder
	writeCanonicalRequest(&b, r, signedHeaders, payloadHash, presigned, pathAsSent, false)
	return b.String()
}

// StringToSign returns the string to sign for a request made at t with the
// credential scope scope ("YYYYMMDD/region/service/aws4_request").
func StringToSign(t time.Time, scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	var b strings.Builder
	b.Grow(len(Algorithm) + len(TimeFormat) + len(scope) + 3 + 2*sha256.Size)
	b.WriteString(Algorithm)
	b.WriteByte('\n')
	var tb [len(TimeFormat)]byte
	b.Write(t.UTC().AppendFormat(tb[:0], TimeFormat))
	b.WriteByte('\n')
	b.WriteString(scope)
	b.WriteByte('\n')
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	b.Write(hx[:])
	return b.String()
}

// Scope returns the credential scope "date/region/service/aws4_request".
func Scope(date, region, service string) string {
	return date + "/" + region + "/" + service + "/" + Terminator
}

type pathMode uint8

const (
	pathNormalized pathMode = iota // every service but S3
	pathAsSent                     // S3
)

// writeCanonicalRequest writes the canonical request to b. It reports the signed
// headers that the request does not carry (nil when all are present).
func writeCanonicalRequest(b *strings.Builder, r *http.Request, signedHeaders []string, payloadHash string, presigned bool, mode pathMode, omitToken bool) (missing []string) {
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := wirePath(r)
	if mode == pathNormalized {
		appendEscaped(b, normalizePath(path), true)
	} else {
		writeS3Path(b, path)
	}
	b.WriteByte('\n')
	if r.URL != nil {
		writeCanonicalQuery(b, r.URL.RawQuery, presigned, omitToken)
	}
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		lname := strings.ToLower(name)
		b.WriteString(lname)
		b.WriteByte(':')
		if !writeHeaderValue(b, r, lname) {
			missing = append(missing, lname)
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	for i, name := range signedHeaders {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name)
	}
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return missing
}

// wirePath returns the request's path as the client sent it, still escaped.
func wirePath(r *http.Request) string {
	u := r.URL
	if u == nil {
		return "/"
	}
	if u.Opaque != "" {
		p := u.Opaque
		if strings.HasPrefix(p, "//") { // "//host/path"
			if i := strings.IndexByte(p[2:], '/'); i >= 0 {
				return p[2+i:]
			}
			return "/"
		}
		return p
	}
	// RawPath, when set, is the exact form on the wire (net/http sets it whenever it
	// differs from the default escaping of Path). EscapedPath would re-escape a RawPath
	// that is not valid URL syntax (raw spaces, raw UTF-8), which is not what the
	// client signed.
	if u.RawPath != "" {
		if p, err := url.PathUnescape(u.RawPath); err == nil && p == u.Path {
			return u.RawPath
		}
	}
	return u.EscapedPath()
}

// normalizePath removes empty, "." and ".." segments from an absolute path,
// keeping a trailing slash when segments remain. "" becomes "/".
func normalizePath(p string) string {
	if !needsNormalizing(p) {
		return p
	}
	segs := make([]string, 0, 8)
	for s := range strings.SplitSeq(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	out := "/" + strings.Join(segs, "/")
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		out += "/"
	}
	return out
}

// needsNormalizing reports whether p is not already in normal form.
func needsNormalizing(p string) bool {
	if p == "" || p[0] != '/' {
		return true
	}
	if strings.Contains(p, "//") {
		return true
	}
	for s := range strings.SplitSeq(p[1:], "/") {
		if s == "." || s == ".." {
			return true
		}
	}
	return false
}

// writeS3Path writes p with each segment decoded and URI-encoded once.
func writeS3Path(b *strings.Builder, p string) {
	if p == "" {
		b.WriteByte('/')
		return
	}
	first := true
	for seg := range strings.SplitSeq(p, "/") {
		if !first {
			b.WriteByte('/')
		}
		first = false
		if strings.IndexByte(seg, '%') >= 0 {
			if d, err := url.PathUnescape(seg); err == nil {
				seg = d
			}
		}
		appendEscaped(b, seg, false)
	}
}

// isUnreserved reports whether c is in SigV4's unreserved set.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// appendEscaped writes s URI-encoded with SigV4's rules: every byte outside
// A-Z a-z 0-9 - _ . ~ becomes %XX (uppercase hex); '/' is kept when keepSlash.
func appendEscaped(b *strings.Builder, s string, keepSlash bool) {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || keepSlash && c == '/' {
			continue
		}
		b.WriteString(s[start:i])
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
		start = i + 1
	}
	b.WriteString(s[start:])
}

// escape returns s URI-encoded (see appendEscaped), without keeping '/'.
func escape(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	appendEscaped(&b, s, false)
	return b.String()
}

type queryPair struct{ k, v string }

// writeCanonicalQuery writes the canonical query string of raw: every parameter
// decoded (form rules: '+' is a space), re-encoded, and sorted by key then value;
// a parameter without '=' is written "key=". X-Amz-Signature is left out of
// presigned requests, and X-Amz-Security-Token too when omitToken.
func writeCanonicalQuery(b *strings.Builder, raw string, presigned, omitToken bool) {
	if raw == "" {
		return
	}
	var buf [16]queryPair
	pairs := buf[:0]
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if presigned && k == "X-Amz-Signature" || omitToken && k == "X-Amz-Security-Token" {
			continue
		}
		pairs = append(pairs, queryPair{escape(k), escape(v)})
	}
	slices.SortFunc(pairs, func(a, b queryPair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
}

// queryUnescape decodes a query component; text that is not valid
// percent-encoding is kept as sent (and will be encoded as such).
func queryUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// queryValue returns the first value of the decoded parameter key in raw.
func queryValue(raw, key string) (string, bool) {
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if len(k) < len(key) || queryUnescape(k) != key {
			continue
		}
		return queryUnescape(v), true
	}
	return "", false
}

// writeHeaderValue writes the canonical value of header name (lowercase) and
// reports whether the request carries the header.
func writeHeaderValue(b *strings.Builder, r *http.Request, name string) bool {
	if name == "host" {
		h := r.Host
		if h == "" && r.URL != nil {
			h = r.URL.Host
		}
		writeTrimmed(b, h)
		return h != ""
	}
	// Usually exactly one key matches; header maps built by hand may hold
	// non-canonical keys too, which are merged in sorted key order.
	var match string
	n := 0
	for k := range r.Header {
		if len(k) == len(name) && strings.EqualFold(k, name) {
			match = k
			n++
		}
	}
	switch {
	case n == 1:
		for i, v := range r.Header[match] {
			if i > 0 {
				b.WriteByte(',')
			}
			writeTrimmed(b, v)
		}
		return true
	case n > 1:
		keys := make([]string, 0, n)
		for k := range r.Header {
			if strings.EqualFold(k, name) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		i := 0
		for _, k := range keys {
			for _, v := range r.Header[k] {
				if i > 0 {
					b.WriteByte(',')
				}
				writeTrimmed(b, v)
				i++
			}
		}
		return true
	}
	// net/http moves these out of the header map of incoming requests.
	switch name {
	case "content-length":
		if r.ContentLength > 0 {
			b.WriteString(strconv.FormatInt(r.ContentLength, 10))
			return true
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			b.WriteString(strings.Join(r.TransferEncoding, ","))
			return true
		}
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// writeTrimmed writes v without leading and trailing whitespace and with every
// run of inner whitespace (including folded line breaks) collapsed to one space.
func writeTrimmed(b *strings.Builder, v string) {
	i, j := 0, len(v)
	for i < j && isSpace(v[i]) {
		i++
	}
	for j > i && isSpace(v[j-1]) {
		j--
	}
	v = v[i:j]
	start := 0
	for k := 0; k < len(v); k++ {
		if !isSpace(v[k]) {
			continue
		}
		if v[k] == ' ' && (k+1 == len(v) || !isSpace(v[k+1])) {
			continue // a single space stays as is
		}
		b.WriteString(v[start:k])
		b.WriteByte(' ')
		for k+1 < len(v) && isSpace(v[k+1]) {
			k++
		}
		start = k + 1
	}
	b.WriteString(v[start:])
}
