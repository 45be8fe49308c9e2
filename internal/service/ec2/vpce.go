package ec2

import (
	"errors"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/wire"
)

func init() {
	register(
		&service.Action{Name: "CreateVpcEndpoint", IAMAction: "ec2:CreateVpcEndpoint", Write: true,
			Resource: newVpceResource, Context: newVpceContext, Handle: createVpcEndpoint},
		&service.Action{Name: "DescribeVpcEndpoints", IAMAction: "ec2:DescribeVpcEndpoints", Context: regionContext, Handle: describeVpcEndpoints},
		&service.Action{Name: "ModifyVpcEndpoint", IAMAction: "ec2:ModifyVpcEndpoint", Write: true,
			Resource: vpceResource, Context: vpceContextOf, Handle: modifyVpcEndpoint},
		&service.Action{Name: "DeleteVpcEndpoints", IAMAction: "ec2:DeleteVpcEndpoints", Write: true,
			Resource: deleteVpceResource, Context: deleteVpceContext, Handle: deleteVpcEndpoints},
	)
}

// defaultEndpointPolicy is what DescribeVpcEndpoints shows for an endpoint without a
// policy of its own, as AWS does.
const defaultEndpointPolicy = `{"Statement":[{"Action":"*","Effect":"Allow","Principal":"*","Resource":"*"}]}`

// endpointServices are the services an endpoint can front, and the endpoint types
// each supports.
var endpointServices = map[string][]string{"ec2": {"Interface"}, "sts": {"Interface"}, "s3": {"Interface", "Gateway"}}

// vpceRegion is the region of an endpoint's service (com.amazonaws.REGION.svc).
func vpceRegion(ep *directory.VpcEndpoint) string {
	parts := strings.Split(ep.ServiceName, ".")
	if len(parts) == 4 {
		return parts[2]
	}
	return ""
}

func vpceContext(ctx policy.Context, r string, ep *directory.VpcEndpoint) {
	ctx.Set("ec2:Region", r)
	ctx.Set("ec2:VpceServiceName", ep.ServiceName)
	ctx.Set("ec2:VpceServiceOwner", "amazon")
	resourceTags(ctx, ep.Tags)
}

func checkVpceID(id string) error {
	if !validID(id, "vpce-") {
		return ec2Error("InvalidVpcEndpointId.Malformed", "The Vpc Endpoint Id '%s' is malformed", id)
	}
	return nil
}

func vpceNotFound(id string) error {
	return ec2Error("InvalidVpcEndpointId.NotFound", "The Vpc Endpoint Id '%s' does not exist", id)
}

// findVpce reads an endpoint of the caller's account and region; nil if none.
func findVpce(c *service.Call, id string) (*directory.VpcEndpoint, error) {
	ep := &directory.VpcEndpoint{}
	ok, err := getJSON(c.Tx, directory.KindVpcEndpoint, id, ep)
	if err != nil || !ok {
		return nil, err
	}
	if ep.Account != c.Account() || vpceRegion(ep) != region(c) || ep.State == "deleted" {
		return nil, nil
	}
	return ep, nil
}

func loadVpce(c *service.Call, id string) (*directory.VpcEndpoint, error) {
	if id == "" {
		return nil, missingParameter("VpcEndpointId")
	}
	if err := checkVpceID(id); err != nil {
		return nil, err
	}
	ep, err := findVpce(c, id)
	if err != nil {
		return nil, err
	}
	if ep == nil {
		return nil, vpceNotFound(id)
	}
	return ep, nil
}

func putVpce(c *service.Call, ep *directory.VpcEndpoint) error {
	return c.Tx.Put(directory.KindVpcEndpoint, ep.ID, ep)
}

// accountVpces lists the caller's endpoints in the request's region, oldest first.
func accountVpces(c *service.Call) ([]*directory.VpcEndpoint, error) {
	account, r := c.Account(), region(c)
	eps, err := scanAll(c.Tx, directory.KindVpcEndpoint, func(ep *directory.VpcEndpoint) bool {
		return ep.Account == account && vpceRegion(ep) == r && ep.State != "deleted"
	})
	sort.Slice(eps, func(i, j int) bool { return eps[i].CreationTime.Before(eps[j].CreationTime) })
	return eps, err
}

// checkEndpointPolicy validates a VPC endpoint policy with the engine's parser.
func checkEndpointPolicy(c *service.Call, doc string) error {
	if _, err := c.Env.Resolver.Policies.Compile(doc, policy.Endpoint); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return ec2Error("InvalidPolicyDocument", "The Policy Document is not valid. %s", strings.TrimPrefix(pe.Error(), "MalformedPolicyDocument: "))
		}
		return err
	}
	return nil
}

// ---------------------------------------------------------------------------------
// CreateVpcEndpoint

type vpceInput struct {
	vpcID, serviceName, typ, policy string
	subnets, groups                 []string
	privateDNS                      bool
	tags                            []directory.Tag
}

func readVpceInput(c *service.Call) (*vpceInput, error) {
	p := parseParams(c.Params)
	in := &vpceInput{vpcID: p.str("VpcId"), serviceName: p.str("ServiceName"), typ: "Gateway", policy: p.str("PolicyDocument"),
		subnets: p.strs("SubnetId"), groups: p.strs("SecurityGroupId")}
	if !p.has("VpcId") {
		return nil, missingParameter("VpcId")
	}
	if !validID(in.vpcID, "vpc-") {
		return nil, ec2Error("InvalidVpcId.Malformed", `Invalid id: "%s"`, in.vpcID)
	}
	if !p.has("ServiceName") {
		return nil, missingParameter("ServiceName")
	}
	if p.has("VpcEndpointType") {
		in.typ = p.str("VpcEndpointType")
	}
	switch in.typ {
	case "Interface", "Gateway":
	case "GatewayLoadBalancer", "Resource", "ServiceNetwork":
		return nil, ec2Error("InvalidParameter", "Endpoint type (%s) is not supported by iamlocal: use Interface.", in.typ)
	default:
		return nil, invalidValue("VpcEndpointType", in.typ, "Valid values are Interface, Gateway.")
	}
	svc, ok := strings.CutPrefix(in.serviceName, "com.amazonaws."+region(c)+".")
	types := endpointServices[svc]
	if !ok || types == nil {
		return nil, ec2Error("InvalidServiceName", "The Vpc Endpoint Service '%s' does not exist", in.serviceName)
	}
	if !contains(types, in.typ) {
		return nil, ec2Error("InvalidParameter", "Endpoint type (%s) does not match available service types ([%s]).", in.typ, strings.Join(types, ", "))
	}
	for _, id := range in.subnets {
		if !validID(id, "subnet-") {
			return nil, ec2Error("InvalidSubnetID.Malformed", `Invalid id: "%s"`, id)
		}
	}
	for _, id := range in.groups {
		if !validID(id, "sg-") {
			return nil, ec2Error("InvalidGroupId.Malformed", `Invalid id: "%s"`, id)
		}
	}
	dns, err := p.optBool("PrivateDnsEnabled")
	if err != nil {
		return nil, err
	}
	in.privateDNS = in.typ == "Interface"
	if dns != nil {
		in.privateDNS = *dns
	}
	if in.policy != "" || p.has("PolicyDocument") {
		if err := checkEndpointPolicy(c, in.policy); err != nil {
			return nil, err
		}
	}
	specs, err := tagSpecs(p, "vpc-endpoint")
	if err != nil {
		return nil, err
	}
	in.tags = specs["vpc-endpoint"]
	return in, nil
}

func newVpceResource(c *service.Call) (string, string, error) {
	if _, err := readVpceInput(c); err != nil {
		return "", "", err
	}
	return vpceArn(region(c), c.Account(), "*"), c.Account(), nil
}

func newVpceContext(c *service.Call, ctx policy.Context) error {
	in, err := readVpceInput(c)
	if err != nil {
		return err
	}
	vpceContext(ctx, region(c), &directory.VpcEndpoint{ServiceName: in.serviceName})
	requestTags(ctx, in.tags)
	return nil
}

type dnsEntryXML struct {
	DNSName      string `xml:"dnsName"`
	HostedZoneID string `xml:"hostedZoneId,omitempty"`
}

type sgXML struct {
	GroupID string `xml:"groupId"`
}

type vpceXML struct {
	ID                  string        `xml:"vpcEndpointId"`
	Type                string        `xml:"vpcEndpointType"`
	VpcID               string        `xml:"vpcId"`
	ServiceName         string        `xml:"serviceName"`
	State               string        `xml:"state"`
	PolicyDocument      string        `xml:"policyDocument"`
	RouteTableIDs       []string      `xml:"routeTableIdSet>item"`
	SubnetIDs           []string      `xml:"subnetIdSet>item"`
	Groups              []sgXML       `xml:"groupSet>item"`
	IPAddressType       string        `xml:"ipAddressType,omitempty"`
	DNSRecordIPType     string        `xml:"dnsOptions>dnsRecordIpType,omitempty"`
	PrivateDNSEnabled   bool          `xml:"privateDnsEnabled"`
	RequesterManaged    bool          `xml:"requesterManaged"`
	NetworkInterfaceIDs []string      `xml:"networkInterfaceIdSet>item"`
	DNSEntries          []dnsEntryXML `xml:"dnsEntrySet>item"`
	CreationTimestamp   string        `xml:"creationTimestamp"`
	Tags                []xmlTag      `xml:"tagSet>item"`
	OwnerID             string        `xml:"ownerId"`
}

func vpceToXML(ep *directory.VpcEndpoint) vpceXML {
	x := vpceXML{ID: ep.ID, Type: ep.Type, VpcID: ep.VpcID, ServiceName: ep.ServiceName, State: "available",
		PolicyDocument: ep.PolicyDocument, SubnetIDs: ep.SubnetIDs, PrivateDNSEnabled: ep.PrivateDNSEnabled,
		CreationTimestamp: fmtTime(ep.CreationTime), Tags: xmlTags(ep.Tags), OwnerID: ep.Account}
	if x.Type == "" {
		x.Type = "Interface"
	}
	if x.PolicyDocument == "" {
		x.PolicyDocument = defaultEndpointPolicy
	}
	for _, g := range ep.SecurityGroupIDs {
		x.Groups = append(x.Groups, sgXML{g})
	}
	if x.Type == "Interface" {
		x.IPAddressType, x.DNSRecordIPType = "ipv4", "ipv4"
	}
	if ep.Port != 0 {
		x.DNSEntries = []dnsEntryXML{{DNSName: "localhost:" + strconv.Itoa(ep.Port)}}
	}
	return x
}

// Quotas on VPC endpoints (AWS PrivateLink quotas): interface endpoints per VPC and
// gateway endpoints per Region (per account), AWS's defaults; and, iamlocal's own,
// endpoints per server, since each has a listener (a file descriptor) of its own.
const (
	maxInterfaceEndpointsPerVpc     = 50
	maxGatewayEndpointsPerRegion    = 20
	maxEndpointsPerServer           = 1000
	vpcEndpointLimitExceededMessage = "The maximum number of VPC endpoints has been reached."
)

// checkVpceQuota refuses an endpoint beyond a quota, before its listener opens.
func checkVpceQuota(c *service.Call, in *vpceInput) error {
	account, r := c.Account(), region(c)
	total, inVpc, gateways := 0, 0, 0
	_, err := scanAll(c.Tx, directory.KindVpcEndpoint, func(ep *directory.VpcEndpoint) bool {
		if ep.State == "deleted" {
			return false
		}
		total++
		if ep.Account != account || vpceRegion(ep) != r {
			return false
		}
		switch {
		case ep.Type == "Gateway":
			gateways++
		case ep.VpcID == in.vpcID: // Interface (or older records without a type)
			inVpc++
		}
		return false
	})
	if err != nil {
		return err
	}
	switch {
	case total >= maxEndpointsPerServer,
		in.typ == "Gateway" && gateways >= maxGatewayEndpointsPerRegion,
		in.typ != "Gateway" && inVpc >= maxInterfaceEndpointsPerVpc:
		return ec2Error("VpcEndpointLimitExceeded", "%s", vpcEndpointLimitExceededMessage)
	}
	return nil
}

type createVpceResult struct {
	Endpoint vpceXML `xml:"vpcEndpoint"`
}

func createVpcEndpoint(c *service.Call) (any, error) {
	in, err := readVpceInput(c)
	if err != nil {
		return nil, err
	}
	r := region(c)
	if err := authorizeCreateTags(c, "CreateVpcEndpoint", vpceArn(r, c.Account(), "*"), in.tags); err != nil {
		return nil, err
	}
	if err := dryRun(parseParams(c.Params)); err != nil {
		return nil, err
	}
	if err := checkVpceQuota(c, in); err != nil {
		return nil, err
	}
	ep := &directory.VpcEndpoint{ID: newID("vpce-"), Account: c.Account(), VpcID: in.vpcID, ServiceName: in.serviceName,
		PolicyDocument: in.policy, State: "available", CreationTime: c.Now.UTC(), Tags: in.tags, Type: in.typ,
		SubnetIDs: in.subnets, SecurityGroupIDs: in.groups, PrivateDNSEnabled: in.privateDNS}
	if c.Env.Endpoints != nil {
		addr, err := c.Env.Endpoints.Open(ep.ID, 0)
		var full *service.NoEndpointPortError
		if errors.As(err, &full) {
			// iamlocal's own: the listeners' port range is full.
			return nil, ec2Error("VpcEndpointLimitExceeded", "%s iamlocal's --endpoint-ports range %s is exhausted: every port in it is taken; widen the range or delete an endpoint.",
				vpcEndpointLimitExceededMessage, full.Range)
		}
		if err != nil {
			return nil, err
		}
		if _, port, err := net.SplitHostPort(addr); err == nil {
			ep.Port, _ = strconv.Atoi(port)
		}
	}
	if err := putVpce(c, ep); err != nil {
		if c.Env.Endpoints != nil {
			c.Env.Endpoints.Close(ep.ID)
		}
		return nil, err
	}
	return &createVpceResult{Endpoint: vpceToXML(ep)}, nil
}

// ---------------------------------------------------------------------------------
// DescribeVpcEndpoints

type describeVpcesResult struct {
	Endpoints items[vpceXML] `xml:"vpcEndpointSet"`
}

func vpceField(ep *directory.VpcEndpoint) fieldsFunc {
	return func(name string) ([]string, bool) {
		x := vpceToXML(ep)
		switch name {
		case "vpc-endpoint-id":
			return []string{ep.ID}, true
		case "service-name":
			return []string{ep.ServiceName}, true
		case "vpc-id":
			return []string{ep.VpcID}, true
		case "vpc-endpoint-state":
			return []string{x.State}, true
		case "vpc-endpoint-type":
			return []string{x.Type}, true
		case "ip-address-type":
			return []string{x.IPAddressType}, true
		}
		return nil, false
	}
}

func describeVpcEndpoints(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	filters, err := readFilters(p)
	if err != nil {
		return nil, err
	}
	if err := checkFilters(filters, vpceField(&directory.VpcEndpoint{})); err != nil {
		return nil, err
	}
	ids := p.strs("VpcEndpointId")
	for _, id := range ids {
		if err := checkVpceID(id); err != nil {
			return nil, err
		}
	}
	if _, err := p.integer("MaxResults", 0); err != nil {
		return nil, err
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	eps, err := accountVpces(c)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		found := false
		for _, ep := range eps {
			found = found || ep.ID == id
		}
		if !found {
			return nil, vpceNotFound(id)
		}
	}
	res := &describeVpcesResult{}
	res.Endpoints.Items = []vpceXML{}
	for _, ep := range eps {
		if len(ids) > 0 && !contains(ids, ep.ID) {
			continue
		}
		ok, err := matchFilters(filters, ep.Tags, vpceField(ep))
		if err != nil {
			return nil, err
		}
		if ok {
			res.Endpoints.Items = append(res.Endpoints.Items, vpceToXML(ep))
		}
	}
	return res, nil
}

// ---------------------------------------------------------------------------------
// ModifyVpcEndpoint

func vpceResource(c *service.Call) (string, string, error) {
	ep, err := loadVpce(c, c.Params.Get("VpcEndpointId"))
	if err != nil {
		return "", "", err
	}
	return vpceArn(region(c), ep.Account, ep.ID), ep.Account, nil
}

func vpceContextOf(c *service.Call, ctx policy.Context) error {
	ep, err := loadVpce(c, c.Params.Get("VpcEndpointId"))
	if err != nil {
		return err
	}
	vpceContext(ctx, region(c), ep)
	return nil
}

func modifyVpcEndpoint(c *service.Call) (any, error) {
	p := parseParams(c.Params)
	ep, err := loadVpce(c, p.str("VpcEndpointId"))
	if err != nil {
		return nil, err
	}
	reset, err := p.boolean("ResetPolicy")
	if err != nil {
		return nil, err
	}
	if reset && p.has("PolicyDocument") {
		return nil, ec2Error("InvalidParameterCombination", "The parameters ResetPolicy and PolicyDocument cannot be used together.")
	}
	if p.has("PolicyDocument") {
		if err := checkEndpointPolicy(c, p.str("PolicyDocument")); err != nil {
			return nil, err
		}
	}
	for _, name := range []string{"AddSubnetId", "RemoveSubnetId"} {
		for _, id := range p.strs(name) {
			if !validID(id, "subnet-") {
				return nil, ec2Error("InvalidSubnetID.Malformed", `Invalid id: "%s"`, id)
			}
		}
	}
	for _, name := range []string{"AddSecurityGroupId", "RemoveSecurityGroupId"} {
		for _, id := range p.strs(name) {
			if !validID(id, "sg-") {
				return nil, ec2Error("InvalidGroupId.Malformed", `Invalid id: "%s"`, id)
			}
		}
	}
	dns, err := p.optBool("PrivateDnsEnabled")
	if err != nil {
		return nil, err
	}
	if err := dryRun(p); err != nil {
		return nil, err
	}
	switch {
	case reset:
		ep.PolicyDocument = ""
	case p.has("PolicyDocument"):
		ep.PolicyDocument = p.str("PolicyDocument")
	}
	ep.SubnetIDs = addRemove(ep.SubnetIDs, p.strs("AddSubnetId"), p.strs("RemoveSubnetId"))
	ep.SecurityGroupIDs = addRemove(ep.SecurityGroupIDs, p.strs("AddSecurityGroupId"), p.strs("RemoveSecurityGroupId"))
	if dns != nil {
		ep.PrivateDNSEnabled = *dns
	}
	if err := putVpce(c, ep); err != nil {
		return nil, err
	}
	return &returnTrue{Return: true}, nil
}

func addRemove(list, add, remove []string) []string {
	var out []string
	for _, v := range list {
		if !contains(remove, v) {
			out = append(out, v)
		}
	}
	for _, v := range add {
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// ---------------------------------------------------------------------------------
// DeleteVpcEndpoints: ids that cannot be deleted are reported, not failed.

func deleteVpceIDs(c *service.Call) ([]string, error) {
	ids := parseParams(c.Params).strs("VpcEndpointId")
	if len(ids) == 0 {
		return nil, missingParameter("VpcEndpointId")
	}
	return ids, nil
}

func deleteVpceResource(c *service.Call) (string, string, error) {
	ids, err := deleteVpceIDs(c)
	if err != nil {
		return "", "", err
	}
	return vpceArn(region(c), c.Account(), ids[0]), c.Account(), nil
}

func deleteVpceContext(c *service.Call, ctx policy.Context) error {
	ids, err := deleteVpceIDs(c)
	if err != nil {
		return err
	}
	ep := &directory.VpcEndpoint{}
	if checkVpceID(ids[0]) == nil {
		if found, err := findVpce(c, ids[0]); err != nil {
			return err
		} else if found != nil {
			ep = found
		}
	}
	vpceContext(ctx, region(c), ep)
	if ep.ServiceName == "" {
		delete(ctx, "ec2:vpceservicename")
	}
	return nil
}

type unsuccessfulXML struct {
	Error struct {
		Code    string `xml:"code"`
		Message string `xml:"message"`
	} `xml:"error"`
	ResourceID string `xml:"resourceId"`
}

type deleteVpcesResult struct {
	Unsuccessful items[unsuccessfulXML] `xml:"unsuccessful"`
}

func deleteVpcEndpoints(c *service.Call) (any, error) {
	ids, err := deleteVpceIDs(c)
	if err != nil {
		return nil, err
	}
	res := &deleteVpcesResult{}
	res.Unsuccessful.Items = []unsuccessfulXML{}
	fail := func(id string, err error) {
		var we *wire.Error
		if errors.As(err, &we) {
			u := unsuccessfulXML{ResourceID: id}
			u.Error.Code, u.Error.Message = we.Code, we.Message
			res.Unsuccessful.Items = append(res.Unsuccessful.Items, u)
		}
	}
	var doomed []*directory.VpcEndpoint
	seen := map[string]bool{}
	for i, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		ep, err := loadVpce(c, id)
		var we *wire.Error
		if errors.As(err, &we) {
			fail(id, err)
			continue
		} else if err != nil {
			return nil, err
		}
		if i > 0 { // the front door authorized the first
			ctx := policy.Context{}
			vpceContext(ctx, region(c), ep)
			if err := c.Authorize(service.Request{Action: "ec2:DeleteVpcEndpoints", Resource: vpceArn(region(c), ep.Account, ep.ID),
				ResourceAccount: ep.Account, Context: ctx}); err != nil {
				return nil, err
			}
		}
		doomed = append(doomed, ep)
	}
	if err := dryRun(parseParams(c.Params)); err != nil {
		return nil, err
	}
	for _, ep := range doomed {
		if _, err := c.Tx.Delete(directory.KindVpcEndpoint, ep.ID); err != nil {
			return nil, err
		}
	}
	if c.Env.Endpoints != nil {
		for _, ep := range doomed {
			closeListener(c, ep.ID)
		}
	}
	return res, nil
}

// closeListener stops an endpoint's listener. A call deleting the endpoint it came
// through gets its answer first: that listener closes a moment later.
func closeListener(c *service.Call, id string) {
	if c.Endpoint != nil && c.Endpoint.ID == id {
		l := c.Env.Endpoints
		time.AfterFunc(time.Second, func() { l.Close(id) })
		return
	}
	c.Env.Endpoints.Close(id)
}
