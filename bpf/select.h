/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * select.h - the real server of a flow: the one the connection table
 * remembers, else the one in the flow's Maglev slot, which is then
 * remembered.
 *
 * User space built the Maglev table (user/instance/maglev.c, packed as xdplb.h
 * says); placing a flow is one hash, one multiplication and two array
 * lookups. The slot comes from the 5-tuple, or from the client address
 * alone for src-ip services. A slot without a real (XDPLB_NO_REAL), or a
 * service without a table, means the service has no real of weight > 0.
 */
#ifndef XDPLB_SELECT_H
#define XDPLB_SELECT_H

#include <stdbool.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "xdplb.h"
#include "xdplb_hash.h"
#include "maps.h"
#include "service.h"
#include "conntrack.h"

static __always_inline __u32 maglev_pick(const struct xdplb_svc *svc,
					 const struct xdplb_flow *flow,
					 __u32 hash)
{
	struct xdplb_maglev_elem *e;
	__u32 id = svc->id, slot, elem;
	void *table;

	table = bpf_map_lookup_elem(&maglev, &id);
	if (!table)
		return XDPLB_NO_REAL;
	if (svc->flags & XDPLB_SVC_F_HASH_SRC)
		hash = xdplb_src_hash(flow, hash_seed);
	slot = xdplb_maglev_slot(hash, svc->table_size);
	elem = slot / XDPLB_MAGLEV_PACK;
	e = bpf_map_lookup_elem(table, &elem);
	return e ? xdplb_maglev_real(e, slot) : XDPLB_NO_REAL;
}

/*
 * The real Maglev placed a flow on (NULL: none takes new flows; its id in
 * *id), tracked unless it is an ICMP error (which follows its flow but
 * starts no tracking of its own) or of a one-packet service.
 */
static __always_inline struct xdplb_real *
placed(const struct xdplb_svc *svc, const struct xdplb_flow *flow,
       struct xdplb_real *real, __u32 real_id, bool icmp_error,
       struct ct_ctx *ct, __u32 *id, struct xdplb_global_stats *gs)
{
	if (!real)	/* XDPLB_NO_REAL is out of the array's range */
		return NULL;
	*id = real_id;
	if (icmp_error)
		return real;
	if (svc->flags & XDPLB_SVC_F_OPS)
		gs->ct_ops++;
	else
		ct_insert(flow, real_id, real->gen, ct, gs);
	return real;
}

/*
 * A flow the connection table does not know (ct_lookup missed): placed by
 * Maglev, and tracked. (A SYN goes to select_syn.)
 */
static __always_inline struct xdplb_real *
select_real(const struct xdplb_svc *svc, const struct xdplb_flow *flow,
	    __u32 hash, bool icmp_error, struct ct_ctx *ct, __u32 *id,
	    struct xdplb_global_stats *gs)
{
	__u32 real_id = maglev_pick(svc, flow, hash);

	return placed(svc, flow, bpf_map_lookup_elem(&reals, &real_id),
		      real_id, icmp_error, ct, id, gs);
}

/*
 * A SYN: a new connection (ct_lookup never returns a real for one), so
 * Maglev places it first, while ct_touch's load of its set is on its way;
 * then ct_lookup forgets an older connection of the same ports and picks
 * the way, and the flow is tracked there.
 */
static __always_inline struct xdplb_real *
select_syn(const struct xdplb_svc *svc, const struct xdplb_flow *flow,
	   __u32 hash, struct ct_ctx *ct, __u32 *id,
	   struct xdplb_global_stats *gs)
{
	__u32 real_id = maglev_pick(svc, flow, hash);
	struct xdplb_real *real = bpf_map_lookup_elem(&reals, &real_id);

	ct_lookup(flow, hash, true, ct, gs);
	return placed(svc, flow, real, real_id, false, ct, id, gs);
}

#endif /* XDPLB_SELECT_H */
