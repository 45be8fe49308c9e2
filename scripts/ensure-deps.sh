#!/usr/bin/env bash
# Installs what the tests need when it is missing, so a fresh machine (or CI) passes
# `make test` with nothing installed by hand: Go module downloads, and the AWS CLI v2
# from Debian's awscli package for the end-to-end scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download
if [ ! -x /usr/bin/aws ]; then
	echo "installing Debian's awscli (AWS CLI v2) for the end-to-end tests"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	$sudo apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq awscli >/dev/null
fi
/usr/bin/aws --version
