#!/usr/bin/env bash
# End-to-end: `iamlocal apply` (the real binary) against a real `iamlocal serve`, with
# the AWS CLI v2 checking the result — bootstrap as root, the world as its admin, the
# plan, "no changes" the second time, a fault with its file and line, and the
# organization working as examples/world.yaml says.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_MAX_ATTEMPTS=1 AWS_PAGER=""
cp examples/world.yaml "$work/world.yaml"

# Step 0, as the root user: the administrator apply runs as.
out=$(AWS_ACCESS_KEY_ID=$IAMLOCAL_ROOT_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$IAMLOCAL_ROOT_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	"$bin" apply -f examples/apply/bootstrap.yaml --credentials-file "$work/admin-credentials" --endpoint-url "$ENDPOINT")
grep -q "create \[management\] user iamlocal-admin: access key" <<<"$out" || fail "bootstrap: $out"
[ "$(stat -c %a "$work/admin-credentials")" = 600 ] || fail "credentials file mode $(stat -c %a "$work/admin-credentials")"
pass

# The root user cannot act in member accounts: apply says so before changing anything.
err=$(AWS_ACCESS_KEY_ID=$IAMLOCAL_ROOT_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$IAMLOCAL_ROOT_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	"$bin" apply -f "$work/world.yaml" --endpoint-url "$ENDPOINT" 2>&1) && fail "root applied the world"
grep -q "AWS forbids the root user" <<<"$err" || fail "as root: $err"
pass

apply() { AWS_SHARED_CREDENTIALS_FILE="$work/admin-credentials" "$bin" apply --profile iamlocal-admin --endpoint-url "$ENDPOINT" --data "$work/data" "$@"; }

# The plan changes nothing.
plan=$(apply -f "$work/world.yaml" --dry-run)
grep -q "^create scp deny-gpu-instances: attach to ou workloads$" <<<"$plan" || fail "plan: $plan"
grep -q "changes planned (dry run: nothing was changed)$" <<<"$plan" || fail "plan: $plan"
err=$(as_root organizations describe-organization 2>&1) && fail "the dry run created the organization"
pass

# The world, then nothing more to do.
out=$(apply -f "$work/world.yaml")
grep -q "^create account prod: prod@world.example → [0-9]\{12\}$" <<<"$out" || fail "apply: $out"
[ "$(grep -c '^\(create\|update\|delete\) ' <<<"$out")" = "$(grep -c '^\(create\|update\|delete\) ' <<<"$plan")" ] || fail "the changes are not the plan's: $out"
[ "$(apply -f "$work/world.yaml")" = "no changes" ] || fail "second apply changed something"
[ "$(apply -f "$work/world.yaml" --dry-run | tail -1)" = "no changes" ] || fail "second plan is not empty"
pass

# The automation user's key (in world-credentials, under the server's data directory,
# not beside the file) assumes deploy in
# prod with the ExternalId only, and writes a report to the bucket.
prod=$(as_root organizations list-accounts --query "Accounts[?Name=='prod'].Id" --output text)
[ ! -e "$work/world-credentials" ] || fail "keys written beside the YAML file"
[ "$(stat -c %a "$work/data/credentials/world-credentials")" = 600 ] || fail "world-credentials mode"
autocli() { AWS_SHARED_CREDENTIALS_FILE="$work/data/credentials/world-credentials" AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= "$AWS" --profile automation --endpoint-url "$ENDPOINT" "$@"; }
err=$(autocli sts assume-role --role-arn "arn:aws:iam::$prod:role/deploy" --role-session-name e2e 2>&1) && fail "assumed deploy without the ExternalId"
grep -q AccessDenied <<<"$err" || fail "$err"
read -r k s t < <(autocli sts assume-role --role-arn "arn:aws:iam::$prod:role/deploy" --role-session-name e2e --external-id world-7731 \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
echo report >"$work/r.txt"
as "$k" "$s" "$t" s3api put-object --bucket "reports-$prod" --key r.txt --body "$work/r.txt" >/dev/null || fail "deploy could not put a report"
pass

# A fault names the file, the line and the field, and changes nothing.
sed 's/^    email: dev@world.example$/    emial: dev@world.example/' "$work/world.yaml" >"$work/bad.yaml"
code=0
err=$(apply -f "$work/bad.yaml" 2>&1) || code=$?
[ "$code" = 2 ] || fail "exit $code for a bad file"
grep -q "bad.yaml:28: accounts\[0\].emial: unknown field" <<<"$err" || fail "bad file: $err"
pass

echo "$passed passed, 0 failed"
