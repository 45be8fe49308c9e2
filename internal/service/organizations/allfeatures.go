package organizations

import (
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
)

func init() {
	register(action("EnableAllFeatures", onAny, true, enableAllFeatures))
}

// Enabling all features ("EnableAllFeatures" in the API reference; "Enabling all
// features in your organization" in the user guide) is a handshake in three steps:
//  1. EnableAllFeatures makes the request, an ENABLE_ALL_FEATURES handshake of the
//     organization (state REQUESTED), and sends one ENABLE_ALL_FEATURES handshake to
//     every invited member account (created accounts need not agree);
//  2. when every invited account has accepted, the request is OPEN ("all recipients
//     have responded. The sender can now complete the handshake action") and the
//     management account gets an APPROVE_ALL_FEATURES handshake;
//  3. the management account accepts it (or the OPEN request itself) and the
//     organization's feature set becomes ALL.
// Canceling the request cancels its handshakes; a declined final approval ends it.

// allFeaturesHandshake makes a handshake of a request to enable all features.
func allFeaturesHandshake(org *directory.Organization, action, account, parent string) *handshake {
	h := &handshake{Action: action, AccountID: account, ParentID: parent,
		Parties:   []partyOut{{org.ID, partyOrganization}},
		Resources: []handshakeResourceOut{{Value: org.ID, Type: partyOrganization}}}
	if account != "" {
		h.PartyType, h.PartyID = partyAccount, account
		h.Parties = append(h.Parties, partyOut{account, partyAccount})
	}
	if parent != "" {
		h.Resources = append(h.Resources, handshakeResourceOut{Value: parent, Type: "PARENT_HANDSHAKE"})
	}
	return h
}

func enableAllFeatures(c *service.Call) (any, error) {
	org, err := decodeForManagement(c, &struct{}{})
	if err != nil {
		return nil, err
	}
	if org.FeatureSet == "ALL" {
		return nil, withReason(orgError("HandshakeConstraintViolationException",
			"The handshake request is invalid because the organization has already enabled all features."), "ORGANIZATION_ALREADY_HAS_ALL_FEATURES")
	}
	err = checkNotEnablingAllFeatures(c, org, withReason(orgError("HandshakeConstraintViolationException",
		"The handshake request is invalid because the organization has already started the process to enable all features."), "ORGANIZATION_IS_ALREADY_PENDING_ALL_FEATURES_MIGRATION"))
	if err != nil {
		return nil, err
	}
	req := allFeaturesHandshake(org, actionEnableAll, "", "")
	req.State = stateRequested
	if err := newHandshake(c, org, req); err != nil {
		return nil, err
	}
	invited := 0
	err = scanAccounts(c.Tx, func(a *directory.Account) error {
		if a.ID == org.MasterAccountID || a.JoinedMethod != "INVITED" {
			return nil
		}
		invited++
		return newHandshake(c, org, allFeaturesHandshake(org, actionEnableAll, a.ID, req.ID))
	})
	if err != nil {
		return nil, err
	}
	if invited == 0 {
		if err := requestFinalApproval(c, org, req); err != nil {
			return nil, err
		}
	}
	return &handshakeResult{req.out(c.Now)}, nil
}

// family lists the handshakes a request to enable all features made.
func family(c *service.Call, parent string) ([]*handshake, error) {
	var out []*handshake
	err := scanHandshakes(c.Tx, func(h *handshake) error {
		if h.ParentID == parent {
			out = append(out, h)
		}
		return nil
	})
	return out, err
}

// approveAllFeatures accepts an ENABLE_ALL_FEATURES handshake: a member account's
// agreement, which asks for the final approval once everyone agreed, or the OPEN
// request itself, which finishes.
func approveAllFeatures(c *service.Call, org *directory.Organization, h *handshake) error {
	if h.ParentID == "" {
		if h.state(c.Now) != stateOpen {
			return orgError("InvalidHandshakeTransitionException", "You can't perform the operation on the handshake in its current state (%s): every invited account must approve enabling all features first.", h.state(c.Now))
		}
		return finishAllFeatures(c, org, h)
	}
	kids, err := family(c, h.ParentID)
	if err != nil {
		return err
	}
	for _, k := range kids {
		if k.ID != h.ID && k.action() == actionEnableAll && k.State != stateAccepted {
			return nil
		}
	}
	var req handshake
	if err := c.Tx.Get(directory.KindHandshake, h.ParentID, &req); err != nil {
		return err
	}
	return requestFinalApproval(c, org, &req)
}

// requestFinalApproval opens the request and sends the management account its
// APPROVE_ALL_FEATURES handshake.
func requestFinalApproval(c *service.Call, org *directory.Organization, req *handshake) error {
	req.State = stateOpen
	if err := c.Tx.Put(directory.KindHandshake, req.ID, req); err != nil {
		return err
	}
	return newHandshake(c, org, allFeaturesHandshake(org, actionApproveAll, org.MasterAccountID, req.ID))
}

// finishAllFeatures enables all features; the request and its final approval are
// accepted.
func finishAllFeatures(c *service.Call, org *directory.Organization, h *handshake) error {
	org.FeatureSet = "ALL"
	if err := c.Tx.Put(directory.KindOrganization, "org", org); err != nil {
		return err
	}
	return endAllFeaturesRequest(c, requestOf(h), stateAccepted, h.ID)
}

// requestOf is the id of the request to enable all features a handshake belongs to.
func requestOf(h *handshake) string {
	if h.ParentID == "" {
		return h.ID
	}
	return h.ParentID
}

// settleAllFeatures carries a declined or canceled handshake over to its request to
// enable all features: one member declining leaves the request to the management
// account, which may cancel it; canceling the request or declining the final
// approval ends it.
func settleAllFeatures(c *service.Call, h *handshake, to string) error {
	if h.action() == actionEnableAll && h.ParentID != "" {
		return nil
	}
	return endAllFeaturesRequest(c, requestOf(h), to, h.ID)
}

// endAllFeaturesRequest settles a request to enable all features: every pending
// handshake of it, the request included, takes the state to, but the one answered.
func endAllFeaturesRequest(c *service.Call, request, to, answered string) error {
	kids, err := family(c, request)
	if err != nil {
		return err
	}
	var req handshake
	if err := c.Tx.Get(directory.KindHandshake, request, &req); err != nil {
		return err
	}
	for _, k := range append(kids, &req) {
		if k.ID != answered && pending(k.state(c.Now)) {
			k.State = to
			if err := c.Tx.Put(directory.KindHandshake, k.ID, k); err != nil {
				return err
			}
		}
	}
	return nil
}
