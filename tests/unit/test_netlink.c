// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_netlink.c - the kernel's rtnetlink answers as neigh.c and ifaddr.c
 * read them (nl_parse): well-formed ones, and the malformed ones libmnl
 * alone would let through (a length of 2 GiB or more, bytes after the
 * last message, a payload shorter than its header, attributes of the
 * wrong size).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <criterion/criterion.h>

#include "ifaddr.h"
#include "neigh.h"

#define SEQ	7
#define PORTID	100

/* Messages are built in buf, one after another (mnl_nlmsg_put_header
 * each); len is where the next one starts. */
static char buf[8192] __attribute__((aligned(4)));
static size_t len;

static struct nlmsghdr *put_msg(__u16 type, __u16 flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + len);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PORTID;
	return nlh;
}

static void end_msg(struct nlmsghdr *nlh)
{
	len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void put_neigh(__u8 family, __u16 state, const void *mac,
		      size_t maclen)
{
	struct nlmsghdr *nlh = put_msg(RTM_NEWNEIGH, 0);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	__u8 dst[4] = { 198, 18, 0, 11 };

	ndm->ndm_family = family;
	ndm->ndm_ifindex = 3;
	ndm->ndm_state = state;
	mnl_attr_put(nlh, NDA_DST, sizeof(dst), dst);
	if (mac)
		mnl_attr_put(nlh, NDA_LLADDR, maclen, mac);
	end_msg(nlh);
}

static void put_error(int error)
{
	struct nlmsghdr *nlh = put_msg(NLMSG_ERROR, 0);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = error;
	e->msg.nlmsg_len = sizeof(e->msg);
	e->msg.nlmsg_seq = SEQ;
	end_msg(nlh);
}

static const __u8 mac[6] = { 2, 0, 0, 0, 0, 0x0b };

Test(neigh_parse, entry)
{
	struct neigh_entry r;

	len = 0;
	put_neigh(AF_INET, NUD_REACHABLE, mac, 6);
	cr_assert_eq(neigh_parse(buf, len, SEQ, PORTID, &r), 0);
	cr_expect(r.found && r.has_mac && r.state == NUD_REACHABLE);
	cr_expect_arr_eq(r.mac, mac, 6);
}

Test(neigh_parse, no_ethernet_address)
{
	static const __u8 ib[20] = { 1 };
	struct neigh_entry r;

	len = 0;
	put_neigh(AF_INET, NUD_REACHABLE, ib, sizeof(ib));
	cr_assert_eq(neigh_parse(buf, len, SEQ, PORTID, &r), 0);
	cr_expect(r.found && !r.has_mac);
}

Test(neigh_parse, errors)
{
	struct neigh_entry r;

	len = 0;
	put_error(-ENOENT);
	cr_expect_eq(neigh_parse(buf, len, SEQ, PORTID, &r), -ENOENT);
	cr_expect_eq(neigh_parse(buf, len, SEQ + 1, PORTID, &r), -EPROTO,
		     "an answer to another request");
	/* An error number no errno is. */
	len = 0;
	put_error(-100000);
	cr_expect_eq(neigh_parse(buf, len, SEQ, PORTID, &r), -EBADMSG);
}

Test(neigh_parse, malformed)
{
	struct neigh_entry r;
	struct nlmsghdr *nlh;

	/* Shorter than its ndmsg. */
	len = 0;
	nlh = put_msg(RTM_NEWNEIGH, 0);
	mnl_nlmsg_put_extra_header(nlh, 4);
	end_msg(nlh);
	cr_expect_eq(neigh_parse(buf, len, SEQ, PORTID, &r), -EBADMSG);
	cr_expect(!r.found);

	/* A length libmnl takes for a negative int: no whole message. */
	len = 0;
	put_neigh(AF_INET, NUD_REACHABLE, mac, 6);
	((struct nlmsghdr *)buf)->nlmsg_len = 0xffffffff;
	cr_expect_eq(neigh_parse(buf, len, SEQ, PORTID, &r), -EBADMSG);

	/* Bytes after the last message. */
	len = 0;
	put_neigh(AF_INET, NUD_REACHABLE, mac, 6);
	memset(buf + len, 0, 20);
	cr_expect_eq(neigh_parse(buf, len + 20, SEQ, PORTID, &r), -EBADMSG);
	cr_expect_eq(neigh_parse(buf, len + 3, SEQ, PORTID, &r), -EBADMSG);
	/* Cut short. */
	cr_expect_eq(neigh_parse(buf, len - 4, SEQ, PORTID, &r), -EBADMSG);
}

/* A message whose length is not a multiple of 4 and whose padding is not
 * there: libmnl reads its attributes up to the aligned end, past the
 * bytes received (found by the fuzzer: an address attribute read 3 bytes
 * beyond the answer). */
Test(ifaddr_parse, no_padding)
{
	static const __u8 a6[16] = { 0xfd, [15] = 1 };
	struct ifaddr_dump d;
	struct nlmsghdr *nlh;
	char *exact;

	len = 0;
	nlh = put_msg(RTM_NEWADDR, NLM_F_MULTI);
	((struct ifaddrmsg *)mnl_nlmsg_put_extra_header(nlh,
		sizeof(struct ifaddrmsg)))->ifa_family = AF_INET6;
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(a6), a6);
	nlh->nlmsg_len -= 3;	/* the attribute runs 3 bytes past it */
	exact = malloc(nlh->nlmsg_len);
	cr_assert(exact);
	memcpy(exact, buf, nlh->nlmsg_len);
	memset(&d, 0, sizeof(d));
	cr_expect_eq(ifaddr_parse(exact, nlh->nlmsg_len, SEQ, PORTID, &d),
		     -EBADMSG);
	cr_expect_eq(d.n, 0);
	free(d.v);
	free(exact);
}

static void put_addr(__u8 family, const void *addr, size_t alen,
		     int flags_len, int cacheinfo_len)
{
	struct nlmsghdr *nlh = put_msg(RTM_NEWADDR, NLM_F_MULTI);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	__u8 zero[32] = {};

	ifa->ifa_family = family;
	ifa->ifa_prefixlen = family == AF_INET6 ? 128 : 24;
	ifa->ifa_index = 2;
	mnl_attr_put(nlh, family == AF_INET6 ? IFA_ADDRESS : IFA_LOCAL, alen,
		     addr);
	if (flags_len)
		mnl_attr_put(nlh, IFA_FLAGS, flags_len, zero);
	if (cacheinfo_len)
		mnl_attr_put(nlh, IFA_CACHEINFO, cacheinfo_len, zero);
	end_msg(nlh);
}

static int dump(struct ifaddr_dump *d)
{
	memset(d, 0, sizeof(*d));
	return ifaddr_parse(buf, len, SEQ, PORTID, d);
}

Test(ifaddr_parse, dump)
{
	static const __u8 a4[4] = { 198, 18, 0, 1 };
	static const __u8 a6[16] = { 0xfd, 0, 0, 0x18, [15] = 1 };
	struct ifaddr_dump d;
	struct nlmsghdr *nlh;

	len = 0;
	put_addr(AF_INET, a4, 4, 4, sizeof(struct ifa_cacheinfo));
	put_addr(AF_INET6, a6, 16, 4, 0);
	cr_assert_eq(dump(&d), 1, "more to come before NLMSG_DONE");
	cr_expect_eq(d.n, 2);
	cr_expect_eq(d.v[0].family, XDPLB_AF_INET);
	cr_expect_eq(d.v[0].preferred, 0, "from IFA_CACHEINFO");
	cr_expect_eq(d.v[1].family, XDPLB_AF_INET6);
	cr_expect_eq(d.v[1].preferred, IFADDR_FOREVER);
	free(d.v);
	nlh = put_msg(NLMSG_DONE, NLM_F_MULTI);
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	end_msg(nlh);
	cr_expect_eq(dump(&d), 0);
	free(d.v);
}

Test(ifaddr_parse, malformed)
{
	static const __u8 a4[4] = { 10, 0, 0, 1 };
	struct ifaddr_dump d;

	len = 0;
	put_addr(AF_INET, a4, 4, 2, 0);	/* IFA_FLAGS not a u32 */
	cr_expect_eq(dump(&d), -EBADMSG);
	free(d.v);
	len = 0;
	put_addr(AF_INET, a4, 4, 0, 8);	/* IFA_CACHEINFO short */
	cr_expect_eq(dump(&d), -EBADMSG);
	free(d.v);
	len = 0;
	put_addr(AF_INET6, a4, 4, 0, 0);	/* an IPv6 address of 4 bytes */
	cr_expect_eq(dump(&d), -EBADMSG);
	free(d.v);
}
