package sts

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/events"
	"github.com/iamlocal/iamlocal/internal/outbound"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// GetWebIdentityToken: a JWT naming the caller, signed with the account's outbound
// federation key (internal/outbound), verifiable with the issuer's published JWKS.

func init() {
	Actions.Add(&service.Action{Name: "GetWebIdentityToken", IAMAction: "sts:GetWebIdentityToken",
		Context: webIdentityTokenContext, Handle: getWebIdentityToken})
}

type webIdentityTokenInput struct {
	audience []string
	duration int
	alg      string
	tags     [][2]string
}

var tagPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

func readWebIdentityTokenInput(c *service.Call) (*webIdentityTokenInput, error) {
	in := &webIdentityTokenInput{duration: 300}
	var v wire.Validation
	aud, err := c.Params.List("Audience")
	if err != nil {
		return nil, err
	}
	if len(aud) == 0 {
		v.Null("audience")
	}
	v.Check(len(aud) <= 10, fmt.Sprint(aud), "audience", "have length less than or equal to 10")
	for i, a := range aud {
		v.Length(a, fmt.Sprintf("audience.%d.member", i+1), 1, 1000)
	}
	in.audience = aud
	if d, given, err := c.Params.Int("DurationSeconds"); err != nil {
		return nil, err
	} else if given {
		v.Check(d >= 60, fmt.Sprint(d), "durationSeconds", "have value greater than or equal to 60")
		v.Check(d <= 3600, fmt.Sprint(d), "durationSeconds", "have value less than or equal to 3600")
		in.duration = d
	}
	if !c.Params.Has("SigningAlgorithm") {
		v.Null("signingAlgorithm")
	} else {
		in.alg = c.Params.Get("SigningAlgorithm")
		v.Length(in.alg, "signingAlgorithm", 5, 5)
	}
	tags, err := c.Params.Structs("Tags")
	if err != nil {
		return nil, err
	}
	v.Check(len(tags) <= 50, fmt.Sprint(len(tags)), "tags", "have length less than or equal to 50")
	for i, t := range tags {
		k, val := t["Key"], t["Value"]
		v.Length(k, fmt.Sprintf("tags.%d.member.key", i+1), 1, 128)
		v.Check(tagPattern.MatchString(k), k, fmt.Sprintf("tags.%d.member.key", i+1), `satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		v.Length(val, fmt.Sprintf("tags.%d.member.value", i+1), 0, 256)
		v.Check(tagPattern.MatchString(val), val, fmt.Sprintf("tags.%d.member.value", i+1), `satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
		in.tags = append(in.tags, [2]string{k, val})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !slices.Contains(outbound.Algorithms, in.alg) {
		return nil, wire.ValidationError("1 validation error detected: Value '%s' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			in.alg, strings.Join(outbound.Algorithms, ", "))
	}
	return in, nil
}

// webIdentityTokenContext adds sts:IdentityTokenAudience, sts:DurationSeconds,
// sts:SigningAlgorithm and the request's tags.
func webIdentityTokenContext(c *service.Call, ctx policy.Context) error {
	in, err := readWebIdentityTokenInput(c)
	if err != nil {
		return err
	}
	ctx.Set("sts:IdentityTokenAudience", in.audience...)
	ctx.Set("sts:DurationSeconds", fmt.Sprint(in.duration))
	ctx.Set("sts:SigningAlgorithm", in.alg)
	var keys []string
	for _, t := range in.tags {
		ctx.Set("aws:RequestTag/"+t[0], t[1])
		keys = append(keys, t[0])
	}
	if len(keys) > 0 {
		ctx.Set("aws:TagKeys", keys...)
	}
	return nil
}

type webIdentityTokenResult struct {
	WebIdentityToken string `xml:"WebIdentityToken"`
	Expiration       string `xml:"Expiration"`
}

func getWebIdentityToken(c *service.Call) (any, error) {
	in, err := readWebIdentityTokenInput(c)
	if err != nil {
		return nil, err
	}
	cfg, err := outbound.Load(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if cfg == nil || !cfg.Enabled {
		return nil, wire.Errorf(http.StatusForbidden, "OutboundWebIdentityFederationDisabledException",
			"The outbound web identity federation feature is not enabled for this account. To use this feature, you must first enable it through the Amazon Web Services Management Console or API.")
	}
	d := time.Duration(in.duration) * time.Second
	if cl := c.Identity.Claims; cl != nil && c.Now.Add(d).After(cl.Expires) {
		return nil, wire.Errorf(http.StatusForbidden, "SessionDurationEscalationException",
			"The requested token duration would extend the session beyond its original expiration time. You cannot use this operation to extend the lifetime of a session beyond what was granted when the session was originally created.")
	}
	caller := &c.Identity.Caller
	claims := outbound.NewClaims(cfg.Issuer(c.Secure, c.Host), events.EntityOf(caller), in.audience, c.Now, d)
	claims.AWS.Account, claims.AWS.SourceRegion = c.Account(), c.Region
	if len(in.tags) > 0 {
		claims.AWS.RequestTags = map[string]string{}
		for _, t := range in.tags {
			claims.AWS.RequestTags[t[0]] = t[1]
		}
	}
	if _, _, path, orgID, err := c.Env.Resolver.OrgLevels(c.Tx, c.Account(), "SERVICE_CONTROL_POLICY", policy.SCP); err != nil {
		return nil, err
	} else if orgID != "" {
		claims.AWS.OrgID, claims.AWS.OUPath = orgID, path
	}
	tok, err := cfg.Sign(in.alg, claims)
	if err != nil {
		return nil, err
	}
	return &webIdentityTokenResult{WebIdentityToken: tok, Expiration: c.Now.Add(d).UTC().Format(time.RFC3339)}, nil
}
