package ec2_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv4"
)

// FuzzEC2Query sends arbitrary, correctly signed EC2 Query bodies as the root user:
// whatever they hold, the answer is an EC2 error or a success — never a panic,
// never a 500.
func FuzzEC2Query(f *testing.F) {
	for _, s := range []string{
		"Action=RunInstances&ImageId=ami-0a1f2e3d4c5b6a701&MinCount=1&MaxCount=1&InstanceType=t3.micro",
		"Action=RunInstances&ImageId=ami-0a1f2e3d4c5b6a701&MinCount=1&MaxCount=99999999999&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=a",
		"Action=RunInstances&ImageId=ami-0a1f2e3d4c5b6a701&MinCount=1&MaxCount=1&IamInstanceProfile.Arn=arn:aws:iam::111111111111:instance-profile/&MetadataOptions.HttpPutResponseHopLimit=-1",
		"Action=RunInstances&ImageId=ami-&MinCount=x&MaxCount=1&Placement.AvailabilityZone=",
		"Action=DescribeInstances&Filter.1.Name=tag:a&Filter.1.Value.1=*%5C&Filter.2.Name=instance-state-name&InstanceId.0=i-1",
		"Action=DescribeInstances&MaxResults=5&NextToken=zzz",
		"Action=DescribeImages&Owner.1=self&ImageId.1=ami-12345678&Filter.1.Name=name&Filter.1.Value.1=%2A%3F%2A",
		"Action=StopInstances&InstanceId.1=i-0123456789abcdef0&InstanceId.2=i-",
		"Action=CreateTags&ResourceId.1=vpce-12345678&Tag.1.Key=&Tag.1.Value=x",
		"Action=DeleteTags&ResourceId.1=ami-0a1f2e3d4c5b6a701&Tag.1.Value=x",
		"Action=DescribeTags&Filter.1.Name=key&MaxResults=abc",
		"Action=CreateImage&InstanceId=i-0123456789abcdef0&Name=%00",
		"Action=ModifyInstanceMetadataOptions&InstanceId=i-12345678&HttpTokens=required&DryRun=maybe",
		"Action=CreateVpcEndpoint&VpcId=vpc-12345678&ServiceName=com.amazonaws.us-east-1.ec2&VpcEndpointType=Interface&PolicyDocument=%7B",
		"Action=ModifyVpcEndpoint&VpcEndpointId=vpce-12345678&ResetPolicy=true&PolicyDocument=x",
		"Action=DeleteVpcEndpoints&VpcEndpointId.1=x&VpcEndpointId.2=vpce-0123456789abcdef0",
		"Action=DescribeIamInstanceProfileAssociations&AssociationId.1=iip-assoc-1",
		"Action=AssociateIamInstanceProfile&InstanceId=i-12345678&IamInstanceProfile.Name=x&IamInstanceProfile.Arn=y",
		"Action=DescribeRegions&RegionName.1=..&AllRegions=1",
		"Action=DescribeAvailabilityZones&ZoneId.1=&Filter.1.Name=",
		"Action=Nope",
	} {
		f.Add(s + "&Version=2016-11-15")
	}
	s := servertest.Start(f, "")
	s.Env.Endpoints = nil // CreateVpcEndpoint then opens no listeners, however often it succeeds
	f.Fuzz(func(t *testing.T, body string) {
		r, err := http.NewRequest(http.MethodPost, "http://localhost/", strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		sigv4.Sign(r, []byte(body), servertest.RootKeyID, servertest.RootSecret, "us-east-1", "ec2", time.Now())
		r.Body = io.NopCloser(bytes.NewReader([]byte(body)))
		w := httptest.NewRecorder()
		s.Handler.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body.String())
		}
	})
}
