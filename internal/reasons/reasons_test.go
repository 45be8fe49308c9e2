package reasons

import (
	"testing"

	"github.com/iamlocal/iamlocal/internal/policy"
)

func TestNames(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{LevelName(0, 3), "root level (0)"},
		{LevelName(1, 3), "OU level 1"},
		{LevelName(2, 3), "account level (2)"},
		{StatementName(0, ""), "statement 0"},
		{StatementName(2, "X"), `statement 2 (Sid "X")`},
		{Naming(policy.ByRole), "names the caller's role"},
		{Naming(policy.NoPrincipalMatch), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
