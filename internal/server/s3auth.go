package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service/s3"
	"github.com/iamlocal/iamlocal/internal/sigv2"
	"github.com/iamlocal/iamlocal/internal/sigv4"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// authenticateS3 is authenticate for S3, on the headers alone: the payload hash is
// taken as declared, and the S3 plane compares it with the body as it streams it.
func (s *Server) authenticateS3(tx store.Tx, r *http.Request, now time.Time) (*directory.Identity, string, error) {
	if sigv2.Is(r) {
		return s.authenticateV2(tx, r, now)
	}
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

// authenticateV2 verifies S3's legacy SigV2 (boto3's presigned URLs against a custom
// endpoint, "Authorization: AWS id:sig"), resolving the key as SigV4 does.
func (s *Server) authenticateV2(tx store.Tx, r *http.Request, now time.Time) (*directory.Identity, string, error) {
	p, err := sigv2.Parse(r)
	if err != nil || p == nil {
		return nil, "", err
	}
	id, secret, err := s.identify(tx, &sigv4.Parsed{AccessKeyID: p.AccessKeyID, SecurityToken: p.SecurityToken}, now)
	var we *wire.Error
	if errors.As(err, &we) && we.Code == "InvalidClientTokenId" {
		return nil, "", wire.Errorf(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	if err != nil {
		return nil, "", err
	}
	if err := sigv2.Verify(r, p, secret, s3.VirtualBucket(r.Host), now); err != nil {
		return nil, "", err
	}
	return id, s.env.Region, nil
}
