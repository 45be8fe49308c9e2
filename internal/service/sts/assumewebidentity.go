package sts

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// AssumeRoleWithWebIdentity is unsigned, as on AWS ("Calling
// AssumeRoleWithWebIdentity does not require the use of AWS security credentials"):
// the token is the caller's identity. The front door lets it through without a
// signature (Anonymous) and a signature, when there is one, changes nothing.
func init() {
	Actions.Add(&service.Action{Name: "AssumeRoleWithWebIdentity", Anonymous: true, Handle: assumeRoleWithWebIdentity})
}

// Claims AWS reads from a web identity token beyond OIDC's (IAM User Guide, "Passing
// session tags using AssumeRoleWithWebIdentity" and "Monitor and control actions taken
// with assumed roles").
const (
	tagsClaim           = "https://aws.amazon.com/tags"
	sourceIdentityClaim = "https://aws.amazon.com/source_identity"
)

// AWS's refusals of AssumeRoleWithWebIdentity, with the wording STS answers with.
func invalidIdentityToken(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "InvalidIdentityToken", format, args...)
}

// noVerificationKey is STS's answer when it has no key to check the token with
// (its wording, two spaces included: awslabs/aws-sdk-rust#827).
func noVerificationKey() *wire.Error {
	return invalidIdentityToken("Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
}

// noProvider: aws-actions/configure-aws-credentials#721, treeverse/dvc.org#5273.
func noProvider(iss string) *wire.Error {
	return invalidIdentityToken("No OpenIDConnect provider found in your account for %s", iss)
}

// incorrectAudience: awslabs/amazon-eks-irsa-cfn#18, guardian/cdk#1944.
func incorrectAudience() *wire.Error { return invalidIdentityToken("Incorrect token audience") }

// expiredToken: parseablehq/parseable#604 (Unix seconds both).
func expiredToken(now, exp int64) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "ExpiredTokenException",
		"Token expired: current date/time %d must be before the expiration date/time %d", now, exp)
}

// notAuthorized is the trust policy's refusal, however it refused (aws/aws-sdk-net#1522);
// the decision stays attached for explain and the request log.
const notAuthorized = "Not authorized to perform sts:AssumeRoleWithWebIdentity"

// idpRejected is an OAuth 2.0 provider (ProviderId) refusing the access token, as STS
// reports it: aws/aws-sdk-js#198.
func idpRejected(provider string) *wire.Error {
	return wire.Errorf(http.StatusForbidden, "IDPRejectedClaim", "%s: %s responded with HTTP/1.1 400 Bad Request", provider, provider)
}

type webIdentityResult struct {
	Credentials                 credentials     `xml:"Credentials"`
	SubjectFromWebIdentityToken string          `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             assumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize            *int            `xml:"PackedPolicySize,omitempty"`
	Provider                    string          `xml:"Provider"`
	Audience                    string          `xml:"Audience"`
	SourceIdentity              string          `xml:"SourceIdentity,omitempty"`
}

// webIdentityInput is a request's parameters.
type webIdentityInput struct {
	assumeInput
	token, providerID string
}

func readWebIdentityInput(c *service.Call) (*webIdentityInput, error) {
	p := c.Params
	for _, name := range []string{"RoleArn", "RoleSessionName", "WebIdentityToken"} {
		if !p.Has(name) {
			return nil, wire.MissingParameter(name)
		}
	}
	in := &webIdentityInput{assumeInput: assumeInput{roleArn: p.Get("RoleArn"), sessionName: p.Get("RoleSessionName"), policy: p.Get("Policy")},
		token: p.Get("WebIdentityToken"), providerID: p.Get("ProviderId")}
	var v validation
	v.Length(in.roleArn, "roleArn", 20, 2048)
	v.Length(in.sessionName, "roleSessionName", 2, 64)
	v.Check(sessionNamePattern.MatchString(in.sessionName), in.sessionName, "roleSessionName", `satisfy regular expression pattern: [\w+=,.@-]*`)
	if p.Has("ProviderId") {
		v.Length(in.providerID, "providerId", 4, 2048)
	}
	if err := readDuration(p, &in.assumeInput, &v); err != nil {
		return nil, err
	}
	// The token is a secret: the message names the member, not its value.
	if n := len(in.token); n < 4 || n > oidc.MaxTokenLength {
		bound := "greater than or equal to 4"
		if n > oidc.MaxTokenLength {
			bound = "less than or equal to " + strconv.Itoa(oidc.MaxTokenLength)
		}
		v = append(v, "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length "+bound)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Session policies as AssumeRole reads them; this API has no Tags or
	// TransitiveTagKeys parameters — its session tags come from the token alone.
	if err := readSessionExtras(c, &in.assumeInput); err != nil {
		return nil, err
	}
	in.tags, in.transitive = nil, nil
	if err := setRole(&in.assumeInput); err != nil {
		return nil, err
	}
	return in, nil
}

// WebIdentity is what AssumeRoleWithWebIdentity established before the trust policy
// decided: explain reuses it to show a refused request's claims and keys.
type WebIdentity struct {
	Federation oidc.Federation
	Tags       []directory.Tag
	Transitive []string
	Source     string
}

func assumeRoleWithWebIdentity(c *service.Call) (any, error) {
	in, err := readWebIdentityInput(c)
	if err != nil {
		return nil, err
	}
	wi, err := verifyWebIdentity(c, in)
	if err != nil {
		return nil, err
	}
	in.tags, in.transitive, in.sourceIdentity = wi.Tags, wi.Transitive, wi.Source
	f := &wi.Federation

	rt, err := c.Env.Resolver.Role(c.Tx, in.account, in.roleName)
	if err != nil {
		return nil, err
	}
	var role directory.Role
	var trust *policy.Policy
	if rt != nil && rt.Role.Arn == in.roleArn {
		role, trust = rt.Role, rt.Trust
	}
	ctx := policy.Context{}
	for k, v := range f.TrustKeys() {
		ctx[k] = v
	}
	sessionKeys(ctx, in.sessionName, in.sourceIdentity, in.tags, in.transitive)

	// The identity provider is the caller; only the trust policy (and RCPs) can allow it.
	c.Identity = &directory.Identity{Caller: policy.Caller{Kind: policy.WebIdentity, Partition: "aws", Arn: f.Provider}}
	if err := authorizeAssume(c, "sts:AssumeRoleWithWebIdentity", &in.assumeInput, trust, ctx, notAuthorized); err != nil {
		return nil, err
	}

	if in.duration > time.Duration(role.MaxSessionDuration)*time.Second {
		return nil, wire.ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	claims, packed, err := newRoleClaims(c, &in.assumeInput, &role)
	if err != nil {
		return nil, err
	}
	claims.Context = f.SessionKeys()
	token, err := c.Env.Ring.Seal(claims)
	if err != nil {
		return nil, err
	}
	res := &webIdentityResult{
		Credentials: credentials{AccessKeyID: claims.AccessKeyID, SecretAccessKey: claims.Secret,
			SessionToken: token, Expiration: claims.Expires.UTC().Format(time.RFC3339)},
		SubjectFromWebIdentityToken: f.Subject,
		AssumedRoleUser:             assumedRoleUser{AssumedRoleID: claims.UserID, Arn: claims.Arn},
		Provider:                    f.Provider,
		Audience:                    f.Audience,
		SourceIdentity:              claims.SourceIdentity,
	}
	if packed >= 0 {
		res.PackedPolicySize = &packed
	}
	return res, nil
}

// verifyWebIdentity establishes who the token speaks for: its issuer is a provider
// the role's account registered (or one AWS federates with built in), its signature
// verifies with that issuer's keys, it is within its lifetime, and its audience is
// one of the provider's client ids.
func verifyWebIdentity(c *service.Call, in *webIdentityInput) (*WebIdentity, error) {
	name, provider, clientIDs, err := resolveIssuer(c, in)
	if err != nil {
		return nil, err
	}
	oauth := oidc.OAuthProvider(name)
	issuer, err := directory.LoadOIDCIssuer(c.Tx, name)
	if err != nil {
		return nil, err
	}
	var keys []jose.JSONWebKey
	if issuer != nil {
		if keys, err = issuer.VerificationKeys(); err != nil {
			return nil, err
		}
	}
	tok, err := oidc.Verify(in.token, keys)
	switch {
	case err == nil:
	case oauth:
		return nil, idpRejected(name)
	case errors.Is(err, oidc.ErrNoKey):
		return nil, noVerificationKey()
	case errors.Is(err, oidc.ErrSignature):
		return nil, invalidIdentityToken("The token's signature does not verify with the keys of %s", oidc.IssuerURL(name))
	default:
		return nil, invalidIdentityToken("The web identity token is not a signed JSON Web Token")
	}
	cl := tok.Claims
	if err := cl.CheckTimes(c.Now); err != nil {
		var exp *oidc.ExpiredError
		if errors.As(err, &exp) {
			return nil, expiredToken(exp.Now, exp.Exp)
		}
		return nil, invalidIdentityToken("%s", upperFirst(err.Error()))
	}
	sub, _ := cl.String("sub")
	if sub == "" {
		return nil, invalidIdentityToken("The token has no sub claim")
	}
	auds := oidc.AudienceOf(cl)
	audience := ""
	switch {
	case clientIDs != nil:
		for _, a := range auds {
			if containsString(*clientIDs, a) {
				audience = a
				break
			}
		}
		if audience == "" {
			return nil, incorrectAudience()
		}
	case len(auds) > 0:
		audience = auds[0]
	default:
		return nil, incorrectAudience()
	}
	wi := &WebIdentity{Federation: oidc.Federation{Name: name, Provider: provider, Audience: audience, Subject: sub, Claims: cl}}
	if err := sessionClaims(cl, wi); err != nil {
		return nil, err
	}
	return wi, nil
}

// resolveIssuer finds the provider a token comes from: ProviderId for the OAuth 2.0
// providers, else the token's iss, which must name an IAM OIDC provider of the
// role's account or a provider AWS knows built in. clientIDs is nil for the latter
// (their audience is for the trust policy to check).
func resolveIssuer(c *service.Call, in *webIdentityInput) (name, provider string, clientIDs *[]string, err error) {
	if in.providerID != "" {
		if !oidc.OAuthProvider(in.providerID) {
			return "", "", nil, wire.InvalidParameterValue("ProviderId %s is not supported: only the OAuth 2.0 providers %s and %s take a ProviderId; leave it out for OpenID Connect ID tokens",
				in.providerID, oidc.Amazon, oidc.Facebook)
		}
		return in.providerID, in.providerID, nil, nil
	}
	claims, err := oidc.Peek(in.token)
	if err != nil {
		return "", "", nil, invalidIdentityToken("The web identity token is not a signed JSON Web Token")
	}
	iss, _ := claims.String("iss")
	name, ok := oidc.IssuerName(iss)
	if !ok && oidc.BuiltIn(iss) {
		name, ok = iss, true // Google's older tokens say "accounts.google.com"
	}
	if !ok {
		return "", "", nil, noProvider(iss)
	}
	p, err := directory.OIDCProviderByName(c.Tx, in.account, name)
	if err != nil {
		return "", "", nil, err
	}
	switch {
	case p != nil:
		return name, p.Arn, &p.ClientIDs, nil
	case oidc.BuiltIn(name) && !oidc.OAuthProvider(name):
		return name, name, nil, nil
	}
	return "", "", nil, noProvider(iss)
}

// sessionClaims reads the session tags and source identity a token asks for:
// "https://aws.amazon.com/tags": {"principal_tags": {"Key": ["value"]},
// "transitive_tag_keys": ["Key"]} and "https://aws.amazon.com/source_identity".
func sessionClaims(cl oidc.Claims, wi *WebIdentity) error {
	if raw, ok := cl[tagsClaim]; ok {
		obj, ok := raw.(map[string]any)
		if !ok {
			return invalidIdentityToken("The %s claim must be an object", tagsClaim)
		}
		if pt, ok := obj["principal_tags"]; ok {
			tags, ok := pt.(map[string]any)
			if !ok {
				return invalidIdentityToken("principal_tags in the %s claim must be an object", tagsClaim)
			}
			if len(tags) > 50 {
				return invalidIdentityToken("The token asks for %d session tags; at most 50", len(tags))
			}
			for k, v := range tags {
				val, ok := v.(string)
				if list, isList := v.([]any); isList && len(list) == 1 {
					val, ok = list[0].(string)
				}
				if !ok {
					return invalidIdentityToken("The session tag %s must have one string value", k)
				}
				if k == "" || len(k) > 128 || !tagKeyPattern.MatchString(k) || len(val) > 256 || !tagValuePattern.MatchString(val) {
					return invalidIdentityToken("The session tag %s=%s breaks the limits of session tags (key 1–128 and value 0–256 characters of [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@])", k, val)
				}
				wi.Tags = append(wi.Tags, directory.Tag{Key: k, Value: val})
			}
			sortTags(wi.Tags)
		}
		if tk, ok := obj["transitive_tag_keys"]; ok {
			wi.Transitive = oidc.Claims{"k": tk}.Strings("k")
		}
	}
	if raw, ok := cl[sourceIdentityClaim]; ok {
		s, ok := raw.(string)
		if ok && strings.HasPrefix(strings.ToLower(s), "aws:") {
			return wire.ValidationError("SourceIdentity cannot start with the prefix 'aws:'")
		}
		if !ok || len(s) < 2 || len(s) > 64 || !sourceIdentityPattern.MatchString(s) {
			return invalidIdentityToken("The %s claim must be 2–64 characters of [\\w+=,.@-]", sourceIdentityClaim)
		}
		wi.Source = s
	}
	return nil
}

func sortTags(tags []directory.Tag) {
	for i := 1; i < len(tags); i++ {
		for j := i; j > 0 && tags[j].Key < tags[j-1].Key; j-- {
			tags[j], tags[j-1] = tags[j-1], tags[j]
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
