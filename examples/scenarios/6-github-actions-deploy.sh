#!/usr/bin/env bash
# Field scenario 6 — a GitHub Actions workflow deploys into three accounts, with no
# AWS key stored anywhere: the management account registers GitHub's OIDC provider
# and a `deploy` role whose trust policy is GitHub's own example, for the main branch
# of octo-org/octo-repo; each member account has a `deployer` role trusting `deploy`.
# The workflow's ID token (here from `iamlocal oidc token`, as GitHub would sign it)
# is traded with `aws sts assume-role-with-web-identity` for a `deploy` session, which
# assumes `deployer` in each member and ships a release there. A token of another
# repository or of a pull request gets AWS's AccessDenied, `iamlocal doctor` names the
# condition that refused it, and `iamlocal graph` shows who reaches the deployers.
# Run from the repository root: examples/scenarios/6-github-actions-deploy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source examples/lib.bash
source examples/scenarios/common.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"
org_with_members dev staging prod
provider="arn:aws:iam::$A:oidc-provider/token.actions.githubusercontent.com"
deploy="arn:aws:iam::$A:role/deploy"

# The management account: GitHub's provider (Debian's AWS CLI 2.9 still asks for a
# thumbprint, which IAM ignores since 2024) and the deploy role.
got=$(admin iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com \
	--client-id-list sts.amazonaws.com --thumbprint-list 6938fd4d98bab03faadb97b34396831e3780aea1 \
	--query OpenIDConnectProviderArn --output text)
[ "$got" = "$provider" ] || fail "provider $got"
pass
# GitHub's "Configuring OpenID Connect in Amazon Web Services", for the main branch.
cat >"$work/trust.json" <<EOF
{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": "arn:aws:iam::$A:oidc-provider/token.actions.githubusercontent.com"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                },
                "StringLike": {
                    "token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:ref:refs/heads/main"
                }
            }
        }
    ]
}
EOF
admin iam create-role --role-name deploy --assume-role-policy-document "file://$work/trust.json" >/dev/null
admin iam put-role-policy --role-name deploy --policy-name assume-deployers --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/deployer"}]}'

# Each member: a deployer role that trusts the management account's deploy role and
# may ship releases to its own artifacts bucket.
for m in "${MEMBERS[@]}"; do
	into "$m"
	member iam create-role --role-name deployer --assume-role-policy-document \
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"$deploy\"},\"Action\":\"sts:AssumeRole\"}]}" >/dev/null
	member iam put-role-policy --role-name deployer --policy-name ship --policy-document \
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:CreateBucket\",\"s3:PutObject\",\"s3:GetObject\"],\"Resource\":[\"arn:aws:s3:::artifacts-$m\",\"arn:aws:s3:::artifacts-$m/*\"]},{\"Effect\":\"Allow\",\"Action\":\"iam:ListRoles\",\"Resource\":\"*\"}]}"
done

# token FILE SUB: the ID token GitHub gives a job, written where
# AWS_WEB_IDENTITY_TOKEN_FILE would point (minting takes an administrator's keys).
token() {
	AWS_ACCESS_KEY_ID=$ADMIN_KEY AWS_SECRET_ACCESS_KEY=$ADMIN_SECRET AWS_SESSION_TOKEN="" AWS_DEFAULT_REGION=us-east-1 \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		"$bin" oidc token --endpoint-url "$ENDPOINT" --issuer token.actions.githubusercontent.com --sub "$2" --aud sts.amazonaws.com --out "$1"
}
# workflow ARGS…: the AWS CLI in the runner, before it has any credentials.
workflow() {
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		AWS_DEFAULT_REGION=us-east-1 AWS_MAX_ATTEMPTS=1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER="" \
		"$AWS" --endpoint-url "$ENDPOINT" --output json "$@"
}
# il ARGS…: iamlocal's client commands as the management account's administrator.
il() {
	AWS_ACCESS_KEY_ID=$ADMIN_KEY AWS_SECRET_ACCESS_KEY=$ADMIN_SECRET AWS_SESSION_TOKEN="" AWS_DEFAULT_REGION=us-east-1 \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "$bin" "$@" --endpoint-url "$ENDPOINT"
}

# The workflow, on a push to main.
token "$work/token" repo:octo-org/octo-repo:ref:refs/heads/main
out=$(workflow sts assume-role-with-web-identity --role-arn "$deploy" --role-session-name gha-run-42 \
	--web-identity-token "file://$work/token")
[ "$(jq -r .AssumedRoleUser.Arn <<<"$out")" = "arn:aws:sts::$A:assumed-role/deploy/gha-run-42" ] || fail "deploy session: $out"
[ "$(jq -r .SubjectFromWebIdentityToken <<<"$out")" = repo:octo-org/octo-repo:ref:refs/heads/main ] || fail "subject: $out"
[ "$(jq -r .Provider <<<"$out")" = "$provider" ] || fail "Provider: $out"
pass
dk=$(jq -r .Credentials.AccessKeyId <<<"$out")
ds=$(jq -r .Credentials.SecretAccessKey <<<"$out")
dt=$(jq -r .Credentials.SessionToken <<<"$out")
echo "web identity: repo:octo-org/octo-repo:ref:refs/heads/main → $(jq -r .AssumedRoleUser.Arn <<<"$out")"
# The deploy session may only assume deployers: the management account's IAM is closed to it.
out=$(as "$dk" "$ds" "$dt" iam list-roles 2>&1) && fail "the deploy session listed the management account's roles"
grep -q AccessDenied <<<"$out" || fail "deploy session, ListRoles: $out"
pass

echo "v1.4.2 built from octo-org/octo-repo@main" >"$work/release.txt"
for m in "${MEMBERS[@]}"; do
	read -r k s t < <(as "$dk" "$ds" "$dt" sts assume-role --role-arn "arn:aws:iam::$m:role/deployer" --role-session-name gha-run-42 \
		--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
	who=$(as "$k" "$s" "$t" sts get-caller-identity --query Arn --output text)
	[ "$who" = "arn:aws:sts::$m:assumed-role/deployer/gha-run-42" ] || fail "$m: $who"
	as "$k" "$s" "$t" s3api create-bucket --bucket "artifacts-$m" >/dev/null
	as "$k" "$s" "$t" s3api put-object --bucket "artifacts-$m" --key releases/v1.4.2.txt --body "$work/release.txt" >/dev/null
	as "$k" "$s" "$t" s3api get-object --bucket "artifacts-$m" --key releases/v1.4.2.txt "$work/back" >/dev/null
	cmp -s "$work/release.txt" "$work/back" || fail "$m: the release read back differs"
	roles=$(as "$k" "$s" "$t" iam list-roles --query 'Roles[].RoleName' --output text)
	grep -qw deployer <<<"$roles" || fail "$m: list-roles: $roles"
	echo "$m: $who shipped s3://artifacts-$m/releases/v1.4.2.txt; roles: $roles"
	pass
done
# A deployer ships to its own account's bucket only (k s t: the last member's).
out=$(as "$k" "$s" "$t" s3api put-object --bucket "artifacts-${MEMBERS[0]}" --key x --body "$work/release.txt" 2>&1) &&
	fail "a deployer wrote to another account's bucket"
grep -q AccessDenied <<<"$out" || fail "deployer → artifacts-${MEMBERS[0]}: $out"
pass

# Tokens the trust policy refuses, with AWS's AccessDenied.
for sub in repo:octo-org/other-repo:ref:refs/heads/main repo:octo-org/octo-repo:pull_request; do
	f="$work/token-${sub//[:\/]/_}"
	token "$f" "$sub"
	out=$(workflow sts assume-role-with-web-identity --role-arn "$deploy" --role-session-name refused --web-identity-token "file://$f" 2>&1) &&
		fail "$sub assumed deploy"
	grep -q 'An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation.*: Not authorized to perform sts:AssumeRoleWithWebIdentity' <<<"$out" ||
		fail "$sub: $out"
	echo "refused: $sub — AccessDenied: $(sed -n 's/.*: \(Not authorized.*\)/\1/p' <<<"$out")"
	pass
	# The doctor names the condition that did not match, and shows the token's claims.
	out=$(il doctor assume-role-with-web-identity --role-arn "$deploy" --web-identity-token "$f" 2>&1) && fail "doctor passed $sub"
	grep -q "StringLike token.actions.githubusercontent.com:sub \"repo:octo-org/octo-repo:ref:refs/heads/main\": the request has \"$sub\"" <<<"$out" ||
		fail "doctor, $sub: $out"
	grep -q "FAIL  trust policy allows the token" <<<"$out" || fail "doctor, $sub: $out"
	grep -q "claims: iss=https://token.actions.githubusercontent.com, sub=$sub, aud=sts.amazonaws.com" <<<"$out" || fail "doctor, claims of $sub: $out"
	echo "  doctor: $(grep -o 'StringLike token.actions.githubusercontent.com:sub .*' <<<"$out" | head -1)"
	pass
done
# The good token passes every check.
il doctor assume-role-with-web-identity --role-arn "$deploy" --web-identity-token "$work/token" >"$work/doctor" || fail "doctor: $(cat "$work/doctor")"
pass

# The graph: the provider reaches deploy with the main branch's claims, and each
# deployer through deploy.
out=$(il graph)
grep -q "^  $provider  (OIDC provider, client ids sts.amazonaws.com)$" <<<"$out" || fail "graph, provider: $out"
grep -q "^    → $deploy  if sub: repo:octo-org/octo-repo:ref:refs/heads/main and aud: sts.amazonaws.com  (trust statement 0)$" <<<"$out" ||
	fail "graph, provider → deploy: $out"
pass
for m in "${MEMBERS[@]}"; do
	out=$(il graph --to "arn:aws:iam::$m:role/deployer")
	grep -A2 "^  $provider$" <<<"$out" | tr '\n' '|' |
		grep -q "→ $deploy  if sub: repo:octo-org/octo-repo:ref:refs/heads/main and aud: sts.amazonaws.com  (trust statement 0)|    → arn:aws:iam::$m:role/deployer" ||
		fail "graph --to deployer in $m: $out"
done
pass
out=$(il graph --format dot)
grep -q "\"federated:$provider\" -> \"$deploy\" \[label=\"sub: repo:octo-org/octo-repo:ref:refs/heads/main\\\\naud: sts.amazonaws.com\"\];" <<<"$out" ||
	fail "graph --format dot: $out"
out=$(il graph --format json)
jq -e --arg p "federated:$provider" --arg d "$deploy" \
	'.edges[] | select(.from == $p and .to == $d) | .claims == ["sub: repo:octo-org/octo-repo:ref:refs/heads/main", "aud: sts.amazonaws.com"] and .action == "sts:AssumeRoleWithWebIdentity"' \
	<<<"$out" >/dev/null || fail "graph --format json: $out"
pass
il graph --to "arn:aws:iam::${MEMBERS[2]}:role/deployer" | sed -n '2,$p'

echo "$passed passed, 0 failed"
