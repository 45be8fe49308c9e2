// Package organizations is AWS Organizations over JSON 1.1: the organization, its
// accounts and OUs, its policies of every type (SCPs and RCPs, which the engine
// enforces, and the management policies with their effective policies), trusted
// access and delegated administrators, the delegation resource policy, and
// responsibility transfers (AWS-SEMANTICS.md §6).
//
// The server holds one organization (store key "org"). Its data is laid out so that
// directory.Resolver.OrgLevels reads it at decision time: every account in the
// organization has Account.ParentID set to the root or an OU, every OU points to its
// parent, and policy attachments are keyed "<target id>/<policy id>".
//
// Choices where AWS is silent or cannot be reproduced offline are recorded in
// README.md beside this file.
package organizations

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// TargetPrefix is the X-Amz-Target prefix of Organizations' operations.
const TargetPrefix = "AWSOrganizationsV20161128"

// Actions is the Organizations action table; each file of this package adds its actions.
var Actions = service.Table{}

func register(actions ...*service.Action) { Actions.Add(actions...) }

// Limits of AWS Organizations.
const (
	maxOUDepth          = 5    // OUs nest at most five levels below the root
	maxPolicies         = 1000 // policies of one type
	maxOUs              = 1000 // OUs in an organization
	maxTags             = 50   // tags on one resource
	maxResultsLimit     = 20   // MaxResults of the List operations
	handshakeLifetime   = 15 * 24 * time.Hour
	defaultRoleName     = "OrganizationAccountAccessRole"
	adminPolicyArn      = "arn:aws:iam::aws:policy/AdministratorAccess"
	rootName            = "Root"
	managementName      = "management"
	attachmentSeparator = "/"
)

// The AWS managed policies, with AWS's documents.
const (
	fullAWSAccessID    = "p-FullAWSAccess"
	rcpFullAWSAccessID = "p-RCPFullAWSAccess"
	fullAWSAccessDoc   = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"
	rcpFullAccessDoc   = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Principal\": \"*\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"
)

var awsManagedPolicies = []directory.OrgPolicy{
	{ID: fullAWSAccessID, Arn: "arn:aws:organizations::aws:policy/service_control_policy/" + fullAWSAccessID,
		Name: "FullAWSAccess", Description: "Allows access to every operation", Type: typeSCP, Content: fullAWSAccessDoc, AWSManaged: true},
	{ID: rcpFullAWSAccessID, Arn: "arn:aws:organizations::aws:policy/resource_control_policy/" + rcpFullAWSAccessID,
		Name: "RCPFullAWSAccess", Description: "Allows access to every resource", Type: typeRCP, Content: rcpFullAccessDoc, AWSManaged: true},
}

// ---- errors ----------------------------------------------------------------------

// orgError is an Organizations error: every one is a client fault with HTTP 400.
func orgError(code, format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, code, format, args...)
}

func withReason(e *wire.Error, reason string) *wire.Error {
	e.Reason = reason
	return e
}

func notInUse() *wire.Error {
	return orgError("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
}

func accessDenied() *wire.Error {
	return orgError("AccessDeniedException", "You don't have permissions to access this resource.")
}

func invalidInput(reason, format string, args ...any) *wire.Error {
	return withReason(orgError("InvalidInputException", format, args...), reason)
}

func constraintViolation(reason, format string, args ...any) *wire.Error {
	return withReason(orgError("ConstraintViolationException", format, args...), reason)
}

func accountNotFound() *wire.Error {
	return orgError("AccountNotFoundException", "You specified an account that doesn't exist.")
}

func parentNotFound() *wire.Error {
	return orgError("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
}

func ouNotFound() *wire.Error {
	return orgError("OrganizationalUnitNotFoundException", "We can't find an OU with the OrganizationalUnitId that you specified.")
}

func policyNotFound() *wire.Error {
	return orgError("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
}

func targetNotFound() *wire.Error {
	return orgError("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
}

// ---- input validation ------------------------------------------------------------

var (
	accountIDPattern   = regexp.MustCompile(`^\d{12}$`)
	rootIDPattern      = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	ouIDPattern        = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	policyIDPattern    = regexp.MustCompile(`^p-[0-9a-zA-Z_]{8,128}$`)
	handshakeIDPattern = regexp.MustCompile(`^h-[0-9a-z]{8,32}$`)
	carIDPattern       = regexp.MustCompile(`^car-[a-z0-9]{8,32}$`)
	transferIDPattern  = regexp.MustCompile(`^rt-[0-9a-z]{8,32}$`)
	// resourcePolicyIDPattern is the model's ResourcePolicyId.
	resourcePolicyIDPattern = regexp.MustCompile(`^rp-[0-9a-zA-Z_]{4,128}$`)
	emailPattern            = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	roleNamePattern         = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	accountNamePattern      = regexp.MustCompile(`^[\x{0020}-\x{007E}]+$`)
	tagPattern              = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// decode reads the request body into in, a struct named after the model's members.
func decode(c *service.Call, in any) error {
	if werr := wire.DecodeJSON(c.Body, in); werr != nil {
		return werr
	}
	return nil
}

// need returns a required member's value, or InvalidInputException naming it.
func need(member string, v *string) (string, error) {
	if v == nil {
		return "", invalidInput("INPUT_REQUIRED", "You must specify a value for %s.", member)
	}
	return *v, nil
}

// needLength reads a required string member of min to max characters (max <= 0:
// no maximum).
func needLength(member string, v *string, min, max int) (string, error) {
	s, err := need(member, v)
	if err != nil {
		return "", err
	}
	return s, checkLength(member, s, min, max)
}

func checkLength(member, v string, min, max int) error {
	n := utf8.RuneCountInString(v)
	if n < min {
		return invalidInput("MIN_LENGTH_EXCEEDED", "The value of %s must be at least %d characters long.", member, min)
	}
	if max > 0 && n > max {
		return invalidInput("MAX_LENGTH_EXCEEDED", "The value of %s must be at most %d characters long.", member, max)
	}
	return nil
}

func checkPattern(member, v string, patterns ...*regexp.Regexp) error {
	for _, p := range patterns {
		if p.MatchString(v) {
			return nil
		}
	}
	return invalidInput("INVALID_PATTERN", "You provided a value for %s that does not match the required pattern.", member)
}

// needID reads a required id member and checks its pattern.
func needID(member string, v *string, patterns ...*regexp.Regexp) (string, error) {
	s, err := need(member, v)
	if err != nil {
		return "", err
	}
	return s, checkPattern(member, s, patterns...)
}

// ---- tags ------------------------------------------------------------------------

type tagIn struct {
	Key   *string
	Value *string
}

type tagOut struct {
	Key   string
	Value string
}

// readTags validates request tags.
func readTags(in []tagIn) ([]directory.Tag, error) {
	if len(in) > maxTags {
		return nil, constraintViolation("MAX_TAG_LIMIT_EXCEEDED", "You can't attach more than %d tags to a resource.", maxTags)
	}
	seen := map[string]bool{}
	tags := make([]directory.Tag, 0, len(in))
	for _, t := range in {
		k, err := need("Tags.Key", t.Key)
		if err != nil {
			return nil, err
		}
		v, err := need("Tags.Value", t.Value)
		if err != nil {
			return nil, err
		}
		if err := checkLength("Tags.Key", k, 1, 128); err != nil {
			return nil, err
		}
		if err := checkLength("Tags.Value", v, 0, 256); err != nil {
			return nil, err
		}
		if !tagPattern.MatchString(k) || !tagPattern.MatchString(v) {
			return nil, invalidInput("INVALID_PATTERN", "You provided a tag key or value that does not match the required pattern.")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, invalidInput("INVALID_SYSTEM_TAGS_PARAMETER", "You specified a tag key that is a system tag: %s.", k)
		}
		if seen[k] {
			return nil, invalidInput("DUPLICATE_TAG_KEY", "Tag keys must be unique among the tags attached to the same entity: %s.", k)
		}
		seen[k] = true
		tags = append(tags, directory.Tag{Key: k, Value: v})
	}
	return tags, nil
}

// mergeTags sets tags over existing ones, keeping the order of first appearance.
func mergeTags(have, set []directory.Tag) []directory.Tag {
	out := append([]directory.Tag(nil), have...)
	for _, t := range set {
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, found = t.Value, true
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

// authorizeTags asks for organizations:TagResource on a new resource when the
// request carries tags, as AWS does.
func authorizeTags(c *service.Call, org *directory.Organization, tags []directory.Tag, arn string) error {
	if len(tags) == 0 {
		return nil
	}
	ctx := policy.Context{}
	tagContext(tags, ctx)
	return authorizeOn(c, org, "TagResource", arn, ctx)
}

func tagContext(tags []directory.Tag, ctx policy.Context) {
	if len(tags) == 0 {
		return
	}
	keys := make([]string, 0, len(tags))
	for _, t := range tags {
		ctx.Set("aws:RequestTag/"+t.Key, t.Value)
		keys = append(keys, t.Key)
	}
	ctx.Set("aws:TagKeys", keys...)
}

// ---- timestamps ------------------------------------------------------------------

// epoch is a JSON 1.1 timestamp: seconds since the epoch, with milliseconds.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func stamp(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// ---- organization and caller -----------------------------------------------------

// loadOrg returns the organization, or nil when there is none.
func loadOrg(tx store.Tx) (*directory.Organization, error) {
	var org directory.Organization
	if err := tx.Get(directory.KindOrganization, "org", &org); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &org, nil
}

// loadAccount returns an account, or nil when it does not exist.
func loadAccount(tx store.Tx, id string) (*directory.Account, error) {
	var a directory.Account
	if err := tx.Get(directory.KindAccount, id, &a); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &a, nil
}

// memberOrg returns the organization when the caller's account belongs to it.
func memberOrg(c *service.Call) (*directory.Organization, error) {
	org, err := loadOrg(c.Tx)
	if err != nil {
		return nil, err
	}
	if org == nil {
		return nil, notInUse()
	}
	if c.Account() == org.MasterAccountID {
		return org, nil
	}
	a, err := loadAccount(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if a == nil || a.ParentID == "" {
		return nil, notInUse()
	}
	return org, nil
}

// managementOrg returns the organization when the caller is in its management
// account, or is a member account the running action is delegated to (access.go):
// other members get AccessDeniedException, other accounts
// AWSOrganizationsNotInUseException.
func managementOrg(c *service.Call) (*directory.Organization, error) {
	org, err := memberOrg(c)
	if err != nil {
		return nil, err
	}
	if c.Account() == org.MasterAccountID {
		return org, nil
	}
	acc, err := callerAccess(c, org, actionOf(c))
	if err != nil {
		return nil, err
	}
	if !acc.delegated {
		return nil, accessDenied()
	}
	return org, nil
}

// decodeForManagement reads the request body into in and returns the organization,
// for the actions only the management account may call: the start of most handlers.
func decodeForManagement(c *service.Call, in any) (*directory.Organization, error) {
	if err := decode(c, in); err != nil {
		return nil, err
	}
	return managementOrg(c)
}

func enabled(org *directory.Organization, typ string) bool {
	for _, t := range org.EnabledPolicyType {
		if t == typ {
			return true
		}
	}
	return false
}

// ---- ARNs ------------------------------------------------------------------------

func accountArn(org *directory.Organization, id string) string {
	return fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", org.MasterAccountID, org.ID, id)
}

func ouArn(org *directory.Organization, id string) string {
	return fmt.Sprintf("arn:aws:organizations::%s:ou/%s/%s", org.MasterAccountID, org.ID, id)
}

func policyArn(org *directory.Organization, typ, id string) string {
	for _, p := range awsManagedPolicies {
		if p.ID == id {
			return p.Arn
		}
	}
	return fmt.Sprintf("arn:aws:organizations::%s:policy/%s/%s/%s", org.MasterAccountID, org.ID, strings.ToLower(typ), id)
}

// handshakeArn is a handshake's ARN, which names its type: invite,
// enable_all_features, approve_all_features, transfer_responsibility.
func handshakeArn(org *directory.Organization, action, id string) string {
	return fmt.Sprintf("arn:aws:organizations::%s:handshake/%s/%s/%s", org.MasterAccountID, org.ID, strings.ToLower(action), id)
}

// storedHandshakeArn is the ARN of a handshake id, an invitation's when it names none.
func storedHandshakeArn(tx store.Tx, org *directory.Organization, id string) string {
	var h handshake
	if err := tx.Get(directory.KindHandshake, id, &h); err == nil {
		return handshakeArn(org, h.action(), id)
	}
	return handshakeArn(org, actionInvite, id)
}

// targetArn is the ARN of a root, OU or account id.
func targetArn(org *directory.Organization, id string) string {
	switch {
	case id == org.RootID || rootIDPattern.MatchString(id):
		return fmt.Sprintf("arn:aws:organizations::%s:root/%s/%s", org.MasterAccountID, org.ID, id)
	case ouIDPattern.MatchString(id):
		return ouArn(org, id)
	default:
		return accountArn(org, id)
	}
}

// ---- the tree --------------------------------------------------------------------

// Parent and child types.
const (
	kindRoot    = "ROOT"
	kindOU      = "ORGANIZATIONAL_UNIT"
	kindAccount = "ACCOUNT"
)

// loadOU returns an OU, or nil when it does not exist.
func loadOU(tx store.Tx, id string) (*directory.OU, error) {
	var ou directory.OU
	if err := tx.Get(directory.KindOU, id, &ou); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &ou, nil
}

// parentKind says whether id is the root or an OU of the organization; "" when
// it is neither.
func parentKind(tx store.Tx, org *directory.Organization, id string) (string, error) {
	if id == org.RootID {
		return kindRoot, nil
	}
	if !ouIDPattern.MatchString(id) {
		return "", nil
	}
	ou, err := loadOU(tx, id)
	if err != nil || ou == nil {
		return "", err
	}
	return kindOU, nil
}

// chain lists the ids from the root down to id (a root or OU id), inclusive.
func chain(tx store.Tx, org *directory.Organization, id string) ([]string, error) {
	var ids []string
	for id != org.RootID {
		ids = append(ids, id)
		ou, err := loadOU(tx, id)
		if err != nil {
			return nil, err
		}
		if ou == nil || len(ids) > maxOUDepth+1 {
			return nil, fmt.Errorf("organizational unit %s: broken parent chain", id)
		}
		id = ou.ParentID
	}
	ids = append(ids, org.RootID)
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids, nil
}

// path is the organization path of a root or OU: "o-…/r-…/ou-…/".
func path(tx store.Tx, org *directory.Organization, id string) (string, error) {
	ids, err := chain(tx, org, id)
	if err != nil {
		return "", err
	}
	return org.ID + "/" + strings.Join(ids, "/") + "/", nil
}

// targetKind says what a policy target id names in the organization: ROOT,
// ORGANIZATIONAL_UNIT or ACCOUNT; "" when nothing.
func targetKind(tx store.Tx, org *directory.Organization, id string) (string, string, error) {
	if id == org.RootID {
		return kindRoot, rootName, nil
	}
	if ouIDPattern.MatchString(id) {
		ou, err := loadOU(tx, id)
		if err != nil || ou == nil {
			return "", "", err
		}
		return kindOU, ou.Name, nil
	}
	if accountIDPattern.MatchString(id) {
		a, err := loadAccount(tx, id)
		if err != nil || a == nil || a.ParentID == "" {
			return "", "", err
		}
		return kindAccount, a.Name, nil
	}
	return "", "", nil
}

// scanAccounts calls fn for every account in the organization, in id order.
func scanAccounts(tx store.Tx, fn func(a *directory.Account) error) error {
	return tx.Scan(directory.KindAccount, "", "", 0, func(_ string, data []byte) (bool, error) {
		var a directory.Account
		if err := json.Unmarshal(data, &a); err != nil {
			return false, err
		}
		if a.ParentID == "" {
			return true, nil
		}
		return true, fn(&a)
	})
}

// scanOUs calls fn for every OU, in id order.
func scanOUs(tx store.Tx, fn func(ou *directory.OU) error) error {
	return tx.Scan(directory.KindOU, "", "", 0, func(_ string, data []byte) (bool, error) {
		var ou directory.OU
		if err := json.Unmarshal(data, &ou); err != nil {
			return false, err
		}
		return true, fn(&ou)
	})
}

// ---- attachments -----------------------------------------------------------------

// attachment is one policy attached to one target.
type attachment struct {
	TargetID string
	PolicyID string
	Type     string
	At       time.Time // when it was attached: management policies merge in this order
}

func attachmentKey(target, policyID string) string { return target + attachmentSeparator + policyID }

func attach(tx store.Tx, target string, p *directory.OrgPolicy, now time.Time) error {
	return tx.Put(directory.KindOrgAttachment, attachmentKey(target, p.ID), attachment{TargetID: target, PolicyID: p.ID, Type: p.Type, At: now.UTC()})
}

// attachments lists the attachments of one target, in the order they were made, or
// of every target when target is "".
func attachments(tx store.Tx, target string) ([]attachment, error) {
	prefix := ""
	if target != "" {
		prefix = target + attachmentSeparator
	}
	var out []attachment
	err := tx.Scan(directory.KindOrgAttachment, prefix, "", 0, func(_ string, data []byte) (bool, error) {
		var at attachment
		if err := json.Unmarshal(data, &at); err != nil {
			return false, err
		}
		out = append(out, at)
		return true, nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, err
}

// attachDefaults gives a new root, OU or account the full-access policy of every
// enabled policy type that has one.
func attachDefaults(tx store.Tx, org *directory.Organization, target string, now time.Time) error {
	for _, typ := range org.EnabledPolicyType {
		full := policyTypes[typ].full
		if full == "" {
			continue
		}
		p, err := loadPolicy(tx, full)
		if err != nil {
			return err
		}
		if p == nil {
			return fmt.Errorf("AWS managed policy %s is missing", full)
		}
		if err := attach(tx, target, p, now); err != nil {
			return err
		}
	}
	return nil
}

// detachAll removes every attachment of a target.
func detachAll(tx store.Tx, target string) error {
	ats, err := attachments(tx, target)
	if err != nil {
		return err
	}
	for _, at := range ats {
		if _, err := tx.Delete(directory.KindOrgAttachment, attachmentKey(at.TargetID, at.PolicyID)); err != nil {
			return err
		}
	}
	return nil
}

func loadPolicy(tx store.Tx, id string) (*directory.OrgPolicy, error) {
	var p directory.OrgPolicy
	if err := tx.Get(directory.KindOrgPolicy, id, &p); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &p, nil
}

// ---- pagination ------------------------------------------------------------------

// pageIn holds the pagination members of a List request.
type pageIn struct {
	NextToken  *string
	MaxResults *int
}

// keyed is an item of a listing with the key that orders it.
type keyed[T any] struct {
	key string
	v   T
}

// paginate returns one page of items (sorted here by key) and the token of the next.
func paginate[T any](in pageIn, items []keyed[T]) ([]T, *string, error) {
	max := maxResultsLimit
	if in.MaxResults != nil {
		max = *in.MaxResults
		if max < 1 {
			return nil, nil, invalidInput("MIN_VALUE_EXCEEDED", "The value of MaxResults must be at least 1.")
		}
		if max > maxResultsLimit {
			return nil, nil, invalidInput("MAX_VALUE_EXCEEDED", "The value of MaxResults must be at most %d.", maxResultsLimit)
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
	start := 0
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || len(raw) == 0 {
			return nil, nil, invalidInput("INVALID_NEXT_TOKEN", "The NextToken value is not valid: get it from the response to a previous call of the operation.")
		}
		after := string(raw)
		start = sort.Search(len(items), func(i int) bool { return items[i].key > after })
	}
	end := min(start+max, len(items))
	out := make([]T, 0, end-start)
	for _, it := range items[start:end] {
		out = append(out, it.v)
	}
	var next *string
	if end < len(items) {
		t := base64.RawURLEncoding.EncodeToString([]byte(items[end-1].key))
		next = &t
	}
	return out, next, nil
}

// page answers a List request: one page of the items under the response member
// that holds them, and NextToken while more remain.
func page[T any](member string, in pageIn, items []keyed[T]) (any, error) {
	out, next, err := paginate(in, items)
	if err != nil {
		return nil, err
	}
	res := map[string]any{member: out}
	if next != nil {
		res["NextToken"] = *next
	}
	return res, nil
}

// ---- ids -------------------------------------------------------------------------

// newAccountID picks an unused 12-digit account id (never starting with 0, so that
// it reads well as a number too).
func newAccountID(tx store.Tx) (string, error) {
	for range 100 {
		b := make([]byte, 12)
		rand.Read(b)
		for i := range b {
			b[i] = '0' + b[i]%10
		}
		if b[0] == '0' {
			b[0] = '1'
		}
		a, err := loadAccount(tx, string(b))
		if err != nil {
			return "", err
		}
		if a == nil {
			return string(b), nil
		}
	}
	return "", errors.New("no free account id")
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// authorizeOn checks an action's permission on a further resource of the request
// (AttachPolicy's target, MoveAccount's parents), as AWS checks every resource an
// operation names.
func authorizeOn(c *service.Call, org *directory.Organization, name, arn string, ctx policy.Context) error {
	req, err := request(c, org, "organizations:"+name, arn, ctx)
	if err != nil {
		return err
	}
	return c.Authorize(req)
}
