#!/usr/bin/env bash
# Field scenario 2 — cross-account S3 guarded by an ExternalId.
# A user in account A assumes a role in account B whose trust policy names A and
# requires an ExternalId, then puts an object in B's bucket and reads a byte range of
# it. A missing or wrong ExternalId is denied, and so is any other bucket.
# Run from the repository root: examples/scenarios/2-cross-account-s3.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source examples/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"
A=111111111111 # the management account is account A

# Account B, created in the organization; the admin user of A sets it up through
# OrganizationAccountAccessRole.
as_root organizations create-organization --feature-set ALL >/dev/null
req=$(as_root organizations create-account --account-name partner-b --email b@example.com --query CreateAccountStatus.Id --output text)
B=$(as_root organizations describe-create-account-status --create-account-request-id "$req" --query CreateAccountStatus.AccountId --output text)
as_root iam create-user --user-name admin >/dev/null
as_root iam attach-user-policy --user-name admin --policy-arn arn:aws:iam::aws:policy/AdministratorAccess
read -r ak asec < <(as_root iam create-access-key --user-name admin --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
read -r k s t < <(as "$ak" "$asec" "" sts assume-role --role-arn "arn:aws:iam::$B:role/OrganizationAccountAccessRole" \
	--role-session-name setup --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
inb() { as "$k" "$s" "$t" "$@"; }

# In B: the bucket, and the role that trusts A with an ExternalId.
inb s3api create-bucket --bucket "reports-$B" >/dev/null
inb s3api create-bucket --bucket "private-$B" >/dev/null
inb iam create-role --role-name partner-uploader --assume-role-policy-document "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$A:root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"sts:ExternalId\":\"acme-7731\"}}}]}" >/dev/null
inb iam put-role-policy --role-name partner-uploader --policy-name reports --policy-document "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:PutObject\",\"s3:GetObject\"],\"Resource\":\"arn:aws:s3:::reports-$B/*\"}]}"

# In A: the user who may assume it.
as_root iam create-user --user-name uploader >/dev/null
as_root iam put-user-policy --user-name uploader --policy-name assume --policy-document "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"arn:aws:iam::$B:role/partner-uploader\"}]}"
read -r uk us < <(as_root iam create-access-key --user-name uploader --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
user() { as "$uk" "$us" "" "$@"; }

role="arn:aws:iam::$B:role/partner-uploader"
out=$(user sts assume-role --role-arn "$role" --role-session-name upload 2>&1) && fail "assumed without the ExternalId"
grep -q "AccessDenied" <<<"$out" || fail "without ExternalId: $out"
echo "without ExternalId: denied — $(grep -o 'User: .*' <<<"$out")"
pass
out=$(user sts assume-role --role-arn "$role" --role-session-name upload --external-id wrong 2>&1) && fail "assumed with a wrong ExternalId"
echo "wrong ExternalId: denied"
pass
read -r rk rs rt < <(user sts assume-role --role-arn "$role" --role-session-name upload --external-id acme-7731 \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
pass
echo "with the ExternalId: assumed $role"
session() { as "$rk" "$rs" "$rt" "$@"; }

printf 'quarterly numbers: 0123456789\n' >"$work/report.txt"
session s3 cp "$work/report.txt" "s3://reports-$B/q4/report.txt" >/dev/null
session s3api get-object --bucket "reports-$B" --key q4/report.txt --range bytes=19-28 "$work/part" >/dev/null
[ "$(cat "$work/part")" = "0123456789" ] || fail "range get returned '$(cat "$work/part")'"
echo "put s3://reports-$B/q4/report.txt, range-get bytes 19-28: $(cat "$work/part")"
pass

out=$(session s3 cp "$work/report.txt" "s3://private-$B/x.txt" 2>&1) && fail "wrote to another bucket"
grep -q "AccessDenied" <<<"$out" || fail "other bucket: $out"
echo "another bucket of B: denied"
pass
echo "$passed passed, 0 failed"
