package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/servertest"
)

// A new user's report: apply --dry-run of examples/world.yaml against `serve --demo`
// failed (the demo's dev account has another email) and then claimed changes were
// made. A dry run never says it changed anything, and the example says at its top
// that it is not for the demo world.
func TestApplyDryRunAgainstDemo(t *testing.T) {
	s := servertest.Start(t, "")
	if err := runDemo(t.Context(), io.Discard, s.URL, servertest.RootKeyID, servertest.RootSecret, servertest.Account); err != nil {
		t.Fatal(err)
	}
	applyAdmin(t, s)
	world := filepath.Join("..", "..", "examples", "world.yaml")
	code, out, errOut := runApply(t, "-f", world, "--endpoint-url", s.URL, "--dry-run", "--data", t.TempDir())
	if code != 1 || !strings.Contains(errOut, `is named "dev" with email dev@demo.iamlocal, and apply cannot change either`) {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, "made before the error") || strings.Contains(out, "kept") || !strings.Contains(out, "planned before the error (dry run: nothing was changed)") {
		t.Fatalf("a dry run claims changes:\n%s", out)
	}
	for _, f := range []string{world, "../../examples/apply/1-automate-from-main.yaml", "../../examples/apply/4-discover-accounts.yaml"} {
		head, err := os.ReadFile(f)
		if err != nil || !strings.HasPrefix(string(head), "# Not for `iamlocal serve --demo`") {
			t.Errorf("%s does not say at its top that it is not for the demo world", f)
		}
	}
}

// Without --credentials-file, new keys of a relative credentialsFile go to the
// user's config directory when there is no data directory — never beside the YAML
// file — mode 0600, and apply prints where.
func TestApplyCredentialsOutsideTheTree(t *testing.T) {
	s := servertest.Start(t, "")
	applyAdmin(t, s)
	dir := t.TempDir()
	path := filepath.Join(dir, "world.yaml")
	if err := os.WriteFile(path, []byte(applyWorld), 0o644); err != nil {
		t.Fatal(err)
	}
	config := t.TempDir()
	t.Setenv("IAMLOCAL_TEST_CONFIG", "1")
	t.Setenv("XDG_CONFIG_HOME", config)
	code, out, errOut := runApply(t, "-f", path, "--endpoint-url", s.URL, "--data", filepath.Join(dir, "no-such-dir"))
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	want := filepath.Join(config, "iamlocal", "credentials", "creds")
	st, err := os.Stat(want)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file %s: %v %v", want, err, st)
	}
	if !strings.Contains(out, "new access keys are in the credentials file "+want+" (mode 0600)") {
		t.Fatalf("apply does not say where the keys are:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "creds")); err == nil {
		t.Fatal("keys were written beside the YAML file")
	}
}
