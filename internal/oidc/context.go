package oidc

import (
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/iamlocal/iamlocal/internal/awsdata"
)

// Keys are the condition keys AssumeRoleWithWebIdentity adds to a request, lower
// case, each with its values.
type Keys map[string][]string

func (k Keys) set(key string, values ...string) {
	if len(values) > 0 {
		k[strings.ToLower(key)] = values
	}
}

// Federation is what a verified token says, in AWS's terms.
type Federation struct {
	// Name is the provider as condition keys spell it: the IAM provider's name
	// ("token.actions.githubusercontent.com") or a built-in one ("accounts.google.com").
	Name string
	// Provider is aws:FederatedProvider and the response's Provider: the IAM OIDC
	// provider's ARN, or the built-in provider's name.
	Provider string
	// Audience is the client id the token was issued to (the response's Audience):
	// azp when the token has one, else aud (the value that matched a client id).
	Audience string
	Subject  string
	Claims   Claims
}

// AudienceOf is the client id AWS checks against a provider's client ids: the
// token's azp when it has one, else its aud (one or several). IAM User Guide
// (condition keys for OIDC federation): when azp is set, the provider's `aud` key
// holds azp and `oaud` the token's aud; an Entra ID v2 token whose aud is registered
// but whose azp is not fails with "Incorrect token audience" (aws/aws-sdk-net#3071).
func AudienceOf(c Claims) []string {
	if azp, ok := c.String("azp"); ok && azp != "" {
		return []string{azp}
	}
	return c.Strings("aud")
}

// TrustKeys are the keys of the trust-policy decision: the provider's aud, oaud,
// sub and amr (www.amazon.com's app_id and user_id, graph.facebook.com's app_id and
// id instead of aud and sub), the provider-specific claim keys of the service
// authorization reference (token.actions.githubusercontent.com:repository,
// gitlab.com:project_id…), and aws:FederatedProvider.
func (f *Federation) TrustKeys() Keys {
	k := f.SessionKeys()
	for _, x := range extraKeys() {
		if !x.provider.MatchString(f.Name) {
			continue
		}
		if v, ok := lookupClaim(f.Claims, x.claim); ok {
			k.set(f.Name+":"+x.claim, Render(v))
		}
	}
	return k
}

// SessionKeys are the keys a session made from the token carries into every later
// request: the provider's aud, oaud, sub and amr (IAM User Guide: a role's
// permissions policy may use ${cognito-identity.amazonaws.com:sub} or
// ${www.amazon.com:user_id}) and aws:FederatedProvider ("present in the role-session
// of a role that was assumed using an OIDC provider"). The provider-specific claim
// keys are not: the service authorization reference lists them for
// AssumeRoleWithWebIdentity only, and AWS's announcement marks them "not available in
// session".
func (f *Federation) SessionKeys() Keys {
	k := Keys{}
	k.set("aws:FederatedProvider", f.Provider)
	switch f.Name {
	case Amazon:
		k.set(Amazon+":app_id", f.Audience)
		k.set(Amazon+":user_id", f.Subject)
		return k
	case Facebook:
		k.set(Facebook+":app_id", f.Audience)
		k.set(Facebook+":id", f.Subject)
		return k
	}
	k.set(f.Name+":sub", f.Subject)
	k.set(f.Name+":aud", f.Audience)
	if azp, ok := f.Claims.String("azp"); ok && azp != "" {
		k.set(f.Name+":oaud", f.Claims.Strings("aud")...)
	}
	k.set(f.Name+":amr", f.Claims.Strings("amr")...)
	return k
}

// lookupClaim finds a claim by the name a condition key gives it: literally
// ("oidc.circleci.com/project-id"), or as a path into nested objects
// ("google/organization_number").
func lookupClaim(c Claims, name string) (any, bool) {
	if v, ok := c[name]; ok {
		return v, true
	}
	parts := strings.Split(name, "/")
	if len(parts) < 2 {
		return nil, false
	}
	var cur any = map[string]any(c)
	for _, p := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// extraKey is a provider-specific condition key of AssumeRoleWithWebIdentity.
type extraKey struct {
	provider *regexp.Regexp // the provider part, ${…} placeholders as wildcards
	claim    string
}

var (
	extraOnce sync.Once
	extras    []extraKey
)

// standardClaims are the keys TrustKeys sets for every provider.
var standardClaims = map[string]bool{"aud": true, "oaud": true, "sub": true, "amr": true, "app_id": true, "user_id": true, "id": true}

// extraKeys reads the provider-specific keys from the service authorization
// reference's sts:AssumeRoleWithWebIdentity (generated data, internal/awsdata).
func extraKeys() []extraKey {
	extraOnce.Do(func() {
		a, ok := awsdata.LookupAction("sts:AssumeRoleWithWebIdentity")
		if !ok {
			return
		}
		conds := append([]string(nil), a.Conditions...)
		sort.Strings(conds)
		for _, key := range conds {
			provider, claim, ok := strings.Cut(key, ":")
			if !ok || provider == "aws" || provider == "sts" || standardClaims[claim] {
				continue
			}
			extras = append(extras, extraKey{provider: placeholderPattern(provider), claim: claim})
		}
	})
	return extras
}

var placeholder = regexp.MustCompile(`\$\{[^}]*\}`)

// placeholderPattern matches a provider name with ${Domain}, ${SubPath}… standing
// for any non-empty text.
func placeholderPattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, m := range placeholder.FindAllStringIndex(p, -1) {
		b.WriteString(regexp.QuoteMeta(p[last:m[0]]))
		b.WriteString(".+")
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(p[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
