package s3_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv4"
)

// streamSigner signs chunks the way SDKs sign STREAMING-AWS4-HMAC-SHA256-PAYLOAD.
type streamSigner struct {
	key             []byte
	ts, scope, prev string
}

func (s *streamSigner) sign(sts string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(sts))
	s.prev = hex.EncodeToString(m.Sum(nil))
	return s.prev
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (s *streamSigner) chunk(data []byte) string {
	return s.sign("AWS4-HMAC-SHA256-PAYLOAD\n" + s.ts + "\n" + s.scope + "\n" + s.prev + "\n" + hexSum(nil) + "\n" + hexSum(data))
}

func (s *streamSigner) trailer(canonical string) string {
	return s.sign("AWS4-HMAC-SHA256-TRAILER\n" + s.ts + "\n" + s.scope + "\n" + s.prev + "\n" + hexSum([]byte(canonical)))
}

func crc32b64(data []byte) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], crc32.ChecksumIEEE(data))
	return base64.StdEncoding.EncodeToString(b[:])
}

// streamingPut sends a PUT whose body is aws-chunked: signed chunks (mode
// "signed" or "signed-trailer") or unsigned with a trailer ("unsigned-trailer").
// tamper changes the encoded body after signing.
func streamingPut(t *testing.T, f *fixture, path, mode string, chunks [][]byte, trailer [2]string, tamper func([]byte) []byte) *http.Response {
	t.Helper()
	c := servertest.Root
	total := 0
	for _, ch := range chunks {
		total += len(ch)
	}
	r, _ := http.NewRequest("PUT", f.s.URL+path, nil)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(total))
	switch mode {
	case "signed":
		r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	case "signed-trailer":
		r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
		r.Header.Set("X-Amz-Trailer", trailer[0])
	case "unsigned-trailer":
		r.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		r.Header.Set("X-Amz-Trailer", trailer[0])
	}
	now := time.Now().UTC()
	sigv4.Sign(r, nil, c.ID, c.Secret, "us-east-1", "s3", now)
	auth := r.Header.Get("Authorization")
	seed := auth[strings.Index(auth, "Signature=")+len("Signature="):]
	date := now.Format("20060102")
	s := &streamSigner{key: sigv4.SigningKey(c.Secret, date, "us-east-1", "s3"), ts: now.Format(sigv4.TimeFormat),
		scope: date + "/us-east-1/s3/aws4_request", prev: seed}
	var b bytes.Buffer
	signed := mode != "unsigned-trailer"
	for _, ch := range append(chunks, nil) {
		if signed {
			fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", len(ch), s.chunk(ch))
		} else {
			fmt.Fprintf(&b, "%x\r\n", len(ch))
		}
		if len(ch) > 0 {
			b.Write(ch)
			b.WriteString("\r\n")
		}
	}
	if trailer[0] != "" {
		line := trailer[0] + ":" + trailer[1]
		b.WriteString(line + "\r\n")
		if mode == "signed-trailer" {
			b.WriteString("x-amz-trailer-signature:" + s.trailer(line+"\n") + "\r\n")
		}
	}
	b.WriteString("\r\n")
	body := b.Bytes()
	if tamper != nil {
		body = tamper(body)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestStreamingUploads(t *testing.T) {
	f := start(t)
	f.createBucket(f.root, "stream")
	chunks := [][]byte{randomBytes(64<<10, 7), randomBytes(64<<10, 8), []byte("last bit")}
	whole := bytes.Join(chunks, nil)
	check := func(what, key string, want []byte) {
		t.Helper()
		got, err := get(f.root, "stream", key)
		if err != nil || got != string(want) {
			t.Fatalf("%s: %d bytes, %v", what, len(got), err)
		}
	}

	resp := streamingPut(t, f, "/stream/signed", "signed", chunks, [2]string{}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("signed chunks: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if resp.Header.Get("ETag") != `"`+md5hex(string(whole))+`"` {
		t.Fatalf("ETag %s", resp.Header.Get("ETag"))
	}
	check("signed chunks", "signed", whole)

	crc := crc32b64(whole)
	resp = streamingPut(t, f, "/stream/signed-trailer", "signed-trailer", chunks, [2]string{"x-amz-checksum-crc32", crc}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("signed chunks with a trailer: %d %s", resp.StatusCode, readBody(t, resp))
	}
	check("signed trailer", "signed-trailer", whole)

	resp = streamingPut(t, f, "/stream/unsigned", "unsigned-trailer", chunks, [2]string{"x-amz-checksum-crc32", crc}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("unsigned chunks with a trailer: %d %s", resp.StatusCode, readBody(t, resp))
	}
	check("unsigned trailer", "unsigned", whole)

	// Failures change nothing.
	files := f.blobFiles()
	for _, c := range []struct {
		name, mode string
		trailer    [2]string
		tamper     func([]byte) []byte
		status     int
		code       string
	}{
		{"changed data", "signed", [2]string{}, func(b []byte) []byte { b[200] ^= 1; return b }, 403, "SignatureDoesNotMatch"},
		{"bad trailer signature", "signed-trailer", [2]string{"x-amz-checksum-crc32", crc}, func(b []byte) []byte {
			i := bytes.LastIndex(b, []byte("x-amz-trailer-signature:")) + len("x-amz-trailer-signature:")
			b[i] = 'x'
			return b
		}, 403, "SignatureDoesNotMatch"},
		{"wrong checksum", "unsigned-trailer", [2]string{"x-amz-checksum-crc32", "AAAAAA=="}, nil, 400, "BadDigest"},
		{"missing trailer", "unsigned-trailer", [2]string{}, func(b []byte) []byte { return b }, 400, "IncompleteBody"},
		{"truncated", "signed", [2]string{}, func(b []byte) []byte { return b[:len(b)-200] }, 400, "IncompleteBody"},
		{"bad size", "signed", [2]string{}, func(b []byte) []byte { b[0] = 'z'; return b }, 400, "IncompleteBody"},
		{"no CRLF after data", "unsigned-trailer", [2]string{"x-amz-checksum-crc32", crc}, func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n")) + 2 + 64<<10
			return append(b[:i:i], b[i+2:]...)
		}, 400, "IncompleteBody"},
		{"trailing garbage", "signed", [2]string{}, func(b []byte) []byte { return append(b, "junk"...) }, 400, "IncompleteBody"},
	} {
		key := "/stream/fail"
		var resp *http.Response
		if c.name == "missing trailer" {
			// x-amz-trailer names a trailer the body does not carry.
			resp = streamingPutHeader(t, f, key, chunks)
		} else {
			resp = streamingPut(t, f, key, c.mode, chunks, c.trailer, c.tamper)
		}
		body := readBody(t, resp)
		if resp.StatusCode != c.status || !strings.Contains(body, "<Code>"+c.code+"</Code>") {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
	}
	if _, err := get(f.root, "stream", "fail"); apiCode(err) != "NoSuchKey" {
		t.Fatalf("a failed upload left an object: %v", err)
	}
	if n := f.blobFiles(); n != files {
		t.Fatalf("failed uploads left %d files", n-files)
	}

	// UNSIGNED-PAYLOAD, as the CLI sends over https, and a CRC64NVME header checksum
	// (AWS's check value for "123456789" is 0xAE8B14860A799888).
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], 0xAE8B14860A799888)
	resp = f.raw(&servertest.Root, "PUT", "/stream/plain", []byte("123456789"), map[string]string{
		"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD", "X-Amz-Checksum-Crc64nvme": base64.StdEncoding.EncodeToString(sum[:])})
	if resp.StatusCode != 200 {
		t.Fatalf("UNSIGNED-PAYLOAD: %d %s", resp.StatusCode, readBody(t, resp))
	}
	check("unsigned payload", "plain", []byte("123456789"))
}

// streamingPutHeader sends unsigned chunks with x-amz-trailer but no trailer.
func streamingPutHeader(t *testing.T, f *fixture, path string, chunks [][]byte) *http.Response {
	t.Helper()
	total := 0
	var b bytes.Buffer
	for _, ch := range chunks {
		total += len(ch)
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(ch), ch)
	}
	b.WriteString("0\r\n\r\n")
	return f.raw(&servertest.Root, "PUT", path, b.Bytes(), map[string]string{"Content-Encoding": "aws-chunked",
		"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "X-Amz-Decoded-Content-Length": strconv.Itoa(total),
		"X-Amz-Trailer": "x-amz-checksum-crc32"})
}
