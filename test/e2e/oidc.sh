#!/usr/bin/env bash
# End-to-end: web identity federation with the AWS CLI v2 against a real server. An
# OIDC provider for GitHub Actions, a role whose trust policy is GitHub's own example,
# a token from `iamlocal oidc token`, then `aws sts assume-role-with-web-identity`
# (unsigned), the environment GitHub Actions and EKS set (AWS_ROLE_ARN +
# AWS_WEB_IDENTITY_TOKEN_FILE) and a `web_identity_token_file` profile, and the
# refusals: another repository, an expired token, an unregistered issuer.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"

provider=arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com
role=arn:aws:iam::111111111111:role/deploy

# Debian's AWS CLI (2.9) still requires a thumbprint; IAM has not needed one since 2024.
thumb=6938fd4d98bab03faadb97b34396831e3780aea1
got=$(as_root iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com \
	--client-id-list sts.amazonaws.com --thumbprint-list $thumb --query OpenIDConnectProviderArn --output text)
[ "$got" = "$provider" ] || fail "provider ARN $got"
pass
got=$(as_root iam get-open-id-connect-provider --open-id-connect-provider-arn "$provider" --query Url --output text)
[ "$got" = token.actions.githubusercontent.com ] || fail "provider Url $got"
pass
# The same URL twice: EntityAlreadyExists, as Terraform users meet it.
if out=$(as_root iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --thumbprint-list $thumb 2>&1); then
	fail "a second provider for the same URL was created"
fi
grep -q 'EntityAlreadyExists.*Provider with url https://token.actions.githubusercontent.com already exists' <<<"$out" || fail "duplicate provider: $out"
pass

# GitHub's "Configuring OpenID Connect in Amazon Web Services" trust policy.
cat >"$work/trust.json" <<'EOF'
{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                },
                "StringLike": {
                    "token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:*"
                }
            }
        }
    ]
}
EOF
as_root iam create-role --role-name deploy --assume-role-policy-document "file://$work/trust.json" >/dev/null
as_root iam put-role-policy --role-name deploy --policy-name read --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}'

# token ARGS…: `iamlocal oidc token` as the root user.
token() {
	AWS_ACCESS_KEY_ID=$IAMLOCAL_ROOT_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$IAMLOCAL_ROOT_SECRET_ACCESS_KEY \
		AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		"$bin" oidc token --endpoint-url "$ENDPOINT" "$@"
}
# anon ARGS…: the AWS CLI v2 without any credentials.
anon() {
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		AWS_DEFAULT_REGION=us-east-1 AWS_MAX_ATTEMPTS=1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER="" \
		"$AWS" --endpoint-url "$ENDPOINT" --output json "$@"
}

token --issuer token.actions.githubusercontent.com --sub repo:octo-org/octo-repo:ref:refs/heads/main --out "$work/token"
[ "$(stat -c %a "$work/token")" = 600 ] || fail "token file mode $(stat -c %a "$work/token")"
pass

# assume-role-with-web-identity needs no credentials.
out=$(anon sts assume-role-with-web-identity --role-arn "$role" --role-session-name gha \
	--web-identity-token "file://$work/token")
[ "$(jq -r .AssumedRoleUser.Arn <<<"$out")" = arn:aws:sts::111111111111:assumed-role/deploy/gha ] || fail "session: $out"
[ "$(jq -r .Provider <<<"$out")" = "$provider" ] || fail "Provider: $out"
[ "$(jq -r .Audience <<<"$out")" = sts.amazonaws.com ] || fail "Audience: $out"
[ "$(jq -r .SubjectFromWebIdentityToken <<<"$out")" = repo:octo-org/octo-repo:ref:refs/heads/main ] || fail "Subject: $out"
pass
got=$(as "$(jq -r .Credentials.AccessKeyId <<<"$out")" "$(jq -r .Credentials.SecretAccessKey <<<"$out")" \
	"$(jq -r .Credentials.SessionToken <<<"$out")" iam list-roles --query 'Roles[].RoleName' --output text)
[ "$got" = deploy ] || fail "the session's ListRoles: $got"
pass

# The CLI's web identity credential provider calls STS with a client of its own, which
# --endpoint-url does not reach. AWS CLI 2.13 and later read AWS_ENDPOINT_URL and a
# profile's endpoint_url for it; Debian's 2.9 reads neither, so STS's endpoint rules
# are replaced, through AWS_DATA_PATH, by one that names this server.
mkdir -p "$work/botodata/sts/2011-06-15"
cat >"$work/botodata/sts/2011-06-15/endpoint-rule-set-1.json" <<RULES
{"version": "1.0", "parameters": {
  "Region": {"builtIn": "AWS::Region", "required": false, "type": "String"},
  "UseDualStack": {"builtIn": "AWS::UseDualStack", "required": true, "default": false, "type": "Boolean"},
  "UseFIPS": {"builtIn": "AWS::UseFIPS", "required": true, "default": false, "type": "Boolean"},
  "Endpoint": {"builtIn": "SDK::Endpoint", "required": false, "type": "String"},
  "UseGlobalEndpoint": {"builtIn": "AWS::STS::UseGlobalEndpoint", "required": true, "default": false, "type": "Boolean"}},
 "rules": [{"conditions": [], "endpoint": {"url": "$ENDPOINT", "properties": {}, "headers": {}}, "type": "endpoint"}]}
RULES
# chain ENV… -- ARGS…: the AWS CLI v2 with no credentials but what ENV configures.
chain() {
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	# HOME keeps the CLI's credential cache (~/.aws/cli/cache) to this run.
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE HOME="$work" \
		AWS_DATA_PATH="$work/botodata" AWS_ENDPOINT_URL="$ENDPOINT" AWS_MAX_ATTEMPTS=1 AWS_PAGER="" \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "${envs[@]}" "$AWS" --endpoint-url "$ENDPOINT" "$@"
}

# What GitHub Actions (aws-actions/configure-aws-credentials) and EKS set.
got=$(chain AWS_ROLE_ARN=$role AWS_WEB_IDENTITY_TOKEN_FILE=$work/token AWS_ROLE_SESSION_NAME=run-1 AWS_DEFAULT_REGION=us-east-1 -- \
	sts get-caller-identity --query Arn --output text)
[ "$got" = arn:aws:sts::111111111111:assumed-role/deploy/run-1 ] || fail "AWS_WEB_IDENTITY_TOKEN_FILE: $got"
pass

# A profile with web_identity_token_file.
cat >"$work/config" <<EOF
[profile gha]
role_arn = $role
web_identity_token_file = $work/token
role_session_name = from-profile
region = us-east-1
endpoint_url = $ENDPOINT
EOF
got=$(chain AWS_CONFIG_FILE=$work/config -- --profile gha iam list-roles --query 'Roles[].Arn' --output text)
[ "$got" = $role ] || fail "web_identity_token_file profile, ListRoles: $got"
pass
got=$(chain AWS_CONFIG_FILE=$work/config -- --profile gha sts get-caller-identity --query Arn --output text)
[ "$got" = arn:aws:sts::111111111111:assumed-role/deploy/from-profile ] || fail "web_identity_token_file profile: $got"
pass

# Another repository: the trust policy says no, in STS's words.
token --issuer token.actions.githubusercontent.com --sub repo:octo-org/other:ref:refs/heads/main --out "$work/other"
if out=$(anon sts assume-role-with-web-identity --role-arn "$role" --role-session-name refused --web-identity-token "file://$work/other" 2>&1); then
	fail "another repository assumed the role"
fi
grep -q 'AccessDenied.*Not authorized to perform sts:AssumeRoleWithWebIdentity' <<<"$out" || fail "other repository: $out"
pass

# An expired token.
token --issuer token.actions.githubusercontent.com --sub repo:octo-org/octo-repo:ref:refs/heads/main --ttl 1s --out "$work/short"
sleep 2
if out=$(anon sts assume-role-with-web-identity --role-arn "$role" --role-session-name refused --web-identity-token "file://$work/short" 2>&1); then
	fail "an expired token was accepted"
fi
grep -q 'ExpiredTokenException.*Token expired: current date/time [0-9]* must be before the expiration date/time [0-9]*' <<<"$out" || fail "expired: $out"
pass

# An issuer the account never registered.
token --issuer gitlab.com --sub project_path:g/p:ref_type:branch:ref:main --out "$work/gitlab"
if out=$(anon sts assume-role-with-web-identity --role-arn "$role" --role-session-name refused --web-identity-token "file://$work/gitlab" 2>&1); then
	fail "an unregistered issuer was trusted"
fi
grep -q 'InvalidIdentityToken.*No OpenIDConnect provider found in your account for https://gitlab.com' <<<"$out" || fail "unregistered: $out"
pass

# The issuer's discovery document and keys are public.
doc=$(curl -fsS "$ENDPOINT/_iamlocal/oidc/token.actions.githubusercontent.com/.well-known/openid-configuration")
[ "$(jq -r .issuer <<<"$doc")" = https://token.actions.githubusercontent.com ] || fail "discovery: $doc"
curl -fsS "$(jq -r .jwks_uri <<<"$doc")" | jq -e '.keys[0].kty == "RSA"' >/dev/null || fail "jwks"
pass

echo "oidc.sh: $passed checks passed"
