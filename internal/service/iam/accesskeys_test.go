package iam_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func TestAccessKeyLifecycle(t *testing.T) {
	e := start(t)
	_, creds := e.signer("kim", "")
	k2 := ok(e.root.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("kim")}))(t).AccessKey
	if !strings.HasPrefix(aws.ToString(k2.AccessKeyId), "AKIA") || len(aws.ToString(k2.SecretAccessKey)) != 40 ||
		k2.Status != types.StatusTypeActive || aws.ToString(k2.UserName) != "kim" {
		t.Fatalf("new key: %+v", k2)
	}
	_, err := e.root.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("kim")})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")

	keys := paginate(t, func(m *string) ([]types.AccessKeyMetadata, bool, *string, error) {
		out, err := e.root.ListAccessKeys(e.ctx, &iam.ListAccessKeysInput{UserName: aws.String("kim"), MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.AccessKeyMetadata, out.IsTruncated, out.Marker, nil
	})
	if len(keys) != 2 {
		t.Fatalf("keys: %+v", keys)
	}

	last := ok(e.root.GetAccessKeyLastUsed(e.ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(creds.ID)}))(t)
	if aws.ToString(last.UserName) != "kim" || aws.ToString(last.AccessKeyLastUsed.ServiceName) != "N/A" || aws.ToString(last.AccessKeyLastUsed.Region) != "N/A" {
		t.Fatalf("last used: %+v %+v", last, last.AccessKeyLastUsed)
	}

	ok(e.root.UpdateAccessKey(e.ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("kim"), AccessKeyId: aws.String(creds.ID), Status: types.StatusTypeInactive}))(t)
	_, err = e.s.STS(creds).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	_, err = e.root.UpdateAccessKey(e.ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("kim"), AccessKeyId: aws.String(creds.ID), Status: "Sleeping"})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value 'Sleeping' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")

	_, err = e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("kim")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete access keys first.")
	_, err = e.root.DeleteAccessKey(e.ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("kim"), AccessKeyId: aws.String("AKIAUNKNOWNKEY000000")})
	wantErr(t, err, "NoSuchEntity", 404, "The Access Key with id AKIAUNKNOWNKEY000000 cannot be found.")
	for _, id := range []string{creds.ID, aws.ToString(k2.AccessKeyId)} {
		ok(e.root.DeleteAccessKey(e.ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("kim"), AccessKeyId: aws.String(id)}))(t)
	}
	ok(e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("kim")}))(t)
	_, err = e.root.GetAccessKeyLastUsed(e.ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(creds.ID)})
	wantErr(t, err, "NoSuchEntity", 404, "The Access Key with id "+creds.ID+" cannot be found.")
}

func TestAccessKeyErrors(t *testing.T) {
	e := start(t)
	_, err := e.root.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ghost")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name ghost cannot be found.")
	e.user("a")
	e.user("b")
	ka := ok(e.root.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("a")}))(t).AccessKey
	_, err = e.root.DeleteAccessKey(e.ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("b"), AccessKeyId: ka.AccessKeyId})
	wantErr(t, err, "NoSuchEntity", 404, "The Access Key with id "+aws.ToString(ka.AccessKeyId)+" cannot be found.")
	_, err = e.root.ListAccessKeys(e.ctx, &iam.ListAccessKeysInput{UserName: aws.String("a"), MaxItems: aws.Int32(0)})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1 and less than or equal to 1000")
}

func TestRootAccessKeys(t *testing.T) {
	e := start(t)
	k := ok(e.root.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{}))(t).AccessKey
	rootKey := servertest.Creds{ID: aws.ToString(k.AccessKeyId), Secret: aws.ToString(k.SecretAccessKey)}
	id := ok(e.s.STS(rootKey).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(id.Arn) != "arn:aws:iam::111111111111:root" {
		t.Fatalf("new root key signs as %s", aws.ToString(id.Arn))
	}
	keys := ok(e.root.ListAccessKeys(e.ctx, &iam.ListAccessKeysInput{}))(t).AccessKeyMetadata
	if len(keys) != 2 {
		t.Fatalf("root keys (bootstrap + new): %+v", keys)
	}
	_, err := e.root.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")
	ok(e.s.IAM(rootKey).DeleteAccessKey(e.ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(servertest.RootKeyID)}))(t)
	keys = ok(e.s.IAM(rootKey).ListAccessKeys(e.ctx, &iam.ListAccessKeysInput{}))(t).AccessKeyMetadata
	if len(keys) != 1 || aws.ToString(keys[0].AccessKeyId) != rootKey.ID {
		t.Fatalf("root keys after delete: %+v", keys)
	}
}

func TestUserManagesOwnKeys(t *testing.T) {
	e := start(t)
	self := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*AccessKey*"],"Resource":"arn:aws:iam::111111111111:user/${aws:username}"}]}`
	c, _ := e.signer("self", self)
	k := ok(c.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{}))(t).AccessKey
	if aws.ToString(k.UserName) != "self" {
		t.Fatalf("own key for %s", aws.ToString(k.UserName))
	}
	keys := ok(c.ListAccessKeys(e.ctx, &iam.ListAccessKeysInput{}))(t).AccessKeyMetadata
	if len(keys) != 2 {
		t.Fatalf("own keys: %+v", keys)
	}
	e.user("other")
	_, err := c.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("other")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/self is not authorized to perform: iam:CreateAccessKey on resource: arn:aws:iam::111111111111:user/other because no identity-based policy allows the iam:CreateAccessKey action")
}
