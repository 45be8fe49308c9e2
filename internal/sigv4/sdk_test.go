package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// verifyingServer answers 204 when a request verifies at now, else 403 with the error.
func verifyingServer(t *testing.T, now time.Time) *httptest.Server {
	t.Helper()
	keys := NewSigningKeyCache(16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		p, err := Parse(r)
		if err == nil && p == nil {
			http.Error(w, "anonymous", http.StatusUnauthorized)
			return
		}
		if err == nil && p.AccessKeyID != testAKID {
			http.Error(w, "unknown key "+p.AccessKeyID, http.StatusForbidden)
			return
		}
		if err == nil {
			err = (&Verifier{Keys: keys}).Verify(r, body, p, testSecret, now)
		}
		if err != nil {
			http.Error(w, err.Error()+"\n"+messageOf(err), http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, r *http.Request) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("server rejected the SDK's signature: %d %s", resp.StatusCode, msg)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestSDKSigner checks that requests signed by aws-sdk-go-v2's signer, an
// independent client, verify after crossing a real HTTP connection.
func TestSDKSigner(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	srv := verifyingServer(t, now)
	ctx := context.Background()
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	withToken := creds
	withToken.SessionToken = testToken
	signer := v4.NewSigner()

	t.Run("sts post form body", func(t *testing.T) {
		body := "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fdemo&RoleSessionName=s%20one&Version=2011-06-15"
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		if err := signer.SignHTTP(ctx, withToken, r, sha256Hex([]byte(body)), "sts", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		send(t, r)
	})
	t.Run("tampered body is rejected", func(t *testing.T) {
		body := "Action=GetCallerIdentity&Version=2011-06-15"
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		if err := signer.SignHTTP(ctx, creds, r, sha256Hex([]byte(body)), "sts", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		r.Body = io.NopCloser(strings.NewReader("Action=GetCallerIdentity&Version=2011-06-16"))
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(msg), CodeSignatureDoesNotMatch) {
			t.Fatalf("tampered request: %d %s", resp.StatusCode, msg)
		}
	})
	t.Run("get with query", func(t *testing.T) {
		q := url.Values{
			"Action":   {"ListUsers"},
			"Version":  {"2010-05-08"},
			"Marker":   {"a+b c/d~e*f"},
			"PathPref": {"/division_abc/subdivision_xyz/"},
			"Empty":    {""},
			"ሴ":        {"ü"},
		}
		r, _ := http.NewRequest(http.MethodGet, srv.URL+"/?"+q.Encode(), nil)
		if err := signer.SignHTTP(ctx, creds, r, sha256Hex(nil), "iam", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		send(t, r)
	})
	t.Run("json post", func(t *testing.T) {
		body := `{"Name":"x"}`
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
		if err := signer.SignHTTP(ctx, creds, r, sha256Hex([]byte(body)), "organizations", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		send(t, r)
	})
	t.Run("s3 path unsigned payload", func(t *testing.T) {
		body := "object body"
		// The key as the SDK's S3 serializer escapes it: everything but unreserved and '/'.
		r, _ := http.NewRequest(http.MethodPut, srv.URL+"/my-bucket/dir/a%20file%2Bname%21%28x%29%E2%82%AC.txt?x-id=PutObject", strings.NewReader(body))
		r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		r.Header.Set("Content-Type", "text/plain")
		err := signer.SignHTTP(ctx, withToken, r, UnsignedPayload, "s3", "us-east-1", now,
			func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err != nil {
			t.Fatal(err)
		}
		send(t, r)
	})
	t.Run("s3 path signed payload", func(t *testing.T) {
		body := "object body"
		r, _ := http.NewRequest(http.MethodPut, srv.URL+"/my-bucket/a//b/./c", strings.NewReader(body))
		r.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte(body)))
		err := signer.SignHTTP(ctx, creds, r, sha256Hex([]byte(body)), "s3", "us-east-1", now,
			func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err != nil {
			t.Fatal(err)
		}
		send(t, r)
	})
	t.Run("presigned sts url", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, srv.URL+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=900", nil)
		r.Header.Set("x-k8s-aws-id", "my-cluster")
		u, hdr, err := signer.PresignHTTP(ctx, withToken, r, sha256Hex(nil), "sts", "us-east-1", now)
		if err != nil {
			t.Fatal(err)
		}
		pr, _ := http.NewRequest(http.MethodGet, u, nil)
		for k, v := range hdr {
			if !strings.EqualFold(k, "host") {
				pr.Header[k] = v
			}
		}
		send(t, pr)
	})
	t.Run("presigned s3 url", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, srv.URL+"/my-bucket/photos/2026/a%20b.jpg?X-Amz-Expires=3600&x-id=GetObject", nil)
		u, hdr, err := signer.PresignHTTP(ctx, withToken, r, UnsignedPayload, "s3", "us-east-1", now,
			func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err != nil {
			t.Fatal(err)
		}
		pr, _ := http.NewRequest(http.MethodGet, u, nil)
		for k, v := range hdr {
			if !strings.EqualFold(k, "host") {
				pr.Header[k] = v
			}
		}
		send(t, pr)
	})
}

// TestSignMatchesSDK checks Sign against the SDK's signer on the same request.
func TestSignMatchesSDK(t *testing.T) {
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	mk := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "https://sts.amazonaws.com/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		r.Header.Set("X-Amz-Security-Token", testToken)
		r.ContentLength = 0 // keep content-length out of the SDK's signed headers
		return r
	}
	ours := mk()
	Sign(ours, []byte(body), testAKID, testSecret, "us-east-1", "sts", t0)
	theirs := mk()
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: testToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, theirs, sha256Hex([]byte(body)), "sts", "us-east-1", t0); err != nil {
		t.Fatal(err)
	}
	if a, b := ours.Header.Get("Authorization"), theirs.Header.Get("Authorization"); a != b {
		t.Errorf("Sign:\n %s\nSDK:\n %s", a, b)
	}
}
