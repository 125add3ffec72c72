// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pwcheck.c - password checks on a pool of threads (see pwcheck.h).
 *
 * The slots are the queue: a slot is free, queued (in submission order,
 * seq), being checked by a thread, or done until its owner releases it.
 * The mutex guards the slots' states; a thread reads a slot's hash and
 * password without it while the slot is being checked, as nobody else
 * writes a slot in that state (a release then only marks it, and the
 * thread frees it). A finished job is signalled on an eventfd, which the
 * owner's loop polls.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sodium.h>

#include "pwcheck.h"
#include "users.h"

#define PWCHECK_NICE	10

enum slot_state {
	SLOT_FREE = 0,
	SLOT_QUEUED,
	SLOT_RUNNING,
	SLOT_DONE,
};

struct pwcheck_job {
	enum slot_state state;
	bool released;		/* while running: free it when done */
	bool reported;		/* done() called */
	bool nouser;		/* hash NULL: never matches */
	bool matched;
	unsigned long long seq;
	void *arg;
	char owner[PWCHECK_OWNER];
	char hash[crypto_pwhash_STRBYTES];
	char password[USER_PASSWORD_MAX];
	size_t len;
};

struct pwcheck {
	pthread_mutex_t mu;
	pthread_cond_t work;
	bool stop;
	int efd;
	unsigned long long seq;
	pwcheck_done_fn done;
	void *ctx;
	struct pwcheck_job *slots;
	unsigned int depth;
	pthread_t *threads;
	unsigned int nthreads;
};

static void slot_clear(struct pwcheck_job *j)
{
	sodium_memzero(j, sizeof(*j));
}

/* The queued job submitted first, or NULL. */
static struct pwcheck_job *next_queued(struct pwcheck *p)
{
	struct pwcheck_job *first = NULL;
	unsigned int i;

	for (i = 0; i < p->depth; i++) {
		struct pwcheck_job *j = &p->slots[i];

		if (j->state == SLOT_QUEUED && (!first || j->seq < first->seq))
			first = j;
	}
	return first;
}

/* The work itself, without the lock: as long for a user that does not
 * exist as for one that does. */
static bool check(struct pwcheck_job *j)
{
	unsigned char out[32], salt[crypto_pwhash_SALTBYTES];

	if (!j->nouser)
		return user_password_ok(j->hash, j->password, j->len);
	randombytes_buf(salt, sizeof(salt));
	/* Fails only without memory: no match either way. */
	if (!crypto_pwhash(out, sizeof(out), j->password, j->len, salt,
			   crypto_pwhash_OPSLIMIT_INTERACTIVE,
			   crypto_pwhash_MEMLIMIT_INTERACTIVE,
			   crypto_pwhash_ALG_ARGON2ID13))
		sodium_memzero(out, sizeof(out));
	return false;
}

static void *worker(void *arg)
{
	struct pwcheck *p = arg;
	const uint64_t one = 1;
	struct pwcheck_job *j;
	bool ok;

	/* When the CPU is short, the owner's loop (health checks) goes
	 * first: this thread alone runs at a lower priority. */
	setpriority(PRIO_PROCESS, gettid(), PWCHECK_NICE);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && !(j = next_queued(p)))
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		j->state = SLOT_RUNNING;
		pthread_mutex_unlock(&p->mu);
		ok = check(j);
		pthread_mutex_lock(&p->mu);
		sodium_memzero(j->password, sizeof(j->password));
		if (j->released) {
			slot_clear(j);
			continue;
		}
		j->matched = ok;
		j->state = SLOT_DONE;
		/* Cannot fail but for an overflow, which still wakes. */
		if (write(p->efd, &one, sizeof(one)) < 0)
			continue;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int pwcheck_new(unsigned int threads, unsigned int depth,
		pwcheck_done_fn done, void *ctx, struct pwcheck **out)
{
	sigset_t all, old;
	struct pwcheck *p;
	unsigned int i;
	int err = 0;

	if (sodium_init() < 0)
		return -EIO;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->nthreads = threads ? threads : PWCHECK_THREADS;
	p->depth = depth ? depth : PWCHECK_DEPTH;
	p->done = done;
	p->ctx = ctx;
	p->slots = calloc(p->depth, sizeof(*p->slots));
	p->threads = calloc(p->nthreads, sizeof(*p->threads));
	if (!p->slots || !p->threads) {
		err = -ENOMEM;
		goto err_mem;
	}
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		err = -errno;
		goto err_mem;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	/* The owner takes its signals through a signalfd: no thread of
	 * ours may take one instead. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < p->nthreads; i++) {
		err = -pthread_create(&p->threads[i], NULL, worker, p);
		if (err)
			break;
		pthread_setname_np(p->threads[i], "xdplb-pwcheck");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	p->nthreads = i;
	if (err) {
		pwcheck_free(p);
		return err;
	}
	*out = p;
	return 0;

err_mem:
	free(p->threads);
	free(p->slots);
	free(p);
	return err;
}

void pwcheck_free(struct pwcheck *p)
{
	unsigned int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	close(p->efd);
	sodium_memzero(p->slots, p->depth * sizeof(*p->slots));
	free(p->slots);
	free(p->threads);
	free(p);
}

int pwcheck_fd(const struct pwcheck *p)
{
	return p->efd;
}

void pwcheck_dispatch(struct pwcheck *p)
{
	struct pwcheck_job *j;
	uint64_t n;
	unsigned int i;

	if (read(p->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	/* One at a time, the lock not held: done() may release or submit. */
	for (;;) {
		j = NULL;
		pthread_mutex_lock(&p->mu);
		for (i = 0; i < p->depth && !j; i++)
			if (p->slots[i].state == SLOT_DONE &&
			    !p->slots[i].reported)
				j = &p->slots[i];
		if (j)
			j->reported = true;
		pthread_mutex_unlock(&p->mu);
		if (!j)
			return;
		p->done(p->ctx, j, j->arg);
	}
}

struct pwcheck_job *pwcheck_submit(struct pwcheck *p, const char *owner,
				   unsigned int max_owner, const char *hash,
				   const char *password, size_t len, void *arg)
{
	struct pwcheck_job *j = NULL;
	unsigned int i, mine = 0;
	int err = 0;

	if (len > sizeof(j->password) ||
	    (hash && strlen(hash) >= sizeof(j->hash))) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->depth; i++) {
		struct pwcheck_job *x = &p->slots[i];

		if (x->state == SLOT_FREE) {
			if (!j)
				j = x;
		} else if (!strcmp(x->owner, owner)) {
			mine++;
		}
	}
	if (!j)
		err = EBUSY;
	else if (max_owner && mine >= max_owner)
		err = EAGAIN;
	if (err) {
		pthread_mutex_unlock(&p->mu);
		errno = err;
		return NULL;
	}
	slot_clear(j);
	snprintf(j->owner, sizeof(j->owner), "%s", owner);
	j->nouser = !hash;
	if (hash)
		snprintf(j->hash, sizeof(j->hash), "%s", hash);
	memcpy(j->password, password, len);
	j->len = len;
	j->arg = arg;
	j->seq = ++p->seq;
	j->state = SLOT_QUEUED;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return j;
}

bool pwcheck_matched(const struct pwcheck_job *job, const char *hash)
{
	/* reported: written by this thread, and after the worker's last
	 * write to the job (under the lock pwcheck_dispatch() took). */
	return job->reported && job->matched && !job->nouser && hash &&
	       !strcmp(job->hash, hash);
}

void pwcheck_release(struct pwcheck *p, struct pwcheck_job *job)
{
	pthread_mutex_lock(&p->mu);
	if (job->state == SLOT_RUNNING)
		job->released = true;
	else
		slot_clear(job);
	pthread_mutex_unlock(&p->mu);
}
