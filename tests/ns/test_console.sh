# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# test_console.sh - xdplb daemon --console and xdplb passwd: the API with
# curl (401 without credentials, 403 for a viewer's change and for a cookie
# change without its CSRF token, 428/412 for PUT without or with a stale
# ETag, 400 naming the bad line with nothing changed, 429 after failed
# logins, 503 while another process holds the lock), an admin's change
# reaching the data path (curl through the VIP from the client) and the
# file, surviving SIGHUP and a restart, two admins racing (one gets 412),
# exec checks neither set by the console nor shown to viewers, TLS and the
# loopback-only rule, the users file, wrong logins from many addresses
# that neither stall the health checks nor /metrics; and the page in
# headless Chromium
# driven by playwright-core (tests/browser/console.test.js): log in, add a
# service and three reals, activate them, curl through the VIP; deactivate
# one, new connections avoid it; screenshots in build/test-output/console/.
# Sourced by run.sh (helpers and variables are defined there; the daemon's
# in test_daemon.sh).

ns_tests+=(console_api console_change console_restart console_race console_lock console_tls
	console_passwd console_flood console_browser)

CON_PORT=8080 # the LB namespace is the test's own: fixed ports are free
CON_URL=http://127.0.0.1:$CON_PORT
CON_OUT=${XDPLB_TEST_OUT:-$REPO/build/test-output}/console
CON_PW_ALICE=alice-pass-1
CON_PW_BOB=bob-pass-22
CON_PW_VIC=viewer-pass-3

# con_users: a users file (CON_USERS) with alice and bob (admins) and vic
# (a viewer).
con_users() {
	CON_USERS=$T_TMP/users-$T_NAME
	rm -f "$CON_USERS"
	printf '%s\n' "$CON_PW_ALICE" | "$XDPLB" passwd --users "$CON_USERS" alice --role admin >/dev/null &&
		printf '%s\n' "$CON_PW_BOB" | "$XDPLB" passwd --users "$CON_USERS" bob --role admin >/dev/null &&
		printf '%s\n' "$CON_PW_VIC" | "$XDPLB" passwd --users "$CON_USERS" vic >/dev/null ||
		fail "passwd could not make the users file"
}

# con_start CONF [ARGS...]: the daemon on CONF with the console on
# CON_URL (users CON_USERS); returns once the console answers.
con_start() {
	local f=$1 i
	shift
	daemon_start "$f" --console "127.0.0.1:$CON_PORT" --users "$CON_USERS" "$@"
	for ((i = 0; i < 50; i++)); do
		lb_ns_exec curl -s -o /dev/null -m 1 "$CON_URL/" && return 0
		sleep 0.1
	done
	fail "the console does not answer: $(tail -n 3 "$DAEMON_LOG")"
}

# con_fresh CONF HOST...: a fresh instance, CONF with VIP4:80 and these
# reals (no check), the daemon and its console on it.
con_fresh() {
	local f=$1 h lines=()
	shift
	for h in "$@"; do lines+=("$(lab_ip4 "$h")"); done
	lb_fresh "$VIP4:80"
	daemon_conf "$f" "" "${lines[@]}"
	con_users
	con_start "$f"
}

# capi ARGS...: curl to the console in the LB namespace; prints the status
# code, the body in CB, the head in CH.
CB=${T_TMP:-}/cbody CH=${T_TMP:-}/chead
capi() {
	lb_ns_exec curl -sS -m 10 -o "$CB" -D "$CH" -w '%{http_code}' "$@" 2>"$T_TMP/cerr" ||
		echo "curl-failed:$(cat "$T_TMP/cerr")"
}

# expect_api CODE WHAT ARGS...: capi ARGS, fail unless it answers CODE.
expect_api() {
	local want=$1 what=$2 got
	shift 2
	got=$(capi "$@")
	[[ $got == "$want" ]] || fail "$what: HTTP $got, expected $want: $(head -c 300 "$CB" 2>/dev/null)"
}

# hdr NAME: the value of header NAME in CH.
hdr() { tr -d '\r' <"$CH" | sed -n "s/^$1: *//Ip" | head -n 1; }

# etag: the ETag of GET /api/v1/config (as alice).
etag() {
	expect_api 200 "GET config" -u "alice:$CON_PW_ALICE" "$CON_URL/api/v1/config"
	hdr ETag
}

# post AS LINES: POST LINES to /api/v1/config with HTTP Basic AS
# (user:password); prints the status.
post() { capi -u "$1" -X POST --data-binary "$2" "$CON_URL/api/v1/config"; }

A_ALICE="alice:$CON_PW_ALICE"
A_BOB="bob:$CON_PW_BOB"
A_VIC="vic:$CON_PW_VIC"

# Without credentials 401; a viewer reads but cannot change (403), and sees
# exec checks without their command; a session cookie (HttpOnly,
# SameSite=Strict) changes only with its CSRF token; the page's headers
# forbid inline script and frames; --listen keeps /metrics without a login;
# a Host other than loopback's is refused (DNS rebinding);
# logout ends the session; failed logins get 429 with Retry-After.
test_console_api() {
	local conf=$T_TMP/api.conf jar=$T_TMP/jar csrf p wait code
	lb_fresh "$VIP4:80"
	{
		echo "add-vip $VIP4:80"
		echo "add-real --vip $VIP4:80 $(lab_ip4 r1)"
		echo "add-vip $VIP4:81 --check 'exec:/bin/true --token s3cr3t'"
	} >"$conf"
	con_users
	con_start "$conf" --listen 127.0.0.1:9104

	for p in status config events session inactive; do
		expect_api 401 "GET $p without credentials" "$CON_URL/api/v1/$p"
	done
	[[ $(hdr WWW-Authenticate) == Basic* ]] || fail "401 without WWW-Authenticate: $(cat "$CH")"
	expect_api 401 "the page's own request" -H 'X-Requested-With: x' "$CON_URL/api/v1/status"
	[[ -z $(hdr WWW-Authenticate) ]] || fail "WWW-Authenticate to the page (a browser dialog)"
	expect_api 401 "POST config without credentials" -X POST --data-binary "del-vip $VIP4:80" \
		"$CON_URL/api/v1/config"
	expect_api 401 "a wrong password" -u "alice:nope" "$CON_URL/api/v1/status"
	expect_api 401 "an unknown user" -u "mallory:$CON_PW_ALICE" "$CON_URL/api/v1/status"
	[[ $(jget "$(xlb -j list)" "svc(d, '$VIP4:80/tcp') is not None") == true ]] ||
		fail "a refused change changed something"

	# A console on loopback answers loopback's names only (DNS rebinding).
	expect_api 403 "another site's Host" -u "$A_VIC" -H "Host: rebind.example:$CON_PORT" \
		"$CON_URL/api/v1/status"
	grep -q "loopback address only" "$CB" || fail "403 does not say why: $(cat "$CB")"
	expect_api 403 "a login for another site's Host" -H "Host: rebind.example:$CON_PORT" \
		-H "Origin: http://rebind.example:$CON_PORT" -H 'Content-Type: application/json' \
		--data "{\"user\":\"vic\",\"password\":\"$CON_PW_VIC\"}" "$CON_URL/api/v1/login"
	expect_api 200 "Host localhost" -u "$A_VIC" -H "Host: localhost:$CON_PORT" "$CON_URL/api/v1/status"
	expect_api 200 "Host [::1]" -u "$A_VIC" -H "Host: [::1]:$CON_PORT" "$CON_URL/api/v1/status"

	# A viewer.
	expect_api 200 "a viewer's status" -u "$A_VIC" "$CON_URL/api/v1/status"
	jget "$(cat "$CB")" "reals(d, '$VIP4:80/tcp')['$(lab_ip4 r1)']['flows']" >/dev/null ||
		fail "status without tracked flows: $(cat "$CB")"
	! grep -q s3cr3t "$CB" || fail "the status shows an exec command: $(cat "$CB")"
	expect_api 200 "a viewer's config" -u "$A_VIC" "$CON_URL/api/v1/config"
	! grep -q s3cr3t "$CB" || fail "a viewer sees the exec command: $(cat "$CB")"
	grep -q "exec:(not shown)" "$CB" || fail "a viewer's config: $(cat "$CB")"
	expect_api 403 "a viewer's POST" -u "$A_VIC" -X POST --data-binary "del-vip $VIP4:80" \
		"$CON_URL/api/v1/config"
	grep -q "viewer" "$CB" || fail "403 does not say why: $(cat "$CB")"
	expect_api 403 "a viewer's PUT" -u "$A_VIC" -X PUT -H 'If-Match: *' --data-binary "" \
		"$CON_URL/api/v1/config"
	expect_api 200 "an admin's config" -u "$A_ALICE" "$CON_URL/api/v1/config"
	grep -q "exec:/bin/true --token s3cr3t" "$CB" || fail "an admin does not see the exec command: $(cat "$CB")"

	# A session.
	expect_api 200 "login" -c "$jar" -H 'Content-Type: application/json' \
		--data "{\"user\":\"alice\",\"password\":\"$CON_PW_ALICE\"}" "$CON_URL/api/v1/login"
	p=$(hdr Set-Cookie)
	[[ $p == xdplb_session=*HttpOnly* && $p == *SameSite=Strict* && $p != *Secure* ]] ||
		fail "session cookie: $p"
	csrf=$(jget "$(cat "$CB")" "d['csrf']")
	[[ ${#csrf} == 64 ]] || fail "login answer: $(cat "$CB")"
	expect_api 403 "a cookie change without X-CSRF-Token" -b "$jar" -X POST \
		--data-binary "set-real --vip $VIP4:80 $(lab_ip4 r1) --weight 2" "$CON_URL/api/v1/config"
	grep -q "X-CSRF-Token" "$CB" || fail "403 does not say why: $(cat "$CB")"
	expect_api 403 "a cookie change with a wrong token" -b "$jar" -H "X-CSRF-Token: ${csrf//[0-9]/a}" -X POST \
		--data-binary "set-real --vip $VIP4:80 $(lab_ip4 r1) --weight 2" "$CON_URL/api/v1/config"
	[[ $(real_weight r1) == 1 ]] || fail "a refused change changed the weight"
	expect_api 403 "a change from another origin" -u "$A_ALICE" -H 'Origin: http://evil.example' -X POST \
		--data-binary "set-real --vip $VIP4:80 $(lab_ip4 r1) --weight 2" "$CON_URL/api/v1/config"
	expect_api 403 "a change a browser says is cross-site" -b "$jar" -H "X-CSRF-Token: $csrf" \
		-H 'Sec-Fetch-Site: cross-site' -X POST \
		--data-binary "set-real --vip $VIP4:80 $(lab_ip4 r1) --weight 2" "$CON_URL/api/v1/config"
	expect_api 415 "a login that is not JSON" --data "user=alice&password=$CON_PW_ALICE" \
		"$CON_URL/api/v1/login"
	expect_api 200 "a cookie change with its token" -b "$jar" -H "X-CSRF-Token: $csrf" -X POST \
		-H "Origin: http://127.0.0.1:$CON_PORT" -H 'Sec-Fetch-Site: same-origin' \
		--data-binary "set-real --vip $VIP4:80 $(lab_ip4 r1) --weight 2" "$CON_URL/api/v1/config"
	[[ $(real_weight r1) == 2 ]] || fail "the change did not reach the instance"
	grep -q "console: alice: + add-real --vip $VIP4:80/tcp $(lab_ip4 r1) --weight 2" "$DAEMON_LOG" ||
		fail "the change is not logged with its user: $(grep console "$DAEMON_LOG")"

	# The page and its headers.
	expect_api 200 "the page" "$CON_URL/"
	p=$(hdr Content-Security-Policy)
	[[ $p == *"script-src 'self'"* && $p != *unsafe-inline* && $p == *"frame-ancestors 'none'"* ]] ||
		fail "Content-Security-Policy: $p"
	[[ $(hdr X-Frame-Options) == DENY ]] || fail "X-Frame-Options: $(hdr X-Frame-Options)"
	grep -q '<script src="/console.js"' "$CB" || fail "the page does not load its script"
	! grep -q '<script>' "$CB" || fail "the page has an inline script"
	expect_api 200 "the script" "$CON_URL/console.js"
	[[ $(hdr Content-Type) == text/javascript* ]] || fail "console.js: $(hdr Content-Type)"
	expect_api 404 "/metrics on the console" "$CON_URL/metrics"
	code=$(lb_ns_exec curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9104/metrics)
	[[ $code == 200 ]] || fail "--listen's /metrics answers $code beside the console"

	expect_api 200 "logout" -b "$jar" -c "$jar" -H "X-CSRF-Token: $csrf" -X POST "$CON_URL/api/v1/logout"
	expect_api 401 "the session after logout" -b "$jar" "$CON_URL/api/v1/session"

	# Failed logins: 5 within a minute, then 429, even for the right
	# password, until Retry-After has passed.
	for ((p = 0; p < 5; p++)); do
		expect_api 401 "bad login $p" -H 'Content-Type: application/json' \
			--data '{"user":"alice","password":"guess"}' "$CON_URL/api/v1/login"
	done
	expect_api 429 "a login after 5 failures" -H 'Content-Type: application/json' \
		--data "{\"user\":\"alice\",\"password\":\"$CON_PW_ALICE\"}" "$CON_URL/api/v1/login"
	wait=$(hdr Retry-After)
	[[ $wait =~ ^[0-9]+$ ]] || fail "Retry-After: '$wait'"
	((wait >= 1 && wait <= 5)) || fail "Retry-After: $wait, expected 1..5"
	# (Basic credentials verified within the last minute are not checked
	# again, so a script of the same address goes on; new ones wait.)
	expect_api 429 "HTTP Basic while refused" -u "$A_BOB" "$CON_URL/api/v1/status"
	expect_api 200 "HTTP Basic verified before" -u "$A_VIC" "$CON_URL/api/v1/status"
	sleep "$wait"
	expect_api 200 "a login once Retry-After passed" -H 'Content-Type: application/json' \
		--data "{\"user\":\"alice\",\"password\":\"$CON_PW_ALICE\"}" "$CON_URL/api/v1/login"
	grep -q "5 failed logins from 127.0.0.1: refused for 5 s" "$DAEMON_LOG" ||
		fail "the refusal is not logged: $(grep console "$DAEMON_LOG" | tail -n 3)"
	! grep -q "$CON_PW_ALICE\|guess" "$DAEMON_LOG" || fail "a password in the log"
	daemon_alive
}

# An admin's change reaches the data path (curl through the VIP from the
# client) and the file; deactivate/activate drain and restore a real; PUT
# needs a fresh ETag (428, 412); a bad line is 400 naming it, all or
# nothing; an empty PUT and a NUL byte are refused; a file that cannot be
# written changes nothing; no exec check.
test_console_change() {
	local conf=$T_TMP/change.conf t sum before code
	con_fresh "$conf" r1 r2
	t=$(curl_burst 10 "http://$VIP4/")
	expect_dist "$t" --total 10 --allowed r1,r2

	code=$(post "$A_ALICE" "add-real --vip $VIP4:80 $(lab_ip4 r3) --weight 2")
	[[ $code == 200 ]] || fail "POST add-real: $code $(cat "$CB")"
	[[ $(jget "$(cat "$CB")" "d['reals']['added']") == 1 ]] || fail "POST answer: $(cat "$CB")"
	grep -qx "add-real --vip $VIP4:80/tcp $(lab_ip4 r3) --weight 2" "$conf" ||
		fail "the file does not have the new real: $(cat "$conf")"
	[[ ! -e $conf.tmp ]] || fail "$conf.tmp left behind"
	t=$(curl_burst 40 "http://$VIP4/")
	expect_dist "$t" --total 40 --required r1,r2,r3

	# Deactivate: weight 0, no new flows; activate: the weight again.
	code=$(post "$A_ALICE" "deactivate --vip $VIP4:80 $(lab_ip4 r3)")
	[[ $code == 200 && $(real_weight r3) == 0 ]] || fail "deactivate: $code, weight $(real_weight r3)"
	grep -qx "# inactive --vip $VIP4:80/tcp $(lab_ip4 r3) --weight 2" "$conf" ||
		fail "the file does not remember r3's weight: $(cat "$conf")"
	t=$(curl_burst 30 "http://$VIP4/")
	expect_dist "$t" --total 30 --forbidden r3
	code=$(post "$A_ALICE" "activate --vip $VIP4:80 $(lab_ip4 r3)")
	[[ $code == 200 && $(real_weight r3) == 2 ]] || fail "activate: $code, weight $(real_weight r3)"
	! grep -q "^# inactive" "$conf" || fail "the file still says r3 is inactive: $(cat "$conf")"

	# PUT: If-Match needed, and current; a bad line changes nothing.
	before=$(xlb save)
	sum=$(sha256sum <"$conf")
	code=$(capi -u "$A_ALICE" -X PUT --data-binary "$before" "$CON_URL/api/v1/config")
	[[ $code == 428 ]] || fail "PUT without If-Match: $code $(cat "$CB")"
	code=$(capi -u "$A_ALICE" -X PUT -H "If-Match: $(etag)" --data-binary \
		"$(printf '%s\nadd-real --vip %s:80 %s --weight 5\nadd-real --vip %s:80 %s --weight 70000\n' \
			"add-vip $VIP4:80" "$VIP4" "$(lab_ip4 r1)" "$VIP4" "$(lab_ip4 r2)")" \
		"$CON_URL/api/v1/config")
	[[ $code == 400 && $(jget "$(cat "$CB")" "d['line']") == 3 ]] ||
		fail "PUT with a bad line 3: $code $(cat "$CB")"
	grep -q "weight '70000' out of range" "$CB" || fail "400 does not say why: $(cat "$CB")"
	[[ $(xlb save) == "$before" && $(sha256sum <"$conf") == "$sum" ]] ||
		fail "a PUT with a bad line changed something"
	code=$(post "$A_ALICE" "$(printf 'set-real --vip %s:80 %s --weight 9\ndel-real --vip %s:80 198.18.0.99\n' \
		"$VIP4" "$(lab_ip4 r1)" "$VIP4")")
	[[ $code == 400 && $(jget "$(cat "$CB")" "d['line']") == 2 ]] || fail "POST with a bad line 2: $code $(cat "$CB")"
	[[ $(xlb save) == "$before" && $(sha256sum <"$conf") == "$sum" ]] ||
		fail "a POST with a bad second line applied its first"
	# An empty PUT (a script's empty variable) would remove every
	# service; a NUL byte would hide the rest of its line: both 400.
	code=$(capi -u "$A_ALICE" -X PUT -H 'If-Match: *' --data-binary '' "$CON_URL/api/v1/config")
	[[ $code == 400 ]] || fail "an empty PUT: $code $(cat "$CB")"
	grep -q "declares no service" "$CB" || fail "the empty PUT's 400 does not say why: $(cat "$CB")"
	code=$(capi -u "$A_ALICE" -X POST --data-binary @<(printf 'set-real --vip %s:80 %s --weight 4\0 junk\n' \
		"$VIP4" "$(lab_ip4 r1)") "$CON_URL/api/v1/config")
	[[ $code == 400 && $(jget "$(cat "$CB")" "d['line']") == 1 ]] || fail "a NUL byte: $code $(cat "$CB")"
	grep -q "NUL byte" "$CB" || fail "the NUL's 400 does not say why: $(cat "$CB")"
	[[ $(xlb save) == "$before" && $(sha256sum <"$conf") == "$sum" ]] ||
		fail "an empty PUT or a NUL byte changed something"
	# The file cannot be written (its .tmp is taken by a directory): 500,
	# and the instance is as it was.
	mkdir "$conf.tmp"
	code=$(post "$A_ALICE" "set-real --vip $VIP4:80 $(lab_ip4 r1) --weight 9")
	rmdir "$conf.tmp"
	[[ $code == 500 ]] || fail "an unwritable file: $code $(cat "$CB")"
	grep -q "nothing changed" "$CB" || fail "500 does not say nothing changed: $(cat "$CB")"
	[[ $(xlb save) == "$before" && $(sha256sum <"$conf") == "$sum" ]] ||
		fail "a change whose file could not be written was applied"
	code=$(post "$A_ALICE" "set-vip $VIP4:80 --check 'exec:/bin/sh -c id'")
	[[ $code == 403 ]] || fail "an exec check set through the console: $code $(cat "$CB")"
	code=$(capi -u "$A_ALICE" -X PUT -H 'If-Match: "00000000000000000000000000000000"' \
		--data-binary "$before" "$CON_URL/api/v1/config")
	[[ $code == 412 ]] || fail "PUT with a stale ETag: $code $(cat "$CB")"
	code=$(capi -u "$A_ALICE" -X PUT -H "If-Match: $(etag)" \
		--data-binary "${before/"$(lab_ip4 r2) --weight 1"/"$(lab_ip4 r2) --weight 4"}" \
		"$CON_URL/api/v1/config")
	[[ $code == 200 && $(real_weight r2) == 4 ]] || fail "PUT: $code $(cat "$CB"), r2 weight $(real_weight r2)"
	[[ $(hdr ETag) == "$(etag)" ]] || fail "the PUT's ETag is not GET's"
	grep -qx "add-real --vip $VIP4:80/tcp $(lab_ip4 r2) --weight 4" "$conf" || fail "file after PUT: $(cat "$conf")"
	daemon_alive
}

# What the console changed, the daemon's SIGHUP sees as its own file (no
# diff), and a restart keeps (forwarding as before, the console working).
test_console_restart() {
	local conf=$T_TMP/restart.conf t before code
	con_fresh "$conf" r1 r2
	code=$(post "$A_ALICE" "$(printf 'add-real --vip %s:80 %s --weight 2\nset-real --vip %s:80 %s --weight 3\n' \
		"$VIP4" "$(lab_ip4 r3)" "$VIP4" "$(lab_ip4 r1)")")
	[[ $code == 200 ]] || fail "POST: $code $(cat "$CB")"
	kill -HUP "$DAEMON_PID"
	wait_log "reload: nothing to change" 3
	before=$(xlb save)
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	con_start "$conf"
	wait_log "start: nothing to change" 3
	[[ $(xlb save) == "$before" ]] || fail "a restart changed the configuration"
	t=$(curl_burst 40 "http://$VIP4/")
	expect_dist "$t" --total 40 --required r1,r2,r3
	code=$(post "$A_ALICE" "set-real --vip $VIP4:80 $(lab_ip4 r2) --weight 4")
	[[ $code == 200 && $(real_weight r2) == 4 ]] || fail "a change after the restart: $code $(cat "$CB")"
	daemon_alive
}

# Two admins PUT at once, both from the same ETag: one wins, the other gets
# 412, and the instance and the file are the winner's.
test_console_race() {
	local conf=$T_TMP/race.conf e base a b ca cb pa pb
	con_fresh "$conf" r1 r2
	e=$(etag)
	base=$(xlb save)
	a=${base/"$(lab_ip4 r1) --weight 1"/"$(lab_ip4 r1) --weight 3"}
	b=${base/"$(lab_ip4 r1) --weight 1"/"$(lab_ip4 r1) --weight 7"}
	# race WHO AUTH BODY: a PUT from the ETag e, in the background.
	race() {
		lb_ns_exec curl -sS -m 10 -o "$T_TMP/race-$1" -w '%{http_code}' -u "$2" -X PUT \
			-H "If-Match: $e" --data-binary "$3" "$CON_URL/api/v1/config" >"$T_TMP/race-$1.code"
	}
	race a "$A_ALICE" "$a" &
	pa=$!
	race b "$A_BOB" "$b" &
	pb=$!
	wait "$pa" "$pb"
	ca=$(<"$T_TMP/race-a.code") cb=$(<"$T_TMP/race-b.code")
	log "alice $ca, bob $cb"
	if [[ $ca == 200 && $cb == 412 ]]; then
		[[ $(real_weight r1) == 3 ]] || fail "alice won, but r1 has weight $(real_weight r1)"
		grep -q "$(lab_ip4 r1) --weight 3" "$conf" || fail "alice won, the file: $(cat "$conf")"
	elif [[ $ca == 412 && $cb == 200 ]]; then
		[[ $(real_weight r1) == 7 ]] || fail "bob won, but r1 has weight $(real_weight r1)"
		grep -q "$(lab_ip4 r1) --weight 7" "$conf" || fail "bob won, the file: $(cat "$conf")"
	else
		fail "two PUTs from one ETag: alice $ca ($(cat "$T_TMP/race-a")), bob $cb ($(cat "$T_TMP/race-b"))"
	fi
	grep -q "changed since that ETag" "$T_TMP/race-a" "$T_TMP/race-b" || fail "the 412 does not say why"
}

# Another process holds the pin directory's lock: a change is 503 with
# Retry-After and changes nothing, reading the status goes on, and the
# same change goes through once the lock is free. The daemon never waits.
test_console_lock() {
	local conf=$T_TMP/lock-c.conf lpid code t0 ms
	con_fresh "$conf" r1 r2
	(flock -x 9 && exec sleep 30) 9<"$PIN" &
	lpid=$!
	on_exit "kill $lpid"
	sleep 0.3
	flock -n "$PIN" true && fail "the lock is not taken"
	t0=$(date +%s%N)
	code=$(post "$A_ALICE" "set-real --vip $VIP4:80 $(lab_ip4 r1) --weight 5")
	ms=$((($(date +%s%N) - t0) / 1000000))
	[[ $code == 503 && $(hdr Retry-After) == 1 ]] || fail "a change while locked: $code $(cat "$CB")"
	((ms < 2000)) || fail "the console waited $ms ms for the lock"
	[[ $(real_weight r1) == 1 ]] || fail "a change while locked changed the weight"
	expect_api 200 "status while locked" -u "$A_VIC" "$CON_URL/api/v1/status"
	expect_api 503 "config while locked" -u "$A_VIC" "$CON_URL/api/v1/config"
	kill "$lpid"
	wait "$lpid" 2>/dev/null
	code=$(post "$A_ALICE" "set-real --vip $VIP4:80 $(lab_ip4 r1) --weight 5")
	[[ $code == 200 && $(real_weight r1) == 5 ]] || fail "the change once the lock is free: $code $(cat "$CB")"
	daemon_alive
}

# HTTPS with --tls-cert/--tls-key (the cookie then Secure), reached from the
# client; plain HTTP is refused on a non-loopback address unless
# --console-insecure.
test_console_tls() {
	local conf=$T_TMP/tls.conf d=$T_TMP/tls out rc code
	require_cmd openssl
	lb_fresh "$VIP4:80"
	daemon_conf "$conf" "" "$(lab_ip4 r1)"
	con_users
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-subj /CN=lb.test -addext subjectAltName=DNS:lb.test \
		-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null || fail "openssl req failed"
	chmod 600 "$d/key.pem"

	out=$(timeout 5 nsenter --net="$LB_NS" -- "$XDPLB" --pin-dir "$PIN" daemon --config "$conf" \
		--console "$LB_IP4:8443" --users "$CON_USERS" 2>&1)
	rc=$?
	[[ $rc == 1 && $out == *"loopback address only"* && $(wc -l <<<"$out") == 1 ]] ||
		fail "plain HTTP on $LB_IP4: exit $rc: $out"

	daemon_start "$conf" --console "$LB_IP4:8443" --users "$CON_USERS" \
		--tls-cert "$d/cert.pem" --tls-key "$d/key.pem"
	wait_log "web console on $LB_IP4:8443 (HTTPS)" 3
	code=$(client curl -sS -m 5 -D "$T_TMP/tls-head" -o "$T_TMP/tls-body" -w '%{http_code}' \
		--cacert "$d/cert.pem" --resolve "lb.test:8443:$LB_IP4" -H 'Content-Type: application/json' \
		--data "{\"user\":\"alice\",\"password\":\"$CON_PW_ALICE\"}" https://lb.test:8443/api/v1/login 2>&1)
	[[ $code == 200 ]] || fail "HTTPS login from the client: $code $(cat "$T_TMP/tls-body" 2>/dev/null)"
	grep -qi "^set-cookie: xdplb_session=.*; Secure" "$T_TMP/tls-head" ||
		fail "the cookie under TLS is not Secure: $(grep -i set-cookie "$T_TMP/tls-head")"
	code=$(client curl -s -m 3 -o /dev/null -w '%{http_code}' "http://$LB_IP4:8443/")
	[[ $code != 200 ]] || fail "plain HTTP answered on the TLS port"
	kill -TERM "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null

	daemon_start "$conf" --console "$LB_IP4:8080" --users "$CON_USERS" --console-insecure
	wait_log "web console on $LB_IP4:8080 (HTTP)" 3
	code=$(client curl -s -m 3 -o /dev/null -w '%{http_code}' -u "$A_VIC" "http://$LB_IP4:8080/api/v1/status")
	[[ $code == 200 ]] || fail "--console-insecure from the client: $code"
}

# passwd: the password from a pipe once, from a terminal twice; the file
# mode 0600 with Argon2id hashes; roles; --delete; bad input changes
# nothing. The daemon sees a user added, demoted or deleted at once; a
# password set again ends the user's sessions.
test_console_passwd() {
	local f=$T_TMP/pw-users conf=$T_TMP/pw.conf out rc sum jar=$T_TMP/pw-jar
	rm -f "$f"
	out=$(printf 'first-pass\n' | "$XDPLB" passwd --users "$f" ann 2>&1) || fail "passwd: $out"
	[[ $out == "added ann (viewer) in $f" ]] || fail "passwd said: $out"
	[[ $(stat -c %a "$f") == 600 ]] || fail "users file mode $(stat -c %a "$f")"
	grep -q '^ann:viewer:\$argon2id\$v=19\$' "$f" || fail "users file: $(cat "$f")"
	! grep -q first-pass "$f" || fail "the password is in the file"
	sum=$(sha256sum <"$f")
	out=$(printf 'short\n' | "$XDPLB" passwd --users "$f" ann 2>&1)
	rc=$?
	[[ $rc == 1 && $out == *"shorter than 8"* ]] || fail "a short password: $rc $out"
	out=$("$XDPLB" passwd --users "$f" 'a:b' </dev/null 2>&1)
	[[ $? == 2 && $out == *"bad user name"* ]] || fail "a bad name: $out"
	out=$("$XDPLB" passwd --users "$f" ann --role root </dev/null 2>&1)
	[[ $? == 2 ]] || fail "a bad role: $out"
	out=$("$XDPLB" passwd --users "$f" zed --delete 2>&1)
	[[ $? == 1 && $out == *"no user 'zed'"* ]] || fail "deleting an unknown user: $out"
	[[ $(sha256sum <"$f") == "$sum" ]] || fail "bad input changed the file"

	# On a terminal: twice, and the two must match.
	# (typed after each prompt, as a person would: what is typed ahead is
	# echoed before the echo is off.)
	out=$( (sleep 0.5; echo term-pass-1; sleep 0.3; echo term-pass-2; sleep 0.5) |
		script -qec "$XDPLB passwd --users $f tom" /dev/null 2>&1)
	[[ $out == *"differ"* ]] || fail "two different passwords on a terminal: $out"
	[[ $(sha256sum <"$f") == "$sum" ]] || fail "differing passwords changed the file"
	out=$( (sleep 0.5; echo term-pass-1; sleep 0.3; echo term-pass-1; sleep 1) |
		script -qec "$XDPLB passwd --users $f tom --role admin" /dev/null 2>&1)
	[[ $out == *"added tom (admin)"* ]] || fail "passwd on a terminal: $out"
	[[ $out != *term-pass* ]] || fail "the password was echoed: $out"

	# The daemon reads the file again when it changes.
	lb_fresh "$VIP4:80"
	daemon_conf "$conf" "" "$(lab_ip4 r1)"
	CON_USERS=$f
	con_start "$conf"
	expect_api 200 "tom's status" -u "tom:term-pass-1" "$CON_URL/api/v1/status"
	printf 'later-pass\n' | "$XDPLB" passwd --users "$f" liz --role admin >/dev/null || fail "passwd liz"
	expect_api 200 "a user added while the daemon runs" -u "liz:later-pass" "$CON_URL/api/v1/status"
	expect_api 200 "tom's login" -c "$jar" -H 'Content-Type: application/json' \
		--data '{"user":"tom","password":"term-pass-1"}' "$CON_URL/api/v1/login"
	# A password set again ends the user's sessions.
	printf 'term-pass-2\n' | "$XDPLB" passwd --users "$f" tom >/dev/null || fail "tom's new password"
	expect_api 401 "a session whose password was set again" -b "$jar" "$CON_URL/api/v1/session"
	grep -q "session of tom ended: its password was set again" "$DAEMON_LOG" ||
		fail "the end of tom's session is not logged"
	printf 'term-pass-2\n' | "$XDPLB" passwd --users "$f" tom --role viewer >/dev/null || fail "demote tom"
	expect_api 403 "a change of a user made viewer" -u "tom:term-pass-2" -X POST \
		--data-binary "set-real --vip $VIP4:80 $(lab_ip4 r1) --weight 2" "$CON_URL/api/v1/config"
	expect_api 200 "tom's login" -c "$jar" -H 'Content-Type: application/json' \
		--data '{"user":"tom","password":"term-pass-2"}' "$CON_URL/api/v1/login"
	"$XDPLB" passwd --users "$f" tom --delete >/dev/null || fail "delete tom"
	expect_api 401 "the session of a deleted user" -b "$jar" "$CON_URL/api/v1/session"
	chmod 644 "$f"
	expect_api 401 "users from a file others may read" -u "liz:later-pass" "$CON_URL/api/v1/status"
	grep -q "mode 0644" "$DAEMON_LOG" || fail "the daemon does not say why nobody can log in"
	chmod 600 "$f"
	expect_api 200 "users once the file is mended" -u "liz:later-pass" "$CON_URL/api/v1/status"
}

# con_ms URL [CURLARGS...]: how long (ms) a GET of URL in the LB namespace
# takes; fails unless it answers 200.
con_ms() {
	local out code secs
	out=$(lb_ns_exec curl -sS -m 10 -o /dev/null -w '%{http_code} %{time_total}' "${@:2}" "$1" 2>&1)
	read -r code secs <<<"$out"
	[[ $code == 200 ]] || fail "GET $1 during the flood: $out"
	awk -v s="$secs" 'BEGIN { printf "%d\n", s * 1000 }'
}

# Wrong passwords from 200 addresses at once (loopback aliases; POST login
# and HTTP Basic in turn) never stall the daemon's loop: passwords are
# hashed on a thread of its own, one at a time (the daemon's anonymous
# memory holds one Argon2id's 64 MiB, not one per client), and a full
# queue is 503 at once. Throughout, /metrics and a session's requests
# answer quickly and a real whose server dies is judged down within fall x
# interval.
test_console_flood() {
	local conf=$T_TMP/flood.conf out=$T_TMP/flood.json jar=$T_TMP/flood-jar fpid
	local addrs=() i ms max=0 smax=0 counts hwm=0 anon
	con_users
	daemon_fresh "$conf" "--check http:/health --interval 0.5 --timeout 0.3 --rise 2 --fall 2" \
		r1 r2 r3 -- --console "127.0.0.1:$CON_PORT" --users "$CON_USERS" --listen 127.0.0.1:9104
	expect_api 200 "login before the flood" -c "$jar" -H 'Content-Type: application/json' \
		--data "{\"user\":\"vic\",\"password\":\"$CON_PW_VIC\"}" "$CON_URL/api/v1/login"

	for ((i = 1; i <= 200; i++)); do addrs+=("127.0.1.$i"); done
	# (nice: the client is not on the load balancer's CPUs in life)
	nice -n 10 nsenter --net="$LB_NS" -- /usr/bin/python3 "$T_NSUTIL" flood 127.0.0.1 "$CON_PORT" \
		8 16 "${addrs[@]}" >"$out" 2>"$T_TMP/flood.err" &
	fpid=$!
	on_exit "kill $fpid"
	sleep 1
	health_after r2 down stop_server r2
	for ((i = 0; i < 10; i++)); do
		ms=$(con_ms http://127.0.0.1:9104/metrics)
		((ms > max)) && max=$ms
		ms=$(con_ms "$CON_URL/api/v1/status" -b "$jar" -H 'X-Requested-With: x')
		((ms > smax)) && smax=$ms
		# Anonymous memory only: the connection table the daemon
		# maps to count flows (64 MiB) is the kernel's, shared.
		anon=$(awk '/^RssAnon/ { print int($2 / 1024) }' "/proc/$DAEMON_PID/status")
		((anon > hwm)) && hwm=$anon
		sleep 0.2
	done
	log "during the flood: /metrics at most $max ms, a session's status at most $smax ms"
	kill -0 "$fpid" 2>/dev/null || fail "the flood ended early: $(cat "$out" "$T_TMP/flood.err")"
	wait "$fpid"
	counts=$(cat "$out")
	log "the flood's answers: $counts"
	((max < 500)) || fail "/metrics took $max ms during the flood"
	((smax < 500)) || fail "a session's status took $smax ms during the flood"
	[[ $(jget "$counts" "d.get('401', 0) > 5 and d.get('503', 0) > 0 and not d['errors'] and \
set(d) <= {'errors', '401', '429', '503'}") == true ]] ||
		fail "the flood's answers: $counts (want 401s, 503s once the queue is full)"
	grep -Eq "(login of alice|HTTP Basic of user bob) from 127.0.1.[0-9]+(:| failed)" "$DAEMON_LOG" ||
		fail "failed logins not logged"
	log "the daemon's anonymous memory during the flood: at most $hwm MB"
	((hwm < 120)) || fail "the daemon's anonymous memory reached $hwm MB: more than one Argon2id at a time"
	health_after r2 up restart_server r2
	daemon_alive
}

# The page in headless Chromium, driven by playwright-core: log in, add a
# service and three inactive reals, activate them, curl through the VIP
# reaches each; deactivate one in the page, new connections avoid it; a
# form error names its field; screenshots of every page in CON_OUT.
test_console_browser() {
	local conf=$T_TMP/browser.conf traffic=$T_TMP/traffic.sh mods=$REPO/tests/browser/node_modules
	command -v node >/dev/null || skip "needs node (make test installs it)"
	[[ -x /usr/bin/chromium ]] || skip "needs chromium (make test installs it)"
	[[ -d $mods/playwright-core ]] || skip "needs playwright-core in tests/browser (make test installs it)"
	lb_fresh "$VIP4:80"
	: >"$conf" # nothing: the page adds it all
	con_users
	con_start "$conf"
	# traffic.sh all | avoid HOST: 30 new connections from the client
	# through the VIP; all three reals answer, or HOST never does.
	cat >"$traffic" <<-'EOF'
		#!/bin/bash
		reals=$(for ((i = 0; i < 30; i++)); do
			nsenter --net="$CLIENT_NS" -- curl -sS -m 2 --noproxy '*' -o /dev/null -D - "http://$VIP/" 2>&1 |
				tr -d '\r' | sed -n 's/^X-Real: *//Ip'
		done)
		sort <<<"$reals" | uniq -c | awk '{ printf "%s=%s ", $2, $1 } END { print "" }'
		[[ $(grep -c . <<<"$reals") == 30 ]] || { echo "not 30 answers"; exit 1; }
		case $1 in
		all) for h in r1 r2 r3; do grep -qx "$h" <<<"$reals" || { echo "$h never answered"; exit 1; }; done ;;
		avoid) ! grep -qx "$2" <<<"$reals" || { echo "$2 answered"; exit 1; } ;;
		esac
	EOF
	chmod +x "$traffic"
	mkdir -p "$CON_OUT"
	rm -f "$CON_OUT"/*.png
	lb_ns_exec env CONSOLE_URL="$CON_URL" CONSOLE_USER=alice CONSOLE_PASSWORD="$CON_PW_ALICE" \
		VIP="$VIP4" REALS="$(lab_ip4 r1) $(lab_ip4 r2) $(lab_ip4 r3)" TRAFFIC="$traffic" \
		CLIENT_NS="/var/run/netns/$LAB-client" OUT="$CON_OUT" \
		timeout 50 node "$REPO/tests/browser/console.test.js" \
		>"$T_TMP/browser.log" 2>&1 ||
		fail "$(grep -v '^ ' "$T_TMP/browser.log" | tail -n 3 | tr '\n' ' ')"
	log "$(cat "$T_TMP/browser.log")"
	grep -q "console: alice: + add-vip $VIP4:80/tcp" "$DAEMON_LOG" || fail "the page's change is not logged"
	grep -qx "add-real --vip $VIP4:80/tcp $(lab_ip4 r2) --weight 0" "$conf" ||
		fail "the file does not have r2 deactivated: $(cat "$conf")"
	[[ $(find "$CON_OUT" -name '*.png' | wc -l) -ge 7 ]] || fail "screenshots missing in $CON_OUT"
}
