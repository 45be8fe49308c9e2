// Package organizations is AWS Organizations over JSON 1.1: the organization, its
// accounts and OUs, and its SCPs and RCPs (AWS-SEMANTICS.md §6).
package organizations

import "github.com/iamlocal/iamlocal/internal/service"

// TargetPrefix is the X-Amz-Target prefix of Organizations' operations.
const TargetPrefix = "AWSOrganizationsV20161128"

// Actions is the Organizations action table; each file of this package adds its actions.
var Actions = service.Table{}

func register(actions ...*service.Action) {
	for _, a := range actions {
		Actions[a.Name] = a
	}
}
