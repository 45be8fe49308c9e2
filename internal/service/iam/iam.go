// Package iam is AWS Identity and Access Management over the Query protocol: users,
// access keys, groups, roles, inline and managed policies, instance profiles, with
// AWS's names, limits and errors (AWS-SEMANTICS.md §5).
package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// XMLNS is IAM's XML namespace.
const XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"

// Actions is the IAM action table; each file of this package adds its actions.
var Actions = service.Table{}

func register(actions ...*service.Action) { Actions.Add(actions...) }

// IAM's errors.
func noSuchEntity(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func alreadyExists(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusConflict, "EntityAlreadyExists", format, args...)
}

func limitExceeded(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusConflict, "LimitExceeded", format, args...)
}

func deleteConflict(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusConflict, "DeleteConflict", format, args...)
}

func invalidInput(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "InvalidInput", format, args...)
}

// malformedPolicy is IAM's answer to a document its door refuses: AWS's bare message,
// without the statement and element iamlocal knows (AWS names none).
func malformedPolicy(err error) *wire.Error {
	var pe *policy.Error
	if errors.As(err, &pe) {
		return wire.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "%s", pe.Message)
	}
	return wire.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "%s", strings.TrimPrefix(err.Error(), "MalformedPolicyDocument: "))
}

var (
	namePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern = regexp.MustCompile(`^(/|/[\x{0021}-\x{007E}]+/)$`)
)

// validation adds IAM's name and path rules to the shared constraint checks.
type validation struct{ wire.Validation }

func (v *validation) name(value, member string, max int) {
	v.Length(value, member, 1, max)
	v.Check(namePattern.MatchString(value), value, member, `satisfy regular expression pattern: [\w+=,.@-]+`)
}

func (v *validation) path(value, member string) {
	v.Check(len(value) >= 1 && len(value) <= 512, value, member, "have length less than or equal to 512")
	v.Check(pathPattern.MatchString(value), value, member, `satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
}

// required returns a required parameter or AWS's error naming it.
func required(c *service.Call, name string) (string, error) {
	if !c.Params.Has(name) {
		return "", wire.ValidationError("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return c.Params.Get(name), nil
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// optionalPath reads PathPrefix/Path style parameters with a default of "/".
func optionalPath(c *service.Call, name string) string {
	if p := c.Params.Get(name); p != "" {
		return p
	}
	return "/"
}

// arn builds an IAM ARN: arn:aws:iam::ACCOUNT:KIND/PATH-less-leading-slash NAME.
func arn(account, kind, path, name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:%s%s%s", account, kind, path, name)
}

// isoTime formats times as IAM does.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// readTags reads Tags.member.N.{Key,Value} with IAM's limits and tagListType's
// constraints (tags.go).
func readTags(c *service.Call) ([]directory.Tag, error) {
	raw, err := c.Params.Structs("Tags")
	if err != nil {
		return nil, err
	}
	return checkTags(raw)
}

// tagContext adds aws:RequestTag/* and aws:TagKeys for the tags of a request.
func tagContext(tags []directory.Tag, ctx map[string][]string) {
	if len(tags) == 0 {
		return
	}
	var keys []string
	for _, t := range tags {
		ctx[strings.ToLower("aws:RequestTag/"+t.Key)] = []string{t.Value}
		keys = append(keys, t.Key)
	}
	ctx["aws:tagkeys"] = keys
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func tagsXML(tags []directory.Tag) []tagXML {
	out := make([]tagXML, 0, len(tags))
	for _, t := range tags {
		out = append(out, tagXML{t.Key, t.Value})
	}
	return out
}

// page reads Marker/MaxItems (1–1000, default 100).
type page struct {
	marker string
	max    int
}

func readPage(c *service.Call) (page, error) {
	max, given, err := c.Params.Int("MaxItems")
	if err != nil {
		return page{}, err
	}
	if !given {
		max = 100
	}
	var v validation
	v.Check(max >= 1 && max <= 1000, fmt.Sprint(max), "maxItems", "have value greater than or equal to 1 and less than or equal to 1000")
	return page{marker: c.Params.Get("Marker"), max: max}, v.Err()
}

// scanPage lists up to p.max objects of a kind in the caller's account, after the
// marker; it reports whether more remain and the marker to continue from.
func scanPage(tx store.Tx, kind, prefix string, p page, fn func(data []byte) (bool, error)) (truncated bool, marker string, err error) {
	if p.marker != "" && !strings.HasPrefix(p.marker, prefix) {
		return false, "", invalidInput("Invalid Marker: %s", p.marker)
	}
	n := 0
	last := ""
	err = tx.Scan(kind, prefix, p.marker, p.max+1, func(key string, data []byte) (bool, error) {
		if n == p.max {
			truncated = true
			return false, nil
		}
		keep, err := fn(data)
		if err != nil {
			return false, err
		}
		if keep {
			n++
		}
		last = key
		return true, nil
	})
	if truncated {
		marker = last
	}
	return truncated, marker, err
}

// get loads an entity or returns IAM's NoSuchEntity with AWS's wording.
func get(tx store.Tx, kind, account, name string, v any, what string) error {
	err := tx.Get(kind, directory.NameKey(account, name), v)
	if errors.Is(err, store.ErrNotFound) {
		return noSuchEntity("The %s with name %s cannot be found.", what, name)
	}
	return err
}

// policySize counts a document's characters, leaving out whitespace between JSON
// tokens, as IAM's size limits do.
func policySize(doc string) int {
	n, inString, escaped := 0, false, false
	for _, r := range doc {
		switch {
		case inString:
			n++
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == '"':
				inString = false
			}
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
		default:
			n++
			inString = r == '"'
		}
	}
	return n
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func unmodifiable(role string) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "UnmodifiableEntity",
		"Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", role)
}

// input reads a request's parameters and collects every validation error, so that
// AWS's "N validation errors detected" message names them all.
type input struct {
	c *service.Call
	v validation
}

func newInput(c *service.Call) *input { return &input{c: c} }

// required returns a parameter, recording it as null when absent.
func (in *input) required(name string) (string, bool) {
	if !in.c.Params.Has(name) {
		in.v.Null(lowerFirst(name))
		return "", false
	}
	return in.c.Params.Get(name), true
}

// name reads a required IAM name ([\w+=,.@-]+, 1 to max characters).
func (in *input) name(param string, max int) string {
	s, ok := in.required(param)
	if ok {
		in.v.name(s, lowerFirst(param), max)
	}
	return s
}

// optName reads an optional IAM name; "" when absent.
func (in *input) optName(param string, max int) string {
	if !in.c.Params.Has(param) {
		return ""
	}
	return in.name(param, max)
}

// path reads an optional entity path, "/" when absent.
func (in *input) path(param string) string {
	if !in.c.Params.Has(param) {
		return "/"
	}
	p := in.c.Params.Get(param)
	in.v.path(p, lowerFirst(param))
	return p
}

var prefixPattern = regexp.MustCompile(`^/[\x{0021}-\x{007F}]*$`)

// pathPrefix reads an optional PathPrefix, "/" when absent.
func (in *input) pathPrefix() string {
	if !in.c.Params.Has("PathPrefix") {
		return "/"
	}
	p := in.c.Params.Get("PathPrefix")
	in.v.Length(p, "pathPrefix", 1, 512)
	in.v.Check(prefixPattern.MatchString(p), p, "pathPrefix", `satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
	return p
}

// arn reads a required policy ARN (20 to 2048 characters).
func (in *input) arn(param string) string {
	s, ok := in.required(param)
	if ok {
		in.v.Length(s, lowerFirst(param), 20, 2048)
	}
	return s
}

var documentPattern = regexp.MustCompile(`^[\t\n\r\x{0020}-\x{00FF}]+$`)

// document reads a required policy document (1 to 131072 characters of IAM's alphabet).
func (in *input) document(param string) string {
	s, ok := in.required(param)
	if ok {
		in.v.Length(s, lowerFirst(param), 1, 131072)
		in.v.Check(documentPattern.MatchString(s), s, lowerFirst(param), `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
	}
	return s
}

var descriptionPattern = regexp.MustCompile(`^[\t\n\r\x{0020}-\x{007E}\x{00A1}-\x{00FF}]*$`)

// description reads an optional description of at most 1000 characters.
func (in *input) description(param string) string {
	s := in.c.Params.Get(param)
	in.v.Length(s, lowerFirst(param), 0, 1000)
	in.v.Check(descriptionPattern.MatchString(s), s, lowerFirst(param), `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`)
	return s
}

// enum reads an optional parameter with a fixed set of values.
func (in *input) enum(param string, values ...string) string {
	s := in.c.Params.Get(param)
	if in.c.Params.Has(param) && !slices.Contains(values, s) {
		in.v.Check(false, s, lowerFirst(param), "satisfy enum value set: ["+strings.Join(values, ", ")+"]")
	}
	return s
}

// boolean reads an optional boolean parameter.
func (in *input) boolean(param string) bool {
	s := in.c.Params.Get(param)
	if !in.c.Params.Has(param) {
		return false
	}
	b, err := strconv.ParseBool(s)
	in.v.Check(err == nil, s, lowerFirst(param), "be a boolean")
	return b
}

func (in *input) err() error { return in.v.Err() }

// compile validates a policy document of a kind (and warms the policy cache).
func compile(c *service.Call, doc string, kind policy.Kind) error {
	if _, err := c.Env.Resolver.Policies.Compile(doc, kind); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return malformedPolicy(err)
		}
		return wire.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	return nil
}

// encodeDoc percent-encodes a policy document as IAM returns documents (RFC 3986);
// the AWS CLI decodes them, SDK users call url.QueryUnescape.
func encodeDoc(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// list is an XML list of members that is written even when empty, as IAM does.
type list[T any] struct {
	Member []T `xml:"member"`
}

// slicePage selects the part of n in-memory items that a page asks for; its marker
// is the offset of the next item.
func slicePage(n int, p page) (start, end int, truncated bool, marker string, err error) {
	if p.marker != "" {
		start, err = strconv.Atoi(p.marker)
		if err != nil || start < 0 || start > n {
			return 0, 0, false, "", invalidInput("Invalid Marker: %s", p.marker)
		}
	}
	end = min(start+p.max, n)
	if end < n {
		truncated, marker = true, strconv.Itoa(end)
	}
	return start, end, truncated, marker, nil
}

// resourceTags adds an IAM resource's tags as aws:ResourceTag/* and iam:ResourceTag/*.
func resourceTags(tags []directory.Tag, ctx policy.Context) {
	for _, t := range tags {
		ctx.Set("aws:ResourceTag/"+t.Key, t.Value)
		ctx.Set("iam:ResourceTag/"+t.Key, t.Value)
	}
}

// contexts runs several Context functions in turn.
func contexts(fns ...func(*service.Call, policy.Context) error) func(*service.Call, policy.Context) error {
	return func(c *service.Call, ctx policy.Context) error {
		for _, fn := range fns {
			if err := fn(c, ctx); err != nil {
				return err
			}
		}
		return nil
	}
}

// requestTags adds the request's Tags as aws:RequestTag/* and aws:TagKeys.
func requestTags(c *service.Call, ctx policy.Context) error {
	tags, err := readTags(c)
	if err != nil {
		return err
	}
	tagContext(tags, ctx)
	return nil
}

// count counts the objects of a kind under a key prefix.
func count(tx store.Tx, kind, prefix string) (int, error) {
	n := 0
	err := tx.Scan(kind, prefix, "", 0, func(string, []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// optTags is an entity's Tags element: absent when it has no tags, as IAM omits it.
func optTags(tags []directory.Tag) *list[tagXML] {
	if len(tags) == 0 {
		return nil
	}
	return &list[tagXML]{tagsXML(tags)}
}

// listByPath pages through the caller's objects of a kind (keyed "<account>/…")
// whose path starts with the request's PathPrefix, calling add for each one kept;
// it reports whether more remain and the marker to continue from.
func listByPath[T any](c *service.Call, kind string, path func(*T) string, add func(*T) error) (truncated bool, marker string, err error) {
	in := newInput(c)
	prefix := in.pathPrefix()
	if err := in.err(); err != nil {
		return false, "", err
	}
	p, err := readPage(c)
	if err != nil {
		return false, "", err
	}
	return scanPage(c.Tx, kind, c.Account()+"/", p, func(data []byte) (bool, error) {
		obj := new(T)
		if err := jsonUnmarshal(data, obj); err != nil {
			return false, err
		}
		if !strings.HasPrefix(path(obj), prefix) {
			return false, nil
		}
		return true, add(obj)
	})
}
