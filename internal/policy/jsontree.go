package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is one JSON value with its place in the document. Policies are read into
// nodes rather than Go structs because IAM's grammar needs what encoding/json hides:
// the order and duplicates of object keys, "string or list" fields, and the line and
// column of each statement (SimulatePrincipalPolicy reports them).
type node struct {
	kind   nodeKind
	str    string // string, or number text
	b      bool
	fields []field
	items  []*node
	start  int // byte offsets in the document
	end    int
}

type field struct {
	key      string
	val      *node
	keyStart int // byte offset of the key in the document
}

type nodeKind uint8

const (
	kNull nodeKind = iota
	kString
	kNumber
	kBool
	kObject
	kArray
)

func (k nodeKind) String() string {
	return [...]string{"null", "string", "number", "boolean", "object", "array"}[k]
}

// get returns the value of key in an object node, or nil.
func (n *node) get(key string) *node {
	for _, f := range n.fields {
		if f.key == key {
			return f.val
		}
	}
	return nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack; no valid policy
// nests deeper than five levels.
const maxDepth = 32

// parseTree reads exactly one JSON value from doc.
// parseTree reads a JSON document. badChar is the first character outside IAM's
// alphabet in a string or key (a door's finding, not a JSON error), or nil.
func parseTree(doc []byte) (n *node, badChar, err error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	p := &treeParser{dec: dec, doc: doc}
	n, err = p.value(0)
	if err != nil {
		return nil, nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("unexpected data after the policy document")
	}
	return n, p.badChar, nil
}

type treeParser struct {
	dec     *json.Decoder
	doc     []byte
	badChar error
}

// checkChars notes the first string holding a character IAM does not allow.
func (p *treeParser) checkChars(s string) {
	if p.badChar == nil {
		p.badChar = checkCharacters(s)
	}
}

// tokenStart finds where the next token begins: after the previous token, skipping
// whitespace and the separators the decoder consumes silently.
func (p *treeParser) tokenStart() int {
	i := int(p.dec.InputOffset())
	for i < len(p.doc) && strings.IndexByte(" \t\r\n,:", p.doc[i]) >= 0 {
		i++
	}
	return i
}

func (p *treeParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("the document nests too deeply")
	}
	start := p.tokenStart()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, syntaxError(err)
	}
	n := &node{start: start}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			err = p.object(n, depth)
		} else {
			err = p.array(n, depth)
		}
		if err != nil {
			return nil, err
		}
	case string:
		// Checked decoded: escapes such as \u4e2d hide characters from the raw text,
		// and invalid UTF-8 decodes to U+FFFD, which is outside the alphabet too.
		p.checkChars(t)
		n.kind, n.str = kString, t
	case json.Number:
		n.kind, n.str = kNumber, t.String()
	case bool:
		n.kind, n.b = kBool, t
	case nil:
		n.kind = kNull
	}
	n.end = int(p.dec.InputOffset())
	return n, nil
}

func (p *treeParser) object(n *node, depth int) error {
	n.kind = kObject
	for p.dec.More() {
		keyStart := p.tokenStart()
		tok, err := p.dec.Token()
		if err != nil {
			return syntaxError(err)
		}
		key := tok.(string) // the decoder guarantees object keys are strings
		p.checkChars(key)
		if n.get(key) != nil {
			return fmt.Errorf("duplicate element %q", key)
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		n.fields = append(n.fields, field{key, v, keyStart})
	}
	_, err := p.dec.Token() // '}'
	return syntaxError(err)
}

func (p *treeParser) array(n *node, depth int) error {
	n.kind = kArray
	for p.dec.More() {
		v, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		n.items = append(n.items, v)
	}
	_, err := p.dec.Token() // ']'
	return syntaxError(err)
}

func syntaxError(err error) error {
	if err == nil {
		return nil
	}
	if err == io.EOF {
		return errors.New("the document ends unexpectedly")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// Position is a 1-based line and column in a policy document.
type Position struct {
	Line   int
	Column int
}

func position(doc []byte, offset int) Position {
	if offset > len(doc) {
		offset = len(doc)
	}
	line := 1 + bytes.Count(doc[:offset], []byte{'\n'})
	col := offset - bytes.LastIndexByte(doc[:offset], '\n')
	return Position{Line: line, Column: col}
}
