#!/usr/bin/env bash
# Installs what the tests need when it is missing, so a fresh machine (or CI) passes
# `make test` with nothing installed by hand: Go module downloads and Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download
# What the tests use and Debian provides: the AWS CLI v2 (/usr/bin/aws, about 100 MB,
# a minute or two on a fresh machine), curl and jq in the scripts, python3 with
# boto3/botocore for the client checks, ssh-keygen and openssl for the keys and
# certificates the IAM script uploads. Nothing is installed when all are there.
missing=()
[ -x /usr/bin/aws ] || missing+=(awscli)
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import boto3' 2>/dev/null || missing+=(python3-boto3)
command -v ssh-keygen >/dev/null || missing+=(openssh-client) # test/e2e/iam-account.sh
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing from Debian for the tests: ${missing[*]}"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	# Another apt (an unattended upgrade, a second job) may hold dpkg's lock: wait for
	# it rather than fail at once, and retry a failed download.
	apt=($sudo apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
	for try in 1 2 3; do
		if "${apt[@]}" update -qq >/dev/null &&
			DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${missing[@]}" >/dev/null; then
			break
		fi
		[ "$try" = 3 ] && { echo "ensure-deps: could not install ${missing[*]} (see apt's messages above)" >&2; exit 1; }
		echo "ensure-deps: apt failed (try $try of 3); retrying in 10 s" >&2
		sleep 10
	done
fi
/usr/bin/aws --version
