package apply

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
)

// Names and patterns of IAM, Organizations and S3.
var (
	namePattern       = regexp.MustCompile(`^[\w+=,.@-]+$`)
	policyRefPattern  = regexp.MustCompile(`^[\w+=,.@/-]+$`)
	iamPathPattern    = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
	bucketPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	accountIDPattern  = regexp.MustCompile(`^\d{12}$`)
	ouIDPattern       = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	emailPattern      = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	printableASCII    = regexp.MustCompile(`^[\x20-\x7E]+$`)
	roleNameForCreate = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// Names the file's variables reserve.
const (
	managementName = "management"
	selfName       = "self"
	defaultRole    = "OrganizationAccountAccessRole"
)

// AWS managed SCP and RCP, which the file may list (for their targets) without a document.
var awsManagedOrgPolicies = map[string]string{"FullAWSAccess": "SCP", "RCPFullAWSAccess": "RCP"}

func (w *World) validate() error {
	c := &errs{file: w.File}
	w.checkOUs(c, w.OUs, "", Pos{Path: "ous"}, 1)
	names, emails := map[string]bool{}, map[string]bool{}
	for _, a := range w.Accounts {
		switch {
		case a.Name == "":
			c.add(a.Pos.at(".name", 0), "required")
		case a.Name == managementName || a.Name == selfName:
			c.add(a.Pos.at(".name", 0), "%q is reserved (it names the management account, or the account itself, in ${account:…})", a.Name)
		case len(a.Name) > 50 || !printableASCII.MatchString(a.Name):
			c.add(a.Pos.at(".name", 0), "an account name is 1 to 50 printable ASCII characters")
		case names[strings.ToLower(a.Name)]:
			c.add(a.Pos.at(".name", 0), "account %q is declared twice", a.Name)
		}
		names[strings.ToLower(a.Name)] = true
		switch {
		case a.Email == "":
			c.add(a.Pos.at(".email", 0), "required")
		case len(a.Email) < 6 || len(a.Email) > 64 || !emailPattern.MatchString(a.Email):
			c.add(a.Pos.at(".email", 0), "%q is not an email address (6 to 64 characters, x@y.z)", a.Email)
		case emails[strings.ToLower(a.Email)]:
			c.add(a.Pos.at(".email", 0), "email %q is used by two accounts", a.Email)
		}
		emails[strings.ToLower(a.Email)] = true
		if a.OU.Value != "" && w.ou(a.OU.Value) == nil {
			c.add(a.OU.Pos, "no OU %q is declared under ous: (write the path from the root, e.g. workloads/prod)", a.OU.Value)
		}
		if a.Role != "" && !roleNameForCreate.MatchString(a.Role) {
			c.add(a.Pos.at(".role", 0), "%q is not a role name", a.Role)
		}
	}
	profiles := map[string]Pos{}
	if w.Management != nil {
		w.checkResources(c, &w.Management.Resources, w.Management.Pos, managementName, profiles)
	}
	for _, a := range w.Accounts {
		w.checkResources(c, &a.Resources, a.Pos, a.Name, profiles)
	}
	w.checkOrgPolicies(c, w.SCPs, Pos{Path: "scps"}, policy.SCP, "FullAWSAccess")
	w.checkOrgPolicies(c, w.RCPs, Pos{Path: "rcps"}, policy.RCP, "RCPFullAWSAccess")
	return c.err()
}

func (w *World) checkOUs(c *errs, ous []*OU, parent string, p Pos, depth int) {
	seen := map[string]bool{}
	for _, ou := range ous {
		switch {
		case ou.Name == "":
			c.add(ou.Pos.at(".name", 0), "required")
			continue
		case strings.Contains(ou.Name, "/") || len(ou.Name) > 128:
			c.add(ou.Pos.at(".name", 0), "an OU name is 1 to 128 characters without /")
		case seen[ou.Name]:
			c.add(ou.Pos.at(".name", 0), "OU %q is declared twice under the same parent", ou.Name)
		}
		if depth > 5 {
			c.add(ou.Pos, "OUs nest at most five levels below the root")
		}
		seen[ou.Name] = true
		ou.path = ou.Name
		if parent != "" {
			ou.path = parent + "/" + ou.Name
		}
		w.checkOUs(c, ou.Children, ou.path, ou.Pos.at(".children", 0), depth+1)
	}
}

// ou finds a declared OU by path.
func (w *World) ou(path string) *OU {
	path = strings.Trim(path, "/")
	var find func([]*OU) *OU
	find = func(ous []*OU) *OU {
		for _, ou := range ous {
			if ou.path == path {
				return ou
			}
			if f := find(ou.Children); f != nil {
				return f
			}
		}
		return nil
	}
	return find(w.OUs)
}

// account finds a declared member account by name.
func (w *World) account(name string) *Account {
	for _, a := range w.Accounts {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// allOUs lists the declared OUs, parents before children.
func (w *World) allOUs() []*OU {
	var out []*OU
	var walk func([]*OU)
	walk = func(ous []*OU) {
		for _, ou := range ous {
			out = append(out, ou)
			walk(ou.Children)
		}
	}
	walk(w.OUs)
	return out
}

// checkVars resolves the file's variables to stand-ins, to validate documents and
// names before anything exists. scope is the account whose resources are checked.
func (w *World) checkVars(scope string) vars {
	return func(kind, arg string) (string, bool) {
		switch kind {
		case "account":
			if arg == managementName || (arg == selfName && scope != "") {
				return "100000000000", true
			}
			for i, a := range w.Accounts {
				if a.Name == arg {
					return fmt.Sprintf("2%011d", i), true
				}
			}
		case "ou":
			if w.ou(arg) != nil {
				return "ou-0000-00000000", true
			}
		case "org":
			switch arg {
			case "id":
				return "o-0000000000", true
			case "root":
				return "r-0000", true
			}
		}
		return "", false
	}
}

const varsHelp = "${account:NAME} (an account of the file, management or self), ${ou:PATH}, ${org:id} or ${org:root}"

// checkDoc validates a document of kind with stand-ins for the file's variables.
func (w *World) checkDoc(c *errs, doc *Doc, scope string, kind policy.Kind) {
	if doc == nil || doc.Node == nil {
		return
	}
	bad := false
	text, err := doc.render(w.checkVars(scope), func(ref string) {
		c.add(doc.Pos, "unknown variable %s: write %s", ref, varsHelp)
		bad = true
	})
	if err != nil {
		c.add(doc.Pos, "%v", err)
		return
	}
	if bad {
		return
	}
	doc.check(c, text, kind)
}

// checkString validates the variables in a name or ARN and returns it expanded with
// stand-ins.
func (w *World) checkString(c *errs, s string, p Pos, scope string) string {
	return expand(s, w.checkVars(scope), func(ref string) {
		c.add(p, "unknown variable %s: write %s", ref, varsHelp)
	})
}

func (w *World) checkResources(c *errs, r *Resources, p Pos, scope string, profiles map[string]Pos) {
	w.checkOIDCProviders(c, r) // oidc.go
	w.checkSAMLProviders(c, r) // saml.go
	seen := map[string]bool{}
	for _, mp := range r.Policies {
		fp := mp.Pos
		w.checkName(c, mp.Name, fp, "policy", 128, seen)
		w.checkPath(c, mp.Path, fp)
		if mp.Document == nil {
			c.add(fp.at(".document", 0), "required")
		}
		w.checkDoc(c, mp.Document, scope, policy.Identity)
	}
	checkEntity := func(e *Entity, fp Pos) {
		w.checkPath(c, e.Path, fp)
		names := map[string]bool{}
		for _, nd := range e.InlinePolicies {
			if !namePattern.MatchString(nd.Name) || len(nd.Name) > 128 {
				c.add(nd.Doc.Pos, "%q is not a policy name (1 to 128 of A-Z a-z 0-9 +=,.@_-)", nd.Name)
			}
			if names[nd.Name] {
				c.add(nd.Doc.Pos, "inline policy %q is given twice", nd.Name)
			}
			names[nd.Name] = true
			w.checkDoc(c, nd.Doc, scope, policy.Identity)
		}
		arns := map[string]bool{}
		for _, ref := range e.ManagedPolicies {
			w.checkPolicyRef(c, ref, scope)
			if arns[ref.Value] {
				c.add(ref.Pos, "%q is listed twice", ref.Value)
			}
			arns[ref.Value] = true
		}
		if len(e.ManagedPolicies) > 10 {
			c.add(fp.at(".managedPolicies", 0), "at most 10 managed policies may be attached")
		}
	}
	seen = map[string]bool{}
	for _, u := range r.Users {
		fp := u.Pos
		w.checkName(c, u.Name, fp, "user", 64, seen)
		checkEntity(&u.Entity, fp)
		if u.PermissionsBoundary.Value != "" {
			w.checkPolicyRef(c, u.PermissionsBoundary, scope)
		}
		if u.AccessKey.wanted() {
			prof := u.profile(scope)
			if !namePattern.MatchString(prof) {
				c.add(u.AccessKey.Pos, "%q is not a usable profile name", prof)
			}
			if prev, dup := profiles[prof]; dup {
				c.add(u.AccessKey.Pos, "profile %q is also written for %s (line %d): set accessKey.profile", prof, prev.Path, prev.Line)
			}
			profiles[prof] = fp
		}
	}
	seen = map[string]bool{}
	for _, g := range r.Groups {
		fp := g.Pos
		w.checkName(c, g.Name, fp, "group", 128, seen)
		checkEntity(&g.Entity, fp)
		members := map[string]bool{}
		for _, m := range g.Members {
			if !namePattern.MatchString(m.Value) || len(m.Value) > 64 {
				c.add(m.Pos, "%q is not a user name", m.Value)
			}
			if members[m.Value] {
				c.add(m.Pos, "%q is listed twice", m.Value)
			}
			members[m.Value] = true
		}
	}
	seen = map[string]bool{}
	for _, ro := range r.Roles {
		fp := ro.Pos
		w.checkName(c, ro.Name, fp, "role", 64, seen)
		checkEntity(&ro.Entity, fp)
		if ro.TrustPolicy == nil {
			c.add(fp.at(".trustPolicy", 0), "required")
		}
		w.checkDoc(c, ro.TrustPolicy, scope, policy.Trust)
		if ro.PermissionsBoundary.Value != "" {
			w.checkPolicyRef(c, ro.PermissionsBoundary, scope)
		}
		if d := ro.MaxSessionDuration; d != 0 && (d < 3600 || d > 43200) {
			c.add(fp.at(".maxSessionDuration", 0), "must be 3600 to 43200 seconds")
		}
		if len(ro.Description) > 1000 {
			c.add(fp.at(".description", 0), "at most 1000 characters")
		}
	}
	seen = map[string]bool{}
	for _, b := range r.Buckets {
		fp := b.Pos
		if b.Name == "" {
			c.add(fp.at(".name", 0), "required")
			continue
		}
		name := w.checkString(c, b.Name, fp.at(".name", 0), scope)
		if !bucketPattern.MatchString(name) || strings.Contains(name, "..") {
			c.add(fp.at(".name", 0), "%q is not a bucket name (3 to 63 of a-z 0-9 . -, starting and ending with a letter or digit)", b.Name)
		}
		if seen[b.Name] {
			c.add(fp.at(".name", 0), "bucket %q is declared twice", b.Name)
		}
		seen[b.Name] = true
		w.checkDoc(c, b.Policy, scope, policy.Resource)
	}
}

func (w *World) checkName(c *errs, name string, p Pos, what string, max int, seen map[string]bool) {
	np := p.at(".name", 0)
	switch {
	case name == "":
		c.add(np, "required")
	case len(name) > max || !namePattern.MatchString(name):
		c.add(np, "%q is not a %s name (1 to %d of A-Z a-z 0-9 +=,.@_-)", name, what, max)
	case seen[strings.ToLower(name)]:
		// IAM names are unique without regard to case.
		c.add(np, "%s %q is declared twice in this account", what, name)
	}
	seen[strings.ToLower(name)] = true
}

func (w *World) checkPath(c *errs, path string, p Pos) {
	if path != "" && (len(path) > 512 || !iamPathPattern.MatchString(path)) {
		c.add(p.at(".path", 0), "%q is not an IAM path (it starts and ends with /)", path)
	}
}

// checkPolicyRef validates a managed policy reference: an ARN, the name of a policy
// declared in the same account, or the name of an AWS managed policy.
func (w *World) checkPolicyRef(c *errs, ref Ref, scope string) {
	v := w.checkString(c, ref.Value, ref.Pos, scope)
	switch {
	case v == "":
		c.add(ref.Pos, "empty policy name")
	case strings.HasPrefix(v, "arn:"):
		if !strings.Contains(v, ":policy/") {
			c.add(ref.Pos, "%q is not a managed policy ARN", ref.Value)
		}
	case !policyRefPattern.MatchString(v):
		c.add(ref.Pos, "%q is not a policy name or ARN", ref.Value)
	}
}

func (w *World) checkOrgPolicies(c *errs, list []*OrgPolicy, p Pos, kind policy.Kind, managed string) {
	seen := map[string]bool{}
	for _, op := range list {
		fp := op.Pos
		switch {
		case op.Name == "":
			c.add(fp.at(".name", 0), "required")
		case len(op.Name) > 128:
			c.add(fp.at(".name", 0), "at most 128 characters")
		case seen[op.Name]:
			c.add(fp.at(".name", 0), "policy %q is declared twice", op.Name)
		}
		seen[op.Name] = true
		if op.Name == managed {
			if op.Document != nil {
				c.add(fp.at(".document", op.Document.Pos.Line), "%s is AWS managed: list only its targets", managed)
			}
			if op.Description != "" {
				c.add(fp.at(".description", 0), "%s is AWS managed: its description cannot be changed", managed)
			}
		} else if op.Document == nil {
			c.add(fp.at(".document", 0), "required")
		}
		w.checkDoc(c, op.Document, "", kind)
		if t := op.Targets; t != nil {
			for _, ref := range t.OUs {
				if w.ou(ref.Value) == nil && !ouIDPattern.MatchString(ref.Value) {
					c.add(ref.Pos, "no OU %q is declared under ous: (write its path, e.g. workloads/prod, or an OU id)", ref.Value)
				}
			}
			for _, ref := range t.Accounts {
				if ref.Value != managementName && w.account(ref.Value) == nil && !accountIDPattern.MatchString(ref.Value) {
					c.add(ref.Pos, "no account %q is declared under accounts: (write its name, management, or a 12-digit id)", ref.Value)
				}
			}
		}
	}
}

// profile is the section of the credentials file a user's new key is written to.
func (u *User) profile(scope string) string {
	if u.AccessKey != nil && u.AccessKey.Profile != "" {
		return u.AccessKey.Profile
	}
	if scope == managementName {
		return u.Name
	}
	return scope + "-" + u.Name
}

// wantsKeys reports whether any user asks for an access key, and the first such.
func (w *World) wantsKeys() (bool, Pos) {
	check := func(r *Resources) (bool, Pos) {
		for _, u := range r.Users {
			if u.AccessKey.wanted() {
				return true, u.AccessKey.Pos
			}
		}
		return false, Pos{}
	}
	if w.Management != nil {
		if ok, p := check(&w.Management.Resources); ok {
			return ok, p
		}
	}
	for _, a := range w.Accounts {
		if ok, p := check(&a.Resources); ok {
			return ok, p
		}
	}
	return false, Pos{}
}

// usesOrganizations reports whether the file says anything about the organization
// (its OUs, accounts or policies, or its id through ${org:…}).
func (w *World) usesOrganizations() bool {
	return len(w.OUs)+len(w.Accounts)+len(w.SCPs)+len(w.RCPs) > 0 || w.orgVars
}
