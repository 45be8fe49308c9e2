// Package ec2 is a thin Amazon EC2 plane over EC2's Query dialect (Version
// 2016-11-15): images, instances, tags, instance profiles and VPC endpoints, every
// call authorized by the engine, denials answered with encoded authorization messages.
//
// Each action names its IAM action (ec2:<Action>) and the resource ARN AWS's service
// authorization reference gives it; the front door authorizes that, and handlers
// authorize what else AWS checks (the image of RunInstances, iam:PassRole, tags on
// create, the second and later resources of multi-resource calls) with
// Call.Authorize. EC2 resources live in the store under their own kinds, keyed by
// id; they belong to an account and a region (the region of the request's signature).
package ec2

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Version is the EC2 API version the CLI and SDKs send.
const Version = "2016-11-15"

// Actions is the EC2 action table; each file of this package adds its actions.
var Actions = service.Table{}

func register(actions ...*service.Action) { Actions.Add(actions...) }

// Store kinds of EC2 resources. VPC endpoints are directory.KindVpcEndpoint, which the
// front door reads.
const (
	kindInstance    = "ec2instance"    // key: instance id
	kindImage       = "ec2image"       // key: image id (images accounts create)
	kindClientToken = "ec2clienttoken" // key: account/region/token → reservation id
)

// timeFormat is how EC2 writes timestamps.
const timeFormat = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// ---------------------------------------------------------------------------------
// Errors, with EC2's codes. Client faults are HTTP 400.

func ec2Error(code, format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, code, format, args...)
}

func invalidParameterValue(format string, args ...any) *wire.Error {
	return ec2Error("InvalidParameterValue", format, args...)
}

func invalidValue(param, value, why string) *wire.Error {
	msg := fmt.Sprintf("Value (%s) for parameter %s is invalid.", value, param)
	if why != "" {
		msg += " " + why
	}
	return ec2Error("InvalidParameterValue", "%s", msg)
}

func missingParameter(name string) *wire.Error {
	return ec2Error("MissingParameter", "The request must contain the parameter %s", name)
}

// errDryRun answers a DryRun request the caller is authorized for.
var errDryRun = wire.Errorf(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")

// dryRun returns errDryRun when the request sets DryRun; call it after every
// authorization and before any change.
func dryRun(p *params) error {
	v, err := p.boolean("DryRun")
	if err != nil {
		return err
	}
	if v {
		return errDryRun
	}
	return nil
}

// notFoundList formats AWS's "does not exist" messages for one id or several.
func notFoundList(ids []string) string { return strings.Join(ids, ", ") }

// ---------------------------------------------------------------------------------
// Parameters: EC2's Query dialect numbers lists without ".member."
// (InstanceId.1, TagSpecification.1.Tag.1.Key, Filter.1.Value.1). params is the tree
// of a request's dotted names.

type params struct {
	val  string
	set  bool
	kids map[string]*params
}

func parseParams(p wire.Params) *params {
	root := &params{}
	for _, name := range p.Names() {
		n := root
		for _, seg := range strings.Split(name, ".") {
			if n.kids == nil {
				n.kids = map[string]*params{}
			}
			k := n.kids[seg]
			if k == nil {
				k = &params{}
				n.kids[seg] = k
			}
			n = k
		}
		n.val, n.set = p.Get(name), true
	}
	return root
}

// child returns a sub-tree; nil-safe.
func (p *params) child(name string) *params {
	if p == nil {
		return nil
	}
	return p.kids[name]
}

// has reports whether a parameter was given (with a value or as a structure).
func (p *params) has(name string) bool {
	k := p.child(name)
	return k != nil && (k.set || len(k.kids) > 0)
}

func (p *params) str(name string) string {
	if k := p.child(name); k != nil {
		return k.val
	}
	return ""
}

// list returns the numbered members of a list (Name.1, Name.2, …) in index order.
// Indexes that are not positive integers are ignored.
func (p *params) list(name string) []*params {
	k := p.child(name)
	if k == nil {
		return nil
	}
	type member struct {
		i int
		n *params
	}
	var ms []member
	for key, n := range k.kids {
		i, err := strconv.Atoi(key)
		if err != nil || i < 1 || strconv.Itoa(i) != key {
			continue
		}
		ms = append(ms, member{i, n})
	}
	sort.Slice(ms, func(a, b int) bool { return ms[a].i < ms[b].i })
	out := make([]*params, len(ms))
	for i, m := range ms {
		out[i] = m.n
	}
	return out
}

// strs returns a list of strings (Name.1, Name.2, …).
func (p *params) strs(name string) []string {
	var out []string
	for _, m := range p.list(name) {
		out = append(out, m.val)
	}
	return out
}

func (p *params) boolean(name string) (bool, error) {
	if !p.has(name) {
		return false, nil
	}
	switch strings.ToLower(p.str(name)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalidValue(name, p.str(name), "Expected a boolean value (true or false).")
}

// optBool reads a boolean that has no default.
func (p *params) optBool(name string) (*bool, error) {
	if !p.has(name) {
		return nil, nil
	}
	v, err := p.boolean(name)
	return &v, err
}

// integer reads an optional integer; def when absent.
func (p *params) integer(name string, def int) (int, error) {
	if !p.has(name) {
		return def, nil
	}
	s := p.str(name)
	n, err := strconv.Atoi(s)
	if err != nil || len(s) > 10 {
		return 0, invalidValue(name, s, "Expected an integer.")
	}
	return n, nil
}

// ---------------------------------------------------------------------------------
// Ids and ARNs.

// newID returns prefix + 17 lower-case hex digits, as EC2's long ids are.
func newID(prefix string) string {
	b := make([]byte, 9)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)[:17]
}

// stableHex derives n hex digits from parts (default VPC, subnet and group ids).
func stableHex(n int, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])[:n]
}

// validID reports whether id is prefix followed by 8 or 17 lower-case hex digits.
func validID(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || (len(rest) != 8 && len(rest) != 17) {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func region(c *service.Call) string {
	if c.Region != "" {
		return c.Region
	}
	return c.Env.Region
}

func instanceArn(region, account, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, account, id)
}

func imageArn(region, id string) string { return fmt.Sprintf("arn:aws:ec2:%s::image/%s", region, id) }

func vpceArn(region, account, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:vpc-endpoint/%s", region, account, id)
}

// ---------------------------------------------------------------------------------
// Tags.

// xmlTag is a tag in responses: <item><key>…</key><value>…</value></item>.
type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func xmlTags(tags []directory.Tag) []xmlTag {
	out := make([]xmlTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, xmlTag{t.Key, t.Value})
	}
	return out
}

// readTags reads a list of Key/Value structures with EC2's tag rules.
func readTags(list []*params, member string) ([]directory.Tag, error) {
	var tags []directory.Tag
	seen := map[string]bool{}
	for _, t := range list {
		k, v := t.str("Key"), t.str("Value")
		if !t.has("Key") {
			return nil, missingParameter(member + ".Key")
		}
		if err := checkTag(k, v); err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, invalidParameterValue("Duplicate tag key '%s' specified.", k)
		}
		seen[k] = true
		tags = append(tags, directory.Tag{Key: k, Value: v})
	}
	if len(tags) > 50 {
		return nil, ec2Error("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
	}
	return tags, nil
}

func checkTag(k, v string) error {
	if k == "" || len([]rune(k)) > 128 {
		return invalidValue("Tag.Key", k, "Tag keys must be between 1 and 128 characters.")
	}
	if len([]rune(v)) > 256 {
		return invalidValue("Tag.Value", v, "Tag values must be at most 256 characters.")
	}
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return invalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use")
	}
	return nil
}

// tagSpecs reads TagSpecification.N (ResourceType, Tag.M) and returns the tags for
// each resource type; allowed lists the resource types the action can tag.
func tagSpecs(p *params, allowed ...string) (map[string][]directory.Tag, error) {
	out := map[string][]directory.Tag{}
	for _, spec := range p.list("TagSpecification") {
		rt := spec.str("ResourceType")
		if rt == "" {
			return nil, missingParameter("TagSpecification.ResourceType")
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == rt
		}
		if !ok {
			return nil, invalidParameterValue("'%s' is not a valid taggable resource type for this operation.", rt)
		}
		if _, dup := out[rt]; dup {
			return nil, invalidParameterValue("The same resource type may not be specified more than once in tag specifications. Resource type: %s", rt)
		}
		tags, err := readTags(spec.list("Tag"), "TagSpecification.Tag")
		if err != nil {
			return nil, err
		}
		out[rt] = tags
	}
	return out, nil
}

// setTag adds or replaces a tag (EC2 tag keys are case-sensitive).
func setTag(tags []directory.Tag, k, v string) []directory.Tag {
	for i := range tags {
		if tags[i].Key == k {
			tags[i].Value = v
			return tags
		}
	}
	return append(tags, directory.Tag{Key: k, Value: v})
}

func tagValue(tags []directory.Tag, k string) (string, bool) {
	for _, t := range tags {
		if t.Key == k {
			return t.Value, true
		}
	}
	return "", false
}

// requestTags sets aws:RequestTag/… and aws:TagKeys.
func requestTags(ctx policy.Context, tags []directory.Tag) {
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

// resourceTags sets aws:ResourceTag/… and EC2's older ec2:ResourceTag/….
func resourceTags(ctx policy.Context, tags []directory.Tag) {
	for _, t := range tags {
		ctx.Set("aws:ResourceTag/"+t.Key, t.Value)
		ctx.Set("ec2:ResourceTag/"+t.Key, t.Value)
	}
}

// authorizeCreateTags checks ec2:CreateTags for tags given on create, as AWS does:
// on the created resource, with ec2:CreateAction naming the creating action.
func authorizeCreateTags(c *service.Call, action, resource string, tags []directory.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	ctx := policy.Context{}
	ctx.Set("ec2:CreateAction", action)
	ctx.Set("ec2:Region", region(c))
	requestTags(ctx, tags)
	return c.Authorize(service.Request{Action: "ec2:CreateTags", Resource: resource, ResourceAccount: c.Account(), Context: ctx})
}

// ---------------------------------------------------------------------------------
// Filters: Filter.N.Name with Filter.N.Value.M; values may hold * and ? wildcards.

type filter struct {
	name   string
	values []string
}

func readFilters(p *params) ([]filter, error) {
	var out []filter
	for _, f := range p.list("Filter") {
		name := f.str("Name")
		if name == "" {
			return nil, missingParameter("Filter.Name")
		}
		out = append(out, filter{name, f.strs("Value")})
	}
	return out, nil
}

// fieldsFunc returns a resource's values for a filter name; known is false for a
// filter the resource type does not have.
type fieldsFunc func(name string) (values []string, known bool)

// matchFilters reports whether a resource passes every filter (AND across filters,
// OR across a filter's values). Tag filters (tag:Key, tag-key, tag-value) are
// answered from tags.
func matchFilters(filters []filter, tags []directory.Tag, fields fieldsFunc) (bool, error) {
	for _, f := range filters {
		var vals []string
		switch {
		case strings.HasPrefix(f.name, "tag:"):
			if v, ok := tagValue(tags, f.name[4:]); ok {
				vals = []string{v}
			}
		case f.name == "tag-key":
			for _, t := range tags {
				vals = append(vals, t.Key)
			}
		case f.name == "tag-value":
			for _, t := range tags {
				vals = append(vals, t.Value)
			}
		default:
			v, known := fields(f.name)
			if !known {
				return false, invalidParameterValue("The filter '%s' is invalid", f.name)
			}
			vals = v
		}
		if !anyMatch(f.values, vals) {
			return false, nil
		}
	}
	return true, nil
}

// checkFilters rejects unknown filter names even when there is nothing to match.
func checkFilters(filters []filter, fields fieldsFunc) error {
	_, err := matchFilters(filters, nil, func(name string) ([]string, bool) {
		_, known := fields(name)
		return nil, known
	})
	if err != nil {
		return err
	}
	return nil
}

func anyMatch(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if glob(p, v) {
				return true
			}
		}
	}
	return false
}

// glob matches EC2 filter wildcards: * any run, ? one character, \ escapes.
func glob(pattern, s string) bool {
	p, v := []rune(pattern), []rune(s)
	pi, vi := 0, 0
	starP, starV := -1, 0
	for vi < len(v) {
		if pi < len(p) {
			c, lit := p[pi], false
			if c == '\\' && pi+1 < len(p) {
				c, lit = p[pi+1], true
			}
			switch {
			case !lit && c == '*':
				starP, starV = pi, vi
				pi++
				continue
			case (!lit && c == '?') || c == v[vi]:
				if lit {
					pi += 2
				} else {
					pi++
				}
				vi++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starV++
		pi, vi = starP+1, starV
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// ---------------------------------------------------------------------------------
// Store helpers.

func getJSON(tx store.Tx, kind, key string, v any) (bool, error) {
	err := tx.Get(kind, key, v)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// scanAll decodes every object of a kind.
func scanAll[T any](tx store.Tx, kind string, keep func(*T) bool) ([]*T, error) {
	var out []*T
	err := tx.Scan(kind, "", "", 0, func(_ string, data []byte) (bool, error) {
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return false, err
		}
		if keep(v) {
			out = append(out, v)
		}
		return true, nil
	})
	return out, err
}

// returnTrue is the result of actions that answer <return>true</return>.
type returnTrue struct {
	Return bool `xml:"return"`
}

// items is an EC2 list in a response: <name><item>…</item>…</name>, present even
// when empty, as EC2 writes its top-level sets.
type items[T any] struct {
	Items []T `xml:"item"`
}
