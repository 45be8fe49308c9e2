package iam_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestCreateAndGetRole(t *testing.T) {
	e := start(t)
	r := ok(e.root.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), Path: aws.String("/svc/"),
		AssumeRolePolicyDocument: aws.String(trustEC2), Description: aws.String("the app"), MaxSessionDuration: aws.Int32(7200),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("red")}}}))(t).Role
	if aws.ToString(r.Arn) != "arn:aws:iam::111111111111:role/svc/app" || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") {
		t.Fatalf("role: %s %s", aws.ToString(r.Arn), aws.ToString(r.RoleId))
	}
	got := ok(e.root.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String("APP")}))(t).Role
	if decode(t, got.AssumeRolePolicyDocument) != trustEC2 || aws.ToString(got.AssumeRolePolicyDocument) == trustEC2 {
		t.Fatalf("trust policy must come back percent-encoded: %s", aws.ToString(got.AssumeRolePolicyDocument))
	}
	if aws.ToString(got.Description) != "the app" || aws.ToInt32(got.MaxSessionDuration) != 7200 || len(got.Tags) != 1 || got.RoleLastUsed == nil {
		t.Fatalf("role fields: %+v", got)
	}
	def := e.role("plain", trustEC2)
	if aws.ToInt32(def.MaxSessionDuration) != 3600 {
		t.Fatalf("default MaxSessionDuration: %d", aws.ToInt32(def.MaxSessionDuration))
	}
	_, err := e.root.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String("Plain"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	wantErr(t, err, "EntityAlreadyExists", 409, "Role with name Plain already exists.")
	_, err = e.root.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String("none")})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name none cannot be found.")
}

func TestCreateRoleValidation(t *testing.T) {
	e := start(t)
	create := func(in *iam.CreateRoleInput) error {
		if in.RoleName == nil {
			in.RoleName = aws.String("r")
		}
		if in.AssumeRolePolicyDocument == nil {
			in.AssumeRolePolicyDocument = aws.String(trustEC2)
		}
		_, err := e.root.CreateRole(e.ctx, in)
		return err
	}
	wantErr(t, create(&iam.CreateRoleInput{MaxSessionDuration: aws.Int32(100)}), "ValidationError", 400,
		"1 validation error detected: Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600")
	wantErr(t, create(&iam.CreateRoleInput{MaxSessionDuration: aws.Int32(50000)}), "ValidationError", 400,
		"1 validation error detected: Value '50000' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200")
	wantErr(t, create(&iam.CreateRoleInput{RoleName: aws.String(strings.Repeat("r", 65))}), "ValidationError", 400,
		"1 validation error detected: Value '"+strings.Repeat("r", 65)+"' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64")
	wantErr(t, create(&iam.CreateRoleInput{Description: aws.String(strings.Repeat("d", 1001))}), "ValidationError", 400,
		"1 validation error detected: Value '"+strings.Repeat("d", 1001)+"' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	wantErr(t, create(&iam.CreateRoleInput{AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)}),
		"MalformedPolicyDocument", 400, "Missing required field Principal")
	wantErr(t, create(&iam.CreateRoleInput{AssumeRolePolicyDocument: aws.String("not json")}), "MalformedPolicyDocument", 400, "Syntax errors in policy.")
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("a", 2000) + `","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	wantErr(t, create(&iam.CreateRoleInput{AssumeRolePolicyDocument: aws.String(big)}), "LimitExceeded", 409, "Cannot exceed quota for ACLSizePerRole: 2048")
	var tags []types.Tag
	for i := range 51 {
		tags = append(tags, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	// More than 50 tags in one request break tagListType's constraint (max 50).
	wantErr(t, create(&iam.CreateRoleInput{Tags: tags}), "ValidationError", 400,
		"1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	wantErr(t, create(&iam.CreateRoleInput{PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")}), "NoSuchEntity", 404,
		"Scope ARN: arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.")
	// The service-linked roles' path is AWS's (answer as seen from IAM, e.g. in
	// tilfin/aws-iam-policy-tool#9: "Path prefix '/aws-service-role/' can only be used
	// for AWS Service linked Roles").
	wantErr(t, create(&iam.CreateRoleInput{Path: aws.String("/aws-service-role/ec2.amazonaws.com/")}), "InvalidInput", 400,
		"Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles")
	// IAM Identity Center's roles live under /aws-reserved/; AWS documents no message
	// for it, so the wording follows the service-role one (a choice).
	wantErr(t, create(&iam.CreateRoleInput{Path: aws.String("/aws-reserved/sso.amazonaws.com/")}), "InvalidInput", 400,
		"Path prefix '/aws-reserved/' can only be used for roles AWS creates")
	status, body := e.raw(url.Values{"Action": {"CreateRole"}})
	if status != 400 || !strings.Contains(body, "<Code>ValidationError</Code><Message>2 validation errors detected: Value null at &#39;roleName&#39; failed to satisfy constraint: Member must not be null; "+
		"Value null at &#39;assumeRolePolicyDocument&#39; failed to satisfy constraint: Member must not be null</Message>") {
		t.Fatalf("CreateRole without parameters: %d %s", status, body)
	}
	// Whitespace does not count toward the size.
	spaced := strings.NewReplacer(",", ",\n"+strings.Repeat(" ", 300), "{", "{\n"+strings.Repeat("\t", 300)).Replace(trustEC2)
	if err := create(&iam.CreateRoleInput{RoleName: aws.String("spaced"), AssumeRolePolicyDocument: aws.String(spaced)}); err != nil {
		t.Fatal(err)
	}
}

func TestListRolesPages(t *testing.T) {
	e := start(t)
	for _, n := range []string{"r1", "r2", "r3"} {
		e.role(n, trustEC2)
	}
	roles := paginate(t, func(m *string) ([]types.Role, bool, *string, error) {
		out, err := e.root.ListRoles(e.ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		return out.Roles, out.IsTruncated, out.Marker, nil
	})
	if len(roles) != 3 || decode(t, roles[0].AssumeRolePolicyDocument) != trustEC2 {
		t.Fatalf("roles: %d", len(roles))
	}
}

func TestUpdateRole(t *testing.T) {
	e := start(t)
	e.role("r", trustEC2)
	ok(e.root.UpdateRole(e.ctx, &iam.UpdateRoleInput{RoleName: aws.String("r"), Description: aws.String("new"), MaxSessionDuration: aws.Int32(43200)}))(t)
	ok(e.root.UpdateAssumeRolePolicy(e.ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(trustAccount)}))(t)
	r := ok(e.root.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String("r")}))(t).Role
	if aws.ToString(r.Description) != "new" || aws.ToInt32(r.MaxSessionDuration) != 43200 || decode(t, r.AssumeRolePolicyDocument) != trustAccount {
		t.Fatalf("updated role: %+v", r)
	}
	_, err := e.root.UpdateAssumeRolePolicy(e.ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(allowAll)})
	// A permissions policy given as a trust policy: AWS's well-known answer.
	wantErr(t, err, "MalformedPolicyDocument", 400, "Has prohibited field Resource")
	_, err = e.root.UpdateRole(e.ctx, &iam.UpdateRoleInput{RoleName: aws.String("none")})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name none cannot be found.")
	r2 := ok(e.root.UpdateRoleDescription(e.ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("r"), Description: aws.String("d2")}))(t).Role
	if aws.ToString(r2.Description) != "d2" {
		t.Fatalf("UpdateRoleDescription: %+v", r2)
	}
}

func TestRoleTagsAndBoundary(t *testing.T) {
	e := start(t)
	e.role("r", trustEC2)
	ok(e.root.TagRole(e.ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}))(t)
	ok(e.root.UntagRole(e.ctx, &iam.UntagRoleInput{RoleName: aws.String("r"), TagKeys: []string{"a"}}))(t)
	tags := ok(e.root.ListRoleTags(e.ctx, &iam.ListRoleTagsInput{RoleName: aws.String("r")}))(t).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "b" {
		t.Fatalf("role tags: %+v", tags)
	}
	pol := e.policy("boundary", allowAll)
	ok(e.root.PutRolePermissionsBoundary(e.ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("r"), PermissionsBoundary: pol.Arn}))(t)
	r := ok(e.root.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String("r")}))(t).Role
	if r.PermissionsBoundary == nil || aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn) != aws.ToString(pol.Arn) {
		t.Fatalf("role boundary: %+v", r.PermissionsBoundary)
	}
	ents := ok(e.root.ListEntitiesForPolicy(e.ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: pol.Arn, PolicyUsageFilter: types.PolicyUsageTypePermissionsBoundary}))(t)
	if len(ents.PolicyRoles) != 1 {
		t.Fatalf("boundary users of policy: %+v", ents)
	}
	ok(e.root.DeleteRolePermissionsBoundary(e.ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("r")}))(t)
	p := ok(e.root.GetPolicy(e.ctx, &iam.GetPolicyInput{PolicyArn: pol.Arn}))(t).Policy
	if aws.ToInt32(p.PermissionsBoundaryUsageCount) != 0 {
		t.Fatalf("usage after delete: %d", aws.ToInt32(p.PermissionsBoundaryUsageCount))
	}
}

func TestDeleteRoleConflicts(t *testing.T) {
	e := start(t)
	e.role("r", trustEC2)
	ok(e.root.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)}))(t)
	_, err := e.root.DeleteRole(e.ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
	ok(e.root.DeleteRolePolicy(e.ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p")}))(t)
	arn := aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")
	ok(e.root.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: arn}))(t)
	_, err = e.root.DeleteRole(e.ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
	ok(e.root.DetachRolePolicy(e.ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: arn}))(t)
	ok(e.root.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}))(t)
	ok(e.root.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("r")}))(t)
	_, err = e.root.DeleteRole(e.ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first.")
	ok(e.root.RemoveRoleFromInstanceProfile(e.ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("r")}))(t)
	ok(e.root.DeleteRole(e.ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")}))(t)
	e.role("r", trustEC2) // the name is free again
}

func TestAssumeCreatedRole(t *testing.T) {
	e := start(t)
	e.role("assumable", trustAccount)
	ok(e.root.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: aws.String("assumable"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}`)}))(t)
	_, creds := e.signer("caller", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	out := ok(e.s.STS(creds).AssumeRole(e.ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/assumable"), RoleSessionName: aws.String("sess")}))(t)
	sess := e.s.IAM(credsOf(out))
	ok(sess.GetRole(e.ctx, &iam.GetRoleInput{RoleName: aws.String("assumable")}))(t)
	_, err := sess.ListRoles(e.ctx, &iam.ListRolesInput{})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:sts::111111111111:assumed-role/assumable/sess is not authorized to perform: iam:ListRoles on resource: *…")
}

func TestServiceLinkedRole(t *testing.T) {
	e := start(t)
	r := ok(e.root.CreateServiceLinkedRole(e.ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com")}))(t).Role
	if aws.ToString(r.RoleName) != "AWSServiceRoleForAutoScaling" || aws.ToString(r.Path) != "/aws-service-role/autoscaling.amazonaws.com/" ||
		aws.ToString(r.Arn) != "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling" {
		t.Fatalf("service-linked role: %s %s", aws.ToString(r.RoleName), aws.ToString(r.Arn))
	}
	if !strings.Contains(decode(t, r.AssumeRolePolicyDocument), `"Service":["autoscaling.amazonaws.com"]`) {
		t.Fatalf("trust: %s", decode(t, r.AssumeRolePolicyDocument))
	}
	_, err := e.root.CreateServiceLinkedRole(e.ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com")})
	wantErr(t, err, "InvalidInput", 400, "Service role name AWSServiceRoleForAutoScaling has been taken in this account, please try a different suffix.")
	custom := ok(e.root.CreateServiceLinkedRole(e.ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com"), CustomSuffix: aws.String("x")}))(t).Role
	if aws.ToString(custom.RoleName) != "AWSServiceRoleForAutoScaling_x" {
		t.Fatalf("suffix: %s", aws.ToString(custom.RoleName))
	}
	name := aws.String("AWSServiceRoleForAutoScaling")
	_, err = e.root.DeleteRole(e.ctx, &iam.DeleteRoleInput{RoleName: name})
	wantErr(t, err, "UnmodifiableEntity", 400, "Cannot perform the operation on the protected role 'AWSServiceRoleForAutoScaling' - this role is only modifiable by AWS")
	_, err = e.root.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)})
	wantErr(t, err, "UnmodifiableEntity", 400, "…")
	// "You can edit the description of any role" (IAM User Guide, Update a
	// service-linked role); its session duration is the service's.
	ok(e.root.UpdateRole(e.ctx, &iam.UpdateRoleInput{RoleName: name, Description: aws.String("mine")}))(t)
	ok(e.root.UpdateRoleDescription(e.ctx, &iam.UpdateRoleDescriptionInput{RoleName: name, Description: aws.String("mine too")}))(t)
	_, err = e.root.UpdateRole(e.ctx, &iam.UpdateRoleInput{RoleName: name, MaxSessionDuration: aws.Int32(7200)})
	wantErr(t, err, "UnmodifiableEntity", 400, "Cannot perform the operation on the protected role 'AWSServiceRoleForAutoScaling' - this role is only modifiable by AWS")
	e.role("normal", trustEC2)
	_, err = e.root.DeleteServiceLinkedRole(e.ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("normal")})
	wantErr(t, err, "InvalidInput", 400, "Role normal is not a service-linked role.")
	task := ok(e.root.DeleteServiceLinkedRole(e.ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: name}))(t).DeletionTaskId
	if !strings.HasPrefix(aws.ToString(task), "task/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling/") {
		t.Fatalf("task id: %s", aws.ToString(task))
	}
	st := ok(e.root.GetServiceLinkedRoleDeletionStatus(e.ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: task}))(t)
	if st.Status != types.DeletionTaskStatusTypeSucceeded {
		t.Fatalf("status: %s", st.Status)
	}
	_, err = e.root.GetRole(e.ctx, &iam.GetRoleInput{RoleName: name})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name AWSServiceRoleForAutoScaling cannot be found.")
	_, err = e.root.GetServiceLinkedRoleDeletionStatus(e.ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String("task/nope/x")})
	wantErr(t, err, "InvalidInput", 400, "Deletion task task/nope/x is not valid.")
	_, err = e.root.CreateServiceLinkedRole(e.ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("notaservice")})
	wantErr(t, err, "InvalidInput", 400, "Invalid service name: notaservice")
}
