package policy

import "testing"

// FuzzParse feeds arbitrary documents to the parser: it must never panic, and a
// document it accepts must be matchable against requests without panicking.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","NotAction":["iam:*"],"NotResource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*","${*}"]}}}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws:iam::111111111111:role/R"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:sts::111111111111:assumed-role/R/s"},"Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"DateLessThan":{"aws:CurrentTime":"2026-01-01"},"NumericGreaterThan":{"n":1.5},"Null":{"k":true}}}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${aws:PrincipalTag/t, 'd'}${?}"}}`,
		`{`, `[]`, `{"Statement":[[[[]]]]}`, `"\u00ff"`,
	}
	for _, s := range seeds {
		for k := Identity; k <= Endpoint; k++ {
			f.Add([]byte(s), uint8(k))
		}
	}
	callers := []string{"arn:aws:iam::111111111111:user/alice", "arn:aws:sts::111111111111:assumed-role/R/s", "anonymous", "arn:aws:iam::222222222222:root"}
	f.Fuzz(func(t *testing.T, doc []byte, kind uint8) {
		p, err := Parse(doc, Kind(kind%uint8(Endpoint+1)))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not a *policy.Error", err)
			}
			return
		}
		for _, cs := range callers {
			c, _ := ParseCaller(cs)
			r := &Request{Caller: c, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/alice/x", ResourceAccount: "111111111111",
				Context: Context{"aws:tagkeys": {"a", "b"}, "aws:sourceip": {"10.1.2.3"}, "aws:username": {"alice"}, "n": {"2"}}}
			r.Prepare()
			for i := range p.Statements {
				p.Statements[i].Applies(r)
			}
		}
	})
}
