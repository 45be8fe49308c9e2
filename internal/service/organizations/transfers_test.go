package organizations_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

func nextMonth() time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC)
}

func (f *fixture) inviteTransfer(account string, start time.Time) (*organizations.InviteOrganizationToTransferResponsibilityOutput, error) {
	return f.org.InviteOrganizationToTransferResponsibility(ctx, &organizations.InviteOrganizationToTransferResponsibilityInput{
		Type: types.ResponsibilityTransferTypeBilling, Target: &types.HandshakeParty{Type: types.HandshakePartyTypeAccount, Id: &account},
		StartTimestamp: &start, SourceName: aws.String("billing by the platform team"), Notes: aws.String("we pay")})
}

func TestResponsibilityTransfer(t *testing.T) {
	f := newOrg(t)
	member := f.createAccount(t, "member")
	const partner = "333333333333" // another organization's management account
	start := nextMonth()

	// The documented rules of an invitation.
	_, err := f.inviteTransfer(partner, start.Add(12*time.Hour))
	wantReason(t, "a start during the day", err, "InvalidInputException", "START_DATE_NOT_BEGINNING_OF_DAY")
	_, err = f.inviteTransfer(partner, start.AddDate(0, 0, 14))
	wantReason(t, "a start in mid-month", err, "InvalidInputException", "START_DATE_NOT_BEGINNING_OF_MONTH")
	_, err = f.inviteTransfer(partner, start.AddDate(-1, 0, 0))
	wantReason(t, "a start last year", err, "InvalidInputException", "START_DATE_TOO_EARLY")
	_, err = f.inviteTransfer(servertest.Account, start)
	wantReason(t, "inviting oneself", err, "HandshakeConstraintViolationException", "SOURCE_AND_TARGET_CANNOT_MATCH")
	_, err = f.inviteTransfer(member, start)
	wantReason(t, "inviting a member account", err, "HandshakeConstraintViolationException", "ALREADY_IN_AN_ORGANIZATION")
	_, err = f.org.InviteOrganizationToTransferResponsibility(ctx, &organizations.InviteOrganizationToTransferResponsibilityInput{
		Type: "SUPPORT", Target: &types.HandshakeParty{Type: types.HandshakePartyTypeAccount, Id: aws.String(partner)}, StartTimestamp: &start, SourceName: aws.String("x")})
	wantReason(t, "a type other than BILLING", err, "InvalidInputException", "INVALID_ENUM")
	_, err = f.s.Organizations(f.s.RootKey(t, member)).InviteOrganizationToTransferResponsibility(ctx, &organizations.InviteOrganizationToTransferResponsibilityInput{
		Type: types.ResponsibilityTransferTypeBilling, Target: &types.HandshakeParty{Type: types.HandshakePartyTypeAccount, Id: aws.String(partner)}, StartTimestamp: &start, SourceName: aws.String("x")})
	wantCode(t, "an invitation by a member", err, "AccessDeniedException")

	out, err := f.inviteTransfer(partner, start)
	if err != nil {
		t.Fatal(err)
	}
	h := out.Handshake
	rt := handshakeResource(*h, types.HandshakeResourceTypeResponsibilityTransfer)
	if h.Action != types.ActionTypeTransferResponsibility || h.State != types.HandshakeStateOpen || rt == "" ||
		handshakeResource(*h, types.HandshakeResourceTypeTransferType) != "BILLING" ||
		handshakeResource(*h, types.HandshakeResourceTypeManagementAccount) != servertest.Account {
		t.Fatalf("transfer invitation: %+v", h)
	}
	_, err = f.inviteTransfer(partner, start)
	wantCode(t, "a second invitation", err, "DuplicateHandshakeException")

	// Inbound for the inviter, outbound for the invited.
	in, err := f.org.ListInboundResponsibilityTransfers(ctx, &organizations.ListInboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling})
	if err != nil || len(in.ResponsibilityTransfers) != 1 {
		t.Fatalf("ListInboundResponsibilityTransfers: %v %+v", err, in)
	}
	tr := in.ResponsibilityTransfers[0]
	if aws.ToString(tr.Id) != rt || tr.Status != types.ResponsibilityTransferStatusRequested || aws.ToString(tr.ActiveHandshakeId) != aws.ToString(h.Id) ||
		aws.ToString(tr.Arn) != "arn:aws:organizations::111111111111:transfer/"+f.id+"/billing/inbound/"+rt ||
		aws.ToString(tr.Source.ManagementAccountId) != partner || aws.ToString(tr.Target.ManagementAccountId) != servertest.Account ||
		!tr.StartTimestamp.Equal(start) || aws.ToString(tr.Name) != "billing by the platform team" {
		t.Fatalf("inbound transfer: %+v", tr)
	}
	if out, err := f.org.ListOutboundResponsibilityTransfers(ctx, &organizations.ListOutboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling}); err != nil || len(out.ResponsibilityTransfers) != 0 {
		t.Fatalf("ListOutboundResponsibilityTransfers of the inviter: %v %+v", err, out)
	}
	them := f.s.Organizations(f.s.RootKey(t, partner))
	outbound, err := them.ListOutboundResponsibilityTransfers(ctx, &organizations.ListOutboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling})
	if err != nil || len(outbound.ResponsibilityTransfers) != 1 || aws.ToString(outbound.ResponsibilityTransfers[0].Arn) != "arn:aws:organizations::"+partner+":transfer/"+f.id+"/billing/outbound/"+rt {
		t.Fatalf("ListOutboundResponsibilityTransfers of the invited: %v %+v", err, outbound)
	}
	_, err = them.ListOutboundResponsibilityTransfers(ctx, &organizations.ListOutboundResponsibilityTransfersInput{Type: "SUPPORT"})
	wantReason(t, "ListOutboundResponsibilityTransfers of another type", err, "InvalidInputException", "INVALID_ENUM")
	_, err = f.s.Organizations(f.s.RootKey(t, member)).ListOutboundResponsibilityTransfers(ctx, &organizations.ListOutboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling})
	wantCode(t, "ListOutboundResponsibilityTransfers by a member account", err, "AccessDeniedException")
	_, err = f.org.ListInboundResponsibilityTransfers(ctx, &organizations.ListInboundResponsibilityTransfersInput{Type: types.ResponsibilityTransferTypeBilling, Id: aws.String("rt-0000000000")})
	wantCode(t, "ListInboundResponsibilityTransfers of an unknown id", err, "ResponsibilityTransferNotFoundException")

	terminate := func(c *organizations.Client, end *time.Time) (*organizations.TerminateResponsibilityTransferOutput, error) {
		return c.TerminateResponsibilityTransfer(ctx, &organizations.TerminateResponsibilityTransferInput{Id: &rt, EndTimestamp: end})
	}
	_, err = terminate(f.org, nil)
	wantCode(t, "withdrawing a requested transfer", err, "InvalidResponsibilityTransferTransitionException")

	// The invited account accepts.
	if _, err := them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
		t.Fatal(err)
	}
	d, err := them.DescribeResponsibilityTransfer(ctx, &organizations.DescribeResponsibilityTransferInput{Id: &rt})
	if err != nil || d.ResponsibilityTransfer.Status != types.ResponsibilityTransferStatusAccepted || d.ResponsibilityTransfer.ActiveHandshakeId != nil {
		t.Fatalf("DescribeResponsibilityTransfer after accepting: %v %+v", err, d)
	}
	_, err = f.inviteTransfer(partner, start)
	wantReason(t, "an invitation beside an accepted transfer", err, "HandshakeConstraintViolationException", "RESPONSIBILITY_TRANSFER_ALREADY_EXISTS")

	up, err := f.org.UpdateResponsibilityTransfer(ctx, &organizations.UpdateResponsibilityTransferInput{Id: &rt, Name: aws.String("renamed")})
	if err != nil || aws.ToString(up.ResponsibilityTransfer.Name) != "renamed" {
		t.Fatalf("UpdateResponsibilityTransfer: %v %+v", err, up)
	}
	_, err = f.org.UpdateResponsibilityTransfer(ctx, &organizations.UpdateResponsibilityTransferInput{Id: &rt, Name: aws.String("naïve")})
	wantReason(t, "a name outside printable ASCII", err, "InvalidInputException", "INVALID_PATTERN")

	// Either party withdraws it, to the end of a month.
	mid := start.AddDate(0, 1, 14)
	_, err = terminate(them, &mid)
	wantReason(t, "an end in mid-month", err, "InvalidInputException", "END_DATE_NOT_END_OF_MONTH")
	lastYear := time.Date(time.Now().Year()-1, 12, 31, 23, 59, 59, 999e6, time.UTC)
	_, err = terminate(them, &lastYear)
	wantReason(t, "an end last year", err, "InvalidInputException", "END_DATE_TOO_EARLY")
	end := start.AddDate(0, 2, 0).Add(-time.Millisecond)
	w, err := terminate(them, &end)
	if err != nil || w.ResponsibilityTransfer.Status != types.ResponsibilityTransferStatusWithdrawn || !w.ResponsibilityTransfer.EndTimestamp.Equal(end) {
		t.Fatalf("TerminateResponsibilityTransfer: %v %+v", err, w)
	}
	_, err = terminate(f.org, nil)
	wantCode(t, "withdrawing twice", err, "ResponsibilityTransferAlreadyInStatusException")

	// Only the parties see it.
	mem := f.s.Organizations(f.s.RootKey(t, member))
	_, err = mem.DescribeResponsibilityTransfer(ctx, &organizations.DescribeResponsibilityTransferInput{Id: &rt})
	wantCode(t, "DescribeResponsibilityTransfer by a member", err, "AccessDeniedException")
	f.invite(t, types.HandshakePartyTypeAccount, "555555555555") // makes the account, outside the organization
	stranger := f.s.Organizations(f.s.RootKey(t, "555555555555"))
	_, err = stranger.DescribeResponsibilityTransfer(ctx, &organizations.DescribeResponsibilityTransferInput{Id: &rt})
	wantCode(t, "DescribeResponsibilityTransfer by a stranger", err, "ResponsibilityTransferNotFoundException")
	_, err = f.org.DescribeResponsibilityTransfer(ctx, &organizations.DescribeResponsibilityTransferInput{Id: aws.String("rt-bad")})
	wantReason(t, "a malformed id", err, "InvalidInputException", "INVALID_PATTERN")

	// A transfer in force keeps the organization.
	if _, err := f.org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: &member}); err != nil {
		t.Fatal(err)
	}
	_, err = f.org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	wantReason(t, "DeleteOrganization during a transfer", err, "ConstraintViolationException", "ACTIVE_RESPONSIBILITY_TRANSFER_PROCESS")
}

func TestResponsibilityTransferAnswers(t *testing.T) {
	f := newOrg(t)
	start := nextMonth()
	status := func(id string) types.ResponsibilityTransferStatus {
		t.Helper()
		d, err := f.org.DescribeResponsibilityTransfer(ctx, &organizations.DescribeResponsibilityTransferInput{Id: &id})
		if err != nil {
			t.Fatal(err)
		}
		return d.ResponsibilityTransfer.Status
	}

	declined, err := f.inviteTransfer("444444444444", start)
	if err != nil {
		t.Fatal(err)
	}
	them := f.s.Organizations(f.s.RootKey(t, "444444444444"))
	if _, err := them.DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: declined.Handshake.Id}); err != nil {
		t.Fatal(err)
	}
	if got := status(handshakeResource(*declined.Handshake, types.HandshakeResourceTypeResponsibilityTransfer)); got != types.ResponsibilityTransferStatusDeclined {
		t.Fatalf("declined transfer: %s", got)
	}

	canceled, err := f.inviteTransfer("444444444444", start) // a declined invitation is no duplicate
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.org.CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: canceled.Handshake.Id}); err != nil {
		t.Fatal(err)
	}
	if got := status(handshakeResource(*canceled.Handshake, types.HandshakeResourceTypeResponsibilityTransfer)); got != types.ResponsibilityTransferStatusCanceled {
		t.Fatalf("canceled transfer: %s", got)
	}
	// Nothing pending or in force: the organization may go.
	if _, err := f.org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{}); err != nil {
		t.Fatalf("DeleteOrganization after answered transfers: %v", err)
	}
}
