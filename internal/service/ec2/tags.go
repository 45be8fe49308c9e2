package ec2

import (
	"sort"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
)

func init() {
	register(
		&service.Action{Name: "CreateTags", IAMAction: "ec2:CreateTags", Write: true,
			Resource: tagResource(true), Context: tagContext(true), Handle: changeTags("ec2:CreateTags", true)},
		&service.Action{Name: "DeleteTags", IAMAction: "ec2:DeleteTags", Write: true,
			Resource: tagResource(false), Context: tagContext(false), Handle: changeTags("ec2:DeleteTags", false)},
		&service.Action{Name: "DescribeTags", IAMAction: "ec2:DescribeTags", Context: regionContext, Handle: describeTags},
	)
}

// taggable is a resource CreateTags and DeleteTags act on.
type taggable struct {
	id, resourceType, arn, account string
	tags                           *[]directory.Tag
	context                        func(policy.Context)
	save                           func() error
}

func loadTaggable(c *service.Call, id string) (*taggable, error) {
	switch {
	case strings.HasPrefix(id, "i-"):
		in, err := loadInstance(c, id)
		if err != nil {
			return nil, err
		}
		return &taggable{id: id, resourceType: "instance", arn: in.arn(), account: in.Account, tags: &in.Tags,
			context: in.context, save: func() error { return putInstance(c.Tx, in) }}, nil
	case strings.HasPrefix(id, "ami-"):
		if err := checkImageID(id); err != nil {
			return nil, err
		}
		im, err := ownImage(c, id)
		if err != nil {
			return nil, err
		}
		if im == nil {
			return nil, imageNotFound(id)
		}
		return &taggable{id: id, resourceType: "image", arn: imageArn(im.Region, im.ID), account: im.OwnerID, tags: &im.Tags,
			context: func(ctx policy.Context) { im.context(ctx, im.Region) },
			save:    func() error { return c.Tx.Put(kindImage, im.ID, im) }}, nil
	case strings.HasPrefix(id, "vpce-"):
		ep, err := loadVpce(c, id)
		if err != nil {
			return nil, err
		}
		return &taggable{id: id, resourceType: "vpc-endpoint", arn: vpceArn(region(c), ep.Account, ep.ID), account: ep.Account,
			tags: &ep.Tags, context: func(ctx policy.Context) { vpceContext(ctx, region(c), ep) },
			save: func() error { return putVpce(c, ep) }}, nil
	}
	return nil, ec2Error("InvalidID", "The ID '%s' is not valid", id)
}

// tagRequest is what CreateTags and DeleteTags were asked.
type tagRequest struct {
	ids  []string
	tags []directory.Tag
	keys []string // DeleteTags: the keys named
	only map[string]*string
}

func readTagRequest(c *service.Call, create bool) (*tagRequest, error) {
	p := parseParams(c.Params)
	r := &tagRequest{ids: p.strs("ResourceId")}
	if len(r.ids) == 0 {
		return nil, missingParameter("ResourceId")
	}
	if len(r.ids) > 1000 {
		return nil, invalidParameterValue("You can specify at most 1000 resources in one request.")
	}
	if create {
		if !p.has("Tag") {
			return nil, missingParameter("Tag")
		}
		tags, err := readTags(p.list("Tag"), "Tag")
		if err != nil {
			return nil, err
		}
		r.tags = tags
		return r, nil
	}
	r.only = map[string]*string{}
	for _, t := range p.list("Tag") {
		if !t.has("Key") {
			return nil, missingParameter("Tag.Key")
		}
		k := t.str("Key")
		r.keys = append(r.keys, k)
		if t.has("Value") {
			v := t.str("Value")
			r.only[k] = &v
		} else {
			r.only[k] = nil
		}
	}
	return r, nil
}

func (r *tagRequest) context(ctx policy.Context) {
	if r.tags != nil {
		requestTags(ctx, r.tags)
	} else if len(r.keys) > 0 {
		ctx.Set("aws:TagKeys", r.keys...)
	}
}

func tagResource(create bool) func(c *service.Call) (string, string, error) {
	return func(c *service.Call) (string, string, error) {
		r, err := readTagRequest(c, create)
		if err != nil {
			return "", "", err
		}
		t, err := loadTaggable(c, r.ids[0])
		if err != nil {
			return "", "", err
		}
		return t.arn, t.account, nil
	}
}

func tagContext(create bool) func(c *service.Call, ctx policy.Context) error {
	return func(c *service.Call, ctx policy.Context) error {
		r, err := readTagRequest(c, create)
		if err != nil {
			return err
		}
		t, err := loadTaggable(c, r.ids[0])
		if err != nil {
			return err
		}
		t.context(ctx)
		r.context(ctx)
		return nil
	}
}

func changeTags(action string, create bool) func(c *service.Call) (any, error) {
	return func(c *service.Call) (any, error) {
		r, err := readTagRequest(c, create)
		if err != nil {
			return nil, err
		}
		var targets []*taggable
		seen := map[string]bool{}
		for _, id := range r.ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			t, err := loadTaggable(c, id)
			if err != nil {
				return nil, err
			}
			targets = append(targets, t)
		}
		for _, t := range targets[1:] {
			ctx := policy.Context{}
			t.context(ctx)
			r.context(ctx)
			if err := c.Authorize(service.Request{Action: action, Resource: t.arn, ResourceAccount: t.account, Context: ctx}); err != nil {
				return nil, err
			}
		}
		if err := dryRun(parseParams(c.Params)); err != nil {
			return nil, err
		}
		for _, t := range targets {
			if create {
				for _, tag := range r.tags {
					*t.tags = setTag(*t.tags, tag.Key, tag.Value)
				}
				if len(*t.tags) > 50 {
					return nil, ec2Error("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
				}
			} else {
				var kept []directory.Tag
				for _, tag := range *t.tags {
					want, named := r.only[tag.Key]
					del := len(r.only) == 0 || (named && (want == nil || *want == tag.Value))
					if !del {
						kept = append(kept, tag)
					}
				}
				*t.tags = kept
			}
			if err := t.save(); err != nil {
				return nil, err
			}
		}
		return &returnTrue{Return: true}, nil
	}
}

type tagDescriptionXML struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}

type describeTagsResult struct {
	Tags items[tagDescriptionXML] `xml:"tagSet"`
}

func describeTags(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	filters, err := readFilters(p)
	if err != nil {
		return nil, err
	}
	field := func(t tagDescriptionXML) fieldsFunc {
		return func(name string) ([]string, bool) {
			switch name {
			case "key":
				return []string{t.Key}, true
			case "value":
				return []string{t.Value}, true
			case "resource-id":
				return []string{t.ResourceID}, true
			case "resource-type":
				return []string{t.ResourceType}, true
			}
			return nil, false
		}
	}
	if err := checkFilters(filters, field(tagDescriptionXML{})); err != nil {
		return nil, err
	}
	if _, err := p.integer("MaxResults", 0); err != nil {
		return nil, err
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	account, r := c.Account(), region(c)
	var all []tagDescriptionXML
	add := func(id, typ string, tags []directory.Tag) {
		for _, t := range tags {
			all = append(all, tagDescriptionXML{id, typ, t.Key, t.Value})
		}
	}
	ins, err := scanAll(c.Tx, kindInstance, func(in *instance) bool {
		return in.Account == account && in.Region == r && in.visible(c.Now)
	})
	if err != nil {
		return nil, err
	}
	for _, in := range ins {
		add(in.ID, "instance", in.Tags)
	}
	ims, err := scanAll(c.Tx, kindImage, func(im *image) bool { return im.OwnerID == account && im.Region == r })
	if err != nil {
		return nil, err
	}
	for _, im := range ims {
		add(im.ID, "image", im.Tags)
	}
	eps, err := accountVpces(c)
	if err != nil {
		return nil, err
	}
	for _, ep := range eps {
		add(ep.ID, "vpc-endpoint", ep.Tags)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].ResourceID != all[j].ResourceID {
			return all[i].ResourceID < all[j].ResourceID
		}
		return all[i].Key < all[j].Key
	})
	res := &describeTagsResult{}
	res.Tags.Items = []tagDescriptionXML{}
	for _, t := range all {
		ok, err := matchFilters(filters, nil, field(t))
		if err != nil {
			return nil, err
		}
		if ok {
			res.Tags.Items = append(res.Tags.Items, t)
		}
	}
	return res, nil
}
