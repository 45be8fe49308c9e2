package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/service/local"
)

// LogRequests writes one line per request to log (serve --log-requests): time,
// request id, principal, action, decision (with the blocking layers of a denial),
// HTTP status and latency. Never credentials, signatures or tokens: a line holds
// only those fields. Call it before serving; nil turns the log off.
func (s *Server) LogRequests(log *slog.Logger) { s.reqLog = log }

// reqRecord is what the front door learns about a request, for its log line; nil
// when the log is off, so the request path pays nothing for it.
type reqRecord struct {
	id     string
	action string        // iam:CreateUser; empty until routed (S3: from the trace)
	call   *service.Call // the call's identity and trace
	trace  service.Trace
}

// observe attaches the record to a call.
func (rec *reqRecord) observe(c *service.Call) {
	if rec != nil {
		rec.call = c
		c.Trace = &rec.trace
	}
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines, flushes).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveLogged serves a request and logs it.
func (s *Server) serveLogged(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	rec := &reqRecord{}
	if isInternalPath(r) {
		rec.id, rec.action = "-", "iamlocal:"+r.URL.Path
		s.serveIamlocal(sw, r)
	} else {
		s.serve(sw, r, rec)
	}
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	s.logRequest(r.Context(), rec, status, time.Since(start))
}

func (s *Server) logRequest(ctx context.Context, rec *reqRecord, status int, latency time.Duration) {
	principal := "anonymous"
	if rec.call != nil && rec.call.Identity != nil {
		principal = rec.call.Identity.Caller.Arn
	}
	action := rec.action
	if action == "" {
		action = rec.trace.Action
	}
	if action == "" {
		action = "unknown"
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("request", rec.id), slog.String("principal", principal), slog.String("action", action))
	switch t := &rec.trace; {
	case t.Denied != nil:
		attrs = append(attrs, slog.String("decision", "denied"))
		if t.DeniedAction != action {
			attrs = append(attrs, slog.String("deniedAction", t.DeniedAction))
		}
		var layers []string
		for _, l := range t.Denied.BlockedBy.List() {
			layers = append(layers, l.String())
		}
		if len(layers) > 0 {
			attrs = append(attrs, slog.String("blockedBy", strings.Join(layers, ",")))
		}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// Refused before the engine was asked (credentials, session limits): the
		// blocking layer is not a policy's.
		attrs = append(attrs, slog.String("decision", "denied"))
	case t.Action != "" || status < 400:
		attrs = append(attrs, slog.String("decision", "allowed"))
	default:
		attrs = append(attrs, slog.String("decision", "none")) // failed before any decision
	}
	attrs = append(attrs, slog.Int("status", status), slog.Duration("latency", latency))
	s.reqLog.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// isInternalPath reports iamlocal's own paths, but for its SigV4 API (local.Path),
// which the front door serves as it serves AWS's.
func isInternalPath(r *http.Request) bool {
	return (r.URL.Path == "/_iamlocal" || strings.HasPrefix(r.URL.Path, "/_iamlocal/")) && r.URL.Path != local.Path
}
