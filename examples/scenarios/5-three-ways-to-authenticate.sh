#!/usr/bin/env bash
# Field scenario 5 — three ways to authenticate one client (an adapter): static keys
# with a session token, AssumeRole with RoleArn/RoleSessionName, and an instance role
# through IMDSv2 — the token flow with curl as well as the AWS CLI's credential chain.
set -euo pipefail
cd "$(dirname "$0")/../.."
source examples/lib.bash
source examples/scenarios/common.bash
work=$(mktemp -d)
trap 'kill ${IMDS_PID:-} 2>/dev/null; stop_server; rm -rf "$work"' EXIT
start_server "$work/data"

as_root iam create-user --user-name adapter >/dev/null
as_root iam put-user-policy --user-name adapter --policy-name p --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","ec2:DescribeRegions"],"Resource":"*"}]}'
read -r uk us < <(as_root iam create-access-key --user-name adapter --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
as_root iam create-role --role-name adapter-role --assume-role-policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/adapter","Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
as_root iam put-role-policy --role-name adapter-role --policy-name p --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeRegions","Resource":"*"}]}'

# 1. Static keys with a session token.
read -r k s t < <(as "$uk" "$us" "" sts get-session-token --duration-seconds 900 --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
who=$(as "$k" "$s" "$t" sts get-caller-identity --query Arn --output text)
n=$(as "$k" "$s" "$t" ec2 describe-regions --query 'length(Regions)' --output text)
echo "1. static keys + session token: $who, $n regions"
[ "$who" = "arn:aws:iam::111111111111:user/adapter" ] || fail "$who"
pass

# 2. AssumeRole with RoleArn and RoleSessionName.
read -r k s t < <(as "$uk" "$us" "" sts assume-role --role-arn arn:aws:iam::111111111111:role/adapter-role --role-session-name adapter \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
who=$(as "$k" "$s" "$t" sts get-caller-identity --query Arn --output text)
n=$(as "$k" "$s" "$t" ec2 describe-regions --query 'length(Regions)' --output text)
echo "2. AssumeRole: $who, $n regions"
[ "$who" = "arn:aws:sts::111111111111:assumed-role/adapter-role/adapter" ] || fail "$who"
pass

# 3. An instance role through IMDSv2.
as_root iam create-instance-profile --instance-profile-name adapter >/dev/null
as_root iam add-role-to-instance-profile --instance-profile-name adapter --role-name adapter-role
ami=$(as_root ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
iid=$(as_root ec2 run-instances --image-id "$ami" --instance-type t3.micro --iam-instance-profile Name=adapter \
	--metadata-options HttpTokens=required --query 'Instances[0].InstanceId' --output text)
start_imds "$iid"
token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$IMDS_URL/latest/api/token")
code=$(curl -s -o /dev/null -w '%{http_code}' "$IMDS_URL/latest/meta-data/iam/security-credentials/")
[ "$code" = 401 ] || fail "IMDSv1 request on an instance that requires tokens: HTTP $code"
role=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/meta-data/iam/security-credentials/")
creds=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/meta-data/iam/security-credentials/$role")
read -r k s t < <(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); print(c["AccessKeyId"], c["SecretAccessKey"], c["Token"])' "$creds")
who=$(as "$k" "$s" "$t" sts get-caller-identity --query Arn --output text)
echo "3a. IMDSv2 with curl (token, role $role): $who"
[ "$who" = "arn:aws:sts::111111111111:assumed-role/adapter-role/$iid" ] || fail "$who"
pass
who=$(on_instance sts get-caller-identity --query Arn --output text)
echo "3b. IMDSv2 through the AWS CLI's credential chain: $who"
[ "$who" = "arn:aws:sts::111111111111:assumed-role/adapter-role/$iid" ] || fail "$who"
pass
echo "$passed passed, 0 failed"
