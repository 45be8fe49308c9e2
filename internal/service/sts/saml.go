package sts

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/saml"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// AssumeRoleWithSAML: unsigned, as AWS. The SAMLResponse is verified against the
// signing certificates of the IAM SAML provider PrincipalArn names; then AWS's
// requirements of the assertion (issuer, audience, recipient, times, the Role,
// RoleSessionName and SessionDuration attributes) are checked, and the role's trust
// policy decides, by the engine, with the Federated principal and the saml:* keys.

func init() {
	Actions.Add(&service.Action{Name: "AssumeRoleWithSAML", Anonymous: true, Handle: assumeRoleWithSAML})
}

// Errors of AssumeRoleWithSAML. AWS's own wording where it is documented (IAM User
// Guide, "Troubleshoot SAML federation with IAM"; messages users report from STS);
// iamlocal's where AWS says nothing, in the same form.
// (invalidIdentityToken is AssumeRoleWithWebIdentity's too.)
func samlExpired(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "ExpiredTokenException", format, args...)
}

// notAuthorizedSAML is AWS's denial: the role does not exist, the assertion does not
// name it, or its trust policy does not allow the provider.
const notAuthorizedSAML = "Not authorized to perform sts:AssumeRoleWithSAML"

// samlRedeemWithin is how long after its IssueInstant AWS accepts an assertion:
// "Token must be redeemed within 5 minutes of issuance".
const samlRedeemWithin = 5 * time.Minute

// samlSkew is the clock skew allowed to NotBefore and IssueInstant in the future.
const samlSkew = 5 * time.Minute

var rolePattern = regexp.MustCompile(`^[a-zA-Z_0-9+=,.@-]{2,64}$`)

type samlResult struct {
	Credentials      credentials     `xml:"Credentials"`
	AssumedRoleUser  assumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize *int            `xml:"PackedPolicySize,omitempty"`
	Subject          string          `xml:"Subject"`
	SubjectType      string          `xml:"SubjectType"`
	Issuer           string          `xml:"Issuer"`
	Audience         string          `xml:"Audience"`
	NameQualifier    string          `xml:"NameQualifier"`
	SourceIdentity   string          `xml:"SourceIdentity,omitempty"`
}

// SAMLRequest is an AssumeRoleWithSAML request as the checks read it; explain and
// doctor read failed requests through the same functions.
type SAMLRequest struct {
	RoleArn, PrincipalArn string
	Assertion             *saml.Assertion
	Provider              *directory.SAMLProvider
}

func assumeRoleWithSAML(c *service.Call) (any, error) {
	p := c.Params
	for _, name := range []string{"RoleArn", "PrincipalArn", "SAMLAssertion"} {
		if !p.Has(name) {
			return nil, wire.MissingParameter(name)
		}
	}
	roleArn, principalArn, assertion := p.Get("RoleArn"), p.Get("PrincipalArn"), p.Get("SAMLAssertion")
	var v validation
	v.Length(roleArn, "roleArn", 20, 2048)
	v.Length(principalArn, "principalArn", 20, 2048)
	v.Length(assertion, "sAMLAssertion", 4, saml.MaxResponseSize)
	in := &assumeInput{roleArn: roleArn, policy: p.Get("Policy")}
	if err := readDuration(p, in, &v); err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := readSessionExtras(c, in); err != nil {
		return nil, err
	}
	in.tags, in.transitive = nil, nil // AssumeRoleWithSAML takes tags from the assertion only
	if err := setRole(in); err != nil {
		return nil, err
	}
	if _, _, ok := directory.SAMLProviderName(principalArn); !ok {
		return nil, wire.ValidationError("Principal ARN is invalid")
	}

	provider, err := directory.LoadSAMLProvider(c.Tx, principalArn)
	if errors.Is(err, directory.ErrNoEntity) {
		return nil, invalidIdentityToken("Specified provider doesn't exist.")
	}
	if err != nil {
		return nil, err
	}
	keys, err := samlPrivateKeys(c.Env.Ring, provider)
	if err != nil {
		return nil, err
	}
	a, err := VerifySAML(provider, assertion, keys)
	if err != nil {
		return nil, err
	}
	req := &SAMLRequest{RoleArn: roleArn, PrincipalArn: principalArn, Assertion: a, Provider: provider}
	if err := CheckSAMLAssertion(req, c.Now); err != nil {
		return nil, err
	}
	attrs, err := ReadSAMLAttributes(req)
	if err != nil {
		return nil, err
	}
	in.sessionName, in.sourceIdentity, in.tags, in.transitive = attrs.SessionName, attrs.SourceIdentity, attrs.Tags, attrs.Transitive
	if attrs.SessionDuration > 0 && attrs.SessionDuration < in.duration {
		in.duration = attrs.SessionDuration // the attribute shortens API sessions, never lengthens them
	}
	if !a.SessionNotOnOrAfter.IsZero() {
		if left := a.SessionNotOnOrAfter.Sub(c.Now); left < in.duration {
			if left <= 0 {
				return nil, samlExpired("The SAML session expired at %s (SessionNotOnOrAfter)", a.SessionNotOnOrAfter.Format(time.RFC3339))
			}
			in.duration = left.Truncate(time.Second)
		}
	}

	rt, err := c.Env.Resolver.Role(c.Tx, in.account, in.roleName)
	if err != nil {
		return nil, err
	}
	if rt == nil || rt.Role.Arn != roleArn {
		return nil, wire.AccessDenied(notAuthorizedSAML)
	}
	role, trust := rt.Role, rt.Trust

	// The provider vouches for the caller: the trust policy decides with the Federated
	// principal and the keys AWS derives from the assertion.
	c.Identity = &directory.Identity{Caller: SAMLCaller(principalArn)}
	ctx := SAMLContext(req, attrs)
	if err := authorizeAssume(c, "sts:AssumeRoleWithSAML", in, trust, ctx, notAuthorizedSAML); err != nil {
		return nil, err
	}

	if in.duration > time.Duration(role.MaxSessionDuration)*time.Second {
		return nil, wire.ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	claims, packed, err := newRoleClaims(c, in, &role)
	if err != nil {
		return nil, err
	}
	claims.Context = map[string][]string{
		"saml:sub":           {a.Subject},
		"saml:namequalifier": {NameQualifier(a.Issuer, provider)},
	}
	if t := SubjectType(a.SubjectFormat); t != "" {
		claims.Context["saml:sub_type"] = []string{t}
	}
	token, err := c.Env.Ring.Seal(claims)
	if err != nil {
		return nil, err
	}
	res := &samlResult{
		Credentials: credentials{AccessKeyID: claims.AccessKeyID, SecretAccessKey: claims.Secret,
			SessionToken: token, Expiration: claims.Expires.UTC().Format(time.RFC3339)},
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: claims.UserID, Arn: claims.Arn},
		Subject:         a.Subject, SubjectType: SubjectType(a.SubjectFormat), Issuer: a.Issuer,
		Audience: attrs.Recipient, NameQualifier: NameQualifier(a.Issuer, provider), SourceIdentity: claims.SourceIdentity,
	}
	if packed >= 0 {
		res.PackedPolicySize = &packed
	}
	return res, nil
}

// SAMLCaller is the principal a SAML provider stands for in a trust decision.
func SAMLCaller(providerArn string) policy.Caller {
	return policy.Caller{Kind: policy.WebIdentity, Partition: "aws", Arn: providerArn}
}

// VerifySAML verifies a SAMLResponse against a provider's signing certificates,
// decrypting an EncryptedAssertion with keys (the provider's private keys; none when
// they are not at hand), and answers refusals with AWS's errors.
func VerifySAML(p *directory.SAMLProvider, samlResponse string, keys []*rsa.PrivateKey) (*saml.Assertion, error) {
	var certs []*x509.Certificate
	for _, der := range p.Certs {
		if cert, err := x509.ParseCertificate(der); err == nil {
			certs = append(certs, cert)
		}
	}
	a, err := saml.Verify(samlResponse, certs, keys...)
	if err == nil {
		if p.AssertionEncryptionMode == "Required" && !a.Encrypted {
			return nil, invalidIdentityToken("The SAML provider %s requires encrypted assertions", p.Name)
		}
		return a, nil
	}
	switch saml.KindOf(err) {
	case saml.BadSignature:
		return nil, invalidIdentityToken("Response signature invalid")
	case saml.Rejected:
		return nil, wire.Errorf(http.StatusForbidden, "IDPRejectedClaim", "The identity provider rejected the authentication: %s", strings.TrimPrefix(err.Error(), "the identity provider answered "))
	case saml.Encrypted:
		return nil, invalidIdentityToken("The SAML assertion is encrypted and %s", strings.TrimPrefix(err.Error(), "the response holds an EncryptedAssertion and "))
	}
	return nil, invalidIdentityToken("Invalid SAML response: %v", err)
}

// samlPrivateKeys opens a provider's private keys (PEM, sealed in the store).
func samlPrivateKeys(ring *session.Ring, p *directory.SAMLProvider) ([]*rsa.PrivateKey, error) {
	var out []*rsa.PrivateKey
	for _, k := range p.PrivateKeys {
		text, err := ring.OpenBytes(session.PurposeStoredSecret, k.Sealed)
		if err != nil {
			return nil, fmt.Errorf("private key %s of %s: %w", k.KeyID, p.Arn, err)
		}
		block, _ := pem.Decode(text)
		if block == nil {
			continue
		}
		if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
			out = append(out, key)
		} else if key, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			if rk, ok := key.(*rsa.PrivateKey); ok {
				out = append(out, rk)
			}
		}
	}
	return out, nil
}

// SAMLCheck is one of AWS's requirements of a verified assertion, and how the
// assertion fares: Err is nil when it meets it.
type SAMLCheck struct {
	Name string
	Err  *wire.Error
}

// SAMLChecks checks what AWS requires of a verified assertion beyond its signature,
// in AWS's order: the provider's issuer, AWS among the audiences, one bearer
// confirmation whose Recipient is AWS's sign-in endpoint, and the times.
func SAMLChecks(r *SAMLRequest, now time.Time) []SAMLCheck {
	a := r.Assertion
	var out []SAMLCheck
	check := func(name string, err *wire.Error) { out = append(out, SAMLCheck{name, err}) }

	var err *wire.Error
	if a.Issuer != r.Provider.EntityID {
		err = invalidIdentityToken("Issuer not present in specified provider")
	}
	check("issuer is the provider's entity id", err)

	audience := false
	for _, au := range a.Audiences {
		audience = audience || au == saml.AWSURNAudience || saml.IsAWSEndpoint(au)
	}
	err = nil
	if !audience {
		err = invalidIdentityToken("Response does not contain the required audience.")
	}
	check("AWS is an audience", err)

	var bearer []saml.SubjectConfirmation
	for _, sc := range a.SubjectConfirmations {
		if sc.Method == saml.BearerMethod {
			bearer = append(bearer, sc)
		}
	}
	var sc saml.SubjectConfirmation
	switch {
	case len(bearer) != 1:
		err = invalidIdentityToken("The SAML assertion must have exactly one bearer SubjectConfirmation, not %d", len(bearer))
	case bearer[0].Recipient == "" || bearer[0].NotOnOrAfter.IsZero():
		err = invalidIdentityToken("The SubjectConfirmationData must have both NotOnOrAfter and Recipient")
	case !saml.IsAWSEndpoint(bearer[0].Recipient):
		err = invalidIdentityToken("The SubjectConfirmationData Recipient %s is not AWS's SAML endpoint (https://signin.aws.amazon.com/saml)", bearer[0].Recipient)
	default:
		err, sc = nil, bearer[0]
	}
	check("one bearer confirmation to AWS's endpoint", err)

	err = nil
	switch {
	case a.IssueInstant.After(now.Add(samlSkew)):
		err = invalidIdentityToken("The SAML assertion was issued in the future (%s)", a.IssueInstant.Format(time.RFC3339))
	case !a.NotBefore.IsZero() && now.Add(samlSkew).Before(a.NotBefore):
		err = invalidIdentityToken("The SAML assertion is not valid before %s (Conditions NotBefore)", a.NotBefore.Format(time.RFC3339))
	case now.Sub(a.IssueInstant) > samlRedeemWithin:
		err = samlExpired("Token must be redeemed within 5 minutes of issuance")
	default:
		for _, t := range []time.Time{sc.NotOnOrAfter, a.NotOnOrAfter} {
			if !t.IsZero() && !now.Before(t) {
				err = samlExpired("The SAML assertion expired at %s (NotOnOrAfter)", t.Format(time.RFC3339))
				break
			}
		}
	}
	check("valid now", err)
	return out
}

// CheckSAMLAssertion returns the first of SAMLChecks that fails, or nil.
func CheckSAMLAssertion(r *SAMLRequest, now time.Time) error {
	for _, c := range SAMLChecks(r, now) {
		if c.Err != nil {
			return c.Err
		}
	}
	return nil
}

// SAMLAttributes is what AWS reads from an assertion's attributes.
type SAMLAttributes struct {
	SessionName     string
	SessionDuration time.Duration // 0 when the attribute is absent
	SourceIdentity  string
	Tags            []directory.Tag
	Transitive      []string
	Recipient       string
	// Roles are the Role attribute's pairs: role ARN and provider ARN.
	Roles [][2]string
}

// ReadSAMLAttributes reads the Role, RoleSessionName, SessionDuration,
// SourceIdentity, PrincipalTag and TransitiveTagKeys attributes: the Role attribute
// must pair the requested role with the requested provider (in either order).
func ReadSAMLAttributes(r *SAMLRequest) (*SAMLAttributes, error) {
	a := r.Assertion
	out := &SAMLAttributes{}
	for _, sc := range a.SubjectConfirmations {
		if sc.Method == saml.BearerMethod {
			out.Recipient = sc.Recipient
		}
	}
	if !a.Has(saml.AttrRole) {
		return nil, invalidIdentityToken("The SAML assertion has no %s attribute", saml.AttrRole)
	}
	found := false
	for _, v := range a.Values(saml.AttrRole) {
		first, second, ok := strings.Cut(v, ",")
		if !ok {
			continue
		}
		first, second = strings.TrimSpace(first), strings.TrimSpace(second)
		if strings.Contains(first, ":saml-provider/") {
			first, second = second, first
		}
		out.Roles = append(out.Roles, [2]string{first, second})
		found = found || (first == r.RoleArn && second == r.PrincipalArn)
	}
	if !found {
		return nil, wire.AccessDenied(notAuthorizedSAML)
	}
	names := a.Values(saml.AttrRoleSessionName)
	if len(names) == 0 {
		return nil, invalidIdentityToken("RoleSessionName is required in AuthnResponse")
	}
	if out.SessionName = names[0]; !rolePattern.MatchString(out.SessionName) {
		return nil, invalidIdentityToken("RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}")
	}
	if vs := a.Values(saml.AttrSourceIdentity); len(vs) > 0 {
		out.SourceIdentity = vs[0]
		if !rolePattern.MatchString(out.SourceIdentity) || strings.HasPrefix(strings.ToLower(out.SourceIdentity), "aws:") {
			return nil, invalidIdentityToken(`Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:"`)
		}
	}
	if vs := a.Values(saml.AttrSessionDuration); len(vs) > 0 {
		n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
		if err != nil || n < 900 || n > 43200 {
			return nil, invalidIdentityToken("SessionDuration in AuthnResponse must be a number of seconds from 900 to 43200, not %q", vs[0])
		}
		out.SessionDuration = time.Duration(n) * time.Second
	}
	seen := map[string]bool{}
	for _, at := range a.Attributes {
		key, ok := strings.CutPrefix(at.Name, saml.AttrPrincipalTagPrefix)
		if !ok {
			continue
		}
		value := ""
		if len(at.Values) > 0 {
			value = at.Values[0]
		}
		if len(key) < 1 || len(key) > 128 || !tagKeyPattern.MatchString(key) || len(value) > 256 || !tagValuePattern.MatchString(value) {
			return nil, invalidIdentityToken("The session tag %q=%q in the SAML assertion is not valid: keys have 1 to 128 characters and values at most 256, of letters, digits, spaces and _.:/=+-@", key, value)
		}
		if seen[strings.ToLower(key)] {
			return nil, invalidIdentityToken("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(key)] = true
		out.Tags = append(out.Tags, directory.Tag{Key: key, Value: value})
	}
	if len(out.Tags) > 50 {
		return nil, invalidIdentityToken("The SAML assertion passes %d session tags; the limit is 50", len(out.Tags))
	}
	out.Transitive = a.Values(saml.AttrTransitiveTagKeys)
	for _, k := range out.Transitive {
		if !seen[strings.ToLower(k)] {
			return nil, invalidIdentityToken("The transitive tag key %s is not among the assertion's PrincipalTag attributes", k)
		}
	}
	return out, nil
}

// SubjectType is the NameID format as AWS returns it: without the SAML 2.0 prefix.
func SubjectType(format string) string {
	return strings.TrimPrefix(format, saml.NameIDFormatPrefix)
}

// NameQualifier is BASE64(SHA1(issuer + account + "/" + provider name)) (STS API
// Reference, AssumeRoleWithSAML).
func NameQualifier(issuer string, p *directory.SAMLProvider) string {
	sum := sha1.Sum([]byte(issuer + p.Account + "/" + p.Name))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// samlAttributeKeys maps attribute Names to the trust policy keys AWS fills from them
// (IAM User Guide, "Mapping SAML attributes to AWS trust policy context keys"), with
// whether the key takes a list of values.
var samlAttributeKeys = map[string]struct {
	key  string
	list bool
}{
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.1":  {"saml:edupersonaffiliation", true},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.2":  {"saml:edupersonnickname", true},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.3":  {"saml:edupersonorgdn", false},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.4":  {"saml:edupersonorgunitdn", true},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.5":  {"saml:edupersonprimaryaffiliation", false},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.6":  {"saml:edupersonprincipalname", false},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.7":  {"saml:edupersonentitlement", true},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.8":  {"saml:edupersonprimaryorgunitdn", false},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.9":  {"saml:edupersonscopedaffiliation", true},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.10": {"saml:edupersontargetedid", true},
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.11": {"saml:edupersonassurance", true},
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.2":  {"saml:eduorghomepageuri", true},
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.3":  {"saml:eduorgidentityauthnpolicyuri", true},
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.4":  {"saml:eduorglegalname", true},
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.5":  {"saml:eduorgsuperioruri", true},
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.6":  {"saml:eduorgwhitepagesuri", true},
	"urn:oid:2.5.4.3":                   {"saml:cn", true},
	// Active Directory claims.
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name":              {"saml:name", false},
	"http://schemas.xmlsoap.org/claims/CommonName":                            {"saml:commonName", false},
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname":         {"saml:givenName", false},
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname":           {"saml:surname", false},
	"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress":      {"saml:mail", false},
	"http://schemas.microsoft.com/ws/2008/06/identity/claims/primarygroupsid": {"saml:uid", false},
	// X.500 attributes, as the guide lists them (2.4.5.42 and 0.9.2342.19200300.100.1.45
	// as printed there, and the OIDs they stand for).
	"2.5.4.3":                    {"saml:commonName", false},
	"2.5.4.4":                    {"saml:surname", false},
	"2.4.5.42":                   {"saml:givenName", false},
	"2.5.4.42":                   {"saml:givenName", false},
	"2.5.4.45":                   {"saml:x500UniqueIdentifier", false},
	"0.9.2342.19200300100.1.1":   {"saml:uid", false},
	"0.9.2342.19200300100.1.3":   {"saml:mail", false},
	"0.9.2342.19200300.100.1.45": {"saml:organizationStatus", false},
	"0.9.2342.19200300100.1.45":  {"saml:organizationStatus", false},
}

// SAMLContext is the trust decision's context: the saml:* keys, and what the session
// asks for (sts:RoleSessionName, sts:SourceIdentity, session tags).
func SAMLContext(r *SAMLRequest, attrs *SAMLAttributes) policy.Context {
	a, p := r.Assertion, r.Provider
	ctx := policy.Context{}
	ctx.Set("saml:aud", attrs.Recipient)
	ctx.Set("saml:iss", a.Issuer)
	ctx.Set("saml:sub", a.Subject)
	if t := SubjectType(a.SubjectFormat); t != "" {
		ctx.Set("saml:sub_type", t)
	}
	ctx.Set("saml:doc", p.Account+"/"+p.Name)
	ctx.Set("saml:namequalifier", NameQualifier(a.Issuer, p))
	mapped := map[string]bool{}
	for _, at := range a.Attributes {
		m, ok := samlAttributeKeys[at.Name]
		if !ok || mapped[m.key] || len(at.Values) == 0 {
			continue // AWS maps one claim per key
		}
		mapped[m.key] = true
		if m.list {
			ctx.Set(m.key, at.Values...)
		} else {
			ctx.Set(m.key, at.Values[0])
		}
	}
	sessionKeys(ctx, attrs.SessionName, attrs.SourceIdentity, attrs.Tags, attrs.Transitive)
	return ctx
}
