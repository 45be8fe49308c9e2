package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/spf13/cobra"
)

func newGraphCmd() *cobra.Command {
	var rf readerFlags
	var format, to string
	cmd := &cobra.Command{
		Use:   "graph [--format text|dot|mermaid|json] [--to ROLE_ARN]",
		Short: "Show who can assume which role across the organization's accounts",
		Long: `graph reads every account of the organization (through --role-name, default
OrganizationAccountAccessRole; the caller's account alone outside an organization) with
GetAccountAuthorizationDetails and decides, with iamlocal's policy engine, which user or
role may assume which role: the role's trust policy, and the principal's identity
policies, permissions boundary and SCPs, and the RCPs of the role's account. Conditions a
request can meet — an ExternalId, a source IP, MFA, a session name — are shown on the
edge; conditions on who the principal is are decided. Principals a trust policy names
outside the accounts read (other accounts, services, "*") appear as external nodes:
only the role's side is decided for them.

Identity providers are nodes too: every OIDC and SAML provider of the accounts read,
and every Federated principal a trust policy names (accounts.google.com,
cognito-identity.amazonaws.com, other accounts' providers). A provider has an edge to a
role for each trust statement that lets its users in with sts:AssumeRoleWithWebIdentity
or sts:AssumeRoleWithSAML, labelled with the claims the statement asks for
("sub: repo:octo-org/octo-repo:*", "aud: sts.amazonaws.com"). A provider STS would
never let through — not registered in its account, or an OIDC provider of another
account than the role's — has no edge, and a warning says why.

With --to, it shows which principals can reach that role, directly or through a chain
of roles, each by its shortest chain.`,
		Example: `  iamlocal graph
  iamlocal graph --format dot | dot -Tsvg > roles.svg
  iamlocal graph --format mermaid --to arn:aws:iam::222222222222:role/prod-admin
  iamlocal graph --format json --role-name audit-reader`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(explain.GraphFormats, format) {
				return &exitError{2, fmt.Errorf("--format %q: want %s", format, strings.Join(explain.GraphFormats, ", "))}
			}
			src, cfg, err := rf.source(cmd)
			if err != nil {
				return err
			}
			g, err := explain.BuildGraph(cmd.Context(), src, explain.GraphOptions{Region: cfg.Region})
			if err != nil {
				return withHint(err)
			}
			if to != "" {
				if g, err = g.To(to); err != nil {
					return &exitError{2, err}
				}
			}
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				return printJSON(out, g)
			case "dot":
				explain.WriteDot(out, g)
			case "mermaid":
				explain.WriteMermaid(out, g)
			default:
				explain.WriteGraphText(out, g, painter(out))
			}
			for _, w := range g.Warnings {
				if format != "text" && format != "json" {
					fmt.Fprintln(cmd.ErrOrStderr(), "iamlocal: warning:", w)
				}
			}
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output `FORMAT`: text, dot, mermaid or json")
	cmd.Flags().StringVar(&to, "to", "", "show only who can reach this role (`ROLE_ARN`), and how")
	return cmd
}
