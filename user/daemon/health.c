// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * health.c - the health-check engine (see health.h).
 *
 * Every check is a small state machine: idle until its start time, then
 * connecting / sending / receiving on a non-blocking socket, or running a
 * command watched through its pidfd. Checks waiting for a time (the next
 * start, or the deadline of the one running) sit in a binary heap ordered
 * by that time, so a dispatch costs O(log n) per check that is due, not a
 * walk over every real.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "addr.h"
#include "health.h"
#include "shell.h"

extern char **environ;

#define RESP_MAX	1024	/* bytes of an HTTP answer looked at */
#define NEW_SPREAD_MS	200	/* new reals: first checks within this */
#define MIN_INTERVAL_MS	10
#define COUNT_MAX	65535	/* passes and failures saturate here */
#define NO_HEAP		((size_t)-1)

enum phase {
	PH_IDLE,	/* waiting for its start time */
	PH_CONNECT,	/* tcp, http: connect() in progress */
	PH_SEND,	/* http: request being written */
	PH_RECV,	/* http: waiting for the status line */
	PH_EXEC,	/* exec: command running */
	PH_REAP,	/* exec: killed at its timeout, not yet reaped */
};

struct check {
	struct hc_target t;
	struct hc_count count;
	enum phase phase;
	int fd;			/* the socket, or the command's pidfd */
	pid_t pid;
	__u64 started;		/* ms, CLOCK_MONOTONIC */
	__u64 due;		/* the next start, or the running one's
				 * deadline */
	size_t heap;		/* index in e->heap, or NO_HEAP */
	bool gone;		/* no longer wanted; freed once idle */
	bool seen;		/* hc_sync's mark */
	size_t io;		/* bytes of the request sent, then of the
				 * answer received */
	size_t req_len;
	char req[512];
	char buf[RESP_MAX];
};

struct hc_engine {
	int epfd;
	hc_notify_fn notify;
	void *ctx;
	struct check **v;	/* every check, gone ones included */
	size_t n, cap;
	struct check **heap;	/* min-heap by due */
	size_t hn;
	__u64 rnd;
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64: spreading checks needs no better randomness. */
static __u64 rand_below(struct hc_engine *e, __u64 n)
{
	e->rnd ^= e->rnd << 13;
	e->rnd ^= e->rnd >> 7;
	e->rnd ^= e->rnd << 17;
	return n ? e->rnd % n : 0;
}

static __u32 interval_of(const struct check *c)
{
	__u32 v = c->t.opts.interval_ms ? c->t.opts.interval_ms :
		  XDPLB_DEFAULT_CHECK_INTERVAL_MS;

	return v < MIN_INTERVAL_MS ? MIN_INTERVAL_MS : v;
}

static __u32 timeout_of(const struct check *c)
{
	return c->t.opts.timeout_ms ? c->t.opts.timeout_ms :
	       XDPLB_DEFAULT_CHECK_TIMEOUT_MS;
}

static unsigned int rise_of(const struct check *c)
{
	return c->t.opts.rise ? c->t.opts.rise : XDPLB_DEFAULT_CHECK_RISE;
}

static unsigned int fall_of(const struct check *c)
{
	return c->t.opts.fall ? c->t.opts.fall : XDPLB_DEFAULT_CHECK_FALL;
}

static unsigned int status_of(const struct check *c)
{
	return c->t.opts.http_status ? c->t.opts.http_status :
	       XDPLB_DEFAULT_HTTP_STATUS;
}

/* The heap ---------------------------------------------------------- */

static void heap_put(struct hc_engine *e, size_t i, struct check *c)
{
	e->heap[i] = c;
	c->heap = i;
}

static void heap_up(struct hc_engine *e, size_t i)
{
	struct check *c = e->heap[i];

	while (i) {
		size_t p = (i - 1) / 2;

		if (e->heap[p]->due <= c->due)
			break;
		heap_put(e, i, e->heap[p]);
		i = p;
	}
	heap_put(e, i, c);
}

static void heap_down(struct hc_engine *e, size_t i)
{
	struct check *c = e->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, m = l;

		if (l >= e->hn)
			break;
		if (l + 1 < e->hn && e->heap[l + 1]->due < e->heap[l]->due)
			m = l + 1;
		if (c->due <= e->heap[m]->due)
			break;
		heap_put(e, i, e->heap[m]);
		i = m;
	}
	heap_put(e, i, c);
}

/* Wait for due: insert, or move the check already in. The heap has room
 * for every check (it grows with e->v). */
static void heap_set(struct hc_engine *e, struct check *c, __u64 due)
{
	c->due = due;
	if (c->heap == NO_HEAP) {
		e->heap[e->hn] = c;
		c->heap = e->hn++;
		heap_up(e, c->heap);
		return;
	}
	heap_up(e, c->heap);
	heap_down(e, c->heap);
}

static void heap_del(struct hc_engine *e, struct check *c)
{
	size_t i = c->heap;

	if (i == NO_HEAP)
		return;
	c->heap = NO_HEAP;
	if (i == --e->hn)
		return;
	heap_put(e, i, e->heap[e->hn]);
	heap_up(e, i);
	heap_down(e, e->heap[i]->heap);
}

/* Results ------------------------------------------------------------ */

int hc_count_result(struct hc_count *c, bool pass, unsigned int rise,
		    unsigned int fall)
{
	bool fresh = c->fresh;

	c->fresh = false;
	if (pass) {
		c->failures = 0;
		if (c->passes < COUNT_MAX)
			c->passes++;
		if (!c->up && (fresh || c->passes >= rise)) {
			c->up = true;
			return 1;
		}
		return 0;
	}
	c->passes = 0;
	if (c->failures < COUNT_MAX)
		c->failures++;
	if (c->up && c->failures >= fall) {
		c->up = false;
		return -1;
	}
	return 0;
}

static void close_sock(struct check *c)
{
	/* Reset, not FIN: a check every second to a thousand reals would
	 * otherwise leave tens of thousands of sockets in TIME_WAIT. */
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(c->fd);
	c->fd = -1;
}

/* The next start: one interval after this one started, or now when the
 * check took longer than that. */
static void schedule_next(struct hc_engine *e, struct check *c, __u64 now)
{
	__u64 next = c->started + interval_of(c);

	c->phase = PH_IDLE;
	heap_set(e, c, next > now ? next : now);
}

/* Count a result and report what it changed. */
static void result(struct hc_engine *e, struct check *c, bool pass,
		   const char *what)
{
	bool fresh = c->count.fresh;
	char why[320];
	int r;

	r = hc_count_result(&c->count, pass, rise_of(c), fall_of(c));
	if (!r && !(fresh && !pass))
		return;
	if (fresh)
		snprintf(why, sizeof(why), "%s (first check)", what);
	else if (pass)
		snprintf(why, sizeof(why), "%s (%u passed in a row)", what,
			 c->count.passes);
	else
		snprintf(why, sizeof(why), "%s (%u failed in a row)", what,
			 c->count.failures);
	e->notify(e->ctx, &c->t, c->count.up, why);
}

/* A socket check is over: close, count, wait for the next. */
static void finish(struct hc_engine *e, struct check *c, bool pass,
		   const char *what)
{
	if (c->fd >= 0)
		close_sock(c);
	schedule_next(e, c, now_ms());
	result(e, c, pass, what);
}

/* Sockets: tcp and http ------------------------------------------------ */

static void build_request(struct check *c)
{
	const char *path = c->t.opts.arg[0] ? c->t.opts.arg : "/";
	__u16 port = ntohs(c->t.vip.port);
	char host[ADDR_STRLEN], hp[ADDR_STRLEN + 8];

	format_addr(&c->t.addr, c->t.family, host, sizeof(host));
	if (c->t.family == XDPLB_AF_INET6)
		snprintf(hp, sizeof(hp), "[%s]", host);
	else
		snprintf(hp, sizeof(hp), "%s", host);
	if (port != 80)
		snprintf(hp + strlen(hp), sizeof(hp) - strlen(hp), ":%u",
			 port);
	c->req_len = snprintf(c->req, sizeof(c->req),
			      "GET %.*s HTTP/1.0\r\nHost: %s\r\n"
			      "User-Agent: xdplb-check\r\n"
			      "Connection: close\r\n\r\n",
			      (int)sizeof(c->t.opts.arg), path, hp);
	if (c->req_len >= sizeof(c->req))
		c->req_len = sizeof(c->req) - 1;
}

static int watch(struct hc_engine *e, struct check *c, int op, __u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(e->epfd, op, c->fd, &ev) ? -errno : 0;
}

static void start_socket(struct hc_engine *e, struct check *c, __u64 now)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	char why[128];
	int fd, err;

	if (!c->t.vip.port) {
		finish(e, c, false, "no port to connect to (the service "
		       "takes every port: use an exec check)");
		return;
	}
	if (c->t.family == XDPLB_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = c->t.vip.port;
		memcpy(&s6->sin6_addr, c->t.addr.v6, 16);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = c->t.vip.port;
		s4->sin_addr.s_addr = c->t.addr.v4;
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot open a socket: %s",
			 strerror(errno));
		finish(e, c, false, why);
		return;
	}
	c->fd = fd;
	c->io = 0;
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
		finish(e, c, false, strerror(errno));
		return;
	}
	/* Even a connect that completed at once is taken from EPOLLOUT:
	 * one path for both. */
	err = watch(e, c, EPOLL_CTL_ADD, EPOLLOUT);
	if (err) {
		snprintf(why, sizeof(why), "cannot watch a socket: %s",
			 strerror(-err));
		finish(e, c, false, why);
		return;
	}
	c->phase = PH_CONNECT;
	heap_set(e, c, now + timeout_of(c));
}

int hc_http_status(const char *buf, size_t len, bool final)
{
	const char *s = buf;

	if (!memchr(buf, '\n', len) && !final)
		return HC_HTTP_MORE;
	/* "HTTP/1.1 200 OK": version, space, three digits, then a space
	 * or the line's end. */
	if (len < 13 || memcmp(s, "HTTP/", 5) || s[5] < '0' || s[5] > '9' ||
	    s[6] != '.' || s[7] < '0' || s[7] > '9' || s[8] != ' ')
		return HC_HTTP_BAD;
	s += 9;
	if (s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9' ||
	    (s[3] != ' ' && s[3] != '\r' && s[3] != '\n'))
		return HC_HTTP_BAD;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* Enough of the answer (its first line, or all of it) to judge. */
static void judge_http(struct hc_engine *e, struct check *c, int status)
{
	char what[96];

	if (status < 0) {
		finish(e, c, false, c->io ? "not an HTTP status line" :
		       "closed without an answer");
		return;
	}
	if ((unsigned int)status != status_of(c)) {
		snprintf(what, sizeof(what), "HTTP status %d, expected %u",
			 status, status_of(c));
		finish(e, c, false, what);
		return;
	}
	snprintf(what, sizeof(what), "HTTP status %d", status);
	finish(e, c, true, what);
}

static void on_socket(struct hc_engine *e, struct check *c)
{
	int soerr = 0, st;
	socklen_t sl = sizeof(soerr);
	ssize_t r;

	switch (c->phase) {
	case PH_CONNECT:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl))
			soerr = errno;
		if (soerr) {
			finish(e, c, false, strerror(soerr));
			return;
		}
		if (c->t.opts.check == XDPLB_CHECK_TCP) {
			finish(e, c, true, "connected");
			return;
		}
		build_request(c);
		c->phase = PH_SEND;
		/* the socket is writable now */
		__attribute__((fallthrough));
	case PH_SEND:
		r = send(c->fd, c->req + c->io, c->req_len - c->io,
			 MSG_NOSIGNAL);
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				finish(e, c, false, strerror(errno));
			return;
		}
		c->io += r;
		if (c->io < c->req_len)
			return;
		c->io = 0;
		c->phase = PH_RECV;
		if (watch(e, c, EPOLL_CTL_MOD, EPOLLIN))
			finish(e, c, false, "cannot watch a socket");
		return;
	case PH_RECV:
		r = recv(c->fd, c->buf + c->io, RESP_MAX - c->io, 0);
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				finish(e, c, false, strerror(errno));
			return;
		}
		c->io += r;
		st = hc_http_status(c->buf, c->io, !r || c->io == RESP_MAX);
		if (st != HC_HTTP_MORE)
			judge_http(e, c, st);
		return;
	default:
		return;
	}
}

/* Commands: exec --------------------------------------------------------- */

/* environ without our variables, then ours; strings in vars. */
static char **command_env(const struct check *c, char vars[4][96])
{
	static const char *const names[] = { "XDPLB_REAL=", "XDPLB_VIP=",
					     "XDPLB_PORT=", "XDPLB_PROTO=" };
	char addr[ADDR_STRLEN];
	size_t n = 0, i, j;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 5, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0, j = 0; i < n; i++) {
		bool ours = false;
		size_t k;

		for (k = 0; k < 4; k++)
			ours |= !strncmp(environ[i], names[k],
					 strlen(names[k]));
		if (!ours)
			env[j++] = environ[i];
	}
	format_addr(&c->t.addr, c->t.family, addr, sizeof(addr));
	snprintf(vars[0], 96, "%s%s", names[0], addr);
	format_addr(&c->t.vip.addr, c->t.vip.family, addr, sizeof(addr));
	snprintf(vars[1], 96, "%s%s", names[1], addr);
	snprintf(vars[2], 96, "%s%u", names[2], ntohs(c->t.vip.port));
	snprintf(vars[3], 96, "%s%s", names[3], proto_name(c->t.vip.proto));
	for (i = 0; i < 4; i++)
		env[j++] = vars[i];
	return env;
}

/* The check's command with its XDPLB_* variables (shell.h). */
static int spawn_command(const struct check *c, pid_t *pid)
{
	char vars[4][96];
	char **env;
	int err;

	env = command_env(c, vars);
	if (!env)
		return -ENOMEM;
	err = spawn_shell(c->t.opts.arg, env, false, pid);
	free(env);
	return err;
}

static void start_command(struct hc_engine *e, struct check *c, __u64 now)
{
	char why[128];
	int err;

	err = spawn_command(c, &c->pid);
	if (err) {
		snprintf(why, sizeof(why), "cannot run the command: %s",
			 strerror(-err));
		finish(e, c, false, why);
		return;
	}
	c->fd = pidfd_open(c->pid, 0);
	if (c->fd < 0) {
		/* Out of descriptors: the command cannot be watched. It
		 * has only just started, so killing it ends it at once. */
		err = errno;
		kill(-c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		snprintf(why, sizeof(why), "cannot watch the command: %s",
			 strerror(err));
		finish(e, c, false, why);
		return;
	}
	err = watch(e, c, EPOLL_CTL_ADD, EPOLLIN);
	if (err) {
		kill(-c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		close(c->fd);
		c->fd = -1;
		finish(e, c, false, "cannot watch the command");
		return;
	}
	c->phase = PH_EXEC;
	heap_set(e, c, now + timeout_of(c));
}

/* The pidfd is readable: the command has ended. */
static void on_command(struct hc_engine *e, struct check *c)
{
	siginfo_t si;
	char what[64];
	bool was_running = c->phase == PH_EXEC;

	if (shell_reap(c->pid, c->fd, false, &si) != 1)
		return;
	close(c->fd);
	c->fd = -1;
	if (!was_running || c->gone) {
		/* Its result was counted at the timeout, or nobody wants
		 * it any more. */
		c->phase = PH_IDLE;
		if (!c->gone)
			schedule_next(e, c, now_ms());
		return;
	}
	heap_del(e, c);
	if (si.si_code == CLD_EXITED)
		snprintf(what, sizeof(what), "exit status %d", si.si_status);
	else
		snprintf(what, sizeof(what), "killed by signal %d (%s)",
			 si.si_status, strsignal(si.si_status));
	schedule_next(e, c, now_ms());
	result(e, c, si.si_code == CLD_EXITED && !si.si_status, what);
}

/* Kill a running command; its pidfd stays watched until it is reaped. */
static void kill_command(struct hc_engine *e, struct check *c)
{
	kill(-c->pid, SIGKILL);
	heap_del(e, c);
	c->phase = PH_REAP;
}

/* Dispatch --------------------------------------------------------------- */

static void start_check(struct hc_engine *e, struct check *c, __u64 now)
{
	c->started = now;
	switch (c->t.opts.check) {
	case XDPLB_CHECK_TCP:
	case XDPLB_CHECK_HTTP:
		start_socket(e, c, now);
		break;
	case XDPLB_CHECK_EXEC:
		start_command(e, c, now);
		break;
	default:
		/* Not a check: the real stays as it is. */
		heap_del(e, c);
		break;
	}
}

static void on_timeout(struct hc_engine *e, struct check *c)
{
	char what[96];
	double secs = timeout_of(c) / 1000.0;

	switch (c->phase) {
	case PH_CONNECT:
		snprintf(what, sizeof(what), "no connection within %.1f s",
			 secs);
		finish(e, c, false, what);
		break;
	case PH_SEND:
	case PH_RECV:
		snprintf(what, sizeof(what), "no answer within %.1f s", secs);
		finish(e, c, false, what);
		break;
	case PH_EXEC:
		kill_command(e, c);
		snprintf(what, sizeof(what), "still running after %.1f s, "
			 "killed", secs);
		result(e, c, false, what);
		break;
	default:
		heap_del(e, c);
		break;
	}
}

/* Stop what a check is doing; a running command is killed and left to
 * be reaped. */
static void stop_check(struct hc_engine *e, struct check *c)
{
	switch (c->phase) {
	case PH_CONNECT:
	case PH_SEND:
	case PH_RECV:
		close_sock(c);
		c->phase = PH_IDLE;
		break;
	case PH_EXEC:
		kill_command(e, c);
		break;
	default:
		break;
	}
	heap_del(e, c);
}

/* Free the checks that are gone and idle (commands reaped). */
static void compact(struct hc_engine *e)
{
	size_t i, j;

	for (i = 0, j = 0; i < e->n; i++) {
		struct check *c = e->v[i];

		if (c->gone && c->phase == PH_IDLE) {
			heap_del(e, c);
			free(c);
			continue;
		}
		e->v[j++] = c;
	}
	e->n = j;
}

void hc_dispatch(struct hc_engine *e)
{
	struct epoll_event ev[64];
	__u64 now;
	int n, i;

	do {
		n = epoll_wait(e->epfd, ev, 64, 0);
		for (i = 0; i < n; i++) {
			struct check *c = ev[i].data.ptr;

			if (c->phase == PH_EXEC || c->phase == PH_REAP)
				on_command(e, c);
			else
				on_socket(e, c);
		}
	} while (n == 64);

	now = now_ms();
	while (e->hn && e->heap[0]->due <= now) {
		struct check *c = e->heap[0];

		if (c->phase == PH_IDLE)
			start_check(e, c, now);
		else
			on_timeout(e, c);
	}
	compact(e);
}

int hc_fd(const struct hc_engine *e)
{
	return e->epfd;
}

int hc_timeout(const struct hc_engine *e)
{
	__u64 now = now_ms();

	if (!e->hn)
		return -1;
	if (e->heap[0]->due <= now)
		return 0;
	return e->heap[0]->due - now > 60000 ? 60000 :
	       (int)(e->heap[0]->due - now);
}

/* Setup ----------------------------------------------------------------- */

struct hc_engine *hc_new(hc_notify_fn notify, void *ctx)
{
	struct hc_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0) {
		free(e);
		return NULL;
	}
	e->notify = notify;
	e->ctx = ctx;
	e->rnd = now_ms() * 0x9e3779b97f4a7c15ull ^ (__u64)getpid() << 32;
	if (!e->rnd)
		e->rnd = 1;
	return e;
}

void hc_free(struct hc_engine *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n; i++) {
		struct check *c = e->v[i];

		stop_check(e, c);
		if (c->phase == PH_REAP) {
			/* Killed just now: waiting for it is short. */
			waitpid(c->pid, NULL, 0);
			close(c->fd);
		}
		free(c);
	}
	free(e->v);
	free(e->heap);
	close(e->epfd);
	free(e);
}

static int key_cmp(__u32 id_a, __u16 gen_a, __u32 id_b, __u16 gen_b)
{
	if (id_a != id_b)
		return id_a < id_b ? -1 : 1;
	return gen_a == gen_b ? 0 : gen_a < gen_b ? -1 : 1;
}

static int check_cmp(const void *a, const void *b)
{
	const struct check *x = *(struct check *const *)a;
	const struct check *y = *(struct check *const *)b;

	return key_cmp(x->t.real_id, x->t.real_gen, y->t.real_id,
		       y->t.real_gen);
}

/* The live check of a real among the first n (sorted) checks. */
static struct check *find_check(struct check **v, size_t n, __u32 id,
				__u16 gen)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(v[mid]->t.real_id, v[mid]->t.real_gen, id,
			    gen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && !key_cmp(v[lo]->t.real_id, v[lo]->t.real_gen, id,
				   gen); lo++)
		if (!v[lo]->gone)
			return v[lo];
	return NULL;
}

/* The same check of the same real (the quorum is not the check's). */
static bool same_check(const struct hc_target *a, const struct hc_target *b)
{
	const struct xdplb_svc_opts *x = &a->opts, *y = &b->opts;

	return !memcmp(&a->vip, &b->vip, sizeof(a->vip)) &&
	       addr_equal(&a->addr, &b->addr) && a->family == b->family &&
	       x->check == y->check && x->http_status == y->http_status &&
	       x->rise == y->rise && x->fall == y->fall &&
	       x->interval_ms == y->interval_ms &&
	       x->timeout_ms == y->timeout_ms &&
	       !strncmp(x->arg, y->arg, sizeof(x->arg));
}

static int reserve(struct hc_engine *e, size_t want)
{
	struct check **v, **h;
	size_t cap;

	if (want <= e->cap)
		return 0;
	cap = e->cap ? e->cap : 64;
	while (cap < want)
		cap *= 2;
	v = realloc(e->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	e->v = v;
	h = realloc(e->heap, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	e->heap = h;
	e->cap = cap;
	return 0;
}

int hc_sync(struct hc_engine *e, const struct hc_target *t, size_t n)
{
	__u64 now = now_ms();
	size_t old, i;

	if (reserve(e, e->n + n))
		return -ENOMEM;
	qsort(e->v, e->n, sizeof(*e->v), check_cmp);
	/* The heap holds pointers and each check its index: sorting v
	 * moved nothing the heap depends on. */
	old = e->n;
	for (i = 0; i < old; i++)
		e->v[i]->seen = false;

	for (i = 0; i < n; i++) {
		struct check *c = find_check(e->v, old, t[i].real_id,
					     t[i].real_gen);

		if (c) {
			c->seen = true;
			if (same_check(&c->t, &t[i]))
				continue;
			/* Another check for the same real: keep its
			 * state, count afresh, start within an
			 * interval. */
			stop_check(e, c);
			if (c->phase == PH_REAP) {
				/* Its command is still being reaped: let it
				 * go, and start the new check apart. */
				c->gone = true;
				c->seen = false;
				c = NULL;
			} else {
				struct hc_count keep = { .up = c->count.up };

				c->t = t[i];
				c->count = keep;
				heap_set(e, c, now + rand_below(e,
						interval_of(c)));
				continue;
			}
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->t = t[i];
		c->fd = -1;
		c->heap = NO_HEAP;
		c->seen = true;
		c->count.up = t[i].init == HC_INIT_UP;
		c->count.fresh = t[i].init == HC_INIT_NEW;
		e->v[e->n++] = c;
		heap_set(e, c, now + rand_below(e, c->count.fresh ?
				NEW_SPREAD_MS : interval_of(c)));
	}

	for (i = 0; i < old; i++) {
		struct check *c = e->v[i];

		if (c->seen || c->gone)
			continue;
		stop_check(e, c);
		c->gone = true;
	}
	compact(e);
	/* Sorted for hc_state (compact keeps the order). */
	qsort(e->v, e->n, sizeof(*e->v), check_cmp);
	return 0;
}

int hc_state(const struct hc_engine *e, __u32 real_id, __u16 real_gen)
{
	struct check *c = find_check(e->v, e->n, real_id, real_gen);

	return c ? c->count.up : -ENOENT;
}

void hc_counts(const struct hc_engine *e, size_t *checked, size_t *up)
{
	size_t i;

	*checked = *up = 0;
	for (i = 0; i < e->n; i++) {
		if (e->v[i]->gone)
			continue;
		(*checked)++;
		*up += e->v[i]->count.up;
	}
}
