package iam_test

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/iamlocal/iamlocal/internal/store"
)

// ageCredentialReport makes the account's report older by d, in the store.
func (e *env) ageCredentialReport(d time.Duration) {
	e.t.Helper()
	err := e.s.Env.Store.Write(e.ctx, func(tx store.Tx) error {
		var r struct {
			Generated time.Time
			Content   []byte
		}
		if err := tx.Get("iamcredreport", account, &r); err != nil {
			return err
		}
		r.Generated = r.Generated.Add(-d)
		return tx.Put("iamcredreport", account, &r)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// The header is AWS's, column for column ("Getting credential reports for your AWS
// account", IAM User Guide: the columns user … cert_2_last_rotated).
const credentialReportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed," +
	"password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date," +
	"access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated," +
	"access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active," +
	"cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

func TestCredentialReport(t *testing.T) {
	e := start(t)
	_, err := e.root.GetCredentialReport(e.ctx, &iam.GetCredentialReportInput{})
	wantErr(t, err, "ReportNotPresent", 410, "")

	kim, _ := e.signer("kim", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`)
	ok(kim.GetUser(e.ctx, &iam.GetUserInput{}))(t)
	e.user("lee")
	e.s.SyncLastAccessed(t)

	gen := ok(e.root.GenerateCredentialReport(e.ctx, &iam.GenerateCredentialReportInput{}))(t)
	if gen.State != types.ReportStateTypeStarted || aws.ToString(gen.Description) != "No report exists. Starting a new report generation task" {
		t.Fatalf("first generate: %+v", gen)
	}
	// Within four hours the same report stands.
	e.ageCredentialReport(time.Hour)
	gen = ok(e.root.GenerateCredentialReport(e.ctx, &iam.GenerateCredentialReportInput{}))(t)
	if gen.State != types.ReportStateTypeComplete {
		t.Fatalf("second generate: %+v", gen)
	}
	rep := ok(e.root.GetCredentialReport(e.ctx, &iam.GetCredentialReportInput{}))(t)
	if rep.ReportFormat != types.ReportFormatTypeTextCsv || rep.GeneratedTime == nil {
		t.Fatalf("report: %+v", rep)
	}
	rows, err := csv.NewReader(strings.NewReader(string(rep.Content))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != credentialReportHeader || len(rows) != 4 {
		t.Fatalf("report:\n%s", rep.Content)
	}
	root := rows[1]
	if root[0] != "<root_account>" || root[1] != "arn:aws:iam::111111111111:root" || root[3] != "not_supported" ||
		root[5] != "not_supported" || root[6] != "not_supported" || root[8] != "true" {
		t.Fatalf("root row: %v", root)
	}
	k := rows[2]
	if k[0] != "kim" || k[1] != "arn:aws:iam::111111111111:user/kim" || k[3] != "false" || k[4] != "N/A" || k[7] != "false" ||
		k[8] != "true" || k[10] == "N/A" || k[11] != "us-east-1" || k[12] != "iam" ||
		k[13] != "false" || k[14] != "N/A" || k[18] != "false" || k[19] != "N/A" || !strings.HasSuffix(k[2], "+00:00") {
		t.Fatalf("kim's row: %v", k)
	}
	if l := rows[3]; l[0] != "lee" || l[8] != "false" || l[9] != "N/A" || l[10] != "N/A" {
		t.Fatalf("lee's row: %v", l)
	}

	// After four hours the report is expired until a new one is generated.
	e.ageCredentialReport(3 * time.Hour)
	_, err = e.root.GetCredentialReport(e.ctx, &iam.GetCredentialReportInput{})
	wantErr(t, err, "ReportExpired", 410, "")
	gen = ok(e.root.GenerateCredentialReport(e.ctx, &iam.GenerateCredentialReportInput{}))(t)
	if gen.State != types.ReportStateTypeStarted {
		t.Fatalf("regenerate: %+v", gen)
	}
	ok(e.root.GetCredentialReport(e.ctx, &iam.GetCredentialReportInput{}))(t)

	// Generating needs its permission.
	_, err = kim.GenerateCredentialReport(e.ctx, &iam.GenerateCredentialReportInput{})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/kim is not authorized to perform: iam:GenerateCredentialReport on resource: *…")
}
