/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fragment.h - IP fragments of a VIP's TCP and UDP traffic.
 *
 * Only a datagram's first fragment carries the ports. It goes through the
 * pipeline as any packet of its flow does (the connection table, else
 * Maglev) and its real is remembered in frags (xdplb.h), where the
 * datagram's later fragments find it; a first fragment dropped (no service
 * on its port, no real) is remembered as dropped, and so are they. A later
 * fragment whose first was not seen here (reordered, or sent to another
 * load balancer) can still go after its flow when the VIP has a src-ip
 * service for its protocol, which places by client address alone; the VIP
 * marker names that service's port. Any other later fragment of TCP or UDP
 * to a VIP is dropped: no real could reassemble its datagram. A later
 * fragment of anything else, nothing remembered of its first, goes to the
 * kernel, which reassembles what it answers itself.
 *
 * A datagram is keyed as the receiver reassembles it: addresses,
 * identification and, for IPv4, protocol (frag_key).
 */
#ifndef XDPLB_FRAGMENT_H
#define XDPLB_FRAGMENT_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include "xdplb.h"
#include "maps.h"
#include "verdict.h"
#include "parse.h"
#include "service.h"
#include "select.h"
#include "forward.h"

#define FRAG_TIMEOUT_NS	(XDPLB_FRAG_TIMEOUT * 1000000000ull)

static __always_inline void frag_key(const struct packet *pkt,
				     struct xdplb_frag_key *key)
{
	key->src = pkt->flow.src;
	key->dst = pkt->flow.dst;
	key->id = pkt->frag_id;
	/* RFC 8200 names an IPv6 datagram without a protocol: a later
	 * fragment's header may name another than its first's. */
	key->proto = pkt->flow.family == XDPLB_AF_INET ? pkt->flow.proto : 0;
	key->family = pkt->flow.family;
}

/* A first fragment goes to real real_id of generation gen, or is dropped
 * (XDPLB_NO_REAL): its datagram's later ones will be too. */
static __always_inline void frag_remember(const struct packet *pkt,
					  __u32 real_id, __u16 gen)
{
	struct xdplb_frag_key key = {};
	struct xdplb_frag f = {
		.first_ns = bpf_ktime_get_coarse_ns(),
		.real_id = real_id,
		.real_gen = gen,
	};

	frag_key(pkt, &key);
	bpf_map_update_elem(&frags, &key, &f, BPF_ANY);
}

static __always_inline void frag_first_sent(const struct packet *pkt,
					    const struct xdplb_real *real,
					    __u32 real_id,
					    struct xdplb_global_stats *gs)
{
	frag_remember(pkt, real_id, real->gen);
	gs->frag_first++;
}

/* A first fragment dropped: count it, and drop its datagram's later ones
 * too, even where a src-ip service would take them. */
static __always_inline int frag_first_dropped(const struct packet *pkt,
					      int action)
{
	frag_remember(pkt, XDPLB_NO_REAL, 0);
	return action;
}

/* The src-ip service of the marker's VIP for the fragment's protocol. */
static __always_inline struct xdplb_real *
frag_src_ip(const struct xdplb_svc *marker, const struct xdplb_flow *flow,
	    __u32 *id)
{
	struct xdplb_svc *svc;
	__u32 port;

	if (flow->proto == IPPROTO_TCP)
		port = marker->frag_tcp;
	else
		port = marker->frag_udp;
	if (port == XDPLB_NO_FRAG)
		return NULL;
	svc = find_port_service(flow, port);
	if (!svc)
		return NULL;
	*id = maglev_pick(svc, flow, 0);
	return bpf_map_lookup_elem(&reals, id);
}

/* What is remembered of the datagram's first fragment, if it is recent. */
static __always_inline struct xdplb_frag *
frag_remembered(const struct packet *pkt)
{
	struct xdplb_frag_key key = {};
	struct xdplb_frag *f;

	frag_key(pkt, &key);
	f = bpf_map_lookup_elem(&frags, &key);
	if (f && bpf_ktime_get_coarse_ns() - f->first_ns <= FRAG_TIMEOUT_NS)
		return f;
	return NULL;
}

/*
 * A fragment after the first: sent where its first went while that real
 * exists (same slot generation), dropped if its first was; else, TCP and
 * UDP by the VIP's src-ip service, if it has one.
 */
static __always_inline int forward_later_fragment(struct xdp_md *ctx,
						  const struct packet *pkt,
						  struct xdplb_global_stats *gs)
{
	bool l4 = pkt->flow.proto == IPPROTO_TCP ||
		  pkt->flow.proto == IPPROTO_UDP;
	struct xdplb_real *real;
	struct xdplb_svc *marker;
	struct xdplb_frag *f;
	__u32 real_id;

	marker = maybe_vip(&pkt->flow) ? find_vip(&pkt->flow) : NULL;
	if (!marker)
		return l4 ? verdict(gs, pass_not_service, XDP_PASS) :
			    verdict(gs, pass_not_l4, XDP_PASS);
	f = frag_remembered(pkt);
	if (f) {
		real_id = f->real_id;
		if (real_id == XDPLB_NO_REAL)	/* its first was dropped */
			return verdict(gs, drop_fragment, XDP_DROP);
		real = real_still(real_id, f->real_gen);
		if (real) {
			gs->frag_fwd++;
			return forward(ctx, real, real_id, pkt->len, gs);
		}
	}
	/* Nothing remembered of a first fragment of another protocol: the
	 * kernel may have it. One that went to a real since deleted leaves
	 * nobody to reassemble the datagram. */
	if (!l4 && !f)
		return verdict(gs, pass_not_l4, XDP_PASS);
	real = l4 ? frag_src_ip(marker, &pkt->flow, &real_id) : NULL;
	if (!real)
		return verdict(gs, drop_fragment, XDP_DROP);
	gs->frag_src_ip++;
	return forward(ctx, real, real_id, pkt->len, gs);
}

/* No service takes the first fragment's flow: to the kernel if it is not
 * addressed to a VIP, else dropped, as its later fragments will be. */
static __always_inline int
first_fragment_unserved(const struct packet *pkt,
			struct xdplb_global_stats *gs)
{
	if (!find_vip(&pkt->flow))
		return verdict(gs, pass_not_service, XDP_PASS);
	return frag_first_dropped(pkt, verdict(gs, drop_fragment, XDP_DROP));
}

#endif /* XDPLB_FRAGMENT_H */
