// Package issuer is iamlocal's built-in web identity issuers: one per issuer name
// (token.actions.githubusercontent.com, oidc.eks.REGION.amazonaws.com/id/ID…), each
// with a signing key kept in the store. It mints tokens with the claims the real
// issuer sends (`iamlocal oidc token`), registers the public keys of a real issuer
// (`iamlocal oidc jwks import`), and serves each issuer's discovery document and
// JWKS under /_iamlocal/oidc/NAME/ — read without authentication, as an issuer's are.
//
// Issuers belong to the server, not to an account: every account that registers
// token.actions.githubusercontent.com trusts the same built-in GitHub issuer, as
// every AWS account trusts the one GitHub.
package issuer

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// PathPrefix is where the issuers live on the server.
const PathPrefix = oidc.PathPrefix

// Actions iamlocal authorizes like any other: the engine decides them on the issuer's
// provider ARN in the caller's account, so the root user and administrators ("*")
// may, and a policy can grant or deny them per issuer.
const (
	MintAction   = "iamlocal:MintWebIdentityToken"
	ImportAction = "iamlocal:ImportWebIdentityKeys"
)

// Mint signs a token for an issuer: Issuer (a name or an https URL), Subject,
// optional Audience, Claims (a JSON object of extra claims) and TTL (seconds).
var Mint = &service.Action{Name: "MintWebIdentityToken", IAMAction: MintAction, Write: true,
	Resource: issuerResource, Handle: mint}

// Import registers the public keys of an issuer: Issuer and JWKS (a JSON Web Key
// Set). Only principals of the management account may: the keys are trusted by
// every account that registers the issuer.
var Import = &service.Action{Name: "ImportWebIdentityKeys", IAMAction: ImportAction, Write: true,
	Resource: issuerResource, Handle: importKeys}

// issuerName reads the Issuer parameter as an issuer name.
func issuerName(c *service.Call) (string, error) {
	raw := strings.TrimSpace(c.Params.Get("Issuer"))
	if raw == "" {
		return "", wire.MissingParameter("Issuer")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	name, err := oidc.ParseProviderURL(raw)
	if err != nil {
		return "", wire.InvalidParameterValue("Issuer %s is not an issuer: want https://HOST[/PATH] or HOST[/PATH]", c.Params.Get("Issuer"))
	}
	return name, nil
}

func issuerResource(c *service.Call) (string, string, error) {
	name, err := issuerName(c)
	if err != nil {
		return "", "", err
	}
	return oidc.ProviderARN(c.Account(), name), c.Account(), nil
}

func mint(c *service.Call) (any, error) {
	name, err := issuerName(c)
	if err != nil {
		return nil, err
	}
	sub := c.Params.Get("Subject")
	if sub == "" {
		return nil, wire.MissingParameter("Subject")
	}
	ttl := oidc.DefaultTTL
	if s, given, err := c.Params.Int("TTL"); err != nil {
		return nil, err
	} else if given {
		ttl = time.Duration(s) * time.Second
		if ttl < time.Second || ttl > oidc.MaxTTL {
			return nil, wire.InvalidParameterValue("TTL %d is out of range: 1 to %d seconds", s, int(oidc.MaxTTL/time.Second))
		}
	}
	extra := map[string]any{}
	if raw := c.Params.Get("Claims"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &extra); err != nil {
			return nil, wire.InvalidParameterValue("Claims is not a JSON object: %v", err)
		}
	}
	iss, err := directory.EnsureOIDCIssuer(c.Tx, name, c.Now)
	if err != nil {
		return nil, err
	}
	key, err := iss.Signing()
	if err != nil {
		return nil, err
	}
	claims := oidc.Build(name, sub, c.Params.Get("Audience"), extra, c.Now, ttl)
	tok, err := oidc.Mint(key, claims)
	if err != nil {
		return nil, err
	}
	if len(tok) > oidc.MaxTokenLength {
		return nil, wire.InvalidParameterValue("The token would be %d characters; STS accepts at most %d", len(tok), oidc.MaxTokenLength)
	}
	return &oidc.MintResult{Token: tok, Issuer: oidc.IssuerURL(name), Expiration: c.Now.Add(ttl).UTC().Format(time.RFC3339)}, nil
}

func importKeys(c *service.Call) (any, error) {
	if c.Account() != c.Env.ManagementAccount {
		return nil, wire.AccessDenied("Only principals of the management account (%s) may import an issuer's keys: every account trusts them", c.Env.ManagementAccount)
	}
	name, err := issuerName(c)
	if err != nil {
		return nil, err
	}
	raw := c.Params.Get("JWKS")
	keys, err := oidc.ParseJWKS([]byte(raw))
	if err != nil {
		return nil, wire.InvalidParameterValue("JWKS: %v", err)
	}
	set, err := oidc.JWKS(keys...)
	if err != nil {
		return nil, err
	}
	iss, err := directory.LoadOIDCIssuer(c.Tx, name)
	if err != nil {
		return nil, err
	}
	if iss == nil {
		iss = &directory.OIDCIssuer{Name: name}
	}
	iss.Imported, iss.ImportedAt = string(set), c.Now.UTC()
	if err := c.Tx.Put(directory.KindOIDCIssuer, name, iss); err != nil {
		return nil, err
	}
	res := &oidc.ImportResult{Issuer: oidc.IssuerURL(name)}
	for _, k := range keys {
		res.KeyIDs = append(res.KeyIDs, k.KeyID)
	}
	return res, nil
}

// ServePublic answers GET NAME/.well-known/openid-configuration and GET NAME/jwks
// under PathPrefix for an issuer iamlocal has keys for; base is the server's URL as
// the client reached it (the jwks_uri points there).
func ServePublic(env *service.Env, w http.ResponseWriter, r *http.Request, base string) {
	rest := strings.TrimPrefix(r.URL.Path, PathPrefix)
	var name string
	discovery := false
	switch {
	case strings.HasSuffix(rest, "/.well-known/openid-configuration"):
		name, discovery = strings.TrimSuffix(rest, "/.well-known/openid-configuration"), true
	case strings.HasSuffix(rest, "/jwks"):
		name = strings.TrimSuffix(rest, "/jwks")
	default:
		writeError(w, http.StatusNotFound, "NotFound", "No such resource: "+r.URL.Path)
		return
	}
	if n, err := oidc.ParseProviderURL("https://" + name); err == nil {
		name = n
	}
	var iss *directory.OIDCIssuer
	err := env.Store.Read(r.Context(), func(tx store.Tx) error {
		var err error
		iss, err = directory.LoadOIDCIssuer(tx, name)
		return err
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalFailure", "The issuer could not be read")
		return
	}
	if iss == nil {
		writeError(w, http.StatusNotFound, "NotFound", "iamlocal has no issuer "+oidc.IssuerURL(name)+": register it as an OIDC provider or mint a token for it")
		return
	}
	keys, err := iss.VerificationKeys()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	var body []byte
	if discovery {
		body, err = json.MarshalIndent(discoveryDocument(name, base+PathPrefix+name+"/jwks"), "", "  ")
	} else {
		body, err = oidc.JWKS(keys...)
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=60")
	w.Write(body)
}

// discoveryDocument is the issuer's OpenID Provider Metadata, with the claims its
// preset mints.
func discoveryDocument(name, jwksURI string) map[string]any {
	claims := oidc.Build(name, "sub", "", nil, time.Unix(0, 0), time.Minute)
	names := make([]string, 0, len(claims))
	for k := range claims {
		names = append(names, k)
	}
	sort.Strings(names)
	return map[string]any{
		"issuer":                                oidc.IssuerURL(name),
		"jwks_uri":                              jwksURI,
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(oidc.SigningAlgorithm)},
		"scopes_supported":                      []string{"openid"},
		"claims_supported":                      names,
	}
}

// WriteError writes iamlocal's JSON error for its own paths.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	body, _ := json.Marshal(struct{ Code, Message string }{code, msg})
	w.Write(body)
}
