package imds

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// node is a metadata category: a directory (dir non-nil) or a leaf.
type node struct {
	dir  map[string]*node
	leaf func(ctx context.Context) (status int, body string)
	// bare: the listing has no trailing slashes ("/" and "/latest/" are listed so).
	bare bool
}

func text(s string) *node {
	return &node{leaf: func(context.Context) (int, string) { return http.StatusOK, s }}
}

// listing is a directory's body as IMDS writes it: one entry a line, sorted,
// sub-directories with a trailing slash, no final newline.
func (n *node) listing() string {
	names := make([]string, 0, len(n.dir))
	for name, c := range n.dir {
		if c.dir != nil && !n.bare {
			name += "/"
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, "\n")
}

// resolve walks a request path ("/latest/meta-data/placement/region") from the root.
// A directory answers with or without a trailing slash; a leaf only without; an
// empty segment ("a//b") matches nothing.
func resolve(root *node, path string) *node {
	p, ok := strings.CutPrefix(path, "/")
	if !ok || strings.HasPrefix(p, "/") {
		return nil
	}
	trailing := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	n := root
	if p == "" {
		return n
	}
	for seg := range strings.SplitSeq(p, "/") {
		if n.dir == nil || seg == "" {
			return nil
		}
		if n = n.dir[seg]; n == nil {
			return nil
		}
	}
	if trailing && n.dir == nil {
		return nil
	}
	return n
}

// versions are the metadata API versions IMDS lists at "/"; each serves the same
// tree (iamlocal has nothing that differs between them).
var versions = []string{"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15",
	"2008-02-01", "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12", "2014-02-25",
	"2014-11-05", "2015-10-20", "2016-04-19", "2016-06-30", "2016-09-02", "2018-03-28", "2018-08-17",
	"2018-09-24", "2019-10-01", "2020-10-27", "2021-01-03", "2021-03-23", "2021-07-15", "2022-09-24",
	"latest"}

// credentialLeaves are the leaves that need the role's credentials; the server
// supplies them so the tree stays a pure function of the instance.
type credentialLeaves struct {
	info, creds func(ctx context.Context) (int, string)
}

// buildTree is the metadata of inst.
func buildTree(inst *Instance, cl credentialLeaves) *node {
	partition, domain := partitionOf(inst)
	placement := map[string]*node{
		"availability-zone": text(inst.AvailabilityZone),
		"region":            text(inst.Region),
	}
	md := map[string]*node{
		"ami-id":              text(inst.ImageId),
		"ami-launch-index":    text(strconv.Itoa(inst.AmiLaunchIndex)),
		"instance-action":     text("none"),
		"instance-id":         text(inst.InstanceId),
		"instance-life-cycle": text("on-demand"),
		"instance-type":       text(inst.InstanceType),
		"placement":           {dir: placement},
		"services": {dir: map[string]*node{
			"domain":    text(domain),
			"partition": text(partition),
		}},
	}
	optional := func(dir map[string]*node, name, value string) {
		if value != "" {
			dir[name] = text(value)
		}
	}
	optional(placement, "availability-zone-id", inst.AvailabilityZoneId)
	optional(md, "reservation-id", inst.ReservationId)
	optional(md, "security-groups", strings.Join(inst.SecurityGroups, "\n"))
	if inst.PrivateIpAddress != "" {
		h := inst.PrivateDnsName
		if h == "" {
			h = hostname(inst.PrivateIpAddress, inst.Region)
		}
		md["local-ipv4"] = text(inst.PrivateIpAddress)
		md["hostname"] = text(h)
		md["local-hostname"] = text(h)
	}
	if inst.MacAddress != "" {
		md["mac"] = text(inst.MacAddress)
		eni := map[string]*node{"device-number": text("0"), "mac": text(inst.MacAddress), "owner-id": text(inst.AccountId)}
		optional(eni, "local-ipv4s", inst.PrivateIpAddress)
		if md["local-hostname"] != nil {
			eni["local-hostname"] = md["local-hostname"]
		}
		optional(eni, "security-groups", strings.Join(inst.SecurityGroups, "\n"))
		optional(eni, "security-group-ids", strings.Join(inst.SecurityGroupIds, "\n"))
		optional(eni, "subnet-id", inst.SubnetId)
		optional(eni, "vpc-id", inst.VpcId)
		md["network"] = &node{dir: map[string]*node{"interfaces": {dir: map[string]*node{
			"macs": {dir: map[string]*node{inst.MacAddress: {dir: eni}}},
		}}}}
	}
	if inst.InstanceMetadataTags == "enabled" {
		tags := map[string]*node{}
		for k, v := range inst.Tags {
			if k != "" && !strings.Contains(k, "/") {
				tags[k] = text(v)
			}
		}
		md["tags"] = &node{dir: map[string]*node{"instance": {dir: tags}}}
	}
	if inst.RoleName != "" {
		md["iam"] = &node{dir: map[string]*node{
			"info": {leaf: cl.info},
			"security-credentials": {dir: map[string]*node{
				inst.RoleName: {leaf: cl.creds},
			}},
		}}
	}
	version := &node{bare: true, dir: map[string]*node{
		"meta-data": {dir: md},
		"dynamic": {dir: map[string]*node{
			"instance-identity": {dir: map[string]*node{
				"document": text(identityDocument(inst)),
			}},
		}},
	}}
	root := &node{bare: true, dir: make(map[string]*node, len(versions))}
	for _, v := range versions {
		root.dir[v] = version
	}
	return root
}

func partitionOf(inst *Instance) (partition, domain string) {
	partition = "aws"
	if p, _, ok := strings.Cut(strings.TrimPrefix(inst.InstanceProfileArn, "arn:"), ":"); ok && p != "" {
		partition = p
	}
	switch {
	case partition == "aws-cn":
		return partition, "amazonaws.com.cn"
	default:
		return partition, "amazonaws.com"
	}
}

// hostname is EC2's private DNS name for an address: ip-10-0-0-12.ec2.internal in
// us-east-1, ip-10-0-0-12.<region>.compute.internal elsewhere.
func hostname(ip, region string) string {
	h := "ip-" + strings.NewReplacer(".", "-", ":", "-").Replace(ip)
	if region == "us-east-1" || region == "" {
		return h + ".ec2.internal"
	}
	return h + "." + region + ".compute.internal"
}

// graviton matches the instance families with Arm processors (t4g, m6gd, c7gn, …).
var graviton = regexp.MustCompile(`^(a1|[a-z]+[0-9]+g[a-z]*)\.`)

func architecture(instanceType string) string {
	if graviton.MatchString(instanceType) {
		return "arm64"
	}
	return "x86_64"
}

// identityDocument is dynamic/instance-identity/document, fields in AWS's order.
func identityDocument(inst *Instance) string {
	arch := inst.Architecture
	if arch == "" {
		arch = architecture(inst.InstanceType)
	}
	pending := inst.LaunchTime
	if t, err := time.Parse(time.RFC3339Nano, inst.LaunchTime); err == nil {
		pending = t.UTC().Format(time.RFC3339)
	}
	doc := struct {
		AccountID               string   `json:"accountId"`
		Architecture            string   `json:"architecture"`
		AvailabilityZone        string   `json:"availabilityZone"`
		BillingProducts         []string `json:"billingProducts"`
		DevpayProductCodes      []string `json:"devpayProductCodes"`
		MarketplaceProductCodes []string `json:"marketplaceProductCodes"`
		ImageID                 string   `json:"imageId"`
		InstanceID              string   `json:"instanceId"`
		InstanceType            string   `json:"instanceType"`
		KernelID                *string  `json:"kernelId"`
		PendingTime             string   `json:"pendingTime"`
		PrivateIP               string   `json:"privateIp"`
		RamdiskID               *string  `json:"ramdiskId"`
		Region                  string   `json:"region"`
		Version                 string   `json:"version"`
	}{
		AccountID: inst.AccountId, Architecture: arch,
		AvailabilityZone: inst.AvailabilityZone, ImageID: inst.ImageId, InstanceID: inst.InstanceId,
		InstanceType: inst.InstanceType, PendingTime: pending, PrivateIP: inst.PrivateIpAddress,
		Region: inst.Region, Version: "2017-09-30",
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// awsTime is the timestamp format of IMDS documents.
func awsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// credentialsDocument is iam/security-credentials/<role>.
func credentialsDocument(c *Credentials) string {
	b, _ := json.MarshalIndent(struct {
		Code            string
		LastUpdated     string
		Type            string
		AccessKeyId     string
		SecretAccessKey string
		Token           string
		Expiration      string
	}{"Success", awsTime(c.LastUpdated), "AWS-HMAC", c.AccessKeyId, c.SecretAccessKey, c.Token, awsTime(c.Expiration)}, "", "  ")
	return string(b)
}

// infoDocument is iam/info.
func infoDocument(lastUpdated time.Time, profileArn, profileID string) string {
	b, _ := json.MarshalIndent(struct {
		Code               string
		LastUpdated        string
		InstanceProfileArn string
		InstanceProfileId  string
	}{"Success", awsTime(lastUpdated), profileArn, profileID}, "", "  ")
	return string(b)
}

// failureDocument is what IMDS serves in place of credentials when EC2 cannot
// assume the role (its trust policy does not allow ec2.amazonaws.com).
func failureDocument(now time.Time, roleName string) string {
	b, _ := json.MarshalIndent(struct {
		Code        string
		Message     string
		LastUpdated string
	}{"AssumeRoleUnauthorizedAccess", "EC2 cannot assume the role " + roleName +
		". Please see documentation at https://docs.aws.amazon.com/IAM/latest/UserGuide/RolesTroubleshooting.html.", awsTime(now)}, "", "  ")
	return string(b)
}
