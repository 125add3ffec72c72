#!/usr/bin/env bash
# bench-profile.sh - where xdplb spends its time in a bench case: samples
# every CPU with perf while the case runs, then puts the samples that fell
# in xdplb's JIT image back on its source lines (xdplb-bench lines).
#
#   scripts/bench-profile.sh prog MATCH   program-only cases matching MATCH
#                                         (xdplb-bench prog; e.g. SYN, new)
#   scripts/bench-profile.sh live         the live part of bench-run.sh,
#                                         sampled from start to end (a minute
#                                         or two: control and memory come
#                                         with it)
#
# Prints the source lines that hold the most of xdplb's samples. The event
# is cpu-clock, a timer: it needs no hardware counters, which virtual
# machines often lack. A timer sample lands on the instruction that is next
# to retire, so a load that misses the caches shows as the load itself, or
# as the first instruction that needs its value, and a full store buffer as
# the next store. Give PROFILE_EVENT=cycles where the hardware counts.
#
# Environment: PROFILE_SECS [6] (how long perf samples a prog case),
# PROFILE_TOP [25] (lines printed), BUILD [build].
set -euo pipefail

BUILD=${BUILD:-build}
BENCH=$BUILD/xdplb-bench
TOP=${PROFILE_TOP:-25}
EVENT=${PROFILE_EVENT:-cpu-clock}

usage() {
	echo "usage: bench-profile.sh prog MATCH | live" >&2
	exit 2
}

SECS=${PROFILE_SECS:-6}
case "${1:-}" in
prog) [[ $# -ge 2 ]] || usage; FREQ=10000; MATCH=${*:2} ;;
live) [[ $# -eq 1 ]] || usage; FREQ=2000 ;;	# a minute or two of samples
*) usage ;;
esac
[[ $SECS =~ ^[1-9][0-9]*$ ]] || {
	echo "bench-profile: PROFILE_SECS '$SECS' is not a number of seconds" >&2
	exit 2
}
[[ $EUID -eq 0 ]] || { echo "bench-profile: must run as root" >&2; exit 1; }
command -v perf >/dev/null || {
	echo "bench-profile: perf not found (make bench-profile installs linux-perf)" >&2
	exit 1
}
[[ -x $BENCH ]] || { echo "bench-profile: no $BENCH (make bench-profile builds it)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/xdplb-profile.XXXXXX)
CASE_PID=
cleanup() {
	[[ -n $CASE_PID ]] && kill "$CASE_PID" 2>/dev/null && wait "$CASE_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# A prog case runs on well past the sampling (more rounds than perf
# needs) and is stopped after it; the live part runs to its end, which
# tears its namespaces down.
if [[ $1 == prog ]]; then
	"$BENCH" prog 25 "$MATCH" >"$WORK/case.out" 2>&1 &
	CASE_PID=$!
	sleep 2
	SAMPLE=(sleep "$SECS")
else
	BENCH_PARTS=live scripts/bench-run.sh >"$WORK/case.out" 2>&1 &
	CASE_PID=$!
	SAMPLE=(tail --pid="$CASE_PID" -f /dev/null)
fi

# The bench loads programs as it goes: note every xdplb image seen while
# perf samples. Line records of one program are identical on every read.
touch "$WORK/sampling"
(
	while [[ -e $WORK/sampling ]]; do
		"$BENCH" lines xdplb >>"$WORK/lines.raw" 2>/dev/null || true
		sleep 0.2
	done
) &
LINES_PID=$!
perf record -q -e "$EVENT" -F "$FREQ" -a -o "$WORK/perf.data" -- "${SAMPLE[@]}" \
	>/dev/null 2>"$WORK/perf.err" || {
	echo "bench-profile: perf record failed: $(head -1 "$WORK/perf.err")" >&2
	exit 1
}
rm -f "$WORK/sampling"
wait "$LINES_PID"
sort -u "$WORK/lines.raw" >"$WORK/lines"
[[ -s $WORK/lines ]] || {
	echo "bench-profile: no xdplb program was loaded while perf sampled" >&2
	exit 1
}
perf script -i "$WORK/perf.data" -F ip 2>/dev/null >"$WORK/ips"

"${PYTHON:-python3}" - "$WORK/lines" "$WORK/ips" "$TOP" "$*" <<'EOF'
import bisect, collections, sys

lines_file, ips_file, top, what = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# Each image: its records by address, with an <end> record where each of
# its functions' code ends. A sample belongs to the record at or below it,
# unless that is an <end> (or it is past the image's last end).
images = collections.defaultdict(list)
for l in open(lines_file):
    pid, tag, addr, where, src = (l.rstrip('\n').split('\t') + [''])[:5]
    images[pid].append((int(addr, 16), where, src))
spans = []
for pid, recs in images.items():
    recs.sort()
    spans.append((recs[0][0], recs[-1][0], [r[0] for r in recs], recs))
spans.sort()
starts = [s[0] for s in spans]
total = 0
inside = collections.Counter()
for l in open(ips_file):
    l = l.strip()
    if not l:
        continue
    total += 1
    ip = int(l, 16)
    k = bisect.bisect_right(starts, ip) - 1
    if k < 0 or ip >= spans[k][1]:
        continue
    addrs, recs = spans[k][2], spans[k][3]
    i = bisect.bisect_right(addrs, ip) - 1
    if recs[i][1] == '<end>':
        continue
    inside[(recs[i][1], recs[i][2])] += 1
n = sum(inside.values())
print(f"xdplb profile ({what}): {n} of {total} samples in xdplb, "
      f"{len(images)} program image(s)")
if not n:
    sys.exit(0)
print(f"{'share':>6}  {'source line':<18} code")
for (where, src), c in inside.most_common(top):
    print(f"{100.0 * c / n:5.1f}%  {where:<18} {src[:70]}")
EOF
