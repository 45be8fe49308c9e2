#!/usr/bin/env bash
# End-to-end: the AWS CLI v2 against a real `iamlocal serve` — identity, errors,
# restart with sessions kept, and no acknowledged write lost to kill -9.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT

start_server "$work/data"

# Who am I: the management account's root user.
arn=$(as_root sts get-caller-identity --query Arn --output text)
[ "$arn" = "arn:aws:iam::111111111111:root" ] || fail "get-caller-identity: $arn"
pass

# A wrong secret is SignatureDoesNotMatch; an unknown key InvalidClientTokenId.
err=$(as "$IAMLOCAL_ROOT_ACCESS_KEY_ID" wrongsecret "" sts get-caller-identity 2>&1) && fail "wrong secret accepted"
grep -q "SignatureDoesNotMatch" <<<"$err" || fail "wrong secret: $err"
pass
err=$(as AKIAUNKNOWNKEY000000 x "" sts get-caller-identity 2>&1) && fail "unknown key accepted"
grep -q "InvalidClientTokenId" <<<"$err" || fail "unknown key: $err"
pass

# A session from before a restart still works after it, and users persist.
read -r kid ksec ktok < <(as_root sts get-session-token --duration-seconds 900 \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
as_root iam create-user --user-name before-restart --path /e2e/ >/dev/null
stop_server
start_server "$work/data"
arn=$(as "$kid" "$ksec" "$ktok" sts get-caller-identity --query Arn --output text)
[ "$arn" = "arn:aws:iam::111111111111:root" ] || fail "session after restart: $arn"
pass
arn=$(as_root iam get-user --user-name before-restart --query User.Arn --output text)
[ "$arn" = "arn:aws:iam::111111111111:user/e2e/before-restart" ] || fail "user after restart: $arn"
pass

# serve --log-requests: a line per request on stderr with who, what, the decision and
# the status; none of the credentials.
stop_server
start_server "$work/data" --log-requests
as_root sts get-caller-identity >/dev/null
as "$kid" "$ksec" "$ktok" iam list-users >/dev/null 2>&1 && fail "IAM with GetSessionToken credentials without MFA"
grep -q 'msg=request request=[0-9a-f-]\{36\} principal=arn:aws:iam::111111111111:root action=sts:GetCallerIdentity decision=allowed status=200 latency=' "$work/data.log" ||
	fail "no request line for get-caller-identity: $(cat "$work/data.log")"
grep -q 'principal=arn:aws:iam::111111111111:root action=iam:ListUsers decision=denied status=403' "$work/data.log" ||
	fail "no request line for the refused list-users: $(cat "$work/data.log")"
for secret in "$IAMLOCAL_ROOT_ACCESS_KEY_ID" "$IAMLOCAL_ROOT_SECRET_ACCESS_KEY" "$kid" "$ksec" "$ktok" Signature Credential; do
	! grep -qF -- "$secret" "$work/data.log" || fail "the request log holds $secret"
done
pass

# kill -9 during a stream of writes (bench/loadgen creating users as fast as the server
# acknowledges them): every acknowledged write is there afterwards.
acked="$work/acked"
go build -o "$work/loadgen" ./bench/loadgen
"$work/loadgen" -endpoint "$ENDPOINT" -op create-user -c 8 -d 30s -acked "$acked" \
	-key "$IAMLOCAL_ROOT_ACCESS_KEY_ID" -secret "$IAMLOCAL_ROOT_SECRET_ACCESS_KEY" >/dev/null 2>&1 &
writer=$!
sleep 2
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
kill "$writer" 2>/dev/null || true
wait "$writer" 2>/dev/null || true
n=$(wc -l <"$acked")
[ "$n" -gt 50 ] || fail "only $n writes were acknowledged before the kill"
start_server "$work/data"
have=$(as_root iam list-users --query 'Users[].UserName' --output text | tr '\t' '\n' | sort)
missing=$(sort "$acked" | comm -23 - <(echo "$have"))
[ -z "$missing" ] || fail "acknowledged writes lost after kill -9: $(head -c 300 <<<"$missing")"
pass
echo "kill -9 after $n acknowledged writes: none lost"

echo "$passed passed, 0 failed"
