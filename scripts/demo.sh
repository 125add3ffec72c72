#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# demo.sh - a direct-routing cluster in network namespaces, end to end:
# bring the lab up, attach xdplb to the load balancer's interface, add
# three real servers with weights 1, 2 and 3, send real HTTP requests from
# the client (IPv4 and IPv6), show which real answered each, print
# `xdplb list` and `xdplb stats`, and tear everything down.
#
# Environment: LAB (namespace prefix, default xldemo), REQUESTS (default 24).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
: "${LAB:=xldemo}"
: "${REQUESTS:=24}"
NREALS=3
# shellcheck source=scripts/lab-lib.sh
source "$HERE/lab-lib.sh"

XDPLB="$LAB_REPO_ROOT/build/xdplb"
PIN="/sys/fs/bpf/xdplb-$LAB"

if ((EUID != 0)); then
	echo "demo: must run as root (it creates network namespaces)" >&2
	exit 1
fi
[[ -x $XDPLB ]] || { echo "demo: build first: make" >&2; exit 1; }

# xdplb runs in the load balancer's network namespace only (nsenter
# --net), so it sees the host's /sys/fs/bpf.
lb() { lab_exec lb "$XDPLB" --pin-dir "$PIN" "$@"; }
if [[ -t 1 ]]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi

teardown() {
	lb detach eth0 >/dev/null 2>&1 || true
	lab_down >/dev/null 2>&1 || true
}
trap teardown EXIT
trap 'exit 130' INT TERM

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

say "lab: client, load balancer and $NREALS real servers on one bridge"
lab_down >/dev/null 2>&1 || true
lab_up

say "attach xdplb to the load balancer's eth0 and add the reals"
run_lb() { printf '$ xdplb %s\n' "$*"; lb "$@"; }
run_lb attach eth0 --vip "$VIP4:80" --vip "[$VIP6]:80"
for i in 1 2 3; do
	run_lb add-real --vip "$VIP4:80" "$(lab_ip4 "r$i")" --weight "$i"
	run_lb add-real --vip "[$VIP6]:80" "$(lab_ip6 "r$i")" --weight "$i"
done

# requests URL: one new connection per request, so each is a new flow.
requests() {
	local url=$1 i who
	declare -A seen=()
	for ((i = 1; i <= REQUESTS; i++)); do
		who=$(lab_exec client curl -s -m 2 "$url" || echo "no answer")
		printf '  request %2d -> %s\n' "$i" "$who"
		seen[$who]=$((${seen[$who]:-0} + 1))
	done
	printf '  answered by:'
	for who in $(printf '%s\n' "${!seen[@]}" | sort); do
		printf ' %s=%d' "$who" "${seen[$who]}"
	done
	printf '   (weights r1=1 r2=2 r3=3)\n'
}

say "$REQUESTS HTTP requests from the client to http://$VIP4/"
requests "http://$VIP4/"
say "$REQUESTS HTTP requests from the client to http://[$VIP6]/"
requests "http://[$VIP6]/"

say "replies go straight from the real to the client; the load balancer only saw requests"
run_lb list
say "counters"
run_lb stats

say "tear down"
teardown
trap - EXIT
echo "done"
