// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_health.c - the health-check engine (user/daemon/health.c) against local
 * listeners on 127.0.0.1 and ::1 and local commands: TCP, HTTP and exec
 * checks passing, failing and timing out, the rise/fall rule, spreading,
 * and hc_sync keeping state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "health.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Notifications, as the engine gave them. */
struct rec {
	int n, ups, downs;
	bool last_up;
	char why[512];
	long at;		/* ms_now() of the last one */
};

static void record(void *ctx, const struct hc_target *t, bool up,
		   const char *why)
{
	struct rec *r = ctx;

	(void)t;
	r->n++;
	if (up)
		r->ups++;
	else
		r->downs++;
	r->last_up = up;
	snprintf(r->why, sizeof(r->why), "%s", why);
	r->at = ms_now();
}

/* Run the engine as the daemon does until r has want notifications or
 * ms pass. */
static void run(struct hc_engine *e, struct rec *r, int want, long ms)
{
	long end = ms_now() + ms;

	while ((!r || r->n < want) && ms_now() < end) {
		struct pollfd p = { .fd = hc_fd(e), .events = POLLIN };
		long left = end - ms_now();
		int t = hc_timeout(e);

		if (t < 0 || t > left)
			t = left;
		poll(&p, 1, t);
		hc_dispatch(e);
	}
}

static struct hc_target target(int family, __u16 port, __u8 check)
{
	struct hc_target t = {};

	t.family = family == AF_INET6 ? XDPLB_AF_INET6 : XDPLB_AF_INET;
	inet_pton(family, family == AF_INET6 ? "::1" : "127.0.0.1", &t.addr);
	t.vip.family = t.family;
	t.vip.addr = t.addr;
	t.vip.port = htons(port);
	t.vip.proto = IPPROTO_TCP;
	t.opts.check = check;
	t.opts.interval_ms = 100;
	t.opts.timeout_ms = 500;
	t.opts.rise = 2;
	t.opts.fall = 2;
	t.init = HC_INIT_NEW;
	return t;
}

/* A listening socket on the loopback address of family; its port. */
static int listener(int family, __u16 *port)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ss.ss_family = family;
	if (family == AF_INET6)
		inet_pton(AF_INET6, "::1",
			  &((struct sockaddr_in6 *)&ss)->sin6_addr);
	else
		inet_pton(AF_INET, "127.0.0.1",
			  &((struct sockaddr_in *)&ss)->sin_addr);
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, family == AF_INET6 ?
			  sizeof(struct sockaddr_in6) :
			  sizeof(struct sockaddr_in)), 0, "bind: %s",
		     strerror(errno));
	cr_assert_eq(listen(fd, 128), 0);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* A port nothing listens on. */
static __u16 closed_port(int family)
{
	__u16 port;

	close(listener(family, &port));
	return port;
}

/* A tiny HTTP server: answers every request with status, keeps the last
 * request it read. silent: accepts, reads, never answers. */
struct http_srv {
	int fd;
	int status;
	bool silent;
	pthread_mutex_t lock;
	char req[1024];
};

static void *http_serve(void *arg)
{
	struct http_srv *s = arg;

	for (;;) {
		char buf[1024], resp[128];
		size_t n = 0;
		ssize_t r;
		int c = accept(s->fd, NULL, NULL);

		if (c < 0)
			return NULL;
		while (n < sizeof(buf) - 1 &&
		       (r = read(c, buf + n, sizeof(buf) - 1 - n)) > 0) {
			n += r;
			buf[n] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		buf[n] = '\0';
		pthread_mutex_lock(&s->lock);
		snprintf(s->req, sizeof(s->req), "%s", buf);
		pthread_mutex_unlock(&s->lock);
		if (s->silent) {
			sleep(10);	/* holds the connection, says nothing */
			close(c);
			continue;
		}
		snprintf(resp, sizeof(resp), "HTTP/1.1 %d Whatever\r\n"
			 "Content-Length: 0\r\nConnection: close\r\n\r\n",
			 s->status);
		if (write(c, resp, strlen(resp)) < 0)
			perror("write");
		close(c);
	}
}

static struct http_srv *http_start(int family, int status, __u16 *port)
{
	struct http_srv *s = calloc(1, sizeof(*s));
	pthread_t th;

	s->fd = listener(family, port);
	s->status = status;
	pthread_mutex_init(&s->lock, NULL);
	pthread_create(&th, NULL, http_serve, s);
	pthread_detach(th);
	return s;
}

/* One new real, one check: its first result. */
static void first_result(const struct hc_target *t, struct rec *r, long ms)
{
	struct hc_engine *e = hc_new(record, r);

	cr_assert_not_null(e);
	cr_assert_eq(hc_sync(e, t, 1), 0);
	run(e, r, 1, ms);
	hc_free(e);
	cr_assert_eq(r->n, 1, "%d notifications in %ld ms", r->n, ms);
}

/* The rise/fall rule ---------------------------------------------------- */

struct count_case {
	const char *desc;
	struct hc_count start;
	const char *results;	/* p = pass, f = fail */
	int want[8];		/* hc_count_result of each */
	bool up;		/* at the end */
};

static const struct count_case count_cases[] = {
	{ "up: fall 3 failures take it down", { .up = true }, "fff",
	  { 0, 0, -1 }, false },
	{ "up: a pass resets the failures", { .up = true }, "ffpff",
	  { 0, 0, 0, 0, 0 }, true },
	{ "down: rise 2 passes bring it up", { .up = false }, "pp",
	  { 0, 1 }, true },
	{ "down: a failure resets the passes", { .up = false }, "pfpp",
	  { 0, 0, 0, 1 }, true },
	{ "new: the first pass brings it up", { .fresh = true }, "pfff",
	  { 1, 0, 0, -1 }, false },
	{ "new: after a failed first check, rise counts", { .fresh = true },
	  "fpp", { 0, 0, 1 }, true },
	{ "up: passes change nothing", { .up = true }, "ppp", { 0, 0, 0 },
	  true },
};

Test(health_count, rise_fall)
{
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(count_cases); i++) {
		const struct count_case *c = &count_cases[i];
		struct hc_count s = c->start;

		for (k = 0; c->results[k]; k++) {
			int r = hc_count_result(&s, c->results[k] == 'p', 2,
						3);

			cr_expect_eq(r, c->want[k], "%s: result %zu gave %d, "
				     "want %d", c->desc, k, r, c->want[k]);
		}
		cr_expect_eq(s.up, c->up, "%s: up %d at the end", c->desc,
			     s.up);
	}
}

/* TCP -------------------------------------------------------------------- */

static void tcp_pass(int family)
{
	struct rec r = {};
	struct hc_target t;
	__u16 port;
	int fd = listener(family, &port);

	t = target(family, port, XDPLB_CHECK_TCP);
	first_result(&t, &r, 2000);
	cr_expect(r.last_up, "not up: %s", r.why);
	cr_expect(strstr(r.why, "connected"), "why: %s", r.why);
	close(fd);
}

Test(health_tcp, pass_ipv4) { tcp_pass(AF_INET); }
Test(health_tcp, pass_ipv6) { tcp_pass(AF_INET6); }

static void tcp_refused(int family)
{
	struct rec r = {};
	struct hc_target t = target(family, closed_port(family),
				    XDPLB_CHECK_TCP);

	first_result(&t, &r, 2000);
	cr_expect(!r.last_up);
	cr_expect(strstr(r.why, "refused"), "why: %s", r.why);
	cr_expect(strstr(r.why, "first check"), "why: %s", r.why);
}

Test(health_tcp, refused_ipv4) { tcp_refused(AF_INET); }
Test(health_tcp, refused_ipv6) { tcp_refused(AF_INET6); }

/* An up real on a closed port goes down after `fall` checks, each one
 * interval apart: not before (fall - 1) intervals. */
Test(health_tcp, fall_after_failures)
{
	struct rec r = {};
	struct hc_target t = target(AF_INET, closed_port(AF_INET),
				    XDPLB_CHECK_TCP);
	struct hc_engine *e = hc_new(record, &r);
	long t0 = ms_now();

	t.init = HC_INIT_UP;
	t.opts.fall = 3;
	cr_assert_eq(hc_sync(e, &t, 1), 0);
	cr_expect_eq(hc_state(e, 0, 0), 1);
	run(e, &r, 1, 2000);
	cr_assert_eq(r.n, 1);
	cr_expect(!r.last_up);
	cr_expect(strstr(r.why, "(3 failed in a row)"), "why: %s", r.why);
	cr_expect_geq(r.at - t0, 2 * 100 - 5, "down after %ld ms",
		      r.at - t0);
	cr_expect_leq(r.at - t0, 3 * 100 + 100, "down after %ld ms",
		      r.at - t0);
	cr_expect_eq(hc_state(e, 0, 0), 0);
	hc_free(e);
}

/* HTTP ------------------------------------------------------------------- */

/* A 200 passes; the request is a GET of path with the real as Host
 * (host_fmt takes the port) and Connection: close. */
static void http_request(int family, const char *path, const char *line,
			 const char *host_fmt)
{
	struct rec r = {};
	struct hc_target t;
	struct http_srv *s;
	char want[64];
	__u16 port;

	s = http_start(family, 200, &port);
	t = target(family, port, XDPLB_CHECK_HTTP);
	snprintf(t.opts.arg, sizeof(t.opts.arg), "%s", path);
	first_result(&t, &r, 2000);
	cr_expect(r.last_up, "why: %s", r.why);
	cr_expect(strstr(r.why, "HTTP status 200"), "why: %s", r.why);

	pthread_mutex_lock(&s->lock);
	cr_expect(!strncmp(s->req, line, strlen(line)), "request: %s",
		  s->req);
	snprintf(want, sizeof(want), host_fmt, port);
	cr_expect(strstr(s->req, want), "no '%s' in: %s", want, s->req);
	cr_expect(strstr(s->req, "\r\nConnection: close\r\n"),
		  "request: %s", s->req);
	pthread_mutex_unlock(&s->lock);
}

Test(health_http, status_200_passes)
{
	http_request(AF_INET, "/health", "GET /health HTTP/1.",
		     "\r\nHost: 127.0.0.1:%u\r\n");
}

/* No path: "/"; an IPv6 real in brackets. */
Test(health_http, ipv6_host_header)
{
	http_request(AF_INET6, "", "GET / HTTP/1.",
		     "\r\nHost: [::1]:%u\r\n");
}

Test(health_http, status_500_fails)
{
	struct rec r = {};
	struct hc_target t;
	__u16 port;

	http_start(AF_INET, 500, &port);
	t = target(AF_INET, port, XDPLB_CHECK_HTTP);
	first_result(&t, &r, 2000);
	cr_expect(!r.last_up);
	cr_expect(strstr(r.why, "HTTP status 500, expected 200"), "why: %s",
		  r.why);
}

Test(health_http, expected_status)
{
	struct rec r1 = {}, r2 = {};
	struct hc_target t;
	__u16 port;

	http_start(AF_INET, 204, &port);
	t = target(AF_INET, port, XDPLB_CHECK_HTTP);
	t.opts.http_status = 204;
	first_result(&t, &r1, 2000);
	cr_expect(r1.last_up, "204 expected and given: %s", r1.why);

	http_start(AF_INET, 200, &port);
	t = target(AF_INET, port, XDPLB_CHECK_HTTP);
	t.opts.http_status = 204;
	first_result(&t, &r2, 2000);
	cr_expect(!r2.last_up);
	cr_expect(strstr(r2.why, "HTTP status 200, expected 204"),
		  "why: %s", r2.why);
}

/* Accepts (the kernel does, from the backlog) but never answers. */
Test(health_http, timeout)
{
	struct rec r = {};
	struct hc_target t;
	__u16 port;
	int fd = listener(AF_INET, &port);
	long t0 = ms_now();

	t = target(AF_INET, port, XDPLB_CHECK_HTTP);
	t.opts.timeout_ms = 300;
	first_result(&t, &r, 3000);
	cr_expect(!r.last_up);
	cr_expect(strstr(r.why, "no answer within 0.3 s"), "why: %s", r.why);
	cr_expect_geq(r.at - t0, 300, "failed after %ld ms", r.at - t0);
	cr_expect_leq(r.at - t0, 300 + 200 + 100, "failed after %ld ms",
		      r.at - t0);
	close(fd);
}

Test(health_http, timeout_silent_server)
{
	struct rec r = {};
	struct hc_target t;
	struct http_srv *s;
	__u16 port;

	s = http_start(AF_INET, 200, &port);
	s->silent = true;
	t = target(AF_INET, port, XDPLB_CHECK_HTTP);
	t.opts.timeout_ms = 200;
	first_result(&t, &r, 3000);
	cr_expect(!r.last_up);
	cr_expect(strstr(r.why, "no answer within 0.2 s"), "why: %s", r.why);
}

/* exec ------------------------------------------------------------------- */

static struct hc_target command(const char *cmd)
{
	struct hc_target t = target(AF_INET, 8080, XDPLB_CHECK_EXEC);

	snprintf(t.opts.arg, sizeof(t.opts.arg), "%s", cmd);
	return t;
}

Test(health_exec, true_passes)
{
	struct rec r = {};
	struct hc_target t = command("true");

	first_result(&t, &r, 2000);
	cr_expect(r.last_up, "why: %s", r.why);
	cr_expect(strstr(r.why, "exit status 0"), "why: %s", r.why);
}

Test(health_exec, false_fails)
{
	struct rec r = {};
	struct hc_target t = command("exit 3");

	first_result(&t, &r, 2000);
	cr_expect(!r.last_up);
	cr_expect(strstr(r.why, "exit status 3"), "why: %s", r.why);
}

Test(health_exec, environment)
{
	struct rec r = {};
	struct hc_target t = command(
		"[ \"$XDPLB_REAL\" = 127.0.0.1 ] && "
		"[ \"$XDPLB_VIP\" = 127.0.0.1 ] && "
		"[ \"$XDPLB_PORT\" = 8080 ] && [ \"$XDPLB_PROTO\" = tcp ]");

	first_result(&t, &r, 2000);
	cr_expect(r.last_up, "environment not as expected: %s", r.why);
}

/* Killed at the timeout, with what it started, and reaped. */
Test(health_exec, timeout_kills_and_reaps)
{
	struct rec r = {};
	struct hc_target t = command("sleep 31.5; true");
	struct hc_engine *e = hc_new(record, &r);
	long t0 = ms_now();

	t.opts.timeout_ms = 200;
	t.opts.interval_ms = 5000;
	cr_assert_eq(hc_sync(e, &t, 1), 0);
	run(e, &r, 1, 3000);
	cr_assert_eq(r.n, 1);
	cr_expect(!r.last_up);
	cr_expect(strstr(r.why, "still running after 0.2 s, killed"),
		  "why: %s", r.why);
	cr_expect_leq(r.at - t0, 200 + 200 + 100, "after %ld ms", r.at - t0);
	run(e, NULL, 0, 300);	/* the pidfd reports the kill */
	cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left");
	cr_expect_eq(errno, ECHILD);
	cr_expect(system("pgrep -fx 'sleep 31.5' >/dev/null") != 0,
		  "what the command started survived");
	cr_expect(system("pgrep -fx '/bin/sh -c sleep 31.5; true' "
			 ">/dev/null") != 0, "the command's shell survived");
	hc_free(e);
}

/* pgrep -fx pattern finds nothing within ms (a process killed a moment
 * ago may still run until it is scheduled). */
static bool gone_within(const char *pattern, long ms)
{
	char cmd[160];
	long t0 = ms_now();

	snprintf(cmd, sizeof(cmd), "pgrep -fx '%s' >/dev/null", pattern);
	while (system(cmd) == 0) {
		if (ms_now() - t0 > ms)
			return false;
		usleep(20 * 1000);
	}
	return true;
}

/* A command that passes, leaving a child in the background: the child
 * ends with it (its process group is killed), however long it would run
 * on. The same for one that fails. */
static void leaves_no_child(const char *cmd, const char *child, bool pass)
{
	struct rec r = {};
	struct hc_target t = command(cmd);

	first_result(&t, &r, 2000);
	cr_expect_eq(r.last_up, pass, "why: %s", r.why);
	cr_expect(gone_within(child, 1000), "'%s' outlived its check '%s'",
		  child, cmd);
}

Test(health_exec, passing_leaves_no_child)
{
	leaves_no_child("sleep 32.5 & exit 0", "sleep 32.5", true);
}

Test(health_exec, failing_leaves_no_child)
{
	leaves_no_child("(sleep 33.5 > /dev/null &); exit 1", "sleep 33.5",
			false);
}

/* Transitions driven by a file: up, fall 3 -> down, rise 2 -> up. */
Test(health_exec, rise_and_fall)
{
	char flag[] = "/tmp/xdplb-health-XXXXXX", cmd[128];
	struct rec r = {};
	struct hc_target t;
	struct hc_engine *e = hc_new(record, &r);
	int fd = mkstemp(flag);

	cr_assert_geq(fd, 0);
	close(fd);
	unlink(flag);
	snprintf(cmd, sizeof(cmd), "! test -e %s", flag);
	t = command(cmd);
	t.init = HC_INIT_UP;
	t.opts.interval_ms = 40;
	t.opts.rise = 2;
	t.opts.fall = 3;
	cr_assert_eq(hc_sync(e, &t, 1), 0);
	run(e, &r, 1, 300);
	cr_expect_eq(r.n, 0, "a passing real changed: %s", r.why);

	fd = open(flag, O_CREAT | O_WRONLY, 0600);
	close(fd);
	run(e, &r, 1, 2000);
	cr_assert_eq(r.n, 1);
	cr_expect(!r.last_up);
	cr_expect(strstr(r.why, "exit status 1 (3 failed in a row)"),
		  "why: %s", r.why);

	unlink(flag);
	run(e, &r, 2, 2000);
	cr_assert_eq(r.n, 2);
	cr_expect(r.last_up);
	cr_expect(strstr(r.why, "exit status 0 (2 passed in a row)"),
		  "why: %s", r.why);
	hc_free(e);
}

/* Many reals ------------------------------------------------------------- */

static int accept_all(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = 0, c;

	while (poll(&p, 1, 0) == 1 && (c = accept(fd, NULL, NULL)) >= 0) {
		close(c);
		n++;
	}
	return n;
}

/* 100 reals up, interval 1 s: their first checks spread over the
 * interval, not all at once. */
Test(health_engine, first_checks_spread)
{
	struct hc_target t[100];
	struct hc_engine *e = hc_new(record, NULL);
	__u16 port;
	int fd = listener(AF_INET, &port), early, all;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		t[i] = target(AF_INET, port, XDPLB_CHECK_TCP);
		t[i].real_id = i;
		t[i].init = HC_INIT_UP;
		t[i].opts.interval_ms = 1000;
	}
	cr_assert_eq(hc_sync(e, t, ARRAY_SIZE(t)), 0);
	run(e, NULL, 0, 250);
	early = accept_all(fd);
	run(e, NULL, 0, 800);
	all = early + accept_all(fd);
	/* 1.05 s: a few that started early have had a second check. */
	cr_expect(all >= 100 && all <= 125, "%d checks of 100 reals in "
		  "1.05 s", all);
	cr_expect(early >= 5 && early <= 50, "%d of 100 in the first 250 ms",
		  early);
	hc_free(e);
	close(fd);
}

/* hc_sync keeps the state of reals it still has, also when their check
 * changes, and stops the others. */
Test(health_engine, sync_keeps_state)
{
	struct rec r = {};
	struct hc_target t[2];
	struct hc_engine *e = hc_new(record, &r);
	size_t checked, up;
	__u16 port;
	int fd = listener(AF_INET, &port);

	t[0] = target(AF_INET, port, XDPLB_CHECK_TCP);
	t[1] = target(AF_INET, closed_port(AF_INET), XDPLB_CHECK_TCP);
	t[1].real_id = 1;
	cr_assert_eq(hc_sync(e, t, 2), 0);
	run(e, &r, 2, 2000);
	cr_assert_eq(r.n, 2);
	cr_expect_eq(hc_state(e, 0, 0), 1);
	cr_expect_eq(hc_state(e, 1, 0), 0);

	/* The same again, then another interval for real 0: no change. */
	t[0].init = t[1].init = HC_INIT_NEW;
	cr_assert_eq(hc_sync(e, t, 2), 0);
	t[0].opts.interval_ms = 50;
	cr_assert_eq(hc_sync(e, t, 2), 0);
	run(e, &r, 3, 300);
	cr_expect_eq(r.n, 2, "a change: %s", r.why);
	cr_expect_eq(hc_state(e, 0, 0), 1);
	cr_expect_eq(hc_state(e, 1, 0), 0);

	/* Real 1 goes; a new generation of real 0 is another real. */
	t[0].real_gen = 1;
	cr_assert_eq(hc_sync(e, t, 1), 0);
	hc_counts(e, &checked, &up);
	cr_expect_eq(checked, 1);
	cr_expect_eq(up, 0, "the new generation starts down");
	cr_expect_eq(hc_state(e, 1, 0), -ENOENT);
	cr_expect_eq(hc_state(e, 0, 0), -ENOENT);
	cr_assert_eq(hc_sync(e, NULL, 0), 0);
	hc_counts(e, &checked, &up);
	cr_expect_eq(checked, 0);
	hc_free(e);
	close(fd);
}

/* HTTP answers ------------------------------------------------------------ */

Test(health_http, status_line)
{
	static const struct {
		const char *answer;
		size_t len;		/* 0: strlen */
		bool final;
		int want;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\n", 0, false, 200 },
		{ "HTTP/1.0 204\r\n", 0, false, 204 },
		{ "HTTP/1.1 503\n", 0, false, 503 },
		{ "HTTP/1.1 200 OK", 0, false, HC_HTTP_MORE },
		{ "HTTP/1.1 200 OK", 0, true, 200 },
		{ "HTTP/1.1 20", 0, true, HC_HTTP_BAD },
		{ "HTTP/1.1 200", 0, true, HC_HTTP_BAD },
		{ "", 0, true, HC_HTTP_BAD },
		{ "HTTP/1.1 600 Nope\r\n", 0, false, HC_HTTP_BAD },
		{ "HTTP/1.1 099 Nope\r\n", 0, false, HC_HTTP_BAD },
		{ "HTTP/2 200\r\n", 0, false, HC_HTTP_BAD },
		{ "SSH-2.0-OpenSSH_9.2\r\n", 0, false, HC_HTTP_BAD },
		/* A NUL does not end the answer early, nor pass as a digit. */
		{ "HTTP/1.1 2\0000 OK\r\n", 18, false, HC_HTTP_BAD },
		{ "HTTP/1.1 200 \0\r\n", 16, false, 200 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len :
			     strlen(cases[i].answer);
		int got = hc_http_status(cases[i].answer, len, cases[i].final);

		cr_expect_eq(got, cases[i].want, "case %zu: %d, want %d", i,
			     got, cases[i].want);
	}
}
