package iam_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestGroupLifecycle(t *testing.T) {
	e := start(t)
	g := ok(e.root.CreateGroup(e.ctx, &iam.CreateGroupInput{GroupName: aws.String("ops"), Path: aws.String("/teams/")}))(t).Group
	if aws.ToString(g.Arn) != "arn:aws:iam::111111111111:group/teams/ops" || len(aws.ToString(g.GroupId)) != 21 || aws.ToString(g.GroupId)[:4] != "AGPA" {
		t.Fatalf("group: %s %s", aws.ToString(g.Arn), aws.ToString(g.GroupId))
	}
	_, err := e.root.CreateGroup(e.ctx, &iam.CreateGroupInput{GroupName: aws.String("OPS")})
	wantErr(t, err, "EntityAlreadyExists", 409, "Group with name OPS already exists.")
	for _, u := range []string{"u1", "u2", "u3"} {
		e.user(u)
		ok(e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String(u)}))(t)
	}
	ok(e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("u1")}))(t) // again: no-op
	users := paginate(t, func(m *string) ([]types.User, bool, *string, error) {
		out, err := e.root.GetGroup(e.ctx, &iam.GetGroupInput{GroupName: aws.String("ops"), MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		if aws.ToString(out.Group.GroupName) != "ops" {
			t.Fatalf("group in page: %+v", out.Group)
		}
		return out.Users, out.IsTruncated, out.Marker, nil
	})
	if len(users) != 3 {
		t.Fatalf("members: %d", len(users))
	}
	forUser := ok(e.root.ListGroupsForUser(e.ctx, &iam.ListGroupsForUserInput{UserName: aws.String("u2")}))(t).Groups
	if len(forUser) != 1 || aws.ToString(forUser[0].GroupName) != "ops" {
		t.Fatalf("groups for user: %+v", forUser)
	}
	_, err = e.root.DeleteGroup(e.ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
	_, err = e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("u1")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
	for _, u := range []string{"u1", "u2", "u3"} {
		ok(e.root.RemoveUserFromGroup(e.ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String(u)}))(t)
	}
	_, err = e.root.RemoveUserFromGroup(e.ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String("u1")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name u1 is not a member of the group ops.")
	ok(e.root.PutGroupPolicy(e.ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)}))(t)
	_, err = e.root.DeleteGroup(e.ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
	ok(e.root.DeleteGroupPolicy(e.ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("p")}))(t)
	ok(e.root.DeleteGroup(e.ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")}))(t)
	_, err = e.root.GetGroup(e.ctx, &iam.GetGroupInput{GroupName: aws.String("ops")})
	wantErr(t, err, "NoSuchEntity", 404, "The group with name ops cannot be found.")
}

func TestListGroupsPages(t *testing.T) {
	e := start(t)
	for _, g := range []string{"a", "b", "c"} {
		e.group(g)
	}
	ok(e.root.CreateGroup(e.ctx, &iam.CreateGroupInput{GroupName: aws.String("d"), Path: aws.String("/x/")}))(t)
	groups := paginate(t, func(m *string) ([]types.Group, bool, *string, error) {
		out, err := e.root.ListGroups(e.ctx, &iam.ListGroupsInput{MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Groups, out.IsTruncated, out.Marker, nil
	})
	if len(groups) != 4 {
		t.Fatalf("groups: %d", len(groups))
	}
	x := ok(e.root.ListGroups(e.ctx, &iam.ListGroupsInput{PathPrefix: aws.String("/x")}))(t).Groups
	if len(x) != 1 || aws.ToString(x[0].GroupName) != "d" {
		t.Fatalf("path prefix: %+v", x)
	}
}

func TestGroupsPerUserLimit(t *testing.T) {
	e := start(t)
	e.user("joiner")
	for i := range 11 {
		name := fmt.Sprint("g", i)
		e.group(name)
		_, err := e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String("joiner")})
		if i < 10 && err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for GroupsPerUser: 10")
		}
	}
	_, err := e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("nope"), UserName: aws.String("joiner")})
	wantErr(t, err, "NoSuchEntity", 404, "The group with name nope cannot be found.")
}

func TestGroupPoliciesApplyToMembers(t *testing.T) {
	e := start(t)
	c, _ := e.signer("member", "")
	_, err := c.ListRoles(e.ctx, &iam.ListRolesInput{})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/member is not authorized to perform: iam:ListRoles on resource: *…")
	e.group("readers")
	ok(e.root.AttachGroupPolicy(e.ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("readers"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))(t)
	ok(e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String("member")}))(t)
	ok(c.ListRoles(e.ctx, &iam.ListRolesInput{}))(t)
	_, err = c.CreateGroup(e.ctx, &iam.CreateGroupInput{GroupName: aws.String("mine")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/member is not authorized to perform: iam:CreateGroup on resource: arn:aws:iam::111111111111:group/mine because no identity-based policy allows the iam:CreateGroup action")
}
