/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * conntrack.h - the connection table: which real each tracked flow went
 * to, so that no change of reals, weights, tables or services moves it.
 *
 * Per CPU (RSS mostly keeps a flow on one CPU; a flow that misses on this
 * CPU is looked for on the others and adopted before Maglev places it) and
 * set-associative: a flow can only live in the XDPLB_CT_WAYS ways of its
 * set, found with one inlined array access. It is consulted before the
 * service index: a hit is good while the real it names still exists (same
 * slot generation) and the flow has not idled past its protocol's timeout,
 * and a hit does not look at the service (deleting a service deletes its
 * reals, which ends their flows). Weight does not matter, so a drained
 * real keeps its flows; nor does a service added later that would match
 * the flow, so it keeps its real as in IPVS. New entries per CPU are
 * capped by a token bucket sized from the table (xdplb.h), so that a flood
 * of new flows cannot evict the established ones.
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

struct ct_ctx {
	struct xdplb_ct_guard *guard;
	struct xdplb_conn_set *set;	/* NULL: no table to use */
	struct xdplb_real *real;	/* on a hit */
	__u32 idx;			/* its index in a CPU's table */
	__u32 now;			/* ticks */
	int way;			/* the flow's way or the victim; -1 */
	__u16 tag;
};

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
 * after now is another CPU's clock, when a flow is adopted from it. */
static __always_inline bool ct_fresh(__u32 now, __u32 last, __u16 tag)
{
	return xdplb_ct_fresh(now, last, tag_timeout(tag));
}

/* Set idx of cpu's table. */
static __always_inline struct xdplb_conn_set *ct_set_at(__u32 cpu, __u32 idx)
{
	__u32 pos = cpu * ct_sets + idx;

	return bpf_map_lookup_elem(&conns, &pos);
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

/* The entry of way w of set s still stands for its flow: its real exists
 * (same slot generation) and it has not idled out. */
static __always_inline struct xdplb_real *
ct_good(const struct xdplb_conn_set *s, int w, __u32 now)
{
	struct xdplb_real *real = real_still(s->real_id[w], s->real_gen[w]);

	return real && ct_fresh(now, s->last_seen[w], s->tag[w]) ? real : NULL;
}

/* Keeps the compiler from moving or merging memory accesses across it:
 * the stores below must reach memory in program order (x86 keeps stores
 * in order; the compiler must not undo it). */
#define ct_barrier()	asm volatile("" ::: "memory")

/*
 * Write the flow into way w of this CPU's set. The tag is cleared first
 * and set last, so that another CPU adopting from this set (which checks
 * the tag again after it has read the way: ct_adopt_cpu) never takes a
 * half-written way for a whole one.
 */
static __always_inline void ct_fill(struct ct_ctx *ct,
				    const struct xdplb_flow *flow,
				    __u32 real_id, __u16 real_gen,
				    __u32 created)
{
	struct xdplb_conn_set *s = ct->set;
	int w = ct->way & (XDPLB_CT_WAYS - 1);

	*(volatile __u16 *)&s->tag[w] = 0;
	ct_barrier();
	s->flow[w] = *flow;
	s->real_id[w] = real_id;
	s->real_gen[w] = real_gen;
	s->created[w] = created;
	s->last_seen[w] = ct->now;
	ct_barrier();
	*(volatile __u16 *)&s->tag[w] = ct->tag;
}

#define XDPLB_CT_MAX_CPUS 256	/* bpf_loop bound; stops at the last CPU */

/* Where ct_adopt_cpu() reports an entry it found (scalars only: bpf_loop
 * callbacks cannot hand pointers back through the caller's stack). */
struct ct_adopt_ctx {
	struct xdplb_flow flow;
	__u32 now, created;
	__u32 idx, self, id;
	__u16 gen, tag;
};

static long ct_adopt_cpu(__u32 cpu, void *data)
{
	struct ct_adopt_ctx *a = data;
	struct xdplb_conn_set *s;
	int i;

	if (cpu == a->self)
		return 0;
	s = ct_set_at(cpu, a->idx);
	if (!s)
		return 1;	/* past the last possible CPU */
	for (i = 0; i < XDPLB_CT_WAYS; i++) {
		__u32 id, created;
		__u16 gen;

		if (*(volatile __u16 *)&s->tag[i] != a->tag)
			continue;
		ct_barrier();
		if (!flow_equal(&s->flow[i], &a->flow) ||
		    !ct_good(s, i, a->now))
			continue;
		id = s->real_id[i];
		gen = s->real_gen[i];
		created = s->created[i];
		/* The owning CPU may have refilled the way meanwhile (it
		 * clears the tag first): take it only if still the same. */
		ct_barrier();
		if (*(volatile __u16 *)&s->tag[i] != a->tag ||
		    !flow_equal(&s->flow[i], &a->flow))
			continue;
		a->id = id;
		a->gen = gen;
		a->created = created;
		return 1;
	}
	return 0;
}

/*
 * Look for a->flow on every CPU but this one. A global function: the
 * verifier checks it, and its bpf_loop callback, once for the program
 * instead of once for each path that reaches a miss, which was a third of
 * all the instructions it walked. Its argument is the caller's
 * memory (bpf_loop takes only a stack pointer, hence the copy); it
 * returns the real id found, XDPLB_NO_REAL if none. Its frame stacks on
 * the entry function's (328 bytes with clang 14): together at most 512.
 * Defined here, not static, for the one object that includes this.
 */
__attribute__((noinline)) int ct_adopt_find(struct ct_adopt_ctx *out)
{
	struct ct_adopt_ctx a;

	if (!out)
		return XDPLB_NO_REAL;
	a = *out;
	a.id = XDPLB_NO_REAL;
	bpf_loop(XDPLB_CT_MAX_CPUS, ct_adopt_cpu, &a, 0);
	out->gen = a.gen;
	out->created = a.created;
	return a.id;
}

/*
 * A miss on this CPU: the flow may be tracked on another one (its packets
 * are not pinned to one CPU: veth runs XDP on the sending CPU, RSS
 * indirection tables change). Adopt that entry into ct->way, so the flow
 * keeps its real instead of being placed by Maglev again.
 */
static __always_inline __u32 ct_adopt(const struct xdplb_flow *flow,
				      struct ct_ctx *ct,
				      struct xdplb_global_stats *gs)
{
	struct ct_adopt_ctx a = {
		.flow = *flow, .now = ct->now, .idx = ct->idx, .tag = ct->tag,
		.self = bpf_get_smp_processor_id(),
	};
	__u32 id;

	if (!ct->set)
		return XDPLB_NO_REAL;
	id = ct_adopt_find(&a);
	if (id == XDPLB_NO_REAL)
		return XDPLB_NO_REAL;
	ct->real = bpf_map_lookup_elem(&reals, &id);
	if (!ct->real)
		return XDPLB_NO_REAL;
	if (ct->way >= 0)
		ct_fill(ct, flow, id, a.gen, a.created);
	gs->ct_hit++;
	return id;
}

/*
 * Look the flow up in this CPU's table. Returns its real id when tracked
 * and still good (and refreshes it); otherwise XDPLB_NO_REAL, with ct->way
 * set to the way a new entry should take: the flow's own stale way, an
 * empty or expired one, or the least recently used (ct_adopt then looks on
 * the other CPUs). Only the set's line is read, and the flow of a way
 * whose tag matches. A SYN (fresh) is a new connection that happens to
 * reuse a tracked client port: it is placed anew, never sent after the
 * old one, which may have gone to a real drained since.
 */
static __always_inline __u32 ct_lookup(const struct xdplb_flow *flow,
				       __u32 hash, bool fresh,
				       struct ct_ctx *ct,
				       struct xdplb_global_stats *gs)
{
	__u32 idx = hash & (ct_sets - 1), zero = 0, oldest = 0;
	struct xdplb_conn_set *s;
	bool free = false;	/* ct->way is empty or expired */
	__u16 tag;
	int i;

	ct->way = -1;
	ct->idx = idx;
	ct->now = 0;
	ct->tag = tag = xdplb_ct_tag(hash, flow->proto);
	ct->guard = bpf_map_lookup_elem(&ct_guard, &zero);
	ct->set = ct_set_at(bpf_get_smp_processor_id(), idx);
	if (!ct->guard || !ct->set) {
		ct->set = NULL;
		return XDPLB_NO_REAL;
	}
	s = ct->set;
	ct->now = ct_clock(ct->guard);

#pragma unroll
	for (i = 0; i < XDPLB_CT_WAYS; i++) {
		__u16 t = s->tag[i];
		__u32 age;

		if (!t) {
			if (!free) {		/* the first empty way */
				ct->way = i;
				free = true;
			}
			continue;
		}
		if (t == tag && flow_equal(&s->flow[i], flow)) {
			ct->way = i;
			if (fresh) {
				/* Forget the old connection even if the
				 * rate cap keeps the new one untracked. */
				s->tag[i] = 0;
				return XDPLB_NO_REAL;
			}
			ct->real = ct_good(s, i, ct->now);
			if (ct->real) {
				s->last_seen[i] = ct->now;
				gs->ct_hit++;
				return s->real_id[i];
			}
			gs->ct_expired++;
			return XDPLB_NO_REAL;
		}
		if (!ct_fresh(ct->now, s->last_seen[i], t)) {
			if (!free) {		/* reusable like an empty way */
				ct->way = i;
				free = true;
			}
			continue;
		}
		/* Only this CPU writes its sets, with its own clock. */
		age = ct->now - s->last_seen[i];
		if (!free && (ct->way < 0 || age > oldest)) {
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
	struct xdplb_conn_set *s = ct_set_at(bpf_get_smp_processor_id(),
					     hash & (ct_sets - 1));

	if (s)
		(void)*(volatile __u64 *)s->tag;
}

/*
 * Track a flow Maglev just placed, if this CPU's flood guard has a token
 * for it (xdplb.h): the bucket's time, never behind now, moves one token
 * on per flow tracked, and may not move past a whole burst ahead of now.
 */
static __always_inline void ct_insert(const struct xdplb_flow *flow,
				      __u32 real_id, __u16 real_gen,
				      struct ct_ctx *ct,
				      struct xdplb_global_stats *gs)
{
	struct xdplb_ct_guard *g = ct->guard;
	__u64 tat;

	if (ct->way < 0 || !ct->set)
		return;
	tat = g->window_start;
	if ((__s64)(tat - g->now) < 0)
		tat = g->now;
	if (tat - g->now + ct_gap_ns > ct_limit_ns) {
		gs->ct_flood++;
		return;
	}
	g->window_start = tat + ct_gap_ns;
	g->inserts++;
	ct_fill(ct, flow, real_id, real_gen, ct->now);
	gs->ct_new++;
}

#endif /* XDPLB_CONNTRACK_H */
