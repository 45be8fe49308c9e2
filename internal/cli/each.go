package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/spf13/cobra"
)

type eachFlags struct {
	client            broker.Options
	org               bool
	accounts          []string
	ou                string
	roleName          string
	externalID        string
	sessionName       string
	parallel          int
	includeManagement bool
	asJSON            bool
}

// target is one account to act in.
type target struct {
	id, name string
	invited  bool // joined the organization by invitation: no OrganizationAccountAccessRole
}

// outcome is how one account went.
type outcome struct {
	target
	err      error
	reason   string
	duration time.Duration
}

func newEachCmd() *cobra.Command {
	var f eachFlags
	cmd := &cobra.Command{
		Use:   "each (--org | --accounts ID,ID… | --ou OU) --role-name NAME [flags] -- CMD ARGS…",
		Short: "Run a command once per account with that account's role credentials",
		Long: `each assumes ROLE-NAME in every account (the whole organization, a list, or an OU
and the OUs below it) and runs CMD there with the role's credentials in the
environment and IAMLOCAL_ACCOUNT_ID set. Output lines are prefixed by the account id;
a closing table gives each account's result and duration and, for a failure, the
reason in one line. The exit status is non-zero when any account failed.`,
		Example: `  iamlocal each --org --role-name OrganizationAccountAccessRole -- aws ec2 describe-instances
  iamlocal each --ou ou-ab12-cdef3456 --role-name audit --external-id x --parallel 8 -- ./inventory.sh`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEach(cmd, &f, args)
		},
	}
	addClientFlags(cmd, &f.client)
	fl := cmd.Flags()
	fl.BoolVar(&f.org, "org", false, "every account of the organization")
	fl.StringSliceVar(&f.accounts, "accounts", nil, "these account `IDs`")
	fl.StringVar(&f.ou, "ou", "", "the accounts under this organizational unit `ID`, OUs below it included")
	fl.StringVar(&f.roleName, "role-name", "", "the `NAME` of the role to assume in each account")
	fl.StringVar(&f.externalID, "external-id", "", "the ExternalId the roles require")
	fl.StringVar(&f.sessionName, "session-name", "iamlocal-each", "the role session `NAME`")
	fl.IntVar(&f.parallel, "parallel", 4, "accounts at a time")
	fl.BoolVar(&f.includeManagement, "include-management", false, "with --org or --ou, also the caller's own account")
	fl.BoolVar(&f.asJSON, "json", false, "print the results as JSON on standard output (the commands' output goes to standard error)")
	return cmd
}

func runEach(cmd *cobra.Command, f *eachFlags, args []string) error {
	picks := 0
	for _, on := range []bool{f.org, len(f.accounts) > 0, f.ou != ""} {
		if on {
			picks++
		}
	}
	if picks != 1 || f.roleName == "" || f.parallel < 1 {
		return &exitError{2, errors.New("give exactly one of --org, --accounts, --ou, and --role-name (and --parallel ≥ 1)")}
	}
	ctx := cmd.Context()
	cfg, err := broker.Load(ctx, f.client)
	if err != nil {
		return err
	}
	targets, err := eachTargets(ctx, cfg, f)
	if err != nil {
		return err
	}
	warnEndpoint(ctx, cmd.ErrOrStderr(), aws.ToString(cfg.BaseEndpoint), args)
	results := make([]outcome, len(targets))
	var outMu sync.Mutex
	sem := make(chan struct{}, f.parallel)
	var wg sync.WaitGroup
	var done int
	progress := isTerminal(cmd.ErrOrStderr())
	childOut := cmd.OutOrStdout()
	if f.asJSON {
		childOut = cmd.ErrOrStderr() // keep standard output for the JSON
	}
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = runInAccount(ctx, cfg, f, t, args, childOut, cmd.ErrOrStderr(), &outMu)
			outMu.Lock()
			done++
			if progress {
				fmt.Fprintf(cmd.ErrOrStderr(), "\r%d/%d accounts done", done, len(targets))
			}
			outMu.Unlock()
		}()
	}
	wg.Wait()
	if progress {
		fmt.Fprintln(cmd.ErrOrStderr())
	}
	var failed int
	if f.asJSON {
		failed = writeEachJSON(cmd.OutOrStdout(), results)
	} else {
		failed = writeEachTable(cmd.OutOrStdout(), results)
	}
	if failed > 0 {
		return &exitError{1, fmt.Errorf("%d of %d accounts failed", failed, len(results))}
	}
	return nil
}

// eachTargets lists the accounts to act in.
func eachTargets(ctx context.Context, cfg aws.Config, f *eachFlags) ([]target, error) {
	if len(f.accounts) > 0 {
		var out []target
		for _, id := range f.accounts {
			out = append(out, target{id: strings.TrimSpace(id)})
		}
		return out, nil
	}
	caller, err := broker.CallerAccount(ctx, cfg)
	if err != nil {
		return nil, err
	}
	org := organizations.NewFromConfig(cfg)
	var out []target
	add := func(a orgtypes.Account) {
		if id := aws.ToString(a.Id); id != caller || f.includeManagement {
			out = append(out, target{id, aws.ToString(a.Name), a.JoinedMethod == orgtypes.AccountJoinedMethodInvited})
		}
	}
	if f.org {
		p := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list the organization's accounts: %w", err)
			}
			for _, a := range page.Accounts {
				add(a)
			}
		}
		return out, nil
	}
	return out, walkOU(ctx, org, f.ou, add)
}

// walkOU adds the accounts under an OU and every OU below it.
func walkOU(ctx context.Context, org *organizations.Client, ou string, add func(orgtypes.Account)) error {
	ap := organizations.NewListAccountsForParentPaginator(org, &organizations.ListAccountsForParentInput{ParentId: aws.String(ou)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the accounts of %s: %w", ou, err)
		}
		for _, a := range page.Accounts {
			add(a)
		}
	}
	op := organizations.NewListOrganizationalUnitsForParentPaginator(org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(ou)})
	for op.HasMorePages() {
		page, err := op.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the OUs of %s: %w", ou, err)
		}
		for _, child := range page.OrganizationalUnits {
			if err := walkOU(ctx, org, aws.ToString(child.Id), add); err != nil {
				return err
			}
		}
	}
	return nil
}

// runInAccount assumes the role in one account and runs the command there.
func runInAccount(ctx context.Context, cfg aws.Config, f *eachFlags, t target, args []string, stdout, stderr io.Writer, mu *sync.Mutex) outcome {
	start := time.Now()
	o := outcome{target: t}
	creds, err := broker.Assume(ctx, cfg, broker.AssumeOptions{RoleArns: []string{fmt.Sprintf("arn:aws:iam::%s:role/%s", t.id, f.roleName)},
		ExternalID: f.externalID, SessionName: f.sessionName})
	if err != nil {
		o.err, o.reason, o.duration = err, assumeFailure(err, f, t), time.Since(start)
		return o
	}
	child := exec.CommandContext(ctx, args[0], args[1:]...)
	child.Env = childEnv(os.Environ(), aws.ToString(cfg.BaseEndpoint), append(creds.Env(), "IAMLOCAL_ACCOUNT_ID="+t.id)...)
	child.Stdout = &prefixWriter{w: stdout, prefix: t.id + " | ", mu: mu}
	child.Stderr = &prefixWriter{w: stderr, prefix: t.id + " | ", mu: mu}
	err = child.Run()
	child.Stdout.(*prefixWriter).flush()
	child.Stderr.(*prefixWriter).flush()
	o.duration = time.Since(start)
	if err != nil {
		o.err = err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			o.reason = fmt.Sprintf("%s exited with status %d", args[0], ee.ExitCode())
		} else {
			o.reason = err.Error()
		}
	}
	return o
}

// assumeFailure says in one line why AssumeRole failed, from AWS's message.
func assumeFailure(err error, f *eachFlags, t target) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err.Error()
	}
	msg := ae.ErrorMessage()
	switch {
	case ae.ErrorCode() != "AccessDenied":
		return ae.ErrorCode() + ": " + msg
	case strings.Contains(msg, "service control policy"):
		return "an SCP of your account denies sts:AssumeRole"
	case strings.Contains(msg, "because no identity-based policy allows"):
		return "your own identity policies do not allow sts:AssumeRole on the role"
	case strings.Contains(msg, "permissions boundary"):
		return "your permissions boundary does not allow sts:AssumeRole"
	case strings.Contains(msg, "session policy"):
		return "your session policy does not allow sts:AssumeRole"
	case t.invited && f.roleName == explain.DefaultRoleName:
		return "the account joined by invitation, and invited accounts get no " + f.roleName +
			" (`iamlocal doctor assume-role --role-arn arn:aws:iam::" + t.id + ":role/" + f.roleName + "` says how to create it)"
	case f.externalID == "":
		return "role " + f.roleName + " is missing, or its trust policy does not allow you or requires an ExternalId (AWS answers all three alike)"
	}
	return "role " + f.roleName + " is missing, or its trust policy does not allow you or this ExternalId (AWS answers all alike)"
}

func writeEachTable(w io.Writer, results []outcome) (failed int) {
	sort.SliceStable(results, func(i, j int) bool { return results[i].id < results[j].id })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tRESULT\tDURATION\tREASON")
	for _, r := range results {
		result := "ok"
		if r.err != nil {
			result, failed = "failed", failed+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.id, r.name, result, r.duration.Round(time.Millisecond), r.reason)
	}
	tw.Flush()
	return failed
}

func writeEachJSON(w io.Writer, results []outcome) (failed int) {
	sort.SliceStable(results, func(i, j int) bool { return results[i].id < results[j].id })
	type row struct {
		Account    string `json:"account"`
		Name       string `json:"name,omitempty"`
		Result     string `json:"result"`
		DurationMS int64  `json:"durationMs"`
		Reason     string `json:"reason,omitempty"`
	}
	rows := []row{}
	for _, r := range results {
		result := "ok"
		if r.err != nil {
			result, failed = "failed", failed+1
		}
		rows = append(rows, row{r.id, r.name, result, r.duration.Milliseconds(), r.reason})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(rows)
	return failed
}

// prefixWriter prefixes every line a child writes with its account id, whole lines at
// a time so that parallel accounts do not interleave mid-line.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mu     *sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			return len(b), nil
		}
		p.mu.Lock()
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.mu.Unlock()
		p.buf = p.buf[i+1:]
	}
}

func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.Write([]byte("\n"))
	}
}

// isTerminal reports whether w is a terminal (progress and colours only then).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
