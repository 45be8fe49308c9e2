#!/usr/bin/env bash
# Runs the same AssumeRole load against iamlocal, moto_server and a bare Go server
# (the ceiling), and GetCallerIdentity against iamlocal; prints one line per run.
# Usage: bench/run.sh [DURATION] [CONCURRENCY]   (default 10s, 16)
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10s}
conc=${2:-16}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

go build -o "$work/iamlocal" ./cmd/iamlocal
go build -o "$work/loadgen" ./bench/loadgen
go build -o "$work/bareserver" ./bench/bareserver

export IAMLOCAL_ROOT_ACCESS_KEY_ID=AKIAIAMLOCALBENCH001 IAMLOCAL_ROOT_SECRET_ACCESS_KEY=benchRootSecret000000000000000000000000000
"$work/iamlocal" serve --addr 127.0.0.1:4577 --data "$work/data" --account-id 111111111111 >"$work/iamlocal.log" 2>&1 &
pids+=($!)
moto_server -H 127.0.0.1 -p 4598 >"$work/moto.log" 2>&1 &
pids+=($!)
"$work/bareserver" -addr 127.0.0.1:4599 &
pids+=($!)
for port in 4577 4598 4599; do
	for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
done

# setup ENDPOINT KEY SECRET: a user "bench" with a key, allowed to assume role "bench".
setup() {
	local ep=$1
	aws_() { AWS_ACCESS_KEY_ID=$2 AWS_SECRET_ACCESS_KEY=$3 AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null \
		AWS_SHARED_CREDENTIALS_FILE=/dev/null /usr/bin/aws --endpoint-url "$1" --output text "${@:4}"; }
	aws_ "$ep" "$2" "$3" iam create-user --user-name bench >/dev/null
	aws_ "$ep" "$2" "$3" iam put-user-policy --user-name bench --policy-name assume --policy-document \
		'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}'
	aws_ "$ep" "$2" "$3" iam create-role --role-name bench --assume-role-policy-document \
		'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/bench"},"Action":"sts:AssumeRole"}]}' >/dev/null
	aws_ "$ep" "$2" "$3" iam create-access-key --user-name bench --query 'AccessKey.[AccessKeyId,SecretAccessKey]'
}
read -r ikey isecret < <(setup http://127.0.0.1:4577 "$IAMLOCAL_ROOT_ACCESS_KEY_ID" "$IAMLOCAL_ROOT_SECRET_ACCESS_KEY")
read -r mkey msecret < <(setup http://127.0.0.1:4598 AKIAMOTO000000000000 motosecret)
mrole=$(AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1 /usr/bin/aws --endpoint-url http://127.0.0.1:4598 \
	iam get-role --role-name bench --query Role.Arn --output text)

"$work/loadgen" -label bare -endpoint http://127.0.0.1:4599 -op assume-role -c "$conc" -d "$dur" -key x -secret y
"$work/loadgen" -label iamlocal -endpoint http://127.0.0.1:4577 -op assume-role -c "$conc" -d "$dur" -key "$ikey" -secret "$isecret"
"$work/loadgen" -label moto -endpoint http://127.0.0.1:4598 -op assume-role -c "$conc" -d "$dur" -key "$mkey" -secret "$msecret" -role "$mrole"
"$work/loadgen" -label iamlocal -endpoint http://127.0.0.1:4577 -op get-caller-identity -c "$conc" -d "$dur" -key "$ikey" -secret "$isecret"
echo "iamlocal RSS after the runs: $(ps -o rss= -p "${pids[0]}") KiB"
