package iam

import (
	"sort"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
)

func init() {
	for _, e := range []*entity{userEntity, groupEntity, roleEntity} {
		t := e.title
		register(
			&service.Action{Name: "Put" + t + "Policy", IAMAction: "iam:Put" + t + "Policy", Write: true,
				Resource: e.resource, Context: e.context(true), Handle: e.putPolicy},
			&service.Action{Name: "Get" + t + "Policy", IAMAction: "iam:Get" + t + "Policy",
				Resource: e.resource, Context: e.context(false), Handle: e.getPolicy},
			&service.Action{Name: "List" + t + "Policies", IAMAction: "iam:List" + t + "Policies",
				Resource: e.resource, Context: e.context(false), Handle: e.listPolicies},
			&service.Action{Name: "Delete" + t + "Policy", IAMAction: "iam:Delete" + t + "Policy", Write: true,
				Resource: e.resource, Context: e.context(true), Handle: e.deletePolicy},
		)
	}
}

// inlineName finds an inline policy by name; IAM names ignore case.
func inlineName(policies map[string]string, name string) (string, bool) {
	for k := range policies {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

// inlineParams reads the principal's name and the policy name, and loads the principal.
func (e *entity) inlineParams(c *service.Call, withDoc bool) (*loaded, string, string, error) {
	in := newInput(c)
	name := in.name(e.param, e.nameMax)
	policyName := in.name("PolicyName", 128)
	doc := ""
	if withDoc {
		doc = in.document("PolicyDocument")
	}
	if err := in.err(); err != nil {
		return nil, "", "", err
	}
	if withDoc {
		if err := compile(c, doc, policy.Identity); err != nil {
			return nil, "", "", err
		}
	}
	l, err := e.load(c.Tx, c.Account(), name)
	return l, policyName, doc, err
}

func (e *entity) putPolicy(c *service.Call) (any, error) {
	l, policyName, doc, err := e.inlineParams(c, true)
	if err != nil {
		return nil, err
	}
	if err := l.modifiable(); err != nil {
		return nil, err
	}
	old, _ := inlineName(l.InlinePolicies, policyName)
	total := policySize(doc)
	for k, d := range l.InlinePolicies {
		if k != old {
			total += policySize(d)
		}
	}
	if total > e.inlineMax {
		return nil, limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", e.inlineMax, e.what, l.Name)
	}
	if l.InlinePolicies == nil {
		l.InlinePolicies = map[string]string{}
	}
	delete(l.InlinePolicies, old)
	l.InlinePolicies[policyName] = doc
	return nil, l.save(c.Tx)
}

func (e *entity) noSuchPolicy(name string) error {
	return noSuchEntity("The %s policy with name %s cannot be found.", e.what, name)
}

type getInlineResult struct {
	UserName       string `xml:"UserName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func (e *entity) getPolicy(c *service.Call) (any, error) {
	l, policyName, _, err := e.inlineParams(c, false)
	if err != nil {
		return nil, err
	}
	k, ok := inlineName(l.InlinePolicies, policyName)
	if !ok {
		return nil, e.noSuchPolicy(policyName)
	}
	res := &getInlineResult{PolicyName: k, PolicyDocument: encodeDoc(l.InlinePolicies[k])}
	switch e.kind {
	case directory.KindUser:
		res.UserName = l.Name
	case directory.KindGroup:
		res.GroupName = l.Name
	default:
		res.RoleName = l.Name
	}
	return res, nil
}

type listInlineResult struct {
	PolicyNames list[string] `xml:"PolicyNames"`
	IsTruncated bool         `xml:"IsTruncated"`
	Marker      string       `xml:"Marker,omitempty"`
}

// sortedNames lists inline policy names in IAM's order (case-insensitive).
func sortedNames(policies map[string]string) []string {
	names := make([]string, 0, len(policies))
	for k := range policies {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	return names
}

func (e *entity) listPolicies(c *service.Call) (any, error) {
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
	names := sortedNames(l.InlinePolicies)
	start, end, truncated, marker, err := slicePage(len(names), p)
	if err != nil {
		return nil, err
	}
	res := &listInlineResult{IsTruncated: truncated, Marker: marker}
	res.PolicyNames.Member = append([]string{}, names[start:end]...)
	return res, nil
}

func (e *entity) deletePolicy(c *service.Call) (any, error) {
	l, policyName, _, err := e.inlineParams(c, false)
	if err != nil {
		return nil, err
	}
	if err := l.modifiable(); err != nil {
		return nil, err
	}
	k, ok := inlineName(l.InlinePolicies, policyName)
	if !ok {
		return nil, e.noSuchPolicy(policyName)
	}
	delete(l.InlinePolicies, k)
	return nil, l.save(c.Tx)
}
