package explain

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
)

// Statement is a policy statement as JSON, for fixes: the fields in IAM's usual order.
type Statement struct {
	Sid          string                    `json:"Sid,omitempty"`
	Effect       string                    `json:"Effect"`
	Principal    any                       `json:"Principal,omitempty"`
	NotPrincipal any                       `json:"NotPrincipal,omitempty"`
	Action       any                       `json:"Action,omitempty"`
	NotAction    any                       `json:"NotAction,omitempty"`
	Resource     any                       `json:"Resource,omitempty"`
	NotResource  any                       `json:"NotResource,omitempty"`
	Condition    map[string]map[string]any `json:"Condition,omitempty"`
}

// document is a policy document as JSON.
type document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

func oneOrList(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

// StatementOf writes a compiled statement back as JSON (what it says, as written).
func StatementOf(st *policy.Statement) Statement {
	s := Statement{Sid: st.Sid, Effect: st.Effect.String()}
	if ps, not := st.Principals(); ps != nil {
		var pr any
		m := map[string][]string{}
		for _, p := range ps {
			if p == "*" {
				pr = "*"
				continue
			}
			kind, v, _ := strings.Cut(p, ":")
			m[kind] = append(m[kind], v)
		}
		if pr == nil {
			mm := map[string]any{}
			for k, v := range m {
				mm[k] = oneOrList(v)
			}
			pr = mm
		}
		if not {
			s.NotPrincipal = pr
		} else {
			s.Principal = pr
		}
	}
	if as, not := st.Actions(); not {
		s.NotAction = oneOrList(as)
	} else {
		s.Action = oneOrList(as)
	}
	if rs, not := st.Resources(); rs != nil {
		if not {
			s.NotResource = oneOrList(rs)
		} else {
			s.Resource = oneOrList(rs)
		}
	}
	for _, c := range st.Conditions() {
		if s.Condition == nil {
			s.Condition = map[string]map[string]any{}
		}
		if s.Condition[c.Operator] == nil {
			s.Condition[c.Operator] = map[string]any{}
		}
		s.Condition[c.Operator][c.Key] = oneOrList(c.Values)
	}
	return s
}

// exempting returns the statement with a condition that leaves principal out of it.
func exempting(st *policy.Statement, principalArn string) Statement {
	s := StatementOf(st)
	if s.Condition == nil {
		s.Condition = map[string]map[string]any{}
	}
	ops := s.Condition["ArnNotEquals"]
	if ops == nil {
		ops = map[string]any{}
		s.Condition["ArnNotEquals"] = ops
	}
	switch v := ops["aws:PrincipalArn"].(type) {
	case nil:
		ops["aws:PrincipalArn"] = principalArn
	case string:
		ops["aws:PrincipalArn"] = []string{v, principalArn}
	case []string:
		ops["aws:PrincipalArn"] = append(v, principalArn)
	}
	return s
}

// indentJSON renders v as indented JSON.
func indentJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	return strings.TrimSpace(buf.String())
}

// Doc wraps statements in a policy document.
func docOf(sts ...Statement) string {
	return indentJSON(document{Version: policy.Version2012, Statement: sts})
}

// withStatement adds a statement to an existing document, keeping the others as
// written.
func withStatement(existing string, st Statement) string {
	var doc struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id,omitempty"`
		Statement json.RawMessage `json:"Statement"`
	}
	if existing == "" || json.Unmarshal([]byte(existing), &doc) != nil {
		return docOf(st)
	}
	var list []json.RawMessage
	if json.Unmarshal(doc.Statement, &list) != nil {
		list = []json.RawMessage{doc.Statement} // a single statement object
	}
	add, _ := json.Marshal(st)
	list = append(list, add)
	doc.Statement, _ = json.Marshal(list)
	if doc.Version == "" {
		doc.Version = policy.Version2012
	}
	out, _ := json.Marshal(doc)
	var buf bytes.Buffer
	if json.Indent(&buf, out, "", "  ") != nil {
		return string(out)
	}
	return buf.String()
}

// principalRef is how a policy names the caller: a session by its role (covering
// every session of it), others by their ARN.
func principalRef(c *policy.Caller) string {
	if c.Kind == policy.AssumedRole && c.RoleArn != "" {
		return c.RoleArn
	}
	if c.Kind == policy.RootUser {
		return "arn:" + c.Partition + ":iam::" + c.Account + ":root"
	}
	return c.Arn
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func compact(doc string) string {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(doc)) != nil {
		return doc
	}
	return buf.String()
}
