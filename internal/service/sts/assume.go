package sts

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// What AssumeRole, AssumeRoleWithWebIdentity and AssumeRoleWithSAML share: the keys a
// new session's request carries into the trust decision, and that decision itself.

// sessionKeys adds the keys of the session being requested: its name, source
// identity, session tags (aws:RequestTag/…, aws:TagKeys) and transitive tag keys.
func sessionKeys(ctx policy.Context, sessionName, sourceIdentity string, tags []directory.Tag, transitive []string) {
	ctx.Set("sts:RoleSessionName", sessionName)
	if sourceIdentity != "" {
		ctx.Set("sts:SourceIdentity", sourceIdentity)
	}
	if len(tags) > 0 {
		keys := make([]string, 0, len(tags))
		for _, t := range tags {
			ctx.Set("aws:RequestTag/"+t.Key, t.Value)
			keys = append(keys, t.Key)
		}
		ctx.Set("aws:TagKeys", keys...)
	}
	if len(transitive) > 0 {
		ctx.Set("sts:TransitiveTagKeys", transitive...)
	}
}

// authorizeAssume decides the assume action and, when the session asks for them,
// sts:TagSession and sts:SetSourceIdentity, each against the role's trust policy
// (and the caller's own policies, for a signed caller). denied, when not "", replaces
// the message of a refusal: the federated assumes answer with STS's short one.
func authorizeAssume(c *service.Call, action string, in *assumeInput, trust *policy.Policy, ctx policy.Context, denied string) error {
	checks := []string{action}
	if len(in.tags) > 0 || len(in.transitive) > 0 {
		checks = append(checks, "sts:TagSession")
	}
	if in.sourceIdentity != "" {
		checks = append(checks, "sts:SetSourceIdentity")
	}
	for _, a := range checks {
		err := c.Authorize(service.Request{Action: a, Resource: in.roleArn, ResourceAccount: in.account,
			Context: ctx, ResourcePolicy: trust, ResourceKind: authz.TrustPolicy})
		var den *service.Denied
		if denied != "" && errors.As(err, &den) {
			den.Message = denied
			return den
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readDuration reads DurationSeconds (900–43200, default 3600) into in; a value out of
// range is noted in v. The role's MaxSessionDuration is checked once the role is known.
func readDuration(p wire.Params, in *assumeInput, v *validation) error {
	seconds, given, err := p.Int("DurationSeconds")
	if err != nil {
		return err
	}
	in.durationGiven = given
	if !given {
		seconds = 3600
	}
	v.Check(seconds >= 900 && seconds <= 43200, strconv.Itoa(seconds), "durationSeconds", "have value greater than or equal to 900 and less than or equal to 43200")
	in.duration = time.Duration(seconds) * time.Second
	return nil
}

// setRole reads the account and role name of in.roleArn, or answers STS's error.
func setRole(in *assumeInput) error {
	account, name, ok := parseRoleArn(in.roleArn)
	if !ok {
		return wire.ValidationError("%s is invalid", in.roleArn)
	}
	in.account, in.roleName = account, name
	return nil
}

// parseRoleArn splits arn:aws:iam::ACCOUNT:role/[PATH/]NAME.
func parseRoleArn(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") || len(parts[4]) != 12 {
		return "", "", false
	}
	return parts[4], parts[5][strings.LastIndexByte(parts[5], '/')+1:], true
}
