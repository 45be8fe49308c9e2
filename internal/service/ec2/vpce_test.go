package ec2_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

const denyRun = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
	{"Effect":"Deny","Principal":"*","Action":"ec2:RunInstances","Resource":"*"}]}`

func TestVpcEndpoints(t *testing.T) {
	e := start(t)
	out := ok(e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"), VpcEndpointType: types.VpcEndpointTypeInterface,
		ServiceName: aws.String("com.amazonaws.us-east-1.ec2"), SubnetIds: []string{"subnet-12345678"},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpcEndpoint, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("ec2")}}}}}))(t)
	ep := out.VpcEndpoint
	id := aws.ToString(ep.VpcEndpointId)
	if !strings.HasPrefix(id, "vpce-") || len(id) != 22 || ep.State != "available" || ep.VpcEndpointType != types.VpcEndpointTypeInterface ||
		aws.ToString(ep.OwnerId) != account || len(ep.DnsEntries) != 1 || !strings.HasPrefix(aws.ToString(ep.DnsEntries[0].DnsName), "localhost:") ||
		!strings.Contains(aws.ToString(ep.PolicyDocument), `"Principal":"*"`) || tagsOf(ep.Tags)["Name"] != "ec2" || ep.SubnetIds[0] != "subnet-12345678" {
		t.Fatalf("endpoint: %s %s %s %v %s", id, aws.ToString(ep.DnsEntries[0].DnsName), aws.ToString(ep.PolicyDocument), tagsOf(ep.Tags), aws.ToString(ep.OwnerId))
	}
	dns := aws.ToString(ep.DnsEntries[0].DnsName)

	described := ok(e.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{}))(t).VpcEndpoints
	if len(described) != 1 || aws.ToString(described[0].DnsEntries[0].DnsName) != dns {
		t.Fatalf("described: %+v", described)
	}
	filtered := ok(e.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []types.Filter{{Name: aws.String("service-name"), Values: []string{"*.s3"}}}}))(t).VpcEndpoints
	if len(filtered) != 0 {
		t.Fatalf("service-name *.s3: %+v", filtered)
	}

	// Calls through the endpoint work, with aws:SourceVpce set and no aws:SourceIp.
	ok(e.ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}, through(dns)))(t)
	c := e.user("vpce-only", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","sts:DecodeAuthorizationMessage"],"Resource":"*",
		"Condition":{"StringEquals":{"aws:SourceVpce":"`+id+`"}}}]}`)
	ok(e.s.EC2(c).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}, through(dns)))(t)
	_, err := e.s.EC2(c).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	d := decodeDenial(t, e.s, servertest.Root, err)
	if len(d.condition("aws:SourceVpce")) != 0 || len(d.condition("aws:SourceIp")) != 1 {
		t.Fatalf("direct call's context: %+v", d.Context.Conditions)
	}

	// A policy restricts calls through the endpoint only.
	ok(e.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, PolicyDocument: aws.String(denyRun)}))(t)
	_, err = e.ec2.RunInstances(ctx, runInput(al2023), through(dns))
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	if strings.Contains(err.Error(), "Encoded") {
		t.Fatalf("endpoint denial with an encoded message: %v", err)
	}
	run(t, e.ec2, al2023, 1)
	got := ok(e.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{id}}))(t).VpcEndpoints[0]
	if aws.ToString(got.PolicyDocument) != denyRun {
		t.Fatalf("policy document: %s", aws.ToString(got.PolicyDocument))
	}
	ok(e.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, ResetPolicy: aws.Bool(true)}))(t)
	ok(e.ec2.RunInstances(ctx, runInput(al2023), through(dns)))(t)

	// Bad input.
	_, err = e.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: &id, PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow"}]}`)})
	wantErr(t, err, "InvalidPolicyDocument", 400, "The Policy Document is not valid.")
	_, err = e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"), VpcEndpointType: types.VpcEndpointTypeInterface,
		ServiceName: aws.String("com.amazonaws.us-east-1.ec2"), PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	wantErr(t, err, "InvalidPolicyDocument", 400, "")
	_, err = e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"), VpcEndpointType: types.VpcEndpointTypeInterface,
		ServiceName: aws.String("com.amazonaws.us-east-1.lambda")})
	wantErr(t, err, "InvalidServiceName", 400, "com.amazonaws.us-east-1.lambda")
	_, err = e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"), ServiceName: aws.String("com.amazonaws.us-east-1.sts")})
	wantErr(t, err, "InvalidParameter", 400, "Endpoint type (Gateway) does not match available service types ([Interface])")
	_, err = e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("default"), ServiceName: aws.String("com.amazonaws.us-east-1.sts")})
	wantErr(t, err, "InvalidVpcId.Malformed", 400, "default")
	_, err = e.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{"vpce-0123456789abcdef0"}})
	wantErr(t, err, "InvalidVpcEndpointId.NotFound", 400, "vpce-0123456789abcdef0")
	_, err = e.ec2.ModifyVpcEndpoint(ctx, &ec2.ModifyVpcEndpointInput{VpcEndpointId: aws.String("vpce-0123456789abcdef0"), ResetPolicy: aws.Bool(true)})
	wantErr(t, err, "InvalidVpcEndpointId.NotFound", 400, "vpce-0123456789abcdef0")

	// A Gateway endpoint for S3 is fine.
	s3 := ok(e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"), ServiceName: aws.String("com.amazonaws.us-east-1.s3")}))(t).VpcEndpoint
	if s3.VpcEndpointType != types.VpcEndpointTypeGateway {
		t.Fatalf("s3 endpoint type %s", s3.VpcEndpointType)
	}

	// Delete: unknown ids are reported, the listener closes.
	del := ok(e.ec2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{id, "vpce-0123456789abcdef0"}}))(t)
	if len(del.Unsuccessful) != 1 || aws.ToString(del.Unsuccessful[0].ResourceId) != "vpce-0123456789abcdef0" ||
		aws.ToString(del.Unsuccessful[0].Error.Code) != "InvalidVpcEndpointId.NotFound" {
		t.Fatalf("unsuccessful: %+v", del.Unsuccessful)
	}
	left := ok(e.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{}))(t).VpcEndpoints
	if len(left) != 1 || aws.ToString(left[0].VpcEndpointId) != aws.ToString(s3.VpcEndpointId) {
		t.Fatalf("after delete: %+v", left)
	}
	if _, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + dns + "/_iamlocal/health"); err == nil {
		t.Fatal("the deleted endpoint's listener still answers")
	}
}

func TestVpcEndpointSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := servertest.Start(t, dir)
	ep := ok(s.EC2(servertest.Root).CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"),
		VpcEndpointType: types.VpcEndpointTypeInterface, ServiceName: aws.String("com.amazonaws.us-east-1.sts"),
		PolicyDocument: aws.String(`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:GetAccessKeyInfo","Resource":"*"},
			{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)}))(t).VpcEndpoint
	dns := aws.ToString(ep.DnsEntries[0].DnsName)
	s.Close()

	s = servertest.Start(t, dir)
	eps := ok(s.EC2(servertest.Root).DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{}))(t).VpcEndpoints
	if len(eps) != 1 || aws.ToString(eps[0].DnsEntries[0].DnsName) != dns {
		t.Fatalf("after restart: %+v", eps)
	}
	// The listener is back on its port, with its policy.
	viaEndpoint := func(o *sts.Options) { o.BaseEndpoint = aws.String("http://" + dns) }
	who := ok(s.STS(servertest.Root).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, viaEndpoint))(t)
	if aws.ToString(who.Account) != account {
		t.Fatalf("GetCallerIdentity through the endpoint: %+v", who)
	}
	keyInfo := &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(servertest.RootKeyID)}
	_, err := s.STS(servertest.Root).GetAccessKeyInfo(ctx, keyInfo, viaEndpoint)
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("the endpoint policy lost its deny: %v", err)
	}
	ok(s.STS(servertest.Root).GetAccessKeyInfo(ctx, keyInfo))(t)
}
