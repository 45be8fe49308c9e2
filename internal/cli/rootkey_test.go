package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/server"
)

func TestRootKey(t *testing.T) {
	dir := t.TempDir()
	st, _, _, err := server.Open(context.Background(), server.Config{DataDir: dir, AccountID: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	var out, errOut bytes.Buffer
	if code := Main([]string{"root-key", "--data", dir, "--account-id", "111111111111"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "aws_access_key_id = AKIA") {
		t.Fatalf("output %q", out.String())
	}
	if code := Main([]string{"root-key", "--data", dir, "--account-id", "999999999999"}, nil, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "does not exist") {
		t.Fatalf("unknown account: exit %d: %s", code, errOut.String())
	}
}
