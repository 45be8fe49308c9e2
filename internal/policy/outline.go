package policy

import (
	"fmt"
	"sort"
	"strings"
)

// An Outline is a policy document as written, every value with its place: the JSON
// path (Statement[0].Action[1]) and the line and column where it starts. It is for
// lint, GetContextKeysFor* and explanations, never for matching: the compiled Policy
// is what the engine reads.

// Located is one string of a policy document (a number or boolean as its JSON text)
// and where it is.
type Located struct {
	Value string
	Path  string
	Pos   Position
}

// Outline is a document's elements as written.
type Outline struct {
	Version    *Located
	Statements []OutlineStatement
	elements   map[string]Position // the document's own keys: Version, Statement…
	doc        []byte
}

// OutlineStatement is one statement as written. Actions and Resources hold the
// Action or NotAction (Resource or NotResource) values; NotAction and NotResource
// say which.
type OutlineStatement struct {
	Index        int
	Path         string // Statement[0], or Statement when the element is one object
	Pos          Position
	Sid          string
	Effect       string
	HasPrincipal bool
	Actions      []Located
	NotAction    bool
	Resources    []Located
	NotResource  bool
	Conditions   []OutlineCondition
	elements     map[string]Position
}

// OutlineCondition is one condition key under one operator, with its values.
type OutlineCondition struct {
	Operator Located
	Key      Located
	Values   []Located
}

// OutlineDocument reads a document's elements as written. Elements of an unexpected
// shape are left out (the parser reports them); only a document that is not JSON is
// an error.
func OutlineDocument(doc []byte) (*Outline, error) {
	root, _, err := parseTree(doc)
	if err != nil {
		return nil, err
	}
	o := &Outline{elements: map[string]Position{}, doc: doc}
	if root.kind != kObject {
		return o, nil
	}
	for _, f := range root.fields {
		o.elements[f.key] = position(doc, f.keyStart)
	}
	if v := root.get("Version"); v != nil && v.kind == kString {
		o.Version = &Located{Value: v.str, Path: "Version", Pos: position(doc, v.start)}
	}
	stmts := root.get("Statement")
	switch {
	case stmts == nil:
	case stmts.kind == kObject:
		o.Statements = append(o.Statements, o.statement(stmts, 0, "Statement"))
	case stmts.kind == kArray:
		for i, sn := range stmts.items {
			if sn.kind == kObject {
				o.Statements = append(o.Statements, o.statement(sn, i, fmt.Sprintf("Statement[%d]", i)))
			}
		}
	}
	return o, nil
}

// Pos is where a policy.Error is, as closely as the outline knows: the element of its
// statement, the statement, the document's element, or the start of the document.
func (o *Outline) Pos(e *Error) Position {
	if e.Statement >= 0 {
		for i := range o.Statements {
			st := &o.Statements[i]
			if st.Index != e.Statement {
				continue
			}
			if p, ok := st.elements[e.Element]; ok && e.Element != "" {
				return p
			}
			return st.Pos
		}
	}
	if p, ok := o.elements[e.Element]; ok && e.Element != "" {
		return p
	}
	return Position{Line: 1, Column: 1}
}

// ElementPos is where a statement's element (its key) is written.
func (st *OutlineStatement) ElementPos(name string) (Position, bool) {
	p, ok := st.elements[name]
	return p, ok
}

func (o *Outline) statement(n *node, index int, path string) OutlineStatement {
	st := OutlineStatement{Index: index, Path: path, Pos: position(o.doc, n.start), elements: map[string]Position{}}
	for _, f := range n.fields {
		st.elements[f.key] = position(o.doc, f.keyStart)
		switch f.key {
		case "Sid":
			st.Sid = f.val.str
		case "Effect":
			st.Effect = f.val.str
		case "Principal", "NotPrincipal":
			st.HasPrincipal = true
		case "Action", "NotAction":
			st.Actions, st.NotAction = o.scalars(f.val, path+"."+f.key), f.key == "NotAction"
		case "Resource", "NotResource":
			st.Resources, st.NotResource = o.scalars(f.val, path+"."+f.key), f.key == "NotResource"
		case "Condition":
			if f.val.kind != kObject {
				continue
			}
			for _, op := range f.val.fields {
				if op.val.kind != kObject {
					continue
				}
				opPath := path + ".Condition." + op.key
				opLoc := Located{Value: op.key, Path: opPath, Pos: position(o.doc, op.keyStart)}
				for _, k := range op.val.fields {
					keyPath := opPath + "." + k.key
					st.Conditions = append(st.Conditions, OutlineCondition{
						Operator: opLoc,
						Key:      Located{Value: k.key, Path: keyPath, Pos: position(o.doc, k.keyStart)},
						Values:   o.scalars(k.val, keyPath),
					})
				}
			}
		}
	}
	return st
}

// scalars reads an element that is a scalar or a list of scalars; other shapes give
// nothing.
func (o *Outline) scalars(n *node, path string) []Located {
	one := func(v *node, p string) (Located, bool) {
		switch v.kind {
		case kString, kNumber:
			return Located{Value: v.str, Path: p, Pos: position(o.doc, v.start)}, true
		case kBool:
			return Located{Value: fmt.Sprint(v.b), Path: p, Pos: position(o.doc, v.start)}, true
		}
		return Located{}, false
	}
	if n.kind != kArray {
		if l, ok := one(n, path); ok {
			return []Located{l}
		}
		return nil
	}
	var out []Located
	for i, it := range n.items {
		if l, ok := one(it, fmt.Sprintf("%s[%d]", path, i)); ok {
			out = append(out, l)
		}
	}
	return out
}

// Variables returns the keys of the policy variables in s (${aws:username},
// ${aws:PrincipalTag/team, 'none'}), as written, in order; the escapes ${*}, ${?} and
// ${$} are not variables.
func Variables(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return out
		}
		s = s[i+2:]
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return out
		}
		name := strings.TrimSpace(s[:j])
		if k := strings.IndexByte(name, ','); k >= 0 {
			name = strings.TrimSpace(name[:k])
		}
		s = s[j+1:]
		switch name {
		case "*", "?", "$", "":
			continue
		}
		out = append(out, name)
	}
}

// OperatorInfo describes a condition operator as written: its family (String,
// Numeric, Date, Bool, Binary, IpAddress, Arn or Null, as AWS names the operator
// types), its set qualifier (ForAllValues, ForAnyValue or empty) and whether it is an
// …IfExists operator. ok is false for an operator IAM does not know.
func OperatorInfo(name string) (family, set string, ifExists, ok bool) {
	op, q, ie, err := parseOperator(name)
	if err != nil {
		return "", "", false, false
	}
	family = [...]string{fString: "String", fNumeric: "Numeric", fDate: "Date", fBool: "Bool",
		fBinary: "Binary", fIP: "IpAddress", fArn: "Arn", fNull: "Null"}[op.family]
	set = [...]string{single: "", forAllValues: "ForAllValues", forAnyValue: "ForAnyValue"}[q]
	return family, set, ie, true
}

// ContextKeys lists the context keys a document reads, as GetContextKeysFor*Policy
// report them: the keys of its Condition blocks and the keys of the policy variables
// in its Resource, NotResource and condition values (only under Version 2012-10-17,
// the version where variables are variables). Each key once, without regard to case,
// spelled as first written, in the order the document writes them.
func (o *Outline) ContextKeys() []string {
	type ref struct {
		pos Position
		key string
	}
	var refs []ref
	vars := o.Version != nil && o.Version.Value == Version2012
	addVars := func(l Located) {
		if !vars {
			return
		}
		for _, v := range Variables(l.Value) {
			refs = append(refs, ref{l.Pos, v})
		}
	}
	for _, st := range o.Statements {
		for _, r := range st.Resources {
			addVars(r)
		}
		for _, c := range st.Conditions {
			refs = append(refs, ref{c.Key.Pos, c.Key.Value})
			for _, v := range c.Values {
				addVars(v)
			}
		}
	}
	sort.SliceStable(refs, func(i, j int) bool {
		a, b := refs[i].pos, refs[j].pos
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	seen := map[string]bool{}
	var out []string
	for _, r := range refs {
		if k := strings.ToLower(r.key); !seen[k] {
			seen[k] = true
			out = append(out, r.key)
		}
	}
	return out
}
