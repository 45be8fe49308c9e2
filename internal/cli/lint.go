package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/policycheck"
	"github.com/spf13/cobra"
)

// lintKinds are the document types `lint --type` takes.
var lintKinds = map[string]policy.Kind{
	"identity": policy.Identity, "resource": policy.Resource, "trust": policy.Trust, "scp": policy.SCP,
	"rcp": policy.RCP, "endpoint": policy.Endpoint, "boundary": policy.Boundary, "session": policy.Session,
}

// lintFinding is one finding of `lint --json`: Access Analyzer's names for the type,
// code and message, and the place.
type lintFinding struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	Type      string `json:"findingType"`
	Code      string `json:"issueCode"`
	Message   string `json:"findingDetails"`
	Statement *int   `json:"statement,omitempty"`
	Sid       string `json:"sid,omitempty"`
	Path      string `json:"path,omitempty"`
}

func newLintCmd() *cobra.Command {
	var kind string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "lint FILE… [--type identity|resource|trust|scp|rcp|endpoint] [--json]",
		Short: "Check policy documents as the API doors do and against AWS's data",
		Long: `lint checks each policy document twice: as the API door that stores a policy of the
type does (IAM's CreatePolicy and PutRolePolicy, UpdateAssumeRolePolicy, Organizations'
CreatePolicy…), with the doors' messages; then against AWS's data — the service
authorization reference and the global condition keys — as IAM Access Analyzer's
policy validation does: services and actions that do not exist, condition keys that
no service defines or that the statement's actions do not carry, operators of the
wrong type for their key, resources that none of the statement's actions applies to.

Each finding is printed as FILE:LINE:COL: TYPE CODE: message, with Access Analyzer's
finding types (ERROR, SECURITY_WARNING, WARNING, SUGGESTION) and issue codes; a door's
refusal is an ERROR MalformedPolicyDocument. --json prints a JSON array. The exit
status is 1 when any finding is an ERROR, 2 when a file cannot be read, else 0. A
FILE of - reads standard input. docs/lint.md lists the checks.`,
		Example: `  iamlocal lint policy.json
  iamlocal lint --type trust trust.json
  iamlocal lint --type resource --json bucket-policy.json
  aws iam get-role-policy --role-name app --policy-name inline --query PolicyDocument | iamlocal lint -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, ok := lintKinds[kind]
			if !ok {
				return &exitError{2, fmt.Errorf("--type %q: want identity, resource, trust, scp, rcp or endpoint", kind)}
			}
			found := []lintFinding{}
			errs := 0
			for _, file := range args {
				doc, err := readLintFile(cmd.InOrStdin(), file)
				if err != nil {
					return &exitError{2, err}
				}
				for _, f := range policycheck.Lint(doc, k) {
					if f.Type == policycheck.Error {
						errs++
					}
					lf := lintFinding{File: file, Line: f.Pos.Line, Column: f.Pos.Column, Type: f.Type, Code: f.Code,
						Message: f.Message, Sid: f.Sid, Path: f.Path}
					if f.Statement >= 0 {
						st := f.Statement
						lf.Statement = &st
					}
					found = append(found, lf)
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(found); err != nil {
					return err
				}
			} else {
				for _, f := range found {
					fmt.Fprintf(out, "%s:%d:%d: %s %s: %s\n", f.File, f.Line, f.Column, f.Type, f.Code, f.Message)
				}
			}
			if errs > 0 {
				return &exitError{1, fmt.Errorf("%s in %s", plural(errs, "error"), strings.Join(args, ", "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kind, "type", "identity", "the document `TYPE`: identity, resource, trust, scp, rcp or endpoint (also boundary, session)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the findings as a JSON array")
	return cmd
}

func readLintFile(stdin io.Reader, file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(file)
}
