package authz

import (
	"strings"

	"github.com/iamlocal/iamlocal/internal/awsdata"
)

// slrProtected are the IAM actions on a role that AWS refuses on a service-linked role
// (path /aws-service-role/) or a role IAM Identity Center reserves (/aws-reserved/),
// whatever the caller's policies allow: the role-resource operations whose errors
// include UnmodifiableEntityException in IAM's API model (botocore iam 2010-05-08;
// AddRoleToInstanceProfile and RemoveRoleFromInstanceProfile, also listed there, are
// authorized on the instance profile, not the role). "The service controls the
// attached policies and when the role can be deleted" (IAM API Reference,
// CreateServiceLinkedRole). UpdateRole and UpdateRoleDescription are absent: "You can
// edit the description of any role" (IAM User Guide, Update a service-linked role).
var slrProtected = map[string]bool{
	"iam:attachrolepolicy":              true,
	"iam:detachrolepolicy":              true,
	"iam:putrolepolicy":                 true,
	"iam:deleterolepolicy":              true,
	"iam:putrolepermissionsboundary":    true,
	"iam:deleterolepermissionsboundary": true,
	"iam:updateassumerolepolicy":        true,
	"iam:deleterole":                    true,
}

// Protected reports why AWS refuses a request whatever the policies say, because its
// resource belongs to AWS: a change to an AWS managed policy ("You cannot change the
// permissions defined in AWS managed policies", IAM User Guide, AWS managed policies —
// every action on the policy resource type whose access level is not Read or List in
// the service authorization reference), or a change only the owning service may make
// to a service-linked or AWS-reserved role. It is "" for every other request.
func Protected(action, resource string) string {
	if len(action) < 4 || !strings.EqualFold(action[:4], "iam:") {
		return ""
	}
	_, rest, ok := strings.Cut(resource, ":iam::")
	if !ok || !strings.HasPrefix(resource, "arn:") {
		return ""
	}
	account, res, _ := strings.Cut(rest, ":")
	switch {
	case account == "aws" && strings.HasPrefix(res, "policy/") && changesPolicy(action):
		return resource + " is an AWS managed policy: only AWS can change it"
	case protectedRolePath(res) && slrProtected[strings.ToLower(action)]:
		return resource + " is a role AWS reserves for a service: only that service can change or delete it"
	}
	return ""
}

// protectedRolePath reports a role resource under a path AWS reserves.
func protectedRolePath(res string) bool {
	return strings.HasPrefix(res, "role/aws-service-role/") || strings.HasPrefix(res, "role/aws-reserved/")
}

// changesPolicy reports an IAM action on the policy resource type that writes it.
func changesPolicy(action string) bool {
	a, ok := awsdata.LookupAction(action)
	if !ok || !(strings.Contains(a.Access, "Write") || strings.Contains(a.Access, "Permissions") || strings.Contains(a.Access, "Tagging")) {
		return false
	}
	for _, r := range a.Resources {
		if r.Type == "policy" {
			return true
		}
	}
	return false
}
