// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdplb.bpf.c - the data path: one entry function that reads as the
 * pipeline. Each stage lives in its own header and either lets the packet
 * go on (XDPLB_NEXT) or returns a verdict it has counted.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdplb.h"
#include "maps.h"
#include "verdict.h"
#include "parse.h"
#include "service.h"
#include "conntrack.h"
#include "select.h"
#include "fragment.h"
#include "forward.h"

SEC("xdp")
int xdplb(struct xdp_md *ctx)
{
	struct packet pkt = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct xdplb_global_stats *gs;
	struct xdplb_real *real;
	struct xdplb_svc *svc;
	__u32 zero = 0, real_id, hash;
	struct ct_ctx ct;
	int rc;

	gs = bpf_map_lookup_elem(&global_stats, &zero);
	if (!gs)	/* slot 0 of an array always exists */
		return XDP_PASS;
	pkt.len = pkt.end - pkt.pos;
	gs->rx_packets++;
	gs->rx_bytes += pkt.len;

	rc = parse_eth(&pkt, gs);
	if (rc != XDPLB_NEXT)
		return rc;
	rc = parse_l3(&pkt, gs);
	if (rc != XDPLB_NEXT)
		return rc;

	/* A later fragment has no ports: it follows its datagram's first,
	 * which goes on as any packet of its flow (fragment.h). */
	if (pkt.frag_later)
		return forward_later_fragment(ctx, &pkt, gs);

	rc = parse_l4(&pkt, gs);
	if (rc != XDPLB_NEXT)
		return rc;

	/* A new connection: placed, then tracked. Its set is on its way
	 * (ct_touch) from before the VIP filter: the filter's lookup is
	 * more work for the load to hide behind, and a SYN to any other
	 * address costs a hash more. */
	if (pkt.tcp_syn) {
		hash = xdplb_flow_hash(&pkt.flow, hash_seed);
		ct_touch(hash);
		if (!maybe_vip(&pkt.flow))
			return verdict(gs, pass_not_service, XDP_PASS);
		svc = find_service(&pkt.flow);
		if (!svc)
			goto unserved;
		real = select_syn(svc, &pkt.flow, hash, &ct, &real_id, gs);
		if (!real)
			goto no_real;
		goto out;
	}

	/* Tracked flows first: a hit needs no service lookup. */
	if (!maybe_vip(&pkt.flow))
		return verdict(gs, pass_not_service, XDP_PASS);
	hash = xdplb_flow_hash(&pkt.flow, hash_seed);
	real_id = ct_lookup(&pkt.flow, hash, false, &ct, gs);
	if (real_id != XDPLB_NO_REAL) {
		real = ct.real;
		goto out;
	}

	svc = find_service(&pkt.flow);
	if (!svc)
		goto unserved;
	real = select_real(svc, &pkt.flow, hash, pkt.icmp_error, &ct,
			   &real_id, gs);
	if (!real)
		goto no_real;
out:
	if (pkt.icmp_error)
		gs->icmp_fwd++;
	if (pkt.fragment)
		frag_first_sent(&pkt, real, real_id, gs);
	return forward(ctx, real, real_id, pkt.len, gs);
unserved:
	if (pkt.fragment)
		return first_fragment_unserved(&pkt, gs);
	return verdict(gs, pass_not_service, XDP_PASS);
no_real:
	rc = verdict(gs, drop_no_real, XDP_DROP);
	return pkt.fragment ? frag_first_dropped(&pkt, rc) : rc;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
