package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// TestOIDCCommands: `oidc token` prints or writes (0600) a token with the preset's
// and the flags' claims; `oidc jwks import` registers keys; `doctor
// assume-role-with-web-identity` fails, exit 1, on a token the role does not trust.
func TestOIDCCommands(t *testing.T) {
	s := servertest.Start(t, "")
	credsEnv(t, servertest.RootKeyID, servertest.RootSecret)
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(args, strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := run("", "oidc", "token", "--endpoint-url", s.URL, "--issuer", "https://gitlab.com",
		"--sub", "project_path:g/p:ref_type:branch:ref:main", "--claim", "user_login=alice", "--claim", `amr=["mfa"]`, "--ttl", "2m")
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	c, err := oidc.Peek(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.String("user_login"); v != "alice" {
		t.Fatal(c)
	}
	if v, _ := c.String("project_path"); v != "g/p" {
		t.Fatal(c)
	}
	if amr := c.Strings("amr"); len(amr) != 1 || amr[0] != "mfa" {
		t.Fatal(amr)
	}
	exp, _, _ := c.Time("exp")
	iat, _, _ := c.Time("iat")
	if exp-iat != 120 {
		t.Fatal(exp - iat)
	}

	file := filepath.Join(t.TempDir(), "token")
	if code, _, errOut := run("", "oidc", "token", "--endpoint-url", s.URL, "--issuer", "token.actions.githubusercontent.com",
		"--sub", "repo:o/r:ref:refs/heads/main", "--out", file); code != 0 {
		t.Fatal(errOut)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatal(st, err)
	}

	if code, _, errOut := run("", "oidc", "token", "--endpoint-url", s.URL, "--issuer", "x.example.com", "--sub", "s", "--claim", "nope"); code != 2 || !strings.Contains(errOut, "want NAME=VALUE") {
		t.Fatalf("%d %s", code, errOut)
	}

	// Import the public keys of the GitHub issuer as if they were another's.
	jwks, err := servertestJWKS(s.URL, "token.actions.githubusercontent.com")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(jwks, "oidc", "jwks", "import", "--endpoint-url", s.URL, "--issuer", "https://issuer.example.com", "-")
	if code != 0 || !strings.HasPrefix(out, "https://issuer.example.com: 1 key(s) imported") {
		t.Fatalf("%d %q %s", code, out, errOut)
	}

	// The doctor on a token of an issuer the account never registered.
	code, out, errOut = run("", "doctor", "assume-role-with-web-identity", "--endpoint-url", s.URL,
		"--role-arn", "arn:aws:iam::111111111111:role/none", "--web-identity-token", file, "--json")
	if code != 1 {
		t.Fatalf("%d %s %s", code, out, errOut)
	}
	var r struct {
		Checks []struct{ Check, Status, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ch := range r.Checks {
		if ch.Check == "identity provider" && ch.Status == "fail" && strings.Contains(ch.Detail, "No OpenIDConnect provider found in your account") {
			found = true
		}
	}
	if !found {
		t.Fatalf("%+v", r.Checks)
	}
}

// servertestJWKS reads an issuer's JWKS from the server.
func servertestJWKS(base, name string) (string, error) {
	resp, err := http.Get(base + oidc.PathPrefix + name + "/jwks")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
