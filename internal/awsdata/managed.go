package awsdata

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// managed.zip is AWS's managed-policy catalogue (gen/managed.go writes it): index.json
// with every policy and its default version's document, and versions/NAME.json with
// the documents of the policy's other versions.
//
//go:embed managed.zip
var managedZip []byte

// ManagedArnPrefix starts the ARN of every AWS managed policy; the policy's path and
// name follow.
const ManagedArnPrefix = "arn:aws:iam::aws:policy/"

// Policy is an AWS managed policy as AWS publishes it. Values are shared by every
// caller: read them, never modify them.
type Policy struct {
	Name           string          `json:"name"`
	Path           string          `json:"path"` // /, /service-role/, /aws-service-role/, /job-function/…
	Arn            string          `json:"arn"`
	ID             string          `json:"id"` // ANPA…, derived from the name (the package has none)
	CreateDate     time.Time       `json:"created"`
	UpdateDate     time.Time       `json:"updated"`
	DefaultVersion string          `json:"default"`
	Document       string          `json:"document"` // the default version's, minified JSON
	Versions       []PolicyVersion `json:"versions"` // oldest first; the package's history may skip some
}

// PolicyVersion is one version of an AWS managed policy.
type PolicyVersion struct {
	ID         string    `json:"id"`
	CreateDate time.Time `json:"created"`
}

type managedFile struct {
	Package  string    `json:"package"`
	Policies []*Policy `json:"policies"` // by name
}

// catalogue is the decoded index with its lookups, and the archive for the documents
// of older versions, which are inflated only when asked for.
type catalogue struct {
	managedFile
	byName, byArn map[string]*Policy
	older         map[string]*zip.File // by policy name
}

var (
	managedOnce sync.Once
	managed     *catalogue
)

// loadManaged decodes the catalogue once. Like sar.json.gz it is generated and
// checked in tests, so a failure here is a broken build, not an input error.
func loadManaged() *catalogue {
	managedOnce.Do(func() {
		c, err := decodeManaged()
		if err != nil {
			panic("awsdata: managed.zip: " + err.Error())
		}
		managed = c
	})
	return managed
}

func decodeManaged() (*catalogue, error) {
	zr, err := zip.NewReader(bytes.NewReader(managedZip), int64(len(managedZip)))
	if err != nil {
		return nil, err
	}
	c := &catalogue{older: map[string]*zip.File{}}
	for _, f := range zr.File {
		if name, ok := strings.CutPrefix(f.Name, "versions/"); ok {
			c.older[strings.TrimSuffix(name, ".json")] = f
		} else if f.Name == "index.json" {
			if err := readJSON(f, &c.managedFile); err != nil {
				return nil, err
			}
		}
	}
	c.byName = make(map[string]*Policy, len(c.Policies))
	c.byArn = make(map[string]*Policy, len(c.Policies))
	for _, p := range c.Policies {
		c.byName[p.Name], c.byArn[p.Arn] = p, p
	}
	return c, nil
}

func readJSON(f *zip.File, v any) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := json.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return nil
}

// ManagedSource names the package and version the catalogue was generated from.
func ManagedSource() string { return loadManaged().Package }

// ManagedPolicy finds an AWS managed policy by its ARN
// (arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole) or its name
// (AWSLambdaBasicExecutionRole), exactly as AWS spells them.
func ManagedPolicy(arnOrName string) (*Policy, bool) {
	c := loadManaged()
	if strings.HasPrefix(arnOrName, "arn:") {
		p, ok := c.byArn[arnOrName]
		return p, ok
	}
	p, ok := c.byName[arnOrName]
	return p, ok
}

// ManagedPolicies lists every AWS managed policy, sorted by name.
func ManagedPolicies() []*Policy { return slices.Clone(loadManaged().Policies) }

// Version finds one of the policy's versions.
func (p *Policy) Version(id string) (PolicyVersion, bool) {
	for _, v := range p.Versions {
		if v.ID == id {
			return v, true
		}
	}
	return PolicyVersion{}, false
}

// VersionDocument returns the document of one of the policy's versions. Versions
// other than the default are read from the archive on each call: they are asked for
// rarely (GetPolicyVersion of an old version, account authorization details), and
// keeping them all decoded would cost the ~35 MB the archive inflates to.
func (p *Policy) VersionDocument(id string) (string, bool) {
	if id == p.DefaultVersion {
		return p.Document, true
	}
	if _, ok := p.Version(id); !ok {
		return "", false
	}
	doc, ok := p.olderDocuments()[id]
	return doc, ok
}

// Documents returns the documents of all the policy's versions by version id, with
// one read of the archive (ReadOnlyAccess's history inflates to ~10 MB, so reading it
// once per version would be quadratic).
func (p *Policy) Documents() map[string]string {
	docs := p.olderDocuments()
	docs[p.DefaultVersion] = p.Document
	return docs
}

func (p *Policy) olderDocuments() map[string]string {
	docs := map[string]string{}
	if f, ok := loadManaged().older[p.Name]; ok {
		if err := readJSON(f, &docs); err != nil {
			panic("awsdata: managed.zip: " + err.Error())
		}
	}
	return docs
}
