package evalinput_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iamlocal/iamlocal/internal/evalinput"
)

// engineCase is one case of testdata/eval: a request in the `iamlocal eval` format and
// the outcome AWS's documentation (or a documented choice) says it must have.
type engineCase struct {
	Name        string          `json:"name"`
	Source      string          `json:"source"`
	Request     json.RawMessage `json:"request"`
	ExpectError string          `json:"expectError"`
	// Lenient is, for a request whose policies a door refuses (ExpectError, checked
	// with --strict), the decision eval gives without --strict and a warning it lists.
	// Absent, the request is refused either way (invalid input, not a door's finding).
	Lenient *struct {
		Decision string `json:"decision"`
		Warning  string `json:"warning"`
	} `json:"lenient"`
	Expect *struct {
		Decision           string   `json:"decision"`
		BlockedBy          []string `json:"blockedBy"`
		MatchedSids        []string `json:"matchedSids"`
		MissingContextKeys []string `json:"missingContextKeys"`
	} `json:"expect"`
}

func loadEngineCases(t testing.TB) map[string][]engineCase {
	t.Helper()
	files, err := filepath.Glob("../../testdata/eval/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files under testdata/eval: %v", err)
	}
	all := map[string][]engineCase{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []engineCase
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all[filepath.Base(f)] = cases
	}
	return all
}

// TestCases runs every case of testdata/eval through the engine.
func TestCases(t *testing.T) {
	names := map[string]bool{}
	total := 0
	for file, cases := range loadEngineCases(t) {
		for _, c := range cases {
			if names[c.Name] {
				t.Errorf("%s: duplicate case name %q", file, c.Name)
			}
			names[c.Name] = true
			total++
			t.Run(strings.TrimSuffix(file, ".json")+"/"+c.Name, func(t *testing.T) { runEngineCase(t, c) })
		}
	}
	if total < 40 {
		t.Errorf("only %d cases under testdata/eval", total)
	}
}

func runEngineCase(t *testing.T, c engineCase) {
	if c.ExpectError != "" {
		runRefusedCase(t, c)
		return
	}
	outs, _, err := evalinput.Evaluate(c.Request, evalinput.Options{})
	if c.Expect == nil {
		t.Fatalf("case has neither expect nor expectError")
	}
	if err != nil {
		t.Fatalf("%s: %v", c.Source, err)
	}
	got := outs[0]
	if got.Decision != c.Expect.Decision {
		t.Errorf("%s: decision %s, want %s (blockedBy %v, matched %v)", c.Source, got.Decision, c.Expect.Decision, got.BlockedBy, got.MatchedStatements)
	}
	if c.Expect.BlockedBy != nil {
		if diff := cmp.Diff(sortedSet(c.Expect.BlockedBy, false), sortedSet(got.BlockedBy, false)); diff != "" {
			t.Errorf("%s: blockedBy (-want +got):\n%s", c.Source, diff)
		}
	}
	if c.Expect.MatchedSids != nil {
		var sids []string
		for _, m := range got.MatchedStatements {
			sids = append(sids, m.Sid)
		}
		if diff := cmp.Diff(sortedSet(c.Expect.MatchedSids, false), sortedSet(sids, false)); diff != "" {
			t.Errorf("%s: matched Sids (-want +got):\n%s", c.Source, diff)
		}
	}
	if c.Expect.MissingContextKeys != nil {
		if diff := cmp.Diff(sortedSet(c.Expect.MissingContextKeys, true), sortedSet(got.MissingContextKeys, true)); diff != "" {
			t.Errorf("%s: missingContextKeys (-want +got):\n%s", c.Source, diff)
		}
	}
}

// runRefusedCase checks a request refused with --strict, and what eval says without.
func runRefusedCase(t *testing.T, c engineCase) {
	_, _, err := evalinput.Evaluate(c.Request, evalinput.Options{Strict: true})
	if err == nil {
		t.Fatalf("%s: accepted with --strict, want an error containing %q", c.Source, c.ExpectError)
	}
	if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.ExpectError)) {
		t.Fatalf("%s: error %q does not contain %q", c.Source, err, c.ExpectError)
	}
	outs, _, err := evalinput.Evaluate(c.Request, evalinput.Options{})
	if c.Lenient == nil {
		if err == nil {
			t.Fatalf("%s: decided %s without --strict, want an error (or a lenient expectation)", c.Source, outs[0].Decision)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: without --strict: %v", c.Source, err)
	}
	got := outs[0]
	if got.Decision != c.Lenient.Decision {
		t.Errorf("%s: without --strict, decision %s, want %s", c.Source, got.Decision, c.Lenient.Decision)
	}
	var msgs []string
	for _, w := range got.Warnings {
		msgs = append(msgs, w.Message)
	}
	if !strings.Contains(strings.ToLower(strings.Join(msgs, "\n")), strings.ToLower(c.Lenient.Warning)) {
		t.Errorf("%s: warnings %q lack %q", c.Source, msgs, c.Lenient.Warning)
	}
}

func sortedSet(list []string, fold bool) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, s := range list {
		if fold {
			s = strings.ToLower(s)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
