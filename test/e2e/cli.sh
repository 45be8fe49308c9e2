#!/usr/bin/env bash
# End-to-end: the client commands (exec, export, each, decode) as the real binary
# against a real `iamlocal serve`, failure paths included.
set -euo pipefail
cd "$(dirname "$0")/../.."
source examples/lib.bash
source examples/scenarios/common.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"
org_with_members dev prod
export AWS_ACCESS_KEY_ID=$ADMIN_KEY AWS_SECRET_ACCESS_KEY=$ADMIN_SECRET AWS_DEFAULT_REGION=us-east-1 \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_MAX_ATTEMPTS=1
dev=${MEMBERS[0]}
role="arn:aws:iam::$dev:role/OrganizationAccountAccessRole"

# exec: the command runs with the role's credentials and its exit status is kept.
who=$("$bin" exec --endpoint-url "$ENDPOINT" --role-arn "$role" --session-name e2e -- \
	"$AWS" --endpoint-url "$ENDPOINT" sts get-caller-identity --query Arn --output text)
[ "$who" = "arn:aws:sts::$dev:assumed-role/OrganizationAccountAccessRole/e2e" ] || fail "exec: $who"
pass
status=0
"$bin" exec --endpoint-url "$ENDPOINT" --role-arn "$role" -- sh -c 'exit 3' || status=$?
[ "$status" = 3 ] || fail "exec exit status $status, want 3"
pass

# A denied AssumeRole: one line with the AWS code and the command that explains it.
err=$("$bin" exec --endpoint-url "$ENDPOINT" --role-arn "arn:aws:iam::$dev:role/missing" -- true 2>&1) && fail "assumed a missing role"
[ "$(wc -l <<<"$err")" = 1 ] || fail "error is not one line: $err"
grep -q "AccessDenied: User: arn:aws:iam::$A:user/admin is not authorized to perform: sts:AssumeRole" <<<"$err" || fail "error: $err"
grep -q "iamlocal doctor assume-role --role-arn arn:aws:iam::$dev:role/missing" <<<"$err" || fail "no hint: $err"
pass

# export: shell exports that work when evaluated.
eval "$("$bin" export --endpoint-url "$ENDPOINT" --role-arn "$role" --session-name exported)"
who=$("$AWS" --endpoint-url "$ENDPOINT" sts get-caller-identity --query Arn --output text)
[ "$who" = "arn:aws:sts::$dev:assumed-role/OrganizationAccountAccessRole/exported" ] || fail "export: $who"
export AWS_ACCESS_KEY_ID=$ADMIN_KEY AWS_SECRET_ACCESS_KEY=$ADMIN_SECRET
unset AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION
pass

# each: every member account, prefixed output, a closing table, JSON.
out=$("$bin" each --endpoint-url "$ENDPOINT" --org --role-name OrganizationAccountAccessRole -- sh -c 'echo "in $IAMLOCAL_ACCOUNT_ID"')
for acct in "${MEMBERS[@]}"; do
	grep -q "^$acct | in $acct$" <<<"$out" || fail "each: no output from $acct: $out"
	grep -Eq "^$acct +[a-z]+ +ok" <<<"$out" || fail "each: table: $out"
done
pass
json=$("$bin" each --endpoint-url "$ENDPOINT" --org --role-name OrganizationAccountAccessRole --json -- true 2>/dev/null)
python3 -c 'import json,sys; rows=json.loads(sys.argv[1]); assert len(rows)==2 and all(r["result"]=="ok" for r in rows), rows' "$json" || fail "each --json: $json"
pass
status=0
out=$("$bin" each --endpoint-url "$ENDPOINT" --accounts "$dev,444444444444" --role-name OrganizationAccountAccessRole -- true 2>&1) || status=$?
[ "$status" != 0 ] || fail "each reported success with a failed account"
grep -Eq "^444444444444 .*failed.*role OrganizationAccountAccessRole is missing" <<<"$out" || fail "each failure reason: $out"
pass

# decode: a whole EC2 error text in, the denying statement out.
into "$dev"
read -r uk us < <(user_with_key nothing '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}')
ami=$(member ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
err=$(AWS_ACCESS_KEY_ID=$uk AWS_SECRET_ACCESS_KEY=$us "$AWS" --endpoint-url "$ENDPOINT" ec2 run-instances --image-id "$ami" --instance-type t3.micro 2>&1) && fail "ran without permission"
out=$("$bin" decode --endpoint-url "$ENDPOINT" - <<<"$err")
grep -q "decision: implicitDeny" <<<"$out" || fail "decode: $out"
grep -q "ec2:RunInstances" <<<"$out" || fail "decode: $out"
pass

echo "$passed passed, 0 failed"
