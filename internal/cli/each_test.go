package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func TestEachAcrossTheOrganization(t *testing.T) {
	s := servertest.Start(t, "")
	ctx := context.Background()
	org := s.Organizations(servertest.Root)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	var created []string
	for _, name := range []string{"dev", "prod"} {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, aws.ToString(st.CreateAccountStatus.AccountId))
	}
	// An invited account, without OrganizationAccountAccessRole.
	hs, err := org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &orgtypes.HandshakeParty{Id: aws.String("333333333333"), Type: orgtypes.HandshakePartyTypeAccount}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Organizations(s.RootKey(t, "333333333333")).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: hs.Handshake.Id}); err != nil {
		t.Fatal(err)
	}
	root := s.IAM(servertest.Root)
	root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ops")})
	root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ops"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
	k, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ops")})
	if err != nil {
		t.Fatal(err)
	}
	credsEnv(t, aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey))

	var out, errOut bytes.Buffer
	code := Main([]string{"each", "--endpoint-url", s.URL, "--org", "--role-name", "OrganizationAccountAccessRole", "--parallel", "2", "--",
		"sh", "-c", `echo "hello from $IAMLOCAL_ACCOUNT_ID"; test -n "$AWS_SESSION_TOKEN"`}, nil, &out, &errOut)
	if code == 0 {
		t.Fatalf("an account failed, yet exit 0:\n%s", out.String())
	}
	text := out.String()
	for _, id := range created {
		if !strings.Contains(text, id+" | hello from "+id) {
			t.Errorf("no prefixed output from %s:\n%s", id, text)
		}
		if !strings.Contains(text, id+"  ") || !strings.Contains(text, "ok") {
			t.Errorf("table lacks %s ok:\n%s", id, text)
		}
	}
	// Issue 13 item 6: the invited account's row has its id and a name, and says why.
	if !strings.Contains(text, "333333333333  invited-3333  failed") || !strings.Contains(text, "the account joined by invitation, and invited accounts get no OrganizationAccountAccessRole") {
		t.Errorf("the invited account's failure is not explained:\n%s", text)
	}
	if strings.Contains(text, servertest.Account+" ") {
		t.Errorf("the management account was included without --include-management:\n%s", text)
	}
	if !strings.Contains(errOut.String(), "1 of 3 accounts failed") {
		t.Errorf("stderr: %s", errOut.String())
	}
}
