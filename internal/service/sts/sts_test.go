package sts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func apiErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("got %v, want %s containing %q", err, code, msg)
	}
}

type world struct {
	s     *servertest.Server
	alice servertest.Creds // user alice, allowed sts:AssumeRole on role/deploy
}

const trustAlice = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`

func setup(t *testing.T, trust string, maxSession int32) *world {
	t.Helper()
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
	must(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Resource":"arn:aws:iam::111111111111:role/*"}]}`)}))
	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	must(root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(trust),
		MaxSessionDuration: aws.Int32(maxSession), Tags: nil}))
	must(root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetUser","sts:AssumeRole"],"Resource":"*"}]}`)}))
	return &world{s: s, alice: servertest.Creds{ID: aws.ToString(key.AccessKey.AccessKeyId), Secret: aws.ToString(key.AccessKey.SecretAccessKey)}}
}

func sessionCreds(c *ststypes.Credentials) servertest.Creds {
	return servertest.Creds{ID: aws.ToString(c.AccessKeyId), Secret: aws.ToString(c.SecretAccessKey), Token: aws.ToString(c.SessionToken)}
}

func TestAssumeRoleAndUseSession(t *testing.T) {
	w := setup(t, trustAlice, 7200)
	ctx := context.Background()
	out, err := w.s.STS(w.alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/deploy"),
		RoleSessionName: aws.String("ci-42"), DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::111111111111:assumed-role/deploy/ci-42" {
		t.Fatalf("AssumedRoleUser.Arn %s", got)
	}
	if id := aws.ToString(out.AssumedRoleUser.AssumedRoleId); !strings.HasPrefix(id, "AROA") || !strings.HasSuffix(id, ":ci-42") {
		t.Fatalf("AssumedRoleId %s", id)
	}
	if !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") {
		t.Fatalf("access key %s", aws.ToString(out.Credentials.AccessKeyId))
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 119*time.Minute || d > 121*time.Minute {
		t.Fatalf("expires in %v, want 2h", d)
	}
	sess := sessionCreds(out.Credentials)
	who, err := w.s.STS(sess).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:sts::111111111111:assumed-role/deploy/ci-42" {
		t.Fatalf("GetCallerIdentity as the session: %v %v", aws.ToString(who.Arn), err)
	}
	// The session carries the role's policies: ListUsers allowed, CreateUser not.
	if _, err := w.s.IAM(sess).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = w.s.IAM(sess).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	apiErr(t, err, "AccessDenied", "User: arn:aws:sts::111111111111:assumed-role/deploy/ci-42 is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111111111111:user/mallory because no identity-based policy allows the iam:CreateUser action")

	// Role chaining: at most one hour.
	_, err = w.s.STS(sess).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/deploy"),
		RoleSessionName: aws.String("chained"), DurationSeconds: aws.Int32(3601)})
	// The trust policy names only alice, so the chained call is denied before the duration check.
	apiErr(t, err, "AccessDenied", "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/deploy")
}

func TestAssumeRoleDenials(t *testing.T) {
	w := setup(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-123"}}}]}`, 3600)
	ctx := context.Background()
	c := w.s.STS(w.alice)
	role := aws.String("arn:aws:iam::111111111111:role/deploy")
	_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s")})
	apiErr(t, err, "ValidationError", "roleSessionName")
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1")})
	apiErr(t, err, "AccessDenied", "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/deploy")
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1"), ExternalId: aws.String("wrong")})
	apiErr(t, err, "AccessDenied", "sts:AssumeRole")
	if _, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123")}); err != nil {
		t.Fatalf("with the ExternalId: %v", err)
	}
	// A role that does not exist is denied exactly like one whose trust says no.
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/nope"), RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123")})
	apiErr(t, err, "AccessDenied", "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/nope")
	// Longer than the role's MaxSessionDuration.
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123"), DurationSeconds: aws.Int32(7200)})
	apiErr(t, err, "ValidationError", "MaxSessionDuration")
	// Out of STS's bounds.
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)})
	apiErr(t, err, "ValidationError", "durationSeconds")
	// The root user may not assume roles.
	_, err = w.s.STS(servertest.Root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123")})
	apiErr(t, err, "AccessDenied", "Roles may not be assumed by root accounts")
	// A session policy that does not parse.
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role, RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123"), Policy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`)})
	apiErr(t, err, "MalformedPolicyDocument", "Effect")
}

func TestSessionPoliciesTagsAndSourceIdentity(t *testing.T) {
	w := setup(t, trustAlice, 3600)
	ctx := context.Background()
	out, err := w.s.STS(w.alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/deploy"),
		RoleSessionName: aws.String("narrow"), SourceIdentity: aws.String("alice@example.com"),
		Tags:   []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("payments")}},
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SourceIdentity) != "alice@example.com" || out.PackedPolicySize == nil {
		t.Fatalf("SourceIdentity %q, PackedPolicySize %v", aws.ToString(out.SourceIdentity), out.PackedPolicySize)
	}
	sess := sessionCreds(out.Credentials)
	// The session policy narrows the role: ListUsers is the role's but not the session's.
	_, err = w.s.IAM(sess).ListUsers(ctx, &iam.ListUsersInput{})
	apiErr(t, err, "AccessDenied", "because no session policy allows the iam:ListUsers action")
	if _, err := w.s.IAM(sess).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("GetUser within the session policy: %v", err)
	}
}

// Issue 11, finding 3: a session is bound to its role's unique id (AROA…), not its
// name. Once the role is deleted the session has no permissions, and a new role
// created under the same name (here with iam:*) gives it none either. GetCallerIdentity,
// which needs no permission, still answers.
func TestSessionOfDeletedRoleHasNoPermissions(t *testing.T) {
	w := setup(t, trustAlice, 3600)
	ctx := context.Background()
	out, err := w.s.STS(w.alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/deploy"),
		RoleSessionName: aws.String("old")})
	if err != nil {
		t.Fatal(err)
	}
	old := sessionCreds(out.Credentials)
	if _, err := w.s.IAM(old).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("before the deletion: %v", err)
	}
	root := w.s.IAM(servertest.Root)
	if _, err := root.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("read")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("deploy")}); err != nil {
		t.Fatal(err)
	}
	_, err = w.s.IAM(old).ListUsers(ctx, &iam.ListUsersInput{})
	apiErr(t, err, "AccessDenied", "assumed-role/deploy/old is not authorized to perform: iam:ListUsers")

	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(trustAlice)}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = w.s.IAM(old).ListUsers(ctx, &iam.ListUsersInput{})
	apiErr(t, err, "AccessDenied", "is not authorized to perform: iam:ListUsers")
	_, err = w.s.IAM(old).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	apiErr(t, err, "AccessDenied", "is not authorized to perform: iam:CreateUser")
	if who, err := w.s.STS(old).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil || aws.ToString(who.Arn) != "arn:aws:sts::111111111111:assumed-role/deploy/old" {
		t.Fatalf("GetCallerIdentity: %v %v", who, err)
	}
	// A session of the new role has the new role's permissions.
	fresh, err := w.s.STS(w.alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/deploy"),
		RoleSessionName: aws.String("new")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.IAM(sessionCreds(fresh.Credentials)).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("a session of the new role: %v", err)
	}
}

// The same for a user's GetSessionToken session: bound to the user's AIDA id.
func TestSessionOfReplacedUserHasNoPermissions(t *testing.T) {
	w := setup(t, trustAlice, 3600)
	ctx := context.Background()
	root := w.s.IAM(servertest.Root)
	root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","iam:ListUsers"],"Resource":"*"}]}`)})
	// GetSessionToken credentials call IAM only with MFA.
	serial, code := enableMFA(t, w.s, "alice")
	tok, err := w.s.STS(w.alice).GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(code)})
	if err != nil {
		t.Fatal(err)
	}
	sess := sessionCreds(tok.Credentials)
	if _, err := w.s.IAM(sess).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("before: %v", err)
	}
	keys, _ := root.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	for _, k := range keys.AccessKeyMetadata {
		root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k.AccessKeyId})
	}
	root.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("assume")})
	root.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial)})
	if _, err := root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	_, err = w.s.IAM(sess).ListUsers(ctx, &iam.ListUsersInput{})
	apiErr(t, err, "AccessDenied", "is not authorized to perform: iam:ListUsers")
}
