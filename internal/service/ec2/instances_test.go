package ec2_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestDescribeRegionsAndZones(t *testing.T) {
	e := start(t)
	regions := ok(e.ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}))(t).Regions
	if len(regions) != 17 {
		t.Fatalf("want the 17 regions enabled by default, got %d", len(regions))
	}
	all := ok(e.ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)}))(t).Regions
	if len(all) <= len(regions) {
		t.Fatalf("AllRegions: %d regions", len(all))
	}
	one := ok(e.ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{Filters: []types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-*"}}}}))(t).Regions
	for _, r := range one {
		if !strings.HasPrefix(aws.ToString(r.RegionName), "eu-") || aws.ToString(r.Endpoint) != "ec2."+aws.ToString(r.RegionName)+".amazonaws.com" {
			t.Fatalf("filter eu-*: %+v", r)
		}
	}
	_, err := e.ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"mars-east-1"}})
	wantErr(t, err, "InvalidParameterValue", 400, "mars-east-1")
	_, err = e.ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
	wantErr(t, err, "InvalidParameterValue", 400, "The filter 'colour' is invalid")

	zones := ok(e.ec2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}))(t).AvailabilityZones
	if len(zones) != 3 || aws.ToString(zones[0].ZoneName) != "us-east-1a" || aws.ToString(zones[0].ZoneId) != "use1-az1" ||
		zones[0].State != types.AvailabilityZoneStateAvailable || aws.ToString(zones[0].RegionName) != "us-east-1" {
		t.Fatalf("zones: %+v", zones)
	}
	other := ok(e.ec2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}, func(o *ec2.Options) { o.Region = "ap-southeast-2" }))(t).AvailabilityZones
	if aws.ToString(other[1].ZoneName) != "ap-southeast-2b" || aws.ToString(other[1].ZoneId) != "apse2-az2" {
		t.Fatalf("ap-southeast-2 zones: %+v", other)
	}
	_, err = e.ec2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{ZoneNames: []string{"us-east-1z"}})
	wantErr(t, err, "InvalidParameterValue", 400, "us-east-1z")
}

func TestRunAndDescribeInstances(t *testing.T) {
	e := start(t)
	ins := run(t, e.ec2, al2023, 2, func(in *ec2.RunInstancesInput) {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}, {Key: aws.String("team"), Value: aws.String("blue")}}}}
		in.Placement = &types.Placement{AvailabilityZone: aws.String("us-east-1b")}
	})
	if len(ins) != 2 {
		t.Fatalf("want 2 instances, got %d", len(ins))
	}
	for i, in := range ins {
		id := aws.ToString(in.InstanceId)
		if len(id) != 19 || !strings.HasPrefix(id, "i-") {
			t.Fatalf("instance id %q", id)
		}
		if in.State.Name != types.InstanceStateNameRunning || aws.ToInt32(in.State.Code) != 16 {
			t.Fatalf("state %+v", in.State)
		}
		if aws.ToInt32(in.AmiLaunchIndex) != int32(i) || in.InstanceType != types.InstanceTypeT3Micro || aws.ToString(in.ImageId) != al2023 {
			t.Fatalf("instance %+v", in)
		}
		if aws.ToString(in.Placement.AvailabilityZone) != "us-east-1b" || !strings.HasPrefix(aws.ToString(in.PrivateIpAddress), "172.31.") {
			t.Fatalf("placement %s, ip %s", aws.ToString(in.Placement.AvailabilityZone), aws.ToString(in.PrivateIpAddress))
		}
		// Amazon Linux 2023's images ask for IMDSv2 only, with a hop limit of 2.
		m := in.MetadataOptions
		if m.HttpTokens != types.HttpTokensStateRequired || aws.ToInt32(m.HttpPutResponseHopLimit) != 2 || m.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled {
			t.Fatalf("metadata options %+v", m)
		}
		if tagsOf(in.Tags)["team"] != "blue" || in.LaunchTime == nil {
			t.Fatalf("tags %v launch %v", in.Tags, in.LaunchTime)
		}
	}
	other := run(t, e.ec2, ubuntu, 1, func(in *ec2.RunInstancesInput) {
		in.InstanceType = types.InstanceTypeM5Large
	})
	if m := other[0].MetadataOptions; m.HttpTokens != types.HttpTokensStateOptional || aws.ToInt32(m.HttpPutResponseHopLimit) != 1 {
		t.Fatalf("Ubuntu's default metadata options: %+v", m)
	}

	all := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}))(t)
	if len(all.Reservations) != 2 || len(all.Reservations[0].Instances) != 2 || aws.ToString(all.Reservations[0].OwnerId) != account {
		t.Fatalf("reservations: %+v", all.Reservations)
	}
	byID := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids(ins[1:])}))(t)
	if len(byID.Reservations) != 1 || aws.ToString(byID.Reservations[0].Instances[0].InstanceId) != ids(ins)[1] {
		t.Fatalf("by id: %+v", byID.Reservations)
	}
	filter := func(name string, values ...string) []string {
		out := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String(name), Values: values}}}))(t)
		var got []string
		for _, r := range out.Reservations {
			got = append(got, ids(r.Instances)...)
		}
		return got
	}
	if got := filter("tag:team", "blue"); !slices.Equal(got, ids(ins)) {
		t.Fatalf("tag:team=blue: %v", got)
	}
	if got := filter("instance-type", "m5.*"); !slices.Equal(got, ids(other)) {
		t.Fatalf("instance-type m5.*: %v", got)
	}
	if got := filter("instance-id", ids(ins)[0]); !slices.Equal(got, ids(ins)[:1]) {
		t.Fatalf("instance-id: %v", got)
	}
	if got := filter("instance-state-name", "stopped"); len(got) != 0 {
		t.Fatalf("stopped: %v", got)
	}
	// Other regions do not see the instances.
	west := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}, func(o *ec2.Options) { o.Region = "us-west-2" }))(t)
	if len(west.Reservations) != 0 {
		t.Fatalf("us-west-2 sees %d reservations", len(west.Reservations))
	}
	// Pages of five.
	run(t, e.ec2, ubuntu, 4)
	var pages, seen int
	p := ec2.NewDescribeInstancesPaginator(e.ec2, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out := ok(p.NextPage(ctx))(t)
		pages++
		for _, r := range out.Reservations {
			seen += len(r.Instances)
		}
	}
	if pages != 2 || seen != 7 {
		t.Fatalf("paginated: %d pages, %d instances", pages, seen)
	}
}

func TestRunInstancesErrors(t *testing.T) {
	e := start(t)
	for _, c := range []struct {
		name   string
		mod    func(*ec2.RunInstancesInput)
		code   string
		inText string
	}{
		{"unknown image", func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ami-0123456789abcdef0") },
			"InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist"},
		{"malformed image", func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ami-xyz") }, "InvalidAMIID.Malformed", "ami-xyz"},
		{"no image", func(in *ec2.RunInstancesInput) { in.ImageId = nil }, "MissingParameter", "ImageId"},
		{"bad type", func(in *ec2.RunInstancesInput) { in.InstanceType = "huge" }, "InvalidParameterValue", "Invalid value 'huge' for InstanceType"},
		{"min 0", func(in *ec2.RunInstancesInput) { in.MinCount = aws.Int32(0) }, "InvalidParameterValue", "MinCount"},
		{"max < min", func(in *ec2.RunInstancesInput) { in.MinCount, in.MaxCount = aws.Int32(3), aws.Int32(2) }, "InvalidParameterValue", "MaxCount"},
		{"too many", func(in *ec2.RunInstancesInput) { in.MinCount, in.MaxCount = aws.Int32(21), aws.Int32(30) }, "InstanceLimitExceeded", "21"},
		{"hop limit", func(in *ec2.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpPutResponseHopLimit: aws.Int32(65)}
		}, "InvalidParameterValue", "HttpPutResponseHopLimit"},
		{"tokens", func(in *ec2.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: "sometimes"}
		}, "InvalidParameterValue", "HttpTokens"},
		{"unknown profile", func(in *ec2.RunInstancesInput) {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String("nope")}
		}, "InvalidParameterValue", "Value (nope) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"},
		{"unknown profile arn", func(in *ec2.RunInstancesInput) {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::111111111111:instance-profile/nope")}
		}, "InvalidParameterValue", "Invalid IAM Instance Profile ARN"},
		{"zone", func(in *ec2.RunInstancesInput) {
			in.Placement = &types.Placement{AvailabilityZone: aws.String("eu-west-1a")}
		},
			"InvalidParameterValue", "eu-west-1a"},
		{"reserved tag", func(in *ec2.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}}}
		}, "InvalidParameterValue", "reserved"},
	} {
		in := runInput(al2023)
		c.mod(in)
		_, err := e.ec2.RunInstances(ctx, in)
		wantErr(t, err, c.code, 400, c.inText)
	}
	// A failed call launches nothing.
	if out := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}))(t); len(out.Reservations) != 0 {
		t.Fatalf("failed calls launched %d reservations", len(out.Reservations))
	}
	// A ClientToken makes RunInstances idempotent.
	in := runInput(ubuntu)
	in.ClientToken = aws.String("once")
	first := ok(e.ec2.RunInstances(ctx, in))(t)
	again := ok(e.ec2.RunInstances(ctx, in))(t)
	if aws.ToString(first.ReservationId) != aws.ToString(again.ReservationId) || ids(first.Instances)[0] != ids(again.Instances)[0] {
		t.Fatalf("ClientToken: %s then %s", aws.ToString(first.ReservationId), aws.ToString(again.ReservationId))
	}
}

func TestInstanceStates(t *testing.T) {
	e := start(t)
	ins := run(t, e.ec2, ubuntu, 2)
	id := ids(ins)
	stop := ok(e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: id}))(t).StoppingInstances
	if len(stop) != 2 || stop[0].PreviousState.Name != types.InstanceStateNameRunning || stop[0].CurrentState.Name != types.InstanceStateNameStopped ||
		aws.ToInt32(stop[0].CurrentState.Code) != 80 {
		t.Fatalf("stop: %+v", stop)
	}
	d := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: id[:1]}))(t).Reservations[0].Instances[0]
	if d.State.Name != types.InstanceStateNameStopped || d.StateReason == nil || aws.ToString(d.StateReason.Code) != "Client.UserInitiatedShutdown" ||
		!strings.HasPrefix(aws.ToString(d.StateTransitionReason), "User initiated (") {
		t.Fatalf("stopped instance: %+v", d)
	}
	startOut := ok(e.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: id[:1]}))(t).StartingInstances
	if startOut[0].PreviousState.Name != types.InstanceStateNameStopped || startOut[0].CurrentState.Name != types.InstanceStateNameRunning {
		t.Fatalf("start: %+v", startOut)
	}
	term := ok(e.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: id}))(t).TerminatingInstances
	if term[0].PreviousState.Name != types.InstanceStateNameRunning || term[1].PreviousState.Name != types.InstanceStateNameStopped ||
		term[1].CurrentState.Name != types.InstanceStateNameTerminated || aws.ToInt32(term[1].CurrentState.Code) != 48 {
		t.Fatalf("terminate: %+v", term)
	}
	_, err := e.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: id[:1]})
	wantErr(t, err, "IncorrectInstanceState", 400, id[0])
	_, err = e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: id[:1]})
	wantErr(t, err, "IncorrectInstanceState", 400, "stopped")
	// Terminated instances stay visible for a while, as on AWS.
	if got := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: id}))(t).Reservations; len(got[0].Instances) != 2 {
		t.Fatalf("terminated instances: %+v", got)
	}

	_, err = e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0", "i-0123456789abcdef1"}})
	wantErr(t, err, "InvalidInstanceID.NotFound", 400, "The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist")
	_, err = e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	wantErr(t, err, "InvalidInstanceID.NotFound", 400, "The instance ID 'i-0123456789abcdef0' does not exist")
	_, err = e.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-nope"}})
	wantErr(t, err, "InvalidInstanceID.Malformed", 400, `Invalid id: "i-nope"`)
	_, err = e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"bogus"}})
	wantErr(t, err, "InvalidInstanceID.Malformed", 400, "bogus")
}

func TestDryRun(t *testing.T) {
	e := start(t)
	in := runInput(al2023)
	in.DryRun = aws.Bool(true)
	_, err := e.ec2.RunInstances(ctx, in)
	wantErr(t, err, "DryRunOperation", 412, "Request would have succeeded, but DryRun flag is set.")
	if out := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}))(t); len(out.Reservations) != 0 {
		t.Fatal("a dry run launched an instance")
	}
	nobody := e.user("nobody", "")
	_, err = e.s.EC2(nobody).RunInstances(ctx, in)
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	id := ids(run(t, e.ec2, al2023, 1))
	_, err = e.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: id, DryRun: aws.Bool(true)})
	wantErr(t, err, "DryRunOperation", 412, "")
}

func TestModifyInstanceMetadataOptions(t *testing.T) {
	e := start(t)
	id := ids(run(t, e.ec2, ubuntu, 1))[0]
	out := ok(e.ec2.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: &id,
		HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(3)}))(t)
	if aws.ToString(out.InstanceId) != id || out.InstanceMetadataOptions.HttpTokens != types.HttpTokensStateRequired ||
		aws.ToInt32(out.InstanceMetadataOptions.HttpPutResponseHopLimit) != 3 {
		t.Fatalf("modify: %+v", out.InstanceMetadataOptions)
	}
	d := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}))(t).Reservations[0].Instances[0]
	if d.MetadataOptions.HttpTokens != types.HttpTokensStateRequired || d.MetadataOptions.HttpEndpoint != types.InstanceMetadataEndpointStateEnabled {
		t.Fatalf("after modify: %+v", d.MetadataOptions)
	}
	_, err := e.ec2.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: &id, HttpPutResponseHopLimit: aws.Int32(0)})
	wantErr(t, err, "InvalidParameterValue", 400, "HttpPutResponseHopLimit")
	_, err = e.ec2.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: aws.String("i-0000000000000000f")})
	wantErr(t, err, "InvalidInstanceID.NotFound", 400, "i-0000000000000000f")

	// A policy can require IMDSv2 through ec2:MetadataHttpTokens.
	c := e.user("imdsv2", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ec2:*","Resource":"*"},
		{"Sid":"RequireV2","Effect":"Deny","Action":["ec2:RunInstances","ec2:ModifyInstanceMetadataOptions"],"Resource":"arn:aws:ec2:*:*:instance/*",
		 "Condition":{"StringNotEquals":{"ec2:MetadataHttpTokens":"required"}}}]}`)
	cl := e.s.EC2(c)
	_, err = cl.RunInstances(ctx, runInput(ubuntu))
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	in := runInput(ubuntu)
	in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired}
	run(t, cl, ubuntu, 1, func(r *ec2.RunInstancesInput) { *r = *in })
	_, err = cl.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{InstanceId: &id, HttpTokens: types.HttpTokensStateOptional})
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
}

func TestConditionKeys(t *testing.T) {
	e := start(t)
	c := e.user("limited", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},
		{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*::image/*","Condition":{"StringEquals":{"ec2:Owner":"amazon"}}},
		{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:*:instance/*",
		 "Condition":{"StringEquals":{"ec2:InstanceType":"t3.micro","ec2:Region":"us-east-1","aws:RequestTag/team":"blue"}}},
		{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"RunInstances"}}},
		{"Effect":"Allow","Action":["ec2:StopInstances","ec2:StartInstances"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]}`)
	cl := e.s.EC2(c)
	blue := func(in *ec2.RunInstancesInput) {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}}
	}
	mine := ids(run(t, cl, al2023, 1, blue))
	// Without the tag, another type, Canonical's image, or another region: denied.
	_, err := cl.RunInstances(ctx, runInput(al2023))
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	in := runInput(al2023)
	blue(in)
	in.InstanceType = types.InstanceTypeM5Large
	_, err = cl.RunInstances(ctx, in)
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	in = runInput(ubuntu)
	blue(in)
	_, err = cl.RunInstances(ctx, in)
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	in = runInput(al2023)
	blue(in)
	_, err = cl.RunInstances(ctx, in, func(o *ec2.Options) { o.Region = "eu-west-1" })
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)

	// aws:ResourceTag: the tagged instance may be stopped, an untagged one not; with
	// both in one call, the call is refused and nothing changes.
	other := ids(run(t, e.ec2, al2023, 1))
	ok(cl.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: mine}))(t)
	_, err = cl.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: other})
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	_, err = cl.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: append(mine, other...)})
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	d := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: mine}))(t).Reservations[0].Instances[0]
	if d.State.Name != types.InstanceStateNameStopped {
		t.Fatalf("a refused call changed state: %s", d.State.Name)
	}
}
