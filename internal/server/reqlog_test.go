package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type logLine struct {
	Time, Msg, Request, Principal, Action, Decision, BlockedBy string
	Status                                                     int
	Latency                                                    int64 // nanoseconds (slog's JSON form of a duration)
}

func requestID(t *testing.T, err error) string {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("not a response error: %v", err)
	}
	return re.ServiceRequestID()
}

// serve --log-requests=json: a line per request with who, what, the decision and
// its blocking layers, the status and the latency — and none of the request's
// secret material.
func TestRequestLog(t *testing.T) {
	var buf logBuffer
	s := servertest.StartWith(t, servertest.Options{RequestLog: slog.New(slog.NewJSONHandler(&buf, nil))})
	ctx := context.Background()
	root := s.IAM(servertest.Root)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))
	must(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}))
	must(root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("reader"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"sts:AssumeRole"}]}`)}))
	must(root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("s3"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)}))
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	alice := servertest.Creds{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
	must(s.S3(servertest.Root).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logged")}))

	// A session whose session policy allows reading only.
	out, err := s.STS(alice).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/reader"),
		RoleSessionName: aws.String("rs"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	sess := servertest.Creds{ID: aws.ToString(out.Credentials.AccessKeyId), Secret: aws.ToString(out.Credentials.SecretAccessKey),
		Token: aws.ToString(out.Credentials.SessionToken)}
	must(s.S3(sess).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("logged")}))
	_, err = s.S3(sess).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("logged"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if err == nil {
		t.Fatal("PutObject allowed")
	}
	putID := requestID(t, err)
	_, err = s.IAM(sess).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	if err == nil {
		t.Fatal("CreateUser allowed")
	}
	createID := requestID(t, err)
	_, err = s.STS(servertest.Creds{ID: "AKIAUNKNOWNKEY000000", Secret: "unknownSecretKey"}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil {
		t.Fatal("unknown key accepted")
	}

	text := buf.String()
	for _, secret := range []string{servertest.RootKeyID, servertest.RootSecret, alice.ID, alice.Secret, sess.ID, sess.Secret, sess.Token,
		"AKIAUNKNOWNKEY000000", "unknownSecretKey", "Signature", "Credential", "X-Amz-Security-Token"} {
		if strings.Contains(text, secret) {
			t.Fatalf("the request log holds %q:\n%s", secret, text)
		}
	}
	var lines []logLine
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		var ll logLine
		if err := json.Unmarshal([]byte(l), &ll); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if ll.Time == "" || ll.Msg != "request" || ll.Latency <= 0 || ll.Status == 0 || ll.Request == "" {
			t.Fatalf("incomplete line: %s", l)
		}
		lines = append(lines, ll)
	}
	find := func(action, principal string) logLine {
		t.Helper()
		for _, l := range lines {
			if l.Action == action && l.Principal == principal {
				return l
			}
		}
		t.Fatalf("no line for %s by %s:\n%s", action, principal, text)
		return logLine{}
	}
	session := "arn:aws:sts::111111111111:assumed-role/reader/rs"
	for _, c := range []struct {
		action, principal, decision, blockedBy string
		status                                 int
		id                                     string
	}{
		{"iam:CreateUser", "arn:aws:iam::111111111111:root", "allowed", "", 200, ""},
		{"s3:CreateBucket", "arn:aws:iam::111111111111:root", "allowed", "", 200, ""},
		{"sts:AssumeRole", "arn:aws:iam::111111111111:user/alice", "allowed", "", 200, ""},
		{"s3:ListBucket", session, "allowed", "", 200, ""},
		{"s3:PutObject", session, "denied", "session", 403, putID},
		{"iam:CreateUser", session, "denied", "identity", 403, createID},
		{"sts:GetCallerIdentity", "anonymous", "denied", "", 403, ""},
	} {
		l := find(c.action, c.principal)
		if l.Decision != c.decision || !strings.Contains(l.BlockedBy, c.blockedBy) || l.Status != c.status || (c.id != "" && l.Request != c.id) {
			t.Errorf("%s by %s: %+v, want %s %q %d %s", c.action, c.principal, l, c.decision, c.blockedBy, c.status, c.id)
		}
	}
}
