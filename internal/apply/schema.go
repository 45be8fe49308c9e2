// Package apply creates or updates, idempotently, an organization described in a YAML
// file (docs/apply.md), through the public AWS APIs only: Organizations, IAM, STS and
// S3 with the management account's credentials, and OrganizationAccountAccessRole
// (or the role an account names) to act inside member accounts.
//
// Parse reads and validates the file, with every fault named by file, line and
// field; Run compares the file with what exists and makes each change, or only
// reports it (dry run).
package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// World is the whole file.
type World struct {
	File string `yaml:"-"` // the file's name, for messages
	Dir  string `yaml:"-"` // the directory relative paths in the file start from

	orgVars bool // the file uses ${org:…}

	CredentialsFile string       `yaml:"credentialsFile"`
	OUs             []*OU        `yaml:"ous"`
	Management      *Management  `yaml:"management"`
	Accounts        []*Account   `yaml:"accounts"`
	SCPs            []*OrgPolicy `yaml:"scps"`
	RCPs            []*OrgPolicy `yaml:"rcps"`
}

// OU is an organizational unit and the OUs below it.
type OU struct {
	Pos      Pos
	Name     string `yaml:"name"`
	Children []*OU  `yaml:"children"`

	path string // "workloads/prod"
}

// Resources are the IAM entities and buckets the file declares in one account.
type Resources struct {
	Policies []*ManagedPolicy `yaml:"policies"`
	Users    []*User          `yaml:"users"`
	Groups   []*Group         `yaml:"groups"`
	Roles    []*Role          `yaml:"roles"`
	Buckets  []*Bucket        `yaml:"buckets"`
	// OIDCProviders are the account's IAM OIDC providers (oidc.go).
	OIDCProviders []*OIDCProvider `yaml:"oidcProviders"`
	// SAMLProviders are the account's IAM SAML providers (saml.go).
	SAMLProviders []*SAMLProvider `yaml:"samlProviders"`
}

func (r *Resources) empty() bool {
	return len(r.Policies)+len(r.Users)+len(r.Groups)+len(r.Roles)+len(r.Buckets)+len(r.OIDCProviders)+len(r.SAMLProviders) == 0
}

// Management holds the resources of the management account (the caller's).
type Management struct {
	Pos       Pos
	Resources `yaml:",inline"`
}

// Account is a member account, found by email (or name) or created.
type Account struct {
	Pos       Pos
	Name      string `yaml:"name"`
	Email     string `yaml:"email"`
	OU        Ref    `yaml:"ou"`   // OU path; empty: the root
	Role      string `yaml:"role"` // the role apply assumes there
	Resources `yaml:",inline"`
}

// ManagedPolicy is a customer managed policy.
type ManagedPolicy struct {
	Pos         Pos
	Name        string `yaml:"name"`
	Path        string `yaml:"path"`
	Description string `yaml:"description"`
	Document    *Doc   `yaml:"document"`
}

// Entity is what users, groups and roles share.
type Entity struct {
	Name            string `yaml:"name"`
	Path            string `yaml:"path"`
	InlinePolicies  Inline `yaml:"inlinePolicies"`
	ManagedPolicies []Ref  `yaml:"managedPolicies"`
}

// User is an IAM user.
type User struct {
	Pos                 Pos
	Entity              `yaml:",inline"`
	PermissionsBoundary Ref        `yaml:"permissionsBoundary"`
	AccessKey           *AccessKey `yaml:"accessKey"`
}

// Group is an IAM group and its members.
type Group struct {
	Pos     Pos
	Entity  `yaml:",inline"`
	Members []Ref `yaml:"members"`
}

// Role is an IAM role.
type Role struct {
	Pos                 Pos
	Entity              `yaml:",inline"`
	Description         string `yaml:"description"`
	MaxSessionDuration  int    `yaml:"maxSessionDuration"`
	TrustPolicy         *Doc   `yaml:"trustPolicy"`
	PermissionsBoundary Ref    `yaml:"permissionsBoundary"`
}

// Bucket is an S3 bucket and its policy.
type Bucket struct {
	Pos    Pos
	Name   string `yaml:"name"`
	Policy *Doc   `yaml:"policy"`
}

// OrgPolicy is an SCP or an RCP and the targets it is attached to.
type OrgPolicy struct {
	Pos         Pos
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Document    *Doc     `yaml:"document"`
	Targets     *Targets `yaml:"targets"`
}

// Targets are where an SCP or RCP is attached.
type Targets struct {
	Pos      Pos
	Root     bool  `yaml:"root"`
	OUs      []Ref `yaml:"ous"`
	Accounts []Ref `yaml:"accounts"`
}

// AccessKey asks for a user to have an access key: `accessKey: true`, or a mapping
// with the profile to write it under.
type AccessKey struct {
	Pos     Pos
	Profile string `yaml:"profile"`
}

func (k *AccessKey) decodeNode(d *decoder, n *yaml.Node, p Pos) {
	k.Pos = p
	if b, ok := scalarBool(n); ok {
		if !b {
			k.Pos.Line = -1 // false: no key asked for
		}
		return
	}
	type plain AccessKey
	d.decodeStruct(n, reflectValue((*plain)(k)), p)
}

// wanted reports whether the file asks for a key.
func (k *AccessKey) wanted() bool { return k != nil && k.Pos.Line >= 0 }

// Ref is a name or ARN with its position.
type Ref struct {
	Value string
	Pos   Pos
}

func (r *Ref) decodeNode(d *decoder, n *yaml.Node, p Pos) {
	r.Pos = p
	if isNull(n) {
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.add(p, "want a string, not %s", kindName(n))
		return
	}
	r.Value = n.Value
}

// Inline is an ordered mapping of inline policy names to documents.
type Inline []*NamedDoc

// NamedDoc is one inline policy.
type NamedDoc struct {
	Name string
	Doc  *Doc
}

func (in *Inline) decodeNode(d *decoder, n *yaml.Node, p Pos) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.add(p, "want a mapping of policy names to documents, not %s", describe(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		kp := p.at("."+k.Value, k.Line)
		doc := &Doc{}
		doc.decodeNode(d, resolveAlias(n.Content[i+1]), kp)
		*in = append(*in, &NamedDoc{Name: k.Value, Doc: doc})
	}
}

// Parse reads a file's contents; name is used in messages and its directory for the
// file's relative paths.
func Parse(name string, data []byte) (*World, error) {
	w := &World{File: name, Dir: filepath.Dir(name), orgVars: bytes.Contains(data, []byte("${org:"))}
	d := &decoder{errs{file: name}}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: name, Msg: "the file is empty"}}
		}
		return nil, Errors{yamlError(name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: name, Pos: Pos{Line: extra.Line}, Msg: "only one YAML document is allowed"}}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	d.decode(doc, reflectValue(w), Pos{Line: 1})
	if err := d.err(); err != nil {
		return nil, err
	}
	if err := w.validate(); err != nil {
		return nil, err
	}
	return w, nil
}

// Load reads and validates a file ("-": standard input).
func Load(name string, stdin io.Reader) (*World, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(stdin)
		name = "<stdin>"
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, err
	}
	return Parse(name, data)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		return &Error{File: file, Pos: Pos{Line: line}, Msg: m[2]}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

func sortStrings(s []string) { sort.Strings(s) }
