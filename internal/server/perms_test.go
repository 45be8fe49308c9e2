package server_test

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/iamlocal/iamlocal/internal/server"
)

// Opening a data directory made under a permissive umask (or by an older iamlocal)
// restricts what iamlocal keeps there to its owner and warns about the rest.
func TestOpenRestrictsDataDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	for _, d := range []string{"s3/blobs/ab"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, mode := range map[string]fs.FileMode{"iamlocal.db": 0o644, "root-credentials": 0o644,
		"s3/blobs/ab/object": 0o644, "notes.txt": 0o644, "private.txt": 0o600} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(dir, 0o755)
	var logs bytes.Buffer
	st, _, _, err := server.Open(context.Background(), server.Config{DataDir: dir, AccountID: "111111111111", Region: "us-east-1",
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		want := fs.FileMode(0o600)
		switch {
		case d.IsDir():
			want = 0o700
		case rel == "notes.txt":
			want = 0o644 // not iamlocal's: left alone, warned about
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, server.InternalTokenFile)); err != nil {
		t.Errorf("no internal API token: %v", err)
	}
	if !strings.Contains(logs.String(), "notes.txt") || strings.Contains(logs.String(), "private.txt") {
		t.Errorf("warnings: %s", logs.String())
	}
}
