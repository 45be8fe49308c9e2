package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/iamlocal/iamlocal/internal/oidc"
	"github.com/spf13/cobra"
)

func newOIDCCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "oidc",
		Short: "Web identity tokens from iamlocal's built-in issuers, and the keys of real ones",
		Long: `iamlocal holds an issuer for every OIDC provider host an account registers
(CreateOpenIDConnectProvider) and for the providers AWS federates with built in
(accounts.google.com, cognito-identity.amazonaws.com). It signs tokens with the claims
the real issuer sends, so a trust policy copied from GitHub's, EKS's or GitLab's
documentation works unchanged, and it verifies tokens of a real issuer with the keys
you import. See docs/federation.md.`,
	}
	jwks := &cobra.Command{Use: "jwks", Short: "The verification keys of an issuer"}
	jwks.AddCommand(newJWKSImportCmd())
	cmd.AddCommand(newOIDCTokenCmd(), jwks)
	return cmd
}

func newOIDCTokenCmd() *cobra.Command {
	var client broker.Options
	var iss, sub, aud, out string
	var claims []string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "token --issuer ISSUER --sub SUBJECT [--aud AUDIENCE] [--claim NAME=VALUE]… [--ttl 10m] [--out FILE]",
		Short: "Mint a signed web identity token (JWT) of a built-in issuer",
		Long: `token asks the server to sign a token as ISSUER would: the claims of the issuer's
preset (derived from the subject), then --claim values over them. It authenticates with
your AWS credentials (profile, environment…); only principals allowed
iamlocal:MintWebIdentityToken on the issuer's provider ARN may mint — the root user and
administrators ("Action": "*").

Presets:
  token.actions.githubusercontent.com   sub repo:ORG/REPO:ref:refs/heads/BRANCH, repo:ORG/REPO:environment:NAME
                                        or repo:ORG/REPO:pull_request; aud sts.amazonaws.com; repository,
                                        repository_owner, ref, ref_type, environment, job_workflow_ref, actor,
                                        workflow, event_name, sha…
  oidc.eks.REGION.amazonaws.com/id/ID   sub system:serviceaccount:NAMESPACE:NAME; aud ["sts.amazonaws.com"];
                                        the kubernetes.io claim
  gitlab.com                            sub project_path:GROUP/PROJECT:ref_type:branch:ref:BRANCH;
                                        aud https://gitlab.com; namespace_path, project_path, ref, ref_protected…
  accounts.google.com                   a numeric sub; azp = sub; email
  cognito-identity.amazonaws.com        sub an identity id, aud an identity pool id, amr ["authenticated"]
  anything else                         iss, sub, aud (sts.amazonaws.com), iat, nbf, exp, jti

A --claim value that is a JSON array or object is decoded: --claim 'amr=["unauthenticated"]',
--claim 'https://aws.amazon.com/tags={"principal_tags":{"team":["infra"]},"transitive_tag_keys":["team"]}'.
--out writes the token to FILE (mode 0600) for AWS_WEB_IDENTITY_TOKEN_FILE or a profile's
web_identity_token_file.`,
		Example: `  iamlocal oidc token --endpoint-url http://127.0.0.1:4577 \
      --issuer token.actions.githubusercontent.com --sub repo:octo-org/octo-repo:ref:refs/heads/main --out token
  AWS_ROLE_ARN=arn:aws:iam::111111111111:role/deploy AWS_WEB_IDENTITY_TOKEN_FILE=token \
      aws --endpoint-url http://127.0.0.1:4577 sts get-caller-identity`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if iss == "" || sub == "" {
				return &exitError{2, errors.New("--issuer and --sub are required")}
			}
			extra := map[string]any{}
			for _, c := range claims {
				k, v, err := oidc.ParseClaimFlag(c)
				if err != nil {
					return &exitError{2, err}
				}
				extra[k] = v
			}
			if ttl < time.Second || ttl > oidc.MaxTTL {
				return &exitError{2, fmt.Errorf("--ttl %s: from 1s to %s", ttl, oidc.MaxTTL)}
			}
			cfg, err := loadIssuerConfig(cmd.Context(), client)
			if err != nil {
				return err
			}
			res, err := broker.MintWebIdentityToken(cmd.Context(), cfg, broker.TokenRequest{Issuer: iss, Subject: sub, Audience: aud, Claims: extra, TTL: ttl})
			if err != nil {
				return err
			}
			if out == "" {
				fmt.Fprintln(cmd.OutOrStdout(), res.Token)
				return nil
			}
			return writeSecretFile(out, []byte(res.Token+"\n"))
		},
	}
	addClientFlags(cmd, &client)
	fl := cmd.Flags()
	fl.StringVar(&iss, "issuer", "", "the issuer: `HOST[/PATH]` or https://HOST[/PATH] (token.actions.githubusercontent.com…)")
	fl.StringVar(&sub, "sub", "", "the token's subject `SUB`")
	fl.StringVar(&aud, "aud", "", "the audience `AUD` (default: the issuer preset's, usually sts.amazonaws.com)")
	fl.StringArrayVar(&claims, "claim", nil, "an extra claim `NAME=VALUE` (repeat; JSON arrays and objects are decoded)")
	fl.DurationVar(&ttl, "ttl", oidc.DefaultTTL, "how long the token is valid")
	fl.StringVar(&out, "out", "", "write the token to `FILE` (0600) instead of stdout")
	return cmd
}

func newJWKSImportCmd() *cobra.Command {
	var client broker.Options
	var iss string
	cmd := &cobra.Command{
		Use:   "import --issuer URL FILE",
		Short: "Register the public keys (JWKS) of a real issuer, to verify its tokens offline",
		Long: `import registers a JSON Web Key Set — what a real issuer serves at its jwks_uri, saved
to FILE ("-" for stdin) — as keys AssumeRoleWithWebIdentity verifies that issuer's tokens
with, beside the built-in issuer's own key. iamlocal never fetches keys from the network.
Importing again replaces the previous set. Only principals of the management account
allowed iamlocal:ImportWebIdentityKeys may: every account trusts the keys.`,
		Example: `  curl -s https://token.actions.githubusercontent.com/.well-known/jwks > github-jwks.json
  iamlocal oidc jwks import --endpoint-url http://127.0.0.1:4577 --issuer https://token.actions.githubusercontent.com github-jwks.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if iss == "" {
				return &exitError{2, errors.New("--issuer is required")}
			}
			var data []byte
			var err error
			if args[0] == "-" {
				data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			if _, err := oidc.ParseJWKS(data); err != nil {
				return &exitError{2, fmt.Errorf("%s: %w", args[0], err)}
			}
			cfg, err := loadIssuerConfig(cmd.Context(), client)
			if err != nil {
				return err
			}
			res, err := broker.ImportJWKS(cmd.Context(), cfg, iss, data)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d key(s) imported (%s)\n", res.Issuer, len(res.KeyIDs), strings.Join(res.KeyIDs, ", "))
			return nil
		},
	}
	addClientFlags(cmd, &client)
	cmd.Flags().StringVar(&iss, "issuer", "", "the issuer `URL` the keys belong to (https://HOST[/PATH])")
	return cmd
}

// loadIssuerConfig loads the client configuration; the issuers are iamlocal's, so an
// endpoint is required.
func loadIssuerConfig(ctx context.Context, opts broker.Options) (aws.Config, error) {
	cfg, err := broker.Load(ctx, opts)
	if err != nil {
		return cfg, err
	}
	if aws.ToString(cfg.BaseEndpoint) == "" {
		return cfg, &exitError{2, errors.New("no endpoint: give --endpoint-url (or AWS_ENDPOINT_URL) — the issuers are iamlocal's, not AWS's")}
	}
	return cfg, nil
}

// writeSecretFile writes data to path with mode 0600, replacing it atomically.
func writeSecretFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(0o600)
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
	}
	return werr
}

func newDoctorWebIdentityCmd() *cobra.Command {
	var rf readerFlags
	var q explain.WebIdentityQuery
	var tokenFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "assume-role-with-web-identity --role-arn ARN --web-identity-token FILE [--json]",
		Short: "Check why a web identity token can or cannot assume a role",
		Long: `assume-role-with-web-identity checks a token as STS does, in order: it is a signed JWT
(its claims are shown), its issuer is an OIDC provider of the role's account (or one AWS
federates with built in), it is within its lifetime, its audience (azp, else aud) is a
client id of the provider, its signature verifies with the issuer's keys (read from the
iamlocal server), and then the role's trust policy with the condition keys the token
gives — naming the condition that did not match, and the statement that would let the
token in. FILE is the token file ("-" for stdin), as AWS_WEB_IDENTITY_TOKEN_FILE names it.
Your credentials read the role and the provider.`,
		Example: `  iamlocal doctor assume-role-with-web-identity --endpoint-url http://127.0.0.1:4577 \
      --role-arn arn:aws:iam::111111111111:role/deploy --web-identity-token "$AWS_WEB_IDENTITY_TOKEN_FILE"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.RoleArn == "" || tokenFile == "" {
				return &exitError{2, errors.New("--role-arn and --web-identity-token are required")}
			}
			var data []byte
			var err error
			if tokenFile == "-" {
				data, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
			} else {
				data, err = os.ReadFile(tokenFile)
			}
			if err != nil {
				return err
			}
			q.Token = strings.TrimSpace(string(data))
			src, _, err := rf.source(cmd)
			if err != nil {
				return err
			}
			r, err := explain.DoctorAssumeRoleWithWebIdentity(cmd.Context(), src, q)
			if err != nil {
				return withHint(err)
			}
			return reportResult(cmd, r, asJSON)
		},
	}
	rf.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&q.RoleArn, "role-arn", "", "the role to assume (`ARN`, required)")
	fl.StringVar(&tokenFile, "web-identity-token", "", "the token's `FILE` (\"-\": stdin)")
	fl.StringVar(&q.ProviderID, "provider-id", "", "www.amazon.com or graph.facebook.com, for their OAuth 2.0 access tokens")
	fl.StringVar(&q.SessionName, "session-name", "iamlocal-doctor", "the role session `NAME` the call would use")
	fl.DurationVar(&q.Duration, "duration", time.Hour, "the session duration the call would ask for")
	fl.BoolVar(&asJSON, "json", false, "print the checks as JSON")
	return cmd
}

// webIdentityQuery fills an explain query from a web identity token: the provider as
// principal, sts:AssumeRoleWithWebIdentity when no action was given, and the token's
// condition keys under any --context.
func webIdentityQuery(cmd *cobra.Command, src *explain.AWS, q *explain.Query, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return &exitError{2, err}
	}
	principal, keys, err := explain.WebIdentityRequest(cmd.Context(), src, explain.ArnAccount(q.Resource), string(data))
	if err != nil {
		return &exitError{2, fmt.Errorf("--web-identity-token %s: %w", file, err)}
	}
	if q.Principal == "" {
		q.Principal = principal
	}
	ctx := map[string][]string{}
	for k, v := range keys {
		ctx[k] = v
	}
	for k, v := range q.Context {
		ctx[k] = v
	}
	q.Context = ctx
	return nil
}
