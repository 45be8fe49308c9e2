package explain_test

import (
	"bytes"

	"encoding/json"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"strings"
	"testing"
	"time"

	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/explain"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// doctorWorld: alice (management account) may assume any role; dave may not. In dev,
// roles trust alice in different ways, and erin is a dev user.
func doctorWorld(t *testing.T) (*world, servertest.Creds) {
	w := newWorld(t)
	aliceKey := w.user(w.mgmt, "alice", allowAssumeAny)
	w.user(w.mgmt, "dave", "")
	alice, dave := "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:user/dave"
	w.role(w.devIAM, "trusts-alice", trustOf(alice, ""), "", 0)
	w.role(w.devIAM, "trusts-other", trustOf("arn:aws:iam::111111111111:user/mallory", ""), "", 0)
	w.role(w.devIAM, "needs-extid", trustOf(alice, `{"StringEquals":{"sts:ExternalId":"x-123"}}`), "", 0)
	w.role(w.devIAM, "trusts-dave", trustOf(dave, ""), "", 0)
	w.user(w.devIAM, "erin", allowAssumeAny)
	w.role(w.devIAM, "trusts-erin", trustOf("arn:aws:iam::"+w.dev+":user/erin", ""), "", 0)
	return w, aliceKey
}

// agrees asserts that the server's AssumeRole, called by alice, succeeds exactly when
// the doctor found nothing wrong: the doctor and the server run the same engine.
func agrees(t *testing.T, w *world, alice servertest.Creds, r *explain.Report, q explain.AssumeQuery) {
	t.Helper()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(q.RoleArn), RoleSessionName: aws.String("agree")}
	if q.ExternalID != "" {
		in.ExternalId = aws.String(q.ExternalID)
	}
	if q.Duration > 0 {
		in.DurationSeconds = aws.Int32(int32(q.Duration.Seconds()))
	}
	_, err := sts.NewFromConfig(w.config(alice)).AssumeRole(ctx, in)
	if (err == nil) != (len(r.Failed()) == 0) {
		t.Fatalf("the server says %v, the doctor %d failures", err, len(r.Failed()))
	}
}

func doctor(t *testing.T, src explain.Source, q explain.AssumeQuery) (*explain.Report, string) {
	t.Helper()
	r, err := explain.DoctorAssumeRole(ctx, src, q)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteReport(&buf, r, explain.Painter{})
	return r, buf.String()
}

// check returns the named check of a report.
func check(t *testing.T, r *explain.Report, text, name string) explain.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name || strings.HasPrefix(c.Name, name) {
			return c
		}
	}
	t.Fatalf("no check %q:\n%s", name, text)
	return explain.Check{}
}

// onlyFailure asserts that exactly the named check failed (and the final decision).
func onlyFailure(t *testing.T, r *explain.Report, text, name string) explain.Check {
	t.Helper()
	var failed []string
	for _, c := range r.Failed() {
		if c.Name != "decision" {
			failed = append(failed, c.Name)
		}
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], name) {
		t.Fatalf("failed checks %q, want only %q:\n%s", failed, name, text)
	}
	if r.Decision == "allowed" {
		t.Fatalf("decision allowed despite a failure:\n%s", text)
	}
	return check(t, r, text, name)
}

func TestDoctorAssumeRole(t *testing.T) {
	w, aliceKey := doctorWorld(t)
	alice := "arn:aws:iam::111111111111:user/alice"
	role := func(name string) string { return "arn:aws:iam::" + w.dev + ":role/" + name }

	t.Run("all good", func(t *testing.T) {
		q := explain.AssumeQuery{Principal: alice, RoleArn: role("trusts-alice")}
		r, text := doctor(t, w.source(w.admin), q)
		agrees(t, w, aliceKey, r, q)
		if len(r.Failed()) != 0 || r.Decision != "allowed" {
			t.Fatalf("failures:\n%s", text)
		}
		wantAll(t, text, "ok    trust policy allows the caller", "names the caller: statement 0 (names the caller)", `inline policy "p" of user alice`)
	})

	t.Run("role missing", func(t *testing.T) {
		q := explain.AssumeQuery{Principal: alice, RoleArn: role("nope")}
		r, text := doctor(t, w.source(w.admin), q)
		agrees(t, w, aliceKey, r, q)
		c := onlyFailure(t, r, text, "role exists")
		wantAll(t, c.Detail, "role nope does not exist in account "+w.dev)
		wantAll(t, c.Fix, "aws iam create-role --role-name nope")
		wantAll(t, c.FixPolicy, `"AWS": "`+alice+`"`, `"Action": "sts:AssumeRole"`)
	})

	t.Run("no identity allow", func(t *testing.T) {
		r, text := doctor(t, w.source(w.admin), explain.AssumeQuery{Principal: "arn:aws:iam::111111111111:user/dave", RoleArn: role("trusts-dave")})
		c := onlyFailure(t, r, text, "identity policy allows sts:AssumeRole")
		wantAll(t, c.Detail, "no identity-based policy allows sts:AssumeRole")
		wantAll(t, c.Fix, "aws iam put-user-policy --user-name dave")
		var doc struct{ Statement []explain.Statement }
		if err := json.Unmarshal([]byte(c.FixPolicy), &doc); err != nil || len(doc.Statement) != 1 ||
			doc.Statement[0].Action != "sts:AssumeRole" || doc.Statement[0].Resource != role("trusts-dave") {
			t.Fatalf("fix policy %s (%v)", c.FixPolicy, err)
		}
	})

	t.Run("trust does not name the caller", func(t *testing.T) {
		q := explain.AssumeQuery{Principal: alice, RoleArn: role("trusts-other")}
		r, text := doctor(t, w.source(w.admin), q)
		agrees(t, w, aliceKey, r, q)
		c := onlyFailure(t, r, text, "trust policy allows the caller")
		wantAll(t, c.Detail, "no Allow statement", "names AWS:arn:aws:iam::111111111111:user/mallory")
		wantAll(t, c.Fix, "aws iam update-assume-role-policy --role-name trusts-other")
		// The new document keeps the old statement and adds one for alice.
		wantAll(t, c.FixPolicy, "user/mallory", `"AWS": "`+alice+`"`)
	})

	t.Run("ExternalId missing", func(t *testing.T) {
		q := explain.AssumeQuery{Principal: alice, RoleArn: role("needs-extid")}
		r, text := doctor(t, w.source(w.admin), q)
		agrees(t, w, aliceKey, r, q)
		c := onlyFailure(t, r, text, "ExternalId")
		wantAll(t, c.Detail, `requires StringEquals sts:ExternalId "x-123"`, "the request has none")
		wantAll(t, c.Fix, "--external-id")
		if tc := check(t, r, text, "trust policy allows the caller"); tc.Status != explain.StatusOK {
			t.Fatalf("the trust policy does name alice:\n%s", text)
		}
		r, text = doctor(t, w.source(w.admin), explain.AssumeQuery{Principal: alice, RoleArn: role("needs-extid"), ExternalID: "wrong"})
		c = onlyFailure(t, r, text, "ExternalId")
		wantAll(t, c.Detail, `the request has "wrong"`)
		q = explain.AssumeQuery{Principal: alice, RoleArn: role("needs-extid"), ExternalID: "x-123"}
		r, text = doctor(t, w.source(w.admin), q)
		agrees(t, w, aliceKey, r, q)
		if len(r.Failed()) != 0 {
			t.Fatalf("with the right ExternalId:\n%s", text)
		}
	})

	t.Run("duration over MaxSessionDuration", func(t *testing.T) {
		q := explain.AssumeQuery{Principal: alice, RoleArn: role("trusts-alice"), Duration: 2 * time.Hour}
		r, text := doctor(t, w.source(w.admin), q)
		agrees(t, w, aliceKey, r, q)
		c := check(t, r, text, "MaxSessionDuration")
		if c.Status != explain.StatusFail || len(r.Failed()) != 1 {
			t.Fatalf("want only MaxSessionDuration to fail:\n%s", text)
		}
		wantAll(t, c.Detail, "(7200) exceeds the MaxSessionDuration (3600)")
		wantAll(t, c.Fix, "aws iam update-role --role-name trusts-alice --max-session-duration 7200", "--duration 1h0m0s")
	})

	t.Run("chaining", func(t *testing.T) {
		r, text := doctor(t, w.source(w.admin), explain.AssumeQuery{Principal: "arn:aws:iam::" + w.dev + ":role/OrganizationAccountAccessRole",
			RoleArn: role("trusts-alice"), Duration: 2 * time.Hour})
		c := check(t, r, text, "role chaining")
		if c.Status != explain.StatusFail || !strings.Contains(c.Detail, "1 hour session limit") {
			t.Fatalf("chaining check:\n%s", text)
		}
	})

	t.Run("SCP deny", func(t *testing.T) {
		w.orgPolicy(orgtypes.PolicyTypeServiceControlPolicy, "no-assume", `{"Version":"2012-10-17","Statement":[{"Sid":"NoAssume","Effect":"Deny","Action":"sts:AssumeRole","Resource":"*"}]}`, w.dev)
		erin := "arn:aws:iam::" + w.dev + ":user/erin"
		r, text := doctor(t, w.source(w.admin), explain.AssumeQuery{Principal: erin, RoleArn: role("trusts-erin")})
		c := onlyFailure(t, r, text, "SCPs of the caller's account")
		wantAll(t, c.Detail, `statement 0 (Sid "NoAssume") of SCP no-assume`, "denies sts:AssumeRole")
		wantAll(t, c.FixPolicy, `"ArnNotEquals"`, `"aws:PrincipalArn": "`+erin+`"`, `"Effect": "Deny"`)
		// Management-account principals are exempt, whatever the SCP says.
		r, text = doctor(t, w.source(w.admin), explain.AssumeQuery{Principal: alice, RoleArn: role("trusts-alice")})
		if len(r.Failed()) != 0 || !strings.Contains(check(t, r, text, "SCPs").Detail, "exempt") {
			t.Fatalf("alice under the SCP:\n%s", text)
		}
	})

	t.Run("the caller by default", func(t *testing.T) {
		r, text := doctor(t, w.source(w.admin), explain.AssumeQuery{RoleArn: role("OrganizationAccountAccessRole")})
		if r.Principal != "arn:aws:iam::111111111111:user/admin" || len(r.Failed()) != 0 {
			t.Fatalf("as the caller:\n%s", text)
		}
	})

	t.Run("root may not", func(t *testing.T) {
		r, text := doctor(t, w.source(w.admin), explain.AssumeQuery{Principal: "arn:aws:iam::111111111111:root", RoleArn: role("trusts-alice")})
		onlyFailure(t, r, text, "principal may assume roles")
	})
}

func TestDoctorCall(t *testing.T) {
	w := newWorld(t)
	w.user(w.devIAM, "frank", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)
	frank := "arn:aws:iam::" + w.dev + ":user/frank"
	r, err := explain.DoctorCall(ctx, w.source(w.admin), explain.Query{Principal: frank, Action: "ec2:RunInstances", Resource: "*"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	explain.WriteReport(&buf, r, explain.Painter{})
	text := buf.String()
	c := onlyFailure(t, r, text, "identity policy allows ec2:RunInstances")
	wantAll(t, c.Fix, "aws iam put-user-policy --user-name frank")
	wantAll(t, c.FixPolicy, `"Action": "ec2:RunInstances"`)
}
