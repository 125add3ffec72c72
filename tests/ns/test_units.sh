# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_units.sh - the systemd units' capability sets hold: systemd does not run
# here, so each service runs under setpriv with no_new_privs and exactly the
# CapabilityBoundingSet its unit file names (read from packaging/), and then
# with each capability one less. The exporter also runs with the bpffs
# read-only (what ProtectSystem=strict does to it).
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(units_exporter_caps units_daemon_caps)

UNIT_PORT=9102
UNIT_TUN=xlbu0

# unit_caps UNIT: the unit's CapabilityBoundingSet, one capability a line
# (lower case, without CAP_).
unit_caps() {
	sed -n 's/^CapabilityBoundingSet=//p' "$REPO/packaging/$1" | tr ' ' '\n' |
		sed -n 's/^CAP_//p' | tr 'A-Z' 'a-z'
}

# caps_arg CAP... : setpriv's --bounding-set for exactly these.
caps_arg() {
	local c out=-all
	for c in "$@"; do [[ -n $c ]] && out+=",+$c"; done
	echo "$out"
}

# as_unit BOUNDING CMD...: CMD as root with no_new_privs and only these
# capabilities (bounding set; root's permitted set follows it).
as_unit() {
	local b=$1
	shift
	setpriv --no-new-privs --inh-caps=-all --bounding-set="$b" -- "$@"
}

# unit_exporter BOUNDING NAME: the exporter in the LB namespace, as its unit
# runs it, on a read-only bpffs; EXP_PID, log in $T_TMP/NAME.log.
unit_exporter() {
	nsenter --net="$LB_NS" -- unshare -m --propagation private -- sh -c '
		mount -o remount,bind,ro /sys/fs/bpf || exit 9
		exec setpriv --no-new-privs --inh-caps=-all --bounding-set="$1" -- \
			"$2" --pin-dir "$3" exporter --listen "$4"' _ \
		"$1" "$XDPLB" "$PIN" "127.0.0.1:$UNIT_PORT" </dev/null 2>"$T_TMP/$2.log" &
	EXP_PID=$!
	on_exit "kill -9 $EXP_PID"
}

# kernel_at_least MAJOR MINOR
kernel_at_least() {
	local v
	v=$(uname -r)
	v=${v%%-*}
	(( ${v%%.*} > $1 || (${v%%.*} == $1 && $(cut -d. -f2 <<<"$v") >= $2) ))
}

# The exporter with its unit's set serves and ends with no capabilities; the
# set less CAP_BPF serves too on Linux 6.5 and later (reading pinned maps
# needs no capability there) and must fail before; with a capability the
# unit does not name, it still keeps none.
test_units_exporter_caps() {
	local caps st url=http://127.0.0.1:$UNIT_PORT/metrics out c i
	mapfile -t caps < <(unit_caps xdplb-exporter.service)
	log "xdplb-exporter.service: CapabilityBoundingSet ${caps[*]}"
	[[ ${caps[*]} == bpf ]] || fail "the exporter unit's set is '${caps[*]}', want CAP_BPF alone"
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1

	unit_exporter "$(caps_arg "${caps[@]}")" unit-exporter
	wait_http "$url"
	scrape "$url" "$T_TMP/metrics"
	[[ $(metric "$T_TMP/metrics" xdplb_real_up "real=$(lab_ip4 r1)") == 1 ]] || fail "no r1 in /metrics"
	st=$(grep -E '^(CapPrm|CapEff|NoNewPrivs):' "/proc/$EXP_PID/status" | tr -s '\t' ' ' | tr '\n' ' ')
	log "with the unit's set: $st"
	[[ $st == "CapPrm: 0000000000000000 CapEff: 0000000000000000 NoNewPrivs: 1 " ]] ||
		fail "the exporter kept capabilities under its unit's set: $st"
	kill "$EXP_PID"
	wait "$EXP_PID" 2>/dev/null

	for c in "${caps[@]}"; do
		unit_exporter "$(caps_arg "${caps[@]/$c/}")" unit-exporter-less
		for ((i = 0; i < 30; i++)); do
			out=$(lb_ns_exec curl -s -m 1 -o /dev/null -w '%{http_code}' "$url")
			[[ $out == 200 ]] || ! kill -0 "$EXP_PID" 2>/dev/null && break
			sleep 0.1
		done
		if kernel_at_least 6 5; then
			[[ $out == 200 ]] || fail "without CAP_${c^^}: $out; $(cat "$T_TMP/unit-exporter-less.log")"
			log "without CAP_${c^^}: serves (Linux $(uname -r) needs none to read pinned maps)"
		else
			[[ $out != 200 ]] || fail "without CAP_${c^^} it serves on Linux $(uname -r)"
			log "without CAP_${c^^}: $(head -n 1 "$T_TMP/unit-exporter-less.log")"
		fi
		kill "$EXP_PID" 2>/dev/null
		wait "$EXP_PID" 2>/dev/null
	done
	return 0
}

# unit_daemon BOUNDING CONF: the daemon as its unit runs it (in the LB
# namespace), with --announce, --listen and --bird-vips whose reload command
# leaves a mark; DAEMON_PID, its log in DAEMON_LOG.
unit_daemon() {
	DAEMON_LOG=$T_TMP/unit-daemon.log
	rm -f "$T_TMP/reloaded" "$T_TMP/bird-vips.conf"
	nsenter --net="$LB_NS" -- setpriv --no-new-privs --inh-caps=-all --bounding-set="$1" -- \
		"$XDPLB" --pin-dir "$PIN" daemon --config "$2" --announce "$UNIT_TUN" \
		--listen "127.0.0.1:$UNIT_PORT" --bird-vips "$T_TMP/bird-vips.conf" \
		--bird-reload "touch $T_TMP/reloaded" </dev/null 2>"$DAEMON_LOG" &
	DAEMON_PID=$!
	on_exit "kill -9 $DAEMON_PID"
}

# unit_daemon_works: within 5 s the daemon is healthy with its TUN device up,
# every real up (a real's first check rebuilds its service's table), an exec
# check passed, /metrics served and the reload command run; else say what
# is missing (exit 1).
unit_daemon_works() {
	local i m
	for ((i = 0; i < 50; i++)); do
		m=""
		kill -0 "$DAEMON_PID" 2>/dev/null || { echo "it exited: $(tail -n 1 "$DAEMON_LOG")"; return 1; }
		grep -q "announce: '$UNIT_TUN' up" "$DAEMON_LOG" || m+="announce up, "
		grep -q "real $(lab_ip4 r2) up: " "$DAEMON_LOG" || m+="r2 up, "
		grep -q "VIP $VIP4:81/tcp real $(lab_ip4 r1) up: " "$DAEMON_LOG" || m+="exec check, "
		[[ -e $T_TMP/reloaded ]] || m+="reload command, "
		[[ $(lb_ns_exec curl -s -m 1 -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$UNIT_PORT/metrics") == 200 ]] || m+="/metrics, "
		[[ -z $m ]] && return 0
		sleep 0.1
	done
	echo "missing after 5 s: ${m%, }; log: $(grep -v ' is new' "$DAEMON_LOG" | tail -n 2 | tr '\n' ' ')"
	return 1
}

# The daemon, and attach as the unit's ExecStartPre runs it, with exactly the
# xdplb.service's set do their whole job; with each capability one less,
# attach fails and so does the daemon's job on an instance attached by root.
test_units_daemon_caps() {
	local caps conf=$T_TMP/unit-daemon.conf out c less
	mapfile -t caps < <(unit_caps xdplb.service)
	log "xdplb.service: CapabilityBoundingSet ${caps[*]}"
	((${#caps[@]} > 0)) || fail "no CapabilityBoundingSet in xdplb.service"
	cat >"$conf" <<-EOF
		add-vip $VIP4:80 --check tcp --interval 0.5 --timeout 0.3
		add-real --vip $VIP4:80 $(lab_ip4 r1)
		add-real --vip $VIP4:80 $(lab_ip4 r2)
		add-vip $VIP4:81 --check exec:/bin/true --interval 0.5 --timeout 0.3
		add-real --vip $VIP4:81 $(lab_ip4 r1)
	EOF

	lb_reset
	out=$(lb_ns_exec setpriv --no-new-privs --inh-caps=-all --bounding-set="$(caps_arg "${caps[@]}")" -- \
		"$XDPLB" --pin-dir "$PIN" attach eth0 --vip "$VIP4:80" 2>&1) ||
		fail "attach with the unit's set: $out"
	unit_daemon "$(caps_arg "${caps[@]}")" "$conf"
	out=$(unit_daemon_works) || fail "daemon with the unit's set: $out"
	kill "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	log "with the unit's set: attach, checks, rebuilds, announce, /metrics, reload: all work"

	for c in "${caps[@]}"; do
		less=$(caps_arg "${caps[@]/$c/}")
		lb_reset
		out=$(lb_ns_exec setpriv --no-new-privs --inh-caps=-all --bounding-set="$less" -- \
			"$XDPLB" --pin-dir "$PIN" attach eth0 --vip "$VIP4:80" 2>&1) &&
			fail "attach works without CAP_${c^^}"
		log "attach without CAP_${c^^}: $out"
		lb_fresh "$VIP4:80"
		unit_daemon "$less" "$conf"
		out=$(unit_daemon_works) && fail "the daemon does its whole job without CAP_${c^^}"
		log "daemon without CAP_${c^^}: $out"
		kill "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	done
	return 0
}
