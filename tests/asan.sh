#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tests/asan.sh - run a criterion binary built with AddressSanitizer and
# UBSan (build/asan/, `make asan`) and fail on any sanitizer report.
#
#   tests/asan.sh build/asan/test_unit [CRITERION ARGS...]
#
# Criterion runs each test in a worker process and counts a test that
# passed as passing even when LeakSanitizer reports a leak as the worker
# exits; an invalid access or undefined behaviour aborts the worker (the
# build does not recover), which criterion counts as a crash. So besides
# criterion's own verdict, any report in the output is a failure, said in
# one last line: `FAIL sanitizers: N reports (first: ...)`.
set -uo pipefail

bin=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
"$bin" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# Leaks allocated by criterion itself (every frame but the allocator's in
# libcriterion.so: 48 bytes, now and then, as a worker exits) are not the
# code under test's; a suppression cannot tell them apart (it matches any
# frame, and criterion's runner is under every test), so they are read
# off the report: each leak's frames, the first (the allocator) aside.
ours=$(awk '/^(Direct|Indirect) leak of/ { if (rec) n += mine; rec = 1; mine = 0; next }
	rec && /^ *#[1-9][0-9]* / { if ($0 !~ /libcriterion\.so/) mine = 1; next }
	rec && /^$/ { n += mine; rec = 0 }
	END { if (rec) n += mine; print n + 0 }' "$log")
n=$(grep -acE 'ERROR: AddressSanitizer|runtime error: ' "$log")
if grep -aq 'ERROR: LeakSanitizer' "$log"; then
	n=$((n + ours))
fi
if ((n > 0)); then
	echo "FAIL sanitizers: $n report(s) (first: $(grep -a -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error: |leak of' "$log" | cut -c1-200))"
	exit 1
fi
exit "$rc"
