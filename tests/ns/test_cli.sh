# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_cli.sh - the command line refuses bad input: the right exit code, one
# line of message, and no change to the instance; and it refuses a pin dir
# whose maps another layout made.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(bad_input nonsense_reals untrusted_pin_dir incompatible_layout)

# bad_case WANT_RC REGEX DESC CMD...: run CMD; record a problem in BAD unless
# it exits WANT_RC with exactly one line (stdout and stderr together) that
# matches REGEX (grep -E, case-insensitive), and the configuration and the XDP
# program on eth0 are what they were (CFG0, PROG0; reset after a change, so
# that each case is judged on its own).
bad_case() {
	local want=$1 re=$2 desc=$3 rc o e all cfg
	shift 3
	o=$T_TMP/bad.out
	e=$T_TMP/bad.err
	"$@" >"$o" 2>"$e"
	rc=$?
	all=$(cat "$o" "$e")
	log "$desc: rc $rc: $all"
	if ((rc != want)); then
		BAD+=("$desc: exit $rc, want $want ($all)")
	elif [[ -z $all || $all == *$'\n'* ]]; then
		BAD+=("$desc: $(wc -l <<<"$all") lines of output, want 1")
	elif ! grep -Eiq -- "$re" <<<"$all"; then
		BAD+=("$desc: message '$all' does not match /$re/")
	fi
	cfg=$(xlb -j list | nsutil config)
	if [[ $cfg != "$CFG0" ]]; then
		BAD+=("$desc: changed the configuration")
		log "$desc: configuration before: $CFG0"
		log "$desc: configuration after:  $cfg"
		CFG0=$cfg # judge the next case on its own
	fi
	if [[ $(lb_xdp_prog eth0) != "$PROG0" ]]; then
		BAD+=("$desc: changed eth0's XDP program")
		PROG0=$(lb_xdp_prog eth0)
	fi
}

test_bad_input() {
	local V="$VIP4:80" V6="[$VIP6]:80" r3 notbpffs out
	lb_fresh "$V" "$V6"
	add_reals "$V" 1 r1 r2
	add_reals "$V6" 1 r1
	r3=$(lab_ip4 r3)
	CFG0=$(xlb -j list | nsutil config) || fail "list: $CFG0"
	PROG0=$(lb_xdp_prog eth0)
	[[ -n $PROG0 ]] || fail "no XDP program on eth0 after attach"
	notbpffs=$T_TMP/notbpffs
	mkdir -p "$notbpffs"
	BAD=()

	bad_case 1 'VIP' "add-vip 1.2.3:80" xlb add-vip 1.2.3:80
	bad_case 1 'VIP' "add-vip port 99999" xlb add-vip "$VIP4:99999"
	bad_case 1 'VIP' "add-vip [fd00::1:80" xlb add-vip '[fd00::1:80'
	bad_case 1 'VIP' "add-vip proto" xlb add-vip "$VIP4:80/sctp"
	bad_case 1 'table size' "add-vip --table-size 1000" xlb add-vip "$VIP4:81" --table-size 1000
	bad_case 1 'table size' "add-vip --table-size 5" xlb add-vip "$VIP4:81" --table-size 5
	bad_case 1 'table size' "set-vip --table-size 2000003" xlb set-vip "$V" --table-size 2000003
	bad_case 1 'unknown VIP' "set-vip unknown VIP" xlb set-vip "$VIP4:81" --table-size 7
	bad_case 2 'nothing to change' "set-vip without options" xlb set-vip "$V"
	bad_case 1 'UDP' "set-vip --ops on TCP" xlb set-vip "$V" --ops
	bad_case 1 'real' "add-real 198.18.0.300" xlb add-real --vip "$V" 198.18.0.300
	bad_case 1 'real' "add-real fd00:18::zz" xlb add-real --vip "$V6" fd00:18::zz
	bad_case 1 'unknown VIP|no .*VIP' "add-real to unknown VIP" \
		xlb add-real --vip "$VIP4:81" "$r3"
	bad_case 1 'exists|already' "duplicate add-vip" xlb add-vip "$V"
	bad_case 1 'exists|already' "duplicate add-real" xlb add-real --vip "$V" "$(lab_ip4 r1)"
	bad_case 1 'weight' "add-real weight 65536" xlb add-real --vip "$V" "$r3" --weight 65536
	bad_case 1 'weight' "add-real weight -1" xlb add-real --vip "$V" "$r3" --weight -1
	bad_case 1 'weight' "set-real weight 65536" \
		xlb set-real --vip "$V" "$(lab_ip4 r1)" --weight 65536
	bad_case 1 'weight' "set-real weight -1" xlb set-real --vip "$V" "$(lab_ip4 r1)" --weight -1
	bad_case 1 'MAC' "add-real bad --mac" xlb add-real --vip "$V" "$r3" --mac 02:00:zz:00:00:0d
	bad_case 1 'layer-2.*--mac|--mac.*layer-2' "add-real unresolvable 198.18.0.77" \
		xlb add-real --vip "$V" 198.18.0.77
	bad_case 1 'nosuch0' "attach missing interface" \
		xlb_at "$PIN_NONE" attach nosuch0 --vip "$V"
	[[ ! -e $PIN_NONE ]] || BAD+=("attach missing interface: left $PIN_NONE behind")
	bad_case 1 'attached|already|detach' "attach twice" xlb attach eth0 --vip "$V"
	bad_case 1 'bpffs' "attach, pin dir not on a bpffs" \
		xlb_at "$notbpffs" attach eth0 --vip "$V"
	[[ -z $(ls -A "$notbpffs") ]] || BAD+=("not bpffs: pinned something in $notbpffs")
	bad_case 1 '.' "list, pin dir not on a bpffs" xlb_at "$notbpffs" list
	bad_case 2 'vip' "attach without --vip" xlb attach eth0
	bad_case 2 'vip' "add-real without --vip" xlb add-real "$r3"
	bad_case 2 'frobnicate' "unknown command" xlb frobnicate
	bad_case 2 "ambiguous command 'ver': verify or version$" "an abbreviation of two commands" \
		xlb ver
	bad_case 1 'root' "list as nobody" lb_ns_exec setpriv --reuid=nobody \
		--regid="$(id -g nobody)" --clear-groups "$XDPLB" --pin-dir "$PIN" list
	bad_case 1 'root' "add-vip as nobody" lb_ns_exec setpriv --reuid=nobody \
		--regid="$(id -g nobody)" --clear-groups "$XDPLB" --pin-dir "$PIN" add-vip "$VIP4:81"

	# One line whatever an argument holds; an option without its value, in
	# any command, is one usage line naming it.
	bad_case 1 "malformed VIP '1.2.3.4\\\\n:80'" "a newline in an argument" \
		xlb add-vip $'1.2.3.4\n:80'
	bad_case 2 "unknown command 'li\\\\x1b\\[0mst'" "an escape sequence in a command" \
		xlb $'li\e[0mst'
	bad_case 2 "^xdplb: '--pin-dir' needs a value \\(see 'xdplb help'\\)$" "--pin-dir without DIR" \
		"$XDPLB" --pin-dir
	bad_case 2 "unknown option '--bogus'" "unknown global option" "$XDPLB" --bogus list
	bad_case 2 "which command" "no command" "$XDPLB"
	bad_case 2 "attach: '--vip' needs a value" "attach --vip without VIP" xlb attach eth0 --vip
	bad_case 2 "add-vip: '--check' needs a value" "add-vip --check without CHECK" xlb add-vip "$VIP4:81" --check
	bad_case 2 "add-real: '--weight' needs a value" "add-real --weight without W" \
		xlb add-real --vip "$V" "$r3" --weight
	bad_case 2 "stats: '--interval' needs a value" "stats --interval without SEC" xlb stats --interval
	bad_case 2 "stats: '--count' needs a value" "stats --count without N" xlb stats --interval 1 --count
	bad_case 2 "conns: '--vip' needs a value" "conns --vip without VIP" xlb conns --vip
	bad_case 2 "flow: '--vip' needs a value" "flow --vip without VIP" xlb flow 1.2.3.4:5 --vip
	bad_case 2 "daemon: '--config' needs a value" "daemon --config without FILE" xlb daemon --config
	bad_case 2 "exporter: '--listen' needs a value" "exporter --listen without LISTEN" xlb exporter --listen
	bad_case 2 "real-setup: '--state' needs a value" "real-setup --state without STATE" \
		xlb real-setup 1.2.3.4 --state
	bad_case 2 "check-real: '--vip' needs a value" "check-real --vip without VIP" xlb check-real --vip
	bad_case 2 "stats: unknown option '--bogus'" "stats --bogus" xlb stats --bogus
	bad_case 2 "stats: --count repeats --interval" "stats --count without --interval" xlb stats --count 3
	bad_case 1 "interval '0.001' is not a number of seconds in 0.01..3600" "stats --interval 0.001" \
		xlb stats --interval 0.001 --count 1
	bad_case 1 "interval '3601'" "stats --interval 3601" xlb stats --interval 3601

	# JSON mode: the error is a JSON object on stdout, nothing on stderr.
	bad_case 1 'error' "-j add-vip bogus" xlb -j add-vip bogus
	out=$(xlb -j add-vip bogus 2>"$T_TMP/bad.err")
	[[ ! -s $T_TMP/bad.err ]] || BAD+=("-j add-vip bogus: wrote to stderr: $(cat "$T_TMP/bad.err")")
	[[ $(jget "$out" 'isinstance(d, dict) and isinstance(d.get("error"), str) and len(d["error"]) > 0' 2>/dev/null) == true ]] ||
		BAD+=("-j add-vip bogus: stdout is not {\"error\": \"...\"}: $out")
	bad_case 2 'error' "-j unknown command" xlb -j frobnicate
	out=$(xlb -j frobnicate 2>/dev/null)
	[[ $(jget "$out" '"error" in d' 2>/dev/null) == true ]] ||
		BAD+=("-j frobnicate: stdout is not a JSON error: $out")

	# Still working after all that.
	out=$(curl_burst 6 "http://$VIP4/")
	expect_dist "$out" --total 6 --allowed r1,r2

	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"
}

# A real is a unicast host address on the attached interface's segment that
# is neither a VIP nor the load balancer: add-real and restore refuse any
# other, in one line, changing nothing, whether the MAC is resolved or given;
# and a MAC that resolves to a multicast one. A neighbour entry on eth0 makes
# an address without an on-link route a host on the segment.
test_nonsense_reals() {
	local V="$VIP4:80" V6="[$VIP6]:80" M=02:00:00:00:00:77 a f out
	lb_fresh "$V" "$V6" 198.18.0.101:80
	add_reals "$V" 1 r1
	CFG0=$(xlb -j list | nsutil config) || fail "list: $CFG0"
	PROG0=$(lb_xdp_prog eth0)
	BAD=()
	# Routes and neighbours the cases need, in the LB's namespace.
	on_exit "ip -n '$LAB-lb' route del 10.201.0.0/24"
	on_exit "ip -n '$LAB-lb' neigh del 198.18.0.78 dev eth0"
	on_exit "ip -n '$LAB-lb' neigh del 10.202.0.9 dev eth0"
	ip -n "$LAB-lb" route add 10.201.0.0/24 via "$(lab_ip4 r3)" dev eth0 &&
		ip -n "$LAB-lb" neigh add 198.18.0.78 lladdr 01:00:5e:00:00:4e \
			dev eth0 nud permanent &&
		ip -n "$LAB-lb" neigh add 10.202.0.9 lladdr "$M" dev eth0 nud permanent ||
		fail "cannot add the routes and neighbours of the test"

	for a in 255.255.255.255 198.18.0.255; do
		bad_case 1 'broadcast' "add-real $a" xlb add-real --vip "$V" "$a"
		bad_case 1 'broadcast' "add-real $a --mac" xlb add-real --vip "$V" "$a" --mac "$M"
	done
	bad_case 1 'multicast' "add-real 224.0.0.1" xlb add-real --vip "$V" 224.0.0.1 --mac "$M"
	bad_case 1 'multicast' "add-real ff02::1" xlb add-real --vip "$V6" ff02::1
	bad_case 1 'unspecified' "add-real 0.0.0.0" xlb add-real --vip "$V" 0.0.0.0 --mac "$M"
	bad_case 1 'unspecified' "add-real ::" xlb add-real --vip "$V6" :: --mac "$M"
	bad_case 1 'loopback' "add-real 127.0.0.1" xlb add-real --vip "$V" 127.0.0.1
	bad_case 1 'loopback' "add-real ::1" xlb add-real --vip "$V6" ::1 --mac "$M"
	bad_case 1 'mapped' "add-real IPv4-mapped" \
		xlb add-real --vip "$V6" "::ffff:$(lab_ip4 r2)" --mac "$M"
	bad_case 1 'VIP.*itself' "add-real the VIP" xlb add-real --vip "$V" "$VIP4" --mac "$M"
	bad_case 1 'VIP.*itself' "add-real the IPv6 VIP" xlb add-real --vip "$V6" "$VIP6"
	bad_case 1 'address of VIP 198.18.0.101' "add-real another VIP" \
		xlb add-real --vip "$V" 198.18.0.101 --mac "$M"
	bad_case 1 'load balancer' "add-real the LB's address" \
		xlb add-real --vip "$V" "$LB_IP4" --mac "$M"
	bad_case 1 'load balancer' "add-real the LB's IPv6 address" \
		xlb add-real --vip "$V6" "$(lab_ip6 lb)"
	bad_case 1 'not on the segment.*gateway' "add-real through a gateway" \
		xlb add-real --vip "$V" 10.201.0.5 --mac "$M"
	bad_case 1 'not on the segment.*no route' "add-real without a route" \
		xlb add-real --vip "$V" 10.203.0.5 --mac "$M"
	bad_case 1 'not on the segment' "add-real IPv6 without a route" \
		xlb add-real --vip "$V6" fd00:99::5 --mac "$M"
	bad_case 1 '01:00:5e:00:00:4e.*not a host' "add-real resolving to multicast" \
		xlb add-real --vip "$V" 198.18.0.78
	bad_case 1 'MAC' "add-real --mac broadcast" \
		xlb add-real --vip "$V" "$(lab_ip4 r3)" --mac ff:ff:ff:ff:ff:ff
	bad_case 1 'MAC' "add-real --mac zero" \
		xlb add-real --vip "$V" "$(lab_ip4 r3)" --mac 00:00:00:00:00:00

	# restore: the file's line named, nothing applied (r2 is good).
	f=$T_TMP/nonsense.conf
	for a in 198.18.0.255 "$LB_IP4" 10.201.0.5; do
		xlb save >"$f" || fail "save"
		printf 'add-real --vip %s %s\nadd-real --vip %s %s --mac %s\n' \
			"$V" "$(lab_ip4 r2)" "$V" "$a" "$M" >>"$f"
		bad_case 1 "nonsense.conf:$(wc -l <"$f"): real $a" "restore with real $a" \
			xlb restore "$f"
	done
	xlb save >"$f" || fail "save"
	echo "add-real --vip $V 198.18.0.101 --mac $M" >>"$f"
	bad_case 1 "nonsense.conf:$(wc -l <"$f"): real 198.18.0.101 is the address of VIP" \
		"restore with another VIP as a real" xlb restore "$f"

	# A neighbour entry on eth0 is the segment too; set-real and del-real
	# take any address (to remove what older versions let in).
	out=$(xlb add-real --vip "$V" 10.202.0.9 2>&1) ||
		BAD+=("add-real with a neighbour entry on eth0: $out")
	out=$(xlb -j list) && [[ $(jget "$out" "[r['mac'] for s in d['services'] \
		for r in s['reals'] if r['address'] == '10.202.0.9'] == ['$M']") == true ]] ||
		BAD+=("10.202.0.9 is not listed with the neighbour's MAC: $out")
	out=$(xlb del-real --vip "$V" 10.202.0.9 2>&1) || BAD+=("del-real 10.202.0.9: $out")
	bad_case 1 'no real' "del-real 255.255.255.255" xlb del-real --vip "$V" 255.255.255.255

	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"
}

# A pin dir that another user could change is refused by every command that
# opens, locks or makes an instance, the daemon and the exporter included,
# in one line naming the path, with nothing made in it: one an unprivileged
# user made (who could then hold the lock or delete the pins), one under a
# directory that user made, one root made writable by its group, and one
# reached through that user's symbolic link. A pin dir that attach makes
# cannot even be opened by that user, so its lock is root's alone.
test_untrusted_pin_dir() {
	local V="$VIP4:80" evil=$BPFFS/$LAB-evil evilp=$BPFFS/$LAB-evilp grp=$BPFFS/$LAB-grp
	local link=$BPFFS/$LAB-link conf=$T_TMP/untrusted.conf d out
	local nobody=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
	lb_fresh "$V"
	add_reals "$V" 1 r1
	CFG0=$(xlb -j list | nsutil config) || fail "list: $CFG0"
	PROG0=$(lb_xdp_prog eth0)
	BAD=()
	on_exit "rm -rf '$evil' '$evilp' '$grp' '$link'"
	rm -rf "$evil" "$evilp" "$grp" "$link"
	"${nobody[@]}" mkdir "$evil" "$evilp" && mkdir -m 0775 "$grp" &&
		"${nobody[@]}" ln -s "$PIN" "$link" ||
		fail "cannot make the pin dirs of the test"
	xlb save >"$conf" || fail "save"

	for d in "$evil" "$grp"; do
		bad_case 1 "'$d'.*(owned by uid|writable by its group)" "attach at $d" \
			xlb_at "$d" attach eth0 --vip "$V"
		bad_case 1 "'$d'.*(owned by uid|writable by its group)" "list at $d" \
			xlb_at "$d" list
		bad_case 1 "'$d'.*(owned by uid|writable by its group)" "restore at $d" \
			xlb_at "$d" restore "$conf"
		bad_case 1 "'$d'.*(owned by uid|writable by its group)" "daemon at $d" \
			timeout 10 nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$d" \
			daemon --config "$conf"
		bad_case 1 "'$d'.*(owned by uid|writable by its group)" "exporter at $d" \
			timeout 10 nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$d" \
			exporter --listen 127.0.0.1:9
		[[ -z $(ls -A "$d") ]] || BAD+=("something was made in $d: $(ls -A "$d")")
	done
	# attach eth0 itself: refused for the pin dir before eth0 is looked at.
	bad_case 1 "'$evilp' is owned by uid" "attach under a user's dir" \
		xlb_at "$evilp/inst" attach eth0 --vip "$V"
	[[ ! -e $evilp/inst ]] || BAD+=("attach made $evilp/inst")
	bad_case 1 "'$link' is a symbolic link owned by uid" "list through a user's link" \
		xlb_at "$link" list
	bad_case 1 "'$link' is a symbolic link owned by uid" "add-real through a user's link" \
		xlb_at "$link" add-real --vip "$V" "$(lab_ip4 r2)"

	# The lab's own pin dir, made by attach: root's, 0700.
	[[ $(stat -c '%u %a' "$PIN") == "0 700" ]] ||
		BAD+=("attach made $PIN $(stat -c 'uid %u mode %a' "$PIN")")
	out=$("${nobody[@]}" flock -n "$PIN" true 2>&1) &&
		BAD+=("nobody could lock $PIN")
	log "nobody locking $PIN: $out"
	out=$(xlb list 2>&1) || BAD+=("list of the lab's own instance: $out")

	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"
}

# A pin dir whose config map has the wrong value size: refused, by name, and
# the fake map is left as it was.
test_incompatible_layout() {
	local out rc
	require_cmd bpftool
	rm -rf "$PIN_BAD"
	on_exit "rm -rf '$PIN_BAD'"
	mkdir -p "$PIN_BAD" || fail "mkdir $PIN_BAD"
	out=$(bpftool map create "$PIN_BAD/config" type array key 4 value 8 entries 1 name config 2>&1) ||
		fail "bpftool map create: $out"

	out=$(xlb_at "$PIN_BAD" list 2>&1)
	rc=$?
	log "list: rc $rc: $out"
	((rc == 1)) || fail "list on an incompatible pin dir: exit $rc, want 1 ($out)"
	[[ $out != *$'\n'* ]] || fail "list: more than one line: $out"
	grep -q "config" <<<"$out" || fail "the message does not name the config map: $out"
	grep -Eiq "incompatible|layout" <<<"$out" || fail "the message does not say incompatible: $out"

	out=$(xlb_at "$PIN_BAD" -j list 2>/dev/null)
	rc=$?
	((rc == 1)) || fail "-j list: exit $rc, want 1"
	[[ $(jget "$out" '"config" in d.get("error", "")' 2>/dev/null) == true ]] ||
		fail "-j list: no JSON error naming config: $out"

	out=$(xlb_at "$PIN_BAD" add-vip "$VIP4:80" 2>&1)
	rc=$?
	((rc == 1)) || fail "add-vip on an incompatible pin dir: exit $rc, want 1 ($out)"
	out=$(ls "$PIN_BAD")
	[[ $out == config ]] || fail "the pin dir now holds: $(tr '\n' ' ' <<<"$out")"
	out=$(bpftool -j map show pinned "$PIN_BAD/config" 2>&1)
	[[ $(jget "$out" 'd["bytes_value"]') == 8 ]] || fail "the fake map changed: $out"

	rm -rf "$PIN_BAD"
	[[ ! -e $PIN_BAD ]] || fail "cannot remove $PIN_BAD"
}
