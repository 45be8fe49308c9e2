package server

import (
	"io"
	"log/slog"
	"testing"

	"github.com/iamlocal/iamlocal/internal/service"
)

// Listeners never opens more than its cap, whatever asks.
func TestListenersCap(t *testing.T) {
	s := New(&service.Env{DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	l := s.Listeners()
	l.limit = 2
	defer l.CloseAll()
	for _, id := range []string{"vpce-1", "vpce-2"} {
		if _, err := l.Open(id, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Open("vpce-1", 0); err != nil { // already open: its address
		t.Fatal(err)
	}
	if _, err := l.Open("vpce-3", 0); err == nil || l.Len() != 2 {
		t.Fatalf("third listener: %v, %d open", err, l.Len())
	}
	l.Close("vpce-1")
	if _, err := l.Open("vpce-3", 0); err != nil {
		t.Fatalf("after a close: %v", err)
	}
}

func TestParsePortRange(t *testing.T) {
	for in, want := range map[string]PortRange{"45000-45099": {45000, 45099}, "45000": {45000, 45000}, " 1 - 2 ": {1, 2}} {
		got, err := ParsePortRange(in)
		if err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "x", "2-1", "0-10", "1-65536", "1-2-3", "-5"} {
		if _, err := ParsePortRange(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
