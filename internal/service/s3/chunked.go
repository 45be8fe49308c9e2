package s3

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/sigv4"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Payload forms of x-amz-content-sha256 that frame the body in aws-chunked encoding.
const (
	streamingSigned         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrail  = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingECDSAPrefix    = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
	emptySHA256             = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	maxChunkHeaderLine      = 4096
	maxTrailerLine          = 4096
	chunkSignaturePrefix    = "chunk-signature="
	trailerSignatureHeader  = "x-amz-trailer-signature"
	msgChunkSignatureDiffer = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)

func incompleteBody(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "IncompleteBody", format, args...)
}

var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checksumAlgorithms are S3's flexible checksums (x-amz-checksum-<name>).
var checksumAlgorithms = []struct {
	name string
	new  func() hash.Hash
}{
	{"crc32", func() hash.Hash { return crc32.NewIEEE() }},
	{"crc32c", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	{"crc64nvme", func() hash.Hash { return crc64.New(crc64NVME) }},
	{"sha1", sha1.New},
	{"sha256", sha256.New},
}

func hasToken(header, token string) bool {
	for _, t := range strings.Split(header, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// chunkSigner computes the chain of chunk signatures of a streaming SigV4 upload,
// seeded with the request's own signature.
type chunkSigner struct {
	key           []byte
	timestamp     string
	scope         string
	prev          string
	trailerSigned bool
}

func (s *chunkSigner) sign(stringToSign string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(stringToSign))
	s.prev = hex.EncodeToString(m.Sum(nil))
	return s.prev
}

// next returns the signature the next chunk, whose SHA-256 is sum, must carry.
func (s *chunkSigner) next(sum []byte) string {
	return s.sign("AWS4-HMAC-SHA256-PAYLOAD\n" + s.timestamp + "\n" + s.scope + "\n" + s.prev + "\n" +
		emptySHA256 + "\n" + hex.EncodeToString(sum))
}

// trailer returns the signature of the trailing headers, each "name:value\n".
func (s *chunkSigner) trailer(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return s.sign("AWS4-HMAC-SHA256-TRAILER\n" + s.timestamp + "\n" + s.scope + "\n" + s.prev + "\n" + hex.EncodeToString(sum[:]))
}

// chunkSigner derives the signing key of the request's credentials again: the front
// door verified the seed signature but keeps no secret.
func (rq *request) chunkSigner() (*chunkSigner, error) {
	p, err := sigv4.Parse(rq.r)
	if err != nil {
		return nil, err
	}
	id := rq.c.Identity
	if p == nil || id == nil || p.Presigned {
		return nil, wire.Errorf(http.StatusBadRequest, "InvalidRequest", "A streaming signed payload needs a request signed in the Authorization header")
	}
	var secret string
	if id.Claims != nil {
		secret = id.Claims.Secret
	} else {
		err := rq.c.Env.Store.Read(rq.c.Ctx, func(tx store.Tx) error {
			var k directory.AccessKey
			if err := tx.Get(directory.KindAccessKey, id.AccessKeyID, &k); err != nil {
				return err
			}
			secret = k.Secret
			return nil
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil, wire.Errorf(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		}
		if err != nil {
			return nil, err
		}
	}
	return &chunkSigner{key: sigv4.SigningKey(secret, p.Date, p.Region, p.Service),
		timestamp: p.Time.UTC().Format(sigv4.TimeFormat), scope: p.Scope(), prev: p.Signature}, nil
}

// chunked opens the aws-chunked decoder of the request's body for the payload form
// sha (x-amz-content-sha256).
func (rq *request) chunked(sha string) (*chunkedReader, error) {
	n, err := declaredLength(rq.r.Header)
	if err != nil {
		return nil, err
	}
	if n > MaxBody {
		return nil, entityTooLarge()
	}
	var signer *chunkSigner
	switch {
	case sha == streamingSigned || sha == streamingSignedTrailer:
		if signer, err = rq.chunkSigner(); err != nil {
			return nil, err
		}
	case strings.HasPrefix(sha, streamingECDSAPrefix):
		return nil, wire.Errorf(http.StatusNotImplemented, "NotImplemented", "SigV4a (%s) streaming payloads are not supported", sha)
	}
	body := rq.r.Body
	if body == nil {
		body = http.NoBody
	}
	return &chunkedReader{br: bufio.NewReaderSize(body, 64<<10), signer: signer, decodedLen: n,
		needTrailerSig: sha == streamingSignedTrailer, announced: rq.r.Header.Get("X-Amz-Trailer")}, nil
}

// chunkedReader decodes an aws-chunked body as it is read:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n … 0[;chunk-signature=sig]\r\n
//	[trailer-name:value\r\n …] [x-amz-trailer-signature:sig\r\n] \r\n
//
// With a signer it hashes each chunk as it passes and checks the chunk's signature
// at its end (and the trailer's), so memory stays constant whatever the chunk size.
// Data of a chunk whose signature then fails has been handed on already: the caller
// discards everything when Read fails.
type chunkedReader struct {
	br             *bufio.Reader
	signer         *chunkSigner
	decodedLen     int64
	total          int64  // decoded bytes so far
	left           int64  // bytes left in the current chunk
	sig            string // the current chunk's claimed signature
	hash           hash.Hash
	needTrailerSig bool
	announced      string // x-amz-trailer
	trailers       map[string]string
	err            error // sticky
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.read(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

func (c *chunkedReader) read(p []byte) (int, error) {
	if c.left == 0 {
		last, err := c.header()
		if err != nil {
			return 0, err
		}
		if last {
			return 0, c.finish()
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.total += int64(n)
	if c.hash != nil {
		c.hash.Write(p[:n])
	}
	if err != nil && c.left > 0 {
		return n, truncated(err, "The aws-chunked body ends inside a chunk")
	}
	if c.left == 0 {
		if err := c.endChunk(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// truncated names an early end of the body; other read errors (a timeout, the
// server's load shedding) pass through.
func truncated(err error, msg string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return incompleteBody("%s", msg)
	}
	return bodyError(err)
}

// header reads a chunk header; last is true for the final, empty chunk.
func (c *chunkedReader) header() (last bool, err error) {
	line, err := readLine(c.br, maxChunkHeaderLine)
	if err != nil {
		return false, err
	}
	sizeHex, ext, _ := strings.Cut(line, ";")
	if !isHex(sizeHex) || len(sizeHex) > 10 {
		return false, incompleteBody("The aws-chunked body has an invalid chunk size %q", sizeHex)
	}
	size, _ := strconv.ParseInt(sizeHex, 16, 64)
	if c.total+size > c.decodedLen {
		return false, incompleteBody("The aws-chunked body holds more than x-amz-decoded-content-length (%d) bytes", c.decodedLen)
	}
	if c.signer != nil {
		sig, ok := strings.CutPrefix(ext, chunkSignaturePrefix)
		if !ok || len(sig) != 64 || !isHex(sig) {
			return false, incompleteBody("The chunk after %d bytes has no valid chunk-signature", c.total)
		}
		c.sig, c.hash = strings.ToLower(sig), sha256.New()
	}
	if size == 0 {
		return true, c.checkSignature()
	}
	c.left = size
	return false, nil
}

// endChunk checks the chunk's signature and the CRLF that closes it.
func (c *chunkedReader) endChunk() error {
	if err := c.checkSignature(); err != nil {
		return err
	}
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
		return truncated(err, "The aws-chunked body ends after a chunk")
	}
	if crlf != [2]byte{'\r', '\n'} {
		return incompleteBody("The chunk ending after %d bytes is not followed by CRLF", c.total)
	}
	return nil
}

func (c *chunkedReader) checkSignature() error {
	if c.signer == nil {
		return nil
	}
	sum := emptySum
	if c.hash != nil {
		sum = c.hash.Sum(nil)
	}
	if want := c.signer.next(sum); !hmac.Equal([]byte(want), []byte(c.sig)) {
		return wire.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", msgChunkSignatureDiffer)
	}
	return nil
}

var emptySum = func() []byte { s := sha256.Sum256(nil); return s[:] }()

// finish reads the trailers after the final chunk and checks that the body ends
// there and held the declared length; it returns io.EOF when all is well.
func (c *chunkedReader) finish() error {
	if err := c.readTrailers(); err != nil {
		return err
	}
	if c.needTrailerSig && !c.signer.trailerSigned {
		return incompleteBody("The aws-chunked body has no x-amz-trailer-signature")
	}
	for _, name := range strings.Split(c.announced, ",") {
		if name = strings.ToLower(strings.TrimSpace(name)); name == "" {
			continue
		}
		if _, ok := c.trailers[name]; !ok {
			return incompleteBody("The trailer %s named by x-amz-trailer is missing from the body", name)
		}
	}
	if n, _ := c.br.Read(make([]byte, 1)); n > 0 {
		return incompleteBody("The aws-chunked body has bytes after its end")
	}
	if c.total != c.decodedLen {
		return incompleteBody("You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header")
	}
	return io.EOF
}

func (c *chunkedReader) readTrailers() error {
	var canonical strings.Builder
	for n := 0; ; n++ {
		line, err := readLine(c.br, maxTrailerLine)
		if errors.Is(err, errNoLine) {
			return nil // the closing empty line is optional, as it always was here
		}
		if err != nil || line == "" {
			return err
		}
		if n > 64 {
			return incompleteBody("The aws-chunked body has too many trailers")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return incompleteBody("The aws-chunked trailer %q is not name:value", line)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if name == trailerSignatureHeader {
			if c.signer == nil {
				continue
			}
			if want := c.signer.trailer(canonical.String()); !hmac.Equal([]byte(want), []byte(strings.ToLower(strings.TrimSpace(value)))) {
				return wire.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", msgChunkSignatureDiffer)
			}
			c.signer.trailerSigned = true
			continue
		}
		if c.trailers == nil {
			c.trailers = map[string]string{}
		}
		c.trailers[name] = strings.TrimSpace(value)
		canonical.WriteString(line)
		canonical.WriteString("\n")
	}
}

// errNoLine is the body's end where a line should start.
var errNoLine = incompleteBody("The aws-chunked body ends where a chunk header or trailer was expected")

// readLine reads one CRLF-terminated line of at most max bytes.
func readLine(br *bufio.Reader, max int) (string, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || len(line) > max+2:
		return "", incompleteBody("The aws-chunked body has a line longer than %d bytes", max)
	case len(line) == 0 && errors.Is(err, io.EOF):
		return "", errNoLine
	case err != nil:
		return "", truncated(err, "The aws-chunked body ends inside a line")
	case len(line) < 2 || line[len(line)-2] != '\r':
		return "", incompleteBody("The aws-chunked body has a line not ended by CRLF")
	}
	return string(line[:len(line)-2]), nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
