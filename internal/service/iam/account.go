package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/mfa"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

// An account's IAM settings — its alias, password policy and STS token version —
// are one object of kind accountSettingsKind keyed by the account id. Aliases are
// unique across the server (AWS: across a partition): aliasIndex maps each alias
// to the account that holds it.
const (
	accountSettingsKind = "iamaccount"
	aliasIndex          = "iamalias"
)

type accountSettings struct {
	Alias          string          `json:",omitempty"`
	PasswordPolicy *passwordPolicy `json:",omitempty"`
	TokenVersion   string          `json:",omitempty"` // v1Token (default), v2Token
}

func loadSettings(tx store.Tx, account string) (*accountSettings, error) {
	var s accountSettings
	if err := tx.Get(accountSettingsKind, account, &s); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return &s, nil
}

func saveSettings(tx store.Tx, account string, s *accountSettings) error {
	return tx.Put(accountSettingsKind, account, s)
}

func init() {
	register(
		&service.Action{Name: "CreateAccountAlias", IAMAction: "iam:CreateAccountAlias", Write: true, Handle: createAccountAlias},
		&service.Action{Name: "ListAccountAliases", IAMAction: "iam:ListAccountAliases", Handle: listAccountAliases},
		&service.Action{Name: "DeleteAccountAlias", IAMAction: "iam:DeleteAccountAlias", Write: true, Handle: deleteAccountAlias},
		&service.Action{Name: "GetAccountPasswordPolicy", IAMAction: "iam:GetAccountPasswordPolicy",
			Grants: changePasswordGrant, Handle: getAccountPasswordPolicy},
		&service.Action{Name: "UpdateAccountPasswordPolicy", IAMAction: "iam:UpdateAccountPasswordPolicy", Write: true,
			Handle: updateAccountPasswordPolicy},
		&service.Action{Name: "DeleteAccountPasswordPolicy", IAMAction: "iam:DeleteAccountPasswordPolicy", Write: true,
			Handle: deleteAccountPasswordPolicy},
		&service.Action{Name: "SetSecurityTokenServicePreferences", IAMAction: "iam:SetSecurityTokenServicePreferences", Write: true,
			Handle: setSecurityTokenServicePreferences},
		&service.Action{Name: "GetAccountSummary", IAMAction: "iam:GetAccountSummary", Handle: getAccountSummary},
	)
}

// validAlias is botocore's accountAliasType pattern, ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$
// (Go's regexp has no lookahead): lower-case letters, digits and single dashes,
// neither first nor last.
func validAlias(s string) bool {
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && s[i+1] != '-':
		default:
			return false
		}
	}
	return true
}

func (in *input) alias() string {
	s, ok := in.required("AccountAlias")
	if ok {
		in.v.Length(s, "accountAlias", 3, 63)
		in.v.Check(validAlias(s), s, "accountAlias", `satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`)
	}
	return s
}

// aliasRequest reads AccountAlias and loads the account's settings.
func aliasRequest(c *service.Call) (string, *accountSettings, error) {
	in := newInput(c)
	alias := in.alias()
	if err := in.err(); err != nil {
		return "", nil, err
	}
	s, err := loadSettings(c.Tx, c.Account())
	return alias, s, err
}

// createAccountAlias gives the account its one alias; a new alias replaces the old
// one (AWS Sign-In User Guide: "the new alias overwrites the previous alias").
func createAccountAlias(c *service.Call) (any, error) {
	alias, s, err := aliasRequest(c)
	if err != nil {
		return nil, err
	}
	if s.Alias == alias {
		return nil, nil
	}
	ok, err := c.Tx.Insert(aliasIndex, alias, c.Account())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, alreadyExists("The account alias %s already exists.", alias)
	}
	if s.Alias != "" {
		if _, err := c.Tx.Delete(aliasIndex, s.Alias); err != nil {
			return nil, err
		}
	}
	s.Alias = alias
	return nil, saveSettings(c.Tx, c.Account(), s)
}

type listAccountAliasesResult struct {
	AccountAliases list[string] `xml:"AccountAliases"`
	IsTruncated    bool         `xml:"IsTruncated"`
	Marker         string       `xml:"Marker,omitempty"`
}

func listAccountAliases(c *service.Call) (any, error) {
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	s, err := loadSettings(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	var aliases []string
	if s.Alias != "" {
		aliases = []string{s.Alias}
	}
	start, end, truncated, marker, err := slicePage(len(aliases), p)
	if err != nil {
		return nil, err
	}
	res := &listAccountAliasesResult{IsTruncated: truncated, Marker: marker}
	res.AccountAliases.Member = append([]string{}, aliases[start:end]...)
	return res, nil
}

func deleteAccountAlias(c *service.Call) (any, error) {
	alias, s, err := aliasRequest(c)
	if err != nil {
		return nil, err
	}
	if s.Alias != alias {
		return nil, noSuchEntity("The account alias %s cannot be found.", alias)
	}
	if _, err := c.Tx.Delete(aliasIndex, alias); err != nil {
		return nil, err
	}
	s.Alias = ""
	return nil, saveSettings(c.Tx, c.Account(), s)
}

// passwordPolicy is an account's custom password policy. UpdateAccountPasswordPolicy
// replaces it whole: a parameter left out takes its default (AWS: "If you do not
// specify a value for this parameter, then the operation uses the default value").
type passwordPolicy struct {
	MinimumPasswordLength      int
	RequireSymbols             bool
	RequireNumbers             bool
	RequireUppercaseCharacters bool
	RequireLowercaseCharacters bool
	AllowUsersToChangePassword bool
	MaxPasswordAge             int   `json:",omitempty"` // days; 0: passwords never expire
	PasswordReusePrevention    int   `json:",omitempty"` // 0: reuse allowed
	HardExpiry                 *bool `json:",omitempty"`
}

type passwordPolicyXML struct {
	MinimumPasswordLength      int   `xml:"MinimumPasswordLength"`
	RequireSymbols             bool  `xml:"RequireSymbols"`
	RequireNumbers             bool  `xml:"RequireNumbers"`
	RequireUppercaseCharacters bool  `xml:"RequireUppercaseCharacters"`
	RequireLowercaseCharacters bool  `xml:"RequireLowercaseCharacters"`
	AllowUsersToChangePassword bool  `xml:"AllowUsersToChangePassword"`
	ExpirePasswords            bool  `xml:"ExpirePasswords"`
	MaxPasswordAge             int   `xml:"MaxPasswordAge,omitempty"`
	PasswordReusePrevention    int   `xml:"PasswordReusePrevention,omitempty"`
	HardExpiry                 *bool `xml:"HardExpiry,omitempty"`
}

type getPasswordPolicyResult struct {
	PasswordPolicy passwordPolicyXML `xml:"PasswordPolicy"`
}

// noPasswordPolicy is AWS's answer for an account without a custom policy ("domain
// name" is the account id).
func noPasswordPolicy(account string) error {
	return noSuchEntity("The Password Policy with domain name %s cannot be found.", account)
}

func getAccountPasswordPolicy(c *service.Call) (any, error) {
	s, err := loadSettings(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	pp := s.PasswordPolicy
	if pp == nil {
		return nil, noPasswordPolicy(c.Account())
	}
	return &getPasswordPolicyResult{passwordPolicyXML{MinimumPasswordLength: pp.MinimumPasswordLength,
		RequireSymbols: pp.RequireSymbols, RequireNumbers: pp.RequireNumbers,
		RequireUppercaseCharacters: pp.RequireUppercaseCharacters, RequireLowercaseCharacters: pp.RequireLowercaseCharacters,
		AllowUsersToChangePassword: pp.AllowUsersToChangePassword, ExpirePasswords: pp.MaxPasswordAge > 0,
		MaxPasswordAge: pp.MaxPasswordAge, PasswordReusePrevention: pp.PasswordReusePrevention, HardExpiry: pp.HardExpiry}}, nil
}

// intRange reads an optional integer parameter within [min, max]; def when absent.
func (in *input) intRange(param string, min, max, def int) int {
	n, given, err := in.c.Params.Int(param)
	if err != nil {
		in.v.Check(false, in.c.Params.Get(param), lowerFirst(param), "be a number")
		return def
	}
	if !given {
		return def
	}
	s := fmt.Sprint(n)
	in.v.Check(n >= min, s, lowerFirst(param), fmt.Sprintf("have value greater than or equal to %d", min))
	in.v.Check(n <= max, s, lowerFirst(param), fmt.Sprintf("have value less than or equal to %d", max))
	return n
}

func updateAccountPasswordPolicy(c *service.Call) (any, error) {
	in := newInput(c)
	pp := &passwordPolicy{
		MinimumPasswordLength:      in.intRange("MinimumPasswordLength", 6, 128, 6),
		RequireSymbols:             in.boolean("RequireSymbols"),
		RequireNumbers:             in.boolean("RequireNumbers"),
		RequireUppercaseCharacters: in.boolean("RequireUppercaseCharacters"),
		RequireLowercaseCharacters: in.boolean("RequireLowercaseCharacters"),
		AllowUsersToChangePassword: in.boolean("AllowUsersToChangePassword"),
		MaxPasswordAge:             in.intRange("MaxPasswordAge", 1, 1095, 0),
		PasswordReusePrevention:    in.intRange("PasswordReusePrevention", 1, 24, 0),
	}
	if c.Params.Has("HardExpiry") {
		h := in.boolean("HardExpiry")
		pp.HardExpiry = &h
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	s, err := loadSettings(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	s.PasswordPolicy = pp
	return nil, saveSettings(c.Tx, c.Account(), s)
}

func deleteAccountPasswordPolicy(c *service.Call) (any, error) {
	s, err := loadSettings(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if s.PasswordPolicy == nil {
		return nil, noPasswordPolicy(c.Account())
	}
	s.PasswordPolicy = nil
	return nil, saveSettings(c.Tx, c.Account(), s)
}

// changePasswordGrant is what AllowUsersToChangePassword gives every IAM user of
// the account: "permissions to iam:ChangePassword for only their user and to the
// iam:GetAccountPasswordPolicy action … applied at the account-level for all users
// by IAM" (PasswordPolicy.AllowUsersToChangePassword). It is the document of AWS's
// IAMUserChangePassword managed policy, evaluated as part of the caller's identity
// policies, so an explicit deny still wins.
var changePasswordPolicy = func() *policy.Policy {
	p, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[`+
		`{"Effect":"Allow","Action":"iam:ChangePassword","Resource":["arn:aws:iam::*:user/${aws:username}","arn:aws:iam::*:user/*/${aws:username}"]},`+
		`{"Effect":"Allow","Action":"iam:GetAccountPasswordPolicy","Resource":"*"}]}`), policy.Identity)
	if err != nil {
		panic(err)
	}
	return p
}()

func changePasswordGrant(c *service.Call) ([]*policy.Policy, error) {
	if c.Identity == nil || c.Identity.Caller.Kind != policy.User {
		return nil, nil
	}
	s, err := loadSettings(c.Tx, c.Account())
	if err != nil || s.PasswordPolicy == nil || !s.PasswordPolicy.AllowUsersToChangePassword {
		return nil, err
	}
	return []*policy.Policy{changePasswordPolicy}, nil
}

func setSecurityTokenServicePreferences(c *service.Call) (any, error) {
	in := newInput(c)
	if v, ok := in.required("GlobalEndpointTokenVersion"); ok {
		in.v.Check(v == "v1Token" || v == "v2Token", v, "globalEndpointTokenVersion", "satisfy enum value set: [v1Token, v2Token]")
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	s, err := loadSettings(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	s.TokenVersion = c.Params.Get("GlobalEndpointTokenVersion")
	return nil, saveSettings(c.Tx, c.Account(), s)
}

type summaryEntry struct {
	Key   string `xml:"key"`
	Value int    `xml:"value"`
}

type accountSummaryResult struct {
	SummaryMap []summaryEntry `xml:"SummaryMap>entry"`
}

// summaryQuotas are IAM's default quotas as GetAccountSummary reports them (IAM and
// AWS STS quotas, IAM User Guide).
var summaryQuotas = map[string]int{
	"UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500, "InstanceProfilesQuota": 1000,
	"ServerCertificatesQuota": maxServerCerts, "UserPolicySizeQuota": 2048, "GroupPolicySizeQuota": 5120, "RolePolicySizeQuota": 10240,
	"PolicySizeQuota": managedPolicyMaxSize, "AssumeRolePolicySizeQuota": trustPolicyMaxSize, "GroupsPerUserQuota": maxGroupsPerUser,
	"SigningCertificatesPerUserQuota": signingCerts.perUser, "AccessKeysPerUserQuota": maxAccessKeys, "AttachedPoliciesPerUserQuota": maxAttached,
	"AttachedPoliciesPerGroupQuota": maxAttached, "AttachedPoliciesPerRoleQuota": maxAttached,
	"VersionsPerPolicyQuota": maxPolicyVersions, "PolicyVersionsInUseQuota": 10000,
}

// getAccountSummary counts the account's entities from the store. What iamlocal
// has no way to create (a root password, root MFA) counts 0; Providers counts the
// account's SAML and OIDC providers (AWS's reference does not say which kinds).
func getAccountSummary(c *service.Call) (any, error) {
	acct := c.Account()
	m := map[string]int{"AccountMFAEnabled": 0, "AccountPasswordPresent": 0}
	for k, v := range summaryQuotas {
		m[k] = v
	}
	counts := []struct{ key, kind, prefix string }{
		{"Users", directory.KindUser, acct + "/"}, {"Groups", directory.KindGroup, acct + "/"},
		{"Roles", directory.KindRole, acct + "/"}, {"InstanceProfiles", directory.KindInstanceProfile, acct + "/"},
		{"ServerCertificates", serverCertKind, acct + "/"},
		{"AccountSigningCertificatesPresent", signingCerts.kind, credPrefix(acct, "")},
		{"MFADevices", mfa.Kind, acct + "/"},
		{"Providers", directory.KindSAMLProvider, acct + "/"}, {"oidcProviders", directory.KindOIDCProvider, acct + "/"},
	}
	for _, s := range counts {
		n, err := count(c.Tx, s.kind, s.prefix)
		if err != nil {
			return nil, err
		}
		m[s.key] = n
	}
	m["AccountSigningCertificatesPresent"] = min(m["AccountSigningCertificatesPresent"], 1)
	m["Providers"] += m["oidcProviders"]
	delete(m, "oidcProviders")
	inUse, err := mfaInUse(c.Tx, acct)
	if err != nil {
		return nil, err
	}
	m["MFADevicesInUse"] = inUse
	local, err := scopedPolicies(c.Tx, acct, "Local")
	if err != nil {
		return nil, err
	}
	m["Policies"] = len(local)
	for _, mp := range local {
		m["PolicyVersionsInUse"] += len(mp.Versions)
	}
	keys, err := listKeys(c.Tx, acct, "")
	if err != nil {
		return nil, err
	}
	m["AccountAccessKeysPresent"] = min(len(keys), 1)
	s, err := loadSettings(c.Tx, acct)
	if err != nil {
		return nil, err
	}
	m["GlobalEndpointTokenVersion"] = 1
	if s.TokenVersion == "v2Token" {
		m["GlobalEndpointTokenVersion"] = 2
	}
	res := &accountSummaryResult{}
	for k, v := range m {
		res.SummaryMap = append(res.SummaryMap, summaryEntry{k, v})
	}
	sort.Slice(res.SummaryMap, func(i, j int) bool { return res.SummaryMap[i].Key < res.SummaryMap[j].Key })
	return res, nil
}

// mfaInUse counts the account's MFA devices enabled for a user.
func mfaInUse(tx store.Tx, account string) (int, error) {
	n := 0
	err := tx.Scan(mfa.Kind, account+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var d mfa.Device
		if err := json.Unmarshal(data, &d); err != nil {
			return false, err
		}
		if d.User != "" {
			n++
		}
		return true, nil
	})
	return n, err
}
