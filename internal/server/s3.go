package server

import (
	"net/http"
	"strings"

	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/service/s3"
	"github.com/iamlocal/iamlocal/internal/store"
)

// isS3 tells S3's REST requests from the Query and JSON APIs: signed for service s3,
// addressed to a bucket host (bucket.localhost), or unsigned without an Action.
func isS3(r *http.Request) bool {
	if r.URL.Path == "/_iamlocal/health" || r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	if svc := scopeService(r); svc != "" {
		return svc == "s3"
	}
	if host := r.Host; strings.Contains(host, ".localhost") {
		return true
	}
	if r.URL.Query().Has("Action") {
		return false
	}
	ct := r.Header.Get("Content-Type")
	return !(r.Method == http.MethodPost && strings.HasPrefix(ct, "application/x-www-form-urlencoded"))
}

// serveS3 authenticates an S3 request on its headers alone — SigV4 signs the
// declared payload hash, which the S3 plane checks against the body as it streams
// it — and hands it to the plane with the body unread, under the body limits.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request, reqID string, rec *reqRecord) {
	r, release := s.guardBody(w, r, true, 2*s3.MaxBody)
	defer release()
	now := s.now()
	c := &service.Call{Ctx: r.Context(), Env: s.env, Now: now, RequestID: reqID,
		SourceIP: sourceIP(r), Secure: r.TLS != nil}
	rec.observe(c)
	err := s.env.Store.Read(r.Context(), func(tx store.Tx) error {
		id, region, err := s.authenticateS3(tx, r, now)
		if err != nil {
			return err
		}
		c.Identity, c.Region = id, region
		c.Endpoint, err = s.endpointOf(r, tx)
		return err
	})
	if err != nil {
		s3.WriteError(w, r, s.toWire(err, nil, reqID), reqID)
		return
	}
	s.s3.Serve(c, w, r)
}
