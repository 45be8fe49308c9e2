package iam

import (
	"fmt"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
)

// taggable is an IAM resource addressed by one parameter (a SAML provider's ARN, an
// MFA device's serial number) that takes Tag*, Untag* and List*Tags actions. The
// generic tag code of tags.go serves users and roles; this serves the resources
// that are not principals.
type taggable struct {
	resource func(c *service.Call) (string, string, error)
	context  func(c *service.Call, ctx policy.Context) error
	// load validates the request's resource parameter (recording errors in in),
	// loads the resource and returns its tags and how to save it.
	load func(c *service.Call, in *input) (tags *[]directory.Tag, save func() error, err error)
}

// register adds TagNAME, UntagNAME and ListNAMETags.
func (t *taggable) register(name string) {
	register(
		&service.Action{Name: "Tag" + name, IAMAction: "iam:Tag" + name, Write: true,
			Resource: t.resource, Context: contexts(t.context, requestTags), Handle: t.tag},
		&service.Action{Name: "Untag" + name, IAMAction: "iam:Untag" + name, Write: true,
			Resource: t.resource, Context: contexts(t.context, tagKeysContext), Handle: t.untag},
		&service.Action{Name: "List" + name + "Tags", IAMAction: "iam:List" + name + "Tags",
			Resource: t.resource, Context: t.context, Handle: t.listTags},
	)
}

// loadFor reads the resource, requiring the list parameter (Tags or TagKeys).
func (t *taggable) loadFor(c *service.Call, listParam string) (*[]directory.Tag, func() error, error) {
	in := newInput(c)
	if listParam != "" && !c.Params.Has(listParam) && !c.Params.Has(listParam+".member.1") && !c.Params.Has(listParam+".member.1.Key") {
		in.v.Null(lowerFirst(listParam))
	}
	return t.load(c, in)
}

func (t *taggable) tag(c *service.Call) (any, error) {
	tags, save, err := t.loadFor(c, "Tags")
	if err != nil {
		return nil, err
	}
	add, err := readTags(c)
	if err != nil {
		return nil, err
	}
	merged := mergeTags(*tags, add)
	if len(merged) > maxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit of %d.", maxTags)
	}
	*tags = merged
	return nil, save()
}

func (t *taggable) untag(c *service.Call) (any, error) {
	tags, save, err := t.loadFor(c, "TagKeys")
	if err != nil {
		return nil, err
	}
	keys, err := c.Params.List("TagKeys")
	if err != nil {
		return nil, err
	}
	var v validation
	v.Check(len(keys) <= maxTags, fmt.Sprint(keys), "tagKeys", fmt.Sprintf("have length less than or equal to %d", maxTags))
	for i, k := range keys {
		v.Length(k, fmt.Sprintf("tagKeys.%d.member", i+1), 1, 128)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var kept []directory.Tag
	for _, tg := range *tags {
		if !containsFold(keys, tg.Key) {
			kept = append(kept, tg)
		}
	}
	*tags = kept
	return nil, save()
}

func (t *taggable) listTags(c *service.Call) (any, error) {
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	tags, _, err := t.loadFor(c, "")
	if err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(*tags), p)
	if err != nil {
		return nil, err
	}
	res := &listTagsResult{IsTruncated: truncated, Marker: marker}
	res.Tags.Member = append([]tagXML{}, tagsXML((*tags)[start:end])...)
	return res, nil
}
