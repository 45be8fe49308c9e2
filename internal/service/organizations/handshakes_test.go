package organizations_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/store"
)

func (f *fixture) invite(t *testing.T, typ types.HandshakePartyType, id string) *types.Handshake {
	t.Helper()
	out, err := f.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &types.HandshakeParty{Type: typ, Id: &id}, Notes: aws.String("join us")})
	if err != nil {
		t.Fatalf("InviteAccountToOrganization %s: %v", id, err)
	}
	return out.Handshake
}

func TestInvitedAccount(t *testing.T) {
	f := newOrg(t)
	f.enable(t, types.PolicyTypeServiceControlPolicy)
	const invited = "222222222222"

	h := f.invite(t, types.HandshakePartyTypeAccount, invited)
	hid := aws.ToString(h.Id)
	if !regexp.MustCompile(`^h-[a-z0-9]{10}$`).MatchString(hid) || h.State != types.HandshakeStateOpen || h.Action != types.ActionTypeInviteAccountToOrganization ||
		aws.ToString(h.Arn) != "arn:aws:organizations::111111111111:handshake/"+f.id+"/invite/"+hid ||
		len(h.Parties) != 2 || aws.ToString(h.Parties[0].Id) != f.id || h.Parties[0].Type != types.HandshakePartyTypeOrganization ||
		aws.ToString(h.Parties[1].Id) != invited || h.Parties[1].Type != types.HandshakePartyTypeAccount ||
		h.RequestedTimestamp == nil || h.ExpirationTimestamp == nil || !h.ExpirationTimestamp.After(*h.RequestedTimestamp) {
		t.Fatalf("handshake: %+v", h)
	}

	_, err := f.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &types.HandshakeParty{Type: types.HandshakePartyTypeAccount, Id: aws.String(invited)}})
	wantCode(t, "second invitation", err, "DuplicateHandshakeException")
	_, err = f.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &types.HandshakeParty{Type: types.HandshakePartyTypeAccount, Id: aws.String(servertest.Account)}})
	wantReason(t, "invite the management account", err, "HandshakeConstraintViolationException", "ALREADY_IN_AN_ORGANIZATION")
	_, err = f.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &types.HandshakeParty{Type: types.HandshakePartyTypeOrganization, Id: aws.String("o-abcdefghij")}})
	wantReason(t, "invite an organization", err, "InvalidInputException", "INVALID_PARTY_TYPE_TARGET")
	_, err = f.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &types.HandshakeParty{Type: types.HandshakePartyTypeEmail, Id: aws.String("nobody")}})
	wantReason(t, "invite a bad email", err, "InvalidInputException", "INVALID_EMAIL_ADDRESS_TARGET")

	// The invited account exists now, bare and outside the organization.
	_, err = f.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(invited)})
	wantCode(t, "DescribeAccount before accepting", err, "AccountNotFoundException")
	invitedRoot := f.s.RootKey(t, invited)
	them := f.s.Organizations(invitedRoot)
	_, err = them.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantCode(t, "DescribeOrganization by the invited account", err, "AWSOrganizationsNotInUseException")
	_, err = them.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	wantCode(t, "CreateOrganization by the invited account", err, "AccessDeniedException")

	mine, err := them.ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
	if err != nil || len(mine.Handshakes) != 1 || aws.ToString(mine.Handshakes[0].Id) != hid {
		t.Fatalf("ListHandshakesForAccount: %v %+v", err, mine)
	}
	d, err := them.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: &hid})
	if err != nil || d.Handshake.State != types.HandshakeStateOpen {
		t.Fatalf("DescribeHandshake by the invited account: %v %+v", err, d)
	}
	all, err := f.org.ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{})
	if err != nil || len(all.Handshakes) != 1 {
		t.Fatalf("ListHandshakesForOrganization: %v %+v", err, all)
	}
	none, err := f.org.ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{
		Filter: &types.HandshakeFilter{ActionType: types.ActionTypeEnableAllFeatures}})
	if err != nil || len(none.Handshakes) != 0 {
		t.Fatalf("ListHandshakesForOrganization ENABLE_ALL_FEATURES: %v %+v", err, none)
	}

	_, err = f.org.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: &hid})
	wantCode(t, "AcceptHandshake by the management account", err, "AccessDeniedException")
	_, err = them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: aws.String("h-0000000000")})
	wantCode(t, "AcceptHandshake unknown", err, "HandshakeNotFoundException")
	acc, err := them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: &hid})
	if err != nil || acc.Handshake.State != types.HandshakeStateAccepted {
		t.Fatalf("AcceptHandshake: %v %+v", err, acc)
	}
	_, err = them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: &hid})
	wantCode(t, "AcceptHandshake twice", err, "HandshakeAlreadyInStateException")
	_, err = them.DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: &hid})
	wantCode(t, "DeclineHandshake after accepting", err, "InvalidHandshakeTransitionException")

	a, err := f.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(invited)})
	if err != nil || a.Account.JoinedMethod != types.AccountJoinedMethodInvited {
		t.Fatalf("DescribeAccount after accepting: %v %+v", err, a)
	}
	parents, err := f.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(invited)})
	if err != nil || aws.ToString(parents.Parents[0].Id) != f.root {
		t.Fatalf("ListParents of the invited account: %v %+v", err, parents)
	}
	if got := f.attachedIDs(t, invited, types.PolicyTypeServiceControlPolicy); len(got) != 1 || got[0] != "p-FullAWSAccess" {
		t.Fatalf("SCPs of the invited account: %v", got)
	}
	if _, err := them.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
		t.Fatalf("DescribeOrganization by the new member: %v", err)
	}
	_, err = them.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	wantCode(t, "CreateOrganization by the new member", err, "AlreadyInOrganizationException")

	// No OrganizationAccountAccessRole in an invited account.
	admin := adminUser(t, f.s, "admin")
	_, err = assume(f.s, admin, invited, "OrganizationAccountAccessRole")
	wantCode(t, "AssumeRole into an invited account", err, "AccessDenied")

	// SCPs limit a member account's root user.
	if _, err := f.s.IAM(invitedRoot).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers by the invited root: %v", err)
	}
	f.attach(t, f.createPolicy(t, types.PolicyTypeServiceControlPolicy, "DenyIAM", denyIAM), invited)
	_, err = f.s.IAM(invitedRoot).ListUsers(ctx, &iam.ListUsersInput{})
	wantSCPDeny(t, "ListUsers by the invited root under a deny-iam SCP", err)
}

func TestHandshakeResponses(t *testing.T) {
	f := newOrg(t)

	// Declined, by email: an unknown address makes a new bare account.
	h := f.invite(t, types.HandshakePartyTypeEmail, "someone@example.com")
	if h.Parties[1].Type != types.HandshakePartyTypeEmail || aws.ToString(h.Resources[1].Value) != "someone@example.com" {
		t.Fatalf("email handshake: %+v", h)
	}
	all, err := f.org.ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{})
	if err != nil || len(all.Handshakes) != 1 {
		t.Fatalf("ListHandshakesForOrganization: %v", err)
	}
	invitedID := accountByEmail(t, f.s, "someone@example.com")
	them := f.s.Organizations(f.s.RootKey(t, invitedID))
	_, err = them.CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: h.Id})
	wantCode(t, "CancelHandshake by the invited account", err, "AccessDeniedException")
	dec, err := them.DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: h.Id})
	if err != nil || dec.Handshake.State != types.HandshakeStateDeclined {
		t.Fatalf("DeclineHandshake: %v %+v", err, dec)
	}
	_, err = them.DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: h.Id})
	wantCode(t, "DeclineHandshake twice", err, "HandshakeAlreadyInStateException")
	_, err = f.org.CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: h.Id})
	wantCode(t, "CancelHandshake after declining", err, "InvalidHandshakeTransitionException")

	// A second invitation by the same address reaches the same account.
	h2 := f.invite(t, types.HandshakePartyTypeEmail, "SOMEONE@example.com")
	c, err := f.org.CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: h2.Id})
	if err != nil || c.Handshake.State != types.HandshakeStateCanceled {
		t.Fatalf("CancelHandshake: %v %+v", err, c)
	}
	_, err = them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h2.Id})
	wantCode(t, "AcceptHandshake after cancel", err, "InvalidHandshakeTransitionException")
	mine, err := them.ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
	if err != nil || len(mine.Handshakes) != 2 {
		t.Fatalf("ListHandshakesForAccount: %v %+v", err, mine)
	}

	// Another account's invitation can be neither seen nor answered.
	other := f.invite(t, types.HandshakePartyTypeAccount, "333333333333")
	stranger := them
	_, err = stranger.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: other.Id})
	wantCode(t, "DescribeHandshake by a stranger", err, "AccessDeniedException")
	_, err = stranger.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: other.Id})
	wantCode(t, "AcceptHandshake by a stranger", err, "AccessDeniedException")
	_, err = stranger.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: aws.String("bad")})
	wantReason(t, "DescribeHandshake malformed", err, "InvalidInputException", "INVALID_PATTERN")
}

func TestHandshakeExpiry(t *testing.T) {
	f := newOrg(t)
	h := f.invite(t, types.HandshakePartyTypeAccount, "444444444444")
	// Age the invitation past its 15 days, in the store.
	err := writeStore(f.s, func(tx store.Tx) error {
		var raw map[string]any
		if err := tx.Get(directory.KindHandshake, aws.ToString(h.Id), &raw); err != nil {
			return err
		}
		raw["Requested"] = time.Now().Add(-16 * 24 * time.Hour).UTC()
		raw["Expires"] = time.Now().Add(-24 * time.Hour).UTC()
		return tx.Put(directory.KindHandshake, aws.ToString(h.Id), raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.org.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: h.Id})
	if err != nil || d.Handshake.State != types.HandshakeStateExpired {
		t.Fatalf("DescribeHandshake of an old invitation: %v %+v", err, d)
	}
	them := f.s.Organizations(f.s.RootKey(t, "444444444444"))
	_, err = them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id})
	wantCode(t, "AcceptHandshake expired", err, "InvalidHandshakeTransitionException")
	// An expired invitation is no duplicate.
	h2 := f.invite(t, types.HandshakePartyTypeAccount, "444444444444")
	if _, err := them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h2.Id}); err != nil {
		t.Fatal(err)
	}
}

// accountByEmail finds the account that uses an email address.
func accountByEmail(t *testing.T, s *servertest.Server, email string) string {
	t.Helper()
	id := ""
	err := s.Env.Store.Read(ctx, func(tx store.Tx) error {
		return tx.Scan(directory.KindAccount, "", "", 0, func(_ string, data []byte) (bool, error) {
			var a directory.Account
			if err := json.Unmarshal(data, &a); err != nil {
				return false, err
			}
			if strings.EqualFold(a.Email, email) {
				id = a.ID
			}
			return id == "", nil
		})
	})
	if err != nil || id == "" {
		t.Fatalf("account with email %s: %v", email, err)
	}
	return id
}
