# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_forward.sh - forwarding: HTTP and UDP over IPv4 and IPv6 reach the
# reals, replies go straight back to the client, weights shape the split.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(http_ipv4 http_ipv6 udp_ipv4 udp_ipv6 udp_fragments replies_bypass_lb
	weights_honoured)

# 60 curl requests to VIP4:80, equal weights: every one answered, by r1..r3 only,
# and all three take a share.
test_http_ipv4() {
	local t
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1 r2 r3
	t=$(curl_burst 60 "http://$VIP4/")
	log "tally: $t"
	expect_dist "$t" --total 60 --allowed r1,r2,r3 --required r1,r2,r3
}

test_http_ipv6() {
	local t
	lb_fresh "[$VIP6]:80"
	add_reals "[$VIP6]:80" 1 r1 r2 r3
	t=$(curl_burst 60 "http://[$VIP6]/")
	log "tally: $t"
	expect_dist "$t" --total 60 --allowed r1,r2,r3 --required r1,r2,r3
}

# UDP: 30 datagrams, each from a new socket (a new flow); every one answered.
test_udp_ipv4() {
	local t
	lb_fresh "$VIP4:9000/udp"
	add_reals "$VIP4:9000/udp" 1 r1 r2 r3
	t=$(udp_burst 30 "$VIP4" 9000)
	log "tally: $t"
	expect_dist "$t" --total 30 --allowed r1,r2,r3 --required r1,r2,r3
}

# The IPv6 UDP service is added to a running instance (add-vip), not at attach.
test_udp_ipv6() {
	local t out
	lb_fresh "[$VIP6]:80"
	out=$(xlb add-vip "[$VIP6]:9000/udp" 2>&1) || fail "add-vip [$VIP6]:9000/udp: $out"
	add_reals "[$VIP6]:9000/udp" 1 r1 r2 r3
	t=$(udp_burst 30 "$VIP6" 9000)
	log "tally: $t"
	expect_dist "$t" --total 30 --allowed r1,r2,r3 --required r1,r2,r3
}

# Datagrams of 4000 bytes, past the lab's 1500-byte MTU: the client's kernel
# sends each as three fragments, of which only the first has the ports. The
# first goes where its flow goes and the two later ones follow it, so the
# real gets the whole datagram, reassembles it and answers; datagrams of one
# client still spread over the reals (a 5-tuple service, not src-ip).
test_udp_fragments() {
	local t s0 s1 v out
	lb_fresh "$VIP4:9000/udp" "[$VIP6]:9000/udp"
	add_reals "$VIP4:9000/udp" 1 r1 r2 r3
	add_reals "[$VIP6]:9000/udp" 1 r1 r2 r3
	s0=$(xlb -j stats) || fail "stats: $s0"
	t=$(udp_burst 30 "$VIP4" 9000 4000)
	log "IPv4 tally: $t"
	expect_dist "$t" --total 30 --allowed r1,r2,r3 --required r1,r2,r3
	t=$(udp_burst 30 "$VIP6" 9000 4000)
	log "IPv6 tally: $t"
	expect_dist "$t" --total 30 --allowed r1,r2,r3 --required r1,r2,r3
	s1=$(xlb -j stats) || fail "stats: $s1"
	for v in frag_first:60 frag_fwd:120 frag_src_ip:0 drop_fragment:0; do
		out=$(jget "[$s0, $s1]" "d[1]['global']['${v%:*}'] - d[0]['global']['${v%:*}']")
		((out == ${v#*:})) || fail "${v%:*} grew by $out for 60 datagrams of 3 fragments, want ${v#*:}"
	done
}

# Direct routing: the LB sees requests only. tcpdump on the LB's eth0 must see
# no segment from VIP:80 (a reply), while it does see the ICMP echo the client
# sends the LB meanwhile (proof that it captured at all). xdplb's own counters
# agree: requests were forwarded (tx_packets and every serving real's packets
# grew), and no TCP segment that matches no service (what a reply would be)
# reached the program.
test_replies_bypass_lb() {
	local pcap=$T_TMP/replies.pcap err=$T_TMP/tcpdump.err tpid i t s0 s1 n_replies n_icmp
	require_cmd tcpdump
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1 r2 r3
	s0=$(xlb -j stats) || fail "stats: $s0"

	nsenter --net="$LB_NS" -- tcpdump -Z root -i eth0 -n -U --immediate-mode -w "$pcap" 'tcp port 80 or icmp' \
		2>"$err" &
	tpid=$!
	on_exit "kill -TERM $tpid; wait $tpid"
	for ((i = 0; i < 50; i++)); do
		grep -q 'listening on' "$err" 2>/dev/null && break
		kill -0 "$tpid" 2>/dev/null || fail "tcpdump died: $(tail -n 1 "$err")"
		sleep 0.1
	done
	grep -q 'listening on' "$err" || fail "tcpdump not listening after 5 s"

	t=$(curl_burst 30 "http://$VIP4/")
	client ping -c 2 -i 0.2 -W 1 "$LB_IP4" >/dev/null 2>&1 || fail "client cannot ping the LB"
	sleep 0.3
	kill -INT "$tpid"
	wait "$tpid"
	s1=$(xlb -j stats) || fail "stats: $s1"
	log "tally: $t"
	expect_dist "$t" --total 30 --allowed r1,r2,r3

	n_replies=$(tcpdump -r "$pcap" -n "src host $VIP4 and tcp src port 80" 2>/dev/null | wc -l)
	n_icmp=$(tcpdump -r "$pcap" -n "icmp and src host $CLIENT_IP4" 2>/dev/null | wc -l)
	log "tcpdump on the LB: $n_replies replies from $VIP4:80, $n_icmp ICMP from the client"
	((n_icmp >= 1)) || fail "tcpdump on the LB's eth0 saw not even the client's ping"
	((n_replies == 0)) || fail "$n_replies replies (src $VIP4:80) reached the LB's eth0"

	local grew_tx grew_pns h served pk
	grew_tx=$(jget "[$s0,$s1]" 'd[1]["global"]["tx_packets"] - d[0]["global"]["tx_packets"]')
	grew_pns=$(jget "[$s0,$s1]" \
		'd[1]["global"]["pass_not_service"] - d[0]["global"]["pass_not_service"]')
	log "tx_packets +$grew_tx, pass_not_service +$grew_pns"
	((grew_tx >= 4 * 30)) || fail "tx_packets grew by $grew_tx for 30 requests (< 4 each)"
	((grew_pns == 0)) || fail "pass_not_service grew by $grew_pns: TCP not for a service reached the LB"
	# Every real that answered has at least 4 packets per request counted.
	for h in r1 r2 r3; do
		served=$(jget "$t" "d.get('$h', 0)")
		pk=$(jget "$s1" "reals(d)['$(lab_ip4 "$h")']['packets']") || fail "$h not in stats: $s1"
		((pk >= 4 * served)) || fail "$h served $served requests but has $pk packets"
	done
}

# Weights 1, 2, 3: shares of 600 new flows within 7 points of 1/6, 2/6, 3/6.
test_weights_honoured() {
	local t
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1
	add_reals "$VIP4:80" 2 r2
	add_reals "$VIP4:80" 3 r3
	t=$(http_burst 600 "$VIP4" 80)
	log "tally: $t"
	expect_dist "$t" --total 600 --allowed r1,r2,r3 --weights r1=1,r2=2,r3=3 --tol 0.07
}
