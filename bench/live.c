// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * live.c - `xdplb-bench live NETNS SECS ROUNDS FLOWS IF:NAME...`: packets
 * per second through real veths.
 *
 * In network namespace NETNS each IF is the generator's end of a veth pair
 * whose other end, in another namespace, carries the program under test
 * (NAME in the figures), which turns the frames back with XDP_TX. Here:
 *   - bench_flows (target empty) generates 64-byte UDP frames to
 *     198.18.1.1:9000 from FLOWS different clients, through
 *     BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES and the ingress
 *     device set to IF, so XDP_TX sends them out of IF (LAB.md, gotcha 4);
 *   - bench_sink on every IF counts what comes back and drops it; it also
 *     is the XDP program the far end's XDP_TX needs on its peer (gotcha 1).
 * Each round sends for SECS seconds on every IF in turn, the first IF
 * first; the first IF is the floor every other is compared to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_flows.skel.h"
#include "bench_sink.skel.h"
#include "bench.h"

#define MAX_IFS		4
#define PKT_LEN		64
#define CHUNK		(1u << 20)	/* frames per BPF_PROG_TEST_RUN */
#define LIVE_VIP	0xc6120101	/* 198.18.1.1 */
#define LIVE_PORT	9000

struct target {
	const char *name;
	char ifname[IF_NAMESIZE];
	int ifindex;
	double mpps[BENCH_MAX_ROUNDS];
	double offered[BENCH_MAX_ROUNDS];
};

static void build_frame(__u8 *p)
{
	static const __u8 dst[6] = { 2, 0, 0, 0, 0, 0x02 };
	static const __u8 src[6] = { 2, 0, 0, 0, 0, 0x0a };
	struct ethhdr *eth = (void *)p;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip + 1);

	memset(p, 0, PKT_LEN);
	memcpy(eth->h_dest, dst, 6);
	memcpy(eth->h_source, src, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(PKT_LEN - sizeof(*eth));
	ip->daddr = htonl(LIVE_VIP);
	uh->dest = htons(LIVE_PORT);
	uh->len = htons(PKT_LEN - sizeof(*eth) - sizeof(*ip));
}

static __u64 sink_count(struct bench_sink_bpf *sink, int ncpus)
{
	__u64 *v = calloc(ncpus, sizeof(*v)), sum = 0;
	__u32 zero = 0;
	int c;

	if (v && !bpf_map_lookup_elem(bpf_map__fd(sink->maps.received),
				      &zero, v))
		for (c = 0; c < ncpus; c++)
			sum += v[c];
	free(v);
	return sum;
}

/* Send for secs seconds out of t; Mpps that came back and that went. */
static int send_for(int gen_fd, struct bench_sink_bpf *sink, int ncpus,
		    struct target *t, double secs, int round)
{
	__u8 frame[PKT_LEN];
	/* The kernel wants data_end to be the frame's length. */
	struct xdp_md ctx = { .data_end = sizeof(frame),
			      .ingress_ifindex = t->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame, .data_size_in = sizeof(frame),
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = CHUNK, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	struct timespec settle = { .tv_nsec = 50000000 };
	double t0, t1;
	__u64 before, sent = 0;

	build_frame(frame);
	before = sink_count(sink, ncpus);
	t0 = now_s();
	do {
		if (bpf_prog_test_run_opts(gen_fd, &opts)) {
			fprintf(stderr, "bench: live frames on '%s': %s\n",
				t->ifname, strerror(errno));
			return -errno;
		}
		sent += CHUNK;
		t1 = now_s();
	} while (t1 - t0 < secs);
	nanosleep(&settle, NULL);
	t->mpps[round] = (sink_count(sink, ncpus) - before) / (t1 - t0) / 1e6;
	t->offered[round] = sent / (t1 - t0) / 1e6;
	return 0;
}

int cmd_live(int argc, char **argv)
{
	struct target tg[MAX_IFS];
	struct bench_flows_bpf *gen = NULL;
	struct bench_sink_bpf *sink = NULL;
	int i, n, round, rounds, ncpus, gen_fd, err = -1;
	double secs;
	__u32 flows;
	char note[128];

	if (argc < 6 || argc - 5 > MAX_IFS) {
		fprintf(stderr, "usage: xdplb-bench live NETNS SECS ROUNDS "
			"FLOWS IF:NAME...\n");
		return -EINVAL;
	}
	secs = atof(argv[2]);
	rounds = atoi(argv[3]);
	flows = strtoul(argv[4], NULL, 0);
	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS)
		rounds = 3;
	n = argc - 5;
	memset(tg, 0, sizeof(tg));
	for (i = 0; i < n; i++) {
		char *colon = strchr(argv[5 + i], ':');

		if (!colon || colon - argv[5 + i] >= IF_NAMESIZE) {
			fprintf(stderr, "bench: '%s' is not IF:NAME\n",
				argv[5 + i]);
			return -EINVAL;
		}
		memcpy(tg[i].ifname, argv[5 + i], colon - argv[5 + i]);
		tg[i].name = colon + 1;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 1 || pin_cpu(0) || bench_enter_netns(argv[1]))
		return -1;

	gen = bench_flows_bpf__open_and_load();
	sink = bench_sink_bpf__open_and_load();
	if (!gen || !sink) {
		fprintf(stderr, "bench: cannot load the generator or sink\n");
		goto out;
	}
	gen->data->nflows = flows;
	gen->data->sequential = 1;
	gen_fd = bpf_program__fd(gen->progs.bench_flows);
	for (i = 0; i < n; i++) {
		tg[i].ifindex = if_nametoindex(tg[i].ifname);
		if (!tg[i].ifindex ||
		    bpf_xdp_attach(tg[i].ifindex,
				   bpf_program__fd(sink->progs.bench_sink),
				   XDP_FLAGS_DRV_MODE, NULL)) {
			fprintf(stderr, "bench: cannot attach the sink to "
				"'%s': %s\n", tg[i].ifname, strerror(errno));
			goto out;
		}
	}
	fprintf(stderr, "bench: live frames, %d rounds x %d devices x %g s\n",
		rounds, n, secs);
	for (round = 0; round < rounds; round++)
		for (i = 0; i < n; i++)
			if (send_for(gen_fd, sink, ncpus, &tg[i], secs, round))
				goto out;

	for (i = 0; i < n; i++) {
		snprintf(note, sizeof(note), "offered %.2f Mpps by the "
			 "generator; %u flows", median(tg[i].offered, rounds),
			 flows);
		row_print(stdout, &(struct bench_row){
			.section = "live", .name = tg[i].name,
			.value = median(tg[i].mpps, rounds), .unit = "Mpps",
			.base_name = i ? tg[0].name : NULL,
			.base = median(tg[0].mpps, rounds),
			.target = i ? T_RATIO_MIN : T_NONE, .limit = 0.9,
			.note = note, .samples = tg[i].mpps,
			.nsamples = rounds });
	}
	err = 0;
out:
	for (i = 0; i < n; i++)
		if (tg[i].ifindex)
			bpf_xdp_detach(tg[i].ifindex, XDP_FLAGS_DRV_MODE,
				       NULL);
	bench_flows_bpf__destroy(gen);
	bench_sink_bpf__destroy(sink);
	return err;
}
