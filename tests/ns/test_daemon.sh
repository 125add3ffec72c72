# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_daemon.sh - xdplb daemon: a real whose HTTP server dies is drained and
# comes back, SIGHUP re-applies the file and moves nothing, a bad file changes
# nothing, kill -9 leaves forwarding as it was, --announce follows the daemon,
# the sorry real takes over below quorum, another process holding the pin
# directory's lock freezes neither checks nor /metrics, and a corrupt, empty
# or wiping file is refused at start and on SIGHUP.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(daemon_health daemon_reload daemon_kill daemon_sorry daemon_lock daemon_lock_start
	daemon_corrupt)

DAEMON_PID=
DAEMON_LOG=
ANNOUNCE=xlbd0 # the --announce device, in the LB namespace

# daemon_conf FILE CHECKOPTS REALLINE...: a configuration file for VIP4:80.
daemon_conf() {
	local f=$1 opts=$2 l
	shift 2
	{
		echo "# written by test_daemon.sh"
		echo "add-vip $VIP4:80 $opts"
		for l in "$@"; do echo "add-real --vip $VIP4:80 $l"; done
	} >"$f"
}

# daemon_start FILE [ARGS...]: xdplb daemon in the LB namespace, in the
# background (DAEMON_PID, log in DAEMON_LOG); killed when the test ends.
daemon_start() {
	local f=$1
	shift
	DAEMON_LOG=$T_TMP/daemon-$T_NAME.log
	nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" daemon --config "$f" "$@" \
		</dev/null 2>"$DAEMON_LOG" &
	DAEMON_PID=$!
	on_exit "kill -9 $DAEMON_PID"
}

# daemon_fresh FILE CHECKOPTS HOST[=REALOPTS]... [-- DAEMONARGS...]: a fresh
# instance with VIP4:80, a file with these reals, the daemon on it; returns
# once every real is up (its first check passed).
daemon_fresh() {
	local f=$1 opts=$2 h lines=() hosts=()
	shift 2
	while (($# > 0)) && [[ $1 != -- ]]; do
		h=${1%%=*}
		hosts+=("$h")
		if [[ $1 == *=* ]]; then lines+=("$(lab_ip4 "$h") ${1#*=}"); else lines+=("$(lab_ip4 "$h")"); fi
		shift
	done
	[[ ${1:-} == -- ]] && shift
	lb_fresh "$VIP4:80"
	daemon_conf "$f" "$opts" "${lines[@]}"
	daemon_start "$f" "$@"
	# All are new: added down, each up once its first check passed.
	for h in "${hosts[@]}"; do wait_log "real $(lab_ip4 "$h") up: " 3; done
}

# wait_log TEXT SECS: wait until the daemon's log has a line with TEXT.
wait_log() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -qF "$1" "$DAEMON_LOG" && return 0
		sleep 0.1
	done
	fail "no '$1' in the daemon's log after ${2}s: $(tail -n 3 "$DAEMON_LOG")"
}

# daemon_alive: fail unless the daemon still runs.
daemon_alive() {
	kill -0 "$DAEMON_PID" 2>/dev/null ||
		fail "the daemon exited; its log: $(tail -n 3 "$DAEMON_LOG")"
}

# wait_health HOST STATE SECS [SINCE]: wait until `list -j` shows HOST's real of
# VIP4:80 as STATE (up, down); print how long it took (ms) since SINCE (date
# +%s%N, default now), or fail after SECS.
wait_health() {
	local a t0=${4:-$(date +%s%N)} now out h
	a=$(lab_ip4 "$1")
	while :; do
		out=$(xlb -j list 2>&1) || fail "list: $out"
		h=$(jget "$out" "reals(d, '$VIP4:80/tcp').get('$a', {}).get('health')")
		now=$(date +%s%N)
		[[ $h == "$2" ]] && break
		(((now - t0) / 1000000 < $3 * 1000)) ||
			fail "$1 is '$h', not $2, after ${3}s; daemon log: $(tail -n 3 "$DAEMON_LOG")"
		sleep 0.05
	done
	echo $(((now - t0) / 1000000))
}

# health_seq HOST TEXT SECS: HOST's health as `list -j` shows it for VIP4:80,
# polled until the daemon's log has TEXT and HOST is up, each change once
# ("down up"); fail after SECS. An "up" seen while the log does not have
# TEXT yet (the daemon logs a verdict before it writes it) is "up-early":
# up before the check that passed. A check that passes between two polls
# can hide the down before it: the sequence is then just "up".
health_seq() {
	local a seq=() out h t0=$SECONDS
	a=$(lab_ip4 "$1")
	while ((SECONDS - t0 <= $3)); do
		out=$(xlb -j list 2>&1) || fail "list: $out"
		h=$(jget "$out" "reals(d, '$VIP4:80/tcp').get('$a', {}).get('health', '')")
		[[ $h == up ]] && ! grep -qF "$2" "$DAEMON_LOG" && h=up-early
		[[ -z $h || $h == "${seq[-1]:-}" ]] || seq+=("$h")
		if [[ $h == up ]] && grep -qF "$2" "$DAEMON_LOG"; then
			echo "${seq[*]}"
			return 0
		fi
	done
	fail "$1 not up with '$2' in the daemon's log after ${3}s (seen: ${seq[*]})"
}

# wait_announce up|gone: wait (2 s at most) until the --announce device is up,
# or gone; fail otherwise.
wait_announce() {
	local i st
	for ((i = 0; i < 20; i++)); do
		if ! st=$(ip -n "$LAB-lb" link show "$ANNOUNCE" 2>/dev/null); then
			[[ $1 == gone ]] && return 0
		elif [[ $1 == up ]] && grep -q '<[^>]*\bUP\b' <<<"$st"; then
			return 0
		fi
		sleep 0.1
	done
	fail "'$ANNOUNCE' is not $1 after 2 s: ${st:-no such device}"
}

# ensure_server HOST: start HOST's realsrv.py unless it runs; wait for it.
ensure_server() {
	_lab_pid_alive "$(lab_run_dir)/realsrv-$1.pid" && return 0
	lab_server_start "$1" && lab_server_wait "$1"
}

# stop_server HOST: kill HOST's realsrv.py (SIGKILL: it dies at once, as a
# crashed server does); it runs again when the test ends.
stop_server() {
	local f
	f=$(lab_run_dir)/realsrv-$1.pid
	on_exit "ensure_server $1"
	_lab_pid_alive "$f" && kill -KILL "$(<"$f")"
	lab_server_stop "$1"
}

# restart_server HOST: start HOST's realsrv.py again (after stop_server).
restart_server() {
	ensure_server "$1" || fail "cannot start the server of $1"
}

# health_after HOST STATE CMD...: run CMD, then wait until HOST is STATE; fail
# unless that took at most 2 s from the start of CMD: fall or rise (2) x
# interval (0.5 s), the check that notices it and slack.
health_after() {
	local h=$1 st=$2 t0 ms
	shift 2
	t0=$(date +%s%N)
	"$@"
	ms=$(wait_health "$h" "$st" 3 "$t0")
	[[ -n $ms ]] || fail "$h not $st after 3 s: $(cat "$T_REASON")"
	log "$h $st after $ms ms"
	((ms <= 2000)) || fail "$h $st after $ms ms (want <= 2000: 2 checks x 0.5 s + slack)"
}

# A dead HTTP server is drained within fall x interval (+ one timeout and
# slack) and no new request fails after that; it comes back within rise x
# interval. The --announce device is up while healthy.
test_daemon_health() {
	local conf=$T_TMP/health.conf t
	daemon_fresh "$conf" "--check http:/health --interval 0.5 --timeout 0.3 --rise 2 --fall 2" \
		r1 r2 r3 -- --announce "$ANNOUNCE"
	daemon_alive
	wait_announce up
	t=$(http_burst 30 "$VIP4")
	expect_dist "$t" --total 30 --required r1,r2,r3

	health_after r2 down stop_server r2
	t=$(http_burst 60 "$VIP4")
	log "r2 drained: $t"
	expect_dist "$t" --total 60 --allowed r1,r3 --forbidden r2
	grep -q "real $(lab_ip4 r2) down: Connection refused (2 failed in a row)" "$DAEMON_LOG" ||
		fail "no log line of r2 going down: $(tail -n 3 "$DAEMON_LOG")"

	health_after r2 up restart_server r2
	t=$(http_burst 60 "$VIP4")
	expect_dist "$t" --total 60 --required r1,r2,r3
	daemon_alive
}

# maglev_ids: the inner map id of every service's Maglev table.
maglev_ids() {
	local id
	for id in 0 1 2 3; do
		bpftool -j map lookup pinned "$PIN/maglev" key "$id" 0 0 0 2>/dev/null
		echo
	done
}

# state: what SIGHUP must not change: the configuration with health, each
# service's and real's counters, the tracked flows, the tables.
daemon_state() {
	local l s c
	l=$(xlb -j list) || fail "list: $l"
	s=$(xlb -j stats) || fail "stats: $s"
	c=$(xlb -j conns) || fail "conns: $c"
	# A tracked flow without its age and idle time, which tick.
	jget "[$l,$s,$c]" '[d[0], [(v, r["address"], r["packets"], r["bytes"]) for v, r in all_reals(d[1])], sorted((x["client"], x["vip"], x["real"]) for x in d[2]["conns"])]'
	maglev_ids
}

# SIGHUP with the same file swaps no table and touches no counter or flow; a
# bad file is logged and changes nothing; a changed file is applied.
test_daemon_reload() {
	local conf=$T_TMP/reload.conf before after t seq
	require_cmd bpftool
	daemon_fresh "$conf" "--check tcp --interval 0.5 --timeout 0.3" r1 r2 r3
	t=$(http_burst 20 "$VIP4")
	expect_dist "$t" --total 20
	before=$(daemon_state)

	kill -HUP "$DAEMON_PID"
	sleep 1.2 # a tick, a check round
	daemon_alive
	grep -q "reload: nothing to change" "$DAEMON_LOG" ||
		fail "no 'reload: nothing to change' after SIGHUP: $(tail -n 2 "$DAEMON_LOG")"
	after=$(daemon_state)
	[[ $before == "$after" ]] || fail "SIGHUP with the same file changed something: before $before; after $after"

	cp "$conf" "$conf.good"
	echo "add-real --vip $VIP4:80 $(lab_ip4 r4) --weight 70000" >>"$conf"
	kill -HUP "$DAEMON_PID"
	sleep 1.2
	daemon_alive
	grep -q "reload: $conf:6: .*the running configuration stays" "$DAEMON_LOG" ||
		fail "bad file not logged with its line: $(tail -n 2 "$DAEMON_LOG")"
	after=$(daemon_state)
	[[ $before == "$after" ]] || fail "SIGHUP with a bad file changed something: before $before; after $after"

	# A good change: r3 leaves, r4 comes. New and unchecked, r4 is added
	# down: `list` shows it down from the first moment, never up before
	# its first check passed (and down again, as when the daemon set it
	# down only after the reload had added it).
	daemon_conf "$conf" "--check tcp --interval 0.5 --timeout 0.3" \
		"$(lab_ip4 r1)" "$(lab_ip4 r2)" "$(lab_ip4 r4)"
	kill -HUP "$DAEMON_PID"
	seq=$(health_seq r4 "real $(lab_ip4 r4) up: connected (first check)" 3)
	[[ $seq == "down up" || $seq == up ]] ||
		fail "r4's health after the reload went: $seq (want: down up)"
	t=$(http_burst 40 "$VIP4")
	expect_dist "$t" --total 40 --allowed r1,r2,r4 --required r4
	daemon_alive
}

# kill -9: the program stays attached and forwarding, the maps pinned, and
# the --announce device is gone with the daemon.
test_daemon_kill() {
	local conf=$T_TMP/kill.conf t out
	daemon_fresh "$conf" "--check http:/health --interval 0.5 --timeout 0.3" r1 r2 \
		-- --announce "$ANNOUNCE"
	wait_announce up
	# Healthy takes one real up; the burst below wants both.
	wait_health r1 up 3 >/dev/null
	wait_health r2 up 3 >/dev/null

	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	wait_announce gone
	[[ -n $(lb_xdp_prog eth0) ]] || fail "no XDP program on eth0 after the daemon was killed"
	t=$(http_burst 40 "$VIP4")
	expect_dist "$t" --total 40 --required r1,r2 --allowed r1,r2
	out=$(xlb -j list) || fail "list after kill -9: $out"
}

# Quorum 2 and a sorry real: with one of two reals down, new flows go to the
# sorry real; with both back, to them again.
test_daemon_sorry() {
	local conf=$T_TMP/sorry.conf t
	daemon_fresh "$conf" "--check tcp --interval 0.3 --timeout 0.2 --rise 1 --fall 1 --quorum 2" \
		r1 r2 r4=--sorry
	t=$(http_burst 40 "$VIP4")
	expect_dist "$t" --total 40 --allowed r1,r2 --required r1,r2

	stop_server r2
	wait_health r2 down 3 >/dev/null
	t=$(http_burst 40 "$VIP4")
	log "below quorum: $t"
	expect_dist "$t" --total 40 --allowed r4

	stop_server r1
	wait_health r1 down 3 >/dev/null
	t=$(http_burst 20 "$VIP4")
	expect_dist "$t" --total 20 --allowed r4

	restart_server r1
	restart_server r2
	wait_health r1 up 3 >/dev/null
	wait_health r2 up 3 >/dev/null
	t=$(http_burst 40 "$VIP4")
	expect_dist "$t" --total 40 --allowed r1,r2 --required r1,r2
	daemon_alive
}

# real_weight HOST: HOST's weight in VIP4:80, as `list -j` shows it.
real_weight() {
	local out
	out=$(xlb -j list 2>&1) || fail "list: $out"
	jget "$out" "reals(d, '$VIP4:80/tcp').get('$(lab_ip4 "$1")', {}).get('weight')"
}

# The daemon never waits for the pin directory's lock. A restore stopped
# (SIGSTOP) while it holds the lock freezes neither the checks, /metrics nor
# the announcement: a real whose server dies is judged down at once, and
# drained as soon as the restore lets the lock go; a file read on SIGHUP
# meanwhile waits too, and is applied then. The daemon says once that it
# waits, and for whom.
test_daemon_lock() {
	local conf=$T_TMP/lock.conf bad=$T_TMP/lock-bad.conf url=http://127.0.0.1:9102/metrics
	local rpid rc i out ms
	daemon_fresh "$conf" "--check http:/health --interval 0.5 --timeout 0.3 --rise 2 --fall 2" \
		r1 r2 r3 -- --announce "$ANNOUNCE" --listen 127.0.0.1:9102
	wait_announce up
	# A restore whose new real resolves to nothing holds the lock for the
	# 3 s of its ARP; stopped there, it holds it until it is continued.
	{ xlb save; echo "add-real --vip $VIP4:80/tcp 198.18.0.77"; } >"$bad"
	nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" restore "$bad" >/dev/null 2>&1 &
	rpid=$!
	on_exit "kill -CONT $rpid"
	for ((i = 0; i < 40; i++)); do
		flock -n "$PIN" true || break
		sleep 0.025
	done
	kill -STOP "$rpid"
	flock -n "$PIN" true && fail "the restore does not hold the lock"

	stop_server r2
	wait_log "real $(lab_ip4 r2) down: " 4
	wait_log "is locked by pid $rpid (" 2
	grep -q "is locked by pid $rpid (.*restore $bad)" "$DAEMON_LOG" ||
		fail "the log does not name the restore: $(grep 'is locked' "$DAEMON_LOG")"
	for ((i = 0; i < 3; i++)); do
		out=$(lb_ns_exec curl -sS -m 2 "$url" 2>&1) ||
			fail "/metrics does not answer while the lock is held: $out"
		grep -q "^xdplb_real_up{.*real=\"$(lab_ip4 r1)\".* 1$" <<<"$out" ||
			fail "/metrics while the lock is held: $(grep xdplb_real_up <<<"$out")"
		sleep 0.2
	done
	wait_announce up
	[[ $(real_weight r1) == 1 ]] || fail "r1's weight is not 1 to begin with"
	wait_health r2 up 0 >/dev/null # the lock is the restore's: nothing written

	# SIGHUP with r1 at weight 5: read at once, applied once the lock is free.
	daemon_conf "$conf" "--check http:/health --interval 0.5 --timeout 0.3 --rise 2 --fall 2" \
		"$(lab_ip4 r1) --weight 5" "$(lab_ip4 r2)" "$(lab_ip4 r3)"
	kill -HUP "$DAEMON_PID"
	sleep 0.6
	daemon_alive
	[[ $(real_weight r1) == 1 ]] || fail "the reload was applied under another's lock"
	[[ $(grep -c "is locked by" "$DAEMON_LOG") == 1 ]] ||
		fail "the wait is not said once: $(grep -c "is locked by" "$DAEMON_LOG") times"

	# Let it go: the restore fails (no MAC) and changes nothing; r2 is
	# drained at once, the reload made.
	kill -CONT "$rpid"
	wait "$rpid"
	rc=$?
	((rc == 1)) || fail "the restore exited $rc, want 1 (unresolvable real)"
	ms=$(wait_health r2 down 2)
	log "r2 down $ms ms after the restore let the lock go"
	wait_log "is free after" 1
	[[ $(real_weight r1) == 5 ]] || fail "the reload waiting for the lock was not applied"
	grep -q "reload: services 0 added, 0 removed, 0 changed; reals 0 added, 0 removed, 1 changed" \
		"$DAEMON_LOG" || fail "no line of the reload: $(tail -n 4 "$DAEMON_LOG")"
	out=$(http_burst 30 "$VIP4")
	expect_dist "$out" --total 30 --allowed r1,r3 --forbidden r2
	wait_announce up
	daemon_alive
}

# A daemon started while another process holds the lock runs at once: it
# serves /metrics, announces nothing until its file is applied, and applies
# it as soon as the lock is free.
test_daemon_lock_start() {
	local conf=$T_TMP/lock-start.conf url=http://127.0.0.1:9103/metrics out fpid
	lb_fresh "$VIP4:80"
	daemon_conf "$conf" "--check tcp --interval 0.5 --timeout 0.3" \
		"$(lab_ip4 r1)" "$(lab_ip4 r2)"
	# The lock on a descriptor of the process killed below.
	(flock -x 9 && exec sleep 30) 9<"$PIN" &
	fpid=$!
	on_exit "kill $fpid"
	sleep 0.2
	flock -n "$PIN" true && fail "the lock is not taken"
	daemon_start "$conf" --announce "$ANNOUNCE" --listen 127.0.0.1:9103
	wait_log "is locked by pid" 3
	grep -q "waiting for it to make: the file '$conf'" "$DAEMON_LOG" ||
		fail "the log does not say the file waits: $(grep 'is locked' "$DAEMON_LOG")"
	daemon_alive
	out=$(lb_ns_exec curl -sS -m 2 "$url" 2>&1) ||
		fail "/metrics does not answer while the lock is held: $out"
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "len(reals(d))") == 0 ]] || fail "applied under another's lock: $out"
	ip -n "$LAB-lb" link show "$ANNOUNCE" | grep -q '<[^>]*\bUP\b' &&
		fail "'$ANNOUNCE' is up before the file is applied"

	kill "$fpid"
	wait_log "start: services 0 added, 0 removed, 1 changed; reals 2 added" 2
	wait_log "the lock on '$PIN' is free after" 1
	wait_health r1 up 3 >/dev/null
	wait_health r2 up 3 >/dev/null
	wait_announce up
	daemon_alive
}

# What a power loss leaves (a zero-filled file), an empty file and a file
# that would delete every service with reals: refused on SIGHUP, logged,
# the running configuration stays; and at start, with one line and exit 1,
# on a fresh instance without reals too.
test_daemon_corrupt() {
	local conf=$T_TMP/corrupt.conf before after out rc
	require_cmd bpftool
	daemon_fresh "$conf" "--check tcp --interval 0.5 --timeout 0.3" r1 r2
	before=$(daemon_state)

	head -c 4096 /dev/zero >"$conf"
	kill -HUP "$DAEMON_PID"
	wait_log "reload: $conf:1: a NUL byte at column 1 (not text: a zero-filled or binary file?); the running configuration stays" 3
	: >"$conf"
	kill -HUP "$DAEMON_PID"
	wait_log "reload: '$conf' declares no service: refused; the running configuration stays" 3
	echo "add-vip $VIP4:81" >"$conf"
	kill -HUP "$DAEMON_PID"
	wait_log "reload: '$conf' would delete every service that has reals (1 service with 2 reals: $VIP4:80/tcp): refused; the running configuration stays" 3
	sleep 1.2 # a tick, a check round
	daemon_alive
	after=$(daemon_state)
	[[ $before == "$after" ]] || fail "a refused file changed something: before $before; after $after"
	out=$(http_burst 20 "$VIP4")
	expect_dist "$out" --total 20 --required r1,r2

	# At start: nothing changes, one line, exit 1.
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	before=$(daemon_state)
	for f in /dev/zero "$conf"; do
		out=$(nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" daemon --config "$f" 2>&1 </dev/null)
		rc=$?
		((rc == 1)) || fail "daemon --config $f: exit $rc, want 1: $out"
		[[ $out != *$'\n'* ]] || fail "daemon --config $f: not one line: $out"
		[[ $out == *"refused"* || $out == *"NUL byte"* ]] || fail "daemon --config $f: $out"
	done
	after=$(daemon_state)
	[[ $before == "$after" ]] || fail "a daemon refused at start changed something"

	# A fresh instance (a service, no real yet) and an empty file, as a
	# crash leaves it: refused all the same (only a daemon with --console
	# builds from nothing: test_console_browser).
	lb_fresh "$VIP4:80"
	: >"$conf"
	before=$(xlb save)
	out=$(nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" daemon --config "$conf" 2>&1 </dev/null)
	rc=$?
	((rc == 1)) && [[ $out == *"declares no service: refused"* ]] ||
		fail "an empty file on a fresh instance: exit $rc: $out"
	[[ $(xlb save) == "$before" ]] || fail "an empty file on a fresh instance changed it"
}
