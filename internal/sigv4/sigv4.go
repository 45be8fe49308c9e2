// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests, in the
// Authorization header form and the presigned (query string) form, and signs
// requests for tests and load generators.
//
// A server calls Parse, looks the access key up, then calls Verify (or
// Verifier.Verify, which caches signing keys) with the secret key:
//
//	p, err := sigv4.Parse(r)     // nil, nil: anonymous request
//	secret := lookup(p.AccessKeyID)
//	err = sigv4.Verify(r, body, p, secret, time.Now())
//
// Errors are *Error values carrying AWS's code, message and HTTP status. Requests
// scoped to service "s3" follow S3's rules (path not normalized, UNSIGNED-PAYLOAD and
// streaming payloads, S3's error codes); every other service follows the rules AWS's
// query and JSON services share.
package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Parsed is what a request claims about its signature, before any key lookup.
type Parsed struct {
	AccessKeyID   string
	Date          string // YYYYMMDD of the credential scope
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string    // hex
	Time          time.Time // X-Amz-Date (or Date header)
	Presigned     bool
	Expires       time.Duration // presigned only (X-Amz-Expires, 0..604800 s; 0 when absent outside S3)
	SecurityToken string        // X-Amz-Security-Token, header or query
	PayloadHash   string        // x-amz-content-sha256 when present (S3: may be UNSIGNED-PAYLOAD or STREAMING-AWS4-HMAC-SHA256-PAYLOAD)
}

// Scope returns the credential scope "date/region/service/aws4_request".
func (p *Parsed) Scope() string { return Scope(p.Date, p.Region, p.Service) }

// MaxExpires is the longest validity of a presigned request (seven days).
const MaxExpires = 604800 * time.Second

// MaxSkew is how far a request's time may be from the server's clock: 15 minutes
// for S3 and STS (AWS's messages for those say "15 min."), 5 minutes for the
// other services.
func MaxSkew(service string) time.Duration {
	switch service {
	case "s3", "sts":
		return 15 * time.Minute
	}
	return 5 * time.Minute
}

// Parse reads the signature of r (Authorization header form or presigned query
// form; both at once is an error). A request with neither returns (nil, nil):
// the caller treats it as anonymous. Parse checks the form of the signature and
// its credential scope (terminator, date equal to the request's date, region and
// service syntax) but not the region and service the endpoint serves, which the
// caller compares with ScopeRegionError / ScopeServiceError.
func Parse(r *http.Request) (*Parsed, error) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	var rawQuery string
	if r.URL != nil {
		rawQuery = r.URL.RawQuery
	}
	queryAuth := hasQueryAuth(rawQuery)
	switch {
	case auth != "" && queryAuth:
		return nil, newError(CodeInvalidArgument, http.StatusBadRequest, msgBothAuthForms)
	case auth != "":
		return parseHeader(r, auth)
	case queryAuth:
		return parseQuery(r, rawQuery)
	}
	return nil, nil
}

// hasQueryAuth reports whether the query carries presigned-request parameters.
func hasQueryAuth(raw string) bool {
	if !strings.Contains(raw, "X-Amz-") {
		return false
	}
	for _, k := range [...]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders"} {
		if _, ok := queryValue(raw, k); ok {
			return true
		}
	}
	return false
}

// credentialIsS3 reports whether a credential string is scoped to S3, for
// choosing S3's error wording before the credential is validated.
func credentialIsS3(cred string) bool {
	parts, ok := splitCredential(cred)
	return ok && parts[3] == "s3"
}

// splitCredential splits a credential into its five slash-separated elements.
func splitCredential(cred string) (parts [5]string, ok bool) {
	rest := cred
	for i := range 4 {
		var found bool
		if parts[i], rest, found = strings.Cut(rest, "/"); !found {
			return parts, false
		}
	}
	parts[4] = rest
	return parts, strings.IndexByte(rest, '/') < 0
}

func parseHeader(r *http.Request, auth string) (*Parsed, error) {
	alg, rest := nextField(auth)
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for {
		var f string
		if f, rest = nextField(rest); f == "" {
			break
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, incomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", f, auth)
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	s3 := credentialIsS3(cred)
	amzDate := r.Header.Get("X-Amz-Date")
	httpDate := ""
	if amzDate == "" {
		httpDate = r.Header.Get("Date")
	}
	haveDate := amzDate != "" || httpDate != ""

	if !haveCred || !haveSigned || !haveSig || !haveDate {
		if s3 {
			if !haveDate && haveCred && haveSigned && haveSig {
				return nil, newError(CodeAccessDenied, http.StatusForbidden, msgS3InvalidDate)
			}
			return nil, newError(CodeHeaderMalformed, http.StatusBadRequest, msgS3HeaderMalformedPrefix+
				"the authorization header requires three components: Credential, SignedHeaders, and Signature.")
		}
		var b strings.Builder
		if !haveCred {
			b.WriteString("Authorization header requires 'Credential' parameter. ")
		}
		if !haveSig {
			b.WriteString("Authorization header requires 'Signature' parameter. ")
		}
		if !haveSigned {
			b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
		}
		if !haveDate {
			b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
		}
		b.WriteString("Authorization=")
		b.WriteString(auth)
		return nil, incomplete("%s", b.String())
	}
	if alg != Algorithm {
		if s3 {
			return nil, newError(CodeInvalidRequest, http.StatusBadRequest, msgS3UnsupportedHeaderAlg)
		}
		return nil, incomplete("Unsupported AWS 'algorithm': '%s'", alg)
	}

	p := &Parsed{Signature: sig}
	if err := p.setCredential(cred, s3, false); err != nil {
		return nil, err
	}
	var err error
	if amzDate != "" {
		p.Time, err = time.Parse(TimeFormat, amzDate)
	} else {
		p.Time, err = http.ParseTime(httpDate)
		amzDate = httpDate
	}
	if err != nil {
		if s3 {
			return nil, newError(CodeAccessDenied, http.StatusForbidden, msgS3InvalidDate)
		}
		return nil, incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", amzDate)
	}
	p.Time = p.Time.UTC()
	p.SignedHeaders = splitSignedHeaders(signed)
	p.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	p.PayloadHash = r.Header.Get("X-Amz-Content-Sha256")
	if err := p.check(s3); err != nil {
		return nil, err
	}
	if s3 {
		// S3 refuses x-amz-* headers that the signature does not cover.
		for k := range r.Header {
			if len(k) > 6 && strings.EqualFold(k[:6], "x-amz-") && !p.signs(strings.ToLower(k)) {
				return nil, newError(CodeAccessDenied, http.StatusForbidden, msgHeadersNotSigned)
			}
		}
	}
	return p, nil
}

// nextField returns the first token of s, tokens being separated by spaces,
// tabs and commas (AWS splits the Authorization header on both), and the rest.
func nextField(s string) (field, rest string) {
	isSep := func(c byte) bool { return c == ' ' || c == ',' || c == '\t' }
	i := 0
	for i < len(s) && isSep(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isSep(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

func parseQuery(r *http.Request, raw string) (*Parsed, error) {
	get := func(k string) (string, bool) { return queryValue(raw, k) }
	alg, okAlg := get("X-Amz-Algorithm")
	cred, okCred := get("X-Amz-Credential")
	sig, okSig := get("X-Amz-Signature")
	date, okDate := get("X-Amz-Date")
	signed, okSigned := get("X-Amz-SignedHeaders")
	expires, okExpires := get("X-Amz-Expires")
	s3 := credentialIsS3(cred)

	for _, f := range [...]struct {
		name string
		ok   bool
	}{{"X-Amz-Algorithm", okAlg}, {"X-Amz-Credential", okCred}, {"X-Amz-Signature", okSig},
		{"X-Amz-Date", okDate}, {"X-Amz-SignedHeaders", okSigned}, {"X-Amz-Expires", okExpires || !s3}} {
		if f.ok {
			continue
		}
		if s3 {
			return nil, newError(CodeQueryParametersError, http.StatusBadRequest, msgS3QueryParamsRequired)
		}
		return nil, incomplete("AWS query-string parameters must include '%s'. Re-examine the query-string parameters.", f.name)
	}
	if alg != Algorithm {
		if s3 {
			return nil, newError(CodeQueryParametersError, http.StatusBadRequest, msgS3UnsupportedQueryAlg)
		}
		return nil, incomplete("Unsupported AWS 'algorithm': '%s'", alg)
	}
	p := &Parsed{Signature: sig, Presigned: true}
	if err := p.setCredential(cred, s3, true); err != nil {
		return nil, err
	}
	t, err := time.Parse(TimeFormat, date)
	if err != nil {
		if s3 {
			return nil, newError(CodeQueryParametersError, http.StatusBadRequest,
				"X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
		}
		return nil, incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", date)
	}
	p.Time = t
	if okExpires {
		code := CodeIncompleteSignature
		if s3 {
			code = CodeQueryParametersError
		}
		n, err := strconv.ParseInt(expires, 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange) && n > 0:
			return nil, newError(code, http.StatusBadRequest, msgExpiresTooLarge)
		case errors.Is(err, strconv.ErrRange):
			return nil, newError(code, http.StatusBadRequest, msgExpiresNegative)
		case err != nil:
			return nil, newError(code, http.StatusBadRequest, msgExpiresNotNumber)
		case n < 0:
			return nil, newError(code, http.StatusBadRequest, msgExpiresNegative)
		case n > int64(MaxExpires/time.Second):
			return nil, newError(code, http.StatusBadRequest, msgExpiresTooLarge)
		}
		p.Expires = time.Duration(n) * time.Second
	}
	p.SignedHeaders = splitSignedHeaders(signed)
	if tok, ok := get("X-Amz-Security-Token"); ok {
		p.SecurityToken = tok
	} else {
		p.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	}
	p.PayloadHash = r.Header.Get("X-Amz-Content-Sha256")
	if p.PayloadHash == "" {
		p.PayloadHash, _ = get("X-Amz-Content-Sha256")
	}
	if err := p.check(s3); err != nil {
		return nil, err
	}
	return p, nil
}

func splitSignedHeaders(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ";")
}

// setCredential splits "AKID/date/region/service/aws4_request" into p and checks the terminator.
func (p *Parsed) setCredential(cred string, s3, presigned bool) error {
	parts, ok := splitCredential(cred)
	if !ok || parts[0] == "" || parts[1] == "" || parts[2] == "" || parts[3] == "" {
		if s3 {
			return errScope(true, presigned, "", msgCredentialShapeS3)
		}
		return incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)
	}
	if parts[4] != Terminator {
		return errScope(s3, presigned,
			"Credential should be scoped with a valid terminator: 'aws4_request', not '"+parts[4]+"'. ",
			"incorrect terminal \""+parts[4]+"\". This endpoint uses \"aws4_request\".")
	}
	p.AccessKeyID, p.Date, p.Region, p.Service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// check validates what can be validated from p alone: scope syntax, the scope
// date against the request time, a signed host, the expiry range.
func (p *Parsed) check(s3 bool) error {
	if !validScopeName(p.Region) {
		return errScope(s3, p.Presigned, "Credential should be scoped to a valid region, not '"+p.Region+"'. ", msgCredentialShapeS3)
	}
	if !validScopeName(p.Service) {
		return errScope(s3, p.Presigned, "Credential should be scoped to correct service: '"+p.Service+"'. ", msgCredentialShapeS3)
	}
	var db [len(DateFormat)]byte
	if d := p.Time.UTC().AppendFormat(db[:0], DateFormat); p.Date != string(d) {
		return errScope(s3, p.Presigned,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
				p.Date+"' != '"+string(d)+"', from '"+fmtTime(p.Time)+"'.",
			msgS3InvalidCredentialDate)
	}
	if !p.signs("host") {
		if s3 {
			return newError(CodeAccessDenied, http.StatusForbidden, msgHeadersNotSigned)
		}
		return incomplete("%s", msgHostNotSigned)
	}
	if p.Presigned && (p.Expires < 0 || p.Expires > MaxExpires) {
		if s3 {
			return newError(CodeQueryParametersError, http.StatusBadRequest, msgExpiresTooLarge)
		}
		return incomplete("%s", msgExpiresTooLarge)
	}
	return nil
}

// signs reports whether the lowercase header name is among the signed headers.
func (p *Parsed) signs(name string) bool {
	for _, h := range p.SignedHeaders {
		if len(h) == len(name) && strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// validScopeName reports whether s is a plausible region or service name:
// 1 to 64 of a-z, 0-9 and '-'.
func validScopeName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Verify checks the signature of r with the secret key, for a request whose body
// is body (already read by the caller, capped; a truncated body fails to verify
// when its hash is signed). now is the server's clock.
//
// It checks the credential scope (date equal to the request's date), the request
// time, the payload hash and then recomputes the signature, compared in constant time.
//
// Time rules (AWS's documented and observed behaviour):
//   - header-signed requests: the request time must be within MaxSkew(service) of
//     now; otherwise SignatureDoesNotMatch "Signature expired: … is now earlier
//     than … (… - 5 min.)" or "Signature not yet current: … is still later than …
//     (… + 5 min.)"; S3 answers RequestTimeTooSkewed instead.
//   - presigned S3 requests: valid from X-Amz-Date (less the skew) to X-Amz-Date +
//     X-Amz-Expires; then AccessDenied "Request has expired" (and "Request is not
//     yet valid" before), as S3 answers.
//   - presigned requests to other services (STS, IAM): AWS documents X-Amz-Expires
//     as the validity of the URL, and STS is observed to accept a presigned request
//     for no longer than its usual 15-minute window whatever X-Amz-Expires says. So
//     the request is valid while now <= X-Amz-Date + min(X-Amz-Expires, MaxSkew)
//     (X-Amz-Expires is optional outside S3), failing with the same
//     SignatureDoesNotMatch "Signature expired" as header-signed requests: STS
//     has no RequestExpired answer for presigned URLs.
func Verify(r *http.Request, body []byte, p *Parsed, secret string, now time.Time) error {
	return verify(r, body, p, secret, now, nil, modeFor(p))
}

// Verifier verifies requests like Verify, deriving signing keys through a cache.
type Verifier struct {
	Keys *SigningKeyCache // nil: derive every key
}

// Verify is the package-level Verify with v's signing-key cache.
func (v *Verifier) Verify(r *http.Request, body []byte, p *Parsed, secret string, now time.Time) error {
	return verify(r, body, p, secret, now, v.Keys, modeFor(p))
}

// VerifyDeclared verifies an S3 request from its headers alone: the payload hash is
// taken as declared in x-amz-content-sha256 (a hex hash is not compared with the
// body, which has not been read). The caller must hash the body as it streams it and
// refuse the request with ContentSHA256Mismatch when the two differ. This lets a
// server refuse an unauthenticated upload before reading a byte of its body.
func (v *Verifier) VerifyDeclared(r *http.Request, p *Parsed, secret string, now time.Time) error {
	m := modeFor(p)
	if !m.s3 {
		return newError(CodeInvalidRequest, http.StatusBadRequest, "Only S3 requests are verified before their body is read")
	}
	m.declared = true
	return verify(r, nil, p, secret, now, v.Keys, m)
}

// ContentSHA256Mismatch is S3's answer to a body whose SHA-256 is not the one its
// x-amz-content-sha256 header declared.
func ContentSHA256Mismatch() *Error {
	return newError(CodeContentSHA256Mismatch, http.StatusBadRequest, msgContentSHA256Mismatch)
}

// mode selects the rules of a service.
type mode struct {
	s3       bool // S3's payload rules and error codes
	declared bool // S3 only: trust a hex x-amz-content-sha256; the caller checks the body
	path     pathMode
}

func modeFor(p *Parsed) mode {
	if p != nil && p.Service == "s3" {
		return mode{s3: true, path: pathAsSent}
	}
	return mode{path: pathNormalized}
}

func verify(r *http.Request, body []byte, p *Parsed, secret string, now time.Time, keys *SigningKeyCache, m mode) error {
	if p == nil {
		return newError(CodeMissingAuthToken, http.StatusForbidden, "Request is missing Authentication Token")
	}
	if err := p.check(m.s3); err != nil {
		return err
	}
	if err := checkTime(p, now, m.s3); err != nil {
		return err
	}
	payloadHash, err := payloadHashOf(p, body, m)
	if err != nil {
		return err
	}

	var want [sha256.Size]byte
	sigOK := false
	if len(p.Signature) == 2*sha256.Size {
		n, err := hex.Decode(want[:], []byte(p.Signature))
		sigOK = err == nil && n == sha256.Size
	}

	key := keys.get(secret, p.Date, p.Region, p.Service)
	scope := p.Scope()
	canonical, missing := canonicalFor(r, p, payloadHash, m.path, false)
	sts := StringToSign(p.Time, scope, canonical)
	mac := hmacSHA256(key[:], sts)
	if sigOK && missing == nil && subtle.ConstantTimeCompare(mac[:], want[:]) == 1 {
		return nil
	}
	// Some clients add the session token to a presigned URL after signing it (the
	// suite's post-sts-header-after case; AWS IoT documents it): accept a signature
	// over the query without X-Amz-Security-Token.
	if sigOK && missing == nil && p.Presigned && p.SecurityToken != "" && r.URL != nil {
		if _, ok := queryValue(r.URL.RawQuery, "X-Amz-Security-Token"); ok {
			c2, _ := canonicalFor(r, p, payloadHash, m.path, true)
			mac2 := hmacSHA256(key[:], StringToSign(p.Time, scope, c2))
			if subtle.ConstantTimeCompare(mac2[:], want[:]) == 1 {
				return nil
			}
		}
	}
	e := &Error{Code: CodeSignatureDoesNotMatch, Status: http.StatusForbidden, CanonicalRequest: canonical, StringToSign: sts}
	if m.s3 {
		e.Message = msgSignatureDoesNotMatchS3
	} else {
		e.Message = msgSignatureDoesNotMatch + "\n\nThe Canonical String for this request should have been\n'" +
			canonical + "'\n\nThe String-to-Sign should have been\n'" + sts + "'\n"
	}
	return e
}

func canonicalFor(r *http.Request, p *Parsed, payloadHash string, pm pathMode, omitToken bool) (string, []string) {
	var b strings.Builder
	b.Grow(256 + 64*len(p.SignedHeaders))
	if r.URL != nil {
		b.Grow(len(r.URL.RawQuery))
	}
	missing := writeCanonicalRequest(&b, r, p.SignedHeaders, payloadHash, p.Presigned, pm, omitToken)
	return b.String(), missing
}

func checkTime(p *Parsed, now time.Time, s3 bool) error {
	skew := MaxSkew(p.Service)
	t := p.Time
	switch {
	case !p.Presigned:
		if t.Before(now.Add(-skew)) || t.After(now.Add(skew)) {
			if s3 {
				return newError(CodeRequestTimeTooSkewed, http.StatusForbidden, msgRequestTimeTooSkewed)
			}
			if t.Before(now) {
				return errExpired(t, now, skew)
			}
			return errNotYetCurrent(t, now, skew)
		}
	case s3:
		if now.After(t.Add(p.Expires)) {
			return newError(CodeAccessDenied, http.StatusForbidden, msgRequestExpired)
		}
		if t.After(now.Add(skew)) {
			return newError(CodeAccessDenied, http.StatusForbidden, msgRequestNotYetValid)
		}
	default:
		window := skew
		if p.Expires > 0 && p.Expires < window {
			window = p.Expires
		}
		if t.Before(now.Add(-window)) {
			return errExpired(t, now, window)
		}
		if t.After(now.Add(skew)) {
			return errNotYetCurrent(t, now, skew)
		}
	}
	return nil
}

// s3PayloadLiterals are the non-hash values S3 accepts in x-amz-content-sha256.
var s3PayloadLiterals = [...]string{
	UnsignedPayload,
	"STREAMING-UNSIGNED-PAYLOAD-TRAILER",
	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
	"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
	"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
}

// payloadHashOf returns the last line of the canonical request. An
// x-amz-content-sha256 value is used literally, after checking that a hex value
// is the body's hash. Outside S3 the body is always signed: a value that is not
// the body's hash (UNSIGNED-PAYLOAD included) is refused.
func payloadHashOf(p *Parsed, body []byte, m mode) (string, error) {
	s3 := m.s3
	h := p.PayloadHash
	if h == "" {
		if p.Presigned && s3 {
			return UnsignedPayload, nil
		}
		if m.declared {
			// S3 requires the header on header-signed requests: without it the
			// signature would cover a body not yet read.
			return "", newError(CodeInvalidRequest, http.StatusBadRequest, "Missing required header for this request: x-amz-content-sha256")
		}
		return hexSHA256(body), nil
	}
	if len(h) == 2*sha256.Size {
		var claimed [sha256.Size]byte
		if n, err := hex.Decode(claimed[:], []byte(h)); err == nil && n == sha256.Size {
			if !m.declared && sha256.Sum256(body) != claimed {
				return "", newError(CodeContentSHA256Mismatch, http.StatusBadRequest, msgContentSHA256Mismatch)
			}
			return h, nil
		}
	}
	if s3 {
		for _, lit := range s3PayloadLiterals {
			if h == lit {
				return h, nil
			}
		}
		return "", newError(CodeInvalidArgument, http.StatusBadRequest, msgInvalidContentSHA256)
	}
	return "", newError(CodeContentSHA256Mismatch, http.StatusBadRequest, msgContentSHA256Mismatch)
}

func hexSHA256(b []byte) string {
	if len(b) == 0 {
		return emptySHA256
	}
	sum := sha256.Sum256(b)
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	return string(hx[:])
}
