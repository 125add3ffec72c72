/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conntrack.h - the connection table: which real each tracked flow went
 * to, so that no change of reals, weights, tables or services moves it.
 *
 * One set-associative table that every CPU shares (xdplb.h says how it is
 * laid out, how writers claim a way, and which ways a new flow may take):
 * a flow is found with one array access whatever CPU its packet arrives
 * on, so a flow whose packets move between CPUs (veth, RPS, a changed RSS
 * table, a failover) keeps its real, and a SYN that reuses a client port
 * replaces the old connection's entry, the only one there is.
 *
 * It is consulted before the service index: a hit is good while the real
 * it names still exists (same slot generation) and the flow has not idled
 * past its protocol's timeout, and a hit does not look at the service
 * (deleting a service deletes its reals, which ends their flows). Weight
 * does not matter, so a drained real keeps its flows; nor does a service
 * added later that would match the flow, so it keeps its real as in
 * IPVS. A flow is confirmed by its second packet; a confirmed flow that is
 * live is never evicted, so a flood of new flows cannot push out the
 * established ones; new entries per CPU per second are capped besides.
 */
#ifndef XDPLB_CONNTRACK_H
#define XDPLB_CONNTRACK_H

#include <stdbool.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "xdplb.h"
#include "maps.h"
#include "verdict.h"
#include "xdplb_hash.h"

#define CT_WAY_FULL	(-1)	/* no way a new flow may take */
#define CT_WAY_BUSY	(-2)	/* the flow's way is being written */

struct ct_ctx {
	struct xdplb_ct_guard *guard;
	struct xdplb_conn_set *set;	/* NULL: no table to use */
	struct xdplb_real *real;	/* on a hit */
	__u64 tags;			/* the set's tags as the lookup read
					 * them: what an insert swaps from */
	__u32 idx;			/* the set */
	__u32 now;			/* ticks */
	int way;			/* the flow's way or the victim */
	__u16 tag;			/* the flow's, state bits clear */
};

/* Keeps the compiler from moving or merging memory accesses across it:
 * the stores below must reach memory in program order (x86 keeps stores
 * in order; the compiler must not undo it). */
#define ct_barrier()	asm volatile("" ::: "memory")

#define ct_read16(p)	(*(volatile __u16 *)(p))

static __always_inline bool flow_equal(const struct xdplb_flow *a,
				       const struct xdplb_flow *b)
{
	const __u32 *x = (const void *)a, *y = (const void *)b;

	/* Ten words; pad bytes are zero on both sides. Word 9 holds the
	 * family: IPv4 flows differ in words 0, 4 and 8 at most. */
	if (x[9] != y[9] || x[0] != y[0] || x[4] != y[4] || x[8] != y[8])
		return false;
	return a->family != XDPLB_AF_INET6 ||
	       (x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
		x[5] == y[5] && x[6] == y[6] && x[7] == y[7]);
}

static __always_inline __u32 tag_timeout(__u16 tag)
{
	return tag & XDPLB_CT_TAG_UDP ? udp_timeout : tcp_timeout;
}

/* Way w's tag in a set's four, as read in one word. */
static __always_inline __u16 tag_of(__u64 tags, int w)
{
	return tags >> (16 * (w & (XDPLB_CT_WAYS - 1)));
}

/* The four tags with way w's replaced by t. */
static __always_inline __u64 tags_with(__u64 tags, int w, __u16 t)
{
	int shift = 16 * (w & (XDPLB_CT_WAYS - 1));

	return (tags & ~(0xffffull << shift)) | ((__u64)t << shift);
}

/*
 * The coarse clock, read once per tick. bpf_jiffies64() is inlined by the
 * verifier into one load; bpf_ktime_get_coarse_ns() is a helper call that
 * costs as much as the rest of a table hit. The coarse clock only moves on
 * a tick, so the value read at this CPU's first packet after a tick is the
 * one every packet until the next would read.
 */
static __always_inline __u32 ct_clock(struct xdplb_ct_guard *g)
{
	__u64 j = bpf_jiffies64();

	if (j != g->jiffies) {
		g->jiffies = j;
		g->now = bpf_ktime_get_coarse_ns();
		g->tick = g->now >> XDPLB_CT_TICK_SHIFT;
	}
	return g->tick;
}

/* Not idle past its protocol's timeout (xdplb_ct_fresh); a last use
 * after now is another CPU's clock. */
static __always_inline bool ct_fresh(__u32 now, __u32 last, __u16 tag)
{
	return xdplb_ct_fresh(now, last, tag_timeout(tag));
}

/* Real id as a flow (or a datagram) remembered it, generation gen: NULL
 * once it was deleted, even if a new real has its slot since. */
static __always_inline struct xdplb_real *real_still(__u32 id, __u16 gen)
{
	struct xdplb_real *real = bpf_map_lookup_elem(&reals, &id);

	if (real && (real->flags & XDPLB_REAL_F_USED) && real->gen == gen)
		return real;
	return NULL;
}

/*
 * Note way w, now of tag t, in this CPU's ring for the sync daemon: one
 * 8-byte store, so a reader never sees half a note.
 */
static __always_inline void ct_note(struct ct_ctx *ct, int w, __u16 t)
{
	struct xdplb_ct_guard *g = ct->guard;
	struct xdplb_ct_note note = { .set = ct->idx, .tag = t,
				      .way = w & (XDPLB_CT_WAYS - 1) };
	__u32 pos = bpf_get_smp_processor_id() * XDPLB_CT_LOG_SLOTS +
		    (g->log_head & (XDPLB_CT_LOG_SLOTS - 1));
	__u64 *slot = bpf_map_lookup_elem(&ct_log, &pos);

	if (slot) {
		*(volatile __u64 *)slot = *(__u64 *)&note;
		g->log_head++;
	}
}

/* A live flow seen here that was unconfirmed, or learnt from a peer: it
 * is confirmed and ours now, which the sync daemon tells its peers. A
 * swap lost to another writer is tried again at the next packet. */
static __always_inline void ct_confirm(struct ct_ctx *ct, int w, __u16 t)
{
	struct xdplb_conn_set *s = ct->set;
	__u16 nt = (t | XDPLB_CT_TAG_CONFIRMED) & ~XDPLB_CT_TAG_PEER;
	__u64 old = *(volatile __u64 *)&s->tags;

	if (tag_of(old, w) != t)
		return;
	if (__sync_val_compare_and_swap(&s->tags, old,
					tags_with(old, w, nt)) == old)
		ct_note(ct, w, nt);
}

/*
 * Way w holds the flow, tag t: good while its real exists and it has not
 * idled out. Its fields are read, then the tag again: a way rewritten
 * meanwhile (another flow's now) is not taken for the flow. A hit writes
 * only what changed enough: the state, a last use older than
 * xdplb_ct_refresh() of its timeout.
 */
static __always_inline __u32 ct_hit(struct ct_ctx *ct, int w, __u16 t,
				    struct xdplb_global_stats *gs)
{
	struct xdplb_conn_set *s = ct->set;
	__u32 id, last, i = w & (XDPLB_CT_WAYS - 1);
	__u16 gen;

	id = s->real_id[i];
	gen = s->real_gen[i];
	last = s->last_seen[i];
	ct_barrier();
	if (ct_read16(&s->tag[i]) != t) {
		ct->way = CT_WAY_BUSY;
		return XDPLB_NO_REAL;
	}
	ct->real = real_still(id, gen);
	if (!ct->real || !ct_fresh(ct->now, last, t)) {
		gs->ct_expired++;	/* its way is the flow's again */
		return XDPLB_NO_REAL;
	}
	if ((t & XDPLB_CT_TAG_STATE) != XDPLB_CT_TAG_CONFIRMED)
		ct_confirm(ct, w, t);
	if (ct->now - last >= xdplb_ct_refresh(tag_timeout(t)))
		s->last_seen[i] = ct->now;
	gs->ct_hit++;
	return id;
}

/*
 * Look the flow up. Returns its real id when tracked and still good;
 * otherwise XDPLB_NO_REAL, with ct->way set to the way a new entry should
 * take (xdplb.h): the flow's own stale way, an empty one, one idled out,
 * the least recently used unconfirmed one; CT_WAY_FULL when the set holds
 * four live confirmed flows. A SYN (fresh) is a new connection that
 * happens to reuse a tracked client port: it is placed anew and takes the
 * old connection's way, never sent after it, which may have gone to a
 * real drained since. Only the set's first line is read, and the flow of
 * a way whose tag matches.
 */
static __always_inline __u32 ct_lookup(const struct xdplb_flow *flow,
				       __u32 hash, bool fresh,
				       struct ct_ctx *ct,
				       struct xdplb_global_stats *gs)
{
	__u32 idx = hash & (ct_sets - 1), zero = 0, oldest = 0;
	struct xdplb_conn_set *s;
	bool free = false;	/* ct->way is empty or idled out */
	__u16 tag;
	__u64 tags;
	int i;

	ct->way = CT_WAY_FULL;
	ct->idx = idx;
	ct->now = 0;
	ct->tag = tag = xdplb_ct_tag(hash, flow->proto);
	ct->guard = bpf_map_lookup_elem(&ct_guard, &zero);
	ct->set = bpf_map_lookup_elem(&conns, &idx);
	if (!ct->guard || !ct->set) {
		ct->set = NULL;
		return XDPLB_NO_REAL;
	}
	s = ct->set;
	ct->now = ct_clock(ct->guard);
	ct->tags = tags = *(volatile __u64 *)&s->tags;

#pragma unroll
	for (i = 0; i < XDPLB_CT_WAYS; i++) {
		__u16 t = tag_of(tags, i);
		__u32 age;

		if (!(t & XDPLB_CT_TAG_USED)) {
			if (!t && !free) {	/* the first empty way */
				ct->way = i;
				free = true;
			}
			continue;		/* or being written */
		}
		if ((t & XDPLB_CT_TAG_KEY) == tag &&
		    flow_equal(&s->flow[i], flow)) {
			ct->way = i;
			return fresh ? XDPLB_NO_REAL : ct_hit(ct, i, t, gs);
		}
		if (!ct_fresh(ct->now, s->last_seen[i], t)) {
			if (!free) {		/* reusable like an empty way */
				ct->way = i;
				free = true;
			}
			continue;
		}
		if (free || (t & XDPLB_CT_TAG_CONFIRMED))
			continue;		/* never a victim while live */
		age = ct->now - s->last_seen[i];
		if (ct->way < 0 || age > oldest) {
			oldest = age;		/* least recently used so far */
			ct->way = i;
		}
	}
	return XDPLB_NO_REAL;
}

/*
 * Start loading the set of a flow of this hash, for a SYN, which is placed
 * before its set is read: the load's latency (the table is far larger
 * than the caches) then overlaps the placing. Read first, its unpredictable
 * branches would hold everything behind them until the line arrived.
 */
static __always_inline void ct_touch(__u32 hash)
{
	__u32 idx = hash & (ct_sets - 1);
	struct xdplb_conn_set *s = bpf_map_lookup_elem(&conns, &idx);

	if (s)
		(void)*(volatile __u64 *)&s->tags;
}

/*
 * Track a flow Maglev just placed, in the way ct_lookup chose, within the
 * per-CPU rate cap: the way is claimed by swapping the set's tags as the
 * lookup read them for the same with BUSY in it (another writer since
 * makes the swap fail, and the flow goes untracked this time), filled,
 * then given the flow's tag, unconfirmed.
 */
static __always_inline void ct_insert(const struct xdplb_flow *flow,
				      __u32 real_id, __u16 real_gen,
				      struct ct_ctx *ct,
				      struct xdplb_global_stats *gs)
{
	struct xdplb_ct_guard *g = ct->guard;
	struct xdplb_conn_set *s = ct->set;
	__u32 w;

	if (!s || ct->way == CT_WAY_BUSY)
		return;
	if (ct->way < 0) {
		g->full++;
		return;
	}
	if (g->now - g->window_start >= 1000000000ull) {
		g->window_start = g->now;
		g->inserts = 0;
	}
	if (g->inserts >= ct_rate) {
		gs->ct_flood++;
		return;
	}
	w = ct->way & (XDPLB_CT_WAYS - 1);
	if (__sync_val_compare_and_swap(&s->tags, ct->tags,
					tags_with(ct->tags, w,
						  XDPLB_CT_TAG_BUSY)) !=
	    ct->tags) {
		g->lost++;
		return;
	}
	g->inserts++;
	s->flow[w] = *flow;
	s->real_id[w] = real_id;
	s->real_gen[w] = real_gen;
	s->created[w] = ct->now;
	s->last_seen[w] = ct->now;
	ct_barrier();
	*(volatile __u16 *)&s->tag[w] = ct->tag;
	gs->ct_new++;
}

#endif /* XDPLB_CONNTRACK_H */
