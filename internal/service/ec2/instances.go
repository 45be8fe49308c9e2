package ec2

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		&service.Action{Name: "RunInstances", IAMAction: "ec2:RunInstances", Write: true,
			Resource: runResource, Context: runContext, Handle: runInstances},
		&service.Action{Name: "DescribeInstances", IAMAction: "ec2:DescribeInstances", Context: regionContext, Handle: describeInstances},
		&service.Action{Name: "StartInstances", IAMAction: "ec2:StartInstances", Write: true,
			Resource: instanceResource("InstanceId"), Context: instanceContext("InstanceId"), Handle: transition("ec2:StartInstances", startInstance)},
		&service.Action{Name: "StopInstances", IAMAction: "ec2:StopInstances", Write: true,
			Resource: instanceResource("InstanceId"), Context: instanceContext("InstanceId"), Handle: transition("ec2:StopInstances", stopInstance)},
		&service.Action{Name: "TerminateInstances", IAMAction: "ec2:TerminateInstances", Write: true,
			Resource: instanceResource("InstanceId"), Context: instanceContext("InstanceId"), Handle: transition("ec2:TerminateInstances", terminateInstance)},
		&service.Action{Name: "ModifyInstanceMetadataOptions", IAMAction: "ec2:ModifyInstanceMetadataOptions", Write: true,
			Resource: instanceResource("InstanceId"), Context: modifyMetadataContext, Handle: modifyInstanceMetadataOptions},
		&service.Action{Name: "DescribeIamInstanceProfileAssociations", IAMAction: "ec2:DescribeIamInstanceProfileAssociations",
			Context: regionContext, Handle: describeIamInstanceProfileAssociations},
		&service.Action{Name: "AssociateIamInstanceProfile", IAMAction: "ec2:AssociateIamInstanceProfile", Write: true,
			Resource: instanceResource("InstanceId"), Context: instanceContext("InstanceId"), Handle: associateIamInstanceProfile},
		&service.Action{Name: "DisassociateIamInstanceProfile", IAMAction: "ec2:DisassociateIamInstanceProfile", Write: true,
			Resource: associationResource, Context: associationContext, Handle: disassociateIamInstanceProfile},
	)
}

// Instance states and their codes.
const (
	statePending      = "pending"
	stateRunning      = "running"
	stateShuttingDown = "shutting-down"
	stateTerminated   = "terminated"
	stateStopping     = "stopping"
	stateStopped      = "stopped"
)

var stateCodes = map[string]int{statePending: 0, stateRunning: 16, stateShuttingDown: 32, stateTerminated: 48,
	stateStopping: 64, stateStopped: 80}

// terminatedVisible is how long EC2 keeps showing a terminated instance.
const terminatedVisible = time.Hour

// maxLaunch caps the instances one RunInstances launches.
const maxLaunch = 20

// instance is an EC2 instance. State changes take effect at once: RunInstances
// reports running, StopInstances stopped, TerminateInstances terminated.
type instance struct {
	ID               string
	Account          string
	Region           string
	ReservationID    string
	LaunchIndex      int
	ImageID          string
	InstanceType     string
	AvailabilityZone string
	PrivateIP        string
	VpcID            string
	SubnetID         string
	SecurityGroupID  string
	KeyName          string
	ClientToken      string
	LaunchTime       time.Time
	State            string
	StateChanged     time.Time // when it last stopped or terminated

	HttpTokens           string // optional, required
	HttpEndpoint         string // enabled, disabled
	HttpPutHopLimit      int
	HttpProtocolIpv6     string
	InstanceMetadataTags string

	Profile *association // the instance profile, when one is associated
	Tags    []directory.Tag

	// Copied from the image at launch.
	Architecture    string
	Platform        string
	PlatformDetails string
	UsageOperation  string
	RootDeviceName  string
	ImdsSupport     string
	BootMode        string
}

// association links an instance profile to an instance.
type association struct {
	ID    string // iip-assoc-…
	Arn   string // instance profile ARN
	PID   string // instance profile id, AIPA…
	Since time.Time
}

func (in *instance) arn() string { return instanceArn(in.Region, in.Account, in.ID) }

func (in *instance) privateDNS() string {
	if in.PrivateIP == "" {
		return ""
	}
	host := "ip-" + strings.ReplaceAll(in.PrivateIP, ".", "-")
	if in.Region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + in.Region + ".compute.internal"
}

// visible reports whether the caller's DescribeInstances still shows it.
func (in *instance) visible(now time.Time) bool {
	return in.State != stateTerminated || now.Sub(in.StateChanged) < terminatedVisible
}

// context sets the condition keys of an existing instance.
func (in *instance) context(ctx policy.Context) {
	ctx.Set("ec2:Region", in.Region)
	ctx.Set("ec2:InstanceType", in.InstanceType)
	ctx.Set("ec2:AvailabilityZone", in.AvailabilityZone)
	ctx.Set("ec2:RootDeviceType", "ebs")
	ctx.Set("ec2:Tenancy", "default")
	ctx.Set("ec2:InstanceMarketType", "on-demand")
	if in.Profile != nil {
		ctx.Set("ec2:InstanceProfile", in.Profile.Arn)
	}
	resourceTags(ctx, in.Tags)
}

var instanceIDPattern = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

func checkInstanceID(id string) error {
	if !instanceIDPattern.MatchString(id) {
		return ec2Error("InvalidInstanceID.Malformed", `Invalid id: "%s"`, id)
	}
	return nil
}

func instanceNotFound(ids ...string) error {
	if len(ids) == 1 {
		return ec2Error("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", ids[0])
	}
	return ec2Error("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", notFoundList(ids))
}

// findInstance reads an instance of the caller's account and region; nil if none.
func findInstance(c *service.Call, id string) (*instance, error) {
	in := &instance{}
	ok, err := getJSON(c.Tx, kindInstance, id, in)
	if err != nil || !ok {
		return nil, err
	}
	if in.Account != c.Account() || in.Region != region(c) || !in.visible(c.Now) {
		return nil, nil
	}
	return in, nil
}

// loadInstance reads the instance an InstanceId parameter names, with EC2's errors.
func loadInstance(c *service.Call, id string) (*instance, error) {
	ins, err := loadInstances(c, []string{id}, "InstanceId")
	if err != nil {
		return nil, err
	}
	return ins[0], nil
}

// loadInstances reads several, failing on the first malformed id or naming every
// missing one.
func loadInstances(c *service.Call, ids []string, param string) ([]*instance, error) {
	if len(ids) == 0 || (len(ids) == 1 && ids[0] == "") {
		return nil, missingParameter(param)
	}
	for _, id := range ids {
		if err := checkInstanceID(id); err != nil {
			return nil, err
		}
	}
	var out []*instance
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		in, err := findInstance(c, id)
		if err != nil {
			return nil, err
		}
		if in == nil {
			missing = append(missing, id)
			continue
		}
		out = append(out, in)
	}
	if len(missing) > 0 {
		return nil, instanceNotFound(missing...)
	}
	return out, nil
}

// instanceIDs reads InstanceId (a single value) or InstanceId.N (a list).
func instanceIDs(c *service.Call, name string) []string {
	p := parseParams(c.Params)
	if ids := p.strs(name); len(ids) > 0 {
		return ids
	}
	if p.has(name) {
		return []string{p.str(name)}
	}
	return nil
}

// instanceResource is the front door's resource for actions on instances: the first
// instance named; handlers authorize the others.
func instanceResource(name string) func(c *service.Call) (string, string, error) {
	return func(c *service.Call) (string, string, error) {
		ins, err := loadInstances(c, instanceIDs(c, name), name)
		if err != nil {
			return "", "", err
		}
		return ins[0].arn(), ins[0].Account, nil
	}
}

func instanceContext(name string) func(c *service.Call, ctx policy.Context) error {
	return func(c *service.Call, ctx policy.Context) error {
		ins, err := loadInstances(c, instanceIDs(c, name), name)
		if err != nil {
			return err
		}
		ins[0].context(ctx)
		return nil
	}
}

// authorizeRest authorizes an action on the instances after the first (which the
// front door authorized).
func authorizeRest(c *service.Call, action string, ins []*instance) error {
	for _, in := range ins[1:] {
		ctx := policy.Context{}
		in.context(ctx)
		if err := c.Authorize(service.Request{Action: action, Resource: in.arn(), ResourceAccount: in.Account, Context: ctx}); err != nil {
			return err
		}
	}
	return nil
}

func putInstance(tx store.Tx, in *instance) error { return tx.Put(kindInstance, in.ID, in) }

// ---------------------------------------------------------------------------------
// RunInstances

type metadataOptions struct {
	tokens, endpoint, ipv6, tags string
	hop                          int // 0: not given
}

func readMetadataOptions(p *params) (metadataOptions, error) {
	var m metadataOptions
	oneOf := func(name string, allowed ...string) (string, error) {
		if !p.has(name) {
			return "", nil
		}
		v := p.str(name)
		if !contains(allowed, v) {
			return "", invalidValue(name, v, "Valid values are "+strings.Join(allowed, ", ")+".")
		}
		return v, nil
	}
	var err error
	if m.tokens, err = oneOf("HttpTokens", "optional", "required"); err != nil {
		return m, err
	}
	if m.endpoint, err = oneOf("HttpEndpoint", "enabled", "disabled"); err != nil {
		return m, err
	}
	if m.ipv6, err = oneOf("HttpProtocolIpv6", "enabled", "disabled"); err != nil {
		return m, err
	}
	if m.tags, err = oneOf("InstanceMetadataTags", "enabled", "disabled"); err != nil {
		return m, err
	}
	if p.has("HttpPutResponseHopLimit") {
		n, err := p.integer("HttpPutResponseHopLimit", 0)
		if err != nil {
			return m, err
		}
		if n < 1 || n > 64 {
			return m, invalidValue("HttpPutResponseHopLimit", strconv.Itoa(n), "The HTTP PUT response hop limit must be between 1 and 64.")
		}
		m.hop = n
	}
	return m, nil
}

// context sets the metadata condition keys of the options the request gives.
func (m metadataOptions) context(ctx policy.Context) {
	if m.tokens != "" {
		ctx.Set("ec2:MetadataHttpTokens", m.tokens)
	}
	if m.endpoint != "" {
		ctx.Set("ec2:MetadataHttpEndpoint", m.endpoint)
	}
	if m.hop != 0 {
		ctx.Set("ec2:MetadataHttpPutResponseHopLimit", strconv.Itoa(m.hop))
	}
}

func (m metadataOptions) apply(in *instance) {
	if m.tokens != "" {
		in.HttpTokens = m.tokens
	}
	if m.endpoint != "" {
		in.HttpEndpoint = m.endpoint
	}
	if m.ipv6 != "" {
		in.HttpProtocolIpv6 = m.ipv6
	}
	if m.tags != "" {
		in.InstanceMetadataTags = m.tags
	}
	if m.hop != 0 {
		in.HttpPutHopLimit = m.hop
	}
}

type runInput struct {
	image        *image
	instanceType string
	min, max     int
	tags         map[string][]directory.Tag
	profileName  string
	profileArn   string
	meta         metadataOptions
	zone         string
	keyName      string
	clientToken  string
}

var instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)

// readRunInput validates RunInstances' parameters and finds its image.
func readRunInput(c *service.Call) (*runInput, error) {
	p := parseParams(c.Params)
	in := &runInput{instanceType: "m1.small"}
	if !p.has("MinCount") {
		return nil, missingParameter("MinCount")
	}
	if !p.has("MaxCount") {
		return nil, missingParameter("MaxCount")
	}
	var err error
	if in.min, err = p.integer("MinCount", 1); err != nil {
		return nil, err
	}
	if in.max, err = p.integer("MaxCount", 1); err != nil {
		return nil, err
	}
	if in.min < 1 {
		return nil, invalidValue("MinCount", strconv.Itoa(in.min), "Must be a positive integer.")
	}
	if in.max < in.min {
		return nil, invalidValue("MaxCount", strconv.Itoa(in.max), fmt.Sprintf("Must be greater than or equal to MinCount (%d).", in.min))
	}
	if in.min > maxLaunch {
		return nil, ec2Error("InstanceLimitExceeded", "You have requested more instances (%d) than your current instance limit of %d allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.", in.min, maxLaunch)
	}
	in.max = min(in.max, maxLaunch)
	if p.has("InstanceType") {
		in.instanceType = p.str("InstanceType")
		if !instanceTypePattern.MatchString(in.instanceType) || len(in.instanceType) > 64 {
			return nil, invalidParameterValue("Invalid value '%s' for InstanceType.", in.instanceType)
		}
	}
	if in.tags, err = tagSpecs(p, "instance", "volume", "network-interface", "spot-instances-request"); err != nil {
		return nil, err
	}
	if in.meta, err = readMetadataOptions(p.child("MetadataOptions")); err != nil {
		return nil, err
	}
	prof := p.child("IamInstanceProfile")
	in.profileName, in.profileArn = prof.str("Name"), prof.str("Arn")
	if prof.has("Name") && prof.has("Arn") {
		return nil, ec2Error("InvalidParameterCombination", "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
	}
	if prof != nil && !prof.has("Name") && !prof.has("Arn") {
		return nil, missingParameter("IamInstanceProfile.Name or IamInstanceProfile.Arn")
	}
	if in.zone = p.child("Placement").str("AvailabilityZone"); in.zone != "" && !validZone(region(c), in.zone) {
		return nil, invalidValue("availabilityZone", in.zone, "Invalid availability zone: ["+in.zone+"]")
	}
	in.keyName = p.str("KeyName")
	if in.clientToken = p.str("ClientToken"); len(in.clientToken) > 64 {
		return nil, invalidValue("clientToken", in.clientToken, "The client token must be at most 64 characters.")
	}
	for _, name := range []string{"DryRun", "DisableApiTermination", "EbsOptimized", "DisableApiStop"} {
		if _, err := p.boolean(name); err != nil {
			return nil, err
		}
	}
	if in.image, err = loadImage(c, p.str("ImageId")); err != nil {
		return nil, err
	}
	return in, nil
}

// runResource: AWS authorizes RunInstances on the new instances (instance/*), the
// image and the network resources; iamlocal on the instances and the image.
func runResource(c *service.Call) (string, string, error) {
	if _, err := readRunInput(c); err != nil {
		return "", "", err
	}
	return instanceArn(region(c), c.Account(), "*"), c.Account(), nil
}

func runContext(c *service.Call, ctx policy.Context) error {
	in, err := readRunInput(c)
	if err != nil {
		return err
	}
	in.context(c, ctx)
	return nil
}

func (in *runInput) context(c *service.Call, ctx policy.Context) {
	ctx.Set("ec2:Region", region(c))
	ctx.Set("ec2:InstanceType", in.instanceType)
	ctx.Set("ec2:RootDeviceType", "ebs")
	ctx.Set("ec2:Tenancy", "default")
	ctx.Set("ec2:InstanceMarketType", "on-demand")
	ctx.Set("ec2:AvailabilityZone", in.zoneOr(region(c)))
	if in.profileArn != "" {
		ctx.Set("ec2:InstanceProfile", in.profileArn)
	} else if in.profileName != "" {
		// AWS's key holds the profile's ARN; the ARN needs the profile's path.
		if p, err := findProfileByName(c, in.profileName); err == nil && p != nil {
			ctx.Set("ec2:InstanceProfile", p.Arn)
		}
	}
	in.meta.context(ctx)
	requestTags(ctx, in.tags["instance"])
}

func (in *runInput) zoneOr(r string) string {
	if in.zone != "" {
		return in.zone
	}
	return r + "a"
}

func findProfileByName(c *service.Call, name string) (*directory.InstanceProfile, error) {
	var p directory.InstanceProfile
	ok, err := getJSON(c.Tx, directory.KindInstanceProfile, directory.NameKey(c.Account(), name), &p)
	if err != nil || !ok {
		return nil, err
	}
	return &p, nil
}

// findProfile resolves IamInstanceProfile.Name or .Arn in the caller's account.
func findProfile(c *service.Call, name, arn string) (*directory.InstanceProfile, error) {
	if name != "" {
		p, err := findProfileByName(c, name)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, invalidValue("iamInstanceProfile.name", name, "Invalid IAM Instance Profile name")
		}
		return p, nil
	}
	bad := invalidValue("iamInstanceProfile.arn", arn, "Invalid IAM Instance Profile ARN")
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] != c.Account() || !strings.HasPrefix(parts[5], "instance-profile/") {
		return nil, bad
	}
	p, err := findProfileByName(c, parts[5][strings.LastIndexByte(parts[5], '/')+1:])
	if err != nil {
		return nil, err
	}
	if p == nil || p.Arn != arn {
		return nil, bad
	}
	return p, nil
}

// passRole checks iam:PassRole on the profile's role, if it has one: passing a role
// to an instance needs it, as on AWS.
func passRole(c *service.Call, prof *directory.InstanceProfile, instanceARN string) error {
	if len(prof.Roles) == 0 {
		return nil
	}
	var role directory.Role
	ok, err := getJSON(c.Tx, directory.KindRole, directory.NameKey(prof.Account, prof.Roles[0]), &role)
	if err != nil {
		return err
	}
	if !ok {
		return invalidValue("iamInstanceProfile", prof.Arn, "The instance profile's role does not exist")
	}
	ctx := policy.Context{}
	ctx.Set("iam:PassedToService", "ec2.amazonaws.com")
	ctx.Set("iam:AssociatedResourceARN", instanceARN)
	return c.Authorize(service.Request{Action: "iam:PassRole", Resource: role.Arn, ResourceAccount: role.Account, Context: ctx})
}

type groupXML struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type reservationXML struct {
	ReservationID string             `xml:"reservationId"`
	OwnerID       string             `xml:"ownerId"`
	Groups        items[groupXML]    `xml:"groupSet"`
	Instances     items[instanceXML] `xml:"instancesSet"`
}

func runInstances(c *service.Call) (any, error) {
	in, err := readRunInput(c)
	if err != nil {
		return nil, err
	}
	r, account := region(c), c.Account()
	// The front door authorized the instances; the image is authorized here.
	ctx := policy.Context{}
	in.image.context(ctx, r)
	if err := c.Authorize(service.Request{Action: "ec2:RunInstances", Resource: imageArn(r, in.image.ID), ResourceAccount: account, Context: ctx}); err != nil {
		return nil, err
	}
	var prof *directory.InstanceProfile
	if in.profileName != "" || in.profileArn != "" {
		if prof, err = findProfile(c, in.profileName, in.profileArn); err != nil {
			return nil, err
		}
		if err := passRole(c, prof, instanceArn(r, account, "*")); err != nil {
			return nil, err
		}
	}
	if err := authorizeCreateTags(c, "RunInstances", instanceArn(r, account, "*"), in.tags["instance"]); err != nil {
		return nil, err
	}
	if err := dryRun(parseParams(c.Params)); err != nil {
		return nil, err
	}
	if in.clientToken != "" {
		var resID string
		ok, err := getJSON(c.Tx, kindClientToken, account+"/"+r+"/"+in.clientToken, &resID)
		if err != nil {
			return nil, err
		}
		if ok {
			return reservation(c, resID)
		}
	}
	resID := newID("r-")
	zone := in.zoneOr(r)
	tokens, hop := "optional", 1
	if in.image.ImdsSupport == "v2.0" {
		tokens, hop = "required", 2
	}
	var launched []*instance
	for i := 0; i < in.max; i++ {
		inst := &instance{ID: newID("i-"), Account: account, Region: r, ReservationID: resID, LaunchIndex: i,
			ImageID: in.image.ID, InstanceType: in.instanceType, AvailabilityZone: zone, PrivateIP: privateIP(r, zone),
			VpcID: "vpc-" + stableHex(17, account, r, "vpc"), SubnetID: "subnet-" + stableHex(17, account, r, zone),
			SecurityGroupID: "sg-" + stableHex(17, account, r, "default"), KeyName: in.keyName, ClientToken: in.clientToken,
			LaunchTime: c.Now.UTC(), State: stateRunning,
			HttpTokens: tokens, HttpEndpoint: "enabled", HttpPutHopLimit: hop, HttpProtocolIpv6: "disabled", InstanceMetadataTags: "disabled",
			Tags: in.tags["instance"], Architecture: in.image.Architecture, Platform: in.image.Platform,
			PlatformDetails: in.image.PlatformDetails, UsageOperation: in.image.UsageOperation,
			RootDeviceName: in.image.RootDeviceName, ImdsSupport: in.image.ImdsSupport, BootMode: in.image.BootMode}
		in.meta.apply(inst)
		if prof != nil {
			inst.Profile = &association{ID: newID("iip-assoc-"), Arn: prof.Arn, PID: prof.ID, Since: c.Now.UTC()}
		}
		if err := putInstance(c.Tx, inst); err != nil {
			return nil, err
		}
		launched = append(launched, inst)
	}
	if in.clientToken != "" {
		if err := c.Tx.Put(kindClientToken, account+"/"+r+"/"+in.clientToken, resID); err != nil {
			return nil, err
		}
	}
	return reservationOf(account, launched), nil
}

// reservation reads a reservation's instances (for a repeated ClientToken).
func reservation(c *service.Call, id string) (*reservationXML, error) {
	ins, err := scanAll(c.Tx, kindInstance, func(in *instance) bool { return in.ReservationID == id })
	if err != nil {
		return nil, err
	}
	sort.Slice(ins, func(i, j int) bool { return ins[i].LaunchIndex < ins[j].LaunchIndex })
	return reservationOf(c.Account(), ins), nil
}

func reservationOf(account string, ins []*instance) *reservationXML {
	x := &reservationXML{OwnerID: account}
	x.Groups.Items = []groupXML{}
	x.Instances.Items = []instanceXML{}
	for _, in := range ins {
		x.ReservationID = in.ReservationID
		x.Instances.Items = append(x.Instances.Items, in.xml())
	}
	return x
}

// privateIP picks an address in the zone's subnet of the default VPC (172.31.0.0/16,
// one /20 per zone, as AWS's default VPCs are laid out).
func privateIP(r, zone string) string {
	zi := strings.IndexByte(zoneLetters, zone[len(zone)-1])
	if zi < 0 {
		zi = 0
	}
	var b [2]byte
	rand.Read(b[:])
	n := binary.BigEndian.Uint16(b[:]) % (16*256 - 8)
	host := int(n) + 4 // skip the network's reserved first addresses
	return fmt.Sprintf("172.31.%d.%d", zi*16+host/256, host%256)
}

// ---------------------------------------------------------------------------------
// The instance in responses.

type stateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func stateOf(s string) stateXML { return stateXML{stateCodes[s], s} }

type placementXML struct {
	AvailabilityZone string `xml:"availabilityZone"`
	GroupName        string `xml:"groupName"`
	Tenancy          string `xml:"tenancy"`
}

type stateReasonXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type profileXML struct {
	Arn string `xml:"arn"`
	ID  string `xml:"id"`
}

type metadataXML struct {
	State                string `xml:"state"`
	HttpTokens           string `xml:"httpTokens"`
	HttpPutHopLimit      int    `xml:"httpPutResponseHopLimit"`
	HttpEndpoint         string `xml:"httpEndpoint"`
	HttpProtocolIpv6     string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags string `xml:"instanceMetadataTags"`
}

type instanceXML struct {
	InstanceID               string          `xml:"instanceId"`
	ImageID                  string          `xml:"imageId"`
	State                    stateXML        `xml:"instanceState"`
	PrivateDNSName           string          `xml:"privateDnsName"`
	DNSName                  string          `xml:"dnsName"`
	Reason                   string          `xml:"reason"`
	KeyName                  string          `xml:"keyName,omitempty"`
	AmiLaunchIndex           int             `xml:"amiLaunchIndex"`
	InstanceType             string          `xml:"instanceType"`
	LaunchTime               string          `xml:"launchTime"`
	Placement                placementXML    `xml:"placement"`
	Platform                 string          `xml:"platform,omitempty"`
	Monitoring               string          `xml:"monitoring>state"`
	SubnetID                 string          `xml:"subnetId,omitempty"`
	VpcID                    string          `xml:"vpcId,omitempty"`
	PrivateIP                string          `xml:"privateIpAddress,omitempty"`
	SourceDestCheck          bool            `xml:"sourceDestCheck"`
	Groups                   []groupXML      `xml:"groupSet>item"`
	StateReason              *stateReasonXML `xml:"stateReason,omitempty"`
	Architecture             string          `xml:"architecture"`
	RootDeviceType           string          `xml:"rootDeviceType"`
	RootDeviceName           string          `xml:"rootDeviceName"`
	VirtualizationType       string          `xml:"virtualizationType"`
	ClientToken              string          `xml:"clientToken,omitempty"`
	Tags                     []xmlTag        `xml:"tagSet>item"`
	Hypervisor               string          `xml:"hypervisor"`
	IamInstanceProfile       *profileXML     `xml:"iamInstanceProfile,omitempty"`
	EbsOptimized             bool            `xml:"ebsOptimized"`
	EnaSupport               bool            `xml:"enaSupport"`
	MetadataOptions          metadataXML     `xml:"metadataOptions"`
	BootMode                 string          `xml:"bootMode,omitempty"`
	PlatformDetails          string          `xml:"platformDetails"`
	UsageOperation           string          `xml:"usageOperation"`
	UsageOperationUpdateTime string          `xml:"usageOperationUpdateTime"`
}

func (in *instance) xml() instanceXML {
	x := instanceXML{InstanceID: in.ID, ImageID: in.ImageID, State: stateOf(in.State), PrivateDNSName: in.privateDNS(),
		KeyName: in.KeyName, AmiLaunchIndex: in.LaunchIndex, InstanceType: in.InstanceType, LaunchTime: fmtTime(in.LaunchTime),
		Placement: placementXML{AvailabilityZone: in.AvailabilityZone, Tenancy: "default"}, Platform: in.Platform,
		Monitoring: "disabled", SubnetID: in.SubnetID, VpcID: in.VpcID, PrivateIP: in.PrivateIP, SourceDestCheck: true,
		Groups: []groupXML{{GroupID: in.SecurityGroupID, GroupName: "default"}}, Architecture: in.Architecture,
		RootDeviceType: "ebs", RootDeviceName: in.RootDeviceName, VirtualizationType: "hvm", ClientToken: in.ClientToken,
		Tags: xmlTags(in.Tags), Hypervisor: "xen", EnaSupport: true,
		MetadataOptions: metadataXML{State: "applied", HttpTokens: in.HttpTokens, HttpPutHopLimit: in.HttpPutHopLimit,
			HttpEndpoint: in.HttpEndpoint, HttpProtocolIpv6: in.HttpProtocolIpv6, InstanceMetadataTags: in.InstanceMetadataTags},
		BootMode: in.BootMode, PlatformDetails: in.PlatformDetails, UsageOperation: in.UsageOperation,
		UsageOperationUpdateTime: fmtTime(in.LaunchTime)}
	if in.Profile != nil {
		x.IamInstanceProfile = &profileXML{Arn: in.Profile.Arn, ID: in.Profile.PID}
	}
	switch in.State {
	case stateStopped, stateStopping, stateTerminated, stateShuttingDown:
		x.Reason = "User initiated (" + in.StateChanged.UTC().Format("2006-01-02 15:04:05") + " GMT)"
		x.StateReason = &stateReasonXML{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}
	}
	if in.State == stateTerminated {
		x.PrivateIP, x.PrivateDNSName, x.SubnetID, x.VpcID, x.Groups = "", "", "", "", nil
	}
	return x
}

func (in *instance) field(name string) ([]string, bool) {
	one := func(s string) ([]string, bool) {
		if s == "" {
			return nil, true
		}
		return []string{s}, true
	}
	switch name {
	case "instance-id":
		return one(in.ID)
	case "instance-state-name":
		return one(in.State)
	case "instance-state-code":
		return one(strconv.Itoa(stateCodes[in.State]))
	case "instance-type":
		return one(in.InstanceType)
	case "image-id":
		return one(in.ImageID)
	case "availability-zone", "placement.availability-zone":
		return one(in.AvailabilityZone)
	case "private-ip-address", "network-interface.addresses.private-ip-address":
		return one(in.PrivateIP)
	case "private-dns-name":
		return one(in.privateDNS())
	case "reservation-id":
		return one(in.ReservationID)
	case "owner-id":
		return one(in.Account)
	case "vpc-id":
		return one(in.VpcID)
	case "subnet-id":
		return one(in.SubnetID)
	case "key-name":
		return one(in.KeyName)
	case "architecture":
		return one(in.Architecture)
	case "platform":
		return one(in.Platform)
	case "platform-details":
		return one(in.PlatformDetails)
	case "client-token":
		return one(in.ClientToken)
	case "launch-time":
		return one(fmtTime(in.LaunchTime))
	case "ami-launch-index":
		return one(strconv.Itoa(in.LaunchIndex))
	case "root-device-type":
		return one("ebs")
	case "instance.group-id", "group-id":
		return one(in.SecurityGroupID)
	case "iam-instance-profile.arn":
		if in.Profile == nil {
			return nil, true
		}
		return one(in.Profile.Arn)
	case "iam-instance-profile.id":
		if in.Profile == nil {
			return nil, true
		}
		return one(in.Profile.PID)
	case "metadata-options.http-tokens":
		return one(in.HttpTokens)
	case "metadata-options.http-endpoint":
		return one(in.HttpEndpoint)
	case "metadata-options.http-put-response-hop-limit":
		return one(strconv.Itoa(in.HttpPutHopLimit))
	}
	return nil, false
}

// ---------------------------------------------------------------------------------
// DescribeInstances

type describeInstancesResult struct {
	Reservations items[reservationXML] `xml:"reservationSet"`
	NextToken    string                `xml:"nextToken,omitempty"`
}

func describeInstances(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	filters, err := readFilters(p)
	if err != nil {
		return nil, err
	}
	var probe instance
	if err := checkFilters(filters, probe.field); err != nil {
		return nil, err
	}
	ids := p.strs("InstanceId")
	for _, id := range ids {
		if err := checkInstanceID(id); err != nil {
			return nil, err
		}
	}
	maxResults, err := p.integer("MaxResults", 0)
	if err != nil {
		return nil, err
	}
	if p.has("MaxResults") {
		if len(ids) > 0 {
			return nil, ec2Error("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
		}
		if maxResults < 5 || maxResults > 1000 {
			return nil, invalidValue("MaxResults", strconv.Itoa(maxResults), "Value must be between 5 and 1000.")
		}
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	var list []*instance
	if len(ids) > 0 {
		if list, err = loadInstances(c, ids, "InstanceId"); err != nil {
			return nil, err
		}
	} else {
		account, r := c.Account(), region(c)
		list, err = scanAll(c.Tx, kindInstance, func(in *instance) bool {
			return in.Account == account && in.Region == r && in.visible(c.Now)
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if !a.LaunchTime.Equal(b.LaunchTime) {
			return a.LaunchTime.Before(b.LaunchTime)
		}
		if a.ReservationID != b.ReservationID {
			return a.ReservationID < b.ReservationID
		}
		return a.LaunchIndex < b.LaunchIndex
	})
	var matched []*instance
	for _, in := range list {
		ok, err := matchFilters(filters, in.Tags, in.field)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, in)
		}
	}
	res := &describeInstancesResult{}
	if token := p.str("NextToken"); token != "" {
		start := -1
		for i, in := range matched {
			if in.ID == token {
				start = i + 1
			}
		}
		if start < 0 {
			return nil, ec2Error("InvalidPaginationToken", "Invalid pagination token: %s", token)
		}
		matched = matched[start:]
	}
	if maxResults > 0 && len(matched) > maxResults {
		matched = matched[:maxResults]
		res.NextToken = matched[len(matched)-1].ID
	}
	res.Reservations.Items = []reservationXML{}
	var cur *reservationXML
	for _, in := range matched {
		if cur == nil || cur.ReservationID != in.ReservationID {
			res.Reservations.Items = append(res.Reservations.Items, *reservationOf(in.Account, nil))
			cur = &res.Reservations.Items[len(res.Reservations.Items)-1]
			cur.ReservationID = in.ReservationID
		}
		cur.Instances.Items = append(cur.Instances.Items, in.xml())
	}
	return res, nil
}

// ---------------------------------------------------------------------------------
// StartInstances, StopInstances, TerminateInstances

type stateChangeXML struct {
	InstanceID    string   `xml:"instanceId"`
	CurrentState  stateXML `xml:"currentState"`
	PreviousState stateXML `xml:"previousState"`
}

type stateChangeResult struct {
	Changes items[stateChangeXML] `xml:"instancesSet"`
}

// transition builds the handler of a state-changing action: every instance is
// checked before any changes, so a refused instance leaves all unchanged.
func transition(action string, next func(c *service.Call, in *instance) (string, error)) func(c *service.Call) (any, error) {
	return func(c *service.Call) (any, error) {
		p := parseParams(c.Params)
		for _, name := range []string{"Force", "Hibernate", "SkipOsShutdown"} {
			if _, err := p.boolean(name); err != nil {
				return nil, err
			}
		}
		ins, err := loadInstances(c, instanceIDs(c, "InstanceId"), "InstanceId")
		if err != nil {
			return nil, err
		}
		if err := authorizeRest(c, action, ins); err != nil {
			return nil, err
		}
		if err := dryRun(p); err != nil {
			return nil, err
		}
		res := &stateChangeResult{}
		res.Changes.Items = []stateChangeXML{}
		states := make([]string, len(ins))
		for i, in := range ins {
			if states[i], err = next(c, in); err != nil {
				return nil, err
			}
		}
		for i, in := range ins {
			prev := in.State
			if states[i] != prev {
				in.State = states[i]
				if states[i] != stateRunning {
					in.StateChanged = c.Now.UTC()
				}
				if err := putInstance(c.Tx, in); err != nil {
					return nil, err
				}
			}
			res.Changes.Items = append(res.Changes.Items, stateChangeXML{InstanceID: in.ID,
				CurrentState: stateOf(states[i]), PreviousState: stateOf(prev)})
		}
		return res, nil
	}
}

func startInstance(_ *service.Call, in *instance) (string, error) {
	switch in.State {
	case stateTerminated, stateShuttingDown:
		return "", ec2Error("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be started.", in.ID)
	}
	return stateRunning, nil
}

func stopInstance(_ *service.Call, in *instance) (string, error) {
	switch in.State {
	case stateTerminated, stateShuttingDown:
		return "", ec2Error("IncorrectInstanceState", "This instance '%s' is not in a state from which it can be stopped.", in.ID)
	}
	return stateStopped, nil
}

func terminateInstance(_ *service.Call, _ *instance) (string, error) { return stateTerminated, nil }

// ---------------------------------------------------------------------------------
// ModifyInstanceMetadataOptions

func modifyMetadataContext(c *service.Call, ctx policy.Context) error {
	in, err := loadInstance(c, c.Params.Get("InstanceId"))
	if err != nil {
		return err
	}
	in.context(ctx)
	m, err := readMetadataOptions(parseParams(c.Params))
	if err != nil {
		return err
	}
	m.context(ctx)
	return nil
}

type modifyMetadataResult struct {
	InstanceID string      `xml:"instanceId"`
	Options    metadataXML `xml:"instanceMetadataOptions"`
}

func modifyInstanceMetadataOptions(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	in, err := loadInstance(c, p.str("InstanceId"))
	if err != nil {
		return nil, err
	}
	m, err := readMetadataOptions(p)
	if err != nil {
		return nil, err
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	if in.State == stateTerminated || in.State == stateShuttingDown {
		return nil, ec2Error("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", in.ID)
	}
	m.apply(in)
	if err := putInstance(c.Tx, in); err != nil {
		return nil, err
	}
	return &modifyMetadataResult{InstanceID: in.ID, Options: metadataXML{State: "applied", HttpTokens: in.HttpTokens,
		HttpPutHopLimit: in.HttpPutHopLimit, HttpEndpoint: in.HttpEndpoint, HttpProtocolIpv6: in.HttpProtocolIpv6,
		InstanceMetadataTags: in.InstanceMetadataTags}}, nil
}

// ---------------------------------------------------------------------------------
// Instance profile associations

type associationXML struct {
	AssociationID      string     `xml:"associationId"`
	InstanceID         string     `xml:"instanceId"`
	IamInstanceProfile profileXML `xml:"iamInstanceProfile"`
	State              string     `xml:"state"`
	Timestamp          string     `xml:"timestamp"`
}

func (in *instance) associationXML(state string) associationXML {
	return associationXML{AssociationID: in.Profile.ID, InstanceID: in.ID,
		IamInstanceProfile: profileXML{Arn: in.Profile.Arn, ID: in.Profile.PID}, State: state, Timestamp: fmtTime(in.Profile.Since)}
}

type describeAssociationsResult struct {
	Associations items[associationXML] `xml:"iamInstanceProfileAssociationSet"`
}

func describeIamInstanceProfileAssociations(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	filters, err := readFilters(p)
	if err != nil {
		return nil, err
	}
	field := func(in *instance) fieldsFunc {
		return func(name string) ([]string, bool) {
			switch name {
			case "instance-id":
				return []string{in.ID}, true
			case "state":
				return []string{"associated"}, true
			}
			return nil, false
		}
	}
	if err := checkFilters(filters, field(&instance{})); err != nil {
		return nil, err
	}
	if _, err := p.integer("MaxResults", 0); err != nil {
		return nil, err
	}
	ids := p.strs("AssociationId")
	account, r := c.Account(), region(c)
	list, err := scanAll(c.Tx, kindInstance, func(in *instance) bool {
		return in.Account == account && in.Region == r && in.Profile != nil && in.State != stateTerminated && in.State != stateShuttingDown
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Profile.Since.Before(list[j].Profile.Since) })
	for _, id := range ids {
		found := false
		for _, in := range list {
			found = found || in.Profile.ID == id
		}
		if !found {
			return nil, ec2Error("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
		}
	}
	res := &describeAssociationsResult{}
	res.Associations.Items = []associationXML{}
	for _, in := range list {
		if len(ids) > 0 && !contains(ids, in.Profile.ID) {
			continue
		}
		ok, err := matchFilters(filters, nil, field(in))
		if err != nil {
			return nil, err
		}
		if ok {
			res.Associations.Items = append(res.Associations.Items, in.associationXML("associated"))
		}
	}
	return res, nil
}

type associationResult struct {
	Association associationXML `xml:"iamInstanceProfileAssociation"`
}

func associateIamInstanceProfile(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	in, err := loadInstance(c, p.str("InstanceId"))
	if err != nil {
		return nil, err
	}
	prof := p.child("IamInstanceProfile")
	if !prof.has("Name") && !prof.has("Arn") {
		return nil, missingParameter("IamInstanceProfile")
	}
	if prof.has("Name") && prof.has("Arn") {
		return nil, ec2Error("InvalidParameterCombination", "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
	}
	ip, err := findProfile(c, prof.str("Name"), prof.str("Arn"))
	if err != nil {
		return nil, err
	}
	if err := passRole(c, ip, in.arn()); err != nil {
		return nil, err
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	if in.State != stateRunning && in.State != stateStopped && in.State != statePending {
		return nil, ec2Error("IncorrectInstanceState", "The instance '%s' is not in the 'running' or 'stopped' states.", in.ID)
	}
	if in.Profile != nil {
		return nil, ec2Error("IncorrectState", "There is an existing association for instance %s", in.ID)
	}
	in.Profile = &association{ID: newID("iip-assoc-"), Arn: ip.Arn, PID: ip.ID, Since: c.Now.UTC()}
	if err := putInstance(c.Tx, in); err != nil {
		return nil, err
	}
	return &associationResult{Association: in.associationXML("associated")}, nil
}

// findAssociation finds the instance an AssociationId belongs to.
func findAssociation(c *service.Call) (*instance, error) {
	id := c.Params.Get("AssociationId")
	if id == "" {
		return nil, missingParameter("AssociationId")
	}
	account, r := c.Account(), region(c)
	list, err := scanAll(c.Tx, kindInstance, func(in *instance) bool {
		return in.Account == account && in.Region == r && in.Profile != nil && in.Profile.ID == id
	})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ec2Error("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
	}
	return list[0], nil
}

func associationResource(c *service.Call) (string, string, error) {
	in, err := findAssociation(c)
	if err != nil {
		return "", "", err
	}
	return in.arn(), in.Account, nil
}

func associationContext(c *service.Call, ctx policy.Context) error {
	in, err := findAssociation(c)
	if err != nil {
		return err
	}
	in.context(ctx)
	return nil
}

func disassociateIamInstanceProfile(c *service.Call) (any, error) {
	in, err := findAssociation(c)
	if err != nil {
		return nil, err
	}
	if err := dryRun(parseParams(c.Params)); err != nil {
		return nil, err
	}
	res := &associationResult{Association: in.associationXML("disassociated")}
	in.Profile = nil
	if err := putInstance(c.Tx, in); err != nil {
		return nil, err
	}
	return res, nil
}
