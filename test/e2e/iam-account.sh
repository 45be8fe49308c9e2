#!/usr/bin/env bash
# End-to-end: IAM's account settings and credentials through the AWS CLI v2 against
# a real `iamlocal serve` — keys and certificates made by ssh-keygen and openssl.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"

as_root iam create-account-alias --account-alias e2e-corp
[ "$(as_root iam list-account-aliases --query 'AccountAliases[0]' --output text)" = e2e-corp ] || fail "alias"
pass

as_root iam update-account-password-policy --minimum-password-length 12 --require-numbers --allow-users-to-change-password
as_root iam create-user --user-name dev >/dev/null
err=$(as_root iam create-login-profile --user-name dev --password short1 2>&1) && fail "short password accepted"
grep -q "PasswordPolicyViolation.*Password should have a minimum length of 12" <<<"$err" || fail "policy message: $err"
as_root iam create-login-profile --user-name dev --password 'Long-password-1' --password-reset-required >/dev/null
read -r ak sk < <(as_root iam create-access-key --user-name dev --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
# AllowUsersToChangePassword lets dev change its own password without a policy.
as "$ak" "$sk" "" iam change-password --old-password 'Long-password-1' --new-password 'Longer-password-2'
[ "$(as_root iam get-login-profile --user-name dev --query LoginProfile.PasswordResetRequired --output text)" = False ] || fail "reset flag"
pass

ssh-keygen -q -t rsa -b 2048 -N '' -C e2e -f "$work/id_rsa"
fp=$(ssh-keygen -l -E md5 -f "$work/id_rsa.pub" | awk '{print $2}')
id=$(as_root iam upload-ssh-public-key --user-name dev --ssh-public-key-body "file://$work/id_rsa.pub" --query SSHPublicKey.[SSHPublicKeyId,Fingerprint] --output text)
[ "$(cut -f2 <<<"$id")" = "${fp#MD5:}" ] || fail "fingerprint $id, ssh-keygen says $fp"
kid=$(cut -f1 <<<"$id")
as_root iam get-ssh-public-key --user-name dev --ssh-public-key-id "$kid" --encoding PEM --query SSHPublicKey.SSHPublicKeyBody --output text >"$work/key.pem"
ssh-keygen -i -m PEM -f "$work/key.pem" | cut -d' ' -f2 | cmp -s - <(cut -d' ' -f2 "$work/id_rsa.pub") || fail "PEM encoding does not read back"
ssh-keygen -e -m RFC4716 -f "$work/id_rsa.pub" >"$work/ssh2.pub"
err=$(as_root iam upload-ssh-public-key --user-name dev --ssh-public-key-body "file://$work/ssh2.pub" 2>&1) && fail "duplicate key accepted"
grep -q DuplicateSSHPublicKey <<<"$err" || fail "duplicate: $err"
ssh-keygen -q -t ed25519 -N '' -f "$work/id_ed25519"
err=$(as_root iam upload-ssh-public-key --user-name dev --ssh-public-key-body "file://$work/id_ed25519.pub" 2>&1) && fail "ed25519 accepted"
grep -q UnrecognizedPublicKeyEncoding <<<"$err" || fail "ed25519: $err"
pass

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 30 -subj /CN=e2e.example 2>/dev/null
as_root iam upload-server-certificate --server-certificate-name web --path /cloudfront/ \
	--certificate-body "file://$work/cert.pem" --private-key "file://$work/key.pem" >/dev/null
exp=$(as_root iam get-server-certificate --server-certificate-name web --query ServerCertificate.ServerCertificateMetadata.Expiration --output text)
[ -n "$exp" ] || fail "expiration"
as_root iam get-server-certificate --server-certificate-name web | grep -q PRIVATE && fail "the private key came back"
as_root iam upload-signing-certificate --user-name dev --certificate-body "file://$work/cert.pem" >/dev/null
pass

err=$(as_root iam delete-user --user-name dev 2>&1) && fail "user with credentials deleted"
grep -q DeleteConflict <<<"$err" || fail "delete conflict: $err"
[ "$(as_root iam get-user --query User.Arn --output text)" = arn:aws:iam::111111111111:root ] || fail "root GetUser"
as_root iam get-account-summary --query 'SummaryMap.[ServerCertificates,Users]' --output text | grep -q "^1	1$" || fail "summary"
pass

echo "$passed passed, 0 failed"
