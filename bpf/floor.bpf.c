// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor.bpf.c - the benchmark's floor: the least an XDP forwarder can do.
 * Bounds-check Ethernet and IPv4, rewrite both MACs, XDP_TX. xdplb's cost
 * per packet is reported as a ratio to this program's, measured in the
 * same run.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

const volatile __u8 dst_mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 0x0b };
const volatile __u8 src_mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 0x02 };

SEC("xdp")
int xdp_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	int i;

	if ((void *)(iph + 1) > end)
		return XDP_DROP;
	for (i = 0; i < ETH_ALEN; i++) {	/* volatile reads: see forward.h */
		eth->h_dest[i] = dst_mac[i];
		eth->h_source[i] = src_mac[i];
	}
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
