#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tests/pkg/run.sh - packaging and documentation: the generated files are
# fresh, the man page renders without a warning, every command of the
# command table is documented, the bash completion completes, and `make
# install` / `make uninstall` lay out and remove the tree.
#
#   tests/pkg/run.sh [TEST...]      (from anywhere; builds with make first)
#
# Output: one line per test, `PASS name`, `FAIL name: reason` or `SKIP name:
# reason`, then `pkg: N passed, N failed, N skipped`; exit status non-zero
# iff something failed. Needs no root and no namespaces (install writes
# only below a temporary DESTDIR).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$REPO" || exit 1
PYTHON=${PYTHON:-python3}
GENDOC=(scripts/gendoc.py)
SRC=doc/xdplb.8.md
TMP=$(mktemp -d /tmp/xdplb-pkg.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

N_PASS=0 N_FAIL=0 N_SKIP=0
# Each test prints its failure reason on stdout and returns 1, or returns 3
# after printing a skip reason.
run_test() {
	local name=$1 out rc
	out=$("test_$name" 2>&1)
	rc=$?
	case $rc in
	0) echo "PASS $name"; N_PASS=$((N_PASS + 1)) ;;
	3) echo "SKIP $name: $out"; N_SKIP=$((N_SKIP + 1)) ;;
	*) echo "FAIL $name: $(tr '\n' ' ' <<<"$out" | sed 's/ *$//')"; N_FAIL=$((N_FAIL + 1)) ;;
	esac
}

gendoc() { "$PYTHON" "${GENDOC[@]}" "$@"; }

# README's block and the completion's tables are what the source makes.
test_docs_fresh() {
	gendoc readme --check "$SRC" README.md || return 1
	gendoc completion --check "$SRC" completions/xdplb.bash || return 1
}

# The man page has its sections and renders without a warning.
test_man_page() {
	local out s
	out=$(groff -man -ww -z build/xdplb.8 2>&1)
	[[ -z $out ]] || { echo "groff: $out"; return 1; }
	if command -v mandoc >/dev/null; then
		out=$(mandoc -Tlint -Wwarning build/xdplb.8 2>&1)
		[[ -z $out ]] || { echo "mandoc: $out"; return 1; }
	fi
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		grep -qx "\\.SH $s" build/xdplb.8 || { echo "no section $s"; return 1; }
	done
	out=$(MANWIDTH=80 man -l build/xdplb.8 2>&1 >/dev/null)
	[[ -z $out ]] || { echo "man -l: $out"; return 1; }
	# The examples hold captured output, not just the commands.
	grep -q '^  \\-> 198\.18\.0\.11 ' build/xdplb.8 || { echo "EXAMPLES lack list output"; return 1; }
}

# The command table of user/cli/main.c and the documented commands are the same
# set, each with its subsection in the man page and its line in `help`.
test_commands_documented() {
	local code doc c help
	code=$(sed -n 's/^\t{ "\([a-z-]*\)", do_[a-z_]*,.*/\1/p' user/cli/main.c | sort)
	doc=$(gendoc commands "$SRC" | sort)
	[[ -n $code ]] || { echo "cannot read the command table of user/cli/main.c"; return 1; }
	[[ $code == "$doc" ]] || {
		echo "user/cli/main.c and $SRC differ: $(diff <(echo "$code") <(echo "$doc") | grep '^[<>]' | tr '\n' ' ')"
		return 1
	}
	help=$(build/xdplb help)
	# The source spells out the default pin dir that user/cli/cmd.h defines.
	c=$(sed -n 's/^#define DEFAULT_PIN_DIR[[:space:]]*"\(.*\)"$/\1/p' user/cli/cmd.h)
	grep -qF "(default $c)" <<<"$help" ||
		{ echo "help does not give the default pin dir '$c' of user/cli/cmd.h"; return 1; }
	for c in $doc; do
		grep -qxF ".SS ${c//-/\\-}" build/xdplb.8 || { echo "no '.SS $c' in the man page"; return 1; }
		grep -q "^  $c\\b" <<<"$help" || { echo "'xdplb help' has no line for $c"; return 1; }
	done
}

# Completion: source the script, complete a few command lines against a
# stub xdplb whose `-j list` is fixed.
test_completion() {
	local stub=$TMP/xdplb
	cat >"$stub" <<-'EOF'
	#!/bin/sh
	[ "$1 $2 $3 $4" = "--pin-dir /p -j list" ] || exit 1
	echo '{"interface":"eth0","services":[{"vip":"198.18.0.100:80/tcp","address":"198.18.0.100","reals":[{"address":"198.18.0.11"},{"address":"198.18.0.12"}]},{"vip":"[fd00:18::100]:53/udp","address":"fd00:18::100","reals":[{"address":"fd00:18::11"}]}]}'
	EOF
	chmod +x "$stub"
	touch "$TMP/lb.conf"
	# shellcheck disable=SC2016 # expanded by the inner bash
	bash -c '
		source completions/xdplb.bash || exit 1
		x=$1
		fails=0
		t() {
			COMP_LINE=$1 COMP_POINT=${#1}
			_xdplb
			if [[ "${COMPREPLY[*]}" != "$2" ]]; then
				echo "[$1] completes to [${COMPREPLY[*]}], want [$2]"
				fails=1
			fi
		}
		t "$x add-r" "add-real"
		t "$x s" "set-vip set-real stats save"
		t "$x --pin-dir /p -" "--pin-dir -j --json -v --verbose -V --version -h --help"
		t "$x stats --" "--interval --count"
		t "$x add-vip 1.2.3.4:80 --c" "--check"
		t "$x add-vip 1.2.3.4:80 --check " "tcp http: exec: none"
		t "$x attach lo --mode " "native generic"
		t "$x attach lo --vip 1.2.3.4:80 --hash " "5tuple src-ip"
		t "$x detach l" "lo"
		t "$x --pin-dir /p add-real --vip " "198.18.0.100:80/tcp [fd00:18::100]:53/udp"
		t "$x --pin-dir /p del-real --vip 198.18.0.100:80 " "198.18.0.11 198.18.0.12"
		t "$x --pin-dir /p set-r --vip [fd00:18::100]:53/udp fd00:18::" "11"
		t "$x --pin-dir /p conns --vip [fd00:18::100]:" "53/udp"
		t "$x --pin-dir /p del-real --vip 198.18.0.100:80 198.18.0.11 " ""
		t "$x restore $2/lb.c" "$2/lb.conf"
		t "$x daemon --config $2/lb" "$2/lb.conf"
		t "$x ad --" ""
		exit $fails
	' completion "$stub" "$TMP"
}

# make install into a DESTDIR lays out the tree; make uninstall empties it.
test_install() {
	local d=$TMP/root f out
	out=$(make -s install DESTDIR="$d" PREFIX=/usr 2>&1) || { echo "make install: $out"; return 1; }
	for f in usr/sbin/xdplb usr/share/man/man8/xdplb.8.gz \
		usr/share/bash-completion/completions/xdplb \
		usr/lib/systemd/system/xdplb.service \
		usr/lib/systemd/system/xdplb-exporter.service usr/lib/xdplb/xdplb-alive \
		usr/lib/xdplb/keepalived-notify usr/share/xdplb/keepalived.conf.in \
		usr/share/xdplb/bird-lb.conf.in; do
		[[ -f $d/$f ]] || { echo "no $f: $(cd "$d" && find . -type f | tr '\n' ' ')"; return 1; }
	done
	[[ -x $d/usr/sbin/xdplb && -x $d/usr/lib/xdplb/xdplb-alive ]] || { echo "not executable"; return 1; }
	out=$("$d/usr/sbin/xdplb" help | head -1)
	[[ $out == "Usage: xdplb "* ]] || { echo "installed xdplb help: $out"; return 1; }
	out=$(zcat "$d/usr/share/man/man8/xdplb.8.gz" | groff -man -ww -z 2>&1) ||
		{ echo "man page: $out"; return 1; }
	# grep reads it all: with -q it would stop at the match, and zcat die
	# of SIGPIPE (pipefail) once the page outgrows a pipe's buffer.
	zcat "$d/usr/share/man/man8/xdplb.8.gz" | grep '^\.TH XDPLB 8' >/dev/null ||
		{ echo "man page has no .TH"; return 1; }
	grep -qx 'ExecStart=/usr/sbin/xdplb daemon --config /etc/xdplb/xdplb.conf' \
		"$d/usr/lib/systemd/system/xdplb.service" ||
		{ echo "unit: $(grep ExecStart "$d/usr/lib/systemd/system/xdplb.service")"; return 1; }
	grep -qx 'ExecStart=/usr/sbin/xdplb exporter --listen 127.0.0.1:9100' \
		"$d/usr/lib/systemd/system/xdplb-exporter.service" ||
		{ echo "exporter unit: $(grep ExecStart "$d/usr/lib/systemd/system/xdplb-exporter.service")"; return 1; }
	grep -q /usr/local "$d"/usr/lib/systemd/system/xdplb*.service && { echo "a unit names /usr/local"; return 1; }
	if command -v systemd-analyze >/dev/null; then
		out=$(systemd-analyze verify --man=no "$d"/usr/lib/systemd/system/xdplb*.service 2>&1 |
			grep -v "xdplb.*Command .* is not executable\|No such file or directory") &&
			{ echo "systemd-analyze verify: $out"; return 1; }
	fi
	bash -n "$d/usr/share/bash-completion/completions/xdplb" || { echo "completion: bad syntax"; return 1; }

	out=$(make -s uninstall DESTDIR="$d" PREFIX=/usr 2>&1) || { echo "make uninstall: $out"; return 1; }
	out=$(find "$d" -type f)
	[[ -z $out ]] || { echo "left after uninstall: $(tr '\n' ' ' <<<"$out")"; return 1; }
}

TESTS=(docs_fresh man_page commands_documented completion install)
(($# == 0)) || TESTS=("$@")
if ! out=$(make -s all 2>&1); then
	echo "FAIL setup: make: $(tail -n 1 <<<"$out")"
	for t in "${TESTS[@]}"; do echo "SKIP $t: setup failed"; done
	echo "pkg: 0 passed, 1 failed, ${#TESTS[@]} skipped"
	exit 1
fi
for t in "${TESTS[@]}"; do
	run_test "$t"
done
echo "pkg: $N_PASS passed, $N_FAIL failed, $N_SKIP skipped"
((N_FAIL == 0))
