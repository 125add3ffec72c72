# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_lifecycle.sh - attach and detach: a clean detach, two instances side by
# side, and the command under `ip netns exec` with a bpffs outside /sys.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(detach_clean two_instances ip_netns_exec)

# curl_one: one request to VIP4:80 from the client; prints the real's name,
# or ERR and curl's exit code.
curl_one() {
	local out rc
	out=$(client curl -sS -m 2 --noproxy '*' "http://$VIP4/" 2>&1)
	rc=$?
	if ((rc == 0)); then echo "$out"; else echo "ERR $rc $out"; fi
}

# After detach: no XDP program, no pin dir, the LB's kernel refuses the
# port (it owns the VIP and nothing listens there). Attach again works.
test_detach_clean() {
	local out
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1 r2 r3
	out=$(curl_one)
	[[ $out == r[123] ]] || fail "before detach: $out"

	out=$(xlb detach eth0 2>&1) || fail "detach: $out"
	out=$(ip -n "$LAB-lb" -d link show dev eth0)
	grep -Eq 'prog/xdp|xdp(generic|drv|offload)? ' <<<"$out" &&
		fail "eth0 still has XDP after detach: $(grep -Eo 'prog/xdp id [0-9]+|xdp[a-z]*' <<<"$out" | head -2 | tr '\n' ' ')"
	[[ ! -e $PIN ]] || fail "pin dir $PIN still there: $(find "$PIN" | tr '\n' ' ')"
	out=$(curl_one)
	[[ $out == "ERR 7 "* ]] || fail "after detach, want connection refused (curl 7), got: $out"
	out=$(xlb list 2>&1) && fail "list after detach succeeds: $out"

	out=$(xlb attach eth0 --vip "$VIP4:80" 2>&1) || fail "attach again: $out"
	add_reals "$VIP4:80" 1 r2
	out=$(curl_one)
	[[ $out == r2 ]] || fail "after attaching again with only r2: $out"
}

# Two instances, two pin dirs: the main one on eth0 (native) and a second on
# a veth of the LB namespace (generic). Each lists only its own; detaching
# either one leaves the other working.
test_two_instances() {
	local out a b c0 c2 prog
	lb_fresh "$VIP4:80"
	add_reals "$VIP4:80" 1 r1 r2 r3
	ip -n "$LAB-lb" link add "${VETH2}a" type veth peer name "${VETH2}b" ||
		fail "cannot create veth ${VETH2}a in the LB namespace"
	on_exit "ip -n '$LAB-lb' link del '${VETH2}a'"
	if ! ip -n "$LAB-lb" link set "${VETH2}a" up || ! ip -n "$LAB-lb" link set "${VETH2}b" up; then
		fail "cannot bring up ${VETH2}a/b"
	fi
	# Its real, 10.99.0.2, on the segment of ${VETH2}a.
	ip -n "$LAB-lb" addr add 10.99.0.254/24 dev "${VETH2}a" ||
		fail "cannot add 10.99.0.254/24 to ${VETH2}a"
	rm -rf "$PIN2"
	on_exit "nsenter --net='$LB_NS' -- '$XDPLB' --pin-dir '$PIN2' detach '${VETH2}a'; rm -rf '$PIN2'"

	out=$(xlb_at "$PIN2" attach "${VETH2}a" --mode generic --vip 10.99.0.1:80 2>&1) ||
		fail "second attach: $out"
	out=$(xlb_at "$PIN2" add-real --vip 10.99.0.1:80 10.99.0.2 --mac 02:00:00:00:99:02 2>&1) ||
		fail "second add-real: $out"

	a=$(xlb -j list) || fail "list 1: $a"
	b=$(xlb_at "$PIN2" -j list) || fail "list 2: $b"
	log "instance 1: $a"
	log "instance 2: $b"
	[[ $(jget "$a" "[d['interface'], d['mode'], [s['vip'] for s in d['services']],
		sorted(reals(d))] == ['eth0', 'native', ['$VIP4:80/tcp'],
		['$(lab_ip4 r1)', '$(lab_ip4 r2)', '$(lab_ip4 r3)']]") == true ]] ||
		fail "instance 1 lists: $a"
	[[ $(jget "$b" "[d['interface'], d['mode'], [s['vip'] for s in d['services']],
		sorted(reals(d))] == ['${VETH2}a', 'generic', ['10.99.0.1:80/tcp'], ['10.99.0.2']]") \
		== true ]] || fail "instance 2 lists: $b"
	[[ -n $(lb_xdp_prog eth0) ]] || fail "no XDP program on eth0"
	ip -n "$LAB-lb" -d link show dev "${VETH2}a" | grep -q 'xdpgeneric' ||
		fail "no generic XDP program on ${VETH2}a"

	# Detach the second: the first is untouched.
	c0=$(nsutil config <<<"$a")
	prog=$(lb_xdp_prog eth0)
	out=$(xlb_at "$PIN2" detach "${VETH2}a" 2>&1) || fail "detach 2: $out"
	[[ ! -e $PIN2 ]] || fail "$PIN2 still there after detach"
	[[ -z $(lb_xdp_prog "${VETH2}a") ]] || fail "${VETH2}a keeps its XDP program after detach"
	out=$(xlb -j list) || fail "list 1 after detaching 2: $out"
	[[ $(nsutil config <<<"$out") == "$c0" ]] || fail "instance 1 changed: $out"
	[[ $(lb_xdp_prog eth0) == "$prog" ]] || fail "eth0's program changed"
	out=$(curl_one)
	[[ $out == r[123] ]] || fail "instance 1 does not forward after detaching 2: $out"

	# Attach the second again, detach the first: the second is untouched.
	out=$(xlb_at "$PIN2" attach "${VETH2}a" --mode generic --vip 10.99.0.1:80 2>&1) ||
		fail "second attach, again: $out"
	out=$(xlb_at "$PIN2" add-real --vip 10.99.0.1:80 10.99.0.2 --mac 02:00:00:00:99:02 2>&1) ||
		fail "second add-real, again: $out"
	c2=$(xlb_at "$PIN2" -j list | nsutil config)
	prog=$(lb_xdp_prog "${VETH2}a")
	out=$(xlb detach eth0 2>&1) || fail "detach 1: $out"
	[[ ! -e $PIN ]] || fail "$PIN still there after detach"
	out=$(xlb_at "$PIN2" -j list) || fail "list 2 after detaching 1: $out"
	[[ $(nsutil config <<<"$out") == "$c2" ]] || fail "instance 2 changed: $out"
	[[ $(lb_xdp_prog "${VETH2}a") == "$prog" ]] || fail "${VETH2}a's program changed"
	out=$(xlb_at "$PIN2" detach "${VETH2}a" 2>&1) || fail "detach 2, again: $out"
	[[ ! -e $PIN2 ]] || fail "$PIN2 still there after the second detach"
}

# `ip netns exec` remounts /sys: with the pin dir on a bpffs mounted outside
# /sys the whole life cycle works there. With the default /sys/fs/bpf it is
# refused, and nothing is left attached.
test_ip_netns_exec() {
	local p=$RUN_BPFFS/lb out t
	local -a NX=(ip netns exec "$LAB-lb" "$XDPLB" --pin-dir "$p")
	lb_reset
	out=$(ip netns exec "$LAB-lb" "$XDPLB" --pin-dir "$PIN" attach eth0 --vip "$VIP4:80" 2>&1) &&
		fail "attach under ip netns exec with $PIN succeeded: $out"
	grep -q bpffs <<<"$out" || fail "attach on /sys/fs/bpf under ip netns exec: $out"
	[[ -z $(lb_xdp_prog eth0) ]] || fail "a refused attach left a program on eth0"

	mkdir -p "$RUN_BPFFS" || fail "mkdir $RUN_BPFFS"
	if ! mountpoint -q "$RUN_BPFFS"; then
		mount -t bpf bpf "$RUN_BPFFS" || fail "cannot mount a bpffs on $RUN_BPFFS"
	fi
	on_exit "ip -n '$LAB-lb' link set dev eth0 xdp off; umount '$RUN_BPFFS'; rmdir '$RUN_BPFFS'"

	out=$("${NX[@]}" attach eth0 --vip "$VIP4:80" 2>&1) || fail "attach: $out"
	[[ -e $p/config ]] || fail "no $p/config outside ip netns exec after attach"
	out=$("${NX[@]}" add-real --vip "$VIP4:80" "$(lab_ip4 r1)" 2>&1) || fail "add-real r1: $out"
	t=$(curl_burst 5 "http://$VIP4/")
	expect_dist "$t" --total 5 --allowed r1
	out=$("${NX[@]}" -j list 2>&1) || fail "list: $out"
	[[ $(jget "$out" "reals(d)['$(lab_ip4 r1)']['packets'] > 0") == true ]] ||
		fail "list does not show r1 forwarding: $out"
	out=$("${NX[@]}" list 2>&1) || fail "text list: $out"
	out=$("${NX[@]}" detach eth0 2>&1) || fail "detach: $out"
	[[ ! -e $p ]] || fail "$p still there after detach"
	[[ -z $(lb_xdp_prog eth0) ]] || fail "eth0 keeps an XDP program after detach"
	umount "$RUN_BPFFS" || fail "cannot unmount $RUN_BPFFS (busy?)"
	rmdir "$RUN_BPFFS"
}
