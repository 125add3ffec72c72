#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# scripts/bench-run.sh - `make bench`: every figure of docs/PERFORMANCE.md in
# one run, as a table on stdout and as JSON in build/bench.json.
#
#   scripts/bench-run.sh            (as root, after `make all build/xdplb-bench`)
#
# Parts, in order (each prints rows, see bench/bench.h; report joins them):
#   program   xdplb-bench prog: cases and scale, BPF_PROG_TEST_RUN
#   cpus      release 0.7.0 (built from RELEASES' commit when missing) and this
#             build, each attached for every CPU count of BENCH_CPUS (a fake
#             /sys/devices/system/cpu/possible in a mount namespace of the
#             command's own) to a veth in namespace LAB-cpus: xdplb-bench cpus
#             times a flow its CPU does not track, xdplb-bench ctmem the
#             connection table's memory
#   control   xdplb-bench maglev; add-real latency and `restore` through the
#             command, against an instance attached at default sizes
#   memory    xdplb-bench maps on that instance
#   live      two veth pairs between namespaces LAB-gen and LAB-dut: floor.bpf.o
#             on one far end, xdplb on the other; xdplb-bench live sends
#   http      the namespace lab (scripts/lab-lib.sh, LAB=xlbench) with nginx in
#             its reals; wrk from the client to the VIP, and to the same reals
#             directly
#
# Contracts:
#   - Prints figures and never fails on them: a part that cannot run leaves a
#     row saying so, and the exit status is 0 unless the report cannot be made.
#   - Everything it builds (namespaces, pin dirs, the lab) has names of its own
#     (LAB, default xlbench) and is torn down from a trap, also on failure.
#
# Environment: BENCH_LAB [xlbench], BENCH_ROUNDS [5] (program part),
# BENCH_LIVE_SECS [2], BENCH_HTTP_SECS [3], BENCH_RESTORE_TIMEOUT [90] seconds,
# BENCH_LIVE_FLOWS [10000] (flows the live generator sends),
# BENCH_CPUS ["2 8 32 64"] (up to 10 CPU counts, 2..256), BENCH_CPUS_ROUNDS [9],
# BENCH_PARTS ["program cpus live http"]: which parts to run (control and memory
# come with live, on the same namespaces), BENCH_ROWS and BENCH_JSON
# [build/bench-rows.tsv, build/bench.json]: where the rows and JSON go.

set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
BUILD=$REPO/build
XDPLB=$BUILD/xdplb
BENCH=$BUILD/xdplb-bench
ROWS=${BENCH_ROWS:-$BUILD/bench-rows.tsv}
JSON=${BENCH_JSON:-$BUILD/bench.json}

: "${BENCH_LAB:=xlbench}"
: "${BENCH_ROUNDS:=5}"
: "${BENCH_LIVE_SECS:=2}"
: "${BENCH_HTTP_SECS:=3}"
: "${BENCH_RESTORE_TIMEOUT:=90}"
: "${BENCH_LIVE_FLOWS:=10000}"
[[ $BENCH_LIVE_FLOWS =~ ^[1-9][0-9]*$ ]] || {
	echo "bench: BENCH_LIVE_FLOWS '$BENCH_LIVE_FLOWS' is not a number of flows" >&2
	exit 2
}
: "${BENCH_CPUS:=2 8 32 64}"
: "${BENCH_CPUS_ROUNDS:=9}"
for n in $BENCH_CPUS; do
	if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n < 2 || n > 256)); then
		echo "bench: BENCH_CPUS: '$n' is not a CPU count in 2..256" >&2
		exit 2
	fi
done
# shellcheck disable=SC2086 # one word a count
if (($(printf '%s\n' $BENCH_CPUS | wc -l) > 10)); then
	echo "bench: BENCH_CPUS: more than 10 CPU counts" >&2
	exit 2
fi
: "${BENCH_PARTS:=program cpus live http}"
LAB=$BENCH_LAB
NREALS=3
# shellcheck source=SCRIPTDIR/lab-lib.sh
source "$REPO/scripts/lab-lib.sh"

GEN_NS=$LAB-gen # the generator's ends of the live veths
DUT_NS=$LAB-dut # the far ends: floor, xdplb, the control-plane instance
PIN_LIVE=/sys/fs/bpf/$LAB-live
PIN_CP=/sys/fs/bpf/$LAB-cp
PIN_HTTP=/sys/fs/bpf/$LAB-http
CPUS_NS=$LAB-cpus   # one veth per instance of the cpus part
PIN_CPUS=/sys/fs/bpf/$LAB-cpus # pin dirs PIN_CPUS-old|new-N[-mem] (no dots in bpffs)
CPUS_OLD=0.7.0      # the release of per-CPU tables (map ABI 7)
CPUS_VIP=198.18.0.100:80/tcp
CPUS_FLOWS=1048576  # this build's default table: the memory rows' flows
LIVE_VIP=198.18.1.1:9000/udp # bench/live.c sends here
LIVE_FLOWS=$BENCH_LIVE_FLOWS
LIVE_REALS=4
HTTP_ROUNDS=3
HTTP_PORT=8080 # nginx in each real

say() { printf 'bench: %s\n' "$*" >&2; }

# row SECTION NAME VALUE UNIT [BASE_NAME BASE [KIND LIMIT [NOTE [SAMPLES]]]]:
# one row in the format of bench/bench.h; empty fields become "-".
row() {
	local f out=() i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		f=${!i:-}
		out+=("${f:--}")
	done
	(IFS=$'\t' && echo "${out[*]}") >>"$ROWS"
}

# not_measured SECTION NAME REASON
not_measured() {
	say "$2: not measured: $3"
	row "$1" "$2" - - - - - - "not measured: $3"
}

in_dut() { nsenter --net="/var/run/netns/$DUT_NS" -- "$@"; }

# median V...: the median of numbers (mean of the middle two when even).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

joined() { (IFS=, && echo "$*"); }

# Deleting the namespaces takes the devices and their XDP programs with
# them; removing the pins frees the rest.
teardown() {
	ip netns del "$GEN_NS" 2>/dev/null
	ip netns del "$DUT_NS" 2>/dev/null
	ip netns del "$CPUS_NS" 2>/dev/null
	lab_down >/dev/null 2>&1
	rm -rf "$PIN_LIVE" "$PIN_CP" "$PIN_HTTP" "$PIN_CPUS"-* "$BUILD"/bench-restore.* \
		"$BUILD"/bench-wrk-* "$BUILD"/bench-possible-* "$BUILD"/bench-cpus.err
}

# ---------------------------------------------------------------- parts

part_program() {
	# Maglev first: after prog, the kernel is still freeing its maps.
	"$BENCH" maglev >>"$ROWS" ||
		not_measured control "Maglev build" "xdplb-bench maglev failed"
	say "program only: $BENCH_ROUNDS rounds (about a minute to seed 1000 services)"
	"$BENCH" prog "$BENCH_ROUNDS" >>"$ROWS" ||
		not_measured program "program-only cases" "xdplb-bench prog failed"
}

# with_cpus N CMD...: CMD in namespace CPUS_NS, in a mount namespace of its
# own in which /sys/devices/system/cpu/possible reads 0-(N-1): libbpf, and
# so xdplb, sizes the maps it sizes for N possible CPUs. The kernel still
# sizes per-CPU maps for the CPUs there are; commands read them into larger
# buffers.
with_cpus() {
	local f=$BUILD/bench-possible-$1
	echo "0-$(($1 - 1))" >"$f" || return 1
	shift
	# shellcheck disable=SC2016 # $1 and $@ are the inner shell's
	unshare --mount --propagation private -- sh -c \
		'mount --bind "$1" /sys/devices/system/cpu/possible && shift && exec "$@"' \
		sh "$f" nsenter --net="/var/run/netns/$CPUS_NS" -- "$@"
}

# cpus_attach BIN N K PIN [ATTACH OPTIONS]: xdplb BIN attached for N CPUs to
# veth cK of CPUS_NS (its own segment, 198.18.(20+K).0/24), with the service
# CPUS_VIP and three reals there. Errors go to BUILD/bench-cpus.err.
cpus_attach() {
	local bin=$1 n=$2 k=$3 pin=$4 r
	shift 4
	ip -n "$CPUS_NS" link add "c$k" type veth peer name "c${k}p" &&
		ip -n "$CPUS_NS" link set "c$k" address 02:00:00:00:00:02 up &&
		ip -n "$CPUS_NS" link set "c${k}p" up &&
		ip -n "$CPUS_NS" addr add "198.18.$((20 + k)).2/24" dev "c$k" &&
		with_cpus "$n" "$bin" --pin-dir "$pin" attach "c$k" --vip "$CPUS_VIP" \
			--mode native "$@" >/dev/null || return 1
	for r in 11 12 13; do
		with_cpus "$n" "$bin" --pin-dir "$pin" add-real --vip "$CPUS_VIP" \
			"198.18.$((20 + k)).$r" --mac "$(printf '02:00:00:00:%02x:%s' "$k" "$r")" \
			>/dev/null || return 1
	done
} 2>>"$BUILD/bench-cpus.err"

part_cpus() {
	local old new n k=0 f timed=() mem_old=() mem_fit=() mem_new=()
	new=$("$XDPLB" -V | awk '{ print $2 }')
	say "cpus: release $CPUS_OLD (built when missing: a minute the first time)"
	if ! old=$("$REPO/scripts/build-release.sh" "$CPUS_OLD" 2>"$BUILD/bench-cpus.err"); then
		not_measured cpus "CPU count" "cannot build release $CPUS_OLD: $(tail -n 1 "$BUILD/bench-cpus.err")"
		return
	fi
	say "cpus: $CPUS_OLD and this build attached for $BENCH_CPUS CPUs"
	ip netns add "$CPUS_NS" || {
		not_measured cpus "CPU count" "cannot make namespace $CPUS_NS"
		return
	}
	# Timed: both at default sizes, with the smallest new-flow cap, so
	# that untracked packets leave the tables (almost) empty.
	for n in $BENCH_CPUS; do
		if ! cpus_attach "$old" "$n" $((k++)) "$PIN_CPUS-old-$n" --conn-rate 1 ||
			! cpus_attach "$XDPLB" "$n" $((k++)) "$PIN_CPUS-new-$n" --conn-rate 1; then
			not_measured cpus "CPU count" "cannot attach for $n CPUs: $(tail -n 1 "$BUILD/bench-cpus.err")"
			return
		fi
		timed+=("$CPUS_OLD=$PIN_CPUS-old-$n")
		mem_old+=("$CPUS_OLD default=$PIN_CPUS-old-$n")
		mem_new+=("$new default=$PIN_CPUS-new-$n")
	done
	for n in $BENCH_CPUS; do
		timed+=("$new=$PIN_CPUS-new-$n")
	done
	# Memory only: the old release sized to hold this build's default
	# number of flows, spread evenly over its CPUs' tables.
	for n in $BENCH_CPUS; do
		for ((f = 1024; f * n < CPUS_FLOWS; f *= 2)); do :; done
		cpus_attach "$old" "$n" $((k++)) "$PIN_CPUS-old-$n-mem" \
			--conn-table-size "$f" || {
			not_measured cpumem "connection table" "cannot attach for $n CPUs: $(tail -n 1 "$BUILD/bench-cpus.err")"
			return
		}
		mem_fit+=("$CPUS_OLD, $CPUS_FLOWS flows=$PIN_CPUS-old-$n-mem")
	done
	say "cpus: memory of the connection tables"
	"$BENCH" ctmem "${mem_old[@]}" "${mem_fit[@]}" "${mem_new[@]}" >>"$ROWS" ||
		not_measured cpumem "connection table" "xdplb-bench ctmem failed"
	say "cpus: $BENCH_CPUS_ROUNDS rounds of ${#timed[@]} instances"
	"$BENCH" cpus "$CPUS_NS" "$BENCH_CPUS_ROUNDS" "${timed[@]}" >>"$ROWS" ||
		not_measured cpus "CPU count" "xdplb-bench cpus failed"
}

# The far ends of the live veths, and a third pair for the control plane.
make_dut() {
	local p
	ip netns add "$GEN_NS" && ip netns add "$DUT_NS" || return 1
	for p in f:floor x:xdplb c:control; do
		ip -n "$GEN_NS" link add "g${p%%:*}" type veth peer name "d${p%%:*}" \
			netns "$DUT_NS" || return 1
		ip -n "$DUT_NS" link set "d${p%%:*}" address 02:00:00:00:00:02 up || return 1
		ip -n "$GEN_NS" link set "g${p%%:*}" address 02:00:00:00:00:0a up || return 1
	done
	ip -n "$DUT_NS" addr add 198.18.1.2/24 dev dx &&
		ip -n "$DUT_NS" addr add 198.18.2.2/24 dev dc &&
		ip -n "$DUT_NS" link set dev df xdpdrv obj "$BUILD/floor.bpf.o" sec xdp &&
		in_dut "$XDPLB" --pin-dir "$PIN_LIVE" attach dx --vip "$LIVE_VIP" \
			--mode native >/dev/null || return 1
	for ((p = 1; p <= LIVE_REALS; p++)); do
		in_dut "$XDPLB" --pin-dir "$PIN_LIVE" add-real --vip "$LIVE_VIP" \
			"198.18.1.$((10 + p))" --mac "02:00:00:00:01:$((10 + p))" >/dev/null ||
			return 1
	done
	in_dut "$XDPLB" --pin-dir "$PIN_CP" attach dc --vip 198.18.2.1:80/tcp \
		--mode native >/dev/null
}

part_live() {
	say "live frames: floor and xdplb, 3 rounds of ${BENCH_LIVE_SECS} s each"
	"$BENCH" live "$GEN_NS" "$BENCH_LIVE_SECS" 3 "$LIVE_FLOWS" \
		"gf:floor.bpf.o (XDP_TX)" \
		"gx:xdplb, UDP, $LIVE_REALS reals" >>"$ROWS" ||
		not_measured live "live frames" "xdplb-bench live failed"
}

# time_cmd CMD...: milliseconds CMD took (its output discarded).
time_cmd() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }'
}

part_control() {
	local i add=() del=() start=() real=198.18.2.50 base
	# One service with one real: a Maglev table exists, as in any use.
	in_dut "$XDPLB" --pin-dir "$PIN_CP" add-real --vip 198.18.2.1:80/tcp \
		198.18.2.11 --mac 02:00:00:00:02:11 >/dev/null
	say "memory: every map of an instance at default sizes"
	"$BENCH" maps "$PIN_CP" >>"$ROWS" ||
		not_measured memory "maps" "xdplb-bench maps failed"

	say "control plane: add-real and del-real, 11 rounds"
	for ((i = 0; i < 11; i++)); do
		start+=("$(time_cmd in_dut "$XDPLB" help)")
		add+=("$(time_cmd in_dut "$XDPLB" --pin-dir "$PIN_CP" add-real \
			--vip 198.18.2.1:80/tcp "$real" --mac 02:00:00:00:02:32)")
		del+=("$(time_cmd in_dut "$XDPLB" --pin-dir "$PIN_CP" del-real \
			--vip 198.18.2.1:80/tcp "$real")")
	done
	base=$(median "${start[@]}")
	row control "xdplb help (process start)" "$(median "${start[@]}")" ms \
		- - - - "the floor of every command" "$(joined "${start[@]}")"
	row control "add-real (service has 1 real)" "$(median "${add[@]}")" ms \
		"xdplb help (process start)" "$base" - - \
		"the whole command: open, add, rebuild Maglev, swap" "$(joined "${add[@]}")"
	row control "del-real" "$(median "${del[@]}")" ms \
		"xdplb help (process start)" "$base" - - "" "$(joined "${del[@]}")"

	part_restore
}

# restore of 1000 services x 10 reals, when the command exists.
part_restore() {
	local name="restore, 1000 services x 10 reals" input s r t0 t1 rc
	# Not `help | grep -q`: grep's early exit is SIGPIPE to help, a
	# failed pipeline under pipefail.
	if ! grep -qw restore <<<"$("$XDPLB" help 2>&1)"; then
		not_measured control "$name" "restore command not available"
		return
	fi
	input=$BUILD/bench-restore.txt
	for ((s = 0; s < 1000; s++)); do
		echo "add-vip 198.18.$((100 + s / 250)).$((1 + s % 250)):80/tcp"
		for ((r = 0; r < 10; r++)); do
			echo "add-real --vip 198.18.$((100 + s / 250)).$((1 + s % 250)):80/tcp" \
				"198.18.2.$((10 + r)) --mac 02:00:00:00:02:$((10 + r))"
		done
	done >"$input"
	say "restore: 1000 services x 10 reals (at most ${BENCH_RESTORE_TIMEOUT} s)"
	t0=$(date +%s%N)
	# --remove-all: the file replaces the service with reals that
	# part_control measured on (restore refuses that by default).
	in_dut timeout "$BENCH_RESTORE_TIMEOUT" "$XDPLB" --pin-dir "$PIN_CP" restore \
		--remove-all <"$input" >/dev/null 2>"$BUILD/bench-restore.err"
	rc=$?
	t1=$(date +%s%N)
	if ((rc == 124)); then
		not_measured control "$name" "timed out after ${BENCH_RESTORE_TIMEOUT} s"
	elif ((rc != 0)); then
		not_measured control "$name" "restore failed: $(head -c 200 "$BUILD/bench-restore.err")"
	else
		row control "$name" "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f\n", d / 1e6 }')" \
			ms - - - - "one run, 11000 lines on stdin"
	fi
}

# start_nginx: nginx on HTTP_PORT in every real (realsrv.py, the lab's own
# server, answers in about 40 ms: it would measure itself, not the path).
# lab_down stops them with everything else in the lab's namespaces.
start_nginx() {
	local r dir i
	for r in $(lab_reals); do
		dir=$(lab_run_dir)/nginx-$r
		mkdir -p "$dir" || return 1
		cat >"$dir/nginx.conf" <<-EOF
			daemon off;
			master_process off;
			worker_processes 1;
			pid $dir/nginx.pid;
			error_log $dir/error.log;
			events { worker_connections 1024; }
			http {
				access_log off;
				client_body_temp_path $dir/body;
				server {
					listen $HTTP_PORT;
					location / { return 200 "$r\n"; }
				}
			}
		EOF
		nsenter --net="/var/run/netns/$(lab_ns "$r")" -- nginx -p "$dir" \
			-e "$dir/error.log" -c "$dir/nginx.conf" </dev/null >/dev/null 2>&1 &
	done
	for r in $(lab_reals); do
		for ((i = 0; i < 50; i++)); do
			lab_exec client curl -sf --noproxy '*' -m 1 -o /dev/null \
				"http://$(lab_ip4 "$r"):$HTTP_PORT/" && continue 2
			sleep 0.1
		done
		return 1
	done
}

# wrk_sum URL...: one wrk per URL from the client, all at once, 1 thread and
# 4 connections each; prints the sum of their requests per second.
wrk_sum() {
	local u i=0 pids=()
	for u in "$@"; do
		lab_exec client wrk -t1 -c4 -d"${BENCH_HTTP_SECS}s" "$u" 2>/dev/null |
			awk '/^Requests\/sec:/ { print $2 }' >"$BUILD/bench-wrk-$i" &
		pids+=($!)
		i=$((i + 1))
	done
	wait "${pids[@]}"
	cat "$BUILD"/bench-wrk-* | awk '{ s += $1 } END { printf "%.0f\n", s }'
	rm -f "$BUILD"/bench-wrk-*
}

part_http() {
	local i r direct=() lb=() durls=() vurls=()
	for r in wrk nginx; do
		command -v "$r" >/dev/null && continue
		not_measured http "HTTP" "$r is not installed"
		return
	done
	say "http: lab $LAB up, nginx in its reals, xdplb on its LB"
	if ! lab_up >/dev/null || ! start_nginx; then
		not_measured http "HTTP" "the lab or nginx did not come up"
		return
	fi
	if ! lab_exec lb "$XDPLB" --pin-dir "$PIN_HTTP" attach eth0 \
		--vip "$VIP4:$HTTP_PORT" --mode native >/dev/null; then
		not_measured http "HTTP" "cannot attach xdplb in the lab"
		return
	fi
	for r in $(lab_reals); do
		lab_exec lb "$XDPLB" --pin-dir "$PIN_HTTP" add-real --vip "$VIP4:$HTTP_PORT" \
			"$(lab_ip4 "$r")" --mac "$(lab_mac "$r")" >/dev/null || {
			not_measured http "HTTP" "cannot add real $r"
			return
		}
		durls+=("http://$(lab_ip4 "$r"):$HTTP_PORT/")
		vurls+=("http://$VIP4:$HTTP_PORT/")
	done
	say "http: $HTTP_ROUNDS rounds of ${BENCH_HTTP_SECS} s, direct then through xdplb"
	for ((i = 0; i < HTTP_ROUNDS; i++)); do
		direct+=("$(wrk_sum "${durls[@]}")")
		lb+=("$(wrk_sum "${vurls[@]}")")
	done
	row http "direct to the $NREALS reals" "$(median "${direct[@]}")" req/s \
		- - - - "$NREALS wrk, 4 connections each, one per real" \
		"$(joined "${direct[@]}")"
	row http "through xdplb to the same reals" "$(median "${lb[@]}")" req/s \
		"direct to the $NREALS reals" "$(median "${direct[@]}")" - - \
		"$NREALS wrk, 4 connections each, all to the VIP" "$(joined "${lb[@]}")"
}

# ---------------------------------------------------------------- main

if ((EUID != 0)); then
	echo "bench: must run as root" >&2
	exit 1
fi
for f in "$XDPLB" "$BENCH" "$BUILD/floor.bpf.o" "$XDP_PASS_OBJ"; do
	[[ -e $f ]] || {
		echo "bench: $f is missing (run 'make bench')" >&2
		exit 1
	}
done
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
teardown # whatever a killed run left behind
trap teardown EXIT
trap 'exit 130' INT TERM
: >"$ROWS"

if [[ " $BENCH_PARTS " == *" program "* ]]; then
	part_program
fi
if [[ " $BENCH_PARTS " == *" cpus "* ]]; then
	part_cpus
fi
if [[ " $BENCH_PARTS " == *" live "* ]]; then
	if make_dut; then
		part_control
		part_live
	else
		say "cannot build the live namespaces"
		not_measured control "control plane" "cannot attach an instance"
		not_measured live "live frames" "cannot build the veth namespaces"
	fi
fi
if [[ " $BENCH_PARTS " == *" http "* ]]; then
	part_http
fi
teardown
trap - EXIT INT TERM

"$BENCH" report "$ROWS" "$JSON"
