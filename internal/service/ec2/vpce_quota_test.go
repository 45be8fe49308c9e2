package ec2_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/iamlocal/iamlocal/internal/server"
)

// AWS's quotas: 50 interface endpoints per VPC, 20 gateway endpoints per Region.
// Past them CreateVpcEndpoint answers VpcEndpointLimitExceeded and opens nothing.
func TestVpcEndpointQuotas(t *testing.T) {
	e := start(t)
	listeners := e.s.Env.Endpoints.(*server.Listeners)
	create := func(vpc string, typ types.VpcEndpointType, svc string) (*ec2.CreateVpcEndpointOutput, error) {
		return e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(vpc), VpcEndpointType: typ,
			ServiceName: aws.String("com.amazonaws.us-east-1." + svc)})
	}
	var first string
	for i := range 50 {
		out := ok(create("vpc-0a1b2c3d", types.VpcEndpointTypeInterface, "sts"))(t)
		if i == 0 {
			first = aws.ToString(out.VpcEndpoint.VpcEndpointId)
		}
	}
	_, err := create("vpc-0a1b2c3d", types.VpcEndpointTypeInterface, "ec2")
	wantErr(t, err, "VpcEndpointLimitExceeded", 400, "The maximum number of VPC endpoints has been reached.")
	if n := listeners.Len(); n != 50 {
		t.Fatalf("%d listeners after the refused endpoint, want 50", n)
	}
	// Another VPC has a quota of its own.
	ok(create("vpc-0b1b2c3d", types.VpcEndpointTypeInterface, "ec2"))(t)
	// Deleting one makes room.
	ok(e.ec2.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{first}}))(t)
	ok(create("vpc-0a1b2c3d", types.VpcEndpointTypeInterface, "ec2"))(t)
	_, err = create("vpc-0a1b2c3d", types.VpcEndpointTypeInterface, "ec2")
	wantErr(t, err, "VpcEndpointLimitExceeded", 400, "The maximum number of VPC endpoints has been reached.")

	// Gateway endpoints count per Region, whatever the VPC, apart from interface ones.
	for i := range 20 {
		ok(create(fmt.Sprintf("vpc-%08x", 0xc0000000+i), types.VpcEndpointTypeGateway, "s3"))(t)
	}
	_, err = create("vpc-0d1b2c3d", types.VpcEndpointTypeGateway, "s3")
	wantErr(t, err, "VpcEndpointLimitExceeded", 400, "The maximum number of VPC endpoints has been reached.")
	if n := listeners.Len(); n != 51+20 {
		t.Fatalf("%d listeners, want 71", n)
	}
	// A DryRun past the quota answers DryRunOperation: it checks permissions only.
	_, err = e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String("vpc-0a1b2c3d"), DryRun: aws.Bool(true),
		ServiceName: aws.String("com.amazonaws.us-east-1.sts"), VpcEndpointType: types.VpcEndpointTypeInterface})
	wantErr(t, err, "DryRunOperation", 412, "")
}
