// Package cli holds iamlocal's cobra commands.
package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// exitError carries an exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// Main runs the command line and returns the process exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "iamlocal:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "iamlocal",
		Short: "AWS-compatible IAM, STS and Organizations with an explainable policy engine",
		Long: `iamlocal reproduces AWS's identity and cross-account access locally: the IAM policy
language and AWS's evaluation logic, explaining every decision.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newEvalCmd(), newServeCmd(), newRootKeyCmd(), newDecodeCmd(), newExecCmd(), newExportCmd(), newEachCmd(), newImdsCmd())
	root.AddCommand(newApplyCmd())
	root.AddCommand(newExplainCmd(), newDoctorCmd(), newGraphCmd())
	return root
}
