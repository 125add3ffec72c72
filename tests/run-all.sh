#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# run-all.sh - every test suite, then one closing line for all of them:
#   unit       criterion: Maglev, argument and address parsing (build/test_unit)
#   prog       criterion: packets through BPF_PROG_TEST_RUN    (build/test_prog)
#   asan-unit  the unit tests built with ASan and UBSan  (build/asan/test_unit)
#   asan-prog  the packet tests built with ASan and UBSan (build/asan/test_prog)
#   fuzz       each fuzzer 5 s on its corpus               (tests/fuzz/run.sh)
#   pkg        docs fresh, man page, completion, make install (tests/pkg/run.sh)
#   pktfuzz    mutated frames through BPF_PROG_TEST_RUN, fixed seeds
#              (tests/pktfuzz/run.sh)
#   ns         namespace tests with real traffic             (tests/ns/run.sh)
# The sanitizer builds and the fuzzers are made here (make asan, make
# fuzz-build) when they are not up to date.
# Exits non-zero if any suite failed or did not run.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ((EUID != 0)); then
	echo "tests: must run as root (BPF, network namespaces)" >&2
	exit 1
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

passed=0 failed=0 skipped=0 status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# criterion SUITE BINARY...: run it (with --jobs 2) and add its Synthesis
# line to the totals; a `FAIL sanitizers:` line (tests/asan.sh) is one more
# failure.
criterion() {
	local name=$1 line t p f c
	shift
	echo "== $name"
	"$@" --jobs 2 2>&1 | tee "$log"
	if grep -aq '^FAIL sanitizers:' "$log"; then
		failed=$((failed + 1))
		status=1
	fi
	line=$(grep -a 'Synthesis:' "$log" | tail -1)
	if [[ $line =~ Tested:\ ([0-9]+).*Passing:\ ([0-9]+).*Failing:\ ([0-9]+).*Crashing:\ ([0-9]+) ]]; then
		t=${BASH_REMATCH[1]} p=${BASH_REMATCH[2]}
		f=${BASH_REMATCH[3]} c=${BASH_REMATCH[4]}
		passed=$((passed + p))
		failed=$((failed + f + c))
		skipped=$((skipped + t - p - f - c))
		((f + c == 0)) || status=1
	else
		echo "FAIL $name: the suite did not report"
		failed=$((failed + 1))
		status=1
	fi
}

criterion unit build/test_unit
criterion prog build/test_prog

echo "== make asan"
if make -s asan; then
	criterion asan-unit tests/asan.sh build/asan/test_unit
	criterion asan-prog tests/asan.sh build/asan/test_prog
else
	echo "FAIL asan: make asan failed"
	failed=$((failed + 1))
	status=1
fi

# lines SUITE SCRIPT: run a suite of PASS/FAIL/SKIP lines that ends with
# `SUITE: N passed, N failed, N skipped`, and add that to the totals.
lines() {
	local name=$1 script=$2 line
	echo "== $name"
	"$script" 2>&1 | tee "$log"
	[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
	line=$(grep -a "^$name: " "$log" | tail -1)
	if [[ $line =~ $name:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		skipped=$((skipped + BASH_REMATCH[3]))
	else
		echo "FAIL $name: the suite did not report"
		failed=$((failed + 1))
		status=1
	fi
}

# 5 s a fuzzer: ten of them, and the suite is to stay within 20 minutes
# on a 2-core CI machine (longer runs: make fuzz FUZZ_SECONDS=N).
FUZZ_SECONDS=${FUZZ_SECONDS:-5} lines fuzz tests/fuzz/run.sh
lines pkg tests/pkg/run.sh
lines pktfuzz tests/pktfuzz/run.sh
lines ns tests/ns/run.sh

echo "total: $passed passed, $failed failed, $skipped skipped"
exit "$status"
