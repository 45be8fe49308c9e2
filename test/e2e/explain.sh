#!/usr/bin/env bash
# End-to-end: `iamlocal explain`, `doctor` and `graph` against a real `iamlocal serve`,
# set up with the AWS CLI v2. Each doctor verdict is checked against what the server
# itself does with the same call.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"
A=111111111111

as_root organizations create-organization --feature-set ALL >/dev/null
root=$(as_root organizations list-roots --query 'Roots[0].Id' --output text)
as_root organizations enable-policy-type --root-id "$root" --policy-type SERVICE_CONTROL_POLICY >/dev/null
req=$(as_root organizations create-account --account-name dev --email dev@e2e.example --query CreateAccountStatus.Id --output text)
B=$(as_root organizations describe-create-account-status --create-account-request-id "$req" --query CreateAccountStatus.AccountId --output text)

as_root iam create-user --user-name admin >/dev/null
as_root iam attach-user-policy --user-name admin --policy-arn arn:aws:iam::aws:policy/AdministratorAccess
read -r ak as_ < <(as_root iam create-access-key --user-name admin --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
as_root iam create-user --user-name alice >/dev/null
as_root iam put-user-policy --user-name alice --policy-name assume --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}'
read -r alk als < <(as_root iam create-access-key --user-name alice --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
read -r k s t < <(as "$ak" "$as_" "" sts assume-role --role-arn "arn:aws:iam::$B:role/OrganizationAccountAccessRole" \
	--role-session-name setup --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
inb() { as "$k" "$s" "$t" "$@"; }
inb iam create-role --role-name audit --assume-role-policy-document \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$A:user/alice\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"sts:ExternalId\":\"e2e-ext\"}}}]}" >/dev/null
inb iam create-user --user-name bob >/dev/null
inb iam put-user-policy --user-name bob --policy-name work --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"Office","Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}'
scp=$(as_root organizations create-policy --name deny-logs --description "no logs" --type SERVICE_CONTROL_POLICY \
	--content '{"Version":"2012-10-17","Statement":[{"Sid":"NoLogs","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::logs*"}]}' --query Policy.PolicySummary.Id --output text)
as_root organizations attach-policy --policy-id "$scp" --target-id "$B"

# The client commands act as the administrator.
il() {
	AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$as_ AWS_SESSION_TOKEN="" AWS_DEFAULT_REGION=us-east-1 \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "$bin" "$@" --endpoint-url "$ENDPOINT"
}
bob="arn:aws:iam::$B:user/bob"
alice="arn:aws:iam::$A:user/alice"

out=$(il explain --principal "$bob" --action s3:PutObject --resource arn:aws:s3:::logs-1/x --resource-account "$B")
grep -q "decision: explicitDeny" <<<"$out" || fail "explain SCP deny: $out"
grep -q 'statement 0 (Sid "NoLogs") of SCP deny-logs' <<<"$out" || fail "explain names the SCP statement: $out"
pass
out=$(il explain --principal "$bob" --action ec2:RunInstances --resource '*' --context aws:SourceIp=192.0.2.7)
grep -q 'IpAddress aws:SourceIp "10.0.0.0/8": the request has "192.0.2.7"' <<<"$out" || fail "explain condition: $out"
pass
il explain --json --principal "$bob" --action s3:GetObject --resource arn:aws:s3:::data/x --resource-account "$B" |
	python3 -c 'import json,sys; t=json.load(sys.stdin); assert t["decision"]=="allowed", t["decision"]' || fail "explain --json"
pass

# doctor assume-role, without and with the ExternalId; the server agrees each time.
set +e
out=$(il doctor assume-role --principal "$alice" --role-arn "arn:aws:iam::$B:role/audit" 2>&1)
code=$?
set -e
[ "$code" = 1 ] || fail "doctor without ExternalId: exit $code: $out"
grep -q "FAIL  ExternalId" <<<"$out" || fail "doctor names the ExternalId: $out"
as "$alk" "$als" "" sts assume-role --role-arn "arn:aws:iam::$B:role/audit" --role-session-name xx >/dev/null 2>&1 && fail "the server let alice in without ExternalId"
pass
il doctor assume-role --principal "$alice" --role-arn "arn:aws:iam::$B:role/audit" --external-id e2e-ext >/dev/null || fail "doctor with the ExternalId"
as "$alk" "$als" "" sts assume-role --role-arn "arn:aws:iam::$B:role/audit" --role-session-name xx --external-id e2e-ext >/dev/null || fail "the server refused alice with the ExternalId"
pass
set +e
out=$(il doctor assume-role --principal "$alice" --role-arn "arn:aws:iam::$B:role/missing" 2>&1)
code=$?
set -e
[ "$code" = 1 ] && grep -q "aws iam create-role --role-name missing" <<<"$out" || fail "doctor role missing: exit $code: $out"
pass

# graph: the ExternalId on alice's edge, and who reaches audit.
out=$(il graph)
grep -q "→ arn:aws:iam::$B:role/audit  if StringEquals sts:ExternalId \"e2e-ext\"" <<<"$out" || fail "graph: $out"
out=$(il graph --to "arn:aws:iam::$B:role/audit" --format mermaid)
grep -q "flowchart LR" <<<"$out" || fail "graph mermaid: $out"
pass
echo "$passed passed, 0 failed"
