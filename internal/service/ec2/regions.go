package ec2

import (
	"strconv"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
)

func init() {
	register(
		&service.Action{Name: "DescribeRegions", IAMAction: "ec2:DescribeRegions", Context: regionContext, Handle: describeRegions},
		&service.Action{Name: "DescribeAvailabilityZones", IAMAction: "ec2:DescribeAvailabilityZones", Context: regionContext, Handle: describeAvailabilityZones},
	)
}

// regionContext is the context of actions on "*": ec2:Region.
func regionContext(c *service.Call, ctx policy.Context) error {
	ctx.Set("ec2:Region", region(c))
	return nil
}

// Regions enabled by default, and those that need opting in (shown with AllRegions).
var (
	defaultRegions = []string{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
		"ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
		"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"}
	optInRegions = []string{"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
		"ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1"}
)

type regionXML struct {
	RegionName  string `xml:"regionName"`
	Endpoint    string `xml:"regionEndpoint"`
	OptInStatus string `xml:"optInStatus"`
}

type describeRegionsResult struct {
	Regions items[regionXML] `xml:"regionInfo"`
}

func describeRegions(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	all, err := p.boolean("AllRegions")
	if err != nil {
		return nil, err
	}
	filters, err := readFilters(p)
	if err != nil {
		return nil, err
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	var regions []regionXML
	for _, r := range defaultRegions {
		regions = append(regions, regionXML{r, "ec2." + r + ".amazonaws.com", "opt-in-not-required"})
	}
	for _, r := range optInRegions {
		regions = append(regions, regionXML{r, "ec2." + r + ".amazonaws.com", "not-opted-in"})
	}
	names := p.strs("RegionName")
	for _, n := range names {
		found := false
		for _, r := range regions {
			found = found || r.RegionName == n
		}
		if !found {
			return nil, invalidParameterValue("Invalid region: %s", n)
		}
	}
	res := &describeRegionsResult{}
	res.Regions.Items = []regionXML{}
	for _, r := range regions {
		if len(names) > 0 && !contains(names, r.RegionName) {
			continue
		}
		if len(names) == 0 && !all && r.OptInStatus == "not-opted-in" {
			continue
		}
		ok, err := matchFilters(filters, nil, func(name string) ([]string, bool) {
			switch name {
			case "region-name":
				return []string{r.RegionName}, true
			case "endpoint":
				return []string{r.Endpoint}, true
			case "opt-in-status":
				return []string{r.OptInStatus}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			res.Regions.Items = append(res.Regions.Items, r)
		}
	}
	return res, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type zoneXML struct {
	ZoneName           string   `xml:"zoneName"`
	ZoneID             string   `xml:"zoneId"`
	State              string   `xml:"zoneState"`
	OptInStatus        string   `xml:"optInStatus"`
	Messages           []string `xml:"messageSet>item>message"`
	RegionName         string   `xml:"regionName"`
	GroupName          string   `xml:"groupName"`
	NetworkBorderGroup string   `xml:"networkBorderGroup"`
	ZoneType           string   `xml:"zoneType"`
}

type describeZonesResult struct {
	Zones items[zoneXML] `xml:"availabilityZoneInfo"`
}

// zoneLetters are each region's availability zones.
const zoneLetters = "abc"

// zones returns a region's availability zones. Zone ids follow AWS's pattern
// (use1-az1); AWS maps letters to ids differently per account, iamlocal does not.
func zones(r string) []zoneXML {
	var out []zoneXML
	for i, l := range zoneLetters {
		out = append(out, zoneXML{ZoneName: r + string(l), ZoneID: zoneIDPrefix(r) + "-az" + strconv.Itoa(i+1),
			State: "available", OptInStatus: "opt-in-not-required", RegionName: r, GroupName: r,
			NetworkBorderGroup: r, ZoneType: "availability-zone"})
	}
	return out
}

// zoneIDPrefix abbreviates a region as zone ids do: us-east-1 → use1,
// ap-southeast-2 → apse2.
func zoneIDPrefix(r string) string {
	parts := strings.Split(r, "-")
	if len(parts) != 3 {
		return r
	}
	dir := map[string]string{"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
		"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}[parts[1]]
	if dir == "" && parts[1] != "" {
		dir = parts[1][:1]
	}
	return parts[0] + dir + parts[2]
}

func validZone(r, zone string) bool {
	for _, z := range zones(r) {
		if z.ZoneName == zone {
			return true
		}
	}
	return false
}

func describeAvailabilityZones(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	if _, err := p.boolean("AllAvailabilityZones"); err != nil {
		return nil, err
	}
	filters, err := readFilters(p)
	if err != nil {
		return nil, err
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	all := zones(region(c))
	names, ids := p.strs("ZoneName"), p.strs("ZoneId")
	for _, n := range append(append([]string{}, names...), ids...) {
		found := false
		for _, z := range all {
			found = found || z.ZoneName == n || z.ZoneID == n
		}
		if !found {
			return nil, invalidParameterValue("The zone '%s' does not exist in the region '%s'", n, region(c))
		}
	}
	res := &describeZonesResult{}
	res.Zones.Items = []zoneXML{}
	for _, z := range all {
		if (len(names) > 0 || len(ids) > 0) && !contains(names, z.ZoneName) && !contains(ids, z.ZoneID) {
			continue
		}
		ok, err := matchFilters(filters, nil, func(name string) ([]string, bool) {
			switch name {
			case "zone-name":
				return []string{z.ZoneName}, true
			case "zone-id":
				return []string{z.ZoneID}, true
			case "state":
				return []string{z.State}, true
			case "region-name":
				return []string{z.RegionName}, true
			case "zone-type":
				return []string{z.ZoneType}, true
			case "group-name":
				return []string{z.GroupName}, true
			case "opt-in-status":
				return []string{z.OptInStatus}, true
			}
			return nil, false
		})
		if err != nil {
			return nil, err
		}
		if ok {
			res.Zones.Items = append(res.Zones.Items, z)
		}
	}
	return res, nil
}
