// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xdp_pass.bpf.c - a program that passes every frame. The lab attaches it
 * to the bridge-side peer of the load balancer's veth: a frame turned
 * around with XDP_TX on a veth is only delivered when the peer has an XDP
 * program of its own (LAB.md, gotcha 1).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
