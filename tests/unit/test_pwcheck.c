// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_pwcheck.c - password checks on a thread (user/web/pwcheck.c): verdicts
 * handed back on the owner's thread, a user who does not exist never
 * matching yet costing a hash, a hash changed meanwhile not matching, the
 * queue's bounds (full: EBUSY, an owner's share: EAGAIN) refused at once,
 * a job released while hashed never reported, and a pool freed with jobs
 * in it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "pwcheck.h"
#include "users.h"

static struct users u;
static int ndone;
static void *last_arg;

static void setup(void)
{
	cr_assert_eq(users_crypto_init(), 0);
	cr_assert_eq(users_set(&u, "ann", ROLE_ADMIN, "right-pass", 10), 0);
}

static void teardown(void)
{
	users_free(&u);
}

TestSuite(pwcheck, .init = setup, .fini = teardown);

static void done(void *ctx, struct pwcheck_job *job, void *arg)
{
	(void)job;
	cr_assert_eq(ctx, &ndone);
	ndone++;
	last_arg = arg;
}

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait (5 s at most) until n jobs have been reported in all. */
static void wait_done(struct pwcheck *p, int n)
{
	long end = ms_now() + 5000;

	while (ndone < n && ms_now() < end) {
		struct pollfd pf = { .fd = pwcheck_fd(p), .events = POLLIN };

		poll(&pf, 1, 100);
		pwcheck_dispatch(p);
	}
	cr_assert_eq(ndone, n, "%d of %d checks reported", ndone, n);
}

static struct pwcheck *pool(unsigned int depth)
{
	struct pwcheck *p = NULL;

	ndone = 0;
	cr_assert_eq(pwcheck_new(1, depth, done, &ndone, &p), 0);
	return p;
}

Test(pwcheck, verdicts)
{
	const char *hash = users_find(&u, "ann")->hash;
	struct pwcheck *p = pool(4);
	struct pwcheck_job *ok, *bad, *none;
	int arg;
	long t0, t_ok, t_none;

	t0 = ms_now();
	ok = pwcheck_submit(p, "a", 0, hash, "right-pass", 10, &arg);
	cr_assert(ok);
	cr_expect(!pwcheck_matched(ok, hash), "a verdict before it is done");
	wait_done(p, 1);
	t_ok = ms_now() - t0;
	cr_expect_eq(last_arg, &arg);
	cr_expect(pwcheck_matched(ok, hash));
	/* The hash changed since (a new password): no match. */
	cr_expect(!pwcheck_matched(ok, "$argon2id$v=19$m=65536,t=2,p=1$x$y"));
	cr_expect(!pwcheck_matched(ok, NULL));
	pwcheck_release(p, ok);

	bad = pwcheck_submit(p, "a", 0, hash, "right-pasS", 10, NULL);
	cr_assert(bad);
	wait_done(p, 2);
	cr_expect(!pwcheck_matched(bad, hash));
	pwcheck_release(p, bad);

	/* No such user: the same work, never a match. */
	t0 = ms_now();
	none = pwcheck_submit(p, "a", 0, NULL, "right-pass", 10, NULL);
	cr_assert(none);
	wait_done(p, 3);
	t_none = ms_now() - t0;
	cr_expect(!pwcheck_matched(none, NULL));
	cr_expect(!pwcheck_matched(none, hash));
	pwcheck_release(p, none);
	cr_expect(t_none * 3 >= t_ok, "an unknown user costs %ld ms, a known "
		  "one %ld ms", t_none, t_ok);

	cr_expect(!pwcheck_submit(p, "a", 0, hash, "x", USER_PASSWORD_MAX + 1,
				  NULL));
	cr_expect_eq(errno, EINVAL);
	pwcheck_free(p);
}

/* depth jobs at most, max_owner of one owner's: refused at once. */
Test(pwcheck, bounds)
{
	const char *hash = users_find(&u, "ann")->hash;
	struct pwcheck *p = pool(3);
	struct pwcheck_job *j[4];
	long t0;
	int i;

	j[0] = pwcheck_submit(p, "a", 2, hash, "pass-0000", 9, NULL);
	j[1] = pwcheck_submit(p, "a", 2, hash, "pass-0001", 9, NULL);
	cr_assert(j[0] && j[1]);
	cr_expect(!pwcheck_submit(p, "a", 2, hash, "pass-0002", 9, NULL));
	cr_expect_eq(errno, EAGAIN);
	j[2] = pwcheck_submit(p, "b", 2, hash, "pass-0003", 9, NULL);
	cr_assert(j[2]);
	t0 = ms_now();
	cr_expect(!pwcheck_submit(p, "c", 2, hash, "pass-0004", 9, NULL));
	cr_expect_eq(errno, EBUSY);
	cr_expect(ms_now() - t0 < 20, "a full queue waited");

	/* Done but not released still holds its slot. */
	wait_done(p, 3);
	cr_expect(!pwcheck_submit(p, "c", 2, hash, "pass-0005", 9, NULL));
	cr_expect_eq(errno, EBUSY);
	for (i = 0; i < 3; i++)
		pwcheck_release(p, j[i]);
	j[3] = pwcheck_submit(p, "c", 2, hash, "right-pass", 10, NULL);
	cr_assert(j[3]);
	wait_done(p, 4);
	cr_expect(pwcheck_matched(j[3], hash));
	pwcheck_release(p, j[3]);
	pwcheck_free(p);
}

/* A job released while queued or being hashed is never reported, and its
 * slot comes back; freeing a pool with jobs in it drops them. */
Test(pwcheck, release)
{
	const char *hash = users_find(&u, "ann")->hash;
	struct pwcheck *p = pool(2);
	struct pwcheck_job *a, *b;
	long end;

	a = pwcheck_submit(p, "a", 0, hash, "right-pass", 10, NULL);
	b = pwcheck_submit(p, "a", 0, hash, "right-pass", 10, NULL);
	cr_assert(a && b);
	pwcheck_release(p, a);	/* (being hashed, most likely) */
	pwcheck_release(p, b);	/* (queued) */
	end = ms_now() + 3000;
	while (!(a = pwcheck_submit(p, "a", 0, hash, "right-pass", 10, NULL)) &&
	       ms_now() < end)
		usleep(20 * 1000);
	cr_assert(a, "released slots never came back");
	b = pwcheck_submit(p, "a", 0, hash, "right-pass", 10, NULL);
	cr_assert(b, "released slots never came back");
	wait_done(p, 2);
	pwcheck_release(p, a);
	pwcheck_release(p, b);

	a = pwcheck_submit(p, "a", 0, hash, "right-pass", 10, NULL);
	b = pwcheck_submit(p, "a", 0, NULL, "right-pass", 10, NULL);
	cr_assert(a && b);
	pwcheck_free(p);	/* waits for the one being hashed */
	cr_expect_eq(ndone, 2, "a dropped job reported");
}
