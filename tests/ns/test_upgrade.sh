# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_upgrade.sh - upgrades that no connection notices: from the oldest
# release (another map layout), to another build of this layout, back to an
# older one; each step of an upgrade failing or killed; an older instance
# read by this build; the daemon upgrading what it finds; detach in the
# wrong network namespace and of an instance with pins this build does not
# know. Sourced by run.sh (helpers and variables are defined there, the
# download helpers in test_conns.sh); run.sh's setup builds OLD_XDPLB and
# PREV_XDPLB (the oldest and the newest release in RELEASES, from this
# repository's history) and NEWER_XDPLB (this tree as the next patch
# release).

ns_tests+=(upgrade_from_oldest upgrade_from_previous upgrade_same_layout upgrade_downgrade
	upgrade_faults upgrade_old_layout_read upgrade_daemon detach_checks)

# need_old / need_prev / need_newer: the builds run.sh's setup made, or
# the reason.
need_old() {
	[[ -n $OLD_XDPLB && -x $OLD_XDPLB ]] ||
		fail "release $OLD_VERSION could not be built: $(tail -n 1 "$T_TMP/releases.err")"
}
need_prev() {
	[[ -n $PREV_XDPLB && -x $PREV_XDPLB ]] ||
		fail "release $PREV_VERSION could not be built: $(tail -n 1 "$T_TMP/releases.err")"
}
need_newer() {
	[[ -n $NEWER_XDPLB && -x $NEWER_XDPLB ]] ||
		fail "this tree as $NEWER_VERSION could not be built: $(tail -n 1 "$T_TMP/releases.err")"
}

# eth0_index: the LB's eth0's interface index.
eth0_index() { ip -n "$LAB-lb" -o link show dev eth0 | cut -d: -f1; }

# with BIN ARGS...: xdplb binary BIN on the main instance, in the LB.
with() {
	local bin=$1
	shift
	nsenter --net="$LB_NS" -- "$bin" --pin-dir "$PIN" "$@"
}

# fresh_with BIN: a new main instance made by BIN, reals r1..r3 on VIP4:80.
fresh_with() {
	local out h
	lb_reset
	out=$(with "$1" attach eth0 --vip "$VIP4:80" 2>&1) || fail "attach with $1: $out"
	for h in r1 r2 r3; do
		out=$(with "$1" add-real --vip "$VIP4:80" "$(lab_ip4 "$h")" 2>&1) ||
			fail "add-real $h with $1: $out"
	done
}

# state: what must not change across an upgrade that fails, one line: the
# program on eth0, the pinned maps' ids, the pin dirs there are.
state() {
	local m
	printf '%s |' "$(lb_xdp_prog eth0)"
	for m in config services reals conns global_stats real_stats maglev frags; do
		printf ' %s' "$(bpftool map show pinned "$PIN/$m" 2>/dev/null | cut -d: -f1)"
	done
	printf ' | %s\n' "$(cd "$BPFFS" && ls -d "$LAB" "$LAB"_* 2>/dev/null | tr '\n' ' ')"
}

# stream_start NAME / stream_stop NAME: new connections to VIP4:80, back
# to back, from the client; stream_stop fails the test unless every one
# succeeded (and there were some).
stream_start() {
	rm -f "$T_TMP/$1.stop"
	nsenter --net="/var/run/netns/$LAB-client" -- /usr/bin/python3 "$T_NSUTIL" stream \
		"$VIP4" 80 "$T_TMP/$1.stop" </dev/null >"$T_TMP/$1.json" 2>&1 &
	STREAM_PID=$!
	on_exit "touch '$T_TMP/$1.stop'; kill $STREAM_PID"
}
stream_stop() {
	local res
	touch "$T_TMP/$1.stop"
	wait "$STREAM_PID"
	res=$(<"$T_TMP/$1.json")
	log "$1: new connections: $res"
	[[ $(jget "$res" 'd["errors"] == 0 and d["requests"] >= 20') == true ]] ||
		fail "new connections during the upgrade: $res"
}

# watch_start NAME BIN / watch_stop NAME: `stats -j` with BIN every 50 ms;
# watch_stop fails the test if any counter ever went backwards.
watch_start() {
	rm -f "$T_TMP/$1.stop" "$T_TMP/$1.samples"
	(
		while [[ ! -e $T_TMP/$1.stop ]]; do
			with "$2" -j stats 2>/dev/null | head -c 1000000 | tr -d '\n'
			echo
			sleep 0.05
		done
	) >"$T_TMP/$1.samples" 2>/dev/null &
	WATCH_PID=$!
	on_exit "touch '$T_TMP/$1.stop'; kill $WATCH_PID"
}
watch_stop() {
	local out
	touch "$T_TMP/$1.stop"
	wait "$WATCH_PID"
	out=$(nsutil monotonic "$T_TMP/$1.samples") || fail "counters: $out"
	log "$1: counters: $out"
	[[ $(jget "$out" 'd["samples"] >= 10') == true ]] || fail "too few counter samples: $out"
}

# conns_json BIN: `conns -j` by BIN.
conns_json() { with "$1" -j conns; }

# upgrade_from BIN VERSION: the whole hitless upgrade from release VERSION
# (BIN; another layout): long downloads placed before a change of reals (so
# only the connection table keeps a share of them where they are), a
# steady stream of new connections, counters watched throughout; `upgrade`
# in the middle. Every download is then a confirmed flow on its real.
upgrade_from() {
	local bin=$1 version=$2 n=20 size=480000 rate=60000 st c out save0 save1 prog0 prog1 abi
	abi=$(awk -v v="$version" '!/^#/ && $1 == v { print $3 }' "$REPO/RELEASES")
	fresh_with "$bin"
	fetch_start up "$n" "$size" "$rate"
	fetch_wait_started up "$n"
	st=$(started_json up)
	log "started (port: real): $st"
	# A real joins: Maglev now places a share of the running downloads
	# on it, which only the connection table keeps from going there.
	out=$(with "$bin" add-real --vip "$VIP4:80" "$(lab_ip4 r4)" 2>&1) ||
		fail "add-real r4 with $version: $out"
	save0=$(with "$bin" save) || fail "save with $version: $save0"
	c=$(conns_json "$bin") || fail "conns with $version: $c"
	out=$(conns_missing "$c" "$st")
	[[ $out == "[]" ]] || fail "before: conns lacks downloads: $out"
	stream_start up_new
	watch_start up_ctr "$XDPLB"
	sleep 1
	prog0=$(lb_xdp_prog eth0)
	out=$(xlb upgrade eth0 2>&1) || fail "upgrade: $out"
	log "upgrade: $out"
	grep -q "^upgraded eth0: xdplb $version (map ABI $abi" <<<"$out" ||
		fail "upgrade does not say what it did: $out"
	prog1=$(lb_xdp_prog eth0)
	[[ -n $prog1 && $prog1 != "$prog0" ]] || fail "program on eth0: $prog0 before, $prog1 after"
	c=$(conns_json "$XDPLB") || fail "conns after: $c"
	out=$(conns_missing "$c" "$st")
	[[ $out == "[]" ]] ||
		fail "after: conns lacks downloads on their reals: $out; it has $(jget "$c" "[x for x in d['conns'] if x['client'].rsplit(':', 1)[1] in $out]")"
	out=$(jget "[$c, $st]" "[x['client'] for x in d[0]['conns'] if x['client'].rsplit(':', 1)[1] in d[1] and not x['confirmed']]")
	[[ $out == "[]" ]] || fail "after: downloads not confirmed (a flood could evict them): $out"
	sleep 1
	fetch_running up "the upgrade"
	stream_stop up_new
	fetch_wait up "$n" "$size" "$rate"
	watch_stop up_ctr
	save1=$(xlb save) || fail "save after: $save1"
	[[ $save1 == "$save0" ]] || fail "save differs: before [$save0] after [$save1]"
	out=$(xlb version) || fail "version: $out"
	grep -q "the same as this binary" <<<"$out" || fail "version after the upgrade: $out"
	[[ ! -e ${PIN}_upgrading ]] || fail "${PIN}_upgrading left behind"
}

test_upgrade_from_oldest() {
	need_old
	upgrade_from "$OLD_XDPLB" "$OLD_VERSION"
}

# From the previous release: its per-CPU connection tables become the one
# shared table (ABI 7 -> 8), every live flow kept on its real.
test_upgrade_from_previous() {
	need_prev
	upgrade_from "$PREV_XDPLB" "$PREV_VERSION"
}

# Same layout, another build: the program alone is swapped, every map is
# the very same kernel map; downloads go on; back again (a downgrade).
test_upgrade_same_layout() {
	local n=10 size=1200000 rate=60000 st c out maps0 maps1
	need_newer
	fresh_with "$XDPLB"
	fetch_start same "$n" "$size" "$rate"
	fetch_wait_started same "$n"
	st=$(started_json same)
	maps0=$(state | cut -d'|' -f2)
	watch_start same_ctr "$XDPLB"
	out=$(with "$NEWER_XDPLB" upgrade eth0 --dry-run 2>&1) || fail "dry run: $out"
	grep -q "^would upgrade eth0: xdplb [0-9.]* (map ABI $(jget "$(xlb -j version)" 'd["abi"]'), program [0-9]*) -> xdplb $NEWER_VERSION" <<<"$out" ||
		fail "dry run says: $out"
	grep -q converted <<<"$out" && fail "a map of the same layout converted: $out"
	out=$(with "$NEWER_XDPLB" upgrade eth0 2>&1) || fail "upgrade to $NEWER_VERSION: $out"
	log "upgrade: $out"
	maps1=$(state | cut -d'|' -f2)
	[[ $maps1 == "$maps0" ]] || fail "maps changed: [$maps0] -> [$maps1]"
	out=$(xlb list 2>&1 >/dev/null)
	grep -q "runs xdplb $NEWER_VERSION .*xdplb upgrade eth0" <<<"$out" ||
		fail "list does not warn of the newer program: $out"
	out=$(xlb upgrade eth0 2>&1) || fail "downgrade: $out"
	grep -q "^downgraded eth0: xdplb $NEWER_VERSION" <<<"$out" || fail "downgrade says: $out"
	[[ $(state | cut -d'|' -f2) == "$maps0" ]] || fail "maps changed by the downgrade"
	out=$(xlb upgrade eth0 2>&1) || fail "upgrade again: $out"
	grep -q "nothing to do" <<<"$out" || fail "an upgrade to what runs: $out"
	c=$(conns_json "$XDPLB") || fail "conns: $c"
	out=$(conns_missing "$c" "$st")
	[[ $out == "[]" ]] || fail "conns lacks downloads: $out"
	fetch_running same "the swaps"
	fetch_wait same "$n" "$size" "$rate"
	watch_stop same_ctr
}

# A downgrade across layouts is refused, clearly, changing nothing: here
# an instance of a layout newer than this build's (a config of ABI 99).
test_upgrade_downgrade() {
	local out rc s0
	require_cmd bpftool
	need_old
	fresh_with "$XDPLB"
	# The oldest release cannot read this layout: it says so, in one line.
	out=$(with "$OLD_XDPLB" list 2>&1)
	rc=$?
	((rc == 1)) && [[ $out != *$'\n'* ]] || fail "$OLD_VERSION's list of a newer instance: rc $rc: $out"
	# A newer layout than this build knows.
	rm -rf "$PIN_BAD"
	on_exit "rm -rf '$PIN_BAD'"
	mkdir -p "$PIN_BAD" || fail "mkdir $PIN_BAD"
	out=$(bpftool map create "$PIN_BAD/config" type array key 4 value 80 entries 1 name config 2>&1) ||
		fail "bpftool map create: $out"
	# magic "xdlb", ABI 99, table 7, seed, ifindex of eth0, mode 1
	out=$(bpftool map update pinned "$PIN_BAD/config" key 0 0 0 0 value \
		0x62 0x6c 0x64 0x78 99 0 0 0 7 0 0 0 0 0 0 0 \
		"$(eth0_index)" 0 0 0 1 0 0 0 \
		$(printf '0 %.0s' {1..56}) 2>&1) || fail "bpftool map update: $out"
	s0=$(state)
	out=$(xlb_at "$PIN_BAD" upgrade eth0 2>&1)
	rc=$?
	log "upgrade of ABI 99: rc $rc: $out"
	((rc == 1)) || fail "upgrade of a newer layout: exit $rc, want 1: $out"
	[[ $out != *$'\n'* ]] || fail "more than one line: $out"
	grep -q "cannot convert back" <<<"$out" || fail "does not say why: $out"
	[[ $(state) == "$s0" ]] || fail "the refused downgrade changed something"
	out=$(xlb_at "$PIN_BAD" list 2>&1)
	grep -q "newer xdplb (map ABI 99)" <<<"$out" || fail "list of ABI 99: $out"
	out=$(xlb_at "$PIN_BAD" version 2>&1) || fail "version of ABI 99: $out"
	grep -q "map ABI 99" <<<"$out" || fail "version of ABI 99 says: $out"
}

# Each step of an upgrade (from the oldest release: every step there is)
# failing leaves the old program running on the old maps, nothing else;
# a kill after the swap is finished by the next command.
test_upgrade_faults() {
	local s0 save0 out rc step t
	need_old
	fresh_with "$OLD_XDPLB"
	save0=$(with "$OLD_XDPLB" save)
	s0=$(state)
	for step in load convert stage switch; do
		out=$(XDPLB_FAULT=upgrade:$step xlb upgrade eth0 2>&1)
		rc=$?
		log "fault at $step: rc $rc: $out"
		((rc == 1)) || fail "upgrade failing at $step: exit $rc"
		grep -q "^xdplb: upgrade: cannot" <<<"$out" || fail "at $step, no line naming the step: $out"
		[[ $(state) == "$s0" ]] || fail "failing at $step changed: [$s0] -> [$(state)]"
		[[ $(with "$OLD_XDPLB" save) == "$save0" ]] || fail "failing at $step changed the configuration"
		t=$(curl_burst 6 "http://$VIP4/")
		expect_dist "$t" --total 6 --allowed r1,r2,r3
	done
	for step in stage swapped; do
		fresh_with "$OLD_XDPLB"
		s0=$(state)
		XDPLB_FAULT=upgrade:$step=kill xlb upgrade eth0 >/dev/null 2>&1
		rc=$?
		((rc == 137)) || fail "upgrade killed at $step: exit $rc"
		t=$(curl_burst 6 "http://$VIP4/")
		expect_dist "$t" --total 6 --allowed r1,r2,r3
		out=$(xlb list 2>&1 >/dev/null)
		log "list after a kill at $step: $out"
		if [[ $step == stage ]]; then
			grep -q "undid an interrupted upgrade" <<<"$out" || fail "after a kill at $step, list says: $out"
			[[ $(state) == "$s0" ]] || fail "after a kill at $step: [$s0] -> [$(state)]"
		else
			grep -q "finished an interrupted upgrade" <<<"$out" || fail "after a kill at $step, list says: $out"
			out=$(xlb version) || fail "version: $out"
			grep -q "the same as this binary" <<<"$out" || fail "after a kill at $step: $out"
		fi
		[[ ! -e ${PIN}_upgrading ]] || fail "${PIN}_upgrading left after a kill at $step"
		[[ $(xlb save) == "$save0" ]] || fail "kill at $step: the configuration changed"
	done
}

# This build reads an instance of the oldest release's layout as it is:
# save prints what that release's own save prints; list, stats, conns and
# version work; a change is refused, naming the way forward.
test_upgrade_old_layout_read() {
	local out rc
	need_old
	fresh_with "$OLD_XDPLB"
	curl_burst 6 "http://$VIP4/" >/dev/null
	[[ $(xlb save) == "$(with "$OLD_XDPLB" save)" ]] || fail "save differs from $OLD_VERSION's"
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "d['program']['version'] == '$OLD_VERSION' and d['program']['abi'] == 6 and sorted(reals(d)) == ['$(lab_ip4 r1)', '$(lab_ip4 r2)', '$(lab_ip4 r3)']") == true ]] ||
		fail "list -j: $out"
	out=$(xlb list 2>&1 >/dev/null)
	grep -q "runs xdplb $OLD_VERSION (map ABI 6).*xdplb upgrade eth0" <<<"$out" || fail "list does not warn: $out"
	out=$(xlb -j stats) || fail "stats: $out"
	[[ $(jget "$out" "d['global']['rx_packets'] > 0") == true ]] || fail "stats: $out"
	out=$(xlb -j conns) || fail "conns: $out"
	out=$(xlb version) || fail "version: $out"
	grep -q "xdplb $OLD_VERSION (map ABI 6, program [0-9]*), not this binary's" <<<"$out" ||
		fail "version: $out"
	out=$(xlb add-vip "$VIP4:81" 2>&1)
	rc=$?
	((rc == 1)) && grep -q "xdplb upgrade eth0" <<<"$out" && [[ $out != *$'\n'* ]] ||
		fail "a change of the old layout: rc $rc: $out"
	# The exporter serves it, and says which release runs.
	exporter_start up_exp exporter --listen "127.0.0.1:$EXP_PORT"
	wait_http "http://127.0.0.1:$EXP_PORT/metrics"
	scrape "http://127.0.0.1:$EXP_PORT/metrics" "$T_TMP/up.metrics"
	grep -q "^xdplb_info{.*program_version=\"$OLD_VERSION\",program_abi=\"6\"" "$T_TMP/up.metrics" ||
		fail "xdplb_info: $(grep xdplb_info "$T_TMP/up.metrics")"
	scrape "http://127.0.0.1:$EXP_PORT/" "$T_TMP/up.html"
	grep -q "xdplb $OLD_VERSION" "$T_TMP/up.html" || fail "the status page does not name $OLD_VERSION"
	grep -q 'id="upgrade"' "$T_TMP/up.html" || fail "the status page does not say it is not this build"
}

# The daemon finds an instance of an older build and upgrades it, saying
# so; one whose layout it does not know stops it with one line and exit
# status 3, which its unit does not restart on.
test_upgrade_daemon() {
	local conf=$T_TMP/up-daemon.conf log=$T_TMP/up-daemon.log pid out i rc
	need_old
	fresh_with "$OLD_XDPLB"
	with "$OLD_XDPLB" save >"$conf"
	# nsenter itself, not a function: $! must be the daemon's pid.
	nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" daemon --config "$conf" 2>"$log" &
	pid=$!
	on_exit "kill $pid"
	for ((i = 0; i < 50; i++)); do
		grep -q "running on" "$log" && break
		kill -0 "$pid" 2>/dev/null || fail "the daemon exited: $(cat "$log")"
		sleep 0.1
	done
	grep -q "upgraded the instance on 'eth0' from xdplb $OLD_VERSION (map ABI 6" "$log" ||
		fail "the daemon does not say it upgraded: $(cat "$log")"
	out=$(xlb version) || fail "version: $out"
	grep -q "the same as this binary" <<<"$out" || fail "after the daemon: $out"
	expect_dist "$(curl_burst 6 "http://$VIP4/")" --total 6 --allowed r1,r2,r3
	kill "$pid"
	wait "$pid"

	# An instance of a newer layout: one line, exit 3.
	rm -rf "$PIN_BAD"
	on_exit "rm -rf '$PIN_BAD'"
	mkdir -p "$PIN_BAD" || fail "mkdir $PIN_BAD"
	bpftool map create "$PIN_BAD/config" type array key 4 value 80 entries 1 name config >/dev/null 2>&1 ||
		fail "bpftool map create"
	bpftool map update pinned "$PIN_BAD/config" key 0 0 0 0 value 0x62 0x6c 0x64 0x78 99 0 0 0 \
		7 0 0 0 0 0 0 0 "$(eth0_index)" 0 0 0 1 0 0 0 \
		$(printf '0 %.0s' {1..56}) >/dev/null 2>&1 || fail "bpftool map update"
	out=$(timeout 10 nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN_BAD" daemon --config "$conf" 2>&1)
	rc=$?
	log "daemon on ABI 99: rc $rc: $out"
	((rc == 3)) || fail "the daemon on a newer layout: exit $rc, want 3: $out"
	[[ $out != *$'\n'* ]] || fail "more than one line: $out"
}

# detach removes nothing until it has found the instance's own program:
# not from another network namespace (where an interface has eth0's index),
# not when another program holds the hook. Every pin goes, whatever made it;
# attach over pins with no config clears them.
test_detach_checks() {
	local other=$LAB-dx out rc s0 idx i
	require_cmd bpftool
	fresh_with "$XDPLB"
	s0=$(state)
	idx=$(eth0_index)
	ip netns add "$other" || fail "ip netns add $other"
	on_exit "ip netns del '$other'"
	# Interfaces until one has eth0's index there.
	for ((i = 0; i < 20; i++)); do
		ip -n "$other" link add "dx$i" type dummy 2>/dev/null
		[[ $(ip -n "$other" -o link show dev "dx$i" 2>/dev/null | cut -d: -f1) == "$idx" ]] && break
	done
	out=$(nsenter --net="/var/run/netns/$other" -- "$XDPLB" --pin-dir "$PIN" detach "dx$i" 2>&1)
	rc=$?
	log "detach from $other: rc $rc: $out"
	((rc == 1)) || fail "detach from another namespace: exit $rc: $out"
	grep -q "another network namespace" <<<"$out" || fail "does not say where it runs: $out"
	[[ $(state) == "$s0" ]] || fail "detach from another namespace changed something"
	expect_dist "$(curl_burst 4 "http://$VIP4/")" --total 4 --allowed r1,r2,r3

	# A pin this build does not know (a newer layout's map) goes too.
	bpftool map create "$PIN/future" type array key 4 value 4 entries 1 name future >/dev/null 2>&1 ||
		fail "bpftool map create"
	out=$(xlb detach eth0 2>&1) || fail "detach: $out"
	[[ ! -e $PIN ]] || fail "pins left: $(ls "$PIN" | tr '\n' ' ')"

	# Stray pins without a config: attach says so and clears them.
	mkdir -p "$PIN" && bpftool map create "$PIN/services" type array key 4 value 4 entries 1 \
		name services >/dev/null 2>&1 || fail "stray pin"
	out=$(xlb attach eth0 --vip "$VIP4:80" 2>&1) || fail "attach over stray pins: $out"
	grep -q "stray pins" <<<"$out" || fail "attach does not say it cleared stray pins: $out"
	add_reals "$VIP4:80" 1 r1
	expect_dist "$(curl_burst 3 "http://$VIP4/")" --total 3 --allowed r1
}
