package s3

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/iamlocal/iamlocal/internal/sigv4"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// The front door authenticates an S3 request on its headers alone (SigV4 signs the
// declared payload hash, not the body) and hands the body over unread. A handler
// reads it only once the request is authorized: an upload streams to a file through
// a contentReader, which hashes what it passes and checks the declared digests at
// the end; small documents (policies, tagging, the XML of DeleteObjects and
// CompleteMultipartUpload) are read into memory under a small cap.

// maxDocument caps the XML documents S3 requests carry: CompleteMultipartUpload of
// 10,000 parts with their checksums is the largest, about 1.5 MB.
const maxDocument = 2 << 20

func entityTooLarge() error {
	return wire.Errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size of %d bytes", MaxBody)
}

// bodyError names a failure to read the request body. Errors the front door gives
// the body (RequestTimeout, SlowDown) and the decoder's own pass through.
func bodyError(err error) error {
	var we *wire.Error
	var se *sigv4.Error
	if errors.As(err, &we) || errors.As(err, &se) {
		return err
	}
	return incompleteBody("You did not provide the number of bytes specified by the Content-Length HTTP header")
}

// namedHash is one digest computed over the content, with the value the request
// declared for it (checked at the end).
type namedHash struct {
	name string // header or trailer name, for the error
	h    hash.Hash
	want string // base64 (checksums, Content-MD5) or hex (x-amz-content-sha256)
}

// contentReader yields a request's content — the body, or the decoding of its
// aws-chunked framing — and hashes it as it goes: MD5 always (the ETag), the SHA-256
// when x-amz-content-sha256 declares one, and the checksums the request announces.
// Its memory does not depend on the content's size.
type contentReader struct {
	src     io.Reader
	chunked *chunkedReader // nil for a plain body
	hdr     http.Header
	md5     hash.Hash
	sha256  *namedHash
	sums    []*namedHash
	n, max  int64
	eof     bool
}

// content opens the request's content for reading, refusing at once what the
// headers show cannot succeed (a declared length beyond MaxBody, a missing decoded
// length). max caps the decoded content.
func (rq *request) content(max int64) (*contentReader, error) {
	h := rq.r.Header
	if rq.r.ContentLength > 2*MaxBody {
		return nil, entityTooLarge()
	}
	cr := &contentReader{src: rq.r.Body, hdr: h, md5: md5.New(), max: max}
	if cr.src == nil {
		cr.src = http.NoBody
	}
	sha := h.Get("X-Amz-Content-Sha256")
	if len(sha) == 2*sha256.Size {
		cr.sha256 = &namedHash{name: "x-amz-content-sha256", h: sha256.New(), want: strings.ToLower(sha)}
	}
	if strings.HasPrefix(sha, "STREAMING-") || hasToken(h.Get("Content-Encoding"), "aws-chunked") {
		ch, err := rq.chunked(sha)
		if err != nil {
			return nil, err
		}
		cr.chunked, cr.src = ch, ch
	} else if rq.r.ContentLength > max {
		return nil, entityTooLarge()
	}
	cr.sums = announcedChecksums(h)
	return cr, nil
}

// announcedChecksums are the flexible checksums a request sends as headers or names
// in x-amz-trailer: only those are computed.
func announcedChecksums(h http.Header) []*namedHash {
	trailer := strings.ToLower(h.Get("X-Amz-Trailer"))
	var out []*namedHash
	for _, alg := range checksumAlgorithms {
		name := "x-amz-checksum-" + alg.name
		if h.Get(name) != "" || hasToken(trailer, name) {
			out = append(out, &namedHash{name: name, h: alg.new(), want: h.Get(name)})
		}
	}
	return out
}

func (c *contentReader) Read(p []byte) (int, error) {
	if c.eof {
		return 0, io.EOF
	}
	if room := c.max - c.n + 1; int64(len(p)) > room {
		p = p[:room] // one byte past the cap is enough to know it is exceeded
	}
	n, err := c.src.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return 0, entityTooLarge()
	}
	c.md5.Write(p[:n])
	if c.sha256 != nil {
		c.sha256.h.Write(p[:n])
	}
	for _, s := range c.sums {
		s.h.Write(p[:n])
	}
	switch {
	case err == io.EOF:
		c.eof = true
		if verr := c.verify(); verr != nil {
			return n, verr
		}
		return n, io.EOF
	case err != nil:
		return n, bodyError(err)
	}
	return n, nil
}

// verify checks, once the content has ended, the payload hash the signature
// covered, Content-MD5 and the checksums (a trailer overriding its header).
func (c *contentReader) verify() error {
	if c.sha256 != nil && hex.EncodeToString(c.sha256.h.Sum(nil)) != c.sha256.want {
		return sigv4.ContentSHA256Mismatch()
	}
	if v := c.hdr.Get("Content-Md5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != md5.Size {
			return wire.Errorf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		if !bytes.Equal(c.md5.Sum(nil), want) {
			return wire.Errorf(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	var trailers map[string]string
	if c.chunked != nil {
		trailers = c.chunked.trailers
		for name := range trailers {
			if strings.HasPrefix(name, "x-amz-checksum-") && !c.computes(name) {
				return wire.Errorf(http.StatusBadRequest, "InvalidRequest", "The trailer %s is not named by the x-amz-trailer header", name)
			}
		}
	}
	for _, s := range c.sums {
		want := s.want
		if t, ok := trailers[s.name]; ok {
			want = t
		}
		if err := checkSum(s, want); err != nil {
			return err
		}
	}
	return nil
}

func (c *contentReader) computes(name string) bool {
	for _, s := range c.sums {
		if s.name == name {
			return true
		}
	}
	return false
}

func checkSum(s *namedHash, v string) error {
	if v == "" {
		return nil // announced as a trailer that is missing: the decoder refused that already
	}
	want, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(want) != s.h.Size() {
		return wire.Errorf(http.StatusBadRequest, "InvalidRequest", "Value for %s header is invalid.", s.name)
	}
	if !bytes.Equal(s.h.Sum(nil), want) {
		alg := strings.TrimPrefix(s.name, "x-amz-checksum-")
		return wire.Errorf(http.StatusBadRequest, "BadDigest", "The %s you specified did not match the calculated checksum.", strings.ToUpper(alg))
	}
	return nil
}

// etag is the MD5 of the content read so far (all of it, after EOF).
func (c *contentReader) etag() string { return hex.EncodeToString(c.md5.Sum(nil)) }

// document reads a small request document (policy, tagging, XML) whole, with its
// digests checked; past max it answers tooLarge without reading further.
func (rq *request) document(max int64, tooLarge func() error) ([]byte, error) {
	cr, err := rq.content(max)
	if err != nil {
		if we, ok := err.(*wire.Error); ok && we.Code == "EntityTooLarge" {
			return nil, tooLarge()
		}
		return nil, err
	}
	var buf bytes.Buffer
	if n := rq.r.ContentLength; n > 0 && n <= max {
		buf.Grow(int(n))
	}
	if _, err := buf.ReadFrom(cr); err != nil {
		if we, ok := err.(*wire.Error); ok && we.Code == "EntityTooLarge" {
			return nil, tooLarge()
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// upload streams the content to a new blob file, verified, and returns the file's
// name, its size and the content's MD5 (hex). Nothing remains of a refused upload.
func (rq *request) upload() (name string, size int64, etag string, err error) {
	cr, err := rq.content(MaxBody)
	if err != nil {
		return "", 0, "", err
	}
	name, size, err = rq.blobs.writeFrom(cr)
	if err != nil {
		return "", 0, "", err
	}
	return name, size, cr.etag(), nil
}

// declaredLength is the decoded length an aws-chunked body announces.
func declaredLength(h http.Header) (int64, error) {
	dl := h.Get("X-Amz-Decoded-Content-Length")
	n, err := strconv.ParseInt(dl, 10, 64)
	if dl == "" || err != nil || n < 0 {
		return 0, wire.Errorf(http.StatusLengthRequired, "MissingContentLength",
			"You must provide the x-amz-decoded-content-length HTTP header with an aws-chunked body.")
	}
	return n, nil
}
