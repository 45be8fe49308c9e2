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
		action("CreateAccount", onAny, true, createAccount),
		action("DescribeCreateAccountStatus", onAny, false, describeCreateAccountStatus),
		action("ListCreateAccountStatus", onAny, false, listCreateAccountStatus),
		action("ListAccounts", onAny, false, listAccounts),
		action("DescribeAccount", onAccount, false, describeAccount),
		action("ListAccountsForParent", onParent, false, listAccountsForParent),
		action("RemoveAccountFromOrganization", onAccount, true, removeAccountFromOrganization),
		action("LeaveOrganization", onAny, true, leaveOrganization),
		action("MoveAccount", onAccount, true, moveAccount),
		action("CloseAccount", onAccount, true, closeAccount),
		action("CreateGovCloudAccount", onAny, true, createGovCloudAccount),
	)
}

type accountOut struct {
	Id              string
	Arn             string
	Email           string
	Name            string
	Status          string
	State           string
	JoinedMethod    string
	JoinedTimestamp *epoch   `json:",omitempty"`
	Paths           []string `json:",omitempty"`
}

// newAccountOut describes an account. Status and State say ACTIVE, or SUSPENDED once
// the account is closed; State becomes CLOSED when the 90 days after closure in
// which AWS Support can reopen it are over ("Monitor the state of your AWS
// accounts").
func newAccountOut(tx store.Tx, org *directory.Organization, a *directory.Account, now time.Time) (accountOut, error) {
	status := a.Status
	if status == "" {
		status = "ACTIVE"
	}
	state := status
	if a.Closed() && now.Sub(a.ClosedAt) > postClosurePeriod {
		state = "CLOSED"
	}
	out := accountOut{Id: a.ID, Arn: accountArn(org, a.ID), Email: a.Email, Name: a.Name, Status: status, State: state,
		JoinedMethod: a.JoinedMethod, JoinedTimestamp: stamp(a.JoinedAt)}
	if a.ParentID != "" {
		p, err := path(tx, org, a.ParentID)
		if err != nil {
			return out, err
		}
		out.Paths = []string{p + a.ID + "/"}
	}
	return out, nil
}

// createStatus is the stored record of one CreateAccount request.
type createStatus struct {
	ID            string
	AccountName   string
	State         string
	AccountID     string
	FailureReason string
	Requested     time.Time
	Completed     time.Time
}

type createStatusOut struct {
	Id                 string
	AccountName        string
	State              string
	RequestedTimestamp *epoch `json:",omitempty"`
	CompletedTimestamp *epoch `json:",omitempty"`
	AccountId          string `json:",omitempty"`
	FailureReason      string `json:",omitempty"`
}

func (s *createStatus) out() createStatusOut {
	return createStatusOut{Id: s.ID, AccountName: s.AccountName, State: s.State, RequestedTimestamp: stamp(s.Requested),
		CompletedTimestamp: stamp(s.Completed), AccountId: s.AccountID, FailureReason: s.FailureReason}
}

type createAccountIn struct {
	Email                  *string
	AccountName            *string
	RoleName               *string
	IamUserAccessToBilling *string
	Tags                   []tagIn
}

// newAccount is a validated CreateAccount or CreateGovCloudAccount request.
type newAccount struct {
	email, name, roleName string
	tags                  []directory.Tag
}

// readCreateAccount checks the model's constraints of a CreateAccount request.
func readCreateAccount(c *service.Call) (*directory.Organization, *newAccount, error) {
	var in createAccountIn
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, nil, err
	}
	email, err := needLength("Email", in.Email, 6, 64)
	if err != nil {
		return nil, nil, err
	}
	if !emailPattern.MatchString(email) {
		return nil, nil, invalidInput("INVALID_PATTERN", "You provided a value for Email that is not a valid email address.")
	}
	name, err := needLength("AccountName", in.AccountName, 1, 50)
	if err != nil {
		return nil, nil, err
	}
	if err := checkPattern("AccountName", name, accountNamePattern); err != nil {
		return nil, nil, err
	}
	roleName := defaultRoleName
	if in.RoleName != nil {
		roleName = *in.RoleName
		if err := checkPattern("RoleName", roleName, roleNamePattern); err != nil {
			return nil, nil, err
		}
		if strings.HasPrefix(roleName, "AWSServiceRoleFor") {
			return nil, nil, invalidInput("INVALID_ROLE_NAME", "A role name can't begin with the reserved prefix AWSServiceRoleFor.")
		}
	}
	if b := in.IamUserAccessToBilling; b != nil && *b != "ALLOW" && *b != "DENY" {
		return nil, nil, invalidInput("INVALID_ENUM", "You specified an invalid value for IamUserAccessToBilling: ALLOW or DENY.")
	}
	tags, err := readTags(in.Tags)
	if err != nil {
		return nil, nil, err
	}
	return org, &newAccount{email, name, roleName, tags}, nil
}

// createAccount creates the account in the same transaction and records the outcome
// for DescribeCreateAccountStatus; the response itself says IN_PROGRESS, as AWS's
// does, so that callers keep their polling loops.
func createAccount(c *service.Call) (any, error) {
	org, na, err := readCreateAccount(c)
	if err != nil {
		return nil, err
	}
	email, name, roleName, tags := na.email, na.name, na.roleName, na.tags

	st := &createStatus{ID: "car-" + directory.RandomLower(32), AccountName: name, Requested: c.Now.UTC()}
	taken, err := emailTaken(c.Tx, email)
	if err != nil {
		return nil, err
	}
	if taken {
		st.State, st.FailureReason, st.Completed = "FAILED", "EMAIL_ALREADY_EXISTS", c.Now.UTC()
	} else {
		id, err := newAccountID(c.Tx)
		if err != nil {
			return nil, err
		}
		if err := authorizeTags(c, org, tags, accountArn(org, id)); err != nil {
			return nil, err
		}
		a := &directory.Account{ID: id, Name: name, Email: email, Status: "ACTIVE", JoinedMethod: "CREATED",
			JoinedAt: c.Now.UTC(), ParentID: org.RootID, Tags: tags}
		if err := c.Tx.Put(directory.KindAccount, id, a); err != nil {
			return nil, err
		}
		if err := attachDefaults(c.Tx, org, id, c.Now); err != nil {
			return nil, err
		}
		if err := createAccessRole(c.Tx, org.MasterAccountID, id, roleName, c.Now); err != nil {
			return nil, err
		}
		st.State, st.AccountID, st.Completed = "SUCCEEDED", id, c.Now.UTC()
	}
	if err := c.Tx.Put(directory.KindCreateStatus, st.ID, st); err != nil {
		return nil, err
	}
	return &struct{ CreateAccountStatus createStatusOut }{createStatusOut{Id: st.ID, AccountName: st.AccountName,
		State: "IN_PROGRESS", RequestedTimestamp: stamp(st.Requested)}}, nil
}

// emailTaken reports whether any account already uses an email address.
func emailTaken(tx store.Tx, email string) (bool, error) {
	taken := false
	err := tx.Scan(directory.KindAccount, "", "", 0, func(_ string, data []byte) (bool, error) {
		var a directory.Account
		if err := json.Unmarshal(data, &a); err != nil {
			return false, err
		}
		taken = strings.EqualFold(a.Email, email)
		return !taken, nil
	})
	return taken, err
}

// createAccessRole creates the role CreateAccount makes in a new account: it has
// AdministratorAccess and trusts the management account.
func createAccessRole(tx store.Tx, mgmt, account, name string, now time.Time) error {
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, mgmt)
	role := directory.Role{
		Principal: directory.Principal{Account: account, Name: name, Path: "/", ID: directory.NewID("AROA"),
			Arn: fmt.Sprintf("arn:aws:iam::%s:role/%s", account, name), CreateDate: now.UTC(),
			AttachedPolicies: []string{adminPolicyArn}},
		AssumeRolePolicy: trust, MaxSessionDuration: 3600,
	}
	key := directory.NameKey(account, name)
	if err := tx.Put(directory.KindRole, key, &role); err != nil {
		return err
	}
	if err := tx.Put(directory.KindUniqueID, role.ID, key); err != nil {
		return err
	}
	// IAM's index of who uses a managed policy (internal/service/iam/entity.go), so
	// that ListEntitiesForPolicy and DetachRolePolicy see the attachment.
	return tx.Put(iamAttachIndex, account+"|"+adminPolicyArn+"|"+directory.KindRole+"|"+strings.ToLower(name),
		struct{ Kind, Name string }{directory.KindRole, name})
}

// createGovCloudAccount answers as AWS does for a management account that has no
// associated account in the AWS GovCloud (US) Region — iamlocal has no GovCloud
// partition: "To complete this operation, the management account must have an
// associated account in the AWS GovCloud (US-West) Region" (ConstraintViolationException
// reason MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED). The request is validated first.
func createGovCloudAccount(c *service.Call) (any, error) {
	if _, _, err := readCreateAccount(c); err != nil {
		return nil, err
	}
	return nil, constraintViolation("MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED", "To complete this operation, the management account must have an associated account in the Amazon Web Services GovCloud (US-West) Region. For more information, see Organizations in the Amazon Web Services GovCloud User Guide.")
}

// iamAttachIndex is the IAM package's index of managed-policy attachments.
const iamAttachIndex = "iamattach"

func describeCreateAccountStatus(c *service.Call) (any, error) {
	var in struct{ CreateAccountRequestId *string }
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if _, err := managementOrg(c); err != nil {
		return nil, err
	}
	id, err := needID("CreateAccountRequestId", in.CreateAccountRequestId, carIDPattern)
	if err != nil {
		return nil, err
	}
	var st createStatus
	if err := c.Tx.Get(directory.KindCreateStatus, id, &st); err != nil {
		if isNotFound(err) {
			return nil, orgError("CreateAccountStatusNotFoundException", "We can't find an create account request with the CreateAccountRequestId that you specified.")
		}
		return nil, err
	}
	return &struct{ CreateAccountStatus createStatusOut }{st.out()}, nil
}

func listCreateAccountStatus(c *service.Call) (any, error) {
	var in struct {
		States []string
		pageIn
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if _, err := managementOrg(c); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range in.States {
		if s != "IN_PROGRESS" && s != "SUCCEEDED" && s != "FAILED" {
			return nil, invalidInput("INVALID_LIST_MEMBER", "You specified an invalid value in States: IN_PROGRESS, SUCCEEDED or FAILED.")
		}
		want[s] = true
	}
	var items []keyed[createStatusOut]
	err := c.Tx.Scan(directory.KindCreateStatus, "", "", 0, func(key string, data []byte) (bool, error) {
		var st createStatus
		if err := json.Unmarshal(data, &st); err != nil {
			return false, err
		}
		if len(want) == 0 || want[st.State] {
			// Newest first, as AWS lists them.
			items = append(items, keyed[createStatusOut]{fmt.Sprintf("%020d/%s", 1<<62-st.Requested.UnixNano(), key), st.out()})
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return page("CreateAccountStatuses", in.pageIn, items)
}

// listAccountsWhere lists the organization's accounts that keep returns true for.
func listAccountsWhere(c *service.Call, org *directory.Organization, in pageIn, keep func(*directory.Account) bool) (any, error) {
	var items []keyed[accountOut]
	err := scanAccounts(c.Tx, func(a *directory.Account) error {
		if !keep(a) {
			return nil
		}
		out, err := newAccountOut(c.Tx, org, a, c.Now)
		items = append(items, keyed[accountOut]{a.ID, out})
		return err
	})
	if err != nil {
		return nil, err
	}
	return page("Accounts", in, items)
}

func listAccounts(c *service.Call) (any, error) {
	var in struct{ pageIn }
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	return listAccountsWhere(c, org, in.pageIn, func(*directory.Account) bool { return true })
}

func listAccountsForParent(c *service.Call) (any, error) {
	var in struct {
		ParentId *string
		pageIn
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	parent, err := needID("ParentId", in.ParentId, rootIDPattern, ouIDPattern)
	if err != nil {
		return nil, err
	}
	kind, err := parentKind(c.Tx, org, parent)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		return nil, parentNotFound()
	}
	return listAccountsWhere(c, org, in.pageIn, func(a *directory.Account) bool { return a.ParentID == parent })
}

// memberAccount reads an AccountId member and returns the account when it is in
// the organization.
func memberAccount(c *service.Call, member string, v *string) (*directory.Account, error) {
	id, err := needID(member, v, accountIDPattern)
	if err != nil {
		return nil, err
	}
	a, err := loadAccount(c.Tx, id)
	if err != nil {
		return nil, err
	}
	if a == nil || a.ParentID == "" {
		return nil, accountNotFound()
	}
	return a, nil
}

// accountRequest reads a request whose one member, AccountId, names an account of
// the organization, for the management account (or a delegate).
func accountRequest(c *service.Call) (*directory.Organization, *directory.Account, error) {
	var in struct{ AccountId *string }
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, nil, err
	}
	a, err := memberAccount(c, "AccountId", in.AccountId)
	return org, a, err
}

func describeAccount(c *service.Call) (any, error) {
	org, a, err := accountRequest(c)
	if err != nil {
		return nil, err
	}
	out, err := newAccountOut(c.Tx, org, a, c.Now)
	if err != nil {
		return nil, err
	}
	return &struct{ Account accountOut }{out}, nil
}

// leave takes an account out of the organization: it keeps its IAM entities and
// loses its policy attachments and its tags ("Amazon Web Services accounts outside
// of an organization do not support tags"). A delegated administrator must be
// deregistered first.
func leave(tx store.Tx, org *directory.Organization, a *directory.Account) error {
	if a.ID == org.MasterAccountID {
		return orgError("MasterCannotLeaveOrganizationException", "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization of the management account.")
	}
	if err := checkNotDelegatedAdmin(tx, a.ID); err != nil {
		return err
	}
	if err := detachAll(tx, a.ID); err != nil {
		return err
	}
	a.ParentID, a.JoinedMethod, a.JoinedAt, a.Tags = "", "", time.Time{}, nil
	return tx.Put(directory.KindAccount, a.ID, a)
}

func removeAccountFromOrganization(c *service.Call) (any, error) {
	org, a, err := accountRequest(c)
	if err != nil {
		return nil, err
	}
	if err := leave(c.Tx, org, a); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func leaveOrganization(c *service.Call) (any, error) {
	if err := decode(c, &struct{}{}); err != nil {
		return nil, err
	}
	org, err := memberOrg(c)
	if err != nil {
		return nil, err
	}
	a, err := loadAccount(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, accountNotFound()
	}
	if err := leave(c.Tx, org, a); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func moveAccount(c *service.Call) (any, error) {
	var in struct {
		AccountId           *string
		SourceParentId      *string
		DestinationParentId *string
	}
	org, err := decodeForManagement(c, &in)
	if err != nil {
		return nil, err
	}
	id, err := needID("AccountId", in.AccountId, accountIDPattern)
	if err != nil {
		return nil, err
	}
	src, err := needID("SourceParentId", in.SourceParentId, rootIDPattern, ouIDPattern)
	if err != nil {
		return nil, err
	}
	dst, err := needID("DestinationParentId", in.DestinationParentId, rootIDPattern, ouIDPattern)
	if err != nil {
		return nil, err
	}
	if kind, err := parentKind(c.Tx, org, src); err != nil || kind == "" {
		if err == nil {
			err = orgError("SourceParentNotFoundException", "We can't find a source root or OU with the ParentId that you specified.")
		}
		return nil, err
	}
	if kind, err := parentKind(c.Tx, org, dst); err != nil || kind == "" {
		if err == nil {
			err = orgError("DestinationParentNotFoundException", "We can't find the destination container (a root or OU) with the ParentId that you specified.")
		}
		return nil, err
	}
	for _, p := range []string{src, dst} {
		if err := authorizeOn(c, org, "MoveAccount", targetArn(org, p), nil); err != nil {
			return nil, err
		}
	}
	a, err := loadAccount(c.Tx, id)
	if err != nil {
		return nil, err
	}
	if a == nil || a.ParentID == "" || a.ParentID != src {
		return nil, accountNotFound()
	}
	if dst == src {
		return nil, orgError("DuplicateAccountException", "That account is already present in the specified destination.")
	}
	a.ParentID = dst
	if err := c.Tx.Put(directory.KindAccount, a.ID, a); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// Closing accounts ("CloseAccount" in the API reference).
const (
	// postClosurePeriod is how long a closed account stays SUSPENDED, reopenable by
	// AWS Support, before its State is CLOSED.
	postClosurePeriod = 90 * 24 * time.Hour
	// closeQuotaWindow is the rolling period of the close-account quota.
	closeQuotaWindow = 30 * 24 * time.Hour
)

// closeQuota is how many member accounts an organization may close in a rolling 30
// days: "the higher of either 250 or 20% of the member accounts in your
// organization, up to a maximum of 1,000" (CloseAccount, API reference).
func closeQuota(members int) int {
	return min(max(250, members/5), 1000)
}

// closeAccount closes a member account at once: it stays in the organization with
// Status and State SUSPENDED, and its principals can no longer act (the directory
// refuses their credentials). AWS does it in the background and shows
// PENDING_CLOSURE meanwhile; iamlocal, like CreateAccount, completes before the
// first DescribeAccount (README.md).
func closeAccount(c *service.Call) (any, error) {
	org, a, err := accountRequest(c)
	if err != nil {
		return nil, err
	}
	if org.FeatureSet != "ALL" {
		return nil, notAllFeatures()
	}
	if a.ID == org.MasterAccountID {
		return nil, constraintViolation("CANNOT_CLOSE_MANAGEMENT_ACCOUNT", "You attempted to close the management account. To close the management account for the organization, you must first either remove or close all member accounts in the organization. Follow standard account closure process using root credentials.")
	}
	if a.Closed() {
		return nil, orgError("AccountAlreadyClosedException", "You attempted to close an account that is already closed.")
	}
	members, closed := 0, 0
	err = scanAccounts(c.Tx, func(x *directory.Account) error {
		if x.ID != org.MasterAccountID {
			members++
		}
		if x.Closed() && c.Now.Sub(x.ClosedAt) < closeQuotaWindow {
			closed++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if closed >= closeQuota(members) {
		return nil, constraintViolation("CLOSE_ACCOUNT_QUOTA_EXCEEDED", "You have exceeded close account quota for the past 30 days.")
	}
	a.Status, a.ClosedAt = "SUSPENDED", c.Now.UTC()
	return struct{}{}, c.Tx.Put(directory.KindAccount, a.ID, a)
}
