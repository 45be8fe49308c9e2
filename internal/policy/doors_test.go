package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// doorCase is one document of a door corpus (testdata/doors): what AWS answers for
// it, MalformedPolicyDocument with exactly Error's message, or acceptance.
type doorCase struct {
	Name     string          `json:"name"`
	Source   string          `json:"source"`
	Document json.RawMessage `json:"document"`
	Error    string          `json:"error"`
	Accepted bool            `json:"accepted"`
}

// loadDoorCases reads a corpus; each document is sent as its compact JSON text.
func loadDoorCases(t *testing.T, name string) []doorCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "doors", name))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []doorCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	for i := range file.Cases {
		c := &file.Cases[i]
		var b bytes.Buffer
		if err := json.Compact(&b, c.Document); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		c.Document = b.Bytes()
		if c.Accepted == (c.Error != "") || c.Source == "" {
			t.Fatalf("%s: a case has a source and either an error or accepted", c.Name)
		}
	}
	if len(file.Cases) == 0 {
		t.Fatal("no cases")
	}
	return file.Cases
}

// TestManagedPolicyCorpus checks the grammar of CreatePolicy against AWS's answers:
// strictly, the first problem with AWS's message; leniently, the same problem among
// the findings (or a document that is no policy), and no finding where AWS accepts.
func TestManagedPolicyCorpus(t *testing.T) {
	for _, c := range loadDoorCases(t, "managed-policy.json") {
		t.Run(c.Name, func(t *testing.T) {
			_, err := ParseManaged(c.Document)
			lenient, lerr := ParseLenient(c.Document, Identity)
			if c.Accepted {
				if err != nil {
					t.Fatalf("AWS accepts %s; ParseManaged: %v", c.Document, err)
				}
				if lerr != nil || len(lenient.Findings) > 0 {
					t.Fatalf("AWS accepts %s; ParseLenient: %v %v", c.Document, lerr, lenient.Findings)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("AWS refuses %s with %q; ParseManaged: %v", c.Document, c.Error, err)
			}
			if pe.Message != c.Error {
				t.Fatalf("%s\n got %q (%v)\nwant %q", c.Document, pe.Message, pe, c.Error)
			}
			if c.Error == msgVersion {
				return // inline identity policies need no Version
			}
			if lerr != nil {
				if !errors.As(lerr, &pe) || pe.Message != c.Error {
					t.Fatalf("ParseLenient: %v, want a %q", lerr, c.Error)
				}
				return
			}
			for _, f := range lenient.Findings {
				if f.Message == c.Error {
					return
				}
			}
			t.Fatalf("ParseLenient's findings %v lack %q", lenient.Findings, c.Error)
		})
	}
}
