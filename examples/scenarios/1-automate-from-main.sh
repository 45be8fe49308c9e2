#!/usr/bin/env bash
# Field scenario 1 — automating across accounts from a main account. A role in each of
# three member accounts trusts the main account's automation role; an instance in the
# main account runs with that role (credentials from the instance metadata service,
# IMDSv2), assumes each member role and creates an image of that account's instance —
# all with the AWS CLI.
set -euo pipefail
cd "$(dirname "$0")/../.."
source examples/lib.bash
source examples/scenarios/common.bash
work=$(mktemp -d)
trap 'kill ${IMDS_PID:-} 2>/dev/null; stop_server; rm -rf "$work"' EXIT
start_server "$work/data"
org_with_members dev staging prod

runner="arn:aws:iam::$A:role/automation-runner"
declare -A target_instance
for acct in "${MEMBERS[@]}"; do
	into "$acct"
	ami=$(member ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
	target_instance[$acct]=$(member ec2 run-instances --image-id "$ami" --instance-type t3.micro --query 'Instances[0].InstanceId' --output text)
	member iam create-role --role-name automation-target --assume-role-policy-document \
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"$runner\"},\"Action\":\"sts:AssumeRole\"}]}" >/dev/null
	member iam put-role-policy --role-name automation-target --policy-name images --policy-document \
		'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:CreateImage","ec2:DescribeInstances","ec2:DescribeImages"],"Resource":"*"}]}'
done

# The main account's instance and its role.
admin iam create-role --role-name automation-runner --assume-role-policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
admin iam put-role-policy --role-name automation-runner --policy-name assume-targets --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/automation-target"}]}'
admin iam create-instance-profile --instance-profile-name automation-runner >/dev/null
admin iam add-role-to-instance-profile --instance-profile-name automation-runner --role-name automation-runner
ami=$(admin ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
main_instance=$(admin ec2 run-instances --image-id "$ami" --instance-type t3.micro --iam-instance-profile Name=automation-runner \
	--metadata-options HttpTokens=required --query 'Instances[0].InstanceId' --output text)
start_imds "$main_instance"

me=$(on_instance sts get-caller-identity --query Arn --output text)
[ "$me" = "arn:aws:sts::$A:assumed-role/automation-runner/$main_instance" ] || fail "on the instance: $me"
echo "on $main_instance: $me (credentials from IMDSv2)"
pass
for acct in "${MEMBERS[@]}"; do
	read -r k s t < <(on_instance sts assume-role --role-arn "arn:aws:iam::$acct:role/automation-target" --role-session-name nightly-images \
		--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
	image=$(as "$k" "$s" "$t" ec2 create-image --instance-id "${target_instance[$acct]}" --name "nightly-$acct" --query ImageId --output text)
	owner=$(as "$k" "$s" "$t" ec2 describe-images --image-ids "$image" --query 'Images[0].OwnerId' --output text)
	[ "$owner" = "$acct" ] || fail "image $image of $acct is owned by $owner"
	echo "$acct: image $image of ${target_instance[$acct]}"
	pass
done
echo "$passed passed, 0 failed"
