// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_flows.bpf.c - bench only: turns every frame into one of nflows
 * flows, then hands it on. Two uses:
 *   - program-only bench: `target` holds the program under test (xdplb or
 *     the floor), reached by tail call, so that BPF_PROG_TEST_RUN with
 *     repeat sends a different flow each time;
 *   - live traffic generator: `target` is empty, the tail call falls
 *     through and the frame goes back out of its device with XDP_TX
 *     (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES).
 * Frames are Ethernet + IPv4 without options + TCP or UDP; anything else
 * is dropped. Flow i has client address src_base + i / 16384 and client
 * port 1024 + i % 16384, so flows are distinct for any i; the destination
 * is vip_base + i % nvips when nvips > 1. Checksums are not updated: no
 * stack ever sees these frames.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define PORT_BITS	14

/* target[0]: the program under test; empty for the live generator. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

/* Set by user space between runs, through the skeleton's mmapped data. */
__u32 nflows = 1;		/* flows to choose from */
__u32 nvips = 1;		/* destinations, consecutive from vip_base */
__u32 sequential = 1;		/* 1: flow seq++ (fills tables), 0: random */
__u32 src_base = 0x0a000000;	/* 10.0.0.0, host order */
__u32 vip_base;			/* host order; used when nvips > 1 */
__u32 seq;			/* one CPU runs this program at a time */

SEC("xdp")
int bench_flows(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__be16 *sport = (void *)(iph + 1);
	__u32 i, n = nflows ? nflows : 1;

	if ((void *)(sport + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_DROP;
	i = sequential ? seq++ : bpf_get_prandom_u32();
	i %= n;
	iph->saddr = bpf_htonl(src_base + (i >> PORT_BITS));
	*sport = bpf_htons(1024 + (i & ((1u << PORT_BITS) - 1)));
	if (nvips > 1)
		iph->daddr = bpf_htonl(vip_base + i % nvips);
	bpf_tail_call(ctx, &target, 0);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
