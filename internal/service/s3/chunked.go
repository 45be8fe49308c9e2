package s3

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
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

// payload returns the content a PUT carries: the body as read, or the decoding of
// its aws-chunked framing (streaming SigV4, with each chunk's signature verified, or
// unsigned with trailing checksums). It then checks Content-MD5 and the
// x-amz-checksum-* values, sent as headers or trailers.
func (rq *request) payload() ([]byte, error) {
	r := rq.r
	sha := r.Header.Get("X-Amz-Content-Sha256")
	data := rq.body
	var trailers map[string]string
	if strings.HasPrefix(sha, "STREAMING-") || hasToken(r.Header.Get("Content-Encoding"), "aws-chunked") {
		dl := r.Header.Get("X-Amz-Decoded-Content-Length")
		n, err := strconv.ParseInt(dl, 10, 64)
		if dl == "" || err != nil || n < 0 {
			return nil, wire.Errorf(http.StatusLengthRequired, "MissingContentLength",
				"You must provide the x-amz-decoded-content-length HTTP header with an aws-chunked body.")
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
		if data, trailers, err = decodeChunked(rq.body, n, signer); err != nil {
			return nil, err
		}
		if signer != nil && sha == streamingSignedTrailer && !signer.trailerSigned {
			return nil, incompleteBody("The aws-chunked body has no x-amz-trailer-signature")
		}
		if want := r.Header.Get("X-Amz-Trailer"); want != "" {
			for _, name := range strings.Split(want, ",") {
				if _, ok := trailers[strings.ToLower(strings.TrimSpace(name))]; !ok {
					return nil, incompleteBody("The trailer %s named by x-amz-trailer is missing from the body", strings.TrimSpace(name))
				}
			}
		}
	}
	if err := checkDigests(r.Header, trailers, data); err != nil {
		return nil, err
	}
	return data, nil
}

// checkDigests verifies Content-MD5 and the flexible checksums.
func checkDigests(h http.Header, trailers map[string]string, data []byte) error {
	if v := h.Get("Content-Md5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != md5.Size {
			return wire.Errorf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
		}
		if got := md5.Sum(data); !bytes.Equal(got[:], want) {
			return wire.Errorf(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	for _, alg := range checksumAlgorithms {
		name := "x-amz-checksum-" + alg.name
		v := h.Get(name)
		if t, ok := trailers[name]; ok {
			v = t
		}
		if v == "" {
			continue
		}
		want, err := base64.StdEncoding.DecodeString(v)
		hs := alg.new()
		if err != nil || len(want) != hs.Size() {
			return wire.Errorf(http.StatusBadRequest, "InvalidRequest", "Value for %s header is invalid.", name)
		}
		hs.Write(data)
		if !bytes.Equal(hs.Sum(nil), want) {
			return wire.Errorf(http.StatusBadRequest, "BadDigest", "The %s you specified did not match the calculated checksum.", strings.ToUpper(alg.name))
		}
	}
	return nil
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

// next returns the signature the next chunk must carry.
func (s *chunkSigner) next(chunk []byte) string {
	sum := sha256.Sum256(chunk)
	return s.sign("AWS4-HMAC-SHA256-PAYLOAD\n" + s.timestamp + "\n" + s.scope + "\n" + s.prev + "\n" +
		emptySHA256 + "\n" + hex.EncodeToString(sum[:]))
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

// cutLine returns the line of b starting at pos, up to CRLF, and the position after it.
func cutLine(b []byte, pos, max int) (string, int, bool) {
	rest := b[pos:]
	if len(rest) > max+2 {
		rest = rest[:max+2]
	}
	i := bytes.Index(rest, []byte("\r\n"))
	if i < 0 {
		return "", 0, false
	}
	return string(rest[:i]), pos + i + 2, true
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

// decodeChunked decodes an aws-chunked body:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n … 0[;chunk-signature=sig]\r\n
//	[trailer-name:value\r\n …] [x-amz-trailer-signature:sig\r\n] \r\n
//
// It verifies chunk (and trailer) signatures when signer is set, and returns the
// data and the trailers (lower-case names).
func decodeChunked(body []byte, decodedLen int64, signer *chunkSigner) ([]byte, map[string]string, error) {
	if decodedLen > int64(len(body)) {
		return nil, nil, incompleteBody("You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header")
	}
	out := make([]byte, 0, decodedLen)
	pos := 0
	for {
		line, next, ok := cutLine(body, pos, maxChunkHeaderLine)
		if !ok {
			return nil, nil, incompleteBody("The aws-chunked body ends or is malformed in a chunk header at byte %d", pos)
		}
		sizeHex, ext, _ := strings.Cut(line, ";")
		if !isHex(sizeHex) || len(sizeHex) > 10 {
			return nil, nil, incompleteBody("The aws-chunked body has an invalid chunk size %q at byte %d", sizeHex, pos)
		}
		size, _ := strconv.ParseInt(sizeHex, 16, 64)
		pos = next
		if size > int64(len(body)-pos) {
			return nil, nil, incompleteBody("The aws-chunked body ends inside a chunk of %d bytes", size)
		}
		data := body[pos : pos+int(size)]
		pos += int(size)
		if signer != nil {
			sig, ok := strings.CutPrefix(ext, chunkSignaturePrefix)
			if !ok || len(sig) != 64 || !isHex(sig) {
				return nil, nil, incompleteBody("The chunk at byte %d has no valid chunk-signature", next-len(line)-2)
			}
			if want := signer.next(data); !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
				return nil, nil, wire.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", msgChunkSignatureDiffer)
			}
		}
		if size == 0 {
			break
		}
		if int64(len(out))+size > decodedLen {
			return nil, nil, incompleteBody("The aws-chunked body holds more than x-amz-decoded-content-length (%d) bytes", decodedLen)
		}
		out = append(out, data...)
		if !bytes.HasPrefix(body[pos:], []byte("\r\n")) {
			return nil, nil, incompleteBody("The chunk ending at byte %d is not followed by CRLF", pos)
		}
		pos += 2
	}
	var trailers map[string]string
	var canonical strings.Builder
	for pos < len(body) {
		line, next, ok := cutLine(body, pos, maxTrailerLine)
		if !ok {
			return nil, nil, incompleteBody("The aws-chunked body has a malformed trailer at byte %d", pos)
		}
		pos = next
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, nil, incompleteBody("The aws-chunked trailer %q is not name:value", line)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if name == trailerSignatureHeader {
			if signer == nil {
				continue
			}
			if want := signer.trailer(canonical.String()); !hmac.Equal([]byte(want), []byte(strings.ToLower(strings.TrimSpace(value)))) {
				return nil, nil, wire.Errorf(http.StatusForbidden, "SignatureDoesNotMatch", msgChunkSignatureDiffer)
			}
			signer.trailerSigned = true
			continue
		}
		if trailers == nil {
			trailers = map[string]string{}
		}
		trailers[name] = strings.TrimSpace(value)
		canonical.WriteString(line)
		canonical.WriteString("\n")
	}
	if pos != len(body) {
		return nil, nil, incompleteBody("The aws-chunked body has %d bytes after its end", len(body)-pos)
	}
	if int64(len(out)) != decodedLen {
		return nil, nil, incompleteBody("You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header")
	}
	return out, trailers, nil
}
