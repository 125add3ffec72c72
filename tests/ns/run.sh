#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tests/ns/run.sh - xdplb's namespace tests: the real program, attached in a
# private lab (scripts/lab-lib.sh), driven through the xdplb command, with
# traffic from the lab's client to the lab's real servers.
#
#   tests/ns/run.sh [-v] [-l] [TEST...]     (as root, from anywhere)
#
#   -v   after a FAIL, copy that test's log to stderr (indented)
#   -l   list the tests and exit
#   TEST run only these (default: all, in the order the test files define them)
#
# Output, on stdout: one line per test, exactly `PASS name`, `FAIL name: reason`
# or `SKIP name: reason`, then `ns: N passed, N failed, N skipped`. The exit
# status is non-zero iff something failed. A setup failure is reported as
# `FAIL setup: reason`, and every test is then a SKIP.
#
# Contracts:
#   - The runner builds (make) and brings up its own lab, named XDPLB_TEST_LAB
#     (default xdplbt), so it never touches a developer's lab or pin dir. It
#     tears a stale one of that name down first, and always tears down from a
#     trap (EXIT, INT, TERM): lab down, its pin dirs removed, its extra bpffs
#     unmounted.
#   - Each test runs in its own process (this script, re-entered with
#     --exec-test NAME) under `timeout`, so a hung test is killed with every
#     process it started; its output goes to a log, never to stdout.
#   - The load balancer is entered with nsenter --net (only the network
#     namespace), never `ip netns exec`, except by the test of exactly that.
#
# Writing a test: in tests/ns/test_*.sh, append the name to ns_tests and define
# test_NAME. It starts from whatever the previous test left, so it resets the
# load balancer state it depends on (lb_fresh). It ends with `fail REASON` or
# `skip REASON`, or returns 0 to pass; any other return is a FAIL. What it
# creates besides the main instance it undoes with `on_exit CMD`; the
# runner's teardown removes the pin dirs and the bpffs named below as well.
#
# Environment: XDPLB_TEST_LAB [xdplbt], XDPLB_TEST_TIMEOUT [60] seconds per
# test, XDPLB_TEST_NO_BUILD [0] (1: use build/xdplb as it is).

set -uo pipefail

NS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
NS_SELF="$NS_DIR/$(basename "${BASH_SOURCE[0]}")"
REPO="$(cd "$NS_DIR/../.." && pwd -P)"

: "${XDPLB_TEST_LAB:=xdplbt}"
: "${XDPLB_TEST_TIMEOUT:=60}"
: "${XDPLB_TEST_NO_BUILD:=0}"
LAB=$XDPLB_TEST_LAB
NREALS=5 # r1..r3 serve most tests; r4 and r5 are reals added mid-run (long_transfers, sync)
export XDPLB_TEST_LAB XDPLB_TEST_TIMEOUT LAB NREALS

# shellcheck source=SCRIPTDIR/../../scripts/lab-lib.sh
source "$REPO/scripts/lab-lib.sh"

XDPLB=$REPO/build/xdplb
BPFFS=/sys/fs/bpf
PIN=$BPFFS/$LAB            # the main instance, on eth0 of the LB
PIN2=$BPFFS/$LAB-2         # a second instance (two_instances)
PIN_BAD=$BPFFS/$LAB-bad    # a fake, incompatible instance (incompatible_layout)
PIN_NONE=$BPFFS/$LAB-none  # must never come into being (bad_input)
PIN_LB2=$BPFFS/$LAB-lb2    # a second load balancer's instance (lb_takeover)
LB2_NS=/var/run/netns/$LAB-lb2 # its namespace, on the lab's bridge (lb_takeover)
RUN_BPFFS=/run/$LAB-bpffs  # a bpffs outside /sys (ip_netns_exec)
LB_NS=/var/run/netns/$LAB-lb
VETH2=${LAB:0:8}-x2        # a veth pair in the LB namespace (two_instances)
# shellcheck disable=SC2034 # used by the test files
CLIENT_IP4=$(lab_ip4 client) LB_IP4=$(lab_ip4 lb)

# ---------------------------------------------------------------- helpers for tests

# fail REASON / skip REASON: end the current test (only inside a test process).
fail() {
	printf '%s\n' "$*" | tr '\n' ' ' | sed 's/ *$//' >"$T_REASON"
	exit 1
}
skip() {
	printf '%s\n' "$*" | tr '\n' ' ' | sed 's/ *$//' >"$T_REASON"
	exit 3
}

# log MSG: a line in the test's log (stderr), after the seconds since the
# test started.
log() { printf '# %3ds %s\n' "$SECONDS" "$*" >&2; }

# on_exit CMD: run CMD (with eval) when the test process exits, last first.
T_ON_EXIT=()
on_exit() { T_ON_EXIT=("$*" "${T_ON_EXIT[@]}"); }
_t_run_on_exit() {
	local c
	for c in "${T_ON_EXIT[@]}"; do
		eval "$c" >/dev/null 2>&1 || true
	done
}

# require_cmd CMD...: skip the test unless every CMD is installed.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "needs '$c', not installed"
	done
}

# xlb ARGS...: xdplb on the main instance, in the LB's network namespace.
xlb() { nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" "$@"; }

# xlb_at PINDIR ARGS...: xdplb on another instance, same namespace.
xlb_at() {
	local p=$1
	shift
	nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$p" "$@"
}

# lb_ns_exec CMD...: run CMD in the LB's network namespace.
lb_ns_exec() { nsenter --net="$LB_NS" -- "$@"; }

# client CMD...: run CMD in the client's network namespace.
client() { lab_exec client "$@"; }

# lb_xdp_prog IFNAME: print "prog/xdp id N" of IFNAME in the LB namespace, or
# nothing when no XDP program (any mode) is attached.
lb_xdp_prog() {
	ip -n "$LAB-lb" -d link show dev "$1" 2>/dev/null | grep -o 'prog/xdp id [0-9]*' || true
}

# lb_reset: no instance on the LB: detach the main one, clear any XDP program
# left on eth0, remove the main pin dir.
lb_reset() {
	if [[ -e $PIN/config ]]; then
		xlb detach eth0 >/dev/null 2>&1 || log "lb_reset: detach failed (continuing)"
	fi
	if [[ -n $(lb_xdp_prog eth0) ]]; then
		log "lb_reset: removing a stray XDP program from eth0"
		ip -n "$LAB-lb" link set dev eth0 xdpgeneric off 2>/dev/null || true
		ip -n "$LAB-lb" link set dev eth0 xdpdrv off 2>/dev/null || true
	fi
	rm -rf "$PIN"
	[[ -z $(lb_xdp_prog eth0) && ! -e $PIN ]] || fail "cannot reset the LB (eth0 or $PIN busy)"
}

# lb_fresh VIP...: a new main instance on the LB's eth0 with these services.
lb_fresh() {
	local args=() v out
	lb_reset
	for v in "$@"; do args+=(--vip "$v"); done
	out=$(xlb attach eth0 "${args[@]}" 2>&1) || fail "attach eth0 ${args[*]}: $out"
}

# real_addr VIP HOST: HOST's address of the VIP's family (r1 -> 198.18.0.11
# or fd00:18::11).
real_addr() {
	if [[ $1 == \[* ]]; then lab_ip6 "$2"; else lab_ip4 "$2"; fi
}

# add_reals VIP WEIGHT HOST...: add-real each HOST to VIP (MAC via ARP/ND).
add_reals() {
	local vip=$1 w=$2 h out
	shift 2
	for h in "$@"; do
		out=$(xlb add-real --vip "$vip" "$(real_addr "$vip" "$h")" --weight "$w" 2>&1) ||
			fail "add-real --vip $vip $h: $out"
	done
}

# nsutil SUBCOMMAND ...: the Python helper (written by the runner, see below).
nsutil() { /usr/bin/python3 "$T_NSUTIL" "$@"; }

# http_burst N HOST [PORT]: N HTTP requests from the client, each on a new
# connection (so a new source port, a new flow); prints a tally (JSON).
http_burst() { client /usr/bin/python3 "$T_NSUTIL" http "$@"; }

# udp_burst N HOST PORT [SIZE]: N datagrams from the client, each from a new
# socket, of SIZE bytes (default 16; past the MTU the kernel fragments
# them); prints a tally (JSON).
udp_burst() { client /usr/bin/python3 "$T_NSUTIL" udp "$@"; }

# curl_burst N URL: N curl requests from the client (-m 2), one curl each;
# prints a tally (JSON) of the X-Real header of the replies.
curl_burst() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	client bash -c 'for ((i = 0; i < $1; i++)); do
		h=$(curl -sS -g -m 2 --noproxy "*" -o /dev/null -D - "$2" 2>&1) || { echo "ERR curl rc $?: $h"; continue; }
		r=$(printf "%s\n" "$h" | tr -d "\r" | sed -n "s/^X-Real: *//Ip")
		echo "${r:-ERR no X-Real header}"
	done' curl_burst "$@" | nsutil tally
}

# expect_dist TALLY ARGS...: check a tally (see nsutil dist); fail with the reason.
expect_dist() {
	local t=$1 r
	shift
	r=$(nsutil dist "$@" <<<"$t") || fail "$r"
}

# jget JSON EXPR: print the Python expression EXPR over d = the parsed JSON.
jget() { nsutil get "$2" <<<"$1"; }

# ---------------------------------------------------------------- the Python helper

# Written to T_NSUTIL once per run; stdlib only.
_ns_write_nsutil() {
	cat >"$1" <<'PYEOF'
"""nsutil.py - traffic and JSON helpers for tests/ns (stdlib only)."""
import base64
import http.client
import json
import socket
import sys
import threading
import time

PATTERN_PERIOD = 251  # scripts/realsrv.py: byte k of a /bytes body is k % 251


def tally_add(t, name):
    t[name] = t.get(name, 0) + 1


def error(t, msg):
    t["errors"] = t.get("errors", 0) + 1
    t.setdefault("first_error", msg)


def cmd_http(args):
    n, host = int(args[0]), args[1]
    port = int(args[2]) if len(args) > 2 else 80
    t = {"errors": 0}
    for _ in range(n):
        c = http.client.HTTPConnection(host, port, timeout=2)
        try:
            c.request("GET", "/", headers={"Connection": "close"})
            r = c.getresponse()
            body = r.read().decode(errors="replace").strip()
            tally_add(t, r.getheader("X-Real") or ("?" + body))
        except (OSError, http.client.HTTPException) as e:
            error(t, repr(e))
        finally:
            c.close()
    print(json.dumps(t, sort_keys=True))


def cmd_udp(args):
    n, host, port = int(args[0]), args[1], int(args[2])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    payload = b"xdplb-counter-00"  # 16 bytes: the counters test relies on it
    if len(args) > 3:
        payload = (payload * (int(args[3]) // len(payload) + 1))[:int(args[3])]
    t = {"errors": 0}
    for _ in range(n):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(1)
        try:
            s.connect((host, port))  # a new socket: a new source port
            s.send(payload)
            tally_add(t, s.recv(512).decode(errors="replace").strip())
        except OSError as e:
            error(t, repr(e))
        finally:
            s.close()
    print(json.dumps(t, sort_keys=True))


def fetch_one(host, port, n, rate, expected, started, lock, out):
    """One paced download on its own connection; fills out (a dict)."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection(host, port, timeout=5)  # 5 s without a byte: stalled
    got, bad_at = 0, None
    try:
        c.connect()
        out["port"] = c.sock.getsockname()[1]
        c.request("GET", "/bytes?n=%d&rate=%d" % (n, rate), headers={"Connection": "close"})
        r = c.getresponse()
        out["real"] = r.getheader("X-Real") or "?"
        with lock:
            started.write("%d %s\n" % (out["port"], out["real"]))
            started.flush()
        if r.status != 200:
            raise http.client.HTTPException("status %d" % r.status)
        while True:
            b = r.read(16384)
            if not b:
                break
            if bad_at is None and b != expected[got:got + len(b)]:
                bad_at = got + next((i for i in range(len(b))
                                     if got + i >= n or b[i] != expected[got + i]), len(b))
            got += len(b)
        if got != n:
            raise http.client.HTTPException("%d bytes, want %d" % (got, n))
        if bad_at is not None:
            raise http.client.HTTPException("pattern differs at byte %d" % bad_at)
        out["ok"] = True
    except (OSError, http.client.HTTPException) as e:
        out["error"] = "%s after %d bytes" % (repr(e), got)
    finally:
        c.close()
        out["bytes"] = got
        out["secs"] = round(time.monotonic() - t0, 2)


def cmd_fetch(args):
    """fetch N HOST PORT BYTES RATE STARTED: N concurrent downloads of
    GET /bytes?n=BYTES&rate=RATE, each on a connection of its own. When one
    has its response headers, "PORT REAL" (client port, X-Real) is appended
    to the file STARTED. Every body is checked byte for byte against the
    pattern. Prints {"ok": N, "errors": N, "first_error": ..., "transfers":
    [{"port", "real", "bytes", "secs", "ok" | "error"}]}."""
    count, host, port, n, rate = int(args[0]), args[1], int(args[2]), int(args[3]), int(args[4])
    expected = bytes(i % PATTERN_PERIOD for i in range(n))
    lock = threading.Lock()
    res = [{"ok": False} for _ in range(count)]
    with open(args[5], "a") as started:
        threads = [threading.Thread(target=fetch_one, args=(
            host, port, n, rate, expected, started, lock, res[i])) for i in range(count)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    t = {"ok": sum(1 for x in res if x["ok"]), "transfers": res}
    t["errors"] = count - t["ok"]
    bad = [x for x in res if not x["ok"]]
    if bad:
        t["first_error"] = "port %s real %s: %s" % (
            bad[0].get("port"), bad[0].get("real"), bad[0].get("error"))
    print(json.dumps(t, sort_keys=True))


def cmd_stream(args):
    """stream HOST PORT STOP: one HTTP request per new connection, back to
    back, until the file STOP exists; prints a tally like http's, with
    "requests" (all of them)."""
    host, port, stop = args[0], int(args[1]), args[2]
    t = {"errors": 0, "requests": 0}
    import os
    while not os.path.exists(stop):
        c = http.client.HTTPConnection(host, port, timeout=2)
        t["requests"] += 1
        try:
            c.request("GET", "/", headers={"Connection": "close"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                error(t, "status %d" % r.status)
        except (OSError, http.client.HTTPException) as e:
            error(t, "%s at %.3f" % (repr(e), time.time()))
        finally:
            c.close()
    print(json.dumps(t, sort_keys=True))


def flood_one(host, port, src, i):
    """One wrong password on a new connection from src: POST /api/v1/login
    or HTTP Basic, in turn; the answer's status (a string)."""
    if i % 2:
        body = json.dumps({"user": "alice", "password": "wrong-%d" % i})
        head = ("POST /api/v1/login HTTP/1.1\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n" % len(body))
    else:
        cred = base64.b64encode(b"bob:wrong-%d" % i).decode()
        head, body = "GET /api/v1/status HTTP/1.1\r\nAuthorization: Basic %s\r\n" % cred, ""
    req = "%sHost: %s:%d\r\nConnection: close\r\n\r\n%s" % (head, host, port, body)
    with socket.create_connection((host, port), timeout=10, source_address=(src, 0)) as s:
        s.sendall(req.encode())
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
    return got.split(b" ")[1].decode() if got.startswith(b"HTTP/") else "no answer"


def cmd_flood(args):
    """flood HOST PORT SECS CONNS ADDR...: wrong passwords to the web console
    for SECS, CONNS connections at a time (each sends one, reads the answer,
    waits 50 ms), each new one from the next ADDR (a local address to bind);
    prints the answers' statuses and how many, {"401": N, "503": N, ...},
    with "errors" for connections that failed."""
    host, port, secs, conns, addrs = args[0], int(args[1]), float(args[2]), int(args[3]), args[4:]
    t = {"errors": 0}
    lock = threading.Lock()
    n = [0]
    end = time.monotonic() + secs

    def run():
        while time.monotonic() < end:
            with lock:
                i = n[0]
                n[0] += 1
            try:
                code = flood_one(host, port, addrs[i % len(addrs)], i)
            except OSError as e:
                with lock:
                    error(t, repr(e))
                continue
            with lock:
                tally_add(t, code)
            time.sleep(0.05)

    threads = [threading.Thread(target=run) for _ in range(conns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(json.dumps(t, sort_keys=True))


def counters_of(d):
    """{name: value} of every counter in `stats -j`."""
    out = {"global." + k: v for k, v in d.get("global", {}).items()}
    for s in d.get("services", []):
        for k in ("packets", "bytes"):
            if k in s:
                out["%s.%s" % (s["vip"], k)] = s[k]
        for r in s.get("reals", []):
            for k in ("packets", "bytes"):
                if k in r:
                    out["%s>%s.%s" % (s["vip"], r["address"], k)] = r[k]
    return out


def cmd_monotonic(args):
    """monotonic FILE: FILE holds one `stats -j` document per line (lines
    that are not JSON are samples that failed, and are counted): prints the
    first counter that went backwards from one sample to a later one, and
    exits 1; else prints how many samples were compared."""
    last, n, bad = {}, 0, 0
    for line in open(args[0]):
        try:
            d = json.loads(line)
        except ValueError:
            bad += 1
            continue
        n += 1
        for k, v in counters_of(d).items():
            if k in last and v < last[k]:
                print("%s went backwards: %d -> %d (sample %d)" % (k, last[k], v, n))
                sys.exit(1)
            last[k] = v
    print(json.dumps({"samples": n, "failed": bad}))


def cmd_tally(args):
    t = {"errors": 0}
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("ERR"):
            error(t, line[3:].strip())
        elif line:
            tally_add(t, line)
    print(json.dumps(t, sort_keys=True))


def names(t):
    return {k: v for k, v in t.items() if k not in ("errors", "first_error")}


def cmd_dist(args):
    """dist [--total N] [--allowed a,b] [--required a,b] [--forbidden a,b]
    [--weights a=1,b=2 --tol 0.07] < tally: prints why not, exits 1."""
    t = json.load(sys.stdin)
    opts = dict(zip(args[::2], args[1::2]))
    got = names(t)
    problems = []
    if t.get("errors"):
        problems.append("%d of %d requests failed (first: %s)" % (
            t["errors"], t["errors"] + sum(got.values()), t.get("first_error")))
    if "--total" in opts and sum(got.values()) != int(opts["--total"]):
        problems.append("%d answers, expected %s" % (sum(got.values()), opts["--total"]))
    if "--allowed" in opts:
        bad = sorted(set(got) - set(opts["--allowed"].split(",")))
        if bad:
            problems.append("answered by %s, only %s allowed" % (bad, opts["--allowed"]))
    if "--required" in opts:
        miss = sorted(set(opts["--required"].split(",")) - set(got))
        if miss:
            problems.append("never answered by %s" % miss)
    if "--forbidden" in opts:
        hit = sorted(set(got) & set(opts["--forbidden"].split(",")))
        if hit:
            problems.append("answered by %s (%s)" % (hit, ", ".join(
                "%s=%d" % (h, got[h]) for h in hit)))
    if "--weights" in opts:
        w = {k: int(v) for k, v in (x.split("=") for x in opts["--weights"].split(","))}
        tol = float(opts.get("--tol", "0.07"))
        total, wsum = sum(got.values()), sum(w.values())
        for k in sorted(w):
            share, want = got.get(k, 0) / max(total, 1), w[k] / wsum
            if abs(share - want) > tol:
                problems.append("%s got %.1f%%, expected %.1f%% +- %.0f" % (
                    k, 100 * share, 100 * want, 100 * tol))
    if problems:
        print("; ".join(problems) + "; tally " + json.dumps(t, sort_keys=True))
        sys.exit(1)


def reals(x, vip=None):
    """{address: real} of `xdplb -j list` or `-j stats`: of the service named
    vip ("198.18.0.100:80/tcp"), or of every service (an address that is a
    real of two services is then one of them)."""
    return {r["address"]: r for s in x["services"] if vip in (None, s["vip"])
            for r in s["reals"]}


def all_reals(x):
    """[(vip, real)] over every service."""
    return [(s["vip"], r) for s in x["services"] for r in s["reals"]]


def svc(x, vip):
    """The service named vip ("198.18.0.100:80/tcp") in x, or None."""
    return next((s for s in x["services"] if s["vip"] == vip), None)


def cmd_get(args):
    """get EXPR < JSON: print EXPR over d (helpers: reals, all_reals, svc)."""
    d = json.load(sys.stdin)
    v = eval(args[0], {"d": d, "reals": reals, "all_reals": all_reals, "svc": svc})
    if isinstance(v, bool):
        print("true" if v else "false")
    elif isinstance(v, (dict, list)):
        print(json.dumps(v, sort_keys=True))
    else:
        print(v)


def strip_counters(o):
    if isinstance(o, dict):
        return {k: strip_counters(v) for k, v in o.items() if k not in ("packets", "bytes")}
    if isinstance(o, list):
        return [strip_counters(v) for v in o]
    return o


def cmd_config(args):
    """config < `xdplb -j list`: the configuration without counters."""
    print(json.dumps(strip_counters(json.load(sys.stdin)), sort_keys=True))


CMDS = {"http": cmd_http, "udp": cmd_udp, "fetch": cmd_fetch, "tally": cmd_tally,
        "stream": cmd_stream, "monotonic": cmd_monotonic, "flood": cmd_flood,
        "dist": cmd_dist, "get": cmd_get, "config": cmd_config}

if __name__ == "__main__":
    CMDS[sys.argv[1]](sys.argv[2:])
PYEOF
}

# ---------------------------------------------------------------- test process

# --exec-test NAME: run one test (the runner re-enters this script for it).
if [[ ${1:-} == --exec-test ]]; then
	T_NAME=$2
	: "${T_TMP:?}" "${T_REASON:?}" "${T_NSUTIL:?}"
	trap _t_run_on_exit EXIT
	ns_tests=()
	for f in "$NS_DIR"/test_*.sh; do
		# shellcheck source=/dev/null
		source "$f"
	done
	declare -F "test_$T_NAME" >/dev/null || fail "no function test_$T_NAME"
	cd "$REPO" || fail "cannot cd to $REPO"
	"test_$T_NAME"
	rc=$?
	((rc == 0)) || fail "test_$T_NAME returned $rc without a reason"
	exit 0
fi

# ---------------------------------------------------------------- the runner

VERBOSE=0
LIST_ONLY=0
while getopts "vlh" opt; do
	case $opt in
	v) VERBOSE=1 ;;
	l) LIST_ONLY=1 ;;
	*)
		sed -n 's/^#   //p' "$NS_SELF" >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))

ns_tests=()
for f in "$NS_DIR"/test_*.sh; do
	# shellcheck source=/dev/null
	source "$f"
done
if (($# > 0)); then
	for t in "$@"; do
		[[ " ${ns_tests[*]} " == *" $t "* ]] || {
			echo "run.sh: unknown test '$t' (-l lists them)" >&2
			exit 2
		}
	done
	ns_tests=("$@")
fi
if ((LIST_ONLY)); then
	printf '%s\n' "${ns_tests[@]}"
	exit 0
fi

N_PASS=0
N_FAIL=0
N_SKIP=0
T_CHILD=
T_TMP=
MOUNTED_BPFFS=0

# ns_teardown: undo everything the runner and its tests may have made.
# Idempotent, never fails.
ns_teardown() {
	((EUID == 0)) || return 0 # setup refused to start: nothing of ours exists
	# Detach cleanly while the interfaces still exist (libxdp's state).
	if [[ -e $PIN/config && -e $LB_NS ]]; then
		timeout 10 nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" detach eth0 \
			>/dev/null 2>&1
	fi
	if [[ -e $PIN2/config && -e $LB_NS ]]; then
		timeout 10 nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN2" detach "$VETH2" \
			>/dev/null 2>&1
	fi
	if [[ -e $LB2_NS ]]; then
		if [[ -e $PIN_LB2/config ]]; then
			timeout 10 nsenter --net="$LB2_NS" -- "$XDPLB" --pin-dir "$PIN_LB2" detach eth0 \
				>/dev/null 2>&1
		fi
		ip netns del "$LAB-lb2" 2>/dev/null
	fi
	# The HA tests' extra hosts and daemons (test_ha.sh), while the lab's run
	# dir still names them.
	if declare -F ha_down >/dev/null; then ha_down >/dev/null 2>&1; fi
	lab_down >/dev/null 2>&1
	rm -rf "$PIN" "$PIN2" "$PIN_BAD" "$PIN_NONE" "$PIN_LB2" 2>/dev/null
	if mountpoint -q "$RUN_BPFFS" 2>/dev/null; then umount "$RUN_BPFFS" 2>/dev/null; fi
	rmdir "$RUN_BPFFS" 2>/dev/null
	if ((MOUNTED_BPFFS)) && mountpoint -q "$BPFFS"; then umount "$BPFFS" 2>/dev/null; fi
	if [[ -n $T_TMP ]]; then rm -rf "$T_TMP"; fi
	return 0
}

# on_signal STATUS: stop the running test (timeout passes the signal on to
# its whole process group), then exit; the EXIT trap tears down.
on_signal() {
	trap '' INT TERM
	if [[ -n $T_CHILD ]]; then
		kill -TERM "$T_CHILD" 2>/dev/null
		wait "$T_CHILD" 2>/dev/null
	fi
	echo "ns: interrupted; tearing down" >&2
	exit "$1"
}
trap ns_teardown EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

summary() {
	echo "ns: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
}

# setup_fail REASON: report, skip every test, exit 1.
setup_fail() {
	local t
	echo "FAIL setup: $*"
	N_FAIL=$((N_FAIL + 1))
	for t in "${ns_tests[@]}"; do
		echo "SKIP $t: setup failed"
		N_SKIP=$((N_SKIP + 1))
	done
	summary
	exit 1
}

setup() {
	local c out
	((EUID == 0)) || setup_fail "must run as root (namespaces, XDP, bpffs)"
	for c in ip nsenter curl timeout mountpoint /usr/bin/python3 make ethtool; do
		command -v "$c" >/dev/null || setup_fail "missing command: $c"
	done
	# A stale lab or pin dirs of ours (a killed run): start from nothing.
	ns_teardown
	if ! mountpoint -q "$BPFFS"; then
		mount -t bpf bpf "$BPFFS" || setup_fail "cannot mount a bpffs on $BPFFS"
		MOUNTED_BPFFS=1
	fi
	T_TMP=$(mktemp -d "/tmp/$LAB.XXXXXX") || setup_fail "mktemp failed"
	export T_TMP T_NSUTIL=$T_TMP/nsutil.py T_REASON=$T_TMP/reason
	_ns_write_nsutil "$T_NSUTIL"
	if [[ $XDPLB_TEST_NO_BUILD != 1 ]]; then
		make -C "$REPO" >"$T_TMP/make.log" 2>&1 ||
			setup_fail "make failed: $(tail -n 1 "$T_TMP/make.log")"
	fi
	[[ -x $XDPLB ]] || setup_fail "$XDPLB not built"
	build_releases
	out=$(lab_up 2>&1) || setup_fail "lab_up: $(tail -n 1 <<<"$out")"
}

# build_releases: what the upgrade tests run beside this build (a failure
# is theirs to report, not every test's): the oldest and the newest release
# RELEASES lists, built from this repository's history (OLD_XDPLB,
# OLD_VERSION; PREV_XDPLB, PREV_VERSION), and this tree built as the next
# patch release (NEWER_XDPLB, NEWER_VERSION): another program of the same
# layout, and a newer one.
build_releases() {
	local v
	OLD_VERSION=$(awk '!/^#/ && NF { print $1; exit }' "$REPO/RELEASES")
	OLD_XDPLB=$("$REPO/scripts/build-release.sh" "$OLD_VERSION" 2>"$T_TMP/releases.err") ||
		OLD_XDPLB=
	PREV_VERSION=$(awk '!/^#/ && NF { v = $1 } END { print v }' "$REPO/RELEASES")
	PREV_XDPLB=$("$REPO/scripts/build-release.sh" "$PREV_VERSION" 2>>"$T_TMP/releases.err") ||
		PREV_XDPLB=
	v=$("$XDPLB" -V | awk '{ print $2 }')
	NEWER_VERSION=${v%.*}.$((${v##*.} + 1))
	NEWER_XDPLB=$REPO/build/newer/xdplb
	make -C "$REPO" BUILD=build/newer XDPLB_VERSION="$NEWER_VERSION" build/newer/xdplb \
		>>"$T_TMP/releases.err" 2>&1 || NEWER_XDPLB=
	export OLD_VERSION OLD_XDPLB PREV_VERSION PREV_XDPLB NEWER_VERSION NEWER_XDPLB
}

# run_test NAME: one test in its own process, under timeout; one line out.
run_test() {
	local name=$1 log=$T_TMP/$1.log rc reason
	rm -f "$T_REASON"
	timeout -k 5 "$XDPLB_TEST_TIMEOUT" "$BASH" "$NS_SELF" --exec-test "$name" \
		</dev/null >"$log" 2>&1 &
	T_CHILD=$!
	wait "$T_CHILD"
	rc=$?
	T_CHILD=
	reason=$(cat "$T_REASON" 2>/dev/null)
	case $rc in
	0)
		echo "PASS $name"
		N_PASS=$((N_PASS + 1))
		return
		;;
	3)
		echo "SKIP $name: ${reason:-no reason given}"
		N_SKIP=$((N_SKIP + 1))
		return
		;;
	124 | 137) reason="timed out after ${XDPLB_TEST_TIMEOUT}s" ;;
	1) [[ -n $reason ]] || reason="exited 1: $(tail -n 1 "$log")" ;;
	*) reason="exited $rc: $(tail -n 1 "$log")" ;;
	esac
	echo "FAIL $name: $reason"
	N_FAIL=$((N_FAIL + 1))
	if ((VERBOSE)); then
		echo "---- log of $name" >&2
		sed 's/^/    /' "$log" >&2
	fi
}

setup
for t in "${ns_tests[@]}"; do
	run_test "$t"
done
summary
((N_FAIL == 0))
