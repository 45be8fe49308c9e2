package organizations_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/servertest"
)

// newCBOrg is a server with a consolidated billing organization.
func newCBOrg(t *testing.T) *fixture {
	t.Helper()
	s := servertest.Start(t, "")
	org := s.Organizations(servertest.Root)
	out, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling})
	if err != nil {
		t.Fatal(err)
	}
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, org: org, root: aws.ToString(roots.Roots[0].Id), id: aws.ToString(out.Organization.Id)}
}

func handshakeResource(h types.Handshake, typ types.HandshakeResourceType) string {
	for _, r := range h.Resources {
		if r.Type == typ {
			return aws.ToString(r.Value)
		}
	}
	return ""
}

func TestEnableAllFeatures(t *testing.T) {
	all := newOrg(t)
	_, err := all.org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	wantReason(t, "EnableAllFeatures with all features", err, "HandshakeConstraintViolationException", "ORGANIZATION_ALREADY_HAS_ALL_FEATURES")

	f := newCBOrg(t)
	f.createAccount(t, "created") // created accounts need not agree
	const invited = "222222222222"
	h := f.invite(t, types.HandshakePartyTypeAccount, invited)
	if fs := handshakeResource(types.Handshake{Resources: h.Resources[0].Resources}, types.HandshakeResourceTypeOrganizationFeatureSet); fs != "CONSOLIDATED_BILLING" {
		t.Fatalf("feature set in the invitation: %q", fs)
	}
	them := f.s.Organizations(f.s.RootKey(t, invited))
	if _, err := them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = them.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	wantCode(t, "EnableAllFeatures by a member", err, "AccessDeniedException")

	out, err := f.org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	if err != nil {
		t.Fatal(err)
	}
	req := out.Handshake
	reqID := aws.ToString(req.Id)
	if req.Action != types.ActionTypeEnableAllFeatures || req.State != types.HandshakeStateRequested ||
		aws.ToString(req.Arn) != "arn:aws:organizations::111111111111:handshake/"+f.id+"/enable_all_features/"+reqID ||
		len(req.Parties) != 1 || aws.ToString(req.Parties[0].Id) != f.id || req.Parties[0].Type != types.HandshakePartyTypeOrganization ||
		handshakeResource(*req, types.HandshakeResourceTypeOrganization) != f.id {
		t.Fatalf("EnableAllFeatures: %+v", req)
	}
	_, err = f.org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	wantReason(t, "EnableAllFeatures twice", err, "HandshakeConstraintViolationException", "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION")
	_, err = f.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Type: types.HandshakePartyTypeAccount, Id: aws.String("333333333333")}})
	wantReason(t, "an invitation while enabling all features", err, "HandshakeConstraintViolationException", "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES")
	_, err = f.org.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: &reqID})
	wantCode(t, "accepting the request before the members agree", err, "InvalidHandshakeTransitionException")

	// The invited member gets its own ENABLE_ALL_FEATURES handshake.
	mine, err := them.ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{Filter: &types.HandshakeFilter{ActionType: types.ActionTypeEnableAllFeatures}})
	if err != nil || len(mine.Handshakes) != 1 || handshakeResource(mine.Handshakes[0], types.HandshakeResourceTypeParentHandshake) != reqID {
		t.Fatalf("the member's ENABLE_ALL_FEATURES handshake: %v %+v", err, mine)
	}
	kids, err := f.org.ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{Filter: &types.HandshakeFilter{ParentHandshakeId: &reqID}})
	if err != nil || len(kids.Handshakes) != 1 {
		t.Fatalf("handshakes of the request: %v %+v", err, kids)
	}
	_, err = f.org.ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{Filter: &types.HandshakeFilter{ParentHandshakeId: &reqID, ActionType: types.ActionTypeInviteAccountToOrganization}})
	wantReason(t, "two filters", err, "InvalidInputException", "MAX_LIMIT_EXCEEDED_FILTER")
	if _, err := them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: mine.Handshakes[0].Id}); err != nil {
		t.Fatal(err)
	}

	// Everyone agreed: the request is OPEN and the management account approves.
	d, err := f.org.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: &reqID})
	if err != nil || d.Handshake.State != types.HandshakeStateOpen {
		t.Fatalf("the request once the members agreed: %v %+v", err, d)
	}
	approvals, err := f.org.ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{Filter: &types.HandshakeFilter{ActionType: types.ActionTypeApproveAllFeatures}})
	if err != nil || len(approvals.Handshakes) != 1 || !strings.Contains(aws.ToString(approvals.Handshakes[0].Arn), "/approve_all_features/") {
		t.Fatalf("APPROVE_ALL_FEATURES handshake: %v %+v", err, approvals)
	}
	_, err = them.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: approvals.Handshakes[0].Id})
	wantCode(t, "APPROVE_ALL_FEATURES by a member", err, "AccessDeniedException")
	if _, err := f.org.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: approvals.Handshakes[0].Id}); err != nil {
		t.Fatal(err)
	}
	o, err := f.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || o.Organization.FeatureSet != types.OrganizationFeatureSetAll {
		t.Fatalf("feature set after approval: %v %+v", err, o)
	}
	d, _ = f.org.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: &reqID})
	if d.Handshake.State != types.HandshakeStateAccepted {
		t.Fatalf("the request after approval: %+v", d.Handshake)
	}
	f.enable(t, types.PolicyTypeServiceControlPolicy)
}

func TestEnableAllFeaturesCanceled(t *testing.T) {
	f := newCBOrg(t)
	out, err := f.org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	if err != nil {
		t.Fatal(err)
	}
	// No invited account: the final approval is asked at once.
	if out.Handshake.State != types.HandshakeStateOpen {
		t.Fatalf("request without invited accounts: %+v", out.Handshake)
	}
	if _, err := f.org.CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: out.Handshake.Id}); err != nil {
		t.Fatal(err)
	}
	approvals, err := f.org.ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{Filter: &types.HandshakeFilter{ActionType: types.ActionTypeApproveAllFeatures}})
	if err != nil || len(approvals.Handshakes) != 1 || approvals.Handshakes[0].State != types.HandshakeStateCanceled {
		t.Fatalf("the approval of a canceled request: %v %+v", err, approvals)
	}
	_, err = f.org.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: approvals.Handshakes[0].Id})
	wantCode(t, "approving a canceled request", err, "InvalidHandshakeTransitionException")
	o, _ := f.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if o.Organization.FeatureSet != types.OrganizationFeatureSetConsolidatedBilling {
		t.Fatalf("feature set after canceling: %+v", o.Organization)
	}
	// A new request may follow.
	if _, err := f.org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{}); err != nil {
		t.Fatal(err)
	}
}
