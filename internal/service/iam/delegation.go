package iam

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
)

// Delegation requests (temporary access delegation to a partner), as botocore's
// documentation describes them: a partner creates a request, for an owner account
// or for anyone (UNASSIGNED, or ASSIGNED to an account); an identity associates it
// with itself and becomes its owner (ASSIGNED); the owner may add notes
// (PENDING_APPROVAL), accept it (ACCEPTED) or reject it (REJECTED, final); an
// accepted request is rejected or its token sent (FINALIZED, final). The
// documentation is thin: which transitions fail and how is iamlocal's choice
// (InvalidInput naming the state), documented in docs/iam-reports.md.

func init() {
	register(
		&service.Action{Name: "CreateDelegationRequest", IAMAction: "iam:CreateDelegationRequest", Write: true, Handle: createDelegationRequest},
		&service.Action{Name: "GetDelegationRequest", IAMAction: "iam:GetDelegationRequest", Resource: delegationResource, Handle: getDelegationRequest},
		&service.Action{Name: "ListDelegationRequests", IAMAction: "iam:ListDelegationRequests", Handle: listDelegationRequests},
		&service.Action{Name: "AssociateDelegationRequest", IAMAction: "iam:AssociateDelegationRequest", Write: true, Resource: delegationResource,
			Handle: moveDelegation(associateDelegation)},
		&service.Action{Name: "UpdateDelegationRequest", IAMAction: "iam:UpdateDelegationRequest", Write: true, Resource: delegationResource,
			Handle: moveDelegation(updateDelegation)},
		&service.Action{Name: "AcceptDelegationRequest", IAMAction: "iam:AcceptDelegationRequest", Write: true, Resource: delegationResource,
			Handle: moveDelegation(acceptDelegation)},
		&service.Action{Name: "RejectDelegationRequest", IAMAction: "iam:RejectDelegationRequest", Write: true, Resource: delegationResource,
			Handle: moveDelegation(rejectDelegation)},
		&service.Action{Name: "SendDelegationToken", IAMAction: "iam:SendDelegationToken", Write: true, Resource: delegationResource,
			Handle: moveDelegation(sendDelegationToken)},
		&service.Action{Name: "GetHumanReadableSummary", IAMAction: "iam:GetHumanReadableSummary", Resource: summaryResource, Handle: getHumanReadableSummary},
	)
}

// kindDelegation holds delegation requests; key: the request id (they cross accounts).
const kindDelegation = "iamdelegation"

type delegationParam struct {
	Name   string
	Values []string
	Type   string
}

type delegationRequest struct {
	ID                  string
	OwnerAccountID      string
	OwnerID             string
	Description         string
	RequestMessage      string
	PolicyTemplateArn   string
	Parameters          []delegationParam
	ApproverID          string
	State               string
	RequestorID         string
	RequestorWorkflowID string
	NotificationChannel string
	SessionDuration     int
	RedirectURL         string
	Notes               string
	RejectionReason     string
	OnlySendByOwner     bool
	Created, Updated    time.Time
}

var (
	delegationIDPattern  = regexp.MustCompile(`^[\w-]+$`)
	channelPattern       = regexp.MustCompile(`^[a-zA-Z0-9:_.-]+$`)
	redirectPattern      = regexp.MustCompile(`^http(s?)://[a-zA-Z0-9._/-]*(\?[a-zA-Z0-9._=&-]*)?(#[a-zA-Z0-9._/-]*)?$`)
	accountIDPattern     = regexp.MustCompile(`^\d{12}$`)
	printablePattern     = regexp.MustCompile(`^[ -~]+$`)
	delegationTextMember = `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`
)

func delegationResource(c *service.Call) (string, string, error) {
	id, err := required(c, "DelegationRequestId")
	if err != nil {
		return "", "", err
	}
	return "arn:aws:iam::" + c.Account() + ":delegation-request/" + id, c.Account(), nil
}

func summaryResource(c *service.Call) (string, string, error) {
	a, err := required(c, "EntityArn")
	return a, c.Account(), err
}

func (in *input) text(param, member string, max int) string {
	s := in.c.Params.Get(param)
	in.v.Length(s, member, 0, max)
	in.v.Check(descriptionPattern.MatchString(s), s, member, delegationTextMember)
	return s
}

func createDelegationRequest(c *service.Call) (any, error) {
	in := newInput(c)
	r := &delegationRequest{State: "UNASSIGNED", RequestorID: c.Account(), Created: c.Now.UTC(), Updated: c.Now.UTC()}
	if c.Params.Has("OwnerAccountId") {
		r.OwnerAccountID = c.Params.Get("OwnerAccountId")
		in.v.Check(accountIDPattern.MatchString(r.OwnerAccountID), r.OwnerAccountID, "ownerAccountId", `satisfy regular expression pattern: \d{12}`)
		r.State = "ASSIGNED"
	}
	if _, ok := in.required("Description"); ok {
		r.Description = in.text("Description", "description", 1000)
	}
	r.RequestMessage = in.text("RequestMessage", "requestMessage", 200)
	if wf, ok := in.required("RequestorWorkflowId"); ok {
		in.v.Length(wf, "requestorWorkflowId", 5, 400)
		r.RequestorWorkflowID = wf
	}
	if ch, ok := in.required("NotificationChannel"); ok {
		in.v.Length(ch, "notificationChannel", 2, 400)
		in.v.Check(channelPattern.MatchString(ch), ch, "notificationChannel", "satisfy regular expression pattern: ^[a-zA-Z0-9:_.-]+$")
		r.NotificationChannel = ch
	}
	d, given, err := c.Params.Int("SessionDuration")
	if err != nil {
		return nil, err
	}
	if !given {
		in.v.Null("sessionDuration")
	} else {
		in.v.Check(d >= 300, fmt.Sprint(d), "sessionDuration", "have value greater than or equal to 300")
		in.v.Check(d <= 43200, fmt.Sprint(d), "sessionDuration", "have value less than or equal to 43200")
		r.SessionDuration = d
	}
	if c.Params.Has("RedirectUrl") {
		r.RedirectURL = c.Params.Get("RedirectUrl")
		in.v.Length(r.RedirectURL, "redirectUrl", 1, 255)
		in.v.Check(redirectPattern.MatchString(r.RedirectURL), r.RedirectURL, "redirectUrl",
			`satisfy regular expression pattern: ^http(s?)://[a-zA-Z0-9._/-]*(\?[a-zA-Z0-9._=&-]*)?(#[a-zA-Z0-9._/-]*)?$`)
	}
	r.OnlySendByOwner = in.boolean("OnlySendByOwner")
	if !c.Params.Has("Permissions.PolicyTemplateArn") && !c.Params.Has("Permissions.Parameters.member.1.Name") {
		in.v.Null("permissions")
	}
	if c.Params.Has("Permissions.PolicyTemplateArn") {
		r.PolicyTemplateArn = c.Params.Get("Permissions.PolicyTemplateArn")
		in.v.Length(r.PolicyTemplateArn, "permissions.policyTemplateArn", 20, 2048)
	}
	params, err := c.Params.Structs("Permissions.Parameters")
	if err != nil {
		return nil, err
	}
	in.v.Check(len(params) <= 50, fmt.Sprint(len(params)), "permissions.parameters", "have length less than or equal to 50")
	for i, p := range params {
		dp := delegationParam{Name: p["Name"], Type: p["Type"]}
		member := fmt.Sprintf("permissions.parameters.%d.member", i+1)
		in.v.Length(dp.Name, member+".name", 5, 256)
		in.v.Check(printablePattern.MatchString(dp.Name), dp.Name, member+".name", "satisfy regular expression pattern: [ -~]+")
		if dp.Type != "" && dp.Type != "string" && dp.Type != "stringList" {
			in.v.Check(false, dp.Type, member+".type", "satisfy enum value set: [string, stringList]")
		}
		for j := 1; ; j++ {
			v, ok := p[fmt.Sprintf("Values.member.%d", j)]
			if !ok {
				break
			}
			dp.Values = append(dp.Values, v)
		}
		r.Parameters = append(r.Parameters, dp)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	r.ID = "dr-" + strings.ToLower(directory.RandomLower(20))
	if err := c.Tx.Put(kindDelegation, r.ID, r); err != nil {
		return nil, err
	}
	return &struct {
		ConsoleDeepLink     string `xml:"ConsoleDeepLink"`
		DelegationRequestId string `xml:"DelegationRequestId"`
	}{"https://console.aws.amazon.com/iam/home#/delegation-requests/" + r.ID, r.ID}, nil
}

// loadDelegation reads a request the caller may see (GetDelegationRequest's rules):
// without an owner account, anyone; with an owner account but no owner, that
// account's identities; once owned, its owner and owner account. The partner
// account that created it sees it too. Others are told it does not exist.
func loadDelegation(c *service.Call, id string) (*delegationRequest, error) {
	in := newInput(c)
	in.v.Length(id, "delegationRequestId", 16, 128)
	in.v.Check(delegationIDPattern.MatchString(id), id, "delegationRequestId", `satisfy regular expression pattern: [\w-]+`)
	if err := in.err(); err != nil {
		return nil, err
	}
	missing := noSuchEntity("The delegation request with id %s cannot be found.", id)
	var r delegationRequest
	err := c.Tx.Get(kindDelegation, id, &r)
	if errors.Is(err, store.ErrNotFound) {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	if r.OwnerAccountID != "" && r.OwnerAccountID != c.Account() && r.RequestorID != c.Account() {
		return nil, missing
	}
	return &r, nil
}

type delegationParamXML struct {
	Name   string       `xml:"Name"`
	Values list[string] `xml:"Values"`
	Type   string       `xml:"Type,omitempty"`
}

type delegationXML struct {
	DelegationRequestId string `xml:"DelegationRequestId"`
	OwnerAccountId      string `xml:"OwnerAccountId,omitempty"`
	Description         string `xml:"Description"`
	RequestMessage      string `xml:"RequestMessage,omitempty"`
	Permissions         struct {
		PolicyTemplateArn string                   `xml:"PolicyTemplateArn,omitempty"`
		Parameters        list[delegationParamXML] `xml:"Parameters"`
	} `xml:"Permissions"`
	OwnerId         string `xml:"OwnerId,omitempty"`
	ApproverId      string `xml:"ApproverId,omitempty"`
	State           string `xml:"State"`
	RequestorId     string `xml:"RequestorId"`
	CreateDate      string `xml:"CreateDate"`
	SessionDuration int    `xml:"SessionDuration"`
	RedirectUrl     string `xml:"RedirectUrl,omitempty"`
	Notes           string `xml:"Notes,omitempty"`
	RejectionReason string `xml:"RejectionReason,omitempty"`
	OnlySendByOwner bool   `xml:"OnlySendByOwner"`
	UpdatedTime     string `xml:"UpdatedTime"`
}

func (r *delegationRequest) xml() delegationXML {
	x := delegationXML{DelegationRequestId: r.ID, OwnerAccountId: r.OwnerAccountID, Description: r.Description, RequestMessage: r.RequestMessage,
		OwnerId: r.OwnerID, ApproverId: r.ApproverID, State: r.State, RequestorId: r.RequestorID, CreateDate: isoTime(r.Created),
		SessionDuration: r.SessionDuration, RedirectUrl: r.RedirectURL, Notes: r.Notes, RejectionReason: r.RejectionReason,
		OnlySendByOwner: r.OnlySendByOwner, UpdatedTime: isoTime(r.Updated)}
	x.Permissions.PolicyTemplateArn = r.PolicyTemplateArn
	x.Permissions.Parameters.Member = []delegationParamXML{}
	for _, p := range r.Parameters {
		x.Permissions.Parameters.Member = append(x.Permissions.Parameters.Member, delegationParamXML{Name: p.Name, Values: list[string]{p.Values}, Type: p.Type})
	}
	return x
}

func getDelegationRequest(c *service.Call) (any, error) {
	r, err := loadDelegation(c, c.Params.Get("DelegationRequestId"))
	if err != nil {
		return nil, err
	}
	return &struct {
		DelegationRequest delegationXML `xml:"DelegationRequest"`
	}{r.xml()}, nil
}

// listDelegationRequests lists the owned requests of the caller's account (a
// request without an owner is not listed, even when assigned to the account),
// those of OwnerId when given.
func listDelegationRequests(c *service.Call) (any, error) {
	in := newInput(c)
	owner := c.Params.Get("OwnerId")
	if c.Params.Has("OwnerId") {
		in.v.Length(owner, "ownerId", 20, 2048)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	p, err := readPage(c)
	if err != nil {
		return nil, err
	}
	var all []delegationXML
	err = c.Tx.Scan(kindDelegation, "", "", 0, func(_ string, data []byte) (bool, error) {
		var r delegationRequest
		if err := jsonUnmarshal(data, &r); err != nil {
			return false, err
		}
		if r.OwnerID != "" && r.OwnerAccountID == c.Account() && (owner == "" || r.OwnerID == owner) {
			all = append(all, r.xml())
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].CreateDate < all[j].CreateDate })
	start, end, truncated, marker, err := slicePage(len(all), p)
	if err != nil {
		return nil, err
	}
	res := &struct {
		DelegationRequests list[delegationXML] `xml:"DelegationRequests"`
		Marker             string              `xml:"Marker,omitempty"`
		IsTruncated        bool                `xml:"isTruncated"`
	}{Marker: marker, IsTruncated: truncated}
	res.DelegationRequests.Member = append([]delegationXML{}, all[start:end]...)
	return res, nil
}

// moveDelegation loads the request, applies a transition and saves it.
func moveDelegation(move func(c *service.Call, r *delegationRequest) error) func(*service.Call) (any, error) {
	return func(c *service.Call) (any, error) {
		r, err := loadDelegation(c, c.Params.Get("DelegationRequestId"))
		if err != nil {
			return nil, err
		}
		if err := move(c, r); err != nil {
			return nil, err
		}
		r.Updated = c.Now.UTC()
		return nil, c.Tx.Put(kindDelegation, r.ID, r)
	}
}

func wrongState(r *delegationRequest, what string) error {
	return invalidInput("The delegation request %s is in state %s and cannot be %s.", r.ID, r.State, what)
}

// ownerOnly: once a request has an owner, its transitions are the owner's.
func ownerOnly(c *service.Call, r *delegationRequest) error {
	if r.OwnerID != "" && r.OwnerID != c.Identity.Caller.Arn {
		return noSuchEntity("The delegation request with id %s cannot be found.", r.ID)
	}
	return nil
}

func associateDelegation(c *service.Call, r *delegationRequest) error {
	if r.State != "UNASSIGNED" && r.State != "ASSIGNED" {
		return wrongState(r, "associated")
	}
	if err := ownerOnly(c, r); err != nil {
		return err
	}
	r.OwnerID, r.OwnerAccountID, r.State = c.Identity.Caller.Arn, c.Account(), "ASSIGNED"
	return nil
}

func updateDelegation(c *service.Call, r *delegationRequest) error {
	in := newInput(c)
	notes := in.text("Notes", "notes", 500)
	if err := in.err(); err != nil {
		return err
	}
	if r.OwnerID == "" || (r.State != "ASSIGNED" && r.State != "PENDING_APPROVAL") {
		return wrongState(r, "updated")
	}
	if err := ownerOnly(c, r); err != nil {
		return err
	}
	r.Notes, r.State = notes, "PENDING_APPROVAL"
	return nil
}

func acceptDelegation(c *service.Call, r *delegationRequest) error {
	if r.OwnerID == "" || (r.State != "ASSIGNED" && r.State != "PENDING_APPROVAL") {
		return wrongState(r, "accepted")
	}
	if err := ownerOnly(c, r); err != nil {
		return err
	}
	// "IAM records the details and the state of the identity that called this API."
	r.ApproverID, r.State = c.Identity.Caller.Arn, "ACCEPTED"
	return nil
}

func rejectDelegation(c *service.Call, r *delegationRequest) error {
	in := newInput(c)
	notes := in.text("Notes", "notes", 500)
	if err := in.err(); err != nil {
		return err
	}
	switch r.State {
	case "REJECTED", "FINALIZED", "EXPIRED":
		return wrongState(r, "rejected")
	}
	if err := ownerOnly(c, r); err != nil {
		return err
	}
	r.RejectionReason, r.State = notes, "REJECTED"
	return nil
}

func sendDelegationToken(c *service.Call, r *delegationRequest) error {
	if r.State != "ACCEPTED" {
		return invalidInput("The delegation request %s must be in state ACCEPTED to send its token; it is %s.", r.ID, r.State)
	}
	if r.OnlySendByOwner {
		if err := ownerOnly(c, r); err != nil {
			return err
		}
	}
	r.State = "FINALIZED"
	return nil
}

// getHumanReadableSummary summarizes a delegation request. AWS writes it with a
// large language model; iamlocal writes a fixed English sentence from the request.
func getHumanReadableSummary(c *service.Call) (any, error) {
	in := newInput(c)
	a := in.arn("EntityArn")
	locale := c.Params.Get("Locale")
	if c.Params.Has("Locale") {
		in.v.Length(locale, "locale", 2, 12)
	}
	if err := in.err(); err != nil {
		return nil, err
	}
	if locale == "" {
		locale = "en"
	}
	parts := strings.SplitN(a, ":", 6)
	id, ok := "", false
	if len(parts) == 6 && parts[2] == "iam" {
		id, ok = strings.CutPrefix(parts[5], "delegation-request/")
	}
	if !ok {
		return nil, invalidInput("ARN %s is not valid.", a)
	}
	r, err := loadDelegation(c, id)
	if err != nil {
		return nil, err
	}
	res := &struct {
		SummaryContent string `xml:"SummaryContent,omitempty"`
		Locale         string `xml:"Locale"`
		SummaryState   string `xml:"SummaryState"`
	}{Locale: locale, SummaryState: "NOT_SUPPORTED"}
	if strings.HasPrefix(strings.ToLower(locale), "en") {
		res.SummaryState = "AVAILABLE"
		res.SummaryContent = fmt.Sprintf("Account %s asks for temporary access for %d seconds: %s", r.RequestorID, r.SessionDuration, r.Description)
		if r.PolicyTemplateArn != "" {
			res.SummaryContent += fmt.Sprintf(" The permissions come from the policy template %s.", r.PolicyTemplateArn)
		}
	}
	return res, nil
}
