#!/usr/bin/env bash
# End-to-end: the cross-account flows with the AWS CLI v2 against `iamlocal serve` —
# an automation user in the management account assumes OrganizationAccountAccessRole
# in each member account; a partner role requires an ExternalId; an SCP and a
# permissions boundary deny, with AWS's messages.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"

as_root organizations create-organization --feature-set ALL >/dev/null
members=()
for name in dev prod; do
	req=$(as_root organizations create-account --account-name "$name" --email "$name@e2e.example" --query CreateAccountStatus.Id --output text)
	for _ in $(seq 50); do
		state=$(as_root organizations describe-create-account-status --create-account-request-id "$req" --query 'CreateAccountStatus.[State,AccountId]' --output text)
		[ "${state%%	*}" = SUCCEEDED ] && break
		sleep 0.1
	done
	[ "${state%%	*}" = SUCCEEDED ] || fail "create-account $name: $state"
	members+=("${state##*	}")
done
pass

as_root iam create-user --user-name automation >/dev/null
as_root iam attach-user-policy --user-name automation --policy-arn arn:aws:iam::aws:policy/AdministratorAccess
read -r akey asecret < <(as_root iam create-access-key --user-name automation --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
auto() { as "$akey" "$asecret" "" "$@"; }

# From the main account into every member account.
for acct in "${members[@]}"; do
	read -r k s t < <(auto sts assume-role --role-arn "arn:aws:iam::$acct:role/OrganizationAccountAccessRole" \
		--role-session-name every --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
	who=$(as "$k" "$s" "$t" sts get-caller-identity --query Arn --output text)
	[ "$who" = "arn:aws:sts::$acct:assumed-role/OrganizationAccountAccessRole/every" ] || fail "in $acct: $who"
	pass
done

# In the first member account: a partner role that trusts the main account and
# requires an ExternalId.
dev=${members[0]}
read -r k s t < <(auto sts assume-role --role-arn "arn:aws:iam::$dev:role/OrganizationAccountAccessRole" \
	--role-session-name setup --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
as "$k" "$s" "$t" iam create-role --role-name partner --assume-role-policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"e2e-ext"}}}]}' >/dev/null
err=$(auto sts assume-role --role-arn "arn:aws:iam::$dev:role/partner" --role-session-name partner-session 2>&1) && fail "assume without ExternalId succeeded"
grep -q "AccessDenied" <<<"$err" || fail "without ExternalId: $err"
grep -q "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::$dev:role/partner" <<<"$err" || fail "message: $err"
pass
auto sts assume-role --role-arn "arn:aws:iam::$dev:role/partner" --role-session-name partner-session --external-id wrong >/dev/null 2>&1 && fail "wrong ExternalId accepted"
pass
auto sts assume-role --role-arn "arn:aws:iam::$dev:role/partner" --role-session-name partner-session --external-id e2e-ext >/dev/null || fail "with the ExternalId"
pass

# An SCP on the member account denies IAM; the management account is not limited.
rootid=$(as_root organizations list-roots --query 'Roots[0].Id' --output text)
as_root organizations enable-policy-type --root-id "$rootid" --policy-type SERVICE_CONTROL_POLICY >/dev/null
pid=$(as_root organizations create-policy --name no-iam --type SERVICE_CONTROL_POLICY --description "deny IAM" \
	--content '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}' --query Policy.PolicySummary.Id --output text)
as_root organizations attach-policy --policy-id "$pid" --target-id "$dev"
err=$(as "$k" "$s" "$t" iam list-roles 2>&1) && fail "SCP did not deny"
grep -q "with an explicit deny in a service control policy" <<<"$err" || fail "SCP message: $err"
pass
auto iam list-users >/dev/null || fail "the management account is limited by an SCP"
pass

# A permissions boundary limits a user that AdministratorAccess would allow.
as_root iam create-policy --policy-name s3-only --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}' >/dev/null
as_root iam put-user-permissions-boundary --user-name automation --permissions-boundary arn:aws:iam::111111111111:policy/s3-only
err=$(auto iam list-users 2>&1) && fail "boundary did not limit"
grep -q "because no permissions boundary allows the iam:ListUsers action" <<<"$err" || fail "boundary message: $err"
pass

echo "$passed passed, 0 failed"
