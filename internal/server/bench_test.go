package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv4"
)

// benchWorld makes a user allowed to assume role "bench" and returns its key.
func benchWorld(b *testing.B) (*servertest.Server, servertest.Creds) {
	s := servertest.Start(b, "")
	ctx := context.Background()
	c := s.IAM(servertest.Root)
	c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench")})
	c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bench"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)})
	c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bench"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/bench"},"Action":"sts:AssumeRole"}]}`)})
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	return s, servertest.Creds{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
}

func benchCall(b *testing.B, form url.Values) {
	s, creds := benchWorld(b)
	body := []byte(form.Encode())
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, _ := http.NewRequest(http.MethodPost, "http://localhost/", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			sigv4.Sign(r, body, creds.ID, creds.Secret, "us-east-1", "sts", time.Now())
			w := httptest.NewRecorder()
			s.Handler.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body.String())
			}
		}
	})
}

// BenchmarkAssumeRole is one AssumeRole through the front door (signature check,
// engine decision, sealing the session), without the network.
func BenchmarkAssumeRole(b *testing.B) {
	benchCall(b, url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"},
		"RoleArn": {"arn:aws:iam::111111111111:role/bench"}, "RoleSessionName": {"bench"}})
}

func BenchmarkGetCallerIdentity(b *testing.B) {
	benchCall(b, url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}})
}
