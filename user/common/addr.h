/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * addr.h - parsing and printing what operators type: addresses, VIPs
 * (ADDR:PORT[/tcp|/udp], IPv6 in brackets), MACs, weights, numbers.
 * Parsers return 0 or -EINVAL and never print: the caller names the
 * argument in its error.
 */
#ifndef XDPLB_ADDR_H
#define XDPLB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "xdplb.h"

#define ADDR_STRLEN	64	/* "[ffff:...:ffff]:65535/tcp" (51) and a NUL */
#define MAC_STRLEN	18

int parse_addr(const char *s, struct xdplb_addr *addr, __u8 *family);
int parse_vip(const char *s, struct xdplb_svc_key *key);
/* -EDOM: well formed, but not a host's (mac_is_host). */
int parse_mac(const char *s, __u8 mac[6]);
int parse_ulong(const char *s, unsigned long max, unsigned long *out);
int parse_weight(const char *s, __u16 *weight);
bool is_prime(unsigned long n);

const char *proto_name(__u8 proto);
void format_addr(const struct xdplb_addr *addr, __u8 family, char *buf,
		 size_t len);
void format_vip(const struct xdplb_svc_key *key, char *buf, size_t len);
void format_mac(const __u8 mac[6], char *buf, size_t len);
bool addr_equal(const struct xdplb_addr *a, const struct xdplb_addr *b);

/*
 * A socket address: ADDR:PORT (IPv6 ADDR in brackets), PORT 1..65535; or,
 * port not 0, also ADDR alone for that port. For --listen (port 0: PORT
 * required) and --sync/--sync-peer. *len (if len) is the address's size.
 * 0 or -EINVAL. format_sockaddr() prints one so (ADDR_STRLEN bytes).
 */
int parse_sockaddr(const char *s, __u16 port, struct sockaddr_storage *ss,
		   socklen_t *len);
void format_sockaddr(const struct sockaddr_storage *ss, char *buf,
		     size_t len);

/* A host's MAC: neither broadcast, multicast nor all zeros. */
bool mac_is_host(const __u8 mac[6]);
/*
 * Why an address cannot be a host's (a real's) whatever the network:
 * "unspecified", "a loopback address", "a multicast address", "the
 * broadcast address", "reserved (240.0.0.0/4)", "IPv4-mapped", ...;
 * NULL when it is a unicast address.
 */
const char *addr_not_host(const struct xdplb_addr *addr, __u8 family);
/* 127.0.0.0/8 or ::1. */
bool addr_is_loopback(const struct xdplb_addr *addr, __u8 family);

#endif /* XDPLB_ADDR_H */
