package organizations

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		action("InviteAccountToOrganization", onAny, true, inviteAccountToOrganization),
		action("AcceptHandshake", onHandshake, true, acceptHandshake),
		action("DeclineHandshake", onHandshake, true, declineHandshake),
		action("CancelHandshake", onHandshake, true, cancelHandshake),
		action("DescribeHandshake", onHandshake, false, describeHandshake),
		action("ListHandshakesForOrganization", onAny, false, listHandshakesForOrganization),
		action("ListHandshakesForAccount", onAny, false, listHandshakesForAccount),
	)
}

// Handshake states and actions.
const (
	stateRequested = "REQUESTED"
	stateOpen      = "OPEN"
	stateAccepted  = "ACCEPTED"
	stateDeclined  = "DECLINED"
	stateCanceled  = "CANCELED"
	stateExpired   = "EXPIRED"

	actionInvite      = "INVITE"
	actionEnableAll   = "ENABLE_ALL_FEATURES"
	actionApproveAll  = "APPROVE_ALL_FEATURES"
	actionTransfer    = "TRANSFER_RESPONSIBILITY"
	partyOrganization = "ORGANIZATION"
	partyAccount      = "ACCOUNT"
)

// handshake is a stored handshake: an invitation to join the organization, a step of
// enabling all features, or a responsibility transfer invitation.
type handshake struct {
	ID          string
	Arn         string
	OrgID       string
	Action      string // "" is INVITE, as stored before other handshakes existed
	State       string
	Requested   time.Time
	Expires     time.Time
	PartyType   string // ACCOUNT or EMAIL, as the invitation named the account
	PartyID     string
	AccountID   string // the account that answers; "" when the organization itself does
	ParentID    string // ENABLE_ALL_FEATURES and APPROVE_ALL_FEATURES: the request's handshake
	TransferID  string // TRANSFER_RESPONSIBILITY: the transfer it proposes
	Notes       string
	MasterEmail string
	MasterName  string
	FeatureSet  string          // INVITE: the organization's, when invited ("" is ALL)
	Tags        []directory.Tag // INVITE: applied to the account when it joins
	// Parties and Resources describe the handshakes other than INVITE as they were
	// made.
	Parties   []partyOut             `json:",omitempty"`
	Resources []handshakeResourceOut `json:",omitempty"`
}

func (h *handshake) action() string {
	if h.Action == "" {
		return actionInvite
	}
	return h.Action
}

// pending reports a state that still awaits an answer.
func pending(state string) bool { return state == stateOpen || state == stateRequested }

// state is the handshake's state at a time: a pending handshake expires.
func (h *handshake) state(now time.Time) string {
	if pending(h.State) && now.After(h.Expires) {
		return stateExpired
	}
	return h.State
}

type partyOut struct {
	Id   string
	Type string
}

type handshakeResourceOut struct {
	Value     string
	Type      string
	Resources []handshakeResourceOut `json:",omitempty"`
}

type handshakeOut struct {
	Id                  string
	Arn                 string
	Parties             []partyOut
	State               string
	RequestedTimestamp  *epoch `json:",omitempty"`
	ExpirationTimestamp *epoch `json:",omitempty"`
	Action              string
	Resources           []handshakeResourceOut
}

func (h *handshake) out(now time.Time) handshakeOut {
	out := handshakeOut{Id: h.ID, Arn: h.Arn, State: h.state(now), Action: h.action(),
		RequestedTimestamp: stamp(h.Requested), ExpirationTimestamp: stamp(h.Expires),
		Parties: h.Parties, Resources: h.Resources}
	if h.action() != actionInvite {
		return out
	}
	featureSet := h.FeatureSet
	if featureSet == "" {
		featureSet = "ALL"
	}
	out.Parties = []partyOut{{h.OrgID, partyOrganization}, {h.PartyID, h.PartyType}}
	out.Resources = []handshakeResourceOut{
		{Value: h.OrgID, Type: partyOrganization, Resources: []handshakeResourceOut{
			{Value: h.MasterEmail, Type: "MASTER_EMAIL"},
			{Value: h.MasterName, Type: "MASTER_NAME"},
			{Value: featureSet, Type: "ORGANIZATION_FEATURE_SET"},
		}},
		{Value: h.PartyID, Type: h.PartyType},
	}
	if h.Notes != "" {
		out.Resources = append(out.Resources, handshakeResourceOut{Value: h.Notes, Type: "NOTES"})
	}
	return out
}

type handshakeResult struct {
	Handshake handshakeOut
}

// newHandshake stores a pending handshake of the organization under a new id.
func newHandshake(c *service.Call, org *directory.Organization, h *handshake) error {
	h.OrgID, h.Requested, h.Expires = org.ID, c.Now.UTC(), c.Now.Add(handshakeLifetime).UTC()
	if h.State == "" {
		h.State = stateOpen
	}
	for {
		h.ID = "h-" + directory.RandomLower(10)
		h.Arn = handshakeArn(org, h.action(), h.ID)
		ok, err := c.Tx.Insert(directory.KindHandshake, h.ID, h)
		if err != nil || ok {
			return err
		}
	}
}

// partyIn is an invitation's Target member.
type partyIn struct {
	Id   *string
	Type *string
}

// invitation is what an invitation names: the party as written, the account it is
// (invitedAccount), notes and tags.
type invitation struct {
	partyID, partyType, notes string
	tags                      []directory.Tag
	account                   *directory.Account
}

// readInvitation reads the Target, Notes and Tags members of an invitation and finds
// (or makes) the invited account.
func readInvitation(c *service.Call, target *partyIn, notes *string, tags []tagIn) (*invitation, error) {
	if target == nil {
		return nil, invalidInput("INPUT_REQUIRED", "You must specify a value for Target.")
	}
	var in invitation
	var err error
	if in.partyID, err = need("Target.Id", target.Id); err != nil {
		return nil, err
	}
	if in.partyType, err = need("Target.Type", target.Type); err != nil {
		return nil, err
	}
	if notes != nil {
		if err := checkLength("Notes", *notes, 0, 1024); err != nil {
			return nil, err
		}
		in.notes = *notes
	}
	if in.tags, err = readTags(tags); err != nil {
		return nil, err
	}
	in.account, err = invitedAccount(c.Tx, in.partyType, in.partyID)
	return &in, err
}

// checkNotEnablingAllFeatures refuses, with refusal, what a pending request to
// enable all features forbids.
func checkNotEnablingAllFeatures(c *service.Call, org *directory.Organization, refusal error) error {
	found := false
	err := scanHandshakes(c.Tx, func(h *handshake) error {
		found = found || (h.OrgID == org.ID && h.action() == actionEnableAll && h.ParentID == "" && pending(h.state(c.Now)))
		return nil
	})
	if err == nil && found {
		err = refusal
	}
	return err
}

func inviteAccountToOrganization(c *service.Call) (any, error) {
	var in struct {
		Target *partyIn
		Notes  *string
		Tags   []tagIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	inv, err := readInvitation(c, in.Target, in.Notes, in.Tags)
	if err != nil {
		return nil, err
	}
	a := inv.account
	if a.ID == org.MasterAccountID || a.ParentID != "" {
		return nil, withReason(orgError("HandshakeConstraintViolationException",
			"The handshake request is invalid because the invited account is already a member of an organization."), "ALREADY_IN_AN_ORGANIZATION")
	}
	err = checkNotEnablingAllFeatures(c, org, withReason(orgError("HandshakeConstraintViolationException",
		"You can't issue new invitations to join an organization while it's in the process of enabling all features. You can resume inviting accounts after you finalize the process when all accounts have agreed to the change."), "INVITE_DISABLED_DURING_ENABLE_ALL_FEATURES"))
	if err != nil {
		return nil, err
	}
	duplicate := false
	err = scanHandshakes(c.Tx, func(h *handshake) error {
		duplicate = duplicate || (h.OrgID == org.ID && h.action() == actionInvite && h.AccountID == a.ID && pending(h.state(c.Now)))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if duplicate {
		return nil, orgError("DuplicateHandshakeException", "A handshake with the same action and target already exists: account %s has an open invitation from this organization.", a.ID)
	}
	if err := authorizeTags(c, org, inv.tags, accountArn(org, a.ID)); err != nil {
		return nil, err
	}
	master, err := loadAccount(c.Tx, org.MasterAccountID)
	if err != nil {
		return nil, err
	}
	h := &handshake{PartyType: inv.partyType, PartyID: inv.partyID, AccountID: a.ID, Notes: inv.notes, MasterEmail: org.MasterEmail,
		FeatureSet: org.FeatureSet, Tags: inv.tags}
	if master != nil {
		h.MasterName = master.Name
	}
	if err := newHandshake(c, org, h); err != nil {
		return nil, err
	}
	return &handshakeResult{h.out(c.Now)}, nil
}

// invitedAccount finds the account an invitation names. iamlocal has no AWS account
// sign-up, so an invitation to an account that does not exist yet creates it bare:
// no IAM users, roles or keys, outside any organization (see README.md).
func invitedAccount(tx store.Tx, partyType, partyID string) (*directory.Account, error) {
	var a *directory.Account
	var err error
	switch partyType {
	case "ACCOUNT":
		if !accountIDPattern.MatchString(partyID) {
			return nil, invalidInput("INVALID_PATTERN", "You provided a value for Target.Id that is not a 12-digit account id.")
		}
		if a, err = loadAccount(tx, partyID); err != nil || a != nil {
			return a, err
		}
		// An account iamlocal has not seen: on AWS it would have a name of its own.
		a = &directory.Account{ID: partyID, Name: "invited-" + partyID[len(partyID)-4:], Email: "root@" + partyID + ".iamlocal", Status: "ACTIVE"}
	case "EMAIL":
		if len(partyID) < 6 || len(partyID) > 64 || !emailPattern.MatchString(partyID) {
			return nil, invalidInput("INVALID_EMAIL_ADDRESS_TARGET", "You specified an invalid email address for the invited account owner.")
		}
		err := tx.Scan(directory.KindAccount, "", "", 0, func(_ string, data []byte) (bool, error) {
			var x directory.Account
			if err := json.Unmarshal(data, &x); err != nil {
				return false, err
			}
			if strings.EqualFold(x.Email, partyID) {
				a = &x
			}
			return a == nil, nil
		})
		if err != nil || a != nil {
			return a, err
		}
		id, err := newAccountID(tx)
		if err != nil {
			return nil, err
		}
		name, _, _ := strings.Cut(partyID, "@")
		a = &directory.Account{ID: id, Name: name, Email: partyID, Status: "ACTIVE"}
	case "ORGANIZATION":
		return nil, invalidInput("INVALID_PARTY_TYPE_TARGET", "You specified the wrong type of entity (ORGANIZATION) as the party of an invitation: use ACCOUNT or EMAIL.")
	default:
		return nil, invalidInput("INVALID_ENUM", "You specified an invalid value for Target.Type: ACCOUNT or EMAIL.")
	}
	return a, tx.Put(directory.KindAccount, a.ID, a)
}

func scanHandshakes(tx store.Tx, fn func(h *handshake) error) error {
	return tx.Scan(directory.KindHandshake, "", "", 0, func(_ string, data []byte) (bool, error) {
		var h handshake
		if err := json.Unmarshal(data, &h); err != nil {
			return false, err
		}
		return true, fn(&h)
	})
}

// loadHandshake reads a HandshakeId member naming a handshake of the current
// organization.
func loadHandshake(c *service.Call, v *string) (*handshake, *directory.Organization, error) {
	id, err := needID("HandshakeId", v, handshakeIDPattern)
	if err != nil {
		return nil, nil, err
	}
	notFound := orgError("HandshakeNotFoundException", "We can't find a handshake with the HandshakeId that you specified.")
	var h handshake
	if err := c.Tx.Get(directory.KindHandshake, id, &h); err != nil {
		if isNotFound(err) {
			return nil, nil, notFound
		}
		return nil, nil, err
	}
	org, err := loadOrg(c.Tx)
	if err != nil {
		return nil, nil, err
	}
	if org == nil || org.ID != h.OrgID {
		return nil, nil, notFound
	}
	return &h, org, nil
}

// respond moves a pending handshake to a final state, as its party may.
func respond(c *service.Call, h *handshake, to string) error {
	switch now := h.state(c.Now); {
	case now == to:
		return orgError("HandshakeAlreadyInStateException", "The specified handshake is already in the requested state.")
	case !pending(now):
		return orgError("InvalidHandshakeTransitionException", "You can't perform the operation on the handshake in its current state (%s).", now)
	}
	h.State = to
	return c.Tx.Put(directory.KindHandshake, h.ID, h)
}

func handshakeRequest(c *service.Call) (*handshake, *directory.Organization, error) {
	var in struct{ HandshakeId *string }
	if err := decode(c, &in); err != nil {
		return nil, nil, err
	}
	return loadHandshake(c, in.HandshakeId)
}

// answerer is the account that accepts or declines a handshake: the invited account,
// or the management account for the organization's own handshakes.
func (h *handshake) answerer(org *directory.Organization) string {
	if h.AccountID == "" {
		return org.MasterAccountID
	}
	return h.AccountID
}

// acceptHandshake carries out what the handshake proposes, as its party accepts it.
func acceptHandshake(c *service.Call) (any, error) {
	h, org, err := handshakeRequest(c)
	if err != nil {
		return nil, err
	}
	if c.Account() != h.answerer(org) {
		return nil, accessDenied()
	}
	if !pending(h.state(c.Now)) {
		return nil, respond(c, h, stateAccepted) // the error for the handshake's state
	}
	switch h.action() {
	case actionInvite:
		err = joinOrganization(c, org, h)
	case actionEnableAll:
		err = approveAllFeatures(c, org, h)
	case actionApproveAll:
		err = finishAllFeatures(c, org, h)
	case actionTransfer:
		err = setTransferStatus(c, h, transferAccepted)
	}
	if err != nil {
		return nil, err
	}
	if err := respond(c, h, stateAccepted); err != nil {
		return nil, err
	}
	return &handshakeResult{h.out(c.Now)}, nil
}

// joinOrganization puts an invited account under the root, with the full-access
// policies of the enabled types and no OrganizationAccountAccessRole.
func joinOrganization(c *service.Call, org *directory.Organization, h *handshake) error {
	a, err := loadAccount(c.Tx, h.AccountID)
	if err != nil {
		return err
	}
	if a == nil {
		return fmt.Errorf("invited account %s is missing", h.AccountID)
	}
	if a.ParentID != "" {
		return withReason(orgError("HandshakeConstraintViolationException",
			"The handshake request is invalid because the invited account is already a member of an organization."), "ALREADY_IN_AN_ORGANIZATION")
	}
	a.ParentID, a.JoinedMethod, a.JoinedAt = org.RootID, "INVITED", c.Now.UTC()
	a.Tags = mergeTags(a.Tags, h.Tags)
	if err := c.Tx.Put(directory.KindAccount, a.ID, a); err != nil {
		return err
	}
	return attachDefaults(c.Tx, org, a.ID, c.Now)
}

func declineHandshake(c *service.Call) (any, error) {
	h, org, err := handshakeRequest(c)
	if err != nil {
		return nil, err
	}
	if c.Account() != h.answerer(org) {
		return nil, accessDenied()
	}
	if err := respond(c, h, stateDeclined); err != nil {
		return nil, err
	}
	if err := settle(c, h, stateDeclined); err != nil {
		return nil, err
	}
	return &handshakeResult{h.out(c.Now)}, nil
}

func cancelHandshake(c *service.Call) (any, error) {
	h, org, err := handshakeRequest(c)
	if err != nil {
		return nil, err
	}
	if c.Account() != org.MasterAccountID {
		return nil, accessDenied()
	}
	if err := respond(c, h, stateCanceled); err != nil {
		return nil, err
	}
	if err := settle(c, h, stateCanceled); err != nil {
		return nil, err
	}
	return &handshakeResult{h.out(c.Now)}, nil
}

// settle carries a declined or canceled handshake over to what it belongs to: the
// transfer it proposed, or the request to enable all features and its other
// handshakes.
func settle(c *service.Call, h *handshake, to string) error {
	switch h.action() {
	case actionTransfer:
		return setTransferStatus(c, h, to)
	case actionEnableAll, actionApproveAll:
		return settleAllFeatures(c, h, to)
	}
	return nil
}

func describeHandshake(c *service.Call) (any, error) {
	h, org, err := handshakeRequest(c)
	if err != nil {
		return nil, err
	}
	if c.Account() != org.MasterAccountID && c.Account() != h.AccountID {
		acc, err := callerAccess(c, org, "DescribeHandshake")
		if err != nil {
			return nil, err
		}
		if !acc.delegated {
			return nil, accessDenied()
		}
	}
	return &handshakeResult{h.out(c.Now)}, nil
}

type handshakesIn struct {
	Filter *struct {
		ActionType        *string
		ParentHandshakeId *string
	}
	pageIn
}

// listHandshakes lists, newest first, the handshakes that keep returns true for and
// that the request's Filter selects (an action type or a parent handshake, not both).
func listHandshakes(c *service.Call, in *handshakesIn, keep func(*handshake) bool) (any, error) {
	if f := in.Filter; f != nil {
		if f.ActionType != nil && f.ParentHandshakeId != nil {
			return nil, invalidInput("MAX_LIMIT_EXCEEDED_FILTER", "You can specify only one filter parameter for the operation.")
		}
		base := keep
		switch {
		case f.ActionType != nil:
			keep = func(h *handshake) bool { return base(h) && h.action() == *f.ActionType }
		case f.ParentHandshakeId != nil:
			keep = func(h *handshake) bool { return base(h) && h.ParentID == *f.ParentHandshakeId }
		}
	}
	items, err := scanKind(c.Tx, directory.KindHandshake, "", func(h *handshake) (string, handshakeOut, bool) {
		return fmt.Sprintf("%020d/%s", 1<<62-h.Requested.UnixNano(), h.ID), h.out(c.Now), keep(h)
	})
	if err != nil {
		return nil, err
	}
	return page("Handshakes", in.pageIn, items)
}

func listHandshakesForOrganization(c *service.Call) (any, error) {
	var in handshakesIn
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	return listHandshakes(c, &in, func(h *handshake) bool { return h.OrgID == org.ID })
}

func listHandshakesForAccount(c *service.Call) (any, error) {
	var in handshakesIn
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	org, err := loadOrg(c.Tx)
	if err != nil {
		return nil, err
	}
	account := c.Account()
	return listHandshakes(c, &in, func(h *handshake) bool {
		return h.AccountID == account || (h.AccountID == "" && org != nil && h.OrgID == org.ID && account == org.MasterAccountID)
	})
}
