package policycheck

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iamlocal/iamlocal/internal/policy"
)

// checkCase is one case of testdata/cases.json: a document, the AWS documentation
// it comes from, and every finding the data checks must report — its type, issue code
// and path, and a part of its message.
type checkCase struct {
	Name     string          `json:"name"`
	Source   string          `json:"source"`
	Kind     string          `json:"kind"`
	Document json.RawMessage `json:"document"`
	Findings []struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Path    string `json:"path"`
		Message string `json:"message"`
	} `json:"findings"`
}

var kinds = map[string]policy.Kind{"": policy.Identity, "identity": policy.Identity, "resource": policy.Resource,
	"trust": policy.Trust, "scp": policy.SCP, "rcp": policy.RCP, "endpoint": policy.Endpoint}

func TestCases(t *testing.T) {
	data, err := os.ReadFile("testdata/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []checkCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Source == "" {
				t.Fatal("a case names the AWS documentation it comes from")
			}
			p, err := policy.ParseLenient(c.Document, kinds[c.Kind])
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Findings) > 0 {
				t.Fatalf("the door refuses the document: %v", p.Findings)
			}
			got := Check(p)
			var want, have []string
			for _, f := range c.Findings {
				want = append(want, f.Type+" "+f.Code+" "+f.Path)
			}
			for _, f := range got {
				have = append(have, f.Type+" "+f.Code+" "+f.Path)
			}
			sort.Strings(want)
			sort.Strings(have)
			if diff := cmp.Diff(want, have); diff != "" {
				t.Fatalf("%s: findings (-want +got):\n%s\n%v", c.Source, diff, got)
			}
			for _, f := range c.Findings {
				for _, g := range got {
					if g.Path == f.Path && g.Code == f.Code && !strings.Contains(g.Message, f.Message) {
						t.Errorf("%s: message %q lacks %q", f.Path, g.Message, f.Message)
					}
				}
			}
		})
	}
}

// Findings are placed at the value at fault: its line and column in the document as
// written, its statement and Sid.
func TestFindingPositions(t *testing.T) {
	doc := `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "s3:GetObjct"
      ],
      "Resource": "*",
      "Condition": {"StringEquals": {"s3:ExistingObjectTags/team": "blue"}}
    }
  ]
}`
	p, err := policy.ParseLenient([]byte(doc), policy.Identity)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range Check(p) {
		got = append(got, fmt.Sprintf("%d:%d %d %s %s %s", f.Pos.Line, f.Pos.Column, f.Statement, f.Sid, f.Code, f.Path))
	}
	want := []string{
		"9:9 0 Read INVALID_ACTION Statement[0].Action[1]",
		"12:38 0 Read INVALID_SERVICE_CONDITION_KEY Statement[0].Condition.StringEquals.s3:ExistingObjectTags/team",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// Resource patterns against ARN formats: a wildcard or a variable matches any text,
// a placeholder too, except partition, region, account and bucket name, which hold no
// ':' or '/'.
func TestIntersect(t *testing.T) {
	for _, c := range []struct {
		resource, format string
		want             bool
	}{
		{"arn:aws:s3:::b/k", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", true},
		{"arn:aws:s3:::b", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", false},
		{"arn:aws:s3:::b/*", "arn:${Partition}:s3:::${BucketName}", false},
		{"arn:aws:s3:::b*", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", true},
		{"arn:aws:s3:::*", "arn:${Partition}:s3:::${BucketName}", true},
		{"arn:aws:s3:::${aws:username}", "arn:${Partition}:s3:::${BucketName}/${ObjectName}", true},
		{"arn:aws:iam::*:role/a/b/c", "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", true},
		{"arn:aws:iam::111122223333:user/u", "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", false},
		{"arn:aws:iam:us-east-1:111122223333:role/r", "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", false},
		{"arn:aws:lambda:*:*:function:f:1", "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}", true},
		{"arn:aws:ec2:us-east-1:111122223333:instance/i-1", "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}", true},
		{"arn:aws:ec2:us-east-1:111122223333:volume/v-1", "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}", false},
		{"arn:aws:ec2:??-east-1:*:instance/*", "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}", true},
		{"arn:*:*:*:*:*", "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}", true},
	} {
		if got := intersect(resourcePattern(c.resource), formatPattern(c.format)); got != c.want {
			t.Errorf("intersect(%s, %s) = %v, want %v", c.resource, c.format, got, c.want)
		}
	}
}
