// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_rs_state.c - real-setup's state file (rs_state.h): what it writes
 * reads back the same, and what it would not write is refused by line,
 * above all paths --undo would delete that are not its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "rs_state.h"

static struct state st, st2;

static int parse(const char *text, size_t len, struct state *s, char *err,
		 size_t errlen)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int ret;

	cr_assert(f);
	ret = state_parse(s, f, "rs.state", err, errlen);
	fclose(f);
	return ret;
}

static const char good[] =
	"# xdplb real-setup: what it changed, for --undo\n"
	"vip 198.18.0.100\n"
	"vip fd00:18::100\n"
	"addr 198.18.0.100/32\n"
	"addr fd00:18::100/128\n"
	"sysctl net/ipv4/conf/all/arp_ignore 0 1\n"
	"sysctl net/ipv4/conf/eth0.100/rp_filter 1 2\n"
	"file /tmp/r/etc/systemd/system/xdplb-real.service\n"
	"file /etc/sysctl.d/90-xdplb-real.conf\n"
	"link /tmp/r/etc/systemd/system/multi-user.target.wants/"
	"xdplb-real.service\n"
	"dir /tmp/r/var/lib/xdplb\n";

Test(rs_state, round_trip)
{
	char err[512], *text;

	cr_assert_eq(parse(good, strlen(good), &st, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(st.nvips, 2);
	cr_expect_eq(st.nitems, 8);
	text = state_text(&st);
	cr_assert(text);
	cr_expect_str_eq(text, good);
	cr_assert_eq(parse(text, strlen(text), &st2, err, sizeof(err)), 0);
	cr_expect(!memcmp(&st, &st2, sizeof(st)));
	free(text);
}

static const struct {
	const char *text;
	size_t len;		/* 0: strlen */
	int line;
	const char *says;
} bad[] = {
	{ "vip 10.0.0.1\nfile /etc/passwd\n", 0, 2,
	  "not a file real-setup writes" },
	{ "file /x/../etc/sysctl.d/90-xdplb-real.conf\n", 0, 1,
	  "not a file real-setup writes" },
	{ "link /etc/systemd/system/xdplb-real.service\n", 0, 1,
	  "not the link" },
	{ "dir relative/dir\n", 0, 1, "not an absolute path" },
	{ "sysctl ../../etc/x 0 1\n", 0, 1, "not a key under /proc/sys" },
	{ "sysctl /net/ipv4/conf/all/rp_filter 0 1\n", 0, 1,
	  "not a key under /proc/sys" },
	{ "sysctl net/ipv4/conf/all/rp_filter 0 x\n", 0, 1,
	  "values are integers" },
	{ "sysctl net/ipv4/conf/all/rp_filter 0\n", 0, 1,
	  "takes a key and two values" },
	{ "sysctl net/ipv4/conf/all/rp_filter 0 1 2\n", 0, 1,
	  "too many words" },
	{ "addr 10.0.0.1/33\n", 0, 1, "not an ADDR/PLEN" },
	{ "vip 10.0.0.1\nvip 10.0.0.1\n", 0, 2, "a VIP recorded twice" },
	{ "dir /a\ndir /a\n", 0, 2, "an item recorded twice" },
	{ "vip\n", 0, 1, "vip takes one address" },
	{ "route 10.0.0.0/8\n", 0, 1, "not an item" },
	/* Not text, or cut short. */
	{ "vip 10.0.0.1\naddr 10.0.0.1/3", 0, 2, "no newline" },
	{ "vip 10.0.0.1\n\0\0\0\0\n", 19, 2, "NUL byte at column 1" },
};

Test(rs_state, refused_by_line)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[768], want[32];
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);

		cr_expect_eq(parse(bad[i].text, len, &st, err, sizeof(err)),
			     -EINVAL, "case %zu", i);
		snprintf(want, sizeof(want), "rs.state:%d: ", bad[i].line);
		cr_expect(!strncmp(err, want, strlen(want)) &&
			  strstr(err, bad[i].says), "case %zu: '%s', want "
			  "'%s...%s'", i, err, want, bad[i].says);
		cr_expect_eq(st.nvips + st.nitems, 0, "case %zu: state left",
			     i);
	}
}
