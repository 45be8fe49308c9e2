#!/usr/bin/env bash
# End-to-end: SAML federation and MFA with the AWS CLI v2 against a real
# `iamlocal serve` — the built-in IdP's metadata registered with
# create-saml-provider, its assertions redeemed with assume-role-with-saml, a virtual
# MFA device enabled with two codes and used by get-session-token and assume-role.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT

start_server "$work/data"
acct=111111111111
provider=arn:aws:iam::$acct:saml-provider/corp
role=arn:aws:iam::$acct:role/dev
# iamlocal's own commands sign with the caller's AWS credentials, here the root user's.
il() {
	AWS_ACCESS_KEY_ID=${IL_KEY:-$IAMLOCAL_ROOT_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${IL_SECRET:-$IAMLOCAL_ROOT_SECRET_ACCESS_KEY} \
		AWS_SESSION_TOKEN= AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		"$bin" "$@" --endpoint-url "$ENDPOINT"
}

# --- SAML ---------------------------------------------------------------------------
il saml metadata --name corp >"$work/corp.xml"
grep -q 'entityID="urn:iamlocal:saml:idp:corp"' "$work/corp.xml" || fail "metadata: $(cat "$work/corp.xml")"
arn=$(as_root iam create-saml-provider --name corp --saml-metadata-document "file://$work/corp.xml" --query SAMLProviderArn --output text)
[ "$arn" = "$provider" ] || fail "create-saml-provider: $arn"
doc=$(as_root iam get-saml-provider --saml-provider-arn "$provider" --query SAMLMetadataDocument --output text)
grep -q 'X509Certificate' <<<"$doc" || fail "get-saml-provider: $doc"
pass

cat >"$work/trust.json" <<EOF
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"$provider"},
 "Action":["sts:AssumeRoleWithSAML","sts:TagSession"],
 "Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml","saml:edupersonaffiliation":"staff"}}}]}
EOF
as_root iam create-role --role-name dev --assume-role-policy-document "file://$work/trust.json" >/dev/null
as_root iam put-role-policy --role-name dev --policy-name read --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}'

saml=$(il saml assertion --idp corp --subject alice --role "$role,$provider" --attr eduPersonAffiliation=staff --tag team=blue)
read -r k s t who < <(as "" "" "" sts assume-role-with-saml --no-sign-request --role-arn "$role" --principal-arn "$provider" \
	--saml-assertion "$saml" --query '[Credentials.AccessKeyId,Credentials.SecretAccessKey,Credentials.SessionToken,AssumedRoleUser.Arn]' --output text)
[ "$who" = "arn:aws:sts::$acct:assumed-role/dev/alice" ] || fail "assume-role-with-saml: $who"
arn=$(as "$k" "$s" "$t" sts get-caller-identity --query Arn --output text)
[ "$arn" = "arn:aws:sts::$acct:assumed-role/dev/alice" ] || fail "the SAML session: $arn"
as "$k" "$s" "$t" iam list-users >/dev/null || fail "the SAML session's permissions"
pass

# A tampered assertion: its signature no longer verifies.
tampered=$(base64 -d <<<"$saml" | sed 's/>alice</>mallory</' | base64 -w0)
err=$(as "" "" "" sts assume-role-with-saml --no-sign-request --role-arn "$role" --principal-arn "$provider" --saml-assertion "$tampered" 2>&1) &&
	fail "tampered assertion accepted"
grep -q "InvalidIdentityToken.*Response signature invalid" <<<"$err" || fail "tampered: $err"
pass
# The trust policy's condition on eduPersonAffiliation says no to a student.
saml=$(il saml assertion --idp corp --subject bob --role "$role,$provider" --attr eduPersonAffiliation=student)
err=$(as "" "" "" sts assume-role-with-saml --no-sign-request --role-arn "$role" --principal-arn "$provider" --saml-assertion "$saml" 2>&1) &&
	fail "a student was let in"
grep -q "AccessDenied.*Not authorized to perform sts:AssumeRoleWithSAML" <<<"$err" || fail "trust: $err"
pass
# An assertion issued six minutes ago has expired.
saml=$(il saml assertion --idp corp --subject alice --role "$role,$provider" --attr eduPersonAffiliation=staff --issued-ago 6m --valid-for 1h)
err=$(as "" "" "" sts assume-role-with-saml --no-sign-request --role-arn "$role" --principal-arn "$provider" --saml-assertion "$saml" 2>&1) &&
	fail "an old assertion was accepted"
grep -q "ExpiredTokenException.*Token must be redeemed within 5 minutes of issuance" <<<"$err" || fail "expired: $err"
pass

# --- MFA ----------------------------------------------------------------------------
as_root iam create-user --user-name alice >/dev/null
as_root iam put-user-policy --user-name alice --policy-name p --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","sts:AssumeRole"],"Resource":"*"}]}'
read -r ak as_ < <(as_root iam create-access-key --user-name alice --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
serial=$(as_root iam create-virtual-mfa-device --virtual-mfa-device-name alice --outfile "$work/qr.png" --bootstrap-method QRCodePNG \
	--query VirtualMFADevice.SerialNumber --output text)
[ "$serial" = "arn:aws:iam::$acct:mfa/alice" ] || fail "serial: $serial"
[ "$(head -c 8 "$work/qr.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "the QR code is not a PNG"
read -r c1 c2 < <(il mfa code --serial "$serial" --count 2 | xargs)
as_root iam enable-mfa-device --user-name alice --serial-number "$serial" --authentication-code1 "$c1" --authentication-code2 "$c2"
[ "$(as_root iam list-mfa-devices --user-name alice --query 'MFADevices[0].SerialNumber' --output text)" = "$serial" ] || fail "list-mfa-devices"
# A user with an MFA device enabled cannot be deleted.
as_root iam create-user --user-name dana >/dev/null
dserial=$(as_root iam create-virtual-mfa-device --virtual-mfa-device-name dana --outfile "$work/dana.png" --bootstrap-method Base32StringSeed \
	--query VirtualMFADevice.SerialNumber --output text)
read -r c1 c2 < <(il mfa code --serial "$dserial" --count 2 | xargs)
as_root iam enable-mfa-device --user-name dana --serial-number "$dserial" --authentication-code1 "$c1" --authentication-code2 "$c2"
err=$(as_root iam delete-user --user-name dana 2>&1) && fail "deleted a user with an MFA device"
grep -q "DeleteConflict.*Cannot delete entity, must delete MFA device first." <<<"$err" || fail "delete-user: $err"
pass

# GetSessionToken: IAM only with MFA; each code once.
read -r k s t < <(as "$ak" "$as_" "" sts get-session-token --duration-seconds 900 --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
as "$k" "$s" "$t" iam list-users >/dev/null 2>&1 && fail "IAM with GetSessionToken credentials without MFA"
code=$(il mfa code --serial "$serial")
read -r k s t < <(as "$ak" "$as_" "" sts get-session-token --serial-number "$serial" --token-code "$code" --duration-seconds 900 \
	--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
as "$k" "$s" "$t" iam list-users >/dev/null || fail "IAM with an MFA session"
err=$(as "$ak" "$as_" "" sts get-session-token --serial-number "$serial" --token-code "$code" 2>&1) && fail "a code was taken twice"
grep -q "AccessDenied.*MultiFactorAuthentication failed with invalid MFA one time pass code." <<<"$err" || fail "reuse: $err"
pass

# A role whose trust policy requires MFA: refused without, assumed with a fresh code.
as_root iam create-role --role-name admin --assume-role-policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"'$acct'"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}' >/dev/null
as "$ak" "$as_" "" sts assume-role --role-arn arn:aws:iam::$acct:role/admin --role-session-name nomfa >/dev/null 2>&1 && fail "assumed without MFA"
code=$(il mfa code --serial "$serial")
arn=$(as "$ak" "$as_" "" sts assume-role --role-arn arn:aws:iam::$acct:role/admin --role-session-name withmfa \
	--serial-number "$serial" --token-code "$code" --query AssumedRoleUser.Arn --output text)
[ "$arn" = "arn:aws:sts::$acct:assumed-role/admin/withmfa" ] || fail "assume-role with MFA: $arn"
pass

# Listings never show a seed.
seedless=$(as_root iam list-virtual-mfa-devices --query 'VirtualMFADevices[0].Base32StringSeed' --output text)
[ "$seedless" = "None" ] || fail "list-virtual-mfa-devices shows the seed"
pass
echo "saml-mfa: $passed checks passed"
