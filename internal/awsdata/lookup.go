package awsdata

import (
	"maps"
	"sort"
	"strings"
)

// Lookups that walk the service authorization reference as a whole: for checks of a
// policy against AWS's data (internal/policycheck), which need every service's
// condition keys and resource types, not one at a time.

// ServicePrefixes lists every service prefix AWS lists, sorted.
func ServicePrefixes() []string {
	s := load()
	out := make([]string, 0, len(s.Services))
	for p := range s.Services {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// ConditionKeys returns a service's condition keys as AWS writes them
// (aws:RequestTag/${TagKey}, s3:ExistingObjectTag/<key>, s3:prefix) with their types;
// nil for an unknown service. The map is a copy.
func ConditionKeys(prefix string) map[string]string {
	s, ok := load().Services[strings.ToLower(prefix)]
	if !ok {
		return nil
	}
	return maps.Clone(s.Conditions)
}

// ResourceTypes returns a service's resource types with their ARN formats
// (bucket: arn:${Partition}:s3:::${BucketName}); nil for an unknown service. The map
// is a copy.
func ResourceTypes(prefix string) map[string]string {
	s, ok := load().Services[strings.ToLower(prefix)]
	if !ok {
		return nil
	}
	return maps.Clone(s.Resources)
}
