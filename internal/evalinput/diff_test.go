package evalinput_test

import (
	"encoding/json"
	"math/rand"
	"strings"
	"testing"

	"github.com/iamlocal/iamlocal/internal/evalinput"
)

// FuzzEngineVsReference turns the fuzz input into one eval request (genRequest) and
// fails when the engine and the naive reference evaluator decide it differently.
func FuzzEngineVsReference(f *testing.F) {
	seeds := []string{
		"",
		"\x00\x00\x00\x00",
		"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c",
		"\x02\x00\x01\xff\x10\x20\x30\x40\x50\x60\x70\x80\x90",
		"\x03\x01\x04\x01\x05\x09\x02\x06\x05\x03\x05\x08\x09\x07\x09",
		"\x04\x05\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff",
		"\x06\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
		"\x07\x02\x05\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3",
		"\x08\x01\x00\x33\x66\x99\xcc\xff\x33\x66\x99\xcc\xff",
		"\x05\x04\x06\x00\x07\x00\x08\x00\x09\x00\x0a\x00\x0b\x00\x0c",
		strings.Repeat("\x9c\x3a\x51", 40),
		strings.Repeat("\xff\x00\x7f\x80", 64),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareEngineAndReference(t, data)
	})
}

// TestEngineVsReferenceRandom runs the same comparison over pseudo-random inputs with
// a fixed seed, so that a plain `go test` exercises it.
func TestEngineVsReferenceRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(20240601))
	tally := map[string]int{}
	for range 3000 {
		data := make([]byte, 64+rng.Intn(448))
		rng.Read(data)
		tally[compareEngineAndReference(t, data)]++
	}
	t.Logf("decisions compared: %v", tally)
}

// compareEngineAndReference generates, decides on both sides and compares. A refusal
// is a result like a decision: it passes only where the other side refuses too. It
// returns the decision, or "refused".
func compareEngineAndReference(t *testing.T, data []byte) string {
	t.Helper()
	body, err := json.Marshal(genRequest(&chooser{data: data}))
	if err != nil {
		t.Fatal(err)
	}
	outs, _, engineErr := evalinput.Evaluate(body, evalinput.Options{})
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	want, refErr := referenceDecide(req)
	switch {
	case engineErr != nil && refErr != nil:
		return "refused"
	case engineErr != nil:
		t.Fatalf("the engine refuses (%v), the reference says %s\nrequest: %s", engineErr, want, body)
	case refErr != nil:
		t.Fatalf("the reference refuses (%v), the engine says %s\nrequest: %s", refErr, outs[0].Decision, body)
	}
	if len(outs) != 1 {
		t.Fatalf("engine returned %d outputs for one request: %s", len(outs), body)
	}
	if outs[0].Decision != want {
		t.Fatalf("engine says %s, reference says %s\nrequest: %s", outs[0].Decision, want, body)
	}
	if len(outs[0].Warnings) > 0 {
		return want + " (with door findings)"
	}
	return want
}

// ---------------------------------------------------------------------------------
// The generator: a byte stream chooses from small pools. When the bytes run out every
// choice is 0, so the first entry of each pool is the plain default and short inputs
// give small requests.

type chooser struct {
	data []byte
	pos  int
}

// intn returns a choice in [0, n).
func (c *chooser) intn(n int) int {
	if n <= 1 || c.pos >= len(c.data) {
		return 0
	}
	b := c.data[c.pos]
	c.pos++
	return int(b) % n
}

// chance is true with probability num/den (false when the bytes have run out).
func (c *chooser) chance(num, den int) bool {
	return c.intn(den) >= den-num
}

func pick[T any](c interface{ intn(int) int }, xs []T) T {
	return xs[c.intn(len(xs))]
}

// gen is the generator's state: the chooser and what the request is about, so that
// policies often name the request's own action, resource and caller. Purely random
// statements would rarely match all three and leave the layer-combination rules
// (which Allow grants what to whom) barely exercised.
type gen struct {
	*chooser
	action, resource string
	callerPrincipals []any // Principal values that name this caller in some form
}

const acctA, acctB = "111111111111", "222222222222"

// callerSpec is a principal of the pool and what it may carry.
type callerSpec struct {
	arn  string
	kind string // user, session, root, anonymous, federated, service
}

var callerPool = []callerSpec{
	{"arn:aws:iam::111111111111:user/alice", "user"},
	{"arn:aws:sts::111111111111:assumed-role/R/alice-session", "session"},
	{"arn:aws:iam::222222222222:user/team/bob", "user"},
	{"arn:aws:sts::222222222222:assumed-role/Dev/ci", "session"},
	{"arn:aws:iam::111111111111:root", "root"},
	{"arn:aws:iam::222222222222:root", "root"},
	{"anonymous", "anonymous"},
	{"arn:aws:sts::111111111111:federated-user/fed", "federated"},
	{"ec2.amazonaws.com", "service"},
}

var actionPool = []string{
	"s3:GetObject", "s3:PutObject", "s3:ListBucket", "ec2:RunInstances", "sts:AssumeRole", "iam:ListUsers",
}

var resourcePool = []string{
	"arn:aws:s3:::bucket-a/home/alice/file.txt",
	"arn:aws:s3:::bucket-a",
	"arn:aws:s3:::bucket-b/logs/app.log",
	"arn:aws:s3:::bucket-a/home/dev/notes.txt",
	"arn:aws:ec2:us-east-1:111111111111:instance/i-0abc",
	"arn:aws:ec2:eu-west-1:222222222222:instance/i-0def",
	"arn:aws:iam::111111111111:role/R",
	"arn:aws:iam::222222222222:role/Dev",
	"*",
}

var actionPatterns = []string{
	"*", "s3:*", "s3:GetObject", "s3:Get*", "S3:GETOBJECT", "s3:?utObject", "s3:List*",
	"ec2:*", "ec2:RunInstances", "sts:AssumeRole", "sts:*", "iam:List*", "iam:ListUsers",
}

// trustActionPatterns: a trust policy may name only STS actions.
var trustActionPatterns = []string{
	"sts:AssumeRole", "sts:*", "sts:Assume*", "STS:assumerole", "sts:TagSession",
}

var resourcePatterns = []string{
	"*",
	"arn:aws:s3:::bucket-a/*",
	"arn:aws:s3:::bucket-a",
	"arn:aws:s3:::bucket-*",
	"arn:aws:s3:::bucket-?/*",
	"arn:aws:s3:::*/logs/*",
	"arn:aws:s3:::bucket-a/home/${aws:username}/*",
	"arn:aws:s3:::bucket-a/home/${aws:PrincipalTag/team, 'alice'}/*",
	"arn:aws:s3:::bucket-a/home/${aws:PrincipalTag/team}/*",
	"arn:aws:s3:::bucket-a/home/${*}/*",
	"arn:aws:ec2:*:111111111111:instance/*",
	"arn:aws:ec2:us-east-?:*:*",
	"arn:aws:iam::111111111111:role/*",
	"arn:aws:iam::*:role/Dev",
	"arn:aws:iam::${aws:PrincipalAccount}:role/*",
}

// principalPool holds Principal values for resource-side policies.
var principalPool = []any{
	"*",
	map[string]any{"AWS": "*"},
	map[string]any{"AWS": acctA},
	map[string]any{"AWS": "arn:aws:iam::222222222222:root"},
	map[string]any{"AWS": "arn:aws:iam::111111111111:user/alice"},
	map[string]any{"AWS": "arn:aws:iam::222222222222:user/team/bob"},
	map[string]any{"AWS": "arn:aws:iam::111111111111:role/R"},
	map[string]any{"AWS": "arn:aws:iam::111111111111:role/team/R"},
	map[string]any{"AWS": "arn:aws:iam::222222222222:role/Dev"},
	map[string]any{"AWS": "arn:aws:sts::111111111111:assumed-role/R/alice-session"},
	map[string]any{"AWS": "arn:aws:sts::111111111111:federated-user/fed"},
	map[string]any{"Service": "ec2.amazonaws.com"},
	map[string]any{"AWS": []any{acctA, "arn:aws:iam::111111111111:user/alice"}},
	map[string]any{"AWS": []any{acctB, "arn:aws:iam::222222222222:role/Dev",
		"arn:aws:sts::222222222222:assumed-role/Dev/ci"}},
}

// contextPool: each key with the values a request may carry; the key's spelling varies.
var contextPool = []struct {
	names  []string
	values []any
}{
	{[]string{"aws:SourceIp", "AWS:SourceIP"}, []any{"203.0.113.9", "198.51.100.7", "2001:db8::1", "10.1.2.3"}},
	{[]string{"aws:PrincipalTag/team", "aws:principaltag/TEAM"}, []any{"dev", "ops", "alice"}},
	{[]string{"aws:MultiFactorAuthPresent"}, []any{true, false, "true"}},
	{[]string{"s3:prefix"}, []any{"home/alice/", "logs/", "home/"}},
	{[]string{"aws:TagKeys"}, []any{[]any{"a"}, []any{"a", "b"}, []any{"b", "c"}, []any{"c"}}},
	{[]string{"aws:username"}, []any{"alice", "Alice"}},
	{[]string{"s3:max-keys"}, []any{10, 500, "25"}},
	{[]string{"aws:CurrentTime"}, []any{"2024-06-01T12:00:00Z", "2023-01-01T00:00:00Z"}},
}

var (
	stringOps  = []string{"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"}
	arnOps     = []string{"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "StringLike"}
	numericOps = []string{"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals"}
	dateOps    = []string{"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals"}
)

// conditionPool: a key, the operators that suit it and candidate policy values.
var conditionPool = []struct {
	key    string
	ops    []string
	values [][]any
}{
	{"aws:SourceIp", []string{"IpAddress", "NotIpAddress"}, [][]any{{"203.0.113.0/24"}, {"198.51.100.7"}, {"2001:db8::/32", "10.0.0.0/8"}}},
	{"aws:PrincipalTag/team", stringOps, [][]any{{"dev"}, {"dev", "ops"}, {"d*"}, {"${aws:username}"}, {"DEV"}}},
	{"aws:MultiFactorAuthPresent", []string{"Bool"}, [][]any{{"true"}, {"false"}, {true}}},
	{"s3:prefix", stringOps, [][]any{{"home/${aws:username}/"}, {"logs/"}, {"home/*"}}},
	{"aws:TagKeys", stringOps, [][]any{{"a", "b"}, {"c*"}, {"a"}}},
	{"aws:username", stringOps, [][]any{{"alice"}, {"ALICE"}, {"${aws:PrincipalTag/team}"}}},
	{"aws:PrincipalArn", arnOps, [][]any{{"arn:aws:iam::111111111111:role/*"}, {"arn:aws:iam::${aws:PrincipalAccount}:user/alice"}, {"arn:aws:iam::*:root"}, {"arn:aws:*:*:111111111111:*"}}},
	{"aws:PrincipalAccount", []string{"StringEquals", "StringNotEquals"}, [][]any{{acctA}, {acctB}, {acctA, acctB}}},
	{"aws:PrincipalType", []string{"StringEquals", "StringNotEquals"}, [][]any{{"AssumedRole"}, {"User", "Account"}, {"Anonymous"}}},
	{"aws:userid", []string{"StringLike", "StringNotLike"}, [][]any{{"111111111111*"}, {"anonymous"}}},
	{"s3:max-keys", numericOps, [][]any{{"100"}, {50}, {"25"}}},
	{"aws:CurrentTime", dateOps, [][]any{{"2024-01-01T00:00:00Z"}, {"1700000000"}}},
}

// genRequest builds one request. Identity-side layers are given only to callers that
// have a side of their own (users, sessions, federated users), session policies only
// to sessions, so that the comparison stays within the rules docs/engine.md fixes.
func genRequest(ch *chooser) map[string]any {
	caller := pick(ch, callerPool)
	c := &gen{chooser: ch, action: pick(ch, actionPool), resource: pick(ch, resourcePool)}
	if c.action == "sts:AssumeRole" && c.chance(1, 2) { // exercise trust policies more
		c.resource = pick(c, []string{"arn:aws:iam::111111111111:role/R", "arn:aws:iam::222222222222:role/Dev"})
	}
	req := map[string]any{"principal": caller.arn, "action": c.action, "resource": c.resource}
	roleArn := ""
	if caller.kind == "session" && strings.Contains(caller.arn, "/R/") && c.chance(1, 6) {
		roleArn = "arn:aws:iam::111111111111:role/team/R"
		req["roleArn"] = roleArn
	}
	c.callerPrincipals = principalsNaming(caller, roleArn)
	if c.chance(1, 5) {
		req["resourceAccount"] = pick(c, []string{acctA, acctB})
	}
	if ctx := genContext(c); len(ctx) > 0 {
		req["context"] = ctx
	}
	genPrincipalSide(c, req, caller.kind)
	genResourceSide(c, req)
	genOrganization(c, req, caller.kind)
	return req
}

// principalsNaming lists Principal values naming the caller: its own ARN (user,
// session or federated user), its account, and for a session its role's ARN.
func principalsNaming(caller callerSpec, roleArn string) []any {
	aws := func(v string) any { return map[string]any{"AWS": v} }
	switch caller.kind {
	case "anonymous":
		return []any{"*"}
	case "service":
		return []any{map[string]any{"Service": caller.arn}}
	}
	acct := strings.SplitN(caller.arn, ":", 6)[4]
	out := []any{aws(caller.arn), aws(acct), aws("arn:aws:iam::" + acct + ":root")}
	if caller.kind == "session" {
		role := strings.Split(caller.arn, "/")[1]
		if roleArn == "" {
			roleArn = "arn:aws:iam::" + acct + ":role/" + role
		}
		// The role ARN twice: the form whose limits (boundary, session) are subtlest.
		out = append(out, aws(roleArn), aws(roleArn),
			map[string]any{"AWS": []any{acct, roleArn, caller.arn}})
	}
	return out
}

func genContext(c *gen) map[string]any {
	ctx := map[string]any{}
	for _, k := range contextPool {
		if c.chance(1, 3) {
			ctx[pick(c, k.names)] = pick(c, k.values)
		}
	}
	return ctx
}

func genPrincipalSide(c *gen, req map[string]any, kind string) {
	if kind != "user" && kind != "session" && kind != "federated" {
		return
	}
	if n := c.intn(4); n > 0 {
		req["identityPolicies"] = genPolicies(c, n, "identity")
	}
	if c.chance(1, 3) {
		req["permissionsBoundary"] = genPolicy(c, "identity")
	}
	if kind != "user" && c.chance(1, 3) {
		req["sessionPolicies"] = genPolicies(c, 1+c.intn(2), "identity")
	}
}

// genResourceSide adds a resource policy (written as a trust policy when the request
// is sts:AssumeRole on a role and no other type is set) and an endpoint policy.
func genResourceSide(c *gen, req map[string]any) {
	side := "resource"
	if c.chance(1, 8) {
		req["resourcePolicyType"] = pick(c, []string{"resource", "key"})
	} else if req["action"] == "sts:AssumeRole" && strings.Contains(req["resource"].(string), ":role/") {
		side = "trust"
	}
	if c.chance(1, 2) {
		req["resourcePolicy"] = genPolicy(c, side)
	}
	if c.chance(1, 4) {
		req["endpointPolicy"] = genPolicy(c, "endpoint")
	}
}

func genOrganization(c *gen, req map[string]any, kind string) {
	if c.chance(1, 3) {
		req["scps"] = genLevels(c, "scp")
	}
	if c.chance(1, 3) {
		req["rcps"] = genLevels(c, "rcp")
	}
	// managementAccount describes the principal's account: only callers with one.
	// (Anonymous callers with it set are a known engine/reference difference.)
	if kind != "anonymous" && kind != "service" && c.chance(1, 6) {
		req["managementAccount"] = true
	}
	if c.chance(1, 8) {
		req["resourceManagementAccount"] = c.chance(1, 2)
	}
	if kind == "session" && c.chance(1, 8) {
		req["serviceLinkedRole"] = true
	}
}

// genLevels: 1–3 levels of 1–2 policies; the first policy of a level is often the
// default full-access one, as in a real organization.
func genLevels(c *gen, side string) []any {
	levels := []any{}
	for range 1 + c.intn(3) {
		level := []any{}
		if c.chance(2, 3) {
			level = append(level, fullAccess(side))
		}
		level = append(level, genPolicies(c, 1+c.intn(2), side)...)
		levels = append(levels, level)
	}
	return levels
}

func fullAccess(side string) map[string]any {
	st := map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}
	if side == "rcp" {
		st["Principal"] = "*"
	}
	return map[string]any{"Version": "2012-10-17", "Statement": []any{st}}
}

func genPolicies(c *gen, n int, side string) []any {
	ps := []any{}
	for range n {
		ps = append(ps, genPolicy(c, side))
	}
	return ps
}

// genPolicy: 1–3 statements, usually under Version 2012-10-17 (policy variables on).
func genPolicy(c *gen, side string) map[string]any {
	p := map[string]any{"Version": "2012-10-17"}
	switch {
	case c.chance(1, 8):
		p["Version"] = "2008-10-17"
	case c.chance(1, 12):
		delete(p, "Version")
	}
	stmts := []any{}
	for i := range 1 + c.intn(3) {
		st := genStatement(c, side)
		if c.chance(1, 4) {
			st["Sid"] = "S" + string(rune('A'+i)) // Sids must be unique within a policy
		}
		stmts = append(stmts, st)
	}
	p["Statement"] = stmts
	return p
}

// genStatement builds one statement for a layer side: identity (also boundary,
// session), scp, rcp, endpoint, resource or trust. Custom RCP statements may only
// deny; trust policies name only STS actions and have no Resource.
func genStatement(c *gen, side string) map[string]any {
	st := map[string]any{"Effect": "Allow"}
	if side == "rcp" || c.chance(1, 4) {
		st["Effect"] = "Deny"
	}
	if side == "trust" {
		st[pickName(c, "Action", "NotAction")] = genList(c, trustActionPatterns, "sts:AssumeRole")
	} else {
		st[pickName(c, "Action", "NotAction")] = genList(c, actionPatterns, c.action)
		st[pickName(c, "Resource", "NotResource")] = genList(c, resourcePatterns, c.resource)
	}
	genPrincipalElement(c, st, side)
	if c.chance(1, 2) {
		st["Condition"] = genCondition(c)
	}
	if c.chance(1, 8) {
		genFlaw(c, st, side)
	}
	return st
}

// genFlaw gives a statement one thing its door would refuse, which eval decides with
// AWS's documented meaning (docs/eval.md): an Effect in lower case, an unknown element,
// a principal in an identity-side policy, a resource policy statement without one, or
// NotPrincipal with Allow.
func genFlaw(c *gen, st map[string]any, side string) {
	switch c.intn(4) {
	case 0:
		st["Effect"] = strings.ToLower(st["Effect"].(string))
	case 1:
		st["Comment"] = "not an element"
	case 2:
		if side == "identity" || side == "scp" {
			st["Principal"] = map[string]any{"AWS": "*"}
		} else if side == "resource" {
			delete(st, "Principal")
			delete(st, "NotPrincipal")
		}
	case 3:
		if side == "resource" && st["Effect"] == "Allow" {
			if p, ok := st["Principal"]; ok && p != "*" {
				delete(st, "Principal")
				st["NotPrincipal"] = p
			}
		}
	}
}

// pickName chooses X, or NotX one time in six.
func pickName(c *gen, name, notName string) string {
	if c.chance(1, 6) {
		return notName
	}
	return name
}

// genList gives one pattern as a string, or two as a list. A third of the patterns
// are the request's own value (own), so that statements often match.
func genList(c *gen, pool []string, own string) any {
	one := func() any {
		if c.chance(1, 3) {
			return own
		}
		return pick(c, pool)
	}
	if c.chance(1, 3) {
		return []any{one(), one()}
	}
	return one()
}

// genPrincipalElement: RCPs name "*"; endpoint policies mostly "*"; resource and
// trust policies half the time a form naming the caller, else one from the pool.
// NotPrincipal (Deny only) never lists "*".
func genPrincipalElement(c *gen, st map[string]any, side string) {
	some := func() any {
		if c.chance(1, 2) {
			return pick(c, c.callerPrincipals)
		}
		return pick(c, principalPool)
	}
	switch side {
	case "rcp":
		st["Principal"] = "*"
	case "endpoint":
		st["Principal"] = "*"
		if c.chance(1, 3) {
			st["Principal"] = some()
		}
	case "resource", "trust":
		if st["Effect"] == "Deny" && side == "resource" && c.chance(1, 4) {
			if np := some(); np != "*" {
				st["NotPrincipal"] = np
				return
			}
		}
		st["Principal"] = some()
	}
}

// genCondition: 1–2 operators, each on one key; operators get IfExists or a set
// qualifier now and then, and Null replaces the operator one time in ten.
func genCondition(c *gen) map[string]any {
	cond := map[string]any{}
	for range 1 + c.intn(2) {
		spec := pick(c, conditionPool)
		op := pick(c, spec.ops)
		values := pick(c, spec.values)
		switch {
		case c.chance(1, 10):
			op, values = "Null", []any{pick(c, []any{"true", "false", true})}
		case c.chance(1, 4):
			op += "IfExists"
		}
		if op != "Null" && c.chance(1, 5) {
			op = pick(c, []string{"ForAllValues:", "ForAnyValue:"}) + op
		}
		block, _ := cond[op].(map[string]any)
		if block == nil {
			block = map[string]any{}
			cond[op] = block
		}
		if len(values) == 1 && c.chance(1, 2) {
			block[spec.key] = values[0]
		} else {
			block[spec.key] = values
		}
	}
	return cond
}
