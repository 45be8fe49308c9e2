package iam_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestCreateUserValidation(t *testing.T) {
	e := start(t)
	_, err := e.root.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("bad name!")})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	_, err = e.root.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("ok"), Path: aws.String("nopath")})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value 'nopath' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
}

func TestListUsersPages(t *testing.T) {
	e := start(t)
	for _, n := range []string{"u1", "u2", "u3"} {
		e.user(n)
	}
	users := paginate(t, func(m *string) ([]types.User, bool, *string, error) {
		out, err := e.root.ListUsers(e.ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Users, out.IsTruncated, out.Marker, nil
	})
	if len(users) != 3 || aws.ToString(users[2].UserName) != "u3" {
		t.Fatalf("users: %v", users)
	}
}

func TestUpdateUserRenameKeepsEverything(t *testing.T) {
	e := start(t)
	_, creds := e.signer("alice", "")
	e.group("devs")
	pol := e.policy("p", allowAll)
	ok(e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}))(t)
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: pol.Arn}))(t)
	ok(e.root.PutUserPermissionsBoundary(e.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("alice"), PermissionsBoundary: pol.Arn}))(t)

	ok(e.root.UpdateUser(e.ctx, &iam.UpdateUserInput{UserName: aws.String("alice"), NewUserName: aws.String("bob"), NewPath: aws.String("/eng/")}))(t)

	u := ok(e.root.GetUser(e.ctx, &iam.GetUserInput{UserName: aws.String("BOB")}))(t).User
	if aws.ToString(u.Arn) != "arn:aws:iam::111111111111:user/eng/bob" || aws.ToString(u.Path) != "/eng/" {
		t.Fatalf("renamed user: %s %s", aws.ToString(u.Arn), aws.ToString(u.Path))
	}
	_, err := e.root.GetUser(e.ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name alice cannot be found.")
	keys := ok(e.root.ListAccessKeys(e.ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")}))(t).AccessKeyMetadata
	if len(keys) != 1 || aws.ToString(keys[0].UserName) != "bob" {
		t.Fatalf("keys after rename: %+v", keys)
	}
	id := ok(e.s.STS(creds).GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(id.Arn) != "arn:aws:iam::111111111111:user/eng/bob" {
		t.Fatalf("old key signs as %s", aws.ToString(id.Arn))
	}
	members := ok(e.root.GetGroup(e.ctx, &iam.GetGroupInput{GroupName: aws.String("devs")}))(t).Users
	if len(members) != 1 || aws.ToString(members[0].UserName) != "bob" {
		t.Fatalf("group members: %+v", members)
	}
	ents := ok(e.root.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: pol.Arn}))(t)
	if len(ents.PolicyUsers) != 1 || aws.ToString(ents.PolicyUsers[0].UserName) != "bob" {
		t.Fatalf("policy users: %+v", ents.PolicyUsers)
	}
}

func TestUpdateUserErrors(t *testing.T) {
	e := start(t)
	e.user("a")
	e.user("b")
	_, err := e.root.UpdateUser(e.ctx, &iam.UpdateUserInput{UserName: aws.String("a"), NewUserName: aws.String("B")})
	wantErr(t, err, "EntityAlreadyExists", 409, "User with name B already exists.")
	_, err = e.root.UpdateUser(e.ctx, &iam.UpdateUserInput{UserName: aws.String("zz"), NewUserName: aws.String("y")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name zz cannot be found.")
	ok(e.root.UpdateUser(e.ctx, &iam.UpdateUserInput{UserName: aws.String("a"), NewUserName: aws.String("A")}))(t)
	if n := aws.ToString(ok(e.root.GetUser(e.ctx, &iam.GetUserInput{UserName: aws.String("a")}))(t).User.UserName); n != "A" {
		t.Fatalf("case-only rename: %s", n)
	}
}

func TestUserTags(t *testing.T) {
	e := start(t)
	e.user("tagged")
	tags := []types.Tag{{Key: aws.String("team"), Value: aws.String("red")}, {Key: aws.String("env"), Value: aws.String("dev")}}
	ok(e.root.TagUser(e.ctx, &iam.TagUserInput{UserName: aws.String("tagged"), Tags: tags}))(t)
	ok(e.root.TagUser(e.ctx, &iam.TagUserInput{UserName: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("TEAM"), Value: aws.String("blue")}}}))(t)
	got := paginate(t, func(m *string) ([]types.Tag, bool, *string, error) {
		out, err := e.root.ListUserTags(e.ctx, &iam.ListUserTagsInput{UserName: aws.String("tagged"), MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Tags, out.IsTruncated, out.Marker, nil
	})
	if len(got) != 2 || aws.ToString(got[0].Value) != "blue" {
		t.Fatalf("tags: %+v", got)
	}
	ok(e.root.UntagUser(e.ctx, &iam.UntagUserInput{UserName: aws.String("tagged"), TagKeys: []string{"Team"}}))(t)
	left := ok(e.root.ListUserTags(e.ctx, &iam.ListUserTagsInput{UserName: aws.String("tagged")}))(t).Tags
	if len(left) != 1 || aws.ToString(left[0].Key) != "env" {
		t.Fatalf("after untag: %+v", left)
	}
	var many []types.Tag
	for i := range 50 {
		many = append(many, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	_, err := e.root.TagUser(e.ctx, &iam.TagUserInput{UserName: aws.String("tagged"), Tags: many})
	wantErr(t, err, "LimitExceeded", 409, "The number of tags has reached the maximum limit of 50.")
	_, err = e.root.TagUser(e.ctx, &iam.TagUserInput{UserName: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("A"), Value: aws.String("2")}}})
	wantErr(t, err, "InvalidInput", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
	_, err = e.root.ListUserTags(e.ctx, &iam.ListUserTagsInput{UserName: aws.String("nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
}

func TestUserPermissionsBoundary(t *testing.T) {
	e := start(t)
	e.user("bounded")
	ro := "arn:aws:iam::aws:policy/ReadOnlyAccess"
	_, err := e.root.PutUserPermissionsBoundary(e.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("bounded"),
		PermissionsBoundary: aws.String("arn:aws:iam::111111111111:policy/missing")})
	wantErr(t, err, "NoSuchEntity", 404, "Scope ARN: arn:aws:iam::111111111111:policy/missing does not exist or is not attachable.")
	ok(e.root.PutUserPermissionsBoundary(e.ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("bounded"), PermissionsBoundary: aws.String(ro)}))(t)
	u := ok(e.root.GetUser(e.ctx, &iam.GetUserInput{UserName: aws.String("bounded")}))(t).User
	if u.PermissionsBoundary == nil || aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn) != ro {
		t.Fatalf("boundary: %+v", u.PermissionsBoundary)
	}
	p := ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(ro)}))(t).Policy
	if aws.ToInt32(p.PermissionsBoundaryUsageCount) != 1 {
		t.Fatalf("usage count: %d", aws.ToInt32(p.PermissionsBoundaryUsageCount))
	}
	ok(e.root.DeleteUserPermissionsBoundary(e.ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("bounded")}))(t)
	u = ok(e.root.GetUser(e.ctx, &iam.GetUserInput{UserName: aws.String("bounded")}))(t).User
	p = ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String(ro)}))(t).Policy
	if u.PermissionsBoundary != nil || aws.ToInt32(p.PermissionsBoundaryUsageCount) != 0 {
		t.Fatalf("after delete: %+v, count %d", u.PermissionsBoundary, aws.ToInt32(p.PermissionsBoundaryUsageCount))
	}
}

func TestDeleteUserWithBoundaryReleasesPolicy(t *testing.T) {
	e := start(t)
	pol := e.policy("limit", allowAll)
	ok(e.root.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("u"), PermissionsBoundary: pol.Arn}))(t)
	_, err := e.root.DeletePolicy(e.ctx, &iam.DeletePolicyInput{PolicyArn: pol.Arn})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
	ok(e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("u")}))(t)
	ok(e.root.DeletePolicy(e.ctx, &iam.DeletePolicyInput{PolicyArn: pol.Arn}))(t)
}
