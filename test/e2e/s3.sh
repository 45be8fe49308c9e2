#!/usr/bin/env bash
# End-to-end: the S3 plane with the AWS CLI v2 against `iamlocal serve` — buckets,
# a small upload and a multipart one (the CLI's own chunking), ranged and parallel
# downloads, listings, a bucket in another account that is denied until its policy
# allows, and anonymous reads granted by a Principal "*" policy.
set -euo pipefail
cd "$(dirname "$0")/../.."
source test/e2e/lib.bash
work=$(mktemp -d)
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work/data"

# Buckets.
as_root s3api create-bucket --bucket e2e-bucket >/dev/null
err=$(as_root s3api create-bucket --bucket e2e-bucket 2>&1) && fail "bucket created twice"
grep -q "BucketAlreadyOwnedByYou" <<<"$err" || fail "second create: $err"
err=$(as_root s3api create-bucket --bucket Bad_Name 2>&1) && fail "invalid name accepted"
grep -q "InvalidBucketName" <<<"$err" || fail "invalid name: $err"
as_root s3api head-bucket --bucket e2e-bucket >/dev/null || fail "head-bucket"
pass

# A small file and a 20 MiB one: the CLI uploads the latter in 8 MiB parts.
printf 'hello from the e2e test\n' >"$work/small.txt"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$work/big.bin"
as_root s3 cp "$work/small.txt" s3://e2e-bucket/docs/small.txt >/dev/null
as_root s3 cp "$work/big.bin" s3://e2e-bucket/data/big.bin >/dev/null
etag=$(as_root s3api head-object --bucket e2e-bucket --key data/big.bin --query ETag --output text)
[[ $etag == *-3\" ]] || fail "multipart ETag: $etag"
etag=$(as_root s3api head-object --bucket e2e-bucket --key docs/small.txt --query ETag --output text)
[ "$etag" = "\"$(md5sum <"$work/small.txt" | cut -d' ' -f1)\"" ] || fail "small ETag: $etag"
pass

# Downloads: whole (the CLI fetches large objects in ranged parts) and a range.
as_root s3 cp s3://e2e-bucket/data/big.bin "$work/big.out" >/dev/null
cmp -s "$work/big.bin" "$work/big.out" || fail "the downloaded multipart object differs"
as_root s3 cp s3://e2e-bucket/docs/small.txt "$work/small.out" >/dev/null
cmp -s "$work/small.txt" "$work/small.out" || fail "the downloaded small object differs"
range=$(as_root s3api get-object --bucket e2e-bucket --key docs/small.txt --range bytes=6-9 "$work/range.out" --query ContentRange --output text)
[ "$range" = "bytes 6-9/24" ] || fail "Content-Range: $range"
[ "$(cat "$work/range.out")" = "from" ] || fail "range content: $(cat "$work/range.out")"
err=$(as_root s3api get-object --bucket e2e-bucket --key docs/small.txt --range bytes=100- "$work/x" 2>&1) && fail "range past the end"
grep -q "InvalidRange" <<<"$err" || fail "range past the end: $err"
pass

# Listings.
as_root s3 ls | grep -q " e2e-bucket$" || fail "s3 ls: no e2e-bucket"
top=$(as_root s3 ls s3://e2e-bucket/)
grep -q "PRE docs/" <<<"$top" && grep -q "PRE data/" <<<"$top" || fail "s3 ls with prefixes: $top"
all=$(as_root s3 ls --recursive s3://e2e-bucket/)
grep -q " 20971520 data/big.bin$" <<<"$all" && grep -q " 24 docs/small.txt$" <<<"$all" || fail "s3 ls --recursive: $all"
n=$(as_root s3api list-objects-v2 --bucket e2e-bucket --prefix docs/ --query 'length(Contents)' --output text)
[ "$n" = 1 ] || fail "list-objects-v2 --prefix: $n"
err=$(as_root s3api get-object --bucket e2e-bucket --key missing "$work/x" 2>&1) && fail "missing key"
grep -q "NoSuchKey" <<<"$err" || fail "missing key: $err"
pass

# Another account's bucket: a management-account user with s3:* on it is denied until
# the bucket policy agrees. The member account acts through OrganizationAccountAccessRole.
as_root organizations create-organization --feature-set ALL >/dev/null
req=$(as_root organizations create-account --account-name partner --email partner@e2e.example --query CreateAccountStatus.Id --output text)
for _ in $(seq 50); do
	state=$(as_root organizations describe-create-account-status --create-account-request-id "$req" --query 'CreateAccountStatus.[State,AccountId]' --output text)
	[ "${state%%	*}" = SUCCEEDED ] && break
	sleep 0.1
done
partner=${state##*	}
as_root iam create-user --user-name admin >/dev/null
as_root iam attach-user-policy --user-name admin --policy-arn arn:aws:iam::aws:policy/AdministratorAccess
read -r akey asecret < <(as_root iam create-access-key --user-name admin --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
read -r pk ps pt < <(as "$akey" "$asecret" "" sts assume-role --role-arn "arn:aws:iam::$partner:role/OrganizationAccountAccessRole" \
	--role-session-name setup --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
partner_cli() { as "$pk" "$ps" "$pt" "$@"; }
partner_cli s3api create-bucket --bucket partner-data >/dev/null
partner_cli s3 cp "$work/small.txt" s3://partner-data/shared/report.txt >/dev/null

as_root iam create-user --user-name reader >/dev/null
as_root iam put-user-policy --user-name reader --policy-name s3 --policy-document \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::partner-data","arn:aws:s3:::partner-data/*"]}]}'
read -r rkey rsecret < <(as_root iam create-access-key --user-name reader --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
reader() { as "$rkey" "$rsecret" "" "$@"; }
for _ in $(seq 20); do # a new access key, as on AWS, may take a moment
	reader sts get-caller-identity >/dev/null 2>&1 && break
	sleep 0.1
done
err=$(reader s3 cp s3://partner-data/shared/report.txt "$work/r.txt" 2>&1) && fail "cross-account read without a bucket policy"
grep -q "AccessDenied\|Forbidden" <<<"$err" || fail "cross-account denial: $err"
err=$(reader s3api get-object --bucket partner-data --key shared/report.txt "$work/r.txt" 2>&1) && fail "cross-account get-object without a bucket policy"
grep -q "AccessDenied" <<<"$err" || fail "cross-account get-object: $err"
grep -q "User: arn:aws:iam::111111111111:user/reader is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::partner-data/shared/report.txt" <<<"$err" ||
	fail "cross-account message: $err"
pass
partner_cli s3api put-bucket-policy --bucket partner-data --policy \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::partner-data/shared/*"}]}'
reader s3api get-object --bucket partner-data --key shared/report.txt "$work/r.txt" >/dev/null || fail "read allowed by the bucket policy"
cmp -s "$work/small.txt" "$work/r.txt" || fail "cross-account content"
err=$(reader s3 cp "$work/small.txt" s3://partner-data/shared/upload.txt 2>&1) && fail "write not granted by the bucket policy"
grep -q "AccessDenied" <<<"$err" || fail "cross-account write: $err"
pass

# Anonymous requests: denied, until a Principal "*" policy grants reads.
code=$(curl -s -o "$work/anon" -w '%{http_code}' "$ENDPOINT/e2e-bucket/docs/small.txt")
[ "$code" = 403 ] && grep -q "<Code>AccessDenied</Code>" "$work/anon" || fail "anonymous read: $code $(cat "$work/anon")"
as_root s3api put-bucket-policy --bucket e2e-bucket --policy \
	'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::e2e-bucket/docs/*"}]}'
[ "$(curl -sf "$ENDPOINT/e2e-bucket/docs/small.txt")" = "hello from the e2e test" ] || fail "anonymous read with a public policy"
code=$(curl -s -o /dev/null -w '%{http_code}' "$ENDPOINT/e2e-bucket/data/big.bin")
[ "$code" = 403 ] || fail "anonymous read outside the policy: $code"
AWS_MAX_ATTEMPTS=1 "$AWS" --endpoint-url "$ENDPOINT" --region us-east-1 --no-sign-request s3 cp s3://e2e-bucket/docs/small.txt "$work/anon.txt" >/dev/null ||
	fail "aws --no-sign-request"
cmp -s "$work/small.txt" "$work/anon.txt" || fail "anonymous content"
pass

# boto3's generate_presigned_url signs S3 with Signature Version 2 against a custom
# endpoint: the URL fetches the object; tampered, it is SignatureDoesNotMatch.
if python3 -c 'import boto3' 2>/dev/null; then
	url=$(python3 - "$ENDPOINT" <<'PY'
import sys, boto3
from botocore.config import Config
c = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
	aws_access_key_id=__import__("os").environ["IAMLOCAL_ROOT_ACCESS_KEY_ID"],
	aws_secret_access_key=__import__("os").environ["IAMLOCAL_ROOT_SECRET_ACCESS_KEY"],
	config=Config(s3={"addressing_style": "path"}))
print(c.generate_presigned_url("get_object", Params={"Bucket": "e2e-bucket", "Key": "data/big.bin"}, ExpiresIn=300))
PY
)
	[[ $url == *AWSAccessKeyId=* ]] || fail "boto3 did not presign with SigV2: $url"
	curl -sf "$url" | cmp -s - "$work/big.bin" || fail "boto3 presigned URL: $(curl -s "$url" | head -c 300)"
	bad=$(curl -s "${url/Expires=/Expires=1}")
	grep -q "<Code>SignatureDoesNotMatch</Code>" <<<"$bad" || fail "tampered presigned URL: $bad"
	pass
fi

# Objects survive a restart; then remove everything (DeleteObjects, DeleteBucket).
stop_server
start_server "$work/data"
as_root s3 cp s3://e2e-bucket/data/big.bin - | cmp -s - "$work/big.bin" || fail "multipart object after restart"
as_root s3 rm --recursive s3://e2e-bucket/ >/dev/null
as_root s3 rb s3://e2e-bucket >/dev/null
err=$(as_root s3api head-bucket --bucket e2e-bucket 2>&1) && fail "bucket still there"
grep -q "404" <<<"$err" || fail "head-bucket after rb: $err"
left=$(find "$work/data/s3/blobs" -type f | wc -l)
[ "$left" = 1 ] || fail "$left object files left; want only the partner's object"
pass

echo "$passed passed, 0 failed"
