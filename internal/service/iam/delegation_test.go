package iam_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/store"
)

func delegationInput(owner *string) *iam.CreateDelegationRequestInput {
	return &iam.CreateDelegationRequestInput{OwnerAccountId: owner, Description: aws.String("Read the billing reports"),
		Permissions: &types.DelegationPermission{PolicyTemplateArn: aws.String("arn:aws:iam::aws:policy-template/BillingRead"),
			Parameters: []types.PolicyParameter{{Name: aws.String("bucket"), Values: []string{"reports"}, Type: types.PolicyParameterTypeEnumString}}},
		RequestorWorkflowId: aws.String("wf-1234"), NotificationChannel: aws.String("arn:aws:sns:us-east-1:222222222222:partner"),
		SessionDuration: aws.Int32(3600), RedirectUrl: aws.String("https://partner.example/done")}
}

func TestDelegationRequestLifecycle(t *testing.T) {
	e := start(t)
	owner, _ := e.signer("owner", allowAll)
	created := ok(e.root.CreateDelegationRequest(e.ctx, delegationInput(aws.String(account))))(t)
	id := created.DelegationRequestId
	if !strings.HasSuffix(aws.ToString(created.ConsoleDeepLink), aws.ToString(id)) {
		t.Fatalf("created: %+v", created)
	}
	state := func(want types.StateType) *types.DelegationRequest {
		t.Helper()
		r := ok(owner.GetDelegationRequest(e.ctx, &iam.GetDelegationRequestInput{DelegationRequestId: id}))(t).DelegationRequest
		if r.State != want {
			t.Fatalf("state %s, want %s", r.State, want)
		}
		return r
	}
	r := state(types.StateTypeAssigned)
	if aws.ToString(r.OwnerAccountId) != account || r.OwnerId != nil || aws.ToInt32(r.SessionDuration) != 3600 ||
		r.Permissions.Parameters[0].Values[0] != "reports" || aws.ToString(r.RequestorId) != account {
		t.Fatalf("request: %+v", r)
	}
	// Not listed until it has an owner.
	if l := ok(owner.ListDelegationRequests(e.ctx, &iam.ListDelegationRequestsInput{}))(t); len(l.DelegationRequests) != 0 {
		t.Fatalf("listed before association: %+v", l.DelegationRequests)
	}
	ok(owner.AssociateDelegationRequest(e.ctx, &iam.AssociateDelegationRequestInput{DelegationRequestId: id}))(t)
	if r := state(types.StateTypeAssigned); aws.ToString(r.OwnerId) != "arn:aws:iam::111111111111:user/owner" {
		t.Fatalf("owner: %+v", r)
	}
	if l := ok(owner.ListDelegationRequests(e.ctx, &iam.ListDelegationRequestsInput{}))(t); len(l.DelegationRequests) != 1 {
		t.Fatalf("list: %+v", l.DelegationRequests)
	}
	ok(owner.UpdateDelegationRequest(e.ctx, &iam.UpdateDelegationRequestInput{DelegationRequestId: id, Notes: aws.String("checked")}))(t)
	state(types.StateTypePendingApproval)
	_, err := owner.SendDelegationToken(e.ctx, &iam.SendDelegationTokenInput{DelegationRequestId: id})
	wantErr(t, err, "InvalidInput", 400, "The delegation request "+aws.ToString(id)+" must be in state ACCEPTED to send its token; it is PENDING_APPROVAL.")
	ok(owner.AcceptDelegationRequest(e.ctx, &iam.AcceptDelegationRequestInput{DelegationRequestId: id}))(t)
	if r := state(types.StateTypeAccepted); aws.ToString(r.ApproverId) != "arn:aws:iam::111111111111:user/owner" {
		t.Fatalf("approver: %+v", r)
	}
	sum := ok(owner.GetHumanReadableSummary(e.ctx, &iam.GetHumanReadableSummaryInput{EntityArn: aws.String("arn:aws:iam::111111111111:delegation-request/" + aws.ToString(id))}))(t)
	if sum.SummaryState != types.SummaryStateTypeAvailable || !strings.Contains(aws.ToString(sum.SummaryContent), "Read the billing reports") || aws.ToString(sum.Locale) != "en" {
		t.Fatalf("summary: %+v", sum)
	}
	ok(owner.SendDelegationToken(e.ctx, &iam.SendDelegationTokenInput{DelegationRequestId: id}))(t)
	state(types.StateTypeFinalized)
	_, err = owner.RejectDelegationRequest(e.ctx, &iam.RejectDelegationRequestInput{DelegationRequestId: id})
	wantErr(t, err, "InvalidInput", 400, "The delegation request "+aws.ToString(id)+" is in state FINALIZED and cannot be rejected.")

	// A request for anyone; once rejected it cannot be accepted.
	id2 := ok(e.root.CreateDelegationRequest(e.ctx, delegationInput(nil)))(t).DelegationRequestId
	state2 := ok(owner.GetDelegationRequest(e.ctx, &iam.GetDelegationRequestInput{DelegationRequestId: id2}))(t).DelegationRequest
	if state2.State != types.StateTypeUnassigned {
		t.Fatalf("unassigned: %+v", state2)
	}
	ok(owner.RejectDelegationRequest(e.ctx, &iam.RejectDelegationRequestInput{DelegationRequestId: id2, Notes: aws.String("no thanks")}))(t)
	if r := ok(owner.GetDelegationRequest(e.ctx, &iam.GetDelegationRequestInput{DelegationRequestId: id2}))(t).DelegationRequest; r.State != types.StateTypeRejected || aws.ToString(r.RejectionReason) != "no thanks" {
		t.Fatalf("rejected: %+v", r)
	}
	_, err = owner.AcceptDelegationRequest(e.ctx, &iam.AcceptDelegationRequestInput{DelegationRequestId: id2})
	wantErr(t, err, "InvalidInput", 400, "The delegation request "+aws.ToString(id2)+" is in state REJECTED and cannot be accepted.")
}

func TestDelegationRequestRejections(t *testing.T) {
	e := start(t)
	_, err := e.root.GetDelegationRequest(e.ctx, &iam.GetDelegationRequestInput{DelegationRequestId: aws.String("dr-doesnotexist0000")})
	wantErr(t, err, "NoSuchEntity", 404, "The delegation request with id dr-doesnotexist0000 cannot be found.")
	in := delegationInput(aws.String("22222222222"))
	in.SessionDuration = aws.Int32(100)
	_, err = e.root.CreateDelegationRequest(e.ctx, in)
	wantErr(t, err, "ValidationError", 400, `2 validation errors detected: Value '22222222222' at 'ownerAccountId' failed to satisfy constraint: Member must satisfy regular expression pattern: \d{12}; Value '100' at 'sessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 300`)
	// A request assigned to another account is not this account's to see.
	id := ok(e.root.CreateDelegationRequest(e.ctx, delegationInput(aws.String("222222222222"))))(t).DelegationRequestId
	err = e.s.Env.Store.Write(e.ctx, func(tx store.Tx) error {
		return tx.Put(directory.KindAccount, "333333333333", directory.Account{ID: "333333333333", Status: "ACTIVE"})
	})
	if err != nil {
		t.Fatal(err)
	}
	other := e.s.IAM(e.s.RootKey(t, "333333333333"))
	_, err = other.GetDelegationRequest(e.ctx, &iam.GetDelegationRequestInput{DelegationRequestId: id})
	wantErr(t, err, "NoSuchEntity", 404, "The delegation request with id "+aws.ToString(id)+" cannot be found.")
	_, err = e.root.GetHumanReadableSummary(e.ctx, &iam.GetHumanReadableSummaryInput{EntityArn: aws.String("arn:aws:iam::111111111111:user/kim")})
	wantErr(t, err, "InvalidInput", 400, "ARN arn:aws:iam::111111111111:user/kim is not valid.")
}
