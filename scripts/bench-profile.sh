#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bench-profile.sh - where xdplb spends its time in a bench case: samples
# every CPU with perf while the case runs, then puts the samples that fell
# in xdplb's JIT code back on its source lines (xdplb-bench lines).
#
#   scripts/bench-profile.sh prog MATCH   program-only cases whose name
#                                         contains MATCH (xdplb-bench prog),
#                                         sampled for PROFILE_SECS
#   scripts/bench-profile.sh live         the live part of bench-run.sh
#                                         (with control plane and memory,
#                                         a minute or two), start to end;
#                                         its rows and JSON go to a temporary
#                                         directory, not build/
#
# Prints the source lines that hold the most of xdplb's samples. The event
# is cpu-clock, a timer: it needs no hardware counters, which virtual
# machines often lack. A timer sample lands on the instruction that is next
# to retire, so a load that misses the caches shows up on the load itself
# or on the first instruction that needs its value.
#
# Environment: PROFILE_SECS [6] (how long a prog case is sampled),
# PROFILE_DELAY [2] (seconds before sampling starts: give cases that seed
# large tables, such as "1000 services", a minute), PROFILE_TOP [25] (lines
# printed), PROFILE_EVENT [cpu-clock] (cycles where the hardware counts),
# PYTHON [python3].
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
BENCH=$REPO/build/xdplb-bench
EVENT=${PROFILE_EVENT:-cpu-clock}

usage() {
	echo "usage: bench-profile.sh prog MATCH | live" >&2
	exit 2
}

# number NAME VALUE: VALUE is a positive whole number, or exit 2.
number() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || {
		echo "bench-profile: $1 '$2' is not a positive whole number" >&2
		exit 2
	}
}

case "${1:-}" in
prog) [[ $# -eq 2 && -n $2 ]] || usage; FREQ=10000 ;;
live) [[ $# -eq 1 ]] || usage; FREQ=2000 ;;	# a minute or two of samples
*) usage ;;
esac
SECS=${PROFILE_SECS:-6}
DELAY=${PROFILE_DELAY:-2}
TOP=${PROFILE_TOP:-25}
number PROFILE_SECS "$SECS"
number PROFILE_DELAY "$DELAY"
number PROFILE_TOP "$TOP"
[[ $EUID -eq 0 ]] || { echo "bench-profile: must run as root" >&2; exit 1; }
command -v perf >/dev/null || {
	echo "bench-profile: perf not found (make bench-profile installs linux-perf)" >&2
	exit 1
}
[[ -x $BENCH ]] || {
	echo "bench-profile: no $BENCH (make bench-profile builds it)" >&2
	exit 1
}

WORK=$(mktemp -d /tmp/xdplb-profile.XXXXXX)
CASE_PID=
LINES_PID=
PERF_PID=
# The case runs in a session of its own, so that one signal reaches all of
# it (bench-run.sh then tears its namespaces down from its own trap).
cleanup() {
	rm -f "$WORK/sampling"
	[[ -n $PERF_PID ]] && kill -INT "$PERF_PID" 2>/dev/null
	[[ -n $LINES_PID ]] && kill "$LINES_PID" 2>/dev/null
	if [[ -n $CASE_PID ]] && kill -TERM -- "-$CASE_PID" 2>/dev/null; then
		wait "$CASE_PID" 2>/dev/null || :
	fi
	wait 2>/dev/null || :
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The case's output, when it could not give anything to profile.
case_failed() {
	echo "bench-profile: $1; the case said:" >&2
	tail -5 "$WORK/case.out" >&2
	exit 1
}

# A prog case runs for more rounds than perf needs and is stopped after
# the sampling; the live part runs to its end.
if [[ $1 == prog ]]; then
	setsid "$BENCH" prog 16 "$2" >"$WORK/case.out" 2>&1 &
	CASE_PID=$!
	sleep "$DELAY"
	SAMPLE=(sleep "$SECS")
else
	BENCH_PARTS=live BENCH_ROWS=$WORK/rows.tsv BENCH_JSON=$WORK/bench.json \
		setsid "$REPO/scripts/bench-run.sh" >"$WORK/case.out" 2>&1 &
	CASE_PID=$!
	SAMPLE=(tail --pid="$CASE_PID" -f /dev/null)
fi
kill -0 "$CASE_PID" 2>/dev/null || case_failed "the case ended before sampling"

# The bench loads programs as it goes: read the line tables of the xdplb
# programs loaded while perf samples, and once more at its end.
: >"$WORK/lines.raw"
touch "$WORK/sampling"
(
	while [[ -e $WORK/sampling ]]; do
		"$BENCH" lines xdplb >>"$WORK/lines.raw" || true
		sleep 0.5
	done
) &
LINES_PID=$!
# In the background, so that a signal is handled at once, not after perf.
perf record -q -e "$EVENT" -F "$FREQ" -a -o "$WORK/perf.data" -- "${SAMPLE[@]}" \
	>/dev/null 2>"$WORK/perf.err" &
PERF_PID=$!
wait "$PERF_PID" || {
	echo "bench-profile: perf record failed: $(head -1 "$WORK/perf.err")" >&2
	exit 1
}
PERF_PID=
rm -f "$WORK/sampling"
wait "$LINES_PID" || :
LINES_PID=
"$BENCH" lines xdplb >>"$WORK/lines.raw" || true
sort -u "$WORK/lines.raw" >"$WORK/lines"
[[ -s $WORK/lines ]] || case_failed "no xdplb program was loaded while perf sampled"
perf script -i "$WORK/perf.data" -F ip 2>/dev/null >"$WORK/ips"

"${PYTHON:-python3}" - "$WORK/lines" "$WORK/ips" "$TOP" "$*" <<'EOF'
import bisect, collections, sys

lines_file, ips_file, top, what = sys.argv[1:5]
# Every record of every image (xdplb-bench lines: id, tag, address, index,
# file:line, source), in one list by address: functions loaded at the same
# time do not overlap, though two programs' functions may interleave. An
# <end> record marks where a function's code ends; records at one address
# keep the kernel's order, and a sample goes to the last of them at or
# below it.
recs, images = [], set()
for l in open(lines_file):
    f = l.rstrip('\n').split('\t', 5)
    if len(f) < 5:
        continue
    images.add(f[0])
    recs.append((int(f[2], 16), int(f[0]), int(f[3]), f[4],
                 f[5] if len(f) > 5 else ''))
recs.sort()
addrs = [r[0] for r in recs]
total = 0
inside = collections.Counter()
for l in open(ips_file):
    l = l.strip()
    if not l:
        continue
    total += 1
    i = bisect.bisect_right(addrs, int(l, 16)) - 1
    if i < 0 or recs[i][3] == '<end>':
        continue
    inside[(recs[i][3], recs[i][4])] += 1
n = sum(inside.values())
print(f"xdplb profile ({what}): {n} of {total} samples (all CPUs) in xdplb, "
      f"{len(images)} program(s) named xdplb")
if not n:
    sys.exit(0)
print(f"{'share':>6}  {'source line':<18} code")
for (where, src), c in inside.most_common(int(top)):
    print(f"{100.0 * c / n:5.1f}%  {where:<18} {src[:70]}")
EOF
