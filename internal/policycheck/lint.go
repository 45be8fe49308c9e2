package policycheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
)

// Lint checks a document as `iamlocal lint` does: first as the API door storing a
// policy of the kind does (internal/policy, with the doors' messages), then, when it
// is a policy at all, against AWS's data. Every finding, in document order; a door's
// refusal is an ERROR with IAM's code, MalformedPolicyDocument.
func Lint(doc []byte, kind policy.Kind) []Finding {
	o, oerr := policy.OutlineDocument(doc)
	p, err := policy.ParseLenient(doc, kind)
	if err != nil {
		return []Finding{refusal(doc, o, err)}
	}
	var out []Finding
	for _, e := range p.Findings {
		out = append(out, doorFinding(o, e))
	}
	if oerr == nil {
		out = append(out, CheckOutline(o)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Pos, out[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	return out
}

// doorFinding places what a door refuses a document for.
func doorFinding(o *policy.Outline, e *policy.Error) Finding {
	f := Finding{Type: Error, Code: CodeMalformedPolicyDocument, Message: doorMessage(e), Statement: e.Statement, Sid: e.Sid,
		Pos: policy.Position{Line: 1, Column: 1}}
	if o == nil {
		return f
	}
	f.Pos = o.Pos(e)
	if e.Statement >= 0 {
		for _, st := range o.Statements {
			if st.Index == e.Statement {
				f.Path = st.Path
			}
		}
	}
	if e.Element != "" {
		f.Path = strings.TrimPrefix(f.Path+"."+e.Element, ".")
	}
	return f
}

// doorMessage is the door's message (AWS's words) and, when iamlocal knows more,
// what exactly is wrong.
func doorMessage(e *policy.Error) string {
	switch {
	case e.Detail == "":
		return e.Message
	case strings.HasPrefix(e.Detail, strings.TrimSuffix(e.Message, ".")):
		return e.Detail // the detail says AWS's message and more
	}
	return e.Message + " (" + e.Detail + ")"
}

// refusal is the finding for a document that is no policy: invalid JSON, placed where
// the JSON breaks, or an element of the wrong type.
func refusal(doc []byte, o *policy.Outline, err error) Finding {
	var pe *policy.Error
	if !errors.As(err, &pe) {
		return Finding{Type: Error, Code: CodeMalformedPolicyDocument, Message: err.Error(), Statement: -1, Pos: policy.Position{Line: 1, Column: 1}}
	}
	f := doorFinding(o, pe)
	var se *json.SyntaxError
	if jerr := json.Unmarshal(doc, new(any)); errors.As(jerr, &se) {
		f.Pos = offsetPosition(doc, int(se.Offset))
	}
	return f
}

// offsetPosition is the line and column of a byte offset (the JSON decoder's offsets
// count the bytes read, the one at fault included).
func offsetPosition(doc []byte, offset int) policy.Position {
	offset = min(max(offset-1, 0), len(doc))
	line := 1 + bytes.Count(doc[:offset], []byte{'\n'})
	return policy.Position{Line: line, Column: offset - bytes.LastIndexByte(doc[:offset], '\n')}
}
