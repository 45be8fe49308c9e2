package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/iamlocal/iamlocal/internal/evalinput"
	"github.com/spf13/cobra"
)

func newEvalCmd() *cobra.Command {
	var file string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "eval [-f FILE|-] [--json]",
		Short: "Decide requests offline with the policy engine and explain each decision",
		Long: `eval reads one request, or a JSON array of requests, in the format of docs/eval.md:
a principal, an action, a resource, a context and the policies of every layer that
applies (identity, permissions boundary, session, resource, VPC endpoint, SCP and RCP
levels). It prints each decision — allowed, explicitDeny or implicitDeny — with the
layers that blocked it, the statements that applied and the context keys that were
missing. Invalid input exits with status 2.`,
		Example: `  iamlocal eval -f examples/eval/cross-account-s3.json
  iamlocal eval --json < request.json
  echo '{"principal":"arn:aws:iam::111111111111:root","action":"s3:ListBucket","resource":"arn:aws:s3:::b"}' | iamlocal eval`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(cmd.InOrStdin(), file)
			if err != nil {
				return &exitError{2, err}
			}
			cases, array, err := evalinput.Parse(data, evalinput.Options{Now: time.Now()})
			if err != nil {
				return &exitError{2, err}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				var outs []evalinput.Output
				for _, c := range cases {
					outs = append(outs, evalinput.NewOutput(c.Decide()))
				}
				return writeJSON(out, outs, array)
			}
			for i, c := range cases {
				if i > 0 {
					fmt.Fprintln(out)
				}
				evalinput.WriteText(out, c, c.Decide())
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "-", "read requests from `FILE` (- for standard input)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print decisions as JSON")
	return cmd
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
