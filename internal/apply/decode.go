package apply

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The file is read as a yaml.Node tree and decoded by the walker below rather than
// by yaml.Unmarshal, so that every fault names its line and its field path, unknown
// fields are errors, and policy documents keep their nodes (for the positions of
// MalformedPolicyDocument faults).

// nodeDecoder is implemented by types that read their own node.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, p Pos)
}

type decoder struct{ errs }

var posType = reflect.TypeFor[Pos]()

// decode reads n into v (a settable value), reporting faults at p.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, p Pos) {
	n = resolveAlias(n)
	if p.Line == 0 {
		p.Line = n.Line
	}
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeNode(d, n, p)
			return
		}
	}
	if isNull(n) && v.Kind() != reflect.String {
		return // an empty value leaves the zero value
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), p)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.add(p, "want a string, not %s", kindName(n))
			return
		}
		if isNull(n) {
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.add(p, "want a whole number, not %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		b, ok := scalarBool(n)
		if !ok {
			d.add(p, "want true or false, not %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(p, "want a list, not %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ip := p.at(fmt.Sprintf("[%d]", i), item.Line)
			if isNull(resolveAlias(item)) {
				d.add(ip, "empty list item")
				continue
			}
			d.decode(item, s.Index(i), ip)
		}
		v.Set(s)
	case reflect.Struct:
		d.decodeStruct(n, v, p)
	default:
		panic("apply: cannot decode into " + v.Type().String())
	}
}

// field is a struct field the file may set.
type field struct{ index []int }

// fieldsOf lists the YAML names of t's fields, those of inlined structs included.
func fieldsOf(t reflect.Type, prefix []int, out map[string]field) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("yaml")
		if !ok || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		idx := append(append([]int(nil), prefix...), i)
		if opts == "inline" {
			fieldsOf(f.Type, idx, out)
			continue
		}
		out[name] = field{index: idx}
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, p Pos) {
	if n.Kind != yaml.MappingNode {
		d.add(p, "want a mapping of fields, not %s", describe(n))
		return
	}
	fields := map[string]field{}
	fieldsOf(v.Type(), nil, fields)
	if pf, ok := v.Type().FieldByName("Pos"); ok && pf.Type == posType {
		v.FieldByIndex(pf.Index).Set(reflect.ValueOf(p))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := p.at("."+k.Value, k.Line)
		f, ok := fields[k.Value]
		switch {
		case !ok:
			d.add(kp, "unknown field (known: %s)", knownNames(fields))
			continue
		case seen[k.Value]:
			d.add(kp, "given twice")
			continue
		}
		seen[k.Value] = true
		d.decode(val, v.FieldByIndex(f.index), kp)
	}
}

func knownNames(fields map[string]field) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sortStrings(names)
	return strings.Join(names, ", ")
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func scalarBool(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(n.Value))
	return b, err == nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a scalar"
}

func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return kindName(n)
}
