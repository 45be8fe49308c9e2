package imds

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Session tokens (IMDSv2) are opaque to clients: version byte, expiry (Unix
// milliseconds), 8 random bytes, and the first 16 bytes of an HMAC-SHA256 over them
// with a key drawn when the process starts. A restart invalidates every token, and
// the SDKs answer the resulting 401 by asking for a new one, as they do on AWS.
const (
	tokenVersion = 1
	tokenPayload = 1 + 8 + 8
	tokenMACLen  = 16
	tokenLen     = tokenPayload + tokenMACLen
	// MaxTokenTTL and MinTokenTTL bound X-aws-ec2-metadata-token-ttl-seconds.
	MinTokenTTL = 1
	MaxTokenTTL = 21600
)

var tokenEncoding = base64.RawURLEncoding

type tokenSigner struct{ key [32]byte }

func newTokenSigner() *tokenSigner {
	t := &tokenSigner{}
	rand.Read(t.key[:]) // never fails (crypto/rand panics rather than return short)
	return t
}

func (t *tokenSigner) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, t.key[:])
	m.Write(payload)
	return m.Sum(nil)[:tokenMACLen]
}

// issue returns a token valid until now+ttl.
func (t *tokenSigner) issue(now time.Time, ttl time.Duration) string {
	var b [tokenLen]byte
	b[0] = tokenVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(now.Add(ttl).UnixMilli()))
	rand.Read(b[9:17])
	copy(b[tokenPayload:], t.mac(b[:tokenPayload]))
	return tokenEncoding.EncodeToString(b[:])
}

// verify reports whether tok is a token of this process that has not expired, and
// how long it has left.
func (t *tokenSigner) verify(tok string, now time.Time) (time.Duration, bool) {
	if len(tok) != tokenEncoding.EncodedLen(tokenLen) {
		return 0, false
	}
	var b [tokenLen]byte
	if n, err := tokenEncoding.Decode(b[:], []byte(tok)); err != nil || n != tokenLen || b[0] != tokenVersion {
		return 0, false
	}
	if !hmac.Equal(b[tokenPayload:], t.mac(b[:tokenPayload])) {
		return 0, false
	}
	exp := time.UnixMilli(int64(binary.BigEndian.Uint64(b[1:9])))
	left := exp.Sub(now)
	if left <= 0 {
		return 0, false
	}
	return left, true
}
