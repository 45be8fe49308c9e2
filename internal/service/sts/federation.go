package sts

import (
	"fmt"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/session"
	"github.com/iamlocal/iamlocal/internal/wire"
)

func init() {
	Actions.Add(&service.Action{Name: "GetFederationToken", IAMAction: "sts:GetFederationToken", Handle: getFederationToken})
}

type federatedUser struct {
	FederatedUserID string `xml:"FederatedUserId"`
	Arn             string `xml:"Arn"`
}

type federationResult struct {
	Credentials      credentials   `xml:"Credentials"`
	FederatedUser    federatedUser `xml:"FederatedUser"`
	PackedPolicySize *int          `xml:"PackedPolicySize,omitempty"`
}

// getFederationToken issues a federated user's session: the permissions of the
// calling IAM user (or root user) intersected with the session policies — without
// any, the session has no permissions (STS API reference).
func getFederationToken(c *service.Call) (any, error) {
	id := c.Identity
	if id.Temporary() {
		return nil, wire.AccessDenied("Cannot call GetFederationToken with session credentials")
	}
	if !c.Params.Has("Name") {
		return nil, wire.MissingParameter("Name")
	}
	name := c.Params.Get("Name")
	var v validation
	v.Length(name, "name", 2, 32)
	v.Check(sessionNamePattern.MatchString(name), name, "name", `satisfy regular expression pattern: [\w+=,.@-]*`)
	seconds, given, err := c.Params.Int("DurationSeconds")
	if err != nil {
		return nil, err
	}
	if !given {
		seconds = 43200
	}
	v.Check(seconds >= 900 && seconds <= 129600, fmt.Sprint(seconds), "durationSeconds", "have value greater than or equal to 900 and less than or equal to 129600")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if id.Caller.Kind == policy.RootUser && seconds > 3600 {
		seconds = 3600 // the root user's sessions last at most an hour
	}
	// The session policy, tags and ARNs are read as AssumeRole reads them.
	in := &assumeInput{account: id.Caller.Account, sessionName: name, policy: c.Params.Get("Policy"),
		duration: time.Duration(seconds) * time.Second}
	if err := readSessionExtras(c, in); err != nil {
		return nil, err
	}
	cl := &session.Claims{
		AccessKeyID: directory.NewAccessKeyID("ASIA", in.account), Secret: directory.NewSecret(),
		Account: in.account, Type: "FederatedUser", SessionName: name,
		Arn:      fmt.Sprintf("arn:aws:sts::%s:federated-user/%s", in.account, name),
		UserID:   in.account + ":" + name,
		IssuedAt: c.Now.UTC(), Expires: c.Now.Add(in.duration).UTC(),
	}
	if id.Caller.Kind == policy.User {
		cl.UserName, cl.PrincipalID = id.Caller.Name, id.UserID
	}
	packed, err := applySessionExtras(c, in, cl)
	if err != nil {
		return nil, err
	}
	token, err := c.Env.Ring.Seal(cl)
	if err != nil {
		return nil, err
	}
	res := &federationResult{
		Credentials:   credentials{cl.AccessKeyID, cl.Secret, token, cl.Expires.Format(time.RFC3339)},
		FederatedUser: federatedUser{FederatedUserID: cl.UserID, Arn: cl.Arn},
	}
	if packed >= 0 {
		res.PackedPolicySize = &packed
	}
	return res, nil
}
