package sts_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/mfa"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// clock is a server clock tests move (by less than SigV4's five minutes).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type mfaWorld struct {
	s      *servertest.Server
	ctx    context.Context
	clock  *clock
	root   *iam.Client
	alice  servertest.Creds
	serial string
	seed   string
}

const trustMFA = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},
  "Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`

// mfaSetup: user alice with a virtual MFA device enabled, and role admin whose trust
// policy requires MFA and whose permissions require a fresh one for iam:ListRoles.
func mfaSetup(t *testing.T) *mfaWorld {
	t.Helper()
	c := &clock{t: time.Now()}
	s := servertest.StartClock(t, "", c.now)
	w := &mfaWorld{s: s, ctx: context.Background(), clock: c, root: s.IAM(servertest.Root)}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.root.CreateUser(w.ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))
	must(w.root.PutUserPolicy(w.ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","iam:ListUsers"],"Resource":"*"}]}`)}))
	key, err := w.root.CreateAccessKey(w.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	w.alice = servertest.Creds{ID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)}
	dev, err := w.root.CreateVirtualMFADevice(w.ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	w.serial, w.seed = aws.ToString(dev.VirtualMFADevice.SerialNumber), string(dev.VirtualMFADevice.Base32StringSeed)
	// Codes as a phone shows them: one now, the next 30 seconds later.
	c1 := w.code(t, 0)
	c.add(30 * time.Second)
	c2 := w.code(t, 0)
	must(w.root.EnableMFADevice(w.ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(w.serial),
		AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)}))
	must(w.root.CreateRole(w.ctx, &iam.CreateRoleInput{RoleName: aws.String("admin"), AssumeRolePolicyDocument: aws.String(trustMFA)}))
	must(w.root.PutRolePolicy(w.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("admin"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","sts:AssumeRole"],"Resource":"*"},
		  {"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"60"}}}]}`)}))
	return w
}

// code is the device's code steps 30-second steps from the server's now.
func (w *mfaWorld) code(t *testing.T, steps int64) string {
	t.Helper()
	c, err := mfa.Code(w.seed, mfa.Step(w.clock.now())+steps)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The wording of STS's MFA refusals, as users report them from AWS:
// "MultiFactorAuthentication failed with invalid MFA one time pass code." for a wrong
// or reused code (lonelyplanet/aws-mfa#21, aws/aws-cli#2279), and "…unable to
// validate MFA code.  Please verify your MFA serial number is valid and associated
// with this user." for a serial number that is not the caller's (aws/aws-cli#6325).
const (
	invalidCode   = "MultiFactorAuthentication failed with invalid MFA one time pass code."
	notAssociated = "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user."
)

func TestGetSessionTokenWithMFA(t *testing.T) {
	w := mfaSetup(t)
	alice := w.s.STS(w.alice)
	// Without MFA, GetSessionToken's credentials cannot call IAM.
	plain, err := alice.GetSessionToken(w.ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.s.IAM(sessionCreds(plain.Credentials)).ListUsers(w.ctx, &iam.ListUsersInput{})
	apiErr(t, err, "InvalidClientTokenId", "")

	w.clock.add(30 * time.Second)
	code := w.code(t, 0)
	out, err := alice.GetSessionToken(w.ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(w.serial), TokenCode: aws.String(code)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.IAM(sessionCreds(out.Credentials)).ListUsers(w.ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("with MFA: %v", err)
	}
	// The same code again: AWS takes each code once.
	_, err = alice.GetSessionToken(w.ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(w.serial), TokenCode: aws.String(code)})
	apiErr(t, err, "AccessDenied", invalidCode)
	_, err = alice.GetSessionToken(w.ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(w.serial), TokenCode: aws.String(w.code(t, 5))})
	apiErr(t, err, "AccessDenied", invalidCode)
	_, err = alice.GetSessionToken(w.ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String("arn:aws:iam::111111111111:mfa/nobody"), TokenCode: aws.String(code)})
	apiErr(t, err, "AccessDenied", notAssociated)
	// The root user has no virtual device here: its serial numbers never validate.
	_, err = w.s.STS(servertest.Root).GetSessionToken(w.ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(w.serial), TokenCode: aws.String(code)})
	apiErr(t, err, "AccessDenied", notAssociated)

	// The MFA session may assume the role whose trust requires MFA, without a code.
	if _, err := w.s.STS(sessionCreds(out.Credentials)).AssumeRole(w.ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/admin"),
		RoleSessionName: aws.String("s1")}); err != nil {
		t.Fatalf("AssumeRole with an MFA session: %v", err)
	}
}

func TestAssumeRoleWithMFA(t *testing.T) {
	w := mfaSetup(t)
	alice := w.s.STS(w.alice)
	role := aws.String("arn:aws:iam::111111111111:role/admin")
	_, err := alice.AssumeRole(w.ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1")})
	apiErr(t, err, "AccessDenied", "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/admin")
	w.clock.add(30 * time.Second)
	code := w.code(t, 0)
	out, err := alice.AssumeRole(w.ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1"),
		SerialNumber: aws.String(w.serial), TokenCode: aws.String(code)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = alice.AssumeRole(w.ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1"),
		SerialNumber: aws.String(w.serial), TokenCode: aws.String(code)})
	apiErr(t, err, "AccessDenied", invalidCode)

	// aws:MultiFactorAuthAge is counted from the assume at each request.
	sess := w.s.IAM(sessionCreds(out.Credentials))
	if _, err := sess.ListRoles(w.ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatalf("MFA 0 seconds ago: %v", err)
	}
	w.clock.add(90 * time.Second)
	_, err = sess.ListRoles(w.ctx, &iam.ListRolesInput{})
	apiErr(t, err, "AccessDenied", "iam:ListRoles")

	// Role chaining carries MFA and its age.
	chained, err := w.s.STS(sessionCreds(out.Credentials)).AssumeRole(w.ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("c1")})
	if err != nil {
		t.Fatalf("chained: %v", err)
	}
	_, err = w.s.IAM(sessionCreds(chained.Credentials)).ListRoles(w.ctx, &iam.ListRolesInput{})
	apiErr(t, err, "AccessDenied", "iam:ListRoles")
}

// enableMFA gives a user a virtual MFA device, enabled with its codes of now and the
// next step, and returns its serial number and the first code STS will accept.
func enableMFA(t *testing.T, s *servertest.Server, user string) (serial, code string) {
	t.Helper()
	ctx := context.Background()
	root := s.IAM(servertest.Root)
	dev, err := root.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	serial, seed := aws.ToString(dev.VirtualMFADevice.SerialNumber), string(dev.VirtualMFADevice.Base32StringSeed)
	step := mfa.Step(time.Now())
	codeAt := func(s int64) string {
		c, err := mfa.Code(seed, s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := root.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(codeAt(step)), AuthenticationCode2: aws.String(codeAt(step + 1))}); err != nil {
		t.Fatal(err)
	}
	return serial, codeAt(step + 2)
}
