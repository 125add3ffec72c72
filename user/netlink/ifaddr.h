/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ifaddr.h - the host's IP addresses over rtnetlink (libmnl): list them
 * all, add one, delete one. Functions return 0 or a negative errno and
 * print nothing. They act on the caller's network namespace.
 */
#ifndef XDPLB_IFADDR_H
#define XDPLB_IFADDR_H

#include <stdbool.h>
#include <stddef.h>
#include "xdplb.h"

#define IFADDR_FOREVER	0xffffffffu	/* a lifetime without end */

/* A bound rtnetlink socket (close-on-exec), for this and neigh.c; NULL
 * with errno set when there is none. */
struct mnl_socket;
struct mnl_socket *rtnl_open(void);

/* One address of one interface, as the kernel reports it. */
struct host_addr {
	struct xdplb_addr addr;
	int ifindex;
	__u32 flags;		/* IFA_F_* */
	__u32 preferred;	/* seconds left, IFADDR_FOREVER */
	__u8 family;		/* XDPLB_AF_* */
	__u8 prefixlen;
	__u8 scope;		/* RT_SCOPE_* */
};

/* Every IPv4 and IPv6 address of every interface; *out is the caller's
 * to free (NULL when there is none). */
int host_addrs(struct host_addr **out, int *n);

/* A dump of addresses as it is read: v[0..n) of room for cap. */
struct ifaddr_dump {
	struct host_addr *v;
	int n, cap;
};

/*
 * Read one answer of an address dump (seq, from the socket portid) in
 * buf[0..len) into d: as nl_parse() (1: more to come, 0: done, or a
 * negative errno; -EBADMSG for a message of an IPv4 or IPv6 address
 * without a well-formed one), d->v the caller's to free either way. Apart
 * from the socket, for the tests and the fuzzer.
 */
int ifaddr_parse(const void *buf, size_t len, __u32 seq, __u32 portid,
		 struct ifaddr_dump *d);

/* The first of list[0..n) with this address, or NULL. */
const struct host_addr *ifaddr_find(const struct host_addr *list, int n, __u8 family,
				 const struct xdplb_addr *addr);

/*
 * Add addr/prefixlen to ifindex. IPv6 addresses go without duplicate
 * address detection and, with not_source, deprecated (preferred lifetime
 * 0, valid forever): they take traffic but are never picked as the source
 * of the host's own connections. -EEXIST when it is there already.
 */
int ifaddr_add(int ifindex, __u8 family, const struct xdplb_addr *addr,
	       __u8 prefixlen, bool not_source);
/* -EADDRNOTAVAIL when it is not there. */
int ifaddr_del(int ifindex, __u8 family, const struct xdplb_addr *addr,
	       __u8 prefixlen);

#endif /* XDPLB_IFADDR_H */
