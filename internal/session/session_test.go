package session

import (
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

func FuzzOpen(f *testing.F) {
	ring, _ := NewRing([]Key{NewKey(1, time.Now())})
	tok, _ := ring.Seal(&Claims{Account: "111111111111"})
	f.Add(tok)
	f.Add("IQoJAQAAAAE")
	f.Fuzz(func(t *testing.T, s string) {
		ring.Open(s) // must not panic
	})
}
