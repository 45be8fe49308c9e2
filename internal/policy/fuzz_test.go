package policy

import "testing"

// FuzzParse feeds arbitrary documents to the parser, strict and lenient: neither may
// panic, a document either accepts must be matchable without panicking, a document
// the strict parser accepts has no findings leniently, and every document the strict
// parser refuses for a door's reason the lenient one decides.
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
		k := Kind(kind % uint8(Endpoint+1))
		strict, serr := Parse(doc, k)
		lenient, lerr := ParseLenient(doc, k)
		if serr == nil && (lerr != nil || len(lenient.Findings) > 0) {
			t.Fatalf("strict accepts, lenient says %v %v", lerr, lenient.Findings)
		}
		if serr != nil && lerr == nil && len(lenient.Findings) == 0 {
			t.Fatalf("strict refuses (%v), lenient accepts without a finding", serr)
		}
		for _, err := range []error{serr, lerr} {
			if _, ok := err.(*Error); err != nil && !ok {
				t.Fatalf("error %T is not a *policy.Error", err)
			}
		}
		for _, p := range []*Policy{strict, lenient} {
			if p != nil {
				matchAll(p, callers)
			}
		}
	})
}

// matchAll matches every statement against a few requests (it must not panic).
func matchAll(p *Policy, callers []string) {
	for _, cs := range callers {
		c, _ := ParseCaller(cs)
		r := &Request{Caller: c, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/alice/x", ResourceAccount: "111111111111",
			Context: Context{"aws:tagkeys": {"a", "b"}, "aws:sourceip": {"10.1.2.3"}, "aws:username": {"alice"}, "n": {"2"}}}
		r.Prepare()
		for i := range p.Statements {
			p.Statements[i].Applies(r)
		}
	}
}
