package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv4"
)

var ctx = context.Background()

const account = servertest.Account

// fixture is a test server with an S3 client for the management account's root user.
type fixture struct {
	t    *testing.T
	s    *servertest.Server
	root *s3.Client
}

func start(t *testing.T) *fixture {
	t.Helper()
	s := servertest.Start(t, "")
	return &fixture{t: t, s: s, root: s.S3(servertest.Root)}
}

// must fails the test on err and returns v.
func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// wantErr checks an error's code and HTTP status.
func wantErr(t testing.TB, what string, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: want %s, got success", what, code)
	}
	if got := apiCode(err); got != code {
		t.Fatalf("%s: want %s, got %v", what, code, err)
	}
	if got := httpStatus(err); got != status {
		t.Fatalf("%s: want HTTP %d, got %d (%v)", what, status, got, err)
	}
}

// wantDenied checks an AccessDenied whose message contains want.
func wantDenied(t testing.TB, what string, err error, want string) {
	t.Helper()
	wantErr(t, what, err, "AccessDenied", http.StatusForbidden)
	var ae smithy.APIError
	errors.As(err, &ae)
	if !strings.Contains(ae.ErrorMessage(), want) {
		t.Fatalf("%s: message %q does not contain %q", what, ae.ErrorMessage(), want)
	}
}

func (f *fixture) createBucket(c *s3.Client, name string) {
	f.t.Helper()
	must[*s3.CreateBucketOutput](f.t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}))
}

func (f *fixture) put(c *s3.Client, bucket, key, body string) *s3.PutObjectOutput {
	f.t.Helper()
	return must[*s3.PutObjectOutput](f.t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}))
}

// get reads an object's content; the error is the call's.
func get(c *s3.Client, bucket, key string) (string, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

func (f *fixture) policy(c *s3.Client, bucket, doc string) {
	f.t.Helper()
	must[*s3.PutBucketPolicyOutput](f.t)(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bucket, Policy: &doc}))
}

// user creates an IAM user in the account of iamc with an inline policy (if any)
// and returns its credentials.
func (f *fixture) user(iamc *iam.Client, name, inline string) servertest.Creds {
	f.t.Helper()
	must[*iam.CreateUserOutput](f.t)(iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: &name}))
	if inline != "" {
		must[*iam.PutUserPolicyOutput](f.t)(iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &name, PolicyName: aws.String("inline"), PolicyDocument: &inline}))
	}
	k := must[*iam.CreateAccessKeyOutput](f.t)(iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &name})).AccessKey
	return servertest.Creds{ID: aws.ToString(k.AccessKeyId), Secret: aws.ToString(k.SecretAccessKey)}
}

// memberAccount creates an organization (once) and a member account, and returns
// the account id and its root user's credentials.
func (f *fixture) memberAccount(name string) (string, servertest.Creds) {
	f.t.Helper()
	org := f.s.Organizations(servertest.Root)
	_, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll})
	if err != nil && apiCode(err) != "AlreadyInOrganizationException" {
		f.t.Fatal(err)
	}
	out := must[*organizations.CreateAccountOutput](f.t)(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: &name, Email: aws.String(name + "@example.com")}))
	st := must[*organizations.DescribeCreateAccountStatusOutput](f.t)(org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id}))
	if st.CreateAccountStatus.State != orgtypes.CreateAccountStateSucceeded {
		f.t.Fatalf("CreateAccount: %s", st.CreateAccountStatus.State)
	}
	id := aws.ToString(st.CreateAccountStatus.AccountId)
	return id, f.s.RootKey(f.t, id)
}

// blobFiles counts the object files under the data directory.
func (f *fixture) blobFiles() int {
	f.t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(f.s.DataDir, "s3", "blobs"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// raw sends a request to the server's handler, signed as c unless c is nil.
func (f *fixture) raw(c *servertest.Creds, method, path string, body []byte, headers map[string]string) *http.Response {
	f.t.Helper()
	r, err := http.NewRequest(method, f.s.URL+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range headers {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	if c != nil {
		sigv4.Sign(r, body, c.ID, c.Secret, "us-east-1", "s3", time.Now())
	}
	return f.send(r, body)
}

// send sends a prepared (signed) request with body, closing the response at the end.
func (f *fixture) send(r *http.Request, body []byte) *http.Response {
	f.t.Helper()
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
