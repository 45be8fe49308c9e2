package organizations_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// call sends a raw, signed JSON 1.1 request, as a client without the SDK's own
// validation would, and returns the status and decoded body.
func call(t *testing.T, s *servertest.Server, op, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128."+op)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: servertest.RootKeyID, SecretAccessKey: servertest.RootSecret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "organizations", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Fatalf("%s: content type %q", op, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s: body %q: %v", op, data, err)
	}
	return resp.StatusCode, out
}

func TestWire(t *testing.T) {
	f := newOrg(t)
	acct := f.createAccount(t, "wire")

	status, body := call(t, f.s, "DescribeOrganization", "")
	if status != 200 || body["Organization"] == nil {
		t.Fatalf("DescribeOrganization with an empty body: %d %v", status, body)
	}

	status, body = call(t, f.s, "EnablePolicyType", `{"RootId":"`+f.root+`","PolicyType":"MADE_UP"}`)
	if status != 400 || body["__type"] != "InvalidInputException" || body["Reason"] != "INVALID_ENUM_POLICY_TYPE" || body["Message"] == "" {
		t.Fatalf("InvalidInputException envelope: %d %v", status, body)
	}

	status, body = call(t, f.s, "CreateOrganizationalUnit", `{"ParentId":"`+f.root+`"}`)
	if status != 400 || body["Reason"] != "INPUT_REQUIRED" || !strings.Contains(body["Message"].(string), "Name") {
		t.Fatalf("missing Name: %d %v", status, body)
	}

	status, body = call(t, f.s, "ListAccounts", `{"Bogus":1}`)
	if status != 400 || body["__type"] != "SerializationException" || !strings.Contains(body["Message"].(string), "Bogus") {
		t.Fatalf("unknown member: %d %v", status, body)
	}

	status, body = call(t, f.s, "ListAccounts", `{"MaxResults":"ten"}`)
	if status != 400 || body["__type"] != "SerializationException" {
		t.Fatalf("MaxResults as a string: %d %v", status, body)
	}

	status, body = call(t, f.s, "DescribeAccount", `{"AccountId":"`+acct+`"}`)
	a, _ := body["Account"].(map[string]any)
	if status != 200 || a == nil {
		t.Fatalf("DescribeAccount: %d %v", status, body)
	}
	if ts, ok := a["JoinedTimestamp"].(float64); !ok || ts < 1e9 || float64(time.Now().Unix())-ts > 60 {
		t.Fatalf("JoinedTimestamp is not epoch seconds: %v", a["JoinedTimestamp"])
	}

	status, body = call(t, f.s, "ListRoots", `{}`)
	if _, has := body["NextToken"]; status != 200 || has {
		t.Fatalf("ListRoots: %d %v", status, body)
	}

	status, body = call(t, f.s, "DeleteOrganizationalUnit", `{"OrganizationalUnitId":"ou-zzzz-zzzzzzzz"}`)
	if status != 400 || body["__type"] != "OrganizationalUnitNotFoundException" {
		t.Fatalf("OU not found: %d %v", status, body)
	}

	// The newer operations: empty lists are [], timestamps epoch seconds, errors 400.
	status, body = call(t, f.s, "ListAWSServiceAccessForOrganization", `{}`)
	if list, ok := body["EnabledServicePrincipals"].([]any); status != 200 || !ok || len(list) != 0 {
		t.Fatalf("ListAWSServiceAccessForOrganization: %d %v", status, body)
	}
	status, body = call(t, f.s, "DescribeResourcePolicy", ``)
	if status != 400 || body["__type"] != "ResourcePolicyNotFoundException" {
		t.Fatalf("DescribeResourcePolicy: %d %v", status, body)
	}
	status, body = call(t, f.s, "EnablePolicyType", `{"RootId":"`+f.root+`","PolicyType":"TAG_POLICY"}`)
	if status != 200 {
		t.Fatalf("EnablePolicyType TAG_POLICY: %d %v", status, body)
	}
	status, body = call(t, f.s, "ListEffectivePolicyValidationErrors", `{"AccountId":"`+acct+`","PolicyType":"TAG_POLICY"}`)
	if status != 400 || body["__type"] != "EffectivePolicyNotFoundException" {
		t.Fatalf("ListEffectivePolicyValidationErrors without a policy: %d %v", status, body)
	}
	status, body = call(t, f.s, "CloseAccount", `{"AccountId":"`+acct+`","Force":true}`)
	if status != 400 || body["__type"] != "SerializationException" {
		t.Fatalf("CloseAccount with an unknown member: %d %v", status, body)
	}
	status, body = call(t, f.s, "InviteOrganizationToTransferResponsibility", `{"Type":"BILLING","Target":{"Id":"333333333333","Type":"ACCOUNT"},"SourceName":"x","StartTimestamp":"soon"}`)
	if status != 400 || body["__type"] != "SerializationException" {
		t.Fatalf("StartTimestamp as a string: %d %v", status, body)
	}
}
