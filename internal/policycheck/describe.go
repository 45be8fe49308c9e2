package policycheck

import (
	"fmt"
	"strings"

	"github.com/iamlocal/iamlocal/internal/awsdata"
)

// ActionInfo is what AWS's service authorization reference says of a request's
// action: its service, its access level, its resource types, and which of them the
// request's resource is. For explain and doctor.
type ActionInfo struct {
	Action        string   `json:"action"`                 // as AWS writes it: s3:GetObject
	Service       string   `json:"service"`                // Amazon S3
	AccessLevel   string   `json:"accessLevel"`            // List, Read, Write, Permissions management, Tagging
	ResourceTypes []string `json:"resourceTypes"`          // the action's, "*" alone when it has no resource-level permissions
	ResourceType  string   `json:"resourceType,omitempty"` // the type the resource is, or "*"; empty when it is none of them
	ARNFormat     string   `json:"arnFormat,omitempty"`    // that type's ARN format
	anyResource   bool     // the request names "*"
}

// DescribeAction looks an action up and finds the resource type of the request's
// resource among the action's: the first whose ARN format the resource matches, or
// "*" for an action without resource-level permissions. ok is false for an action AWS
// does not list.
func DescribeAction(action, resource string) (ActionInfo, bool) {
	a, ok := awsdata.LookupAction(action)
	if !ok {
		return ActionInfo{}, false
	}
	svc, _, _ := strings.Cut(action, ":")
	svc = strings.ToLower(svc)
	name, _ := awsdata.Service(svc)
	info := ActionInfo{Action: svc + ":" + a.Name, Service: name, AccessLevel: a.Access}
	if len(a.Resources) == 0 {
		info.ResourceTypes, info.ResourceType = []string{"*"}, "*"
		return info, true
	}
	var types []resourceType
	for _, r := range a.Resources {
		info.ResourceTypes = append(info.ResourceTypes, r.Type)
		if f, ok := awsdata.ARNFormat(svc, r.Type); ok {
			types = append(types, resourceType{svc, r.Type, f})
		}
	}
	if resource == "*" {
		info.anyResource = true
		return info, true
	}
	if t, ok := resourceTypeOf(types, resource); ok {
		info.ResourceType, info.ARNFormat = t.name, t.format
	}
	return info, true
}

// String is the line explain and doctor print: "s3:GetObject (Amazon S3): access
// level Read; resource type object, arn:${Partition}:s3:::${BucketName}/${ObjectName}".
func (i ActionInfo) String() string {
	s := fmt.Sprintf("%s (%s): access level %s; ", i.Action, i.Service, i.AccessLevel)
	switch {
	case i.ResourceType == "*":
		return s + "resource type * (no resource-level permissions: authorized on \"*\")"
	case i.ResourceType != "":
		return s + fmt.Sprintf("resource type %s, %s", i.ResourceType, i.ARNFormat)
	case i.anyResource:
		return s + fmt.Sprintf("resource types %s (the request names \"*\")", strings.Join(i.ResourceTypes, ", "))
	}
	return s + fmt.Sprintf("the resource is none of its resource types (%s)", strings.Join(i.ResourceTypes, ", "))
}
