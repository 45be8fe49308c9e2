package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestHMACMatchesStdlib(t *testing.T) {
	for _, kl := range []int{0, 1, 32, 63, 64, 65, 200} {
		for _, ml := range []int{0, 1, 64, 319, 320, 321, 1000} {
			key := bytes.Repeat([]byte{byte(kl + 1)}, kl)
			msg := strings.Repeat(string(rune('a'+ml%26)), ml)
			m := hmac.New(sha256.New, key)
			m.Write([]byte(msg))
			want := m.Sum(nil)
			got := hmacSHA256(key, msg)
			if !bytes.Equal(got[:], want) {
				t.Errorf("key %d msg %d: mismatch", kl, ml)
			}
		}
	}
}

func refSigningKey(secret, date, region, service string) []byte {
	k := []byte("AWS4" + secret)
	for _, s := range []string{date, region, service, "aws4_request"} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(s))
		k = m.Sum(nil)
	}
	return k
}

func TestSigningKey(t *testing.T) {
	for _, secret := range []string{testSecret, "", strings.Repeat("s", 60), strings.Repeat("s", 61), strings.Repeat("x", 100)} {
		got := SigningKey(secret, "20150830", "us-east-1", "iam")
		if want := refSigningKey(secret, "20150830", "us-east-1", "iam"); !bytes.Equal(got, want) {
			t.Errorf("secret len %d: %x != %x", len(secret), got, want)
		}
	}
	// AWS's documented example key (Signature Version 4 documentation).
	got := fmt.Sprintf("%x", SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam"))
	if got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Errorf("documented example key = %s", got)
	}
}

func TestSigningKeyCache(t *testing.T) {
	c := NewSigningKeyCache(8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				secret := fmt.Sprintf("secret-%d", (g+i)%20)
				got := c.Get(secret, "20260101", "us-east-1", "sts")
				if want := refSigningKey(secret, "20260101", "us-east-1", "sts"); !bytes.Equal(got, want) {
					t.Errorf("cache returned a wrong key for %s", secret)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n == 0 || n > 8 {
		t.Errorf("cache holds %d keys, want 1..8", n)
	}
	var nilCache *SigningKeyCache
	if !bytes.Equal(nilCache.Get("s", "d", "r", "x"), refSigningKey("s", "d", "r", "x")) || nilCache.Len() != 0 {
		t.Error("nil cache")
	}
	// Scope parts are part of the key.
	a := c.Get("s", "20260101", "us-east-1", "sts")
	b := c.Get("s", "20260101", "us-east-1", "iam")
	if bytes.Equal(a, b) {
		t.Error("service not part of the cache key")
	}
}
