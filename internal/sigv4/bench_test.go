package sigv4

import (
	"testing"
)

// BenchmarkVerify measures what the server does per request for a typical STS
// POST (form body, session token): Parse, then Verify.
func BenchmarkVerify(b *testing.B) {
	r, body := stsPost(b, "sts", t0)
	run := func(b *testing.B, verify func(p *Parsed) error) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := Parse(r)
			if err != nil {
				b.Fatal(err)
			}
			if err := verify(p); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("derive-key", func(b *testing.B) {
		run(b, func(p *Parsed) error { return Verify(r, body, p, testSecret, t0) })
	})
	b.Run("cached-key", func(b *testing.B) {
		v := &Verifier{Keys: NewSigningKeyCache(0)}
		run(b, func(p *Parsed) error { return v.Verify(r, body, p, testSecret, t0) })
	})
}

func BenchmarkParse(b *testing.B) {
	r, _ := stsPost(b, "sts", t0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSigningKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		SigningKey(testSecret, "20260101", "us-east-1", "sts")
	}
}
