package iam_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const readOnly = "arn:aws:iam::aws:policy/ReadOnlyAccess"

func TestCreateAndGetPolicy(t *testing.T) {
	e := start(t)
	p := ok(e.root.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Readers"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(allowAll), Description: aws.String("desc"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))(t).Policy
	if aws.ToString(p.Arn) != "arn:aws:iam::111111111111:policy/team/Readers" || !strings.HasPrefix(aws.ToString(p.PolicyId), "ANPA") ||
		aws.ToString(p.DefaultVersionId) != "v1" || !p.IsAttachable || aws.ToInt32(p.AttachmentCount) != 0 {
		t.Fatalf("policy: %+v", p)
	}
	got := ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: p.Arn}))(t).Policy
	if aws.ToString(got.Description) != "desc" || len(got.Tags) != 1 || aws.ToString(got.Path) != "/team/" {
		t.Fatalf("GetPolicy: %+v", got)
	}
	v := ok(e.root.GetPolicyVersion(e.ctx, &iam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v1")}))(t).PolicyVersion
	if decode(t, v.Document) != allowAll || !v.IsDefaultVersion {
		t.Fatalf("version: %+v", v)
	}
	_, err := e.root.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("readers"), Path: aws.String("/other/"), PolicyDocument: aws.String(allowAll)})
	wantErr(t, err, "EntityAlreadyExists", 409, "A policy called readers already exists. Duplicate names are not allowed.")
	_, err = e.root.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(padded(6145))})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144")
	ok(e.root.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("fits"), PolicyDocument: aws.String(padded(6144))}))(t)
	_, err = e.root.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Version":"2012-10-17"}`)})
	wantErr(t, err, "MalformedPolicyDocument", 400, "Syntax errors in policy.")
	// Managed policies need Version 2012-10-17, checked before the statements (issue 12:
	// AWS's answer for a missing Version or 2008-10-17); inline policies do not.
	for _, doc := range []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`,
		`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, `{"Statement":{"Effect":"Allow","Resource":"*"}}`} {
		_, err = e.root.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String("old"), PolicyDocument: aws.String(doc)})
		wantErr(t, err, "MalformedPolicyDocument", 400, "Policy document must be version 2012-10-17 or greater.")
		_, err = e.root.CreatePolicyVersion(e.ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: aws.String(doc)})
		wantErr(t, err, "MalformedPolicyDocument", 400, "Policy document must be version 2012-10-17 or greater.")
	}
	ok(e.root.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("u")}))(t)
	ok(e.root.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)}))(t)
	_, err = e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::111111111111:policy/nope")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::111111111111:policy/nope was not found.")
	_, err = e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: aws.String("not-an-arn-but-long-enough")})
	wantErr(t, err, "InvalidInput", 400, "ARN not-an-arn-but-long-enough is not valid.")
	_, err = e.root.GetPolicyVersion(e.ctx, &iam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v9")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::111111111111:policy/team/Readers version v9 does not exist or is not attachable.")
}

func TestPolicyVersions(t *testing.T) {
	e := start(t)
	p := e.policy("versioned", allowAll)
	for i := 2; i <= 5; i++ {
		v := ok(e.root.CreatePolicyVersion(e.ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: aws.String(allowAll), SetAsDefault: i == 3}))(t).PolicyVersion
		if aws.ToString(v.VersionId) != fmt.Sprint("v", i) || v.IsDefaultVersion != (i == 3) {
			t.Fatalf("version %d: %+v", i, v)
		}
	}
	_, err := e.root.CreatePolicyVersion(e.ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: aws.String(allowAll)})
	wantErr(t, err, "LimitExceeded", 409, "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
	versions := paginate(t, func(m *string) ([]types.PolicyVersion, bool, *string, error) {
		out, err := e.root.ListPolicyVersions(e.ctx, &iam.ListPolicyVersionsInput{PolicyArn: p.Arn, MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Versions, out.IsTruncated, out.Marker, nil
	})
	if len(versions) != 5 || aws.ToString(versions[0].VersionId) != "v5" || !versions[2].IsDefaultVersion {
		t.Fatalf("versions: %+v", versions)
	}
	_, err = e.root.DeletePolicyVersion(e.ctx, &iam.DeletePolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v3")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete the default version of a policy.")
	ok(e.root.DeletePolicyVersion(e.ctx, &iam.DeletePolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v2")}))(t)
	v6 := ok(e.root.CreatePolicyVersion(e.ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: aws.String(allowAll)}))(t).PolicyVersion
	if aws.ToString(v6.VersionId) != "v6" {
		t.Fatalf("version ids keep growing: %s", aws.ToString(v6.VersionId))
	}
	ok(e.root.SetDefaultPolicyVersion(e.ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v6")}))(t)
	if got := ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: p.Arn}))(t).Policy; aws.ToString(got.DefaultVersionId) != "v6" {
		t.Fatalf("default: %s", aws.ToString(got.DefaultVersionId))
	}
	_, err = e.root.SetDefaultPolicyVersion(e.ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v2")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy "+aws.ToString(p.Arn)+" version v2 does not exist or is not attachable.")
	_, err = e.root.DeletePolicy(e.ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn})
	wantErr(t, err, "DeleteConflict", 409, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	for _, v := range []string{"v1", "v3", "v4", "v5"} {
		ok(e.root.DeletePolicyVersion(e.ctx, &iam.DeletePolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String(v)}))(t)
	}
	ok(e.root.DeletePolicy(e.ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn}))(t)
	e.policy("versioned", allowAll) // the name is free again
}

// attachEverywhere attaches a new policy to a new user u, group g and role r.
func (e *env) attachEverywhere() *types.Policy {
	e.t.Helper()
	p := e.policy("shared", allowAll)
	e.user("u")
	e.group("g")
	e.role("r", trustEC2)
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: p.Arn}))(e.t)
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: p.Arn}))(e.t) // idempotent
	ok(e.root.AttachGroupPolicy(e.ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: p.Arn}))(e.t)
	ok(e.root.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: p.Arn}))(e.t)
	return p
}

func TestAttachAndListEntities(t *testing.T) {
	e := start(t)
	p := e.attachEverywhere()
	if n := aws.ToInt32(ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: p.Arn}))(t).Policy.AttachmentCount); n != 3 {
		t.Fatalf("attachment count: %d", n)
	}
	ents := ok(e.root.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: p.Arn}))(t)
	if len(ents.PolicyUsers) != 1 || len(ents.PolicyGroups) != 1 || len(ents.PolicyRoles) != 1 || aws.ToString(ents.PolicyRoles[0].RoleName) != "r" {
		t.Fatalf("entities: %+v", ents)
	}
	onlyRoles := ok(e.root.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: p.Arn, EntityFilter: types.EntityTypeRole}))(t)
	if len(onlyRoles.PolicyUsers) != 0 || len(onlyRoles.PolicyRoles) != 1 {
		t.Fatalf("role filter: %+v", onlyRoles)
	}
	pages := paginate(t, func(m *string) ([]string, bool, *string, error) {
		out, err := e.root.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: p.Arn, MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		var names []string
		for _, g := range out.PolicyGroups {
			names = append(names, aws.ToString(g.GroupName))
		}
		for _, r := range out.PolicyRoles {
			names = append(names, aws.ToString(r.RoleName))
		}
		for _, u := range out.PolicyUsers {
			names = append(names, aws.ToString(u.UserName))
		}
		return names, out.IsTruncated, out.Marker, nil
	})
	if strings.Join(pages, ",") != "g,r,u" {
		t.Fatalf("entity pages: %v", pages)
	}
	att := ok(e.root.ListAttachedRolePolicies(e.ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("r")}))(t).AttachedPolicies
	if len(att) != 1 || aws.ToString(att[0].PolicyName) != "shared" {
		t.Fatalf("attached: %+v", att)
	}
}

func TestDetachAndConflicts(t *testing.T) {
	e := start(t)
	p := e.attachEverywhere()
	_, err := e.root.DeletePolicy(e.ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
	_, err = e.root.DeleteUser(e.ctx, &iam.DeleteUserInput{UserName: aws.String("u")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
	_, err = e.root.DeleteGroup(e.ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
	ok(e.root.DetachUserPolicy(e.ctx, &iam.DetachUserPolicyInput{UserName: aws.String("u"), PolicyArn: p.Arn}))(t)
	ok(e.root.DetachGroupPolicy(e.ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: p.Arn}))(t)
	ok(e.root.DetachRolePolicy(e.ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: p.Arn}))(t)
	_, err = e.root.DetachRolePolicy(e.ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: p.Arn})
	wantErr(t, err, "NoSuchEntity", 404, "Policy "+aws.ToString(p.Arn)+" was not found.")
	_, err = e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String("arn:aws:iam::aws:policy/Missing")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/Missing does not exist or is not attachable.")
	_, err = e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: p.Arn})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	ok(e.root.DeletePolicy(e.ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn}))(t)
}

func TestAttachLimit(t *testing.T) {
	e := start(t)
	e.role("full", trustEC2)
	for i := range 11 {
		p := e.policy(fmt.Sprint("p", i), allowAll)
		_, err := e.root.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("full"), PolicyArn: p.Arn})
		if i < 10 && err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for PoliciesPerRole: 10")
		}
	}
	att := paginate(t, func(m *string) ([]types.AttachedPolicy, bool, *string, error) {
		out, err := e.root.ListAttachedRolePolicies(e.ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("full"), MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.AttachedPolicies, out.IsTruncated, out.Marker, nil
	})
	if len(att) != 10 {
		t.Fatalf("attached: %d", len(att))
	}
}
