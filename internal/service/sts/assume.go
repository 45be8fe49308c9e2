package sts

import (
	"errors"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
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
