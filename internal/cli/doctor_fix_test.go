package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

type doctorJSON struct {
	Decision string
	Checks   []struct{ Check, Status, Detail, Fix, FixPolicy string }
}

func doctorCall(t *testing.T, url string, args ...string) doctorJSON {
	t.Helper()
	var out, errOut bytes.Buffer
	Main(append([]string{"doctor", "call", "--json", "--endpoint-url", url}, args...), nil, &out, &errOut)
	var r doctorJSON
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("doctor call %v: %v\n%s%s", args, err, out.String(), errOut.String())
	}
	return r
}

func (r doctorJSON) check(prefix string) (c struct{ Check, Status, Detail, Fix, FixPolicy string }) {
	for _, c := range r.Checks {
		if strings.HasPrefix(c.Check, prefix) {
			return c
		}
	}
	return c
}

// A new user's report: doctor's fix for RunInstances allowed only instance/*, and the
// server then denied the image. The fix now names every resource; applied as printed,
// RunInstances succeeds; and a fix that would still be denied is not printed.
func TestDoctorRunInstancesFix(t *testing.T) {
	w := newExplainWorld(t)
	ctx := context.Background()
	mgmt := w.s.IAM(servertest.Root)
	nobody := "arn:aws:iam::111111111111:user/nobody"
	instances := "arn:aws:ec2:us-east-1:111111111111:instance/*"
	r := doctorCall(t, w.s.URL, "--principal", nobody, "--action", "ec2:RunInstances", "--resource", instances)
	id := r.check("identity policy")
	if id.Status != "fail" || !strings.Contains(id.FixPolicy, "arn:aws:ec2:us-east-1::image/*") || !strings.Contains(id.FixPolicy, instances) {
		t.Fatalf("identity check: %+v", id)
	}
	// Allowing the instances alone, as the old fix did, is caught: the image is denied.
	if _, err := mgmt.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("nobody"), PolicyName: aws.String("instances"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"` + instances + `"}]}`)}); err != nil {
		t.Fatal(err)
	}
	r = doctorCall(t, w.s.URL, "--principal", nobody, "--action", "ec2:RunInstances", "--resource", instances)
	if c := r.check("other resources"); c.Status != "fail" || !strings.Contains(c.Detail, "image/ami-*") {
		t.Fatalf("image check: %+v", c)
	}
	// Apply the fix as printed, then launch.
	if _, err := mgmt.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("nobody"), PolicyName: aws.String("fix"), PolicyDocument: aws.String(id.FixPolicy)}); err != nil {
		t.Fatal(err)
	}
	k, err := mgmt.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("nobody")})
	if err != nil {
		t.Fatal(err)
	}
	creds := servertest.Creds{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
	if _, err := w.s.EC2(creds).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a1f2e3d4c5b6a701"),
		InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
		t.Fatalf("RunInstances with the doctor's fix: %v", err)
	}
	if r := doctorCall(t, w.s.URL, "--principal", nobody, "--action", "ec2:RunInstances", "--resource", instances); len(failed(r)) > 0 {
		t.Fatalf("after the fix: %+v", failed(r))
	}

	// In dev, an SCP denies launching any image: allowing the caller cannot help.
	org := w.s.Organizations(servertest.Root)
	p, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("no-images"), Description: aws.String("d"),
		Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"NoImages","Effect":"Deny","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*::image/*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: p.Policy.PolicySummary.Id, TargetId: aws.String(w.dev)}); err != nil {
		t.Fatal(err)
	}
	bob := "arn:aws:iam::" + w.dev + ":user/bob"
	r = doctorCall(t, w.s.URL, "--principal", bob, "--action", "ec2:RunInstances", "--resource", "arn:aws:ec2:us-east-1:"+w.dev+":instance/*")
	id = r.check("identity policy")
	if id.Status != "fail" || id.FixPolicy != "" || !strings.Contains(id.Fix, "would still be denied") || !strings.Contains(id.Fix, "NoImages") {
		t.Fatalf("identity check with the SCP: %+v", id)
	}
}

func failed(r doctorJSON) []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == "fail" {
			out = append(out, c.Check+": "+c.Detail)
		}
	}
	return out
}
