package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/evalinput"
	"github.com/spf13/cobra"
)

func newEvalCmd() *cobra.Command {
	var file string
	var asJSON, strict bool
	cmd := &cobra.Command{
		Use:   "eval [-f FILE|-] [--json]",
		Short: "Decide requests offline with the policy engine and explain each decision",
		Long: `eval reads one request, or a JSON array of requests, in the format of docs/eval.md:
a principal, an action, a resource, a context and the policies of every layer that
applies (identity, permissions boundary, session, resource, VPC endpoint, SCP and RCP
levels). It prints each decision — allowed, explicitDeny or implicitDeny — with the
layers that blocked it, the statements that applied and the context keys that were
missing.

Like the IAM policy simulator, eval decides documents that the API doors storing them
would refuse (a trust policy with a Resource, a resource policy without a Principal…),
giving each element AWS's documented meaning and listing every finding as a warning;
--strict refuses them instead. Invalid input (unparseable JSON, an element of the wrong
type, an unknown request field) exits with status 2; in an array, the bad request gets
an error entry in its place and the others are decided.`,
		Example: `  iamlocal eval -f examples/eval/cross-account-s3.json
  iamlocal eval --json < request.json
  echo '{"principal":"arn:aws:iam::111111111111:root","action":"s3:ListBucket","resource":"arn:aws:s3:::b"}' | iamlocal eval`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(cmd.InOrStdin(), file)
			if err != nil {
				return &exitError{2, err}
			}
			cases, array, err := evalinput.Parse(data, evalinput.Options{Now: time.Now(), Strict: strict})
			if err != nil {
				return &exitError{2, err}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				var outs []evalinput.Output
				for _, c := range cases {
					outs = append(outs, c.Output())
				}
				if err := writeJSON(out, outs, array); err != nil {
					return err
				}
			} else {
				for i, c := range cases {
					if i > 0 {
						fmt.Fprintln(out)
					}
					evalinput.WriteCase(out, c)
				}
			}
			return badRequests(cases)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "-", "read requests from `FILE` (- for standard input)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print decisions as JSON")
	cmd.Flags().BoolVar(&strict, "strict", false, "refuse policies that the doors storing them would refuse, instead of warning")
	return cmd
}

// badRequests is exit status 2 when some requests of a batch could not be read.
func badRequests(cases []*evalinput.Case) error {
	var errs []string
	for _, c := range cases {
		if c.Err != nil {
			errs = append(errs, c.Err.Error())
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &exitError{2, fmt.Errorf("%d of %d requests could not be read: %s", len(errs), len(cases), strings.Join(errs, "; "))}
}

func readInput(stdin io.Reader, file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(file)
}

func writeJSON(w io.Writer, outs []evalinput.Output, array bool) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if array {
		if outs == nil {
			outs = []evalinput.Output{}
		}
		return enc.Encode(outs)
	}
	return enc.Encode(outs[0])
}
