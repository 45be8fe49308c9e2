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

// Handshake states.
const (
	stateOpen     = "OPEN"
	stateAccepted = "ACCEPTED"
	stateDeclined = "DECLINED"
	stateCanceled = "CANCELED"
	stateExpired  = "EXPIRED"
)

// handshake is the stored invitation of an account to the organization.
type handshake struct {
	ID          string
	Arn         string
	OrgID       string
	State       string
	Requested   time.Time
	Expires     time.Time
	PartyType   string // ACCOUNT or EMAIL, as the invitation named the account
	PartyID     string
	AccountID   string // the invited account
	Notes       string
	MasterEmail string
	MasterName  string
	Tags        []directory.Tag // applied to the account when it joins
}

// state is the handshake's state at a time: an open handshake expires.
func (h *handshake) state(now time.Time) string {
	if h.State == stateOpen && now.After(h.Expires) {
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
	out := handshakeOut{Id: h.ID, Arn: h.Arn, State: h.state(now), Action: "INVITE",
		RequestedTimestamp: stamp(h.Requested), ExpirationTimestamp: stamp(h.Expires),
		Parties: []partyOut{{h.OrgID, "ORGANIZATION"}, {h.PartyID, h.PartyType}},
		Resources: []handshakeResourceOut{
			{Value: h.OrgID, Type: "ORGANIZATION", Resources: []handshakeResourceOut{
				{Value: h.MasterEmail, Type: "MASTER_EMAIL"},
				{Value: h.MasterName, Type: "MASTER_NAME"},
				{Value: "ALL", Type: "ORGANIZATION_FEATURE_SET"},
			}},
			{Value: h.PartyID, Type: h.PartyType},
		}}
	if h.Notes != "" {
		out.Resources = append(out.Resources, handshakeResourceOut{Value: h.Notes, Type: "NOTES"})
	}
	return out
}

type handshakeResult struct {
	Handshake handshakeOut
}

func inviteAccountToOrganization(c *service.Call) (any, error) {
	var in struct {
		Target *struct {
			Id   *string
			Type *string
		}
		Notes *string
		Tags  []tagIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	if in.Target == nil {
		return nil, invalidInput("INPUT_REQUIRED", "You must specify a value for Target.")
	}
	partyID, err := need("Target.Id", in.Target.Id)
	if err != nil {
		return nil, err
	}
	partyType, err := need("Target.Type", in.Target.Type)
	if err != nil {
		return nil, err
	}
	notes := ""
	if in.Notes != nil {
		notes = *in.Notes
		if err := checkLength("Notes", notes, 0, 1024); err != nil {
			return nil, err
		}
	}
	tags, err := readTags(in.Tags)
	if err != nil {
		return nil, err
	}
	a, err := invitedAccount(c.Tx, partyType, partyID)
	if err != nil {
		return nil, err
	}
	if a.ID == org.MasterAccountID || a.ParentID != "" {
		return nil, withReason(orgError("HandshakeConstraintViolationException",
			"The handshake request is invalid because the invited account is already a member of an organization."), "ALREADY_IN_AN_ORGANIZATION")
	}
	duplicate := false
	err = scanHandshakes(c.Tx, func(h *handshake) error {
		duplicate = duplicate || (h.OrgID == org.ID && h.AccountID == a.ID && h.state(c.Now) == stateOpen)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if duplicate {
		return nil, orgError("DuplicateHandshakeException", "A handshake with the same action and target already exists: account %s has an open invitation from this organization.", a.ID)
	}
	if err := authorizeTags(c, org, tags, accountArn(org, a.ID)); err != nil {
		return nil, err
	}
	master, err := loadAccount(c.Tx, org.MasterAccountID)
	if err != nil {
		return nil, err
	}
	h := &handshake{OrgID: org.ID, State: stateOpen, Requested: c.Now.UTC(), Expires: c.Now.Add(handshakeLifetime).UTC(),
		PartyType: partyType, PartyID: partyID, AccountID: a.ID, Notes: notes, MasterEmail: org.MasterEmail, Tags: tags}
	if master != nil {
		h.MasterName = master.Name
	}
	for {
		h.ID = "h-" + directory.RandomLower(10)
		h.Arn = handshakeArn(org, h.ID)
		ok, err := c.Tx.Insert(directory.KindHandshake, h.ID, h)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
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

// respond moves an open handshake to a final state, as its party may.
func respond(c *service.Call, h *handshake, to string) error {
	switch now := h.state(c.Now); {
	case now == to:
		return orgError("HandshakeAlreadyInStateException", "The specified handshake is already in the requested state.")
	case now != stateOpen:
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

// acceptHandshake joins the invited account to the organization, under the root,
// with the full-access policies of the enabled types and no
// OrganizationAccountAccessRole.
func acceptHandshake(c *service.Call) (any, error) {
	h, org, err := handshakeRequest(c)
	if err != nil {
		return nil, err
	}
	if c.Account() != h.AccountID {
		return nil, accessDenied()
	}
	if h.state(c.Now) != stateOpen {
		return nil, respond(c, h, stateAccepted) // the error for the handshake's state
	}
	a, err := loadAccount(c.Tx, h.AccountID)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, fmt.Errorf("invited account %s is missing", h.AccountID)
	}
	if a.ParentID != "" {
		return nil, withReason(orgError("HandshakeConstraintViolationException",
			"The handshake request is invalid because the invited account is already a member of an organization."), "ALREADY_IN_AN_ORGANIZATION")
	}
	a.ParentID, a.JoinedMethod, a.JoinedAt = org.RootID, "INVITED", c.Now.UTC()
	a.Tags = mergeTags(a.Tags, h.Tags)
	if err := c.Tx.Put(directory.KindAccount, a.ID, a); err != nil {
		return nil, err
	}
	if err := attachDefaults(c.Tx, org, a.ID); err != nil {
		return nil, err
	}
	if err := respond(c, h, stateAccepted); err != nil {
		return nil, err
	}
	return &handshakeResult{h.out(c.Now)}, nil
}

func declineHandshake(c *service.Call) (any, error) {
	h, _, err := handshakeRequest(c)
	if err != nil {
		return nil, err
	}
	if c.Account() != h.AccountID {
		return nil, accessDenied()
	}
	if err := respond(c, h, stateDeclined); err != nil {
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
	return &handshakeResult{h.out(c.Now)}, nil
}

func describeHandshake(c *service.Call) (any, error) {
	h, org, err := handshakeRequest(c)
	if err != nil {
		return nil, err
	}
	if c.Account() != org.MasterAccountID && c.Account() != h.AccountID {
		return nil, accessDenied()
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
// that the request's Filter selects.
func listHandshakes(c *service.Call, in *handshakesIn, keep func(*handshake) bool) (any, error) {
	if f := in.Filter; f != nil {
		if f.ActionType != nil && *f.ActionType != "INVITE" {
			keep = func(*handshake) bool { return false } // iamlocal's handshakes are all invitations
		}
		if f.ParentHandshakeId != nil {
			keep = func(*handshake) bool { return false } // invitations have no parent handshake
		}
	}
	var items []keyed[handshakeOut]
	err := scanHandshakes(c.Tx, func(h *handshake) error {
		if keep(h) {
			items = append(items, keyed[handshakeOut]{fmt.Sprintf("%020d/%s", 1<<62-h.Requested.UnixNano(), h.ID), h.out(c.Now)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(in.pageIn, items)
	if err != nil {
		return nil, err
	}
	return &struct {
		Handshakes []handshakeOut
		NextToken  *string `json:",omitempty"`
	}{page, next}, nil
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
	account := c.Account()
	return listHandshakes(c, &in, func(h *handshake) bool { return h.AccountID == account })
}
