package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
	"gopkg.in/yaml.v3"
)

// Doc is a policy document: a YAML (or JSON, which is YAML) mapping, or a string
// holding JSON text.
type Doc struct {
	Node *yaml.Node
	Pos  Pos
}

func (doc *Doc) decodeNode(d *decoder, n *yaml.Node, p Pos) {
	doc.Node, doc.Pos = n, p
	switch {
	case n.Kind == yaml.MappingNode:
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
	default:
		d.add(p, "want a policy document (a mapping, or a string of JSON), not %s", describe(n))
	}
}

func (doc *Doc) isString() bool { return doc.Node.Kind == yaml.ScalarNode }

// vars resolves the file's own variables: ${account:NAME}, ${ou:PATH}, ${org:id}
// and ${org:root}. ok is false for an unknown one.
type vars func(kind, arg string) (value string, ok bool)

// varPattern finds the file's variables. AWS's own policy variables (${aws:username},
// ${s3:prefix}, ${*} …) do not match and are kept as written.
var varPattern = regexp.MustCompile(`\$\{(account|ou|org):([^}]*)\}`)

// expand replaces the file's variables in s; unknown ones are reported by bad.
func expand(s string, v vars, bad func(ref string)) string {
	if !strings.Contains(s, "${") {
		return s
	}
	return varPattern.ReplaceAllStringFunc(s, func(m string) string {
		sub := varPattern.FindStringSubmatch(m)
		val, ok := v(sub[1], sub[2])
		if !ok {
			if bad != nil {
				bad(m)
			}
			return m
		}
		return val
	})
}

// render returns the document as JSON text, the file's variables replaced: a mapping
// as compact JSON in the file's key order, a string as written.
func (doc *Doc) render(v vars, bad func(string)) (string, error) {
	if doc.isString() {
		return expand(doc.Node.Value, v, bad), nil
	}
	var b bytes.Buffer
	if err := nodeJSON(&b, doc.Node, func(s string) string { return expand(s, v, bad) }, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func nodeJSON(b *bytes.Buffer, n *yaml.Node, sub func(string) string, depth int) error {
	if depth > 64 {
		return errors.New("the document nests too deeply")
	}
	n = resolveAlias(n)
	str := func(s string) {
		out, _ := json.Marshal(s)
		b.Write(out)
	}
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			str(sub(n.Content[i].Value))
			b.WriteByte(':')
			if err := nodeJSON(b, n.Content[i+1], sub, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := nodeJSON(b, item, sub, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			b.WriteString("null")
		case "!!bool":
			v, _ := scalarBool(n)
			b.WriteString(strconv.FormatBool(v))
		case "!!int", "!!float":
			if jsonNumber.MatchString(n.Value) {
				b.WriteString(n.Value)
			} else {
				str(n.Value)
			}
		default:
			str(sub(n.Value))
		}
	default:
		return fmt.Errorf("unexpected YAML node")
	}
	return nil
}

// canonical returns a JSON text in a form where equal documents are equal strings:
// keys sorted, no whitespace. Text that is not JSON is returned as it is.
func canonical(doc string) string {
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return doc
	}
	out, err := json.Marshal(v)
	if err != nil {
		return doc
	}
	return string(out)
}

// sameDoc reports whether two policy documents say the same.
func sameDoc(a, b string) bool { return canonical(a) == canonical(b) }

// check parses the rendered document as a policy of kind and turns a fault into an
// Error at the statement and element of the file that hold it.
func (doc *Doc) check(c *errs, text string, kind policy.Kind) {
	_, err := policy.Parse([]byte(text), kind)
	if err == nil {
		return
	}
	var pe *policy.Error
	if !errors.As(err, &pe) || doc.isString() {
		c.add(doc.Pos, "%v", err)
		return
	}
	p := doc.Pos
	n := doc.Node
	if pe.Statement >= 0 {
		if st := mapGet(n, "Statement"); st != nil {
			switch {
			case st.Kind == yaml.SequenceNode && pe.Statement < len(st.Content):
				p = p.at(fmt.Sprintf(".Statement[%d]", pe.Statement), st.Content[pe.Statement].Line)
				n = resolveAlias(st.Content[pe.Statement])
			case st.Kind == yaml.MappingNode:
				p = p.at(".Statement", st.Line)
				n = st
			}
		}
	}
	msg := pe.Text()
	if pe.Element != "" {
		if _, key := mapGetKey(n, pe.Element); key != nil {
			p = p.at("."+pe.Element, key.Line)
		} else {
			msg = pe.Element + ": " + msg
		}
	}
	c.add(p, "MalformedPolicyDocument: %s", msg)
}

// mapGet returns the value of key in a mapping node, or nil.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	v, _ := mapGetKey(n, key)
	return v
}

func mapGetKey(n *yaml.Node, key string) (val, k *yaml.Node) {
	n = resolveAlias(n)
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolveAlias(n.Content[i+1]), n.Content[i]
		}
	}
	return nil, nil
}

func reflectValue(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
