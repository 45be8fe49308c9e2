package iam

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		&service.Action{Name: "CreateServiceLinkedRole", IAMAction: "iam:CreateServiceLinkedRole", Write: true,
			Resource: serviceLinkedResource, Context: serviceNameContext, Handle: createServiceLinkedRole},
		&service.Action{Name: "DeleteServiceLinkedRole", IAMAction: "iam:DeleteServiceLinkedRole", Write: true,
			Resource: roleEntity.resource, Context: roleEntity.context(false), Handle: deleteServiceLinkedRole},
		&service.Action{Name: "GetServiceLinkedRoleDeletionStatus", IAMAction: "iam:GetServiceLinkedRoleDeletionStatus",
			Resource: deletionTaskResource, Handle: getServiceLinkedRoleDeletionStatus},
	)
}

// slrTaskKind keeps service-linked role deletion tasks: key the task id.
const slrTaskKind = "iamslrtask"

type slrTask struct {
	Account string
	Status  string
}

// serviceRoleNames are the names AWS gives the service-linked roles of some
// services (AWSServiceRoleFor<name>); others are derived from the service's host.
var serviceRoleNames = map[string]string{
	"autoscaling.amazonaws.com":          "AutoScaling",
	"ecs.amazonaws.com":                  "ECS",
	"eks.amazonaws.com":                  "AmazonEKS",
	"elasticbeanstalk.amazonaws.com":     "ElasticBeanstalk",
	"elasticloadbalancing.amazonaws.com": "ElasticLoadBalancing",
	"elasticache.amazonaws.com":          "ElastiCache",
	"es.amazonaws.com":                   "AmazonElasticsearchService",
	"guardduty.amazonaws.com":            "AmazonGuardDuty",
	"organizations.amazonaws.com":        "Organizations",
	"rds.amazonaws.com":                  "RDS",
	"spot.amazonaws.com":                 "EC2Spot",
	"sso.amazonaws.com":                  "SSO",
	"support.amazonaws.com":              "Support",
	"trustedadvisor.amazonaws.com":       "TrustedAdvisor",
	"config.amazonaws.com":               "Config",
	"cloudtrail.amazonaws.com":           "CloudTrail",
}

// serviceRoleName is the name of a service's service-linked role.
func serviceRoleName(svc, suffix string) string {
	name, ok := serviceRoleNames[svc]
	if !ok {
		host := strings.TrimSuffix(svc, ".amazonaws.com")
		for _, part := range strings.FieldsFunc(host, func(r rune) bool { return r == '.' || r == '-' }) {
			name += strings.ToUpper(part[:1]) + part[1:]
		}
	}
	name = "AWSServiceRoleFor" + name
	if suffix != "" {
		name += "_" + suffix
	}
	return name
}

// serviceRolePathPrefix is reserved for service-linked roles.
const serviceRolePathPrefix = "/aws-service-role/"

// reservedRolePathPrefix holds the roles AWS services create in an account for
// themselves, such as IAM Identity Center's AWSReservedSSO_… roles: like service-linked
// roles, only their service changes them.
const reservedRolePathPrefix = "/aws-reserved/"

func serviceLinkedPath(svc string) string { return serviceRolePathPrefix + svc + "/" }

func serviceLinkedResource(c *service.Call) (string, string, error) {
	svc := c.Params.Get("AWSServiceName")
	return arn(c.Account(), "role", serviceLinkedPath(svc), serviceRoleName(svc, c.Params.Get("CustomSuffix"))), c.Account(), nil
}

func serviceNameContext(c *service.Call, ctx policy.Context) error {
	if svc := c.Params.Get("AWSServiceName"); svc != "" {
		ctx.Set("iam:AWSServiceName", svc)
	}
	return nil
}

func createServiceLinkedRole(c *service.Call) (any, error) {
	in := newInput(c)
	svc := in.name("AWSServiceName", 128)
	desc := in.description("Description")
	suffix := in.optName("CustomSuffix", 64)
	if err := in.err(); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(svc, ".amazonaws.com") || len(svc) == len(".amazonaws.com") {
		return nil, invalidInput("Invalid service name: %s", svc)
	}
	name := serviceRoleName(svc, suffix)
	path := serviceLinkedPath(svc)
	r := &directory.Role{Principal: directory.Principal{Account: c.Account(), Name: name, Path: path, ID: directory.NewID("AROA"),
		Arn: arn(c.Account(), "role", path, name), CreateDate: c.Now.UTC()}, Description: desc, ServiceLinked: true,
		MaxSessionDuration: defaultSessionLength,
		AssumeRolePolicy:   fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":[%q]},"Action":["sts:AssumeRole"]}]}`, svc)}
	if exists, err := has(c.Tx, directory.KindRole, directory.NameKey(r.Account, name)); err != nil || exists {
		if err == nil {
			err = invalidInput("Service role name %s has been taken in this account, please try a different suffix.", name)
		}
		return nil, err
	}
	if err := insertRole(c.Tx, r, ""); err != nil {
		return nil, err
	}
	return &roleResult{newRoleXML(r, true)}, nil
}

type deleteServiceLinkedRoleResult struct {
	DeletionTaskID string `xml:"DeletionTaskId"`
}

// deleteServiceLinkedRole deletes the role at once, with its policies, and records a
// task that has already succeeded.
func deleteServiceLinkedRole(c *service.Call) (any, error) {
	l, err := roleParam(c)
	if err != nil {
		return nil, err
	}
	if !l.role.ServiceLinked {
		return nil, invalidInput("Role %s is not a service-linked role.", l.Name)
	}
	profiles, err := roleProfiles(c.Tx, l.Account, l.Name)
	if err != nil {
		return nil, err
	}
	if len(profiles) > 0 {
		return nil, deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	}
	if err := l.detachAll(c.Tx); err != nil {
		return nil, err
	}
	if err := removeRole(c.Tx, l); err != nil {
		return nil, err
	}
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	id := fmt.Sprintf("task%s%s/%s-%s-%s-%s-%s", l.Path, l.Name, h[:8], h[8:12], h[12:16], h[16:20], h[20:])
	if err := c.Tx.Put(slrTaskKind, id, slrTask{Account: l.Account, Status: "SUCCEEDED"}); err != nil {
		return nil, err
	}
	return &deleteServiceLinkedRoleResult{id}, nil
}

// detachAll detaches every managed policy of a principal and drops its inline ones.
func (l *loaded) detachAll(tx store.Tx) error {
	for _, a := range l.AttachedPolicies {
		if mp, err := loadPolicy(tx, l.Account, a, false); err == nil {
			mp.AttachmentCount--
			if err := savePolicy(tx, mp); err != nil {
				return err
			}
		}
		if _, err := tx.Delete(attachIndex, l.indexKey(a)); err != nil {
			return err
		}
	}
	l.AttachedPolicies, l.InlinePolicies = nil, nil
	return nil
}

// deletionTaskResource is the role a task id names: task/PATH/NAME/UUID.
func deletionTaskResource(c *service.Call) (string, string, error) {
	id := strings.TrimPrefix(c.Params.Get("DeletionTaskId"), "task/")
	if i := strings.LastIndexByte(id, '/'); i > 0 {
		return "arn:aws:iam::" + c.Account() + ":role/" + id[:i], c.Account(), nil
	}
	return "*", c.Account(), nil
}

type deletionStatusResult struct {
	Status string `xml:"Status"`
}

func getServiceLinkedRoleDeletionStatus(c *service.Call) (any, error) {
	in := newInput(c)
	id, ok := in.required("DeletionTaskId")
	if ok {
		in.v.Length(id, "deletionTaskId", 1, 1000)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	var t slrTask
	err := c.Tx.Get(slrTaskKind, id, &t)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Account != c.Account()) {
		return nil, invalidInput("Deletion task %s is not valid.", id)
	}
	if err != nil {
		return nil, err
	}
	return &deletionStatusResult{t.Status}, nil
}
