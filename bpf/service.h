/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * service.h - which virtual service a flow is addressed to.
 *
 * An exact (VIP, port, protocol) entry wins over the VIP's port-0 service.
 * The VIP marker (proto 0) answers "is this address a VIP at all" for
 * fragments, which carry no ports. Lookups go through svc_index, an
 * open-addressing array: every probe is an inlined array access, where a
 * hash map lookup would cost more than the rest of the data path.
 */
#ifndef XDPLB_SERVICE_H
#define XDPLB_SERVICE_H

#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include "xdplb.h"
#include "xdplb_hash.h"
#include "maps.h"

static __always_inline bool svc_key_equal(const struct xdplb_svc_key *a,
					  const struct xdplb_svc_key *b)
{
	return a->addr.v6[0] == b->addr.v6[0] &&
	       a->addr.v6[1] == b->addr.v6[1] &&
	       a->addr.v6[2] == b->addr.v6[2] &&
	       a->addr.v6[3] == b->addr.v6[3] &&
	       a->port == b->port && a->proto == b->proto &&
	       a->family == b->family;
}

/* Probe the index from the key's home slot up to the first empty slot. */
static __always_inline struct xdplb_svc *
index_find(void *index, const struct xdplb_svc_key *key)
{
	__u32 home = xdplb_svc_hash(key), i, pos;
	struct xdplb_svc_slot *slot;

#pragma unroll
	for (i = 0; i < XDPLB_SVC_PROBES; i++) {
		pos = (home + i) & (XDPLB_SVC_SLOTS - 1);
		slot = bpf_map_lookup_elem(index, &pos);
		if (!slot || !slot->key.family)
			return NULL;
		if (svc_key_equal(&slot->key, key))
			return &slot->svc;
	}
	return NULL;
}

static __always_inline void *active_index(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&svc_index, &zero);
}

static __always_inline struct xdplb_svc *
find_service(const struct xdplb_flow *flow)
{
	struct xdplb_svc_key key = {
		.addr = flow->dst,
		.port = flow->dport,
		.proto = flow->proto,
		.family = flow->family,
	};
	struct xdplb_svc *svc;
	void *index = active_index();

	if (!index)
		return NULL;
	svc = index_find(index, &key);
	if (svc)
		return svc;
	key.port = 0;
	return index_find(index, &key);
}

/* The flow's VIP's service on one port (a fragment's, named by the VIP
 * marker), without falling back to port 0. */
static __always_inline struct xdplb_svc *
find_port_service(const struct xdplb_flow *flow, __u32 port)
{
	struct xdplb_svc_key key = {
		.addr = flow->dst,
		.port = (__be16)port,
		.proto = flow->proto,
		.family = flow->family,
	};
	void *index = active_index();

	return index ? index_find(index, &key) : NULL;
}

/* False when the flow's destination is certainly not a VIP. */
static __always_inline bool maybe_vip(const struct xdplb_flow *flow)
{
	__u32 bit = xdplb_vip_bit(&flow->dst), word = bit >> 6;
	__u64 *w = bpf_map_lookup_elem(&vip_filter, &word);

	return w && (*w >> (bit & 63)) & 1;
}

/* The VIP marker of the flow's destination: NULL when it is not a VIP. */
static __always_inline struct xdplb_svc *
find_vip(const struct xdplb_flow *flow)
{
	struct xdplb_svc_key key = {
		.addr = flow->dst,
		.family = flow->family,
	};
	void *index = active_index();

	return index ? index_find(index, &key) : NULL;
}

#endif /* XDPLB_SERVICE_H */
