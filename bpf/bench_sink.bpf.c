// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_sink.bpf.c - bench only: the end of the live traffic path. Counts
 * every frame that comes back from the load balancer and drops it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* received[0], per CPU: frames seen; user space sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} received SEC(".maps");

SEC("xdp")
int bench_sink(struct xdp_md *ctx __attribute__((unused)))
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&received, &zero);

	if (n)
		(*n)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
