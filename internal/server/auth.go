package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/sigv4"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

func invalidToken() *wire.Error {
	return wire.Errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
}

// authenticate verifies the request's signature and says who signed it: nil for an
// unsigned request. It also returns the region of the signature's scope.
func (s *Server) authenticate(tx store.Tx, r *http.Request, body []byte, now time.Time) (*directory.Identity, string, error) {
	p, err := sigv4.Parse(r)
	if err != nil {
		return nil, "", err
	}
	if p == nil {
		return nil, "", nil
	}
	id, secret, err := s.identify(tx, p, now)
	if err != nil {
		return nil, "", err
	}
	if err := s.verifier.Verify(r, body, p, secret, now); err != nil {
		return nil, "", err
	}
	return id, p.Region, nil
}

// identify resolves the access key of a signature (SigV4 or, for S3, SigV2) to its
// identity and secret key.
func (s *Server) identify(tx store.Tx, p *sigv4.Parsed, now time.Time) (*directory.Identity, string, error) {
	switch {
	case strings.HasPrefix(p.AccessKeyID, "ASIA"):
		return s.temporary(p, now)
	case p.SecurityToken != "":
		// A long-term key has no session: AWS refuses the pair rather than ignore the token.
		return nil, "", invalidToken()
	}
	return s.longTerm(tx, p)
}

// longTermKey is a resolved long-term key, cached per store generation.
type longTermKey struct {
	id     directory.Identity
	secret string
}

// longTerm finds the user or root user that owns an AKIA key.
func (s *Server) longTerm(tx store.Tx, p *sigv4.Parsed) (*directory.Identity, string, error) {
	if k, ok := s.keys.Get(tx.Generation(), p.AccessKeyID); ok {
		id := k.id
		return &id, k.secret, nil
	}
	id, secret, err := s.readLongTerm(tx, p)
	if err == nil {
		s.keys.Put(tx.Generation(), p.AccessKeyID, longTermKey{*id, secret})
	}
	return id, secret, err
}

func (s *Server) readLongTerm(tx store.Tx, p *sigv4.Parsed) (*directory.Identity, string, error) {
	var key directory.AccessKey
	if err := tx.Get(directory.KindAccessKey, p.AccessKeyID, &key); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", invalidToken()
		}
		return nil, "", err
	}
	if key.Status != "Active" {
		return nil, "", invalidToken()
	}
	id := &directory.Identity{AccessKeyID: key.ID}
	if key.User == "" {
		id.Caller = policy.Caller{Kind: policy.RootUser, Partition: "aws", Account: key.Account, Arn: "arn:aws:iam::" + key.Account + ":root"}
		id.UserID = key.Account
		return id, key.Secret, nil
	}
	var u directory.User
	if err := tx.Get(directory.KindUser, directory.NameKey(key.Account, key.User), &u); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, "", invalidToken()
		}
		return nil, "", err
	}
	id.Caller = policy.Caller{Kind: policy.User, Partition: "aws", Account: u.Account, Arn: u.Arn, Name: u.Name}
	id.UserID = u.ID
	return id, key.Secret, nil
}

// temporary opens the sealed session token of an ASIA key.
func (s *Server) temporary(p *sigv4.Parsed, now time.Time) (*directory.Identity, string, error) {
	if p.SecurityToken == "" {
		return nil, "", invalidToken()
	}
	cl, err := s.env.Ring.Open(p.SecurityToken)
	if err != nil || cl.AccessKeyID != p.AccessKeyID {
		return nil, "", invalidToken()
	}
	if cl.Valid(now) != nil {
		return nil, "", wire.Errorf(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
	}
	id := &directory.Identity{AccessKeyID: cl.AccessKeyID, UserID: cl.UserID, Claims: cl}
	c := policy.Caller{Partition: "aws", Account: cl.Account, Arn: cl.Arn}
	switch cl.Type {
	case "AssumedRole":
		c.Kind, c.RoleName, c.RoleArn, c.Name = policy.AssumedRole, cl.RoleName, cl.RoleArn, cl.SessionName
	case "FederatedUser":
		c.Kind, c.Name, c.Parent = policy.FederatedUser, cl.SessionName, cl.UserName
	case "Root", "AssumedRoot": // GetSessionToken by the root user; AssumeRoot
		c.Kind = policy.RootUser
	default:
		c.Kind, c.Name = policy.User, cl.UserName
	}
	id.Caller = c
	return id, cl.Secret, nil
}
