/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * select.h - the real server of a flow: its Maglev slot, then the real.
 *
 * User space built the table (user/maglev.c); here it is one hash, one
 * modulo and two array lookups. A slot holding XDPLB_NO_REAL, or a service
 * without a table, means the service has no real of weight > 0.
 */
#ifndef XDPLB_SELECT_H
#define XDPLB_SELECT_H

#include <bpf/bpf_helpers.h>
#include "xdplb.h"
#include "xdplb_hash.h"
#include "maps.h"

static __always_inline __u32 pick_real(const struct xdplb_svc *svc,
				       const struct xdplb_flow *flow)
{
	__u32 id = svc->id;
	__u32 slot, *real_id;
	void *table;

	table = bpf_map_lookup_elem(&maglev, &id);
	if (!table)
		return XDPLB_NO_REAL;
	slot = xdplb_flow_hash(flow, hash_seed) % table_size;
	real_id = bpf_map_lookup_elem(table, &slot);
	return real_id ? *real_id : XDPLB_NO_REAL;
}

#endif /* XDPLB_SELECT_H */
