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
#include "xdplb.h"

#define ADDR_STRLEN	64	/* "[ffff:...:ffff]:65535/tcp" (51) and a NUL */
#define MAC_STRLEN	18

int parse_addr(const char *s, struct xdplb_addr *addr, __u8 *family);
int parse_vip(const char *s, struct xdplb_svc_key *key);
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

#endif /* XDPLB_ADDR_H */
