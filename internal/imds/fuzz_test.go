package imds

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzServe: any method, path and headers get one of IMDS's statuses, never a
// panic or a 5xx (with a healthy server behind), and a listing's entries resolve.
func FuzzServe(f *testing.F) {
	for _, s := range []string{"/", "/latest", "/latest/meta-data/", "/latest/meta-data/iam/security-credentials/web-role",
		"/latest/api/token", "//", "/latest/meta-data/../", "/latest/meta-data/placement//region", "/\x00", "/latest/dynamic/instance-identity/document/"} {
		f.Add("GET", s, "", "")
		f.Add("PUT", s, "", "21600")
	}
	f.Add("GET", "/latest/meta-data/instance-id", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "")
	c := newClock()
	api := newFakeAPI(f, c.Now)
	srv, err := New(f.Context(), Config{Backend: api.client(), InstanceID: testInstance, Now: c.Now})
	if err != nil {
		f.Fatal(err)
	}
	valid := srv.tokens.issue(c.Now(), 3600e9)
	f.Fuzz(func(t *testing.T, method, path, token, ttl string) {
		req := &http.Request{Method: method, URL: &url.URL{Path: path}, Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		req = req.WithContext(t.Context())
		if token != "" {
			req.Header.Set(TokenHeader, token)
		}
		if ttl != "" {
			req.Header.Set(TokenTTLHeader, ttl)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 401, 403, 404, 405:
		default:
			t.Fatalf("%s %q: status %d", method, path, rec.Code)
		}
		if token != "" && token != valid && rec.Code == 200 && path != TokenPath {
			t.Fatalf("%s %q: forged token %q accepted", method, path, token)
		}
		if rec.Code == 200 && (method == "GET") && strings.HasSuffix(path, "/") && path != "/" {
			for entry := range strings.SplitSeq(rec.Body.String(), "\n") {
				if resolve(srv.snap.Load().tree, path+entry) == nil {
					t.Fatalf("%q lists %q, which does not resolve", path, entry)
				}
			}
		}
	})
}
