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
n=$(grep -acE 'ERROR: (Address|Leak)Sanitizer|runtime error: ' "$log")
if ((n > 0)); then
	echo "FAIL sanitizers: $n report(s) (first: $(grep -a -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error: ' "$log" | cut -c1-200))"
	exit 1
fi
exit "$rc"
