package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Issue 12: eval decides a document its door would refuse and lists the finding as a
// warning (--strict refuses it); in a batch, a bad request gets an error entry in its
// place and the others their decisions.
func TestEvalWarningsStrictAndBatch(t *testing.T) {
	trustWithResource := `{"principal":"arn:aws:iam::111111111111:user/alice","action":"sts:AssumeRole",
		"resource":"arn:aws:iam::111111111111:role/R","resourcePolicy":{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"sts:AssumeRole","Resource":"*"}]}}`
	var out, errOut bytes.Buffer
	if code := Main([]string{"eval", "--json"}, strings.NewReader(trustWithResource), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var one struct {
		Decision string
		Warnings []struct {
			Layer     string
			Policy    int
			Statement *int
			Message   string
		}
	}
	if err := json.Unmarshal(out.Bytes(), &one); err != nil {
		t.Fatal(err)
	}
	if one.Decision != "allowed" || len(one.Warnings) != 1 || one.Warnings[0].Layer != "resource" ||
		one.Warnings[0].Statement == nil || *one.Warnings[0].Statement != 0 || !strings.Contains(one.Warnings[0].Message, "Resource") {
		t.Fatalf("decision with warnings: %s", out.String())
	}
	out.Reset()
	errOut.Reset()
	if code := Main([]string{"eval", "--strict"}, strings.NewReader(trustWithResource), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "Resource") {
		t.Fatalf("--strict: exit %d: %s", code, errOut.String())
	}

	batch := `[` + trustWithResource + `, {"principal":"arn:aws:iam::111111111111:user/alice","action":"s3:GetObject"},
		{"principal":"arn:aws:iam::111111111111:root","action":"s3:ListBucket","resource":"arn:aws:s3:::b"}]`
	out.Reset()
	errOut.Reset()
	code := Main([]string{"eval", "--json"}, strings.NewReader(batch), &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "1 of 3 requests could not be read: request 1: resource: required") {
		t.Fatalf("batch: exit %d: %s", code, errOut.String())
	}
	var many []map[string]any
	if err := json.Unmarshal(out.Bytes(), &many); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(many) != 3 || many[0]["decision"] != "allowed" || many[2]["decision"] != "allowed" ||
		many[1]["field"] != "resource" || !strings.Contains(many[1]["error"].(string), "request 1: resource: required") || many[1]["decision"] != nil {
		t.Fatalf("batch entries: %s", out.String())
	}
	out.Reset()
	Main([]string{"eval"}, strings.NewReader(batch), &out, &errOut)
	if !strings.Contains(out.String(), "error: request 1: resource: required") || !strings.Contains(out.String(), "warning:  resource policy 0 statement 0: Resource") {
		t.Fatalf("text: %s", out.String())
	}
}

// Issue 14: eval lists what AWS's data says of a request's policies — with Access
// Analyzer's finding type and issue code and the value's path — beside the doors'
// findings, and decides the request as before.
func TestEvalWarnsOfAWSData(t *testing.T) {
	req := `{"principal":"arn:aws:iam::111111111111:user/alice","action":"s3:GetObject","resource":"arn:aws:s3:::b/k",
		"identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObjct","s3:GetObject"],"Resource":"arn:aws:s3:::b/*",
		"Condition":{"StringEquals":{"aws:SourceIpAddress":"203.0.113.9"}}}]}]}`
	var out, errOut bytes.Buffer
	if code := Main([]string{"eval", "--json"}, strings.NewReader(req), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got struct {
		Decision string
		Warnings []struct {
			Layer, Message, FindingType, IssueCode, Path string
			Statement                                    *int
		}
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	// The unknown key is absent from the request: StringEquals fails, nothing allows.
	if got.Decision != "implicitDeny" || len(got.Warnings) != 2 {
		t.Fatalf("%s", out.String())
	}
	w := got.Warnings[0]
	if w.Layer != "identity" || w.FindingType != "ERROR" || w.IssueCode != "INVALID_ACTION" || w.Path != "Statement[0].Action[0]" ||
		w.Statement == nil || *w.Statement != 0 || !strings.Contains(w.Message, "Did you mean s3:GetObject?") {
		t.Fatalf("first warning: %+v", w)
	}
	if got.Warnings[1].IssueCode != "INVALID_GLOBAL_CONDITION_KEY" {
		t.Fatalf("second warning: %+v", got.Warnings[1])
	}
	out.Reset()
	Main([]string{"eval"}, strings.NewReader(req), &out, &errOut)
	if !strings.Contains(out.String(), "warning:  identity policy 0 statement 0: ERROR INVALID_ACTION: The action s3:GetObjct does not exist. Did you mean s3:GetObject? (AWS's data)") {
		t.Fatalf("text: %s", out.String())
	}
}
