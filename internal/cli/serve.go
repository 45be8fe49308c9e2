package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/server"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	var addr, dataDir, accountID, region string
	var demo bool
	var cpuProfile, endpointPorts, logRequests string
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:4577] [--data DIR] [--account-id 000000000000]",
		Short: "Serve IAM, STS, Organizations, S3 and EC2 for the AWS CLI and SDKs",
		Long: `serve runs the AWS-compatible server. State lives in DIR (an embedded SQLite
database); restarting on the same DIR keeps everything, sessions included.

The management account's root user is the bootstrap identity. Its access key comes
from IAMLOCAL_ROOT_ACCESS_KEY_ID / IAMLOCAL_ROOT_SECRET_ACCESS_KEY when set; otherwise
it is generated on first start, printed once and written to DIR/root-credentials.

Each VPC endpoint gets a loopback listener of its own (DnsName localhost:PORT), on a
free port the system picks, or on the first free port of --endpoint-ports
(IAMLOCAL_ENDPOINT_PORTS); an endpoint keeps its port across restarts.

--log-requests (or --log-requests=json) writes one line per request to stderr: time,
request id, principal ARN (or anonymous), action, decision (allowed, denied with the
blocking policy layers when the engine said no), HTTP status and latency. Never keys,
secrets, session tokens or signatures.`,
		Example: `  iamlocal serve --data ./.iamlocal
  AWS_SHARED_CREDENTIALS_FILE=.iamlocal/root-credentials aws --endpoint-url http://127.0.0.1:4577 sts get-caller-identity`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
			opts := serveOptions{demo: demo, logRequests: logRequests}
			if logRequests != "" && logRequests != "text" && logRequests != "json" {
				return &exitError{2, fmt.Errorf("--log-requests=%q: want text or json", logRequests)}
			}
			if !cmd.Flags().Changed("endpoint-ports") {
				endpointPorts = os.Getenv("IAMLOCAL_ENDPOINT_PORTS")
			}
			if endpointPorts != "" {
				r, err := server.ParsePortRange(endpointPorts)
				if err != nil {
					return &exitError{2, fmt.Errorf("--endpoint-ports: %w", err)}
				}
				opts.endpointPorts = r
			}
			return serve(ctx, cmd, addr, server.Config{DataDir: dataDir, AccountID: accountID, Region: region,
				RootAccessKeyID: os.Getenv("IAMLOCAL_ROOT_ACCESS_KEY_ID"), RootSecretAccessKey: os.Getenv("IAMLOCAL_ROOT_SECRET_ACCESS_KEY")}, opts)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:4577", "listen on `ADDR`")
	cmd.Flags().StringVar(&dataDir, "data", ".iamlocal", "keep state in `DIR`")
	cmd.Flags().StringVar(&accountID, "account-id", "000000000000", "the management account's `ID`")
	cmd.Flags().StringVar(&region, "region", "us-east-1", "the region iamlocal reports")
	cmd.Flags().BoolVar(&demo, "demo", false, "create a sample organization on first start")
	cmd.Flags().StringVar(&endpointPorts, "endpoint-ports", "", "give VPC endpoint listeners the first free port of `FIRST-LAST` (default: any free port; also IAMLOCAL_ENDPOINT_PORTS)")
	cmd.Flags().StringVar(&logRequests, "log-requests", "", "log one line per request to stderr, as `text` or json (--log-requests=json)")
	cmd.Flags().Lookup("log-requests").NoOptDefVal = "text"
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE` until shutdown (performance work)")
	return cmd
}

// serveOptions are serve's flags beyond the data directory's configuration.
type serveOptions struct {
	demo          bool
	endpointPorts server.PortRange
	logRequests   string // "", text or json
}

func serve(ctx context.Context, cmd *cobra.Command, addr string, cfg server.Config, opts serveOptions) error {
	if len(cfg.AccountID) != 12 {
		return &exitError{2, fmt.Errorf("--account-id %q: an account id has 12 digits", cfg.AccountID)}
	}
	if (cfg.RootAccessKeyID == "") != (cfg.RootSecretAccessKey == "") {
		return &exitError{2, errors.New("set both IAMLOCAL_ROOT_ACCESS_KEY_ID and IAMLOCAL_ROOT_SECRET_ACCESS_KEY, or neither")}
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	if os.Getenv("GOGC") == "" {
		// The live heap is small (tens of MB even with 200,000 roles): collecting less
		// often buys throughput for little memory.
		debug.SetGCPercent(400)
	}
	cfg.Log = log
	st, ring, boot, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	env := &service.Env{Store: st, Ring: ring, Resolver: &directory.Resolver{Policies: directory.NewPolicies()},
		Region: cfg.Region, ManagementAccount: cfg.AccountID, DataDir: cfg.DataDir}
	front := server.New(env, log, nil)
	defer front.Close(context.Background()) // before the store closes: writes pending last-accessed data
	switch opts.logRequests {
	case "text":
		front.LogRequests(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
	case "json":
		front.LogRequests(slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil)))
	}
	endpoints := front.Listeners()
	endpoints.SetPorts(opts.endpointPorts)
	env.Endpoints = endpoints
	defer endpoints.CloseAll()
	if err := endpoints.Reopen(ctx, st); err != nil {
		log.Warn("some VPC endpoint listeners could not be reopened", "err", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if k := boot.RootKey; boot.NewRootKey {
		fmt.Fprintf(out, "Root user of account %s (shown once, also in %s):\n  aws_access_key_id = %s\n  aws_secret_access_key = %s\n",
			cfg.AccountID, boot.CredentialsFile, k.ID, k.Secret)
	}
	srv := server.HTTPServer(front) // header, idle and body deadlines
	fmt.Fprintf(out, "iamlocal serving on http://%s (data in %s)\n", ln.Addr(), cfg.DataDir)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if opts.demo {
		endpoint := "http://" + ln.Addr().String()
		if err := runDemo(ctx, out, endpoint, boot.RootKey.ID, boot.RootKey.Secret, cfg.AccountID); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "iamlocal: demo:", err)
		}
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Let in-flight requests finish; every acknowledged write is already committed.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
