package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, nil, &out, &errOut)
	return code, strings.TrimSpace(out.String()), errOut.String()
}

// TestSAMLCommands: the built-in IdP's metadata registers as an IAM SAML provider, and
// its assertions assume a role through STS, as an IdP's would.
func TestSAMLCommands(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	credsEnv(t, servertest.RootKeyID, servertest.RootSecret)
	code, md, errOut := run(t, "saml", "metadata", "--endpoint-url", s.URL, "--name", "corp")
	if code != 0 || !strings.Contains(md, `entityID="urn:iamlocal:saml:idp:corp"`) {
		t.Fatalf("metadata: %d %s %s", code, md, errOut)
	}
	// A second call answers the same IdP.
	if _, again, _ := run(t, "saml", "metadata", "--endpoint-url", s.URL, "--name", "corp"); again != md {
		t.Fatal("the IdP changed between calls")
	}
	root := s.IAM(servertest.Root)
	if _, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(md)}); err != nil {
		t.Fatal(err)
	}
	provider := "arn:aws:iam::111111111111:saml-provider/corp"
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dev"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],
		  "Condition":{"StringEquals":{"saml:edupersonprincipalname":"alice@example.edu","saml:aud":"https://signin.aws.amazon.com/saml"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	role := "arn:aws:iam::111111111111:role/dev"
	code, resp, errOut := run(t, "saml", "assertion", "--endpoint-url", s.URL, "--idp", "corp", "--subject", "alice",
		"--role", role+","+provider, "--attr", "eduPersonPrincipalName=alice@example.edu", "--tag", "team=blue", "--sign", "both")
	if code != 0 {
		t.Fatalf("assertion: %d %s", code, errOut)
	}
	out, err := s.STS(servertest.Creds{}).AssumeRoleWithSAML(ctx, &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role),
		PrincipalArn: aws.String(provider), SAMLAssertion: aws.String(resp)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Issuer) != "urn:iamlocal:saml:idp:corp" || aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::111111111111:assumed-role/dev/alice" {
		t.Fatalf("assumed %+v", out)
	}
	// --decode shows the XML.
	if _, xml, _ := run(t, "saml", "assertion", "--endpoint-url", s.URL, "--idp", "corp", "--subject", "alice", "--role", role+","+provider, "--decode"); !strings.Contains(xml, "<saml:NameID") {
		t.Fatalf("decoded: %s", xml)
	}
	// Unknown IdP; bad flags.
	if code, _, errOut := run(t, "saml", "assertion", "--endpoint-url", s.URL, "--idp", "nope", "--subject", "a"); code != 1 || !strings.Contains(errOut, "ResourceNotFoundException: No SAML identity provider named nope") {
		t.Fatalf("unknown IdP: %d %s", code, errOut)
	}
	if code, _, _ := run(t, "saml", "assertion", "--endpoint-url", s.URL, "--idp", "corp", "--subject", "a", "--role", "norole"); code != 2 {
		t.Fatalf("--role without a pair: %d", code)
	}

	// Signing is iamlocal:SignSAMLAssertion, decided by the engine: a user without it is
	// refused, one allowed it may.
	for _, u := range []struct{ name, policy string }{
		{"eve", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`},
		{"idpadmin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iamlocal:SignSAMLAssertion","Resource":"arn:aws:iamlocal:::saml-idp/corp"}]}`},
	} {
		if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u.name)}); err != nil {
			t.Fatal(err)
		}
		if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(u.name), PolicyName: aws.String("p"), PolicyDocument: aws.String(u.policy)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		name string
		ok   bool
	}{{"eve", false}, {"idpadmin", true}} {
		k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u.name)})
		if err != nil {
			t.Fatal(err)
		}
		credsEnv(t, aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey))
		code, _, errOut := run(t, "saml", "assertion", "--endpoint-url", s.URL, "--idp", "corp", "--subject", "x", "--role", role+","+provider)
		if u.ok && code != 0 {
			t.Fatalf("%s: %s", u.name, errOut)
		}
		if !u.ok && (code != 1 || !strings.Contains(errOut, "AccessDeniedException: User: arn:aws:iam::111111111111:user/eve is not authorized to perform: iamlocal:SignSAMLAssertion on resource: arn:aws:iamlocal:::saml-idp/corp")) {
			t.Fatalf("%s: %d %s", u.name, code, errOut)
		}
		if !u.ok {
			// Nor may eve make IdPs.
			code, _, errOut := run(t, "saml", "metadata", "--endpoint-url", s.URL, "--name", "mine")
			if code != 1 || !strings.Contains(errOut, "iamlocal:GetSAMLIdPMetadata") {
				t.Fatalf("eve's metadata: %d %s", code, errOut)
			}
		}
	}
}

// TestMFACodeCommand: codes from the server enable a device and authenticate
// GetSessionToken, as the AWS CLI's --serial-number/--token-code do.
func TestMFACodeCommand(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	credsEnv(t, servertest.RootKeyID, servertest.RootSecret)
	root := s.IAM(servertest.Root)
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	dev, err := root.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	serial := aws.ToString(dev.VirtualMFADevice.SerialNumber)
	code, out, errOut := run(t, "mfa", "code", "--endpoint-url", s.URL, "--serial", serial, "--count", "2")
	codes := strings.Fields(out)
	if code != 0 || len(codes) != 2 || len(codes[0]) != 6 {
		t.Fatalf("codes: %d %q %s", code, out, errOut)
	}
	if _, err := root.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(codes[0]), AuthenticationCode2: aws.String(codes[1])}); err != nil {
		t.Fatal(err)
	}
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	alice := s.STS(servertest.Creds{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)})
	_, next, errOut := run(t, "mfa", "code", "--endpoint-url", s.URL, "--serial", serial)
	if next == codes[0] || next == codes[1] {
		t.Fatalf("the next code repeats one used to enable: %s (%s)", next, errOut)
	}
	if _, err := alice.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(next)}); err != nil {
		t.Fatalf("GetSessionToken with the code: %v", err)
	}
	if code, _, errOut := run(t, "mfa", "code", "--endpoint-url", s.URL, "--serial", "arn:aws:iam::111111111111:mfa/none"); code != 1 || !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("unknown device: %d %s", code, errOut)
	}
	if code, _, _ := run(t, "mfa", "code", "--serial", serial); code != 2 {
		t.Fatalf("without an endpoint: %d", code)
	}
}

// TestDoctorSAML: the doctor passes a good assertion, and for a trust policy that
// says no names the condition that did not match, with the claims shown.
func TestDoctorSAML(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	credsEnv(t, servertest.RootKeyID, servertest.RootSecret)
	_, md, _ := run(t, "saml", "metadata", "--endpoint-url", s.URL, "--name", "corp")
	root := s.IAM(servertest.Root)
	if _, err := root.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(md)}); err != nil {
		t.Fatal(err)
	}
	provider, role := "arn:aws:iam::111111111111:saml-provider/corp", "arn:aws:iam::111111111111:role/dev"
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dev"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Sid":"Staff","Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"sts:AssumeRoleWithSAML",
		  "Condition":{"StringEquals":{"saml:edupersonaffiliation":"staff"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, good, _ := run(t, "saml", "assertion", "--endpoint-url", s.URL, "--idp", "corp", "--subject", "alice", "--role", role+","+provider, "--attr", "eduPersonAffiliation=staff")
	code, out, errOut := run(t, "doctor", "assume-role-with-saml", "--endpoint-url", s.URL, "--role-arn", role, "--principal-arn", provider, "--saml-assertion", good)
	if code != 0 || !strings.Contains(out, "claims: attribute urn:oid:1.3.6.1.4.1.5923.1.1.1.1 = staff") {
		t.Fatalf("good: %d\n%s\n%s", code, out, errOut)
	}
	_, student, _ := run(t, "saml", "assertion", "--endpoint-url", s.URL, "--idp", "corp", "--subject", "bob", "--role", role+","+provider, "--attr", "eduPersonAffiliation=student")
	code, out, _ = run(t, "doctor", "assume-role-with-saml", "--endpoint-url", s.URL, "--role-arn", role, "--principal-arn", provider, "--saml-assertion", student)
	if code != 1 || !strings.Contains(out, `statement 1 (Staff): StringEquals saml:edupersonaffiliation "staff": the request has "student"`) {
		t.Fatalf("student: %d\n%s", code, out)
	}
	code, out, _ = run(t, "doctor", "assume-role-with-saml", "--endpoint-url", s.URL, "--role-arn", role, "--principal-arn", provider, "--saml-assertion", good,
		"--at", time.Now().Add(10*time.Minute).Format(time.RFC3339))
	if code != 1 || !strings.Contains(out, "ExpiredTokenException: Token must be redeemed within 5 minutes of issuance") {
		t.Fatalf("later: %d\n%s", code, out)
	}
	_, other, _ := run(t, "saml", "assertion", "--endpoint-url", s.URL, "--idp", "corp", "--subject", "alice", "--role", "arn:aws:iam::111111111111:role/x,"+provider)
	code, out, _ = run(t, "doctor", "assume-role-with-saml", "--endpoint-url", s.URL, "--role-arn", role, "--principal-arn", provider, "--saml-assertion", other)
	if code != 1 || !strings.Contains(out, "the Role attribute pairs: arn:aws:iam::111111111111:role/x,"+provider) {
		t.Fatalf("role pair: %d\n%s", code, out)
	}
	run(t, "saml", "metadata", "--endpoint-url", s.URL, "--name", "rogue")
	_, rogue, _ := run(t, "saml", "assertion", "--endpoint-url", s.URL, "--idp", "rogue", "--subject", "alice", "--role", role+","+provider)
	code, out, _ = run(t, "doctor", "assume-role-with-saml", "--endpoint-url", s.URL, "--role-arn", role, "--principal-arn", provider, "--saml-assertion", rogue)
	if code != 1 || !strings.Contains(out, "InvalidIdentityToken: Response signature invalid") || !strings.Contains(out, "issuer urn:iamlocal:saml:idp:rogue, subject alice") {
		t.Fatalf("rogue: %d\n%s", code, out)
	}
}
