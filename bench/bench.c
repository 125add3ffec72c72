// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench.c - `make bench`: the data path's cost per packet, program only.
 *
 * Most cases run one packet through BPF_PROG_TEST_RUN 10 million times on
 * one CPU and read the kernel's average time per run: after the first run
 * its flow is tracked, so this is the cost of an established flow. New
 * flows cannot be repeated that way; their case runs DISTINCT different
 * flows once each and averages the kernel's per-run times, and the floor
 * is measured the same way for its ratio. The floor program
 * (bpf/floor.bpf.c: Ethernet bounds check, MAC rewrite, XDP_TX) runs in the
 * same rounds, interleaved with the cases, and every figure is printed as
 * a ratio to it: absolute numbers move with the machine, ratios much less.
 * Medians of ROUNDS rounds. Prints figures; never fails on them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdplb.skel.h"
#include "floor.skel.h"
#include "addr.h"
#include "lb.h"

#define REPEAT		10000000
#define DISTINCT	200000
#define ROUNDS		5
#define PKT_LEN		64

static const __u8 lb_mac[6] = { 2, 0, 0, 0, 0, 0x02 };
static const __u8 client_mac[6] = { 2, 0, 0, 0, 0, 0x0a };

struct bench_case {
	const char *name;
	int floor;		/* the floor program, not xdplb */
	__u16 ethertype;
	__u8 proto;
	int to_service;
	int distinct;		/* new flows: DISTINCT flows, once each */
	int syn;		/* TCP SYN, not ACK */
	int to_vip;		/* not a service, but to the VIP's address */
	__u32 expect;		/* XDP verdict */
	__u8 pkt[PKT_LEN + 40];
	__u32 len;
	double ns[ROUNDS];
};

static void build(struct bench_case *c)
{
	__u8 *p = c->pkt;
	struct ethhdr *eth = (void *)p;
	size_t l3 = sizeof(*eth), l4;
	__be16 dport = htons(c->to_service ? 80 : 8080);
	/* Not to a service: to the load balancer's own address, as most
	 * such traffic is, or to a port of the VIP without a service. */
	int vip = c->to_service || c->to_vip;

	memcpy(eth->h_dest, lb_mac, 6);
	memcpy(eth->h_source, client_mac, 6);
	eth->h_proto = htons(c->ethertype);
	if (c->ethertype == ETH_P_IP) {
		struct iphdr *ip = (void *)(p + l3);

		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = c->proto;
		ip->tot_len = htons(PKT_LEN - l3);
		inet_pton(AF_INET, "198.18.0.10", &ip->saddr);
		inet_pton(AF_INET, vip ? "198.18.0.100" : "198.18.0.2",
			  &ip->daddr);
		l4 = l3 + sizeof(*ip);
	} else {
		struct ipv6hdr *ip6 = (void *)(p + l3);

		ip6->version = 6;
		ip6->nexthdr = c->proto;
		ip6->hop_limit = 64;
		inet_pton(AF_INET6, "fd00:18::10", &ip6->saddr);
		inet_pton(AF_INET6, vip ? "fd00:18::100" : "fd00:18::2",
			  &ip6->daddr);
		l4 = l3 + sizeof(*ip6);
	}
	if (c->proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)(p + l4);

		th->source = htons(40000);
		th->dest = dport;
		th->doff = 5;
		th->ack = !c->syn;
		th->syn = !!c->syn;
		c->len = l4 + sizeof(*th) + 6;
	} else {
		struct udphdr *uh = (void *)(p + l4);

		uh->source = htons(40000);
		uh->dest = dport;
		uh->len = htons(sizeof(*uh) + 18);
		c->len = l4 + sizeof(*uh) + 18;
	}
	if (c->len < PKT_LEN)
		c->len = PKT_LEN;
}

static int seed(struct xdplb_bpf *skel)
{
	static const char *const vips[] = { "198.18.0.100:80/tcp",
		"198.18.0.100:80/udp", "[fd00:18::100]:80/tcp" };
	static const char *const reals4[] = { "198.18.0.11", "198.18.0.12",
		"198.18.0.13" };
	static const char *const reals6[] = { "fd00:18::11", "fd00:18::12",
		"fd00:18::13" };
	struct xdplb_config cfg = {
		.magic = XDPLB_MAGIC, .abi_version = XDPLB_ABI_VERSION,
		.table_size = XDPLB_DEFAULT_TABLE_SIZE,
		.hash_seed = XDPLB_DEFAULT_HASH_SEED,
	};
	struct xdplb_real *all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	struct lb lb;
	size_t v, r;
	int err;

	if (!all)
		return -ENOMEM;
	lb_init(&lb);
	err = lb_from_skel(&lb, skel, &cfg);
	for (v = 0; !err && v < 3; v++) {
		struct xdplb_svc_key key;
		struct xdplb_svc svc;

		parse_vip(vips[v], &key);
		err = lb_svc_add(&lb, &key, 0, 0);
		if (!err)
			err = lb_svc_get(&lb, &key, &svc);
		for (r = 0; !err && r < 3; r++) {
			struct xdplb_real real = {
				.svc_id = svc.id, .weight = r + 1,
				.family = key.family,
				.mac = { 2, 0, 0, 0, 0, 0x0b + r },
			};
			__u32 id;

			parse_addr(key.family == XDPLB_AF_INET ? reals4[r] :
				   reals6[r], &real.addr, &real.family);
			err = lb_real_add(&lb, all, &real, &id);
		}
		if (!err)
			err = lb_rebuild(&lb, all, &svc);
	}
	lb_close(&lb);
	free(all);
	return err;
}

/* A loaded and seeded xdplb; *tfd is the table template to close. */
static struct xdplb_bpf *load_xdplb(int *tfd)
{
	struct xdplb_bpf *skel = xdplb_bpf__open();

	if (!skel)
		return NULL;
	memcpy((void *)skel->rodata->ifmac, lb_mac, 6);
	/* Every new flow is tracked: the cost of an insert, not of the
	 * flood guard turning it away. */
	skel->rodata->ct_rate = ~0ull;
	*tfd = xdplb_size_tables(skel, XDPLB_DEFAULT_TABLE_SIZE);
	if (*tfd < 0 || xdplb_bpf__load(skel) || seed(skel)) {
		xdplb_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int run_once(int prog_fd, struct bench_case *c, __u32 repeat,
		    __u32 *duration)
{
	__u8 out[sizeof(c->pkt)];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = c->pkt, .data_size_in = c->len,
		.data_out = out, .data_size_out = sizeof(out),
		.repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	if (opts.retval != c->expect) {
		fprintf(stderr, "bench: %s: verdict %u, expected %u\n",
			c->name, opts.retval, c->expect);
		return -EINVAL;
	}
	*duration = opts.duration;
	return 0;
}

/* Each new flow differs in client address and port. */
static void set_flow(struct bench_case *c, __u32 i)
{
	struct ethhdr *eth = (void *)c->pkt;
	size_t l4;

	if (eth->h_proto == htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		ip->saddr = htonl(0xc6120000 | (i >> 16));	/* 198.18.x.x */
		l4 = sizeof(*eth) + sizeof(*ip);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		ip6->saddr.s6_addr32[3] = htonl(i >> 16);
		l4 = sizeof(*eth) + sizeof(*ip6);
	}
	/* source port: the first field of both TCP and UDP headers */
	*(__be16 *)(c->pkt + l4) = htons(1024 + (i & 0xffff) % 60000);
}

static int run(int prog_fd, struct bench_case *c, int round)
{
	__u64 total = 0;
	__u32 d, i;
	int err;

	if (!c->distinct) {
		err = run_once(prog_fd, c, REPEAT, &d);
		c->ns[round] = d;
		return err;
	}
	for (i = 0; i < DISTINCT; i++) {
		/* SYN and ACK cases: flows of their own. */
		set_flow(c, (__u32)(round + (c->syn ? 0 : ROUNDS)) * DISTINCT +
				    i);
		err = run_once(prog_fd, c, 1, &d);
		if (err)
			return err;
		total += d;
	}
	c->ns[round] = (double)total / DISTINCT;
	return 0;
}

static void report_target(const char *what, double ratio, double target)
{
	printf("target: %s at most %.1fx the floor: %.2fx (%s)\n", what,
	       target, ratio, ratio <= target ? "met" : "NOT met");
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	double s[ROUNDS];

	memcpy(s, v, sizeof(s));
	qsort(s, ROUNDS, sizeof(s[0]), dbl_cmp);
	return s[ROUNDS / 2];
}

int main(void)
{
	struct bench_case cases[] = {
		{ .name = "floor (eth+ip check, MACs, XDP_TX)", .floor = 1,
		  .ethertype = ETH_P_IP, .proto = IPPROTO_TCP,
		  .to_service = 1, .expect = XDP_TX },
		{ .name = "IPv4 TCP, established flow", .ethertype = ETH_P_IP,
		  .proto = IPPROTO_TCP, .to_service = 1, .expect = XDP_TX },
		{ .name = "IPv4 UDP, established flow", .ethertype = ETH_P_IP,
		  .proto = IPPROTO_UDP, .to_service = 1, .expect = XDP_TX },
		{ .name = "IPv6 TCP, established flow",
		  .ethertype = ETH_P_IPV6, .proto = IPPROTO_TCP,
		  .to_service = 1, .expect = XDP_TX },
		{ .name = "IPv4 TCP, not a service (pass)",
		  .ethertype = ETH_P_IP, .proto = IPPROTO_TCP,
		  .expect = XDP_PASS },
		{ .name = "IPv4 TCP, VIP, port without service",
		  .ethertype = ETH_P_IP, .proto = IPPROTO_TCP, .to_vip = 1,
		  .expect = XDP_PASS },
		{ .name = "floor, one run per packet", .floor = 1,
		  .ethertype = ETH_P_IP, .proto = IPPROTO_TCP,
		  .to_service = 1, .distinct = 1, .expect = XDP_TX },
		{ .name = "IPv4 TCP SYN, new flow (tracked)",
		  .ethertype = ETH_P_IP, .proto = IPPROTO_TCP, .syn = 1,
		  .to_service = 1, .distinct = 1, .expect = XDP_TX },
		{ .name = "IPv4 TCP ACK, untracked (all CPUs looked at)",
		  .ethertype = ETH_P_IP, .proto = IPPROTO_TCP,
		  .to_service = 1, .distinct = 1, .expect = XDP_TX },
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	struct floor_bpf *floor = NULL;
	struct xdplb_bpf *skel = NULL, *skel_new = NULL;
	int floor_fd, lb_fd, lb_new_fd, tfd = -1, tfd_new = -1, err = 1;
	int round;
	double base = 1;
	cpu_set_t cpus;
	size_t i;

	if (geteuid()) {
		fprintf(stderr, "bench: must run as root\n");
		return 1;
	}
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		perror("bench: cannot pin to CPU 0 (figures are noisier)");

	/* Two instances: the new-flow cases fill their connection table
	 * (and use up its rate cap), which must not evict the flows the
	 * established cases measure. */
	floor = floor_bpf__open_and_load();
	skel = load_xdplb(&tfd);
	skel_new = load_xdplb(&tfd_new);
	if (!floor || !skel || !skel_new) {
		fprintf(stderr, "bench: cannot load and seed xdplb\n");
		goto out;
	}
	floor_fd = bpf_program__fd(floor->progs.xdp_floor);
	lb_fd = bpf_program__fd(skel->progs.xdplb);
	lb_new_fd = bpf_program__fd(skel_new->progs.xdplb);
	for (i = 0; i < n; i++)
		build(&cases[i]);

	printf("xdplb bench: program only, BPF_PROG_TEST_RUN on CPU 0, median "
	       "of %d interleaved rounds, %u-byte frames\n", ROUNDS,
	       cases[0].len);
	printf("established and pass: one packet %d times; new flows: %d "
	       "different flows once each,\nagainst the floor measured the "
	       "same way\n", REPEAT, DISTINCT);
	for (round = 0; round < ROUNDS; round++)
		for (i = 0; i < n; i++)
			if (run(cases[i].floor ? floor_fd :
				cases[i].distinct ? lb_new_fd : lb_fd, &cases[i],
				round))
				goto out;

	printf("%-40s %10s %8s\n", "case", "ns/pkt", "x floor");
	for (i = 0; i < n; i++) {
		double m = median(cases[i].ns);

		if (cases[i].floor)
			base = m;
		printf("%-40s %10.1f %8.2f\n", cases[i].name, m, m / base);
	}
	report_target("established TCP flow", median(cases[1].ns) /
		      median(cases[0].ns), 2.0);
	report_target("new TCP flow (SYN, insert)", median(cases[7].ns) /
		      median(cases[6].ns), 3.0);
	report_target("non-service pass", median(cases[4].ns) /
		      median(cases[0].ns), 1.5);
	err = 0;
out:
	if (tfd >= 0)
		close(tfd);
	if (tfd_new >= 0)
		close(tfd_new);
	xdplb_bpf__destroy(skel);
	xdplb_bpf__destroy(skel_new);
	floor_bpf__destroy(floor);
	return err;
}
