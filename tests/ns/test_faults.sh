# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_faults.sh - changes killed at any instant: `restore` of a file of
# hundreds of services, add-real, del-real, set-real, add-vip, del-vip,
# set-vip --table-size and the daemon (applying its file, reloading it,
# draining a real whose check fails) are SIGKILLed between two of their map
# writes (XDPLB_FAULT=lb:write@N=kill, N at random: fault.h) or after a
# random sleep, and sometimes the repair that follows is killed too. After
# each: the next command that takes the lock says it repaired the change,
# the instance opens, `verify` finds the data path forwarding exactly what
# the configuration says, HTTP to the VIP reaches exactly the reals `save`
# (and their health) say, and re-applying the file finishes the change,
# after which re-applying it again changes nothing.
# Sourced by run.sh (helpers and variables are defined there).
#
# XDPLB_FAULT_KILLS [4]: changes killed per test (CI; faults_changes kills
# twice as many, faults_daemon as many plus each write of a drain); more
# for a longer run (each test has XDPLB_TEST_TIMEOUT, 60 s by default).
# XDPLB_FAULT_REPORT [none]: a file each test appends "NAME: N kills
# injected" to.

ns_tests+=(faults_restore faults_changes faults_daemon)

: "${XDPLB_FAULT_KILLS:=4}"
FAULT_KILLED=0 # changes that died (exit 137) in this test

# faults_file FILE SEED NSVCS R=W...: a configuration of VIP4:80 with the
# reals R (r1..r4) of weights W, [VIP6]:80 with the same reals, and NSVCS
# more services on VIP4 ports 1000..1999 (their reals, weights, table sizes
# and options drawn from SEED: two files of two seeds differ in most
# services, share some, and change some in place).
faults_file() {
	local f=$1 seed=$2 n=$3 rw
	shift 3
	{
		echo "add-vip $VIP4:80"
		for rw in "$@"; do echo "add-real --vip $VIP4:80 $(lab_ip4 "${rw%=*}") --weight ${rw#*=}"; done
		echo "add-vip [$VIP6]:80 --hash src-ip"
		for rw in "$@"; do echo "add-real --vip [$VIP6]:80 $(lab_ip6 "${rw%=*}") --weight ${rw#*=}"; done
		/usr/bin/python3 - "$seed" "$n" "$VIP4" "$(lab_ip4 r1)" "$(lab_ip4 r2)" \
			"$(lab_ip4 r3)" "$(lab_ip4 r4)" <<-'EOF'
			import random, sys
			rnd = random.Random(int(sys.argv[1]))
			vip, reals = sys.argv[3], sys.argv[4:]
			for p in sorted(rnd.sample(range(1000, 2000), int(sys.argv[2]))):
			    opts = rnd.choice(["", "", " --hash src-ip", " --quorum 2"])
			    print("add-vip %s:%d --table-size %d%s" % (
			        vip, p, rnd.choice([7, 251, 1009, 1009, 4093]), opts))
			    for a in sorted(rnd.sample(reals, rnd.randint(1, 3))):
			        print("add-real --vip %s:%d %s --weight %d" % (vip, p, a, rnd.randint(0, 5)))
			EOF
	} >"$f"
}

# fault_writes ARGS...: how many map writes `xdplb ARGS` makes (it makes
# them: XDPLB_FAULT=lb:write=trace counts them, the last removes the
# change's marker).
fault_writes() {
	XDPLB_FAULT=lb:write=trace xlb "$@" 2>&1 >/dev/null | grep -c '^XDPLB_FAULT: at lb:write'
}

# fault_run N ARGS...: `xdplb ARGS` killed at its Nth map write; sets
# FAULT_RC (137: it died there; else it made fewer writes than N).
fault_run() {
	local n=$1
	shift
	XDPLB_FAULT=lb:write@$n=kill xlb "$@" >/dev/null 2>&1
	FAULT_RC=$?
	((FAULT_RC != 137)) || FAULT_KILLED=$((FAULT_KILLED + 1))
}

# fault_run_late SECS ARGS...: `xdplb ARGS` sent SIGKILL after SECS (if
# still running then); sets FAULT_RC.
fault_run_late() {
	local secs=$1 pid
	shift
	nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" "$@" >/dev/null 2>&1 &
	pid=$!
	sleep "$secs"
	kill -9 "$pid" 2>/dev/null
	wait "$pid"
	FAULT_RC=$?
	((FAULT_RC != 137)) || FAULT_KILLED=$((FAULT_KILLED + 1))
}

# fault_reals_json: what `list -j` says of VIP4:80: {"hash": MODE,
# "reals": {name: weight}} of its reals that take new flows now (weight >
# 0, up, not sorry); null when there is no such service.
fault_reals_json() {
	local l
	l=$(xlb -j list) || fail "list: $l"
	jget "$l" "(lambda s: None if s is None else {'hash': s['hash'], 'reals': {'r%d' % (int(r['address'].split('.')[-1]) - 10): r['weight'] for r in s['reals'] if r['weight'] > 0 and r['health'] == 'up' and not r.get('sorry')}})(svc(d, '$VIP4:80/tcp'))"
}

# fault_check WHAT SAID: the instance after WHAT. SAID: the repair line the
# first command to take the lock printed ("" for none). The instance opens,
# verify finds nothing, and HTTP to VIP4:80 reaches exactly the reals that
# save (and health) say take new flows: every one of them, or with src-ip
# hashing (one client) one of them.
fault_check() {
	local what=$1 out rc want names t
	out=$(xlb verify 2>&1)
	rc=$?
	((rc == 0)) || fail "after $what (repair said: ${2:-nothing}): verify exit $rc: $out"
	want=$(fault_reals_json)
	if [[ $want == None ]]; then
		t=$(http_burst 4 "$VIP4")
		[[ $(jget "$t" "d['errors']") == 4 ]] ||
			fail "after $what: $VIP4:80 is not configured, yet answers: $t"
		return 0
	fi
	names=$(jget "$want" "','.join(sorted(d['reals']))")
	[[ -n $names ]] || fail "after $what: no real of $VIP4:80 takes new flows (test bug)"
	t=$(http_burst 40 "$VIP4")
	if [[ $(jget "$want" "d['hash']") == src-ip ]]; then
		expect_dist "$t" --total 40 --allowed "$names"
		[[ $(jget "$t" "len([k for k in d if k not in ('errors', 'first_error')])") == 1 ]] ||
			fail "after $what: one client of a src-ip service reached several reals: $t"
	else
		expect_dist "$t" --total 40 --allowed "$names" --required "$names"
	fi
}

# fault_finish FILE SAVED: re-applying FILE finishes the change; applying
# it again changes nothing; save is then SAVED, and verify finds nothing.
fault_finish() {
	local out
	out=$(xlb restore "$1" 2>&1) || fail "re-applying $(basename "$1"): $out"
	out=$(xlb restore "$1" 2>&1) || fail "re-applying $(basename "$1") again: $out"
	[[ $out == *"services 0 added, 0 removed, 0 changed; reals 0 added, 0 removed, 0 changed" ]] ||
		fail "re-applying $(basename "$1") a second time still changes: $out"
	[[ $(xlb save) == "$2" ]] || fail "after re-applying $(basename "$1"), save differs from its own"
	out=$(xlb verify 2>&1) || fail "after re-applying $(basename "$1"): $out"
}

# fault_after WHAT KILLED_INSIDE: after a change that may have died. The
# first command to take the lock is a save; one time in three a save whose
# repair is itself killed (at one of its first writes) goes first. When the
# change died at one of its map writes (KILLED_INSIDE=1), so inside its
# marker, one of them says it repaired it. Then no marker is left, and the
# instance is checked (fault_check).
fault_after() {
	local what=$1 said pre=
	if ((RANDOM % 3 == 0)); then
		pre=$(XDPLB_FAULT=lb:write@$((1 + RANDOM % 4))=kill xlb save 2>&1 >/dev/null)
		log "$what: a save whose repair is killed first: $pre"
	fi
	said=$(xlb save 2>&1 >/dev/null) || fail "save after $what: $said"
	log "$what: ${said:-no repair}"
	if (($2)) && [[ "$pre$said" != *"was interrupted in a change"* ]]; then
		fail "after $what, no command said it repaired it: [$pre] [$said]"
	fi
	[[ ! -e $PIN/changing ]] || fail "after $what and a save, the change's marker is still there"
	fault_check "$what" "$said"
}

# faults_pair A B SEED NSVCS: a fresh instance with file A applied; A and B
# two files of NSVCS services more (seeds SEED and SEED + 1; VIP4:80's reals
# r1, r2 in A and r3, r4 in B). Sets SAVED[F] (save of F applied) and
# WRITES[F] (writes of restore F from the other).
faults_pair() {
	local a=$1 b=$2 out
	declare -gA SAVED WRITES
	lb_fresh "$VIP4:80"
	faults_file "$a" "$3" "$4" r1=1 r2=2
	faults_file "$b" $(($3 + 1)) "$4" r3=2 r4=1
	out=$(xlb restore "$a" 2>&1) || fail "restore: $out"
	SAVED[$a]=$(xlb save)
	WRITES[$b]=$(fault_writes restore "$b")
	SAVED[$b]=$(xlb save)
	WRITES[$a]=$(fault_writes restore "$a")
	[[ $(xlb save) == "${SAVED[$a]}" ]] || fail "restoring a file back does not give its save back"
	log "writes: to $(basename "$b") ${WRITES[$b]}, back ${WRITES[$a]}"
}

fault_report() {
	log "$T_NAME: $FAULT_KILLED kills injected"
	[[ -z ${XDPLB_FAULT_REPORT:-} ]] || echo "$T_NAME: $FAULT_KILLED kills injected" >>"$XDPLB_FAULT_REPORT"
}

# `restore` of a file of 150 services to another of 150, killed at any of
# its thousands of writes (and some after a random sleep).
test_faults_restore() {
	local a=$T_TMP/faults-a.conf b=$T_TMP/faults-b.conf from to i k
	faults_pair "$a" "$b" 1 150
	((WRITES[$a] > 1000 && WRITES[$b] > 1000)) || fail "too few writes to kill: ${WRITES[*]}"
	from=$a
	for ((i = 0; i < XDPLB_FAULT_KILLS; i++)); do
		[[ $from == "$a" ]] && to=$b || to=$a
		if ((i % 4 == 3)); then
			k=0.$((RANDOM % 10))
			fault_run_late "$k" restore "$to"
			fault_after "restore killed after ${k}s (exit $FAULT_RC)" 0
		else
			k=$((1 + RANDOM % WRITES[$to]))
			fault_run "$k" restore "$to"
			((FAULT_RC == 137)) || fail "restore was not killed at write $k of ${WRITES[$to]}: exit $FAULT_RC"
			fault_after "restore killed at write $k of ${WRITES[$to]}" 1
		fi
		fault_finish "$to" "${SAVED[$to]}"
		from=$to
	done
	fault_report
}

# The commands that change one service or real, each killed at a random one
# of its writes, on an instance of 60 services more.
test_faults_changes() {
	local base=$T_TMP/faults-base.conf saved out i c k
	local -a cmds=(
		"add-real --vip $VIP4:80 $(lab_ip4 r3) --weight 1"
		"add-real --vip [$VIP6]:80 $(lab_ip6 r4) --weight 2"
		"del-real --vip $VIP4:80 $(lab_ip4 r1)"
		"set-real --vip $VIP4:80 $(lab_ip4 r2) --weight 5"
		"add-vip $VIP4:81 --table-size 7"
		"del-vip $VIP4:80"
		"del-vip [$VIP6]:80"
		"set-vip $VIP4:80 --table-size 7"
		"set-vip $VIP4:80 --table-size 131071 --hash src-ip"
	)
	local -a nw
	lb_fresh "$VIP4:80"
	faults_file "$base" 3 60 r1=1 r2=2
	out=$(xlb restore "$base" 2>&1) || fail "restore: $out"
	saved=$(xlb save)
	for ((c = 0; c < ${#cmds[@]}; c++)); do
		# shellcheck disable=SC2086 # the command's words
		nw[c]=$(fault_writes ${cmds[c]})
		# shellcheck disable=SC2086
		((nw[c] > 1)) || fail "'${cmds[c]}' made no write: $(xlb ${cmds[c]} 2>&1)"
		xlb restore "$base" >/dev/null || fail "restore after '${cmds[c]}'"
	done
	log "writes: ${nw[*]}"
	for ((i = 0; i < 2 * XDPLB_FAULT_KILLS; i++)); do
		c=$((RANDOM % ${#cmds[@]}))
		k=$((1 + RANDOM % nw[c]))
		# shellcheck disable=SC2086
		fault_run "$k" ${cmds[c]}
		((FAULT_RC == 137)) || fail "'${cmds[c]}' was not killed at write $k of ${nw[c]}: exit $FAULT_RC"
		fault_after "'${cmds[c]}' killed at write $k of ${nw[c]}" 1
		fault_finish "$base" "$saved"
	done
	fault_report
}

# faults_daemon_wait_gone: wait (10 s at most) for the daemon to exit;
# sets FAULT_RC to its status.
faults_daemon_wait_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DAEMON_PID" 2>/dev/null && fail "the daemon did not die: $(tail -n 3 "$DAEMON_LOG")"
	wait "$DAEMON_PID" 2>/dev/null
	FAULT_RC=$?
	((FAULT_RC != 137)) || FAULT_KILLED=$((FAULT_KILLED + 1))
}

# faults_r1_up FILE SAVED: the instance is FILE with r1 up in VIP4:80 (a
# real added anew is up: restore keeps a real's health, not a new one's).
faults_r1_up() {
	local out
	xlb del-real --vip "$VIP4:80" "$(lab_ip4 r1)" >/dev/null 2>&1
	out=$(xlb restore "$1" 2>&1) || fail "restore: $out"
	[[ $(xlb save) == "$2" ]] || fail "restore of $(basename "$1") differs from its save"
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "reals(d, '$VIP4:80/tcp')['$(lab_ip4 r1)']['health']") == up ]] ||
		fail "r1 is not up after it was added anew: $out"
}

# The daemon killed while it applies its file at start (at a random write),
# while it reloads a file of 100 services on SIGHUP (after a random sleep),
# and while it drains a real whose check fails (at each of its writes).
test_faults_daemon() {
	local a=$T_TMP/faults-da.conf b=$T_TMP/faults-db.conf c=$T_TMP/faults-dc.conf
	local f=$T_TMP/faults-daemon.conf from to i k s t out
	faults_pair "$a" "$b" 4 100

	# 1. At start, applying the other file: the same writes as restore's.
	from=$a
	for ((i = 0; i < XDPLB_FAULT_KILLS / 2; i++)); do
		[[ $from == "$a" ]] && to=$b || to=$a
		k=$((1 + RANDOM % WRITES[$to]))
		cp "$to" "$f"
		XDPLB_FAULT=lb:write@$k=kill daemon_start "$f"
		faults_daemon_wait_gone
		((FAULT_RC == 137)) || fail "the daemon was not killed at write $k of ${WRITES[$to]}: exit $FAULT_RC"
		fault_after "the daemon killed at write $k of ${WRITES[$to]} of its start" 1
		fault_finish "$to" "${SAVED[$to]}"
		from=$to
	done

	# 2. Reloading the other file on SIGHUP, killed after a random sleep.
	for ((i = 0; i < XDPLB_FAULT_KILLS / 2; i++)); do
		[[ $from == "$a" ]] && to=$b || to=$a
		cp "$from" "$f"
		daemon_start "$f"
		wait_log "running on" 5
		cp "$to" "$f"
		kill -HUP "$DAEMON_PID"
		k=0.$((RANDOM % 10))
		sleep "$k"
		kill -9 "$DAEMON_PID"
		faults_daemon_wait_gone
		fault_after "the daemon killed ${k}s into a reload" 0
		fault_finish "$to" "${SAVED[$to]}"
		from=$to
	done

	# 3. Draining r1, whose check fails, killed at each of the drain's
	# writes. The instance has the file with a check on VIP4:80, r1 up:
	# the daemon starts with nothing to change but r1's failing check.
	# r1 gets a blackhole route to the LB: the check has no answer, while
	# clients are still served (so traffic shows what the table says). A
	# run with every write traced says which writes are the drain's (those
	# after its "down" line).
	sed "s|^add-vip $VIP4:80\$|add-vip $VIP4:80 --check http:/ --interval 0.2 --timeout 0.1 --fall 1 --rise 1|" \
		"$a" >"$c"
	cp "$c" "$f"
	out=$(xlb restore "$c" 2>&1) || fail "restore: $out"
	SAVED[$c]=$(xlb save)
	on_exit "lab_exec r1 ip route del blackhole $LB_IP4/32"
	lab_exec r1 ip route add blackhole "$LB_IP4/32" || fail "cannot cut r1 off from the LB"
	faults_r1_up "$c" "${SAVED[$c]}"
	XDPLB_FAULT=lb:write=trace daemon_start "$f"
	wait_log "real $(lab_ip4 r1) down" 5
	sleep 0.5
	kill -TERM "$DAEMON_PID"
	faults_daemon_wait_gone
	s=$(sed -n "/real $(lab_ip4 r1) down/q;p" "$DAEMON_LOG" | grep -c '^XDPLB_FAULT: at lb:write')
	t=$(grep -c '^XDPLB_FAULT: at lb:write' "$DAEMON_LOG")
	log "the daemon's writes: $s at start, $((t - s)) draining r1"
	((t - s >= 3)) || fail "draining r1 made $((t - s)) writes (a table, the real, the marker at least)"
	for ((k = s + 1; k <= t; k++)); do
		faults_r1_up "$c" "${SAVED[$c]}"
		XDPLB_FAULT=lb:write@$k=kill daemon_start "$f"
		faults_daemon_wait_gone
		((FAULT_RC == 137)) || fail "the daemon draining r1 was not killed at write $k: exit $FAULT_RC"
		fault_after "the daemon killed at write $((k - s)) of $((t - s)) of draining r1" 1
	done
	lab_exec r1 ip route del blackhole "$LB_IP4/32"
	fault_report
}
