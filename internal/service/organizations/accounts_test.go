package organizations_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/store"
)

func TestCreateAccount(t *testing.T) {
	f := newOrg(t)
	f.enable(t, types.PolicyTypeServiceControlPolicy)
	out, err := f.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("Dev"), Email: aws.String("dev@example.com"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	if err != nil {
		t.Fatal(err)
	}
	st := out.CreateAccountStatus
	if !regexp.MustCompile(`^car-[a-z0-9]{32}$`).MatchString(aws.ToString(st.Id)) || st.State != types.CreateAccountStateInProgress ||
		aws.ToString(st.AccountName) != "Dev" || st.RequestedTimestamp == nil || st.AccountId != nil {
		t.Fatalf("CreateAccount status: %+v", st)
	}
	d, err := f.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: st.Id})
	if err != nil {
		t.Fatal(err)
	}
	ds := d.CreateAccountStatus
	id := aws.ToString(ds.AccountId)
	if ds.State != types.CreateAccountStateSucceeded || !regexp.MustCompile(`^\d{12}$`).MatchString(id) || ds.CompletedTimestamp == nil {
		t.Fatalf("DescribeCreateAccountStatus: %+v", ds)
	}

	a, err := f.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: &id})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.Account.Name) != "Dev" || aws.ToString(a.Account.Email) != "dev@example.com" ||
		a.Account.JoinedMethod != types.AccountJoinedMethodCreated || a.Account.Status != types.AccountStatusActive ||
		aws.ToString(a.Account.Arn) != "arn:aws:organizations::111111111111:account/"+f.id+"/"+id ||
		len(a.Account.Paths) != 1 || a.Account.Paths[0] != f.id+"/"+f.root+"/"+id+"/" {
		t.Fatalf("DescribeAccount: %+v", a.Account)
	}
	if got := f.attachedIDs(t, id, types.PolicyTypeServiceControlPolicy); len(got) != 1 || got[0] != "p-FullAWSAccess" {
		t.Fatalf("SCPs of the new account: %v", got)
	}
	tags, err := f.org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: &id})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "blue" {
		t.Fatalf("ListTagsForResource: %v %+v", err, tags)
	}

	// The role CreateAccount makes, as stored for IAM and STS.
	var role directory.Role
	err = f.s.Env.Store.Read(ctx, func(tx store.Tx) error {
		return tx.Get(directory.KindRole, directory.NameKey(id, "OrganizationAccountAccessRole"), &role)
	})
	if err != nil {
		t.Fatal(err)
	}
	if role.Arn != "arn:aws:iam::"+id+":role/OrganizationAccountAccessRole" || role.Path != "/" || role.MaxSessionDuration != 3600 ||
		!strings.HasPrefix(role.ID, "AROA") || !slices.Equal(role.AttachedPolicies, []string{adminPolicy}) ||
		!strings.Contains(role.AssumeRolePolicy, `"AWS":"arn:aws:iam::111111111111:root"`) {
		t.Fatalf("role: %+v", role)
	}

	// A custom role name.
	out, err = f.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("Ops"), Email: aws.String("ops@example.com"),
		RoleName: aws.String("Admin"), IamUserAccessToBilling: types.IAMUserAccessToBillingDeny})
	if err != nil {
		t.Fatal(err)
	}
	d, _ = f.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
	err = f.s.Env.Store.Read(ctx, func(tx store.Tx) error {
		return tx.Get(directory.KindRole, directory.NameKey(aws.ToString(d.CreateAccountStatus.AccountId), "admin"), &role)
	})
	if err != nil || role.Name != "Admin" {
		t.Fatalf("custom role: %v %+v", err, role)
	}

	// A taken email fails asynchronously.
	out, err = f.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("Dev2"), Email: aws.String("DEV@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	d, err = f.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
	if err != nil || d.CreateAccountStatus.State != types.CreateAccountStateFailed ||
		d.CreateAccountStatus.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists || d.CreateAccountStatus.AccountId != nil {
		t.Fatalf("duplicate email: %v %+v", err, d)
	}

	// Invalid requests fail at once.
	for _, c := range []struct {
		name   string
		in     organizations.CreateAccountInput
		reason types.InvalidInputExceptionReason
	}{
		{"bad email", organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("not-an-email")}, "INVALID_PATTERN"},
		{"short email", organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("a@b.c")}, "MIN_LENGTH_EXCEEDED"},
		{"long name", organizations.CreateAccountInput{AccountName: aws.String(strings.Repeat("n", 51)), Email: aws.String("n@example.com")}, "MAX_LENGTH_EXCEEDED"},
		{"bad role", organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("x@example.com"), RoleName: aws.String("a b")}, "INVALID_PATTERN"},
		{"reserved role", organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("x@example.com"), RoleName: aws.String("AWSServiceRoleForX")}, "INVALID_ROLE_NAME"},
		{"billing", organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("x@example.com"), IamUserAccessToBilling: "MAYBE"}, "INVALID_ENUM"},
		{"tag key", organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("x@example.com"),
			Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "INVALID_SYSTEM_TAGS_PARAMETER"},
	} {
		_, err := f.org.CreateAccount(ctx, &c.in)
		wantReason(t, c.name, err, "InvalidInputException", string(c.reason))
	}

	_, err = f.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-00000000000000000000000000000000")})
	wantCode(t, "DescribeCreateAccountStatus unknown", err, "CreateAccountStatusNotFoundException")
	_, err = f.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("nope")})
	wantReason(t, "DescribeCreateAccountStatus malformed", err, "InvalidInputException", "INVALID_PATTERN")

	ls, err := f.org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{})
	if err != nil || len(ls.CreateAccountStatuses) != 3 {
		t.Fatalf("ListCreateAccountStatus: %v %+v", err, ls)
	}
	ls, err = f.org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []types.CreateAccountState{types.CreateAccountStateFailed}})
	if err != nil || len(ls.CreateAccountStatuses) != 1 || ls.CreateAccountStatuses[0].FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists {
		t.Fatalf("ListCreateAccountStatus FAILED: %v %+v", err, ls)
	}
	ls, err = f.org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []types.CreateAccountState{types.CreateAccountStateInProgress}})
	if err != nil || len(ls.CreateAccountStatuses) != 0 {
		t.Fatalf("ListCreateAccountStatus IN_PROGRESS: %v %+v", err, ls)
	}
	_, err = f.org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []types.CreateAccountState{"DONE"}})
	wantReason(t, "ListCreateAccountStatus bad state", err, "InvalidInputException", "INVALID_LIST_MEMBER")

	_, err = f.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")})
	wantCode(t, "DescribeAccount unknown", err, "AccountNotFoundException")
	_, err = f.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("12345")})
	wantReason(t, "DescribeAccount malformed", err, "InvalidInputException", "INVALID_PATTERN")
}

func TestListAccounts(t *testing.T) {
	f := newOrg(t)
	want := []string{servertest.Account}
	for i := range 23 {
		want = append(want, f.createAccount(t, fmt.Sprintf("acct%02d", i)))
	}
	slices.Sort(want)

	// One call without MaxResults returns at most 20 and a token.
	first, err := f.org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if err != nil || len(first.Accounts) != 20 || first.NextToken == nil {
		t.Fatalf("ListAccounts: %v %d %v", err, len(first.Accounts), first.NextToken)
	}
	var got []string
	p := organizations.NewListAccountsPaginator(f.org, &organizations.ListAccountsInput{MaxResults: aws.Int32(7)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Accounts) > 7 {
			t.Fatalf("page of %d", len(page.Accounts))
		}
		for _, a := range page.Accounts {
			got = append(got, aws.ToString(a.Id))
		}
	}
	if pages != 4 || !slices.Equal(got, want) {
		t.Fatalf("paginated ListAccounts: %d pages, %v, want %v", pages, got, want)
	}

	_, err = f.org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
	wantReason(t, "MaxResults 21", err, "InvalidInputException", "MAX_VALUE_EXCEEDED")
	_, err = f.org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(0)})
	wantReason(t, "MaxResults 0", err, "InvalidInputException", "MIN_VALUE_EXCEEDED")
	_, err = f.org.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("!!!")})
	wantReason(t, "bad NextToken", err, "InvalidInputException", "INVALID_NEXT_TOKEN")

	// ListAccountsForParent and ListChildren see the same accounts under the root.
	byParent, err := f.org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: &f.root, MaxResults: aws.Int32(20)})
	if err != nil || len(byParent.Accounts) != 20 || byParent.NextToken == nil {
		t.Fatalf("ListAccountsForParent: %v %+v", err, byParent)
	}
	_, err = f.org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-zzzz-zzzzzzzz")})
	wantCode(t, "ListAccountsForParent unknown", err, "ParentNotFoundException")
	_, err = f.org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("123456789012")})
	wantReason(t, "ListAccountsForParent account id", err, "InvalidInputException", "INVALID_PATTERN")
}

func TestMoveAccount(t *testing.T) {
	f := newOrg(t)
	acct := f.createAccount(t, "mover")
	ou := f.createOU(t, f.root, "dest")
	other := f.createOU(t, f.root, "other")

	move := func(account, src, dst string) error {
		_, err := f.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: &account, SourceParentId: &src, DestinationParentId: &dst})
		return err
	}
	wantCode(t, "unknown source", move(acct, "ou-zzzz-zzzzzzzz", ou), "SourceParentNotFoundException")
	wantCode(t, "unknown destination", move(acct, f.root, "ou-zzzz-zzzzzzzz"), "DestinationParentNotFoundException")
	wantCode(t, "unknown account", move("999999999999", f.root, ou), "AccountNotFoundException")
	wantCode(t, "wrong source", move(acct, other, ou), "AccountNotFoundException")
	wantCode(t, "same parent", move(acct, f.root, f.root), "DuplicateAccountException")
	wantReason(t, "malformed destination", move(acct, f.root, "nowhere"), "InvalidInputException", "INVALID_PATTERN")
	if err := move(acct, f.root, ou); err != nil {
		t.Fatal(err)
	}
	parents, err := f.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: &acct})
	if err != nil || len(parents.Parents) != 1 || aws.ToString(parents.Parents[0].Id) != ou || parents.Parents[0].Type != types.ParentTypeOrganizationalUnit {
		t.Fatalf("ListParents after move: %v %+v", err, parents)
	}
	inOU, err := f.org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: &ou})
	if err != nil || len(inOU.Accounts) != 1 || aws.ToString(inOU.Accounts[0].Id) != acct ||
		inOU.Accounts[0].Paths[0] != f.id+"/"+f.root+"/"+ou+"/"+acct+"/" {
		t.Fatalf("ListAccountsForParent after move: %v %+v", err, inOU)
	}
	children, err := f.org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: &f.root, ChildType: types.ChildTypeAccount})
	if err != nil || len(children.Children) != 1 || aws.ToString(children.Children[0].Id) != servertest.Account {
		t.Fatalf("ListChildren of the root after move: %v %+v", err, children)
	}
}

func TestLeaveOrganization(t *testing.T) {
	f := newOrg(t)
	acct := f.createAccount(t, "leaver")
	admin := adminUser(t, f.s, "admin")
	session, err := assume(f.s, admin, acct, "OrganizationAccountAccessRole")
	if err != nil {
		t.Fatal(err)
	}
	member := f.s.Organizations(session)

	// A member sees the organization but cannot manage it.
	d, err := member.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || aws.ToString(d.Organization.Id) != f.id {
		t.Fatalf("DescribeOrganization by a member: %v %+v", err, d)
	}
	_, err = member.ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantCode(t, "ListAccounts by a member", err, "AccessDeniedException")
	if !strings.Contains(err.Error(), "You don't have permissions to access this resource.") {
		t.Fatalf("member ListAccounts message: %v", err)
	}
	_, err = member.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	wantCode(t, "CreateOrganization by a member", err, "AlreadyInOrganizationException")

	_, err = f.org.LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{})
	wantCode(t, "LeaveOrganization by the management account", err, "MasterCannotLeaveOrganizationException")
	if _, err := member.LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = member.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantCode(t, "DescribeOrganization after leaving", err, "AWSOrganizationsNotInUseException")
	_, err = f.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: &acct})
	wantCode(t, "DescribeAccount after leaving", err, "AccountNotFoundException")
	_, err = member.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	wantCode(t, "CreateOrganization by another account", err, "AccessDeniedException")
}
