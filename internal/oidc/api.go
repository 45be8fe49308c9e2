package oidc

import "time"

// The built-in issuers' API on an iamlocal server: discovery documents and JWKS
// under PathPrefix+NAME, read by anyone; MintPath and ImportPath take SigV4-signed
// form POSTs (service name "iamlocal") and answer JSON.
const (
	PathPrefix = "/_iamlocal/oidc/"
	MintPath   = PathPrefix + "token"
	ImportPath = PathPrefix + "jwks"
	// SigningService is the service name of the SigV4 scope of those requests.
	SigningService = "iamlocal"
)

// Lifetimes of a minted token.
const (
	DefaultTTL = 10 * time.Minute
	MaxTTL     = 24 * time.Hour
)

// MintResult is MintPath's answer.
type MintResult struct {
	Token      string `json:"Token"`
	Issuer     string `json:"Issuer"`
	Expiration string `json:"Expiration"`
}

// ImportResult is ImportPath's answer.
type ImportResult struct {
	Issuer string   `json:"Issuer"`
	KeyIDs []string `json:"KeyIds"`
}
