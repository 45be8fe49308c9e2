package ec2_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// TestRunInstancesDenied is scenario 3 of issue 4: RunInstances denied four ways,
// each answered as EC2 answers it.
func TestRunInstancesDenied(t *testing.T) {
	e := start(t)
	decoder := e.user("decoder", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:DecodeAuthorizationMessage","Resource":"*"}]}`)

	t.Run("no identity permission", func(t *testing.T) {
		c := e.user("plain", "")
		_, err := e.s.EC2(c).RunInstances(ctx, runInput(al2023))
		d := decodeDenial(t, e.s, decoder, err)
		if d.Allowed || d.ExplicitDeny {
			t.Fatalf("want allowed=false explicitDeny=false, got %+v", d)
		}
		if d.Context.Action != "ec2:RunInstances" || d.Context.Resource != "arn:aws:ec2:us-east-1:111111111111:instance/*" ||
			d.Context.Principal.Arn != "arn:aws:iam::111111111111:user/plain" || !strings.HasPrefix(d.Context.Principal.ID, "AIDA") {
			t.Fatalf("context: %+v", d.Context)
		}
		if got := d.condition("ec2:InstanceType"); len(got) != 1 || got[0] != "t3.micro" {
			t.Fatalf("ec2:InstanceType in the context: %v", got)
		}
		if got := d.condition("ec2:Region"); len(got) != 1 || got[0] != "us-east-1" {
			t.Fatalf("ec2:Region in the context: %v", got)
		}
	})

	t.Run("permissions boundary", func(t *testing.T) {
		pb := ok(e.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("no-run"), PolicyDocument: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
			 {"Sid":"BoundaryNoRunInstances","Effect":"Deny","Action":"ec2:RunInstances","Resource":"*"}]}`)}))(t).Policy
		c := e.user("bounded", allowEC2)
		ok(e.iam.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("bounded"), PermissionsBoundary: pb.Arn}))(t)
		_, err := e.s.EC2(c).RunInstances(ctx, runInput(al2023))
		d := decodeDenial(t, e.s, c, err)
		if d.Allowed || !d.ExplicitDeny || !d.hasDeny("BoundaryNoRunInstances") {
			t.Fatalf("want an explicit deny by BoundaryNoRunInstances, got %+v", d)
		}
		ok(e.s.EC2(c).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}))(t)
	})

	t.Run("service control policy", func(t *testing.T) {
		member, creds := memberSession(t, e)
		org := e.s.Organizations(servertest.Root)
		roots := ok(org.ListRoots(ctx, &organizations.ListRootsInput{}))(t)
		ok(org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: roots.Roots[0].Id, PolicyType: orgtypes.PolicyTypeServiceControlPolicy}))(t)
		p := ok(org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("no-big-instances"), Description: aws.String("d"),
			Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(`{"Version":"2012-10-17","Statement":[
			{"Sid":"OnlyMicro","Effect":"Deny","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*",
			 "Condition":{"StringNotLike":{"ec2:InstanceType":"*.micro"}}}]}`)}))(t).Policy
		ok(org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: p.PolicySummary.Id, TargetId: &member}))(t)
		cl := e.s.EC2(creds)
		run(t, cl, al2023, 1) // t3.micro passes
		in := runInput(al2023)
		in.InstanceType = types.InstanceTypeM5Xlarge
		_, err := cl.RunInstances(ctx, in)
		d := decodeDenial(t, e.s, creds, err)
		if d.Allowed || !d.ExplicitDeny || !d.hasDeny("OnlyMicro") {
			t.Fatalf("want an explicit deny by OnlyMicro, got %+v", d)
		}
		if d.Context.Resource != "arn:aws:ec2:us-east-1:"+member+":instance/*" || !strings.HasSuffix(d.Context.Principal.Arn, ":assumed-role/OrganizationAccountAccessRole/test") {
			t.Fatalf("context: %+v", d.Context)
		}
	})

	t.Run("VPC endpoint policy", func(t *testing.T) {
		ep := ok(e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"), VpcEndpointType: types.VpcEndpointTypeInterface,
			ServiceName: aws.String("com.amazonaws.us-east-1.ec2"), PolicyDocument: aws.String(`{"Statement":[
			{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
			{"Sid":"NoLaunch","Effect":"Deny","Principal":"*","Action":"ec2:RunInstances","Resource":"*"}]}`)}))(t).VpcEndpoint
		dns := aws.ToString(ep.DnsEntries[0].DnsName)
		// Through the endpoint even the root user is refused, without an encoded message.
		_, err := e.ec2.RunInstances(ctx, runInput(al2023), through(dns))
		wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
		if strings.Contains(err.Error(), "Encoded") {
			t.Fatalf("an endpoint-policy denial has no encoded message: %v", err)
		}
		ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}, through(dns)))(t)
		run(t, e.ec2, al2023, 1) // not through the endpoint
	})
}

// memberSession creates an organization with a member account and returns the
// member's id and a session of its OrganizationAccountAccessRole.
func memberSession(t *testing.T, e *env) (string, servertest.Creds) {
	t.Helper()
	org := e.s.Organizations(servertest.Root)
	ok(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))(t)
	out := ok(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com")}))(t)
	st := ok(org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id}))(t)
	if st.CreateAccountStatus.State != orgtypes.CreateAccountStateSucceeded {
		t.Fatalf("CreateAccount: %+v", st.CreateAccountStatus)
	}
	member := aws.ToString(st.CreateAccountStatus.AccountId)
	admin := e.user("admin", allowAll)
	cr := ok(e.s.STS(admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"),
		RoleSessionName: aws.String("test")}))(t).Credentials
	return member, servertest.Creds{ID: aws.ToString(cr.AccessKeyId), Secret: aws.ToString(cr.SecretAccessKey), Token: aws.ToString(cr.SessionToken)}
}

func TestPassRole(t *testing.T) {
	e := start(t)
	profArn, roleArn := e.profile("web", trustEC2)
	noPass := e.user("nopass", allowEC2)
	in := runInput(al2023)
	in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String("web")}
	_, err := e.s.EC2(noPass).RunInstances(ctx, in)
	d := decodeDenial(t, e.s, noPass, err)
	if d.Allowed || d.ExplicitDeny || d.Context.Action != "iam:PassRole" || d.Context.Resource != roleArn {
		t.Fatalf("want iam:PassRole on %s, got %+v", roleArn, d)
	}
	if got := d.condition("iam:PassedToService"); len(got) != 1 || got[0] != "ec2.amazonaws.com" {
		t.Fatalf("iam:PassedToService: %v", got)
	}

	pass := e.user("pass", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},
		{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+roleArn+`","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}]}`)
	cl := e.s.EC2(pass)
	launched := run(t, cl, al2023, 1, func(r *ec2.RunInstancesInput) { *r = *in })
	if p := launched[0].IamInstanceProfile; p == nil || aws.ToString(p.Arn) != profArn || !strings.HasPrefix(aws.ToString(p.Id), "AIPA") {
		t.Fatalf("instance profile: %+v", p)
	}
	byArn := runInput(al2023)
	byArn.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: aws.String(profArn)}
	run(t, cl, al2023, 1, func(r *ec2.RunInstancesInput) { *r = *byArn })

	assoc := ok(cl.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{}))(t).IamInstanceProfileAssociations
	if len(assoc) != 2 || aws.ToString(assoc[0].InstanceId) != ids(launched)[0] || assoc[0].State != types.IamInstanceProfileAssociationStateAssociated ||
		aws.ToString(assoc[0].IamInstanceProfile.Arn) != profArn {
		t.Fatalf("associations: %+v", assoc)
	}
	one := ok(cl.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{{Name: aws.String("instance-id"), Values: ids(launched)}}}))(t).IamInstanceProfileAssociations
	if len(one) != 1 {
		t.Fatalf("instance-id filter: %+v", one)
	}

	// Associating a profile later needs iam:PassRole too.
	bare := ids(run(t, e.ec2, ubuntu, 1))[0]
	_, err = e.s.EC2(noPass).AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: &bare,
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")}})
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	a := ok(cl.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: &bare,
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")}}))(t).IamInstanceProfileAssociation
	if aws.ToString(a.InstanceId) != bare || !strings.HasPrefix(aws.ToString(a.AssociationId), "iip-assoc-") {
		t.Fatalf("association: %+v", a)
	}
	_, err = cl.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: &bare,
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web")}})
	wantErr(t, err, "IncorrectState", 400, "There is an existing association for instance "+bare)
	ok(cl.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: a.AssociationId}))(t)
	_, err = cl.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: a.AssociationId})
	wantErr(t, err, "InvalidAssociationID.NotFound", 400, aws.ToString(a.AssociationId))
}

func TestAuthFailure(t *testing.T) {
	e := start(t)
	bad := e.s.EC2(servertest.Creds{ID: "AKIAIOSFODNN7NOTREAL", Secret: "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"})
	_, err := bad.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	wantErr(t, err, "AuthFailure", 401, "AWS was not able to validate the provided access credentials")
	wrong := e.s.EC2(servertest.Creds{ID: servertest.RootKeyID, Secret: "wrong-secret-wrong-secret-wrong-secret00"})
	_, err = wrong.RunInstances(ctx, runInput(al2023))
	wantErr(t, err, "AuthFailure", 401, "AWS was not able to validate the provided access credentials")
}
