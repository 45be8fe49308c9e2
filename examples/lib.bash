# Shared helpers for the examples and the end-to-end scripts: start a real
# `iamlocal serve`, point the AWS CLI v2 at it, count checks. Run from the repository
# root; IAMLOCAL names the binary (default bin/iamlocal, built when missing).
bin=${IAMLOCAL:-bin/iamlocal}
if [ ! -x "$bin" ]; then
	go build -o "$bin" ./cmd/iamlocal
fi
AWS=/usr/bin/aws
passed=0
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { passed=$((passed + 1)); }

# start_server DIR [SERVE-FLAG...]: starts iamlocal with the fixed root key below on
# IAMLOCAL_ADDR (default 127.0.0.1:0, a free port; VPC endpoints' ports come from
# IAMLOCAL_ENDPOINT_PORTS when set) and sets ENDPOINT, SERVER_PID and DATA_DIR (where
# the internal API's secret is).
export IAMLOCAL_ROOT_ACCESS_KEY_ID=AKIAIAMLOCALE2EROOT1
export IAMLOCAL_ROOT_SECRET_ACCESS_KEY=e2eRootSecretKey0000000000000000000000000
start_server() {
	local dir=$1 log=$1.log
	shift
	DATA_DIR=$dir
	"$bin" serve --addr "${IAMLOCAL_ADDR:-127.0.0.1:0}" --data "$dir" --account-id 111111111111 "$@" >"$log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do
		ENDPOINT=$(sed -n 's/^iamlocal serving on \(http:[^ ]*\).*/\1/p' "$log")
		if [ -n "$ENDPOINT" ] && curl -fsS "$ENDPOINT/_iamlocal/health" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	cat "$log" >&2
	fail "iamlocal did not become ready"
}

# free_port: an unused loopback TCP port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

stop_server() { kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true; }

# as_root / as KEY SECRET [TOKEN] run the AWS CLI with those credentials.
as_root() { as "$IAMLOCAL_ROOT_ACCESS_KEY_ID" "$IAMLOCAL_ROOT_SECRET_ACCESS_KEY" "" "$@"; }
as() {
	local id=$1 secret=$2 token=$3
	shift 3
	AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token AWS_DEFAULT_REGION=us-east-1 AWS_MAX_ATTEMPTS=1 \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER="" \
		"$AWS" --endpoint-url "$ENDPOINT" --output json "$@"
}
