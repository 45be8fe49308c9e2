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
