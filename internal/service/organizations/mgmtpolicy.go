package organizations

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		action("DescribeEffectivePolicy", onTarget, false, describeEffectivePolicy),
		action("ListEffectivePolicyValidationErrors", onAccount, false, listEffectivePolicyValidationErrors),
		action("ListAccountsWithInvalidEffectivePolicy", onAny, false, listAccountsWithInvalidEffectivePolicy),
	)
}

// Management policies (tag, backup, AI services opt-out, chat applications,
// declarative and the newer types) share one syntax: a JSON object under the type's
// fixed top-level key, whose leaves are settings written with the inheritance
// operators, and one way of merging the policies an account inherits into its
// effective policy. Both follow "Policy syntax and inheritance for management policy
// types" and "Inheritance operators"
// (https://docs.aws.amazon.com/organizations/latest/userguide/policy-operators.html).

// The inheritance operators.
const (
	opAssign       = "@@assign"
	opAppend       = "@@append"
	opRemove       = "@@remove"
	opChildControl = "@@operators_allowed_for_child_policies"
	opAll          = "@@all"
	opNone         = "@@none"
)

// opSet is a set of value-setting operators.
type opSet uint8

const (
	canAssign opSet = 1 << iota
	canAppend
	canRemove
	allOps = canAssign | canAppend | canRemove
)

var opBits = map[string]opSet{opAssign: canAssign, opAppend: canAppend, opRemove: canRemove, opAll: allOps, opNone: 0}

// jnode is a JSON value that keeps its object keys in document order.
type jnode struct {
	kind  byte     // 'o' object, 'a' array, 's' string, 'n' number, 'b' boolean, 'z' null
	keys  []string // an object's keys
	items []*jnode // an object's values (parallel to keys) or an array's items
	text  string   // a scalar's JSON text
}

func (n *jnode) get(key string) *jnode {
	for i, k := range n.keys {
		if k == key {
			return n.items[i]
		}
	}
	return nil
}

func (n *jnode) scalar() bool { return n.kind != 'o' && n.kind != 'a' }

// parseJSON reads one JSON value, refusing duplicate object keys.
func parseJSON(doc string) (*jnode, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	n, err := readJSON(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected content after the JSON document")
	}
	return n, nil
}

func readJSON(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &jnode{kind: 'a'}
		if t == '{' {
			n.kind = 'o'
		}
		for dec.More() {
			if n.kind == 'o' {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				if n.get(k) != nil {
					return nil, fmt.Errorf("duplicate key %q", k)
				}
				n.keys = append(n.keys, k)
			}
			item, err := readJSON(dec)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, item)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		b, _ := json.Marshal(t)
		return &jnode{kind: 's', text: string(b)}, nil
	case json.Number:
		return &jnode{kind: 'n', text: t.String()}, nil
	case bool:
		return &jnode{kind: 'b', text: fmt.Sprint(t)}, nil
	default:
		return &jnode{kind: 'z', text: "null"}, nil
	}
}

// write appends a value's compact JSON text.
func (n *jnode) write(b *bytes.Buffer) {
	switch n.kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			n.items[i].write(b)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			it.write(b)
		}
		b.WriteByte(']')
	default:
		b.WriteString(n.text)
	}
}

// ---- syntax ----------------------------------------------------------------------

// checkManagementPolicy validates a management policy document of a type.
func checkManagementPolicy(pt policyType, content string) error {
	root, err := parseJSON(content)
	if err != nil {
		return malformed("The policy is not valid JSON: %v.", err)
	}
	if root.kind != 'o' {
		return malformed("The policy must be a JSON object.")
	}
	if len(root.keys) == 0 {
		return malformed("The policy must contain the key %q.", pt.key)
	}
	for i, k := range root.keys {
		if k != pt.key {
			return malformed("Unknown top-level key %q: a policy of this type has the one top-level key %q.", k, pt.key)
		}
		if err := checkSettings(root.items[i], k); err != nil {
			return err
		}
	}
	return nil
}

func malformed(format string, args ...any) error {
	return orgError("MalformedPolicyDocumentException", "The provided policy document does not meet the requirements of the specified policy type. %s", fmt.Sprintf(format, args...))
}

// checkSettings validates the object at path: its keys are settings (objects) or
// operators, and a setting written with a value-setting operator holds no further
// settings.
func checkSettings(n *jnode, path string) error {
	if n.kind != 'o' {
		return malformed("%s must be a JSON object of settings and inheritance operators; a value is set with %s.", path, opAssign)
	}
	valueSet, children := false, false
	for i, k := range n.keys {
		v, at := n.items[i], path+"."+k
		switch {
		case k == opAssign:
			valueSet = true
			if v.kind == 'o' || (v.kind == 'a' && !allScalars(v)) {
				return malformed("%s: %s takes a value or a list of values.", at, k)
			}
		case k == opAppend || k == opRemove:
			valueSet = true
			if v.kind != 'a' || !allScalars(v) {
				return malformed("%s: %s applies only to multi-valued settings and takes a list of values.", at, k)
			}
		case k == opChildControl:
			if err := checkChildControl(v, at); err != nil {
				return err
			}
		case strings.HasPrefix(k, "@@"):
			return malformed("%s: %s is not an inheritance operator: use %s, %s, %s or %s.", at, k, opAssign, opAppend, opRemove, opChildControl)
		default:
			children = true
			if err := checkSettings(v, at); err != nil {
				return err
			}
		}
	}
	if valueSet && children {
		return malformed("%s sets a value with an inheritance operator and also holds settings: the operators apply to a setting's value.", path)
	}
	return nil
}

func allScalars(n *jnode) bool {
	for _, it := range n.items {
		if !it.scalar() {
			return false
		}
	}
	return true
}

// checkChildControl validates @@operators_allowed_for_child_policies: a list of
// value-setting operators, or @@all or @@none alone.
func checkChildControl(v *jnode, at string) error {
	if v.kind != 'a' || len(v.items) == 0 {
		return malformed("%s takes a non-empty list of operators.", at)
	}
	for _, it := range v.items {
		var op string
		if it.kind != 's' || json.Unmarshal([]byte(it.text), &op) != nil {
			return malformed("%s takes a list of operators.", at)
		}
		if _, ok := opBits[op]; !ok {
			return malformed("%s: %s is not one of %s, %s, %s, %s and %s.", at, op, opAll, opNone, opAssign, opAppend, opRemove)
		}
		if (op == opAll || op == opNone) && len(v.items) > 1 {
			return malformed("%s: %s stands alone.", at, op)
		}
	}
	return nil
}

// childControl reads a checked @@operators_allowed_for_child_policies list.
func childControl(v *jnode) opSet {
	var set opSet
	for _, it := range v.items {
		var op string
		_ = json.Unmarshal([]byte(it.text), &op)
		set |= opBits[op]
	}
	return set
}

// ---- inheritance -------------------------------------------------------------------

// enode is a node of an effective policy being merged.
type enode struct {
	keys  []string
	kids  map[string]*enode
	value *jnode // the setting's value; nil when unset
	// allowed are the operators policies below the levels merged so far may use here
	// (the intersection of the child control operators above them).
	allowed opSet
	// assigned is the level whose policy last set value with @@assign (-1: none):
	// among the policies attached to one level, the one attached first wins.
	assigned int
}

func newENode() *enode { return &enode{kids: map[string]*enode{}, allowed: allOps, assigned: -1} }

func (e *enode) child(key string) *enode {
	c, ok := e.kids[key]
	if !ok {
		c = newENode()
		e.kids[key] = c
		e.keys = append(e.keys, key)
	}
	return c
}

// merger computes an effective policy level by level, from the root through the OUs
// to the account.
type merger struct {
	root *enode
	// pending gathers the child control operators of the level being merged: they
	// restrict the levels below, not the policies beside them; policies of one level
	// that restrict the same setting allow the intersection.
	pending map[*enode]opSet
}

func newMerger() *merger { return &merger{root: newENode()} }

// level merges the policies attached to one level, in the order they were attached.
func (m *merger) level(lvl int, docs []*jnode) {
	m.pending = map[*enode]opSet{}
	for _, d := range docs {
		m.apply(m.root, d, lvl, allOps)
	}
	for e, set := range m.pending {
		e.allowed &= set
	}
}

// apply merges one policy's node into the effective node e; inherited are the
// operators the node's ancestors allow.
func (m *merger) apply(e *enode, n *jnode, lvl int, inherited opSet) {
	allowed := inherited & e.allowed
	if v := n.get(opChildControl); v != nil {
		set, ok := m.pending[e]
		if !ok {
			set = allOps
		}
		m.pending[e] = set & childControl(v)
	}
	if v := n.get(opAssign); v != nil && allowed&canAssign != 0 && e.assigned != lvl {
		e.value, e.assigned = v, lvl
	}
	if v := n.get(opAppend); v != nil && allowed&canAppend != 0 {
		e.value = appendValues(e.value, v)
	}
	if v := n.get(opRemove); v != nil && allowed&canRemove != 0 && e.value != nil {
		e.value = removeValues(e.value, v)
	}
	for i, k := range n.keys {
		if !strings.HasPrefix(k, "@@") {
			m.apply(e.child(k), n.items[i], lvl, allowed)
		}
	}
}

// appendValues adds the values not yet in a multi-valued setting.
func appendValues(have, add *jnode) *jnode {
	if have != nil && have.kind != 'a' {
		return have // @@append applies only to multi-valued settings
	}
	out := &jnode{kind: 'a'}
	if have != nil {
		out.items = append(out.items, have.items...)
	}
	for _, v := range add.items {
		if !contains(out, v) {
			out.items = append(out.items, v)
		}
	}
	return out
}

// removeValues drops values from a multi-valued setting; a setting left with no value
// leaves the effective policy (AWS's example 3: once its values are removed,
// "Compliance is not enforced").
func removeValues(have, drop *jnode) *jnode {
	if have.kind != 'a' {
		return have
	}
	out := &jnode{kind: 'a'}
	for _, v := range have.items {
		if !contains(drop, v) {
			out.items = append(out.items, v)
		}
	}
	if len(out.items) == 0 {
		return nil
	}
	return out
}

func contains(list, v *jnode) bool {
	for _, it := range list.items {
		if it.kind == v.kind && it.text == v.text {
			return true
		}
	}
	return false
}

// result is the effective policy as AWS displays it: the settings' values without the
// operators; nil when no setting has a value.
func (e *enode) result() *jnode {
	if e.value != nil {
		return e.value
	}
	out := &jnode{kind: 'o'}
	for _, k := range e.keys {
		if v := e.kids[k].result(); v != nil {
			out.keys = append(out.keys, k)
			out.items = append(out.items, v)
		}
	}
	if len(out.keys) == 0 {
		return nil
	}
	return out
}

// effectiveContent merges levels of policy documents (root first, each level's in
// attachment order) into the effective policy's JSON text; "" when it sets nothing.
func effectiveContent(levels [][]string) (string, error) {
	m := newMerger()
	for lvl, docs := range levels {
		nodes := make([]*jnode, 0, len(docs))
		for _, d := range docs {
			n, err := parseJSON(d)
			if err != nil {
				return "", err
			}
			nodes = append(nodes, n)
		}
		m.level(lvl, nodes)
	}
	res := m.root.result()
	if res == nil {
		return "", nil
	}
	var b bytes.Buffer
	res.write(&b)
	return b.String(), nil
}

func effectivePolicyNotFound(typ string) error {
	return orgError("EffectivePolicyNotFoundException", "We can't find an effective policy of type %s for the account: the policy type is not enabled, or no policy of the type applies to the account.", typ)
}

// effectivePolicy merges the policies of a management type that an account
// inherits from the root and its OUs and that are attached to it. It returns "" when
// the type is not enabled or nothing applies, and the latest change among the
// contributing policies and attachments.
func effectivePolicy(tx store.Tx, org *directory.Organization, a *directory.Account, typ string) (string, time.Time, error) {
	var updated time.Time
	if !enabled(org, typ) {
		return "", updated, nil
	}
	targets, err := chain(tx, org, a.ParentID)
	if err != nil {
		return "", updated, err
	}
	var levels [][]string
	for _, target := range append(targets, a.ID) {
		ats, err := attachments(tx, target)
		if err != nil {
			return "", updated, err
		}
		var docs []string
		for _, at := range ats {
			if at.Type != typ {
				continue
			}
			p, err := loadPolicy(tx, at.PolicyID)
			if err != nil {
				return "", updated, err
			}
			if p == nil {
				continue
			}
			docs = append(docs, p.Content)
			for _, t := range []time.Time{p.Updated, at.At} {
				if t.After(updated) {
					updated = t
				}
			}
		}
		levels = append(levels, docs)
	}
	content, err := effectiveContent(levels)
	return content, updated, err
}

type effectivePolicyOut struct {
	PolicyContent        string
	LastUpdatedTimestamp *epoch `json:",omitempty"`
	TargetId             string
	PolicyType           string
}

// describeEffectivePolicy returns an account's effective policy of a management
// type. Any account of the organization may ask for its own; another account's takes
// the management account or a delegation. Roots and OUs are refused: "Specifying an
// organization root or organizational unit (OU) as the target is not supported."
func describeEffectivePolicy(c *service.Call) (any, error) {
	var in struct {
		PolicyType *string
		TargetId   *string
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	org, err := memberOrg(c)
	if err != nil {
		return nil, err
	}
	typ, err := readManagementType(in.PolicyType)
	if err != nil {
		return nil, err
	}
	target := c.Account()
	if in.TargetId != nil {
		target = *in.TargetId
		switch {
		case rootIDPattern.MatchString(target) || ouIDPattern.MatchString(target):
			return nil, invalidInput("TARGET_NOT_SUPPORTED", "You can't perform the specified operation on that target entity: specifying an organization root or organizational unit (OU) as the target is not supported.")
		case !accountIDPattern.MatchString(target):
			return nil, invalidInput("INVALID_PATTERN_TARGET_ID", "You specified a policy target ID that doesn't match the required pattern: %s.", target)
		}
	}
	if target != c.Account() {
		if _, err := managementOrg(c); err != nil {
			return nil, err
		}
	}
	a, err := loadAccount(c.Tx, target)
	if err != nil {
		return nil, err
	}
	if a == nil || a.ParentID == "" {
		return nil, targetNotFound()
	}
	content, updated, err := effectivePolicy(c.Tx, org, a, typ)
	if err != nil {
		return nil, err
	}
	if content == "" {
		return nil, effectivePolicyNotFound(typ)
	}
	return &struct{ EffectivePolicy effectivePolicyOut }{effectivePolicyOut{content, stamp(updated), a.ID, typ}}, nil
}

type validationErrorOut struct {
	ErrorCode            string
	ErrorMessage         string
	PathToError          string
	ContributingPolicies []string
}

// listEffectivePolicyValidationErrors lists what makes an account's effective policy
// fail validation. iamlocal's doors refuse every policy its merge could not use, so
// an effective policy has no validation errors: the list is empty (README.md).
func listEffectivePolicyValidationErrors(c *service.Call) (any, error) {
	var in struct {
		AccountId  *string
		PolicyType *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	a, err := memberAccount(c, "AccountId", in.AccountId)
	if err != nil {
		return nil, err
	}
	typ, err := readManagementType(in.PolicyType)
	if err != nil {
		return nil, err
	}
	content, _, err := effectivePolicy(c.Tx, org, a, typ)
	if err != nil {
		return nil, err
	}
	if content == "" {
		return nil, effectivePolicyNotFound(typ)
	}
	p, err := path(c.Tx, org, a.ParentID)
	if err != nil {
		return nil, err
	}
	res, err := page("EffectivePolicyValidationErrors", in.pageIn, []keyed[validationErrorOut]{})
	if err != nil {
		return nil, err
	}
	out := res.(map[string]any)
	out["AccountId"], out["PolicyType"], out["Path"], out["EvaluationTimestamp"] = a.ID, typ, p+a.ID+"/", stamp(c.Now)
	return out, nil
}

// listAccountsWithInvalidEffectivePolicy lists the accounts whose effective policy of
// a type fails validation: none (see listEffectivePolicyValidationErrors), once the
// type is enabled.
func listAccountsWithInvalidEffectivePolicy(c *service.Call) (any, error) {
	var in struct {
		PolicyType *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	typ, err := readManagementType(in.PolicyType)
	if err != nil {
		return nil, err
	}
	if !enabled(org, typ) {
		return nil, effectivePolicyNotFound(typ)
	}
	res, err := page("Accounts", in.pageIn, []keyed[accountOut]{})
	if err != nil {
		return nil, err
	}
	res.(map[string]any)["PolicyType"] = typ
	return res, nil
}
