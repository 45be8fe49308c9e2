package iam

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/iamlocal/iamlocal/internal/directory"
	"github.com/iamlocal/iamlocal/internal/service"
	"github.com/iamlocal/iamlocal/internal/store"
	"github.com/iamlocal/iamlocal/internal/wire"
)

// The credential report ("Getting credential reports for your AWS account", IAM
// User Guide): a CSV of every user's credentials, the root user's first. It is
// generated at once; a report younger than four hours is the one GenerateCredentialReport
// keeps ("You can generate a credential report as often as once every four hours"),
// and an older one is expired for GetCredentialReport.

func init() {
	register(
		&service.Action{Name: "GenerateCredentialReport", IAMAction: "iam:GenerateCredentialReport", Write: true, Handle: generateCredentialReport},
		&service.Action{Name: "GetCredentialReport", IAMAction: "iam:GetCredentialReport", Handle: getCredentialReport},
	)
}

// kindCredentialReport holds an account's latest report; key: the account id.
const kindCredentialReport = "iamcredreport"

// credentialReportLife is how long a report is current.
const credentialReportLife = 4 * time.Hour

type credentialReport struct {
	Generated time.Time
	Content   []byte // the CSV
}

// credentialReportHeader is AWS's header line, column for column.
var credentialReportHeader = []string{"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"}

// Credentials a report reads beyond users and access keys: login profiles
// (passwordOf, loginprofile.go) and signing certificates (certsOf, certs.go) are
// kept by other parts of IAM; mfaActive is where the report reads MFA devices, and
// answers "none" until that kind exists.
var (
	// mfaActive reports whether a user ("" for the root user) has an MFA device.
	mfaActive = func(tx store.Tx, account, user string) (bool, error) { return false, nil }
)

// reportCert is one signing certificate as the report sees it.
type reportCert struct {
	Active  bool
	Created time.Time
}

// reportTime is the report's ISO 8601 form: 2014-09-01T22:28:48+00:00.
func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func reportBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// keyColumns are the five columns of one access key slot.
func keyColumns(keys []directory.AccessKey, i int) []string {
	if i >= len(keys) {
		return []string{"false", "N/A", "N/A", "N/A", "N/A"}
	}
	k := keys[i]
	cols := []string{reportBool(k.Status == "Active"), reportTime(k.CreateDate), "N/A", "N/A", "N/A"}
	if !k.LastUsed.IsZero() {
		cols[2], cols[3], cols[4] = reportTime(k.LastUsed), k.LastRegion, k.LastSvc
		if cols[3] == "" {
			cols[3] = "N/A"
		}
	}
	return cols
}

func certColumns(certs []reportCert, i int) []string {
	if i >= len(certs) {
		return []string{"false", "N/A"}
	}
	return []string{reportBool(certs[i].Active), reportTime(certs[i].Created)}
}

func sortedKeys(tx store.Tx, account, user string) ([]directory.AccessKey, error) {
	keys, err := listKeys(tx, account, user)
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].CreateDate.Before(keys[j].CreateDate) })
	return keys, err
}

// buildCredentialReport writes the CSV: the root user's row, then every user's.
func buildCredentialReport(tx store.Tx, account string) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(credentialReportHeader)
	var acct directory.Account
	if err := tx.Get(directory.KindAccount, account, &acct); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	keys, err := sortedKeys(tx, account, "")
	if err != nil {
		return nil, err
	}
	mfa, err := mfaActive(tx, account, "")
	if err != nil {
		return nil, err
	}
	// The root user: password columns not_supported, except when it was last used,
	// which iamlocal never sees (no console sign-in): no_information.
	row := []string{"<root_account>", rootArn(account), reportTime(acct.JoinedAt), "not_supported", "no_information",
		"not_supported", "not_supported", reportBool(mfa)}
	row = append(row, keyColumns(keys, 0)...)
	row = append(row, keyColumns(keys, 1)...)
	rootCerts, err := certsOf(tx, account, "")
	if err != nil {
		return nil, err
	}
	row = append(row, certColumns(rootCerts, 0)...)
	row = append(row, certColumns(rootCerts, 1)...)
	w.Write(row)
	err = tx.Scan(directory.KindUser, account+"/", "", 0, func(_ string, data []byte) (bool, error) {
		var u directory.User
		if err := jsonUnmarshal(data, &u); err != nil {
			return false, err
		}
		row, err := userReportRow(tx, account, &u)
		if err != nil {
			return false, err
		}
		w.Write(row)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func userReportRow(tx store.Tx, account string, u *directory.User) ([]string, error) {
	has, changed, used, next, err := passwordOf(tx, account, u.Name)
	if err != nil {
		return nil, err
	}
	pw := []string{"false", "N/A", "N/A", "N/A"} // enabled, last used, last changed, next rotation
	if has {
		pw = []string{"true", "no_information", reportTime(changed), "N/A"}
		if !used.IsZero() {
			pw[1] = reportTime(used)
		}
		if !next.IsZero() {
			pw[3] = reportTime(next)
		}
	}
	keys, err := sortedKeys(tx, account, u.Name)
	if err != nil {
		return nil, err
	}
	certs, err := certsOf(tx, account, u.Name)
	if err != nil {
		return nil, err
	}
	mfa, err := mfaActive(tx, account, u.Name)
	if err != nil {
		return nil, err
	}
	row := append([]string{u.Name, u.Arn, reportTime(u.CreateDate)}, pw...)
	row = append(row, reportBool(mfa))
	row = append(row, keyColumns(keys, 0)...)
	row = append(row, keyColumns(keys, 1)...)
	row = append(row, certColumns(certs, 0)...)
	row = append(row, certColumns(certs, 1)...)
	return row, nil
}

type generateCredentialReportResult struct {
	State       string `xml:"State"`
	Description string `xml:"Description,omitempty"`
}

func generateCredentialReport(c *service.Call) (any, error) {
	var cur credentialReport
	err := c.Tx.Get(kindCredentialReport, c.Account(), &cur)
	switch {
	case err == nil && c.Now.Sub(cur.Generated) < credentialReportLife:
		return &generateCredentialReportResult{State: "COMPLETE"}, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	content, err := buildCredentialReport(c.Tx, c.Account())
	if err != nil {
		return nil, err
	}
	if err := c.Tx.Put(kindCredentialReport, c.Account(), credentialReport{Generated: c.Now.UTC(), Content: content}); err != nil {
		return nil, err
	}
	return &generateCredentialReportResult{State: "STARTED", Description: "No report exists. Starting a new report generation task"}, nil
}

type getCredentialReportResult struct {
	Content       string `xml:"Content"`
	ReportFormat  string `xml:"ReportFormat"`
	GeneratedTime string `xml:"GeneratedTime"`
}

// getCredentialReport answers AWS's errors without a message, as AWS does
// ("ReportNotPresent: " with an empty message, seen by SDK users).
func getCredentialReport(c *service.Call) (any, error) {
	var cur credentialReport
	err := c.Tx.Get(kindCredentialReport, c.Account(), &cur)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, wire.Errorf(http.StatusGone, "ReportNotPresent", "")
	case err != nil:
		return nil, err
	case c.Now.Sub(cur.Generated) >= credentialReportLife:
		return nil, wire.Errorf(http.StatusGone, "ReportExpired", "")
	}
	return &getCredentialReportResult{Content: base64.StdEncoding.EncodeToString(cur.Content), ReportFormat: "text/csv",
		GeneratedTime: isoTime(cur.Generated)}, nil
}
