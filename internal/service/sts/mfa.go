package sts

import (
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/iamlocal/iamlocal/internal/mfa"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

var (
	serialPattern = regexp.MustCompile(`^[\w+=/:,.@-]*$`)
	tokenPattern  = regexp.MustCompile(`^\d*$`)
)

// authenticateMFA checks the SerialNumber and TokenCode of an AssumeRole or
// GetSessionToken request, when it has them: the device must be a virtual MFA device
// enabled for the calling user, and the code its current one, never used before.
// It returns whether MFA was authenticated, and when. The code is recorded as used in
// a transaction of its own, committed before the credentials are returned, so that a
// replayed request fails even if the first one's answer was lost.
func authenticateMFA(c *service.Call) (bool, time.Time, error) {
	p := c.Params
	if !p.Has("SerialNumber") && !p.Has("TokenCode") {
		return false, time.Time{}, nil
	}
	serial, code := p.Get("SerialNumber"), p.Get("TokenCode")
	var v validation
	if p.Has("SerialNumber") {
		v.Length(serial, "serialNumber", 9, 256)
		v.Check(serialPattern.MatchString(serial), serial, "serialNumber", `satisfy regular expression pattern: [\w+=/:,.@-]*`)
	}
	if p.Has("TokenCode") {
		v.Length(code, "tokenCode", 6, 6)
		v.Check(tokenPattern.MatchString(code), code, "tokenCode", `satisfy regular expression pattern: [\d]*`)
	}
	if err := v.Err(); err != nil {
		return false, time.Time{}, err
	}
	user := ""
	if id := c.Identity; id != nil && id.Caller.Kind == policy.User {
		user = id.Caller.Name
	}
	switch {
	case !p.Has("SerialNumber") || user == "":
		return false, time.Time{}, wire.AccessDenied("%s", mfa.ErrNotAssociated.Error())
	case !p.Has("TokenCode"):
		return false, time.Time{}, wire.AccessDenied("%s", mfa.ErrInvalidCode.Error())
	}
	check := func(tx store.Tx) error {
		return mfa.Authenticate(tx, c.Env.Ring, c.Account(), user, serial, code, c.Now)
	}
	var err error
	if c.Tx.Generation() == 0 { // already in a write transaction
		err = check(c.Tx)
	} else {
		err = c.Env.Store.Write(c.Ctx, check)
	}
	if errors.Is(err, mfa.ErrNotAssociated) || errors.Is(err, mfa.ErrInvalidCode) {
		return false, time.Time{}, wire.AccessDenied("%s", err.Error())
	}
	if err != nil {
		return false, time.Time{}, err
	}
	return true, c.Now.UTC(), nil
}

// mfaContext sets the MFA keys of a request that authenticated with MFA itself.
func mfaContext(ctx policy.Context) {
	ctx.Set("aws:MultiFactorAuthPresent", "true")
	ctx.Set("aws:MultiFactorAuthAge", strconv.Itoa(0))
}
