#!/usr/bin/env bash
# Field scenario 4 — discovering member accounts, as inventory tools do: the
# management account lists the organization's accounts, assumes
# OrganizationAccountAccessRole in each and describes regions and instances. An
# invited account has no such role, so assuming it fails with AccessDenied; and using
# no valid credentials on EC2 afterwards gives 401 AuthFailure. The script reports
# which account failed and why.
set -euo pipefail
cd "$(dirname "$0")/../.."
source examples/lib.bash
source examples/scenarios/common.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"
org_with_members dev prod

# An account that joins by invitation: it has no OrganizationAccountAccessRole.
invited=333333333333
hs=$(as_root organizations invite-account-to-organization --target Id=$invited,Type=ACCOUNT --query Handshake.Id --output text)
"$bin" root-key --data "$work/data" --account-id $invited >"$work/invited-root.ini"
ik=$(sed -n 's/^aws_access_key_id = //p' "$work/invited-root.ini")
is=$(sed -n 's/^aws_secret_access_key = //p' "$work/invited-root.ini")
as "$ik" "$is" "" organizations accept-handshake --handshake-id "$hs" >/dev/null

report=""
ok=0 failed=0
for acct in $(admin organizations list-accounts --query 'Accounts[].Id' --output text); do
	[ "$acct" = "$A" ] && continue
	if ! creds=$(admin sts assume-role --role-arn "arn:aws:iam::$acct:role/OrganizationAccountAccessRole" --role-session-name discovery \
		--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text 2>"$work/err"); then
		grep -q AccessDenied "$work/err" || fail "$acct: $(cat "$work/err")"
		report+="$acct: cannot assume OrganizationAccountAccessRole (AccessDenied) — the account was invited, not created, and has no such role"$'\n'
		failed=$((failed + 1))
		# What an adapter that carries on with no valid credentials gets from EC2.
		out=$(as AKIAINVALIDINVALID00 invalid "" ec2 describe-regions --region us-east-1 2>&1) && fail "EC2 accepted invalid credentials"
		grep -q "AuthFailure" <<<"$out" || fail "invalid credentials on EC2: $out"
		report+="$acct: EC2 with no valid credentials: AuthFailure (HTTP 401)"$'\n'
		continue
	fi
	read -r k s t <<<"$creds"
	regions=$(as "$k" "$s" "$t" ec2 describe-regions --query 'length(Regions)' --output text)
	instances=$(as "$k" "$s" "$t" ec2 describe-instances --query 'length(Reservations[].Instances[])' --output text)
	report+="$acct: $regions regions, $instances instances"$'\n'
	ok=$((ok + 1))
done
printf '%s' "$report"
[ "$ok" = 2 ] && [ "$failed" = 1 ] || fail "discovered $ok accounts, $failed failed; want 2 and 1"
pass
grep -q "^$invited: cannot assume" <<<"$report" || fail "the invited account was not the one that failed"
pass
echo "$passed passed, 0 failed"
