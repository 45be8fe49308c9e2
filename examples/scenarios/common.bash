# Setup shared by the field scenarios: an organization, an admin user in the
# management account, and a way into member accounts.
A=111111111111 # the management account (see examples/lib.bash)

# org_with_members NAME...: creates the organization and one member account per name;
# sets MEMBERS (their ids) and ADMIN_KEY/ADMIN_SECRET (an AdministratorAccess user).
org_with_members() {
	as_root organizations create-organization --feature-set ALL >/dev/null
	MEMBERS=()
	local name req
	for name in "$@"; do
		req=$(as_root organizations create-account --account-name "$name" --email "$name@example.com" --query CreateAccountStatus.Id --output text)
		MEMBERS+=("$(as_root organizations describe-create-account-status --create-account-request-id "$req" --query CreateAccountStatus.AccountId --output text)")
	done
	as_root iam create-user --user-name admin >/dev/null
	as_root iam attach-user-policy --user-name admin --policy-arn arn:aws:iam::aws:policy/AdministratorAccess
	read -r ADMIN_KEY ADMIN_SECRET < <(as_root iam create-access-key --user-name admin --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
}

admin() { as "$ADMIN_KEY" "$ADMIN_SECRET" "" "$@"; }

# into ACCOUNT: sets K S T to OrganizationAccountAccessRole credentials in ACCOUNT.
into() {
	read -r K S T < <(admin sts assume-role --role-arn "arn:aws:iam::$1:role/OrganizationAccountAccessRole" \
		--role-session-name setup --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
}
member() { as "$K" "$S" "$T" "$@"; }

# user_with_key NAME POLICY [BOUNDARY_ARN]: in the current member account, a user with
# an inline policy (and a boundary); prints "KEY SECRET".
user_with_key() {
	member iam create-user --user-name "$1" >/dev/null
	member iam put-user-policy --user-name "$1" --policy-name p --policy-document "$2"
	if [ -n "${3:-}" ]; then
		member iam put-user-permissions-boundary --user-name "$1" --permissions-boundary "$3"
	fi
	member iam create-access-key --user-name "$1" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text
}

# decode TEXT: decodes the encoded authorization message inside an EC2 error text.
decode() {
	local msg
	msg=$(grep -o 'Encoded authorization failure message: [A-Za-z0-9_-]*' <<<"$1" | sed 's/.*: //')
	[ -n "$msg" ] || return 1
	admin sts decode-authorization-message --encoded-message "$msg" --query DecodedMessage --output text
}

# start_imds INSTANCE_ID: serves the instance's metadata on IAMLOCAL_IMDS_ADDR
# (default: a free loopback port); sets IMDS_URL and IMDS_PID.
start_imds() {
	local addr=${IAMLOCAL_IMDS_ADDR:-127.0.0.1:$(free_port)}
	"$bin" imds --instance-id "$1" --addr "$addr" --endpoint "$ENDPOINT" --data "$DATA_DIR" >"$work/imds.log" 2>&1 &
	IMDS_PID=$!
	IMDS_URL="http://$addr"
	for _ in $(seq 100); do
		curl -fs -o /dev/null -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$IMDS_URL/latest/api/token" && return 0
		sleep 0.05
	done
	cat "$work/imds.log" >&2
	fail "iamlocal imds did not become ready"
}

# on_instance CMD…: the AWS CLI as a program on the instance: no keys anywhere, so the
# CLI's credential chain reaches the instance metadata service.
on_instance() {
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="$IMDS_URL/" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		AWS_DEFAULT_REGION=us-east-1 AWS_MAX_ATTEMPTS=1 AWS_PAGER="" "$AWS" --endpoint-url "$ENDPOINT" --output json "$@"
}
