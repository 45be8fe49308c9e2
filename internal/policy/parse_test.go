package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRejects(t *testing.T) {
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	tests := []struct {
		name string
		doc  string
		kind Kind
		want string // substring of the error
	}{
		{"not JSON", `{"Version":`, Identity, "Syntax errors"},
		{"trailing data", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} x`, Identity, "Syntax errors"},
		{"array document", `[]`, Identity, "must be a JSON object"},
		{"bad version", `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, Identity, "Version"},
		{"unknown top-level", `{"Version":"2012-10-17","Statment":[]}`, Identity, "Unknown field Statment"},
		{"no statement", `{"Version":"2012-10-17"}`, Identity, "Missing required field Statement"},
		{"empty statements", `{"Version":"2012-10-17","Statement":[]}`, Identity, "at least one statement"},
		{"statement string", `{"Version":"2012-10-17","Statement":"x"}`, Identity, "Statement: must be an object or an array"},
		{"statement item string", stmt(`"x"`), Identity, "Statement[0]: a statement must be an object"},
		{"bad effect", stmt(`{"Effect":"allow","Action":"*","Resource":"*"}`), Identity, "Statement[0]: Effect: Invalid effect: allow"},
		{"no effect", stmt(`{"Action":"*","Resource":"*"}`), Identity, "Missing required field Effect"},
		{"unknown element", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Resources":"*"}`), Identity, "Resources: Unknown field Resources"},
		{"sid named", stmt(`{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"B","Effect":"Alow","Action":"*","Resource":"*"}`), Identity, `Statement[1] (Sid "B"): Effect`},
		{"duplicate sid", stmt(`{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"}`), Identity, "must be unique"},
		{"non-alnum sid", stmt(`{"Sid":"a b","Effect":"Allow","Action":"*","Resource":"*"}`), Identity, "alpha-numeric"},
		{"principal in identity", stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`), Identity, "should not specify a principal"},
		{"principal in SCP", stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`), SCP, "should not specify a principal"},
		{"principal in boundary", stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":"111111111111"},"Action":"*","Resource":"*"}`), Boundary, "NotPrincipal: Policy document should not specify a principal"},
		{"missing principal", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), Resource, "Missing required field Principal"},
		{"both principals", stmt(`{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"s3:*","Resource":"*"}`), Resource, "both Principal and NotPrincipal"},
		{"notprincipal allow", stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":"111111111111"},"Action":"s3:*","Resource":"*"}`), Resource, "NotPrincipal must be used with"},
		{"notprincipal trust", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}`), Trust, "NotPrincipal is not supported"},
		{"principal string", stmt(`{"Effect":"Allow","Principal":"arn:aws:iam::111111111111:root","Action":"s3:*","Resource":"*"}`), Resource, "Invalid principal"},
		{"principal wildcard arn", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/*"},"Action":"s3:*","Resource":"*"}`), Resource, "wildcards"},
		{"principal group", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:group/g"},"Action":"s3:*","Resource":"*"}`), Resource, "groups are never principals"},
		{"principal type", stmt(`{"Effect":"Allow","Principal":{"Aws":"*"},"Action":"s3:*","Resource":"*"}`), Resource, "unknown principal type"},
		{"principal bad account", stmt(`{"Effect":"Allow","Principal":{"AWS":"1234"},"Action":"s3:*","Resource":"*"}`), Resource, "Invalid principal"},
		{"service principal", stmt(`{"Effect":"Allow","Principal":{"Service":"*"},"Action":"sts:AssumeRole"}`), Trust, "service principal"},
		{"action and notaction", stmt(`{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}`), Identity, "both Action and NotAction"},
		{"no action", stmt(`{"Effect":"Allow","Resource":"*"}`), Identity, "must contain actions"},
		{"empty action list", stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), Identity, "must contain actions"},
		{"action without vendor", stmt(`{"Effect":"Allow","Action":"GetObject","Resource":"*"}`), Identity, "prefaced by a vendor"},
		{"wildcard vendor", stmt(`{"Effect":"Allow","Action":"s*:GetObject","Resource":"*"}`), Identity, "Vendor s*"},
		{"action number", stmt(`{"Effect":"Allow","Action":{"a":1},"Resource":"*"}`), Identity, "Action: must be a string"},
		{"no resource", stmt(`{"Effect":"Allow","Action":"s3:*"}`), Identity, "must contain resources"},
		{"resource and notresource", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}`), Identity, "both Resource and NotResource"},
		{"resource not arn", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}`), Identity, "must be in ARN format"},
		{"action two colons", stmt(`{"Effect":"Allow","Action":"s3:Get:Object","Resource":"*"}`), Identity, "Actions/Condition can contain only one colon."},
		{"date past int64", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:EpochTime":"99999999999999999999"}}}`), Identity, "The policy failed legacy parsing"},
		{"resource short arn", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3"}`), Identity, "The policy failed legacy parsing"},
		{"resource partition", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:awz:s3:::b"}`), Identity, `Partition "awz" is not valid for resource "arn:awz:s3:::b".`},
		{"iam resource type", stmt(`{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::111111111111:root"}`), Identity, "IAM resource path must either be"},
		{"principal and missing action", stmt(`{"Effect":"Allow","Principal":"*","Resource":"*"}`), Identity, "Policy document should not specify a principal."},
		{"vendor with space", stmt(`{"Effect":"Allow","Action":"a a:GetObject","Resource":"*"}`), Identity, "Vendor a a is not valid"},
		{"resource vendor wildcard", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s*:::b"}`), Identity, "fully qualified"},
		{"resource in trust", stmt(`{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Resource":"*"}`), Trust, "prohibited field Resource"},
		// IAM's answer to a trust policy's non-assume action, as AWS words it (reported
		// by LocalStack's AWS-validated tests and users of CreateRole).
		{"non-sts in trust", stmt(`{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject"}`), Trust, "AssumeRole policy may only specify STS AssumeRole actions"},
		{"sts but not an assume action in trust", stmt(`{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:GetCallerIdentity"}`), Trust, "AssumeRole policy may only specify STS AssumeRole actions"},
		{"unknown operator", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}`), Identity, "Invalid Condition type : StringEqualz"},
		{"unknown set operator", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"aws:TagKeys":"a"}}}`), Identity, "ForSomeValues"},
		{"null ifexists", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}`), Identity, "NullIfExists"},
		{"condition not object", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":"x"}`), Identity, "Condition: must be an object"},
		{"bad ip", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"300.1.1.1/8"}}}`), Identity, "not an IP address"},
		{"bad number", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}`), Identity, "not a number"},
		{"bad date", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}`), Identity, "not a date"},
		{"bad base64", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"BinaryEquals":{"k":"***"}}}`), Identity, "not base64"},
		{"bad null value", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"k":"yes"}}}`), Identity, "Null takes"},
		{"non-latin1", stmt(`{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/中"}`), Identity, "U+4E2D"},
		{"escaped non-latin1", stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/\u4e2d"}`), Identity, "U+4E2D"},
		{"control character", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/\u0001\"}}", Identity, "Syntax errors"},
		{"escaped control character", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/\u0001"}}`, Identity, "U+0001"},
		{"duplicate key", stmt(`{"Effect":"Allow","Effect":"Deny","Action":"s3:*","Resource":"*"}`), Identity, "duplicate element"},
		{"rcp custom allow", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), RCP, "RCPFullAWSAccess"},
		{"rcp named principal", stmt(`{"Effect":"Deny","Principal":{"AWS":"111111111111"},"Action":"s3:*","Resource":"*"}`), RCP, `only "Principal": "*"`},
		{"deep nesting", `{"Statement":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, Identity, "nests too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), tt.kind)
			if err == nil {
				t.Fatalf("accepted %s", tt.doc)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Code() != "MalformedPolicyDocument" {
				t.Fatalf("error %T %v is not a MalformedPolicyDocument", err, err)
			}
			// The door answers Message, AWS's bare text without a position; the
			// position and the detail are in the Error.
			if strings.Contains(pe.Message, "Statement[") || pe.Message == "" {
				t.Fatalf("door message %q", pe.Message)
			}
			if !strings.Contains(err.Error()+"\n"+pe.Message, tt.want) {
				t.Fatalf("error %q (door: %q) does not contain %q", err, pe.Message, tt.want)
			}
			// Read leniently, a door's finding is listed and the document decided; a
			// document that is no policy (JSON, types) stays an error.
			p, lerr := ParseLenient([]byte(tt.doc), tt.kind)
			if notAPolicy[tt.name] {
				if lerr == nil {
					t.Fatalf("ParseLenient accepted %s", tt.doc)
				}
				return
			}
			if lerr != nil {
				t.Fatalf("ParseLenient: %v", lerr)
			}
			var found []string
			for _, f := range p.Findings {
				found = append(found, f.Error(), f.Message)
			}
			if !strings.Contains(strings.Join(found, "\n"), tt.want) {
				t.Fatalf("findings %q lack %q", found, tt.want)
			}
		})
	}
}

// notAPolicy names the cases of TestParseRejects that are not policies at all: invalid
// JSON, elements of the wrong JSON type, duplicate keys, nesting past the limit.
var notAPolicy = map[string]bool{
	"not JSON": true, "trailing data": true, "array document": true, "statement string": true,
	"statement item string": true, "action number": true, "condition not object": true,
	"duplicate key": true, "deep nesting": true, "control character": true,
}

// TestLenientMeaning pins what ParseLenient gives the elements a door refuses: AWS's
// documented meaning where there is one (IAM User Guide, "IAM JSON policy elements"),
// else nothing matched.
func TestLenientMeaning(t *testing.T) {
	caller, _ := ParseCaller("arn:aws:iam::111111111111:user/alice")
	other, _ := ParseCaller("arn:aws:iam::222222222222:user/bob")
	req := func(c Caller) *Request {
		r := &Request{Caller: c, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", ResourceAccount: "111111111111", Context: Context{}}
		r.Prepare()
		return r
	}
	stmt := func(s string) string { return `{"Version":"2012-10-17","Statement":[` + s + `]}` }
	tests := []struct {
		name    string
		doc     string
		kind    Kind
		caller  Caller
		applies bool
	}{
		// Principal element: "You cannot use the Principal element in an identity-based policy" —
		// such a policy still applies to the identity it is attached to.
		{"principal in identity policy", stmt(`{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:GetObject","Resource":"*"}`), Identity, caller, true},
		// A resource-based policy statement must say whom it applies to: without a principal, no one.
		{"no principal in resource policy", stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), Resource, caller, false},
		// NotPrincipal with Allow: everyone but the listed principals.
		{"notprincipal allow, listed", stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":["arn:aws:iam::111111111111:user/alice","111111111111"]},"Action":"s3:GetObject","Resource":"*"}`), Resource, caller, false},
		{"notprincipal allow, not listed", stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":["arn:aws:iam::111111111111:user/alice","111111111111"]},"Action":"s3:GetObject","Resource":"*"}`), Resource, other, true},
		{"effect in lower case", stmt(`{"Effect":"allow","Action":"s3:GetObject","Resource":"*"}`), Identity, caller, false},
		{"action with an empty name", stmt(`{"Effect":"Allow","Action":"s3:","Resource":"*"}`), Identity, caller, false},
		{"partial wildcard principal", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/*"},"Action":"s3:GetObject","Resource":"*"}`), Resource, caller, false},
		{"one bad principal among good ones", stmt(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:group/g","arn:aws:iam::111111111111:user/alice"]},"Action":"s3:GetObject","Resource":"*"}`), Resource, caller, true},
		{"condition the door refuses", stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"someday"}}}`), Identity, caller, false},
		{"unknown element ignored", stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Comment":"x"}`), Identity, caller, true},
		{"no statement", `{"Version":"2012-10-17"}`, SCP, caller, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseLenient([]byte(tt.doc), tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Findings) == 0 {
				t.Fatal("no finding listed")
			}
			applies := false
			for i := range p.Statements {
				if ok, _ := p.Statements[i].Applies(req(tt.caller)); ok {
					applies = true
				}
			}
			if applies != tt.applies {
				t.Fatalf("applies = %v, want %v", applies, tt.applies)
			}
		})
	}
}

// AWS accepts what these documents hold (issue 12): an operator block without keys,
// operators in any case.
func TestParseAcceptsAsAWSDoes(t *testing.T) {
	caller, _ := ParseCaller("arn:aws:iam::111111111111:user/alice")
	r := &Request{Caller: caller, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", ResourceAccount: "111111111111",
		Context: Context{"aws:username": {"alice"}}}
	r.Prepare()
	for _, doc := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateGreaterThan":{}}}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"stringequals":{"aws:username":"alice"}}}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"forallvalues:STRINGLIKEIFEXISTS":{"aws:username":"al*"}}}}`,
	} {
		p, err := Parse([]byte(doc), Identity)
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if ok, _ := p.Statements[0].Applies(r); !ok {
			t.Fatalf("%s does not apply", doc)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		kind Kind
	}{
		{"statement object, no version", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, Identity},
		{"lists and scalars", `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"S1","Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":"arn:aws:iam::*:role/admin"}]}`, Identity},
		{"condition value types", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10},"StringEquals":{"aws:PrincipalTag/t":["a","b"]}}}}`, Identity},
		{"every principal form", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["*","111111111111","arn:aws:iam::222222222222:root","arn:aws:iam::111111111111:user/p/alice","arn:aws:iam::111111111111:role/R","arn:aws:sts::111111111111:assumed-role/R/s","arn:aws:sts::111111111111:federated-user/bob","AIDAJQABLZS4A3QDU576Q"],"Service":"ec2.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:*","Resource":"*"}}`, Resource},
		{"trust policy", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}}`, Trust},
		{"trust policy assume actions", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:saml-provider/idp"},"Action":["sts:AssumeRoleWithSAML","sts:SetSourceIdentity","sts:SetContext","sts:AssumeRole*"]}}`, Trust},
		{"rcp full access", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, RCP},
		{"rcp deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}}]}`, RCP},
		{"latin-1 text and tabs", "{\"Version\":\"2012-10-17\",\"Statement\":{\"Sid\":\"A\",\t\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::caf\u00e9\"}}", Identity},
		{"resource policy sid with spaces", `{"Version":"2012-10-17","Statement":{"Sid":"Allow reads","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, Resource},
		{"endpoint policy", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, Endpoint},
		// Issue 12: AWS accepts these.
		{"unknown service short arn", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:fdsasf"}}`, Identity},
		{"percent-encoded resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a%20b"}}`, Identity},
		{"loose dates", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":["2026-01-01 12:00:00","20260101T000000Z","2026-01-01T12+01:00","2026-01","2026-01-01T00:00:00+0100"]}}}}`, Identity},
		// Issue 14: moto's AWS-verified validator accepts these, and AWS's own managed
		// policies hold them (KafkaServiceRolePolicy, AWSBackupAccessPointOperatorAccess).
		{"any partition", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:*:kms:*:*:key/*"}}`, Identity},
		{"regional s3 access point", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:*:*:accesspoint/*"}}`, Identity},
		{"epoch past the year 2262", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThan":{"aws:EpochTime":"99999999999"}}}}`, Identity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.doc), tt.kind); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStatementPositions(t *testing.T) {
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"},\n    {\n      \"Effect\": \"Deny\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"
	p, err := Parse([]byte(doc), Identity)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ start, end Position }{
		{Position{4, 5}, Position{4, 56}},
		{Position{5, 5}, Position{9, 6}},
	}
	for i, w := range want {
		st := p.Statements[i]
		if st.Start != w.start || st.End != w.end {
			t.Errorf("statement %d at %v–%v, want %v–%v", i, st.Start, st.End, w.start, w.end)
		}
	}
}

// A "*" partition matches every partition's ARNs (issue 14: AWS's managed policies
// write arn:*:… for resources in any partition).
func TestAnyPartitionMatches(t *testing.T) {
	caller, _ := ParseCaller("arn:aws:iam::111111111111:user/alice")
	p, err := Parse([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:*:kms:*:*:key/*"}}`), Identity)
	if err != nil {
		t.Fatal(err)
	}
	for res, want := range map[string]bool{"arn:aws:kms:us-east-1:111111111111:key/k": true, "arn:aws-cn:kms:cn-north-1:111111111111:key/k": true,
		"arn:aws:kms:us-east-1:111111111111:alias/a": false} {
		r := &Request{Caller: caller, Action: "kms:Decrypt", Resource: res, ResourceAccount: "111111111111"}
		r.Prepare()
		if ok, _ := p.Statements[0].Applies(r); ok != want {
			t.Errorf("%s: applies %v, want %v", res, ok, want)
		}
	}
}
