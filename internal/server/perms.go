package server

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/iamlocal/iamlocal/internal/store"
)

// ownedFile reports whether name, at the top of the data directory, is a file
// iamlocal keeps there (the store keeps iamlocal.db and its -wal and -shm).
func ownedFile(name string) bool {
	return name == "root-credentials" || name == InternalTokenFile || strings.HasPrefix(name, "iamlocal.db")
}

// secureDataDir restricts what iamlocal keeps in the data directory to its owner
// (directories 0700, files 0600: S3's objects under s3/, the root credentials, the
// internal API's token, the database) and warns about anything else in the
// directory that its group or others can read. The store has already tightened
// the directory itself and the database files.
func secureDataDir(dir string, log *slog.Logger) {
	if runtime.GOOS == "windows" {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		log.Warn("cannot check the data directory's permissions", "dir", dir, "err", err)
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case e.Name() == "s3" && e.IsDir():
			err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				mode := store.FileMode
				if d.IsDir() {
					mode = store.DirMode
				}
				return store.Tighten(path, mode)
			})
			if err != nil {
				log.Warn("cannot restrict S3's objects to their owner", "dir", p, "err", err)
			}
		case ownedFile(e.Name()) && e.Type().IsRegular():
			if err := store.Tighten(p, store.FileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
				log.Warn("cannot restrict a file to its owner", "file", p, "err", err)
			}
		default:
			if fi, err := e.Info(); err == nil && fi.Mode().Perm()&0o077 != 0 && fi.Mode()&fs.ModeSymlink == 0 {
				log.Warn("the data directory holds secrets, and this entry iamlocal does not own is readable by others",
					"path", p, "mode", fi.Mode().Perm().String())
			}
		}
	}
}
