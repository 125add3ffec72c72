#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# soak.sh - xdplb under everything at once, for minutes (as root):
#
#   make soak SOAK_MINUTES=N      (or scripts/soak.sh, after make)
#
# The namespace lab (4 reals) with an instance on the LB, the daemon (health
# checks of VIP4:80's reals, its metrics on --listen) and the exporter, both
# scraped every 2 s. Traffic to VIP4:80 all along: paced downloads (2 MB at
# 100 KB/s each, 12 at a time, every byte checked) and new connections
# (bursts of 40 HTTP requests, one connection each, every second). Meanwhile,
# one event every 1-4 s, at random:
#   - a weight of VIP4:80 changed, a real drained (weight 0), a drained real
#     removed once its downloads are over, a removed one added back: written
#     to the daemon's file, which is reloaded (SIGHUP); or a reload with
#     nothing changed;
#   - a health flap: a real's check made to fail for 3-8 s (a blackhole
#     route to the LB on the real: the check gets no answer, clients still
#     do), so the daemon drains it, then brings it back;
#   - VIP4:80's Maglev table resized by hand (set-vip --table-size), and a
#     weight of one of 60 more services changed by hand (set-real): each
#     until the next reload puts the file's back;
# and `xdplb verify` after every event. At the end, the RSS of the daemon
# and the exporter over time, as a table, and the verdict: downloads and new
# connections failed (target 0), verify failures (target 0), scrapes
# failed (target 0), and how the RSS grew after the first minute (target:
# flat). Exits 1 when a target is missed.
#
# Environment: SOAK_MINUTES [15], XDPLB_TEST_LAB [xsoak] (the lab's name,
# also its pin dir /sys/fs/bpf/NAME-soak), SOAK_SEED [random],
# SOAK_SAMPLE_SECS [30] (RSS samples), SOAK_MIX [weight=25 drain=10
# reload=10 flap=15 resize=20 setreal=20] (the kinds of event and their
# weights; one kind alone, to find which one a failure follows), XDPLB
# [build/xdplb] (the binary).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
: "${SOAK_MINUTES:=15}"
: "${XDPLB_TEST_LAB:=xsoak}"
: "${SOAK_SEED:=$RANDOM}"
: "${SOAK_SAMPLE_SECS:=30}"
LAB=$XDPLB_TEST_LAB
NREALS=4
export LAB NREALS
# shellcheck source=SCRIPTDIR/lab-lib.sh
source "$REPO/scripts/lab-lib.sh"

: "${XDPLB:=$REPO/build/xdplb}"
PIN=/sys/fs/bpf/$LAB-soak
LB_NS=/var/run/netns/$LAB-lb
DL_BYTES=2000000 DL_RATE=100000 DL_SECS=20 # one download: 20 s
EXTRA=60                                   # services besides VIP4:80
RANDOM=$SOAK_SEED

die() {
	echo "soak: $*" >&2
	exit 1
}
say() { printf 'soak: %s\n' "$*"; }

((EUID == 0)) || die "must run as root (namespaces, XDP, bpffs)"
[[ $SOAK_MINUTES =~ ^[1-9][0-9]*$ ]] || die "SOAK_MINUTES must be a number of minutes, got '$SOAK_MINUTES'"
[[ -x $XDPLB ]] || die "$XDPLB not built (make)"
RUN=$(mktemp -d "/tmp/$LAB-soak.XXXXXX") || die "mktemp failed"
STOP=$RUN/stop
PIDS=()

X() { nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" "$@"; }

# shellcheck disable=SC2317 # run from the trap
cleanup() {
	local p
	trap '' INT TERM
	touch "$STOP"
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[[ -e $PIN/config ]] && X detach eth0 >/dev/null 2>&1
	rm -rf "$PIN"
	lab_down >/dev/null 2>&1
	echo "soak: logs and samples in $RUN" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The lab's traffic helper (tests/ns/run.sh holds it; stdlib Python).
sed -n "/<<'PYEOF'\$/,/^PYEOF\$/{/PYEOF/!p}" "$REPO/tests/ns/run.sh" >"$RUN/nsutil.py"
grep -q '^def cmd_fetch' "$RUN/nsutil.py" || die "cannot find nsutil.py in tests/ns/run.sh"
nsutil() { /usr/bin/python3 "$RUN/nsutil.py" "$@"; }

say "lab $LAB, $SOAK_MINUTES min, seed $SOAK_SEED, run dir $RUN"
lab_down >/dev/null 2>&1
rm -rf "$PIN"
lab_up >"$RUN/lab.log" 2>&1 || die "lab_up failed: $(tail -n 2 "$RUN/lab.log")"
X attach eth0 --vip "$VIP4:80" >"$RUN/attach.log" 2>&1 || die "attach: $(cat "$RUN/attach.log")"

# ---------------------------------------------------------------- the file

declare -A W        # VIP4:80's reals in the file: host -> weight
declare -A DRAINED  # host -> SECONDS when its weight went to 0
FLAP='' FLAP_END=0  # the real whose check fails now, and until when
for h in r1 r2 r3 r4; do W[$h]=$((1 + RANDOM % 4)); done
CONF=$RUN/xdplb.conf

# The extra services: fixed in the file; set-real changes them by hand.
EXTRA_LINES=$RUN/extra.conf
for ((i = 0; i < EXTRA; i++)); do
	echo "add-vip $VIP4:$((1000 + i)) --table-size $((i % 2 ? 1009 : 4093))"
	for h in r1 r2 r3; do
		echo "add-real --vip $VIP4:$((1000 + i)) $(lab_ip4 "$h") --weight $(((i + ${h#r}) % 4 + 1))"
	done
done >"$EXTRA_LINES"

write_conf() {
	local h
	{
		echo "add-vip $VIP4:80 --check http:/health --interval 0.5 --timeout 0.4 --fall 2 --rise 2"
		for h in "${!W[@]}"; do echo "add-real --vip $VIP4:80 $(lab_ip4 "$h") --weight ${W[$h]}"; done
		cat "$EXTRA_LINES"
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
}
write_conf

# ---------------------------------------------------------------- processes

nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" daemon --config "$CONF" \
	--listen 127.0.0.1:9102 </dev/null 2>"$RUN/daemon.log" &
DAEMON=$!
PIDS+=("$DAEMON")
nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" exporter --listen 127.0.0.1:9101 \
	</dev/null >"$RUN/exporter.log" 2>&1 &
EXPORTER=$!
PIDS+=("$EXPORTER")
for ((i = 0; i < 100; i++)); do
	grep -q "running on" "$RUN/daemon.log" && break
	kill -0 "$DAEMON" 2>/dev/null || die "the daemon exited: $(tail -n 3 "$RUN/daemon.log")"
	sleep 0.1
done
grep -q "running on" "$RUN/daemon.log" || die "the daemon did not start: $(tail -n 3 "$RUN/daemon.log")"
# Every real up (its first check passed) before the traffic starts.
for ((i = 0; i < 100; i++)); do
	[[ $(X -j list | nsutil get "sum(r['health'] == 'up' for r in svc(d, '$VIP4:80/tcp')['reals'])") == 4 ]] && break
	sleep 0.1
done

X -j stats >"$RUN/stats0.json"

# Downloads: 3 loops of 4 at a time, each batch's result a line of JSON.
for ((i = 0; i < 3; i++)); do
	(
		while [[ ! -e $STOP ]]; do
			lab_exec client /usr/bin/python3 "$RUN/nsutil.py" fetch 4 "$VIP4" 80 \
				"$DL_BYTES" "$DL_RATE" "$RUN/started" >>"$RUN/fetch.jsonl" 2>>"$RUN/fetch.err"
		done
	) &
	PIDS+=("$!")
done
# New connections: 40 a second, one request each.
(
	while [[ ! -e $STOP ]]; do
		lab_exec client /usr/bin/python3 "$RUN/nsutil.py" http 40 "$VIP4" >>"$RUN/http.jsonl" 2>>"$RUN/http.err"
		sleep 1
	done
) &
PIDS+=("$!")
# Scrapes of the exporter and the daemon's metrics, every 2 s.
(
	while [[ ! -e $STOP ]]; do
		for port in 9101 9102; do
			if nsenter --net="$LB_NS" -- curl -sf -m 2 -o /dev/null "http://127.0.0.1:$port/metrics"; then
				echo "ok $port"
			else
				echo "failed $port"
			fi
		done
		sleep 2
	done >>"$RUN/scrapes"
) &
PIDS+=("$!")

# ---------------------------------------------------------------- events

declare -A EV # event name -> count
VERIFY_FAILED=0
# SOAK_MIX: each kind of event and its weight.
declare -A MIX
MIX_TOTAL=0
for kv in ${SOAK_MIX:-weight=25 drain=10 reload=10 flap=15 resize=20 setreal=20}; do
	[[ $kv =~ ^(weight|drain|reload|flap|resize|setreal)=([0-9]+)$ ]] ||
		die "SOAK_MIX: '$kv' is not KIND=WEIGHT (weight, drain, reload, flap, resize, setreal)"
	MIX[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
	MIX_TOTAL=$((MIX_TOTAL + BASH_REMATCH[2]))
done
((MIX_TOTAL > 0)) || die "SOAK_MIX: no event has a weight"

# count EVENT DETAIL: one more EVENT, in the log with the time.
count() {
	EV[$1]=$((${EV[$1]:-0} + 1))
	echo "$(date +%T.%N | cut -c1-12) $1: $2" >>"$RUN/events"
}

reload() {
	write_conf
	kill -HUP "$DAEMON"
	count "$1" "$2"
}

# serving: the reals of VIP4:80 with weight > 0, not flapping.
serving() {
	local h n=0
	for h in "${!W[@]}"; do ((W[$h] > 0)) && [[ $h != "$FLAP" ]] && n=$((n + 1)); done
	echo "$n"
}

flap_end() {
	lab_exec "$FLAP" ip route del blackhole "$(lab_ip4 lb)/32" 2>/dev/null
	FLAP=
}

# One event, drawn from SOAK_MIX; logged with its time in $RUN/events.
event() {
	local r=$((RANDOM % MIX_TOTAL)) kind w h hs p out
	for kind in "${!MIX[@]}"; do
		w=${MIX[$kind]}
		((r < w)) && break
		r=$((r - w))
	done
	hs=("${!W[@]}")
	h=${hs[RANDOM % ${#hs[@]}]}
	case $kind in
	weight)
		((W[$h] > 0)) || return 0
		W[$h]=$((1 + RANDOM % 5))
		reload "weight changed (reload)" "$h ${W[$h]}"
		;;
	drain) # drain, remove once drained long enough, or add back
		for p in r1 r2 r3 r4; do
			if [[ -z ${W[$p]:-} ]]; then
				W[$p]=$((1 + RANDOM % 5))
				reload "real added (reload)" "$p ${W[$p]}"
				return 0
			fi
			if [[ -n ${DRAINED[$p]:-} ]] && ((SECONDS - DRAINED[$p] > DL_SECS + 10)); then
				unset "W[$p]" "DRAINED[$p]"
				reload "drained real removed (reload)" "$p"
				return 0
			fi
		done
		if (($(serving) >= 3)) && ((W[$h] > 0)) && [[ $h != "$FLAP" ]]; then
			W[$h]=0
			DRAINED[$h]=$SECONDS
			reload "real drained (reload)" "$h"
		fi
		;;
	reload)
		reload "reload, nothing changed" ""
		;;
	flap)
		[[ -z $FLAP ]] && ((W[$h] > 0)) && (($(serving) >= 3)) || return 0
		FLAP=$h
		FLAP_END=$((SECONDS + 3 + RANDOM % 6))
		lab_exec "$h" ip route add blackhole "$(lab_ip4 lb)/32" || die "blackhole in $h"
		count "health flap" "$h until +$((FLAP_END - SECONDS))s"
		;;
	resize)
		hs=(7919 16411 32771 65537 131071)
		p=${hs[RANDOM % 5]}
		out=$(X set-vip "$VIP4:80" --table-size "$p" 2>&1) || say "set-vip: $out"
		count "table resized (set-vip)" "$p"
		;;
	setreal)
		p="--vip $VIP4:$((1000 + RANDOM % EXTRA)) $(lab_ip4 "r$((1 + RANDOM % 3))") --weight $((RANDOM % 6))"
		# shellcheck disable=SC2086 # the words of p
		out=$(X set-real $p 2>&1) || say "set-real: $out"
		count "weight changed (set-real)" "$p"
		;;
	esac
}

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

echo "secs daemon_kib exporter_kib" >"$RUN/rss"
END=$((SECONDS + 60 * SOAK_MINUTES))
NEXT_SAMPLE=$SECONDS
T0=$SECONDS
say "running: events every 1-4 s until $(date -d "+$SOAK_MINUTES min" +%T)"
while ((SECONDS < END)); do
	kill -0 "$DAEMON" 2>/dev/null || die "the daemon exited: $(tail -n 3 "$RUN/daemon.log")"
	kill -0 "$EXPORTER" 2>/dev/null || die "the exporter exited: $(tail -n 3 "$RUN/exporter.log")"
	if ((SECONDS >= NEXT_SAMPLE)); then
		echo "$((SECONDS - T0)) $(rss "$DAEMON") $(rss "$EXPORTER")" >>"$RUN/rss"
		NEXT_SAMPLE=$((NEXT_SAMPLE + SOAK_SAMPLE_SECS))
	fi
	if [[ -n $FLAP ]] && ((SECONDS >= FLAP_END)); then
		count "health flap over" "$FLAP"
		flap_end
	fi
	event
	sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
	if ! out=$(X verify 2>&1); then
		VERIFY_FAILED=$((VERIFY_FAILED + 1))
		printf '%s\n' "$out" >>"$RUN/verify-failed"
	fi
	EV[verify]=$((${EV[verify]:-0} + 1))
done
echo "$((SECONDS - T0)) $(rss "$DAEMON") $(rss "$EXPORTER")" >>"$RUN/rss"
[[ -z $FLAP ]] || flap_end

# ---------------------------------------------------------------- the report

say "winding down: the last downloads finish (up to $((DL_SECS + 5)) s)"
touch "$STOP"
for p in "${PIDS[@]:2}"; do wait "$p" 2>/dev/null; done

# shellcheck disable=SC2016 # Python
read -r DL_OK DL_FAILED DL_FIRST < <(/usr/bin/python3 -c '
import json, sys
ok = bad = 0; first = "-"
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    ok += d["ok"]; bad += d["errors"]
    if d["errors"] and first == "-":
        first = d.get("first_error", "?").replace(" ", "_")
print(ok, bad, first)' "$RUN/fetch.jsonl")
read -r HTTP_OK HTTP_FAILED < <(/usr/bin/python3 -c '
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    bad += d.get("errors", 0)
    ok += sum(v for k, v in d.items() if k not in ("errors", "first_error"))
print(ok, bad)' "$RUN/http.jsonl")
X -j stats >"$RUN/stats1.json"
X -j conns >"$RUN/conns.json"
SCRAPES_OK=$(grep -c '^ok' "$RUN/scrapes")
SCRAPES_FAILED=$(grep -c '^failed' "$RUN/scrapes")
REPAIRS=$(grep -c "was interrupted in a change" "$RUN/daemon.log")

echo
echo "xdplb soak: $SOAK_MINUTES min, seed $SOAK_SEED"
echo
echo "events:"
for k in "${!EV[@]}"; do printf '  %-32s %6d\n' "$k" "${EV[$k]}"; done | sort
echo
echo "data path (counters over the run; a flow moved or dropped shows here):"
/usr/bin/python3 -c '
import json, sys
a, b = (json.load(open(f))["global"] for f in sys.argv[1:3])
for k in ("tx_packets", "ct_new", "ct_hit", "ct_expired", "ct_flood",
          "drop_no_real", "pass_not_service"):
    print("  %-32s %10d" % (k, b[k] - a[k]))
# A flow tracked on two CPUs to two reals: its packets go to either,
# whichever CPU they are handled on.
reals = {}
for c in json.load(open(sys.argv[3]))["conns"]:
    reals.setdefault((c["protocol"], c["client"], c["vip"]), set()).add(c["real"])
print("  %-32s %10d (of %d tracked)" % ("flows tracked to 2+ reals",
      sum(len(r) > 1 for r in reals.values()), len(reals)))' \
	"$RUN/stats0.json" "$RUN/stats1.json" "$RUN/conns.json"
echo
echo "RSS (KiB) over time:"
awk 'NR == 1 { printf "  %6s  %10s  %12s\n", "time", "daemon", "exporter"; next }
	{ printf "  %3d:%02d  %10d  %12d\n", $1 / 60, $1 % 60, $2, $3 }' "$RUN/rss"
echo
# Growth: the largest sample after the first minute against the first
# sample at or after a minute (warm: tables, checks, HTTP buffers).
read -r D0 D1 E0 E1 < <(awk 'NR > 1 && $1 >= 60 { if (!n++) { d0 = $2; e0 = $3 }
	if ($2 > d1) d1 = $2; if ($3 > e1) e1 = $3 } END { print d0 + 0, d1 + 0, e0 + 0, e1 + 0 }' "$RUN/rss")
flat() { (($2 <= $1 + $1 / 10 + 512)); } # within 10% + 512 KiB
status=0
verdict() {
	local name=$1 ok=$2 text=$3
	printf '  %-26s %s%s\n' "$name" "$text" "$( ((ok)) && echo "" || echo "   <-- MISSED")"
	((ok)) || status=1
}
echo "verdict:"
verdict "downloads failed" $((DL_FAILED == 0)) "$DL_FAILED of $((DL_OK + DL_FAILED)) (2 MB at 100 KB/s each)$( ((DL_FAILED)) && echo "; first: $DL_FIRST")"
verdict "new connections failed" $((HTTP_FAILED == 0)) "$HTTP_FAILED of $((HTTP_OK + HTTP_FAILED))"
verdict "verify failed" $((VERIFY_FAILED == 0)) "$VERIFY_FAILED of ${EV[verify]:-0}"
verdict "scrapes failed" $((SCRAPES_FAILED == 0)) "$SCRAPES_FAILED of $((SCRAPES_OK + SCRAPES_FAILED))"
verdict "repairs (none killed)" $((REPAIRS == 0)) "$REPAIRS"
if ((SOAK_MINUTES >= 2)); then
	flat "$D0" "$D1"
	verdict "daemon RSS after 1 min" $((! $?)) "$D0 -> at most $D1 KiB"
	flat "$E0" "$E1"
	verdict "exporter RSS after 1 min" $((! $?)) "$E0 -> at most $E1 KiB"
fi
exit $status
