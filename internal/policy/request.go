package policy

import (
	"fmt"
	"strings"
)

// CallerKind is what kind of principal makes a request.
type CallerKind uint8

const (
	Anonymous CallerKind = iota
	RootUser
	User
	AssumedRole
	FederatedUser
	ServicePrincipal
	// WebIdentity is an identity provider vouching for a caller (AssumeRoleWithWebIdentity
	// and AssumeRoleWithSAML); Arn holds the provider's ARN or name.
	WebIdentity
)

var callerTypes = [...]string{"Anonymous", "Account", "User", "AssumedRole", "FederatedUser", "Service", "WebIdentity"}

// PrincipalType is the value of aws:PrincipalType for this kind of caller.
func (k CallerKind) PrincipalType() string { return callerTypes[k] }

// Caller is the principal making a request, as policy matching needs it.
type Caller struct {
	Kind      CallerKind
	Partition string
	Account   string // empty for anonymous callers and services
	Arn       string // user, session, root or federated-user ARN; the service name for services
	Name      string // user name, session name or federated-user name
	RoleName  string // assumed roles
	RoleArn   string // assumed roles: the role's ARN, with its path when known
	Parent    string // federated users: the IAM user that called GetFederationToken ("" = the root user)
	// HasBoundary is set when a permissions boundary applies to the caller: AWS then
	// never excludes it from a Deny with NotPrincipal.
	HasBoundary bool
}

// SimulatedSession is the session name of a role named as a principal: the role acts
// through a session, as SimulatePrincipalPolicy decides for a role.
const SimulatedSession = "iamlocal-simulated"

// ParseCaller reads a caller from its ARN, "anonymous" (or "*"), a service principal
// name such as "ec2.amazonaws.com", or an account id (its root user). A role ARN
// stands for a session of the role (named SimulatedSession), with the role's ARN,
// path included, as aws:PrincipalArn.
func ParseCaller(s string) (Caller, error) {
	if s == "anonymous" || s == "*" {
		return Caller{Kind: Anonymous, Arn: "anonymous"}, nil
	}
	if isAccountID(s) {
		return Caller{Kind: RootUser, Partition: "aws", Account: s, Arn: "arn:aws:iam::" + s + ":root"}, nil
	}
	if !strings.HasPrefix(s, "arn:") {
		if isServiceName(s) {
			return Caller{Kind: ServicePrincipal, Arn: s, Name: s}, nil
		}
		return Caller{}, fmt.Errorf("%q is not a principal ARN, a service principal or \"anonymous\"", s)
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[3] != "" || !isAccountID(parts[4]) {
		return Caller{}, fmt.Errorf("%q is not a principal ARN: want arn:aws:iam::ACCOUNT:user/NAME, arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, arn:aws:iam::ACCOUNT:root or arn:aws:sts::ACCOUNT:federated-user/NAME", s)
	}
	c := Caller{Partition: parts[1], Account: parts[4], Arn: s}
	svc, res := parts[2], parts[5]
	switch {
	case svc == "iam" && res == "root":
		c.Kind = RootUser
	case svc == "iam" && strings.HasPrefix(res, "user/") && len(res) > 5 && !strings.HasSuffix(res, "/"):
		c.Kind, c.Name = User, res[strings.LastIndexByte(res, '/')+1:]
	case svc == "sts" && strings.HasPrefix(res, "assumed-role/"):
		rs := strings.Split(res[len("assumed-role/"):], "/")
		if len(rs) != 2 || rs[0] == "" || rs[1] == "" {
			return Caller{}, fmt.Errorf("%q: an assumed-role ARN is arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION", s)
		}
		c.Kind, c.RoleName, c.Name = AssumedRole, rs[0], rs[1]
		c.RoleArn = "arn:" + c.Partition + ":iam::" + c.Account + ":role/" + rs[0]
	case svc == "sts" && strings.HasPrefix(res, "federated-user/") && len(res) > len("federated-user/"):
		c.Kind, c.Name = FederatedUser, res[len("federated-user/"):]
	case svc == "iam" && strings.HasPrefix(res, "role/") && len(res) > 5 && !strings.HasSuffix(res, "/"):
		c.Kind, c.RoleName, c.Name, c.RoleArn = AssumedRole, res[strings.LastIndexByte(res, '/')+1:], SimulatedSession, s
		c.Arn = "arn:" + c.Partition + ":sts::" + c.Account + ":assumed-role/" + c.RoleName + "/" + SimulatedSession
	default:
		return Caller{}, fmt.Errorf("%q is not a principal that can make requests (user, assumed-role session, root or federated user)", s)
	}
	return c, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isServiceName(s string) bool {
	if !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Context holds a request's context keys, lower-cased, each with one or more values.
type Context map[string][]string

// Set stores a key's values; key names are case-insensitive.
func (c Context) Set(key string, values ...string) { c[strings.ToLower(key)] = values }

// Request is one request as policies see it. Fill the exported fields, then call
// Prepare once; after that, matching reads it without allocating.
type Request struct {
	Caller          Caller
	Action          string
	Resource        string
	ResourceAccount string
	Context         Context

	action   string // Action, lower-cased
	resStart int    // offset of the resource part of Resource, -1 when not an ARN
	derived  []keyValues
	scratch  []string // resolved variable values, reused
	missing  []string // context keys read but absent, in the policy's spelling
}

// ActionIs reports whether the request's action is lower (given in lower case).
// Prepare must have been called.
func (r *Request) ActionIs(lower string) bool { return r.action == lower }

// ResetMissing forgets the missing context keys recorded so far.
func (r *Request) ResetMissing() { r.missing = r.missing[:0] }

// MissingKeys returns the context keys that matching read but the request lacked,
// each once, in the spelling of the first policy that read it.
func (r *Request) MissingKeys() []string { return r.missing }

func (r *Request) noteMissing(key string) {
	for _, k := range r.missing {
		if strings.EqualFold(k, key) {
			return
		}
	}
	r.missing = append(r.missing, key)
}

type keyValues struct {
	key    string
	values []string
}

// Prepare computes what matching derives from the request: the context keys that
// follow from the caller, and where the resource ARN's resource part begins.
func (r *Request) Prepare() {
	r.action = strings.ToLower(r.Action)
	r.resStart = arnResourceStart(r.Resource)
	c := &r.Caller
	r.derived = r.derived[:0]
	add := func(key, value string) {
		if value != "" {
			r.derived = append(r.derived, keyValues{key, []string{value}})
		}
	}
	switch c.Kind {
	case AssumedRole:
		add("aws:principalarn", c.RoleArn)
	case ServicePrincipal, Anonymous, WebIdentity:
	default:
		add("aws:principalarn", c.Arn)
	}
	add("aws:principalaccount", c.Account)
	if c.Kind != ServicePrincipal && c.Kind != WebIdentity {
		add("aws:principaltype", c.Kind.PrincipalType())
	}
	switch c.Kind {
	case User:
		add("aws:username", c.Name)
	case RootUser:
		add("aws:userid", c.Account)
	case FederatedUser:
		add("aws:userid", c.Account+":"+c.Name)
	case Anonymous:
		add("aws:userid", "anonymous")
	}
	if c.Kind == ServicePrincipal {
		add("aws:principalisawsservice", "true")
		add("aws:principalservicename", c.Arn)
	} else {
		add("aws:principalisawsservice", "false")
	}
	add("aws:resourceaccount", r.ResourceAccount)
}

// Lookup returns the values of a context key given in lower case: the request's own,
// else one derived from the caller.
func (r *Request) Lookup(key string) ([]string, bool) {
	if v, ok := r.Context[key]; ok {
		return v, true
	}
	for i := range r.derived {
		if r.derived[i].key == key {
			return r.derived[i].values, true
		}
	}
	return nil, false
}

// resolve looks up the variables among toks and returns their values indexed like
// toks, or false when one is unresolved (absent or multi-valued, without default).
func (r *Request) resolve(toks []token) ([]string, bool) {
	if cap(r.scratch) < len(toks) {
		r.scratch = make([]string, len(toks))
	}
	vals := r.scratch[:len(toks)]
	for i, t := range toks {
		if t.kind != tVar {
			continue
		}
		v, ok := r.Lookup(t.key)
		switch {
		case ok && len(v) == 1:
			vals[i] = v[0]
		case t.def:
			vals[i] = t.lit
		default:
			if !ok {
				r.noteMissing(t.name)
			}
			return nil, false
		}
	}
	return vals, true
}

// OwnerAccount is the account that owns the resource an ARN names, as a request's
// ResourceAccount: the ARN's account field, or "" when it has none (S3 buckets and
// objects) or names AWS itself (arn:aws:iam::aws:policy/… is readable from every
// account as the caller's own, with no resource policy).
func OwnerAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[4] != "aws" {
		return parts[4]
	}
	return ""
}
