package authzmsg

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/session"
)

func TestBuildEncodeDecode(t *testing.T) {
	scp, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},
		{"Sid":"NoBig","Effect":"Deny","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLike":{"ec2:InstanceType":"p*"}}}]}`), policy.SCP)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`), policy.Identity)
	caller, _ := policy.ParseCaller("arn:aws:sts::222222222222:assumed-role/ops/alice")
	req := &policy.Request{Caller: caller, Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:222222222222:instance/*",
		ResourceAccount: "222222222222", Context: policy.Context{"ec2:instancetype": {"p5.48xlarge"}}}
	req.Prepare()
	in := &authz.Input{Identity: []*policy.Policy{id}, SCPs: [][]*policy.Policy{{scp}}}
	var d authz.Decision
	authz.Decide(req, in, &d)
	m := Build(&d, req, in, "AROAEXAMPLE:alice")
	ring, _ := session.NewRing([]session.Key{session.NewKey(1, time.Now())})
	enc, err := Encode(ring, m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(enc, "NoBig") {
		t.Fatal("the encoded message is readable")
	}
	js, err := Decode(ring, enc)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatal(err)
	}
	if got["allowed"] != false || got["explicitDeny"] != true {
		t.Fatalf("decision: %s", js)
	}
	stmts := got["matchedStatements"].(map[string]any)["items"].([]any)
	if len(stmts) != 1 {
		t.Fatalf("want only the denying statement: %s", js)
	}
	st := stmts[0].(map[string]any)
	if st["statementId"] != "NoBig" || st["effect"] != "DENY" || st["policyType"] != "scp" {
		t.Fatalf("statement: %v", st)
	}
	for _, want := range []string{`"action":"ec2:RunInstances"`, `"arn":"arn:aws:sts::222222222222:assumed-role/ops/alice"`,
		`"id":"AROAEXAMPLE:alice"`, `{"key":"ec2:InstanceType","values":{"items":[{"value":"p5.48xlarge"}]}}`,
		`"conditions":{"items":[{"key":"ec2:InstanceType","values":{"items":[{"value":"p*"}]},"operator":"StringLike"}]}`} {
		if !strings.Contains(js, want) {
			t.Errorf("decoded message lacks %s:\n%s", want, js)
		}
	}
	if _, err := Decode(ring, enc[:len(enc)-2]+"AA"); err != ErrInvalid {
		t.Fatalf("tampered message: %v", err)
	}
}
