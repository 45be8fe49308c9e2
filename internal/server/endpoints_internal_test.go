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
