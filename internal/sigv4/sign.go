package sigv4

import (
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Sign signs r in the Authorization header form, as an AWS SDK would, for tests
// and load generators. It sets X-Amz-Date (and, for s3, X-Amz-Content-Sha256 when
// not already set) and Authorization. The signed headers are host, content-type,
// content-md5 and every x-amz-* header present, so a session token set in
// X-Amz-Security-Token before the call is signed. body must be r's body; an
// X-Amz-Content-Sha256 header already set (e.g. UNSIGNED-PAYLOAD) is used literally.
func Sign(r *http.Request, body []byte, accessKey, secret, region, service string, t time.Time) {
	t = t.UTC()
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header.Del("Authorization")
	r.Header.Set("X-Amz-Date", t.Format(TimeFormat))
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		payloadHash = hexSHA256(body)
		if service == "s3" {
			r.Header.Set("X-Amz-Content-Sha256", payloadHash)
		}
	}
	signed := []string{"host"}
	for k := range r.Header {
		lk := strings.ToLower(k)
		if (lk == "content-type" || lk == "content-md5" || strings.HasPrefix(lk, "x-amz-")) && !slices.Contains(signed, lk) {
			signed = append(signed, lk)
		}
	}
	slices.Sort(signed)

	pm := pathNormalized
	if service == "s3" {
		pm = pathAsSent
	}
	var b strings.Builder
	writeCanonicalRequest(&b, r, signed, payloadHash, false, pm, false)
	date := t.Format(DateFormat)
	scope := Scope(date, region, service)
	key := deriveKey(secret, date, region, service)
	mac := hmacSHA256(key[:], StringToSign(t, scope, b.String()))
	r.Header.Set("Authorization", Algorithm+" Credential="+accessKey+"/"+scope+
		", SignedHeaders="+strings.Join(signed, ";")+", Signature="+hex.EncodeToString(mac[:]))
}
