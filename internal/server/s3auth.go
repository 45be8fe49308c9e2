package server

import (
	"net/http"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/sigv4"
	"github.com/iamlocal/iamlocal/internal/store"
)

// authenticateS3 is authenticate for S3, on the headers alone: the payload hash is
// taken as declared, and the S3 plane compares it with the body as it streams it.
func (s *Server) authenticateS3(tx store.Tx, r *http.Request, now time.Time) (*directory.Identity, string, error) {
	p, err := sigv4.Parse(r)
	if err != nil || p == nil {
		return nil, "", err
	}
	id, secret, err := s.identify(tx, p, now)
	if err != nil {
		return nil, "", err
	}
	if err := s.verifier.VerifyDeclared(r, p, secret, now); err != nil {
		return nil, "", err
	}
	return id, p.Region, nil
}
