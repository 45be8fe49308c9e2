// Package session seals STS sessions into self-contained tokens. A token carries
// everything needed to verify and authorize the session's requests — its secret key,
// its principal, policies, tags and times — encrypted and authenticated with AES-GCM
// under a key of the server's key ring. AssumeRole writes nothing; any replica holding
// the key ring can open any token.
package session

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
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
	Type        string `json:"t"`            // AssumedRole, FederatedUser, User (GetSessionToken), Root
	Arn         string `json:"arn"`          // arn:aws:sts::A:assumed-role/R/S, the user's ARN for GetSessionToken
	UserID      string `json:"uid"`          // aws:userid: AROA…:session, AIDA…, account id
	RoleArn     string `json:"ra,omitempty"` // the role's ARN with its path
	RoleName    string `json:"rn,omitempty"`
	SessionName string `json:"sn,omitempty"`
	UserName    string `json:"un,omitempty"` // GetSessionToken / GetFederationToken caller

	PolicyDocs        []string          `json:"pd,omitempty"` // inline session policy
	PolicyArns        []string          `json:"pa,omitempty"` // managed session policies
	Tags              map[string]string `json:"tg,omitempty"` // session tags (lower-case key → value)
	TagKeys           map[string]string `json:"tk,omitempty"` // lower-case key → key as given
	TransitiveTagKeys []string          `json:"tt,omitempty"`
	SourceIdentity    string            `json:"si,omitempty"`
	MFA               bool              `json:"mfa,omitempty"`
	Chained           bool              `json:"ch,omitempty"` // issued to a role session (role chaining)
	ViaInstance       string            `json:"i,omitempty"`  // EC2 instance id for instance-profile sessions

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

// Ring seals with its newest key and opens with any of its keys.
type Ring struct {
	mu      sync.RWMutex
	aeads   map[uint32]cipher.AEAD
	current uint32
}

// NewRing builds a ring from stored keys; the one with the highest id seals.
func NewRing(keys []Key) (*Ring, error) {
	if len(keys) == 0 {
		return nil, errors.New("the session key ring is empty")
	}
	r := &Ring{aeads: map[uint32]cipher.AEAD{}}
	for _, k := range keys {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("session key %d: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		r.aeads[k.ID] = aead
		if k.ID >= r.current {
			r.current = k.ID
		}
	}
	return r, nil
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

// Seal encrypts claims into a token.
func (r *Ring) Seal(c *Claims) (string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return "IQoJ" + r.SealBytes(plain), nil
}

// SealBytes compresses, encrypts and authenticates plain under the ring's newest key,
// returning URL-safe base64. Encoded authorization messages use it too.
func (r *Ring) SealBytes(plain []byte) string {
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
	r.mu.RLock()
	id, aead := r.current, r.aeads[r.current]
	r.mu.RUnlock()
	header := make([]byte, 5, 5+aead.NonceSize()+len(payload)+aead.Overhead())
	header[0] = version
	binary.BigEndian.PutUint32(header[1:], id)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out := append(header, nonce...)
	out = aead.Seal(out, nonce, payload, header) // the header is authenticated too
	return base64.RawURLEncoding.EncodeToString(out)
}

// Errors of Open. A token that fails authentication is indistinguishable from garbage.
var (
	ErrMalformed = errors.New("the security token included in the request is invalid")
	ErrExpired   = errors.New("the security token included in the request is expired")
)

// maxTokenLen bounds what Open will try to decode.
const maxTokenLen = 16 << 10

// Open authenticates and decrypts a token; it does not check expiry (see Valid).
func (r *Ring) Open(token string) (*Claims, error) {
	if len(token) < 4 || len(token) > maxTokenLen || token[:4] != "IQoJ" {
		return nil, ErrMalformed
	}
	plain, err := r.OpenBytes(token[4:])
	if err != nil {
		return nil, err
	}
	var c Claims
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, ErrMalformed
	}
	return &c, nil
}

// OpenBytes reverses SealBytes; any tampering gives ErrMalformed.
func (r *Ring) OpenBytes(sealed string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < 5 || (raw[0] != versionFlate && raw[0] != versionPlain) {
		return nil, ErrMalformed
	}
	r.mu.RLock()
	aead := r.aeads[binary.BigEndian.Uint32(raw[1:5])]
	r.mu.RUnlock()
	if aead == nil || len(raw) < 5+aead.NonceSize()+aead.Overhead() {
		return nil, ErrMalformed
	}
	nonce := raw[5 : 5+aead.NonceSize()]
	z, err := aead.Open(nil, nonce, raw[5+aead.NonceSize():], raw[:5])
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
