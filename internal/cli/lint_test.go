package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Issue 14's proof: a policy with a misspelled action and a wrong condition key gets
// both reported, each at its line and column, with Access Analyzer's codes; lint exits
// 1 on an ERROR.
func TestLintReportsTyposWithPositions(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main([]string{"lint", "../../examples/lint/typos.json"}, nil, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut.String())
	}
	want := "../../examples/lint/typos.json:9:9: ERROR INVALID_ACTION: The action s3:GetObjct does not exist. Did you mean s3:GetObject?\n" +
		"../../examples/lint/typos.json:18:11: ERROR INVALID_SERVICE_CONDITION_KEY: The condition key s3:ExistingObjectTags/team does not exist in the service s3. Use a valid condition key.\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if !strings.Contains(errOut.String(), "2 errors in ../../examples/lint/typos.json") {
		t.Fatalf("stderr: %s", errOut.String())
	}
}

func TestLintJSONStdinAndTypes(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b",
  "Condition":{"StringEquals":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}}]}`
	// As a bucket policy: no door finding, two warnings, exit 0.
	var out, errOut bytes.Buffer
	if code := Main([]string{"lint", "--type", "resource", "--json", "-"}, strings.NewReader(doc), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var found []map[string]any
	if err := json.Unmarshal(out.Bytes(), &found); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	var got []string
	for _, f := range found {
		got = append(got, strings.Join([]string{f["file"].(string), f["findingType"].(string), f["issueCode"].(string), f["path"].(string)}, " "))
	}
	want := []string{
		"- WARNING RESOURCE_NOT_FOR_STATEMENT_ACTIONS Statement[0].Resource",
		"- WARNING TYPE_MISMATCH Statement[0].Condition.StringEquals.aws:CurrentTime",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s\n%s", diff, out.String())
	}
	if found[1]["line"].(float64) != 2 || found[1]["statement"].(float64) != 0 {
		t.Fatalf("place: %v", found[1])
	}

	// As an identity policy (the default), the door refuses the Principal: exit 1.
	out.Reset()
	errOut.Reset()
	if code := Main([]string{"lint", "-"}, strings.NewReader(doc), &out, &errOut); code != 1 ||
		!strings.HasPrefix(out.String(), "-:1:56: ERROR MalformedPolicyDocument: Policy document should not specify a principal") {
		t.Fatalf("identity: exit %d: %s%s", code, out.String(), errOut.String())
	}

	// A trust policy of GitHub's OIDC provider: its keys are the provider's, no finding.
	out.Reset()
	if code := Main([]string{"lint", "--type", "trust", "../../examples/lint/trust-github.json"}, nil, &out, &errOut); code != 0 || out.Len() != 0 {
		t.Fatalf("trust: exit %d: %s", code, out.String())
	}
	out.Reset()
	if code := Main([]string{"lint", "--json", "../../examples/lint/trust-github.json"}, nil, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), `"issueCode": "MalformedPolicyDocument"`) {
		t.Fatalf("trust as identity: exit %d: %s", code, out.String())
	}

	// Not JSON: the door's refusal, where the JSON breaks. Unknown type, missing file: 2.
	out.Reset()
	if code := Main([]string{"lint", "-"}, strings.NewReader("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [}"), &out, &errOut); code != 1 ||
		!strings.HasPrefix(out.String(), "-:3:17: ERROR MalformedPolicyDocument: Syntax errors in policy") {
		t.Fatalf("not JSON: exit %d: %s", code, out.String())
	}
	if code := Main([]string{"lint", "--type", "bucket", "-"}, strings.NewReader(doc), &out, &errOut); code != 2 {
		t.Fatalf("--type bucket: exit %d", code)
	}
	if code := Main([]string{"lint", "no-such-file.json"}, nil, &out, &errOut); code != 2 {
		t.Fatalf("missing file: exit %d", code)
	}
}
