package apply

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/broker"
)

// Options tune Run.
type Options struct {
	DryRun bool
	// CredentialsFile receives the access keys created in this run; empty: the
	// file's credentialsFile, relative to SecretsDir.
	CredentialsFile string
	// SecretsDir is where a relative credentialsFile of the file goes: secrets stay
	// out of the tree the YAML file lives in (often a git repository). Empty: the
	// file's directory.
	SecretsDir string
	// Report is called for each change when it has been made (or, in a dry run,
	// when it is planned).
	Report func(Change)
	// Note is called with remarks that are not changes (a key whose secret cannot
	// be written, a description IAM cannot change).
	Note func(string)
	// Poll is the first interval between checks of a new account (default 200 ms).
	Poll time.Duration
	// AssumeRetries is how long to keep trying to assume the role of an account
	// created in this run (default 2 minutes: AWS needs a while).
	AssumeRetries time.Duration
}

// Change is one change, made or planned.
type Change struct {
	Op      string `json:"op"`                // create, update or delete
	Account string `json:"account,omitempty"` // whose resource: management or an account's name
	Kind    string `json:"kind"`              // organization, ou, account, policy, user, group, role, bucket, oidc-provider, scp, rcp
	Name    string `json:"name"`
	Detail  string `json:"detail,omitempty"` // what about it changes
}

func (c Change) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s ", c.Op)
	if c.Account != "" {
		fmt.Fprintf(&b, "[%s] ", c.Account)
	}
	b.WriteString(c.Kind)
	if c.Name != "" {
		b.WriteString(" " + c.Name)
	}
	if c.Detail != "" {
		b.WriteString(": " + c.Detail)
	}
	return b.String()
}

// Result is what a run did (or would do).
type Result struct {
	Changes []Change
	// Keys are the access keys created and the profiles they were written to.
	Keys []Key
	// CredentialsFile is where new keys go (empty when the run needs none).
	CredentialsFile string
}

// Key is an access key created by a run (its secret went to the credentials file only).
type Key struct {
	Account     string `json:"account"`
	User        string `json:"user"`
	Profile     string `json:"profile"`
	AccessKeyID string `json:"accessKeyId"`
}

type runner struct {
	w   *World
	o   Options
	cfg aws.Config
	res Result

	org       *organizations.Client
	partition string
	caller    string // the management account's id
	callerArn string
	credFile  string

	orgID, rootID string
	enabled       map[string]bool   // policy types enabled on the root
	ouIDs         map[string]string // OU path → id; a placeholder for one a dry run would create
	accounts      map[string]*account
}

// account is one account whose resources the file declares, or that it places.
type account struct {
	name     string // management, or the account's name in the file
	id       string // a placeholder for one a dry run would create
	exists   bool   // false: created only in a dry run, so nothing can be read
	fresh    bool   // created in this run
	roleName string
	res      *Resources
	pos      Pos

	cfg     aws.Config
	iam     *iam.Client
	s3      *s3.Client
	buckets map[string]bool // the account's own buckets, once listed
}

// Run makes the world of the file exist, with cfg's credentials: those of an IAM
// principal of the management account (the root user may not assume roles, which
// acting in member accounts needs).
func Run(ctx context.Context, cfg aws.Config, w *World, o Options) (*Result, error) {
	if o.Report == nil {
		o.Report = func(Change) {}
	}
	if o.Note == nil {
		o.Note = func(string) {}
	}
	if o.Poll <= 0 {
		o.Poll = 200 * time.Millisecond
	}
	if o.AssumeRetries <= 0 {
		o.AssumeRetries = 2 * time.Minute
	}
	r := &runner{w: w, o: o, cfg: cfg, ouIDs: map[string]string{}, accounts: map[string]*account{}, enabled: map[string]bool{}}
	r.credFile = o.CredentialsFile
	if r.credFile == "" && w.CredentialsFile != "" {
		r.credFile = w.CredentialsFile
		if !filepath.IsAbs(r.credFile) {
			dir := o.SecretsDir
			if dir == "" {
				dir = w.Dir
			}
			r.credFile = filepath.Join(dir, r.credFile)
		}
	}
	if ok, p := w.wantsKeys(); ok && r.credFile == "" {
		return nil, &Error{File: w.File, Pos: p, Msg: "a new access key needs a credentials file to go to: give --credentials-file FILE or credentialsFile: in the file"}
	}
	r.res.CredentialsFile = r.credFile
	err := r.run(ctx)
	return &r.res, err
}

func (r *runner) run(ctx context.Context) error {
	id, err := sts.NewFromConfig(r.cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("who is calling (sts:GetCallerIdentity): %w", err)
	}
	r.caller, r.callerArn = aws.ToString(id.Account), aws.ToString(id.Arn)
	r.partition = "aws"
	if a, err := arn.Parse(r.callerArn); err == nil {
		r.partition = a.Partition
	}
	members := false
	for _, a := range r.w.Accounts {
		members = members || !a.Resources.empty()
	}
	if members && strings.HasSuffix(r.callerArn, ":root") {
		return &Error{File: r.w.File, Msg: "apply acts in member accounts by assuming a role there, which AWS forbids the root user: " +
			"run it as an IAM user or role of the management account with administrator rights (docs/apply.md shows how to make one with apply itself)"}
	}
	r.org = organizations.NewFromConfig(r.cfg)
	if r.w.usesOrganizations() {
		if err := r.organization(ctx); err != nil {
			return err
		}
		if err := r.ous(ctx); err != nil {
			return err
		}
		if err := r.memberAccounts(ctx); err != nil {
			return err
		}
	}
	if m := r.w.Management; m != nil {
		a := &account{name: managementName, id: r.caller, exists: true, res: &m.Resources, pos: m.Pos}
		a.clients(r.cfg)
		r.accounts[managementName] = a
		if err := r.resources(ctx, a); err != nil {
			return err
		}
	}
	for _, decl := range r.w.Accounts {
		a := r.accounts[decl.Name]
		if decl.Resources.empty() {
			continue
		}
		if a.exists {
			if err := r.assume(ctx, a); err != nil {
				return err
			}
		}
		if err := r.resources(ctx, a); err != nil {
			return err
		}
	}
	if err := r.orgPolicies(ctx, r.w.SCPs, "SERVICE_CONTROL_POLICY", "scp"); err != nil {
		return err
	}
	return r.orgPolicies(ctx, r.w.RCPs, "RESOURCE_CONTROL_POLICY", "rcp")
}

// change makes one change (unless this is a dry run) and reports it.
func (r *runner) change(c Change, do func() error) error { return r.changeWith(&c, do) }

// changeWith is change for a do that completes the change's detail.
func (r *runner) changeWith(c *Change, do func() error) error {
	if !r.o.DryRun && do != nil {
		if err := do(); err != nil {
			return err
		}
	}
	r.res.Changes = append(r.res.Changes, *c)
	r.o.Report(*c)
	return nil
}

// fail names the declaration at p in an error from acting on it.
func (r *runner) fail(p Pos, what string, err error) error {
	var fe *Error
	if errors.As(err, &fe) {
		return err
	}
	return &Error{File: r.w.File, Pos: p, Msg: what + ": " + apiMessage(err), Err: err}
}

// apiMessage is an AWS error as "Code: message", or the error's text.
func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// vars resolves the file's variables for resources of account a (nil: none).
func (r *runner) vars(a *account) vars {
	return func(kind, arg string) (string, bool) {
		switch kind {
		case "account":
			switch {
			case arg == managementName:
				return r.caller, true
			case arg == selfName && a != nil:
				return a.id, true
			}
			if acc, ok := r.accounts[arg]; ok {
				return acc.id, true
			}
		case "ou":
			id, ok := r.ouIDs[strings.Trim(arg, "/")]
			return id, ok
		case "org":
			switch arg {
			case "id":
				return r.orgID, true
			case "root":
				return r.rootID, true
			}
		}
		return "", false
	}
}

// render expands a document for account a.
func (r *runner) render(doc *Doc, a *account) (string, error) {
	text, err := doc.render(r.vars(a), nil)
	if err != nil {
		return "", &Error{File: r.w.File, Pos: doc.Pos, Msg: err.Error()}
	}
	return text, nil
}

func (r *runner) expand(s string, a *account) string { return expand(s, r.vars(a), nil) }

func (a *account) clients(cfg aws.Config) {
	a.cfg = cfg
	a.iam = iam.NewFromConfig(cfg)
	a.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
		// A local endpoint (iamlocal) has no bucket host names.
		o.UsePathStyle = cfg.BaseEndpoint != nil
	})
}

// assume gets credentials in a member account through its role.
func (r *runner) assume(ctx context.Context, a *account) error {
	roleArn := fmt.Sprintf("arn:%s:iam::%s:role/%s", r.partition, a.id, a.roleName)
	deadline := time.Now().Add(r.o.AssumeRetries)
	wait := r.o.Poll
	for {
		creds, err := broker.Assume(ctx, r.cfg, broker.AssumeOptions{RoleArns: []string{roleArn}, SessionName: "iamlocal-apply"})
		if err == nil {
			cfg := r.cfg.Copy()
			cfg.Credentials = credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
			a.clients(cfg)
			return nil
		}
		// A new account's role may take a while to be assumable on AWS.
		if !a.fresh || time.Now().After(deadline) || ctx.Err() != nil {
			return r.fail(a.pos, fmt.Sprintf("act in account %s (%s) through role %s", a.name, a.id, a.roleName),
				fmt.Errorf("%s (apply assumes this role to manage the account's resources: set role: to the role the account has, one that trusts %s)", apiMessage(err), r.callerArn))
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// placeholder stands for the id of something a dry run would create.
func placeholder(what string) string { return "<" + what + ">" }
