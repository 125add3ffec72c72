# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# bash completion for xdplb(8): commands, each command's options, and their
# arguments: VIPs and real addresses of the running instance (`xdplb -j
# list`, of the --pin-dir given on the line), interfaces, files, choices.
#
# The tables below are generated from doc/xdplb.8.md (`make docs`), so a
# command described there completes without a change here; what a METAVAR
# completes to is decided in _xdplb_arg_words. Needs no bash-completion
# helpers (bash 4.2 or later).

# BEGIN generated from doc/xdplb.8.md by `make docs`: do not edit
_xdplb_commands='attach detach upgrade version add-vip set-vip del-vip add-real set-real del-real list stats conns flow save restore verify daemon exporter passwd real-setup check-real help'
# Options of each command (and of xdplb itself), positional
# METAVARs, options' arguments (a METAVAR or choices a|b; by
# [COMMAND:]OPTION) and the words of METAVARs defined as choices.
declare -gA _xdplb_opts=() _xdplb_pos=() _xdplb_arg=() _xdplb_words=()
_xdplb_opts[xdplb]='--pin-dir -j --json -v --verbose -V --version -h --help'
_xdplb_opts[attach]='--vip --mode --table-size --conn-table-size --conn-rate --tcp-timeout --udp-timeout --hash --ops'
_xdplb_pos[attach]='IFNAME'
_xdplb_opts[detach]='--force'
_xdplb_pos[detach]='IFNAME'
_xdplb_opts[upgrade]='--dry-run'
_xdplb_pos[upgrade]='IFNAME'
_xdplb_opts[version]=''
_xdplb_opts[add-vip]='--table-size --hash --ops --check --interval --timeout --rise --fall --quorum'
_xdplb_pos[add-vip]='VIP'
_xdplb_opts[set-vip]='--no-ops --table-size --hash --ops --check --interval --timeout --rise --fall --quorum'
_xdplb_pos[set-vip]='VIP'
_xdplb_opts[del-vip]=''
_xdplb_pos[del-vip]='VIP'
_xdplb_opts[add-real]='--vip --weight --mac --sorry'
_xdplb_pos[add-real]='REAL'
_xdplb_opts[set-real]='--vip --weight'
_xdplb_pos[set-real]='REAL'
_xdplb_opts[del-real]='--vip'
_xdplb_pos[del-real]='REAL'
_xdplb_opts[list]=''
_xdplb_opts[stats]='--interval --count'
_xdplb_opts[conns]='--vip'
_xdplb_opts[flow]='--vip'
_xdplb_pos[flow]='CLIENT'
_xdplb_opts[save]=''
_xdplb_opts[restore]='--remove-all'
_xdplb_pos[restore]='FILE'
_xdplb_opts[verify]='--repair'
_xdplb_opts[daemon]='--config --announce --bird-vips --bird-reload --listen --sync --sync-peer --sync-key --console --users --tls-cert --tls-key --console-insecure'
_xdplb_opts[exporter]='--listen'
_xdplb_opts[passwd]='--users --role --delete'
_xdplb_pos[passwd]='USER'
_xdplb_opts[real-setup]='--persist --root --state'
_xdplb_pos[real-setup]='VIPADDR'
_xdplb_opts[check-real]='--vip'
_xdplb_opts[help]=''
_xdplb_arg[--pin-dir]='DIR'
_xdplb_arg[--vip]='VIP'
_xdplb_arg[--mode]='native|generic'
_xdplb_arg[--table-size]='PRIME'
_xdplb_arg[--conn-table-size]='N'
_xdplb_arg[--conn-rate]='N'
_xdplb_arg[--tcp-timeout]='SEC'
_xdplb_arg[--udp-timeout]='SEC'
_xdplb_arg[--hash]='5tuple|src-ip'
_xdplb_arg[--check]='CHECK'
_xdplb_arg[--interval]='SEC'
_xdplb_arg[--timeout]='SEC'
_xdplb_arg[--rise]='N'
_xdplb_arg[--fall]='N'
_xdplb_arg[--quorum]='N'
_xdplb_arg[--weight]='W'
_xdplb_arg[--mac]='MAC'
_xdplb_arg[--count]='N'
_xdplb_arg[--config]='FILE'
_xdplb_arg[--announce]='IFNAME'
_xdplb_arg[--bird-vips]='FILE'
_xdplb_arg[--bird-reload]='CMD'
_xdplb_arg[--listen]='LISTEN'
_xdplb_arg[--sync]='SYNCADDR'
_xdplb_arg[--sync-peer]='SYNCADDR'
_xdplb_arg[--sync-key]='FILE'
_xdplb_arg[--console]='LISTEN'
_xdplb_arg[--users]='FILE'
_xdplb_arg[--tls-cert]='FILE'
_xdplb_arg[--tls-key]='FILE'
_xdplb_arg[--role]='admin|viewer'
_xdplb_arg[--root]='ROOT'
_xdplb_arg[--state]='STATE'
_xdplb_words[CHECK]='tcp http: exec: none'
# END generated

# _xdplb_instance XDPLB [--pin-dir DIR]: one line per service of the
# instance: its VIP, then its reals' addresses.
_xdplb_instance() {
	local json line vip reals out
	json=$("$@" -j list 2>/dev/null) || return 0
	json=${json//'{"vip":"'/$'\n'}
	while IFS= read -r line; do
		[[ $line == *'"reals":'* ]] || continue
		vip=${line%%'"'*}
		out=$vip
		reals=${line#*'"reals":'}
		while [[ $reals =~ \"address\":\"([^\"]*)\" ]]; do
			out+=" ${BASH_REMATCH[1]}"
			reals=${reals#*"${BASH_REMATCH[0]}"}
		done
		printf '%s\n' "$out"
	done <<<"$json"
}

# _xdplb_arg_words METAVAR: the words that may stand for METAVAR (FILE and
# DIR are _xdplb's). Uses xdplb and vip of _xdplb.
_xdplb_arg_words() {
	local m=$1 line
	case $m in
	*'|'*)
		printf '%s\n' "${m//|/ }"
		;;
	VIP | REAL)
		while read -r -a line; do
			if [[ $m == VIP ]]; then
				printf '%s\n' "${line[0]}"
			elif [[ -z $vip || $vip == "${line[0]}" || $vip/tcp == "${line[0]}" ]]; then
				printf '%s\n' "${line[@]:1}"
			fi
		done < <(_xdplb_instance "${xdplb[@]}")
		;;
	IFNAME)
		ls /sys/class/net 2>/dev/null
		;;
	*)
		[[ -n ${_xdplb_words[$m]:-} ]] && printf '%s\n' "${_xdplb_words[$m]}"
		;;
	esac
}

# The command line is split here, on blanks only: bash also breaks words at
# ':' (COMP_WORDBREAKS), which VIPs and IPv6 addresses are full of.
_xdplb() {
	local line=${COMP_LINE:0:COMP_POINT} cur cmd="" expect="" eopt="" vip=""
	local -a words xdplb pos
	local i w c m n=0 arg="" words_out=""
	COMPREPLY=()
	read -r -a words <<<"$line"
	[[ -z $line || $line =~ [[:space:]]$ ]] && words+=("")
	cur=${words[-1]}
	xdplb=("${words[0]}")
	for ((i = 1; i < ${#words[@]} - 1; i++)); do
		w=${words[i]}
		if [[ -n $expect ]]; then
			[[ $eopt == --pin-dir ]] && xdplb+=(--pin-dir "$w")
			[[ $eopt == --vip ]] && vip=$w
			expect=""
		elif [[ $w == -* ]]; then
			c=${cmd:-xdplb}:$w
			[[ -n ${_xdplb_arg[$c]+set} ]] || c=$w
			expect=${_xdplb_arg[$c]:-}
			eopt=$w
		elif [[ -z $cmd ]]; then
			# The name, or an unambiguous prefix of one.
			m=0
			for c in $_xdplb_commands; do
				if [[ $c == "$w" ]]; then
					cmd=$c m=1
					break
				fi
				[[ $c == "$w"* ]] && cmd=$c m=$((m + 1))
			done
			((m == 1)) || return 0
		else
			n=$((n + 1))
		fi
	done

	if [[ -n $expect ]]; then
		arg=$expect
	elif [[ $cur == -* ]]; then
		words_out=${_xdplb_opts[${cmd:-xdplb}]:-}
	elif [[ -z $cmd ]]; then
		words_out=$_xdplb_commands
	else
		read -r -a pos <<<"${_xdplb_pos[$cmd]:-}"
		((n < ${#pos[@]})) && arg=${pos[n]}
	fi
	case $arg in
	FILE | DIR)
		compopt -o filenames 2>/dev/null
		[[ $arg == FILE ]] && c=-f || c=-d
		mapfile -t COMPREPLY < <(compgen "$c" -- "$cur")
		return 0
		;;
	?*) words_out=$(_xdplb_arg_words "$arg") ;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$words_out" -- "$cur")
	# A choice that goes on (http:PATH) takes no space after it.
	if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *: ]]; then
		compopt -o nospace 2>/dev/null
	fi
	# Bash replaces only the part of the word after its last ':'.
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		COMPREPLY=("${COMPREPLY[@]#"${cur%:*}":}")
	fi
	return 0
}

complete -F _xdplb xdplb
