// Package directory is the account and organization model — accounts, users, groups,
// roles, managed and inline policies, access keys, instance profiles, the organization
// with its OUs and policies — stored in internal/store, and the resolution of a caller
// into the policy layers that apply to it.
package directory

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/store"
)

// Object kinds in the store. Keys are "<account>/<lower-case name>" unless noted:
// IAM names are unique without regard to case.
const (
	KindAccount         = "account"         // key: account id
	KindUser            = "user"            //
	KindGroup           = "group"           //
	KindRole            = "role"            //
	KindPolicy          = "policy"          // key: policy ARN
	KindAccessKey       = "accesskey"       // key: access key id
	KindInstanceProfile = "instanceprofile" //
	KindOrganization    = "organization"    // key: "org" (one organization per server)
	KindOU              = "ou"              // key: OU id
	KindOrgPolicy       = "orgpolicy"       // key: policy id
	KindOrgAttachment   = "orgattach"       // key: "<target id>/<policy id>"
	KindCreateStatus    = "createstatus"    // key: "car-…"
	KindHandshake       = "handshake"       // key: "h-…"
	KindServiceAccess   = "orgservice"      // key: service principal with trusted access
	KindDelegatedAdmin  = "orgdelegated"    // key: "<account id>/<service principal>"
	KindOrgResource     = "orgrespolicy"    // key: "policy" (the organization's resource policy)
	KindTransfer        = "orgtransfer"     // key: "rt-…"
	KindKey             = "sessionkey"      // key: key id
	KindUniqueID        = "uniqueid"        // key: AIDA…/AROA…; value: the entity's key
)

// NameKey is the store key of a named IAM entity in an account.
func NameKey(account, name string) string { return account + "/" + strings.ToLower(name) }

// Tag is an IAM or Organizations tag.
type Tag struct {
	Key   string
	Value string
}

// Account is one AWS account.
type Account struct {
	ID           string
	Name         string
	Email        string
	Status       string // ACTIVE, SUSPENDED (closed)
	JoinedMethod string // CREATED, INVITED
	JoinedAt     time.Time
	ParentID     string // root or OU id inside the organization; "" outside
	Tags         []Tag
	ClosedAt     time.Time // when CloseAccount closed it
}

// Closed reports whether the account was closed (Organizations' CloseAccount): its
// principals can no longer act.
func (a *Account) Closed() bool { return a.Status == "SUSPENDED" || a.Status == "PENDING_CLOSURE" }

// Principal holds what users, groups and roles share: their policies.
type Principal struct {
	Account             string
	Name                string
	Path                string
	ID                  string // AIDA…, AGPA…, AROA…
	Arn                 string
	CreateDate          time.Time
	InlinePolicies      map[string]string // name → document
	AttachedPolicies    []string          // managed policy ARNs
	PermissionsBoundary string            // managed policy ARN
	Tags                []Tag
}

// User is an IAM user.
type User struct {
	Principal
	Groups []string // group names
}

// Group is an IAM group.
type Group struct {
	Principal
}

// Role is an IAM role.
type Role struct {
	Principal
	AssumeRolePolicy   string
	Description        string
	MaxSessionDuration int // seconds
	ServiceLinked      bool
	LastUsed           time.Time
}

// ManagedPolicy is a customer managed policy or, with Account "aws", an AWS managed one.
type ManagedPolicy struct {
	Account          string
	Name             string
	Path             string
	ID               string // ANPA…
	Arn              string
	Description      string
	DefaultVersion   string
	Versions         []PolicyVersion
	AttachmentCount  int
	BoundaryCount    int
	CreateDate       time.Time
	UpdateDate       time.Time
	Tags             []Tag
	NextVersionIndex int
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID         string // v1, v2…
	Document   string
	CreateDate time.Time
}

// Default returns the default version's document.
func (p *ManagedPolicy) Default() string {
	for _, v := range p.Versions {
		if v.ID == p.DefaultVersion {
			return v.Document
		}
	}
	return ""
}

// AccessKey is a long-term access key of a user or of an account's root user.
type AccessKey struct {
	ID         string
	Secret     string
	Account    string
	User       string // user name; "" for the root user
	Status     string // Active, Inactive
	CreateDate time.Time
	LastUsed   time.Time
	LastRegion string
	LastSvc    string
}

// InstanceProfile holds at most one role for EC2 instances.
type InstanceProfile struct {
	Account    string
	Name       string
	Path       string
	ID         string // AIPA…
	Arn        string
	Roles      []string // role names
	CreateDate time.Time
	Tags       []Tag
}

// Organization is the one organization this server holds.
type Organization struct {
	ID                string // o-…
	Arn               string
	MasterAccountID   string
	MasterEmail       string
	FeatureSet        string // ALL
	RootID            string // r-…
	RootArn           string
	EnabledPolicyType []string // SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY
	CreatedAt         time.Time
	RootTags          []Tag
}

// OU is an organizational unit.
type OU struct {
	ID       string // ou-…
	Arn      string
	Name     string
	ParentID string
	Tags     []Tag
}

// OrgPolicy is an organization policy of any type: SCP, RCP or a management policy.
type OrgPolicy struct {
	ID          string // p-…
	Arn         string
	Name        string
	Description string
	Type        string // SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY, TAG_POLICY…
	Content     string
	AWSManaged  bool
	Tags        []Tag
	Updated     time.Time // last CreatePolicy or UpdatePolicy
}

// DelegatedAdmin is a member account registered as a delegated administrator of a
// service that integrates with Organizations.
type DelegatedAdmin struct {
	Account          string
	ServicePrincipal string
	Since            time.Time
}

// DelegatedAdminKey is the store key of a registration.
func DelegatedAdminKey(account, servicePrincipal string) string {
	return account + "/" + servicePrincipal
}

// IsDelegatedAdministrator reports whether an account of the organization is a
// registered delegated administrator of a service (its service principal, such as
// iam.amazonaws.com), as RegisterDelegatedAdministrator made it: the question that
// AssumeRoot and IAM's centralized root access ask of the organization.
func IsDelegatedAdministrator(tx store.Tx, account, servicePrincipal string) (bool, error) {
	var d DelegatedAdmin
	err := tx.Get(KindDelegatedAdmin, DelegatedAdminKey(account, servicePrincipal), &d)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// NewID returns an IAM-style unique id: a four-letter prefix and 17 characters.
func NewID(prefix string) string { return prefix + randomBase32(17) }

// NewAccessKeyID returns an access key id: AKIA (long-term) or ASIA (temporary)
// followed by 16 characters that encode the account (as AWS's do, so that
// GetAccessKeyInfo can answer for any key) and 40 random bits.
func NewAccessKeyID(prefix, account string) string {
	n, _ := strconv.ParseUint(account, 10, 64)
	b := make([]byte, 10)
	for i := 4; i >= 0; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	rand.Read(b[5:])
	return prefix + base32.StdEncoding.EncodeToString(b)
}

// AccessKeyAccount decodes the account from an access key id made by NewAccessKeyID.
func AccessKeyAccount(id string) (string, bool) {
	if len(id) != 20 || (id[:4] != "AKIA" && id[:4] != "ASIA") {
		return "", false
	}
	b, err := base32.StdEncoding.DecodeString(id[4:])
	if err != nil {
		return "", false
	}
	var n uint64
	for _, c := range b[:5] {
		n = n<<8 | uint64(c)
	}
	if n > 999999999999 {
		return "", false
	}
	return fmt.Sprintf("%012d", n), true
}

// NewSecret returns a 40-character secret access key.
func NewSecret() string {
	b := make([]byte, 30)
	rand.Read(b)
	s := base32.StdEncoding.EncodeToString(b) // 48 characters of A–Z2–7
	return secretAlphabet.Replace(s[:40])
}

// secretAlphabet widens base32 to the mixed alphabet of AWS secret keys.
var secretAlphabet = strings.NewReplacer("A", "a", "C", "c", "E", "e", "G", "g", "J", "/", "K", "+")

func randomBase32(n int) string {
	b := make([]byte, (n*5+7)/8+1)
	rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)[:n]
}

// RandomLower returns n random characters of [a-z0-9], for organization ids.
func RandomLower(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// KindVpcEndpoint holds VPC endpoints, keyed by id (vpce-…).
const KindVpcEndpoint = "vpce"

// VpcEndpoint is an interface VPC endpoint: a loopback listener of its own through
// which calls carry aws:SourceVpce and are limited by its policy.
type VpcEndpoint struct {
	ID             string
	Account        string
	VpcID          string
	ServiceName    string // com.amazonaws.REGION.ec2, …s3, …sts
	PolicyDocument string // "" = the default full-access policy
	Port           int    // the listener's port, kept across restarts
	State          string // available, deleted
	CreationTime   time.Time
	Tags           []Tag
	// EC2's view of the endpoint (DescribeVpcEndpoints).
	Type              string // Interface, Gateway
	SubnetIDs         []string
	SecurityGroupIDs  []string
	PrivateDNSEnabled bool
}
