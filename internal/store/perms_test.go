package store

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// checkPrivate fails unless dir is 0700 and every file in it 0600.
func checkPrivate(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v, want 0700", dir, fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		names[e.Name()] = true
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	for _, want := range []string{"iamlocal.db", "iamlocal.db-wal", "iamlocal.db-shm"} {
		if !names[want] {
			t.Errorf("%s missing (have %v)", want, names)
		}
	}
}

func writeSome(t *testing.T, s *SQLite) {
	t.Helper()
	err := s.Write(context.Background(), func(tx Tx) error {
		for i := range 20 {
			if err := tx.Put("secret", fmt.Sprint(i), item{"k", i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openWriteAndCheck opens the store in dir, writes to it, and checks that every file
// iamlocal made there is private.
func openWriteAndCheck(t *testing.T, dir string) {
	t.Helper()
	s, err := OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeSome(t, s)
	checkPrivate(t, dir)
}

func TestSQLiteFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	// A permissive umask, as on many desktops: without care the files come out 0644.
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)

	t.Run("new directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		openWriteAndCheck(t, dir)
	})
	t.Run("existing 0755 directory and 0644 files", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"iamlocal.db", "iamlocal.db-wal", "iamlocal.db-shm"} {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		openWriteAndCheck(t, dir)
	})
	t.Run("existing database made with umask 022", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, "iamlocal.db")
		if err := os.WriteFile(db, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenSQLite(dir)
		if err != nil {
			t.Fatal(err)
		}
		writeSome(t, s)
		s.Close()
		os.Chmod(db, 0o644)
		os.Chmod(dir, 0o755)
		openWriteAndCheck(t, dir)
	})
}

func TestTightenNeverLoosens(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, nil, 0o400); err != nil {
		t.Fatal(err)
	}
	if err := Tighten(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o400 {
		t.Fatalf("mode %v, want 0400", fi.Mode().Perm())
	}
	if err := os.Chmod(p, 0o664); err != nil {
		t.Fatal(err)
	}
	if err := Tighten(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != fs.FileMode(0o600) {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
}

// A data directory written by a newer iamlocal is refused, not misread.
func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if v, err := DataSchemaVersion(dir); err != nil || v != 99 {
		t.Fatalf("DataSchemaVersion: %d %v", v, err)
	}
	if _, err := OpenSQLite(dir); err == nil || !strings.Contains(err.Error(), "schema version 99, newer than this iamlocal's (1)") {
		t.Fatalf("opening a newer directory: %v", err)
	}
}
