package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/iamlocal/iamlocal/internal/outbound"
	"github.com/iamlocal/iamlocal/internal/service/ec2"
)

// InternalTokenFile is the file in the data directory that holds the secret of the
// internal API (/_iamlocal/ec2/…, /_iamlocal/roles/…). Clients (`iamlocal imds`)
// read it there and send it as "Authorization: Bearer TOKEN" (docs/imds.md).
const InternalTokenFile = "internal-api-token"

// InternalToken returns the internal API's secret kept in dataDir, making it on
// first use: 32 random bytes, hex, in a 0600 file. Concurrent first starts agree on
// one token (the file is created exclusively).
func InternalToken(dataDir string) (string, error) {
	path := filepath.Join(dataDir, InternalTokenFile)
	tok, err := readToken(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return tok, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("internal API token: %w", err)
	}
	tok = hex.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readToken(path) // another process made it first
	}
	if err != nil {
		return "", fmt.Errorf("internal API token: %w", err)
	}
	_, werr := io.WriteString(f, tok+"\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return "", fmt.Errorf("internal API token: %w", werr)
	}
	return tok, nil
}

func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("internal API token: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if len(tok) < 32 {
		return "", fmt.Errorf("internal API token: %s holds no token (delete it to make a new one)", path)
	}
	return tok, nil
}

// serveIamlocal answers iamlocal's own paths (/_iamlocal/…): health, and the internal
// API of `iamlocal imds`. Never through a VPC endpoint's listener (an endpoint fronts
// AWS APIs only); never under a Host other than a loopback address or localhost
// (DNS rebinding: a web page on a name that resolves to 127.0.0.1 would otherwise
// reach it); and the internal API only from loopback clients sending the secret.
func (s *Server) serveIamlocal(w http.ResponseWriter, r *http.Request) {
	if id, _ := r.Context().Value(endpointKey{}).(string); id != "" {
		internalError(w, http.StatusNotFound, "NotFound", "No such resource: "+r.URL.Path)
		return
	}
	if !loopbackHost(r.Host) {
		// 403 rather than 421 Misdirected Request: the refusal is a policy, not a
		// connection reaching the wrong server, and HTTP clients may retry a 421 on
		// another connection by themselves.
		internalError(w, http.StatusForbidden, "AccessDenied", "iamlocal's own paths answer only under a loopback Host (localhost, 127.0.0.1, [::1])")
		return
	}
	path := r.URL.Path
	switch {
	case path == "/_iamlocal/health":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	case strings.HasPrefix(path, "/_iamlocal/oidc/"):
		s.serveOIDC(w, r) // oidc.go: public issuer documents, SigV4-signed mint and import
	case strings.HasPrefix(path, outbound.PathPrefix):
		// Outbound web identity federation's discovery documents: public, as AWS's are.
		outbound.Serve(s.env.Store, w, r)
	case strings.HasPrefix(path, "/_iamlocal/ec2/") || strings.HasPrefix(path, "/_iamlocal/roles/"):
		if !isLoopback(r) {
			internalError(w, http.StatusForbidden, "AccessDenied", "iamlocal's internal API answers loopback clients only")
			return
		}
		if !s.internalAuthorized(r) {
			internalError(w, http.StatusForbidden, "AccessDenied",
				"iamlocal's internal API needs the secret of DATA/"+InternalTokenFile+" as Authorization: Bearer TOKEN")
			return
		}
		ec2.ServeInternal(s.env, w, r)
	default:
		internalError(w, http.StatusNotFound, "NotFound", "No such resource: "+path)
	}
}

// internalAuthorized reports whether the request carries the internal API's secret.
func (s *Server) internalAuthorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || s.internalToken == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.internalToken)) == 1
}

// loopbackHost reports whether a Host header names this machine by a loopback
// address or localhost, with an optional port.
func loopbackHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func internalError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	body, _ := json.Marshal(struct{ Code, Message string }{code, msg})
	w.Write(body)
}
