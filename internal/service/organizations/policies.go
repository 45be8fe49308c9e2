package organizations

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		action("CreatePolicy", onNewPolicy, true, createPolicy),
		action("UpdatePolicy", onPolicy, true, updatePolicy),
		action("DeletePolicy", onPolicy, true, deletePolicy),
		action("DescribePolicy", onPolicy, false, describePolicy),
		action("ListPolicies", onAny, false, listPolicies),
		action("AttachPolicy", onPolicy, true, attachPolicy),
		action("DetachPolicy", onPolicy, true, detachPolicy),
		action("ListPoliciesForTarget", onTarget, false, listPoliciesForTarget),
		action("ListTargetsForPolicy", onPolicy, false, listTargetsForPolicy),
		action("TagResource", onResource, true, tagResource),
		action("UntagResource", onResource, true, untagResource),
		action("ListTagsForResource", onResource, false, listTagsForResource),
	)
}

type policySummaryOut struct {
	Id          string
	Arn         string
	Name        string
	Description string
	Type        string
	AwsManaged  bool
}

func summary(p *directory.OrgPolicy) policySummaryOut {
	return policySummaryOut{Id: p.ID, Arn: p.Arn, Name: p.Name, Description: p.Description, Type: p.Type, AwsManaged: p.AWSManaged}
}

type policyOut struct {
	PolicySummary policySummaryOut
	Content       string
}

type policyResult struct {
	Policy policyOut
}

func newPolicyResult(p *directory.OrgPolicy) *policyResult {
	return &policyResult{policyOut{summary(p), p.Content}}
}

// checkContent enforces the size limit and the grammar of the policy type: the
// engine's parser for SCPs and RCPs (which compiles the document into the cache the
// engine reads it from), the management policy syntax for the other types.
func checkContent(c *service.Call, typ string, pt policyType, content string) error {
	if content == "" {
		return invalidInput("MIN_LENGTH_EXCEEDED", "The value of Content must be at least 1 character long.")
	}
	if n := utf8.RuneCountInString(content); n > pt.maxSize {
		return constraintViolation("POLICY_CONTENT_LIMIT_EXCEEDED", "The policy document has %d characters; a %s can have at most %d.", n, strings.ToLower(strings.ReplaceAll(typ, "_", " ")), pt.maxSize)
	}
	if pt.management() {
		return checkManagementPolicy(pt, content)
	}
	if _, err := c.Env.Resolver.Policies.Compile(content, policyKind(typ)); err != nil {
		return malformed("%s", strings.TrimPrefix(err.Error(), "MalformedPolicyDocument: "))
	}
	return nil
}

// checkPolicyName refuses a name another policy of the type has.
func checkPolicyName(tx store.Tx, typ, name, self string) (int, error) {
	count := 0
	err := scanPolicies(tx, func(p *directory.OrgPolicy) error {
		if p.Type != typ {
			return nil
		}
		if !p.AWSManaged {
			count++
		}
		if p.Name == name && p.ID != self {
			return orgError("DuplicatePolicyException", "A policy with the same name already exists.")
		}
		return nil
	})
	return count, err
}

func scanPolicies(tx store.Tx, fn func(p *directory.OrgPolicy) error) error {
	return tx.Scan(directory.KindOrgPolicy, "", "", 0, func(_ string, data []byte) (bool, error) {
		var p directory.OrgPolicy
		if err := json.Unmarshal(data, &p); err != nil {
			return false, err
		}
		return true, fn(&p)
	})
}

// existingPolicy reads a PolicyId member naming an existing policy.
func existingPolicy(c *service.Call, v *string) (*directory.OrgPolicy, error) {
	id, err := need("PolicyId", v)
	if err != nil {
		return nil, err
	}
	if !policyIDPattern.MatchString(id) {
		return nil, invalidInput("INVALID_SYNTAX_POLICY_ID", "You specified an invalid policy ID: %s.", id)
	}
	p, err := loadPolicy(c.Tx, id)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, policyNotFound()
	}
	return p, nil
}

// existingTarget reads a TargetId member naming the root, an OU or an account of
// the organization; it returns the target's type and name.
func existingTarget(c *service.Call, org *directory.Organization, v *string) (id, kind, name string, err error) {
	id, err = need("TargetId", v)
	if err != nil {
		return "", "", "", err
	}
	if !rootIDPattern.MatchString(id) && !ouIDPattern.MatchString(id) && !accountIDPattern.MatchString(id) {
		return "", "", "", invalidInput("INVALID_PATTERN_TARGET_ID", "You specified a policy target ID that doesn't match the required pattern: %s.", id)
	}
	kind, name, err = targetKind(c.Tx, org, id)
	if err != nil {
		return "", "", "", err
	}
	if kind == "" {
		return "", "", "", targetNotFound()
	}
	return id, kind, name, nil
}

// policyRequest reads the PolicyId member of a request for the management account (or
// a delegate): an existing policy, which must not be AWS managed when the request
// changes it.
func policyRequest(c *service.Call, v *string, change bool) (*directory.OrgPolicy, error) {
	if _, err := managementOrg(c); err != nil {
		return nil, err
	}
	p, err := existingPolicy(c, v)
	if err == nil && change && p.AWSManaged {
		err = immutable()
	}
	return p, err
}

func immutable() error {
	return invalidInput("IMMUTABLE_POLICY", "You specified a policy that is managed by AWS and can't be modified.")
}

func createPolicy(c *service.Call) (any, error) {
	var in struct {
		Content     *string
		Description *string
		Name        *string
		Type        *string
		Tags        []tagIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	content, err := need("Content", in.Content)
	if err != nil {
		return nil, err
	}
	description, err := need("Description", in.Description)
	if err != nil {
		return nil, err
	}
	name, err := need("Name", in.Name)
	if err != nil {
		return nil, err
	}
	typ, err := need("Type", in.Type)
	if err != nil {
		return nil, err
	}
	if err := checkLength("Name", name, 1, 128); err != nil {
		return nil, err
	}
	if err := checkLength("Description", description, 0, 512); err != nil {
		return nil, err
	}
	pt, err := checkPolicyType("Type", typ)
	if err != nil {
		return nil, err
	}
	tags, err := readTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if org.FeatureSet != "ALL" {
		return nil, orgError("PolicyTypeNotAvailableForOrganizationException", "You can't use the specified policy type with the feature set currently enabled for this organization.")
	}
	if err := checkContent(c, typ, pt, content); err != nil {
		return nil, err
	}
	count, err := checkPolicyName(c.Tx, typ, name, "")
	if err != nil {
		return nil, err
	}
	if count >= maxPolicies {
		return nil, constraintViolation("POLICY_NUMBER_LIMIT_EXCEEDED", "You attempted to exceed the number of policies of type %s (%d) that you can have in an organization.", typ, maxPolicies)
	}
	p := &directory.OrgPolicy{Name: name, Description: description, Type: typ, Content: content, Tags: tags, Updated: c.Now.UTC()}
	for {
		p.ID = "p-" + directory.RandomLower(8)
		p.Arn = policyArn(org, typ, p.ID)
		ok, err := c.Tx.Insert(directory.KindOrgPolicy, p.ID, p)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
	}
	if err := authorizeTags(c, org, tags, p.Arn); err != nil {
		return nil, err
	}
	return newPolicyResult(p), nil
}

func updatePolicy(c *service.Call) (any, error) {
	var in struct {
		PolicyId    *string
		Name        *string
		Description *string
		Content     *string
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	p, err := policyRequest(c, in.PolicyId, true)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := checkLength("Name", *in.Name, 1, 128); err != nil {
			return nil, err
		}
		if _, err := checkPolicyName(c.Tx, p.Type, *in.Name, p.ID); err != nil {
			return nil, err
		}
		p.Name = *in.Name
	}
	if in.Description != nil {
		if err := checkLength("Description", *in.Description, 0, 512); err != nil {
			return nil, err
		}
		p.Description = *in.Description
	}
	if in.Content != nil {
		if err := checkContent(c, p.Type, policyTypes[p.Type], *in.Content); err != nil {
			return nil, err
		}
		p.Content = *in.Content
	}
	p.Updated = c.Now.UTC()
	if err := c.Tx.Put(directory.KindOrgPolicy, p.ID, p); err != nil {
		return nil, err
	}
	return newPolicyResult(p), nil
}

func deletePolicy(c *service.Call) (any, error) {
	var in struct{ PolicyId *string }
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	p, err := policyRequest(c, in.PolicyId, true)
	if err != nil {
		return nil, err
	}
	targets, err := policyTargets(c.Tx, p.ID)
	if err != nil {
		return nil, err
	}
	if len(targets) > 0 {
		return nil, orgError("PolicyInUseException", "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.")
	}
	if _, err := c.Tx.Delete(directory.KindOrgPolicy, p.ID); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// policyTargets lists the targets a policy is attached to.
func policyTargets(tx store.Tx, id string) ([]string, error) {
	ats, err := attachments(tx, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, at := range ats {
		if at.PolicyID == id {
			out = append(out, at.TargetID)
		}
	}
	return out, nil
}

func describePolicy(c *service.Call) (any, error) {
	var in struct{ PolicyId *string }
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	p, err := policyRequest(c, in.PolicyId, false)
	if err != nil {
		return nil, err
	}
	return newPolicyResult(p), nil
}

// readFilter reads a required policy-type Filter.
func readFilter(v *string) (string, error) {
	typ, err := need("Filter", v)
	if err != nil {
		return "", err
	}
	_, err = checkPolicyType("Filter", typ)
	return typ, err
}

func listPolicies(c *service.Call) (any, error) {
	var in struct {
		Filter *string
		pageIn
	}
	if _, err := decodeForManagement(c, &in); err != nil {
		return nil, err
	}
	typ, err := readFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	items, err := scanKind(c.Tx, directory.KindOrgPolicy, "", func(p *directory.OrgPolicy) (string, policySummaryOut, bool) {
		return p.ID, summary(p), p.Type == typ
	})
	if err != nil {
		return nil, err
	}
	return page("Policies", in.pageIn, items)
}

type attachIn struct {
	PolicyId *string
	TargetId *string
}

// readAttachment checks an AttachPolicy or DetachPolicy request: the policy, the
// target, and the caller's permission on the target too.
func readAttachment(c *service.Call, name string) (*directory.Organization, *directory.OrgPolicy, string, error) {
	var in attachIn
	if err := decode(c, &in); err != nil {
		return nil, nil, "", err
	}
	org, err := managementOrg(c)
	if err != nil {
		return nil, nil, "", err
	}
	p, err := existingPolicy(c, in.PolicyId)
	if err != nil {
		return nil, nil, "", err
	}
	target, _, _, err := existingTarget(c, org, in.TargetId)
	if err != nil {
		return nil, nil, "", err
	}
	ctx := policy.Context{}
	ctx.Set("organizations:PolicyType", p.Type)
	if err := authorizeOn(c, org, name, targetArn(org, target), ctx); err != nil {
		return nil, nil, "", err
	}
	return org, p, target, nil
}

// countAttached counts the policies of a type attached to a target.
func countAttached(tx store.Tx, target, typ string) (int, error) {
	ats, err := attachments(tx, target)
	n := 0
	for _, at := range ats {
		if at.Type == typ {
			n++
		}
	}
	return n, err
}

func attachPolicy(c *service.Call) (any, error) {
	org, p, target, err := readAttachment(c, "AttachPolicy")
	if err != nil {
		return nil, err
	}
	if !enabled(org, p.Type) {
		return nil, orgError("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
	}
	var at attachment
	if err := c.Tx.Get(directory.KindOrgAttachment, attachmentKey(target, p.ID), &at); err == nil {
		return nil, orgError("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")
	} else if !isNotFound(err) {
		return nil, err
	}
	n, err := countAttached(c.Tx, target, p.Type)
	if err != nil {
		return nil, err
	}
	if max := policyTypes[p.Type].maxAttached; n >= max {
		return nil, constraintViolation("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "You attempted to attach more than %d policies of type %s to the same entity.", max, p.Type)
	}
	if err := attach(c.Tx, target, p, c.Now); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func detachPolicy(c *service.Call) (any, error) {
	_, p, target, err := readAttachment(c, "DetachPolicy")
	if err != nil {
		return nil, err
	}
	var at attachment
	if err := c.Tx.Get(directory.KindOrgAttachment, attachmentKey(target, p.ID), &at); err != nil {
		if isNotFound(err) {
			return nil, orgError("PolicyNotAttachedException", "The policy isn't attached to the specified target in the specified root.")
		}
		return nil, err
	}
	if p.ID == rcpFullAWSAccessID {
		return nil, invalidInput("NON_DETACHABLE_POLICY", "You can't detach this AWS Managed Policy: RCPFullAWSAccess stays attached to every root, OU and account.")
	}
	if p.Type == typeSCP {
		n, err := countAttached(c.Tx, target, typeSCP)
		if err != nil {
			return nil, err
		}
		if n <= 1 {
			return nil, constraintViolation("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", "You attempted to detach the last service control policy from %s: every root, OU and account must keep at least one SCP attached.", target)
		}
	}
	if _, err := c.Tx.Delete(directory.KindOrgAttachment, attachmentKey(target, p.ID)); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func listPoliciesForTarget(c *service.Call) (any, error) {
	var in struct {
		TargetId *string
		Filter   *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	target, _, _, err := existingTarget(c, org, in.TargetId)
	if err != nil {
		return nil, err
	}
	typ, err := readFilter(in.Filter)
	if err != nil {
		return nil, err
	}
	ats, err := attachments(c.Tx, target)
	if err != nil {
		return nil, err
	}
	var items []keyed[policySummaryOut]
	for _, at := range ats {
		if at.Type != typ {
			continue
		}
		p, err := loadPolicy(c.Tx, at.PolicyID)
		if err != nil {
			return nil, err
		}
		if p != nil {
			items = append(items, keyed[policySummaryOut]{p.ID, summary(p)})
		}
	}
	return page("Policies", in.pageIn, items)
}

type targetOut struct {
	TargetId string
	Arn      string
	Name     string
	Type     string
}

func listTargetsForPolicy(c *service.Call) (any, error) {
	var in struct {
		PolicyId *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	p, err := existingPolicy(c, in.PolicyId)
	if err != nil {
		return nil, err
	}
	targets, err := policyTargets(c.Tx, p.ID)
	if err != nil {
		return nil, err
	}
	var items []keyed[targetOut]
	for _, t := range targets {
		kind, name, err := targetKind(c.Tx, org, t)
		if err != nil {
			return nil, err
		}
		if kind == "" {
			continue
		}
		items = append(items, keyed[targetOut]{t, targetOut{TargetId: t, Arn: targetArn(org, t), Name: name, Type: kind}})
	}
	return page("Targets", in.pageIn, items)
}

// ---- tags ------------------------------------------------------------------------

// taggable reads a ResourceId member and returns the tags it holds and a function
// that stores new ones.
func taggable(c *service.Call, org *directory.Organization, v *string) ([]directory.Tag, func([]directory.Tag) error, error) {
	id, err := need("ResourceId", v)
	if err != nil {
		return nil, nil, err
	}
	r, err := taggedResource(c.Tx, org, id)
	switch {
	case err != nil:
		return nil, nil, err
	case r == nil && !anyResourcePattern(id):
		return nil, nil, invalidInput("INVALID_PATTERN", "You provided a value for ResourceId that does not match the required pattern.")
	case r == nil:
		return nil, nil, targetNotFound()
	case r.immutable:
		return nil, nil, immutable()
	}
	return r.tags, func(t []directory.Tag) error { return r.save(c.Tx, t) }, nil
}

func anyResourcePattern(id string) bool {
	for _, p := range []*regexp.Regexp{rootIDPattern, ouIDPattern, policyIDPattern, accountIDPattern, resourcePolicyIDPattern, transferIDPattern} {
		if p.MatchString(id) {
			return true
		}
	}
	return false
}

// tagged is a resource that holds tags: a root, OU, account, policy, the resource
// policy or a responsibility transfer.
type tagged struct {
	tags      []directory.Tag
	save      func(tx store.Tx, tags []directory.Tag) error
	immutable bool // an AWS managed policy
}

// taggedResource finds the resource an id names; nil when it names none.
func taggedResource(tx store.Tx, org *directory.Organization, id string) (*tagged, error) {
	put := func(kind, key string, v any) func(store.Tx, []directory.Tag) error {
		return func(tx store.Tx, _ []directory.Tag) error { return tx.Put(kind, key, v) }
	}
	switch {
	case id == org.RootID:
		return &tagged{org.RootTags, func(tx store.Tx, t []directory.Tag) error {
			org.RootTags = t
			return put(directory.KindOrganization, "org", org)(tx, t)
		}, false}, nil
	case ouIDPattern.MatchString(id):
		ou, err := loadOU(tx, id)
		if err != nil || ou == nil {
			return nil, err
		}
		return &tagged{ou.Tags, func(tx store.Tx, t []directory.Tag) error {
			ou.Tags = t
			return put(directory.KindOU, ou.ID, ou)(tx, t)
		}, false}, nil
	case policyIDPattern.MatchString(id):
		p, err := loadPolicy(tx, id)
		if err != nil || p == nil {
			return nil, err
		}
		return &tagged{p.Tags, func(tx store.Tx, t []directory.Tag) error {
			p.Tags = t
			return put(directory.KindOrgPolicy, p.ID, p)(tx, t)
		}, p.AWSManaged}, nil
	case accountIDPattern.MatchString(id):
		a, err := loadAccount(tx, id)
		if err != nil || a == nil || a.ParentID == "" {
			return nil, err
		}
		return &tagged{a.Tags, func(tx store.Tx, t []directory.Tag) error {
			a.Tags = t
			return put(directory.KindAccount, a.ID, a)(tx, t)
		}, false}, nil
	case resourcePolicyIDPattern.MatchString(id):
		rp, err := loadResourcePolicy(tx)
		if err != nil || rp == nil || rp.ID != id {
			return nil, err
		}
		return &tagged{rp.Tags, func(tx store.Tx, t []directory.Tag) error {
			rp.Tags = t
			return put(directory.KindOrgResource, resourcePolicyKey, rp)(tx, t)
		}, false}, nil
	case transferIDPattern.MatchString(id):
		tr, err := loadTransfer(tx, id)
		if err != nil || tr == nil || tr.OrgID != org.ID {
			return nil, err
		}
		return &tagged{tr.Tags, func(tx store.Tx, t []directory.Tag) error {
			tr.Tags = t
			return put(directory.KindTransfer, tr.ID, tr)(tx, t)
		}, false}, nil
	}
	return nil, nil
}

func tagResource(c *service.Call) (any, error) {
	var in struct {
		ResourceId *string
		Tags       []tagIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, invalidInput("INPUT_REQUIRED", "You must specify a value for Tags.")
	}
	tags, err := readTags(in.Tags)
	if err != nil {
		return nil, err
	}
	have, set, err := taggable(c, org, in.ResourceId)
	if err != nil {
		return nil, err
	}
	merged := mergeTags(have, tags)
	if len(merged) > maxTags {
		return nil, constraintViolation("MAX_TAG_LIMIT_EXCEEDED", "You can't attach more than %d tags to a resource.", maxTags)
	}
	return struct{}{}, set(merged)
}

func untagResource(c *service.Call) (any, error) {
	var in struct {
		ResourceId *string
		TagKeys    []string
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, invalidInput("INPUT_REQUIRED", "You must specify a value for TagKeys.")
	}
	have, set, err := taggable(c, org, in.ResourceId)
	if err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	kept := []directory.Tag{}
	for _, t := range have {
		if !drop[t.Key] {
			kept = append(kept, t)
		}
	}
	return struct{}{}, set(kept)
}

func listTagsForResource(c *service.Call) (any, error) {
	var in struct {
		ResourceId *string
		NextToken  *string
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	have, _, err := taggable(c, org, in.ResourceId)
	if err != nil {
		return nil, err
	}
	var items []keyed[tagOut]
	for _, t := range have {
		items = append(items, keyed[tagOut]{t.Key, tagOut{t.Key, t.Value}})
	}
	return page("Tags", pageIn{NextToken: in.NextToken}, items)
}
