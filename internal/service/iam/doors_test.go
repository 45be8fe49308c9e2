package iam_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestManagedPolicyDoor sends every document of testdata/doors/managed-policy.json
// (AWS's answers to CreatePolicy) through CreatePolicy: MalformedPolicyDocument with
// exactly AWS's message, or a stored policy. The same documents as a user's inline
// policy get the same answer, but for the Version rule: inline policies need none.
func TestManagedPolicyDoor(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "doors", "managed-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name     string          `json:"name"`
			Document json.RawMessage `json:"document"`
			Error    string          `json:"error"`
			Accepted bool            `json:"accepted"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	e := start(t)
	ok(e.root.CreateUser(e.ctx, &iam.CreateUserInput{UserName: aws.String("u")}))(t)
	for i, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var doc bytes.Buffer
			if err := json.Compact(&doc, c.Document); err != nil {
				t.Fatal(err)
			}
			name := "p" + strconv.Itoa(i)
			_, err := e.root.CreatePolicy(e.ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc.String())})
			_, ierr := e.root.PutUserPolicy(e.ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(doc.String())})
			if c.Accepted {
				if err != nil || ierr != nil {
					t.Fatalf("AWS accepts %s; CreatePolicy: %v; PutUserPolicy: %v", doc.String(), err, ierr)
				}
				return
			}
			wantErr(t, err, "MalformedPolicyDocument", 400, c.Error)
			if c.Error != "Policy document must be version 2012-10-17 or greater." {
				wantErr(t, ierr, "MalformedPolicyDocument", 400, c.Error)
			}
		})
	}
}
