package iam_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// memberRoot creates an organization with one member account and returns an IAM
// client signing as that account's root user.
func (e *env) memberRoot() *iam.Client {
	e.t.Helper()
	org := e.s.Organizations(servertest.Root)
	ok(org.CreateOrganization(e.ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}))(e.t)
	out := ok(org.CreateAccount(e.ctx, &organizations.CreateAccountInput{AccountName: aws.String("member"), Email: aws.String("member@example.com")}))(e.t)
	st := ok(org.DescribeCreateAccountStatus(e.ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id}))(e.t)
	return e.s.IAM(e.s.RootKey(e.t, aws.ToString(st.CreateAccountStatus.AccountId)))
}

func TestAccountAlias(t *testing.T) {
	e := start(t)
	aliases := func(c *iam.Client) []string {
		t.Helper()
		return ok(c.ListAccountAliases(e.ctx, &iam.ListAccountAliasesInput{}))(t).AccountAliases
	}
	if got := aliases(e.root); len(got) != 0 {
		t.Fatalf("fresh account aliases: %v", got)
	}
	ok(e.root.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-corp")}))(t)
	ok(e.root.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-corp")}))(t)
	if got := aliases(e.root); len(got) != 1 || got[0] != "example-corp" {
		t.Fatalf("aliases: %v", got)
	}
	// One alias per account: a new one replaces the old (AWS Sign-In User Guide,
	// "the new alias overwrites the previous alias").
	ok(e.root.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example2")}))(t)
	if got := aliases(e.root); len(got) != 1 || got[0] != "example2" {
		t.Fatalf("aliases after replacing: %v", got)
	}
	// Aliases are unique across accounts; the replaced one is free again. The
	// message is AWS's as botocore stubs in public tests record it.
	member := e.memberRoot()
	_, err := member.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example2")})
	wantErr(t, err, "EntityAlreadyExists", 409, "The account alias example2 already exists.")
	ok(member.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("example-corp")}))(t)

	_, err = e.root.DeleteAccountAlias(e.ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("example-corp")})
	wantErr(t, err, "NoSuchEntity", 404, "The account alias example-corp cannot be found.")
	ok(e.root.DeleteAccountAlias(e.ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("example2")}))(t)
	if got := aliases(e.root); len(got) != 0 {
		t.Fatalf("aliases after delete: %v", got)
	}
}

func TestAccountAliasValidation(t *testing.T) {
	e := start(t)
	// botocore's accountAliasType: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$, 3 to 63.
	const pattern = "Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$"
	for _, bad := range []string{"Upper", "-lead", "trail-", "dou--ble", "a_b"} {
		_, err := e.root.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(bad)})
		wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value '"+bad+"' at 'accountAlias' failed to satisfy constraint: "+pattern)
	}
	_, err := e.root.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("ab")})
	wantErr(t, err, "ValidationError", 400, "2 validation errors detected: Value 'ab' at 'accountAlias' failed to satisfy constraint: Member must have length greater than or equal to 3; "+
		"Value 'ab' at 'accountAlias' failed to satisfy constraint: "+pattern)
	ok(e.root.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("a-1-b")}))(t)
}

func TestPasswordPolicy(t *testing.T) {
	e := start(t)
	// GetAccountPasswordPolicy without a policy: the "domain name" is the account
	// id (as AWS answers; recorded in public scanners' tests and moto's).
	_, err := e.root.GetAccountPasswordPolicy(e.ctx, &iam.GetAccountPasswordPolicyInput{})
	wantErr(t, err, "NoSuchEntity", 404, "The Password Policy with domain name 111111111111 cannot be found.")
	_, err = e.root.DeleteAccountPasswordPolicy(e.ctx, &iam.DeleteAccountPasswordPolicyInput{})
	wantErr(t, err, "NoSuchEntity", 404, "The Password Policy with domain name 111111111111 cannot be found.")

	ok(e.root.UpdateAccountPasswordPolicy(e.ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(12),
		RequireNumbers: true, RequireSymbols: true, MaxPasswordAge: aws.Int32(90), PasswordReusePrevention: aws.Int32(2)}))(t)
	pp := ok(e.root.GetAccountPasswordPolicy(e.ctx, &iam.GetAccountPasswordPolicyInput{}))(t).PasswordPolicy
	if aws.ToInt32(pp.MinimumPasswordLength) != 12 || !pp.RequireNumbers || !pp.RequireSymbols || pp.RequireUppercaseCharacters ||
		!pp.ExpirePasswords || aws.ToInt32(pp.MaxPasswordAge) != 90 || aws.ToInt32(pp.PasswordReusePrevention) != 2 || pp.HardExpiry != nil {
		t.Fatalf("policy: %+v", pp)
	}
	// Update replaces the whole policy: what is left out takes its default.
	ok(e.root.UpdateAccountPasswordPolicy(e.ctx, &iam.UpdateAccountPasswordPolicyInput{HardExpiry: aws.Bool(true)}))(t)
	pp = ok(e.root.GetAccountPasswordPolicy(e.ctx, &iam.GetAccountPasswordPolicyInput{}))(t).PasswordPolicy
	if aws.ToInt32(pp.MinimumPasswordLength) != 6 || pp.RequireNumbers || pp.ExpirePasswords || pp.MaxPasswordAge != nil || !aws.ToBool(pp.HardExpiry) {
		t.Fatalf("policy after update: %+v", pp)
	}
	_, err = e.root.UpdateAccountPasswordPolicy(e.ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(5), MaxPasswordAge: aws.Int32(2000)})
	wantErr(t, err, "ValidationError", 400, "2 validation errors detected: Value '5' at 'minimumPasswordLength' failed to satisfy constraint: Member must have value greater than or equal to 6; "+
		"Value '2000' at 'maxPasswordAge' failed to satisfy constraint: Member must have value less than or equal to 1095")
	ok(e.root.DeleteAccountPasswordPolicy(e.ctx, &iam.DeleteAccountPasswordPolicyInput{}))(t)
	_, err = e.root.GetAccountPasswordPolicy(e.ctx, &iam.GetAccountPasswordPolicyInput{})
	wantErr(t, err, "NoSuchEntity", 404, "The Password Policy with domain name 111111111111 cannot be found.")
}

func TestSecurityTokenServicePreferences(t *testing.T) {
	e := start(t)
	version := func() int32 {
		t.Helper()
		return ok(e.root.GetAccountSummary(e.ctx, &iam.GetAccountSummaryInput{}))(t).SummaryMap["GlobalEndpointTokenVersion"]
	}
	if v := version(); v != 1 {
		t.Fatalf("default token version %d", v)
	}
	ok(e.root.SetSecurityTokenServicePreferences(e.ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: types.GlobalEndpointTokenVersionV2Token}))(t)
	if v := version(); v != 2 {
		t.Fatalf("token version after v2Token: %d", v)
	}
	_, err := e.root.SetSecurityTokenServicePreferences(e.ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: "v3Token"})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value 'v3Token' at 'globalEndpointTokenVersion' failed to satisfy constraint: Member must satisfy enum value set: [v1Token, v2Token]")
}

// TestAccountStateSurvivesRestart: aliases, the password policy, the token version,
// login profiles and credentials are in the store.
func TestAccountStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e := &env{t: t, ctx: t.Context()}
	e.s = servertest.Start(t, dir)
	e.root = e.s.IAM(servertest.Root)
	ok(e.root.CreateAccountAlias(e.ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("kept")}))(t)
	ok(e.root.UpdateAccountPasswordPolicy(e.ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(10)}))(t)
	ok(e.root.SetSecurityTokenServicePreferences(e.ctx, &iam.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: types.GlobalEndpointTokenVersionV2Token}))(t)
	e.user("u")
	ok(e.root.CreateLoginProfile(e.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("u"), Password: aws.String("Long-enough-1")}))(t)
	ok(e.root.UploadSSHPublicKey(e.ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("u"), SSHPublicKeyBody: aws.String(testSSHKey(t))}))(t)
	cert, key := testCert(t, "kept.example.com")
	ok(e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("web"), CertificateBody: &cert, PrivateKey: &key}))(t)
	e.s.Close()

	e.s = servertest.Start(t, dir)
	e.root = e.s.IAM(servertest.Root)
	if got := ok(e.root.ListAccountAliases(e.ctx, &iam.ListAccountAliasesInput{}))(t).AccountAliases; len(got) != 1 || got[0] != "kept" {
		t.Fatalf("aliases after restart: %v", got)
	}
	if pp := ok(e.root.GetAccountPasswordPolicy(e.ctx, &iam.GetAccountPasswordPolicyInput{}))(t).PasswordPolicy; aws.ToInt32(pp.MinimumPasswordLength) != 10 {
		t.Fatalf("policy after restart: %+v", pp)
	}
	m := ok(e.root.GetAccountSummary(e.ctx, &iam.GetAccountSummaryInput{}))(t).SummaryMap
	if m["GlobalEndpointTokenVersion"] != 2 || m["ServerCertificates"] != 1 || m["Users"] != 1 {
		t.Fatalf("summary after restart: %v", m)
	}
	ok(e.root.GetLoginProfile(e.ctx, &iam.GetLoginProfileInput{UserName: aws.String("u")}))(t)
	if keys := ok(e.root.ListSSHPublicKeys(e.ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("u")}))(t).SSHPublicKeys; len(keys) != 1 {
		t.Fatalf("SSH keys after restart: %+v", keys)
	}
	ok(e.root.GetServerCertificate(e.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("web")}))(t)
}

func TestGetAccountSummaryCounts(t *testing.T) {
	e := start(t)
	e.account()
	e.user("certs")
	cert, key := testCert(t, "summary.example.com")
	ok(e.root.UploadServerCertificate(e.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("web"), CertificateBody: &cert, PrivateKey: &key}))(t)
	m := ok(e.root.GetAccountSummary(e.ctx, &iam.GetAccountSummaryInput{}))(t).SummaryMap
	if m["AccountSigningCertificatesPresent"] != 0 {
		t.Fatalf("signing certificates present before upload: %v", m)
	}
	root, _ := testCert(t, "root-signing")
	ok(e.root.UploadSigningCertificate(e.ctx, &iam.UploadSigningCertificateInput{CertificateBody: &root}))(t)
	m = ok(e.root.GetAccountSummary(e.ctx, &iam.GetAccountSummaryInput{}))(t).SummaryMap
	want := map[string]int32{"Users": 2, "Groups": 1, "Roles": 1, "Policies": 1, "InstanceProfiles": 1, "ServerCertificates": 1,
		"AccountSigningCertificatesPresent": 1, "AccountAccessKeysPresent": 1, "AccountMFAEnabled": 0, "MFADevices": 0, "Providers": 0,
		"ServerCertificatesQuota": 20, "SigningCertificatesPerUserQuota": 2, "UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000,
		"PoliciesQuota": 1500, "InstanceProfilesQuota": 1000, "GroupsPerUserQuota": 10, "PolicyVersionsInUseQuota": 10000,
		"UserPolicySizeQuota": 2048, "GroupPolicySizeQuota": 5120, "GlobalEndpointTokenVersion": 1}
	for k, v := range want {
		if got, present := m[k]; !present || got != v {
			t.Errorf("%s = %d (present %v), want %d", k, got, present, v)
		}
	}
	// Every key of botocore's summaryKeyType is reported.
	for _, k := range types.SummaryKeyType("").Values() {
		if _, present := m[string(k)]; !present {
			t.Errorf("summary lacks %s", k)
		}
	}
}
