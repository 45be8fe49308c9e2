package iam_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestWireShapes checks details the SDK forgives but the AWS CLI shows: empty lists
// are written, documents are percent-encoded, the namespace is IAM's.
func TestWireShapes(t *testing.T) {
	e := start(t)
	status, body := e.raw(url.Values{"Action": {"ListUsers"}})
	if status != 200 || !strings.Contains(body, `<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListUsersResult><Users></Users><IsTruncated>false</IsTruncated></ListUsersResult>`) {
		t.Fatalf("ListUsers: %s", body)
	}
	e.role("r", trustEC2)
	_, body = e.raw(url.Values{"Action": {"GetRole"}, "RoleName": {"r"}})
	if !strings.Contains(body, "<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22") || !strings.Contains(body, "<RoleLastUsed></RoleLastUsed>") {
		t.Fatalf("GetRole: %s", body)
	}
	status, body = e.raw(url.Values{"Action": {"UpdateRole"}, "RoleName": {"r"}})
	if status != 200 || !strings.Contains(body, "<UpdateRoleResult></UpdateRoleResult>") {
		t.Fatalf("UpdateRole: %s", body)
	}
	status, body = e.raw(url.Values{"Action": {"GetAccountSummary"}})
	if status != 200 || !strings.Contains(body, "<SummaryMap><entry><key>AccessKeysPerUserQuota</key><value>2</value></entry>") {
		t.Fatalf("GetAccountSummary: %s", body)
	}
	status, body = e.raw(url.Values{"Action": {"ListRoles"}, "Marker": {"garbage"}})
	if status != 400 || !strings.Contains(body, "<Code>") {
		t.Fatalf("bad marker: %d %s", status, body)
	}
}
