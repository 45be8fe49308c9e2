package iam_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/servertest"
	"github.com/iamlocal/iamlocal/internal/store"
)

// orgWorld is an organization with SCPs enabled and one member account, dev.
type orgWorld struct {
	*env
	org        *organizations.Client
	id, rootID string
	dev        string
	devIAM     *iam.Client
}

func newOrgWorld(t *testing.T) *orgWorld {
	e := start(t)
	org := e.s.Organizations(servertest.Root)
	o := ok(org.CreateOrganization(e.ctx, &organizations.CreateOrganizationInput{}))(t).Organization
	roots := ok(org.ListRoots(e.ctx, &organizations.ListRootsInput{}))(t).Roots
	w := &orgWorld{env: e, org: org, id: aws.ToString(o.Id), rootID: aws.ToString(roots[0].Id)}
	ok(org.EnablePolicyType(e.ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(w.rootID), PolicyType: orgtypes.PolicyTypeServiceControlPolicy}))(t)
	ca := ok(org.CreateAccount(e.ctx, &organizations.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com")}))(t)
	st := ok(org.DescribeCreateAccountStatus(e.ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: ca.CreateAccountStatus.Id}))(t)
	w.dev = aws.ToString(st.CreateAccountStatus.AccountId)
	w.devIAM = e.s.IAM(e.s.RootKey(t, w.dev))
	return w
}

// trustIAM enables trusted access for IAM, as Organizations' EnableAWSServiceAccess would.
func (w *orgWorld) trustIAM() {
	w.t.Helper()
	err := w.s.Env.Store.Write(w.ctx, func(tx store.Tx) error { return tx.Put(directory.KindServiceAccess, "iam.amazonaws.com", true) })
	if err != nil {
		w.t.Fatal(err)
	}
}

func TestOrganizationsFeatures(t *testing.T) {
	e := start(t)
	_, err := e.root.ListOrganizationsFeatures(e.ctx, &iam.ListOrganizationsFeaturesInput{})
	wantErr(t, err, "OrganizationNotFoundException", 400, "The request was rejected because no organization is associated with your account.")

	w := newOrgWorld(t)
	_, err = w.root.ListOrganizationsFeatures(w.ctx, &iam.ListOrganizationsFeaturesInput{})
	wantErr(t, err, "ServiceAccessNotEnabledException", 400, "The request was rejected because trusted access is not enabled for IAM in Organizations.")
	w.trustIAM()
	list := ok(w.root.ListOrganizationsFeatures(w.ctx, &iam.ListOrganizationsFeaturesInput{}))(t)
	if aws.ToString(list.OrganizationId) != w.id || len(list.EnabledFeatures) != 0 {
		t.Fatalf("list: %+v", list)
	}
	ok(w.root.EnableOrganizationsRootCredentialsManagement(w.ctx, &iam.EnableOrganizationsRootCredentialsManagementInput{}))(t)
	both := ok(w.root.EnableOrganizationsRootSessions(w.ctx, &iam.EnableOrganizationsRootSessionsInput{}))(t)
	if len(both.EnabledFeatures) != 2 || both.EnabledFeatures[0] != types.FeatureTypeRootCredentialsManagement || both.EnabledFeatures[1] != types.FeatureTypeRootSessions {
		t.Fatalf("enabled: %+v", both.EnabledFeatures)
	}
	one := ok(w.root.DisableOrganizationsRootCredentialsManagement(w.ctx, &iam.DisableOrganizationsRootCredentialsManagementInput{}))(t)
	if len(one.EnabledFeatures) != 1 || one.EnabledFeatures[0] != types.FeatureTypeRootSessions || aws.ToString(one.OrganizationId) != w.id {
		t.Fatalf("after disable: %+v", one)
	}
	// STS AssumeRoot reads the flags through the directory.
	err = w.s.Env.Store.Read(w.ctx, func(tx store.Tx) error {
		f, err := directory.LoadOrgFeatures(tx, w.id)
		if err == nil && (f.RootCredentialsManagement || !f.RootSessions) {
			t.Errorf("stored features: %+v", f)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ok(w.root.DisableOrganizationsRootSessions(w.ctx, &iam.DisableOrganizationsRootSessionsInput{}))(t)

	// A member account may neither list nor change them.
	_, err = w.devIAM.ListOrganizationsFeatures(w.ctx, &iam.ListOrganizationsFeaturesInput{})
	wantErr(t, err, "AccountNotManagementOrDelegatedAdministratorException", 400, "The request was rejected because the account making the request is not the management account or delegated administrator account for centralized root access.")
	_, err = w.devIAM.EnableOrganizationsRootSessions(w.ctx, &iam.EnableOrganizationsRootSessionsInput{})
	wantErr(t, err, "CallerIsNotManagementAccountException", 400, "The request was rejected because the account making the request is not the management account for the organization.")
}

func TestOrganizationsAccessReport(t *testing.T) {
	w := newOrgWorld(t)
	ok(w.devIAM.CreateUser(w.ctx, &iam.CreateUserInput{UserName: aws.String("dev-user")}))(t)
	ok(w.root.ListUsers(w.ctx, &iam.ListUsersInput{}))(t) // the management account's activity
	w.s.SyncLastAccessed(t)

	rootPath := w.id + "/" + w.rootID
	job := ok(w.root.GenerateOrganizationsAccessReport(w.ctx, &iam.GenerateOrganizationsAccessReportInput{EntityPath: aws.String(rootPath)}))(t).JobId
	rep := ok(w.root.GetOrganizationsAccessReport(w.ctx, &iam.GetOrganizationsAccessReportInput{JobId: job,
		SortKey: types.SortKeyTypeLastAuthenticatedTimeDescending, MaxItems: aws.Int32(5)}))(t)
	if rep.JobStatus != types.JobStatusTypeCompleted || aws.ToInt32(rep.NumberOfServicesAccessible) < 400 ||
		aws.ToInt32(rep.NumberOfServicesNotAccessed) != aws.ToInt32(rep.NumberOfServicesAccessible)-1 || !rep.IsTruncated || len(rep.AccessDetails) != 5 {
		t.Fatalf("report: %+v", rep)
	}
	// Only dev's root user counts: the management account is not under SCPs.
	d := rep.AccessDetails[0]
	if aws.ToString(d.ServiceNamespace) != "iam" || aws.ToString(d.EntityPath) != rootPath+"/"+w.dev || d.LastAuthenticatedTime == nil ||
		aws.ToInt32(d.TotalAuthenticatedEntities) != 1 || aws.ToString(d.Region) != "us-east-1" {
		t.Fatalf("iam: %+v", d)
	}

	// The management account: every service, its own activity.
	mjob := ok(w.root.GenerateOrganizationsAccessReport(w.ctx, &iam.GenerateOrganizationsAccessReportInput{EntityPath: aws.String(rootPath + "/" + account)}))(t).JobId
	mrep := ok(w.root.GetOrganizationsAccessReport(w.ctx, &iam.GetOrganizationsAccessReportInput{JobId: mjob, SortKey: types.SortKeyTypeLastAuthenticatedTimeDescending}))(t)
	if aws.ToString(mrep.AccessDetails[0].EntityPath) != rootPath+"/"+account || mrep.AccessDetails[0].LastAuthenticatedTime == nil {
		t.Fatalf("management report: %+v", mrep.AccessDetails[0])
	}

	// One SCP: the services it allows.
	p := ok(w.org.CreatePolicy(w.ctx, &organizations.CreatePolicyInput{Type: orgtypes.PolicyTypeServiceControlPolicy, Name: aws.String("s3-only"),
		Description: aws.String(""), Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)}))(t)
	pid := p.Policy.PolicySummary.Id
	ok(w.org.AttachPolicy(w.ctx, &organizations.AttachPolicyInput{PolicyId: pid, TargetId: aws.String(w.dev)}))(t)
	pjob := ok(w.root.GenerateOrganizationsAccessReport(w.ctx, &iam.GenerateOrganizationsAccessReportInput{EntityPath: aws.String(rootPath), OrganizationsPolicyId: pid}))(t).JobId
	prep := ok(w.root.GetOrganizationsAccessReport(w.ctx, &iam.GetOrganizationsAccessReportInput{JobId: pjob}))(t)
	if len(prep.AccessDetails) != 1 || aws.ToString(prep.AccessDetails[0].ServiceNamespace) != "s3" || aws.ToInt32(prep.NumberOfServicesNotAccessed) != 1 {
		t.Fatalf("policy report: %+v", prep.AccessDetails)
	}
	// The account's own path: the services every level allows (root: all; dev: s3 and FullAWSAccess).
	ajob := ok(w.root.GenerateOrganizationsAccessReport(w.ctx, &iam.GenerateOrganizationsAccessReportInput{EntityPath: aws.String(rootPath + "/" + w.dev)}))(t).JobId
	arep := ok(w.root.GetOrganizationsAccessReport(w.ctx, &iam.GetOrganizationsAccessReportInput{JobId: ajob}))(t)
	if aws.ToInt32(arep.NumberOfServicesAccessible) < 400 {
		t.Fatalf("account report: %d services", aws.ToInt32(arep.NumberOfServicesAccessible))
	}

	_, err := w.devIAM.GenerateOrganizationsAccessReport(w.ctx, &iam.GenerateOrganizationsAccessReportInput{EntityPath: aws.String(rootPath)})
	wantErr(t, err, "AccessDenied", 403, "Organizations access reports can be generated only by the management account of an organization.")
	_, err = w.root.GenerateOrganizationsAccessReport(w.ctx, &iam.GenerateOrganizationsAccessReportInput{EntityPath: aws.String("o-aaaaaaaaaa/r-bbbb")})
	wantErr(t, err, "InvalidInput", 400, "The entity path o-aaaaaaaaaa/r-bbbb is not valid.")
	_, err = w.root.GenerateOrganizationsAccessReport(w.ctx, &iam.GenerateOrganizationsAccessReportInput{EntityPath: aws.String("r-bbbb/o-aaaaaaaaaaaa")})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value 'r-bbbb/o-aaaaaaaaaaaa' at 'entityPath' failed to satisfy constraint: Member must satisfy regular expression pattern: ^o-[0-9a-z]{10,32}\/r-[0-9a-z]{4,32}[0-9a-z-\/]*`)
	_, err = w.root.GetOrganizationsAccessReport(w.ctx, &iam.GetOrganizationsAccessReportInput{JobId: aws.String("00000000-0000-4000-8000-000000000000")})
	wantErr(t, err, "NoSuchEntity", 404, "Job with id 00000000-0000-4000-8000-000000000000 not found.")
}
