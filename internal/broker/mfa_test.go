package broker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/broker"
	"github.com/iamlocal/iamlocal/internal/mfa"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// TestMFASerialProfile: a profile with role_arn, source_profile and mfa_serial, as the
// AWS CLI writes it, assumes a role whose trust policy requires MFA.
func TestMFASerialProfile(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	root := s.IAM(servertest.Root)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))
	must(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}))
	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := root.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	serial, seed := aws.ToString(dev.VirtualMFADevice.SerialNumber), string(dev.VirtualMFADevice.Base32StringSeed)
	step := mfa.Step(time.Now())
	code := func(s int64) string {
		c, _ := mfa.Code(seed, s)
		return c
	}
	must(root.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(code(step)), AuthenticationCode2: aws.String(code(step + 1))}))
	must(root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("admin"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)}))

	dir := t.TempDir()
	config := "[profile base]\nregion = us-east-1\n\n[profile admin]\nregion = us-east-1\nrole_arn = arn:aws:iam::111111111111:role/admin\nsource_profile = base\nmfa_serial = " + serial + "\n"
	creds := "[base]\naws_access_key_id = " + aws.ToString(key.AccessKey.AccessKeyId) + "\naws_secret_access_key = " + aws.ToString(key.AccessKey.SecretAccessKey) + "\n"
	for name, text := range map[string]string{"config": config, "credentials": creds} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}

	asked := 0
	cfg, err := broker.Load(ctx, broker.Options{Profile: "admin", Endpoint: s.URL, MFAToken: func() (string, error) {
		asked++
		return code(step + 2), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(who.Arn), "arn:aws:sts::111111111111:assumed-role/admin/") || asked != 1 {
		t.Fatalf("caller %s, asked %d times", aws.ToString(who.Arn), asked)
	}

	// A wrong code: STS's refusal reaches the caller.
	cfg, err = broker.Load(ctx, broker.Options{Profile: "admin", Endpoint: s.URL, MFAToken: func() (string, error) { return "000000", nil }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil || !strings.Contains(err.Error(), "MultiFactorAuthentication failed with invalid MFA one time pass code.") {
		t.Fatalf("wrong code: %v", err)
	}
}
