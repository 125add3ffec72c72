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

static __always_inline void count(void *map, __u32 id, __u32 len)
{
	struct xdplb_counters *c = bpf_map_lookup_elem(map, &id);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline int forward(struct ethhdr *eth,
				   const struct xdplb_real *real,
				   __u32 real_id, __u32 len,
				   struct xdplb_global_stats *gs)
{
	int i;

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
