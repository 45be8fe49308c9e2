// Package explain gathers, through AWS's public read APIs, every policy layer that
// applies to a request — identity policies of a user (with its groups) or role,
// permissions boundary, session policies, the resource's policy, SCP and RCP levels,
// a VPC endpoint policy — and runs the same engine the server runs (authz.Decide) on
// them, locally. Because it reads only standard APIs it works against iamlocal and
// against AWS itself. On top of one gathered request it builds the decision tree of
// `iamlocal explain`, the precondition checks of `iamlocal doctor` and, across every
// account of an organization, the assume-role graph of `iamlocal graph`.
//
// The package reaches AWS through Source, a small interface; AWS implements it with
// aws-sdk-go-v2 clients, acting in other accounts through a role, and tests may use
// fakes.
package explain

import (
	"context"
	"errors"
)

// ErrNotFound marks a user, role, bucket or endpoint that does not exist. Errors of
// a Source wrap it (and the service's own error, for its code).
var ErrNotFound = errors.New("not found")

// Identity is the caller of the credentials in use (sts:GetCallerIdentity).
type Identity struct {
	Arn, Account, UserID string
}

// Doc is one policy document as IAM or Organizations stores it.
type Doc struct {
	Name string // inline policy name, or the managed/organization policy's name
	ARN  string // managed or organization policy ARN; empty for inline policies
	ID   string // organization policy id (p-…)
	Text string // the JSON document
}

// Tag is an IAM tag.
type Tag struct{ Key, Value string }

// Group is an IAM group a user belongs to, with its policies.
type Group struct {
	Name, Arn string
	Inline    []Doc
	Attached  []Doc
}

// Entity is an IAM user or role with everything that takes part in its decisions.
type Entity struct {
	Kind               string // "user" or "role"
	Account            string
	Name, Arn, ID      string // ID: AIDA… or AROA…
	Path               string
	Inline             []Doc // sorted by name, as the server evaluates them
	Attached           []Doc
	Groups             []Group // users
	Boundary           *Doc
	Tags               []Tag
	Trust              string // roles: the trust policy
	MaxSessionDuration int32  // roles, seconds
}

// Org is the organization the caller belongs to.
type Org struct {
	ID                string
	ManagementAccount string
	RootID            string
	EnabledTypes      []string // SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY enabled on the root
	// Unreadable, when set, says why the organization's policies cannot be read
	// (a member account without access to the management account).
	Unreadable string
}

// Enabled reports whether a policy type is enabled.
func (o *Org) Enabled(typ string) bool {
	for _, t := range o.EnabledTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// Account is an account of the organization.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// JoinedMethod is CREATED or INVITED: invited accounts have no
	// OrganizationAccountAccessRole unless someone created it.
	JoinedMethod string `json:"joinedMethod,omitempty"`
}

// Target is a node of the organization policies attach to: the root, an OU or an
// account.
type Target struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // "root", "ou" or "account"
	Name string `json:"name,omitempty"`
}

// Details is what GetAccountAuthorizationDetails reports about an account.
type Details struct {
	Account string
	Users   []*Entity
	Roles   []*Entity
}

// Policy types of Organizations.
const (
	SCPType = "SERVICE_CONTROL_POLICY"
	RCPType = "RESOURCE_CONTROL_POLICY"
)

// Source is the read access explain needs. Account-scoped methods read in that
// account (AWS's implementation assumes a role there when it is not the caller's).
type Source interface {
	CallerIdentity(ctx context.Context) (*Identity, error)
	// Organization is nil, without error, when the caller's account is in none.
	Organization(ctx context.Context) (*Org, error)
	// Accounts lists the organization's accounts.
	Accounts(ctx context.Context) ([]Account, error)
	// Parents lists the root and OUs above an account, root first; nil when the
	// account is not a member of the organization.
	Parents(ctx context.Context, account string) ([]Target, error)
	// OrgPolicies lists the policies of a type attached to a target, with content.
	OrgPolicies(ctx context.Context, target, typ string) ([]Doc, error)
	User(ctx context.Context, account, name string) (*Entity, error)
	Role(ctx context.Context, account, name string) (*Entity, error)
	Details(ctx context.Context, account string) (*Details, error)
	// Buckets lists the S3 buckets an account owns.
	Buckets(ctx context.Context, account string) ([]string, error)
	// BucketPolicy is "" when the bucket has no policy.
	BucketPolicy(ctx context.Context, account, bucket string) (string, error)
	// EndpointPolicy is a VPC endpoint's policy document; "" for the default (full access).
	EndpointPolicy(ctx context.Context, account, id string) (string, error)
}
