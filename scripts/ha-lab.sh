#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ha-lab.sh - the xdplb failover lab (see ha-lib.sh): the namespace lab with a
# second load balancer, both with ha/lab-xdplb.conf, failing over with
# keepalived (vrrp) or announcing the VIPs over BGP to a router (bgp).
#
#   scripts/ha-lab.sh up vrrp|bgp    build it (the lab too, when it is down)
#   scripts/ha-lab.sh down           take the HA part and the lab down
#   scripts/ha-lab.sh status         VRRP states or BGP sessions and routes
#   scripts/ha-lab.sh exec HOST CMD...   CMD in HOST's netns (lb, lb2, rt, ext, ...)
#   scripts/ha-lab.sh birdc HOST CMD...  birdc on HOST's bird (rt, lb, lb2)
#   scripts/ha-lab.sh render TEMPLATE KEY=VALUE...
#                                    print TEMPLATE (ha/*.in) with @KEY@ filled in
#
# Environment: LAB (namespace prefix, default xdplbha), NREALS (default 3),
# and the knobs of lab-lib.sh and ha-lib.sh.
set -euo pipefail

usage() {
	sed -n 's/^#   //p' "$0" >&2
	exit 2
}

: "${LAB:=xdplbha}"
: "${NREALS:=3}"
# shellcheck source=SCRIPTDIR/ha-lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/ha-lib.sh"

(($# >= 1)) || usage
cmd=$1
shift
if [[ $cmd == render ]]; then
	(($# >= 1)) || usage
	ha_render "$@"
	exit
fi
if ((EUID != 0)); then
	echo "ha-lab.sh: must be run as root (it creates network namespaces)" >&2
	exit 1
fi
case "$cmd" in
up)
	(($# == 1)) || usage
	[[ -x $HA_XDPLB ]] || { echo "ha-lab.sh: build first: make" >&2; exit 1; }
	lab_up
	ha_up "$1"
	echo "ha[$LAB]: up ($1); state and logs in $(ha_dir)"
	;;
down) (($# == 0)) || usage; ha_down; lab_down ;;
status)
	(($# == 0)) || usage
	mode=$(cat "$(ha_dir)/mode" 2>/dev/null) || { echo "ha[$LAB]: down"; exit 1; }
	echo "ha[$LAB]: $mode"
	for h in $HA_LBS; do
		printf '%-4s liveness %-5s %s\n' "$h" \
			"$(ha_exec "$h" "$HA_SRC/xdplb-alive" "$HA_LIVENESS_IF" && echo up || echo down)" \
			"$([[ $mode == vrrp ]] && echo "vrrp $(ha_vrrp_state "$h")")"
	done
	if [[ $mode == bgp ]]; then
		ha_birdc rt show protocols
		for v in $(ha_vips 4) $(ha_vips 6); do
			echo "rt route to $v via: $(ha_nexthops "$v" | tr '\n' ' ')"
		done
	fi
	;;
exec) (($# >= 2)) || usage; ha_exec "$@" ;;
birdc) (($# >= 2)) || usage; ha_birdc "$@" ;;
*) usage ;;
esac
