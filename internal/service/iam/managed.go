package iam

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/iamlocal/iamlocal/internal/awsdata"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

func init() {
	register(
		&service.Action{Name: "CreatePolicy", IAMAction: "iam:CreatePolicy", Write: true,
			Resource: newPolicyResource, Context: requestTags, Handle: createPolicy},
		&service.Action{Name: "GetPolicy", IAMAction: "iam:GetPolicy", Resource: policyResource, Handle: getPolicy},
		&service.Action{Name: "ListPolicies", IAMAction: "iam:ListPolicies", Handle: listPolicies},
		&service.Action{Name: "DeletePolicy", IAMAction: "iam:DeletePolicy", Write: true, Resource: policyResource, Handle: deletePolicy},
		&service.Action{Name: "CreatePolicyVersion", IAMAction: "iam:CreatePolicyVersion", Write: true,
			Resource: policyResource, Handle: createPolicyVersion},
		&service.Action{Name: "GetPolicyVersion", IAMAction: "iam:GetPolicyVersion", Resource: policyResource, Handle: getPolicyVersion},
		&service.Action{Name: "ListPolicyVersions", IAMAction: "iam:ListPolicyVersions", Resource: policyResource, Handle: listPolicyVersions},
		&service.Action{Name: "DeletePolicyVersion", IAMAction: "iam:DeletePolicyVersion", Write: true,
			Resource: policyResource, Handle: deletePolicyVersion},
		&service.Action{Name: "SetDefaultPolicyVersion", IAMAction: "iam:SetDefaultPolicyVersion", Write: true,
			Resource: policyResource, Handle: setDefaultPolicyVersion},
	)
}

// Limits of customer managed policies.
const (
	managedPolicyMaxSize = 6144
	maxPolicyVersions    = 5
)

// policyNameIndex makes managed policy names unique in an account whatever their
// path: key NameKey(account, name), value the policy's ARN.
const policyNameIndex = "iampolicyname"

var (
	policyPathPattern = regexp.MustCompile(`^((/[A-Za-z0-9.,+@=_-]+)*)/$`)
	versionPattern    = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)
)

// policyArnParts splits arn:aws:iam::ACCOUNT:policy/PATH/NAME; account is "aws" for
// AWS managed policies.
func policyArnParts(s string) (account, path, name string, ok bool) {
	rest, ok := strings.CutPrefix(s, "arn:aws:iam::")
	if !ok {
		return "", "", "", false
	}
	account, rest, ok = strings.Cut(rest, ":policy/")
	if !ok || (account != "aws" && !isAccountID(account)) {
		return "", "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	path, name = "/"+rest[:i+1], rest[i+1:]
	if !namePattern.MatchString(name) || !policyPathPattern.MatchString(path) {
		return "", "", "", false
	}
	return account, path, name, true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// usage is how many of an account's principals use a managed policy: attached, and
// as their permissions boundary.
type usage struct{ attached, boundary int }

// policyUsage counts one policy's usage in an account from the indexes.
func policyUsage(tx store.Tx, account, policyArn string) (u usage, err error) {
	if u.attached, err = count(tx, attachIndex, indexPrefix(account, policyArn)); err != nil {
		return u, err
	}
	u.boundary, err = count(tx, boundaryIndex, indexPrefix(account, policyArn))
	return u, err
}

// awsUsage counts an account's usage of every AWS managed policy it uses, by ARN,
// with one scan of each index rather than two per policy of the catalogue.
func awsUsage(tx store.Tx, account string) (map[string]usage, error) {
	out := map[string]usage{}
	prefix := account + "|"
	for _, index := range []string{attachIndex, boundaryIndex} {
		err := tx.Scan(index, prefix+directory.AWSManagedPrefix, "", 0, func(key string, _ []byte) (bool, error) {
			a, _, _ := strings.Cut(strings.TrimPrefix(key, prefix), "|")
			u := out[a]
			if index == attachIndex {
				u.attached++
			} else {
				u.boundary++
			}
			out[a] = u
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// awsPolicy describes an AWS managed policy as seen from an account that uses it as
// u says. Only the default version carries its document; awsDocuments adds the
// others where a response shows them.
func awsPolicy(p *awsdata.Policy, u usage) *directory.ManagedPolicy {
	mp := &directory.ManagedPolicy{Account: "aws", Name: p.Name, Path: p.Path, ID: p.ID, Arn: p.Arn,
		DefaultVersion: p.DefaultVersion, CreateDate: p.CreateDate, UpdateDate: p.UpdateDate,
		AttachmentCount: u.attached, BoundaryCount: u.boundary, Versions: make([]directory.PolicyVersion, len(p.Versions))}
	for i, v := range p.Versions {
		mp.Versions[i] = directory.PolicyVersion{ID: v.ID, CreateDate: v.CreateDate}
		if v.ID == p.DefaultVersion {
			mp.Versions[i].Document = p.Document
		}
	}
	return mp
}

// awsDocuments fills in the documents of an AWS managed policy's other versions, read
// from the catalogue's archive (customer managed policies have theirs already).
func awsDocuments(mp *directory.ManagedPolicy) {
	p, ok := awsdata.ManagedPolicy(mp.Arn)
	if mp.Account != "aws" || !ok {
		return
	}
	docs := p.Documents()
	for i := range mp.Versions {
		mp.Versions[i].Document = docs[mp.Versions[i].ID]
	}
}

// loadPolicy finds a managed policy the caller's account can use. A missing one is
// NoSuchEntity with the wording of attach (attachable) or of the other actions.
func loadPolicy(tx store.Tx, account, policyArn string, attachable bool) (*directory.ManagedPolicy, error) {
	missing := noSuchEntity("Policy %s was not found.", policyArn)
	if attachable {
		missing = noSuchEntity("Policy %s does not exist or is not attachable.", policyArn)
	}
	owner, _, _, ok := policyArnParts(policyArn)
	if !ok {
		if parts := strings.SplitN(policyArn, ":", 6); len(parts) == 6 && parts[0] == "arn" {
			return nil, missing // an ARN, but of no policy
		}
		return nil, invalidInput("ARN %s is not valid.", policyArn)
	}
	if owner == "aws" {
		p, ok := awsdata.ManagedPolicy(policyArn)
		if !ok {
			return nil, missing
		}
		u, err := policyUsage(tx, account, policyArn)
		return awsPolicy(p, u), err
	}
	var mp directory.ManagedPolicy
	err := tx.Get(directory.KindPolicy, policyArn, &mp)
	if errors.Is(err, store.ErrNotFound) || (err == nil && owner != account) {
		return nil, missing
	}
	return &mp, err
}

// savePolicy writes back a customer managed policy; AWS managed ones keep no state.
func savePolicy(tx store.Tx, mp *directory.ManagedPolicy) error {
	if mp.Account == "aws" {
		return nil
	}
	return tx.Put(directory.KindPolicy, mp.Arn, mp)
}

// notOwned refuses changes to AWS managed policies, which belong to AWS's account.
func notOwned(c *service.Call, action string, mp *directory.ManagedPolicy) error {
	if mp.Account != "aws" {
		return nil
	}
	return wire.AccessDenied("User: %s is not authorized to perform: %s on resource: policy %s", c.Identity.Caller.Arn, action, mp.Arn)
}

func policyResource(c *service.Call) (string, string, error) {
	return c.Params.Get("PolicyArn"), c.Account(), nil
}

func newPolicyResource(c *service.Call) (string, string, error) {
	return arn(c.Account(), "policy", optionalPath(c, "Path"), c.Params.Get("PolicyName")), c.Account(), nil
}

type policyXML struct {
	PolicyName                    string        `xml:"PolicyName"`
	PolicyID                      string        `xml:"PolicyId"`
	Arn                           string        `xml:"Arn"`
	Path                          string        `xml:"Path"`
	DefaultVersionID              string        `xml:"DefaultVersionId"`
	AttachmentCount               int           `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int           `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool          `xml:"IsAttachable"`
	Description                   string        `xml:"Description,omitempty"`
	CreateDate                    string        `xml:"CreateDate"`
	UpdateDate                    string        `xml:"UpdateDate"`
	Tags                          *list[tagXML] `xml:"Tags,omitempty"`
}

// newPolicyXML describes a policy as ListPolicies does; GetPolicy adds the
// description and tags, CreatePolicy the tags only.
func newPolicyXML(mp *directory.ManagedPolicy) policyXML {
	return policyXML{PolicyName: mp.Name, PolicyID: mp.ID, Arn: mp.Arn, Path: mp.Path, DefaultVersionID: mp.DefaultVersion,
		AttachmentCount: mp.AttachmentCount, PermissionsBoundaryUsageCount: mp.BoundaryCount, IsAttachable: true,
		CreateDate: isoTime(mp.CreateDate), UpdateDate: isoTime(mp.UpdateDate)}
}

type policyVersionXML struct {
	Document         string `xml:"Document,omitempty"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool   `xml:"IsDefaultVersion"`
	CreateDate       string `xml:"CreateDate"`
}

func newVersionXML(mp *directory.ManagedPolicy, v *directory.PolicyVersion, withDoc bool) policyVersionXML {
	x := policyVersionXML{VersionID: v.ID, IsDefaultVersion: v.ID == mp.DefaultVersion, CreateDate: isoTime(v.CreateDate)}
	if withDoc {
		x.Document = encodeDoc(v.Document)
	}
	return x
}

type policyResult struct {
	Policy policyXML `xml:"Policy"`
}

// readManagedDocument validates a managed policy document and its size.
func readManagedDocument(c *service.Call, doc string) error {
	// Managed policies need the current language version, which IAM checks right
	// after the syntax.
	if _, err := policy.ParseManaged([]byte(doc)); err != nil {
		return malformedPolicy(err)
	}
	if err := compile(c, doc, policy.Identity); err != nil {
		return err
	}
	if policySize(doc) > managedPolicyMaxSize {
		return limitExceeded("Cannot exceed quota for PolicySize: %d", managedPolicyMaxSize)
	}
	return nil
}

func createPolicy(c *service.Call) (any, error) {
	in := newInput(c)
	name, doc := in.name("PolicyName", 128), in.document("PolicyDocument")
	path := "/"
	if c.Params.Has("Path") {
		path = c.Params.Get("Path")
		in.v.Length(path, "path", 1, 512)
		in.v.Check(policyPathPattern.MatchString(path), path, "path", `satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	}
	desc := in.description("Description")
	if err := in.err(); err != nil {
		return nil, err
	}
	tags, err := readTags(c)
	if err != nil {
		return nil, err
	}
	if err := readManagedDocument(c, doc); err != nil {
		return nil, err
	}
	mp := &directory.ManagedPolicy{Account: c.Account(), Name: name, Path: path, ID: directory.NewID("ANPA"),
		Arn: arn(c.Account(), "policy", path, name), Description: desc, DefaultVersion: "v1", NextVersionIndex: 2,
		Versions:   []directory.PolicyVersion{{ID: "v1", Document: doc, CreateDate: c.Now.UTC()}},
		CreateDate: c.Now.UTC(), UpdateDate: c.Now.UTC(), Tags: tags}
	ok, err := c.Tx.Insert(policyNameIndex, directory.NameKey(c.Account(), name), mp.Arn)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, alreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
	}
	if err := c.Tx.Put(directory.KindPolicy, mp.Arn, mp); err != nil {
		return nil, err
	}
	// AWS's CreatePolicy result leaves out the description it was given (the AWS CLI's
	// create-policy example 2; GetPolicy shows it) but lists the tags.
	x := newPolicyXML(mp)
	x.Tags = optTags(mp.Tags)
	return &policyResult{x}, nil
}

// policyParam reads the PolicyArn parameter and loads the policy.
func policyParam(c *service.Call, extra ...string) (*directory.ManagedPolicy, error) {
	in := newInput(c)
	a := in.arn("PolicyArn")
	for _, p := range extra {
		if v, ok := in.required(p); ok {
			in.v.Check(versionPattern.MatchString(v), v, lowerFirst(p), `satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
		}
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	return loadPolicy(c.Tx, c.Account(), a, false)
}

func getPolicy(c *service.Call) (any, error) {
	mp, err := policyParam(c)
	if err != nil {
		return nil, err
	}
	x := newPolicyXML(mp)
	x.Description, x.Tags = mp.Description, optTags(mp.Tags)
	return &policyResult{x}, nil
}

type listPoliciesResult struct {
	Policies    list[policyXML] `xml:"Policies"`
	IsTruncated bool            `xml:"IsTruncated"`
	Marker      string          `xml:"Marker,omitempty"`
}

// policyFilter is what ListPolicies keeps.
type policyFilter struct {
	scope, usage, prefix string
	onlyAttached         bool
}

func (f *policyFilter) keep(mp *directory.ManagedPolicy) bool {
	if !strings.HasPrefix(mp.Path, f.prefix) {
		return false
	}
	switch f.usage {
	case "PermissionsPolicy":
		return !f.onlyAttached || mp.AttachmentCount > 0
	case "PermissionsBoundary":
		return !f.onlyAttached || mp.BoundaryCount > 0
	}
	return !f.onlyAttached || mp.AttachmentCount > 0 || mp.BoundaryCount > 0
}

func listPolicies(c *service.Call) (any, error) {
	in := newInput(c)
	f := policyFilter{scope: in.enum("Scope", "All", "AWS", "Local"), usage: in.enum("PolicyUsageFilter", "PermissionsPolicy", "PermissionsBoundary"),
		prefix: in.pathPrefix(), onlyAttached: in.boolean("OnlyAttached")}
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	all, err := scopedPolicies(c.Tx, c.Account(), f.scope)
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(mp *directory.ManagedPolicy) bool { return !f.keep(mp) })
	res := &listPoliciesResult{}
	start, end, truncated, marker, err := slicePage(len(all), p)
	if err != nil {
		return nil, err
	}
	for _, mp := range all[start:end] {
		res.Policies.Member = append(res.Policies.Member, newPolicyXML(mp))
	}
	res.IsTruncated, res.Marker = truncated, marker
	return res, nil
}

// scopedPolicies lists the AWS managed policies (scope AWS), the account's own
// (Local) or both (All or "").
func scopedPolicies(tx store.Tx, account, scope string) ([]*directory.ManagedPolicy, error) {
	var all []*directory.ManagedPolicy
	if scope != "Local" {
		used, err := awsUsage(tx, account)
		if err != nil {
			return nil, err
		}
		for _, p := range awsdata.ManagedPolicies() {
			all = append(all, awsPolicy(p, used[p.Arn]))
		}
	}
	if scope == "AWS" {
		return all, nil
	}
	err := tx.Scan(directory.KindPolicy, "arn:aws:iam::"+account+":policy/", "", 0, func(_ string, data []byte) (bool, error) {
		mp := &directory.ManagedPolicy{}
		if err := jsonUnmarshal(data, mp); err != nil {
			return false, err
		}
		all = append(all, mp)
		return true, nil
	})
	return all, err
}

func deletePolicy(c *service.Call) (any, error) {
	mp, err := policyParam(c)
	if err != nil {
		return nil, err
	}
	if err := notOwned(c, "iam:DeletePolicy", mp); err != nil {
		return nil, err
	}
	switch {
	case mp.AttachmentCount > 0 || mp.BoundaryCount > 0:
		return nil, deleteConflict("Cannot delete a policy attached to entities.")
	case len(mp.Versions) > 1:
		return nil, deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	if _, err := c.Tx.Delete(directory.KindPolicy, mp.Arn); err != nil {
		return nil, err
	}
	_, err = c.Tx.Delete(policyNameIndex, directory.NameKey(mp.Account, mp.Name))
	return nil, err
}

type policyVersionResult struct {
	PolicyVersion policyVersionXML `xml:"PolicyVersion"`
}

func createPolicyVersion(c *service.Call) (any, error) {
	in := newInput(c)
	in.arn("PolicyArn")
	doc := in.document("PolicyDocument")
	setDefault := in.boolean("SetAsDefault")
	if err := in.err(); err != nil {
		return nil, err
	}
	mp, err := loadPolicy(c.Tx, c.Account(), c.Params.Get("PolicyArn"), false)
	if err != nil {
		return nil, err
	}
	if err := notOwned(c, "iam:CreatePolicyVersion", mp); err != nil {
		return nil, err
	}
	if err := readManagedDocument(c, doc); err != nil {
		return nil, err
	}
	if len(mp.Versions) >= maxPolicyVersions {
		return nil, limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
	}
	v := directory.PolicyVersion{ID: fmt.Sprintf("v%d", mp.NextVersionIndex), Document: doc, CreateDate: c.Now.UTC()}
	mp.NextVersionIndex++
	mp.Versions = append(mp.Versions, v)
	if setDefault {
		mp.DefaultVersion, mp.UpdateDate = v.ID, c.Now.UTC()
	}
	if err := savePolicy(c.Tx, mp); err != nil {
		return nil, err
	}
	return &policyVersionResult{newVersionXML(mp, &v, false)}, nil
}

// version finds a policy version or returns AWS's NoSuchEntity.
func version(mp *directory.ManagedPolicy, id string) (int, error) {
	for i := range mp.Versions {
		if mp.Versions[i].ID == id {
			return i, nil
		}
	}
	return -1, noSuchEntity("Policy %s version %s does not exist or is not attachable.", mp.Arn, id)
}

func getPolicyVersion(c *service.Call) (any, error) {
	mp, err := policyParam(c, "VersionId")
	if err != nil {
		return nil, err
	}
	i, err := version(mp, c.Params.Get("VersionId"))
	if err != nil {
		return nil, err
	}
	if mp.Versions[i].Document == "" {
		awsDocuments(mp) // an older version of an AWS managed policy
	}
	return &policyVersionResult{newVersionXML(mp, &mp.Versions[i], true)}, nil
}

type listPolicyVersionsResult struct {
	Versions    list[policyVersionXML] `xml:"Versions"`
	IsTruncated bool                   `xml:"IsTruncated"`
	Marker      string                 `xml:"Marker,omitempty"`
}

// listPolicyVersions lists versions newest first, as AWS does.
func listPolicyVersions(c *service.Call) (any, error) {
	mp, err := policyParam(c)
	if err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	start, end, truncated, marker, err := slicePage(len(mp.Versions), p)
	if err != nil {
		return nil, err
	}
	res := &listPolicyVersionsResult{IsTruncated: truncated, Marker: marker}
	for i := start; i < end; i++ {
		v := &mp.Versions[len(mp.Versions)-1-i]
		res.Versions.Member = append(res.Versions.Member, newVersionXML(mp, v, false))
	}
	return res, nil
}

func deletePolicyVersion(c *service.Call) (any, error) {
	mp, err := policyParam(c, "VersionId")
	if err != nil {
		return nil, err
	}
	if err := notOwned(c, "iam:DeletePolicyVersion", mp); err != nil {
		return nil, err
	}
	i, err := version(mp, c.Params.Get("VersionId"))
	if err != nil {
		return nil, err
	}
	if mp.Versions[i].ID == mp.DefaultVersion {
		return nil, deleteConflict("Cannot delete the default version of a policy.")
	}
	mp.Versions = slices.Delete(mp.Versions, i, i+1)
	return nil, savePolicy(c.Tx, mp)
}

func setDefaultPolicyVersion(c *service.Call) (any, error) {
	mp, err := policyParam(c, "VersionId")
	if err != nil {
		return nil, err
	}
	if err := notOwned(c, "iam:SetDefaultPolicyVersion", mp); err != nil {
		return nil, err
	}
	i, err := version(mp, c.Params.Get("VersionId"))
	if err != nil {
		return nil, err
	}
	mp.DefaultVersion, mp.UpdateDate = mp.Versions[i].ID, c.Now.UTC()
	return nil, savePolicy(c.Tx, mp)
}
