package iam_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const kimPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["iam:GetUser","iam:CreateGroup"],"Resource":"*"},
 {"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`

// Last-accessed data comes from real decisions: kim's calls through the server
// show in her report, in GetAccessKeyLastUsed and in the group's and policy's.
func TestServiceLastAccessedFromRealCalls(t *testing.T) {
	e := start(t)
	kim, creds := e.signer("kim", kimPolicy)
	ok(kim.GetUser(e.ctx, &iam.GetUserInput{}))(t)
	ok(kim.CreateGroup(e.ctx, &iam.CreateGroupInput{GroupName: aws.String("made-by-kim")}))(t)
	_, err := kim.ListRoles(e.ctx, &iam.ListRolesInput{}) // denied: still an attempt
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/kim is not authorized to perform: iam:ListRoles…")
	e.s.SyncLastAccessed(t)

	last := ok(e.root.GetAccessKeyLastUsed(e.ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(creds.ID)}))(t).AccessKeyLastUsed
	if aws.ToString(last.ServiceName) != "iam" || aws.ToString(last.Region) != "us-east-1" || last.LastUsedDate == nil {
		t.Fatalf("key last used: %+v", last)
	}

	userArn := "arn:aws:iam::111111111111:user/kim"
	jobID := ok(e.root.GenerateServiceLastAccessedDetails(e.ctx, &iam.GenerateServiceLastAccessedDetailsInput{
		Arn: aws.String(userArn), Granularity: types.AccessAdvisorUsageGranularityTypeActionLevel}))(t).JobId
	if len(aws.ToString(jobID)) != 36 {
		t.Fatalf("job id %q", aws.ToString(jobID))
	}
	rep := ok(e.root.GetServiceLastAccessedDetails(e.ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: jobID}))(t)
	if rep.JobStatus != types.JobStatusTypeCompleted || rep.JobType != types.AccessAdvisorUsageGranularityTypeActionLevel ||
		rep.JobCompletionDate == nil || len(rep.ServicesLastAccessed) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	iamSvc, s3Svc := rep.ServicesLastAccessed[0], rep.ServicesLastAccessed[1]
	if aws.ToString(iamSvc.ServiceNamespace) != "iam" || aws.ToString(iamSvc.ServiceName) != "AWS Identity and Access Management (IAM)" ||
		iamSvc.LastAuthenticated == nil || aws.ToString(iamSvc.LastAuthenticatedEntity) != userArn ||
		aws.ToString(iamSvc.LastAuthenticatedRegion) != "us-east-1" || aws.ToInt32(iamSvc.TotalAuthenticatedEntities) != 1 {
		t.Fatalf("iam: %+v", iamSvc)
	}
	// Tracked actions: the management actions the policy allows; only CreateGroup was used.
	var names []string
	for _, a := range iamSvc.TrackedActionsLastAccessed {
		names = append(names, aws.ToString(a.ActionName))
		if aws.ToString(a.ActionName) == "CreateGroup" && (a.LastAccessedTime == nil || aws.ToString(a.LastAccessedEntity) != userArn) {
			t.Fatalf("CreateGroup: %+v", a)
		}
	}
	if strings.Join(names, ",") != "CreateGroup" {
		t.Fatalf("tracked actions: %v", names)
	}
	if aws.ToString(s3Svc.ServiceNamespace) != "s3" || s3Svc.LastAuthenticated != nil || aws.ToInt32(s3Svc.TotalAuthenticatedEntities) != 0 ||
		len(s3Svc.TrackedActionsLastAccessed) != 0 {
		t.Fatalf("s3: %+v", s3Svc)
	}
	page := ok(e.root.GetServiceLastAccessedDetails(e.ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: jobID, MaxItems: aws.Int32(1)}))(t)
	if !page.IsTruncated || len(page.ServicesLastAccessed) != 1 {
		t.Fatalf("page: %+v", page)
	}
	page = ok(e.root.GetServiceLastAccessedDetails(e.ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: jobID, Marker: page.Marker}))(t)
	if page.IsTruncated || len(page.ServicesLastAccessed) != 1 || aws.ToString(page.ServicesLastAccessed[0].ServiceNamespace) != "s3" {
		t.Fatalf("second page: %+v", page)
	}

	// A group's report counts its members' activity for the services its policies allow.
	e.group("readers")
	ok(e.root.PutGroupPolicy(e.ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("r"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}`)}))(t)
	ok(e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String("kim")}))(t)
	e.user("lee")
	ok(e.root.AddUserToGroup(e.ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String("lee")}))(t)
	gjob := ok(e.root.GenerateServiceLastAccessedDetails(e.ctx, &iam.GenerateServiceLastAccessedDetailsInput{
		Arn: aws.String("arn:aws:iam::111111111111:group/readers")}))(t).JobId
	grep := ok(e.root.GetServiceLastAccessedDetails(e.ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gjob}))(t)
	if len(grep.ServicesLastAccessed) != 1 || aws.ToString(grep.ServicesLastAccessed[0].LastAuthenticatedEntity) != userArn ||
		grep.ServicesLastAccessed[0].TrackedActionsLastAccessed != nil || grep.JobType != types.AccessAdvisorUsageGranularityTypeServiceLevel {
		t.Fatalf("group report: %+v", grep)
	}
	ents := ok(e.root.GetServiceLastAccessedDetailsWithEntities(e.ctx, &iam.GetServiceLastAccessedDetailsWithEntitiesInput{
		JobId: gjob, ServiceNamespace: aws.String("iam")}))(t)
	if len(ents.EntityDetailsList) != 2 || aws.ToString(ents.EntityDetailsList[0].EntityInfo.Name) != "kim" ||
		ents.EntityDetailsList[0].LastAuthenticated == nil || ents.EntityDetailsList[0].EntityInfo.Type != types.PolicyOwnerEntityTypeUser ||
		aws.ToString(ents.EntityDetailsList[1].EntityInfo.Name) != "lee" || ents.EntityDetailsList[1].LastAuthenticated != nil {
		t.Fatalf("entities: %+v", ents.EntityDetailsList)
	}

	// A managed policy's report counts the entities it is attached to.
	mp := e.policy("s3-reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`)
	ok(e.root.AttachUserPolicy(e.ctx, &iam.AttachUserPolicyInput{UserName: aws.String("kim"), PolicyArn: mp.Arn}))(t)
	pjob := ok(e.root.GenerateServiceLastAccessedDetails(e.ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: mp.Arn}))(t).JobId
	prep := ok(e.root.GetServiceLastAccessedDetails(e.ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: pjob}))(t)
	if len(prep.ServicesLastAccessed) != 1 || aws.ToString(prep.ServicesLastAccessed[0].ServiceNamespace) != "s3" {
		t.Fatalf("policy report: %+v", prep.ServicesLastAccessed)
	}

	// Which of kim's policies grant each service: her inline one, her group's, the managed one.
	grants := ok(e.root.ListPoliciesGrantingServiceAccess(e.ctx, &iam.ListPoliciesGrantingServiceAccessInput{
		Arn: aws.String(userArn), ServiceNamespaces: []string{"iam", "s3", "ec2"}}))(t).PoliciesGrantingServiceAccess
	if len(grants) != 3 || len(grants[0].Policies) != 2 || len(grants[1].Policies) != 2 || len(grants[2].Policies) != 0 {
		t.Fatalf("grants: %+v", grants)
	}
	inl := grants[0].Policies[0]
	if aws.ToString(inl.PolicyName) != "inline" || inl.PolicyType != types.PolicyTypeInline || inl.EntityType != types.PolicyOwnerEntityTypeUser ||
		aws.ToString(inl.EntityName) != "kim" || inl.PolicyArn != nil {
		t.Fatalf("inline grant: %+v", inl)
	}
	if g := grants[0].Policies[1]; aws.ToString(g.PolicyName) != "r" || g.EntityType != types.PolicyOwnerEntityTypeGroup || aws.ToString(g.EntityName) != "readers" {
		t.Fatalf("group grant: %+v", g)
	}
	if m := grants[1].Policies[1]; m.PolicyType != types.PolicyTypeManaged || aws.ToString(m.PolicyArn) != aws.ToString(mp.Arn) || m.EntityType != "" {
		t.Fatalf("managed grant: %+v", m)
	}
}

func TestServiceLastAccessedRejections(t *testing.T) {
	e := start(t)
	_, err := e.root.GenerateServiceLastAccessedDetails(e.ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::111111111111:user/nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	_, err = e.root.GenerateServiceLastAccessedDetails(e.ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:s3:::not-an-iam-entity")})
	wantErr(t, err, "InvalidInput", 400, "ARN arn:aws:s3:::not-an-iam-entity is not valid.")
	e.user("kim")
	_, err = e.root.GenerateServiceLastAccessedDetails(e.ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::111111111111:user/kim"), Granularity: "EVERYTHING"})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value 'EVERYTHING' at 'granularity' failed to satisfy constraint: Member must satisfy enum value set: [SERVICE_LEVEL, ACTION_LEVEL]")
	_, err = e.root.GetServiceLastAccessedDetails(e.ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("00000000-0000-4000-8000-000000000000")})
	wantErr(t, err, "NoSuchEntity", 404, "Job with id 00000000-0000-4000-8000-000000000000 not found.")
	_, err = e.root.GetServiceLastAccessedDetails(e.ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("short")})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value 'short' at 'jobId' failed to satisfy constraint: Member must have length greater than or equal to 36")

	// Only the caller that generated a job reads it.
	job := ok(e.root.GenerateServiceLastAccessedDetails(e.ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::111111111111:user/kim")}))(t).JobId
	admin, _ := e.signer("admin", allowAll)
	_, err = admin.GetServiceLastAccessedDetails(e.ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job})
	wantErr(t, err, "NoSuchEntity", 404, "Job with id "+aws.ToString(job)+" not found.")
	_, err = admin.GetServiceLastAccessedDetailsWithEntities(e.ctx, &iam.GetServiceLastAccessedDetailsWithEntitiesInput{JobId: job, ServiceNamespace: aws.String("s3!")})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value 's3!' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]*`)

	pol := e.policy("p", allowAll)
	_, err = e.root.ListPoliciesGrantingServiceAccess(e.ctx, &iam.ListPoliciesGrantingServiceAccessInput{Arn: pol.Arn, ServiceNamespaces: []string{"s3"}})
	wantErr(t, err, "InvalidInput", 400, "ARN "+aws.ToString(pol.Arn)+" is not valid.")
}
