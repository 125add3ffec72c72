#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tests/pktfuzz/run.sh - the packet fuzzer (build/pktfuzz) as a suite: a few
# fixed seeds, a fixed number of frames each, so CI runs the same frames every
# time (`make pktfuzz` runs a random seed, as many frames as asked).
#
#   tests/pktfuzz/run.sh      (as root, from anywhere)
#
# Output: `PASS seed-S: ...` or `FAIL seed-S: ...` per seed, then
# `pktfuzz: N passed, N failed, N skipped`. Environment: PKTFUZZ_FRAMES
# [200000] frames per seed, XDPLB_TEST_NO_BUILD [0] (1: use build/pktfuzz as
# it is).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
: "${PKTFUZZ_FRAMES:=200000}" "${XDPLB_TEST_NO_BUILD:=0}"
SEEDS=(1 15 4242)
passed=0 failed=0 skipped=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

summary() { echo "pktfuzz: $passed passed, $failed failed, $skipped skipped"; }

if [[ $XDPLB_TEST_NO_BUILD != 1 ]] && ! make build/pktfuzz >"$out" 2>&1; then
	echo "FAIL build: $(tail -n 1 "$out")"
	failed=1
	summary
	exit 1
fi
for s in "${SEEDS[@]}"; do
	if ((EUID != 0)); then
		echo "SKIP seed-$s: needs root for BPF_PROG_TEST_RUN"
		skipped=$((skipped + 1))
		continue
	fi
	if build/pktfuzz -n "$PKTFUZZ_FRAMES" -s "$s" >"$out" 2>&1; then
		echo "PASS seed-$s: $(tail -n 1 "$out" | sed 's/^pktfuzz: //')"
		passed=$((passed + 1))
	else
		echo "FAIL seed-$s: $(grep -m 1 '^FAIL' "$out" || tail -n 1 "$out")"
		sed 's/^/    /' "$out" | head -n 40 >&2
		failed=$((failed + 1))
	fi
done
summary
((failed == 0))
