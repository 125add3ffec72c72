# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_config.sh - save and restore: a saved configuration restored into a
# fresh instance saves back the same; restoring what runs changes nothing at
# all (no map written, no table swapped, running downloads untouched); a
# changed file changes only what differs; a bad line changes nothing; bad
# health-check options on the command line are refused; a file that is not
# text (/dev/zero, zeros, a NUL in a weight), an empty one, or one that would
# delete every service with reals is refused unless --remove-all.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(save_restore restore_noop restore_diff bad_input_config restore_corrupt)

# maps_state: what restore must not touch when nothing differs: the inner
# map ids of every Maglev table and of the service index, and the contents
# of services, reals and svc_opts (a checksum each).
maps_state() {
	local m
	bpftool -j map dump pinned "$PIN/maglev" || fail "bpftool dump maglev"
	echo
	bpftool -j map dump pinned "$PIN/svc_index" || fail "bpftool dump svc_index"
	echo
	for m in services reals svc_opts; do
		echo "$m $(bpftool -j map dump pinned "$PIN/$m" | md5sum)"
	done
}

# config_file NAME: a configuration with every kind of option, in a file.
config_file() {
	local f=$T_TMP/$1.conf
	cat >"$f" <<-EOF
		# every kind of line and option
		add-vip $VIP4:80 --check http:/ --interval 0.5 --timeout 0.25 --rise 3 --fall 2 --quorum 2
		add-real --vip $VIP4:80 $(lab_ip4 r1) --weight 1
		add-real --vip $VIP4:80 $(lab_ip4 r2) --weight 2
		add-real --vip $VIP4:80 $(lab_ip4 r3) --weight 1 --sorry
		add-vip $VIP4:9000/udp --ops --hash src-ip --table-size 1009 --check 'exec:/bin/true --x "a b"'
		add-real --vip $VIP4:9000/udp $(lab_ip4 r1) --weight 3 --mac $(lab_mac r1)

		add-vip [$VIP6]:80 --check tcp
		add-real --vip [$VIP6]:80 $(lab_ip6 r2) --weight 1   # a comment
	EOF
	echo "$f"
}

# Restore into a fresh instance whose attach made a service the file does
# not have: that service goes, and save prints the file's configuration.
test_save_restore() {
	local f out s1 s2 t
	f=$(config_file all)
	lb_fresh "$VIP4:81"
	out=$(xlb restore "$f" 2>&1) || fail "restore into a fresh instance: $out"
	log "restore: $out"
	[[ $out == "restored: services 3 added, 1 removed, 0 changed; reals 5 added, 0 removed, 0 changed" ]] ||
		fail "restore says: $out"
	s1=$(xlb save) || fail "save: $s1"
	log "saved: $s1"
	[[ $s1 != *"$VIP4:81/tcp"* ]] || fail "the attach's $VIP4:81 is still there: $s1"
	grep -q -- "--sorry" <<<"$s1" && grep -q -- "--quorum 2" <<<"$s1" &&
		grep -q -- "--check http:/ --interval 0.5 --timeout 0.25 --rise 3 --fall 2" <<<"$s1" ||
		fail "health, quorum or sorry options lost: $s1"

	# Round trip: another fresh instance, restored from what save printed.
	lb_fresh "$VIP4:80"
	out=$(xlb restore - <<<"$s1" 2>&1) || fail "restore from stdin: $out"
	s2=$(xlb save) || fail "save: $s2"
	[[ $s1 == "$s2" ]] || fail "save after restore differs: $(diff <(echo "$s1") <(echo "$s2") | tr '\n' ' ')"
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "[r['sorry'] for r in svc(d, '$VIP4:80/tcp')['reals']] == [False, False, True] and svc(d, '$VIP4:80/tcp')['check'] == 'http:/' and svc(d, '$VIP4:80/tcp')['quorum'] == 2") == true ]] ||
		fail "list -j does not show the options: $out"

	# And it forwards: r1 and r2 (weights 1 and 2), never the sorry r3.
	t=$(http_burst 30 "$VIP4")
	expect_dist "$t" --total 30 --required r1,r2 --forbidden r3
}

# Restoring what runs, in the middle of paced downloads: nothing written.
test_restore_noop() {
	local f out before after c0 c1
	require_cmd bpftool
	f=$(config_file noop)
	lb_fresh "$VIP4:80"
	out=$(xlb restore "$f" 2>&1) || fail "restore: $out"
	fetch_start noop 3 600000 150000
	fetch_wait_started noop 3
	before=$(maps_state)
	c0=$(xlb -j list | nsutil config)
	out=$(xlb restore "$f" 2>&1) || fail "second restore: $out"
	[[ $out == "restored: services 0 added, 0 removed, 0 changed; reals 0 added, 0 removed, 0 changed" ]] ||
		fail "re-applying the same file says: $out"
	out=$(xlb save | xlb restore 2>&1) || fail "restore of save: $out"
	[[ $out == *"0 added, 0 removed, 0 changed; reals 0 added, 0 removed, 0 changed" ]] ||
		fail "restoring save's output says: $out"
	after=$(maps_state)
	c1=$(xlb -j list | nsutil config)
	fetch_running noop "the restores"
	[[ $before == "$after" ]] || {
		log "before: $before"
		log "after: $after"
		fail "a no-op restore changed a map or swapped a table"
	}
	[[ $c0 == "$c1" ]] || fail "a no-op restore changed the configuration"
	fetch_wait noop 3 600000 150000
}

# A changed weight changes that real only; a changed option that service
# only, in place; a deleted line deletes that real; a bad line changes
# nothing and names its line.
# table_sum ID: a checksum of the contents of service ID's Maglev table.
table_sum() {
	local v
	v=$(bpftool -j map lookup pinned "$PIN/maglev" key "$1" 0 0 0) || return 1
	bpftool -j map dump id "$(jget "$v" "int.from_bytes(bytes(int(x, 16) for x in d['value']), 'little')")" |
		md5sum
}

test_restore_diff() {
	local f g out before after s0 id0 id1 sum0 sum1
	require_cmd bpftool
	f=$(config_file diff)
	lb_fresh "$VIP4:80"
	out=$(xlb restore "$f" 2>&1) || fail "restore: $out"
	http_burst 10 "$VIP4" >/dev/null
	id0=$(bpftool -j map dump pinned "$PIN/maglev")
	sum0=$(table_sum 0) sum1=$(table_sum 1)

	# r2 (real id 1: the second added) fails its health check, as the
	# daemon would mark it: its weight changes below, its health stays.
	out=$(bpftool -j map lookup pinned "$PIN/reals" key 1 0 0 0) || fail "lookup real 1: $out"
	out=$(jget "$out" "' '.join(v if i != 23 else hex(int(v, 16) | 4) for i, v in enumerate(d['value']))")
	# shellcheck disable=SC2086 # the bytes are words
	bpftool map update pinned "$PIN/reals" key 1 0 0 0 value $out || fail "mark r2 down"
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "reals(d, '$VIP4:80/tcp')['$(lab_ip4 r2)']['health']") == down ]] ||
		fail "r2 not marked down: $out"

	g=$T_TMP/diff2.conf
	sed -e "s/$(lab_ip4 r2) --weight 2/$(lab_ip4 r2) --weight 5/" \
		-e "s/--ops --hash src-ip/--ops/" -e "/$(lab_ip6 r2)/d" "$f" >"$g"
	s0=$(xlb -j stats) || fail "stats: $s0"
	out=$(xlb restore "$g" 2>&1) || fail "restore of the changed file: $out"
	[[ $out == "restored: services 0 added, 0 removed, 1 changed; reals 0 added, 1 removed, 1 changed" ]] ||
		fail "restore of one weight, one option and one deleted real says: $out"
	out=$(xlb save) || fail "save: $out"
	grep -q -- "$(lab_ip4 r2) --weight 5" <<<"$out" || fail "weight not changed: $out"
	grep -q -- "$VIP4:9000/udp --ops --table-size 1009" <<<"$out" || fail "hash not changed: $out"
	! grep -q -- "$(lab_ip6 r2)" <<<"$out" || fail "deleted line's real is still there: $out"
	# The table of :80 (id 0, a weight changed) rewritten in place, the
	# udp service's (id 1, a hash mode only) untouched, none for the v6
	# one (id 2, no reals left).
	id1=$(bpftool -j map dump pinned "$PIN/maglev")
	[[ $(jget "[$id0,$id1]" "(lambda a, b: a['0x00'] == b['0x00'] and a['0x01'] == b['0x01'] and '0x02' not in b)(*[{x['key'][0]: x['value'] for x in m} for m in d])") == true ]] ||
		fail "Maglev tables (service id: inner map id) before $id0, after $id1"
	[[ $(table_sum 0) != "$sum0" ]] || fail "the table of $VIP4:80 did not change with a weight"
	[[ $(table_sum 1) == "$sum1" ]] || fail "the table of $VIP4:9000/udp changed with its hash mode only"
	out=$(xlb -j list) || fail "list: $out"
	[[ $(jget "$out" "reals(d, '$VIP4:80/tcp')['$(lab_ip4 r2)']['health']") == down ]] ||
		fail "r2 is no longer down after restore changed its weight: $out"
	# Counters stay: the service was changed in place, not re-added.
	out=$(xlb -j stats) || fail "stats: $out"
	[[ $(jget "[$s0,$out]" "svc(d[1], '$VIP4:80/tcp')['packets'] >= svc(d[0], '$VIP4:80/tcp')['packets'] > 0") == true ]] ||
		fail "the service's counters were reset"

	# A bad line in the middle: line 7, exit 1, one line, nothing changed.
	before=$(maps_state)
	sed '7s/--weight 3/--weight 70000/' "$g" >"$T_TMP/bad.conf"
	out=$(xlb restore "$T_TMP/bad.conf" 2>&1)
	(($? == 1)) || fail "restore of a bad file: exit $?, want 1: $out"
	[[ $out != *$'\n'* && $out == *"bad.conf:7: weight '70000' out of range"* ]] ||
		fail "restore of a bad file says: $out"
	# An unresolvable real: nothing changed either.
	{ cat "$g"; echo "add-real --vip $VIP4:80 198.18.0.77"; } >"$T_TMP/unres.conf"
	sed -i "s/$(lab_ip4 r1) --weight 1$/$(lab_ip4 r1) --weight 4/" "$T_TMP/unres.conf"
	out=$(xlb restore "$T_TMP/unres.conf" 2>&1) && fail "restore with an unresolvable real succeeded: $out"
	[[ $out == *"198.18.0.77"* ]] || fail "unresolvable real: $out"
	after=$(maps_state)
	[[ $before == "$after" ]] || fail "a refused restore changed the maps"
}

# The new options on the command line: refused with one line, nothing
# changed (bad_case, test_cli.sh).
test_bad_input_config() {
	local V="$VIP4:80" U="$VIP4:53/udp"
	lb_fresh "$V" "$VIP4:0"
	add_reals "$V" 1 r1 r2
	xlb set-vip "$V" --check tcp >/dev/null || fail "set-vip --check tcp"
	CFG0=$(xlb -j list | nsutil config) || fail "list: $CFG0"
	PROG0=$(lb_xdp_prog eth0)
	BAD=()
	bad_case 1 'unknown check' "--check ping" xlb set-vip "$V" --check ping
	bad_case 1 'port' "--check tcp on port 0" xlb set-vip "$VIP4:0" --check tcp
	bad_case 1 'port' "--check http on port 0" xlb add-vip "$VIP4:0/udp" --check http:/
	bad_case 1 "start with '/'" "--check http:x" xlb set-vip "$V" --check http:x
	bad_case 1 'STATUS' "--check http:/:700" xlb set-vip "$V" --check http:/:700
	bad_case 1 'command' "--check exec:" xlb add-vip "$U" --check exec:
	bad_case 1 'interval' "--interval 0" xlb set-vip "$V" --interval 0
	bad_case 1 'timeout' "--timeout x" xlb set-vip "$V" --timeout x
	bad_case 1 'longer than' "--timeout > interval" xlb set-vip "$V" --timeout 3
	bad_case 1 'rise' "--rise 0" xlb set-vip "$V" --rise 0
	bad_case 1 'fall' "--fall 1001" xlb set-vip "$V" --fall 1001
	bad_case 1 'quorum' "--quorum 0" xlb set-vip "$V" --quorum 0
	bad_case 1 'health check' "--interval without --check" xlb add-vip "$U" --interval 1
	bad_case 2 'needs a value' "--check without value" xlb set-vip "$V" --check
	bad_case 2 "'--sorry' takes no value" "add-real --sorry=1" xlb add-real --vip "$V" 1.2.3.4 --sorry=1
	bad_case 2 'not an option' "set-real --sorry" xlb set-real --vip "$V" "$(lab_ip4 r1)" --sorry
	bad_case 2 'expected at most one' "restore two files" xlb restore a b
	bad_case 1 'nosuch' "restore missing file" xlb restore "$T_TMP/nosuch.conf"
	bad_case 2 'takes no arguments' "save with an argument" xlb save x
	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"
}

# What a power loss, a full disk or a wrong path leaves for restore: refused
# with one line naming the file and line, exit 1, nothing changed (bad_case,
# test_cli.sh). An empty file, or one that would delete every service with
# reals, only with --remove-all.
test_restore_corrupt() {
	local f out V="$VIP4:80"
	f=$(config_file corrupt)
	lb_fresh "$V"
	out=$(xlb restore "$f" 2>&1) || fail "restore: $out"
	CFG0=$(xlb -j list | nsutil config) || fail "list: $CFG0"
	PROG0=$(lb_xdp_prog eth0)
	BAD=()

	bad_case 1 '^xdplb: /dev/zero:1: a NUL byte at column 1' "restore /dev/zero" \
		xlb restore /dev/zero
	head -c 4096 /dev/zero >"$T_TMP/zero.conf"
	bad_case 1 'zero.conf:1: a NUL byte' "restore of a zero-filled 4 KiB file" \
		xlb restore "$T_TMP/zero.conf"
	# The file as a power loss leaves it: its first lines, then zeros.
	{ head -n 3 "$f"; head -c 4096 /dev/zero; } >"$T_TMP/tail0.conf"
	bad_case 1 'tail0.conf:4: a NUL byte at column 1' "restore of a file ending in zeros" \
		xlb restore "$T_TMP/tail0.conf"
	# --weight 10, as the old reader took it: --weight 1.
	sed "4s/--weight 2$/--weight 1\x000/" "$f" >"$T_TMP/nul.conf"
	bad_case 1 'nul.conf:4: a NUL byte at column' "restore of a file with a NUL in a weight" \
		xlb restore "$T_TMP/nul.conf"
	head -c -12 "$f" >"$T_TMP/cut.conf"
	bad_case 1 'cut.conf:[0-9]+: the last line has no newline' "restore of a file cut short" \
		xlb restore "$T_TMP/cut.conf"
	printf 'add-vip %s\r\n' "$V" >"$T_TMP/crlf.conf"
	bad_case 1 'crlf.conf:1: a carriage return' "restore of DOS lines" \
		xlb restore "$T_TMP/crlf.conf"
	bad_case 1 '/tmp:1: cannot read: Is a directory' "restore of a directory" \
		xlb restore /tmp
	: >"$T_TMP/empty.conf"
	bad_case 1 "empty.conf' declares no service: refused \\(restore --remove-all" \
		"restore of an empty file" xlb restore "$T_TMP/empty.conf"
	bad_case 1 "<stdin>' declares no service" "restore of nothing on stdin" \
		xlb restore </dev/null
	printf 'add-vip %s:81\n' "$VIP4" >"$T_TMP/other.conf"
	bad_case 1 "other.conf' would delete every service that has reals \\(3 services with 5 reals" \
		"restore of a file without the services that have reals" \
		xlb restore "$T_TMP/other.conf"
	bad_case 2 "'--remove-all' takes no value" "restore --remove-all=1" \
		xlb restore --remove-all=1 "$T_TMP/empty.conf"
	((${#BAD[@]} == 0)) || fail "${#BAD[@]} wrong: $(printf '%s; ' "${BAD[@]}")"

	# Asked for: it is done.
	out=$(xlb restore --remove-all "$T_TMP/other.conf" 2>&1) ||
		fail "restore --remove-all of another service: $out"
	[[ $out == "restored: services 1 added, 3 removed, 0 changed; reals 0 added, 5 removed, 0 changed" ]] ||
		fail "restore --remove-all says: $out"
	out=$(xlb restore --remove-all "$T_TMP/empty.conf" 2>&1) ||
		fail "restore --remove-all of an empty file: $out"
	[[ $out == "restored: services 0 added, 1 removed, 0 changed; reals 0 added, 0 removed, 0 changed" ]] ||
		fail "restore --remove-all of an empty file says: $out"
	out=$(xlb save) || fail "save: $out"
	[[ -z $out ]] || fail "services left after restore --remove-all of an empty file: $out"
}
