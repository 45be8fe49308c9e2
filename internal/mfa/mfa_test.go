package mfa

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestCodesAreRFC6238(t *testing.T) {
	seed := NewSeed()
	if len(seed) != 64 {
		t.Fatalf("seed %q", seed)
	}
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	code, err := Code(seed, Step(at))
	if err != nil {
		t.Fatal(err)
	}
	// The same code as a TOTP authenticator computes (30 s, 6 digits, SHA-1).
	if want, _ := totp.GenerateCode(seed, at); code != want || len(code) != Digits {
		t.Fatalf("code %s, want %s", code, want)
	}
}

func TestSynchronizeCheckAndReuse(t *testing.T) {
	seed := NewSeed()
	now := time.Unix(1_700_000_010, 0)
	s := Step(now)
	code := func(step int64) string {
		c, _ := Code(seed, step)
		return c
	}
	d := &Device{}
	if d.Synchronize(seed, code(s+1), code(s), now, false) {
		t.Fatal("codes out of order were taken as consecutive")
	}
	if !d.Synchronize(seed, code(s-1), code(s), now, false) || d.LastStep != s || d.Drift != 0 {
		t.Fatalf("enable: %+v", d)
	}
	// The codes used to enable are spent; the next step's is good once.
	if d.Check(seed, code(s), now) {
		t.Fatal("a code used to enable was accepted again")
	}
	if !d.Check(seed, code(s+1), now) || d.Check(seed, code(s+1), now) {
		t.Fatal("the next code: once and only once")
	}
	if d.Check(seed, code(s+5), now) {
		t.Fatal("a code five steps ahead")
	}
	// A device enabled with codes ten minutes old is out of sync until resynced.
	late := &Device{}
	if !late.Synchronize(seed, code(s-20), code(s-19), now, false) || late.Drift != -19 {
		t.Fatalf("late enable: %+v", late)
	}
	if late.Check(seed, code(s+1), now) {
		t.Fatal("an out-of-sync device took the current code")
	}
	if !late.Synchronize(seed, code(s+1), code(s+2), now, true) || !late.Check(seed, code(s+3), now) {
		t.Fatalf("after resync: %+v", late)
	}
}

func TestNextCodes(t *testing.T) {
	seed := NewSeed()
	now := time.Unix(1_700_000_010, 0)
	s := Step(now)
	d := &Device{LastStep: s - 3}
	codes, from, err := d.NextCodes(seed, now, 2)
	if err != nil || !from.Equal(now) || len(codes) != 2 {
		t.Fatalf("%v %v %v", codes, from, err)
	}
	if want, _ := Code(seed, s); codes[0] != want {
		t.Fatal("the current code first")
	}
	// The current step used: the next one, acceptable now (a step ahead is).
	d.LastStep = s
	codes, from, _ = d.NextCodes(seed, now, 1)
	if want, _ := Code(seed, s+1); codes[0] != want || !from.Equal(now) {
		t.Fatalf("next: %v from %v", codes, from)
	}
	// Two steps used ahead: wait for the step after.
	d.LastStep = s + 1
	codes, from, _ = d.NextCodes(seed, now, 1)
	if want, _ := Code(seed, s+2); codes[0] != want || !from.Equal(StepStart(s+1)) {
		t.Fatalf("later: %v from %v", codes, from)
	}
	if !d.Check(seed, codes[0], from) {
		t.Fatal("the code NextCodes gave is not accepted from the time it gave")
	}
}

func TestSerials(t *testing.T) {
	for serial, ok := range map[string]bool{
		"arn:aws:iam::111111111111:mfa/alice":      true,
		"arn:aws:iam::111111111111:mfa/team/alice": true,
		"arn:aws:iam::111111111111:mfa/":           false,
		"arn:aws:iam::111111111111:user/alice":     false,
		"GAHT12345678":                             false,
	} {
		if _, _, got := ParseSerial(serial); got != ok {
			t.Errorf("%s: %v", serial, got)
		}
	}
	if got := SerialNumber("111111111111", "/team/", "alice"); got != "arn:aws:iam::111111111111:mfa/team/alice" {
		t.Fatal(got)
	}
	png, err := QRCodePNG(URI("alice", "111111111111", NewSeed()))
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("png %v", err)
	}
}
