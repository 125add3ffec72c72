# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_exporter.sh - xdplb exporter and daemon --listen: /metrics parses
# strictly (and with promtool where it is installed), its per-real counters are
# bpftool's sums over CPUs, its tracked flows are those `conns` lists; the HTTP
# server (libmicrohttpd) answers 400/404/405/413/431/505, HEAD and keep-alive,
# listens on IPv4 and IPv6; scrapes go on while one client holds hundreds of
# slow connections (slowloris), which are cut at the per-client limit (an IPv6
# client is its /64) and the request deadline; exec checks' command lines never reach /, /status.json or
# /metrics; the exporter keeps no capabilities and sets no_new_privs; the
# daemon serves the same while its checks go on; the status page renders in
# headless Chromium (a screenshot is kept); a bad --listen is one line and
# exit 1.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(exporter_metrics exporter_http exporter_slowloris exporter_client_v6 exporter_redact
	exporter_privileges exporter_daemon exporter_page exporter_bad_listen)

EXP_PORT=9100  # the LB namespace is the test's own: fixed ports are free
EXP_PORT2=9101
# Where the status page's screenshot is kept (T_TMP goes with the run).
EXP_OUT=${XDPLB_TEST_OUT:-$REPO/build/test-output}

# exp_py ARGS...: the exporter tests' Python helper (stdlib only).
exp_py() {
	[[ -e $T_TMP/exporter.py ]] || _exp_write_py "$T_TMP/exporter.py"
	/usr/bin/python3 "$T_TMP/exporter.py" "$@"
}

_exp_write_py() {
	cat >"$1" <<'PYEOF'
"""exporter.py - a strict parser of the Prometheus text format (0.0.4) and
the checks of tests/ns/test_exporter.sh against bpftool's dumps."""
import ipaddress
import json
import math
import re
import socket
import sys
import time

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class Bad(Exception):
    pass


def parse_labels(s, i, n):
    """Labels from s[i] (after '{') to the closing '}'; (dict, index)."""
    labels = {}
    while True:
        if s[i:i + 1] == "}":
            return labels, i + 1
        m = re.match(r"[a-zA-Z_][a-zA-Z0-9_]*", s[i:])
        if not m:
            raise Bad("line %d: bad label name at %r" % (n, s[i:i + 20]))
        name = m.group(0)
        i += len(name)
        if s[i:i + 2] != '="':
            raise Bad("line %d: label %s without =\"" % (n, name))
        i += 2
        v = []
        while True:
            if i >= len(s):
                raise Bad("line %d: unterminated label value" % n)
            c = s[i]
            if c == "\\":
                e = s[i + 1:i + 2]
                if e not in ("\\", '"', "n"):
                    raise Bad("line %d: bad escape \\%s" % (n, e))
                v.append("\n" if e == "n" else e)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise Bad("line %d: newline in a label value" % n)
            else:
                v.append(c)
                i += 1
        if name in labels:
            raise Bad("line %d: label %s twice" % (n, name))
        labels[name] = "".join(v)
        if s[i:i + 1] == ",":
            i += 1
        elif s[i:i + 1] != "}":
            raise Bad("line %d: expected , or } after label %s" % (n, name))


def parse(text):
    """[(name, labels, value)], or Bad. Also the project's conventions:
    xdplb_ names, HELP and TYPE before the samples of every family, each
    family in one block, counters ending in _total, no series twice."""
    if text and not text.endswith("\n"):
        raise Bad("no newline at the end")
    helps, types, done, seen, out = {}, {}, set(), set(), []
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                fam = parts[2]
                if not NAME.match(fam):
                    raise Bad("line %d: bad metric name %r" % (n, fam))
                d = helps if parts[1] == "HELP" else types
                if fam in d:
                    raise Bad("line %d: second %s of %s" % (n, parts[1], fam))
                if fam in done or (fam != current and fam in seen):
                    raise Bad("line %d: %s of %s after its samples" % (n, parts[1], fam))
                if len(parts) < 4 or not parts[3]:
                    raise Bad("line %d: empty %s" % (n, parts[1]))
                if parts[1] == "TYPE" and parts[3] not in TYPES:
                    raise Bad("line %d: unknown type %r" % (n, parts[3]))
                d[fam] = parts[3]
                if current != fam and current is not None:
                    done.add(current)
                current = fam
            continue
        if not line.strip():
            raise Bad("line %d: empty line" % n)
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if not m:
            raise Bad("line %d: no metric name" % n)
        name, i = m.group(0), m.end()
        labels = {}
        if line[i:i + 1] == "{":
            labels, i = parse_labels(line, i + 1, n)
        if line[i:i + 1] != " ":
            raise Bad("line %d: no space before the value" % n)
        rest = line[i + 1:].split(" ")
        if len(rest) not in (1, 2) or not rest[0]:
            raise Bad("line %d: bad value %r" % (n, line[i + 1:]))
        try:
            value = float(rest[0])
            if len(rest) == 2:
                int(rest[1])
        except ValueError:
            raise Bad("line %d: bad value %r" % (n, line[i + 1:]))
        if name != current:
            if name in done or name in seen:
                raise Bad("line %d: samples of %s split in two blocks" % (n, name))
            if current is not None:
                done.add(current)
            current = name
        if name not in types or name not in helps:
            raise Bad("line %d: %s has no TYPE or HELP before it" % (n, name))
        if not name.startswith("xdplb_"):
            raise Bad("line %d: %s is not xdplb_*" % (n, name))
        if types[name] == "counter" and (not name.endswith("_total") or value < 0
                                         or math.isnan(value)):
            raise Bad("line %d: counter %s %s" % (n, name, rest[0]))
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise Bad("line %d: series %s%s twice" % (n, name, labels))
        seen.add(key)
        seen.add(name)
        out.append((name, labels, value))
    for fam in types:
        if fam not in seen:
            raise Bad("family %s has no samples" % fam)
    return out


def load(path):
    with open(path) as f:
        return parse(f.read())


def cmd_check(args):
    """check METRICS: parse; print the number of samples."""
    try:
        print("%d samples" % len(load(args[0])))
    except Bad as e:
        print(e)
        sys.exit(1)


def cmd_value(args):
    """value METRICS NAME [LABEL=VALUE...]: the one sample that matches."""
    want = dict(a.split("=", 1) for a in args[2:])
    hits = [v for n, l, v in load(args[0]) if n == args[1] and
            all(l.get(k) == x for k, x in want.items())]
    if len(hits) != 1:
        print("%d samples of %s %s" % (len(hits), args[1], want))
        sys.exit(1)
    print("%d" % hits[0])


def raw_bytes(v):
    return bytes(int(x, 16) for x in v)


def cmd_compare(args):
    """compare METRICS REALS_DUMP STATS_DUMP CONNS: every used real's
    xdplb_real_packets_total and _bytes_total equal bpftool's sums over
    CPUs of real_stats; xdplb_tracked_flows equals the distinct flows
    `conns -j` lists for it; nothing else has a real label."""
    m = load(args[0])
    with open(args[1]) as f:
        reals = json.load(f)
    with open(args[2]) as f:
        stats = {e["formatted"]["key"]: e["formatted"]["values"] for e in json.load(f)}
    with open(args[3]) as f:
        conns = json.load(f)["conns"]
    problems, checked = [], 0
    series = {}
    for n, l, v in m:
        if "real" in l:
            series.setdefault((n, l["real"]), []).append(v)
    used = set()
    for e in reals:
        r = e["formatted"]["value"]
        if not r["flags"] & 1:
            continue
        b = raw_bytes(e["value"])
        if r["family"] == 2:
            addr = socket.inet_ntop(socket.AF_INET, b[:4])
        else:
            addr = str(ipaddress.IPv6Address(b[:16]))
        used.add(addr)
        rid = e["formatted"]["key"]
        pk = sum(c["value"]["packets"] for c in stats[rid])
        by = sum(c["value"]["bytes"] for c in stats[rid])
        flows = len({(c["client"], c["vip"], c["protocol"]) for c in conns
                     if c["real"] == addr})
        for name, want in (("xdplb_real_packets_total", pk),
                           ("xdplb_real_bytes_total", by),
                           ("xdplb_tracked_flows", flows)):
            got = series.get((name, addr), [])
            if got != [want]:
                problems.append("%s{real=%s}: %s, want %d" % (name, addr, got, want))
        checked += 1
        print("real %s (id %d): %d packets, %d bytes, %d flows" % (addr, rid, pk, by, flows))
    extra = sorted({a for (_, a) in series} - used)
    if extra:
        problems.append("series of reals that are not there: %s" % extra)
    if not checked:
        problems.append("no reals")
    if problems:
        print("; ".join(problems))
        sys.exit(1)


def still_open(s):
    """Has the server left connection s open (nothing to read yet)?"""
    s.setblocking(False)
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def cmd_loris(args):
    """loris HOST PORT N SECS: slowloris. Hold N connections that each send
    a request head a byte at a time (one byte per connection every 0.5 s,
    never its end) for SECS; open a new one for each the server closes, as
    the attack does. Then, after a second without new connections, count
    those still open. Prints one line of JSON."""
    host, port, n, secs = args[0], int(args[1]), int(args[2]), float(args[3])
    head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
    born, sent, opened, refused, longest = {}, 0, 0, 0, 0.0

    def connect():
        nonlocal opened, refused
        try:
            s = socket.create_connection((host, port), timeout=1)
        except OSError:
            refused += 1
            return None
        s.setblocking(False)
        opened += 1
        born[s] = time.monotonic()
        return s

    def gone(s):
        nonlocal longest
        longest = max(longest, time.monotonic() - born.pop(s))
        s.close()

    socks = [connect() for _ in range(n)]
    t0, pos = time.monotonic(), 0
    while time.monotonic() - t0 < secs:
        for i, s in enumerate(socks):
            if s is not None:
                try:
                    s.send(head[pos:pos + 1])
                    sent += 1
                    continue
                except OSError:
                    gone(s)
            socks[i] = connect()
        pos += 1
        time.sleep(0.5)
    time.sleep(1)
    still = sum(still_open(s) for s in socks if s is not None)
    for s in socks:
        if s is not None:
            gone(s)
    print(json.dumps({"opened": opened, "refused": refused, "bytes": sent,
                      "still_open": still, "longest_s": round(longest, 1)}))


def cmd_hold(args):
    """hold HOST PORT N SRC...: from each source address SRC open N
    connections that send nothing; a second later print how many the
    server still holds open."""
    host, port, n = args[0], int(args[1]), int(args[2])
    socks = []
    for src in args[3:]:
        for _ in range(n):
            s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            s.bind((src, 0))
            s.settimeout(2)
            try:
                s.connect((host, port))
            except OSError:
                s.close()
                continue
            socks.append(s)
    time.sleep(1)
    print("%d of %d held" % (sum(still_open(s) for s in socks), len(socks)))
    for s in socks:
        s.close()


def cmd_raw(args):
    """raw HOST PORT REQUEST [body]: send REQUEST (Python escapes) whole,
    read the answer to the end; print its status line and body length (and
    with body, the whole answer)."""
    s = socket.create_connection((args[0], int(args[1])), timeout=3)
    s.sendall(args[2].encode().decode("unicode_escape").encode("latin-1"))
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except OSError as e:
        print("error: %r after %r" % (e, data[:80]))
        return
    head, _, body = data.partition(b"\r\n\r\n")
    print("%s, body %d bytes" % (head.split(b"\r\n")[0].decode(errors="replace")
                                or "(closed)", len(body)))
    if args[3:] == ["body"]:
        print(data.decode(errors="replace"))


CMDS = {"check": cmd_check, "value": cmd_value, "compare": cmd_compare,
        "loris": cmd_loris, "hold": cmd_hold, "raw": cmd_raw}

if __name__ == "__main__":
    CMDS[sys.argv[1]](sys.argv[2:])
PYEOF
}

# exporter_start NAME ARGS...: `xdplb ARGS...` (exporter or daemon) in the LB
# namespace in the background, its stderr in $T_TMP/NAME.log; its pid in
# EXP_PID; killed when the test ends.
exporter_start() {
	local name=$1
	shift
	nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" "$@" \
		</dev/null 2>"$T_TMP/$name.log" &
	EXP_PID=$!
	on_exit "kill -9 $EXP_PID"
}

# wait_http URL: wait (3 s at most) until URL answers in the LB namespace.
wait_http() {
	local i
	for ((i = 0; i < 30; i++)); do
		lb_ns_exec curl -sS -g -m 1 -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing answers at $1 after 3 s"
}

# scrape URL FILE: GET URL into FILE in the LB namespace; fail unless it is 200.
scrape() {
	local code
	code=$(lb_ns_exec curl -sS -g -m 5 -o "$2" -w '%{http_code}' "$1" 2>&1) ||
		fail "curl $1: $code"
	[[ $code == 200 ]] || fail "GET $1: HTTP $code"
}

# metric FILE NAME [LABEL=VALUE...]: the value of the one matching sample.
metric() {
	local v
	v=$(exp_py value "$@") || fail "$v"
	echo "$v"
}

# check_metrics FILE: strict parse, and promtool's where it is installed.
check_metrics() {
	local out
	out=$(exp_py check "$1") || fail "/metrics does not parse: $out"
	log "strict parser: $out"
	if command -v promtool >/dev/null; then
		out=$(promtool check metrics <"$1" 2>&1) || fail "promtool check metrics: $out"
		log "promtool check metrics: ok"
	else
		log "promtool not installed: strict parser only"
	fi
}

# /metrics parses; its per-real counters are bpftool's sums over CPUs and its
# tracked flows those `conns` lists; the verdicts add up; IPv6 listens too;
# a scrape at the default table size takes well under a second.
test_exporter_metrics() {
	local m=$T_TMP/metrics t secs rx sum v
	require_cmd bpftool
	lb_fresh "$VIP4:80" "[$VIP6]:80"
	add_reals "$VIP4:80" 1 r1 r2
	add_reals "[$VIP6]:80" 1 r3
	exporter_start exporter exporter --listen "[::1]:$EXP_PORT"
	wait_http "http://[::1]:$EXP_PORT/metrics"
	t=$(http_burst 30 "$VIP4")
	expect_dist "$t" --total 30
	t=$(http_burst 10 "$VIP6")
	expect_dist "$t" --total 10

	secs=$(lb_ns_exec curl -sS -g -m 5 -o "$m" -w '%{time_total}' \
		"http://[::1]:$EXP_PORT/metrics") || fail "scrape: $secs"
	log "scrape took ${secs}s"
	awk -v s="$secs" 'BEGIN { exit !(s < 0.5) }' || fail "a scrape took ${secs}s (want < 0.5)"
	check_metrics "$m"
	bpftool -j map dump pinned "$PIN/reals" >"$T_TMP/reals.json" || fail "bpftool dump reals"
	bpftool -j map dump pinned "$PIN/real_stats" >"$T_TMP/real_stats.json" ||
		fail "bpftool dump real_stats"
	xlb -j conns >"$T_TMP/conns.json" || fail "conns: $(cat "$T_TMP/conns.json")"
	t=$(exp_py compare "$m" "$T_TMP/reals.json" "$T_TMP/real_stats.json" "$T_TMP/conns.json") ||
		fail "metrics differ from the maps: $t"
	log "$t"

	# Every frame has one verdict; the service counts its reals.
	rx=$(metric "$m" xdplb_rx_packets_total)
	sum=0
	for v in tx,forwarded pass,not_ip pass,not_l4 pass,not_service pass,ipv6_ext \
		drop,truncated drop,malformed drop,fragment drop,no_real; do
		sum=$((sum + $(metric "$m" xdplb_packets_total "verdict=${v%,*}" "reason=${v#*,}")))
	done
	((sum == rx)) || fail "verdicts add up to $sum, rx_packets is $rx"
	v=$(($(metric "$m" xdplb_real_packets_total "real=$(lab_ip4 r1)") +
		$(metric "$m" xdplb_real_packets_total "real=$(lab_ip4 r2)")))
	[[ $(metric "$m" xdplb_service_packets_total "vip=$VIP4:80/tcp") == "$v" ]] ||
		fail "service $VIP4:80/tcp is not the sum of its reals ($v)"
	[[ $(metric "$m" xdplb_real_weight "real=$(lab_ip6 r3)" "vip=[$VIP6]:80/tcp") == 1 ]] ||
		fail "no weight 1 for r3 of [$VIP6]:80/tcp"
	[[ $(metric "$m" xdplb_info interface=eth0 mode=native) == 1 ]] || fail "xdplb_info"
	((v >= 30)) || fail "only $v packets forwarded to VIP4's reals"
}

# The HTTP server: HEAD, keep-alive, the headers of every answer, 404, 405
# with Allow, 400, 413, 431, 505, HTTP/1.0; error answers say nothing of the
# request; IPv4.
test_exporter_http() {
	local h t out url=http://127.0.0.1:$EXP_PORT
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1
	exporter_start exporter exporter --listen "127.0.0.1:$EXP_PORT"
	wait_http "$url/"

	h=$(lb_ns_exec curl -sS -m 2 -I "$url/metrics" | tr -d '\r') || fail "HEAD: $h"
	grep -q '^HTTP/1.1 200' <<<"$h" || fail "HEAD /metrics: $h"
	grep -q '^Content-Type: text/plain; version=0.0.4' <<<"$h" || fail "HEAD content type: $h"
	grep -q '^Cache-Control: no-store' <<<"$h" && grep -q '^X-Content-Type-Options: nosniff' <<<"$h" ||
		fail "no Cache-Control or X-Content-Type-Options: $h"
	h=$(lb_ns_exec curl -sS -m 2 -I "$url/" | tr -d '\r') || fail "HEAD /: $h"
	grep -q "^Content-Security-Policy: default-src 'none'" <<<"$h" || fail "no CSP on /: $h"
	exp_py check /dev/null >/dev/null # writes the helper, used below from the LB
	out=$(lb_ns_exec /usr/bin/python3 "$T_TMP/exporter.py" raw 127.0.0.1 "$EXP_PORT" \
		'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
	[[ $out == "HTTP/1.1 200 OK, body 0 bytes" ]] || fail "HEAD /: $out"
	# Keep-alive: three requests, one connection.
	out=$(lb_ns_exec curl -sS -m 5 -o /dev/null -o /dev/null -o /dev/null \
		-w '%{http_code}:%{num_connects} ' "$url/metrics" "$url/status.json" "$url/") ||
		fail "keep-alive: $out"
	[[ $out == "200:1 200:0 200:0 " ]] || fail "keep-alive: '$out', want 200:1 200:0 200:0"
	h=$(lb_ns_exec curl -sS -m 2 -i -X POST "$url/metrics" | tr -d '\r')
	grep -q '^HTTP/1.1 405' <<<"$h" && grep -q '^Allow: GET, HEAD' <<<"$h" || fail "POST: $h"
	for t in "/nope:404" "/status.json:200" "/metrics?x=1:200" "/metrics/:404" "/%6detrics:200"; do
		out=$(lb_ns_exec curl -sS -m 2 -o /dev/null -w '%{http_code}' "$url${t%:*}")
		[[ $out == "${t##*:}" ]] || fail "GET ${t%:*}: $out, want ${t##*:}"
	done
	out=$(lb_ns_exec curl -sS -m 2 "$url/status.json") || fail "GET /status.json: $out"
	[[ $(jget "$out" 'd["services"][0]["reals"][0]["health"]') == up ]] ||
		fail "status.json has no real up: $out"
	# Bad requests: libmicrohttpd's fixed answers or ours, never an echo
	# of the request (the marker must not come back).
	for t in 'GET /\r\n\r\n:400' 'GET /MARK HTTP/1.1\r\n\r\n:400' \
		'GET /MARK HTTP/1.1\r\nHost: x\r\nbad MARK header\r\n\r\n:400' \
		'GET /MARK HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n:400' \
		'GET /MARK HTTP/2.0\r\n\r\n:505' 'BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n:405' \
		'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nMARKS:413' \
		'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: MARK\r\n\r\n:400' \
		"GET / HTTP/1.1\\r\\nHost: x\\r\\nX-MARK: $(head -c 9000 /dev/zero | tr '\0' a)\\r\\n\\r\\n:431" \
		"GET /$(head -c 20000 /dev/zero | tr '\0' a)MARK HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n:414" \
		'GET /metrics HTTP/1.0\n\n:200'; do
		out=$(lb_ns_exec /usr/bin/python3 "$T_TMP/exporter.py" raw 127.0.0.1 "$EXP_PORT" "${t%:*}" body 2>&1)
		[[ $out == "HTTP/1.1 ${t##*:} "* ]] || fail "request ${t:0:40}...: '${out%%$'\n'*}', want ${t##*:}"
		[[ $out != *MARK* ]] || fail "the answer to ${t:0:40}... echoes the request: ${out:0:300}"
	done
	out=$(lb_ns_exec /usr/bin/python3 "$T_TMP/exporter.py" raw 127.0.0.1 "$EXP_PORT" \
		'GET /MARK<script> HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' body)
	[[ $out == *"404"* && $out != *MARK* ]] || fail "a 404 echoes the request: $out"
	kill -0 "$EXP_PID" 2>/dev/null || fail "the exporter died: $(tail -n 2 "$T_TMP/exporter.log")"
}

# Slowloris: from the client, 400 connections that trickle a request head a
# byte at a time (and reconnect when closed) for 15 s, while the LB's own
# address scrapes /metrics 60 times. Every scrape succeeds; the client never
# holds more than the per-client limit (16) open, and none longer than the
# request deadline (10 s) and slack.
test_exporter_slowloris() {
	local url out ok=0 i code pid
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1 r2
	exporter_start exporter exporter --listen "0.0.0.0:$EXP_PORT"
	url=http://127.0.0.1:$EXP_PORT/metrics
	wait_http "$url"
	exp_py check /dev/null >/dev/null
	client /usr/bin/python3 "$T_TMP/exporter.py" loris "$LB_IP4" "$EXP_PORT" 400 15 \
		>"$T_TMP/loris.out" 2>&1 &
	pid=$!
	sleep 2
	for ((i = 0; i < 60; i++)); do
		code=$(lb_ns_exec curl -s -m 2 -o /dev/null -w '%{http_code}' "$url")
		[[ $code == 200 ]] && ok=$((ok + 1))
		sleep 0.2
	done
	wait "$pid"
	out=$(cat "$T_TMP/loris.out")
	log "slowloris from $CLIENT_IP4: $out"
	log "scrapes during the attack: $ok of 60 succeeded"
	((ok == 60)) || fail "only $ok of 60 scrapes succeeded during the slowloris attack ($out)"
	kill -0 "$EXP_PID" 2>/dev/null || fail "the exporter died: $(tail -n 2 "$T_TMP/exporter.log")"
	(($(jget "$out" 'd["opened"]') >= 400)) || fail "the attack did not open 400 connections: $out"
	(($(jget "$out" 'd["still_open"]') <= 16)) || fail "one client holds more than 16 connections: $out"
	(($(jget "$out" 'int(d["longest_s"])') <= 12)) ||
		fail "a slow connection lived past the 10 s deadline: $out"
	# And the server is whole afterwards: a scrape from the client itself.
	out=$(client curl -sS -m 2 -o /dev/null -w '%{http_code}' "http://$LB_IP4:$EXP_PORT/metrics")
	[[ $out == 200 ]] || fail "the attacking client cannot scrape after the attack: $out"
}

# One IPv6 client is its /64: 40 connections from 20 addresses of the client's
# /64 leave 16 open; IPv4 clients of a dual-stack listener count by address.
test_exporter_client_v6() {
	local i srcs=() out url="http://[::1]:$EXP_PORT/metrics"
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1
	exporter_start exporter exporter --listen "[::]:$EXP_PORT"
	wait_http "$url"
	for ((i = 1; i <= 20; i++)); do
		srcs+=("fd00:18::1:$i")
		ip -n "$LAB-client" addr add "fd00:18::1:$i/64" dev eth0 nodad ||
			fail "cannot add fd00:18::1:$i to the client"
	done
	on_exit "for a in ${srcs[*]}; do ip -n $LAB-client addr del \$a/64 dev eth0; done"
	exp_py check /dev/null >/dev/null
	out=$(client /usr/bin/python3 "$T_TMP/exporter.py" hold "$(lab_ip6 lb)" "$EXP_PORT" 2 "${srcs[@]}")
	log "one /64, 20 addresses: $out"
	[[ $out == "16 of 40 held" ]] || fail "one IPv6 /64: $out, want 16 of 40 held"
	out=$(client /usr/bin/python3 "$T_TMP/exporter.py" hold "$LB_IP4" "$EXP_PORT" 20 "$CLIENT_IP4")
	log "IPv4 on a dual-stack listener: $out"
	[[ $out == "16 of 20 held" ]] || fail "one IPv4 client on [::]: $out, want 16 of 20 held"
	scrape "$url" "$T_TMP/metrics"
}

# An exec check's command line (a secret in it) is never served: /, /status.json
# and /metrics say "exec" only; the local list and save still show it.
test_exporter_redact() {
	local secret=hunter2-SECRET-7f3a url=http://127.0.0.1:$EXP_PORT p out
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1
	out=$(xlb set-vip "$VIP4:80" --check "exec:/usr/local/bin/check-db --password=$secret" \
		--interval 5 --timeout 2 2>&1) || fail "set-vip --check exec: $out"
	xlb list | grep -q -- "$secret" || fail "list does not show the command line"
	xlb save | grep -q -- "$secret" || fail "save does not show the command line"
	exporter_start exporter exporter --listen "127.0.0.1:$EXP_PORT"
	wait_http "$url/"
	for p in / /status.json /metrics; do
		scrape "$url$p" "$T_TMP/page"
		grep -q -- "$secret\|check-db" "$T_TMP/page" && fail "GET $p shows the exec command line"
	done
	out=$(lb_ns_exec curl -sS -m 2 "$url/status.json")
	[[ $(jget "$out" 'd["services"][0]["check"]') == exec ]] || fail "status.json's check is not 'exec': $out"
	scrape "$url/" "$T_TMP/page"
	grep -q 'check exec every 5 s' "$T_TMP/page" || fail "the page does not say it is an exec check"
	return 0
}

# The exporter keeps no capabilities and sets no_new_privs once it serves,
# and still serves an instance detached and attached again.
test_exporter_privileges() {
	local st url=http://127.0.0.1:$EXP_PORT/metrics
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1
	exporter_start exporter exporter --listen "127.0.0.1:$EXP_PORT"
	wait_http "$url"
	st=$(grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' "/proc/$EXP_PID/status" | tr -s '\t' ' ')
	log "$(tr '\n' ' ' <<<"$st")"
	grep -q 'NoNewPrivs: 1' <<<"$st" || fail "no_new_privs is not set: $st"
	[[ $(grep -c ': 0000000000000000$' <<<"$st") == 5 ]] || fail "the exporter kept capabilities: $st"
	grep -q 'keeps no capabilities' "$T_TMP/exporter.log" || fail "no word of it in the log"
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r2
	scrape "$url" "$T_TMP/metrics"
	[[ $(metric "$T_TMP/metrics" xdplb_real_up "real=$(lab_ip4 r2)") == 1 ]] ||
		fail "the exporter without capabilities does not serve the new instance"
}

# daemon --listen serves the same, and a scrape loop does not slow its checks:
# a real whose server dies is down within 2 s, and /metrics says so.
test_exporter_daemon() {
	local conf=$T_TMP/exp-daemon.conf m=$T_TMP/metrics out before t pid
	daemon_fresh "$conf" "--check tcp --interval 0.5 --timeout 0.3 --fall 2" r1 r2 -- \
		--listen "127.0.0.1:$EXP_PORT"
	wait_http "http://127.0.0.1:$EXP_PORT/metrics"
	t=$(http_burst 10 "$VIP4")
	expect_dist "$t" --total 10
	scrape "http://127.0.0.1:$EXP_PORT/metrics" "$m"
	check_metrics "$m"
	[[ $(metric "$m" xdplb_real_up "real=$(lab_ip4 r2)") == 1 ]] || fail "r2 is not up in /metrics"
	grep -q "metrics and status page on 127.0.0.1:$EXP_PORT" "$DAEMON_LOG" ||
		fail "the daemon does not say where it listens: $(head -n 3 "$DAEMON_LOG")"

	# Scrapes back to back while r2 dies.
	lb_ns_exec bash -c 'end=$((SECONDS + 3)); while ((SECONDS < end)); do
		curl -s -m 1 -o /dev/null "$1"; done' _ "http://127.0.0.1:$EXP_PORT/metrics" &
	pid=$!
	health_after r2 down stop_server r2
	wait "$pid"
	scrape "http://127.0.0.1:$EXP_PORT/metrics" "$m"
	[[ $(metric "$m" xdplb_real_up "real=$(lab_ip4 r2)") == 0 ]] || fail "r2 is not down in /metrics"
	[[ $(metric "$m" xdplb_service_reals_up "vip=$VIP4:80/tcp") == 1 ]] || fail "reals_up is not 1"
	daemon_alive

	# A second daemon on the same port: one line, exit 1, nothing changed.
	before=$(xlb -j list | nsutil config)
	out=$(xlb daemon --config "$conf" --listen "127.0.0.1:$EXP_PORT" 2>&1) &&
		fail "a second daemon on port $EXP_PORT started"
	[[ $(wc -l <<<"$out") == 1 && $out == *"Address already in use"* ]] ||
		fail "port in use: '$out'"
	[[ $(xlb -j list | nsutil config) == "$before" ]] || fail "the failed daemon changed the configuration"
	daemon_alive
}

# The status page in headless Chromium: after the script's refreshes the DOM
# has every real with its health and rates; a screenshot is kept.
test_exporter_page() {
	local url=http://127.0.0.1:$EXP_PORT/ dom=$T_TMP/page.html shot chromium h pid
	chromium=$(command -v chromium || command -v chromium-browser) ||
		skip "needs chromium, not installed (make test installs it)"
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1 r2 r3
	xlb set-real --vip "$VIP4:80" "$(lab_ip4 r3)" --weight 0 >/dev/null || fail "set-real"
	exporter_start exporter exporter --listen "127.0.0.1:$EXP_PORT"
	wait_http "$url"
	mkdir -p "$EXP_OUT" || fail "cannot make $EXP_OUT"
	shot=$EXP_OUT/exporter-status-page.png
	rm -f "$shot"

	# Traffic while the page samples.
	client bash -c 'end=$((SECONDS + 6)); while ((SECONDS < end)); do
		curl -s -m 1 -o /dev/null "http://$1/"; done' _ "$VIP4" &
	pid=$!
	sleep 1
	# --virtual-time-budget: the page's timers run 5 s of virtual time (the
	# first fetch, then two refreshes) before the DOM is taken.
	local flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
		--user-data-dir="$T_TMP/chromium" --virtual-time-budget=5000)
	lb_ns_exec "$chromium" "${flags[@]}" --window-size=1100,420 --screenshot="$shot" "$url" \
		>"$T_TMP/chromium.log" 2>&1 || fail "chromium --screenshot: $(tail -n 1 "$T_TMP/chromium.log")"
	lb_ns_exec "$chromium" "${flags[@]}" --dump-dom "$url" >"$dom" 2>>"$T_TMP/chromium.log" ||
		fail "chromium --dump-dom: $(tail -n 1 "$T_TMP/chromium.log")"
	wait "$pid"
	[[ -s $shot ]] || fail "no screenshot at $shot"
	log "screenshot: $shot"

	grep -Eq 'data-samples="[2-9]' "$dom" || fail "the script did not refresh twice: $(grep -o '<body[^>]*>' "$dom")"
	grep -q '<span id="state" class="live">live' "$dom" || fail "the page is not live: $(grep -o '<span id="state".*</span>' "$dom" | head -c 200)"
	for h in r1 r2 r3; do
		grep -q "<tr class=\"real\" data-real=\"$(lab_ip4 "$h")\" data-health=\"up\">" "$dom" ||
			fail "no row of $h up in the DOM"
	done
	grep -q 'badge drain">drained' "$dom" || fail "r3 (weight 0) is not shown drained"
	# Rates computed from two samples: numbers, no dash. (Under virtual
	# time the samples are milliseconds apart in real time, and the rates
	# mostly 0: they use the server's sampled_at.)
	grep -q '<td class="num rate">&ndash;\|<td class="num rate">–' "$dom" &&
		fail "a rate still shows a dash after two samples"
	grep -Eq '<td class="num rate">[0-9][0-9.]*( [kMGT])?B?</td>' "$dom" ||
		fail "no rate in the DOM"
	grep -Eq '(src|href)="(https?:)?//' "$dom" && fail "the page loads something from elsewhere"
	return 0
}

# A bad --listen is one line and exit 1, whatever is wrong with it; no
# --listen is a usage error.
test_exporter_bad_listen() {
	local l out rc
	lb_fresh "$VIP4:80"
	for l in nonsense 127.0.0.1 127.0.0.1:0 127.0.0.1:65536 ::1:9100 '[::1]:80/udp' \
		999.0.0.1:80 '[::1]' ''; do
		out=$(xlb exporter --listen "$l" 2>&1)
		rc=$?
		((rc == 1)) || fail "--listen '$l': exit $rc, want 1 ($out)"
		[[ $(wc -l <<<"$out") == 1 && $out == *"bad listen address"* ]] ||
			fail "--listen '$l': '$out'"
	done
	exporter_start exporter exporter --listen "127.0.0.1:$EXP_PORT2"
	wait_http "http://127.0.0.1:$EXP_PORT2/"
	out=$(xlb exporter --listen "127.0.0.1:$EXP_PORT2" 2>&1)
	rc=$?
	((rc == 1)) && [[ $(wc -l <<<"$out") == 1 && $out == *"Address already in use"* ]] ||
		fail "port in use: exit $rc, '$out'"
	log "port in use: $out"
	out=$(xlb exporter 2>&1)
	rc=$?
	((rc == 2)) || fail "no --listen: exit $rc, want 2 ($out)"
	return 0
}
