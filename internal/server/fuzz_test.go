package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/sigv4"
)

// FuzzQueryActions sends arbitrary, correctly signed Query bodies (IAM and STS) and
// JSON bodies (Organizations) as the root user: whatever they hold, the answer is
// an AWS error or a success — never a panic, never a 500.
func FuzzQueryActions(f *testing.F) {
	seeds := []string{
		"Action=CreateUser&Version=2010-05-08&UserName=a&Path=/x/",
		"Action=CreateUser&Version=2010-05-08&UserName=a&Tags.member.1.Key=k&Tags.member.1.Value=v&Tags.member.3.Key=z",
		"Action=ListUsers&Version=2010-05-08&MaxItems=0",
		"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::111111111111:role/x&RoleSessionName=s&DurationSeconds=1e9",
		"Action=AssumeRole&Version=2011-06-15&RoleArn=arn&RoleSessionName=%00&Policy=%7B&PolicyArns.member.1.arn=x",
		"Action=GetSessionToken&Version=2011-06-15&DurationSeconds=-1",
		"Action=GetAccessKeyInfo&Version=2011-06-15&AccessKeyId=AKIA",
		"Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D",
		"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn:aws:iam::111111111111:role/x&RoleSessionName=s&WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.e30.AAAA&ProviderId=www.amazon.com",
		"Action=CreateOpenIDConnectProvider&Version=2010-05-08&Url=https://a.example.com/p&ClientIDList.member.1=x&ThumbprintList.member.2=y",
		"Action=UpdateOpenIDConnectProviderThumbprint&Version=2010-05-08&OpenIDConnectProviderArn=arn:aws:iam::111111111111:oidc-provider/a&ThumbprintList=",
		"Action=Nope&Version=2010-05-08",
		"%%%",
	}
	for i, s := range seeds {
		svc := "iam"
		if strings.Contains(s, "2011-06-15") {
			svc = "sts"
		}
		f.Add(s, svc, i%2 == 0)
		f.Add(`{"Name":"x","Content":"{","Type":"SERVICE_CONTROL_POLICY","Description":1}`, "organizations:CreatePolicy", true)
	}
	s := servertest.Start(f, "")
	f.Fuzz(func(t *testing.T, body, svc string, post bool) {
		var r *http.Request
		var err error
		switch {
		case strings.HasPrefix(svc, "organizations:"):
			r, err = http.NewRequest(http.MethodPost, "http://localhost/", strings.NewReader(body))
			if err != nil {
				return
			}
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			r.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128."+strings.TrimPrefix(svc, "organizations:"))
			svc = "organizations"
		case post:
			r, err = http.NewRequest(http.MethodPost, "http://localhost/", strings.NewReader(body))
			if err != nil {
				return
			}
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		default:
			r, err = http.NewRequest(http.MethodGet, "http://localhost/?"+body, nil)
			if err != nil {
				return
			}
			body = ""
		}
		if svc != "iam" && svc != "sts" && svc != "organizations" {
			svc = "iam"
		}
		sigv4.Sign(r, []byte(body), servertest.RootKeyID, servertest.RootSecret, "us-east-1", svc, time.Now())
		r.Body = http.NoBody
		if body != "" {
			r.Body = readCloser{bytes.NewReader([]byte(body))}
		}
		w := httptest.NewRecorder()
		s.Handler.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d for %s %q: %s", w.Code, svc, body, w.Body.String())
		}
	})
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
