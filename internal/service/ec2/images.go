package ec2

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

func init() {
	register(
		&service.Action{Name: "DescribeImages", IAMAction: "ec2:DescribeImages", Context: regionContext, Handle: describeImages},
		&service.Action{Name: "CreateImage", IAMAction: "ec2:CreateImage", Write: true,
			Resource: instanceResource("InstanceId"), Context: instanceContext("InstanceId"), Handle: createImage},
		&service.Action{Name: "DeregisterImage", IAMAction: "ec2:DeregisterImage", Write: true,
			Resource: imageResource, Context: imageContextOf, Handle: deregisterImage},
	)
}

// image is an AMI: one of the built-in public images or one an account created.
type image struct {
	ID                 string
	Name               string
	Description        string
	OwnerID            string
	OwnerAlias         string // "amazon" for Amazon's images
	Region             string // "" for the catalogue, which every region has
	Public             bool
	Architecture       string
	Platform           string // "windows" or ""
	PlatformDetails    string
	UsageOperation     string
	RootDeviceName     string
	ImdsSupport        string // "v2.0": instances default to IMDSv2 only
	BootMode           string
	CreationDate       time.Time
	SourceInstanceID   string
	Tags               []directory.Tag
	VirtualizationType string
}

// catalogue is the built-in set of public images, the same in every region. Their
// ids are stable; AWS's differ per region, iamlocal's do not.
var catalogue = []*image{
	{ID: "ami-0a1f2e3d4c5b6a701", Name: "al2023-ami-2023.6.20250115.0-kernel-6.1-x86_64",
		Description: "Amazon Linux 2023 AMI 2023.6.20250115.0 x86_64 HVM kernel-6.1", OwnerID: "137112412989", OwnerAlias: "amazon",
		Public: true, Architecture: "x86_64", PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances",
		RootDeviceName: "/dev/xvda", ImdsSupport: "v2.0", BootMode: "uefi-preferred",
		CreationDate: time.Date(2025, 1, 15, 21, 0, 0, 0, time.UTC)},
	{ID: "ami-0d4a5b6c7d8e9fa04", Name: "al2023-ami-2023.6.20250115.0-kernel-6.1-arm64",
		Description: "Amazon Linux 2023 AMI 2023.6.20250115.0 arm64 HVM kernel-6.1", OwnerID: "137112412989", OwnerAlias: "amazon",
		Public: true, Architecture: "arm64", PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances",
		RootDeviceName: "/dev/xvda", ImdsSupport: "v2.0", BootMode: "uefi",
		CreationDate: time.Date(2025, 1, 15, 21, 0, 0, 0, time.UTC)},
	// Ubuntu's images are Canonical's (099720109477), as on AWS: `--owners amazon`
	// does not list them, `--owners 099720109477` does.
	{ID: "ami-0b2e3d4c5a6f7e802", Name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250115",
		Description: "Canonical, Ubuntu, 24.04, amd64 noble image", OwnerID: "099720109477",
		Public: true, Architecture: "x86_64", PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances",
		RootDeviceName: "/dev/sda1", BootMode: "uefi-preferred",
		CreationDate: time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)},
	{ID: "ami-0c3f4e5d6b7a8f903", Name: "Windows_Server-2022-English-Full-Base-2025.01.15",
		Description: "Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon", OwnerID: "801119661308", OwnerAlias: "amazon",
		Public: true, Architecture: "x86_64", Platform: "windows", PlatformDetails: "Windows", UsageOperation: "RunInstances:0002",
		RootDeviceName: "/dev/sda1", BootMode: "uefi",
		CreationDate: time.Date(2025, 1, 15, 8, 0, 0, 0, time.UTC)},
}

// ownerKey is the value of ec2:Owner: "amazon" for Amazon's images, else the account.
func (im *image) ownerKey() string {
	if im.OwnerAlias != "" {
		return im.OwnerAlias
	}
	return im.OwnerID
}

func (im *image) location() string {
	if im.OwnerAlias != "" {
		return im.OwnerAlias + "/" + im.Name
	}
	return im.OwnerID + "/" + im.Name
}

// context sets the image's condition keys.
func (im *image) context(ctx policy.Context, r string) {
	ctx.Set("ec2:Region", r)
	ctx.Set("ec2:Owner", im.ownerKey())
	ctx.Set("ec2:ImageType", "machine")
	ctx.Set("ec2:Public", fmt.Sprint(im.Public))
	ctx.Set("ec2:RootDeviceType", "ebs")
	resourceTags(ctx, im.Tags)
}

// visibleImage finds an image the caller can see: the catalogue's, or the caller's
// own in this region. nil when there is none.
func visibleImage(c *service.Call, id string) (*image, error) {
	for _, im := range catalogue {
		if im.ID == id {
			return im, nil
		}
	}
	im := &image{}
	ok, err := getJSON(c.Tx, kindImage, id, im)
	if err != nil || !ok {
		return nil, err
	}
	if im.OwnerID != c.Account() || im.Region != region(c) {
		return nil, nil
	}
	return im, nil
}

func checkImageID(id string) error {
	if !validID(id, "ami-") {
		return ec2Error("InvalidAMIID.Malformed", `Invalid id: "%s" (expecting "ami-...")`, id)
	}
	return nil
}

func imageNotFound(ids ...string) error {
	return ec2Error("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", notFoundList(ids))
}

// loadImage reads the image of an ImageId parameter, with EC2's errors.
func loadImage(c *service.Call, id string) (*image, error) {
	if id == "" {
		return nil, missingParameter("ImageId")
	}
	if err := checkImageID(id); err != nil {
		return nil, err
	}
	im, err := visibleImage(c, id)
	if err != nil {
		return nil, err
	}
	if im == nil {
		return nil, imageNotFound(id)
	}
	return im, nil
}

func imageResource(c *service.Call) (string, string, error) {
	im, err := loadImage(c, c.Params.Get("ImageId"))
	if err != nil {
		return "", "", err
	}
	return imageArn(region(c), im.ID), c.Account(), nil
}

func imageContextOf(c *service.Call, ctx policy.Context) error {
	im, err := loadImage(c, c.Params.Get("ImageId"))
	if err != nil {
		return err
	}
	im.context(ctx, region(c))
	return nil
}

type imageXML struct {
	ImageID            string   `xml:"imageId"`
	ImageLocation      string   `xml:"imageLocation"`
	State              string   `xml:"imageState"`
	OwnerID            string   `xml:"imageOwnerId"`
	CreationDate       string   `xml:"creationDate"`
	Public             bool     `xml:"isPublic"`
	Architecture       string   `xml:"architecture"`
	ImageType          string   `xml:"imageType"`
	Platform           string   `xml:"platform,omitempty"`
	PlatformDetails    string   `xml:"platformDetails"`
	UsageOperation     string   `xml:"usageOperation"`
	OwnerAlias         string   `xml:"imageOwnerAlias,omitempty"`
	Name               string   `xml:"name"`
	Description        string   `xml:"description,omitempty"`
	RootDeviceType     string   `xml:"rootDeviceType"`
	RootDeviceName     string   `xml:"rootDeviceName"`
	BlockDeviceMapping []bdmXML `xml:"blockDeviceMapping>item"`
	VirtualizationType string   `xml:"virtualizationType"`
	Tags               []xmlTag `xml:"tagSet>item"`
	Hypervisor         string   `xml:"hypervisor"`
	EnaSupport         bool     `xml:"enaSupport"`
	SriovNetSupport    string   `xml:"sriovNetSupport"`
	BootMode           string   `xml:"bootMode,omitempty"`
	ImdsSupport        string   `xml:"imdsSupport,omitempty"`
	SourceInstanceID   string   `xml:"sourceInstanceId,omitempty"`
}

type bdmXML struct {
	DeviceName string `xml:"deviceName"`
	Ebs        struct {
		DeleteOnTermination bool   `xml:"deleteOnTermination"`
		VolumeSize          int    `xml:"volumeSize"`
		VolumeType          string `xml:"volumeType"`
		Encrypted           bool   `xml:"encrypted"`
	} `xml:"ebs"`
}

func (im *image) xml() imageXML {
	x := imageXML{ImageID: im.ID, ImageLocation: im.location(), State: "available", OwnerID: im.OwnerID,
		CreationDate: fmtTime(im.CreationDate), Public: im.Public, Architecture: im.Architecture, ImageType: "machine",
		Platform: im.Platform, PlatformDetails: im.PlatformDetails, UsageOperation: im.UsageOperation,
		OwnerAlias: im.OwnerAlias, Name: im.Name, Description: im.Description, RootDeviceType: "ebs",
		RootDeviceName: im.RootDeviceName, VirtualizationType: "hvm", Tags: xmlTags(im.Tags), Hypervisor: "xen",
		EnaSupport: true, SriovNetSupport: "simple", BootMode: im.BootMode, ImdsSupport: im.ImdsSupport,
		SourceInstanceID: im.SourceInstanceID}
	b := bdmXML{DeviceName: im.RootDeviceName}
	b.Ebs.DeleteOnTermination, b.Ebs.VolumeSize, b.Ebs.VolumeType = true, 8, "gp3"
	if im.Platform == "windows" {
		b.Ebs.VolumeSize = 30
	}
	x.BlockDeviceMapping = []bdmXML{b}
	return x
}

func (im *image) field(name string) ([]string, bool) {
	one := func(s string) ([]string, bool) { return []string{s}, true }
	switch name {
	case "image-id":
		return one(im.ID)
	case "name":
		return one(im.Name)
	case "description":
		return one(im.Description)
	case "owner-id":
		return one(im.OwnerID)
	case "owner-alias":
		if im.OwnerAlias == "" {
			return nil, true
		}
		return one(im.OwnerAlias)
	case "state":
		return one("available")
	case "architecture":
		return one(im.Architecture)
	case "platform":
		if im.Platform == "" {
			return nil, true
		}
		return one(im.Platform)
	case "platform-details":
		return one(im.PlatformDetails)
	case "is-public":
		return one(fmt.Sprint(im.Public))
	case "image-type":
		return one("machine")
	case "root-device-type":
		return one("ebs")
	case "root-device-name":
		return one(im.RootDeviceName)
	case "virtualization-type":
		return one("hvm")
	case "hypervisor":
		return one("xen")
	case "manifest-location":
		return one(im.location())
	case "imds-support":
		return one(im.ImdsSupport)
	case "source-instance-id":
		return one(im.SourceInstanceID)
	}
	return nil, false
}

type describeImagesResult struct {
	Images items[imageXML] `xml:"imagesSet"`
}

func describeImages(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	filters, err := readFilters(p)
	if err != nil {
		return nil, err
	}
	var probe image
	if err := checkFilters(filters, probe.field); err != nil {
		return nil, err
	}
	ids := p.strs("ImageId")
	for _, id := range ids {
		if err := checkImageID(id); err != nil {
			return nil, err
		}
	}
	owners := p.strs("Owner")
	executable := p.strs("ExecutableBy")
	if err := dryRun(p); err != nil {
		return nil, err
	}
	account, r := c.Account(), region(c)
	own, err := scanAll(c.Tx, kindImage, func(im *image) bool { return im.OwnerID == account && im.Region == r })
	if err != nil {
		return nil, err
	}
	sort.Slice(own, func(i, j int) bool { return own[i].CreationDate.Before(own[j].CreationDate) })
	all := append(append([]*image{}, catalogue...), own...)

	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			found := false
			for _, im := range all {
				found = found || im.ID == id
			}
			if !found {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, imageNotFound(missing...)
		}
	}
	res := &describeImagesResult{}
	res.Images.Items = []imageXML{}
	for _, im := range all {
		if len(ids) > 0 && !contains(ids, im.ID) {
			continue
		}
		if len(owners) > 0 && !ownedBy(im, owners, account) {
			continue
		}
		if len(executable) > 0 && !executableBy(im, executable, account) {
			continue
		}
		ok, err := matchFilters(filters, im.Tags, im.field)
		if err != nil {
			return nil, err
		}
		if ok {
			res.Images.Items = append(res.Images.Items, im.xml())
		}
	}
	return res, nil
}

func ownedBy(im *image, owners []string, account string) bool {
	for _, o := range owners {
		switch {
		case o == "self" && im.OwnerID == account:
			return true
		case o != "self" && (o == im.OwnerID || (im.OwnerAlias != "" && o == im.OwnerAlias)):
			return true
		}
	}
	return false
}

func executableBy(im *image, who []string, account string) bool {
	for _, w := range who {
		switch {
		case w == "all" && im.Public:
			return true
		case (w == "self" || w == account) && (im.Public || im.OwnerID == account):
			return true
		}
	}
	return false
}

var amiNamePattern = regexp.MustCompile(`^[a-zA-Z0-9()\[\] ./\-'@_]{3,128}$`)

type createImageResult struct {
	ImageID string `xml:"imageId"`
}

func createImage(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	inst, err := loadInstance(c, p.str("InstanceId"))
	if err != nil {
		return nil, err
	}
	name := p.str("Name")
	if !p.has("Name") {
		return nil, missingParameter("Name")
	}
	if !amiNamePattern.MatchString(name) {
		return nil, ec2Error("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
	}
	if len([]rune(p.str("Description"))) > 255 {
		return nil, invalidValue("Description", p.str("Description"), "Descriptions must be at most 255 characters.")
	}
	if _, err := p.boolean("NoReboot"); err != nil {
		return nil, err
	}
	specs, err := tagSpecs(p, "image", "snapshot")
	if err != nil {
		return nil, err
	}
	r := region(c)
	// AWS authorizes CreateImage on the instance (the front door did) and on the new image.
	ctx := policy.Context{}
	ctx.Set("ec2:Region", r)
	ctx.Set("ec2:ImageType", "machine")
	ctx.Set("ec2:Owner", c.Account())
	ctx.Set("ec2:Public", "false")
	requestTags(ctx, specs["image"])
	if err := c.Authorize(service.Request{Action: "ec2:CreateImage", Resource: imageArn(r, "*"), ResourceAccount: c.Account(), Context: ctx}); err != nil {
		return nil, err
	}
	if err := authorizeCreateTags(c, "CreateImage", imageArn(r, "*"), specs["image"]); err != nil {
		return nil, err
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	if inst.State == stateTerminated || inst.State == stateShuttingDown {
		return nil, ec2Error("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be imaged.", inst.ID)
	}
	var dup *image
	err = c.Tx.Scan(kindImage, "", "", 0, func(_ string, data []byte) (bool, error) {
		var im image
		if err := json.Unmarshal(data, &im); err != nil {
			return false, err
		}
		if im.OwnerID == c.Account() && im.Region == r && im.Name == name {
			dup = &im
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if dup != nil {
		return nil, ec2Error("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, dup.ID)
	}
	im := &image{ID: newID("ami-"), Name: name, Description: p.str("Description"), OwnerID: c.Account(), Region: r,
		Architecture: inst.Architecture, Platform: inst.Platform, PlatformDetails: inst.PlatformDetails,
		UsageOperation: inst.UsageOperation, RootDeviceName: inst.RootDeviceName, ImdsSupport: inst.ImdsSupport,
		BootMode: inst.BootMode, CreationDate: c.Now.UTC(), SourceInstanceID: inst.ID, Tags: specs["image"]}
	if err := c.Tx.Put(kindImage, im.ID, im); err != nil {
		return nil, err
	}
	return &createImageResult{ImageID: im.ID}, nil
}

type deregisterImageResult struct {
	Return bool `xml:"return"`
}

func deregisterImage(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	im, err := loadImage(c, p.str("ImageId"))
	if err != nil {
		return nil, err
	}
	if _, err := p.boolean("DeleteAssociatedSnapshots"); err != nil {
		return nil, err
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	if im.OwnerID != c.Account() || im.Region == "" {
		return nil, wire.Errorf(http.StatusBadRequest, "AuthFailure", "Not authorized for image:%s", im.ID)
	}
	if _, err := c.Tx.Delete(kindImage, im.ID); err != nil {
		return nil, err
	}
	return &deregisterImageResult{Return: true}, nil
}

// ownImage loads an image the caller owns, for CreateTags and DeleteTags.
func ownImage(c *service.Call, id string) (*image, error) {
	im, err := visibleImage(c, id)
	if err != nil {
		return nil, err
	}
	if im == nil || im.Region == "" || im.OwnerID != c.Account() {
		return nil, nil
	}
	return im, nil
}
