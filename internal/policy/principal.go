package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// principalSet is a compiled Principal or NotPrincipal element.
type principalSet struct {
	any       bool     // "*" or {"AWS": "*"}
	accounts  []string // account ids, from "123456789012" or arn:…:iam::123456789012:root
	arns      []string // user, role, assumed-role and federated-user ARNs
	services  []string // "ec2.amazonaws.com"
	federated []string // identity providers
	canonical []string // S3 canonical user ids
}

// PrincipalMatch says how a Principal element matched the caller. The engine needs
// the difference: an account grants only by delegation, a role ARN stays limited by
// the session's boundary and session policies, a direct match is not limited.
type PrincipalMatch uint8

const (
	NoPrincipalMatch PrincipalMatch = iota
	ByAccount                       // the caller's account (delegation)
	ByRole                          // the role whose session is calling
	Direct                          // the caller itself, "*", or a service by name
)

func (m PrincipalMatch) String() string {
	return [...]string{"none", "account", "role", "direct"}[m]
}

// match reports how the set names the caller; for several entries, the strongest.
func (ps *principalSet) match(c *Caller) PrincipalMatch {
	if ps.any {
		return Direct
	}
	switch c.Kind {
	case Anonymous:
		return NoPrincipalMatch
	case ServicePrincipal:
		if contains(ps.services, c.Arn) {
			return Direct
		}
		return NoPrincipalMatch
	case WebIdentity:
		if contains(ps.federated, c.Arn) {
			return Direct
		}
		return NoPrincipalMatch
	}
	if contains(ps.arns, c.Arn) {
		return Direct
	}
	if c.Kind == AssumedRole && contains(ps.arns, c.RoleArn) {
		return ByRole
	}
	if contains(ps.accounts, c.Account) {
		if c.Kind == RootUser {
			return Direct // the account principal is the root user
		}
		return ByAccount
	}
	return NoPrincipalMatch
}

// excludes reports whether a NotPrincipal set lists every identity of the caller, so
// that a Deny with this NotPrincipal does not apply to it. AWS evaluates a session
// as its account, its role and itself, a user as its account and itself. A caller
// with a permissions boundary is never excluded (IAM User Guide, NotPrincipal).
func (ps *principalSet) excludes(c *Caller) bool {
	if c.HasBoundary {
		return false
	}
	if ps.any {
		return true
	}
	switch c.Kind {
	case Anonymous:
		return false
	case ServicePrincipal:
		return contains(ps.services, c.Arn)
	case WebIdentity:
		return contains(ps.federated, c.Arn)
	case RootUser:
		return contains(ps.accounts, c.Account)
	case AssumedRole:
		return contains(ps.accounts, c.Account) && contains(ps.arns, c.RoleArn) && contains(ps.arns, c.Arn)
	default:
		return contains(ps.accounts, c.Account) && contains(ps.arns, c.Arn)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parsePrincipal compiles a Principal or NotPrincipal element. An entry the door
// refuses goes to door; read leniently (door returns nil), it names no one.
func parsePrincipal(n *node, element string, door func(msg, detail string)) (*principalSet, error) {
	ps := &principalSet{}
	if n.kind == kString {
		if n.str != "*" {
			door("Invalid principal in policy: "+strconv.Quote(n.str), fmt.Sprintf("Invalid principal in policy: %q: a principal is \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}", n.str))
			return ps, nil
		}
		ps.any = true
		return ps, nil
	}
	if n.kind != kObject {
		return nil, elemErr(element, "must be \"*\" or an object, not %s", n.kind)
	}
	if len(n.fields) == 0 {
		door("Invalid principal in policy: {}", "Invalid principal in policy: the object is empty")
		return ps, nil
	}
	for _, f := range n.fields {
		values, err := stringList(f.val)
		if err != nil {
			return nil, elemErr(element, "%s: %v", f.key, err)
		}
		for _, v := range values {
			if err := ps.add(f.key, v); err != nil {
				door(fmt.Sprintf("Invalid principal in policy: \"%s\":\"%s\"", f.key, v), err.Error())
			}
		}
	}
	return ps, nil
}

func (ps *principalSet) add(kind, v string) error {
	invalid := func(why string) error {
		return fmt.Errorf("Invalid principal in policy: \"%s\":\"%s\": %s", kind, v, why)
	}
	switch kind {
	case "AWS":
		switch {
		case v == "*":
			ps.any = true
		case isAccountID(v):
			ps.accounts = append(ps.accounts, v)
		case strings.HasPrefix(v, "arn:"):
			return ps.addARN(v, invalid)
		case isUniqueID(v):
			// The principal was deleted; IAM shows its unique id, which matches no one.
		default:
			return invalid("want \"*\", an account id or a principal ARN")
		}
	case "Service":
		if v == "*" || !isServiceName(v) {
			return invalid("want a service principal such as ec2.amazonaws.com")
		}
		ps.services = append(ps.services, v)
	case "Federated":
		if v == "" || strings.ContainsAny(v, "*?") {
			return invalid("want an identity provider ARN or name")
		}
		ps.federated = append(ps.federated, v)
	case "CanonicalUser":
		if len(v) != 64 || strings.Trim(v, "0123456789abcdef") != "" {
			return invalid("want a 64-digit hexadecimal canonical user id")
		}
		ps.canonical = append(ps.canonical, v)
	default:
		return fmt.Errorf("Invalid principal in policy: unknown principal type %q (want AWS, Service, Federated or CanonicalUser)", kind)
	}
	return nil
}

func (ps *principalSet) addARN(v string, invalid func(string) error) error {
	if strings.ContainsAny(v, "*?") {
		return invalid("a principal ARN cannot contain wildcards; use \"*\" with an aws:PrincipalArn condition")
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[3] != "" || !isAccountID(parts[4]) || parts[5] == "" {
		return invalid("not a principal ARN")
	}
	res := parts[5]
	switch {
	case parts[2] == "iam" && res == "root":
		ps.accounts = append(ps.accounts, parts[4])
	case parts[2] == "iam" && (strings.HasPrefix(res, "user/") || strings.HasPrefix(res, "role/")):
		ps.arns = append(ps.arns, v)
	case parts[2] == "sts" && (strings.HasPrefix(res, "assumed-role/") || strings.HasPrefix(res, "federated-user/")):
		ps.arns = append(ps.arns, v)
	default:
		return invalid("a principal is an account, user, role, role session or federated user (groups are never principals)")
	}
	return nil
}

// isUniqueID recognises IAM unique ids such as AIDAJQABLZS4A3QDU576Q.
func isUniqueID(s string) bool {
	if len(s) < 16 || len(s) > 128 || s[0] != 'A' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
