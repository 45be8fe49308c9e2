package policy

import "testing"

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, subject string
		mode             int
		want             bool
	}{
		{"*", "", 0, true},
		{"*", "anything/at:all", arnParts, true},
		{"s3:get*", "s3:getobject", 0, true},
		{"s3:get*", "s3:putobject", 0, false},
		{"s3:*object", "s3:getobject", 0, true},
		{"s3:g?tobject", "s3:getobject", 0, true},
		{"s3:g?tobject", "s3:gtobject", 0, false},
		{"a*b*c", "aXXbYYc", 0, true},
		{"a*b*c", "aXXbYY", 0, false},
		{"a*b", "abab", 0, true},
		{"*log*", "arn:aws:s3:::carlossalazar-logs/x", 0, true},
		{"abc", "ABC", 0, false},
		{"abc", "ABC", foldCase, true},
		{"ab*", "ABCD", foldCase, true},
		{"a?c", "aéc", 0, true}, // ? is one character, not one byte
		{"a??c", "aéc", 0, false},
		// ARN part by part: a wildcard does not cross the first five colons.
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y:z", arnParts, true},
		{"arn:aws:iam::*:role/x", "arn:aws:iam::111111111111:role/x", arnParts, true},
		{"arn:aws:someservice:*:111122223333:finance/*", "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", arnParts, false},
		{"arn:aws:someservice:*:111122223333:finance/*", "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", 0, true},
		{"arn:aws:s3:::*", "not-an-arn", arnParts, false},
		{"arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:eu-west-1:111111111111:instance/i-1", arnParts, true},
		{"arn:aws:ec2:?:*:instance/*", "arn:aws:ec2:::instance/i-1", arnParts, false},
		{"arn:aws:s3:::BUCKET/*/test/*", "arn:aws:s3:::BUCKET/1/2/test/3/object.jpg", arnParts, true},
		{"arn:aws:s3:::BUCKET/*/test/*", "arn:aws:s3:::BUCKET/test/object.jpg", arnParts, false},
	}
	for _, tt := range tests {
		p := compilePattern(tt.pattern, compileOptions{wildcards: true, lower: tt.mode&foldCase != 0})
		if got := p.match(tt.subject, tt.mode, &Request{}); got != tt.want {
			t.Errorf("match(%q, %q, mode %d) = %v, want %v", tt.pattern, tt.subject, tt.mode, got, tt.want)
		}
	}
}

func TestVariables(t *testing.T) {
	r := &Request{Context: Context{"aws:username": {"David"}, "aws:tagkeys": {"a", "b"}}}
	r.Prepare()
	tests := []struct {
		pattern, subject string
		vars             bool
		want             bool
	}{
		{"home/${aws:username}/*", "home/David/x", true, true},
		{"home/${AWS:UserName}/*", "home/David/x", true, true}, // key names fold
		{"home/${aws:username}/*", "home/david/x", true, false},
		{"home/${aws:username}/*", "home/${aws:username}/x", false, true}, // 2008-10-17: literal
		{"b-${aws:PrincipalTag/team, 'company-wide'}", "b-company-wide", true, true},
		{"b-${aws:PrincipalTag/team,'x y'}", "b-x y", true, true},
		{"b-${aws:PrincipalTag/team}", "b-", true, false}, // unresolved: no match
		{"b-${aws:TagKeys}", "b-a", true, false},          // multi-valued: unresolved
		{"a${*}b", "a*b", true, true},                     // escape: literal star
		{"a${*}b", "axb", true, false},
		{"q${?}", "q?", true, true},
		{"d${$}", "d$", true, true},
		{"${aws:username}*", "Davidson", true, true},
		{"x${unterminated", "x${unterminated", true, true},
	}
	for _, tt := range tests {
		p := compilePattern(tt.pattern, compileOptions{wildcards: true, variables: tt.vars})
		if got := p.match(tt.subject, 0, r); got != tt.want {
			t.Errorf("match(%q, %q, vars=%v) = %v, want %v", tt.pattern, tt.subject, tt.vars, got, tt.want)
		}
	}
}

func TestVariableValueIsLiteral(t *testing.T) {
	r := &Request{Context: Context{"aws:principaltag/team": {"*"}}}
	r.Prepare()
	p := compilePattern("b/${aws:PrincipalTag/team}/x", compileOptions{wildcards: true, variables: true})
	if p.match("b/anything/x", 0, r) {
		t.Fatal("a substituted value must not act as a wildcard")
	}
	if !p.match("b/*/x", 0, r) {
		t.Fatal("a substituted value must match itself")
	}
}

func TestUnresolvedVariableIsNoted(t *testing.T) {
	r := &Request{}
	r.Prepare()
	p := compilePattern("b/${aws:PrincipalTag/Team}", compileOptions{wildcards: true, variables: true})
	p.match("b/x", 0, r)
	if got := r.MissingKeys(); len(got) != 1 || got[0] != "aws:PrincipalTag/Team" {
		t.Fatalf("missing keys %v", got)
	}
}
