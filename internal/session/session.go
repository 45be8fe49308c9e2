// Package session seals STS sessions into self-contained tokens. A token carries
// everything needed to verify and authorize the session's requests — its secret key,
// its principal, policies, tags and times — encrypted and authenticated with AES-GCM
// under a key derived, for that purpose alone, from the server's key ring. AssumeRole
// writes nothing; any replica holding the key ring can open any token.
package session

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Claims is what a session token holds.
type Claims struct {
	AccessKeyID string `json:"k"`
	Secret      string `json:"s"`
	Account     string `json:"a"`
	Type        string `json:"t"`            // AssumedRole, FederatedUser, User (GetSessionToken), Root, AssumedRoot
	Arn         string `json:"arn"`          // arn:aws:sts::A:assumed-role/R/S, the user's ARN for GetSessionToken
	UserID      string `json:"uid"`          // aws:userid: AROA…:session, AIDA…, account id
	RoleArn     string `json:"ra,omitempty"` // the role's ARN with its path
	RoleName    string `json:"rn,omitempty"`
	SessionName string `json:"sn,omitempty"`
	UserName    string `json:"un,omitempty"` // GetSessionToken / GetFederationToken caller
	// PrincipalID is the unique id (AROA…, AIDA…) of the IAM entity whose permissions
	// the session has: AWS binds a session to it, not to the name, so a session of a
	// deleted role has no permissions even after a new role takes the name.
	PrincipalID string `json:"pid,omitempty"`

	PolicyDocs        []string          `json:"pd,omitempty"` // inline session policy
	PolicyArns        []string          `json:"pa,omitempty"` // managed session policies
	Tags              map[string]string `json:"tg,omitempty"` // session tags (lower-case key → value)
	TagKeys           map[string]string `json:"tk,omitempty"` // lower-case key → key as given
	TransitiveTagKeys []string          `json:"tt,omitempty"`
	SourceIdentity    string            `json:"si,omitempty"`
	MFA               bool              `json:"mfa,omitempty"`
	Chained           bool              `json:"ch,omitempty"` // issued to a role session (role chaining)
	ViaInstance       string            `json:"i,omitempty"`  // EC2 instance id for instance-profile sessions
	// Context holds condition keys the session brings to every request (lower case):
	// web identity's aws:FederatedProvider and its provider's keys, such as
	// token.actions.githubusercontent.com:sub (AssumeRoleWithWebIdentity); SAML's
	// saml:sub, saml:sub_type and saml:namequalifier; AssumeRoot's aws:AssumedRoot.
	Context map[string][]string `json:"ctx,omitempty"`

	// MFAAt is when MFA was authenticated, for aws:MultiFactorAuthAge.
	MFAAt time.Time `json:"mfat,omitzero"`

	IssuedAt time.Time `json:"iat"`
	Expires  time.Time `json:"exp"`
}

// SetTag sets a session tag; keys are case-insensitive, the last spelling wins.
func (c *Claims) SetTag(key, value string) {
	if c.Tags == nil {
		c.Tags, c.TagKeys = map[string]string{}, map[string]string{}
	}
	lk := strings.ToLower(key)
	c.Tags[lk], c.TagKeys[lk] = value, key
}

// Key is one AEAD key of the ring.
type Key struct {
	ID      uint32
	Secret  []byte // 32 bytes, AES-256
	Created time.Time
}

// NewKey makes a fresh random key.
func NewKey(id uint32, now time.Time) Key {
	k := Key{ID: id, Secret: make([]byte, 32), Created: now}
	rand.Read(k.Secret)
	return k
}

// Purpose names what a sealed value is for. Each purpose seals under its own key,
// derived from the ring's key with HKDF, and binds its name as associated data: a
// value sealed for one purpose never opens as another (a session token is not an
// authorization message, whatever its payload looks like).
type Purpose string

const (
	// PurposeSessionToken seals STS session tokens (the claims, secret included).
	PurposeSessionToken Purpose = "session-token"
	// PurposeAuthorizationMessage seals EC2's encoded authorization failure messages.
	PurposeAuthorizationMessage Purpose = "authorization-message"
	// PurposeStoredSecret seals secrets kept in the store that the server itself
	// reads back: virtual MFA seeds, SAML signing and decryption keys.
	PurposeStoredSecret Purpose = "stored-secret"
)

// purposes are every purpose the ring derives keys for.
var purposes = []Purpose{PurposeSessionToken, PurposeAuthorizationMessage, PurposeStoredSecret}

// Ring seals with its newest key and opens with any of its keys.
type Ring struct {
	aeads   map[ringKey]cipher.AEAD // read-only after NewRing
	current uint32
}

type ringKey struct {
	id      uint32
	purpose Purpose
}

// NewRing builds a ring from stored keys; the one with the highest id seals.
func NewRing(keys []Key) (*Ring, error) {
	if len(keys) == 0 {
		return nil, errors.New("the session key ring is empty")
	}
	r := &Ring{aeads: map[ringKey]cipher.AEAD{}}
	for _, k := range keys {
		for _, p := range purposes {
			aead, err := deriveAEAD(k.Secret, p)
			if err != nil {
				return nil, fmt.Errorf("session key %d: %w", k.ID, err)
			}
			r.aeads[ringKey{k.ID, p}] = aead
		}
		if k.ID >= r.current {
			r.current = k.ID
		}
	}
	return r, nil
}

// deriveAEAD makes the AES-256-GCM cipher of one purpose from a ring key.
func deriveAEAD(secret []byte, p Purpose) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, "iamlocal sealed value: "+string(p), 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// The first byte of a sealed value says how its payload is encoded. Small payloads
// (most session tokens) are not worth compressing.
const (
	versionFlate  byte = 1
	versionPlain  byte = 2
	compressAbove      = 768
)

// writers reuses compressors: a new flate.Writer allocates about a megabyte.
var writers = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// tokenPrefix starts every session token, as AWS's do.
const tokenPrefix = "IQoJ"

// Seal encrypts claims into a session token.
func (r *Ring) Seal(c *Claims) (string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return tokenPrefix + r.SealBytes(PurposeSessionToken, plain), nil
}

// SealBytes compresses, encrypts and authenticates plain for purpose under the
// ring's newest key, returning URL-safe base64.
func (r *Ring) SealBytes(purpose Purpose, plain []byte) string {
	version, payload := versionPlain, plain
	if len(plain) > compressAbove {
		var z bytes.Buffer
		zw := writers.Get().(*flate.Writer)
		zw.Reset(&z)
		zw.Write(plain)
		zw.Close()
		writers.Put(zw)
		version, payload = versionFlate, z.Bytes()
	}
	aead := r.aeads[ringKey{r.current, purpose}]
	if aead == nil {
		panic("session: sealing for unknown purpose " + string(purpose))
	}
	header := make([]byte, 5, 5+aead.NonceSize()+len(payload)+aead.Overhead())
	header[0] = version
	binary.BigEndian.PutUint32(header[1:], r.current)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out := append(header, nonce...)
	out = aead.Seal(out, nonce, payload, additionalData(header, purpose)) // header and purpose are authenticated too
	return encoding.EncodeToString(out)
}

// additionalData binds a value's header and purpose to its ciphertext.
func additionalData(header []byte, p Purpose) []byte {
	return append(append([]byte(nil), header...), p...)
}

// encoding is the sealed values' text form. Strict: only the canonical spelling of
// a value opens (no trailing bits that vary, no padding, no line breaks).
var encoding = base64.RawURLEncoding.Strict()

// Errors of Open. A token that fails authentication is indistinguishable from garbage.
var (
	ErrMalformed = errors.New("the security token included in the request is invalid")
	ErrExpired   = errors.New("the security token included in the request is expired")
)

// maxTokenLen bounds what Open will try to decode.
const maxTokenLen = 16 << 10

// Open authenticates and decrypts a session token; it does not check expiry (see Valid).
func (r *Ring) Open(token string) (*Claims, error) {
	if len(token) < len(tokenPrefix) || len(token) > maxTokenLen || token[:len(tokenPrefix)] != tokenPrefix {
		return nil, ErrMalformed
	}
	plain, err := r.OpenBytes(PurposeSessionToken, token[len(tokenPrefix):])
	if err != nil {
		return nil, err
	}
	var c Claims
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, ErrMalformed
	}
	return &c, nil
}

// OpenBytes reverses SealBytes for the same purpose; any tampering, and any value
// sealed for another purpose, gives ErrMalformed.
func (r *Ring) OpenBytes(purpose Purpose, sealed string) ([]byte, error) {
	// The decoder skips line breaks even when strict: refuse them here.
	if len(sealed) > maxTokenLen || strings.ContainsAny(sealed, "\r\n") {
		return nil, ErrMalformed
	}
	raw, err := encoding.DecodeString(sealed)
	if err != nil || len(raw) < 5 || (raw[0] != versionFlate && raw[0] != versionPlain) {
		return nil, ErrMalformed
	}
	aead := r.aeads[ringKey{binary.BigEndian.Uint32(raw[1:5]), purpose}]
	if aead == nil || len(raw) < 5+aead.NonceSize()+aead.Overhead() {
		return nil, ErrMalformed
	}
	nonce := raw[5 : 5+aead.NonceSize()]
	z, err := aead.Open(nil, nonce, raw[5+aead.NonceSize():], additionalData(raw[:5], purpose))
	if err != nil {
		return nil, ErrMalformed
	}
	if raw[0] == versionPlain {
		return z, nil
	}
	plain, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(z)), 1<<20))
	if err != nil {
		return nil, ErrMalformed
	}
	return plain, nil
}

// Valid reports ErrExpired when the session has expired at now.
func (c *Claims) Valid(now time.Time) error {
	if !now.Before(c.Expires) {
		return ErrExpired
	}
	return nil
}
