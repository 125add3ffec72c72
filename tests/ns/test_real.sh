# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_real.sh - real servers: real-setup makes a bare host a working real,
# changes nothing the second time and --undo reverts exactly what it did,
# never what a state file names that real-setup does not make, nor a file
# or link changed since;
# check-real finds a real without the VIP, one that answers ARP for it and
# one whose MAC does not resolve.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(real_setup check_real)

BARE=r6 # a host that is not a real yet (NREALS is 5)

# bare XDPLB-ARGS...: xdplb in the bare host's network namespace.
bare() { lab_exec "$BARE" "$XDPLB" "$@"; }

# bare_snapshot: what real-setup may touch on the bare host: lo's addresses
# and the sysctls it manages, one per line.
bare_snapshot() {
	local k
	lab_exec "$BARE" ip -br addr show dev lo
	for k in all.arp_ignore lo.arp_ignore all.arp_announce lo.arp_announce \
		all.rp_filter eth0.rp_filter eth0.arp_ignore; do
		lab_exec "$BARE" sysctl "net.ipv4.conf.$k"
	done
}

# rs_bad WANT_RC REGEX DESC ARGS...: real-setup ARGS on the bare host exits
# WANT_RC with one line matching REGEX and changes nothing there.
rs_bad() {
	local want=$1 re=$2 desc=$3 rc all before
	shift 3
	before=$(bare_snapshot; ls -lR "$ROOT5" 2>&1)
	all=$(bare "$@" 2>&1)
	rc=$?
	log "$desc: rc $rc: $all"
	((rc == want)) || BAD+=("$desc: exit $rc, want $want ($all)")
	[[ -n $all && $all != *$'\n'* ]] || BAD+=("$desc: not one line: $all")
	grep -Eiq -- "$re" <<<"$all" || BAD+=("$desc: '$all' does not match /$re/")
	[[ $(bare_snapshot; ls -lR "$ROOT5" 2>&1) == "$before" ]] || BAD+=("$desc: changed something")
}

test_real_setup() {
	local V="$VIP4:80" V6="[$VIP6]:80" ip4 ip6 out before after state pid
	ip4=$(lab_ip4 "$BARE")
	ip6=$(lab_ip6 "$BARE")
	ROOT5=$T_TMP/root5
	export XDPLB_ROOT=$ROOT5
	mkdir -p "$ROOT5" || fail "mkdir $ROOT5"
	on_exit "rm -rf '$ROOT5'"
	on_exit "ip netns del '$LAB-$BARE'"
	out=$(lab_add_bare "$BARE" 2>&1) || fail "lab_add_bare: $out"
	# The kernel's defaults, and strict reverse-path filtering as many
	# distributions ship it (whatever this machine's own settings are).
	lab_exec "$BARE" sysctl -qw net.ipv4.conf.all.rp_filter=1 \
		net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.lo.arp_ignore=0 \
		net.ipv4.conf.all.arp_announce=0 net.ipv4.conf.lo.arp_announce=0 >/dev/null ||
		fail "sysctl on $BARE"
	# nsenter itself, not lab_exec: a backgrounded shell function is a
	# subshell, and killing it left the server running (lab_server_start).
	nsenter --net="/var/run/netns/$LAB-$BARE" -- /usr/bin/python3 "$REALSRV" \
		--name "$BARE" --http-port 80 </dev/null >"$T_TMP/realsrv-$BARE.log" 2>&1 &
	pid=$!
	on_exit "kill $pid"
	echo "$pid" >"$(lab_run_dir)/realsrv-$BARE.pid"
	lab_server_wait "$BARE" || fail "the HTTP server on $BARE does not answer"
	before=$(bare_snapshot)

	lb_fresh "$V" "$V6"
	out=$(xlb add-real --vip "$V" "$ip4" 2>&1) || fail "add-real $ip4: $out"
	out=$(xlb add-real --vip "$V6" "$ip6" 2>&1) || fail "add-real $ip6: $out"
	out=$(xlb check-real 2>&1) && fail "check-real passes a host without the VIP: $out"
	grep -q "real $ip4 .*does not answer" <<<"$out" || fail "check-real before setup: $out"

	# Both VIP spellings; the port and protocol do not matter.
	out=$(bare real-setup "$VIP4" "$V6" 2>&1) || fail "real-setup: $out"
	log "real-setup: $out"
	for re in "^added $VIP4/32 to lo" "^added $VIP6/128 to lo" \
		"^set net.ipv4.conf.all.arp_ignore 0 -> 1" \
		"^set net.ipv4.conf.all.arp_announce 0 -> 2" \
		"^set net.ipv4.conf.all.rp_filter 1 -> 2"; do
		grep -Eq "$re" <<<"$out" || fail "real-setup did not say /$re/: $out"
	done
	out=$(lab_exec "$BARE" ip -6 addr show dev lo)
	grep -q "$VIP6/128.*deprecated" <<<"$out" || fail "the IPv6 VIP may be a source address: $out"
	out=$(xlb check-real 2>&1) || fail "check-real after real-setup: $out"
	out=$(curl_burst 4 "http://$VIP4/")
	expect_dist "$out" --total 4 --allowed "$BARE"
	out=$(curl_burst 4 "http://[$VIP6]/")
	expect_dist "$out" --total 4 --allowed "$BARE"

	# Again: nothing to change, not even the state file.
	state=$(cat "$ROOT5/var/lib/xdplb/real-setup.state") || fail "no state file"
	after=$(bare_snapshot)
	out=$(bare real-setup "$VIP4" "$V6" 2>&1) || fail "real-setup again: $out"
	[[ $out == "nothing to change" ]] || fail "real-setup again changed: $out"
	[[ $(bare_snapshot) == "$after" ]] || fail "real-setup again changed the host"
	[[ $(cat "$ROOT5/var/lib/xdplb/real-setup.state") == "$state" ]] ||
		fail "real-setup again rewrote the state"

	BAD=()
	rs_bad 1 'VIP' "malformed VIP" real-setup 1.2.3:80
	rs_bad 1 'VIP' "malformed IPv6 VIP" real-setup '[fd00::1:80' "$VIP4"
	rs_bad 1 'unicast' "loopback VIP" real-setup 127.0.0.9
	rs_bad 1 'not set up' "--undo of a VIP not set up" real-setup --undo 198.18.0.99
	rs_bad 2 'unknown option' "unknown option" real-setup --frobnicate "$VIP4"
	rs_bad 2 'help' "no VIP" real-setup
	rs_bad 1 'lo only|on eth0' "VIP on eth0" real-setup "$ip4"
	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"

	# --persist: the unit, enabled, and the drop-in, under ROOT.
	out=$(bare real-setup --persist "$VIP4" "$VIP6" 2>&1) || fail "real-setup --persist: $out"
	grep -q "ExecStart=$XDPLB real-setup $VIP4 $VIP6\$" "$ROOT5/etc/systemd/system/xdplb-real.service" ||
		fail "unit: $(cat "$ROOT5/etc/systemd/system/xdplb-real.service" 2>&1)"
	[[ $(readlink "$ROOT5/etc/systemd/system/multi-user.target.wants/xdplb-real.service") == \
		/etc/systemd/system/xdplb-real.service ]] || fail "the unit is not enabled"
	out=$(cat "$ROOT5/etc/sysctl.d/90-xdplb-real.conf" 2>&1)
	if ! grep -qx "net.ipv4.conf.all.arp_ignore = 1" <<<"$out" ||
		! grep -qx "net.ipv4.conf.all.rp_filter = 2" <<<"$out"; then
		fail "drop-in: $out"
	fi
	out=$(bare real-setup --persist "$VIP4" "$VIP6" 2>&1)
	[[ $out == "nothing to change" ]] || fail "real-setup --persist again changed: $out"
	rs_foreign_state


	# --undo: exactly back to the bare host, the files and their directories gone.
	out=$(bare -j real-setup --undo 2>&1) || fail "real-setup --undo: $out"
	log "undo: $out"
	[[ $(jget "$out" 'len([c for c in d["changes"] if c["action"] == "restored"])') == 5 ]] ||
		fail "--undo did not restore 5 sysctls: $out"
	[[ $(bare_snapshot) == "$before" ]] ||
		fail "--undo left the host as $(bare_snapshot | tr '\n' ' '), not $(tr '\n' ' ' <<<"$before")"
	[[ -z $(ls -A "$ROOT5") ]] || fail "--undo left $(find "$ROOT5" | tr '\n' ' ')"
	out=$(bare real-setup --undo 2>&1)
	[[ $out == "nothing to change" ]] || fail "a second --undo: $out"
	out=$(xlb check-real 2>&1) && fail "check-real passes after --undo: $out"
	rs_changed_files
	return 0
}

# rs_foreign_state: (real_setup, after --persist) a state file naming what
# real-setup does not make is refused whole by --undo and by real-setup, in
# one line naming it, and nothing is touched: neither what it names nor
# what real-setup did make.
rs_foreign_state() {
	local st=$ROOT5/var/lib/xdplb/real-setup.state victim=$T_TMP/victim good line name
	good=$(cat "$st") || fail "no state file"
	echo "keep me" >"$victim"
	mkdir -p "$T_TMP/victim.d"
	BAD=()
	for line in "file $victim" "file /etc/systemd/system/xdplb-real.service" \
		"file $ROOT5/etc/systemd/system/other.service" \
		"link $ROOT5/etc/systemd/system/multi-user.target.wants/other.service" \
		"dir $T_TMP/victim.d" "dir $ROOT5/etc/systemd/system/multi-user.target.wants/x" \
		"sysctl kernel/core_pattern core |/bin/true" "sysctl net/ipv4/ip_forward 0 1" \
		"sysctl net/ipv4/conf/eth0/arp_announce 0 2" "sysctl net/ipv4/conf/all/rp_filter 1 x" \
		"addr 198.18.0.99/32" "addr $VIP4/24"; do
		printf '%s\n%s\n' "$good" "$line" >"$st"
		name=${line#* }
		rs_bad 1 "real-setup.state:$(wc -l <"$st"): '${name%% *}'.*refused, nothing changed" \
			"--undo with '$line'" real-setup --undo
		rs_bad 1 "real-setup.state:$(wc -l <"$st"): .*refused" \
			"real-setup with '$line'" real-setup --persist "$VIP4" "$VIP6"
	done
	[[ $(cat "$victim") == "keep me" && -d $T_TMP/victim.d ]] ||
		BAD+=("a foreign path of the state was touched")
	printf '%s\n' "$good" >"$st"
	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"
}

# rs_changed_files: (real_setup, after --undo) what real-setup wrote and
# someone changed since stays: --persist refuses to write over it, --undo
# leaves it with a line saying so and undoes the rest.
rs_changed_files() {
	local unit=$ROOT5/etc/systemd/system/xdplb-real.service
	local link=$ROOT5/etc/systemd/system/multi-user.target.wants/xdplb-real.service
	local dropin=$ROOT5/etc/sysctl.d/90-xdplb-real.conf out
	out=$(bare real-setup --persist "$VIP4" 2>&1) || fail "real-setup --persist: $out"
	echo "net.ipv4.ip_forward = 1 # mine" >>"$dropin"
	BAD=()
	rs_bad 1 "'$dropin' exists and real-setup did not write it, or it changed since" \
		"--persist over a changed drop-in" real-setup --persist "$VIP4" "$VIP6"
	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"
	ln -sfn /dev/null "$link" || fail "cannot re-point $link"
	out=$(bare real-setup --undo 2>&1) || fail "--undo with a changed drop-in: $out"
	log "undo, changed files: $out"
	grep -qx "kept $dropin (changed since real-setup wrote it)" <<<"$out" ||
		fail "--undo does not say it keeps the changed drop-in: $out"
	grep -qx "kept $link (no longer the link real-setup made)" <<<"$out" ||
		fail "--undo does not say it keeps the re-pointed link: $out"
	grep -q "# mine" "$dropin" || fail "--undo removed or rewrote the changed drop-in"
	[[ $(readlink "$link") == /dev/null ]] || fail "--undo removed the re-pointed link"
	[[ ! -e $unit ]] || fail "--undo left the unit"
	[[ ! -e $ROOT5/var/lib/xdplb/real-setup.state ]] || fail "--undo left the state"
	out=$(bare real-setup --undo 2>&1)
	[[ $out == "nothing to change" ]] || fail "a second --undo: $out"
	rm -rf "${ROOT5:?}"/*
}

test_check_real() {
	local V="$VIP4:80" V6="[$VIP6]:80" VU="$VIP4:$LAB_UDP_PORT/udp" out n
	lb_fresh "$V" "$V6" "$VU"
	add_reals "$V" 1 r1 r2 r3
	add_reals "$V6" 1 r1 r2 r3
	add_reals "$VU" 1 r1 r2
	out=$(xlb check-real 2>&1) || fail "check-real on a good lab: $out"
	[[ $out == "8 reals checked on 'eth0': all fine" ]] || fail "check-real said: $out"

	# A real without the VIP on lo (IPv4 only: its IPv6 service stays fine).
	lab_exec r2 ip addr del "$VIP4/32" dev lo || fail "cannot remove the VIP from r2"
	on_exit "lab_exec r2 ip addr add '$VIP4/32' dev lo"
	out=$(xlb check-real 2>&1) && fail "check-real passes r2 without the VIP: $out"
	log "r2 without VIP: $out"
	n=$(grep -c . <<<"$out")
	((n == 2)) || fail "want 2 lines (r2 in the TCP and UDP service), got: $out"
	grep -q "^real $(lab_ip4 r2) (VIP $VIP4:80/tcp): does not answer" <<<"$out" ||
		fail "r2 without the VIP not named for TCP: $out"
	grep -q "^real $(lab_ip4 r2) (VIP $VU): does not answer.*echo" <<<"$out" ||
		fail "r2 without the VIP not named for UDP: $out"
	lab_exec r2 ip addr add "$VIP4/32" dev lo || fail "cannot give r2 the VIP back"

	# A real that answers ARP for the VIP.
	lab_exec r1 sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.eth0.arp_ignore=0 ||
		fail "sysctl on r1"
	on_exit "lab_exec r1 sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1"
	out=$(xlb -j check-real --vip "$V" 2>&1) && fail "check-real passes r1 answering ARP: $out"
	log "r1 answers ARP: $out"
	[[ $(jget "$out" '[r["real"] for r in d["reals"] if r["answers_for_vip"]]') == '["198.18.0.11"]' ]] ||
		fail "-j: r1 answering ARP not found: $out"
	out=$(xlb check-real --vip "$V" 2>&1)
	[[ $out == "real $(lab_ip4 r1) (VIP $VIP4:80/tcp): answers ARP for the VIP"* && $out != *$'\n'* ]] ||
		fail "r1 answering ARP: $out"
	lab_exec r1 sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1

	# A real whose MAC no longer resolves: cut off at the switch (taking
	# its link down would flush its IPv6 addresses).
	ip -n "$LAB-br" link set r3 nomaster || fail "cannot cut r3 off"
	on_exit "ip -n '$LAB-br' link set r3 master '$LAB_BRIDGE'"
	ip -n "$LAB-lb" neigh flush dev eth0
	out=$(xlb check-real --vip "$V6" 2>&1) && fail "check-real passes r3 unresolvable: $out"
	log "r3 down: $out"
	grep -qF "real $(lab_ip6 r3) (VIP $V6/tcp): its MAC does not resolve" <<<"$out" ||
		fail "r3 unresolvable not named: $out"
	ip -n "$LAB-br" link set r3 master "$LAB_BRIDGE" || fail "cannot plug r3 back"

	BAD=()
	# bad_case (test_cli.sh) judges each case against these.
	# shellcheck disable=SC2034
	CFG0=$(xlb -j list | nsutil config)
	# shellcheck disable=SC2034
	PROG0=$(lb_xdp_prog eth0)
	bad_case 1 'unknown VIP' "check-real --vip unknown" xlb check-real --vip "$VIP4:81"
	bad_case 1 'VIP' "check-real --vip malformed" xlb check-real --vip 1.2.3:80
	bad_case 2 'unexpected' "check-real extra word" xlb check-real now
	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"

	out=$(xlb check-real 2>&1) || fail "check-real after the repairs: $out"
}
