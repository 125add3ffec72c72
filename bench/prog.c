// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * prog.c - `xdplb-bench prog [ROUNDS]`: the data path's cost per packet,
 * program only (BPF_PROG_TEST_RUN, pinned to CPU 0).
 *
 * Cases run one packet `repeat` times and read the kernel's mean time per
 * run. After the first run a flow is tracked, so that is the cost of an
 * established flow; a repeated SYN is a new connection every time (the
 * data path places a SYN anew even when its port is tracked), so the same
 * method measures the new-connection path.
 *
 * Cases that need a different flow per packet go through bench_flows
 * (bpf/bench_flows.bpf.c), which rewrites the client address and port and
 * tail-calls the program under test; their floor is the floor program
 * behind the same tail call, so the harness costs the same on both sides.
 * The scale cases use it with random flows, already tracked (a warm-up
 * run sends each flow once), and report the growth from the small to the
 * large configuration. The connection table's pair sends the same million
 * random flows to a table of 2M entries kept empty (the new-flow cap at
 * 0: every packet misses and is placed by Maglev) and to one that tracks
 * them all (every packet hits): both
 * touch the same memory, so the ratio is what a full table costs.
 *
 * Beside the new-flow case, a figure of the memory it cannot avoid: one
 * read of a random set in a buffer the size of the connection table at
 * the default size, in 4 KiB pages as the kernel's map is, timed in user
 * space as a chain of dependent loads (mem_chase).
 *
 * Rounds interleave every case, the floors included; figures are medians.
 * `prog ROUNDS MATCH` runs only the cases whose name contains MATCH, with
 * their bases, to reproduce one figure quickly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* xdplb.h first: the skeleton's .rodata names struct xdplb_build. */
#include "xdplb.h"
#include "xdplb.skel.h"
#include "floor.skel.h"
#include "bench_flows.skel.h"
#include "addr.h"
#include "lb.h"
#include "bench.h"

#define REPEAT		10000000	/* program-only cases */
#define SCALE_REPEAT	2000000		/* scale cases: random flows */
#define DEF_ROUNDS	5
#define PKT_LEN		64
#define SCALE_FLOWS	16384		/* random flows of the small cases */
#define BIG_FLOWS	1000000		/* the full connection table */
#define BIG_CT_SIZE	2097152		/* entries: 1M fit, 4-way */
#define MANY_REALS	10000
#define MANY_SVCS	1000
/* The services pair's Maglev tables: tracked flows never read them, and
 * filling 1000 tables of 65537 slots takes the control plane a minute. */
#define SMALL_TABLE	251
#define VIP4		"198.18.0.100"
#define SVC_BASE	0xc6121000	/* 198.18.16.0: the 1000 VIPs */

static const __u8 lb_mac[6] = { 2, 0, 0, 0, 0, 0x02 };
static const __u8 client_mac[6] = { 2, 0, 0, 0, 0, 0x0a };

/* The programs a case can run. */
enum inst {
	I_FLOOR,	/* floor.bpf.c */
	I_MAIN,		/* 3 services x 3 reals: established, SYN, pass */
	I_NEW,		/* same, for flows seen once (fills its table) */
	I_1REAL,	/* 1 service, 1 real */
	I_MANY_REALS,	/* 1 service, 10000 reals */
	I_1SVC,		/* 1 service, 1 real, small Maglev table */
	I_MANY_SVCS,	/* 1000 services, 1 real each, same */
	I_CT_SMALL,	/* 2M-entry table, 16384 flows tracked */
	I_CT_EMPTY,	/* 2M-entry table kept empty: nothing tracked */
	I_CT_FULL,	/* 2M-entry table, 1000000 flows tracked */
	I_COUNT,
};

struct inst_spec {
	int nsvcs;		/* 0: the three of I_MAIN */
	int nreals;
	__u32 ct_size;
	__u32 table_size;	/* 0: the default */
	__u32 warm_flows;	/* flows sent once through bench_flows */
	int untracked;		/* new-flow cap 0: the table stays empty */
	__u32 warm_vips;
};

static const struct inst_spec specs[I_COUNT] = {
	[I_MAIN] = { .nreals = 3, .ct_size = XDPLB_DEFAULT_CT_SIZE },
	[I_NEW] = { .nreals = 3, .ct_size = XDPLB_DEFAULT_CT_SIZE },
	[I_1REAL] = { .nsvcs = 1, .nreals = 1,
		      .ct_size = XDPLB_DEFAULT_CT_SIZE,
		      .warm_flows = SCALE_FLOWS, .warm_vips = 1 },
	[I_MANY_REALS] = { .nsvcs = 1, .nreals = MANY_REALS,
			   .ct_size = XDPLB_DEFAULT_CT_SIZE,
			   .warm_flows = SCALE_FLOWS, .warm_vips = 1 },
	[I_1SVC] = { .nsvcs = 1, .nreals = 1,
		     .ct_size = XDPLB_DEFAULT_CT_SIZE,
		     .table_size = SMALL_TABLE,
		     .warm_flows = SCALE_FLOWS, .warm_vips = 1 },
	[I_MANY_SVCS] = { .nsvcs = MANY_SVCS, .nreals = 1,
			  .ct_size = XDPLB_DEFAULT_CT_SIZE,
			  .table_size = SMALL_TABLE,
			  .warm_flows = SCALE_FLOWS, .warm_vips = MANY_SVCS },
	[I_CT_SMALL] = { .nsvcs = 1, .nreals = 1, .ct_size = BIG_CT_SIZE,
			 .warm_flows = SCALE_FLOWS, .warm_vips = 1 },
	[I_CT_EMPTY] = { .nsvcs = 1, .nreals = 1, .ct_size = BIG_CT_SIZE,
			 .untracked = 1 },
	[I_CT_FULL] = { .nsvcs = 1, .nreals = 1, .ct_size = BIG_CT_SIZE,
			.warm_flows = BIG_FLOWS, .warm_vips = 1 },
};

struct pkt_spec {
	__u16 ethertype;	/* of the IP header */
	__u8 proto;
	__u8 vlan;		/* one 802.1Q tag */
	__u8 syn;		/* SYN without ACK, else ACK */
	__u8 to_service;	/* else to the load balancer's own address, */
	__u8 to_vip;		/* or to a port of the VIP without a service */
	__u16 sport;
};

struct pcase {
	const char *section;
	const char *name;
	enum inst inst;
	struct pkt_spec p;
	/* through bench_flows: nflows flows, sequential or random */
	int wrapped;
	__u32 nflows;
	__u32 nvips;
	int sequential;
	__u32 repeat;
	__u32 expect;
	int base;		/* index of the base case, -1: none */
	enum bench_target target;
	double limit;
	const char *note;
	/* filled in */
	__u8 pkt[PKT_LEN + 64];
	__u32 len;
	double ns[BENCH_MAX_ROUNDS];
};

#define SEC_PROG	"program"
#define SEC_SCALE	"scale"

/* A packet to the service (or not), from client port 40000 unless SYN. */
#define PKT(et, pr, vl, sy, svc) { .ethertype = (et), .proto = (pr), \
	.vlan = (vl), .syn = (sy), .to_service = (svc), \
	.sport = (sy) ? 40001 : 40000 }
#define TCP4()		PKT(ETH_P_IP, IPPROTO_TCP, 0, 0, 1)

static struct pcase cases[] = {
	/* 0 */ { SEC_PROG, "floor", I_FLOOR,
		  TCP4(), .repeat = REPEAT, .expect = XDP_TX, .base = -1 },
	/* 1 */ { SEC_PROG, "IPv4 TCP SYN, same flow again", I_MAIN,
		  PKT(ETH_P_IP, IPPROTO_TCP, 0, 1, 1), .repeat = REPEAT,
		  .expect = XDP_TX, .base = 0,
		  .note = "its entry cleared and written again" },
	/* 2 */ { SEC_PROG, "IPv4 TCP established", I_MAIN, TCP4(),
		  .repeat = REPEAT, .expect = XDP_TX, .base = 0,
		  .target = T_RATIO_MAX, .limit = 2.0 },
	/* 3 */ { SEC_PROG, "IPv4 UDP established", I_MAIN,
		  PKT(ETH_P_IP, IPPROTO_UDP, 0, 0, 1), .repeat = REPEAT,
		  .expect = XDP_TX, .base = 0, .target = T_RATIO_MAX,
		  .limit = 2.0 },
	/* 4 */ { SEC_PROG, "IPv6 TCP established", I_MAIN,
		  PKT(ETH_P_IPV6, IPPROTO_TCP, 0, 0, 1), .repeat = REPEAT,
		  .expect = XDP_TX, .base = 0, .target = T_RATIO_MAX,
		  .limit = 2.0 },
	/* 5 */ { SEC_PROG, "IPv4 TCP established, VLAN-tagged", I_MAIN,
		  PKT(ETH_P_IP, IPPROTO_TCP, 1, 0, 1), .repeat = REPEAT, .expect = XDP_TX,
		  .base = 0, .target = T_RATIO_MAX, .limit = 2.0 },
	/* 6 */ { SEC_PROG, "IPv4 TCP, not a service (pass)", I_MAIN,
		  PKT(ETH_P_IP, IPPROTO_TCP, 0, 0, 0), .repeat = REPEAT, .expect = XDP_PASS,
		  .base = 0, .target = T_RATIO_MAX, .limit = 1.5,
		  .note = "to the load balancer's own address" },
	/* 7 */ { SEC_PROG, "IPv4 TCP, VIP port without service", I_MAIN,
		  { .ethertype = ETH_P_IP, .proto = IPPROTO_TCP, .to_vip = 1,
		    .sport = 40000 }, .repeat = REPEAT, .expect = XDP_PASS,
		  .base = 0, .note = "the connection table, then the index" },
	/* 8 */ { SEC_PROG, "floor, new flow each run",
		  I_FLOOR, TCP4(), .wrapped = 1, .nflows = ~0u, .nvips = 1,
		  .sequential = 1, .repeat = REPEAT, .expect = XDP_TX,
		  .base = -1 },
	/* 9 */ { SEC_PROG, "IPv4 TCP SYN, new flow each run", I_NEW,
		  PKT(ETH_P_IP, IPPROTO_TCP, 0, 1, 1), .wrapped = 1,
		  .nflows = ~0u, .nvips = 1, .sequential = 1,
		  .repeat = REPEAT, .expect = XDP_TX, .base = 8,
		  .target = T_RATIO_MAX, .limit = 3.0 },
	/* 10 */ { SEC_PROG, "IPv4 TCP ACK, new flow each run", I_NEW,
		  TCP4(), .wrapped = 1, .nflows = ~0u, .nvips = 1,
		  .sequential = 1, .repeat = REPEAT, .expect = XDP_TX,
		  .base = 8, .note = "not a SYN: looked up, then placed" },
	/* 11 */ { SEC_SCALE, "floor, random flows", I_FLOOR,
		  TCP4(), .wrapped = 1, .nflows = SCALE_FLOWS, .nvips = 1,
		  .repeat = SCALE_REPEAT, .expect = XDP_TX, .base = -1 },
	/* 12 */ { SEC_SCALE, "1 real", I_1REAL, TCP4(),
		   .wrapped = 1, .nflows = SCALE_FLOWS, .nvips = 1,
		   .repeat = SCALE_REPEAT, .expect = XDP_TX, .base = 11 },
	/* 13 */ { SEC_SCALE, "10000 reals",
		   I_MANY_REALS, TCP4(), .wrapped = 1, .nflows = SCALE_FLOWS,
		   .nvips = 1, .repeat = SCALE_REPEAT, .expect = XDP_TX,
		   .base = 12, .target = T_RATIO_MAX, .limit = 1.10 },
	/* 14 */ { SEC_SCALE, "1 service", I_1SVC,
		   TCP4(), .wrapped = 1, .nflows = SCALE_FLOWS, .nvips = 1,
		   .repeat = SCALE_REPEAT, .expect = XDP_TX, .base = 11 },
	/* 15 */ { SEC_SCALE, "1000 services",
		   I_MANY_SVCS, TCP4(), .wrapped = 1, .nflows = SCALE_FLOWS,
		   .nvips = MANY_SVCS, .repeat = SCALE_REPEAT,
		   .expect = XDP_TX, .base = 14, .target = T_RATIO_MAX,
		   .limit = 1.10,
		   .note = "both with 251-slot Maglev tables" },
	/* 16 */ { SEC_SCALE, "conn table: 16384 flows of 2M entries",
		   I_CT_SMALL, TCP4(), .wrapped = 1, .nflows = SCALE_FLOWS,
		   .nvips = 1, .repeat = SCALE_REPEAT, .expect = XDP_TX,
		   .base = 11, .note = "tracked; their sets fit the caches" },
	/* 17 */ { SEC_SCALE, "conn table: 1000000 flows, table empty",
		   I_CT_EMPTY, TCP4(), .wrapped = 1, .nflows = BIG_FLOWS,
		   .nvips = 1, .repeat = SCALE_REPEAT, .expect = XDP_TX,
		   .base = 11,
		   .note = "new-flow cap 0: each packet misses, placed by Maglev" },
	/* 18 */ { SEC_SCALE, "conn table: 1000000 flows, all tracked",
		   I_CT_FULL, TCP4(), .wrapped = 1, .nflows = BIG_FLOWS,
		   .nvips = 1, .repeat = SCALE_REPEAT, .expect = XDP_TX,
		   .base = 17, .target = T_RATIO_MAX, .limit = 1.10 },
};

#define NCASES	(sizeof(cases) / sizeof(cases[0]))
#define C_SYN_NEW	9	/* the case mem_chase stands beside */

/* The connection table at the default size: sets of 256 bytes. */
#define CHASE_SETS	(XDPLB_DEFAULT_CT_SIZE / XDPLB_CT_WAYS)
#define CHASE_SET	sizeof(struct xdplb_conn_set)
#define CHASE_LOADS	2000000
_Static_assert(CHASE_SETS * CHASE_SET == 64 << 20, "its row says 64 MiB");

/*
 * A buffer of CHASE_SETS sets in 4 KiB pages, the first word of each
 * naming the next set of one random cycle through all of them: following
 * it reads a random set per load, each load waiting on the last, as a
 * new flow's read of its set waits on memory.
 */
static __u64 *chase_setup(void)
{
	size_t words = CHASE_SET / sizeof(__u64), i;
	__u32 *order = malloc(CHASE_SETS * sizeof(*order));
	__u64 *buf;

	buf = mmap(NULL, CHASE_SETS * CHASE_SET, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || !order) {
		free(order);
		return NULL;
	}
	madvise(buf, CHASE_SETS * CHASE_SET, MADV_NOHUGEPAGE);
	for (i = 0; i < CHASE_SETS; i++)
		order[i] = i;
	srandom(1);
	for (i = CHASE_SETS - 1; i > 0; i--) {
		size_t j = random() % (i + 1);
		__u32 t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < CHASE_SETS; i++)
		buf[order[i] * words] = order[(i + 1) % CHASE_SETS] * words;
	free(order);
	return buf;
}

/* Nanoseconds per load along the cycle (after a lap to warm up). */
static double mem_chase(const __u64 *buf)
{
	volatile __u64 sink;
	__u64 p = 0;
	double t;
	size_t i;

	for (i = 0; i < CHASE_SETS; i++)
		p = buf[p];
	t = now_s();
	for (i = 0; i < CHASE_LOADS; i++)
		p = buf[p];
	t = now_s() - t;
	sink = p;
	(void)sink;
	return t * 1e9 / CHASE_LOADS;
}

static void build(struct pcase *c)
{
	const struct pkt_spec *s = &c->p;
	__u8 *p = c->pkt;
	struct ethhdr *eth = (void *)p;
	size_t l3 = sizeof(*eth), l4;
	__be16 dport = htons(s->to_service ? 80 : 8080);

	memcpy(eth->h_dest, lb_mac, 6);
	memcpy(eth->h_source, client_mac, 6);
	if (s->vlan) {
		eth->h_proto = htons(ETH_P_8021Q);
		*(__be16 *)(p + l3) = htons(100);		/* VLAN id */
		*(__be16 *)(p + l3 + 2) = htons(s->ethertype);
		l3 += 4;
	} else {
		eth->h_proto = htons(s->ethertype);
	}
	if (s->ethertype == ETH_P_IP) {
		struct iphdr *ip = (void *)(p + l3);

		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = s->proto;
		ip->tot_len = htons(PKT_LEN - l3);
		inet_pton(AF_INET, "198.18.0.10", &ip->saddr);
		inet_pton(AF_INET, s->to_service || s->to_vip ? VIP4 :
			  "198.18.0.2", &ip->daddr);
		l4 = l3 + sizeof(*ip);
	} else {
		struct ipv6hdr *ip6 = (void *)(p + l3);

		ip6->version = 6;
		ip6->nexthdr = s->proto;
		ip6->hop_limit = 64;
		ip6->payload_len = htons(PKT_LEN - l3 - sizeof(*ip6));
		inet_pton(AF_INET6, "fd00:18::10", &ip6->saddr);
		inet_pton(AF_INET6, s->to_service || s->to_vip ?
			  "fd00:18::100" : "fd00:18::2", &ip6->daddr);
		l4 = l3 + sizeof(*ip6);
	}
	if (s->proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)(p + l4);

		th->source = htons(s->sport);
		th->dest = dport;
		th->doff = 5;
		th->syn = s->syn;
		th->ack = !s->syn;
		c->len = l4 + sizeof(*th);
	} else {
		struct udphdr *uh = (void *)(p + l4);

		uh->source = htons(s->sport);
		uh->dest = dport;
		uh->len = htons(PKT_LEN - l4);
		c->len = l4 + sizeof(*uh);
	}
	if (c->len < PKT_LEN)
		c->len = PKT_LEN;
}

__u32 bench_tcp_ack(__u8 *buf, size_t size, __be32 daddr, __be16 dport)
{
	struct pcase c = { .p = TCP4() };
	struct iphdr *ip = (void *)(c.pkt + sizeof(struct ethhdr));
	struct tcphdr *th = (void *)(ip + 1);

	build(&c);
	if (c.len > size)
		return 0;
	ip->daddr = daddr;
	th->dest = dport;
	memcpy(buf, c.pkt, c.len);
	return c.len;
}

/* One service and its reals; reals are 10.128.0.0 + i for the i-th. */
static int add_service(struct lb *lb, struct xdplb_real *all,
		       const struct xdplb_svc_key *key, int nreals)
{
	struct xdplb_svc svc;
	int err, r;

	err = lb_svc_add(lb, key, 0, 0);
	if (!err)
		err = lb_svc_get(lb, key, &svc);
	for (r = 0; !err && r < nreals; r++) {
		struct xdplb_real real = {
			.svc_id = svc.id, .weight = 1 + r % 3,
			.family = key->family,
			.mac = { 2, 0, 0, 0, (r >> 8) & 0xff, r & 0xff },
		};
		__u32 id;

		if (key->family == XDPLB_AF_INET) {
			real.addr.v4 = htonl(0x0a800000 + r);
		} else {
			real.addr.v6[0] = htonl(0xfd000018);
			real.addr.v6[3] = htonl(0x11 + r);
		}
		err = lb_real_add(lb, all, &real, &id);
	}
	return err ? err : lb_rebuild(lb, all, &svc);
}

static int seed(struct xdplb_bpf *skel, const struct inst_spec *s)
{
	static const char *const main_vips[] = { VIP4 ":80/tcp",
		VIP4 ":80/udp", "[fd00:18::100]:80/tcp" };
	struct xdplb_config cfg = {
		.magic = XDPLB_MAGIC, .abi_version = XDPLB_ABI_VERSION,
		.table_size = s->table_size ? s->table_size :
			      XDPLB_DEFAULT_TABLE_SIZE,
		.hash_seed = XDPLB_DEFAULT_HASH_SEED,
		.ct_size = s->ct_size, .ct_rate = s->untracked ? 0 : ~0u,
		.tcp_timeout = XDPLB_DEFAULT_TCP_TIMEOUT,
		.udp_timeout = XDPLB_DEFAULT_UDP_TIMEOUT,
	};
	struct xdplb_real *all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	struct xdplb_svc_key key;
	struct lb lb;
	int err, i;

	if (!all)
		return -ENOMEM;
	lb_init(&lb);
	err = lb_from_skel(&lb, skel, &cfg);
	for (i = 0; !err && !s->nsvcs && i < 3; i++) {
		err = parse_vip(main_vips[i], &key);
		if (!err)
			err = add_service(&lb, all, &key, s->nreals);
	}
	for (i = 0; !err && i < s->nsvcs; i++) {
		err = parse_vip(VIP4 ":80/tcp", &key);
		if (s->nsvcs > 1)
			key.addr.v4 = htonl(SVC_BASE + i);
		if (!err)
			err = add_service(&lb, all, &key, s->nreals);
	}
	lb_close(&lb);
	free(all);
	return err;
}

/* A loaded and seeded xdplb; the new-flow rate cap is off, or 0 for an
 * instance whose table stays empty. */
static struct xdplb_bpf *load_xdplb(const struct inst_spec *s)
{
	struct xdplb_bpf *skel = xdplb_bpf__open();
	__u32 table = s->table_size ? s->table_size : XDPLB_DEFAULT_TABLE_SIZE;
	int tfd = -1, err;

	if (!skel)
		return NULL;
	memcpy((void *)skel->rodata->ifmac, lb_mac, 6);
	err = xdplb_size_conns(skel, s->ct_size, s->untracked ? 0 : ~0ull,
			       XDPLB_DEFAULT_TCP_TIMEOUT * 1000000000ull,
			       XDPLB_DEFAULT_UDP_TIMEOUT * 1000000000ull);
	if (!err)
		tfd = xdplb_size_tables(skel, table);
	if (err || tfd < 0 || xdplb_bpf__load(skel) || seed(skel, s)) {
		fprintf(stderr, "bench: cannot load and seed xdplb\n");
		if (tfd >= 0)
			close(tfd);
		xdplb_bpf__destroy(skel);
		return NULL;
	}
	close(tfd);
	return skel;
}

struct progs {
	int fd[I_COUNT];
	struct bench_flows_bpf *flows;
	int flows_fd;
};

static int run(struct progs *pr, struct pcase *c, __u32 repeat,
	       double *ns)
{
	__u8 out[sizeof(c->pkt)];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = c->pkt, .data_size_in = c->len,
		.data_out = out, .data_size_out = sizeof(out),
		.repeat = repeat);
	int fd = pr->fd[c->inst];
	__u32 zero = 0;

	if (c->wrapped) {
		struct bench_flows_bpf *f = pr->flows;

		if (bpf_map_update_elem(bpf_map__fd(f->maps.target), &zero,
					&pr->fd[c->inst], BPF_ANY))
			return -errno;
		f->data->nflows = c->nflows;
		f->data->nvips = c->nvips;
		f->data->sequential = c->sequential;
		f->bss->vip_base = SVC_BASE;
		fd = pr->flows_fd;
	}
	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	if (opts.retval != c->expect) {
		fprintf(stderr, "bench: %s: verdict %u, expected %u\n",
			c->name, opts.retval, c->expect);
		return -EINVAL;
	}
	*ns = opts.duration;
	return 0;
}

/* Send every flow of an instance once, so that all are tracked. */
static int warm(struct progs *pr, enum inst i)
{
	struct pcase c = {
		.name = "warm-up", .inst = i, .p = TCP4(), .wrapped = 1,
		.nflows = specs[i].warm_flows, .nvips = specs[i].warm_vips,
		.sequential = 1, .expect = XDP_TX,
	};
	double ns;

	if (!c.nflows)
		return 0;
	build(&c);
	pr->flows->bss->seq = 0;
	return run(pr, &c, c.nflows, &ns);
}

/* Mark the cases to run: those matching, and the bases they need. */
static void select_cases(const char *match, int *want, int *need)
{
	size_t c;

	for (c = 0; c < NCASES; c++)
		want[c] = !match || strstr(cases[c].name, match);
	/* A base comes before its case: from the last case back, so that
	 * a base's own base is marked too. */
	for (c = NCASES; c-- > 0;)
		if (want[c] && cases[c].base >= 0)
			want[cases[c].base] = 1;
	for (c = 0; c < NCASES; c++)
		if (want[c])
			need[cases[c].inst] = 1;
}

int cmd_prog(int argc, char **argv)
{
	int want[NCASES], need[I_COUNT] = { 0 };
	struct floor_bpf *floor = NULL;
	struct xdplb_bpf *skel[I_COUNT] = { NULL };
	struct progs pr = { .flows = NULL };
	int rounds = argc > 1 ? atoi(argv[1]) : DEF_ROUNDS;
	double chase_ns[BENCH_MAX_ROUNDS];
	__u64 *chase = NULL;
	int i, round, err = -1;
	size_t c;

	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS)
		rounds = DEF_ROUNDS;
	select_cases(argc > 2 ? argv[2] : NULL, want, need);
	if (pin_cpu(0))
		fprintf(stderr, "bench: cannot pin to CPU 0\n");
	floor = floor_bpf__open_and_load();
	pr.flows = bench_flows_bpf__open_and_load();
	if (!floor || !pr.flows) {
		fprintf(stderr, "bench: cannot load the floor programs\n");
		goto out;
	}
	pr.fd[I_FLOOR] = bpf_program__fd(floor->progs.xdp_floor);
	pr.flows_fd = bpf_program__fd(pr.flows->progs.bench_flows);
	for (i = I_MAIN; i < I_COUNT; i++) {
		if (!need[i])
			continue;
		skel[i] = load_xdplb(&specs[i]);
		if (!skel[i])
			goto out;
		pr.fd[i] = bpf_program__fd(skel[i]->progs.xdplb);
		if (warm(&pr, i))
			goto out;
	}
	for (c = 0; c < NCASES; c++)
		build(&cases[c]);
	if (want[C_SYN_NEW]) {
		chase = chase_setup();
		if (!chase) {
			fprintf(stderr, "bench: no memory for the set reads\n");
			goto out;
		}
	}

	fprintf(stderr, "bench: program only, %d rounds of %zu cases\n",
		rounds, NCASES);
	for (round = 0; round < rounds; round++) {
		for (c = 0; c < NCASES; c++)
			if (want[c] && run(&pr, &cases[c], cases[c].repeat,
				&cases[c].ns[round]))
				goto out;
		if (chase)
			chase_ns[round] = mem_chase(chase);
	}

	for (c = 0; c < NCASES; c++) {
		const struct pcase *k = &cases[c];
		struct bench_row r;

		if (!want[c])
			continue;
		r = (struct bench_row){
			.section = k->section, .name = k->name,
			.value = median(k->ns, rounds), .unit = "ns",
			.target = k->target, .limit = k->limit,
			.note = k->note, .samples = k->ns,
			.nsamples = rounds,
		};

		if (k->base >= 0) {
			r.base_name = cases[k->base].name;
			r.base = median(cases[k->base].ns, rounds);
		}
		row_print(stdout, &r);
		if (c == C_SYN_NEW && chase) {
			r = (struct bench_row){
				.section = k->section,
				.name = "one read of a random set, 64 MiB",
				.value = median(chase_ns, rounds), .unit = "ns",
				.base_name = cases[k->base].name,
				.base = median(cases[k->base].ns, rounds),
				.note = "user space: the connection table at "
					"the default size; a new flow's set "
					"read costs at least this",
				.samples = chase_ns, .nsamples = rounds,
			};
			row_print(stdout, &r);
		}
	}
	err = 0;
out:
	if (chase)
		munmap(chase, CHASE_SETS * CHASE_SET);
	for (i = 0; i < I_COUNT; i++)
		xdplb_bpf__destroy(skel[i]);
	bench_flows_bpf__destroy(pr.flows);
	floor_bpf__destroy(floor);
	return err;
}
