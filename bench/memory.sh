#!/usr/bin/env bash
# Memory with 10,000 accounts × 20 roles: seeds a data directory (bench/seed), starts
# iamlocal on it and drives AssumeRole into random roles of random accounts, printing
# the server's RSS before and after.  Usage: bench/memory.sh [ACCOUNTS] [ROLES] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
accounts=${1:-10000}
roles=${2:-20}
dur=${3:-20s}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
go build -o "$work/iamlocal" ./cmd/iamlocal
go build -o "$work/loadgen" ./bench/loadgen
go run ./bench/seed -data "$work/data" -accounts "$accounts" -roles "$roles"
export IAMLOCAL_ROOT_ACCESS_KEY_ID=AKIAIAMLOCALBENCH001 IAMLOCAL_ROOT_SECRET_ACCESS_KEY=benchRootSecret000000000000000000000000000
"$work/iamlocal" serve --addr 127.0.0.1:4577 --data "$work/data" --account-id 111111111111 >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:4577/_iamlocal/health && break; sleep 0.05; done
A() { AWS_ACCESS_KEY_ID=$IAMLOCAL_ROOT_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$IAMLOCAL_ROOT_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1 \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null /usr/bin/aws --endpoint-url http://127.0.0.1:4577 --output text "$@"; }
A iam create-user --user-name bench >/dev/null
A iam put-user-policy --user-name bench --policy-name assume --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}'
read -r key secret < <(A iam create-access-key --user-name bench --query 'AccessKey.[AccessKeyId,SecretAccessKey]')
echo "RSS after start: $(ps -o rss= -p $pid) KiB; data directory $(du -sh "$work/data" | cut -f1)"
"$work/loadgen" -label "iamlocal-${accounts}x${roles}" -endpoint http://127.0.0.1:4577 -op assume-role -c 16 -d "$dur" \
	-key "$key" -secret "$secret" -spread-accounts "$accounts" -spread-roles "$roles"
echo "RSS after $dur of AssumeRole into random roles: $(ps -o rss= -p $pid) KiB"
