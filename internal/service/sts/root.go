package sts

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// AssumeRoot: short-term credentials of a member account's root user, limited to one
// privileged task by an AWS task policy, for a principal of the management account or
// of a delegated administrator for IAM, once the organization's centralized root
// access has root sessions enabled (IAM User Guide, "Centralize root access for
// member accounts"; STS API Reference, AssumeRoot).

func init() {
	Actions.Add(&service.Action{Name: "AssumeRoot", Handle: assumeRoot})
}

// rootTaskPolicies are the task policies AssumeRoot takes (STS API Reference,
// AssumeRoot, TaskPolicyArn). Their documents are AWS's, from the managed-policy
// catalogue: each only denies (every action but its task, and its task on anything
// but the root user), so as the session's policy it limits the root user, whose own
// permissions are all.
var rootTaskPolicies = []string{
	"arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
	"arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword",
	"arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials",
	"arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy",
	"arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy",
}

// delegatedIAMAdministrator reports whether an account is a delegated administrator
// for IAM (iam.amazonaws.com) in the organization (Organizations'
// RegisterDelegatedAdministrator).
func delegatedIAMAdministrator(tx store.Tx, account string) (bool, error) {
	return directory.IsDelegatedAdministrator(tx, account, "iam.amazonaws.com")
}

type assumeRootResult struct {
	Credentials    credentials `xml:"Credentials"`
	SourceIdentity string      `xml:"SourceIdentity,omitempty"`
}

func assumeRoot(c *service.Call) (any, error) {
	p := c.Params
	for _, name := range []string{"TargetPrincipal", "TaskPolicyArn.arn"} {
		if !p.Has(name) {
			return nil, wire.MissingParameter(strings.TrimSuffix(name, ".arn"))
		}
	}
	target, task := p.Get("TargetPrincipal"), p.Get("TaskPolicyArn.arn")
	var v validation
	v.Length(target, "targetPrincipal", 12, 2048)
	v.Length(task, "taskPolicyArn.arn", 20, 2048)
	seconds, given, err := p.Int("DurationSeconds")
	if err != nil {
		return nil, err
	}
	if !given {
		seconds = 900
	}
	v.Check(seconds >= 0 && seconds <= 900, fmt.Sprint(seconds), "durationSeconds", "have value greater than or equal to 0 and less than or equal to 900")
	if err := v.Err(); err != nil {
		return nil, err
	}
	member, ok := targetAccount(target)
	if !ok {
		return nil, wire.ValidationError("TargetPrincipal %s is not an account id or an account's root user ARN (arn:aws:iam::ACCOUNT:root)", target)
	}
	if _, known := directory.AWSManagedDocument(task); !known || !slices.Contains(rootTaskPolicies, task) {
		return nil, wire.ValidationError("TaskPolicyArn %s is not a root task policy: use one of arn:aws:iam::aws:policy/root-task/{IAMAuditRootUserCredentials, IAMCreateRootUserPassword, IAMDeleteRootUserCredentials, S3UnlockBucketPolicy, SQSUnlockQueuePolicy}", task)
	}
	caller := c.Identity
	if caller.Caller.Kind == policy.RootUser {
		return nil, wire.AccessDenied("AssumeRoot cannot be called with root user credentials")
	}

	// Who may: a principal of the management account or of a delegated administrator
	// for IAM, for a member account of the organization with root sessions enabled.
	var org directory.Organization
	if err := c.Tx.Get(directory.KindOrganization, "org", &org); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, wire.AccessDenied("AssumeRoot needs an organization with centralized root access: the account %s is in none", caller.Caller.Account)
		}
		return nil, err
	}
	own := caller.Caller.Account
	if own != org.MasterAccountID {
		delegated, err := delegatedIAMAdministrator(c.Tx, own)
		if err != nil {
			return nil, err
		}
		if !delegated {
			return nil, wire.AccessDenied("AssumeRoot must be called from the organization's management account or a delegated administrator for IAM; %s is neither", own)
		}
	}
	features, err := directory.LoadOrgFeatures(c.Tx, org.ID)
	if err != nil {
		return nil, err
	}
	if !features.RootSessions {
		return nil, wire.AccessDenied("Root sessions are not enabled for the organization %s (IAM EnableOrganizationsRootSessions)", org.ID)
	}
	var acct directory.Account
	err = c.Tx.Get(directory.KindAccount, member, &acct)
	if errors.Is(err, store.ErrNotFound) || (err == nil && acct.ParentID == "") {
		return nil, wire.ValidationError("TargetPrincipal %s is not a member account of the organization %s", target, org.ID)
	}
	if err != nil {
		return nil, err
	}
	if member == org.MasterAccountID {
		return nil, wire.ValidationError("TargetPrincipal %s is the management account: AssumeRoot takes member accounts", target)
	}

	// The caller's own permission: sts:AssumeRoot on the member's root user, with
	// sts:TaskPolicyArn. AWS decides it on the caller's side alone (the member
	// account has no policy that could allow it), so it is decided in the caller's
	// account.
	ctx := policy.Context{}
	ctx.Set("sts:TaskPolicyArn", task)
	if err := c.Authorize(service.Request{Action: "sts:AssumeRoot", Resource: "arn:aws:iam::" + member + ":root",
		ResourceAccount: own, Context: ctx}); err != nil {
		return nil, err
	}

	cl := &session.Claims{
		AccessKeyID: directory.NewAccessKeyID("ASIA", member), Secret: directory.NewSecret(),
		Account: member, Type: "AssumedRoot", Arn: "arn:aws:iam::" + member + ":root", UserID: member,
		PolicyArns: []string{task}, Context: map[string][]string{"aws:AssumedRoot": {"true"}},
		IssuedAt: c.Now.UTC(), Expires: c.Now.Add(time.Duration(seconds) * time.Second).UTC(),
	}
	if prev := caller.Claims; prev != nil && prev.SourceIdentity != "" {
		cl.SourceIdentity = prev.SourceIdentity
	}
	token, err := c.Env.Ring.Seal(cl)
	if err != nil {
		return nil, err
	}
	return &assumeRootResult{Credentials: credentials{cl.AccessKeyID, cl.Secret, token, cl.Expires.Format(time.RFC3339)},
		SourceIdentity: cl.SourceIdentity}, nil
}

// targetAccount reads TargetPrincipal: an account id or arn:aws:iam::ACCOUNT:root.
func targetAccount(target string) (string, bool) {
	account := target
	if rest, ok := strings.CutPrefix(target, "arn:aws:iam::"); ok {
		var res string
		account, res, ok = strings.Cut(rest, ":")
		if !ok || res != "root" {
			return "", false
		}
	}
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", false
	}
	return account, true
}
