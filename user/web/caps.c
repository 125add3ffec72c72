// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * caps.c - giving up privileges (see caps.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "caps.h"

bool caps_permitted(cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t c = cap_get_proc();

	if (!c)
		return false;
	if (cap_get_flag(c, cap, CAP_PERMITTED, &v))
		v = CAP_CLEAR;
	cap_free(c);
	return v == CAP_SET;
}

/* c with flag set to exactly keep[0..n). */
static int set_only(cap_t c, cap_flag_t flag, const cap_value_t *keep,
		    int n)
{
	if (cap_clear_flag(c, flag))
		return -errno;
	if (n && cap_set_flag(c, flag, n, keep, CAP_SET))
		return -errno;
	return 0;
}

int caps_try(const cap_value_t *keep, int n)
{
	cap_t c = cap_get_proc();
	int err;

	if (!c)
		return -errno;
	err = set_only(c, CAP_EFFECTIVE, keep, n);
	if (!err && cap_set_proc(c))
		err = -errno;
	cap_free(c);
	return err;
}

static bool kept(const cap_value_t *keep, int n, cap_value_t cap)
{
	int i;

	for (i = 0; i < n; i++)
		if (keep[i] == cap)
			return true;
	return false;
}

/* Cut the bounding set to keep; needs CAP_SETPCAP (effective). */
static int cut_bounding(const cap_value_t *keep, int n)
{
	cap_value_t cap, max = (cap_value_t)cap_max_bits();

	for (cap = 0; cap < max; cap++) {
		if (kept(keep, n, cap) || cap_get_bound(cap) != 1)
			continue;
		if (cap_drop_bound(cap))
			return -errno;
	}
	return 0;
}

int caps_limit(const cap_value_t *keep, int n, char *err, size_t len)
{
	cap_value_t setpcap = CAP_SETPCAP;
	cap_t want = NULL, now = NULL;
	int ret;

	if (caps_permitted(CAP_SETPCAP)) {
		ret = caps_try(&setpcap, 1);
		if (!ret)
			ret = cut_bounding(keep, n);
		if (ret) {
			snprintf(err, len, "cannot cut the capability bounding "
				 "set: %s", strerror(-ret));
			return ret;
		}
	}
	if (cap_reset_ambient() && errno != EINVAL) {
		ret = -errno;
		snprintf(err, len, "cannot clear the ambient capabilities: %s",
			 strerror(-ret));
		return ret;
	}
	want = cap_init();
	ret = want ? 0 : -errno;
	if (!ret)
		ret = set_only(want, CAP_PERMITTED, keep, n);
	if (!ret)
		ret = set_only(want, CAP_EFFECTIVE, keep, n);
	if (!ret && cap_set_proc(want))
		ret = -errno;
	if (ret) {
		snprintf(err, len, "cannot give up capabilities: %s",
			 strerror(-ret));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		ret = -errno;
		snprintf(err, len, "cannot set no_new_privs: %s",
			 strerror(-ret));
		goto out;
	}
	now = cap_get_proc();
	if (!now || cap_compare(now, want) ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		ret = -EPERM;
		snprintf(err, len, "the capabilities are not what was set");
	}
out:
	cap_free(now);
	cap_free(want);
	return ret;
}

char *caps_text(void)
{
	cap_t c = cap_get_proc();
	char *t;

	if (!c)
		return NULL;
	t = cap_to_text(c, NULL);
	cap_free(c);
	return t;
}
