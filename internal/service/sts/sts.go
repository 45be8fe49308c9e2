// Package sts is AWS Security Token Service: GetCallerIdentity, AssumeRole,
// GetSessionToken and GetAccessKeyInfo, with the rules of AWS-SEMANTICS.md §3.
package sts

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/authzmsg"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// XMLNS is STS's XML namespace.
const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"

// Version is the Query protocol version of STS.
const Version = "2011-06-15"

// Actions is the STS action table.
var Actions = service.NewTable(
	&service.Action{Name: "GetCallerIdentity", Handle: getCallerIdentity},
	&service.Action{Name: "AssumeRole", Handle: assumeRole},
	&service.Action{Name: "GetSessionToken", Handle: getSessionToken},
	&service.Action{Name: "GetAccessKeyInfo", IAMAction: "sts:GetAccessKeyInfo", Handle: getAccessKeyInfo},
	&service.Action{Name: "DecodeAuthorizationMessage", IAMAction: "sts:DecodeAuthorizationMessage", Handle: decodeAuthorizationMessage},
)

type callerIdentity struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

// getCallerIdentity needs no permission: AWS answers even under an explicit deny.
func getCallerIdentity(c *service.Call) (any, error) {
	id := c.Identity
	return &callerIdentity{UserID: id.UserID, Account: id.Caller.Account, Arn: id.Caller.Arn}, nil
}

// WriteXMLFields writes the result without reflection; TestFastXMLMatchesEncoding
// pins it to encoding/xml's output.
func (r *callerIdentity) WriteXMLFields(b *strings.Builder) {
	wire.Elem(b, "UserId", r.UserID)
	wire.Elem(b, "Account", r.Account)
	wire.Elem(b, "Arn", r.Arn)
}

func (r *assumeRoleResult) WriteXMLFields(b *strings.Builder) {
	c := &r.Credentials
	b.WriteString("<Credentials>")
	wire.Elem(b, "AccessKeyId", c.AccessKeyID)
	wire.Elem(b, "SecretAccessKey", c.SecretAccessKey)
	wire.Elem(b, "SessionToken", c.SessionToken)
	wire.Elem(b, "Expiration", c.Expiration)
	b.WriteString("</Credentials><AssumedRoleUser>")
	wire.Elem(b, "AssumedRoleId", r.AssumedRoleUser.AssumedRoleID)
	wire.Elem(b, "Arn", r.AssumedRoleUser.Arn)
	b.WriteString("</AssumedRoleUser>")
	if r.PackedPolicySize != nil {
		wire.Elem(b, "PackedPolicySize", strconv.Itoa(*r.PackedPolicySize))
	}
	if r.SourceIdentity != "" {
		wire.Elem(b, "SourceIdentity", r.SourceIdentity)
	}
}

type credentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	XMLName          struct{}        `xml:"-"`
	Credentials      credentials     `xml:"Credentials"`
	AssumedRoleUser  assumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize *int            `xml:"PackedPolicySize,omitempty"`
	SourceIdentity   string          `xml:"SourceIdentity,omitempty"`
}

var (
	sessionNamePattern    = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDPattern     = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
	sourceIdentityPattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	tagKeyPattern         = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValuePattern       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

type validation = wire.Validation

type assumeInput struct {
	roleArn, account, roleName, sessionName, externalID, sourceIdentity string
	duration                                                            time.Duration
	durationGiven                                                       bool
	policy                                                              string
	policyArns                                                          []string
	tags                                                                []directory.Tag
	transitive                                                          []string
}

func readAssumeInput(c *service.Call) (*assumeInput, error) {
	p := c.Params
	in := &assumeInput{roleArn: p.Get("RoleArn"), sessionName: p.Get("RoleSessionName"),
		externalID: p.Get("ExternalId"), sourceIdentity: p.Get("SourceIdentity"), policy: p.Get("Policy")}
	for _, name := range []string{"RoleArn", "RoleSessionName"} {
		if !p.Has(name) {
			return nil, wire.MissingParameter(name)
		}
	}
	var v validation
	v.Length(in.roleArn, "roleArn", 20, 2048)
	v.Length(in.sessionName, "roleSessionName", 2, 64)
	v.Check(sessionNamePattern.MatchString(in.sessionName), in.sessionName, "roleSessionName", `satisfy regular expression pattern: [\w+=,.@-]*`)
	if p.Has("ExternalId") {
		v.Length(in.externalID, "externalId", 2, 1224)
		v.Check(externalIDPattern.MatchString(in.externalID), in.externalID, "externalId", `satisfy regular expression pattern: [\w+=,.@:\/-]*`)
	}
	if p.Has("SourceIdentity") {
		v.Length(in.sourceIdentity, "sourceIdentity", 2, 64)
		v.Check(sourceIdentityPattern.MatchString(in.sourceIdentity), in.sourceIdentity, "sourceIdentity", `satisfy regular expression pattern: [\w+=,.@-]*`)
	}
	if err := readDuration(p, in, &v); err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := readSessionExtras(c, in); err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.ToLower(in.sourceIdentity), "aws:") {
		return nil, wire.ValidationError("SourceIdentity cannot start with the prefix 'aws:'")
	}
	if err := setRole(in); err != nil {
		return nil, err
	}
	return in, nil
}

func assumeRole(c *service.Call) (any, error) {
	in, err := readAssumeInput(c)
	if err != nil {
		return nil, err
	}
	caller := c.Identity
	if caller.Caller.Kind == policy.RootUser {
		// AWS refuses role assumption by any account's root user.
		return nil, wire.AccessDenied("Roles may not be assumed by root accounts.")
	}

	mfaOK, mfaAt, err := authenticateMFA(c)
	if err != nil {
		return nil, err
	}
	rt, err := c.Env.Resolver.Role(c.Tx, in.account, in.roleName)
	if err != nil {
		return nil, err
	}
	var role directory.Role
	var trust *policy.Policy
	if rt != nil && rt.Role.Arn == in.roleArn { // the ARN's path must be the role's
		role, trust = rt.Role, rt.Trust
	}
	ctx := policy.Context{}
	sessionKeys(ctx, in.sessionName, in.sourceIdentity, in.tags, in.transitive)
	if in.externalID != "" {
		ctx.Set("sts:ExternalId", in.externalID)
	}
	if mfaOK {
		mfaContext(ctx)
	}
	// The caller's permission and the trust policy, in one decision; then the extra
	// permissions that tags and a source identity need.
	if err := authorizeAssume(c, "sts:AssumeRole", in, trust, ctx, ""); err != nil {
		return nil, err
	}

	chained := caller.Caller.Kind == policy.AssumedRole
	if in.duration > time.Duration(role.MaxSessionDuration)*time.Second {
		return nil, wire.ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if chained && in.duration > time.Hour {
		return nil, wire.ValidationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	claims, packed, err := newRoleClaims(c, in, &role)
	if err != nil {
		return nil, err
	}
	claims.Chained = chained
	if mfaOK {
		claims.MFA, claims.MFAAt = true, mfaAt
	}
	token, err := c.Env.Ring.Seal(claims)
	if err != nil {
		return nil, err
	}
	res := &assumeRoleResult{
		Credentials: credentials{AccessKeyID: claims.AccessKeyID, SecretAccessKey: claims.Secret,
			SessionToken: token, Expiration: claims.Expires.UTC().Format(time.RFC3339)},
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: claims.UserID, Arn: claims.Arn},
		SourceIdentity:  claims.SourceIdentity,
	}
	if packed >= 0 {
		res.PackedPolicySize = &packed
	}
	return res, nil
}

// newRoleClaims builds the session: the role's identity, the session policies, the
// tags (session tags over role tags, transitive tags carried from a calling session)
// and the source identity (kept through chaining).
// readSessionExtras reads what every session request may add: a session policy,
// managed session policies, session tags and transitive tag keys.
func readSessionExtras(c *service.Call, in *assumeInput) error {
	p := c.Params
	var v validation
	if p.Has("Policy") {
		v.Length(in.policy, "policy", 1, 2048)
	}
	arns, err := p.Structs("PolicyArns")
	if err != nil {
		return err
	}
	v.Check(len(arns) <= 10, fmt.Sprint(len(arns)), "policyArns", "have length less than or equal to 10")
	for _, a := range arns {
		in.policyArns = append(in.policyArns, a["arn"])
	}
	tags, err := p.Structs("Tags")
	if err != nil {
		return err
	}
	v.Check(len(tags) <= 50, fmt.Sprint(len(tags)), "tags", "have length less than or equal to 50")
	for i, t := range tags {
		k, val := t["Key"], t["Value"]
		v.Length(k, fmt.Sprintf("tags.%d.member.key", i+1), 1, 128)
		v.Check(tagKeyPattern.MatchString(k), k, fmt.Sprintf("tags.%d.member.key", i+1), `satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		v.Length(val, fmt.Sprintf("tags.%d.member.value", i+1), 0, 256)
		v.Check(tagValuePattern.MatchString(val), val, fmt.Sprintf("tags.%d.member.value", i+1), `satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
		in.tags = append(in.tags, directory.Tag{Key: k, Value: val})
	}
	if in.transitive, err = p.List("TransitiveTagKeys"); err != nil {
		return err
	}
	v.Check(len(in.transitive) <= 50, fmt.Sprint(len(in.transitive)), "transitiveTagKeys", "have length less than or equal to 50")
	return v.Err()
}

func newRoleClaims(c *service.Call, in *assumeInput, role *directory.Role) (*session.Claims, int, error) {
	cl := &session.Claims{
		AccessKeyID: directory.NewAccessKeyID("ASIA", in.account), Secret: directory.NewSecret(),
		Account: in.account, Type: "AssumedRole",
		Arn:    fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", in.account, role.Name, in.sessionName),
		UserID: role.ID + ":" + in.sessionName, PrincipalID: role.ID, RoleArn: role.Arn, RoleName: role.Name, SessionName: in.sessionName,
		SourceIdentity: in.sourceIdentity, IssuedAt: c.Now.UTC(), Expires: c.Now.Add(in.duration).UTC(),
	}
	if prev := c.Identity.Claims; prev != nil {
		cl.MFA, cl.MFAAt = prev.MFA, prev.MFAAt
		if prev.SourceIdentity != "" {
			if in.sourceIdentity != "" && in.sourceIdentity != prev.SourceIdentity {
				return nil, 0, wire.AccessDenied("The source identity %q set by a previous session cannot be changed", prev.SourceIdentity)
			}
			cl.SourceIdentity = prev.SourceIdentity
		}
		for _, k := range prev.TransitiveTagKeys {
			lk := strings.ToLower(k)
			cl.SetTag(k, prev.Tags[lk])
			cl.TransitiveTagKeys = append(cl.TransitiveTagKeys, k)
		}
	}
	packed, err := applySessionExtras(c, in, cl)
	if err != nil {
		return nil, 0, err
	}
	return cl, packed, nil
}

// applySessionExtras puts the session policies and tags into the claims and returns
// PackedPolicySize (-1 when there is nothing to pack).
func applySessionExtras(c *service.Call, in *assumeInput, cl *session.Claims) (int, error) {
	packed := -1
	if in.policy != "" {
		if _, err := c.Env.Resolver.Policies.Compile(in.policy, policy.Session); err != nil {
			var pe *policy.Error
			if errors.As(err, &pe) {
				return 0, wire.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "%s", strings.TrimPrefix(pe.Error(), "MalformedPolicyDocument: "))
			}
			return 0, err
		}
		cl.PolicyDocs = []string{in.policy}
	}
	for _, arn := range in.policyArns {
		if !strings.HasPrefix(arn, "arn:aws:iam::") || !strings.Contains(arn, ":policy/") {
			return 0, wire.InvalidParameterValue("The policy ARN %s is invalid", arn)
		}
		cl.PolicyArns = append(cl.PolicyArns, arn)
	}
	for _, t := range in.tags {
		if _, dup := cl.TagKeys[strings.ToLower(t.Key)]; dup && !isTransitive(cl, t.Key) {
			return 0, wire.InvalidParameterValue("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		cl.SetTag(t.Key, t.Value)
	}
	cl.TransitiveTagKeys = append(cl.TransitiveTagKeys, in.transitive...)
	for _, k := range in.transitive {
		if _, ok := cl.TagKeys[strings.ToLower(k)]; !ok {
			return 0, wire.InvalidParameterValue("The specified transitive tag key must be included in the requested tags.")
		}
	}
	if in.policy != "" || len(in.policyArns) > 0 || len(in.tags) > 0 {
		packed = packedSize(in)
		if packed > 100 {
			return 0, wire.Errorf(http.StatusBadRequest, "PackedPolicyTooLarge",
				"Packed size of session policies and session tags is too large: %d%% of the allowed size", packed)
		}
	}
	return packed, nil
}

func isTransitive(cl *session.Claims, key string) bool {
	for _, k := range cl.TransitiveTagKeys {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// packedSize estimates AWS's packed size, in percent of the limit: the compacted
// session policy, the policy ARNs and the tags against 2048 characters.
func packedSize(in *assumeInput) int {
	n := 0
	if in.policy != "" {
		var v any
		if json.Unmarshal([]byte(in.policy), &v) == nil {
			b, _ := json.Marshal(v)
			n += len(b)
		}
	}
	for _, a := range in.policyArns {
		n += len(a)
	}
	for _, t := range in.tags {
		n += len(t.Key) + len(t.Value)
	}
	return (n*100 + 2047) / 2048
}

type sessionTokenResult struct {
	Credentials credentials `xml:"Credentials"`
}

func getSessionToken(c *service.Call) (any, error) {
	id := c.Identity
	if id.Temporary() {
		return nil, wire.AccessDenied("Cannot call GetSessionToken with session credentials")
	}
	seconds, given, err := c.Params.Int("DurationSeconds")
	if err != nil {
		return nil, err
	}
	if !given {
		seconds = 43200
		if id.Caller.Kind == policy.RootUser {
			seconds = 3600
		}
	}
	var v validation
	v.Check(seconds >= 900 && seconds <= 129600, fmt.Sprint(seconds), "durationSeconds", "have value greater than or equal to 900 and less than or equal to 129600")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if id.Caller.Kind == policy.RootUser && seconds > 3600 {
		seconds = 3600 // AWS caps the root user's sessions at one hour
	}
	mfaOK, mfaAt, err := authenticateMFA(c)
	if err != nil {
		return nil, err
	}
	// STS: "No permissions are required for users to perform this operation" — it
	// authenticates (MFA); policies do not control it.
	cl := &session.Claims{
		AccessKeyID: directory.NewAccessKeyID("ASIA", id.Caller.Account), Secret: directory.NewSecret(),
		Account: id.Caller.Account, Type: "User", Arn: id.Caller.Arn, UserID: id.UserID, UserName: id.Caller.Name,
		MFA: mfaOK, MFAAt: mfaAt, IssuedAt: c.Now.UTC(), Expires: c.Now.Add(time.Duration(seconds) * time.Second).UTC(),
	}
	if id.Caller.Kind == policy.RootUser {
		cl.Type = "Root"
	} else {
		cl.PrincipalID = id.UserID
	}
	token, err := c.Env.Ring.Seal(cl)
	if err != nil {
		return nil, err
	}
	return &sessionTokenResult{credentials{cl.AccessKeyID, cl.Secret, token, cl.Expires.Format(time.RFC3339)}}, nil
}

type accessKeyInfo struct {
	Account string `xml:"Account"`
}

func getAccessKeyInfo(c *service.Call) (any, error) {
	key := c.Params.Get("AccessKeyId")
	if !c.Params.Has("AccessKeyId") {
		return nil, wire.MissingParameter("AccessKeyId")
	}
	var v validation
	v.Length(key, "accessKeyId", 16, 128)
	if err := v.Err(); err != nil {
		return nil, err
	}
	account, ok := directory.AccessKeyAccount(key)
	if !ok { // a key given from outside (IAMLOCAL_ROOT_ACCESS_KEY_ID) encodes no account
		var k directory.AccessKey
		if err := c.Tx.Get(directory.KindAccessKey, key, &k); err != nil {
			return nil, wire.InvalidParameterValue("The access key ID %s is not valid", key)
		}
		account = k.Account
	}
	return &accessKeyInfo{Account: account}, nil
}

type decodedMessage struct {
	DecodedMessage string `xml:"DecodedMessage"`
}

func decodeAuthorizationMessage(c *service.Call) (any, error) {
	if !c.Params.Has("EncodedMessage") {
		return nil, wire.MissingParameter("EncodedMessage")
	}
	msg := c.Params.Get("EncodedMessage")
	var v validation
	v.Length(msg, "encodedMessage", 1, 10240)
	if err := v.Err(); err != nil {
		return nil, err
	}
	decoded, err := authzmsg.Decode(c.Env.Ring, msg)
	if err != nil {
		return nil, wire.Errorf(http.StatusBadRequest, "InvalidAuthorizationMessageException", "The encoded authorization message is not valid")
	}
	return &decodedMessage{decoded}, nil
}
