// Package authz is the decision engine: given a request and the policy layers that
// apply to it, it decides allowed, explicitDeny or implicitDeny following AWS's policy
// evaluation logic, and records why. It does no I/O; every allow or deny in iamlocal
// is one call to Decide.
package authz

import (
	"github.com/iamlocal/iamlocal/internal/awsdata"
	"strings"

	"github.com/iamlocal/iamlocal/internal/policy"
)

// Layer is a kind of policy that takes part in a decision.
type Layer uint8

const (
	SCP Layer = iota
	RCP
	Resource
	Identity
	PermissionsBoundary
	Session
	Endpoint
	// AWSOwned is no policy but AWS itself, refusing a change to a resource only AWS
	// may change (Protected); the offline doors report it, the API doors answer with
	// the service's own error instead.
	AWSOwned
	numLayers
)

var layerNames = [...]string{"scp", "rcp", "resource", "identity", "permissionsBoundary", "session", "endpoint", "aws"}

func (l Layer) String() string { return layerNames[l] }

// ParseLayer is the inverse of Layer.String.
func ParseLayer(s string) (Layer, bool) {
	for i, n := range layerNames {
		if n == s {
			return Layer(i), true
		}
	}
	return 0, false
}

// Layers is a set of layers.
type Layers uint16

func (s Layers) Has(l Layer) bool { return s&(1<<l) != 0 }

func (s *Layers) add(l Layer) { *s |= 1 << l }

// List returns the layers in evaluation order.
func (s Layers) List() []Layer {
	var out []Layer
	for l := Layer(0); l < numLayers; l++ {
		if s.Has(l) {
			out = append(out, l)
		}
	}
	return out
}

// Outcome is the result of a decision.
type Outcome uint8

const (
	ImplicitDeny Outcome = iota
	ExplicitDeny
	Allowed
)

var outcomeNames = [...]string{"implicitDeny", "explicitDeny", "allowed"}

func (o Outcome) String() string { return outcomeNames[o] }

// ResourcePolicyKind says how the resource-based policy combines with the caller's.
type ResourcePolicyKind uint8

const (
	// AutoKind is TrustPolicy for sts:AssumeRole* on an IAM role, else ResourcePolicy.
	AutoKind ResourcePolicyKind = iota
	ResourcePolicy
	// TrustPolicy and KeyPolicy must allow the caller themselves, even in the same account.
	TrustPolicy
	KeyPolicy
)

// Input is every policy that applies to one request.
type Input struct {
	Identity           []*policy.Policy
	Boundary           *policy.Policy
	Session            []*policy.Policy
	Resource           *policy.Policy
	ResourceKind       ResourcePolicyKind
	Endpoint           *policy.Policy     // set when the request came through a VPC endpoint
	SCPs               [][]*policy.Policy // principal's account, root level first; nil outside an organization
	RCPs               [][]*policy.Policy // resource's account, root level first; nil outside an organization
	ManagementAccount  bool               // the principal's account is the management account
	ResourceManagement bool               // the resource's account is the management account
	ServiceLinkedRole  bool
}

// Matched is a statement that applied to the request.
type Matched struct {
	Layer     Layer
	Level     int // SCP and RCP level, 0 = root
	Policy    int
	Statement int
	Sid       string
	Effect    policy.Effect
	Principal policy.PrincipalMatch // resource-side policies: how the caller was named
}

// Decision is the outcome of a request with its reasons. Reuse one Decision across
// calls to Decide to avoid allocating.
type Decision struct {
	Outcome   Outcome
	BlockedBy Layers
	Matched   []Matched
	Missing   []string // context keys conditions read that the request lacked
	Protected string   // why AWS refuses the request whatever the policies say (Evaluate)
}

// Allowed reports whether the request is allowed.
func (d *Decision) Allowed() bool { return d.Outcome == Allowed }

// AuthorizedResource is the resource AWS authorizes a request on: "*" for an action
// without resource-level permissions (the service authorization reference lists no
// resource type for it), whatever resource the request names — only statements whose
// Resource matches "*" apply to it. changed reports a resource replaced so.
func AuthorizedResource(action, resource string) (authorized string, changed bool) {
	if supported, known := awsdata.ResourceLevel(action); known && !supported && resource != "*" {
		return "*", true
	}
	return resource, false
}

// RCPCovers reports whether RCPs govern an action: its service is one of those AWS
// lists as supporting RCPs (S3, STS, SQS, Secrets Manager and KMS at launch; the
// service authorization reference's list, internal/awsdata).
func RCPCovers(action string) bool { return rcpCovers(action) }

func rcpCovers(action string) bool {
	prefix, _, ok := strings.Cut(action, ":")
	return ok && awsdata.RCPService(prefix)
}

// IsTrustRequest reports whether a request's resource policy is a role's trust policy:
// an STS action (AssumeRole*, TagSession, SetSourceIdentity…) on an IAM role.
func IsTrustRequest(action, resource string) bool {
	return len(action) > 4 && strings.EqualFold(action[:4], "sts:") && isRoleArn(resource)
}

func isRoleArn(s string) bool {
	start := strings.Index(s, ":iam::")
	return strings.HasPrefix(s, "arn:") && start > 0 && strings.Contains(s[start:], ":role/")
}

// ResourceKindFor is how a resource policy on resource combines for action when no
// one says: a role's trust policy for an STS action on an IAM role (IsTrustRequest),
// a key policy on a KMS key (KMS: "Unless the key policy explicitly allows it, you
// cannot use IAM policies to allow access to a KMS key"), else a resource-based
// policy. `iamlocal eval` without resourcePolicyType and the simulators' ResourcePolicy,
// "treated as if it had this policy attached" to each resource, both use it.
func ResourceKindFor(action, resource string) ResourcePolicyKind {
	switch {
	case IsTrustRequest(action, resource):
		return TrustPolicy
	case isKMSKeyArn(resource):
		return KeyPolicy
	}
	return ResourcePolicy
}

// PolicyKind is the document kind a resource policy of kind k is compiled as.
func (k ResourcePolicyKind) PolicyKind() policy.Kind {
	if k == TrustPolicy {
		return policy.Trust
	}
	return policy.Resource
}

func isKMSKeyArn(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "kms" && strings.HasPrefix(parts[5], "key/")
}
