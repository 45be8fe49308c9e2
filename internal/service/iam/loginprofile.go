package iam

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// Login profiles: a user's console password. The store keeps a salted PBKDF2-SHA256
// hash of it, never the password, under loginProfileKind "<account>/<user id>" (the
// id survives renames).
const loginProfileKind = "iamloginprofile"

type loginProfile struct {
	Account       string
	UserID        string
	Created       time.Time
	Changed       time.Time // when the password was last set
	ResetRequired bool
	Hash          string
	// History holds the hashes of earlier passwords, newest first, as many as the
	// password policy's PasswordReusePrevention may ask for.
	History []string `json:",omitempty"`
}

const maxPasswordHistory = 24

func init() {
	register(
		&service.Action{Name: "CreateLoginProfile", IAMAction: "iam:CreateLoginProfile", Write: true,
			Resource: keyOwnerResource, Handle: createLoginProfile},
		&service.Action{Name: "GetLoginProfile", IAMAction: "iam:GetLoginProfile", Resource: keyOwnerResource, Handle: getLoginProfile},
		&service.Action{Name: "UpdateLoginProfile", IAMAction: "iam:UpdateLoginProfile", Write: true,
			Resource: userEntity.resource, Handle: updateLoginProfile},
		&service.Action{Name: "DeleteLoginProfile", IAMAction: "iam:DeleteLoginProfile", Write: true,
			Resource: keyOwnerResource, Handle: deleteLoginProfile},
		&service.Action{Name: "ChangePassword", IAMAction: "iam:ChangePassword", Write: true,
			Resource: callerUserResource, Grants: changePasswordGrant, Handle: changePassword},
	)
}

// Password hashes: "pbkdf2-sha256$<rounds>$<salt>$<key>", base64 without padding.
const passwordRounds = 100_000

func hashSecret(secret string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, secret, salt, passwordRounds, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", passwordRounds, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// checkSecret reports whether secret matches a hash, comparing in constant time.
func checkSecret(hash, secret string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	rounds, err := strconv.Atoi(parts[1])
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err != nil || err1 != nil || err2 != nil || rounds < 1 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, secret, salt, rounds, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

func passwordViolation(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "PasswordPolicyViolation", format, args...)
}

// passwordSymbols are the symbols AWS's password policies count: ! @ # $ % ^ & * ( )
// _ + - = [ ] { } | ' (IAM User Guide, "Set an account password policy").
const passwordSymbols = "!@#$%^&*()_+-=[]{}|'"

type passwordClasses struct{ upper, lower, number, symbol bool }

func classify(pw string) passwordClasses {
	var c passwordClasses
	for _, r := range pw {
		switch {
		case r >= 'A' && r <= 'Z':
			c.upper = true
		case r >= 'a' && r <= 'z':
			c.lower = true
		case r >= '0' && r <= '9':
			c.number = true
		case strings.ContainsRune(passwordSymbols, r):
			c.symbol = true
		}
	}
	return c
}

// checkPassword applies the account's password policy or, without one, AWS's
// default policy: at least 8 characters and three of the four kinds (upper case,
// lower case, numbers, symbols). The messages are AWS's as seen from CreateLoginProfile:
// "Password should have a minimum length of 8" and "Password should meet 1 more of
// the following requirements: Password should have at least one uppercase letter,
// Password should have at least one symbol".
func checkPassword(pp *passwordPolicy, pw string, history []string) error {
	cl := classify(pw)
	needs := []struct {
		ok   bool
		want bool
		msg  string
	}{
		{cl.upper, pp == nil || pp.RequireUppercaseCharacters, "Password should have at least one uppercase letter"},
		{cl.lower, pp == nil || pp.RequireLowercaseCharacters, "Password should have at least one lowercase letter"},
		{cl.number, pp == nil || pp.RequireNumbers, "Password should have at least one number"},
		{cl.symbol, pp == nil || pp.RequireSymbols, "Password should have at least one symbol"},
	}
	minLen := 8
	if pp != nil {
		minLen = pp.MinimumPasswordLength
	}
	if len([]rune(pw)) < minLen {
		return passwordViolation("Password should have a minimum length of %d", minLen)
	}
	var missing []string
	for _, n := range needs {
		if n.want && !n.ok {
			missing = append(missing, n.msg)
		}
	}
	if pp == nil {
		if have := 4 - len(missing); have < 3 {
			return passwordViolation("Password should meet %d more of the following requirements: %s", 3-have, strings.Join(missing, ", "))
		}
		return nil
	}
	if len(missing) > 0 {
		return passwordViolation("%s", strings.Join(missing, ", "))
	}
	for i := 0; i < pp.PasswordReusePrevention && i < len(history); i++ {
		if checkSecret(history[i], pw) {
			return passwordViolation("Password should not be one of the previous %d passwords", pp.PasswordReusePrevention)
		}
	}
	return nil
}

// password reads a secret parameter (a password, a private key) of passwordType's or
// privateKeyType's alphabet, 1 to 128 (passwords) or 16384 (keys) characters.
func (in *input) password(param string, required bool) (string, bool) {
	if !required && !in.c.Params.Has(param) {
		return "", false
	}
	s, ok := in.required(param)
	if ok {
		// The value is a secret: the messages name the member, never the value.
		n := len([]rune(s))
		in.v.bareCheck(n >= 1, lowerFirst(param), "have length greater than or equal to 1")
		max := 128
		if param == "PrivateKey" {
			max = 16384
		}
		in.v.bareCheck(n <= max, lowerFirst(param), fmt.Sprintf("have length less than or equal to %d", max))
		in.v.bareCheck(documentPattern.MatchString(s), lowerFirst(param), `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
	}
	return s, ok
}

func loginProfileKey(account, userID string) string { return account + "/" + userID }

// profileOwner finds the user a login-profile request names (the caller when
// UserName is omitted and the action allows it) and its profile, if any.
func profileOwner(c *service.Call) (*credOwner, *loginProfile, error) {
	k := &credKind{userOptional: true}
	o, err := k.owner(c)
	if err != nil {
		return nil, nil, err
	}
	lp := &loginProfile{}
	err = c.Tx.Get(loginProfileKind, loginProfileKey(c.Account(), o.id), lp)
	if errors.Is(err, store.ErrNotFound) {
		return o, nil, nil
	}
	return o, lp, err
}

func noLoginProfile(user string) error {
	return noSuchEntity("Login Profile for User %s cannot be found.", user)
}

type loginProfileXML struct {
	UserName              string `xml:"UserName"`
	CreateDate            string `xml:"CreateDate"`
	PasswordResetRequired bool   `xml:"PasswordResetRequired"`
}

type loginProfileResult struct {
	LoginProfile loginProfileXML `xml:"LoginProfile"`
}

func passwordPolicyOf(tx store.Tx, account string) (*passwordPolicy, error) {
	s, err := loadSettings(tx, account)
	if err != nil {
		return nil, err
	}
	return s.PasswordPolicy, nil
}

func createLoginProfile(c *service.Call) (any, error) {
	in := newInput(c)
	in.optName("UserName", 64)
	pw, _ := in.password("Password", true)
	reset := in.boolean("PasswordResetRequired")
	if err := in.err(); err != nil {
		return nil, err
	}
	o, lp, err := profileOwner(c)
	if err != nil {
		return nil, err
	}
	if lp != nil {
		return nil, alreadyExists("Login Profile for user %s already exists.", o.name)
	}
	pp, err := passwordPolicyOf(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if err := checkPassword(pp, pw, nil); err != nil {
		return nil, err
	}
	lp = &loginProfile{Account: c.Account(), UserID: o.id, Created: c.Now.UTC(), Changed: c.Now.UTC(), ResetRequired: reset}
	if lp.Hash, err = hashSecret(pw); err != nil {
		return nil, err
	}
	if err := lp.save(c.Tx); err != nil {
		return nil, err
	}
	return &loginProfileResult{loginProfileXML{o.name, isoTime(lp.Created), lp.ResetRequired}}, nil
}

// existingProfile reads UserName (required, or optional: the caller's own) and what
// more reads, and loads the user's login profile, which must exist.
func existingProfile(c *service.Call, userRequired bool, more func(in *input)) (*credOwner, *loginProfile, error) {
	in := newInput(c)
	if userRequired {
		in.name("UserName", 64)
	} else {
		in.optName("UserName", 64)
	}
	if more != nil {
		more(in)
	}
	if err := in.err(); err != nil {
		return nil, nil, err
	}
	o, lp, err := profileOwner(c)
	if err == nil && lp == nil {
		err = noLoginProfile(o.name)
	}
	return o, lp, err
}

func (lp *loginProfile) save(tx store.Tx) error {
	return tx.Put(loginProfileKind, loginProfileKey(lp.Account, lp.UserID), lp)
}

func getLoginProfile(c *service.Call) (any, error) {
	o, lp, err := existingProfile(c, false, nil)
	if err != nil {
		return nil, err
	}
	return &loginProfileResult{loginProfileXML{o.name, isoTime(lp.Created), lp.ResetRequired}}, nil
}

// change sets a new password that the account's password policy accepts, the
// profile's earlier passwords counting for PasswordReusePrevention, and keeps the
// old one's hash.
func (lp *loginProfile) change(tx store.Tx, pw string, now time.Time) error {
	pp, err := passwordPolicyOf(tx, lp.Account)
	if err != nil {
		return err
	}
	if err := checkPassword(pp, pw, append([]string{lp.Hash}, lp.History...)); err != nil {
		return err
	}
	hash, err := hashSecret(pw)
	if err != nil {
		return err
	}
	lp.History = append([]string{lp.Hash}, lp.History...)
	if len(lp.History) > maxPasswordHistory {
		lp.History = lp.History[:maxPasswordHistory]
	}
	lp.Hash, lp.Changed = hash, now.UTC()
	return nil
}

func updateLoginProfile(c *service.Call) (any, error) {
	var pw string
	var given, resetTo bool
	_, lp, err := existingProfile(c, true, func(in *input) {
		pw, given = in.password("Password", false)
		resetTo = in.boolean("PasswordResetRequired")
	})
	if err != nil {
		return nil, err
	}
	if given {
		if err := lp.change(c.Tx, pw, c.Now); err != nil {
			return nil, err
		}
	}
	if c.Params.Has("PasswordResetRequired") {
		lp.ResetRequired = resetTo
	}
	return nil, lp.save(c.Tx)
}

func deleteLoginProfile(c *service.Call) (any, error) {
	_, lp, err := existingProfile(c, false, nil)
	if err != nil {
		return nil, err
	}
	_, err = c.Tx.Delete(loginProfileKind, loginProfileKey(lp.Account, lp.UserID))
	return nil, err
}

// callerUserResource is the calling IAM user's ARN (ChangePassword acts on the
// caller only); any other caller is refused by the handler, so "*" serves.
func callerUserResource(c *service.Call) (string, string, error) {
	if c.Identity == nil || c.Identity.Caller.Kind != policy.User {
		return "*", c.Account(), nil
	}
	return c.Identity.Caller.Arn, c.Account(), nil
}

// changePassword changes the calling IAM user's own password. AWS documents
// InvalidUserType for a caller that is not an IAM user; it does not document the
// answer to a wrong old password, for which iamlocal answers AccessDenied.
func changePassword(c *service.Call) (any, error) {
	var old, pw string
	in := newInput(c)
	old, _ = in.password("OldPassword", true)
	pw, _ = in.password("NewPassword", true)
	if err := in.err(); err != nil {
		return nil, err
	}
	if c.Identity.Caller.Kind != policy.User {
		return nil, wire.Errorf(http.StatusBadRequest, "InvalidUserType", "Only IAM users can change their own password.")
	}
	_, lp, err := existingProfile(c, false, nil)
	if err != nil {
		return nil, err
	}
	if !checkSecret(lp.Hash, old) {
		return nil, wire.AccessDenied("The old password is incorrect.")
	}
	if err := lp.change(c.Tx, pw, c.Now); err != nil {
		return nil, err
	}
	lp.ResetRequired = false
	return nil, lp.save(c.Tx)
}

// passwordOf is what the credential report says of a user's password: whether it
// has one, when it was last set, when it was last used (never: nobody signs in to a
// console here) and when the password policy's MaxPasswordAge makes it due.
func passwordOf(tx store.Tx, account, user string) (has bool, changed, used, next time.Time, err error) {
	var u directory.User
	if err = tx.Get(directory.KindUser, directory.NameKey(account, user), &u); err != nil {
		return false, changed, used, next, err
	}
	var lp loginProfile
	err = tx.Get(loginProfileKind, loginProfileKey(account, u.ID), &lp)
	if errors.Is(err, store.ErrNotFound) {
		return false, changed, used, next, nil
	}
	if err != nil {
		return false, changed, used, next, err
	}
	changed = lp.Changed
	if changed.IsZero() {
		changed = lp.Created
	}
	pp, err := passwordPolicyOf(tx, account)
	if err == nil && pp != nil && pp.MaxPasswordAge > 0 {
		next = changed.AddDate(0, 0, pp.MaxPasswordAge)
	}
	return true, changed, used, next, err
}
