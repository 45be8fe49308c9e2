package iam_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// account builds a small account: a user in a group, a role in an instance profile,
// a local policy attached to the role and ReadOnlyAccess attached to the group.
func (e *env) account() {
	e.t.Helper()
	e.user("u")
	ok(e.root.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("in"), PolicyDocument: aws.String(allowAll)}))(e.t)
	e.group("g")
	ok(e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("u")}))(e.t)
	ok(e.root.AttachGroupPolicy(e.ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(readOnly)}))(e.t)
	e.role("r", trustEC2)
	p := e.policy("local", allowAll)
	ok(e.root.AttachRolePolicy(e.ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: p.Arn}))(e.t)
	ok(e.root.CreateInstanceProfile(e.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}))(e.t)
	ok(e.root.AddRoleToInstanceProfile(e.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("r")}))(e.t)
}

func TestGetAccountAuthorizationDetails(t *testing.T) {
	e := start(t)
	e.account()
	d := ok(e.root.GetAccountAuthorizationDetails(e.ctx, &iam.GetAccountAuthorizationDetailsInput{}))(t)
	if len(d.UserDetailList) != 1 || len(d.GroupDetailList) != 1 || len(d.RoleDetailList) != 1 || len(d.Policies) != 2 {
		t.Fatalf("details: %d users, %d groups, %d roles, %d policies", len(d.UserDetailList), len(d.GroupDetailList), len(d.RoleDetailList), len(d.Policies))
	}
	u := d.UserDetailList[0]
	if len(u.GroupList) != 1 || u.GroupList[0] != "g" || len(u.UserPolicyList) != 1 || decode(t, u.UserPolicyList[0].PolicyDocument) != allowAll {
		t.Fatalf("user detail: %+v", u)
	}
	r := d.RoleDetailList[0]
	if len(r.InstanceProfileList) != 1 || len(r.AttachedManagedPolicies) != 1 || decode(t, r.AssumeRolePolicyDocument) != trustEC2 {
		t.Fatalf("role detail: %+v", r)
	}
	if g := d.GroupDetailList[0]; len(g.AttachedManagedPolicies) != 1 || aws.ToString(g.AttachedManagedPolicies[0].PolicyArn) != readOnly {
		t.Fatalf("group detail: %+v", g)
	}
	// The local policy has its one version; ReadOnlyAccess every version AWS's
	// catalogue records, newest (the default) first.
	for _, p := range d.Policies {
		want := 1
		if aws.ToString(p.Arn) == readOnly {
			want = len(catalogued(t, readOnly).Versions)
		}
		if len(p.PolicyVersionList) != want || !p.PolicyVersionList[0].IsDefaultVersion || aws.ToInt32(p.AttachmentCount) != 1 {
			t.Fatalf("policy detail %s: %d versions, want %d; default first %v; attachments %d", aws.ToString(p.PolicyName),
				len(p.PolicyVersionList), want, p.PolicyVersionList[0].IsDefaultVersion, aws.ToInt32(p.AttachmentCount))
		}
	}
	roles := ok(e.root.GetAccountAuthorizationDetails(e.ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeRole, types.EntityTypeAWSManagedPolicy}}))(t)
	if len(roles.UserDetailList) != 0 || len(roles.RoleDetailList) != 1 || len(roles.Policies) != 1 || aws.ToString(roles.Policies[0].Arn) != readOnly {
		t.Fatalf("filtered: %+v", roles)
	}
	count := 0
	paginate(t, func(m *string) ([]int, bool, *string, error) {
		out, err := e.root.GetAccountAuthorizationDetails(e.ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1), Marker: m})
		if err != nil {
			return nil, false, nil, err
		}
		n := len(out.UserDetailList) + len(out.GroupDetailList) + len(out.RoleDetailList) + len(out.Policies)
		count += n
		return make([]int, n), out.IsTruncated, out.Marker, nil
	})
	if count != 5 {
		t.Fatalf("paginated items: %d", count)
	}
}

func TestGetAccountSummary(t *testing.T) {
	e := start(t)
	e.account()
	m := ok(e.root.GetAccountSummary(e.ctx, &iam.GetAccountSummaryInput{}))(t).SummaryMap
	want := map[string]int32{"Users": 1, "Groups": 1, "Roles": 1, "Policies": 1, "InstanceProfiles": 1, "AccountAccessKeysPresent": 1,
		"AccessKeysPerUserQuota": 2, "AttachedPoliciesPerRoleQuota": 10, "PolicySizeQuota": 6144, "RolePolicySizeQuota": 10240,
		"VersionsPerPolicyQuota": 5, "AssumeRolePolicySizeQuota": 2048, "PolicyVersionsInUse": 1}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %d, want %d", k, m[k], v)
		}
	}
}
