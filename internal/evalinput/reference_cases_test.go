package evalinput_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// knownDisagreements names cases (file/name) where the reference evaluator and the
// case file disagree and the case is believed wrong. Each entry says why; the case
// files are owned elsewhere and are not edited from here.
var knownDisagreements = map[string]string{}

// evalCase is one entry of a testdata/eval/*.json file.
type evalCase struct {
	Name        string                     `json:"name"`
	Source      string                     `json:"source"`
	Request     json.RawMessage            `json:"request"`
	Expect      *struct{ Decision string } `json:"expect"`
	ExpectError string                     `json:"expectError"`
}

// TestReferenceOnCases checks the naive reference evaluator against every decision
// case under testdata/eval, so that the reference is trusted before it judges the
// engine in FuzzEngineVsReference.
func TestReferenceOnCases(t *testing.T) {
	files, err := filepath.Glob("../../testdata/eval/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no case files under testdata/eval")
	}
	var checked, skipped int
	for _, file := range files {
		for _, c := range loadCases(t, file) {
			id := filepath.Base(file) + "/" + c.Name
			if c.ExpectError != "" || c.Expect == nil {
				continue
			}
			if why, ok := knownDisagreements[id]; ok {
				t.Logf("skipping %s: %s", id, why)
				skipped++
				continue
			}
			checked++
			checkCase(t, id, c)
		}
	}
	t.Logf("checked %d cases, skipped %d known disagreements", checked, skipped)
}

func loadCases(t *testing.T, file string) []evalCase {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cases []evalCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Errorf("%s: %v", file, err)
	}
	return cases
}

func checkCase(t *testing.T, id string, c evalCase) {
	t.Helper()
	var req map[string]any
	if err := json.Unmarshal(c.Request, &req); err != nil {
		t.Errorf("%s: request is not one JSON object: %v", id, err)
		return
	}
	got, err := referenceDecide(req)
	switch {
	case err != nil:
		t.Errorf("%s: reference error: %v\nrequest: %s", id, err, compact(c.Request))
	case got != c.Expect.Decision:
		t.Errorf("%s (%s): reference says %s, case expects %s\nrequest: %s",
			id, c.Source, got, c.Expect.Decision, compact(c.Request))
	}
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
