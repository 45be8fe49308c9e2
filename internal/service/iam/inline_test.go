package iam_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// inlineOps drives the inline-policy actions of one kind of principal.
type inlineOps struct {
	what  string
	limit int
	make  func(e *env, name string)
	put   func(e *env, name, policy, doc string) error
	get   func(e *env, name, policy string) (string, string, error)
	list  func(e *env, name string, marker *string) ([]string, bool, *string, error)
	del   func(e *env, name, policy string) error
}

var inlineKinds = []inlineOps{
	{what: "user", limit: 2048, make: func(e *env, n string) { e.user(n) },
		put: func(e *env, n, p, d string) error {
			_, err := e.root.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: &n, PolicyName: &p, PolicyDocument: &d})
			return err
		},
		get: func(e *env, n, p string) (string, string, error) {
			out, err := e.root.GetUserPolicy(e.ctx, &iam.GetUserPolicyInput{UserName: &n, PolicyName: &p})
			if err != nil {
				return "", "", err
			}
			return aws.ToString(out.UserName), aws.ToString(out.PolicyDocument), nil
		},
		list: func(e *env, n string, m *string) ([]string, bool, *string, error) {
			out, err := e.root.ListUserPolicies(e.ctx, &iam.ListUserPoliciesInput{UserName: &n, MaxItems: aws.Int32(1), Marker: m})
			if err != nil {
				return nil, false, nil, err
			}
			return out.PolicyNames, out.IsTruncated, out.Marker, nil
		},
		del: func(e *env, n, p string) error {
			_, err := e.root.DeleteUserPolicy(e.ctx, &iam.DeleteUserPolicyInput{UserName: &n, PolicyName: &p})
			return err
		}},
	{what: "group", limit: 5120, make: func(e *env, n string) { e.group(n) },
		put: func(e *env, n, p, d string) error {
			_, err := e.root.PutGroupPolicy(e.ctx, &iam.PutGroupPolicyInput{GroupName: &n, PolicyName: &p, PolicyDocument: &d})
			return err
		},
		get: func(e *env, n, p string) (string, string, error) {
			out, err := e.root.GetGroupPolicy(e.ctx, &iam.GetGroupPolicyInput{GroupName: &n, PolicyName: &p})
			if err != nil {
				return "", "", err
			}
			return aws.ToString(out.GroupName), aws.ToString(out.PolicyDocument), nil
		},
		list: func(e *env, n string, m *string) ([]string, bool, *string, error) {
			out, err := e.root.ListGroupPolicies(e.ctx, &iam.ListGroupPoliciesInput{GroupName: &n, MaxItems: aws.Int32(1), Marker: m})
			if err != nil {
				return nil, false, nil, err
			}
			return out.PolicyNames, out.IsTruncated, out.Marker, nil
		},
		del: func(e *env, n, p string) error {
			_, err := e.root.DeleteGroupPolicy(e.ctx, &iam.DeleteGroupPolicyInput{GroupName: &n, PolicyName: &p})
			return err
		}},
	{what: "role", limit: 10240, make: func(e *env, n string) { e.role(n, trustEC2) },
		put: func(e *env, n, p, d string) error {
			_, err := e.root.PutRolePolicy(e.ctx, &iam.PutRolePolicyInput{RoleName: &n, PolicyName: &p, PolicyDocument: &d})
			return err
		},
		get: func(e *env, n, p string) (string, string, error) {
			out, err := e.root.GetRolePolicy(e.ctx, &iam.GetRolePolicyInput{RoleName: &n, PolicyName: &p})
			if err != nil {
				return "", "", err
			}
			return aws.ToString(out.RoleName), aws.ToString(out.PolicyDocument), nil
		},
		list: func(e *env, n string, m *string) ([]string, bool, *string, error) {
			out, err := e.root.ListRolePolicies(e.ctx, &iam.ListRolePoliciesInput{RoleName: &n, MaxItems: aws.Int32(1), Marker: m})
			if err != nil {
				return nil, false, nil, err
			}
			return out.PolicyNames, out.IsTruncated, out.Marker, nil
		},
		del: func(e *env, n, p string) error {
			_, err := e.root.DeleteRolePolicy(e.ctx, &iam.DeleteRolePolicyInput{RoleName: &n, PolicyName: &p})
			return err
		}},
}

func TestInlinePolicies(t *testing.T) {
	for _, k := range inlineKinds {
		t.Run(k.what, func(t *testing.T) {
			e := start(t)
			k.make(e, "p1")
			doc := `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}`
			for _, n := range []string{"b", "a", "c"} {
				if err := k.put(e, "p1", n, doc); err != nil {
					t.Fatal(err)
				}
			}
			owner, got, err := k.get(e, "p1", "A")
			if err != nil {
				t.Fatal(err)
			}
			if owner != "p1" || decode(t, &got) != doc || !strings.HasPrefix(got, "%7B%22Version%22%3A%20%222012-10-17%22") {
				t.Fatalf("get: %s %s", owner, got)
			}
			names := paginate(t, func(m *string) ([]string, bool, *string, error) { return k.list(e, "p1", m) })
			if strings.Join(names, ",") != "a,b,c" {
				t.Fatalf("names: %v", names)
			}
			wantErr(t, k.put(e, "p1", "bad", `{"Statement":[]}`), "MalformedPolicyDocument", 400, "Syntax errors in policy.")
			wantErr(t, k.put(e, "p1", "bad", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`), "MalformedPolicyDocument", 400, "Policy document should not specify a principal.")
			wantErr(t, k.del(e, "p1", "zzz"), "NoSuchEntity", 404, "The "+k.what+" policy with name zzz cannot be found.")
			_, _, err = k.get(e, "p1", "zzz")
			wantErr(t, err, "NoSuchEntity", 404, "The "+k.what+" policy with name zzz cannot be found.")
			wantErr(t, k.put(e, "ghost", "x", doc), "NoSuchEntity", 404, "The "+k.what+" with name ghost cannot be found.")
			for _, n := range []string{"a", "b", "c"} {
				if err := k.del(e, "p1", n); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestInlinePolicySizeLimits(t *testing.T) {
	for _, k := range inlineKinds {
		t.Run(k.what, func(t *testing.T) {
			e := start(t)
			k.make(e, "big")
			half := padded(k.limit/2 + 10)
			if err := k.put(e, "big", "one", half); err != nil {
				t.Fatal(err)
			}
			wantErr(t, k.put(e, "big", "two", half), "LimitExceeded", 409,
				"Maximum policy size of "+itoa(k.limit)+" bytes exceeded for "+k.what+" big")
			if err := k.put(e, "big", "one", padded(k.limit)); err != nil { // replacing counts once
				t.Fatalf("replace within the limit: %v", err)
			}
			wantErr(t, k.put(e, "big", "one", padded(k.limit+1)), "LimitExceeded", 409, "…")
		})
	}
}
