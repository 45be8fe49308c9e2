package ec2_test

import (
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func imageIDs(ims []types.Image) []string {
	var out []string
	for _, im := range ims {
		out = append(out, aws.ToString(im.ImageId))
	}
	sort.Strings(out)
	return out
}

func TestDescribeImages(t *testing.T) {
	e := start(t)
	all := ok(e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{}))(t).Images
	if len(all) != 4 {
		t.Fatalf("catalogue: %d images", len(all))
	}
	amazon := ok(e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}}))(t).Images
	if got := imageIDs(amazon); slices.Contains(got, ubuntu) || !slices.Contains(got, al2023) || !slices.Contains(got, windows) {
		t.Fatalf("--owners amazon: %v", got)
	}
	canonical := ok(e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"099720109477"}}))(t).Images
	if len(canonical) != 1 || aws.ToString(canonical[0].ImageId) != ubuntu {
		t.Fatalf("--owners 099720109477: %v", imageIDs(canonical))
	}
	named := ok(e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{
		{Name: aws.String("name"), Values: []string{"al2023-ami-*"}}, {Name: aws.String("architecture"), Values: []string{"x86_64"}}}}))(t).Images
	if len(named) != 1 || aws.ToString(named[0].ImageId) != al2023 {
		t.Fatalf("name filter: %v", imageIDs(named))
	}
	im := named[0]
	if im.State != types.ImageStateAvailable || !aws.ToBool(im.Public) || aws.ToString(im.ImageOwnerAlias) != "amazon" ||
		aws.ToString(im.OwnerId) != "137112412989" || im.ImdsSupport != types.ImdsSupportValuesV20 || im.RootDeviceType != types.DeviceTypeEbs {
		t.Fatalf("AL2023: %+v", im)
	}
	win := ok(e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{windows}}))(t).Images
	if len(win) != 1 || win[0].Platform != "windows" {
		t.Fatalf("windows: %+v", win)
	}
	_, err := e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
	wantErr(t, err, "InvalidAMIID.NotFound", 400, "ami-0123456789abcdef0")
	_, err = e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ubuntu"}})
	wantErr(t, err, "InvalidAMIID.Malformed", 400, "ubuntu")
	_, err = e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("flavour"), Values: []string{"x"}}}})
	wantErr(t, err, "InvalidParameterValue", 400, "flavour")
}

func TestCreateAndDeregisterImage(t *testing.T) {
	e := start(t)
	id := ids(run(t, e.ec2, al2023, 1))[0]
	out := ok(e.ec2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &id, Name: aws.String("golden (v1)"), Description: aws.String("ours"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("stage"), Value: aws.String("prod")}}}}}))(t)
	ami := aws.ToString(out.ImageId)
	if len(ami) != 21 {
		t.Fatalf("image id %q", ami)
	}
	self := ok(e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}))(t).Images
	if len(self) != 1 || aws.ToString(self[0].ImageId) != ami || aws.ToString(self[0].OwnerId) != account || aws.ToBool(self[0].Public) ||
		aws.ToString(self[0].Name) != "golden (v1)" || aws.ToString(self[0].SourceInstanceId) != id || tagsOf(self[0].Tags)["stage"] != "prod" ||
		self[0].ImdsSupport != types.ImdsSupportValuesV20 || self[0].Architecture != types.ArchitectureValuesX8664 {
		t.Fatalf("own image: %+v", self)
	}
	byOwner := ok(e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("owner-id"), Values: []string{account}}}}))(t).Images
	if len(byOwner) != 1 {
		t.Fatalf("owner-id filter: %v", imageIDs(byOwner))
	}
	// The new image launches instances.
	from := run(t, e.ec2, ami, 1)
	if aws.ToString(from[0].ImageId) != ami {
		t.Fatalf("launched from %s", aws.ToString(from[0].ImageId))
	}
	_, err := e.ec2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &id, Name: aws.String("golden (v1)")})
	wantErr(t, err, "InvalidAMIName.Duplicate", 400, "AMI name golden (v1) is already in use by AMI "+ami)
	_, err = e.ec2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &id, Name: aws.String("x")})
	wantErr(t, err, "InvalidAMIName.Malformed", 400, "")
	_, err = e.ec2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("other")})
	wantErr(t, err, "InvalidInstanceID.NotFound", 400, "i-0123456789abcdef0")

	// Another region does not see it.
	_, err = e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}}, func(o *ec2.Options) { o.Region = "eu-west-1" })
	wantErr(t, err, "InvalidAMIID.NotFound", 400, ami)

	_, err = e.ec2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(al2023)})
	wantErr(t, err, "AuthFailure", 400, "Not authorized for image:"+al2023)
	ok(e.ec2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: &ami}))(t)
	_, err = e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})
	wantErr(t, err, "InvalidAMIID.NotFound", 400, ami)
	_, err = e.ec2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: &ami})
	wantErr(t, err, "InvalidAMIID.NotFound", 400, ami)

	// CreateImage needs the permission on the image as well as on the instance.
	c := e.user("imager", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:CreateImage","Resource":"arn:aws:ec2:*:*:instance/*"}]}`)
	_, err = e.s.EC2(c).CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &id, Name: aws.String("golden-v2")})
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
}

func TestTags(t *testing.T) {
	e := start(t)
	id := ids(run(t, e.ec2, al2023, 1))[0]
	ami := aws.ToString(ok(e.ec2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: &id, Name: aws.String("tagged")}))(t).ImageId)
	ok(e.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id, ami},
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("owner"), Value: aws.String("ana")}}}))(t)
	all := ok(e.ec2.DescribeTags(ctx, &ec2.DescribeTagsInput{}))(t).Tags
	if len(all) != 4 {
		t.Fatalf("tags: %+v", all)
	}
	inst := ok(e.ec2.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{{Name: aws.String("resource-type"), Values: []string{"instance"}},
		{Name: aws.String("key"), Values: []string{"env"}}}}))(t).Tags
	if len(inst) != 1 || aws.ToString(inst[0].ResourceId) != id || inst[0].ResourceType != types.ResourceTypeInstance || aws.ToString(inst[0].Value) != "dev" {
		t.Fatalf("instance env tag: %+v", inst)
	}
	// DeleteTags: a value that does not match keeps the tag; a key alone removes it.
	ok(e.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))(t)
	ok(e.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("owner")}}}))(t)
	d := ok(e.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}))(t).Reservations[0].Instances[0]
	if got := tagsOf(d.Tags); len(got) != 1 || got["env"] != "dev" {
		t.Fatalf("after DeleteTags: %v", got)
	}
	// No tags named: all go.
	ok(e.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{ami}}))(t)
	im := ok(e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}}))(t).Images[0]
	if len(im.Tags) != 0 {
		t.Fatalf("image tags: %v", im.Tags)
	}

	_, err := e.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantErr(t, err, "InvalidInstanceID.NotFound", 400, "i-0123456789abcdef0")
	_, err = e.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"sg-12345678"}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantErr(t, err, "InvalidID", 400, "sg-12345678")
	_, err = e.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{al2023}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantErr(t, err, "InvalidAMIID.NotFound", 400, al2023)

	// CreateTags is authorized on every resource, with the request's tags.
	c := e.user("tagger", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:*:*:instance/*",
		"Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}}]}`)
	cl := e.s.EC2(c)
	ok(cl.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("qa")}}}))(t)
	_, err = cl.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []types.Tag{{Key: aws.String("cost"), Value: aws.String("1")}}})
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
	_, err = cl.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id, ami}, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("qa")}}})
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized)
}
