package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/store"
)

// Issue 13 item 11: `iamlocal version` and `--version` say what is running, and the
// schema version of a data directory.
func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"--version"}, nil, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "iamlocal ") ||
		!strings.Contains(out.String(), "data schema 1") || !strings.Contains(out.String(), "go1.") {
		t.Fatalf("--version: %d %q %q", code, out.String(), errOut.String())
	}
	dir := t.TempDir()
	st, err := store.OpenSQLite(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	out.Reset()
	if code := Main([]string{"version", "--data", dir}, nil, &out, &errOut); code != 0 {
		t.Fatalf("version: %d %s", code, errOut.String())
	}
	for _, want := range []string{"commit: ", "go: go1.", "data schema: 1\n", "data directory " + dir + ": schema 1\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version lacks %q:\n%s", want, out.String())
		}
	}
}
