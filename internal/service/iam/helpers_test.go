package iam_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

const (
	account = servertest.Account
	// trustEC2 lets EC2 assume a role.
	trustEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	// trustAccount lets the account's principals assume a role.
	trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`
	allowAll     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// env is a test server with a root IAM client.
type env struct {
	t    *testing.T
	ctx  context.Context
	s    *servertest.Server
	root *iam.Client
}

func start(t *testing.T) *env {
	t.Helper()
	s := servertest.Start(t, "")
	return &env{t: t, ctx: context.Background(), s: s, root: s.IAM(servertest.Root)}
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

// wantErr checks an error's AWS code, HTTP status and message (exact, or a prefix
// when msg ends with "…").
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
	if prefix, cut := strings.CutSuffix(msg, "…"); cut {
		if !strings.HasPrefix(ae.ErrorMessage(), prefix) {
			t.Fatalf("%s: want message starting %q, got %q", code, prefix, ae.ErrorMessage())
		}
		return
	}
	if ae.ErrorMessage() != msg {
		t.Fatalf("%s: want message\n%q\ngot\n%q", code, msg, ae.ErrorMessage())
	}
}

func (e *env) user(name string) *types.User {
	e.t.Helper()
	return ok(e.root.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String(name)}))(e.t).User
}

func (e *env) role(name, trust string) *types.Role {
	e.t.Helper()
	return ok(e.root.CreateRole(e.ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}))(e.t).Role
}

func (e *env) group(name string) *types.Group {
	e.t.Helper()
	return ok(e.root.CreateGroup(e.ctx, &iam.CreateGroupInput{GroupName: aws.String(name)}))(e.t).Group
}

func (e *env) policy(name, doc string) *types.Policy {
	e.t.Helper()
	return ok(e.root.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))(e.t).Policy
}

// signer creates a user with an inline policy (if any) and an access key, and
// returns an IAM client signing as that user.
func (e *env) signer(name, inline string) (*iam.Client, servertest.Creds) {
	e.t.Helper()
	e.user(name)
	if inline != "" {
		ok(e.root.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("inline"), PolicyDocument: aws.String(inline)}))(e.t)
	}
	k := ok(e.root.CreateAccessKey(e.ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}))(e.t).AccessKey
	c := servertest.Creds{ID: aws.ToString(k.AccessKeyId), Secret: aws.ToString(k.SecretAccessKey)}
	return e.s.IAM(c), c
}

// decode undoes IAM's percent-encoding of policy documents.
func decode(t *testing.T, s *string) string {
	t.Helper()
	d, err := url.QueryUnescape(aws.ToString(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// padded returns a valid identity policy whose size without whitespace is about n.
func padded(n int) string {
	const head = `{"Version":"2012-10-17","Statement":[{"Sid":"`
	const tail = `","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}

// paginate follows Marker/IsTruncated with MaxItems=1 and returns every item.
func paginate[T any](t *testing.T, call func(marker *string) ([]T, bool, *string, error)) []T {
	t.Helper()
	var all []T
	var marker *string
	for i := 0; ; i++ {
		items, truncated, next, err := call(marker)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > 1 {
			t.Fatalf("page %d has %d items with MaxItems=1", i, len(items))
		}
		all = append(all, items...)
		if !truncated {
			return all
		}
		if next == nil || i > 100 {
			t.Fatalf("truncated page %d without a marker", i)
		}
		marker = next
	}
}

// credsOf returns the credentials of an AssumeRole result.
func credsOf(out *sts.AssumeRoleOutput) servertest.Creds {
	return servertest.Creds{ID: aws.ToString(out.Credentials.AccessKeyId), Secret: aws.ToString(out.Credentials.SecretAccessKey),
		Token: aws.ToString(out.Credentials.SessionToken)}
}

// raw sends a Query request signed by the root user, bypassing the SDK's own
// validation, and returns the HTTP status and body.
func (e *env) raw(params url.Values) (int, string) {
	e.t.Helper()
	params.Set("Version", "2010-05-08")
	body := params.Encode()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.s.URL+"/", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: servertest.RootKeyID, SecretAccessKey: servertest.RootSecret}
	if err := v4.NewSigner().SignHTTP(e.ctx, creds, req, hex.EncodeToString(sum[:]), "iam", servertest.DefaultRegion, time.Now()); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
