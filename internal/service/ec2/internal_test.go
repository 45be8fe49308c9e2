package ec2_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// call makes a request to the internal API and decodes its JSON answer.
func call(t *testing.T, s *servertest.Server, method, path string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.InternalToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, body, err)
	}
	return resp.StatusCode, m
}

func credsOf(m map[string]any) servertest.Creds {
	return servertest.Creds{ID: m["AccessKeyId"].(string), Secret: m["SecretAccessKey"].(string), Token: m["Token"].(string)}
}

func TestInternalAPI(t *testing.T) {
	e := start(t)
	profArn, roleArn := e.profile("web", trustEC2)
	ok(e.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("web-role"), PolicyName: aws.String("ec2"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`)}))(t)
	in := run(t, e.ec2, al2023, 1, func(r *ec2.RunInstancesInput) {
		r.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String("web")}
		r.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("w")}}}}
	})[0]
	id := aws.ToString(in.InstanceId)

	status, doc := call(t, e.s, http.MethodGet, "/_iamlocal/ec2/instances/"+id)
	if status != 200 || doc["InstanceId"] != id || doc["AccountId"] != account || doc["Region"] != "us-east-1" ||
		doc["AvailabilityZone"] != "us-east-1a" || doc["InstanceType"] != "t3.micro" || doc["ImageId"] != al2023 ||
		doc["PrivateIpAddress"] != aws.ToString(in.PrivateIpAddress) || doc["State"] != "running" || doc["HttpTokens"] != "required" ||
		doc["HttpEndpoint"] != "enabled" || doc["HttpPutResponseHopLimit"] != 2.0 || doc["InstanceProfileArn"] != profArn ||
		doc["RoleName"] != "web-role" {
		t.Fatalf("instance document: %d %v", status, doc)
	}
	if _, err := time.Parse(time.RFC3339, doc["LaunchTime"].(string)); err != nil {
		t.Fatalf("LaunchTime: %v", err)
	}

	status, cr := call(t, e.s, http.MethodPost, "/_iamlocal/ec2/instances/"+id+"/credentials")
	if status != 200 || cr["Code"] != "Success" || cr["Type"] != "AWS-HMAC" || cr["RoleArn"] != roleArn ||
		!strings.HasPrefix(cr["AccessKeyId"].(string), "ASIA") {
		t.Fatalf("credentials: %d %v", status, cr)
	}
	exp, err := time.Parse(time.RFC3339, cr["Expiration"].(string))
	if err != nil || exp.Sub(time.Now()) < 59*time.Minute || exp.Sub(time.Now()) > 61*time.Minute {
		t.Fatalf("Expiration %v (%v)", cr["Expiration"], err)
	}
	who := ok(e.s.STS(credsOf(cr)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if !strings.HasPrefix(aws.ToString(who.UserId), "AROA") || !strings.HasSuffix(aws.ToString(who.UserId), ":"+id) ||
		aws.ToString(who.Arn) != "arn:aws:sts::"+account+":assumed-role/web-role/"+id {
		t.Fatalf("caller identity: %s %s", aws.ToString(who.UserId), aws.ToString(who.Arn))
	}
	// The credentials carry the role's permissions, and aws:userid is AROA…:i-….
	roleEC2 := e.s.EC2(credsOf(cr))
	ok(roleEC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}))(t)
	_, err = roleEC2.RunInstances(ctx, runInput(al2023))
	d := decodeDenial(t, e.s, servertest.Root, err)
	if uid := d.condition("aws:userid"); len(uid) != 1 || uid[0] != aws.ToString(who.UserId) {
		t.Fatalf("aws:userid %v, want %s", uid, aws.ToString(who.UserId))
	}

	// A role that does not trust EC2 gets no credentials.
	e.profile("app", trustAccount)
	other := ids(run(t, e.ec2, ubuntu, 1, func(r *ec2.RunInstancesInput) {
		r.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String("app")}
	}))[0]
	status, body := call(t, e.s, http.MethodPost, "/_iamlocal/ec2/instances/"+other+"/credentials")
	if status != 403 || body["Code"] != "AccessDenied" || !strings.Contains(body["Message"].(string), "ec2.amazonaws.com is not authorized to perform: sts:AssumeRole") {
		t.Fatalf("untrusted role: %d %v", status, body)
	}
	status, doc = call(t, e.s, http.MethodGet, "/_iamlocal/ec2/instances/"+other)
	if status != 200 || doc["RoleName"] != "app-role" || doc["HttpTokens"] != "optional" {
		t.Fatalf("instance without EC2 trust: %d %v", status, doc)
	}

	// No profile; a stopped instance; an unknown one.
	bare := ids(run(t, e.ec2, ubuntu, 1))[0]
	status, body = call(t, e.s, http.MethodPost, "/_iamlocal/ec2/instances/"+bare+"/credentials")
	if status != 404 || body["Code"] != "NoRoleForInstance" {
		t.Fatalf("no profile: %d %v", status, body)
	}
	status, doc = call(t, e.s, http.MethodGet, "/_iamlocal/ec2/instances/"+bare)
	if status != 200 || doc["RoleName"] != "" || doc["InstanceProfileArn"] != "" {
		t.Fatalf("no profile: %d %v", status, doc)
	}
	ok(e.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}))(t)
	status, body = call(t, e.s, http.MethodPost, "/_iamlocal/ec2/instances/"+id+"/credentials")
	if status != 409 {
		t.Fatalf("stopped: %d %v", status, body)
	}
	status, body = call(t, e.s, http.MethodGet, "/_iamlocal/ec2/instances/i-0123456789abcdef0")
	if status != 404 || body["Code"] != "InvalidInstanceID.NotFound" {
		t.Fatalf("unknown: %d %v", status, body)
	}
	status, _ = call(t, e.s, http.MethodGet, "/_iamlocal/ec2/instances/"+id+"/credentials")
	if status != 405 {
		t.Fatalf("GET credentials: %d", status)
	}

	// A role's credentials without an instance.
	q := url.Values{"roleArn": {roleArn}, "service": {"ec2.amazonaws.com"}}
	status, cr = call(t, e.s, http.MethodPost, "/_iamlocal/roles/credentials?"+q.Encode())
	if status != 200 || cr["RoleArn"] != roleArn {
		t.Fatalf("role credentials: %d %v", status, cr)
	}
	who = ok(e.s.STS(credsOf(cr)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if !strings.HasPrefix(aws.ToString(who.UserId), "AROA") || !strings.HasSuffix(aws.ToString(who.Arn), ":assumed-role/web-role/iamlocal-ec2") {
		t.Fatalf("role session: %s %s", aws.ToString(who.UserId), aws.ToString(who.Arn))
	}
	q.Set("service", "ecs-tasks.amazonaws.com")
	status, body = call(t, e.s, http.MethodPost, "/_iamlocal/roles/credentials?"+q.Encode())
	if status != 403 || body["Code"] != "AccessDenied" {
		t.Fatalf("ECS without trust: %d %v", status, body)
	}
	q.Set("roleArn", "arn:aws:iam::111111111111:role/nope")
	status, body = call(t, e.s, http.MethodPost, "/_iamlocal/roles/credentials?"+q.Encode())
	if status != 404 || body["Code"] != "NoSuchEntity" {
		t.Fatalf("unknown role: %d %v", status, body)
	}
	status, body = call(t, e.s, http.MethodPost, "/_iamlocal/roles/credentials?roleArn=nope")
	if status != 400 {
		t.Fatalf("bad ARN: %d %v", status, body)
	}
}
