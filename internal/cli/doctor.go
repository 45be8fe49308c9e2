package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/spf13/cobra"
)

func newDoctorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor (assume-role | assume-role-with-web-identity | call) [flags]",
		Short: "Check every precondition of an AssumeRole or of a call, and say how to fix the one that fails",
		Long: `doctor checks, in order, what a call needs — with the same policy engine as the
server, on policies read through AWS's public APIs — and for each failure names the
statement that denies or the Allow that is missing, and gives a concrete fix: the
policy statement to add, as JSON, and the AWS CLI command that adds it. The exit status
is 1 when a check fails.`,
		Example: `  iamlocal doctor assume-role --role-arn arn:aws:iam::222222222222:role/audit --external-id x-1
  iamlocal doctor call --principal arn:aws:iam::222222222222:user/bob --action s3:GetObject --resource arn:aws:s3:::reports/q1.csv`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newDoctorAssumeRoleCmd(), newDoctorCallCmd(), newDoctorWebIdentityCmd(), newDoctorSAMLCmd())
	return cmd
}

func newDoctorAssumeRoleCmd() *cobra.Command {
	var rf readerFlags
	var f requestFlags
	var q explain.AssumeQuery
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "assume-role --role-arn ARN [--external-id X] [--principal ARN] [--duration D] [--json]",
		Short: "Check why a principal can or cannot assume a role",
		Long: `assume-role checks, in order: the principal may assume roles (not a root user), the
role exists, the principal's own identity policies allow sts:AssumeRole on it, the
role's trust policy names the principal, the ExternalId it asks for, the SCPs of the
principal's account and the RCPs of the role's account, the principal's permissions
boundary and session policies, the duration against the role's MaxSessionDuration,
and the one-hour limit of role chaining. The principal defaults to the caller
(sts:GetCallerIdentity).`,
		Example: `  iamlocal doctor assume-role --role-arn arn:aws:iam::222222222222:role/audit
  iamlocal doctor assume-role --role-arn arn:aws:iam::222222222222:role/audit --external-id x-1 \
      --principal arn:aws:iam::111111111111:user/alice --duration 2h
  iamlocal doctor assume-role --profile ci --role-arn arn:aws:iam::333333333333:role/deploy --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if q.RoleArn == "" {
				return &exitError{2, errors.New("--role-arn is required")}
			}
			if !explain.IsRoleArn(q.RoleArn) {
				return &exitError{2, fmt.Errorf("--role-arn %q: want arn:aws:iam::ACCOUNT:role/NAME", q.RoleArn)}
			}
			if q.Duration != 0 && (q.Duration < 15*time.Minute || q.Duration > 12*time.Hour) {
				return &exitError{2, fmt.Errorf("--duration %s: AssumeRole takes 15m to 12h", q.Duration)}
			}
			src, cfg, err := rf.source(cmd)
			if err != nil {
				return err
			}
			base, err := f.query(cfg)
			if err != nil {
				return err
			}
			q.Principal, q.Context, q.SessionPolicies, q.Region = f.principal, base.Context, base.SessionPolicies, cfg.Region
			r, err := explain.DoctorAssumeRole(cmd.Context(), src, q)
			if err != nil {
				return withHint(err)
			}
			return reportResult(cmd, r, asJSON)
		},
	}
	rf.add(cmd)
	f.add(cmd, false)
	fl := cmd.Flags()
	fl.StringVar(&q.RoleArn, "role-arn", "", "the role to assume (`ARN`, required)")
	fl.StringVar(&q.ExternalID, "external-id", "", "the ExternalId the call would pass")
	fl.DurationVar(&q.Duration, "duration", time.Hour, "the session duration the call would ask for")
	fl.StringVar(&q.SessionName, "session-name", "iamlocal-doctor", "the role session `NAME` the call would use")
	fl.BoolVar(&asJSON, "json", false, "print the checks as JSON")
	return cmd
}

func newDoctorCallCmd() *cobra.Command {
	var rf readerFlags
	var f requestFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "call --action ACTION --resource ARN [--principal ARN] [--context KEY=VALUE …] [--json]",
		Short: "Check, layer by layer, why a principal can or cannot make a call",
		Long: `call checks each policy layer of a call in turn — the SCPs of the principal's account,
the RCPs of the resource's account, the VPC endpoint policy, the resource's policy, the
principal's identity policies, permissions boundary and session policies — and for a
layer that denies or lacks an Allow, names the statement and gives the statement to add.
The principal defaults to the caller.`,
		Example: `  iamlocal doctor call --action s3:GetObject --resource arn:aws:s3:::reports/q1.csv
  iamlocal doctor call --principal arn:aws:iam::222222222222:role/app --action ec2:RunInstances --resource '*' \
      --context aws:RequestedRegion=eu-west-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.action == "" || f.resource == "" {
				return &exitError{2, errors.New("--action and --resource are required")}
			}
			src, cfg, err := rf.source(cmd)
			if err != nil {
				return err
			}
			q, err := f.query(cfg)
			if err != nil {
				return err
			}
			r, err := explain.DoctorCall(cmd.Context(), src, q)
			if err != nil {
				return withHint(err)
			}
			return reportResult(cmd, r, asJSON)
		},
	}
	rf.add(cmd)
	f.add(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the checks as JSON")
	return cmd
}

// reportResult prints a report and fails when a check failed.
func reportResult(cmd *cobra.Command, r *explain.Report, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		if err := printJSON(out, r); err != nil {
			return err
		}
	} else {
		explain.WriteReport(out, r, painter(out))
	}
	var names []string
	for _, c := range r.Failed() {
		if c.Name != "decision" {
			names = append(names, c.Name)
		}
	}
	switch {
	case len(names) > 0:
		return &exitError{1, fmt.Errorf("%s would be denied (%s): failed: %s", r.Action, r.Decision, strings.Join(names, ", "))}
	case len(r.Failed()) > 0:
		return &exitError{1, fmt.Errorf("%s would be denied (%s)", r.Action, r.Decision)}
	}
	return nil
}
