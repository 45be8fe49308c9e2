package sigv4

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// suiteDir is AWS's SigV4 test suite (Apache-2.0, its LICENSE and NOTICE beside it),
// kept in the repository so that every clone runs it.
const suiteDir = "testdata/aws-sigv4-test-suite"

type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	ExpirationInSeconds int       `json:"expiration_in_seconds"`
	Normalize           bool      `json:"normalize"`
	Region              string    `json:"region"`
	Service             string    `json:"service"`
	SignBody            bool      `json:"sign_body"`
	Timestamp           time.Time `json:"timestamp"`
	OmitSessionToken    bool      `json:"omit_session_token"`
}

// parseRawRequest is a tolerant HTTP/1.1 request parser for the suite's files:
// the request target may contain spaces and raw UTF-8, header lines may have no
// space after the colon, and a line starting with whitespace continues the
// previous header's value. Like net/http, it moves Host to r.Host and keeps the
// path exactly as written in URL.RawPath.
func parseRawRequest(t *testing.T, data []byte) (*http.Request, []byte) {
	t.Helper()
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	head, body, _ := strings.Cut(text, "\n\n")
	lines := strings.Split(head, "\n")
	reqLine := lines[0]
	sp1 := strings.IndexByte(reqLine, ' ')
	sp2 := strings.LastIndexByte(reqLine, ' ')
	if sp1 < 0 || sp2 <= sp1 || !strings.HasPrefix(reqLine[sp2+1:], "HTTP/") {
		t.Fatalf("bad request line %q", reqLine)
	}
	method, target := reqLine[:sp1], reqLine[sp1+1:sp2]
	rawPath, rawQuery, _ := strings.Cut(target, "?")
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		path = rawPath
	}
	r := &http.Request{
		Method: method,
		URL:    &url.URL{Path: path, RawPath: rawPath, RawQuery: rawQuery},
		Header: make(http.Header),
		Proto:  "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}
	var lastKey string
	for _, line := range lines[1:] {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			vals := r.Header[lastKey]
			vals[len(vals)-1] += "\n" + line
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("bad header line %q", line)
		}
		lastKey = textproto.CanonicalMIMEHeaderKey(k)
		r.Header[lastKey] = append(r.Header[lastKey], strings.TrimLeft(v, " \t"))
	}
	r.Host = r.Header.Get("Host")
	delete(r.Header, "Host")
	if cl := r.Header.Get("Content-Length"); cl != "" {
		r.ContentLength, _ = strconv.ParseInt(cl, 10, 64)
	}
	r.Body = io.NopCloser(strings.NewReader(body))
	return r, []byte(body)
}

func readCase(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hasFile(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

func signatureOf(secret, date, region, service, sts string) string {
	k := deriveKey(secret, date, region, service)
	m := hmacSHA256(k[:], sts)
	return hex.EncodeToString(m[:])
}

// canonicalForCase computes the canonical request with the suite's normalize flag.
func canonicalForCase(ctx *suiteContext, r *http.Request, signed []string, payload string, presigned bool) string {
	if ctx.Normalize {
		return CanonicalRequest(r, signed, payload, presigned)
	}
	return CanonicalRequestS3(r, signed, payload, presigned)
}

// verifyForCase verifies with Verify, or for unnormalized cases with S3's path
// rule (Verify picks the path rule by service and the suite's service is "service").
func verifyForCase(ctx *suiteContext, r *http.Request, body []byte, p *Parsed) error {
	if ctx.Normalize {
		return Verify(r, body, p, ctx.Credentials.SecretAccessKey, ctx.Timestamp)
	}
	return verify(r, body, p, ctx.Credentials.SecretAccessKey, ctx.Timestamp, nil, mode{path: pathAsSent})
}

func TestConformance(t *testing.T) {
	entries, err := os.ReadDir(suiteDir)
	if err != nil {
		t.Fatalf("suite not available: %v", err)
	}
	var cases, passed, checks atomic.Int64
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(suiteDir, e.Name())
		if !hasFile(dir, "context.json") {
			continue
		}
		cases.Add(1)
		ok := t.Run(e.Name(), func(t *testing.T) {
			var ctx suiteContext
			if err := json.Unmarshal([]byte(readCase(t, dir, "context.json")), &ctx); err != nil {
				t.Fatal(err)
			}
			ts := ctx.Timestamp.UTC()
			date := ts.Format(DateFormat)
			scope := Scope(date, ctx.Region, ctx.Service)
			secret := ctx.Credentials.SecretAccessKey
			check := func(what, got, want string) {
				t.Helper()
				checks.Add(1)
				if got != want {
					t.Errorf("%s:\n got %q\nwant %q", what, got, want)
				}
			}

			// Header form, signing request.txt as the suite's signer does.
			if hasFile(dir, "header-canonical-request.txt") {
				r, body := parseRawRequest(t, []byte(readCase(t, dir, "request.txt")))
				r.Header.Set("X-Amz-Date", ts.Format(TimeFormat))
				if ctx.Credentials.Token != "" && !ctx.OmitSessionToken {
					r.Header.Set("X-Amz-Security-Token", ctx.Credentials.Token)
				}
				payload := hexSHA256(body)
				if ctx.SignBody {
					r.Header.Set("X-Amz-Content-Sha256", payload)
				}
				signed := []string{"host"}
				for k := range r.Header {
					signed = append(signed, strings.ToLower(k))
				}
				slices.Sort(signed)
				cr := canonicalForCase(&ctx, r, signed, payload, false)
				check("header canonical request", cr, readCase(t, dir, "header-canonical-request.txt"))
				sts := StringToSign(ts, scope, cr)
				check("header string to sign", sts, readCase(t, dir, "header-string-to-sign.txt"))
				check("header signature", signatureOf(secret, date, ctx.Region, ctx.Service, sts),
					strings.TrimSpace(readCase(t, dir, "header-signature.txt")))
			}
			// Header form, verifying the suite's signed request.
			if hasFile(dir, "header-signed-request.txt") {
				r, body := parseRawRequest(t, []byte(readCase(t, dir, "header-signed-request.txt")))
				p, err := Parse(r)
				if err != nil || p == nil {
					t.Fatalf("Parse(header-signed-request): %v, %v", p, err)
				}
				check("header parsed signature", p.Signature, strings.TrimSpace(readCase(t, dir, "header-signature.txt")))
				check("header parsed scope", p.Scope(), scope)
				checks.Add(1)
				if err := verifyForCase(&ctx, r, body, p); err != nil {
					t.Errorf("Verify(header-signed-request): %v\n%s", err, messageOf(err))
				}
			}

			// Query form, presigning request.txt as the suite's signer does.
			if hasFile(dir, "query-canonical-request.txt") {
				r, body := parseRawRequest(t, []byte(readCase(t, dir, "request.txt")))
				signed := []string{"host"}
				for k := range r.Header {
					signed = append(signed, strings.ToLower(k))
				}
				slices.Sort(signed)
				q := []string{
					"X-Amz-Algorithm=" + Algorithm,
					"X-Amz-Credential=" + escape(ctx.Credentials.AccessKeyID+"/"+scope),
					"X-Amz-Date=" + ts.Format(TimeFormat),
					"X-Amz-Expires=" + strconv.Itoa(ctx.ExpirationInSeconds),
					"X-Amz-SignedHeaders=" + escape(strings.Join(signed, ";")),
				}
				if ctx.Credentials.Token != "" && !ctx.OmitSessionToken {
					q = append(q, "X-Amz-Security-Token="+escape(ctx.Credentials.Token))
				}
				if r.URL.RawQuery != "" {
					q = append([]string{r.URL.RawQuery}, q...)
				}
				r.URL.RawQuery = strings.Join(q, "&")
				cr := canonicalForCase(&ctx, r, signed, hexSHA256(body), true)
				check("query canonical request", cr, readCase(t, dir, "query-canonical-request.txt"))
				sts := StringToSign(ts, scope, cr)
				check("query string to sign", sts, readCase(t, dir, "query-string-to-sign.txt"))
				check("query signature", signatureOf(secret, date, ctx.Region, ctx.Service, sts),
					strings.TrimSpace(readCase(t, dir, "query-signature.txt")))
			}
			// Query form, verifying the suite's presigned request.
			if hasFile(dir, "query-signed-request.txt") {
				r, body := parseRawRequest(t, []byte(readCase(t, dir, "query-signed-request.txt")))
				p, err := Parse(r)
				if err != nil || p == nil {
					t.Fatalf("Parse(query-signed-request): %v, %v", p, err)
				}
				if !p.Presigned || p.Expires != time.Duration(ctx.ExpirationInSeconds)*time.Second {
					t.Errorf("parsed presigned=%v expires=%v", p.Presigned, p.Expires)
				}
				check("query parsed signature", p.Signature, strings.TrimSpace(readCase(t, dir, "query-signature.txt")))
				checks.Add(1)
				if err := verifyForCase(&ctx, r, body, p); err != nil {
					t.Errorf("Verify(query-signed-request): %v\n%s", err, messageOf(err))
				}
			}
		})
		if ok {
			passed.Add(1)
		}
	}
	t.Logf("aws-sigv4-test-suite: %d/%d cases passed (%d checks)", passed.Load(), cases.Load(), checks.Load())
	if cases.Load() == 0 {
		t.Fatal("no cases found")
	}
}

func messageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

// TestConformanceVerifyRejectsTampering re-runs every suite request through
// Verify with one byte of the signature changed: each must now fail.
func TestConformanceVerifyRejectsTampering(t *testing.T) {
	entries, err := os.ReadDir(suiteDir)
	if err != nil {
		t.Fatalf("suite not available: %v", err)
	}
	for _, e := range entries {
		dir := filepath.Join(suiteDir, e.Name())
		if !e.IsDir() || !hasFile(dir, "context.json") {
			continue
		}
		var ctx suiteContext
		if err := json.Unmarshal([]byte(readCase(t, dir, "context.json")), &ctx); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"header-signed-request.txt", "query-signed-request.txt"} {
			if !hasFile(dir, f) {
				continue
			}
			r, body := parseRawRequest(t, []byte(readCase(t, dir, f)))
			p, err := Parse(r)
			if err != nil {
				t.Fatalf("%s/%s: %v", e.Name(), f, err)
			}
			sig := []byte(p.Signature)
			if sig[10] == '0' {
				sig[10] = '1'
			} else {
				sig[10] = '0'
			}
			p.Signature = string(sig)
			if err := verifyForCase(&ctx, r, body, p); err == nil {
				t.Errorf("%s/%s: tampered signature verified", e.Name(), f)
			}
		}
	}
}
