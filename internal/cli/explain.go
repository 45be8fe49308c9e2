package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/spf13/cobra"
)

// readerFlags are the flags of the commands that read policies through AWS's APIs.
type readerFlags struct {
	client   broker.Options
	roleName string
}

func (f *readerFlags) add(cmd *cobra.Command) {
	addClientFlags(cmd, &f.client)
	cmd.Flags().StringVar(&f.roleName, "role-name", explain.DefaultRoleName, "the role `NAME` assumed to read another account of the organization")
}

// source loads the client configuration and returns a Source over it.
func (f *readerFlags) source(cmd *cobra.Command) (*explain.AWS, aws.Config, error) {
	cfg, err := broker.Load(cmd.Context(), f.client)
	if err != nil {
		return nil, cfg, err
	}
	return explain.NewAWS(cfg, f.roleName), cfg, nil
}

// requestFlags describe a request to explain or check.
type requestFlags struct {
	principal       string
	action          string
	resource        string
	resourceAccount string
	context         []string
	sourceVpce      string
	sessionPolicies []string
}

func (f *requestFlags) add(cmd *cobra.Command, withAction bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.principal, "principal", "", "the principal's `ARN`: a user, a role (a session of it), a role session or root (default: the caller)")
	if withAction {
		fl.StringVar(&f.action, "action", "", "the `ACTION`, such as s3:GetObject (required)")
		fl.StringVar(&f.resource, "resource", "", "the resource `ARN` (required; * for actions without one)")
		fl.StringVar(&f.resourceAccount, "resource-account", "", "the resource's account `ID` when its ARN has none (default: the bucket's owner, else the principal's)")
		fl.StringVar(&f.sourceVpce, "source-vpce", "", "the request comes through this VPC endpoint `ID`; its policy applies")
	}
	fl.StringArrayVar(&f.context, "context", nil, "a request context key, `KEY=VALUE` (repeat; a key repeated is multi-valued)")
	fl.StringArrayVar(&f.sessionPolicies, "session-policy", nil, "a session policy of the principal's session, from `FILE` (repeat)")
}

// query builds the explain query, checking the flags.
func (f *requestFlags) query(cfg aws.Config) (explain.Query, error) {
	q := explain.Query{Principal: f.principal, Action: f.action, Resource: f.resource, ResourceAccount: f.resourceAccount,
		SourceVpce: f.sourceVpce, Region: cfg.Region}
	var err error
	if q.Context, err = parseContext(f.context); err != nil {
		return q, err
	}
	q.SessionPolicies, err = readFiles(f.sessionPolicies)
	return q, err
}

func parseContext(pairs []string) (map[string][]string, error) {
	out := map[string][]string{}
	canonical := map[string]string{}
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, &exitError{2, fmt.Errorf("--context %q: want KEY=VALUE, such as aws:SourceIp=203.0.113.9", kv)}
		}
		lk := strings.ToLower(k)
		if c, seen := canonical[lk]; seen {
			k = c
		}
		canonical[lk] = k
		out[k] = append(out[k], v)
	}
	return out, nil
}

func readFiles(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, &exitError{2, err}
		}
		out = append(out, string(data))
	}
	return out, nil
}

// painter colours output on a terminal only, and not under NO_COLOR.
func painter(w io.Writer) explain.Painter {
	return explain.Painter{On: isTerminal(w) && os.Getenv("NO_COLOR") == ""}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// deniedMessage finds the parts of AWS's AccessDenied message.
var deniedMessage = regexp.MustCompile(`User: (\S+) is not authorized to perform: (\S+) on resource: (\S+)`)

// withHint adds to an error, when AWS denied a read, the command that explains why.
func withHint(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	if m := deniedMessage.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%w (`iamlocal doctor call --principal %s --action %s --resource %s` says why)", err, m[1], m[2], strings.TrimSuffix(m[3], "."))
	}
	return err
}

func newExplainCmd() *cobra.Command {
	var rf readerFlags
	var f requestFlags
	var asJSON bool
	var webToken string
	cmd := &cobra.Command{
		Use:   "explain --principal ARN --action ACTION --resource ARN [--context KEY=VALUE …] [--source-vpce ID] [--json]",
		Short: "Explain why a call is allowed or denied: every policy layer, policy and statement",
		Long: `explain reads, through AWS's public read APIs, every policy layer that applies to a
call — the identity policies of the user (and its groups) or role, its permissions
boundary, session policies given with --session-policy, the resource's policy (a role's
trust policy for sts:AssumeRole, a bucket's policy for S3), the SCP levels of the
principal's account and the RCP levels of the resource's account, the VPC endpoint's
policy with --source-vpce — and runs iamlocal's policy engine on them, locally. It
prints the decision as a tree: each layer, each policy by name and ARN, and for each
statement whether it applied or which element did not match and why (for a condition,
the request's value).

It works against iamlocal and against AWS itself. Other accounts of the organization
are read through --role-name (default OrganizationAccountAccessRole). Keys the request
would carry (aws:SourceIp, aws:MultiFactorAuthPresent…) are given with --context;
aws:CurrentTime, aws:SecureTransport=true and aws:RequestedRegion (the client's region)
are filled in. The exit status is 0 whatever the decision; see 'iamlocal doctor' for a
check that fails.`,
		Example: `  iamlocal explain --principal arn:aws:iam::222222222222:user/bob --action s3:GetObject --resource arn:aws:s3:::reports/q1.csv
  iamlocal explain --principal arn:aws:iam::222222222222:role/app --action sts:AssumeRole \
      --resource arn:aws:iam::333333333333:role/audit --context sts:ExternalId=x-1 --json
  iamlocal explain --action s3:PutObject --resource arn:aws:s3:::logs/x --context aws:SourceIp=203.0.113.9 --source-vpce vpce-0a1b2c3d`,
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
			if webToken != "" {
				if err := webIdentityQuery(cmd, src, &q, webToken); err != nil { // oidc.go
					return err
				}
			}
			c, err := explain.Gather(cmd.Context(), src, q)
			if err != nil {
				return withHint(err)
			}
			tree := explain.Build(c, c.Decide())
			if asJSON {
				return printJSON(cmd.OutOrStdout(), tree)
			}
			explain.WriteText(cmd.OutOrStdout(), tree, painter(cmd.OutOrStdout()))
			return nil
		},
	}
	rf.add(cmd)
	f.add(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tree as JSON")
	cmd.Flags().StringVar(&webToken, "web-identity-token", "", "explain sts:AssumeRoleWithWebIdentity with the token in `FILE`: its provider is the principal, its claims the condition keys")
	return cmd
}
