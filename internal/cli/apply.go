package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/apply"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/spf13/cobra"
)

func newApplyCmd() *cobra.Command {
	var (
		opts     broker.Options
		file     string
		credFile string
		dataDir  string
		dryRun   bool
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE [--dry-run] [--credentials-file FILE] [flags]",
		Short: "Create or update an organization, its accounts, IAM entities, SCPs/RCPs and buckets from a YAML file",
		Long: `apply makes the organization described in FILE exist, idempotently, through the public
AWS APIs only (Organizations, IAM, STS, S3): OUs, member accounts (found by email or
name, else created), users with access keys, groups and their members, roles with their
trust, inline and managed policies and permissions boundaries, customer managed
policies, SCPs and RCPs with their targets, and S3 buckets with their policies.

It runs with the credentials of an IAM user or role of the management account with
administrator rights (not the root user: AWS forbids the root user to assume roles,
and apply acts in member accounts by assuming OrganizationAccountAccessRole there, or
the role an account's role: names).

Every change is printed as it is made; a second apply of the same file prints
"no changes". With --dry-run it prints the plan and changes nothing. What "update"
means for each kind, the file's schema and a complete example: docs/apply.md.

New access keys are written to the credentials file, mode 0600, one profile per user:
AWS shows a secret only once, so only keys created in this run can be written. The
file is --credentials-file FILE, or credentialsFile: in FILE, which (when relative)
goes under DIR/credentials/ of the server's data directory (--data, when it exists)
or else under the user's config directory (~/.config/iamlocal/credentials/ on Linux)
— never next to the YAML file, which is often in a git repository.

The file is checked before any call: faults are reported as FILE:LINE: FIELD: problem,
policies are validated (MalformedPolicyDocument at the statement and element), and
unknown fields are errors. Exit status: 0 done (or planned), 2 a fault in the file or
the flags, 1 a failed call (changes made before it are kept; run apply again).`,
		Example: `  # once, as the root user: the administrator apply runs as (management account only)
  iamlocal apply -f examples/apply/bootstrap.yaml --credentials-file admin-credentials --endpoint-url http://127.0.0.1:4577
  export AWS_SHARED_CREDENTIALS_FILE=admin-credentials AWS_PROFILE=iamlocal-admin

  # as that admin user; first the plan, then the changes
  iamlocal apply -f examples/world.yaml --dry-run --endpoint-url http://127.0.0.1:4577
  iamlocal apply -f examples/world.yaml --credentials-file .iamlocal/world-credentials --endpoint-url http://127.0.0.1:4577

  # the keys of the users it created, as profiles
  AWS_SHARED_CREDENTIALS_FILE=.iamlocal/world-credentials aws --profile automation sts get-caller-identity

  # the plan as JSON
  iamlocal apply -f world.yaml --dry-run --json | jq '.changes[] | select(.op == "delete")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return &exitError{2, errors.New("give the file to apply with -f FILE (- for standard input)")}
			}
			w, err := apply.Load(file, cmd.InOrStdin())
			if err != nil {
				var list apply.Errors
				if errors.As(err, &list) {
					if len(list) == 1 {
						return &exitError{2, list[0]}
					}
					for _, e := range list {
						fmt.Fprintln(cmd.ErrOrStderr(), e)
					}
					return &exitError{2, fmt.Errorf("%d faults in %s", len(list), file)}
				}
				return &exitError{2, err}
			}
			cfg, err := broker.Load(cmd.Context(), opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			color := isTerminal(out) && !asJSON
			if dryRun && !asJSON {
				fmt.Fprintf(out, "plan for %s (dry run: nothing is changed)\n", w.File)
			}
			secrets, err := secretsDir(dataDir)
			if err != nil {
				return err
			}
			res, runErr := apply.Run(cmd.Context(), cfg, w, apply.Options{
				DryRun:          dryRun,
				CredentialsFile: credFile,
				SecretsDir:      secrets,
				Report: func(c apply.Change) {
					if !asJSON {
						fmt.Fprintln(out, paint(c, color))
					}
				},
				Note: func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), "note:", s) },
			})
			if asJSON {
				doc := struct {
					File    string         `json:"file"`
					DryRun  bool           `json:"dryRun"`
					Changes []apply.Change `json:"changes"`
					Keys    []apply.Key    `json:"keys"`
					Error   string         `json:"error,omitempty"`
				}{File: w.File, DryRun: dryRun, Changes: res.Changes, Keys: res.Keys}
				if doc.Changes == nil {
					doc.Changes = []apply.Change{}
				}
				if doc.Keys == nil {
					doc.Keys = []apply.Key{}
				}
				if runErr != nil {
					doc.Error = runErr.Error()
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(doc); err != nil {
					return err
				}
			}
			if runErr != nil {
				var fe *apply.Error
				if errors.As(runErr, &fe) && fe.Err == nil { // a fault of the file or the flags, found before any change
					return &exitError{2, runErr}
				}
				switch n := len(res.Changes); {
				case n == 0 || asJSON:
				case dryRun: // a dry run changed nothing, whatever it planned
					fmt.Fprintf(out, "%s planned before the error (dry run: nothing was changed)\n", plural(n, "change"))
				default:
					fmt.Fprintf(out, "%s made before the error (they are kept: fix the fault and apply again)\n", plural(n, "change"))
				}
				return fmt.Errorf("%w%s", runErr, applyHint(runErr))
			}
			if asJSON {
				return nil
			}
			switch n := len(res.Changes); {
			case n == 0:
				fmt.Fprintln(out, "no changes")
			case dryRun:
				fmt.Fprintf(out, "%s planned (dry run: nothing was changed)\n", plural(n, "change"))
			default:
				fmt.Fprintf(out, "%s made\n", plural(n, "change"))
			}
			if len(res.Keys) > 0 {
				var profiles []string
				for _, k := range res.Keys {
					profiles = append(profiles, k.Profile)
				}
				fmt.Fprintf(out, "new access keys are in the credentials file %s (mode 0600), profiles %s (their secrets are not shown again)\n", res.CredentialsFile, strings.Join(profiles, ", "))
			}
			return nil
		},
	}
	addClientFlags(cmd, &opts)
	fl := cmd.Flags()
	fl.StringVarP(&file, "file", "f", "", "the YAML `FILE` to apply (- for standard input)")
	fl.BoolVar(&dryRun, "dry-run", false, "print the plan (create/update/delete lines) and change nothing")
	fl.StringVar(&credFile, "credentials-file", "", "write new access keys to `FILE` (AWS shared-credentials format, mode 0600); overrides credentialsFile: in the file")
	fl.StringVar(&dataDir, "data", ".iamlocal", "the server's data `DIR` (serve --data): a relative credentialsFile goes under DIR/credentials/ when DIR exists")
	fl.BoolVar(&asJSON, "json", false, "print the changes (and new key ids, never secrets) as JSON")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
	_ = cmd.MarkFlagFilename("credentials-file")
	return cmd
}

// secretsDir is where a relative credentialsFile goes: beside the server's state
// when its data directory is here, else in the user's config directory.
func secretsDir(dataDir string) (string, error) {
	if st, err := os.Stat(dataDir); err == nil && st.IsDir() {
		return filepath.Join(dataDir, "credentials"), nil
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no place for new access keys: %w (give --credentials-file FILE)", err)
	}
	return filepath.Join(cfg, "iamlocal", "credentials"), nil
}

// paint colours a change by its operation, on a terminal.
func paint(c apply.Change, color bool) string {
	s := c.String()
	if !color {
		return s
	}
	code := map[string]string{"create": "32", "update": "33", "delete": "31"}[c.Op]
	if code == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// applyHint points at what explains a failed call.
func applyHint(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	switch code := ae.ErrorCode(); {
	case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation":
		return " (apply needs administrator rights in the management account and in each member account's role; `iamlocal decode` explains an encoded authorization message)"
	case code == "MalformedPolicyDocument" || code == "MalformedPolicyDocumentException":
		return " (the policy passed iamlocal's local check but not the service's: see the message for the element)"
	}
	return ""
}
