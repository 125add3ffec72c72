# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ha-lib.sh - failover of the load balancer itself, in the namespace lab: two
# load balancers with the same xdplb configuration (ha/lab-xdplb.conf) in front
# of the lab's reals, either active/backup with keepalived (VRRP) or
# active/active behind a router that learns the VIPs from both over BGP (BIRD)
# and spreads flows with an ECMP route. A library to `source` after
# lab-lib.sh's lab is up (scripts/ha-lab.sh, tests/ns/test_ha.sh).
#
#   vrrp:  client --br-- lb, lb2 --br-- r1..rN    keepalived in lb and lb2; the
#                                                 active one has the VIPs on eth0
#   bgp:   ext --- rt --br-- lb, lb2 --br-- r1..rN  bird in rt, lb and lb2; rt
#                                                 routes the VIPs over lb and lb2;
#                                                 the reals answer ext through rt
#
#   host  interface        IPv4             IPv6                MAC
#   lb2   eth0 (bridge)    198.18.0.3/24    fd00:18::3/64       02:00:00:00:00:03
#   rt    eth0 (bridge)    198.18.0.1/24    fd00:18::1/64       02:00:00:00:00:01
#   rt    eth1             198.51.100.1/24  2001:db8:51::1/64
#   ext   eth0             198.51.100.10/24 2001:db8:51::10/64  default via rt
#
# On each load balancer (lb, lb2): an xdplb instance on eth0 pinned at
# /sys/fs/bpf/LAB-ha-HOST; `xdplb daemon --config ha_dir/xdplb-HOST.conf
# --announce xdplb-up` on it (the file a copy of HA_CONF), which applies
# the file, checks the reals and holds the liveness interface xdplb-up up
# while it is healthy (the kernel deletes it when the daemon dies), and for
# BGP writes the VIP routes to ha_dir/bird-HOST-vips.conf (--bird-vips) for
# its bird; and keepalived or bird with configurations rendered from ha/*.in.
# Everything's pid file, control socket and log is in the run directory
# (ha_dir): the daemon's log is ha_dir/xdplb-HOST.log.
#
# Contracts (as lab-lib.sh's): functions return non-zero on failure with a
# message on stderr; ha_up builds all or tears down what it built; ha_down
# never fails, undoes everything ha_up did (the VIPs go back on lb's eth0) and
# leaves the lab itself up. Every process is started with nsenter --net.
#
# Environment knobs: HA_CONF [REPO/ha/lab-xdplb.conf], HA_LIVENESS_IF
# [xdplb-up], HA_ADVERT_INT [0.3] (VRRP), HA_HOLD_TIME [3] (BGP),
# HA_WAIT_SECS [20], HA_SYNC [0]: 1 runs each daemon with --sync on its
# address, the other load balancers (HA_SYNC_PEERS [lb lb2]) as its peers
# and one key for all (ha_dir/sync.key); HA_LISTEN [0]: 1 has each daemon
# serve /metrics on 127.0.0.1:9100 of its own namespace.

HA_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=SCRIPTDIR/lab-lib.sh
source "$HA_LIB_DIR/lab-lib.sh"

HA_SRC=$LAB_REPO_ROOT/ha
: "${HA_CONF:=$HA_SRC/lab-xdplb.conf}"
: "${HA_LIVENESS_IF:=xdplb-up}"
: "${HA_ADVERT_INT:=0.3}"
: "${HA_HOLD_TIME:=3}"
: "${HA_WAIT_SECS:=20}"
: "${HA_SYNC:=0}"
: "${HA_LISTEN:=0}"
: "${HA_SYNC_PEERS:=lb lb2}"
HA_XDPLB=$LAB_REPO_ROOT/build/xdplb
HA_LBS="lb lb2"
HA_RT_MAC=02:00:00:00:00:01
HA_RT_IP4=198.18.0.1
HA_RT_IP6=fd00:18::1
HA_EXT_NET4=198.51.100.0/24
HA_EXT_NET6=2001:db8:51::/64
HA_EXT_IP4=198.51.100.10
HA_EXT_IP6=2001:db8:51::10
HA_RT_AS=65000
HA_LB_AS=65001
HA_VRID=51

_ha_err() { printf 'ha[%s]: error: %s\n' "$LAB" "$*" >&2; }

# ---------------------------------------------------------------- rendering

# ha_render TEMPLATE KEY=VALUE...: print TEMPLATE with every @KEY@ replaced by
# VALUE (which may span lines). Returns 1, printing nothing, when a
# placeholder is left without a value.
ha_render() {
	local tmpl=$1 text kv left
	text=$(<"$tmpl") || return 1
	shift
	for kv in "$@"; do
		text=${text//"@${kv%%=*}@"/"${kv#*=}"}
	done
	left=$(grep -o '@[A-Z0-9_]*@' <<<"$text" | sort -u | tr '\n' ' ')
	if [[ -n $left ]]; then
		_ha_err "$(basename "$tmpl"): no value for ${left% }"
		return 1
	fi
	printf '%s\n' "$text"
}

# ha_vip_specs [CONF]: the VIP of each of CONF's add-vip lines, as written
# (198.18.0.100:80/tcp).
ha_vip_specs() {
	sed -n 's/^[[:space:]]*add-vip[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "${1:-$HA_CONF}"
}

# ha_vips FAMILY [CONF]: the VIP addresses of CONF's add-vip lines, IPv4 (4)
# or IPv6 (6), each once.
ha_vips() {
	ha_vip_specs "${2:-}" |
		sed 's/:[0-9]*\(\/[a-z]*\)\{0,1\}$//; s/^\[\(.*\)\]$/\1/' |
		if [[ $1 == 6 ]]; then grep ':'; else grep -v ':'; fi | sort -u
}

# ha_lines FAMILY FORMAT [CONF]: printf FORMAT once per VIP of the family
# (its address is %s): how the templates' lists of VIPs are made.
ha_lines() {
	local v
	for v in $(ha_vips "$1" "${3:-}"); do
		# shellcheck disable=SC2059 # the format is the point
		printf "$2\n" "$v"
	done
}

# ---------------------------------------------------------------- hosts

# ha_ns HOST: the namespace of HOST: rt and ext here, the rest lab-lib's.
ha_ns() {
	case "${1:-}" in
	rt | ext) echo "$LAB-$1" ;;
	*) lab_ns "${1:-}" ;;
	esac
}

# ha_exec HOST CMD...: CMD in HOST's network namespace only (lab_exec for
# lab-lib's hosts).
ha_exec() {
	case "${1:-}" in
	rt | ext) nsenter --net="/var/run/netns/$LAB-$1" -- "${@:2}" ;;
	*) lab_exec "$@" ;;
	esac
}

# ha_dir: the directory of this HA lab's configurations, pid files and logs.
ha_dir() { echo "$(lab_run_dir)/ha"; }

# ha_pin HOST: the pin directory of HOST's xdplb instance.
ha_pin() { echo "/sys/fs/bpf/$LAB-ha-$1"; }

# ha_xdplb HOST ARGS...: xdplb on HOST's instance.
ha_xdplb() {
	local h=$1
	shift
	ha_exec "$h" "$HA_XDPLB" --pin-dir "$(ha_pin "$h")" "$@"
}

# _ha_spawn HOST NAME CMD...: start CMD in HOST's network namespace in the
# background, pid in ha_dir/NAME.pid, output in ha_dir/NAME.log (nsenter
# execs CMD, so the pid is CMD's).
_ha_spawn() {
	local host=$1 name=$2 ns dir
	shift 2
	ns=$(ha_ns "$host") || return 1
	dir=$(ha_dir)
	nsenter --net="/var/run/netns/$ns" -- "$@" </dev/null >"$dir/$name.log" 2>&1 &
	echo $! >"$dir/$name.pid"
}

# ha_kill NAME [SIGNAL]: signal the process of ha_dir/NAME.pid (default TERM,
# which waits up to 3 s and then kills) and forget it.
ha_kill() {
	local f pid
	f=$(ha_dir)/$1.pid
	[[ -r $f ]] || return 0
	pid=$(<"$f")
	if [[ ${2:-TERM} == TERM ]]; then
		_lab_kill_pids "$pid"
	else
		kill "-$2" "$pid" 2>/dev/null || true
		for _ in {1..30}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$f"
}

# ha_wait SECS WHAT CMD...: until CMD succeeds, at most SECS seconds; else
# return 1 saying WHAT did not happen.
ha_wait() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			_ha_err "$what: not within ${secs}s"
			return 1
		fi
		sleep 0.1
	done
}

# ---------------------------------------------------------------- load balancers

# ha_lb_start HOST: attach xdplb to HOST's eth0 (with HA_CONF's first VIP,
# as attach wants one), give it its copy of HA_CONF, then start the daemon
# on it and wait until it is healthy: its liveness interface up.
ha_lb_start() {
	local h=$1 vip out
	cp "$HA_CONF" "$(ha_lb_conf "$h")" || return 1
	vip=$(ha_vip_specs | head -n 1)
	[[ -n $vip ]] || {
		_ha_err "$HA_CONF: no add-vip line"
		return 1
	}
	out=$(ha_xdplb "$h" attach eth0 --vip "$vip" 2>&1) || {
		_ha_err "$h: xdplb attach eth0 --vip $vip: $out"
		return 1
	}
	ha_daemon_start "$h"
}

# ha_lb_conf HOST: the xdplb configuration file of HOST's daemon.
ha_lb_conf() { echo "$(ha_dir)/xdplb-$1.conf"; }

# ha_daemon_start HOST: `xdplb daemon` on HOST's instance (which must be
# attached) with its file; for BGP also writing the VIP routes for its bird
# and reloading it. Waits until its liveness interface is up.
ha_daemon_start() {
	local h=$1 dir p
	local -a bird=() sync=() listen=()
	dir=$(ha_dir)
	if [[ $(<"$dir/mode") == bgp ]]; then
		bird=(--bird-vips "$dir/bird-$h-vips.conf"
			--bird-reload "birdc -s $dir/bird-$h.ctl configure")
	fi
	if [[ $HA_SYNC == 1 ]]; then
		ha_sync_key || return 1
		sync=(--sync "$(lab_ip4 "$h")" --sync-key "$dir/sync.key")
		for p in $HA_SYNC_PEERS; do
			[[ $p == "$h" ]] || sync+=(--sync-peer "$(lab_ip4 "$p")")
		done
	fi
	[[ $HA_LISTEN != 1 ]] || listen=(--listen 127.0.0.1:9100)
	_ha_spawn "$h" "xdplb-$h" "$HA_XDPLB" --pin-dir "$(ha_pin "$h")" daemon \
		--config "$(ha_lb_conf "$h")" --announce "$HA_LIVENESS_IF" "${bird[@]}" \
		"${sync[@]}" "${listen[@]}" || return 1
	# With --sync, first the peers' tables (or 5 s of a peer's silence).
	ha_wait 10 "$h: the daemon healthy ($HA_LIVENESS_IF up; log $dir/xdplb-$h.log)" \
		ha_live_is "$h" up
}

# ha_sync_key: the key every daemon of the lab shares (made once).
ha_sync_key() {
	local k
	k=$(ha_dir)/sync.key
	[[ -s $k ]] && return 0
	(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$k") &&
		[[ -s $k ]] || {
		_ha_err "cannot write $k"
		return 1
	}
}

# ha_daemon_reload HOST: SIGHUP to HOST's daemon (it applies its file again).
ha_daemon_reload() { kill -HUP "$(<"$(ha_dir)/xdplb-$1.pid")"; }

# ha_daemon_stop HOST [SIGNAL]: stop HOST's daemon (KILL: it dies at once;
# the kernel deletes its liveness interface either way). Forwarding goes on.
ha_daemon_stop() { ha_kill "xdplb-$1" "${2:-TERM}"; }

# ha_live_is HOST up|down: true when HOST's liveness interface is up (the
# daemon runs and is healthy), or is down or gone.
ha_live_is() {
	if ha_exec "$1" "$HA_SRC/xdplb-alive" "$HA_LIVENESS_IF"; then
		[[ $2 == up ]]
	else
		[[ $2 == down ]]
	fi
}

# ha_lb_detach HOST: detach HOST's instance, remove its pin dir.
ha_lb_detach() {
	if [[ -e $(ha_pin "$1")/config && -e /var/run/netns/$(ha_ns "$1") ]]; then
		ha_xdplb "$1" detach eth0 >/dev/null 2>&1 || _ha_err "$1: detach failed"
	fi
	rm -rf "$(ha_pin "$1")"
}

# ha_reals_cut HOST on|off: HOST can no longer reach the reals from its own
# stack (on: an unreachable route to each real's address), or can again
# (off). Its checks then fail at once and the daemon, with no real up,
# turns unhealthy; the other load balancer still reaches them. Frames that
# the XDP program sends on are not routed, so only the checks notice.
ha_reals_cut() {
	local h=$1 r a op=add
	[[ $2 == on ]] || op=del
	for r in $(lab_reals); do
		for a in "$(lab_ip4 "$r")/32" "$(lab_ip6 "$r")/128"; do
			ip -n "$(ha_ns "$h")" route "$op" unreachable "$a" 2>/dev/null ||
				[[ $op == del ]] || {
				_ha_err "$h: cannot add an unreachable route to $a"
				return 1
			}
		done
	done
}

# ha_lb_die HOST: HOST dies at once: SIGKILL to every process in its network
# namespace (keepalived or bird, the xdplb daemon), then its
# bridge port goes down (the cable is pulled). Its XDP program stays attached,
# as it would on a hung machine, but no frame reaches it any more.
ha_lb_die() {
	local h=$1 ns
	ns=$(ha_ns "$h") || return 1
	# shellcheck disable=SC2046 # a list of pids
	kill -KILL $(ip netns pids "$ns") 2>/dev/null
	rm -f "$(ha_dir)"/*-"$h".pid
	ip -n "$(lab_ns br)" link set "$h" down
}

# ---------------------------------------------------------------- keepalived

# ha_keepalived_start HOST PRIORITY: render ha/keepalived.conf.in for HOST
# and start keepalived there (its own pid files, log in ha_dir).
ha_keepalived_start() {
	local h=$1 dir conf
	dir=$(ha_dir)
	conf=$dir/keepalived-$h.conf
	rm -f "$dir/vrrp-$h.state"
	ha_render "$HA_SRC/keepalived.conf.in" ROUTER_ID="$LAB-$h" IFACE=eth0 \
		VRID="$HA_VRID" PRIORITY="$2" ADVERT_INT="$HA_ADVERT_INT" \
		VIPS4="$(ha_lines 4 '		%s/32 dev eth0')" \
		VIPS6="$(ha_lines 6 '		%s/128 dev eth0')" \
		LIVENESS_IF="$HA_LIVENESS_IF" HA_DIR="$HA_SRC" \
		STATE_FILE="$dir/vrrp-$h.state" >"$conf" || return 1
	_ha_spawn "$h" "keepalived-$h" keepalived -n -l -D -f "$conf" \
		-p "$dir/keepalived-$h.main.pid" -r "$dir/keepalived-$h.vrrp.pid" \
		-c "$dir/keepalived-$h.check.pid"
}
ha_keepalived_stop() { ha_kill "keepalived-$1" "${2:-TERM}"; }

# ha_vrrp_state HOST: HOST's VRRP state as keepalived last notified it
# (MASTER, BACKUP, FAULT, STOP), or nothing.
ha_vrrp_state() { cat "$(ha_dir)/vrrp-$1.state" 2>/dev/null; }

# ha_vrrp_is HOST STATE: true when HOST is in STATE.
ha_vrrp_is() { [[ $(ha_vrrp_state "$1") == "$2" ]]; }

# ha_has_vip HOST: true when HOST has the first IPv4 VIP on eth0.
ha_has_vip() {
	ha_exec "$1" ip -o addr show dev eth0 | grep -q " $(ha_vips 4 | head -n 1)/"
}

# ha_vrrp_master: print the load balancer that is MASTER and has the VIP
# while every other one is BACKUP, or return 1.
ha_vrrp_master() {
	local h master=
	for h in $HA_LBS; do
		if ha_vrrp_is "$h" MASTER && ha_has_vip "$h"; then
			[[ -z $master ]] || return 1
			master=$h
		elif ! ha_vrrp_is "$h" BACKUP; then
			return 1
		fi
	done
	[[ -n $master ]] && echo "$master"
}

# ---------------------------------------------------------------- router and BGP

# ha_router_add: the router rt (eth0 on the bridge, eth1 to ext), the
# external client ext behind it, and the reals' routes back to ext via rt.
ha_router_add() {
	local rt ext br r
	rt=$(ha_ns rt) ext=$(ha_ns ext) br=$(lab_ns br)
	_lab_do ip netns add "$rt" || return 1
	_lab_do ip netns add "$ext" || return 1
	for r in rt ext; do
		ha_exec "$r" sysctl -q -w net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null || return 1
		_lab_do ip -n "$(ha_ns "$r")" link set lo up || return 1
	done
	# Per-flow (L4) ECMP, and routing between its two links.
	ha_exec rt sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null || return 1
	_lab_do ip -n "$rt" link add eth0 address "$HA_RT_MAC" type veth peer name rt netns "$br" ||
		return 1
	_lab_do ip -n "$rt" link add eth1 type veth peer name eth0 netns "$ext" || return 1
	_lab_do ip -n "$rt" addr add "$HA_RT_IP4/24" dev eth0 || return 1
	_lab_do ip -n "$rt" addr add "$HA_RT_IP6/64" dev eth0 nodad || return 1
	_lab_do ip -n "$rt" addr add "${HA_EXT_NET4%.0/24}.1/24" dev eth1 || return 1
	_lab_do ip -n "$rt" addr add "${HA_EXT_NET6%/64}1/64" dev eth1 nodad || return 1
	_lab_do ip -n "$ext" addr add "$HA_EXT_IP4/24" dev eth0 || return 1
	_lab_do ip -n "$ext" addr add "$HA_EXT_IP6/64" dev eth0 nodad || return 1
	# shared/LAB.md gotcha 2, on every veth end that carries the traffic.
	_lab_do ha_exec rt ethtool -K eth0 tx off >/dev/null || return 1
	_lab_do ha_exec rt ethtool -K eth1 tx off >/dev/null || return 1
	_lab_do ha_exec ext ethtool -K eth0 tx off >/dev/null || return 1
	_lab_do lab_exec br ethtool -K rt tx off >/dev/null || return 1
	_lab_do ip -n "$rt" link set eth0 up || return 1
	_lab_do ip -n "$rt" link set eth1 up || return 1
	_lab_do ip -n "$ext" link set eth0 up || return 1
	_lab_do ip -n "$ext" route add default via "${HA_EXT_NET4%.0/24}.1" || return 1
	_lab_do ip -n "$ext" -6 route add default via "${HA_EXT_NET6%/64}1" || return 1
	_lab_do ip -n "$br" link set rt master "$LAB_BRIDGE" || return 1
	_lab_do ip -n "$br" link set rt up || return 1
	for r in $(lab_reals); do
		_lab_do ip -n "$(lab_ns "$r")" route replace "$HA_EXT_NET4" via "$HA_RT_IP4" || return 1
		_lab_do ip -n "$(lab_ns "$r")" -6 route replace "$HA_EXT_NET6" via "$HA_RT_IP6" ||
			return 1
	done
}

# ha_bird_start HOST: render HOST's BIRD configuration (rt: the router's,
# ha/bird-router.conf.in; a load balancer: ha/bird-lb.conf.in, which
# includes the VIP routes its daemon wrote) and start bird there in the
# foreground, with its own control socket and pid file.
ha_bird_start() {
	local h=$1 dir conf peers h2
	dir=$(ha_dir)
	conf=$dir/bird-$h.conf
	if [[ $h == rt ]]; then
		peers=$(for h2 in $HA_LBS; do
			printf 'protocol bgp %s_4 from lb4 { neighbor %s; };\n' "$h2" "$(lab_ip4 "$h2")"
			printf 'protocol bgp %s_6 from lb6 { neighbor %s; };\n' "$h2" "$(lab_ip6 "$h2")"
		done)
		ha_render "$HA_SRC/bird-router.conf.in" ROUTER_ID="$HA_RT_IP4" \
			LOCAL_AS="$HA_RT_AS" PEER_AS="$HA_LB_AS" HOLD_TIME="$HA_HOLD_TIME" \
			PEERS="$peers" >"$conf" || return 1
	else
		ha_render "$HA_SRC/bird-lb.conf.in" ROUTER_ID="$(lab_ip4 "$h")" \
			LOCAL_AS="$HA_LB_AS" PEER4="$HA_RT_IP4" PEER6="$HA_RT_IP6" \
			PEER_AS="$HA_RT_AS" HOLD_TIME="$HA_HOLD_TIME" \
			VIPS_FILE="$dir/bird-$h-vips.conf" >"$conf" || return 1
	fi
	bird -p -c "$conf" || {
		_ha_err "$h: bird rejects $conf"
		return 1
	}
	_ha_spawn "$h" "bird-$h" bird -f -c "$conf" -s "$dir/bird-$h.ctl" -P "$dir/bird-$h.bird.pid"
}
ha_bird_stop() { ha_kill "bird-$1" "${2:-TERM}"; }

# ha_birdc HOST CMD...: birdc on HOST's bird.
ha_birdc() {
	local h=$1
	shift
	birdc -s "$(ha_dir)/bird-$h.ctl" "$@"
}

# ha_nexthops [ADDR]: the router's next hops for ADDR (default the first
# IPv4 VIP), one address per line, sorted; nothing when it has no route.
ha_nexthops() {
	local a=${1:-$(ha_vips 4 | head -n 1)} fam=-4
	[[ $a != *:* ]] || fam=-6
	ha_exec rt ip "$fam" -o route show "$a" 2>/dev/null |
		grep -o 'via \(inet6 \)\{0,1\}[0-9a-f.:]*' | awk '{ print $NF }' | sort
}

# ha_nexthops_are ADDR HOST...: true when the router's next hops for ADDR
# are exactly these load balancers (their address of ADDR's family).
ha_nexthops_are() {
	local a=$1 h want=()
	shift
	for h in "$@"; do
		if [[ $a == *:* ]]; then want+=("$(lab_ip6 "$h")"); else want+=("$(lab_ip4 "$h")"); fi
	done
	[[ $(ha_nexthops "$a" | tr '\n' ' ') == "$(printf '%s\n' "${want[@]}" | sort | tr '\n' ' ')" ]]
}

# ---------------------------------------------------------------- the whole

# ha_up vrrp|bgp: on a lab that is up: take the VIPs off lb's eth0, add lb2,
# attach xdplb to both and start the daemon with HA_CONF on each, then
# keepalived on both (vrrp; lb priority 150, lb2 100) or the router, ext and
# bird everywhere (bgp). Waits until one load balancer is MASTER and has the
# VIPs, the other BACKUP (vrrp) or the router routes every VIP over both (bgp). On failure,
# returns 1 after ha_down (unless LAB_KEEP_ON_FAIL=1).
ha_up() {
	local mode=${1:-}
	if [[ $mode != vrrp && $mode != bgp ]]; then
		_ha_err "ha_up: mode must be vrrp or bgp, not '$mode'"
		return 1
	fi
	ha_down
	if ! _ha_build "$mode"; then
		if [[ $LAB_KEEP_ON_FAIL == 1 ]]; then
			_ha_err "ha_up $mode failed; kept (LAB_KEEP_ON_FAIL=1)"
		else
			_ha_err "ha_up $mode failed; tearing down"
			ha_down
		fi
		return 1
	fi
}

_ha_build() {
	local h v dir ok=1 pids=()
	dir=$(ha_dir)
	mkdir -p "$dir" || return 1
	echo "$1" >"$dir/mode"
	ip -n "$(lab_ns lb)" addr del "$VIP4/32" dev eth0 2>/dev/null || true
	ip -n "$(lab_ns lb)" addr del "$VIP6/128" dev eth0 2>/dev/null || true
	lab_add_lb lb2 || return 1
	# Both at once: an attach takes seconds here.
	for h in $HA_LBS; do
		ha_lb_start "$h" &
		pids+=($!)
	done
	for h in "${pids[@]}"; do wait "$h" || ok=0; done
	((ok)) || return 1
	if [[ $1 == vrrp ]]; then
		ha_keepalived_start lb 150 || return 1
		ha_keepalived_start lb2 100 || return 1
		ha_wait "$HA_WAIT_SECS" "one MASTER with the VIP, one BACKUP" ha_vrrp_master
		return
	fi
	ha_router_add || return 1
	for h in rt $HA_LBS; do
		ha_bird_start "$h" || return 1
	done
	for v in $(ha_vips 4) $(ha_vips 6); do
		# shellcheck disable=SC2086 # HA_LBS is a list
		ha_wait "$HA_WAIT_SECS" "router route to $v over $HA_LBS" \
			ha_nexthops_are "$v" $HA_LBS || return 1
	done
}

# ha_down: stop what ha_up started, delete rt, ext and lb2, remove the reals'
# routes to ext, put the VIPs back on lb's eth0 and make the client forget
# where it saw them. Never fails.
ha_down() {
	local dir f r
	dir=$(ha_dir)
	for f in "$dir"/*.pid; do
		[[ -e $f ]] || continue
		f=${f##*/}
		[[ $f == *.*.pid ]] || ha_kill "${f%.pid}"
	done
	for r in $HA_LBS; do
		[[ -e /var/run/netns/$(ha_ns "$r") ]] && ha_reals_cut "$r" off
		ha_lb_detach "$r"
	done
	for r in rt ext lb2; do
		if [[ -e /var/run/netns/$(ha_ns "$r") ]]; then
			# shellcheck disable=SC2046 # a list of pids
			_lab_kill_pids $(ip netns pids "$(ha_ns "$r")" 2>/dev/null)
			ip netns del "$(ha_ns "$r")" 2>/dev/null || true
		fi
	done
	for r in $(lab_reals); do
		[[ -e /var/run/netns/$(lab_ns "$r") ]] || continue
		ip -n "$(lab_ns "$r")" route del "$HA_EXT_NET4" 2>/dev/null || true
		ip -n "$(lab_ns "$r")" -6 route del "$HA_EXT_NET6" 2>/dev/null || true
	done
	if [[ -e /var/run/netns/$(lab_ns lb) ]]; then
		ip -n "$(lab_ns lb)" link set eth0 up 2>/dev/null || true
		ip -n "$(lab_ns lb)" addr replace "$VIP4/32" dev eth0 2>/dev/null || true
		ip -n "$(lab_ns lb)" addr replace "$VIP6/128" dev eth0 nodad 2>/dev/null || true
	fi
	if [[ -e /var/run/netns/$(lab_ns br) ]]; then
		ip -n "$(lab_ns br)" link set lb up 2>/dev/null || true
	fi
	# The client learnt lb2's MAC for the VIPs from its gratuitous ARP or NA:
	# let it ask again, and find lb.
	if [[ -e /var/run/netns/$(lab_ns client) ]]; then
		ip -n "$(lab_ns client)" neigh del "$VIP4" dev eth0 2>/dev/null || true
		ip -n "$(lab_ns client)" neigh del "$VIP6" dev eth0 2>/dev/null || true
	fi
	rm -rf "$dir"
	return 0
}
