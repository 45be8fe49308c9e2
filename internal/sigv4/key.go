package sigv4

import (
	"crypto/sha256"
	"strings"
	"sync"
)

// SigningKey derives the SigV4 signing key: HMAC-SHA256 chained over
// "AWS4"+secret, date (YYYYMMDD), region, service and "aws4_request".
func SigningKey(secret, date, region, service string) []byte {
	k := deriveKey(secret, date, region, service)
	return k[:]
}

func deriveKey(secret, date, region, service string) [sha256.Size]byte {
	var kb [4 + 60]byte
	var k0 []byte
	if len(secret) <= 60 {
		k0 = append(append(kb[:0], "AWS4"...), secret...)
	} else {
		k0 = append([]byte("AWS4"), secret...)
	}
	k := hmacSHA256(k0, date)
	clear(kb[:]) // do not leave a copy of the secret on the stack
	k = hmacSHA256(k[:], region)
	k = hmacSHA256(k[:], service)
	return hmacSHA256(k[:], Terminator)
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) without heap allocation for short messages.
func hmacSHA256(key []byte, msg string) [sha256.Size]byte {
	const block = 64
	var k [block]byte
	if len(key) > block {
		s := sha256.Sum256(key)
		copy(k[:], s[:])
	} else {
		copy(k[:], key)
	}
	var inner [sha256.Size]byte
	if len(msg) <= 320 {
		var buf [block + 320]byte
		for i := range k {
			buf[i] = k[i] ^ 0x36
		}
		n := copy(buf[block:], msg)
		inner = sha256.Sum256(buf[:block+n])
	} else {
		h := sha256.New()
		var pad [block]byte
		for i := range k {
			pad[i] = k[i] ^ 0x36
		}
		h.Write(pad[:])
		h.Write([]byte(msg))
		h.Sum(inner[:0])
	}
	var outer [block + sha256.Size]byte
	for i := range k {
		outer[i] = k[i] ^ 0x5c
	}
	copy(outer[block:], inner[:])
	clear(k[:])
	return sha256.Sum256(outer[:])
}

// DefaultCacheSize is the capacity NewSigningKeyCache uses for size <= 0.
const DefaultCacheSize = 4096

// SigningKeyCache remembers derived signing keys, keyed by the SHA-256 of the
// secret with the date, region and service, so that repeated requests from one
// credential skip the four-HMAC derivation. It holds at most its size in entries
// (an arbitrary entry is dropped when full; keys change daily, so the working set
// is one entry per active credential and scope). It is safe for concurrent use.
// Create it with NewSigningKeyCache; a nil *SigningKeyCache derives every key.
type SigningKeyCache struct {
	mu   sync.RWMutex
	max  int
	keys map[cacheKey][sha256.Size]byte
}

type cacheKey struct {
	secret                [sha256.Size]byte
	date, region, service string
}

// NewSigningKeyCache returns a cache holding at most size keys.
func NewSigningKeyCache(size int) *SigningKeyCache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	return &SigningKeyCache{max: size, keys: make(map[cacheKey][sha256.Size]byte, min(size, 1024))}
}

// Get returns the signing key for secret and scope, deriving and storing it on a miss.
func (c *SigningKeyCache) Get(secret, date, region, service string) []byte {
	k := c.get(secret, date, region, service)
	return k[:]
}

func (c *SigningKeyCache) get(secret, date, region, service string) [sha256.Size]byte {
	if c == nil {
		return deriveKey(secret, date, region, service)
	}
	ck := cacheKey{secret: secretHash(secret), date: date, region: region, service: service}
	c.mu.RLock()
	k, ok := c.keys[ck]
	c.mu.RUnlock()
	if ok {
		return k
	}
	k = deriveKey(secret, date, region, service)
	// The scope strings may be slices of a large header: keep copies.
	ck.date, ck.region, ck.service = strings.Clone(date), strings.Clone(region), strings.Clone(service)
	c.mu.Lock()
	if _, ok := c.keys[ck]; !ok && len(c.keys) >= c.max {
		for old := range c.keys { // map iteration starts at a random entry
			delete(c.keys, old)
			break
		}
	}
	c.keys[ck] = k
	c.mu.Unlock()
	return k
}

// secretHash is the SHA-256 of secret, without copying a usual-length secret to the heap.
func secretHash(secret string) [sha256.Size]byte {
	if len(secret) > 128 {
		return sha256.Sum256([]byte(secret))
	}
	var buf [128]byte
	n := copy(buf[:], secret)
	sum := sha256.Sum256(buf[:n])
	clear(buf[:n])
	return sum
}

// Len returns the number of cached keys.
func (c *SigningKeyCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.keys)
}
