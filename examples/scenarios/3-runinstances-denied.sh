#!/usr/bin/env bash
# Field scenario 3 — RunInstances denied, four causes, each diagnosed:
#   a VPC endpoint policy (no encoded message), a missing identity permission
#   (allowed:false, explicitDeny:false), a permissions boundary deny and an SCP deny
#   (explicitDeny:true with the denying statement) — decoded with
#   `aws sts decode-authorization-message` and confirmed with
#   `aws iam simulate-principal-policy` including context entries.
set -euo pipefail
cd "$(dirname "$0")/../.."
source examples/lib.bash
source examples/scenarios/common.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"
org_with_members workloads
M=${MEMBERS[0]}
into "$M"
ami=$(member ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
run() { as "$1" "$2" "" ec2 run-instances --image-id "$ami" --instance-type "$3" ${4:+--endpoint-url "$4"} 2>&1; }
ec2all='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}'

# 1. A missing identity permission.
read -r k s < <(user_with_key nopermission '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}')
out=$(run "$k" "$s" t3.micro) && fail "ran without permission"
grep -q UnauthorizedOperation <<<"$out" || fail "$out"
dec=$(decode "$out") || fail "no encoded message: $out"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["allowed"] is False and d["explicitDeny"] is False, d' "$dec" || fail "decoded: $dec"
echo "1. missing permission: UnauthorizedOperation, decoded allowed=false explicitDeny=false"
pass

# 2. A permissions boundary that denies it.
member iam create-policy --policy-name no-run --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoRunInstances","Effect":"Deny","Action":"ec2:RunInstances","Resource":"*"}]}' >/dev/null
read -r k s < <(user_with_key bounded "$ec2all" "arn:aws:iam::$M:policy/no-run")
out=$(run "$k" "$s" t3.micro) && fail "ran despite the boundary"
dec=$(decode "$out") || fail "no encoded message: $out"
python3 - "$dec" <<'PY' || fail "decoded: $dec"
import json, sys
d = json.loads(sys.argv[1])
assert d["explicitDeny"] is True, d
st = d["matchedStatements"]["items"][0]
assert st["statementId"] == "NoRunInstances" and st["effect"] == "DENY", st
PY
echo "2. boundary: explicitDeny=true by statement NoRunInstances"
pass

# 3. An SCP on the account that denies GPU instances.
rootid=$(as_root organizations list-roots --query 'Roots[0].Id' --output text)
as_root organizations enable-policy-type --root-id "$rootid" --policy-type SERVICE_CONTROL_POLICY >/dev/null
pid=$(as_root organizations create-policy --name no-gpu --type SERVICE_CONTROL_POLICY --description "no GPU instances" --content \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoGPU","Effect":"Deny","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLike":{"ec2:InstanceType":["p*","g*"]}}}]}' \
	--query Policy.PolicySummary.Id --output text)
as_root organizations attach-policy --policy-id "$pid" --target-id "$M"
read -r k s < <(user_with_key builder "$ec2all")
run "$k" "$s" t3.micro >/dev/null || fail "t3.micro denied"
out=$(run "$k" "$s" p5.48xlarge) && fail "ran a GPU instance despite the SCP"
dec=$(decode "$out") || fail "no encoded message: $out"
python3 - "$dec" <<'PY' || fail "decoded: $dec"
import json, sys
d = json.loads(sys.argv[1])
assert d["explicitDeny"] is True, d
st = d["matchedStatements"]["items"][0]
assert st["statementId"] == "NoGPU", st
ctx = {c["key"].lower(): [v["value"] for v in c["values"]["items"]] for c in d["context"]["conditions"]["items"]}
assert ctx.get("ec2:instancetype") == ["p5.48xlarge"], ctx
PY
echo "3. SCP: explicitDeny=true by statement NoGPU, context ec2:InstanceType=p5.48xlarge"
pass
# The simulator agrees, given the same context.
decision=$(member iam simulate-principal-policy --policy-source-arn "arn:aws:iam::$M:user/builder" --action-names ec2:RunInstances \
	--context-entries ContextKeyName=ec2:InstanceType,ContextKeyValues=p5.48xlarge,ContextKeyType=string \
	--query 'EvaluationResults[0].[EvalDecision,OrganizationsDecisionDetail.AllowedByOrganizations]' --output text)
[ "$decision" = "explicitDeny	False" ] || fail "simulator: $decision"
echo "   simulate-principal-policy with ec2:InstanceType=p5.48xlarge: explicitDeny, not allowed by Organizations"
pass

# 4. A VPC endpoint whose policy allows only Describe calls.
vpce=$(member ec2 create-vpc-endpoint --vpc-id vpc-0a1b2c3d --service-name com.amazonaws.us-east-1.ec2 --vpc-endpoint-type Interface \
	--policy-document '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:Describe*","Resource":"*"}]}' \
	--query VpcEndpoint.VpcEndpointId --output text)
dns=$(member ec2 describe-vpc-endpoints --vpc-endpoint-ids "$vpce" --query 'VpcEndpoints[0].DnsEntries[0].DnsName' --output text)
as "$k" "$s" "" ec2 describe-instances --endpoint-url "http://$dns" >/dev/null || fail "Describe through the endpoint"
out=$(run "$k" "$s" t3.micro "http://$dns") && fail "ran through the endpoint"
grep -q UnauthorizedOperation <<<"$out" || fail "$out"
grep -q "Encoded authorization failure message" <<<"$out" && fail "an endpoint-policy denial carries an encoded message: $out"
echo "4. VPC endpoint $vpce ($dns): UnauthorizedOperation without an encoded message"
pass
echo "$passed passed, 0 failed"
