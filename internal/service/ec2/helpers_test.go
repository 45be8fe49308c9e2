package ec2_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

var ctx = context.Background()

const (
	account = servertest.Account
	al2023  = "ami-0a1f2e3d4c5b6a701" // the catalogue's Amazon Linux 2023 (IMDSv2 only)
	ubuntu  = "ami-0b2e3d4c5a6f7e802" // Ubuntu 24.04, Canonical's
	windows = "ami-0c3f4e5d6b7a8f903"

	trustEC2     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`
	allowAll     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	allowEC2     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","sts:DecodeAuthorizationMessage"],"Resource":"*"}]}`
)

// env is a test server with root clients.
type env struct {
	t    *testing.T
	s    *servertest.Server
	ec2  *ec2.Client
	iam  *iam.Client
	sts  *sts.Client
	keys int
}

func start(t *testing.T) *env {
	t.Helper()
	s := servertest.Start(t, "")
	return &env{t: t, s: s, ec2: s.EC2(servertest.Root), iam: s.IAM(servertest.Root), sts: s.STS(servertest.Root)}
}

// ok(call)(t) fails the test on the call's error and returns its value.
func ok[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantErr checks an error's EC2 code and HTTP status, and that its message holds msg.
func wantErr(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: want HTTP %d, got %d", code, status, re.HTTPStatusCode())
	}
	if !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("%s: want message containing %q, got %q", code, msg, ae.ErrorMessage())
	}
}

// user creates an IAM user with an inline policy (if any) and returns its keys.
func (e *env) user(name, inline string) servertest.Creds {
	e.t.Helper()
	ok(e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))(e.t)
	if inline != "" {
		ok(e.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("inline"),
			PolicyDocument: aws.String(inline)}))(e.t)
	}
	k := ok(e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}))(e.t).AccessKey
	return servertest.Creds{ID: aws.ToString(k.AccessKeyId), Secret: aws.ToString(k.SecretAccessKey)}
}

// profile creates a role with a trust policy and an instance profile holding it.
func (e *env) profile(name, trust string) (profileArn, roleArn string) {
	e.t.Helper()
	role := ok(e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name + "-role"), AssumeRolePolicyDocument: aws.String(trust)}))(e.t).Role
	p := ok(e.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}))(e.t).InstanceProfile
	ok(e.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: role.RoleName}))(e.t)
	return aws.ToString(p.Arn), aws.ToString(role.Arn)
}

// run launches instances of an image as the client.
func run(t *testing.T, c *ec2.Client, image string, n int32, opts ...func(*ec2.RunInstancesInput)) []types.Instance {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(n), MaxCount: aws.Int32(n)}
	for _, o := range opts {
		o(in)
	}
	out, err := c.RunInstances(ctx, in)
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	return out.Instances
}

func runInput(image string) *ec2.RunInstancesInput {
	return &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
}

// decoded is the JSON of a decoded authorization message.
type decoded struct {
	Allowed           bool `json:"allowed"`
	ExplicitDeny      bool `json:"explicitDeny"`
	MatchedStatements struct {
		Items []struct {
			StatementID string `json:"statementId"`
			Effect      string `json:"effect"`
			PolicyType  string `json:"policyType"`
			Actions     struct {
				Items []struct {
					Value string `json:"value"`
				} `json:"items"`
			} `json:"actions"`
		} `json:"items"`
	} `json:"matchedStatements"`
	Context struct {
		Principal struct {
			ID  string `json:"id"`
			Arn string `json:"arn"`
		} `json:"principal"`
		Action     string `json:"action"`
		Resource   string `json:"resource"`
		Conditions struct {
			Items []struct {
				Key    string `json:"key"`
				Values struct {
					Items []struct {
						Value string `json:"value"`
					} `json:"items"`
				} `json:"values"`
			} `json:"items"`
		} `json:"conditions"`
	} `json:"context"`
}

func (d *decoded) condition(key string) []string {
	var out []string
	for _, c := range d.Context.Conditions.Items {
		if strings.EqualFold(c.Key, key) {
			for _, v := range c.Values.Items {
				out = append(out, v.Value)
			}
		}
	}
	return out
}

const unauthorized = "You are not authorized to perform this operation."

// decodeDenial checks err is EC2's UnauthorizedOperation with an encoded message and
// decodes it with STS as the given caller.
func decodeDenial(t *testing.T, s *servertest.Server, decoder servertest.Creds, err error) *decoded {
	t.Helper()
	wantErr(t, err, "UnauthorizedOperation", 403, unauthorized+" Encoded authorization failure message: ")
	var ae smithy.APIError
	errors.As(err, &ae)
	enc := strings.TrimPrefix(ae.ErrorMessage(), unauthorized+" Encoded authorization failure message: ")
	out, err := s.STS(decoder).DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(enc)})
	if err != nil {
		t.Fatalf("DecodeAuthorizationMessage: %v", err)
	}
	var d decoded
	if err := json.Unmarshal([]byte(aws.ToString(out.DecodedMessage)), &d); err != nil {
		t.Fatalf("decoded message %q: %v", aws.ToString(out.DecodedMessage), err)
	}
	return &d
}

// hasDeny reports whether the message names a Deny statement with the sid.
func (d *decoded) hasDeny(sid string) bool {
	for _, st := range d.MatchedStatements.Items {
		if st.StatementID == sid && st.Effect == "DENY" {
			return true
		}
	}
	return false
}

func tagsOf(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func ids(ins []types.Instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, aws.ToString(in.InstanceId))
	}
	return out
}

// through returns an option sending a call to a VPC endpoint's listener.
func through(dnsName string) func(*ec2.Options) {
	return func(o *ec2.Options) { o.BaseEndpoint = aws.String("http://" + dnsName) }
}
