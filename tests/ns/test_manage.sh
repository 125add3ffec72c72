# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_manage.sh - changing a running instance: drain a real, delete a real
# and a service, and read the counters back.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(drain delete counters)

# Weight 0 takes a real out of new flows; weight 1 brings it back.
test_drain() {
	local t out w
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1 r2 r3
	t=$(http_burst 60 "$VIP4")
	expect_dist "$t" --total 60 --required r1,r2,r3

	out=$(xlb set-real --vip "$VIP4:80" "$(lab_ip4 r2)" --weight 0 2>&1) ||
		fail "set-real r2 --weight 0: $out"
	out=$(xlb -j list) || fail "list: $out"
	w=$(jget "$out" "reals(d)['$(lab_ip4 r2)']['weight']") || fail "r2 gone from list: $out"
	((w == 0)) || fail "list -j shows r2 with weight $w after set-real --weight 0"
	out=$(xlb list) || fail "list: $out"
	awk -v a="$(lab_ip4 r2)" '$1 == "->" && $2 == a && $3 == 0 { ok = 1 } END { exit !ok }' \
		<<<"$out" || fail "text list does not show r2 with weight 0: $out"
	t=$(http_burst 60 "$VIP4")
	log "drained: $t"
	expect_dist "$t" --total 60 --allowed r1,r3 --forbidden r2

	out=$(xlb set-real --vip "$VIP4:80" "$(lab_ip4 r2)" --weight 1 2>&1) ||
		fail "set-real r2 --weight 1: $out"
	t=$(http_burst 60 "$VIP4")
	log "restored: $t"
	expect_dist "$t" --total 60 --required r1,r2,r3
}

# del-real: the real gets no new flow and leaves the list. del-vip: the LB's
# own kernel answers the service's port (connection refused) and the service
# leaves the list; another service on the same address keeps working.
test_delete() {
	local t out s0 s1 rc grew_tx grew_pns
	lb_fresh "$VIP4:80" "$VIP4:9000/udp"
	add_reals "$VIP4:80" 1 r1 r2 r3
	add_reals "$VIP4:9000/udp" 1 r1 r2 r3

	out=$(xlb del-real --vip "$VIP4:80" "$(lab_ip4 r3)" 2>&1) || fail "del-real r3: $out"
	out=$(xlb -j list) || fail "list: $out"
	t=$(jget "$out" "sorted(r['address'] for r in svc(d, '$VIP4:80/tcp')['reals'])")
	[[ $t == "[\"$(lab_ip4 r1)\", \"$(lab_ip4 r2)\"]" ]] ||
		fail "after del-real r3, $VIP4:80 lists reals $t"
	t=$(http_burst 60 "$VIP4")
	log "without r3: $t"
	expect_dist "$t" --total 60 --allowed r1,r2 --required r1,r2

	out=$(xlb del-vip "$VIP4:80" 2>&1) || fail "del-vip $VIP4:80: $out"
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "svc(d, '$VIP4:80/tcp') is None") == true ]] ||
		fail "$VIP4:80/tcp still listed after del-vip: $out"
	[[ $(jget "$out" "svc(d, '$VIP4:9000/udp') is not None") == true ]] ||
		fail "$VIP4:9000/udp gone after del-vip of $VIP4:80: $out"

	s0=$(xlb -j stats) || fail "stats: $s0"
	out=$(client curl -sS -m 2 --noproxy '*' "http://$VIP4/" 2>&1)
	rc=$?
	s1=$(xlb -j stats) || fail "stats: $s1"
	((rc == 7)) || fail "curl to the deleted service: rc $rc (want 7, refused by the LB): $out"
	grew_tx=$(jget "[$s0,$s1]" 'd[1]["global"]["tx_packets"] - d[0]["global"]["tx_packets"]')
	grew_pns=$(jget "[$s0,$s1]" \
		'd[1]["global"]["pass_not_service"] - d[0]["global"]["pass_not_service"]')
	((grew_tx == 0)) || fail "tx_packets grew by $grew_tx after del-vip"
	((grew_pns >= 1)) || fail "the SYN to the deleted service was not passed to the kernel"

	t=$(udp_burst 10 "$VIP4" 9000)
	expect_dist "$t" --total 10 --allowed r1,r2,r3
}

# Counters against the traffic that made them. UDP is exact: one datagram is
# one packet of 58 bytes (14 + 20 + 8 + 16). TCP is at least SYN, ACK, GET and
# FIN per request. Globally: tx_packets is the sum over the reals, and
# rx_packets the sum of all verdicts. bpftool sees the named fields.
test_counters() {
	local tu th s l h a served pk by v n i bt
	lb_fresh "$VIP4:80" "$VIP4:9000/udp"
	add_reals "$VIP4:80" 1 r1 r2 r3
	add_reals "$VIP4:9000/udp" 1 r1 r2 r3
	s=$(xlb -j stats) || fail "stats: $s"
	[[ $(jget "$s" 'sum(r["packets"] + r["bytes"] for _, r in all_reals(d))') == 0 ]] ||
		fail "a fresh instance has non-zero per-real counters: $s"

	tu=$(udp_burst 30 "$VIP4" 9000)
	th=$(http_burst 30 "$VIP4")
	log "udp: $tu"
	log "http: $th"
	expect_dist "$tu" --total 30
	expect_dist "$th" --total 30
	s=$(xlb -j stats) || fail "stats: $s"
	l=$(xlb -j list) || fail "list: $l"
	log "stats: $s"

	for h in r1 r2 r3; do
		a=$(lab_ip4 "$h")
		served=$(jget "$tu" "d.get('$h', 0)")
		pk=$(jget "$s" "reals(d, '$VIP4:9000/udp')['$a']['packets']")
		by=$(jget "$s" "reals(d, '$VIP4:9000/udp')['$a']['bytes']")
		((pk == served)) || fail "udp: $h answered $served datagrams, its counter says $pk"
		((by == 58 * served)) || fail "udp: $h has $by bytes for $served datagrams of 58 bytes"
		served=$(jget "$th" "d.get('$h', 0)")
		pk=$(jget "$s" "reals(d, '$VIP4:80/tcp')['$a']['packets']")
		((pk >= 4 * served)) || fail "tcp: $h served $served requests, has only $pk packets"
		((served > 0 || pk == 0)) || fail "tcp: $h served nothing but has $pk packets"
	done
	v=$(jget "$s" '[s["vip"] for s in d["services"] if s["packets"] != sum(r["packets"] for r in s["reals"]) or s["bytes"] != sum(r["bytes"] for r in s["reals"])]')
	[[ $v == "[]" ]] || fail "service counters are not the sum of their reals' for $v"
	v=$(jget "$s" 'd["global"]["tx_packets"] - sum(r["packets"] for _, r in all_reals(d))')
	((v == 0)) || fail "global tx_packets differs from the sum over reals by $v"
	v=$(jget "$s" 'd["global"]["tx_bytes"] - sum(r["bytes"] for _, r in all_reals(d))')
	((v == 0)) || fail "global tx_bytes differs from the sum over reals by $v"
	v=$(jget "[$s,$l]" '[(v, r["address"]) for v, r in all_reals(d[1]) if (r["packets"], r["bytes"]) != (reals(d[0], v)[r["address"]]["packets"], reals(d[0], v)[r["address"]]["bytes"])]')
	[[ $v == "[]" ]] || fail "list -j and stats -j disagree on $v"

	# rx = every verdict. A stray ND/ARP frame may land between the reads of
	# two CPUs' values: retry a few times before calling it wrong.
	for ((i = 0; i < 3; i++)); do
		s=$(xlb -j stats) || fail "stats: $s"
		v=$(jget "$s" 'd["global"]["rx_packets"] - sum(v for k, v in d["global"].items() if k.startswith(("tx_p", "pass_", "drop_")))')
		((v == 0)) && break
		sleep 0.2
	done
	((v == 0)) || fail "rx_packets differs from tx + pass_* + drop_* by $v: $s"

	if command -v bpftool >/dev/null; then
		bt=$(bpftool map dump pinned "$PIN/global_stats" 2>&1) || fail "bpftool map dump: $bt"
		for n in rx_packets rx_bytes tx_packets tx_bytes pass_not_ip pass_not_l4 \
			pass_not_service pass_ipv6_ext drop_truncated drop_malformed drop_fragment \
			drop_no_real; do
			grep -q "\"$n\": [0-9]" <<<"$bt" || fail "bpftool dump of global_stats has no field $n"
		done
		bt=$(bpftool -j map dump pinned "$PIN/global_stats" 2>&1) || fail "bpftool -j: $bt"
		v=$(jget "$bt" 'sum(c["value"]["tx_packets"] for c in d[0]["formatted"]["values"])')
		a=$(jget "$s" 'd["global"]["tx_packets"]')
		((v == a)) || fail "bpftool sums tx_packets to $v, xdplb stats says $a"
	else
		log "bpftool not installed: its part skipped"
	fi
}
