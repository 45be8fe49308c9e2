package local_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/service/local"
)

// call posts a JSON body with a target to a path, signed as the root user (or not).
func call(t *testing.T, s *servertest.Server, path, target, body string, sign bool) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if sign {
		sum := sha256.Sum256([]byte(body))
		creds := aws.Credentials{AccessKeyID: servertest.RootKeyID, SecretAccessKey: servertest.RootSecret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), local.SigningName, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

func TestAPIPathAndTargets(t *testing.T) {
	s := servertest.Start(t, "")
	status, out := call(t, s, local.Path, "IAMLocal.GetSAMLIdPMetadata", `{"Name":"corp"}`, true)
	if status != 200 || !strings.Contains(out["Metadata"].(string), "EntityDescriptor") || out["Created"] != true {
		t.Fatalf("%d %v", status, out)
	}
	status, out = call(t, s, local.Path, "IAMLocal.GetSAMLIdPMetadata", `{"Name":"corp"}`, true)
	if status != 200 || out["Created"] != false {
		t.Fatalf("again: %d %v", status, out)
	}
	for _, c := range []struct {
		path, target, body string
		sign               bool
		status             int
		code               string
	}{
		{"/", "IAMLocal.GetSAMLIdPMetadata", `{"Name":"corp"}`, true, 400, "UnknownOperationException"},
		{local.Path, "AWSOrganizationsV20161128.DescribeOrganization", `{}`, true, 400, "UnknownOperationException"},
		{local.Path, "", `{}`, true, 400, "UnknownOperationException"},
		{local.Path, "IAMLocal.Nope", `{}`, true, 400, "UnknownOperationException"},
		{local.Path, "IAMLocal.SignSAMLAssertion", `{"IdP":"corp","Subject":"a"}`, false, 403, "MissingAuthenticationToken"},
		{local.Path, "IAMLocal.SignSAMLAssertion", `{"IdP":"corp"}`, true, 400, "ValidationException"},
		{local.Path, "IAMLocal.SignSAMLAssertion", `{"IdP":"corp","Subject":"a","Extra":1}`, true, 400, "SerializationException"},
		{local.Path, "IAMLocal.SignSAMLAssertion", `{"IdP":"corp","Subject":"a","Sign":"neither"}`, true, 400, "ValidationException"},
		{local.Path, "IAMLocal.GetSAMLIdPMetadata", `{"Name":"a b"}`, true, 400, "ValidationException"},
		{local.Path, "IAMLocal.GetMFACode", `{"SerialNumber":"arn:aws:iam::111111111111:mfa/x","Count":9}`, true, 400, "ValidationException"},
	} {
		status, out := call(t, s, c.path, c.target, c.body, c.sign)
		if status != c.status || out["__type"] != c.code {
			t.Errorf("%s %s %s: %d %v, want %d %s", c.path, c.target, c.body, status, out, c.status, c.code)
		}
	}
	status, out = call(t, s, local.Path, "IAMLocal.SignSAMLAssertion", `{"IdP":"corp","Subject":"alice","Roles":["arn:aws:iam::111111111111:role/r,arn:aws:iam::111111111111:saml-provider/corp"]}`, true)
	if status != 200 || out["Issuer"] != "urn:iamlocal:saml:idp:corp" || len(out["SAMLResponse"].(string)) < 1000 {
		t.Fatalf("sign: %d %v", status, out)
	}
}

func TestSignEncrypted(t *testing.T) {
	s := servertest.Start(t, "")
	call(t, s, local.Path, "IAMLocal.GetSAMLIdPMetadata", `{"Name":"corp"}`, true)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	body, _ := json.Marshal(map[string]string{"IdP": "corp", "Subject": "alice", "EncryptFor": pub})
	status, out := call(t, s, local.Path, "IAMLocal.SignSAMLAssertion", string(body), true)
	if status != 200 {
		t.Fatalf("%d %v", status, out)
	}
	xml, _ := base64.StdEncoding.DecodeString(out["SAMLResponse"].(string))
	if !strings.Contains(string(xml), "EncryptedAssertion") || strings.Contains(string(xml), ">alice<") {
		t.Fatalf("not encrypted: %s", xml)
	}
	body, _ = json.Marshal(map[string]string{"IdP": "corp", "Subject": "alice", "EncryptFor": "junk"})
	if status, out := call(t, s, local.Path, "IAMLocal.SignSAMLAssertion", string(body), true); status != 400 || out["__type"] != "ValidationException" {
		t.Fatalf("junk key: %d %v", status, out)
	}
}
