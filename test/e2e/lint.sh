#!/usr/bin/env bash
# End-to-end: the real iamlocal binary lints the shipped examples — a misspelled action
# and a wrong condition key reported at their lines with Access Analyzer's codes and
# exit status 1, a clean trust policy with none — reads standard input, prints JSON,
# and exits 2 for what it cannot read.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${IAMLOCAL:-bin/iamlocal}
fail() { echo "FAIL: $*" >&2; exit 1; }
passed=0
pass() { passed=$((passed + 1)); }

# The issue's proof: both mistakes, each at its place; exit 1.
status=0
out=$("$bin" lint examples/lint/typos.json 2>/dev/null) || status=$?
[ "$status" = 1 ] || fail "typos.json: exit $status, want 1"
grep -qx 'examples/lint/typos.json:9:9: ERROR INVALID_ACTION: The action s3:GetObjct does not exist. Did you mean s3:GetObject?' <<<"$out" ||
	fail "typos.json: no INVALID_ACTION at 9:9: $out"
grep -q '^examples/lint/typos.json:18:11: ERROR INVALID_SERVICE_CONDITION_KEY: The condition key s3:ExistingObjectTags/team does not exist' <<<"$out" ||
	fail "typos.json: no INVALID_SERVICE_CONDITION_KEY at 18:11: $out"
pass

# A GitHub OIDC trust policy: nothing to say, exit 0. As an identity policy, the door
# refuses its Principal.
out=$("$bin" lint --type trust examples/lint/trust-github.json) || fail "trust-github.json: exit $?"
[ -z "$out" ] || fail "trust-github.json: findings: $out"
pass
status=0
out=$("$bin" lint examples/lint/trust-github.json 2>/dev/null) || status=$?
[ "$status" = 1 ] && grep -q 'ERROR MalformedPolicyDocument: Policy document should not specify a principal' <<<"$out" ||
	fail "trust-github.json as identity: exit $status: $out"
pass

# Standard input and --json: warnings only, exit 0.
out=$("$bin" lint --type resource --json - <<<'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b"}]}') ||
	fail "stdin --json: exit $?"
python3 - "$out" <<'PY' || fail "stdin --json: $out"
import json, sys
d = json.loads(sys.argv[1])
assert [(f["file"], f["line"], f["column"], f["findingType"], f["issueCode"], f["path"]) for f in d] == \
    [("-", 1, 107, "WARNING", "RESOURCE_NOT_FOR_STATEMENT_ACTIONS", "Statement[0].Resource")], d
PY
pass

# What lint cannot read: exit 2.
status=0
"$bin" lint no-such-policy.json 2>/dev/null || status=$?
[ "$status" = 2 ] || fail "missing file: exit $status, want 2"
status=0
"$bin" lint --type bucket examples/lint/typos.json 2>/dev/null || status=$?
[ "$status" = 2 ] || fail "--type bucket: exit $status, want 2"
pass

echo "$passed passed, 0 failed"
