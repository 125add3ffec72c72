#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tests/fuzz/run.sh - run each fuzzer (build/fuzz/TARGET, from
# tests/fuzz/fuzz_TARGET.c) for FUZZ_SECONDS on its seed corpus
# (tests/fuzz/corpus/TARGET/), with tests/fuzz/TARGET.dict as its
# dictionary where there is one (the words of the input's grammar).
#
#   tests/fuzz/run.sh [TARGET...]        (`make fuzz FUZZ_SECONDS=N`)
#
# Output, on stdout: one line per target, `PASS name: N runs, corpus N
# inputs` or `FAIL name: what the fuzzer found`, then `fuzz: N passed, N
# failed, N skipped`; non-zero exit iff something failed. What a fuzzer
# adds to its corpus goes to a scratch directory, never into the
# repository; the input of a finding is kept under build/fuzz/findings/
# (replay it: build/fuzz/TARGET FILE), to be added to the seed corpus once
# its cause is fixed.
#
# Environment: FUZZ_SECONDS [10] per target; XDPLB_TEST_NO_BUILD [0] (1: use
# build/fuzz/ as it is, else `make fuzz-build` first).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$REPO" || exit 1
: "${FUZZ_SECONDS:=10}"
: "${XDPLB_TEST_NO_BUILD:=0}"

targets=("$@")
if ((${#targets[@]} == 0)); then
	for f in tests/fuzz/fuzz_*.c; do
		f=${f##*/fuzz_}
		targets+=("${f%.c}")
	done
fi

passed=0 failed=0 skipped=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
findings=build/fuzz/findings

if [[ $XDPLB_TEST_NO_BUILD != 1 ]] &&
	! out=$(make -s fuzz-build 2>&1); then
	for t in "${targets[@]}"; do
		echo "FAIL $t: make fuzz-build failed: $(tail -n 1 <<<"$out")"
	done
	echo "fuzz: 0 passed, ${#targets[@]} failed, 0 skipped"
	exit 1
fi

for t in "${targets[@]}"; do
	bin=build/fuzz/$t
	seeds=tests/fuzz/corpus/$t
	if [[ ! -x $bin ]]; then
		echo "FAIL $t: $bin is not built (make fuzz-build)"
		failed=$((failed + 1))
		continue
	fi
	if [[ ! -d $seeds ]]; then
		echo "FAIL $t: no seed corpus $seeds"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$scratch/$t"
	log=$scratch/$t.log
	dict=()
	[[ -f tests/fuzz/$t.dict ]] && dict=(-dict="tests/fuzz/$t.dict")
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$scratch/$t-" "${dict[@]}" \
		"$scratch/$t" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(grep -a '^stat::number_of_executed_units:' "$log" | awk '{print $2}')
	size=$(find "$scratch/$t" "$seeds" -type f | wc -l)
	if ((rc == 0)); then
		echo "PASS $t: ${runs:-?} runs, corpus $size inputs"
		passed=$((passed + 1))
		continue
	fi
	failed=$((failed + 1))
	mkdir -p "$findings"
	art=
	for a in "$scratch/$t"-*; do
		[[ -e $a ]] || continue
		art=$findings/${a##*/}
		cp "$a" "$art"
	done
	why=$(grep -a -m1 -E 'ERROR: |runtime error: |FUZZ|: .*: .*' "$log" |
		grep -av '^INFO' | head -n 1)
	echo "FAIL $t: ${why:-exit $rc}${art:+ (input: $art)}"
	sed 's/^/    /' "$log" | grep -a -v '^    #[0-9]' | tail -n 30 >&2
done

echo "fuzz: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
