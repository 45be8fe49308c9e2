package s3

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
)

// blobStore keeps object content in files under DATA/s3/blobs/<xx>/<32 hex>.
//
// Every file belongs to exactly one object (or one uploaded part, which becomes a
// segment of the object its upload completes into): a file is written and fsynced,
// with its directory, before the metadata naming it commits, and it is removed after
// the commit that stops naming it (the object's deletion or replacement, an aborted
// upload). CopyObject gives the copy new names for the same content with hard links,
// so no two objects share a name and no reference counting is needed. A crash
// between a file's write and its commit, or between a commit and the removal, leaves
// an unnamed file behind: garbage, never a loss.
type blobStore struct {
	dir   string
	small *smallFiles // nil: no cache
}

// errGone means an object's file disappeared between reading its metadata and
// opening it: a concurrent overwrite or delete committed meanwhile.
var errGone = errors.New("s3: object content was replaced concurrently")

func newBlobName() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:2] + "/" + h
}

func (b blobStore) path(name string) string { return filepath.Join(b.dir, filepath.FromSlash(name)) }

// ensureDir creates a blob subdirectory durably.
func (b blobStore) ensureDir(name string) error {
	sub := filepath.Dir(b.path(name))
	if _, err := os.Stat(sub); err == nil {
		return nil
	}
	if err := os.MkdirAll(sub, 0o700); err != nil {
		return fmt.Errorf("create object directory: %w", err)
	}
	// Make the new directories' entries durable too: blobs/xx, s3/blobs and DATA/s3.
	for d, i := b.dir, 0; i < 3; d, i = filepath.Dir(d), i+1 {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// write stores data in a new file, durably, and returns its name.
func (b blobStore) write(data []byte) (string, error) {
	name, _, err := b.writeFrom(bytes.NewReader(data))
	return name, err
}

// copyBufs are the buffers uploads stream through: a request holds one, whatever
// its size.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// readError marks a failure of the source (the request body: its decoding, a digest,
// a timeout), told apart from the disk's failures.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }
func (e readError) Unwrap() error { return e.err }

type sourceOnly struct{ r io.Reader }

func (s sourceOnly) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = readError{err}
	}
	return n, err
}

// writeFrom streams src into a new file and returns its name and size. The file is
// written under a temporary name and renamed, with file and directory fsynced, only
// once src has ended without error (src verifies the content at its end): a refused
// or broken upload leaves nothing behind. Errors of src are returned as they are.
func (b blobStore) writeFrom(src io.Reader) (string, int64, error) {
	name := newBlobName()
	if err := b.ensureDir(name); err != nil {
		return "", 0, err
	}
	p := b.path(name)
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("create object file: %w", err)
	}
	buf := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(writerOnly{f}, sourceOnly{src}, *buf)
	copyBufs.Put(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err == nil {
		err = syncDir(filepath.Dir(p))
	}
	if err != nil {
		os.Remove(tmp)
		os.Remove(p)
		var re readError
		if errors.As(err, &re) {
			return "", 0, re.err
		}
		return "", 0, fmt.Errorf("write object file: %w", err)
	}
	return name, n, nil
}

// link gives existing content a new name (a hard link, or a copy where links fail).
func (b blobStore) link(name string) (string, error) {
	dst := newBlobName()
	if err := b.ensureDir(dst); err != nil {
		return "", err
	}
	if err := os.Link(b.path(name), b.path(dst)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", errGone
		}
		data, rerr := os.ReadFile(b.path(name))
		if rerr != nil {
			if errors.Is(rerr, fs.ErrNotExist) {
				return "", errGone
			}
			return "", fmt.Errorf("copy object file: %w", rerr)
		}
		return b.write(data)
	}
	if err := syncDir(filepath.Dir(b.path(dst))); err != nil {
		os.Remove(b.path(dst))
		return "", err
	}
	return dst, nil
}

// linkAll links every segment, undoing the links made when one fails.
func (b blobStore) linkAll(segs []Segment) ([]Segment, error) {
	out := make([]Segment, 0, len(segs))
	for _, s := range segs {
		name, err := b.link(s.File)
		if err != nil {
			b.remove(segmentFiles(out)...)
			return nil, err
		}
		out = append(out, Segment{File: name, Size: s.Size})
	}
	return out, nil
}

// remove deletes files no metadata names any more. Failures leave garbage only.
func (b blobStore) remove(names ...string) {
	for _, n := range names {
		if n != "" {
			b.small.drop(n)
			os.Remove(b.path(n))
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// Small files are kept in memory: a file's content never changes while it has its
// name (it is written under a temporary name and renamed into place once, and a name
// is never reused: 128 random bits), so a cache keyed by the name is exact however
// old the entry. A file removed while cached stays servable to a request whose
// metadata (read before the removal's commit) still names it — as an open file
// would be — and never to a later one, whose metadata names other files.
const (
	maxSmallFile  = 64 << 10 // the largest file kept (the large-copy threshold of writeRange)
	maxSmallBytes = 32 << 20 // the cache's budget
)

// smallFiles is the cache of small files' content, bounded by maxSmallBytes.
type smallFiles struct {
	mu    sync.Mutex
	m     map[string][]byte
	bytes int
}

func newSmallFiles() *smallFiles { return &smallFiles{m: map[string][]byte{}} }

func (c *smallFiles) get(name string) ([]byte, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[name]
	return b, ok
}

// put keeps a file's content, evicting arbitrary entries to stay within budget.
func (c *smallFiles) put(name string, data []byte) {
	if c == nil || len(data) > maxSmallFile {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[name]; ok {
		return
	}
	for k, v := range c.m {
		if c.bytes+len(data) <= maxSmallBytes {
			break
		}
		delete(c.m, k)
		c.bytes -= len(v)
	}
	c.m[name] = data
	c.bytes += len(data)
}

func (c *smallFiles) drop(name string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[name]; ok {
		delete(c.m, name)
		c.bytes -= len(v)
	}
}

// content is an object's content: its open files or, for an object of one small
// file, the file's bytes. Once open, a file stays readable even if a concurrent
// overwrite removes its name.
type content struct {
	files []*os.File
	segs  []Segment
	data  []byte // the content of a one-file object held in memory; nil otherwise
}

// open opens an object's segments; errGone when one has been removed meanwhile.
func (b blobStore) open(segs []Segment) (*content, error) {
	if len(segs) == 1 && segs[0].Size <= maxSmallFile && b.small != nil {
		return b.openSmall(segs[0])
	}
	c := &content{segs: segs}
	for _, s := range segs {
		f, err := openBlob(b.path(s.File))
		if err != nil {
			c.Close()
			if errors.Is(err, fs.ErrNotExist) {
				return nil, errGone
			}
			return nil, fmt.Errorf("open object file: %w", err)
		}
		c.files = append(c.files, f)
	}
	return c, nil
}

// openSmall reads a small one-file object into memory, through the cache.
func (b blobStore) openSmall(s Segment) (*content, error) {
	if data, ok := b.small.get(s.File); ok && int64(len(data)) == s.Size {
		return &content{data: data}, nil
	}
	f, err := openBlob(b.path(s.File))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errGone
		}
		return nil, fmt.Errorf("open object file: %w", err)
	}
	defer f.Close()
	data := make([]byte, s.Size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("read object file: %w", err)
	}
	b.small.put(s.File, data)
	return &content{data: data}, nil
}

func (c *content) Close() {
	for _, f := range c.files {
		f.Close()
	}
}

// writerOnly hides an http.ResponseWriter's ReadFrom, which flushes the headers in
// a write of their own before copying: for small objects one write is faster.
type writerOnly struct{ io.Writer }

// writeRange copies n bytes from offset off of the object to w: small pieces
// through a buffer (one write with the headers), large ones with the file as the
// source, so that the response can use sendfile.
func (c *content) writeRange(w io.Writer, off, n int64) error {
	if c.data != nil {
		_, err := w.Write(c.data[off : off+n])
		return err
	}
	var buf []byte
	for i, s := range c.segs {
		if n <= 0 {
			break
		}
		if off >= s.Size {
			off -= s.Size
			continue
		}
		m := min(s.Size-off, n)
		if m >= 64<<10 {
			if _, err := c.files[i].Seek(off, io.SeekStart); err != nil {
				return err
			}
			// Send the headers first: the ResponseWriter's ReadFrom would otherwise
			// read (and write) 512 bytes of the file itself before sendfile.
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			if _, err := io.CopyN(w, c.files[i], m); err != nil {
				return err
			}
		} else {
			if buf == nil {
				buf = make([]byte, min(n, 64<<10))
			}
			if _, err := io.CopyBuffer(writerOnly{w}, io.NewSectionReader(c.files[i], off, m), buf); err != nil {
				return err
			}
		}
		n -= m
		off = 0
	}
	return nil
}
