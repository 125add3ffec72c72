# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_ha.sh - failover of the load balancer itself (scripts/ha-lib.sh): two
# load balancers, each running `xdplb daemon` with the same configuration,
# active/backup with keepalived and active/active behind a BGP router with
# an ECMP route; paced downloads keep every byte when the active one, or one
# of the two, goes away; one whose daemon is unhealthy (it reaches no real)
# or gone gives its VIPs away. Sourced by run.sh (helpers and variables are
# defined there and in test_conns.sh).
#
# The lab's lb gives its VIPs and its eth0 to ha_up for the length of a test;
# ha_down (on_exit, and the runner's teardown) gives them back.

# shellcheck source=SCRIPTDIR/../../scripts/ha-lib.sh
source "$REPO/scripts/ha-lib.sh"

ns_tests+=(ha_vrrp_failover ha_vrrp_unhealthy ha_bgp_failover ha_bgp_withdraw)

# ha_test_up vrrp|bgp: no main instance, the HA lab of that mode (needs
# keepalived or bird, else the test is skipped).
ha_test_up() {
	local out
	if [[ $1 == vrrp ]]; then require_cmd keepalived; else require_cmd bird birdc; fi
	lb_reset
	on_exit ha_down
	out=$(ha_up "$1" 2>&1) || fail "ha_up $1: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
	log "ha_up $1: $out"
}

# ha_same_config: fail unless lb and lb2 have the same services and reals.
ha_same_config() {
	local a b
	a=$(ha_xdplb lb -j list | nsutil config | nsutil get "$PY_SVCS") || fail "list on lb"
	b=$(ha_xdplb lb2 -j list | nsutil config | nsutil get "$PY_SVCS") || fail "list on lb2"
	[[ $a == "$b" ]] || fail "the two load balancers differ: lb $a, lb2 $b"
}

# ha_other HOST: the other load balancer.
ha_other() { if [[ $1 == lb ]]; then echo lb2; else echo lb; fi; }

# ha_grew HOST S0 NAME: how much HOST's global counter NAME grew since its
# stats S0.
ha_grew() {
	local s1
	s1=$(ha_xdplb "$1" -j stats) || fail "stats on $1: $s1"
	stat_grew "$2" "$s1" "$3"
}

# ha_expect_grew HOST S0 WHEN CHECK...: fail unless each CHECK (NAME>=N,
# NAME==N) holds of how much HOST's global counter NAME grew since its stats
# S0, taken WHEN (for the message).
ha_expect_grew() {
	local h=$1 s0=$2 when=$3 s1 c name cmp v
	shift 3
	s1=$(ha_xdplb "$h" -j stats) || fail "stats on $h: $s1"
	for c in "$@"; do
		name=${c%%[<>=]*} cmp=${c#"${c%%[<>=]*}"}
		v=$(stat_grew "$s0" "$s1" "$name")
		eval "((v $cmp))" || fail "$h's $name grew by $v $when, want $cmp"
	done
}

# ha_requests HOST N: N HTTP requests from HOST to VIP4 and to VIP6, each on
# a new connection; fail unless every one is answered by r1..r3.
ha_requests() {
	local t v
	for v in "$VIP4" "$VIP6"; do
		t=$(ha_exec "$1" /usr/bin/python3 "$T_NSUTIL" http "$2" "$v")
		expect_dist "$t" --total "$2" --allowed r1,r2,r3
	done
}

# Active/backup: the active load balancer dies in the middle of paced
# downloads (every process SIGKILLed, its cable pulled). The backup takes the
# VIP, announces it with gratuitous ARP, places the flows' next packets by
# Maglev as the active one did and tracks them; every byte arrives.
test_ha_vrrp_failover() {
	local n=8 size=360000 rate=60000 active backup sa sb t0 out
	ha_test_up vrrp
	ha_same_config
	active=$(ha_vrrp_master) || fail "no single active load balancer"
	backup=$(ha_other "$active")
	ha_requests client 6
	sa=$(ha_xdplb "$active" -j stats) || fail "stats on $active: $sa"
	sb=$(ha_xdplb "$backup" -j stats) || fail "stats on $backup: $sb"

	fetch_start vrrp "$n" "$size" "$rate"
	fetch_wait_started vrrp "$n"
	log "started (port: real): $(started_json vrrp)"
	sleep 1.5
	ha_expect_grew "$active" "$sa" "since the downloads started" "tx_packets>=20"

	t0=$(date +%s%N)
	ha_lb_die "$active" || fail "cannot take $active down"
	ha_wait 10 "$backup takes the VIP" \
		eval "ha_vrrp_is $backup MASTER && ha_has_vip $backup" ||
		fail "$backup did not take the VIP within 10 s (state $(ha_vrrp_state "$backup"))"
	log "$backup MASTER $((($(date +%s%N) - t0) / 1000000)) ms after $active died"
	fetch_running vrrp "the takeover"
	fetch_wait vrrp "$n" "$size" "$rate"

	# It placed and tracked every download (ct_new), none for want of a real.
	ha_expect_grew "$backup" "$sb" "while it took over" "tx_packets>=20" "ct_new>=$n" \
		"drop_no_real==0"
	# The client learnt the new owner from the gratuitous ARP, not by asking.
	out=$(client ip neigh show "$VIP4" dev eth0)
	[[ $out == *"lladdr $(lab_mac "$backup") "* ]] ||
		fail "the client's neighbour entry for $VIP4 is not $backup's MAC: $out"
	ha_requests client 6
}

# Active/backup, the daemon unhealthy: the active one can no longer reach
# the reals; its checks fail, its daemon has no real up and takes the
# liveness interface down; keepalived's track script puts it in FAULT and
# the backup takes the VIP. Healthy again, it stays BACKUP (nopreempt).
test_ha_vrrp_unhealthy() {
	local active backup log
	ha_test_up vrrp
	active=$(ha_vrrp_master) || fail "no single active load balancer"
	backup=$(ha_other "$active")
	log=$(ha_dir)/xdplb-$active.log
	ha_reals_cut "$active" on || fail "cannot cut $active off the reals"
	ha_wait 10 "$backup takes the VIP" \
		eval "ha_vrrp_is $active FAULT && ha_vrrp_is $backup MASTER && ha_has_vip $backup && ! ha_has_vip $active" ||
		fail "unhealthy $active: states $active $(ha_vrrp_state "$active"), $backup $(ha_vrrp_state "$backup"); its daemon: $(tail -n 2 "$log")"
	grep -q "unhealthy: no real is up" "$log" || fail "$active's daemon did not say it is unhealthy: $(tail -n 2 "$log")"
	ha_live_is "$backup" up || fail "$backup's daemon is not healthy"
	ha_requests client 6
	ha_reals_cut "$active" off || fail "cannot reconnect $active to the reals"
	ha_wait 10 "$active healthy again" ha_vrrp_is "$active" BACKUP ||
		fail "healthy again, $active is $(ha_vrrp_state "$active"), want BACKUP; its daemon: $(tail -n 2 "$log")"
	[[ $(ha_vrrp_master) == "$backup" ]] || fail "the VIP moved back to $active: want it to stay on $backup"
	ha_requests client 6
}

# Active/active: downloads from ext through the router, spread over lb and
# lb2 by the ECMP route. The xdplb daemon of the busier one dies (SIGKILL):
# the kernel deletes its liveness interface, its bird withdraws the VIPs,
# the router's route keeps one next hop, and the other load balancer
# carries every download to its end, on the same reals.
test_ha_bgp_failover() {
	local n=8 size=360000 rate=60000 sa sb va vb dying other s v
	ha_test_up bgp
	ha_same_config
	ha_requests ext 6
	sa=$(ha_xdplb lb -j stats) || fail "stats on lb: $sa"
	sb=$(ha_xdplb lb2 -j stats) || fail "stats on lb2: $sb"

	FETCH_FROM=ext fetch_start bgp "$n" "$size" "$rate"
	fetch_wait_started bgp "$n"
	log "started (port: real): $(started_json bgp)"
	sleep 1.5
	va=$(ha_grew lb "$sa" tx_packets)
	vb=$(ha_grew lb2 "$sb" tx_packets)
	log "forwarded so far: lb $va, lb2 $vb"
	if ((va >= vb)); then dying=lb s=$sb; else dying=lb2 s=$sa; fi
	other=$(ha_other "$dying")
	((va + vb >= 20 && (va >= 20 || vb >= 20))) ||
		fail "the load balancers forwarded only $va and $vb packets"

	ha_daemon_stop "$dying" KILL
	ha_wait 5 "the router drops $dying" ha_nexthops_are "$VIP4" "$other" ||
		fail "the router's next hops for $VIP4 are still $(ha_nexthops "$VIP4" | tr '\n' ' ')"
	ha_wait 5 "the router drops $dying (IPv6)" ha_nexthops_are "$VIP6" "$other" ||
		fail "the router's next hops for $VIP6 are still $(ha_nexthops "$VIP6" | tr '\n' ' ')"
	log "router: $(ha_exec rt ip route show "$VIP4")"
	fetch_running bgp "the withdrawal"
	fetch_wait bgp "$n" "$size" "$rate"

	# It tracked the downloads it took over (ct_new), none lacked a real.
	ha_expect_grew "$other" "$s" "while it took $dying's downloads over" "ct_new>=1" \
		"drop_no_real==0"
	ha_requests ext 6
}

# Active/active: what withdraws a load balancer's route, and what brings it
# back: its daemon unhealthy (lb reaches no real) and healthy again; its
# daemon stopped, and started again with a file without the IPv6 VIP (the
# routes it writes for bird follow the file: that VIP only through lb2),
# then SIGHUP with the whole file; its bird stopped and started; its bird
# killed (the router's hold timer). Requests from ext are answered at every
# step.
test_ha_bgp_withdraw() {
	local conf
	ha_test_up bgp
	conf=$(ha_lb_conf lb)
	_ha_expect_hops "lb cut off the reals" lb2 ha_reals_cut lb on
	_ha_expect_hops "lb reaches the reals again" "lb lb2" ha_reals_cut lb off
	_ha_expect_hops "lb's daemon stopped" lb2 ha_daemon_stop lb
	cp "$conf" "$conf.all" || fail "cannot copy $conf"
	grep -v "$VIP6" "$conf.all" >"$conf" || fail "cannot write $conf"
	_ha_expect_hops "lb's daemon started without the IPv6 VIP" "lb lb2/lb2" ha_daemon_start lb
	cp "$conf.all" "$conf" || fail "cannot write $conf"
	_ha_expect_hops "lb's daemon reloaded with it" "lb lb2" ha_daemon_reload lb
	_ha_expect_hops "lb's bird stopped" lb2 ha_bird_stop lb
	_ha_expect_hops "lb's bird started" "lb lb2" ha_bird_start lb
	_ha_expect_hops "lb2's bird killed" lb ha_bird_stop lb2 KILL
}

# _ha_expect_hops WHAT HOSTS[/HOSTS6] CMD...: run CMD; fail unless the
# router's next hops for VIP4 become HOSTS, and for VIP6 HOSTS6 (default
# HOSTS), within 3 hold times.
_ha_expect_hops() {
	local what=$1 hosts4=${2%/*} hosts6=${2#*/} out v hosts
	shift 2
	out=$("$@" 2>&1) || fail "$what: $out"
	for v in "$VIP4" "$VIP6"; do
		hosts=$hosts4
		[[ $v == "$VIP4" ]] || hosts=$hosts6
		# shellcheck disable=SC2086 # a list of hosts
		ha_wait $((3 * HA_HOLD_TIME + 5)) "$what" ha_nexthops_are "$v" $hosts ||
			fail "$what: the router's next hops for $v are $(ha_nexthops "$v" | tr '\n' ' '), want $hosts"
	done
	log "$what: next hops $hosts4 / $hosts6"
	ha_requests ext 4
}
