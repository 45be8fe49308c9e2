package server

import (
	"io"
	"net/http"
	"strings"

	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/service/s3"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
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

// serveS3 authenticates an S3 request (reading the body first, since SigV4 may sign
// its hash) and hands it to the S3 plane, which runs its own transactions.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request, reqID string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s3.MaxBody+1))
	if err != nil {
		s3.WriteError(w, r, wire.Errorf(http.StatusBadRequest, "IncompleteBody", "The request body could not be read"), reqID)
		return
	}
	if len(body) > s3.MaxBody {
		s3.WriteError(w, r, wire.Errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size of %d bytes", s3.MaxBody), reqID)
		return
	}
	now := s.now()
	c := &service.Call{Ctx: r.Context(), Env: s.env, Body: body, Now: now, RequestID: reqID,
		SourceIP: sourceIP(r), Secure: r.TLS != nil}
	err = s.env.Store.Read(r.Context(), func(tx store.Tx) error {
		id, region, err := s.authenticate(tx, r, body, now)
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
	s3.Serve(c, w, r, body)
}
