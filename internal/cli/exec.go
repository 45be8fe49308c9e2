package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/aws"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/spf13/cobra"
)

// assumeFlags are the flags of exec and export.
type assumeFlags struct {
	client     broker.Options
	assume     broker.AssumeOptions
	policyFile string
	endpoint   string // the endpoint the configuration resolved to, once loaded
}

func (f *assumeFlags) add(cmd *cobra.Command) {
	addClientFlags(cmd, &f.client)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.assume.RoleArns, "role-arn", nil, "assume role `ARN` (repeat to chain roles, in order)")
	fl.StringVar(&f.assume.ExternalID, "external-id", "", "the ExternalId the role's trust policy requires")
	fl.StringVar(&f.assume.SessionName, "session-name", "", "the role session `NAME` (default iamlocal-<time>)")
	fl.DurationVar(&f.assume.Duration, "duration", 0, "session duration, e.g. 1h (default the role's)")
	fl.StringVar(&f.assume.SourceIdentity, "source-identity", "", "set the session's SourceIdentity")
	fl.StringVar(&f.policyFile, "policy", "", "a session policy from `FILE` that narrows the session")
}

// credentials resolves the profile and assumes the roles, if any.
func (f *assumeFlags) credentials(cmd *cobra.Command) (*broker.Credentials, error) {
	if f.policyFile != "" {
		doc, err := os.ReadFile(f.policyFile)
		if err != nil {
			return nil, &exitError{2, err}
		}
		f.assume.Policy = string(doc)
	}
	cfg, err := broker.Load(cmd.Context(), f.client)
	if err != nil {
		return nil, err
	}
	f.endpoint = aws.ToString(cfg.BaseEndpoint)
	if len(f.assume.RoleArns) == 0 {
		return broker.Current(cmd.Context(), cfg) // the profile's own role_arn chain, if any
	}
	return broker.Assume(cmd.Context(), cfg, f.assume)
}

func newExecCmd() *cobra.Command {
	var f assumeFlags
	cmd := &cobra.Command{
		Use:   "exec [--profile P] --role-arn ARN [--role-arn ARN2 …] [flags] -- CMD ARGS…",
		Short: "Run a command with the credentials of an assumed role (or a chain of them)",
		Long: `exec assumes the role (each --role-arn in turn, each hop with the previous one's
credentials), then runs CMD with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION set and the rest of the environment
kept. CMD's exit status is iamlocal's. Without --role-arn it uses the profile's
credentials, including a profile's role_arn/source_profile chain as the AWS CLI reads it.`,
		Example: `  iamlocal exec --role-arn arn:aws:iam::222222222222:role/deploy --external-id acme -- aws s3 ls
  iamlocal exec --profile prod-admin -- terraform plan`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			creds, err := f.credentials(cmd)
			if err != nil {
				return err
			}
			warnEndpoint(cmd.Context(), cmd.ErrOrStderr(), f.endpoint, args)
			child := exec.CommandContext(cmd.Context(), args[0], args[1:]...)
			child.Env = childEnv(os.Environ(), f.endpoint, creds.Env()...)
			child.Stdin, child.Stdout, child.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			if err := child.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return &exitError{ee.ExitCode(), fmt.Errorf("%s exited with status %d", args[0], ee.ExitCode())}
				}
				return &exitError{127, err}
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func newExportCmd() *cobra.Command {
	var f assumeFlags
	var format string
	cmd := &cobra.Command{
		Use:   "export [--format env|json|credential-process] [flags]",
		Short: "Print the credentials of an assumed role as shell exports or JSON",
		Example: `  eval "$(iamlocal export --role-arn arn:aws:iam::222222222222:role/deploy)"
  # in ~/.aws/config:  credential_process = iamlocal export --format credential-process --role-arn …`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			creds, err := f.credentials(cmd)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch format {
			case "env":
				for _, kv := range creds.Env() {
					k, v, _ := strings.Cut(kv, "=")
					fmt.Fprintf(out, "export %s=%q\n", k, v)
				}
				return nil
			case "json", "credential-process":
				m := map[string]any{"AccessKeyId": creds.AccessKeyID, "SecretAccessKey": creds.SecretAccessKey,
					"SessionToken": creds.SessionToken}
				if !creds.Expiration.IsZero() {
					m["Expiration"] = creds.Expiration.UTC().Format(time.RFC3339)
				}
				if format == "credential-process" {
					m["Version"] = 1
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(m)
			}
			return &exitError{2, fmt.Errorf("--format %q: want env, json or credential-process", format)}
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&format, "format", "env", "`env`, json or credential-process")
	return cmd
}
