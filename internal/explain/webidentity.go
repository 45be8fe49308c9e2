package explain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// webIdentityCaller reads an OIDC provider ARN, or the name of a provider AWS
// federates with built in, as the web identity caller of AssumeRoleWithWebIdentity.
func webIdentityCaller(s string) (policy.Caller, bool) {
	if _, _, ok := oidc.ParseProviderARN(s); ok {
		return policy.Caller{Kind: policy.WebIdentity, Partition: "aws", Arn: s}, true
	}
	if oidc.BuiltIn(s) {
		return policy.Caller{Kind: policy.WebIdentity, Partition: "aws", Arn: s}, true
	}
	return policy.Caller{}, false
}

// OIDCProvider is an account's IAM OIDC provider, as the doctor needs it.
type OIDCProvider struct {
	Arn       string
	ClientIDs []string
}

// OIDCSource is what the web identity checks read beyond Source: an account's OIDC
// provider and an issuer's public keys. AWS implements it; a Source without it leaves
// those checks unchecked.
type OIDCSource interface {
	// OIDCProvider reads the provider of an issuer name in an account (ErrNotFound).
	OIDCProvider(ctx context.Context, account, name string) (*OIDCProvider, error)
	// IssuerKeys is the JWKS an iamlocal server verifies an issuer's tokens with.
	IssuerKeys(ctx context.Context, name string) ([]byte, error)
}

// OIDCProvider reads GetOpenIDConnectProvider in the account.
func (a *AWS) OIDCProvider(ctx context.Context, account, name string) (*OIDCProvider, error) {
	client, err := a.iam(ctx, account)
	if err != nil {
		return nil, err
	}
	arn := oidc.ProviderARN(account, name)
	out, err := client.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if err != nil {
		return nil, apiErr(err, "iam:GetOpenIDConnectProvider %s", arn)
	}
	return &OIDCProvider{Arn: arn, ClientIDs: out.ClientIDList}, nil
}

// IssuerKeys reads the issuer's JWKS from the iamlocal server of the configuration
// (/_iamlocal/oidc/NAME/jwks); AWS keeps its copies to itself.
func (a *AWS) IssuerKeys(ctx context.Context, name string) ([]byte, error) {
	base := aws.ToString(a.cfg.BaseEndpoint)
	if base == "" {
		return nil, errors.New("the keys STS verifies with are AWS's own; iamlocal reads them only from an iamlocal server")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+oidc.PathPrefix+name+"/jwks", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case http.StatusNotFound:
		return nil, fmt.Errorf("the server has no keys for %s: %w", oidc.IssuerURL(name), ErrNotFound)
	}
	return nil, fmt.Errorf("GET %s: HTTP %d", req.URL.Path, resp.StatusCode)
}

// WebIdentityQuery is an sts:AssumeRoleWithWebIdentity call to check.
type WebIdentityQuery struct {
	RoleArn     string
	Token       string
	ProviderID  string // www.amazon.com or graph.facebook.com, for their OAuth tokens
	SessionName string
	Duration    time.Duration // 0: one hour
	Now         time.Time
}

// DoctorAssumeRoleWithWebIdentity checks, in order, what STS checks of a web identity
// token — that it is a JWT, its issuer is a provider of the role's account (or one AWS
// knows built in), its lifetime, its audience against the provider's client ids, its
// signature — and then the role's trust policy with the condition keys the token
// gives, showing the token's claims and which condition did not match.
func DoctorAssumeRoleWithWebIdentity(ctx context.Context, src Source, q WebIdentityQuery) (*Report, error) {
	if !roleArnPattern.MatchString(q.RoleArn) {
		return nil, fmt.Errorf("--role-arn %q: want arn:aws:iam::ACCOUNT:role/NAME", q.RoleArn)
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	if q.Duration == 0 {
		q.Duration = time.Hour
	}
	if q.SessionName == "" {
		q.SessionName = "iamlocal-doctor"
	}
	account := ArnAccount(q.RoleArn)
	r := &Report{Action: "sts:AssumeRoleWithWebIdentity", Resource: q.RoleArn}
	fail := func(name, detail, fix string) *Report {
		r.Checks = append(r.Checks, Check{Name: name, Status: StatusFail, Detail: detail, Fix: fix})
		r.Decision = authz.ImplicitDeny.String()
		r.Reasons = []string{detail}
		return r
	}

	claims, err := oidc.Peek(strings.TrimSpace(q.Token))
	if err != nil {
		return fail("token is a signed JWT", "InvalidIdentityToken: the token is not a JSON Web Token signed with RS256/384/512 or ES256/384/512", "pass the ID token itself (three base64url parts separated by dots)"), nil
	}
	r.Checks = append(r.Checks, Check{Name: "token is a signed JWT", Status: StatusOK, Detail: "claims: " + claimSummary(claims)})

	// The issuer and its provider.
	iss, _ := claims.String("iss")
	name, ok := oidc.IssuerName(iss)
	if !ok && oidc.BuiltIn(iss) {
		name, ok = iss, true
	}
	if q.ProviderID != "" {
		name, ok = q.ProviderID, true
	}
	if !ok {
		return fail("identity provider", fmt.Sprintf("InvalidIdentityToken: No OpenIDConnect provider found in your account for %s (iss is not an https URL)", iss), "the token's iss must be https://HOST[/PATH]"), nil
	}
	principal := name
	var clientIDs []string
	checkAud := false
	ch := Check{Name: "identity provider", Status: StatusOK}
	os, canRead := src.(OIDCSource)
	switch {
	case !canRead:
		ch.Status, ch.Detail = StatusWarn, "the provider could not be read"
	default:
		p, err := os.OIDCProvider(ctx, account, name)
		switch {
		case err == nil:
			principal, clientIDs, checkAud = p.Arn, p.ClientIDs, true
			ch.Detail = fmt.Sprintf("%s (client ids %s)", p.Arn, strings.Join(p.ClientIDs, ", "))
		case errors.Is(err, ErrNotFound) && oidc.BuiltIn(name):
			ch.Detail = name + " is built in: AWS federates with it without an IAM OIDC provider"
		case errors.Is(err, ErrNotFound):
			aud := oidc.AudienceOf(claims)
			fix := fmt.Sprintf("register it in account %s: aws iam create-open-id-connect-provider --url %s", account, oidc.IssuerURL(name))
			if len(aud) > 0 {
				fix += " --client-id-list " + aud[0]
			}
			return fail("identity provider", fmt.Sprintf("InvalidIdentityToken: No OpenIDConnect provider found in your account for %s", iss), fix), nil
		default:
			ch.Status, ch.Detail = StatusWarn, fmt.Sprintf("the provider could not be read: %v", err)
		}
	}
	r.Checks = append(r.Checks, ch)

	// Lifetime.
	ch = Check{Name: "token lifetime", Status: StatusOK}
	if exp, _, err := claims.Time("exp"); err == nil {
		ch.Detail = fmt.Sprintf("expires %s (in %s)", time.Unix(exp, 0).UTC().Format(time.RFC3339), time.Unix(exp, 0).Sub(q.Now).Round(time.Second))
	}
	if err := claims.CheckTimes(q.Now); err != nil {
		var exp *oidc.ExpiredError
		if errors.As(err, &exp) {
			ch.Status, ch.Detail = StatusFail, fmt.Sprintf("ExpiredTokenException: Token expired: current date/time %d must be before the expiration date/time %d (expired %s ago)",
				exp.Now, exp.Exp, q.Now.Sub(time.Unix(exp.Exp, 0)).Round(time.Second))
		} else {
			ch.Status, ch.Detail = StatusFail, "InvalidIdentityToken: "+err.Error()
		}
		ch.Fix = "get a fresh token from the identity provider (iamlocal oidc token for a built-in issuer)"
	}
	r.Checks = append(r.Checks, ch)

	// Audience.
	aud := oidc.AudienceOf(claims)
	ch = Check{Name: "audience", Status: StatusOK, Detail: fmt.Sprintf("%s is a client id of the provider", strings.Join(aud, ", "))}
	switch {
	case !checkAud:
		ch.Status, ch.Detail = StatusSkip, "no IAM provider to list client ids: the trust policy checks the audience"
	case !anyIn(aud, clientIDs):
		what := "aud"
		if azp, _ := claims.String("azp"); azp != "" {
			what = "azp (AWS reads azp before aud)"
		}
		ch.Status = StatusFail
		ch.Detail = fmt.Sprintf("InvalidIdentityToken: Incorrect token audience: the token's %s is %s; the provider's client ids are %s", what, quotedOrNone(aud), quotedOrNone(clientIDs))
		if len(aud) > 0 {
			ch.Fix = fmt.Sprintf("aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn %s --client-id %s", principal, shellQuote(aud[0]))
		}
	}
	r.Checks = append(r.Checks, ch)

	// Signature.
	ch = Check{Name: "signature", Status: StatusOK}
	if !canRead {
		ch.Status, ch.Detail = StatusWarn, "the issuer's keys could not be read"
	} else if jwks, err := os.IssuerKeys(ctx, name); err != nil {
		ch.Status, ch.Detail = StatusWarn, fmt.Sprintf("not checked: %v", err)
		if errors.Is(err, ErrNotFound) {
			ch.Status = StatusFail
			ch.Detail = "InvalidIdentityToken: Couldn't retrieve verification key from your identity provider: " + err.Error()
			ch.Fix = fmt.Sprintf("import the issuer's public keys: iamlocal oidc jwks import --issuer %s JWKS-FILE", oidc.IssuerURL(name))
		}
	} else if keys, err := oidc.ParseJWKS(jwks); err != nil {
		ch.Status, ch.Detail = StatusWarn, fmt.Sprintf("the issuer's key set does not parse: %v", err)
	} else if tok, err := oidc.Verify(strings.TrimSpace(q.Token), keys); err != nil {
		ch.Status, ch.Detail = StatusFail, "InvalidIdentityToken: "+err.Error()
		ch.Fix = fmt.Sprintf("a token of the real issuer verifies only with its keys: iamlocal oidc jwks import --issuer %s JWKS-FILE", oidc.IssuerURL(name))
		if errors.Is(err, oidc.ErrNoKey) {
			ch.Detail = "InvalidIdentityToken: Couldn't retrieve verification key from your identity provider: " + err.Error()
		}
	} else {
		ch.Detail = fmt.Sprintf("%s with key %s", tok.Algorithm, tok.KeyID)
	}
	r.Checks = append(r.Checks, ch)

	// The trust policy, with the keys the token gives.
	sub, _ := claims.String("sub")
	audience := ""
	switch {
	case checkAud:
		for _, a := range aud {
			if anyIn([]string{a}, clientIDs) {
				audience = a
				break
			}
		}
	}
	if audience == "" && len(aud) > 0 {
		audience = aud[0] // refused above when a provider lists client ids; the trust policy is still worth checking
	}
	fed := &oidc.Federation{Name: name, Provider: principal, Audience: audience, Subject: sub, Claims: claims}
	rctx := map[string][]string{"sts:RoleSessionName": {q.SessionName}}
	for k, v := range fed.TrustKeys() {
		rctx[k] = v
	}
	c, err := Gather(ctx, src, Query{Principal: principal, Action: "sts:AssumeRoleWithWebIdentity", Resource: q.RoleArn, Context: rctx, Now: q.Now})
	if err != nil {
		return nil, err
	}
	d := c.Decide()
	nd := c.decideWithoutDenies()
	full := c.report(d)
	r.Principal, r.Decision, r.Reasons = full.Principal, full.Decision, full.Reasons
	r.Notes, r.Warnings = append(r.Notes, full.Notes...), append(r.Warnings, full.Warnings...)
	r.Notes = append(r.Notes, "condition keys from the token: "+keySummary(fed.TrustKeys()))

	ch = Check{Name: "role exists", Status: StatusOK}
	roleOK := false
	switch {
	case c.RoleErr != nil:
		ch.Status, ch.Detail = StatusWarn, fmt.Sprintf("could not read the role: %v", c.RoleErr)
	case c.RoleMissing:
		ch.Status, ch.Detail = StatusFail, fmt.Sprintf("AccessDenied: role %s does not exist in account %s (STS says only \"Not authorized to perform sts:AssumeRoleWithWebIdentity\")", q.RoleArn, account)
	case c.Role != nil && c.Role.Arn != q.RoleArn:
		ch.Status, ch.Detail = StatusFail, fmt.Sprintf("the role's ARN is %s, not %s: AssumeRoleWithWebIdentity needs it exactly, path included", c.Role.Arn, q.RoleArn)
		ch.Fix = "use --role-arn " + c.Role.Arn
	default:
		roleOK = true
		ch.Detail = fmt.Sprintf("%s (MaxSessionDuration %d s)", c.Role.Arn, c.Role.MaxSessionDuration)
	}
	r.Checks = append(r.Checks, ch)

	if roleOK {
		tc := c.layerCheck(d, nd, authz.Resource, "trust policy allows the token")
		if tc.Status == StatusFail {
			tc.Detail = "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity — " + tc.Detail
			tc.Fix, tc.FixPolicy = webIdentityTrustFix(principal, name, fed)
		}
		r.Checks = append(r.Checks, tc)
	} else {
		r.Checks = append(r.Checks, Check{Name: "trust policy allows the token", Status: StatusSkip, Detail: "no role to read a trust policy from"})
	}
	r.Checks = append(r.Checks, c.layerCheck(d, nd, authz.RCP, "RCPs of the role's account "+c.ResourceAccount))
	if roleOK {
		max := time.Duration(c.Role.MaxSessionDuration) * time.Second
		ch = Check{Name: "MaxSessionDuration", Status: StatusOK, Detail: fmt.Sprintf("%d s requested, the role allows up to %d s", int(q.Duration.Seconds()), int(max.Seconds()))}
		if q.Duration > max {
			ch.Status = StatusFail
			ch.Detail = "ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
			ch.Fix = fmt.Sprintf("ask for at most %d s, or raise the role's limit: aws iam update-role --role-name %s --max-session-duration %d", int(max.Seconds()), c.Role.Name, min(int(q.Duration.Seconds()), 43200))
		}
		r.Checks = append(r.Checks, ch)
	}
	r.Checks = append(r.Checks, decisionCheck(r, d))
	return r, nil
}

// webIdentityTrustFix is a trust statement that lets the token in: its provider as
// the Federated principal, and its aud and sub, as the product documentation writes
// them.
func webIdentityTrustFix(principal, name string, f *oidc.Federation) (string, string) {
	cond := map[string]any{}
	if f.Audience != "" {
		cond[name+":aud"] = f.Audience
	}
	if f.Subject != "" {
		cond[name+":sub"] = f.Subject
	}
	st := Statement{Effect: "Allow", Principal: map[string]any{"Federated": principal}, Action: "sts:AssumeRoleWithWebIdentity"}
	if len(cond) > 0 {
		st.Condition = map[string]map[string]any{"StringEquals": cond}
	}
	return "add this statement to the role's trust policy (aws iam update-assume-role-policy), or widen the condition that did not match", docOf(st)
}

func anyIn(vals, set []string) bool {
	for _, v := range vals {
		for _, s := range set {
			if v == s {
				return true
			}
		}
	}
	return false
}

func quotedOrNone(vals []string) string {
	if len(vals) == 0 {
		return "(none)"
	}
	return quoted(vals)
}

// claimSummary lists a token's claims, name=value, the registered ones first.
func claimSummary(c oidc.Claims) string {
	first := []string{"iss", "sub", "aud", "azp", "amr", "exp", "nbf", "iat"}
	var names []string
	for k := range c {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		pi, pj := index(first, names[i]), index(first, names[j])
		if pi != pj {
			return pi < pj
		}
		return names[i] < names[j]
	})
	parts := make([]string, 0, len(names))
	for _, k := range names {
		v := oidc.Render(c[k])
		if len(v) > 80 {
			v = v[:77] + "…"
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ", ")
}

func index(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return len(list)
}

func keySummary(k oidc.Keys) string {
	names := make([]string, 0, len(k))
	for n := range k {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+"="+strings.Join(k[n], ","))
	}
	return strings.Join(parts, ", ")
}

// WebIdentityRequest reads a token as the principal and condition keys of an
// sts:AssumeRoleWithWebIdentity request on a role of account, for `iamlocal explain
// --web-identity-token`: the account's OIDC provider for the token's issuer (or the
// built-in provider) and the keys STS fills from the token. It does not check the
// token; the doctor does.
func WebIdentityRequest(ctx context.Context, src Source, account, token string) (principal string, keys map[string][]string, err error) {
	claims, err := oidc.Peek(strings.TrimSpace(token))
	if err != nil {
		return "", nil, errors.New("the web identity token is not a signed JSON Web Token")
	}
	iss, _ := claims.String("iss")
	name, ok := oidc.IssuerName(iss)
	if !ok && oidc.BuiltIn(iss) {
		name, ok = iss, true
	}
	if !ok {
		return "", nil, fmt.Errorf("the token's iss %q is not https://HOST[/PATH]", iss)
	}
	principal = oidc.ProviderARN(account, name)
	aud := oidc.AudienceOf(claims)
	audience := ""
	if len(aud) > 0 {
		audience = aud[0]
	}
	if os, ok := src.(OIDCSource); ok {
		p, err := os.OIDCProvider(ctx, account, name)
		switch {
		case err == nil:
			for _, a := range aud {
				if anyIn([]string{a}, p.ClientIDs) {
					audience = a
					break
				}
			}
		case errors.Is(err, ErrNotFound) && oidc.BuiltIn(name):
			principal = name
		}
	} else if oidc.BuiltIn(name) {
		principal = name
	}
	sub, _ := claims.String("sub")
	fed := &oidc.Federation{Name: name, Provider: principal, Audience: audience, Subject: sub, Claims: claims}
	return principal, fed.TrustKeys(), nil
}
