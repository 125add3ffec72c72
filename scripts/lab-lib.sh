# shellcheck shell=bash
# lab-lib.sh - the xdplb namespace lab, as a library to `source` (lab.sh, demos, tests).
#
# Topology (LAB = namespace prefix, default "xl"; NREALS real servers, default 3):
#
#   ${LAB}-client  ${LAB}-lb  ${LAB}-r1 .. ${LAB}-rN      one network namespace per host
#        eth0         eth0       eth0                      each host's veth, fixed MAC
#         |            |          |
#       client         lb*       r1 .. rN                  peers, ports of bridge br0
#   '------------- ${LAB}-br (br0) -------------'          (* lb carries an XDP_PASS program)
#
#   host    IPv4           IPv6            MAC
#   client  198.18.0.10    fd00:18::10     02:00:00:00:00:0a
#   lb      198.18.0.2     fd00:18::2      02:00:00:00:00:02   + VIPs on eth0 (answers ARP/ND)
#   lbI     198.18.0.(1+I) fd00:18::(1+I)  02:00:00:00:00:0(1+I)  I = 2..9, no VIP: extra
#                                          load balancers, only through lab_add_lb (HA lab)
#   rI      198.18.0.(10+I) fd00:18::(10+I) 02:00:00:00:00:hex(10+I)  + VIPs on lo (silent)
#   VIP     198.18.0.100   fd00:18::100
#   (IPv6 host parts are written like the decimal IPv4 ones: r1 = fd00:18::11.)
#
# Contracts:
#   - Sourcing defines functions and variables only; it changes no shell option and
#     touches nothing. Every function reads LAB and NREALS when called, so a caller
#     may change them after sourcing.
#   - Functions return non-zero on failure (they do not rely on the caller's `set -e`).
#   - lab_up needs root, builds the whole lab or nothing (it tears down what it
#     built on failure), and is a no-op when the lab is already up and healthy.
#   - lab_down never fails: it kills every process inside the lab's namespaces (the
#     real servers and anything a test started there), deletes the namespaces that
#     match the lab's names, whatever NREALS is, and removes the lab's run dir.
#   - Commands enter a host with lab_exec, which enters ONLY the network namespace
#     (nsenter --net), never `ip netns exec`: that remounts /sys and hides the
#     host's /sys/fs/bpf (shared/LAB.md, gotcha 3).
#
# Environment knobs (defaults in brackets):
#   LAB [xl]  NREALS [3]  XDP_PASS_OBJ [REPO/build/xdp_pass.bpf.o]
#   LAB_HTTP_PORT [80]  LAB_UDP_PORT [9000]  LAB_WAIT_SECS [15]
#   LAB_BR_AGEING [30000]: bridge ageing_time in centiseconds: a learning switch,
#     as in a real L2 segment. 0 makes br0 flood unicast like a hub.
#   LAB_KEEP_ON_FAIL [0]: 1 leaves a half-built lab in place for debugging.

LAB_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
LAB_REPO_ROOT="$(cd "$LAB_LIB_DIR/.." && pwd -P)"

: "${LAB:=xl}"
: "${NREALS:=3}"
: "${XDP_PASS_OBJ:=$LAB_REPO_ROOT/build/xdp_pass.bpf.o}"
: "${REALSRV:=$LAB_LIB_DIR/realsrv.py}"
: "${LAB_HTTP_PORT:=80}"
: "${LAB_UDP_PORT:=9000}"
: "${LAB_WAIT_SECS:=15}"
: "${LAB_BR_AGEING:=30000}"
: "${LAB_KEEP_ON_FAIL:=0}"

VIP4=198.18.0.100
VIP6=fd00:18::100
LAB_NET4=198.18.0.0/24
LAB_NET6=fd00:18::/64
LAB_BRIDGE=br0
LAB_RUN_BASE=/run/xdplb-lab
export LAB NREALS XDP_PASS_OBJ REALSRV VIP4 VIP6 LAB_NET4 LAB_NET6 LAB_REPO_ROOT

# ---------------------------------------------------------------- messages

_lab_say() { printf 'lab[%s]: %s\n' "$LAB" "$*"; }
_lab_err() { printf 'lab[%s]: error: %s\n' "$LAB" "$*" >&2; }

# _lab_do CMD... : run CMD; on failure name it on stderr and return its status.
_lab_do() {
	local rc=0
	"$@" || rc=$?
	((rc == 0)) || _lab_err "failed ($rc): $*"
	return "$rc"
}

# ---------------------------------------------------------------- naming and addressing

# _lab_check_env: LAB is a safe name prefix and NREALS an integer in 1..89
# (real 89 is .99; .100 is the VIP). Returns 1 with a message otherwise.
_lab_check_env() {
	if [[ ! $LAB =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$ ]]; then
		_lab_err "LAB must be 1-20 characters of [A-Za-z0-9_-], got '$LAB'"
		return 1
	fi
	if [[ ! $NREALS =~ ^[0-9]+$ ]] || ((NREALS < 1 || NREALS > 89)); then
		_lab_err "NREALS must be an integer in 1..89, got '$NREALS'"
		return 1
	fi
}

# lab_reals: print r1 .. rN (N = NREALS), one per line.
lab_reals() {
	local i
	for ((i = 1; i <= NREALS; i++)); do echo "r$i"; done
}

# lab_hosts: print every host (not the bridge): client, lb, r1 .. rN, one per line.
lab_hosts() {
	echo client
	echo lb
	lab_reals
}

# lab_ns HOST: print the namespace name of HOST (client, lb, rI or br).
lab_ns() {
	case "${1:-}" in
	client | lb | lb[2-9] | br | r[1-9] | r[1-9][0-9]) echo "$LAB-$1" ;;
	*)
		_lab_err "unknown host '${1:-}' (client, lb, lb2..lb9, br, r1..r89)"
		return 1
		;;
	esac
}

# _lab_octet HOST: print the host number: client 10, lb 2, lbI 1+I, rI 10+I.
_lab_octet() {
	case "${1:-}" in
	client) echo 10 ;;
	lb) echo 2 ;;
	lb[2-9]) echo $((1 + ${1#lb})) ;;
	r[1-9] | r[1-9][0-9])
		if ((${1#r} > 89)); then
			_lab_err "real '$1' out of range (r1..r89)"
			return 1
		fi
		echo $((10 + ${1#r}))
		;;
	*)
		_lab_err "host '${1:-}' has no address (client, lb, lb2..lb9, r1..r89)"
		return 1
		;;
	esac
}

# lab_ip4 HOST: print HOST's IPv4 address (no prefix length), e.g. r1 -> 198.18.0.11.
lab_ip4() {
	local o
	o=$(_lab_octet "${1:-}") || return 1
	echo "198.18.0.$o"
}

# lab_ip6 HOST: print HOST's IPv6 address, e.g. r1 -> fd00:18::11.
lab_ip6() {
	local o
	o=$(_lab_octet "${1:-}") || return 1
	echo "fd00:18::$o"
}

# lab_mac HOST: print the MAC of HOST's eth0, e.g. r1 -> 02:00:00:00:00:0b.
lab_mac() {
	local o
	o=$(_lab_octet "${1:-}") || return 1
	printf '02:00:00:00:00:%02x\n' "$o"
}

# lab_exec HOST CMD...: run CMD inside HOST's network namespace only (mount
# namespace, /sys and /sys/fs/bpf stay the caller's). Returns CMD's status.
# Caveat of the same coin: /sys/class/net there still lists the ROOT namespace's
# devices; ask `ip`/`ethtool` (netlink/ioctl) about a lab host's interfaces.
lab_exec() {
	local ns
	ns=$(lab_ns "${1:-}") || return 1
	shift
	nsenter --net="/var/run/netns/$ns" -- "$@"
}

# lab_run_dir: print the directory holding this lab's pid files, logs and state.
lab_run_dir() { echo "$LAB_RUN_BASE/$LAB"; }

# _lab_existing_ns: print the namespaces that exist now and belong to this lab
# (LAB-br, LAB-client, LAB-lb, LAB-lbI, LAB-rI for any I), whatever NREALS is.
_lab_existing_ns() {
	local name
	ip netns list 2>/dev/null | while read -r name _; do
		if [[ $name == "$LAB-br" || $name == "$LAB-client" || $name == "$LAB-lb" ||
			$name =~ ^"$LAB"-(r[1-9][0-9]?|lb[2-9])$ ]]; then
			echo "$name"
		fi
	done
}

# ---------------------------------------------------------------- building

# _lab_sysctl HOST KEY=VALUE...: set sysctls inside HOST's network namespace.
_lab_sysctl() {
	local host=$1 kv
	shift
	for kv in "$@"; do
		lab_exec "$host" sysctl -q -w "$kv" >/dev/null || {
			_lab_err "sysctl $kv in $(lab_ns "$host") failed"
			return 1
		}
	done
}

# _lab_make_bridge: create LAB-br with bridge br0 up, STP off, no forward delay,
# no multicast snooping (ND multicast is flooded), and a silent IPv6 stack.
_lab_make_bridge() {
	local br
	br=$(lab_ns br) || return 1
	_lab_do ip netns add "$br" || return 1
	_lab_do ip -n "$br" link set lo up || return 1
	# The switch has no addresses: keep it from sending RS/MLD/DAD noise.
	_lab_sysctl br net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
		return 1
	# If br_netfilter is loaded, keep bridged frames out of this namespace's netfilter.
	if lab_exec br test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
		_lab_sysctl br net.bridge.bridge-nf-call-iptables=0 \
			net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 ||
			return 1
	fi
	_lab_do ip -n "$br" link add "$LAB_BRIDGE" type bridge \
		ageing_time "$LAB_BR_AGEING" forward_delay 0 stp_state 0 mcast_snooping 0 || return 1
	_lab_do ip -n "$br" link set "$LAB_BRIDGE" up || return 1
}

# _lab_make_host HOST [bare]: create HOST's namespace, its eth0 (fixed MAC,
# IPv4/IPv6 addresses, tx checksum offload off) and the bridge port of the same
# name as HOST. Role-specific parts: the LB owns the VIPs on eth0; a real has them
# on lo, never answers ARP for them, never uses them as ARP source, and does no
# rp_filter. A bare host has no role part: no VIP, the namespace's default sysctls.
_lab_make_host() {
	local host=$1 role=$1 ns br mac ip4 ip6
	[[ ${2:-} == bare ]] && role=bare
	ns=$(lab_ns "$host") || return 1
	br=$(lab_ns br) || return 1
	mac=$(lab_mac "$host") || return 1
	ip4=$(lab_ip4 "$host") || return 1
	ip6=$(lab_ip6 "$host") || return 1

	_lab_do ip netns add "$ns" || return 1
	# No DAD: addresses are usable at once (set before eth0 exists, so it inherits).
	_lab_sysctl "$host" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 ||
		return 1
	if [[ $role == r* ]]; then
		_lab_sysctl "$host" \
			net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.default.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.default.arp_announce=2 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
			net.ipv4.conf.lo.rp_filter=0 || return 1
	fi
	_lab_do ip -n "$ns" link set lo up || return 1

	_lab_do ip -n "$ns" link add eth0 address "$mac" type veth peer name "$host" netns "$br" ||
		return 1
	_lab_do ip -n "$ns" addr add "$ip4/24" dev eth0 || return 1
	_lab_do ip -n "$ns" addr add "$ip6/64" dev eth0 nodad || return 1
	case "$role" in
	lb)
		_lab_do ip -n "$ns" addr add "$VIP4/32" dev eth0 || return 1
		# preferred_lft 0: never a source address. Linux ranks a /128 in
		# the reals' /64 above the LB's own /64 address, so health checks
		# would leave from the VIP, and the reals answer that locally.
		_lab_do ip -n "$ns" addr add "$VIP6/128" dev eth0 nodad preferred_lft 0 || return 1
		;;
	r*)
		_lab_sysctl "$host" net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 \
			net.ipv4.conf.eth0.rp_filter=0 || return 1
		_lab_do ip -n "$ns" addr add "$VIP4/32" dev lo || return 1
		_lab_do ip -n "$ns" addr add "$VIP6/128" dev lo nodad || return 1
		;;
	esac
	# shared/LAB.md gotcha 2: partial checksums through an XDP hop kill TCP.
	_lab_do lab_exec "$host" ethtool -K eth0 tx off >/dev/null || return 1
	_lab_do lab_exec br ethtool -K "$host" tx off >/dev/null || return 1
	_lab_do ip -n "$ns" link set eth0 up || return 1
	_lab_do ip -n "$br" link set "$host" master "$LAB_BRIDGE" || return 1
	_lab_do ip -n "$br" link set "$host" up || return 1
}

# _lab_attach_xdp_pass [PORT]: native XDP_PASS program on the bridge-side port
# PORT (default "lb", the load balancer's), so frames the LB turns around with
# XDP_TX are delivered (shared/LAB.md, gotcha 1).
_lab_attach_xdp_pass() {
	local br port=${1:-lb}
	br=$(lab_ns br) || return 1
	_lab_do ip -n "$br" link set dev "$port" xdpdrv obj "$XDP_PASS_OBJ" sec xdp || return 1
	if ! ip -n "$br" -d link show dev "$port" | grep -q 'prog/xdp'; then
		_lab_err "no XDP program on $br/$port after attaching $XDP_PASS_OBJ"
		return 1
	fi
}

# lab_add_lb HOST: add a further load balancer lb2..lb9 to a lab that is up:
# its host as any other (no VIP: whoever runs it decides who owns the VIP) and
# an XDP_PASS program on its bridge port. lab_down removes it. Returns 1 when
# it exists already or anything fails (what was made is left for lab_down).
lab_add_lb() {
	[[ ${1:-} == lb[2-9] ]] || {
		_lab_err "lab_add_lb: '${1:-}' is not lb2..lb9"
		return 1
	}
	_lab_host_free lab_add_lb "$1" || return 1
	_lab_make_host "$1" && _lab_attach_xdp_pass "$1"
}

# _lab_host_free CALLER HOST: true when HOST's namespace does not exist yet;
# otherwise says so in CALLER's name.
_lab_host_free() {
	local ns
	ns=$(lab_ns "$2") || return 1
	if [[ -e /var/run/netns/$ns ]]; then
		_lab_err "$1: $ns exists already"
		return 1
	fi
}

# lab_add_bare HOST: add a bare host rI (I above NREALS) to a lab that is up: on
# the bridge with rI's addresses and MAC, but no VIP and the namespace's default
# sysctls, no server: a machine that is not a real yet. lab_down removes it.
# Returns 1 when it exists already or anything fails.
lab_add_bare() {
	if [[ ! ${1:-} =~ ^r[1-9][0-9]?$ ]] || ((${1#r} <= NREALS)); then
		_lab_err "lab_add_bare: '${1:-}' is not rI with I above NREALS ($NREALS)"
		return 1
	fi
	_lab_host_free lab_add_bare "$1" || return 1
	_lab_make_host "$1" bare
}

# _lab_pid_alive PIDFILE: true when PIDFILE names a live realsrv.py process.
_lab_pid_alive() {
	local pid
	[[ -r $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	grep -qa realsrv.py "/proc/$pid/cmdline" 2>/dev/null
}

# lab_server_start HOST: start realsrv.py in real HOST (background,
# /usr/bin/python3), log and pid file in lab_run_dir; does not wait for it. This
# is lab_exec's nsenter spelled out: a backgrounded shell function would run in a
# forked subshell and $! would be that subshell; nsenter execs its command (no
# fork), so here $! is the server's pid.
lab_server_start() {
	local r=$1 dir ns
	dir=$(lab_run_dir)
	ns=$(lab_ns "$r") || return 1
	nsenter --net="/var/run/netns/$ns" -- /usr/bin/python3 "$REALSRV" --name "$r" \
		--http-port "$LAB_HTTP_PORT" --udp-port "$LAB_UDP_PORT" \
		--udp-bind "$VIP4" --udp-bind "$VIP6" \
		</dev/null >"$dir/realsrv-$r.log" 2>&1 &
	echo "$!" >"$dir/realsrv-$r.pid"
}

# lab_server_stop HOST: stop real HOST's realsrv.py (SIGTERM, then SIGKILL after
# 3 s) and wait until it is gone. Returns 0 when it was not running.
lab_server_stop() {
	local f
	f=$(lab_run_dir)/realsrv-$1.pid
	_lab_pid_alive "$f" || return 0
	_lab_kill_pids "$(<"$f")"
}

# lab_server_wait HOST [DEADLINE]: wait until real HOST's server answers GET
# /health on the real's own IPv4 and IPv6 address, from inside the real, until
# $SECONDS reaches DEADLINE (default: LAB_WAIT_SECS from now). Returns 1, saying
# why, when the server died or did not answer in time.
lab_server_wait() {
	local r=$1 deadline=${2:-$((SECONDS + LAB_WAIT_SECS))} dir url
	dir=$(lab_run_dir)
	for url in "http://$(lab_ip4 "$r"):$LAB_HTTP_PORT/health" \
		"http://[$(lab_ip6 "$r")]:$LAB_HTTP_PORT/health"; do
		until lab_exec "$r" curl -sf --noproxy '*' -m 1 -o /dev/null "$url"; do
			# kill -0, not _lab_pid_alive: right after the fork the pid may
			# not have exec'd python yet.
			if ! kill -0 "$(<"$dir/realsrv-$r.pid")" 2>/dev/null; then
				_lab_err "server in $r died; its log:"
				sed 's/^/    /' "$dir/realsrv-$r.log" >&2 2>/dev/null || true
				return 1
			fi
			if ((SECONDS >= deadline)); then
				_lab_err "server in $r does not answer $url after ${LAB_WAIT_SECS}s"
				return 1
			fi
			sleep 0.1
		done
	done
}

# _lab_start_servers: lab_server_start each real.
_lab_start_servers() {
	local r
	for r in $(lab_reals); do
		lab_server_start "$r" || return 1
	done
}

# _lab_wait_servers: wait (at most LAB_WAIT_SECS in all) until each real's server
# answers (lab_server_wait).
_lab_wait_servers() {
	local deadline=$((SECONDS + LAB_WAIT_SECS)) r
	for r in $(lab_reals); do
		lab_server_wait "$r" "$deadline" || return 1
	done
}

# _lab_is_up: true (silently) when the lab was completely built with the current
# NREALS, every namespace is there, and every real server is alive.
_lab_is_up() {
	local dir h
	dir=$(lab_run_dir)
	[[ -r $dir/state ]] && [[ $(<"$dir/state") == "up nreals=$NREALS" ]] || return 1
	[[ -e /var/run/netns/$LAB-br ]] || return 1
	for h in $(lab_hosts); do
		[[ -e /var/run/netns/$LAB-$h ]] || return 1
	done
	for h in $(lab_reals); do
		_lab_pid_alive "$dir/realsrv-$h.pid" || return 1
	done
}

# lab_up: build the lab and start the real servers (root). Already up: says so,
# returns 0. Anything half-there is torn down first. On failure, returns 1 after
# tearing down what it built (unless LAB_KEEP_ON_FAIL=1).
lab_up() {
	local h dir
	_lab_check_env || return 1
	if ((EUID != 0)); then
		_lab_err "must run as root"
		return 1
	fi
	if _lab_is_up; then
		_lab_say "already up ($NREALS reals)"
		return 0
	fi
	if [[ -n $(_lab_existing_ns) || -d $(lab_run_dir) ]]; then
		_lab_say "found a partial or different lab; tearing it down first"
		lab_down
	fi
	if [[ ! -r $XDP_PASS_OBJ ]]; then
		_lab_err "XDP pass object '$XDP_PASS_OBJ' not found (build it, or set XDP_PASS_OBJ)"
		return 1
	fi
	if [[ ! -r $REALSRV ]]; then
		_lab_err "real server '$REALSRV' not found"
		return 1
	fi
	for h in ip nsenter ethtool curl sysctl /usr/bin/python3; do
		command -v "$h" >/dev/null || {
			_lab_err "missing command: $h"
			return 1
		}
	done

	dir=$(lab_run_dir)
	if ! mkdir -p "$dir" || ! _lab_build; then
		if [[ $LAB_KEEP_ON_FAIL == 1 ]]; then
			_lab_err "lab_up failed; partial lab kept (LAB_KEEP_ON_FAIL=1)"
		else
			_lab_err "lab_up failed; tearing down"
			lab_down >/dev/null
		fi
		return 1
	fi
	echo "up nreals=$NREALS" >"$dir/state"
	_lab_say "up: client, lb, $NREALS reals; VIP $VIP4 $VIP6"
}

# _lab_build: the steps of lab_up after the checks; returns 1 at the first failure.
_lab_build() {
	local h
	_lab_make_bridge || return 1
	for h in $(lab_hosts); do
		_lab_make_host "$h" || return 1
	done
	_lab_attach_xdp_pass || return 1
	_lab_start_servers || return 1
	_lab_wait_servers || return 1
}

# _lab_kill_pids PID...: SIGTERM the given pids, wait up to 3 s, SIGKILL survivors.
_lab_kill_pids() {
	local pid i alive
	(($# > 0)) || return 0
	kill -TERM "$@" 2>/dev/null || true
	for ((i = 0; i < 30; i++)); do
		alive=()
		for pid in "$@"; do
			kill -0 "$pid" 2>/dev/null && alive+=("$pid")
		done
		((${#alive[@]} == 0)) && return 0
		sleep 0.1
	done
	kill -KILL "${alive[@]}" 2>/dev/null || true
}

# lab_down: stop the lab's servers and every process inside its namespaces,
# delete its namespaces and its run dir. Idempotent; always returns 0.
lab_down() {
	local dir f pid ns pids=()
	_lab_check_env || return 0
	dir=$(lab_run_dir)
	# 1. Our servers, by pid file (only if the pid is still a realsrv.py).
	for f in "$dir"/realsrv-*.pid; do
		[[ -e $f ]] || continue
		if _lab_pid_alive "$f"; then
			pids+=("$(<"$f")")
		fi
	done
	# 2. Anything else still running inside the lab's namespaces (the LB, tcpdump...):
	#    a namespace with processes in it would outlive `ip netns del`.
	for ns in $(_lab_existing_ns); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			# Never ourselves (a caller may run inside a lab namespace).
			[[ $pid == "$$" || $pid == "$BASHPID" ]] || pids+=("$pid")
		done
	done
	if ((${#pids[@]} > 0)); then
		mapfile -t pids < <(printf '%s\n' "${pids[@]}" | sort -un)
		_lab_kill_pids "${pids[@]}"
	fi
	# 3. Namespaces: hosts first (their veth pairs go with them), the bridge last.
	for ns in $(_lab_existing_ns | sort -r); do
		[[ $ns == "$LAB-br" ]] && continue
		ip netns del "$ns" 2>/dev/null || _lab_err "could not delete namespace $ns"
	done
	if [[ -e /var/run/netns/$LAB-br ]]; then
		ip netns del "$LAB-br" 2>/dev/null || _lab_err "could not delete namespace $LAB-br"
	fi
	rm -rf "$dir" 2>/dev/null || true
	rmdir "$LAB_RUN_BASE" 2>/dev/null || true # only when no other lab uses it
	_lab_say "down"
	return 0
}

# lab_status: print the lab's state, judged against the NREALS the lab was built
# with (when known). Returns 0 when it is up and healthy, 1 otherwise.
lab_status() {
	local dir ns h r br state=0 built
	_lab_check_env || return 1
	dir=$(lab_run_dir)
	br=$(lab_ns br)
	if [[ -z $(_lab_existing_ns) ]]; then
		_lab_say "down (no namespaces)"
		return 1
	fi
	built=$(sed -n 's/^up nreals=\([0-9]*\)$/\1/p' "$dir/state" 2>/dev/null || true)
	# Dynamic scope: lab_reals, lab_hosts and _lab_is_up below see this NREALS.
	local NREALS=${built:-$NREALS}
	if _lab_is_up; then
		_lab_say "up ($NREALS reals); VIP $VIP4 $VIP6"
	else
		_lab_say "NOT healthy (partial: lab_up did not finish, or something died)"
		state=1
	fi
	echo "namespaces: $(_lab_existing_ns | tr '\n' ' ')"
	if [[ -e /var/run/netns/$br ]]; then
		echo "bridge $br/$LAB_BRIDGE ports:"
		ip -n "$br" -br link show master "$LAB_BRIDGE" 2>/dev/null | sed 's/^/    /'
		if ip -n "$br" -d link show dev lb 2>/dev/null | grep -q 'prog/xdp'; then
			echo "xdp on $br/lb: $(ip -n "$br" -d link show dev lb | grep -o 'prog/xdp id [0-9]*')"
		else
			echo "xdp on $br/lb: NONE"
			state=1
		fi
	fi
	for h in $(lab_hosts); do
		ns=$(lab_ns "$h")
		if [[ ! -e /var/run/netns/$ns ]]; then
			printf '%-7s missing namespace %s\n' "$h" "$ns"
			state=1
			continue
		fi
		printf '%-7s %s\n' "$h" "$(ip -n "$ns" -br addr show | awk '{$2=""; print}' | tr -s ' ' | paste -sd'|' -)"
	done
	for r in $(lab_reals); do
		if _lab_pid_alive "$dir/realsrv-$r.pid"; then
			echo "realsrv $r: running, pid $(<"$dir/realsrv-$r.pid"), log $dir/realsrv-$r.log"
		else
			echo "realsrv $r: NOT running"
			state=1
		fi
	done
	return "$state"
}
