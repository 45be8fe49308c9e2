package session

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSealOpen(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	old := NewKey(1, now.Add(-time.Hour))
	ring, err := NewRing([]Key{old})
	if err != nil {
		t.Fatal(err)
	}
	c := &Claims{AccessKeyID: "ASIAEXAMPLE", Secret: "s3cr3t", Account: "111111111111", Type: "AssumedRole",
		Arn: "arn:aws:sts::111111111111:assumed-role/R/s", PolicyDocs: []string{`{"Statement":[]}`},
		Tags: map[string]string{"team": "payments"}, IssuedAt: now, Expires: now.Add(time.Hour)}
	tok, err := ring.Seal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok, "s3cr3t") || strings.Contains(tok, "payments") {
		t.Fatal("the token shows its contents")
	}
	// A ring with a newer key still opens tokens of the older one.
	ring2, _ := NewRing([]Key{old, NewKey(2, now)})
	got, err := ring2.Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != "s3cr3t" || got.Arn != c.Arn || got.Tags["team"] != "payments" || !got.Expires.Equal(c.Expires) {
		t.Fatalf("opened %+v", got)
	}
	if err := got.Valid(now.Add(59 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := got.Valid(now.Add(time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("Valid at expiry: %v", err)
	}
	// Tampering anywhere is caught.
	for i := 4; i < len(tok); i += 7 {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := ring2.Open(string(b)); err == nil {
			t.Fatalf("tampered token (byte %d) opened", i)
		}
	}
	// A ring without the key cannot open it.
	other, _ := NewRing([]Key{NewKey(1, now)})
	if _, err := other.Open(tok); !errors.Is(err, ErrMalformed) {
		t.Fatalf("foreign ring: %v", err)
	}
	for _, junk := range []string{"", "IQoJ", "IQoJ!!!", "FwoGZXIvYXdzE", strings.Repeat("A", 20000)} {
		if _, err := ring2.Open(junk); !errors.Is(err, ErrMalformed) {
			t.Fatalf("junk %q: %v", junk, err)
		}
	}
}

// Issue 11, finding 1: a session token must never open as anything else, nor an
// authorization message as a session token, whatever the payload.
func TestPurposesDoNotCross(t *testing.T) {
	ring, _ := NewRing([]Key{NewKey(1, time.Now())})
	tok, err := ring.Seal(&Claims{AccessKeyID: "ASIAEXAMPLE", Secret: "s3cr3t", Account: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	body := strings.TrimPrefix(tok, tokenPrefix)
	if _, err := ring.OpenBytes(PurposeSessionToken, body); err != nil {
		t.Fatalf("the token does not open for its own purpose: %v", err)
	}
	if _, err := ring.OpenBytes(PurposeAuthorizationMessage, body); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a session token opened as an authorization message: %v", err)
	}
	msg := ring.SealBytes(PurposeAuthorizationMessage, []byte(`{"k":"ASIAEXAMPLE","s":"x","a":"111111111111"}`))
	if _, err := ring.Open(tokenPrefix + msg); !errors.Is(err, ErrMalformed) {
		t.Fatalf("an authorization message opened as a session token: %v", err)
	}
}

// Issue 11, finding 5: only the canonical base64 spelling of a token opens; the last
// character's unused bits must not give sixteen working spellings.
func TestStrictEncoding(t *testing.T) {
	ring, _ := NewRing([]Key{NewKey(1, time.Now())})
	opened := 0
	for n := 0; n < 3; n++ { // three payload lengths, so that the last quantum varies
		tok, _ := ring.Seal(&Claims{Account: "111111111111", SessionName: strings.Repeat("x", n)})
		last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", tok[len(tok)-1])
		for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
			alt := tok[:len(tok)-1] + string(c)
			if _, err := ring.Open(alt); err == nil {
				opened++
				if alt != tok {
					t.Fatalf("a second spelling opens (last char %d→%c)", last, c)
				}
			}
		}
		for _, alt := range []string{tok + "=", tok + "\n", tok[:20] + "\n" + tok[20:]} {
			if _, err := ring.Open(alt); err == nil {
				t.Fatalf("a non-canonical form opens: %q", alt)
			}
		}
	}
	if opened != 3 {
		t.Fatalf("%d canonical tokens opened, want 3", opened)
	}
}

// FuzzPurposes: whatever is sealed for one purpose never opens for another, and a
// changed value never opens at all.
func FuzzPurposes(f *testing.F) {
	ring, _ := NewRing([]Key{NewKey(1, time.Now()), NewKey(2, time.Now())})
	f.Add([]byte(`{"k":"ASIA","s":"secret"}`), uint8(0), uint16(3), uint8(1))
	f.Add([]byte(strings.Repeat("payload ", 200)), uint8(1), uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, plain []byte, which uint8, at uint16, flip uint8) {
		from := purposes[int(which)%len(purposes)]
		sealed := ring.SealBytes(from, plain)
		for _, p := range purposes {
			got, err := ring.OpenBytes(p, sealed)
			if p == from && (err != nil || !bytes.Equal(got, plain)) {
				t.Fatalf("%s: does not round-trip: %v", p, err)
			}
			if p != from && err == nil {
				t.Fatalf("sealed for %s, opened as %s", from, p)
			}
		}
		if _, err := ring.Open(tokenPrefix + sealed); from != PurposeSessionToken && err == nil {
			t.Fatalf("sealed for %s, opened as a session token", from)
		}
		b := []byte(sealed)
		i := int(at) % len(b)
		b[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[int(flip)%64]
		if string(b) != sealed {
			for _, p := range purposes {
				if _, err := ring.OpenBytes(p, string(b)); err == nil {
					t.Fatalf("a changed value opened as %s", p)
				}
			}
		}
	})
}

func FuzzOpen(f *testing.F) {
	ring, _ := NewRing([]Key{NewKey(1, time.Now())})
	tok, _ := ring.Seal(&Claims{Account: "111111111111"})
	f.Add(tok)
	f.Add("IQoJAQAAAAE")
	f.Fuzz(func(t *testing.T, s string) {
		ring.Open(s) // must not panic
	})
}
