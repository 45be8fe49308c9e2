// Package oidc is web identity federation without I/O: IAM OIDC provider URLs and
// ARNs, the signing keys and JWKS of iamlocal's built-in issuers, minting and
// verifying JSON Web Tokens (go-jose), the claims each real issuer sends (presets),
// and the condition keys AWS derives from a token for AssumeRoleWithWebIdentity.
//
// An issuer is named by its host and optional path, the way IAM names an OIDC
// provider: "token.actions.githubusercontent.com",
// "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE". Its `iss`
// claim is "https://" followed by that name.
package oidc

import (
	"errors"
	"strings"
)

// MaxURLLength is the longest provider URL IAM accepts (botocore:
// OpenIDConnectProviderUrlType, 1–255).
const MaxURLLength = 255

// ErrInvalidURL is ParseProviderURL's error; its text is the message iamlocal
// answers with (moto's wording; AWS's own is not documented).
var ErrInvalidURL = errors.New("Invalid Open ID Connect Provider URL")

// ParseProviderURL checks an IAM OIDC provider URL — "https://" then a host and an
// optional path, no port, query, fragment or user information (IAM API reference,
// CreateOpenIDConnectProvider: "The URL must begin with https:// … path components
// are allowed but query parameters are not … should not contain a port number") —
// and returns the provider's name: the URL without its scheme, host in lower case.
func ParseProviderURL(raw string) (string, error) {
	if len(raw) < len("https://") || !strings.EqualFold(raw[:len("https://")], "https://") {
		return "", ErrInvalidURL
	}
	rest := raw[len("https://"):]
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if host == "" || strings.ContainsAny(rest, "?#@ \t\r\n\\") || strings.Contains(host, ":") {
		return "", ErrInvalidURL
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return "", ErrInvalidURL
		}
	}
	if strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") {
		return "", ErrInvalidURL
	}
	for i := 0; i < len(path); i++ {
		if path[i] < 0x21 || path[i] > 0x7e {
			return "", ErrInvalidURL
		}
	}
	if strings.Contains(path, "//") {
		return "", ErrInvalidURL
	}
	return strings.ToLower(host) + path, nil
}

// IssuerName is the provider name an `iss` claim stands for: "https://HOST[/PATH]"
// gives "host[/PATH]" (host in lower case); ok is false for anything else.
func IssuerName(iss string) (string, bool) {
	name, err := ParseProviderURL(iss)
	return name, err == nil
}

// IssuerURL is the `iss` value of the issuer a provider name stands for.
func IssuerURL(name string) string { return "https://" + name }

// ProviderARN is the ARN of an account's IAM OIDC provider.
func ProviderARN(account, name string) string {
	return "arn:aws:iam::" + account + ":oidc-provider/" + name
}

// ParseProviderARN splits an OIDC provider ARN into its account and provider name.
func ParseProviderARN(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" || len(parts[4]) != 12 {
		return "", "", false
	}
	name, ok = strings.CutPrefix(parts[5], "oidc-provider/")
	if !ok || name == "" {
		return "", "", false
	}
	for i := 0; i < 12; i++ {
		if parts[4][i] < '0' || parts[4][i] > '9' {
			return "", "", false
		}
	}
	return parts[4], name, true
}

// Providers AWS federates with without an IAM OIDC provider: a trust policy names
// them directly as {"Federated": "accounts.google.com"} (IAM API reference,
// CreateOpenIDConnectProvider: "If you are using an OIDC identity provider from
// Google, Facebook, or Amazon Cognito, you don't need to create a separate IAM
// identity provider"; AssumeRoleWithWebIdentity's ProviderId names the OAuth 2.0
// ones, www.amazon.com and graph.facebook.com).
const (
	Google   = "accounts.google.com"
	Cognito  = "cognito-identity.amazonaws.com"
	Amazon   = "www.amazon.com"
	Facebook = "graph.facebook.com"
)

// BuiltIn reports whether AWS federates with an issuer without an IAM provider.
func BuiltIn(name string) bool {
	switch name {
	case Google, Cognito, Amazon, Facebook:
		return true
	}
	return false
}

// OAuthProvider reports whether a name is one of the OAuth 2.0 providers that
// AssumeRoleWithWebIdentity's ProviderId names (access tokens, not ID tokens).
func OAuthProvider(name string) bool { return name == Amazon || name == Facebook }
