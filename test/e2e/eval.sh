#!/usr/bin/env bash
# End-to-end: the real iamlocal binary decides the shipped examples, prints JSON and
# text, and rejects invalid input with exit status 2 and a message naming the field.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${IAMLOCAL:-bin/iamlocal}
fail() { echo "FAIL: $*" >&2; exit 1; }
passed=0
pass() { passed=$((passed + 1)); }

# An array in, an array of decisions out, in order.
out=$("$bin" eval --json -f examples/eval/cross-account-s3.json)
decisions=$(python3 -c 'import json,sys; print(" ".join(d["decision"] for d in json.load(sys.stdin)))' <<<"$out")
[ "$decisions" = "allowed implicitDeny" ] || fail "cross-account-s3: got $decisions"
pass

# One object in, one decision out; the SCP's deny names its layer and statement.
out=$("$bin" eval --json < examples/eval/scp-denies-runinstances.json)
python3 - "$out" <<'PY' || fail "scp-denies-runinstances: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["decision"] == "explicitDeny", d
assert d["blockedBy"] == ["scp"], d
deny = [m for m in d["matchedStatements"] if m["effect"] == "Deny"]
assert deny == [{"layer": "scp", "level": 1, "policy": 0, "statement": 1, "sid": "NoGPUInstances", "effect": "Deny"}], deny
PY
pass

# The text form explains the missing ExternalId.
out=$("$bin" eval -f examples/eval/assume-role-external-id.json)
grep -q "decision: implicitDeny" <<<"$out" || fail "assume-role text: no implicitDeny"
grep -q "the request has no sts:ExternalId" <<<"$out" || fail "assume-role text: ExternalId not explained"
pass

# Invalid input: exit 2, a message naming the request index and the field. With
# --strict, a document its door would refuse is invalid input too.
expect_invalid() {
	local want=$1 input=$2 status=0 err
	shift 2
	err=$("$bin" eval "$@" <<<"$input" 2>&1 >/dev/null) || status=$?
	[ "$status" = 2 ] || fail "exit status $status for invalid input, want 2: $input"
	grep -q -- "$want" <<<"$err" || fail "message '$err' does not contain '$want'"
	pass
}
lower_effect='[{"principal":"anonymous","action":"s3:GetObject","resource":"*"},{"principal":"arn:aws:iam::111111111111:user/a","action":"s3:GetObject","resource":"*","identityPolicies":[{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}]}]'
no_principal='{"principal":"anonymous","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resourcePolicy":{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}}'
expect_invalid "request 0: action: required" '{"principal":"anonymous","resource":"*"}'
expect_invalid "request 1: identityPolicies\[0\]: MalformedPolicyDocument: Statement\[0\]: Effect: Invalid effect: allow" "$lower_effect" --strict
expect_invalid "request 0: principal" '{"principal":"alice","action":"s3:GetObject","resource":"*"}'
expect_invalid "invalid JSON" '[{'
expect_invalid "request 0: resourcePolicy: MalformedPolicyDocument: Statement\[0\]: Principal: Missing required field Principal" "$no_principal" --strict

# Without --strict, those documents are decided, as the IAM policy simulator does, and
# the door's finding is a warning; a bad request in a batch gets an error entry.
out=$("$bin" eval --json <<<"$lower_effect") || fail "lenient batch: exit $?"
python3 - "$out" <<'PY' || fail "lenient batch: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d[0]["decision"] == "implicitDeny" and d[1]["decision"] == "implicitDeny", d
assert d[1]["warnings"][0]["layer"] == "identity" and "Invalid effect: allow" in d[1]["warnings"][0]["message"], d
PY
out=$("$bin" eval --json <<<"$no_principal") || fail "lenient: exit $?"
grep -q 'Missing required field Principal' <<<"$out" && grep -q '"decision": "implicitDeny"' <<<"$out" || fail "lenient resource policy: $out"
status=0
out=$("$bin" eval --json <<<'[{"principal":"anonymous","resource":"*"},{"principal":"111111111111","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}]' 2>/dev/null) || status=$?
[ "$status" = 2 ] || fail "a batch with a bad request: exit $status, want 2"
python3 - "$out" <<'PY' || fail "batch with a bad request: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d[0] == {"error": "request 0: action: required", "field": "action"}, d
assert d[1]["decision"] == "allowed", d
PY
pass

echo "$passed passed, 0 failed"
