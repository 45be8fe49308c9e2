package iam

import (
	"errors"
	"fmt"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// maxTags is how many tags an IAM resource may have.
const maxTags = 50

func init() {
	for _, e := range []*entity{userEntity, roleEntity} {
		t := e.title
		register(
			&service.Action{Name: "Tag" + t, IAMAction: "iam:Tag" + t, Write: true,
				Resource: e.resource, Context: contexts(e.context(false), requestTags), Handle: e.tag},
			&service.Action{Name: "Untag" + t, IAMAction: "iam:Untag" + t, Write: true,
				Resource: e.resource, Context: contexts(e.context(false), tagKeysContext), Handle: e.untag},
			&service.Action{Name: "List" + t + "Tags", IAMAction: "iam:List" + t + "Tags",
				Resource: e.resource, Context: e.context(false), Handle: e.listTags},
			&service.Action{Name: "Put" + t + "PermissionsBoundary", IAMAction: "iam:Put" + t + "PermissionsBoundary", Write: true,
				Resource: e.resource, Context: contexts(e.context(false), newBoundaryContext), Handle: e.putBoundary},
			&service.Action{Name: "Delete" + t + "PermissionsBoundary", IAMAction: "iam:Delete" + t + "PermissionsBoundary", Write: true,
				Resource: e.resource, Context: e.context(true), Handle: e.deleteBoundary},
		)
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

// tagged loads the entity to tag: Tags is required.
func (e *entity) tagged(c *service.Call, listParam string) (*loaded, error) {
	in := newInput(c)
	name := in.name(e.param, e.nameMax)
	if !c.Params.Has(listParam) && !c.Params.Has(listParam+".member.1") && !c.Params.Has(listParam+".member.1.Key") {
		in.v.Null(lowerFirst(listParam))
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	return e.load(c.Tx, c.Account(), name)
}

func (e *entity) tag(c *service.Call) (any, error) {
	l, err := e.tagged(c, "Tags")
	if err != nil {
		return nil, err
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	merged := mergeTags(l.Tags, tags)
	if len(merged) > maxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit of %d.", maxTags)
	}
	l.Tags = merged
	return nil, l.save(c.Tx)
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

func (e *entity) untag(c *service.Call) (any, error) {
	l, err := e.tagged(c, "TagKeys")
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
	kept := l.Tags[:0]
	for _, t := range l.Tags {
		if !containsFold(keys, t.Key) {
			kept = append(kept, t)
		}
	}
	l.Tags = kept
	return nil, l.save(c.Tx)
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

func (e *entity) listTags(c *service.Call) (any, error) {
	in := newInput(c)
	name := in.name(e.param, e.nameMax)
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	l, err := e.load(c.Tx, c.Account(), name)
	if err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(l.Tags), p)
	if err != nil {
		return nil, err
	}
	res := &listTagsResult{IsTruncated: truncated, Marker: marker}
	res.Tags.Member = append([]tagXML{}, tagsXML(l.Tags[start:end])...)
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
