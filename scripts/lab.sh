#!/usr/bin/env bash
# lab.sh - build, tear down or inspect the xdplb namespace lab (see lab-lib.sh).
#
#   scripts/lab.sh up       build the lab and start a realsrv.py in each real
#   scripts/lab.sh down     kill the lab's processes, delete its namespaces
#   scripts/lab.sh status   show it; exit 0 only when it is up and healthy
#   scripts/lab.sh exec HOST CMD...   run CMD in HOST's network namespace
#
# Environment: LAB (namespace prefix, default xl), NREALS (default 3),
# XDP_PASS_OBJ, and the other knobs listed at the top of lab-lib.sh.
set -euo pipefail

usage() {
	sed -n 's/^#   //p' "$0" >&2
	exit 2
}

if ((EUID != 0)); then
	echo "lab.sh: must be run as root (it creates network namespaces)" >&2
	exit 1
fi

# shellcheck source=SCRIPTDIR/lab-lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lab-lib.sh"

(($# >= 1)) || usage
cmd=$1
shift
case "$cmd" in
up) (($# == 0)) || usage; lab_up ;;
down) (($# == 0)) || usage; lab_down ;;
status) (($# == 0)) || usage; lab_status ;;
exec) (($# >= 2)) || usage; lab_exec "$@" ;;
*) usage ;;
esac
