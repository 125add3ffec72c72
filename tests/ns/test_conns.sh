# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_conns.sh - the connection table: long transfers keep their real through
# adds, weight changes and drains; a second load balancer with an empty table
# takes running transfers over; conns and flow report what the data path does;
# src-ip persistence; one-packet scheduling for UDP; bad input refused.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(long_transfers lb_takeover conns_and_flow src_ip_persistence udp_ops
	bad_input_conns)

# ---------------------------------------------------------------- helpers

# fetch_start NAME N BYTES RATE: N concurrent paced downloads of BYTES at
# RATE bytes/s from the client (the namespace LAB-FETCH_FROM when set) to
# VIP4:80, in the background (nsutil fetch). Sets FETCH_PID;
# $T_TMP/NAME.started gets "PORT REAL" per started download.
fetch_start() {
	local name=$1
	: >"$T_TMP/$name.started"
	# nsenter itself, not the client function: $! must be python's pid.
	nsenter --net="/var/run/netns/$LAB-${FETCH_FROM:-client}" -- /usr/bin/python3 "$T_NSUTIL" fetch \
		"$2" "$VIP4" 80 "$3" "$4" "$T_TMP/$name.started" \
		</dev/null >"$T_TMP/$name.json" 2>"$T_TMP/$name.err" &
	FETCH_PID=$!
	on_exit "kill $FETCH_PID"
}

# fetch_wait_started NAME N: wait (5 s at most) until N downloads have their
# response headers.
fetch_wait_started() {
	local i n=0
	for ((i = 0; i < 50; i++)); do
		n=$(wc -l <"$T_TMP/$1.started")
		((n >= $2)) && return 0
		kill -0 "$FETCH_PID" 2>/dev/null ||
			fail "downloads ended before all started: $(cat "$T_TMP/$1.err" "$T_TMP/$1.json")"
		sleep 0.1
	done
	fail "only $n of $2 downloads started within 5 s"
}

# fetch_running NAME WHAT: fail unless the downloads are still running (so
# WHAT really happened in the middle of them).
fetch_running() {
	kill -0 "$FETCH_PID" 2>/dev/null ||
		fail "the downloads were over before $2 was done: the test proves nothing (slow machine?)"
}

# fetch_wait NAME N BYTES RATE: wait for the downloads; fail unless all N
# delivered every byte of the pattern and took at least 80% of BYTES/RATE
# (they were paced, so they spanned what the test did meanwhile). Not in a
# $(...): it fails the test.
fetch_wait() {
	local res min v p
	wait "$FETCH_PID"
	res=$(<"$T_TMP/$1.json")
	log "$1: downloads: $res"
	[[ -n $res ]] || fail "$1: no result from the downloads: $(cat "$T_TMP/$1.err")"
	v=$(jget "$res" 'd["ok"]')
	((v == $2)) || {
		# What the main instance's table says about the broken ones.
		for p in $(jget "$res" "' '.join(str(x['port']) for x in d['transfers'] if not x['ok'])"); do
			log "broken download from port $p: conns entries $(xlb -j conns |
				nsutil get "[x for x in d['conns'] if x['client'] == '$CLIENT_IP4:$p']")"
		done
		fail "$v of $2 downloads complete and intact; first error: $(jget "$res" 'd.get("first_error")')"
	}
	min=$(jget "$res" "int(1000 * min(x['secs'] for x in d['transfers']))")
	(($(jget "$res" "int(1000 * 0.8 * $3 / $4)") <= min)) ||
		fail "a download took only ${min} ms: not paced, so it spanned nothing"
}

# started_json NAME: the started file as JSON {"PORT": "REAL"}.
started_json() {
	awk 'BEGIN { printf "{" } { printf "%s\"%s\": \"%s\"", (NR > 1 ? ", " : ""), $1, $2 }
		END { print "}" }' "$T_TMP/$1.started"
}

# Python (for jget) for the lab address of a real's name: r1 -> 198.18.0.11.
PY_ADDR='(lambda n: "198.18.0.%d" % (10 + int(n[1:])))'

# conns_missing CONNS STARTED: the started downloads (port: real) that CONNS
# (conns -j) does not list as a TCP flow from the client to VIP4:80 on the
# real that answered it; prints [] when none.
conns_missing() {
	jget "[$1, $2]" "[p for p, r in sorted(d[1].items()) if not any(c['protocol'] == 'tcp' and c['client'] == '$CLIENT_IP4:' + p and c['vip'] == '$VIP4:80' and c['real'] == $PY_ADDR(r) for c in d[0]['conns'])]"
}

# The second load balancer (lb_takeover): lab-lib.sh's lb2, namespace
# LAB-lb2 on the lab's bridge, port lb2, no VIP (so it never answers ARP for
# it).
LB2_MAC=$(lab_mac lb2)

# Python (for nsutil get) over `list -j`: the services with reals sorted.
PY_SVCS='sorted((dict(s, reals=sorted(s["reals"], key=lambda r: r["address"])) for s in d["services"]), key=lambda s: s["vip"])'

# xlb2 ARGS...: xdplb on the second load balancer's instance.
xlb2() { nsenter --net="$LB2_NS" -- "$XDPLB" --pin-dir "$PIN_LB2" "$@"; }

# lb2_down: detach its instance, delete its namespace (its veth pair and
# bridge port go with it) and its pin dir. Idempotent.
lb2_down() {
	if [[ -e $PIN_LB2/config && -e $LB2_NS ]]; then
		xlb2 detach eth0 >/dev/null 2>&1 || log "lb2_down: detach failed"
	fi
	[[ ! -e $LB2_NS ]] || ip netns del "$LAB-lb2"
	rm -rf "$PIN_LB2"
}

# lb2_up: build the second load balancer's host as lab-lib.sh builds `lb`
# (lab_add_lb: tx checksum offload off on both ends, an XDP_PASS program on
# the bridge side so its XDP_TX frames are delivered: shared/LAB.md gotchas 1
# and 2).
lb2_up() {
	local out
	lb2_down
	on_exit lb2_down
	out=$(lab_add_lb lb2 2>&1) || fail "cannot build $LAB-lb2: $out"
}

# stat_grew S0 S1 NAME: how much global counter NAME grew from stats S0 to S1.
stat_grew() { jget "[$1, $2]" "d[1]['global']['$3'] - d[0]['global']['$3']"; }

# ---------------------------------------------------------------- tests

# Paced downloads keep every byte while a real is added, weights change, the
# table size changes and the busiest real is drained; the table lists each of them on the real that
# answers it; new connections after the drain avoid the drained real.
test_long_transfers() {
	local n=40 size=360000 rate=60000 st c v busiest others=() h out s0 s1 t f port
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1 r2 r3
	s0=$(xlb -j stats) || fail "stats: $s0"
	fetch_start long "$n" "$size" "$rate"
	fetch_wait_started long "$n"
	st=$(started_json long)
	log "started (port: real): $st"

	c=$(xlb -j conns) || fail "conns: $c"
	v=$(conns_missing "$c" "$st")
	[[ $v == "[]" ]] || fail "conns does not list these downloads (client port) on their real: $v; conns: $c"

	# Drain the real with the most downloads; reweigh the other two.
	busiest=$(jget "$st" 'max(sorted(set(d.values())), key=lambda r: list(d.values()).count(r))')
	for h in r1 r2 r3; do [[ $h == "$busiest" ]] || others+=("$h"); done
	log "busiest: $busiest; others: ${others[*]}"

	add_reals "$VIP4:80" 1 r4
	sleep 0.5
	out=$(xlb set-real --vip "$VIP4:80" "$(lab_ip4 "${others[0]}")" --weight 3 2>&1) ||
		fail "set-real ${others[0]} --weight 3: $out"
	out=$(xlb set-real --vip "$VIP4:80" "$(lab_ip4 "${others[1]}")" --weight 2 2>&1) ||
		fail "set-real ${others[1]} --weight 2: $out"
	sleep 0.5
	# A new table size re-places every Maglev slot.
	out=$(xlb set-vip "$VIP4:80" --table-size 1009 2>&1) || fail "set-vip --table-size 1009: $out"
	v=$(xlb -j list) || fail "list after set-vip: $v"
	v=$(jget "$v" "[s['table_size'] for s in d['services']]")
	[[ $v == "[1009]" ]] || fail "after set-vip --table-size 1009, list shows table sizes $v"
	sleep 0.5
	out=$(xlb set-real --vip "$VIP4:80" "$(lab_ip4 "$busiest")" --weight 0 2>&1) ||
		fail "set-real $busiest --weight 0: $out"

	# New connections: never the drained real; r4 takes its share.
	t=$(http_burst 60 "$VIP4")
	log "new connections after the drain: $t"
	expect_dist "$t" --total 60 --forbidden "$busiest" --required "${others[0]},${others[1]},r4"

	# Still tracked where they started; the drained real's ones too, though
	# Maglev now sends their slots elsewhere.
	c=$(xlb -j conns --vip "$VIP4:80") || fail "conns: $c"
	v=$(conns_missing "$c" "$st")
	[[ $v == "[]" ]] || fail "after the changes, conns no longer lists $v on their real; conns: $c"
	port=$(awk -v r="$busiest" '$2 == r { print $1; exit }' "$T_TMP/long.started")
	f=$(xlb -j flow --vip "$VIP4:80" "$CLIENT_IP4:$port") || fail "flow: $f"
	log "flow of a download on $busiest: $f"
	[[ $(jget "$f" "d['tracked'] and d['real'] == '$(lab_ip4 "$busiest")' and d.get('maglev_real') != d['real']") == true ]] ||
		fail "flow $CLIENT_IP4:$port: want tracked to the drained $busiest, Maglev elsewhere: $f"
	fetch_running long "the add, the weight changes, the new table size and the drain"

	fetch_wait long "$n" "$size" "$rate"
	s1=$(xlb -j stats) || fail "stats: $s1"
	v=$(stat_grew "$s0" "$s1" ct_hit)
	((v > 0)) || fail "ct_hit did not grow during $n long downloads"
	v=$(stat_grew "$s0" "$s1" drop_no_real)
	((v == 0)) || fail "drop_no_real grew by $v"
}

# A second load balancer, same services and reals (added in another order),
# empty connection table: the client's next hop for the VIP moves to it in
# the middle of paced downloads; every byte still arrives. It places the
# mid-flow packets by Maglev as the first one did, and tracks them (ct_new).
test_lb_takeover() {
	local n=4 size=360000 rate=60000 h out c st as a0 a1 a2 b0 b1 v res
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1 r2 r3
	lb2_up
	out=$(xlb2 attach eth0 --vip "$VIP4:80" 2>&1) || fail "attach on lb2: $out"
	for h in r3 r1 r2; do
		out=$(xlb2 add-real --vip "$VIP4:80" "$(lab_ip4 "$h")" --weight 1 2>&1) ||
			fail "add-real $h on lb2: $out"
	done
	# The services and their reals, without counters, in address order.
	a0=$(xlb -j list | nsutil config | nsutil get "$PY_SVCS") || fail "list on lb"
	b0=$(xlb2 -j list | nsutil config | nsutil get "$PY_SVCS") || fail "list on lb2"
	[[ $a0 == "$b0" ]] ||
		fail "the two load balancers differ: lb $a0, lb2 $b0"
	c=$(xlb2 -j conns) || fail "conns on lb2: $c"
	[[ $(jget "$c" 'd["count"]') == 0 ]] || fail "lb2's table is not empty: $c"

	as=$(xlb -j stats) || fail "stats: $as"
	fetch_start take "$n" "$size" "$rate"
	fetch_wait_started take "$n"
	st=$(started_json take)
	log "started (port: real): $st"
	sleep 1.5
	a0=$(xlb -j stats) || fail "stats: $a0"
	b0=$(xlb2 -j stats) || fail "stats on lb2: $b0"
	on_exit "nsenter --net=/var/run/netns/$LAB-client ip neigh del $VIP4 dev eth0"
	out=$(client ip neigh replace "$VIP4" lladdr "$LB2_MAC" dev eth0 nud permanent 2>&1) ||
		fail "ip neigh replace in the client: $out"
	sleep 0.5
	a1=$(xlb -j stats) || fail "stats: $a1"
	fetch_running take "the switch to lb2"
	fetch_wait take "$n" "$size" "$rate"
	a2=$(xlb -j stats) || fail "stats: $a2"
	b1=$(xlb2 -j stats) || fail "stats on lb2: $b1"
	log "lb2 stats after: $b1"

	v=$(stat_grew "$as" "$a0" tx_packets)
	((v >= 20)) || fail "lb forwarded only $v packets before the switch: the downloads did not go through it"
	v=$(stat_grew "$a1" "$a2" tx_packets)
	((v == 0)) || fail "lb still forwarded $v packets after the switch: not a takeover"
	v=$(stat_grew "$b0" "$b1" tx_packets)
	((v >= 20)) || fail "lb2 forwarded only $v packets during the takeover"
	v=$(stat_grew "$b0" "$b1" ct_new)
	((v >= n)) || fail "lb2's ct_new grew by $v, want >= $n (one per download at least)"
	v=$(stat_grew "$b0" "$b1" drop_no_real)
	((v == 0)) || fail "lb2 dropped $v packets for want of a real"
	c=$(xlb2 -j conns) || fail "conns on lb2: $c"
	v=$(conns_missing "$c" "$st")
	[[ $v == "[]" ]] || fail "lb2 does not track $v on the real that served them: $c"

	# Back to lb: the client resolves the VIP again, and lb answers (not
	# merely forwards: a frame to a MAC the bridge does not know is flooded,
	# and lb's XDP program would forward it too).
	out=$(client ip neigh del "$VIP4" dev eth0 2>&1) || fail "ip neigh del in the client: $out"
	lb2_down
	res=$(http_burst 6 "$VIP4")
	expect_dist "$res" --total 6 --allowed r1,r2,r3
	out=$(client ip neigh show "$VIP4" dev eth0)
	[[ $out == *"lladdr $(lab_mac lb) "* ]] || fail "the client's neighbour entry for $VIP4 is not lb's MAC: $out"
}

# conns lists each flow with its VIP, client and real; --vip filters; flow
# agrees with it for a tracked client, with Maglev for an unused one, and
# keeps a drained real's flow on it. del-real counts the flows it ends, and
# they leave the table.
test_conns_and_flow() {
	local t c cu call v cl r rname f out lo hi
	lb_fresh "$VIP4:80" "$VIP4:9000/udp"
	add_reals "$VIP4:80" 1 r1 r2 r3
	add_reals "$VIP4:9000/udp" 1 r1 r2 r3
	t=$(http_burst 20 "$VIP4")
	expect_dist "$t" --total 20
	t=$(udp_burst 5 "$VIP4" 9000)
	expect_dist "$t" --total 5

	c=$(xlb -j conns --vip "$VIP4:80") || fail "conns --vip $VIP4:80: $c"
	log "conns tcp: $c"
	cu=$(xlb -j conns --vip "$VIP4:9000/udp") || fail "conns --vip $VIP4:9000/udp: $cu"
	call=$(xlb -j conns) || fail "conns: $call"
	v=$(jget "$c" "d['count'] == len(d['conns']) and d['count'] >= 20 and all(x['protocol'] == 'tcp' and x['vip'] == '$VIP4:80' and x['client'].startswith('$CLIENT_IP4:') and x['real'] in ('$(lab_ip4 r1)', '$(lab_ip4 r2)', '$(lab_ip4 r3)') and x['age'] >= x['idle'] >= 0 for x in d['conns'])")
	[[ $v == true ]] || fail "conns --vip $VIP4:80 is not 20 or more TCP flows from the client on r1..r3: $c"
	v=$(jget "$cu" "d['count'] >= 5 and all(x['protocol'] == 'udp' and x['vip'] == '$VIP4:9000' for x in d['conns'])")
	[[ $v == true ]] || fail "conns --vip $VIP4:9000/udp is not 5 or more UDP flows: $cu"
	v=$(jget "[$c, $cu, $call]" 'd[2]["count"] == d[0]["count"] + d[1]["count"] == len(d[2]["conns"])')
	[[ $v == true ]] || fail "conns without --vip does not add up: $call"
	out=$(xlb conns) || fail "conns (text): $out"
	v=$(jget "$call" 'd["count"]')
	(($(wc -l <<<"$out") == v + 1)) || fail "text conns has $(wc -l <<<"$out") lines for $v flows"

	# A listed flow: flow says tracked, to the listed real.
	cl=$(jget "$c" 'd["conns"][0]["client"]')
	r=$(jget "$c" 'd["conns"][0]["real"]')
	rname=r$((${r##*.} - 10))
	f=$(xlb -j flow --vip "$VIP4:80" "$cl") || fail "flow $cl: $f"
	log "flow $cl: $f"
	[[ $(jget "$f" "d['tracked'] is True and d['real'] == '$r' and d['client'] == '$cl' and d['vip'] == '$VIP4:80/tcp' and d['hash'] == '5tuple' and 0 <= d['maglev_slot'] < 65537") == true ]] ||
		fail "flow $cl: want tracked to $r: $f"
	# A port no flow used: placed by Maglev, not tracked.
	f=$(xlb -j flow --vip "$VIP4:80" "$CLIENT_IP4:1") || fail "flow $CLIENT_IP4:1: $f"
	[[ $(jget "$f" "d['tracked'] is False and d['real'] == d['maglev_real'] and d['real'] in ('$(lab_ip4 r1)', '$(lab_ip4 r2)', '$(lab_ip4 r3)')") == true ]] ||
		fail "flow $CLIENT_IP4:1 (unused): want untracked, to its Maglev real: $f"

	# Drained: the tracked flow stays on it, Maglev looks elsewhere.
	out=$(xlb set-real --vip "$VIP4:80" "$r" --weight 0 2>&1) || fail "set-real $r --weight 0: $out"
	f=$(xlb -j flow --vip "$VIP4:80" "$cl") || fail "flow $cl: $f"
	[[ $(jget "$f" "d['tracked'] is True and d['real'] == '$r' and d['maglev_real'] != '$r'") == true ]] ||
		fail "flow $cl after draining $r: want tracked to $r, Maglev elsewhere: $f"

	# del-real: says how many tracked flows it ended (between the distinct
	# flows conns listed on it and its entries: a flow seen on two CPUs has
	# an entry on each); they are gone.
	lo=$(jget "$c" "len(set(x['client'] for x in d['conns'] if x['real'] == '$r'))")
	hi=$(jget "$c" "sum(1 for x in d['conns'] if x['real'] == '$r')")
	out=$(xlb del-real --vip "$VIP4:80" "$r" 2>&1) || fail "del-real $rname: $out"
	log "del-real: $out (conns listed $lo flows, $hi entries on it)"
	[[ $out =~ ([0-9]+)\ tracked\ flows?\ ended ]] || fail "del-real does not say how many tracked flows ended: $out"
	((lo >= 1 && lo <= BASH_REMATCH[1] && BASH_REMATCH[1] <= hi)) ||
		fail "del-real $rname says ${BASH_REMATCH[1]} tracked flows ended; conns listed $lo flows ($hi entries) on it"
	c=$(xlb -j conns --vip "$VIP4:80") || fail "conns: $c"
	v=$(jget "$c" "[x['client'] for x in d['conns'] if x['real'] == '$r']")
	[[ $v == "[]" ]] || fail "after del-real $rname, conns still lists flows on it: $v"
	f=$(xlb -j flow --vip "$VIP4:80" "$cl") || fail "flow $cl: $f"
	[[ $(jget "$f" "d['tracked'] is False and d['real'] != '$r'") == true ]] ||
		fail "flow $cl after del-real $rname: want untracked, elsewhere: $f"
	# The UDP service's flows on the same address are not the deleted real's.
	v=$(xlb -j conns --vip "$VIP4:9000/udp") || fail "conns: $v"
	[[ $(jget "[$cu, $v]" 'd[0]["count"] == d[1]["count"]') == true ]] ||
		fail "del-real on $VIP4:80 changed the UDP service's flows: before $cu, after $v"
}

# --hash src-ip: every connection of one client goes to one real; drained,
# they all go to one other real.
test_src_ip_persistence() {
	local out t first second f1 f2
	lb_reset
	out=$(xlb attach eth0 --vip "$VIP4:80" --hash src-ip 2>&1) ||
		fail "attach --vip $VIP4:80 --hash src-ip: $out"
	add_reals "$VIP4:80" 1 r1 r2 r3
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "svc(d, '$VIP4:80/tcp')['hash']") == src-ip ]] ||
		fail "list -j does not show hash src-ip: $out"

	t=$(http_burst 30 "$VIP4")
	log "src-ip: $t"
	expect_dist "$t" --total 30
	first=$(jget "$t" '",".join(sorted(k for k in d if k not in ("errors", "first_error")))')
	[[ $first == r[1-3] ]] || fail "30 connections of one client went to $first, want one real: $t"
	f1=$(xlb -j flow --vip "$VIP4:80" "$CLIENT_IP4:1") || fail "flow: $f1"
	f2=$(xlb -j flow --vip "$VIP4:80" "$CLIENT_IP4:54321") || fail "flow: $f2"
	[[ $(jget "[$f1, $f2]" "d[0]['hash'] == 'src-ip' and d[0]['maglev_slot'] == d[1]['maglev_slot'] and d[0]['maglev_real'] == d[1]['maglev_real'] == '$(lab_ip4 "$first")'") == true ]] ||
		fail "flow disagrees: two ports of the client, want one slot on $first: $f1 $f2"

	out=$(xlb set-real --vip "$VIP4:80" "$(lab_ip4 "$first")" --weight 0 2>&1) ||
		fail "set-real $first --weight 0: $out"
	t=$(http_burst 30 "$VIP4")
	log "src-ip, $first drained: $t"
	expect_dist "$t" --total 30 --forbidden "$first"
	second=$(jget "$t" '",".join(sorted(k for k in d if k not in ("errors", "first_error")))')
	[[ $second == r[1-3] ]] || fail "after draining $first, 30 connections went to $second, want one real"
}

# --ops: datagrams answered, each one scheduled on its own (ct_ops), none
# tracked. The same service without --ops (added with add-vip) tracks them.
test_udp_ops() {
	local out t s0 s1 c v
	lb_reset
	# No TCP service: a late segment of an earlier test's connection must not
	# make ct_new grow here.
	out=$(xlb attach eth0 --vip "$VIP4:9000/udp" --ops 2>&1) ||
		fail "attach --vip $VIP4:9000/udp --ops: $out"
	add_reals "$VIP4:9000/udp" 1 r1 r2 r3
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "svc(d, '$VIP4:9000/udp')['ops']") == true ]] ||
		fail "list -j does not show ops on $VIP4:9000/udp: $out"

	s0=$(xlb -j stats) || fail "stats: $s0"
	t=$(udp_burst 30 "$VIP4" 9000)
	log "ops: $t"
	expect_dist "$t" --total 30 --required r1,r2,r3
	s1=$(xlb -j stats) || fail "stats: $s1"
	v=$(stat_grew "$s0" "$s1" ct_ops)
	((v == 30)) || fail "ct_ops grew by $v for 30 datagrams"
	v=$(stat_grew "$s0" "$s1" ct_new)
	((v == 0)) || fail "ct_new grew by $v on an --ops service"
	c=$(xlb -j conns) || fail "conns: $c"
	[[ $(jget "$c" 'd["count"]') == 0 ]] || fail "conns lists flows of an --ops service: $c"

	out=$(xlb del-vip "$VIP4:9000/udp" 2>&1) || fail "del-vip: $out"
	out=$(xlb add-vip "$VIP4:9000/udp" 2>&1) || fail "add-vip $VIP4:9000/udp: $out"
	add_reals "$VIP4:9000/udp" 1 r1 r2 r3
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "svc(d, '$VIP4:9000/udp')['ops']") == false ]] ||
		fail "list -j shows ops on $VIP4:9000/udp added without --ops: $out"
	s0=$(xlb -j stats) || fail "stats: $s0"
	t=$(udp_burst 10 "$VIP4" 9000)
	expect_dist "$t" --total 10
	s1=$(xlb -j stats) || fail "stats: $s1"
	v=$(stat_grew "$s0" "$s1" ct_ops)
	((v == 0)) || fail "ct_ops grew by $v without --ops"
	c=$(xlb -j conns --vip "$VIP4:9000/udp") || fail "conns: $c"
	[[ $(jget "$c" "d['count'] == 10 and all(x['protocol'] == 'udp' for x in d['conns'])") == true ]] ||
		fail "without --ops, conns does not list the 10 UDP flows: $c"
}

# Bad options of the connection table, hash and ops, flow and conns: exit
# status, one line, nothing changed (bad_case, from test_cli.sh).
# shellcheck disable=SC2034 # CFG0 and PROG0 are read by bad_case
test_bad_input_conns() {
	local V="$VIP4:80"
	BAD=()
	# No instance: attach must fail and leave none.
	lb_reset
	CFG0=$(xlb -j list 2>/dev/null | nsutil config)
	PROG0=
	bad_case 1 'connection table size' "--conn-table-size 1000" \
		xlb attach eth0 --vip "$V" --conn-table-size 1000
	bad_case 1 'power of two' "--conn-table-size 3000" xlb attach eth0 --vip "$V" --conn-table-size 3000
	bad_case 1 '1024' "--conn-table-size 512" xlb attach eth0 --vip "$V" --conn-table-size 512
	bad_case 1 'connection table size' "--conn-table-size 8388608" \
		xlb attach eth0 --vip "$V" --conn-table-size 8388608
	bad_case 1 'rate' "--conn-rate 0" xlb attach eth0 --vip "$V" --conn-rate 0
	bad_case 1 'TCP timeout' "--tcp-timeout 0" xlb attach eth0 --vip "$V" --tcp-timeout 0
	bad_case 1 'UDP timeout' "--udp-timeout x" xlb attach eth0 --vip "$V" --udp-timeout x
	bad_case 1 'UDP' "attach --ops on TCP" xlb attach eth0 --vip "$V" --ops
	bad_case 1 'bogus' "attach --hash bogus" xlb attach eth0 --vip "$V" --hash bogus
	bad_case 2 'hash.*--vip|--vip.*hash' "attach --hash before --vip" \
		xlb attach eth0 --hash src-ip --vip "$V"
	bad_case 2 'ops.*--vip|--vip.*ops' "attach --ops before --vip" \
		xlb attach eth0 --ops --vip "$VIP4:9000/udp"
	[[ ! -e $PIN ]] || BAD+=("a refused attach left $PIN behind")

	lb_fresh "$V"
	add_reals "$V" 1 r1 r2
	CFG0=$(xlb -j list | nsutil config) || fail "list: $CFG0"
	PROG0=$(lb_xdp_prog eth0)
	bad_case 1 'UDP' "add-vip --ops on TCP" xlb add-vip "$VIP4:81" --ops
	bad_case 1 'bogus' "add-vip --hash bogus" xlb add-vip "$VIP4:81" --hash bogus
	bad_case 2 'vip' "flow without --vip" xlb flow "$CLIENT_IP4:1234"
	bad_case 1 'not-an-addr' "flow not-an-addr" xlb flow --vip "$V" not-an-addr
	bad_case 1 'client' "flow without a port" xlb flow --vip "$V" "$CLIENT_IP4"
	bad_case 1 'family' "flow IPv6 client, IPv4 VIP" xlb flow --vip "$V" "[$VIP6]:1234"
	bad_case 2 '.' "flow two clients" xlb flow --vip "$V" "$CLIENT_IP4:1" "$CLIENT_IP4:2"
	bad_case 1 'VIP' "flow unknown VIP" xlb flow --vip "$VIP4:81" "$CLIENT_IP4:1"
	bad_case 1 'VIP' "conns unknown VIP" xlb conns --vip "$VIP4:81"
	bad_case 2 '.' "conns extra argument" xlb conns extra
	bad_case 1 'error' "-j flow not-an-addr" xlb -j flow --vip "$V" not-an-addr
	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"
}
