# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_coexist.sh - xdplb beside another XDP program on the same interface:
# through libxdp's dispatcher where it loads, and a clear refusal where the
# hook is held by a program that is not in a dispatcher.
# Sourced by run.sh (helpers and variables are defined there).

ns_tests+=(coexist_refuse_native coexist_dispatcher)

# xdp_loader ARGS...: xdp-loader in the LB's network namespace.
xdp_loader() { lb_ns_exec xdp-loader "$@"; }

# expect_refused WHAT: attach must fail with exit 1 and one line naming the
# XDP program xdp_pass, leaving eth0's program and no pin dir.
expect_refused() {
	local what=$1 prog out rc
	prog=$(lb_xdp_prog eth0)
	[[ -n $prog ]] || fail "$what: no XDP program on eth0 to collide with"
	out=$(xlb attach eth0 --vip "$VIP4:80" 2>&1)
	rc=$?
	log "attach beside $what: rc $rc: $out"
	((rc == 1)) || fail "attach beside $what: exit $rc, want 1: $out"
	[[ $(wc -l <<<"$out") == 1 ]] || fail "attach beside $what: not one line: $out"
	[[ $out == *"'xdp_pass'"*"without libxdp's dispatcher"*"ip link set dev eth0 xdpdrv off"* ]] ||
		fail "attach beside $what does not name the program and the way on: $out"
	[[ $(lb_xdp_prog eth0) == "$prog" ]] || fail "attach beside $what changed eth0's program"
	[[ ! -e $PIN ]] || fail "a refused attach left $PIN"
	out=$(xlb -j attach eth0 --vip "$VIP4:80" 2>/dev/null)
	[[ $(jget "$out" "'xdp_pass' in d['error']") == true ]] ||
		fail "attach -j beside $what: not a JSON error: $out"
}

# A program attached natively (ip link, no libxdp) owns the hook: attach
# refuses, saying so; without it, attach works and says how it attached.
test_coexist_refuse_native() {
	local out t
	lb_reset
	on_exit "ip -n '$LAB-lb' link set dev eth0 xdpdrv off"
	ip -n "$LAB-lb" link set dev eth0 xdpdrv obj "$REPO/build/xdp_pass.bpf.o" sec xdp ||
		fail "cannot attach xdp_pass to eth0 with ip link"
	expect_refused "a native xdp_pass"

	ip -n "$LAB-lb" link set dev eth0 xdpdrv off || fail "cannot remove xdp_pass"
	out=$(xlb attach eth0 --vip "$VIP4:80" 2>&1) || fail "attach on a free hook: $out"
	log "$out"
	grep -Eq '^attached (directly \(owns the XDP hook|through the libxdp dispatcher \(priority [0-9]+, alone\))' \
		<<<"$out" || fail "attach does not say how it attached: $out"
	add_reals "$VIP4:80" 1 r1 r2
	t=$(curl_burst 4 "http://$VIP4/")
	expect_dist "$t" --total 4 --allowed r1,r2
}

# xdp-loader (libxdp) loads xdp_pass first. Where the dispatcher loads, xdplb
# joins it: xdp-loader status lists both, traffic is balanced, and detach
# removes xdplb alone. Where it cannot (this lab's kernel: shared/LAB.md),
# xdp-loader's program owns the hook and xdplb refuses as above; then SKIP.
test_coexist_dispatcher() {
	local out st t
	require_cmd xdp-loader
	lb_reset
	rm -f /run/xdp-loader.lck 2>/dev/null # a stale one fails every run (LAB.md)
	on_exit "nsenter --net='$LB_NS' -- xdp-loader unload -a eth0; ip -n '$LAB-lb' link set dev eth0 xdpdrv off"
	out=$(xdp_loader load -m native eth0 "$REPO/build/xdp_pass.bpf.o" 2>&1) ||
		fail "xdp-loader load: $out"
	st=$(xdp_loader status eth0 2>&1)
	log "$st"
	if ! grep -q xdp_dispatcher <<<"$st"; then
		expect_refused "xdp-loader's xdp_pass (no dispatcher)"
		skip "libxdp's dispatcher does not load on this kernel; checked the refusal instead"
	fi

	out=$(xlb attach eth0 --vip "$VIP4:80" 2>&1) || fail "attach beside xdp-loader's program: $out"
	log "$out"
	grep -Eq '^attached through the libxdp dispatcher \(priority [0-9]+, alongside: xdp_pass\)$' \
		<<<"$out" || fail "attach does not say it joined the dispatcher beside xdp_pass: $out"
	st=$(xdp_loader status eth0 2>&1)
	log "$st"
	grep -q ' xdplb ' <<<"$st" && grep -q ' xdp_pass ' <<<"$st" ||
		fail "xdp-loader status does not list both programs: $st"
	add_reals "$VIP4:80" 1 r1 r2 r3
	t=$(curl_burst 6 "http://$VIP4/")
	expect_dist "$t" --total 6 --allowed r1,r2,r3

	out=$(xlb detach eth0 2>&1) || fail "detach: $out"
	st=$(xdp_loader status eth0 2>&1)
	log "$st"
	grep -q ' xdplb ' <<<"$st" && fail "xdplb still in the dispatcher after detach: $st"
	grep -q ' xdp_pass ' <<<"$st" || fail "detach removed xdp-loader's program too: $st"
	[[ ! -e $PIN ]] || fail "$PIN still there after detach"
}
