package organizations

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/policy"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

func init() {
	register(
		action("InviteOrganizationToTransferResponsibility", onAny, true, inviteOrganizationToTransferResponsibility),
		action("DescribeResponsibilityTransfer", onTransfer, false, describeResponsibilityTransfer),
		action("ListInboundResponsibilityTransfers", onAny, false, listInboundResponsibilityTransfers),
		action("ListOutboundResponsibilityTransfers", onAny, false, listOutboundResponsibilityTransfers),
		action("TerminateResponsibilityTransfer", onTransfer, true, terminateResponsibilityTransfer),
		action("UpdateResponsibilityTransfer", onTransfer, true, updateResponsibilityTransfer),
	)
}

// Responsibility transfers ("billing transfers" in the user guide). A management
// account invites another organization's management account to let it manage and
// pay for that organization's bills: the inviter is the transfer's Target ("Account
// that manages the specified responsibilities for another organization"), the
// invited account its Source. The transfer is REQUESTED while its
// TRANSFER_RESPONSIBILITY handshake is pending, then ACCEPTED, DECLINED, CANCELED or
// EXPIRED as the handshake; either party can withdraw an accepted transfer
// (WITHDRAWN), which "continues until the end date", the last day of a month.
//
// iamlocal holds one organization, so the other organization's management account is
// an account outside it, which acts as the management account of an organization of
// its own: it answers the handshake and calls the transfer operations (README.md).

var transferActions = map[string]bool{
	"InviteOrganizationToTransferResponsibility": true, "DescribeResponsibilityTransfer": true,
	"ListInboundResponsibilityTransfers": true, "ListOutboundResponsibilityTransfers": true,
	"TerminateResponsibilityTransfer": true, "UpdateResponsibilityTransfer": true,
}

// Transfer statuses.
const (
	transferRequested = "REQUESTED"
	transferAccepted  = stateAccepted
	transferWithdrawn = "WITHDRAWN"
	transferBilling   = "BILLING"
)

var transferNamePattern = regexp.MustCompile(`^[ -~]+$`)

type participant struct {
	ManagementAccountId    string
	ManagementAccountEmail string `json:",omitempty"`
}

// transfer is a stored responsibility transfer.
type transfer struct {
	ID          string
	OrgID       string
	Name        string
	Type        string
	Status      string
	Source      participant // the invited management account, whose bills move
	Target      participant // the inviting management account, which takes them
	Start       time.Time
	End         time.Time
	HandshakeID string
	Expires     time.Time // the invitation's expiry
	Tags        []directory.Tag
}

func (t *transfer) status(now time.Time) string {
	if t.Status == transferRequested && now.After(t.Expires) {
		return stateExpired
	}
	return t.Status
}

// party reports whether an account is one of the transfer's management accounts.
func (t *transfer) party(account string) bool {
	return account == t.Source.ManagementAccountId || account == t.Target.ManagementAccountId
}

// direction is the transfer as an account sees it: inbound for the account that
// manages another organization's responsibilities, outbound for the other.
func (t *transfer) direction(account string) string {
	if account == t.Target.ManagementAccountId {
		return "inbound"
	}
	return "outbound"
}

func (t *transfer) arn(account string) string {
	return fmt.Sprintf("arn:aws:organizations::%s:transfer/%s/billing/%s/%s", account, t.OrgID, t.direction(account), t.ID)
}

type transferOut struct {
	Arn               string
	Name              string
	Id                string
	Type              string
	Status            string
	Source            participant
	Target            participant
	StartTimestamp    *epoch `json:",omitempty"`
	EndTimestamp      *epoch `json:",omitempty"`
	ActiveHandshakeId string `json:",omitempty"`
}

func (t *transfer) out(account string, now time.Time) transferOut {
	out := transferOut{Arn: t.arn(account), Name: t.Name, Id: t.ID, Type: t.Type, Status: t.status(now),
		Source: t.Source, Target: t.Target, StartTimestamp: stamp(t.Start), EndTimestamp: stamp(t.End)}
	if out.Status == transferRequested {
		out.ActiveHandshakeId = t.HandshakeID
	}
	return out
}

func transferNotFound() error {
	return orgError("ResponsibilityTransferNotFoundException", "We can't find a transfer that you specified.")
}

func loadTransfer(tx store.Tx, id string) (*transfer, error) {
	var t transfer
	if err := tx.Get(directory.KindTransfer, id, &t); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &t, nil
}

func storedTransferArn(c *service.Call, org *directory.Organization, id string) string {
	if t, err := loadTransfer(c.Tx, id); err == nil && t != nil && t.party(c.Account()) {
		return t.arn(c.Account())
	}
	return fmt.Sprintf("arn:aws:organizations::%s:transfer/%s/billing/inbound/%s", org.MasterAccountID, org.ID, id)
}

// setTransferContext adds organizations:TransferType and organizations:TransferDirection.
func setTransferContext(c *service.Call, name string, r requestIDs, ctx policy.Context) {
	ctx.Set("organizations:TransferType", transferBilling)
	switch name {
	case "InviteOrganizationToTransferResponsibility", "ListInboundResponsibilityTransfers":
		ctx.Set("organizations:TransferDirection", "Inbound")
	case "ListOutboundResponsibilityTransfers":
		ctx.Set("organizations:TransferDirection", "Outbound")
	default:
		if t, err := loadTransfer(c.Tx, r.Id); err == nil && t != nil && t.party(c.Account()) {
			if t.direction(c.Account()) == "inbound" {
				ctx.Set("organizations:TransferDirection", "Inbound")
			} else {
				ctx.Set("organizations:TransferDirection", "Outbound")
			}
		}
	}
}

// transferCaller checks that the caller may take part in transfers: the
// organization's management account, or an account outside it (the management
// account of another organization). Member accounts may not.
func transferCaller(c *service.Call) error {
	org, err := loadOrg(c.Tx)
	if err != nil || org == nil || c.Account() == org.MasterAccountID {
		return err
	}
	a, err := loadAccount(c.Tx, c.Account())
	if err != nil {
		return err
	}
	if a != nil && a.ParentID != "" {
		return accessDenied()
	}
	return nil
}

func readTransferType(v *string) error {
	typ, err := need("Type", v)
	if err != nil {
		return err
	}
	if typ != transferBilling {
		return invalidInput("INVALID_ENUM", "You specified an invalid value for Type: only BILLING is supported.")
	}
	return nil
}

func readTransferName(member string, v *string) (string, error) {
	name, err := needLength(member, v, 1, 128)
	if err != nil {
		return "", err
	}
	return name, checkPattern(member, name, transferNamePattern)
}

// timestamp reads a JSON 1.1 timestamp member: seconds since the epoch.
func timestamp(v float64) time.Time {
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC()
}

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// monthEnd is the last millisecond of t's month, 23:59:59.999 UTC on its last day.
func monthEnd(t time.Time) time.Time {
	return monthStart(t).AddDate(0, 1, 0).Add(-time.Millisecond)
}

// checkStart enforces the documented rules of a transfer's start: the beginning of a
// day, the first day of a month, not before the current month.
func checkStart(start, now time.Time) error {
	switch {
	case start.Hour() != 0 || start.Minute() != 0 || start.Second() != 0 || start.Nanosecond() != 0:
		return invalidInput("START_DATE_NOT_BEGINNING_OF_DAY", "You provided an invalid start date. The start date must be the beginning of the day (00:00:00.000).")
	case start.Day() != 1:
		return invalidInput("START_DATE_NOT_BEGINNING_OF_MONTH", "You provided an invalid start date. The start date must be the first day of the month.")
	case start.Before(monthStart(now)):
		return invalidInput("START_DATE_TOO_EARLY", "You provided an invalid start date. The start date is too early.")
	}
	return nil
}

func inviteOrganizationToTransferResponsibility(c *service.Call) (any, error) {
	var in struct {
		Type           *string
		Target         *partyIn
		Notes          *string
		StartTimestamp *float64
		SourceName     *string
		Tags           []tagIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	if err := readTransferType(in.Type); err != nil {
		return nil, err
	}
	if in.StartTimestamp == nil {
		return nil, invalidInput("INPUT_REQUIRED", "You must specify a value for StartTimestamp.")
	}
	start := timestamp(*in.StartTimestamp)
	if err := checkStart(start, c.Now.UTC()); err != nil {
		return nil, err
	}
	name, err := readTransferName("SourceName", in.SourceName)
	if err != nil {
		return nil, err
	}
	inv, err := readInvitation(c, in.Target, in.Notes, in.Tags)
	if err != nil {
		return nil, err
	}
	a, notes, tags := inv.account, inv.notes, inv.tags
	switch {
	case a.ID == org.MasterAccountID:
		return nil, withReason(orgError("HandshakeConstraintViolationException",
			"An account can't accept a transfer invitation if it is both the sender and recipient of the invitation."), "SOURCE_AND_TARGET_CANNOT_MATCH")
	case a.ParentID != "":
		return nil, withReason(orgError("HandshakeConstraintViolationException",
			"The invited account is a member of this organization, not the management account of another organization."), "ALREADY_IN_AN_ORGANIZATION")
	}
	if err := checkNewTransfer(c, org, a.ID); err != nil {
		return nil, err
	}
	master, err := loadAccount(c.Tx, org.MasterAccountID)
	if err != nil {
		return nil, err
	}
	t := &transfer{ID: "rt-" + directory.RandomLower(10), OrgID: org.ID, Name: name, Type: transferBilling, Status: transferRequested,
		Source: participant{a.ID, a.Email}, Target: participant{org.MasterAccountID, org.MasterEmail}, Start: start, Tags: tags}
	if err := authorizeTags(c, org, tags, t.arn(org.MasterAccountID)); err != nil {
		return nil, err
	}
	h := &handshake{Action: actionTransfer, AccountID: a.ID, PartyType: inv.partyType, PartyID: inv.partyID, TransferID: t.ID, Notes: notes,
		MasterEmail: org.MasterEmail, Parties: []partyOut{{org.ID, partyOrganization}, {inv.partyID, inv.partyType}},
		Resources: []handshakeResourceOut{
			{Value: t.ID, Type: "RESPONSIBILITY_TRANSFER"},
			{Value: transferBilling, Type: "TRANSFER_TYPE"},
			{Value: start.Format(time.RFC3339), Type: "TRANSFER_START_TIMESTAMP"},
			{Value: org.MasterAccountID, Type: "MANAGEMENT_ACCOUNT"},
			{Value: org.MasterEmail, Type: "MANAGEMENT_EMAIL"},
		}}
	if master != nil {
		h.MasterName = master.Name
		h.Resources = append(h.Resources, handshakeResourceOut{Value: master.Name, Type: "MANAGEMENT_NAME"})
	}
	if notes != "" {
		h.Resources = append(h.Resources, handshakeResourceOut{Value: notes, Type: "NOTES"})
	}
	if err := newHandshake(c, org, h); err != nil {
		return nil, err
	}
	t.HandshakeID, t.Expires = h.ID, h.Expires
	if err := c.Tx.Put(directory.KindTransfer, t.ID, t); err != nil {
		return nil, err
	}
	return &handshakeResult{h.out(c.Now)}, nil
}

// active reports a transfer that is pending or in force.
func (t *transfer) active(now time.Time) bool {
	st := t.status(now)
	return st == transferRequested || st == transferAccepted || (st == transferWithdrawn && now.Before(t.End))
}

// checkNewTransfer refuses a second transfer with a partner while one is pending or
// in force.
func checkNewTransfer(c *service.Call, org *directory.Organization, partner string) error {
	var found *transfer
	_, err := scanKind(c.Tx, directory.KindTransfer, "", func(t *transfer) (string, bool, bool) {
		if t.OrgID == org.ID && t.party(partner) && t.active(c.Now) {
			found = t
		}
		return "", false, false
	})
	switch {
	case err != nil:
		return err
	case found == nil:
		return nil
	case found.status(c.Now) == transferRequested:
		return orgError("DuplicateHandshakeException", "A handshake with the same action and target already exists: transfer %s awaits account %s's answer.", found.ID, partner)
	}
	return withReason(orgError("HandshakeConstraintViolationException", "You cannot perform this operation with the current transfer %s.", found.ID), "RESPONSIBILITY_TRANSFER_ALREADY_EXISTS")
}

// checkNoActiveTransfer refuses to delete an organization with a transfer pending or
// in force (ConstraintViolationException ACTIVE_RESPONSIBILITY_TRANSFER_PROCESS).
func checkNoActiveTransfer(c *service.Call) error {
	items, err := scanKind(c.Tx, directory.KindTransfer, "", func(t *transfer) (string, bool, bool) {
		return t.ID, true, t.active(c.Now)
	})
	if err != nil {
		return err
	}
	if len(items) > 0 {
		return constraintViolation("ACTIVE_RESPONSIBILITY_TRANSFER_PROCESS", "You cannot delete organization due to an ongoing responsibility transfer process. For example, a pending invitation or an in-progress transfer. To delete the organization, you must resolve the current transfer process.")
	}
	return nil
}

// setTransferStatus carries the answer to a transfer's handshake over to the transfer.
func setTransferStatus(c *service.Call, h *handshake, status string) error {
	t, err := loadTransfer(c.Tx, h.TransferID)
	if err != nil || t == nil {
		return err
	}
	t.Status = status
	return c.Tx.Put(directory.KindTransfer, t.ID, t)
}

// partyTransfer reads an Id member naming a transfer the caller is a party of.
func partyTransfer(c *service.Call, v *string) (*transfer, error) {
	if err := transferCaller(c); err != nil {
		return nil, err
	}
	id, err := needID("Id", v, transferIDPattern)
	if err != nil {
		return nil, err
	}
	t, err := loadTransfer(c.Tx, id)
	if err != nil {
		return nil, err
	}
	if t == nil || !t.party(c.Account()) {
		return nil, transferNotFound()
	}
	return t, nil
}

func transferResult(c *service.Call, t *transfer) any {
	return &struct{ ResponsibilityTransfer transferOut }{t.out(c.Account(), c.Now)}
}

func describeResponsibilityTransfer(c *service.Call) (any, error) {
	var in struct{ Id *string }
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	t, err := partyTransfer(c, in.Id)
	if err != nil {
		return nil, err
	}
	return transferResult(c, t), nil
}

type transfersIn struct {
	Type *string
	Id   *string // ListInboundResponsibilityTransfers only
	pageIn
}

// listTransfers lists, newest start first, the caller's transfers in one direction.
func listTransfers(c *service.Call, in *transfersIn, direction string) (any, error) {
	if err := readTransferType(in.Type); err != nil {
		return nil, err
	}
	id := ""
	if in.Id != nil {
		if err := checkPattern("Id", *in.Id, transferIDPattern); err != nil {
			return nil, err
		}
		id = *in.Id
	}
	if err := transferCaller(c); err != nil {
		return nil, err
	}
	account := c.Account()
	items, err := scanKind(c.Tx, directory.KindTransfer, "", func(t *transfer) (string, transferOut, bool) {
		keep := t.party(account) && t.direction(account) == direction && (id == "" || t.ID == id)
		return fmt.Sprintf("%020d/%s", 1<<62-t.Start.UnixNano(), t.ID), t.out(account, c.Now), keep
	})
	if err != nil {
		return nil, err
	}
	if id != "" && len(items) == 0 {
		return nil, transferNotFound()
	}
	return page("ResponsibilityTransfers", in.pageIn, items)
}

func listInboundResponsibilityTransfers(c *service.Call) (any, error) {
	var in transfersIn
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	return listTransfers(c, &in, "inbound")
}

func listOutboundResponsibilityTransfers(c *service.Call) (any, error) {
	var in struct {
		Type *string
		pageIn
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	return listTransfers(c, &transfersIn{Type: in.Type, pageIn: in.pageIn}, "outbound")
}

// terminateResponsibilityTransfer withdraws an accepted transfer, by either party.
// It ends at EndTimestamp, which must be the end of a month (23:59:59.999 UTC on its
// last day) and not before the current month ends: "If a transfer is withdrawn, the
// end date is 23:59:59 UTC on the last day of the month specified in the withdrawal"
// (Withdrawing transfers); without one, at the end of the current month.
func terminateResponsibilityTransfer(c *service.Call) (any, error) {
	var in struct {
		Id           *string
		EndTimestamp *float64
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	t, err := partyTransfer(c, in.Id)
	if err != nil {
		return nil, err
	}
	switch st := t.status(c.Now); st {
	case transferWithdrawn:
		return nil, orgError("ResponsibilityTransferAlreadyInStatusException", "The responsibility transfer is already in the status that you specified.")
	case transferAccepted:
	default:
		return nil, orgError("InvalidResponsibilityTransferTransitionException", "The responsibility transfer can't transition to the requested state because it's not in a valid state for this operation (%s).", st)
	}
	end := monthEnd(c.Now.UTC())
	if in.EndTimestamp != nil {
		end = timestamp(*in.EndTimestamp)
		if !end.Equal(monthEnd(end)) {
			return nil, invalidInput("END_DATE_NOT_END_OF_MONTH", "You provided an invalid end date. The end date must be the end of the last day of the month (23.59.59.999).")
		}
		if end.Before(monthEnd(c.Now.UTC())) || end.Before(t.Start) {
			return nil, invalidInput("END_DATE_TOO_EARLY", "You provided an invalid end date. It is too early for the transfer to end.")
		}
	}
	t.Status, t.End = transferWithdrawn, end
	if err := c.Tx.Put(directory.KindTransfer, t.ID, t); err != nil {
		return nil, err
	}
	return transferResult(c, t), nil
}

func updateResponsibilityTransfer(c *service.Call) (any, error) {
	var in struct {
		Id   *string
		Name *string
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	t, err := partyTransfer(c, in.Id)
	if err != nil {
		return nil, err
	}
	if t.Name, err = readTransferName("Name", in.Name); err != nil {
		return nil, err
	}
	if err := c.Tx.Put(directory.KindTransfer, t.ID, t); err != nil {
		return nil, err
	}
	return transferResult(c, t), nil
}
