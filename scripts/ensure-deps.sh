#!/usr/bin/env bash
# Installs what the tests need when it is missing, so a fresh machine (or CI) passes
# `make test` with nothing installed by hand: Go module downloads, and the AWS CLI v2
# from Debian's awscli package for the end-to-end scripts (about 100 MB, a minute or
# two on a fresh machine; nothing when it is already there).
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download
if [ ! -x /usr/bin/aws ]; then
	echo "installing Debian's awscli (AWS CLI v2) for the end-to-end tests"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	# Another apt (an unattended upgrade, a second job) may hold dpkg's lock: wait for
	# it rather than fail at once, and retry a failed download.
	apt=($sudo apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
	for try in 1 2 3; do
		if "${apt[@]}" update -qq >/dev/null &&
			DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq awscli >/dev/null; then
			break
		fi
		[ "$try" = 3 ] && { echo "ensure-deps: could not install awscli (see apt's messages above)" >&2; exit 1; }
		echo "ensure-deps: apt failed (try $try of 3); retrying in 10 s" >&2
		sleep 10
	done
fi
/usr/bin/aws --version
