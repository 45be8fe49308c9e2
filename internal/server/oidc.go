package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/service/issuer"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// serveOIDC answers the built-in web identity issuers' paths (/_iamlocal/oidc/…):
// their discovery documents and JWKS to anyone (public keys), and the two signed
// operations — minting a token, importing an issuer's keys — to SigV4-authenticated
// callers the engine allows, as any AWS API call.
func (s *Server) serveOIDC(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == oidc.MintPath:
		s.serveIssuerAction(w, r, issuer.Mint)
	case r.Method == http.MethodPost && r.URL.Path == oidc.ImportPath:
		s.serveIssuerAction(w, r, issuer.Import)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		issuer.ServePublic(s.env, w, r, scheme+"://"+r.Host)
	default:
		internalError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The method "+r.Method+" is not allowed on "+r.URL.Path)
	}
}

// serveIssuerAction runs a signed operation as the front door runs an API action:
// authentication, the engine's decision and the handler in one transaction.
func (s *Server) serveIssuerAction(w http.ResponseWriter, r *http.Request, a *service.Action) {
	reqID := newRequestID()
	if !s.enter() {
		internalError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "The server is busy; retry")
		return
	}
	defer s.leave()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		internalError(w, http.StatusBadRequest, "IncompleteBody", "The request body could not be read")
		return
	}
	params, werr := wire.ParseQuery(r, body)
	if werr != nil {
		internalError(w, werr.Status, werr.Code, werr.Message)
		return
	}
	result, err := s.call(r, body, &protocol{name: "iamlocal"}, a, params, reqID, nil)
	if err != nil {
		e := s.toWire(err, a, reqID)
		internalError(w, e.Status, e.Code, e.Message)
		return
	}
	out, err := json.Marshal(result)
	if err != nil {
		internalError(w, http.StatusInternalServerError, "InternalFailure", errors.New("encoding the answer").Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Amzn-RequestId", reqID)
	w.Write(out)
}
