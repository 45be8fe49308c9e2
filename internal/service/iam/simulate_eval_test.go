package iam_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/evalinput"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// corpusCase is one case of testdata/eval (the format of evalinput's cases_test.go).
type corpusCase struct {
	Name        string          `json:"name"`
	Request     json.RawMessage `json:"request"`
	ExpectError string          `json:"expectError"`
	Lenient     json.RawMessage `json:"lenient"`
}

// evalRequest is the part of eval's request format SimulateCustomPolicy can express.
type evalRequest struct {
	Principal           string                     `json:"principal"`
	Action              string                     `json:"action"`
	Resource            string                     `json:"resource"`
	ResourceAccount     string                     `json:"resourceAccount"`
	Context             map[string]json.RawMessage `json:"context"`
	IdentityPolicies    []json.RawMessage          `json:"identityPolicies"`
	PermissionsBoundary json.RawMessage            `json:"permissionsBoundary"`
	ResourcePolicy      json.RawMessage            `json:"resourcePolicy"`
	ResourcePolicyType  string                     `json:"resourcePolicyType"`
}

// minCompared is how many corpus cases TestSimulateCustomPolicyMatchesEval reaches;
// the count may grow, never drop.
const minCompared = 291

// TestSimulateCustomPolicyMatchesEval runs every case of the eval corpus that
// SimulateCustomPolicy can express — identity policies, a permissions boundary, a
// resource policy with ResourceOwner, typed context entries, a user or role as
// CallerArn — through the simulator on a server and through evalinput, and requires
// the same decision, missing context keys and matched statements: the simulators and
// `iamlocal eval` are one path (authz.Evaluate).
func TestSimulateCustomPolicyMatchesEval(t *testing.T) {
	s := servertest.Start(t, "")
	client := s.IAM(servertest.Root)
	compared, skipped := 0, map[string]int{}
	forEachCorpusCase(t, func(file string, _ int, c corpusCase) {
		in, why := simulateInput(c)
		if in == nil {
			skipped[why]++
			return
		}
		compared++
		t.Run(file+"/"+c.Name, func(t *testing.T) { compareCase(t, client, c, in) })
	})
	t.Logf("%d corpus cases compared through SimulateCustomPolicy and eval; not expressible: %v", compared, skipped)
	if compared < minCompared {
		t.Errorf("only %d corpus cases compared, want at least %d", compared, minCompared)
	}
}

// forEachCorpusCase calls fn with every case of testdata/eval, its file's base name
// (without .json) and its index there.
func forEachCorpusCase(t *testing.T, fn func(file string, i int, c corpusCase)) {
	files, err := filepath.Glob("../../../testdata/eval/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files under testdata/eval: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []corpusCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, c := range cases {
			fn(strings.TrimSuffix(filepath.Base(f), ".json"), i, c)
		}
	}
}

func compareCase(t *testing.T, client *iam.Client, c corpusCase, in *iam.SimulateCustomPolicyInput) {
	outs, _, err := evalinput.Evaluate(c.Request, evalinput.Options{})
	if err != nil {
		t.Fatalf("eval refused the request: %v", err)
	}
	want := outs[0]
	out, err := client.SimulateCustomPolicy(context.Background(), in)
	if err != nil {
		t.Fatalf("SimulateCustomPolicy: %v (eval decided %s)", err, want.Decision)
	}
	got := out.EvaluationResults[0]
	if string(got.EvalDecision) != want.Decision {
		t.Errorf("SimulateCustomPolicy decided %s, eval %s (blockedBy %v, matched %v)", got.EvalDecision, want.Decision, want.BlockedBy, want.MatchedStatements)
	}
	if g, w := folded(got.MissingContextValues), folded(want.MissingContextKeys); g != w {
		t.Errorf("missing context keys: SimulateCustomPolicy %s, eval %s", g, w)
	}
	// Matched statements by source: the simulator names policies, eval indexes them.
	var g, w []string
	for _, m := range got.MatchedStatements {
		g = append(g, aws.ToString(m.SourcePolicyId))
	}
	for _, m := range want.MatchedStatements {
		switch m.Layer {
		case authz.Identity.String():
			w = append(w, fmt.Sprintf("PolicyInputList.%d", m.Policy+1))
		case authz.PermissionsBoundary.String():
			w = append(w, "PermissionsBoundaryPolicyInputList.1")
		case authz.Resource.String():
			w = append(w, "ResourcePolicy")
		}
	}
	sort.Strings(g)
	sort.Strings(w)
	if strings.Join(g, ",") != strings.Join(w, ",") {
		t.Errorf("matched statements: SimulateCustomPolicy %v, eval %v", g, w)
	}
}

func folded(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.ToLower(k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// simulateInput expresses a corpus case as a SimulateCustomPolicy call, or says why
// it cannot.
func simulateInput(c corpusCase) (*iam.SimulateCustomPolicyInput, string) {
	if c.ExpectError != "" && c.Lenient == nil {
		return nil, "invalid input"
	}
	var r evalRequest
	dec := json.NewDecoder(bytes.NewReader(c.Request))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, "layers or options the simulator lacks"
	}
	if !strings.HasPrefix(r.Principal, "arn:aws:iam::") || !strings.Contains(r.Principal, ":user/") && !strings.Contains(r.Principal, ":role/") {
		return nil, "caller not a user or role"
	}
	// The simulator's ResourcePolicy is of the kind eval gives it by default.
	if r.ResourcePolicyType != "" && map[string]authz.ResourcePolicyKind{"resource": authz.ResourcePolicy, "trust": authz.TrustPolicy,
		"key": authz.KeyPolicy}[r.ResourcePolicyType] != authz.ResourceKindFor(r.Action, r.Resource) {
		return nil, "resource policy type other than the default"
	}
	in := &iam.SimulateCustomPolicyInput{CallerArn: aws.String(r.Principal), ActionNames: []string{r.Action}, ResourceArns: []string{r.Resource}}
	for _, p := range r.IdentityPolicies {
		if isNull(p) {
			return nil, "null policy"
		}
		in.PolicyInputList = append(in.PolicyInputList, string(p))
	}
	if len(in.PolicyInputList) == 0 {
		// PolicyInputList is required: an identity policy with no statement adds nothing.
		in.PolicyInputList = []string{`{"Version":"2012-10-17","Statement":[]}`}
	}
	if !isNull(r.PermissionsBoundary) {
		in.PermissionsBoundaryPolicyInputList = []string{string(r.PermissionsBoundary)}
	}
	if !isNull(r.ResourcePolicy) {
		in.ResourcePolicy = aws.String(string(r.ResourcePolicy))
	}
	if r.ResourceAccount != "" {
		// ResourceOwner owns only resources whose ARN names no account.
		if a := strings.SplitN(r.Resource, ":", 6); len(a) == 6 && a[4] != "" && a[4] != r.ResourceAccount {
			return nil, "resource account other than the ARN's"
		}
		in.ResourceOwner = aws.String("arn:aws:iam::" + r.ResourceAccount + ":root")
	}
	keys := make([]string, 0, len(r.Context))
	for k := range r.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e, ok := contextEntry(k, r.Context[k])
		if !ok {
			return nil, "context value the simulator cannot carry"
		}
		in.ContextEntries = append(in.ContextEntries, e)
	}
	return in, ""
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// contextEntry types a context value as its JSON form says: a string, a number
// (numeric), a boolean, or a list of one of them.
func contextEntry(key string, raw json.RawMessage) (types.ContextEntry, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return types.ContextEntry{}, false
	}
	scalar := func(v any) (string, types.ContextKeyTypeEnum, bool) {
		switch x := v.(type) {
		case string:
			return x, types.ContextKeyTypeEnumString, true
		case json.Number:
			return x.String(), types.ContextKeyTypeEnumNumeric, true
		case bool:
			return fmt.Sprint(x), types.ContextKeyTypeEnumBoolean, true
		}
		return "", "", false
	}
	e := types.ContextEntry{ContextKeyName: aws.String(key)}
	list, isList := v.([]any)
	if !isList {
		s, typ, ok := scalar(v)
		e.ContextKeyValues, e.ContextKeyType = []string{s}, typ
		return e, ok
	}
	if len(list) == 0 {
		return e, false
	}
	var typ types.ContextKeyTypeEnum
	for _, item := range list {
		s, t, ok := scalar(item)
		if !ok || typ != "" && t != typ {
			return e, false
		}
		typ = t
		e.ContextKeyValues = append(e.ContextKeyValues, s)
	}
	e.ContextKeyType = typ + "List"
	return e, true
}
