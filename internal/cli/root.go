// Package cli holds iamlocal's cobra commands.
package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/spf13/cobra"
)

// exitError carries an exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func (e *exitError) Unwrap() error { return e.err }

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
	fmt.Fprintln(stderr, "iamlocal:", formatError(err))
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
		Long: `iamlocal reproduces AWS's identity and cross-account access locally: IAM, STS and
Organizations for a whole organization of accounts, thin S3 and EC2 planes, VPC
endpoints and instance metadata, all decided by one engine that follows AWS's policy
evaluation logic — and client commands that act across accounts and explain denials.

Start with:  iamlocal serve --demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newEvalCmd(), newServeCmd(), newRootKeyCmd(), newDecodeCmd(), newExecCmd(), newExportCmd(), newEachCmd(), newImdsCmd())
	root.AddCommand(newApplyCmd(), newOIDCCmd())
	root.AddCommand(newSAMLCmd(), newMFACmd())
	root.AddCommand(newExplainCmd(), newDoctorCmd(), newGraphCmd(), newLintCmd(), newVersionCmd())
	version, commit, goVersion := buildVersion()
	root.Version = fmt.Sprintf("%s (commit %s, %s, data schema %d)", version, commit, goVersion, store.SchemaVersion)
	root.SetVersionTemplate("iamlocal {{.Version}}\n")
	return root
}

// formatError makes an error one clear line: an AWS error as "CODE: message" without
// the SDK's transport details, and, for a denial, the iamlocal command that explains it.
func formatError(err error) string {
	if line := unreachable(err); line != "" {
		return line
	}
	msg := err.Error()
	var ae smithy.APIError
	i := strings.Index(msg, "operation error ")
	if !errors.As(err, &ae) || i < 0 {
		return msg // not from the SDK, or already worded by the command
	}
	prefix := msg[:i] // the command's own context, e.g. "assume arn:… (hop 1 of 1): "
	line := prefix + ae.ErrorCode() + ": " + ae.ErrorMessage()
	if strings.Contains(msg, "says why)") {
		return line + msg[strings.LastIndex(msg, " (`"):] // the command already added its hint
	}
	if hint := hintFor(ae); hint != "" {
		line += " (`" + hint + "` says why)"
	}
	return line
}

// unreachable words a failure to connect (after the SDK's retries) as one line: which
// endpoint could not be reached, and how to start a server there. "" for other errors.
func unreachable(err error) string {
	var ue *url.Error
	var op *net.OpError
	if !errors.As(err, &ue) || !errors.As(ue.Err, &op) || op.Op != "dial" {
		return ""
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil || u.Host == "" {
		return ""
	}
	endpoint := u.Scheme + "://" + u.Host
	why := op.Err.Error()
	var se *os.SyscallError
	if errors.As(op.Err, &se) {
		why = se.Err.Error()
	}
	if !strings.HasPrefix(u.Hostname(), "127.") && u.Hostname() != "localhost" && u.Hostname() != "::1" {
		return fmt.Sprintf("could not reach %s (%s)", endpoint, why)
	}
	return fmt.Sprintf("could not reach %s (%s): is iamlocal serve running? Start it with: iamlocal serve --addr %s", endpoint, why, u.Host)
}

// hintFor names the command that explains an AWS denial.
func hintFor(ae smithy.APIError) string {
	switch ae.ErrorCode() {
	case "UnauthorizedOperation":
		return "iamlocal decode -"
	case "AccessDenied", "AccessDeniedException":
		m := deniedMessage.FindStringSubmatch(ae.ErrorMessage())
		if m == nil {
			return ""
		}
		resource := strings.TrimSuffix(m[3], ".")
		if m[2] == "sts:AssumeRole" {
			return "iamlocal doctor assume-role --role-arn " + resource + " --principal " + m[1]
		}
		return "iamlocal doctor call --principal " + m[1] + " --action " + m[2] + " --resource " + resource
	}
	return ""
}
