package policycheck

import (
	"testing"

	"github.com/iamlocal/iamlocal/internal/policy"
)

// FuzzLint feeds arbitrary documents to Lint: it may not panic, every finding has a
// type, a code, a message and a place inside the document, and a document the strict
// door accepts gets no door finding.
func FuzzLint(f *testing.F) {
	for _, s := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObjct","s4:*"],"Resource":"arn:aws:s3:::b","Condition":{"StringEquals":{"aws:CurrentTime":"x","s3:nope":"y"}}}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:RunInstances","Resource":["arn:aws:ec2:*:*:instance/*","arn:*:*:*:*:*${aws:username}"],"Condition":{"ForAllValues:ArnLike":{"aws:PrincipalOrgID":"o-*"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"Federated":"x"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"a.b/c:sub":"x","saml:aud":"y","noprefix":"z"}}}]}`,
		`{`, `[]`, `{"Statement":[[[[]]]]}`, "{\n\"Statement\": [}",
	} {
		for k := policy.Identity; k <= policy.Endpoint; k++ {
			f.Add([]byte(s), uint8(k))
		}
	}
	f.Fuzz(func(t *testing.T, doc []byte, kind uint8) {
		k := policy.Kind(kind % uint8(policy.Endpoint+1))
		lines := 1
		for _, c := range doc {
			if c == '\n' {
				lines++
			}
		}
		_, strictErr := policy.Parse(doc, k)
		for _, f := range Lint(doc, k) {
			if f.Type == "" || f.Code == "" || f.Message == "" || f.Pos.Line < 1 || f.Pos.Line > lines || f.Pos.Column < 1 {
				t.Fatalf("finding %+v of %q", f, doc)
			}
			if strictErr == nil && f.Code == CodeMalformedPolicyDocument {
				t.Fatalf("the door accepts %q, Lint refuses it: %v", doc, f)
			}
		}
	})
}
