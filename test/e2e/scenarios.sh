#!/usr/bin/env bash
# End-to-end: every field scenario in examples/scenarios runs to completion.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=0
for s in examples/scenarios/[0-9]*.sh; do
	echo "-- $s"
	bash "$s" || { echo "FAIL: $s" >&2; exit 1; }
	n=$((n + 1))
done
echo "$n passed, 0 failed"
