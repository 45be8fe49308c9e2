package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	s3plane "github.com/iamlocal/iamlocal/internal/service/s3"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Limits bound what requests may cost the server, so that no client — signed or
// not — can make it grow without bound or hold a connection forever.
//
// Body deadline: a request's body must arrive within BodyBase + length/MinRate
// (length as declared, or the cap for a body of unknown length), and no read may
// wait longer than BodyBase for a byte. With the defaults a 64 MiB upload has
// 20 s + 1024 s; a stall anywhere is noticed within 20 s. S3 answers RequestTimeout
// (400) and the connection is closed. Query and JSON bodies (at most 1 MiB) get the
// shorter QueryBodyBase, so half-sent bodies are dropped within seconds.
type Limits struct {
	BodyBase      time.Duration // S3: grace and longest silence on a body (20 s)
	QueryBodyBase time.Duration // Query and JSON APIs: the same (5 s)
	MinRate       int64         // bytes per second a body must at least arrive at (64 KiB/s)

	// Admission: past either bound a request is answered 503 (SlowDown for S3,
	// ServiceUnavailable for the Query and JSON APIs) at once, as AWS sheds load.
	MaxInFlight  int64 // requests being served (256)
	MaxBodyBytes int64 // declared body bytes being read, all requests together (256 MiB)
}

// DefaultLimits suit a laptop or a CI runner.
func DefaultLimits() Limits {
	return Limits{BodyBase: 20 * time.Second, QueryBodyBase: 5 * time.Second, MinRate: 64 << 10,
		MaxInFlight: 256, MaxBodyBytes: 256 << 20}
}

// SetLimits replaces the server's limits (tests set small ones on a running server).
func (s *Server) SetLimits(l Limits) { s.inFlight.limits.Store(&l) }

// defaults are the limits of a server given none (read only).
var defaults = DefaultLimits()

// lim returns the limits in force.
func (s *Server) lim() *Limits {
	if l := s.inFlight.limits.Load(); l != nil {
		return l
	}
	return &defaults
}

// HTTPServer is an http.Server for h with the timeouts every listener needs: the
// headers within 10 s, idle keep-alive connections closed after 120 s. Bodies get
// their deadlines per request from the server itself (Limits).
func HTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
}

// admission counts what is in flight, against the limits.
type admission struct {
	limits    atomic.Pointer[Limits] // nil: DefaultLimits
	requests  atomic.Int64
	bodyBytes atomic.Int64
}

// enter admits a request; false means the server is at its bound.
func (s *Server) enter() bool {
	if s.inFlight.requests.Add(1) > s.lim().MaxInFlight {
		s.inFlight.requests.Add(-1)
		return false
	}
	return true
}

func (s *Server) leave() { s.inFlight.requests.Add(-1) }

// reserve takes n body bytes from the budget.
func (s *Server) reserve(n int64) bool {
	if s.inFlight.bodyBytes.Add(n) > s.lim().MaxBodyBytes {
		s.inFlight.bodyBytes.Add(-n)
		return false
	}
	return true
}

func slowDown(s3 bool) *wire.Error {
	if s3 {
		return wire.Errorf(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	}
	return wire.Errorf(http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unable to handle request.")
}

func requestTimeout() *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
}

// guardBody puts the body of r under the limits: a deadline for the whole body and
// for each read, and a share of the byte budget taken at the first read (so a
// request refused before its body is read costs none). Its errors are wire errors
// (RequestTimeout, SlowDown) the handlers pass on. It returns the release to call
// when the request is done. The request returned is a shallow copy: net/http must
// keep seeing its own body, to know what is left unread after the handler.
func (s *Server) guardBody(w http.ResponseWriter, r *http.Request, s3 bool, max int64) (*http.Request, func()) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return r, func() {}
	}
	base := s.lim().QueryBodyBase
	if s3 {
		base = s.lim().BodyBase
	}
	size := r.ContentLength
	if size < 0 || size > max {
		size = max // unknown length (Transfer-Encoding: chunked), or more than will be read
	}
	g := &guardedBody{body: r.Body, s: s, rc: http.NewResponseController(w), w: w, s3: s3, size: size, idle: base,
		end: time.Now().Add(base + time.Duration(size/max64(s.lim().MinRate, 1))*time.Second)}
	// A deadline from the start: a handler that never reads the body must not leave
	// net/http waiting for it forever afterwards.
	g.rc.SetReadDeadline(g.end)
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = g
	return r2, g.release
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

type guardedBody struct {
	body     io.ReadCloser
	s        *Server
	rc       *http.ResponseController
	w        http.ResponseWriter
	s3       bool
	size     int64
	reserved bool
	idle     time.Duration
	end      time.Time // the whole body's deadline
	lastSet  time.Time
	done     bool
}

func (g *guardedBody) Read(p []byte) (int, error) {
	if g.done {
		return 0, io.EOF
	}
	if !g.reserved {
		if !g.s.reserve(g.size) {
			g.closeAfter()
			return 0, slowDown(g.s3)
		}
		g.reserved = true
	}
	now := time.Now()
	if now.Sub(g.lastSet) > g.idle/4 { // refresh the per-read deadline, not at every read
		d := now.Add(g.idle)
		if d.After(g.end) {
			d = g.end
		}
		g.rc.SetReadDeadline(d)
		g.lastSet = now
	}
	n, err := g.body.Read(p)
	switch {
	case err == io.EOF:
		// The body is in: lift the deadline so that a long response is not cut
		// by net/http's background read timing out.
		g.done = true
		g.rc.SetReadDeadline(time.Time{})
	case isTimeout(err):
		g.closeAfter()
		return n, requestTimeout()
	}
	return n, err
}

// closeAfter asks net/http to close the connection after the response: the rest of
// the body will not be read.
func (g *guardedBody) closeAfter() { g.w.Header().Set("Connection", "close") }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func (g *guardedBody) Close() error { return g.body.Close() }

func (g *guardedBody) release() {
	if g.reserved {
		g.s.inFlight.bodyBytes.Add(-g.size)
		g.reserved = false
	}
}

// shed answers a request the server has no room for, in its protocol's shape, and
// closes the connection: its body is not read.
func (s *Server) shed(w http.ResponseWriter, r *http.Request, s3 bool, reqID string) {
	w.Header().Set("Connection", "close")
	// net/http may still read a small unread body after the answer: not for long.
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Second))
	if s3 {
		s3plane.WriteError(w, r, slowDown(true), reqID)
		return
	}
	s.writeError(w, s.protocolOf(r), slowDown(false), reqID)
}

// protocolOf guesses a request's protocol from its headers alone, for errors
// answered before its body is read.
func (s *Server) protocolOf(r *http.Request) *protocol {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, _, _ := strings.Cut(target, ".")
		if p := jsonSvcs[prefix]; p != nil {
			return p
		}
		return &protocol{json: true}
	}
	if p := querySvcs[scopeService(r)]; p != nil {
		return p
	}
	return querySvcs["sts"]
}
