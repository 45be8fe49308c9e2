package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/iamlocal/iamlocal/internal/imds"
	"github.com/spf13/cobra"
)

type imdsOptions struct {
	instanceID, roleArn string
	ecs                 bool
	addr, endpoint      string
	dataDir             string
	region, httpTokens  string
	hopLimit            int
	refresh             time.Duration
}

func newImdsCmd() *cobra.Command {
	var o imdsOptions
	cmd := &cobra.Command{
		Use:   "imds (--instance-id ID | --role-arn ARN [--ecs]) [--addr 127.0.0.1:1338] [--endpoint http://127.0.0.1:4577] [--data DIR]",
		Short: "Serve instance metadata (IMDSv1/v2) or ECS container credentials",
		Long: `imds serves EC2's instance metadata service for one instance launched through
iamlocal's EC2 plane: IMDSv2 session tokens, IMDSv1 when the instance allows it,
meta-data/ (instance-id, placement/region, iam/info, iam/security-credentials/…),
dynamic/instance-identity/document, and the instance profile role's credentials,
renewed before they expire. The instance is read again every --refresh, so
ModifyInstanceMetadataOptions and profile changes take effect.

--role-arn serves a role's credentials under the same paths for a synthetic instance
(the role must trust ec2.amazonaws.com); with --ecs, as ECS's container-credentials
endpoint instead (the role must trust ecs-tasks.amazonaws.com).

The metadata service asks the iamlocal server at --endpoint, over its loopback-only
internal API, with the secret the server keeps in its data directory: give
--data the DIR of "iamlocal serve --data DIR" (both default to .iamlocal). To serve
at AWS's address, as root:
  ip addr add 169.254.169.254/32 dev lo
  iamlocal imds --instance-id i-… --addr 169.254.169.254:80`,
		Example: `  iamlocal imds --instance-id i-0123456789abcdef0
  AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338 aws --endpoint-url http://127.0.0.1:4577 sts get-caller-identity
  iamlocal imds --ecs --role-arn arn:aws:iam::111111111111:role/task-role`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runImds(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.instanceID, "instance-id", "", "serve the metadata of instance `ID` (launched through iamlocal's EC2 plane)")
	f.StringVar(&o.roleArn, "role-arn", "", "serve the credentials of role `ARN` without an instance")
	f.BoolVar(&o.ecs, "ecs", false, "with --role-arn: serve ECS container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)")
	f.StringVar(&o.addr, "addr", "127.0.0.1:1338", "listen on `ADDR` (169.254.169.254:80 as root, once the address is on lo)")
	f.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:4577", "the iamlocal server's `URL` (its internal API answers loopback clients only)")
	f.StringVar(&o.dataDir, "data", ".iamlocal", "the server's data `DIR` (serve --data), which holds the internal API's secret")
	f.StringVar(&o.region, "region", "us-east-1", "with --role-arn: the synthetic instance's region")
	f.StringVar(&o.httpTokens, "http-tokens", "optional", "with --role-arn: the synthetic instance's HttpTokens (optional or required)")
	f.IntVar(&o.hopLimit, "hop-limit", 1, "with --role-arn: the synthetic instance's HttpPutResponseHopLimit (1-64)")
	f.DurationVar(&o.refresh, "refresh", imds.DefaultRefreshInterval, "read the instance again every `DURATION`")
	return cmd
}

func usageError(format string, a ...any) error {
	return &exitError{2, fmt.Errorf(format, a...)}
}

func runImds(ctx context.Context, out, errOut io.Writer, o imdsOptions) error {
	switch {
	case (o.instanceID == "") == (o.roleArn == ""):
		return usageError("give either --instance-id or --role-arn")
	case o.ecs && o.roleArn == "":
		return usageError("--ecs needs --role-arn")
	case o.instanceID != "" && !strings.HasPrefix(o.instanceID, "i-"):
		return usageError("--instance-id %q: an instance id starts with i-", o.instanceID)
	case o.refresh < 100*time.Millisecond:
		return usageError("--refresh %s: too short", o.refresh)
	}
	if o.roleArn != "" {
		if _, _, _, err := imds.ParseRoleArn(o.roleArn); err != nil {
			return usageError("--role-arn: %v", err)
		}
	}
	if u, err := url.Parse(o.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("--endpoint %q: want the server's URL, e.g. http://127.0.0.1:4577", o.endpoint)
	}
	token, err := imds.ReadToken(o.dataDir)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(errOut, nil))
	backend := &imds.Client{Endpoint: o.endpoint, Token: token}

	if o.roleArn != "" {
		// Instance mode reads the instance now; role modes only ask for credentials
		// when a client does, so check now that the server is there.
		pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := backend.Ping(pingCtx)
		cancel()
		if err != nil {
			return fmt.Errorf("%w (is iamlocal serve running at %s?)", err, o.endpoint)
		}
	}
	var handler http.Handler
	var metadata *imds.Server
	var ecs *imds.ECS
	if o.ecs {
		ecs, err = imds.NewECS(imds.ECSConfig{Backend: backend, RoleArn: o.roleArn, Log: log})
		handler = ecs
	} else {
		metadata, err = imds.New(ctx, imds.Config{Backend: backend, InstanceID: o.instanceID, RoleArn: o.roleArn,
			Region: o.region, HTTPTokens: o.httpTokens, HopLimit: o.hopLimit, RefreshInterval: o.refresh, Log: log})
		handler = metadata
	}
	if err != nil {
		var ae *imds.APIError
		switch {
		case errors.As(err, &ae):
			return err
		case o.roleArn != "":
			return usageError("%v", err) // a flag of the synthetic instance
		default:
			return fmt.Errorf("%w (is iamlocal serve running at %s?)", err, o.endpoint)
		}
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		if strings.HasPrefix(o.addr, "169.254.169.254") || strings.HasPrefix(o.addr, "169.254.170.2") {
			host, _, _ := net.SplitHostPort(o.addr)
			return fmt.Errorf("%w\n(as root, add the address to the loopback interface first: ip addr add %s/32 dev lo)", err, host)
		}
		return err
	}
	base := baseURL(ln.Addr())
	fmt.Fprintln(out, describeImds(o, metadata, base))
	region := o.region
	if metadata != nil {
		region = metadata.Instance().Region
	}
	fmt.Fprint(out, imdsEnvironment(base, ecs, region, o.endpoint))

	srv := imds.NewHTTPServer(handler)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if metadata != nil {
		go metadata.Run(ctx)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	fmt.Fprintln(errOut, "iamlocal imds: stopped")
	return nil
}

// imdsEnvironment is what a shell evaluates so that the AWS CLI v1 and v2, boto3 and
// aws-sdk-go-v2 take their credentials from this endpoint and nothing else:
//   - the metadata endpoint ends in "/": botocore appends "latest/api/token" to it;
//   - both region variables: boto3 reads only AWS_DEFAULT_REGION, the Go SDK AWS_REGION;
//   - every other source of credentials is unset, or the chain would stop there first
//     (AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE point at nothing for the same
//     reason, and AWS_EC2_METADATA_DISABLED would turn the metadata service off).
//
// AWS_ENDPOINT_URL sends SDKs and recent CLIs to iamlocal; the AWS CLI v2.9 that
// Debian ships ignores it and needs --endpoint-url, as the comment line says.
func imdsEnvironment(base string, ecs *imds.ECS, region, endpoint string) string {
	var b strings.Builder
	b.WriteString("Environment for the AWS CLI and SDKs (eval these lines in a shell):\n")
	if ecs != nil {
		fmt.Fprintf(&b, "  export AWS_CONTAINER_CREDENTIALS_FULL_URI=%s%s\n", base, ecs.Path())
		fmt.Fprintf(&b, "  export AWS_CONTAINER_AUTHORIZATION_TOKEN=%s\n", ecs.AuthToken())
	} else {
		fmt.Fprintf(&b, "  export AWS_EC2_METADATA_SERVICE_ENDPOINT=%s/\n", base)
		b.WriteString("  export AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv4\n")
	}
	fmt.Fprintf(&b, "  export AWS_REGION=%s\n  export AWS_DEFAULT_REGION=%s\n", region, region)
	fmt.Fprintf(&b, "  export AWS_ENDPOINT_URL=%s\n", strings.TrimRight(endpoint, "/"))
	b.WriteString("  export AWS_SHARED_CREDENTIALS_FILE=/dev/null\n  export AWS_CONFIG_FILE=/dev/null\n")
	b.WriteString("  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_EC2_METADATA_DISABLED AWS_CONTAINER_CREDENTIALS_RELATIVE_URI\n")
	fmt.Fprintf(&b, "  # the AWS CLI before v2.13 ignores AWS_ENDPOINT_URL: aws --endpoint-url %s …\n", strings.TrimRight(endpoint, "/"))
	return b.String()
}

// baseURL is the URL clients use for a listener: a wildcard address is reached on
// 127.0.0.1, and port 80 is left out.
func baseURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	if tcp.Port == 80 {
		if strings.Contains(host, ":") {
			return "http://[" + host + "]"
		}
		return "http://" + host
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}

func describeImds(o imdsOptions, md *imds.Server, base string) string {
	if md == nil {
		return fmt.Sprintf("iamlocal imds: ECS container credentials of %s on %s", o.roleArn, base)
	}
	inst := md.Instance()
	role := "no role"
	if inst.RoleName != "" {
		role = "role " + inst.RoleName
	}
	what := "instance " + inst.InstanceId
	if o.instanceID == "" {
		what = "synthetic instance " + inst.InstanceId + " for " + o.roleArn
	}
	return fmt.Sprintf("iamlocal imds: metadata of %s (%s, HttpTokens=%s, HttpEndpoint=%s) on %s",
		what, role, inst.HttpTokens, inst.HttpEndpoint, base)
}
