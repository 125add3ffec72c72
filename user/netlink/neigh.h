/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * neigh.h - a real's MAC from the kernel's neighbour table (rtnetlink
 * through libmnl). When the table has no usable entry, the kernel is asked
 * to resolve it (ARP for IPv4, neighbour discovery for IPv6) exactly as if
 * a packet were waiting for it (NTF_USE), and the entry is polled until it
 * resolves, fails, or the timeout passes.
 */
#ifndef XDPLB_NEIGH_H
#define XDPLB_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include "xdplb.h"

/* 0, -EHOSTUNREACH (no answer), or another negative errno. */
int neigh_resolve(int ifindex, __u8 family, const struct xdplb_addr *addr,
		  __u8 mac[6], int timeout_ms);

/*
 * The entry as it is now, without waiting: 0 and its MAC when it has a
 * usable one, -ENOENT when it has none, or another negative errno. With
 * refresh, the kernel is also asked (NTF_USE) to resolve an entry that is
 * missing or failed and to confirm one that is not freshly confirmed
 * (REACHABLE), so that a MAC that changed is found by a later look.
 */
int neigh_peek(int ifindex, __u8 family, const struct xdplb_addr *addr,
	       __u8 mac[6], bool refresh);

/* How this host reaches an address, as `ip route get` says. */
struct neigh_route {
	bool found;
	__u8 type;		/* RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST, ... */
	int oif;		/* the interface it leaves by */
	bool gateway;		/* through a next hop, not on link */
	__u8 gw_family;		/* XDPLB_AF_* */
	struct xdplb_addr gw;
};

/*
 * The kernel's route to addr (RTM_GETROUTE): 0, or -ENETUNREACH,
 * -EHOSTUNREACH (no route, or an unreachable one) or another negative
 * errno. ifindex is the interface for IPv6 link-local addresses only.
 */
int neigh_route(int ifindex, __u8 family, const struct xdplb_addr *addr,
		struct neigh_route *out);

/* One entry of the neighbour table, as an answer of the kernel gives it. */
struct neigh_entry {
	bool found;		/* the answer held an entry */
	__u16 state;		/* NUD_* */
	bool has_mac;		/* it has an Ethernet address */
	__u8 mac[6];
};

/*
 * Read the answer to one request (seq, from the socket portid) in
 * buf[0..len): the entry it holds, if any. 0; the kernel's error (a
 * negative errno: -ENOENT when there is no entry); -EBADMSG and the like
 * when the answer is malformed (libmnl's checks, an entry too short);
 * -EPROTO or -ESRCH for an answer to another request. Apart from the
 * socket, for the tests and the fuzzer.
 */
int neigh_parse(const void *buf, size_t len, __u32 seq, __u32 portid,
		struct neigh_entry *r);

#endif /* XDPLB_NEIGH_H */
