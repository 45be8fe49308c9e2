// Package authzmsg builds AWS's authorization-failure messages: the decision, the
// statements that matched and the request context, in the JSON shape that
// sts:DecodeAuthorizationMessage returns, sealed so that only the server can read it
// (EC2's "Encoded authorization failure message").
package authzmsg

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/session"
)

// Message is the decoded form, field for field as AWS documents it.
type Message struct {
	Allowed           bool         `json:"allowed"`
	ExplicitDeny      bool         `json:"explicitDeny"`
	MatchedStatements items[Stmt]  `json:"matchedStatements"`
	Failures          items[value] `json:"failures"`
	Context           Context      `json:"context"`
}

type items[T any] struct {
	Items []T `json:"items"`
}

type value struct {
	Value string `json:"value"`
}

// Stmt is a statement that matched the request.
type Stmt struct {
	StatementID     string           `json:"statementId"`
	Effect          string           `json:"effect"` // ALLOW or DENY, as AWS writes it
	Principals      items[value]     `json:"principals"`
	PrincipalGroups items[value]     `json:"principalGroups"`
	Actions         items[value]     `json:"actions"`
	Resources       items[value]     `json:"resources"`
	Conditions      items[condition] `json:"conditions"`
	// PolicyType is iamlocal's addition: the layer the statement belongs to.
	PolicyType string `json:"policyType,omitempty"`
}

type condition struct {
	Key    string       `json:"key"`
	Values items[value] `json:"values"`
	// Operator is iamlocal's addition: AWS's message names only the key.
	Operator string `json:"operator,omitempty"`
}

// Context is the request as evaluated.
type Context struct {
	Principal  Principal        `json:"principal"`
	Action     string           `json:"action"`
	Resource   string           `json:"resource"`
	Conditions items[condition] `json:"conditions"`
}

// Principal identifies the caller.
type Principal struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Arn  string `json:"arn"`
}

// Build describes a decision. userID is the caller's aws:userid.
func Build(d *authz.Decision, req *policy.Request, in *authz.Input, userID string) *Message {
	m := &Message{Allowed: d.Allowed(), ExplicitDeny: d.Outcome == authz.ExplicitDeny}
	m.MatchedStatements.Items = []Stmt{}
	m.Failures.Items = []value{}
	for _, ms := range d.Matched {
		// AWS lists the statements that decided: the denies of an explicit deny, else all.
		if m.ExplicitDeny && ms.Effect != policy.Deny {
			continue
		}
		if st := statementOf(in, ms); st != nil {
			m.MatchedStatements.Items = append(m.MatchedStatements.Items, describe(st, ms.Layer))
		}
	}
	m.Context = Context{Principal: Principal{ID: userID, Name: req.Caller.Name, Arn: req.Caller.Arn},
		Action: req.Action, Resource: req.Resource}
	m.Context.Conditions.Items = []condition{}
	keys := make([]string, 0, len(req.Context))
	for k := range req.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.Context.Conditions.Items = append(m.Context.Conditions.Items, condition{Key: displayKey(k), Values: valuesOf(req.Context[k])})
	}
	return m
}

func statementOf(in *authz.Input, ms authz.Matched) *policy.Statement {
	var p *policy.Policy
	pick := func(list []*policy.Policy, i int) *policy.Policy {
		if i < len(list) {
			return list[i]
		}
		return nil
	}
	switch ms.Layer {
	case authz.Identity:
		p = pick(in.Identity, ms.Policy)
	case authz.Session:
		p = pick(in.Session, ms.Policy)
	case authz.PermissionsBoundary:
		p = in.Boundary
	case authz.Resource:
		p = in.Resource
	case authz.Endpoint:
		p = in.Endpoint
	case authz.SCP:
		if ms.Level < len(in.SCPs) {
			p = pick(in.SCPs[ms.Level], ms.Policy)
		}
	case authz.RCP:
		if ms.Level < len(in.RCPs) {
			p = pick(in.RCPs[ms.Level], ms.Policy)
		}
	}
	if p == nil || ms.Statement >= len(p.Statements) {
		return nil
	}
	return &p.Statements[ms.Statement]
}

func describe(st *policy.Statement, l authz.Layer) Stmt {
	out := Stmt{StatementID: st.Sid, Effect: strings.ToUpper(st.Effect.String()), PolicyType: l.String()}
	principals, _ := st.Principals()
	out.Principals = valuesOf(principals)
	out.PrincipalGroups = valuesOf(nil)
	actions, _ := st.Actions()
	out.Actions = valuesOf(actions)
	resources, _ := st.Resources()
	out.Resources = valuesOf(resources)
	out.Conditions.Items = []condition{}
	for _, c := range st.Conditions() {
		out.Conditions.Items = append(out.Conditions.Items, condition{Key: c.Key, Values: valuesOf(c.Values), Operator: c.Operator})
	}
	return out
}

func valuesOf(vs []string) items[value] {
	out := items[value]{Items: make([]value, 0, len(vs))}
	for _, v := range vs {
		out.Items = append(out.Items, value{v})
	}
	return out
}

// Encode seals a message for the caller; only a server holding the key ring can
// decode it.
func Encode(ring *session.Ring, m *Message) (string, error) {
	plain, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return ring.SealBytes(session.PurposeAuthorizationMessage, plain), nil
}

// ErrInvalid is an encoded message this server did not make, or a tampered one.
var ErrInvalid = errors.New("the message is not a valid encoded authorization message")

// Decode opens an encoded message and returns its JSON.
func Decode(ring *session.Ring, encoded string) (string, error) {
	plain, err := ring.OpenBytes(session.PurposeAuthorizationMessage, strings.TrimSpace(encoded))
	if err != nil {
		return "", ErrInvalid
	}
	// Only values sealed as authorization messages open here; their shape is checked
	// too, so that nothing else this server ever sealed could be shown.
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	var m Message
	if dec.Decode(&m) != nil || dec.More() {
		return "", ErrInvalid
	}
	return string(plain), nil
}
