#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# doc-examples.sh - the real output in xdplb(8)'s EXAMPLES: bring up the
# namespace lab, attach xdplb to the load balancer's eth0 with an IPv4 and
# an IPv6 service, add three reals with weights 1, 2 and 3 to each, send
# HTTP requests from the client, and write each command with its output
# between the `<!-- BEGIN example NAME -->` / `<!-- END example NAME -->`
# markers of doc/xdplb.8.md. Tears the lab down whatever happens.
#
# The instance's pin directory is a private one; the output shows it as the
# default, /sys/fs/bpf/xdplb, which is what the page's commands use.
#
# Environment: LAB (namespace prefix, default xldoc), REQUESTS (default 24).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
: "${LAB:=xldoc}"
: "${REQUESTS:=24}"
NREALS=3
# shellcheck source=scripts/lab-lib.sh
source "$HERE/lab-lib.sh"

XDPLB="$LAB_REPO_ROOT/build/xdplb"
SRC="$LAB_REPO_ROOT/doc/xdplb.8.md"
PIN="/sys/fs/bpf/xdplb-$LAB"
DEFAULT_PIN=/sys/fs/bpf/xdplb

((EUID == 0)) || { echo "doc-examples: must run as root" >&2; exit 1; }
[[ -x $XDPLB ]] || { echo "doc-examples: build first: make" >&2; exit 1; }

OUT=$(mktemp -d)
teardown() {
	lab_exec lb "$XDPLB" --pin-dir "$PIN" detach eth0 >/dev/null 2>&1 || true
	lab_down >/dev/null 2>&1 || true
	rm -rf "$OUT"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# run NAME ARGS...: `$ xdplb ARGS` and its output, appended to example NAME.
run() {
	local name=$1
	shift
	{
		printf '$ xdplb %s\n' "$*"
		lab_exec lb "$XDPLB" --pin-dir "$PIN" "$@" 2>&1 | sed "s|$PIN|$DEFAULT_PIN|g"
	} >>"$OUT/$name"
}

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
lab_down >/dev/null 2>&1 || true
lab_up >/dev/null

run attach attach eth0 --vip "$VIP4:80" --vip "[$VIP6]:80"
for i in 1 2 3; do
	run add-real add-real --vip "$VIP4:80" "$(lab_ip4 "r$i")" --weight "$i"
	run add-real add-real --vip "[$VIP6]:80" "$(lab_ip6 "r$i")" --weight "$i"
done
for ((i = 0; i < REQUESTS; i++)); do
	lab_exec client curl -s -m 2 -o /dev/null "http://$VIP4/" || true
	lab_exec client curl -s -m 2 -o /dev/null "http://[$VIP6]/" || true
done
run list list
run stats stats
run flow flow --vip "$VIP4:80" "$(lab_ip4 client):40000"
run save save

# Each example's text replaces what stands between its markers.
/usr/bin/python3 - "$SRC" "$OUT" <<'EOF'
import os, re, sys
src, out = sys.argv[1], sys.argv[2]
text = open(src).read()
for name in sorted(os.listdir(out)):
    body = open(os.path.join(out, name)).read()
    pat = re.compile(r"(<!-- BEGIN example %s -->\n).*?(<!-- END example %s -->)"
                     % (re.escape(name), re.escape(name)), re.S)
    if not pat.search(text):
        sys.exit("doc-examples: no markers for example '%s' in %s" % (name, src))
    text = pat.sub(lambda m: m.group(1) + "```\n" + body + "```\n" + m.group(2), text)
open(src, "w").write(text)
EOF
echo "doc-examples: updated $SRC (attach, add-real, list, stats, flow, save)"
