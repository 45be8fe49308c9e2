package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// The data directory holds every secret key and the session keys in plain text:
// only its owner may read it. SQLite creates its files with the process umask, and
// its -wal and -shm files with the mode of the database file, so the database file
// is made 0600 before SQLite opens it.
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// prepareDataDir creates dir (0700) and the database file (0600) when missing, and
// tightens an existing dir and database files to those modes.
func prepareDataDir(dir, db string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := Tighten(dir, DirMode); err != nil {
		return err
	}
	f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("create %s: %w", db, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create %s: %w", db, err)
	}
	return tightenDB(db)
}

// tightenDB makes the database file and its -wal and -shm files (those that exist)
// 0600.
func tightenDB(db string) error {
	var errs []error
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := Tighten(p, FileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Tighten removes from path's permissions every bit that mode lacks (it never adds
// one). On Windows, where modes are not Unix permissions, it does nothing.
func Tighten(path string, mode fs.FileMode) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil // never follow a link out of the data directory
	}
	perm := fi.Mode().Perm()
	if perm&^mode == 0 {
		return nil
	}
	if err := os.Chmod(path, perm&mode); err != nil {
		return fmt.Errorf("restrict %s to %v: %w", path, mode, err)
	}
	return nil
}

// dbPath is the database file in dir.
func dbPath(dir string) string { return filepath.Join(dir, "iamlocal.db") }
