/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * health.h - the daemon's health checks: one thread, one epoll set, no
 * blocking call.
 *
 * An engine holds one check per real: a TCP connect to the real's address
 * and its service's port, an HTTP GET there (HTTP/1.0, Connection: close,
 * the status line compared with the expected status), or a command run
 * with /bin/sh -c (exit 0 passes; killed with its process group at the
 * timeout, and what it left running in its group killed when it ends;
 * reaped through a pidfd, so no SIGCHLD handler is needed). Each
 * check starts every interval_ms and fails when it has no answer within
 * timeout_ms.
 *
 * A real goes down after `fall` failures in a row and comes up after
 * `rise` passes in a row. A real the engine is told is new (HC_INIT_NEW)
 * starts down and is checked at once: its first pass brings it up, so a
 * new real that serves takes traffic within one round trip and one that
 * does not never gets any. Other reals start in the state they are given
 * (the daemon passes the DOWN flag the maps hold), their first checks
 * spread at random over one interval, so that a thousand reals do not
 * fire at once.
 *
 * The owner polls hc_fd() for input with hc_timeout() as the timeout and
 * calls hc_dispatch() after each wake-up; changes of state are reported to
 * the callback given to hc_new(), from inside hc_dispatch().
 */
#ifndef XDPLB_HEALTH_H
#define XDPLB_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include "xdplb.h"

enum hc_init {
	HC_INIT_UP,	/* up until `fall` failures */
	HC_INIT_DOWN,	/* down until `rise` passes */
	HC_INIT_NEW,	/* down, checked at once, up on its first pass */
};

/* What one real's check needs. real_id and real_gen name the real: a
 * check is kept across hc_sync() calls while they stay the same. */
struct hc_target {
	struct xdplb_svc_key vip;	/* its service: VIP, port, protocol */
	struct xdplb_addr addr;		/* the real */
	__u8 family;			/* XDPLB_AF_* */
	__u32 real_id;
	__u16 real_gen;
	struct xdplb_svc_opts opts;	/* check, interval, timeout, rise,
					 * fall, status, arg; 0s: defaults */
	enum hc_init init;		/* used when the check is new */
};

/* A change of state: up or down, and why ("connection refused (3
 * failures in a row)"). A new real's failed first check is reported
 * too (up false), though it was down already. */
typedef void (*hc_notify_fn)(void *ctx, const struct hc_target *t, bool up,
			     const char *why);

struct hc_engine;

struct hc_engine *hc_new(hc_notify_fn notify, void *ctx);
/* Stops every check: closes sockets, kills and reaps commands. */
void hc_free(struct hc_engine *e);

/*
 * Make the engine check exactly these targets. A target whose real (id
 * and generation) is already checked keeps its state; if its options
 * changed, its counts restart and its next check is rescheduled. Checks
 * of reals not in the list stop. 0 or -ENOMEM.
 */
int hc_sync(struct hc_engine *e, const struct hc_target *t, size_t n);

/* Readable when a check has something to do. */
int hc_fd(const struct hc_engine *e);
/* Milliseconds until the next check starts or times out; -1: none. */
int hc_timeout(const struct hc_engine *e);
/* Start what is due, finish what is ready, time out what is late. */
void hc_dispatch(struct hc_engine *e);

/* The state of a real's check: 1 up, 0 down, -ENOENT not checked. */
int hc_state(const struct hc_engine *e, __u32 real_id, __u16 real_gen);
/* How many reals are checked, and how many of them are up. */
void hc_counts(const struct hc_engine *e, size_t *checked, size_t *up);

/* What hc_http_status() says besides a status. */
enum {
	HC_HTTP_MORE = -1,	/* no verdict yet: read on */
	HC_HTTP_BAD = -2,	/* not an HTTP status line */
};

/*
 * Judge the answer to an HTTP check, buf[0..len) as received so far (any
 * bytes), final when no more will come (closed, or as much read as is
 * looked at): the status of its status line ("HTTP/1.1 200 OK": 100..599)
 * once the line is whole or final, HC_HTTP_BAD for anything else, or
 * HC_HTTP_MORE. Apart from the socket, for the tests and the fuzzer.
 */
int hc_http_status(const char *buf, size_t len, bool final);

/*
 * The rise/fall rule on its own. Feed one result; returns 1 when it
 * brings the real up, -1 when it takes it down, 0 otherwise.
 */
struct hc_count {
	bool up;
	bool fresh;		/* new, no result yet */
	unsigned int passes;	/* in a row */
	unsigned int failures;	/* in a row */
};

int hc_count_result(struct hc_count *c, bool pass, unsigned int rise,
		    unsigned int fall);

#endif /* XDPLB_HEALTH_H */
