/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * forward.h - direct-routing forwarding: the frame goes back out of the
 * interface it came in on, addressed to the real's MAC and from ours. IP
 * and L4 bytes, VLAN tags included, stay as they are; the real holds the
 * VIP on its loopback and answers the client directly.
 */
#ifndef XDPLB_FORWARD_H
#define XDPLB_FORWARD_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "xdplb.h"
#include "maps.h"
#include "verdict.h"

static __always_inline void count(void *map, __u32 id, __u32 len)
{
	struct xdplb_counters *c = bpf_map_lookup_elem(map, &id);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/*
 * The Ethernet header is found again from ctx, not kept from parsing: a
 * packet pointer carries the length the parser checked, which differs
 * with VLAN tags, IP options and IPv6 extension headers, and the verifier
 * would then check everything after parsing once for each such length
 * (it did: 616,000 of the 1,000,000 instructions it may walk; 153,000
 * without).
 */
static __always_inline int forward(struct xdp_md *ctx,
				   const struct xdplb_real *real,
				   __u32 real_id, __u32 len,
				   struct xdplb_global_stats *gs)
{
	struct ethhdr *eth = (void *)(long)ctx->data;
	int i;

	if ((void *)(eth + 1) > (void *)(long)ctx->data_end) /* parsed */
		return verdict(gs, drop_truncated, XDP_DROP);
	__builtin_memcpy(eth->h_dest, real->mac, ETH_ALEN);
	/* Read ifmac through volatile, byte by byte: a memcpy that casts the
	 * qualifier away lets clang fold the zero-initialised constant and
	 * write 00:00:00:00:00:00, which a bridge then drops. */
#pragma unroll
	for (i = 0; i < ETH_ALEN; i++)
		eth->h_source[i] = ifmac[i];

	/* Per real only: a service's counters are its reals' (and those
	 * of reals it had, which user space adds to svc_stats). */
	count(&real_stats, real_id, len);
	gs->tx_bytes += len;
	return verdict(gs, tx_packets, XDP_TX);
}

#endif /* XDPLB_FORWARD_H */
