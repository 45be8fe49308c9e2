package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/authz"
	"github.com/iamlocal/iamlocal/internal/authzmsg"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func TestDecode(t *testing.T) {
	s := servertest.Start(t, "")
	t.Setenv("AWS_ACCESS_KEY_ID", servertest.RootKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", servertest.RootSecret)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	scp, _ := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoGPU","Effect":"Deny","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLike":{"ec2:InstanceType":"p*"}}}]}`), policy.SCP)
	caller, _ := policy.ParseCaller("arn:aws:iam::222222222222:user/dev")
	req := &policy.Request{Caller: caller, Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:222222222222:instance/*",
		ResourceAccount: "222222222222", Context: policy.Context{"ec2:instancetype": {"p5.48xlarge"}}}
	req.Prepare()
	in := &authz.Input{SCPs: [][]*policy.Policy{{scp}}}
	var d authz.Decision
	authz.Decide(req, in, &d)
	enc, err := authzmsg.Encode(s.Env.Ring, authzmsg.Build(&d, req, in, "AIDAEXAMPLE"))
	if err != nil {
		t.Fatal(err)
	}
	ec2Text := "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: " + enc
	var out, errOut bytes.Buffer
	if code := Main([]string{"decode", "--endpoint-url", s.URL, "-"}, strings.NewReader(ec2Text), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"decision: explicitDeny", `DENY  scp statement "NoGPU"`, "condition:  StringLike ec2:InstanceType p*", "ec2:InstanceType = p5.48xlarge"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := Main([]string{"decode", "--json", "--endpoint-url", s.URL, enc}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), `"explicitDeny": true`) {
		t.Fatalf("--json: exit %d: %s %s", code, out.String(), errOut.String())
	}
	if code := Main([]string{"decode", "--endpoint-url", s.URL, "garbage"}, nil, &out, &errOut); code == 0 {
		t.Fatal("garbage decoded")
	}
}

// Issue 13 item 4: a VPC endpoint policy's denial carries no encoded message; decode
// says so and gives the explain command. An implicit deny names the explain command
// that finds the layer.
func TestDecodeWithoutMessageAndImplicitDeny(t *testing.T) {
	s := servertest.Start(t, "")
	t.Setenv("AWS_ACCESS_KEY_ID", servertest.RootKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", servertest.RootSecret)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	endpointText := "An error occurred (UnauthorizedOperation) when calling the RunInstances operation: You are not authorized to perform this operation."
	for _, in := range []string{endpointText, "not-a-message"} {
		var out, errOut bytes.Buffer
		code := Main([]string{"decode", "--endpoint-url", s.URL, "-"}, strings.NewReader(in), &out, &errOut)
		if code == 0 || !strings.Contains(errOut.String(), "come from a VPC endpoint policy") ||
			!strings.Contains(errOut.String(), "iamlocal explain --principal ARN --action ec2:ACTION --resource ARN --source-vpce vpce-ID") {
			t.Fatalf("%q: exit %d: %s", in, code, errOut.String())
		}
	}
	caller, _ := policy.ParseCaller("arn:aws:iam::222222222222:user/dev")
	req := &policy.Request{Caller: caller, Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:222222222222:instance/*",
		ResourceAccount: "222222222222", Context: policy.Context{}}
	req.Prepare()
	var d authz.Decision
	authz.Decide(req, &authz.Input{}, &d)
	enc, err := authzmsg.Encode(s.Env.Ring, authzmsg.Build(&d, req, &authz.Input{}, "AIDAEXAMPLE"))
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"decode", "--endpoint-url", s.URL, enc}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := "which layer: iamlocal explain --principal arn:aws:iam::222222222222:user/dev --action ec2:RunInstances --resource arn:aws:ec2:us-east-1:222222222222:instance/*"
	if !strings.Contains(out.String(), "decision: implicitDeny") || !strings.Contains(out.String(), want) {
		t.Fatalf("implicit deny:\n%s", out.String())
	}
}
