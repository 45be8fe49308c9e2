package iam

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// maxTags is how many tags an IAM resource may have.
const maxTags = 50

// botocore's tagKeyType and tagValueType.
var (
	tagKeyPattern   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValuePattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

const (
	tagKeyRegex   = `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`
	tagValueRegex = `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`
)

// taggable is one kind of IAM resource with tags. Every kind's TagX, UntagX and
// ListXTags are the same three handlers over its row of the taggables table.
type taggable struct {
	title string                 // User, Role, Policy, InstanceProfile, ServerCertificate
	param string                 // the parameter that names the resource
	read  func(in *input) string // reads and validates param
	open  func(c *service.Call, id string) (*tagSet, error)
	// resource is the ARN the actions are authorized on.
	resource func(c *service.Call) (string, string, error)
}

// tagSet is a resource's tags, ready to change and save.
type tagSet struct {
	tags *[]directory.Tag
	save func() error
	// readOnly, when set, refuses changes (AWS managed policies).
	readOnly func(action string) error
}

func entityTaggable(e *entity) *taggable {
	return &taggable{title: e.title, param: e.param, resource: e.resource,
		read: func(in *input) string { return in.name(e.param, e.nameMax) },
		open: func(c *service.Call, id string) (*tagSet, error) {
			l, err := e.load(c.Tx, c.Account(), id)
			if err != nil {
				return nil, err
			}
			return &tagSet{tags: &l.Tags, save: func() error { return l.save(c.Tx) }}, nil
		}}
}

var taggables = []*taggable{
	entityTaggable(userEntity),
	entityTaggable(roleEntity),
	{title: "Policy", param: "PolicyArn", resource: policyResource,
		read: func(in *input) string { return in.arn("PolicyArn") },
		open: func(c *service.Call, id string) (*tagSet, error) {
			mp, err := loadPolicy(c.Tx, c.Account(), id, false)
			if err != nil {
				return nil, err
			}
			ts := &tagSet{tags: &mp.Tags, save: func() error { return savePolicy(c.Tx, mp) }}
			if mp.Account == "aws" {
				ts.readOnly = func(action string) error { return notOwned(c, action, mp) }
			}
			return ts, nil
		}},
	{title: "InstanceProfile", param: "InstanceProfileName", resource: profileResource,
		read: func(in *input) string { return in.name("InstanceProfileName", 128) },
		open: func(c *service.Call, id string) (*tagSet, error) {
			p, err := loadProfile(c.Tx, c.Account(), id)
			if err != nil {
				return nil, err
			}
			return &tagSet{tags: &p.Tags, save: func() error {
				return c.Tx.Put(directory.KindInstanceProfile, directory.NameKey(p.Account, p.Name), p)
			}}, nil
		}},
	serverCertTaggable,
	samlTaggable, // saml.go
	mfaTaggable,  // mfa.go
}

// serverCertTaggable is also the server certificate actions' resource-tag context.
var serverCertTaggable = &taggable{title: "ServerCertificate", param: "ServerCertificateName", resource: serverCertResource,
	read: func(in *input) string { return in.name("ServerCertificateName", 128) },
	open: func(c *service.Call, id string) (*tagSet, error) {
		sc, err := loadServerCert(c.Tx, c.Account(), id)
		if err != nil {
			return nil, err
		}
		return &tagSet{tags: &sc.Tags, save: func() error { return saveServerCert(c.Tx, sc) }}, nil
	}}

func init() {
	for _, t := range taggables {
		register(
			&service.Action{Name: "Tag" + t.title, IAMAction: "iam:Tag" + t.title, Write: true,
				Resource: t.resource, Context: contexts(t.context, requestTags), Handle: t.tag},
			&service.Action{Name: "Untag" + t.title, IAMAction: "iam:Untag" + t.title, Write: true,
				Resource: t.resource, Context: contexts(t.context, tagKeysContext), Handle: t.untag},
			&service.Action{Name: "List" + t.title + "Tags", IAMAction: "iam:List" + t.title + "Tags",
				Resource: t.resource, Context: t.context, Handle: t.listTags},
		)
	}
	for _, e := range []*entity{userEntity, roleEntity} {
		t := e.title
		register(
			&service.Action{Name: "Put" + t + "PermissionsBoundary", IAMAction: "iam:Put" + t + "PermissionsBoundary", Write: true,
				Resource: e.resource, Context: contexts(e.context(false), newBoundaryContext), Handle: e.putBoundary},
			&service.Action{Name: "Delete" + t + "PermissionsBoundary", IAMAction: "iam:Delete" + t + "PermissionsBoundary", Write: true,
				Resource: e.resource, Context: e.context(true), Handle: e.deleteBoundary},
		)
	}
}

// context adds the named resource's tags as aws:ResourceTag/* and iam:ResourceTag/*.
func (t *taggable) context(c *service.Call, ctx policy.Context) error {
	ts, err := t.open(c, c.Params.Get(t.param))
	var we *wire.Error
	if errors.As(err, &we) {
		return nil // validation and missing resources are the handler's to answer
	}
	if err != nil {
		return err
	}
	resourceTags(*ts.tags, ctx)
	return nil
}

// checkTags validates a request's tags as IAM does: at most 50 (tagListType's
// max), each key and value of tagKeyType's and tagValueType's lengths and
// patterns, keys unique without regard to case. IAM names the member but not the
// value in these messages (LocalStack's IAM provider, compared with AWS's answers,
// words them so).
func checkTags(raw []map[string]string) ([]directory.Tag, error) {
	var v validation
	if len(raw) > maxTags {
		v.bare("tags", fmt.Sprintf("have length less than or equal to %d", maxTags))
		return nil, v.Err()
	}
	seen := map[string]bool{}
	tags := make([]directory.Tag, 0, len(raw))
	for i, t := range raw {
		k, kOK := t["Key"]
		val, vOK := t["Value"]
		member := fmt.Sprintf("tags.%d.member", i+1)
		if !kOK {
			v.Null(member + ".key")
		} else {
			n := utf8.RuneCountInString(k)
			v.bareCheck(n >= 1, member+".key", "have length greater than or equal to 1")
			v.bareCheck(n <= 128, member+".key", "have length less than or equal to 128")
			v.bareCheck(n == 0 || tagKeyPattern.MatchString(k), member+".key", "satisfy regular expression pattern: "+tagKeyRegex)
		}
		if !vOK {
			v.Null(member + ".value")
		} else {
			v.bareCheck(utf8.RuneCountInString(val) <= 256, member+".value", "have length less than or equal to 256")
			v.bareCheck(tagValuePattern.MatchString(val), member+".value", "satisfy regular expression pattern: "+tagValueRegex)
		}
		if seen[strings.ToLower(k)] {
			return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		if len(k) >= 4 && strings.EqualFold(k[:4], "aws:") {
			// AWS reserves the prefix in any case; IAM's wording is not documented.
			return nil, invalidInput("Tag keys beginning with aws: are reserved for system use.")
		}
		seen[strings.ToLower(k)] = true
		tags = append(tags, directory.Tag{Key: k, Value: val})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return tags, nil
}

// bare records a violation without the value, as IAM words constraints on tags.
func (v *validation) bare(member, constraint string) {
	v.Validation = append(v.Validation, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must %s", member, constraint))
}

func (v *validation) bareCheck(ok bool, member, constraint string) {
	if !ok {
		v.bare(member, constraint)
	}
}

// mergeTags sets tags over existing ones; keys match without regard to case.
func mergeTags(old, add []directory.Tag) []directory.Tag {
	out := append([]directory.Tag{}, old...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i], replaced = t, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

// opened reads the resource's parameter and the named list (Tags, TagKeys: both
// required), and loads the resource.
func (t *taggable) opened(c *service.Call, listParam string) (*tagSet, error) {
	in := newInput(c)
	id := t.read(in)
	if !c.Params.Has(listParam) && !c.Params.Has(listParam+".member.1") && !c.Params.Has(listParam+".member.1.Key") {
		in.v.Null(lowerFirst(listParam))
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	return t.open(c, id)
}

func (t *taggable) tag(c *service.Call) (any, error) {
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	ts, err := t.opened(c, "Tags")
	if err != nil {
		return nil, err
	}
	if ts.readOnly != nil {
		return nil, ts.readOnly("iam:Tag" + t.title)
	}
	merged := mergeTags(*ts.tags, tags)
	if len(merged) > maxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit of %d.", maxTags)
	}
	*ts.tags = merged
	return nil, ts.save()
}

// tagKeysContext adds aws:TagKeys for the keys an Untag request removes.
func tagKeysContext(c *service.Call, ctx policy.Context) error {
	keys, err := c.Params.List("TagKeys")
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		ctx.Set("aws:TagKeys", keys...)
	}
	return nil
}

// readTagKeys reads an Untag request's TagKeys with tagKeyListType's constraints;
// IAM words a bad key as one violation of the list's member constraints.
func readTagKeys(c *service.Call) ([]string, error) {
	keys, err := c.Params.List("TagKeys")
	if err != nil {
		return nil, err
	}
	var v validation
	if len(keys) > maxTags {
		v.bare("tagKeys", fmt.Sprintf("have length less than or equal to %d", maxTags))
	}
	for _, k := range keys {
		n := utf8.RuneCountInString(k)
		if n < 1 || n > 128 || !tagKeyPattern.MatchString(k) {
			v.bare("tagKeys", "satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: "+tagKeyRegex+", Member must not be null]")
			break
		}
	}
	return keys, v.Err()
}

func (t *taggable) untag(c *service.Call) (any, error) {
	keys, err := readTagKeys(c)
	if err != nil {
		return nil, err
	}
	ts, err := t.opened(c, "TagKeys")
	if err != nil {
		return nil, err
	}
	if ts.readOnly != nil {
		return nil, ts.readOnly("iam:Untag" + t.title)
	}
	kept := (*ts.tags)[:0]
	for _, tag := range *ts.tags {
		if !containsFold(keys, tag.Key) {
			kept = append(kept, tag)
		}
	}
	*ts.tags = kept
	return nil, ts.save()
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

type listTagsResult struct {
	Tags        list[tagXML] `xml:"Tags"`
	IsTruncated bool         `xml:"IsTruncated"`
	Marker      string       `xml:"Marker,omitempty"`
}

func (t *taggable) listTags(c *service.Call) (any, error) {
	in := newInput(c)
	id := t.read(in)
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	ts, err := t.open(c, id)
	if err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(*ts.tags), p)
	if err != nil {
		return nil, err
	}
	res := &listTagsResult{IsTruncated: truncated, Marker: marker}
	res.Tags.Member = append([]tagXML{}, tagsXML((*ts.tags)[start:end])...)
	return res, nil
}

// newBoundaryContext adds iam:PermissionsBoundary for the boundary a request sets.
func newBoundaryContext(c *service.Call, ctx policy.Context) error {
	if b := c.Params.Get("PermissionsBoundary"); b != "" {
		ctx.Set("iam:PermissionsBoundary", b)
	}
	return nil
}

func (e *entity) putBoundary(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name(e.param, 64)
	b := in.arn("PermissionsBoundary")
	if err := in.err(); err != nil {
		return nil, err
	}
	l, err := e.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	if err := l.modifiable(); err != nil {
		return nil, err
	}
	if err := l.setBoundary(c.Tx, b); err != nil {
		return nil, err
	}
	return nil, l.save(c.Tx)
}

func (e *entity) deleteBoundary(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name(e.param, 64)
	if err := in.err(); err != nil {
		return nil, err
	}
	l, err := e.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	if err := l.modifiable(); err != nil {
		return nil, err
	}
	if err := l.setBoundary(c.Tx, ""); err != nil {
		return nil, err
	}
	return nil, l.save(c.Tx)
}

// setBoundary replaces a user's or role's permissions boundary ("" removes it),
// keeping the policies' usage counts and the boundary index; the caller saves l.
func (l *loaded) setBoundary(tx store.Tx, policyArn string) error {
	if policyArn == l.PermissionsBoundary {
		return nil
	}
	if policyArn != "" {
		mp, err := boundaryPolicy(tx, l.Account, policyArn)
		if err != nil {
			return err
		}
		mp.BoundaryCount++
		if err := savePolicy(tx, mp); err != nil {
			return err
		}
		if err := tx.Put(boundaryIndex, l.indexKey(policyArn), entityRef{l.e.kind, l.Name}); err != nil {
			return err
		}
	}
	if old := l.PermissionsBoundary; old != "" {
		if mp, err := loadPolicy(tx, l.Account, old, false); err == nil {
			mp.BoundaryCount--
			if err := savePolicy(tx, mp); err != nil {
				return err
			}
		}
		if _, err := tx.Delete(boundaryIndex, l.indexKey(old)); err != nil {
			return err
		}
	}
	l.PermissionsBoundary = policyArn
	return nil
}

// boundaryPolicy loads the managed policy a permissions boundary names.
func boundaryPolicy(tx store.Tx, account, policyArn string) (*directory.ManagedPolicy, error) {
	mp, err := loadPolicy(tx, account, policyArn, true)
	var we *wire.Error
	if errors.As(err, &we) && we.Code == "NoSuchEntity" {
		return nil, noSuchEntity("Scope ARN: %s does not exist or is not attachable.", policyArn)
	}
	return mp, err
}
