/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pwcheck.h - password checks off the owner's loop: Argon2id takes about
 * 0.1 s of CPU and 64 MiB per check, which a load balancer's event loop
 * (health checks, failover, /metrics) must never wait for.
 *
 * A fixed pool of threads takes checks from a queue of PWCHECK_DEPTH
 * slots; nothing else queues, so memory stays bounded (threads x 64 MiB,
 * as many slots x a hash and a password) however many clients ask, and a
 * submission to a full queue is refused at once. The threads only hash:
 * they read the slot's hash and password and write its verdict. Jobs are
 * submitted, finished (done callback) and released on the owner's thread,
 * which polls pwcheck_fd() for input and calls pwcheck_dispatch().
 *
 * A check of a user who does not exist (hash NULL) costs the same work
 * (an Argon2id hash of the password with a random salt) and never
 * matches, so that timing does not tell which names exist.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef XDPLB_PWCHECK_H
#define XDPLB_PWCHECK_H

#include <stdbool.h>
#include <stddef.h>

#define PWCHECK_THREADS	1	/* checks at once: 64 MiB each */
#define PWCHECK_DEPTH	8	/* waiting or being checked */
#define PWCHECK_OWNER	64	/* an owner's name, with its NUL */

struct pwcheck;
struct pwcheck_job;

/* A finished job (on the owner's thread, from pwcheck_dispatch()). */
typedef void (*pwcheck_done_fn)(void *ctx, struct pwcheck_job *job,
				void *arg);

/* threads threads, depth slots (0: the defaults above). */
int pwcheck_new(unsigned int threads, unsigned int depth,
		pwcheck_done_fn done, void *ctx, struct pwcheck **out);
/* Waits for the checks under way; drops the others (no done call). */
void pwcheck_free(struct pwcheck *p);

/* Readable when a job has finished. */
int pwcheck_fd(const struct pwcheck *p);
/* done() for every finished job not released yet. */
void pwcheck_dispatch(struct pwcheck *p);

/*
 * Check password against hash (an Argon2 string; NULL: a user who does
 * not exist). owner (a client, say) names who asks: at most max_owner of
 * one owner's jobs at a time (0: no limit). arg goes to done(). The job,
 * or NULL with errno EBUSY (the queue is full), EAGAIN (owner has
 * max_owner already) or EINVAL (password too long).
 */
struct pwcheck_job *pwcheck_submit(struct pwcheck *p, const char *owner,
				   unsigned int max_owner, const char *hash,
				   const char *password, size_t len, void *arg);
/* Did the job, done() called for it, find password to be hash's? Only
 * when it checked exactly hash (not NULL): a hash changed since does not
 * match. False for a job not done yet. */
bool pwcheck_matched(const struct pwcheck_job *job, const char *hash);
/* Done with job: its slot is free again (at once, or when its thread is
 * done with it); done() is not called for it any more. */
void pwcheck_release(struct pwcheck *p, struct pwcheck_job *job);

#endif /* XDPLB_PWCHECK_H */
