package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"

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
