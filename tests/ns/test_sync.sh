# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_sync.sh - load balancers that share what they track (`daemon
# --sync`), in the HA lab of test_ha.sh. Paced downloads run through one
# load balancer; both then drain a real and add two (Maglev now places many
# of those flows elsewhere); the one that carried them dies. With --sync
# the other had learnt every flow and carries each to its end on its real;
# without, exactly the flows whose Maglev slot moved break. A load
# balancer that joins learns the live flows before it says it is healthy;
# datagrams that are forged, replayed, stale or from a stranger change
# nothing and are counted. Sourced by run.sh (helpers from test_conns.sh and
# test_ha.sh).

ns_tests+=(sync_vrrp_failover sync_vrrp_nosync sync_bgp_failover sync_bgp_nosync
	sync_joiner sync_forged)

T_SYNCMSG=$NS_DIR/syncmsg.py

# sync_flows HOST CLIENT [peer|local]: HOST's tracked TCP flows from CLIENT
# to VIP4:80, learnt from a peer or its own, as {"PORT": "REAL ADDRESS"}.
sync_flows() {
	local c
	c=$(ha_xdplb "$1" -j conns --vip "$VIP4:80") || fail "conns on $1: $c"
	jget "$c" "{x['client'].rsplit(':', 1)[1]: x['real'] for x in d['conns'] if x['client'].startswith('$2:') and x['peer'] == ('${3:-peer}' == 'peer')}"
}

# sync_learnt HOST CLIENT FLOWS: true when HOST holds, learnt from a peer,
# each of FLOWS ({"PORT": "REAL"}) from CLIENT on its real.
sync_learnt() {
	local v
	v=$(sync_flows "$1" "$2") || return 1
	[[ $(jget "[$v, $3]" "all(d[0].get(p) == r for p, r in d[1].items())") == true ]]
}

# sync_conf_change DRAIN: on both load balancers' files, real DRAIN at
# weight 0 and r4, r5 added to both VIPs; SIGHUP to both daemons; wait
# until each has r4 and r5 up and DRAIN drained.
sync_conf_change() {
	local h f r a4 a6 l
	a4=$(lab_ip4 "$1") a6=$(lab_ip6 "$1")
	for h in lb lb2; do
		f=$(ha_lb_conf "$h")
		sed -i -e "s/^\(add-real .* $a4\)\$/\1 --weight 0/" \
			-e "s/^\(add-real .* $a6\)\$/\1 --weight 0/" "$f" || fail "cannot edit $f"
		for r in r4 r5; do
			printf 'add-real --vip %s:80/tcp %s\nadd-real --vip [%s]:80/tcp %s\n' \
				"$VIP4" "$(lab_ip4 "$r")" "$VIP6" "$(lab_ip6 "$r")" >>"$f"
		done
		ha_daemon_reload "$h" || fail "cannot signal $h's daemon"
	done
	for h in lb lb2; do
		ha_wait 10 "$h applies the change" sync_changed "$h" "$a4" ||
			fail "$h: r4 and r5 not up with $1 drained within 10 s: $(ha_xdplb "$h" list 2>&1 | tr '\n' ' ')"
	done
	l=$(ha_xdplb lb -j list | nsutil config | nsutil get "$PY_SVCS")
	[[ $l == "$(ha_xdplb lb2 -j list | nsutil config | nsutil get "$PY_SVCS")" ]] ||
		fail "after the change the load balancers differ"
}

# sync_changed HOST DRAINED: HOST's VIP4 has r4, r5 up and DRAINED at weight 0.
sync_changed() {
	local l
	l=$(ha_xdplb "$1" -j list) || return 1
	[[ $(jget "$l" "[r for s in d['services'] if s['vip'] == '$VIP4:80/tcp' for r in s['reals'] if (r['address'] in ('$(lab_ip4 r4)', '$(lab_ip4 r5)') and r['health'] == 'up') or (r['address'] == '$2' and r['weight'] == 0)].__len__()") == 3 ]]
}

# sync_placed HOST CLIENT PORT...: for each PORT, where HOST sends the
# flow from CLIENT:PORT to VIP4:80: "PORT REAL MAGLEV_REAL tracked|peer|no"
# per line.
sync_placed() {
	local h=$1 cl=$2 p f all=
	shift 2
	for p in "$@"; do
		f=$(ha_xdplb "$h" -j flow --vip "$VIP4:80" "$cl:$p") || fail "flow on $h: $f"
		all+=${all:+,}$f
	done
	jget "[$all]" "'\\n'.join('%s %s %s %s' % (x['client'].rsplit(':', 1)[1], x.get('real'), x.get('maglev_real'), ('peer' if x['peer'] else 'tracked') if x['tracked'] else 'no') for x in d)"
}

# sync_failover vrrp|bgp 0|1: downloads through one load balancer, a
# change that moves Maglev slots, and its death, with --sync (1) or not.
sync_failover() {
	local mode=$1 n=20 size=600000 rate=60000 from=client cl=$CLIENT_IP4 on_lb on_lb2
	local -A carried=()
	local HA_SYNC=$2 dying other st drain p l real mag state moved=() broken res t0 v
	ha_test_up "$mode"
	if [[ $mode == bgp ]]; then from=ext cl=$HA_EXT_IP4; fi

	FETCH_FROM=$from fetch_start sync "$n" "$size" "$rate"
	fetch_wait_started sync "$n"
	st=$(started_json sync)
	log "started (port: real): $st"
	sleep 1
	on_lb=$(sync_flows lb "$cl" local)
	on_lb2=$(sync_flows lb2 "$cl" local)
	log "tracked by lb: $on_lb; by lb2: $on_lb2"
	if [[ $mode == vrrp ]]; then
		dying=$(ha_vrrp_master) || fail "no single active load balancer"
	elif (($(jget "$on_lb" 'len(d)') >= $(jget "$on_lb2" 'len(d)'))); then
		dying=lb
	else
		dying=lb2
	fi
	other=$(ha_other "$dying")
	if [[ $dying == lb ]]; then l=$on_lb; else l=$on_lb2; fi
	# What the dying one carries, each on the real that answered it.
	v=$(jget "[$l, $st]" "[p for p, r in d[0].items() if p not in d[1] or d[0][p] != $PY_ADDR(d[1][p])]")
	[[ $v == "[]" ]] || fail "$dying tracks $v on other reals than the ones that answered: $l"
	while read -r p v; do carried[$p]=$v; done < <(jget "$l" "'\\n'.join('%s %s' % i for i in sorted(d.items()))")
	((${#carried[@]} >= 1)) || fail "$dying carries no download"
	[[ $mode == bgp || ${#carried[@]} == "$n" ]] ||
		fail "the active $dying tracks ${#carried[@]} of the $n downloads"
	# Drain the real that most of them use: Maglev moves each of them.
	drain=$(jget "[$l, $st]" "max(sorted(set(d[1][p] for p in d[0])), key=lambda r: sum(1 for p in d[0] if d[1][p] == r))")
	log "$dying dies with ${#carried[@]} downloads; $drain is drained"

	# With --sync the other one learnt them (within 100 ms), without it not.
	if ((HA_SYNC)); then
		ha_wait 3 "$other learns $dying's flows" sync_learnt "$other" "$cl" "$l" ||
			fail "$other did not learn $dying's flows: it has $(sync_flows "$other" "$cl"), $dying $l"
	else
		v=$(sync_flows "$other" "$cl")
		[[ $v == "{}" ]] || fail "without --sync, $other learnt flows: $v"
	fi

	sync_conf_change "$drain"
	log "both applied the change"
	while read -r p real mag state; do
		v=${carried[$p]}
		if ((HA_SYNC)); then
			[[ $state == peer && $real == "$v" ]] ||
				fail "$other places the flow from port $p on $real ($state), want $v, learnt from a peer"
		else
			[[ $state == no ]] || fail "without --sync, $other tracks the flow from port $p ($state)"
		fi
		[[ $mag == "$v" ]] || moved+=("$p")
	done < <(sync_placed "$other" "$cl" "${!carried[@]}")
	log "Maglev on $other moved ${#moved[@]} of them: ${moved[*]}"
	((${#moved[@]} >= 1)) || fail "the change moved no flow of $dying: the test proves nothing"

	t0=$(date +%s%N)
	if [[ $mode == vrrp ]]; then
		ha_lb_die "$dying" || fail "cannot take $dying down"
		ha_wait 10 "$other takes the VIP" \
			eval "ha_vrrp_is $other MASTER && ha_has_vip $other" ||
			fail "$other did not take the VIP within 10 s (state $(ha_vrrp_state "$other"))"
	else
		ha_daemon_stop "$dying" KILL
		ha_wait 5 "the router drops $dying" ha_nexthops_are "$VIP4" "$other" ||
			fail "the router's next hops for $VIP4 are still $(ha_nexthops "$VIP4" | tr '\n' ' ')"
	fi
	log "$other took over $((($(date +%s%N) - t0) / 1000000)) ms after $dying died"
	fetch_running sync "the takeover"

	if ((HA_SYNC)); then
		fetch_wait sync "$n" "$size" "$rate"
		# Its own now: the next packet there made each a local flow.
		v=$(sync_flows "$other" "$cl" peer)
		[[ $(jget "[$v]" "[p for p in d[0] if p in '${!carried[*]}'.split()]") == "[]" ]] ||
			fail "$other still lists as learnt flows it carried: $v"
		return
	fi
	wait "$FETCH_PID"
	res=$(<"$T_TMP/sync.json")
	log "downloads: $res"
	broken=$(jget "$res" "' '.join(sorted(str(x['port']) for x in d['transfers'] if not x['ok']))")
	v=$(printf '%s\n' "${moved[@]}" | sort | tr '\n' ' ')
	[[ "$broken " == "$v" ]] ||
		fail "without --sync, the broken downloads are those from ports '$broken', want exactly the moved ones '${v% }'"
}

test_sync_vrrp_failover() { sync_failover vrrp 1; }
test_sync_vrrp_nosync() { sync_failover vrrp 0; }
test_sync_bgp_failover() { sync_failover bgp 1; }
test_sync_bgp_nosync() { sync_failover bgp 0; }

# sync_lb3_down: stop lb3's daemon, detach it, delete its host.
sync_lb3_down() {
	ha_daemon_stop lb3
	[[ ! -e /var/run/netns/$LAB-lb3 ]] || ha_lb_detach lb3
	[[ ! -e /var/run/netns/$LAB-lb3 ]] || ip netns del "$LAB-lb3"
}

# A third load balancer starts in the middle of downloads: its daemon asks
# the two others for their tables and says it is healthy (its liveness
# interface up, which is what would give it traffic) only once it holds
# every live flow, on its real.
test_sync_joiner() {
	local n=8 size=720000 rate=60000 HA_SYNC=1 HA_SYNC_PEERS="lb lb2 lb3" st v out t0
	ha_test_up vrrp
	on_exit sync_lb3_down
	fetch_start join "$n" "$size" "$rate"
	fetch_wait_started join "$n"
	st=$(started_json join)
	t0=$(date +%s%N)
	out=$(lab_add_lb lb3 2>&1) || fail "cannot build $LAB-lb3: $out"
	out=$(ha_lb_start lb3 2>&1) || fail "lb3: $out"
	v=$(sync_flows lb3 "$CLIENT_IP4")
	log "lb3 healthy $((($(date +%s%N) - t0) / 1000000)) ms after it was built, with $v"
	v=$(jget "[$v, $st]" "[p for p, r in d[1].items() if d[0].get(p) != $PY_ADDR(r)]")
	[[ $v == "[]" ]] ||
		fail "lb3 said it was healthy without the flows from ports $v on their real; its daemon: $(tail -n 4 "$(ha_dir)/xdplb-lb3.log" | tr '\n' ' ')"
	grep -q "learning the peers' tracked flows" "$(ha_dir)/xdplb-lb3.log" ||
		fail "lb3's daemon did not say it waited for its peers: $(tail -n 3 "$(ha_dir)/xdplb-lb3.log")"
	fetch_running join "lb3's start"
	fetch_wait join "$n" "$size" "$rate"
}

# sync_metric HOST messages|flows RESULT: HOST's
# xdplb_sync_{messages,flows}_total{result="RESULT"}, from its daemon.
sync_metric() {
	local m
	m=$(ha_exec "$1" curl -sf --max-time 3 http://127.0.0.1:9100/metrics) || fail "no metrics from $1's daemon"
	awk -v k="xdplb_sync_$2_total{result=\"$3\"}" '$1 == k { v = $2 } END { print v + 0 }' <<<"$m"
}

# Datagrams to lb2's sync port from lb3's address (a peer of lb2 with no
# daemon): a valid one writes its flow into lb2's table as learnt from a
# peer; replayed, forged, stale, cut, random or from a port that is no
# peer's change nothing and are counted; one for a real lb2 lacks is
# counted as such.
test_sync_forged() {
	# shellcheck disable=SC2034 # ha-lib.sh reads them
	local HA_SYNC=1 HA_SYNC_PEERS="lb lb2 lb3" HA_LISTEN=1 out r0=() r1=() k v i
	local names=(messages:received messages:rejected messages:replayed flows:unknown_real
		flows:applied)
	ha_test_up vrrp
	on_exit sync_lb3_down
	out=$(lab_add_lb lb3 2>&1) || fail "cannot build $LAB-lb3: $out"
	for k in "${names[@]}"; do r0+=("$(sync_metric lb2 "${k%:*}" "${k#*:}")"); done
	out=$(ha_exec lb3 /usr/bin/python3 "$T_SYNCMSG" "$(ha_dir)/sync.key" "$(lab_ip4 lb3):8848" \
		"$(lab_ip4 lb2):8848" valid,replay,badmac,old,future,unknown,short,garbage,alien 2>&1) ||
		fail "syncmsg.py: $out"
	sleep 0.5
	for k in "${names[@]}"; do r1+=("$(sync_metric lb2 "${k%:*}" "${k#*:}")"); done
	for i in "${!names[@]}"; do
		v+="${names[i]#*:}+$((r1[i] - r0[i])) "
	done
	log "lb2's counters grew: $v"
	# received: valid and unknown (lb may send too); rejected: badmac,
	# short, garbage, alien; replayed: replay, old, future.
	((r1[0] - r0[0] >= 2 && r1[1] - r0[1] == 4 && r1[2] - r0[2] == 3 &&
		r1[3] - r0[3] == 1 && r1[4] - r0[4] >= 1)) ||
		fail "lb2's counters grew $v; want received>=2 rejected 4 replayed 3 unknown_real 1 applied>=1"
	v=$(sync_flows lb2 198.18.0.200)
	[[ $v == "{\"40001\": \"$(lab_ip4 r2)\"}" ]] ||
		fail "lb2 learnt $v from the datagrams, want only port 40001 on r2"
	# The flow is a peer's until a packet of it comes: then lb2's own.
	out=$(ha_xdplb lb2 flow --vip "$VIP4:80" 198.18.0.200:40001) || fail "flow: $out"
	[[ $out == *"learnt from a peer"* ]] || fail "lb2's flow does not say it was learnt: $out"
}
