package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// A new user's report: for an invited account, doctor assume-role said it "could not
// read the role" and pointed back at itself. It now says the account was invited, that
// invited accounts get no OrganizationAccountAccessRole, and how to create it; the
// commands it prints, run with the member's credentials, make AssumeRole work.
func TestDoctorInvitedAccount(t *testing.T) {
	w := newExplainWorld(t)
	ctx := context.Background()
	const invitedID = "222222222222"
	org := w.s.Organizations(servertest.Root)
	h, err := org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &orgtypes.HandshakeParty{Type: orgtypes.HandshakePartyTypeAccount, Id: aws.String(invitedID)}})
	if err != nil {
		t.Fatal(err)
	}
	member := w.s.RootKey(t, invitedID)
	if _, err := w.s.Organizations(member).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Handshake.Id}); err != nil {
		t.Fatal(err)
	}
	role := "arn:aws:iam::" + invitedID + ":role/OrganizationAccountAccessRole"
	runSteps(t, w.s.URL, []step{
		{args: []string{"doctor", "assume-role", "--role-arn", role}, code: 1,
			stdout: []string{"FAIL  role exists", "joined the organization by invitation (JoinedMethod INVITED)",
				"invited accounts get no OrganizationAccountAccessRole", "iamlocal root-key --account-id " + invitedID,
				"aws iam create-role --role-name OrganizationAccountAccessRole", `arn:aws:iam::111111111111:root`,
				"aws iam attach-role-policy --role-name OrganizationAccountAccessRole --policy-arn arn:aws:iam::aws:policy/AdministratorAccess"},
			notStdout: []string{"could not read the role", "see `iamlocal doctor assume-role"}},
	})
	// Follow the fix with the member's root key; then the doctor finds nothing wrong.
	var out struct {
		Checks []struct{ Check, FixPolicy string }
	}
	var buf, errBuf bytes.Buffer
	Main([]string{"doctor", "assume-role", "--json", "--role-arn", role, "--endpoint-url", w.s.URL}, nil, &buf, &errBuf)
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	trust := ""
	for _, c := range out.Checks {
		if c.Check == "role exists" {
			trust = c.FixPolicy
		}
	}
	mi := w.s.IAM(member)
	if _, err := mi.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("OrganizationAccountAccessRole"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatalf("create-role with the printed trust policy: %v", err)
	}
	if _, err := mi.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("OrganizationAccountAccessRole"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	runSteps(t, w.s.URL, []step{
		{args: []string{"doctor", "assume-role", "--role-arn", role}, stdout: []string{"ok    role exists", "ok    decision"}, notStdout: []string{"FAIL"}},
	})
}
