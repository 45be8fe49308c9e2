#!/usr/bin/env bash
# End-to-end: the environment `iamlocal imds` prints is all a client needs. For the
# instance metadata service and for the ECS endpoint, a clean shell evaluates exactly
# the printed lines, then the AWS CLI v2 (and v1 where installed), boto3 and
# aws-sdk-go-v2 each ask STS who they are: the answer must be the role's session.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
imds_pid=""
trap '[ -z "$imds_pid" ] || kill "$imds_pid" 2>/dev/null; stop_server; rm -rf "$work"' EXIT
start_server "$work/data"
go build -o "$work/sdkcaller" ./test/e2e/sdkcaller

as_root iam create-role --role-name app --assume-role-policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","ecs-tasks.amazonaws.com"]},"Action":"sts:AssumeRole"}]}' >/dev/null


# start_imds ARGS…: runs `iamlocal imds ARGS…` and waits for its environment lines.
start_imds() {
	rm -f "$work/imds.out" # the background job truncates it only once it runs
	"$bin" imds --role-arn arn:aws:iam::111111111111:role/app --addr "127.0.0.1:$(free_port)" \
		--endpoint "$ENDPOINT" --data "$DATA_DIR" "$@" >"$work/imds.out" 2>"$work/imds.err" &
	imds_pid=$!
	for _ in $(seq 100); do
		grep -q '^  unset ' "$work/imds.out" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$work/imds.out" "$work/imds.err" >&2
	fail "iamlocal imds printed no environment"
}

# in_printed_env CMD…: CMD in a shell whose only AWS settings are the printed lines.
in_printed_env() {
	env -i PATH="$PATH" HOME="$work" bash -c "$(grep -E '^  (export|unset) ' "$work/imds.out")"'
		"$@"' _ "$@"
}

check_clients() {
	local want=arn:aws:sts::111111111111:assumed-role/app/ what=$1 got
	got=$(in_printed_env /usr/bin/aws --endpoint-url "$ENDPOINT" sts get-caller-identity --query Arn --output text) ||
		fail "$what: AWS CLI v2: $got"
	[[ $got == "$want"* ]] || fail "$what: AWS CLI v2 is $got"
	pass
	if [ -x /root/.pyenv/shims/aws ] && /root/.pyenv/shims/aws --version 2>&1 | grep -q '^aws-cli/1'; then
		got=$(in_printed_env /root/.pyenv/shims/aws --endpoint-url "$ENDPOINT" sts get-caller-identity --query Arn --output text) ||
			fail "$what: AWS CLI v1: $got"
		[[ $got == "$want"* ]] || fail "$what: AWS CLI v1 is $got"
		pass
	fi
	got=$(in_printed_env python3 -c 'import boto3; print(boto3.client("sts").get_caller_identity()["Arn"])' 2>&1) ||
		fail "$what: boto3: $got"
	[[ $got == "$want"* ]] || fail "$what: boto3 is $got"
	pass
	got=$(in_printed_env "$work/sdkcaller" 2>&1) || fail "$what: aws-sdk-go-v2: $got"
	[[ $got == "$want"* ]] || fail "$what: aws-sdk-go-v2 is $got"
	pass
}

start_imds --http-tokens required
grep -q '^  export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:[0-9]*/$' "$work/imds.out" ||
	fail "the metadata endpoint lacks its trailing slash: $(cat "$work/imds.out")"
check_clients "instance metadata (IMDSv2)"
kill "$imds_pid"; wait "$imds_pid" 2>/dev/null || true; imds_pid=""

start_imds --ecs
check_clients "ECS container credentials"

echo "imds-env: $passed passed, 0 failed"
