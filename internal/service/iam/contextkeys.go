package iam

import (
	"fmt"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// GetContextKeysForCustomPolicy and GetContextKeysForPrincipalPolicy: the context keys
// that policies read, so that a caller knows which ContextEntries the simulators need.
// A key is listed when a Condition block names it or a policy variable reads it
// (${aws:username} in a Resource, as AWS's example of the CLI shows: a policy with
// that Resource and a DateGreaterThan on aws:CurrentTime gives aws:username and
// aws:CurrentTime). Each key once, without regard to case, spelled as first written,
// in the order the policies write them (docs: policy.Outline.ContextKeys).

func init() {
	register(
		&service.Action{Name: "GetContextKeysForCustomPolicy", IAMAction: "iam:GetContextKeysForCustomPolicy", Handle: getContextKeysForCustomPolicy},
		&service.Action{Name: "GetContextKeysForPrincipalPolicy", IAMAction: "iam:GetContextKeysForPrincipalPolicy",
			Resource: func(c *service.Call) (string, string, error) {
				return c.Params.Get("PolicySourceArn"), c.Account(), nil
			}, Handle: getContextKeysForPrincipalPolicy},
	)
}

type contextKeysResult struct {
	ContextKeyNames []string `xml:"ContextKeyNames>member"`
}

func getContextKeysForCustomPolicy(c *service.Call) (any, error) {
	docs, err := c.Params.List("PolicyInputList")
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, wire.ValidationError("1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null")
	}
	var keys contextKeys
	for i, d := range docs {
		if err := keys.add(fmt.Sprintf("PolicyInputList.%d", i+1), d); err != nil {
			return nil, err
		}
	}
	return &contextKeysResult{keys.names}, nil
}

// getContextKeysForPrincipalPolicy reads the policies SimulatePrincipalPolicy decides
// with, in its order: a user's groups' policies and its own inline and attached ones
// (a group's or a role's own), the entity's permissions boundary — AWS names the
// attached policies and is silent on the boundary, whose conditions need context
// entries all the same — then the PolicyInputList.
func getContextKeysForPrincipalPolicy(c *service.Call) (any, error) {
	src, err := required(c, "PolicySourceArn")
	if err != nil {
		return nil, err
	}
	docs, err := c.Params.List("PolicyInputList")
	if err != nil {
		return nil, err
	}
	sim := &simulation{context: policy.Context{}}
	if err := sim.loadPrincipal(c, src); err != nil {
		return nil, err
	}
	var keys contextKeys
	for _, s := range append(sim.identity, sim.boundary...) {
		keys.addPolicy(s.p)
	}
	for i, d := range docs {
		if err := keys.add(fmt.Sprintf("PolicyInputList.%d", i+1), d); err != nil {
			return nil, err
		}
	}
	return &contextKeysResult{keys.names}, nil
}

// contextKeys gathers key names across policies, each once without regard to case.
type contextKeys struct {
	names []string
	seen  map[string]bool
}

// add reads a document given in the call: InvalidInput, naming the parameter, when
// it is not a JSON policy (as the simulators answer).
func (k *contextKeys) add(param, doc string) error {
	p, err := simPolicy(param, doc, policy.Identity)
	if err != nil {
		return err
	}
	k.addPolicy(p)
	return nil
}

func (k *contextKeys) addPolicy(p *policy.Policy) {
	o, err := policy.OutlineDocument([]byte(p.Text))
	if err != nil {
		return // compiled from the same text: cannot happen
	}
	if k.seen == nil {
		k.seen = map[string]bool{}
	}
	for _, name := range o.ContextKeys() {
		if l := strings.ToLower(name); !k.seen[l] {
			k.seen[l] = true
			k.names = append(k.names, name)
		}
	}
}
