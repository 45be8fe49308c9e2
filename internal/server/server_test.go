package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestRootGetCallerIdentity(t *testing.T) {
	s := servertest.Start(t, "")
	out, err := s.STS(servertest.Root).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != servertest.Account || aws.ToString(out.Arn) != "arn:aws:iam::111111111111:root" || aws.ToString(out.UserId) != servertest.Account {
		t.Fatalf("GetCallerIdentity: %s %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
	}
}

func TestAuthenticationErrors(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	_, err := s.STS(servertest.Creds{ID: "AKIAUNKNOWNKEY000000", Secret: "x"}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if apiCode(err) != "InvalidClientTokenId" {
		t.Fatalf("unknown key: %v", err)
	}
	_, err = s.STS(servertest.Creds{ID: servertest.RootKeyID, Secret: "wrong"}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if apiCode(err) != "SignatureDoesNotMatch" || !strings.Contains(err.Error(), "Canonical String") {
		t.Fatalf("wrong secret: %v", err)
	}
	_, err = s.STS(servertest.Creds{ID: "ASIAUNKNOWNKEY000000", Secret: "x", Token: "IQoJgarbage"}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if apiCode(err) != "InvalidClientTokenId" {
		t.Fatalf("forged token: %v", err)
	}
}

const trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-123"}}}]}`

func TestUserAssumesRole(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	root := s.IAM(servertest.Root)
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	_, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")})
	if apiCode(err) != "EntityAlreadyExists" {
		t.Fatalf("duplicate user (names are case-insensitive): %v", err)
	}
	_ = trustAccount
}

// TestRestartKeepsSessions: a session issued before a restart on the same data
// directory stays valid after it, and so does everything written.
func TestRestartKeepsSessions(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := servertest.Start(t, dir)
	tok, err := s.STS(servertest.Root).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.IAM(servertest.Root).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/ops/")}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = servertest.Start(t, dir)
	creds := servertest.Creds{ID: aws.ToString(tok.Credentials.AccessKeyId), Secret: aws.ToString(tok.Credentials.SecretAccessKey), Token: aws.ToString(tok.Credentials.SessionToken)}
	who, err := s.STS(creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("session after restart: %v", err)
	}
	if aws.ToString(who.Arn) != "arn:aws:iam::111111111111:root" {
		t.Fatalf("session after restart is %s", aws.ToString(who.Arn))
	}
	u, err := s.IAM(servertest.Root).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("BOB")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(u.User.Arn) != "arn:aws:iam::111111111111:user/ops/bob" {
		t.Fatalf("user after restart: %s", aws.ToString(u.User.Arn))
	}
}

// TestSessionTokenCredentialLimits: GetSessionToken credentials cannot call IAM
// without MFA, nor STS actions other than AssumeRole and GetCallerIdentity.
func TestSessionTokenCredentialLimits(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	tok, err := s.STS(servertest.Root).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.Credentials.Expiration.Sub(time.Now()); d > time.Hour+time.Minute {
		t.Fatalf("root session lasts %v, AWS caps it at one hour", d)
	}
	creds := servertest.Creds{ID: aws.ToString(tok.Credentials.AccessKeyId), Secret: aws.ToString(tok.Credentials.SecretAccessKey), Token: aws.ToString(tok.Credentials.SessionToken)}
	if _, err := s.IAM(creds).ListUsers(ctx, &iam.ListUsersInput{}); apiCode(err) != "InvalidClientTokenId" {
		t.Fatalf("IAM without MFA: %v", err)
	}
	if _, err := s.STS(creds).GetSessionToken(ctx, &sts.GetSessionTokenInput{}); apiCode(err) != "AccessDenied" {
		t.Fatalf("GetSessionToken with session credentials: %v", err)
	}
}

func TestGetAccessKeyInfo(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	tok, err := s.STS(servertest.Root).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.STS(servertest.Root).GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: tok.Credentials.AccessKeyId})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != servertest.Account {
		t.Fatalf("account of a temporary key: %s", aws.ToString(out.Account))
	}
	if _, err := s.STS(servertest.Root).GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String("short")}); apiCode(err) != "ValidationError" {
		t.Fatalf("short key id: %v", err)
	}
}

// TestPolicyChangesTakeEffectOnTheNextRequest: decisions are cached per store
// generation, so a write is seen by the very next call.
func TestPolicyChangesTakeEffectOnTheNextRequest(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	root := s.IAM(servertest.Root)
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dana")}); err != nil {
		t.Fatal(err)
	}
	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dana")})
	if err != nil {
		t.Fatal(err)
	}
	dana := s.IAM(servertest.Creds{ID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)})
	for round := 0; round < 3; round++ {
		if _, err := dana.ListUsers(ctx, &iam.ListUsersInput{}); apiCode(err) != "AccessDenied" {
			t.Fatalf("round %d, before the policy: %v", round, err)
		}
		if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dana"), PolicyName: aws.String("list"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		if _, err := dana.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatalf("round %d, with the policy: %v", round, err)
		}
		if _, err := root.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("dana"), PolicyName: aws.String("list")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("dana"), AccessKeyId: key.AccessKey.AccessKeyId, Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dana.ListUsers(ctx, &iam.ListUsersInput{}); apiCode(err) != "InvalidClientTokenId" {
		t.Fatalf("inactive key: %v", err)
	}
}
