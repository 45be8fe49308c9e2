// Package iam is AWS Identity and Access Management over the Query protocol: users,
// access keys, groups, roles, inline and managed policies, instance profiles, with
// AWS's names, limits and errors (AWS-SEMANTICS.md §5).
package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// XMLNS is IAM's XML namespace.
const XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"

// Actions is the IAM action table; each file of this package adds its actions.
var Actions = service.Table{}

func register(actions ...*service.Action) {
	for _, a := range actions {
		Actions[a.Name] = a
	}
}

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

func malformedPolicy(err error) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "%s", strings.TrimPrefix(err.Error(), "MalformedPolicyDocument: "))
}

var (
	namePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern = regexp.MustCompile(`^(/|/[\x{0021}-\x{007E}]+/)$`)
)

// validation collects AWS's "N validation errors detected" message.
type validation []string

func (v *validation) check(ok bool, value, member, constraint string) {
	if !ok {
		*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, constraint))
	}
}

func (v *validation) name(value, member string, max int) {
	v.check(len(value) >= 1 && len(value) <= max, value, member, fmt.Sprintf("have length less than or equal to %d", max))
	v.check(namePattern.MatchString(value), value, member, `satisfy regular expression pattern: [\w+=,.@-]+`)
}

func (v *validation) path(value, member string) {
	v.check(len(value) >= 1 && len(value) <= 512, value, member, "have length less than or equal to 512")
	v.check(pathPattern.MatchString(value), value, member, `satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
}

func (v validation) err() error {
	if len(v) == 0 {
		return nil
	}
	noun := "error"
	if len(v) > 1 {
		noun = "errors"
	}
	return wire.ValidationError("%d validation %s detected: %s", len(v), noun, strings.Join(v, "; "))
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

// readTags reads Tags.member.N.{Key,Value} with IAM's limits.
func readTags(c *service.Call) ([]directory.Tag, error) {
	raw, err := c.Params.Structs("Tags")
	if err != nil {
		return nil, err
	}
	if len(raw) > 50 {
		return nil, limitExceeded("The number of tags has reached the maximum limit of 50.")
	}
	var v validation
	seen := map[string]bool{}
	var tags []directory.Tag
	for i, t := range raw {
		k, val := t["Key"], t["Value"]
		v.check(len(k) >= 1 && len(k) <= 128, k, fmt.Sprintf("tags.%d.member.key", i+1), "have length less than or equal to 128")
		v.check(len(val) <= 256, val, fmt.Sprintf("tags.%d.member.value", i+1), "have length less than or equal to 256")
		if seen[strings.ToLower(k)] {
			return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(k)] = true
		tags = append(tags, directory.Tag{Key: k, Value: val})
	}
	return tags, v.err()
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
	v.check(max >= 1 && max <= 1000, fmt.Sprint(max), "maxItems", "have value greater than or equal to 1 and less than or equal to 1000")
	return page{marker: c.Params.Get("Marker"), max: max}, v.err()
}

// scanPage lists up to p.max objects of a kind in the caller's account, after the
// marker; it reports whether more remain and the marker to continue from.
func scanPage(tx store.Tx, kind, prefix string, p page, fn func(data []byte) (bool, error)) (truncated bool, marker string, err error) {
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

// policySize counts a document's characters outside whitespace, as IAM's limits do.
func policySize(doc string) int {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return len(doc)
	}
	b, _ := json.Marshal(v)
	return len(b)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
