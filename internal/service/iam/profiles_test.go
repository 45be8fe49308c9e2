package iam_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestInstanceProfiles(t *testing.T) {
	e := start(t)
	ip := ok(e.root.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web"), Path: aws.String("/ec2/"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))(t).InstanceProfile
	if aws.ToString(ip.Arn) != "arn:aws:iam::111111111111:instance-profile/ec2/web" || !strings.HasPrefix(aws.ToString(ip.InstanceProfileId), "AIPA") ||
		len(ip.Roles) != 0 || len(ip.Tags) != 1 {
		t.Fatalf("profile: %+v", ip)
	}
	_, err := e.root.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("WEB")})
	wantErr(t, err, "EntityAlreadyExists", 409, "Instance Profile WEB already exists.")
	_, err = e.root.GetInstanceProfile(e.ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("none")})
	wantErr(t, err, "NoSuchEntity", 404, "Instance Profile none cannot be found.")

	e.role("r1", trustEC2)
	e.role("r2", trustEC2)
	ok(e.root.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r1")}))(t)
	_, err = e.root.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r2")})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	_, err = e.root.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r9")})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name r9 cannot be found.")
	got := ok(e.root.GetInstanceProfile(e.ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")}))(t).InstanceProfile
	if len(got.Roles) != 1 || aws.ToString(got.Roles[0].RoleName) != "r1" || decode(t, got.Roles[0].AssumeRolePolicyDocument) != trustEC2 {
		t.Fatalf("roles: %+v", got.Roles)
	}
	forRole := ok(e.root.ListInstanceProfilesForRole(e.ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("r1")}))(t).InstanceProfiles
	if len(forRole) != 1 || aws.ToString(forRole[0].InstanceProfileName) != "web" {
		t.Fatalf("profiles for role: %+v", forRole)
	}
	if n := len(ok(e.root.ListInstanceProfilesForRole(e.ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("r2")}))(t).InstanceProfiles); n != 0 {
		t.Fatalf("profiles for r2: %d", n)
	}
	_, err = e.root.DeleteInstanceProfile(e.ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first.")
	_, err = e.root.RemoveRoleFromInstanceProfile(e.ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r2")})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name r2 cannot be found in instance profile web.")
	ok(e.root.RemoveRoleFromInstanceProfile(e.ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("r1")}))(t)
	ok(e.root.DeleteInstanceProfile(e.ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")}))(t)
	_, err = e.root.DeleteInstanceProfile(e.ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")})
	wantErr(t, err, "NoSuchEntity", 404, "Instance Profile web cannot be found.")
}

func TestListInstanceProfilesPages(t *testing.T) {
	e := start(t)
	for _, n := range []string{"a", "b", "c"} {
		ok(e.root.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(n)}))(t)
	}
	all := paginate(t, func(m *string) ([]types.InstanceProfile, bool, *string, error) {
		out, err := e.root.ListInstanceProfiles(e.ctx, &iam.ListInstanceProfilesInput{MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.InstanceProfiles, out.IsTruncated, out.Marker, nil
	})
	if len(all) != 3 {
		t.Fatalf("profiles: %d", len(all))
	}
}

func TestAddRoleToInstanceProfileNeedsPassRole(t *testing.T) {
	e := start(t)
	e.role("app", trustEC2)
	ok(e.root.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}))(t)
	c, _ := e.signer("builder", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:AddRoleToInstanceProfile","Resource":"*"}]}`)
	_, err := c.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("app")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/builder is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111111111111:role/app because no identity-based policy allows the iam:PassRole action")
	ok(e.root.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String("builder"), PolicyName: aws.String("pass"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111111111111:role/app"}]}`)}))(t)
	ok(c.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("app")}))(t)
}
