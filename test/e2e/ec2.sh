#!/usr/bin/env bash
# End-to-end: the EC2 plane with the AWS CLI v2 against `iamlocal serve` — images,
# instances with an instance profile and their role credentials, an image of an
# instance, RunInstances denied (decoded with `aws sts decode-authorization-message`),
# a call through a VPC endpoint and AuthFailure for unknown credentials.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"

# The catalogue: Amazon Linux 2023 is Amazon's.
ami=$(as_root ec2 describe-images --owners amazon --filters 'Name=name,Values=al2023-ami-*-x86_64' --query 'Images[0].ImageId' --output text)
[[ $ami == ami-* ]] || fail "describe-images: $ami"
zones=$(as_root ec2 describe-availability-zones --query 'length(AvailabilityZones)')
[ "$zones" -ge 1 ] || fail "describe-availability-zones: $zones"
pass

# An instance profile whose role trusts EC2, and two instances launched with it.
as_root iam create-role --role-name web-role --assume-role-policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
as_root iam put-role-policy --role-name web-role --policy-name describe --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}'
as_root iam create-instance-profile --instance-profile-name web >/dev/null
as_root iam add-role-to-instance-profile --instance-profile-name web --role-name web-role
read -r id state profile < <(as_root ec2 run-instances --image-id "$ami" --instance-type t3.micro --count 2 \
	--iam-instance-profile Name=web --metadata-options HttpTokens=required,HttpPutResponseHopLimit=2 \
	--tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=e2e}]' \
	--query 'Instances[0].[InstanceId,State.Name,IamInstanceProfile.Arn]' --output text)
[[ $id == i-* && $state == running && $profile == arn:aws:iam::111111111111:instance-profile/web ]] || fail "run-instances: $id $state $profile"
pass

n=$(as_root ec2 describe-instances --filters Name=tag:Name,Values=e2e Name=instance-state-name,Values=running --query 'length(Reservations[].Instances[])')
[ "$n" = 2 ] || fail "describe-instances: $n instances"
tokens=$(as_root ec2 describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].MetadataOptions.HttpTokens' --output text)
[ "$tokens" = required ] || fail "metadata options: $tokens"
err=$(as_root ec2 describe-instances --instance-ids i-0123456789abcdef0 2>&1) && fail "unknown instance described"
grep -q "InvalidInstanceID.NotFound" <<<"$err" || fail "unknown instance: $err"
pass

# The instance's role credentials (the loopback API `iamlocal imds` uses, with the
# secret of the data directory): the session is named after the instance.
internal=(-H "Authorization: Bearer $(cat "$DATA_DIR/internal-api-token")")
creds=$(curl -fsS -X POST "${internal[@]}" "$ENDPOINT/_iamlocal/ec2/instances/$id/credentials")
read -r rk rs rt < <(jq -r '[.AccessKeyId,.SecretAccessKey,.Token]|join(" ")' <<<"$creds")
uid=$(as "$rk" "$rs" "$rt" sts get-caller-identity --query UserId --output text)
[[ $uid == AROA*:"$id" ]] || fail "instance role's aws:userid: $uid"
as "$rk" "$rs" "$rt" ec2 describe-instances --instance-ids "$id" >/dev/null || fail "instance role cannot describe"
# Without the secret, or under another Host name (DNS rebinding), nothing.
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$ENDPOINT/_iamlocal/ec2/instances/$id/credentials")
[ "$code" = 403 ] || fail "credentials without the internal API's secret: $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Host: evil.example.com' "${internal[@]}" "$ENDPOINT/_iamlocal/ec2/instances/$id/credentials")
[ "$code" = 403 ] || fail "credentials under a foreign Host: $code"
pass

# An image of the instance, owned by the account; an instance launched from it.
image=$(as_root ec2 create-image --instance-id "$id" --name e2e-golden --description "from $id" --query ImageId --output text)
read -r own name owner < <(as_root ec2 describe-images --owners self --query 'Images[0].[ImageId,Name,OwnerId]' --output text)
[[ $own == "$image" && $name == e2e-golden && $owner == 111111111111 ]] || fail "describe-images --owners self: $own $name $owner"
from=$(as_root ec2 run-instances --image-id "$image" --count 1 --query 'Instances[0].ImageId' --output text)
[ "$from" = "$image" ] || fail "run-instances from the new image: $from"
pass

# Stop, start, terminate.
prev=$(as_root ec2 stop-instances --instance-ids "$id" --query 'StoppingInstances[0].[PreviousState.Name,CurrentState.Name]' --output text)
[ "$prev" = "running	stopped" ] || fail "stop-instances: $prev"
curl -sS -o /dev/null -w '%{http_code}' -X POST "${internal[@]}" "$ENDPOINT/_iamlocal/ec2/instances/$id/credentials" | grep -q 409 || fail "a stopped instance got credentials"
cur=$(as_root ec2 terminate-instances --instance-ids "$id" --query 'TerminatingInstances[0].CurrentState.Name' --output text)
[ "$cur" = terminated ] || fail "terminate-instances: $cur"
err=$(as_root ec2 start-instances --instance-ids "$id" 2>&1) && fail "a terminated instance started"
grep -q "IncorrectInstanceState" <<<"$err" || fail "start terminated: $err"
pass

# A user without EC2 permissions: UnauthorizedOperation with an encoded message that
# a user allowed sts:DecodeAuthorizationMessage decodes.
newuser() {
	as_root iam create-user --user-name "$1" >/dev/null
	[ -z "${2:-}" ] || as_root iam put-user-policy --user-name "$1" --policy-name inline --policy-document "$2"
	as_root iam create-access-key --user-name "$1" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text
}
read -r pk ps < <(newuser plain)
read -r dk ds < <(newuser decoder '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:DecodeAuthorizationMessage","Resource":"*"}]}')
decode() {
	local enc
	enc=$(sed -n 's/.*Encoded authorization failure message: \([A-Za-z0-9_-]*\).*/\1/p' <<<"$1")
	[ -n "$enc" ] || fail "no encoded message in: $1"
	as "$dk" "$ds" "" sts decode-authorization-message --encoded-message "$enc" --query DecodedMessage --output text
}
err=$(as "$pk" "$ps" "" ec2 run-instances --image-id "$ami" --instance-type t3.micro --count 1 2>&1) && fail "run-instances without permission"
grep -q "(UnauthorizedOperation)" <<<"$err" || fail "denied: $err"
msg=$(decode "$err")
[ "$(jq -c '[.allowed,.explicitDeny,.context.action,.context.resource]' <<<"$msg")" = \
	'[false,false,"ec2:RunInstances","arn:aws:ec2:us-east-1:111111111111:instance/*"]' ] || fail "decoded: $msg"
pass

# A permissions boundary that denies RunInstances: an explicit deny naming the statement.
as_root iam create-policy --policy-name no-run --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoRunInstances","Effect":"Deny","Action":"ec2:RunInstances","Resource":"*"}]}' >/dev/null
read -r bk bs < <(newuser bounded '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}')
as_root iam put-user-permissions-boundary --user-name bounded --permissions-boundary arn:aws:iam::111111111111:policy/no-run
err=$(as "$bk" "$bs" "" ec2 run-instances --image-id "$ami" --count 1 2>&1) && fail "the boundary did not deny"
msg=$(decode "$err")
[ "$(jq -c '[.allowed,.explicitDeny,(.matchedStatements.items[]|select(.effect=="DENY")|.statementId)]' <<<"$msg")" = '[false,true,"NoRunInstances"]' ] ||
	fail "boundary decoded: $msg"
pass

# A VPC endpoint whose policy denies RunInstances: calls through its listener are
# limited by it (UnauthorizedOperation without an encoded message), others are not.
read -r vpce dns < <(as_root ec2 create-vpc-endpoint --vpc-id vpc-0a1b2c3d --vpc-endpoint-type Interface \
	--service-name com.amazonaws.us-east-1.ec2 --policy-document \
	'{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"ec2:RunInstances","Resource":"*"}]}' \
	--query 'VpcEndpoint.[VpcEndpointId,DnsEntries[0].DnsName]' --output text)
[[ $vpce == vpce-* && $dns == localhost:* ]] || fail "create-vpc-endpoint: $vpce $dns"
shown=$(as_root ec2 describe-vpc-endpoints --vpc-endpoint-ids "$vpce" --query 'VpcEndpoints[0].DnsEntries[0].DnsName' --output text)
[ "$shown" = "$dns" ] || fail "describe-vpc-endpoints: $shown"
ENDPOINT=http://$dns as_root ec2 describe-instances >/dev/null || fail "describe-instances through the endpoint"
err=$(ENDPOINT=http://$dns as_root ec2 run-instances --image-id "$ami" --count 1 2>&1) && fail "the endpoint policy did not deny"
grep -q "(UnauthorizedOperation) when calling the RunInstances operation.*: You are not authorized to perform this operation.$" <<<"$err" || fail "endpoint denial: $err"
as_root ec2 run-instances --image-id "$ami" --count 1 >/dev/null || fail "run-instances outside the endpoint"
as_root ec2 modify-vpc-endpoint --vpc-endpoint-id "$vpce" --reset-policy >/dev/null
ENDPOINT=http://$dns as_root ec2 run-instances --image-id "$ami" --count 1 >/dev/null || fail "run-instances after reset-policy"
# iamlocal's own paths do not exist behind an endpoint, even with the secret.
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "${internal[@]}" "http://$dns/_iamlocal/roles/credentials?roleArn=arn:aws:iam::111111111111:role/web-role")
[ "$code" = 404 ] || fail "the internal API through a VPC endpoint: $code"
pass

# The endpoint survives a restart, on the same port.
stop_server
start_server "$work/data"
ENDPOINT=http://$dns as_root ec2 describe-vpc-endpoints --vpc-endpoint-ids "$vpce" >/dev/null || fail "the endpoint's listener after a restart"
as_root ec2 delete-vpc-endpoints --vpc-endpoint-ids "$vpce" >/dev/null
curl -sS -o /dev/null "http://$dns/" >/dev/null 2>&1 && fail "the deleted endpoint's listener still answers"
pass

# IAMLOCAL_ENDPOINT_PORTS (serve --endpoint-ports): an endpoint takes the range's
# first free port and keeps it across a restart; a full range is
# VpcEndpointLimitExceeded.
stop_server
lo=$(free_port)
IAMLOCAL_ENDPOINT_PORTS=$lo-$lo start_server "$work/data"
dns=$(as_root ec2 create-vpc-endpoint --vpc-id vpc-0a1b2c3d --vpc-endpoint-type Interface --service-name com.amazonaws.us-east-1.ec2 \
	--query 'VpcEndpoint.DnsEntries[0].DnsName' --output text)
[ "$dns" = "localhost:$lo" ] || fail "endpoint in the range $lo-$lo: $dns"
err=$(as_root ec2 create-vpc-endpoint --vpc-id vpc-0a1b2c3d --vpc-endpoint-type Interface --service-name com.amazonaws.us-east-1.sts 2>&1) &&
	fail "an endpoint beyond the port range"
grep -q "(VpcEndpointLimitExceeded).*--endpoint-ports range $lo-$lo is exhausted" <<<"$err" || fail "full range: $err"
stop_server
start_server "$work/data" --endpoint-ports "$lo-$lo"
ENDPOINT=http://$dns as_root ec2 describe-regions >/dev/null || fail "the pinned port after a restart"
pass

# Credentials EC2 cannot validate: 401 AuthFailure.
err=$(as AKIAUNKNOWNKEY000000 x "" ec2 describe-regions 2>&1) && fail "unknown key accepted"
grep -q "(AuthFailure)" <<<"$err" || fail "unknown key: $err"
pass

echo "$passed passed, 0 failed"
