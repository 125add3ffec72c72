// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pktfuzz.c - the XDP program fed millions of frames through
 * BPF_PROG_TEST_RUN, each mutated from a valid one, with the data path's
 * invariants checked on every frame.
 *
 *   pktfuzz [-n FRAMES] [-s SEED] [-i FRAME] [-v]
 *
 * It loads the real skeleton and seeds a world through the control plane
 * (user/instance/lb.c), as tests/prog/test_packets.c does: services of
 * every kind (5-tuple, src-ip, one-packet scheduling, port 0, IPv4 and
 * IPv6, sorry reals below quorum, drained and down reals, none at all) and
 * a small connection table, so that frames fill it and the flood guard
 * refuses some. The world changes as frames run (weights, reals down and
 * up, reals deleted and added back in their slot with a new generation).
 *
 * Seeds are valid frames built field by field: 0..3 VLAN tags (802.1Q,
 * 802.1ad), IPv4 with options, IPv6 with chains of extension headers up to
 * and past the program's bound (fragment headers among them, two at
 * times), fragments (first, later, identifications that repeat), TCP with
 * any flags, UDP, ICMP and ICMPv6 errors quoting flows of the VIPs (cut
 * short at times), ARP, other protocols and ethertypes; addresses and
 * ports mostly of the services. Mutations then set fields to edge values,
 * set or flip bytes, cut, grow, insert and delete; now and then a seed is
 * cut at every length from 14 bytes on.
 *
 * The invariants, for every frame: the program ran; the verdict is
 * XDP_PASS, XDP_DROP or XDP_TX; the frame comes back as long as it went;
 * PASS and DROP leave it byte for byte; TX changes the destination MAC to
 * the MAC of a real in use whose service's VIP is the frame's destination
 * address (its L4 protocol and port the frame's too, for a seed sent
 * unmutated, and one its Maglev table holds for a flow placed anew), the
 * source MAC to ifmac, and nothing else; a TCP or UDP seed the program
 * parses whole, sent unmutated, goes to its service (dropped only when
 * the service has no real to place it on) or is passed, and to the real
 * this CPU's connection table holds for its flow unless it is a SYN;
 * rx_packets and rx_bytes move by one frame and exactly one verdict
 * counter of the verdict's kind by one. Every so often, and at the end:
 * the reals'
 * counters and the services' add up to tx_packets; the frags map holds no
 * more than its bound, only datagrams to a VIP, naming a real or none;
 * every way of the connection table holds a TCP or UDP flow to a VIP, to a
 * real id in range, at most once per set.
 *
 * A failure prints the seed and the frame's number and the frame as hex,
 * and exits 1; the last line is "pktfuzz: N frames ... N failed". The run
 * is the same for a seed but for the clocks the data path reads: -s SEED
 * -i FRAME runs it again up to that frame and shows it with its verdict.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* xdplb.h first: the skeleton's .rodata names struct xdplb_build. */
#include "xdplb.h"
#include "xdplb.skel.h"
#include "xdplb.h"
#include "xdplb_hash.h"
#include "addr.h"
#include "lb.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PKT_MAX		2048
#define MAX_FIELDS	96
#define TABLE_SIZE	251
#define CT_SIZE		1024	/* small: frames fill it */
#define CT_RATE		2000	/* the guard refuses some flows */
#define CHECK_EVERY	65536	/* frames between the map checks */
#define CHURN_EVERY	1024	/* frames between changes of the world */

static const __u8 lb_mac[ETH_ALEN] = { 0x02, 0x1b, 0x00, 0x00, 0x00, 0xfe };
static const __u8 client_mac[ETH_ALEN] = { 0x02, 0xcc, 0x00, 0x00, 0x00, 0x01 };

/* The PRNG: splitmix64, so that frame i of seed s is reproducible. */
static __u64 rng_state;

static __u64 rnd64(void)
{
	__u64 z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in 0..n-1. */
static __u32 rnd(__u32 n)
{
	return n ? (__u32)(rnd64() % n) : 0;
}

/* True once in n. */
static bool one_in(__u32 n)
{
	return rnd(n) == 0;
}

/* The world -------------------------------------------------------------- */

struct svc_def {
	const char *vip;
	__u32 flags;
	int nreals;
	__u16 weight[4];
	__u8 rflags[4];		/* XDPLB_REAL_F_SORRY, _DOWN */
	__u32 quorum;
};

static const struct svc_def svc_defs[] = {
	{ "10.0.0.1:80/tcp", 0, 3, { 1, 1, 0 } },
	{ "10.0.0.1:53/udp", 0, 2, { 1, 2 } },
	{ "[2001:db8::1]:80/tcp", 0, 3, { 1, 1, 2 } },
	{ "[2001:db8::1]:53/udp", 0, 2, { 1, 1 } },
	{ "10.0.0.2:0/tcp", 0, 2, { 1, 1 } },
	{ "10.0.0.2:443/tcp", 0, 2, { 1, 3 } },
	{ "10.0.0.3:80/tcp", 0, 0, { 0 } },
	{ "10.0.0.4:80/tcp", 0, 2, { 0, 0 } },
	{ "10.0.0.6:80/tcp", XDPLB_SVC_F_HASH_SRC, 3, { 1, 1, 1 } },
	{ "10.0.0.6:53/udp", XDPLB_SVC_F_HASH_SRC, 2, { 1, 1 } },
	{ "[2001:db8::6]:53/udp", XDPLB_SVC_F_HASH_SRC, 3, { 1, 1, 1 } },
	{ "10.0.0.7:53/udp", XDPLB_SVC_F_OPS, 2, { 1, 1 } },
	{ "10.0.0.9:80/tcp", 0, 4, { 1, 1, 1, 1 },
	  { 0, XDPLB_REAL_F_DOWN, XDPLB_REAL_F_SORRY, XDPLB_REAL_F_SORRY }, 2 },
	{ "[2001:db8::2]:0/udp", 0, 2, { 1, 1 } },
	{ "[2001:db8::2]:0/tcp", XDPLB_SVC_F_HASH_SRC, 2, { 1, 1 } },
};

#define N_SVC	ARRAY_SIZE(svc_defs)

static struct xdplb_bpf *skel;
static struct lb lb;
static struct xdplb_real *reals;	/* the whole reals array */
static struct xdplb_svc_key svc_key[N_SVC];
static struct xdplb_svc svc_rec[N_SVC];
static __u32 real_id[N_SVC][4];
static int prog_fd = -1;
static bool verbose;
static __u64 show_iter = ~0ull;	/* -i: the frame to show, and stop */
/* Which reals each service's Maglev table holds (scanned after every
 * rebuild), and how many: a flow placed anew goes to one of them. */
static bool in_table[N_SVC][4];
static int table_reals[N_SVC];

/* Addresses the generator picks from. */
static const char *const vips4[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3",
				     "10.0.0.4", "10.0.0.6", "10.0.0.7",
				     "10.0.0.9", "10.9.9.9" };
static const char *const vips6[] = { "2001:db8::1", "2001:db8::2",
				     "2001:db8::6", "2001:db8:9::9" };
static const char *const clients4[] = { "192.0.2.10", "192.0.2.11",
					"198.51.100.1", "10.0.0.1" };
static const char *const clients6[] = { "2001:db8:c::10", "2001:db8:c::11",
					"2001:db8:ff::1" };
static const __u16 ports[] = { 80, 53, 443, 8443, 0, 1, 65535, 40000 };

static void die(const char *what, int err)
{
	fprintf(stderr, "pktfuzz: %s: %s\n", what, strerror(err < 0 ? -err :
								     err));
	exit(2);
}

/* Real r of service s: MAC 02:52:00:00:s:r+1. */
static void real_mac(int s, int r, __u8 mac[ETH_ALEN])
{
	static const __u8 base[ETH_ALEN] = { 0x02, 0x52, 0, 0, 0, 0 };

	memcpy(mac, base, ETH_ALEN);
	mac[4] = s;
	mac[5] = r + 1;
}

static void add_real(int s, int r)
{
	const struct svc_def *d = &svc_defs[s];
	struct xdplb_real real = {};
	char addr[64];
	int err;

	if (svc_key[s].family == XDPLB_AF_INET6)
		snprintf(addr, sizeof(addr), "2001:db8:100:%x::%x", s, r + 1);
	else
		snprintf(addr, sizeof(addr), "10.100.%d.%d", s, r + 1);
	if (parse_addr(addr, &real.addr, &real.family))
		die("parse_addr", EINVAL);
	real_mac(s, r, real.mac);
	real.svc_id = svc_rec[s].id;
	real.weight = d->weight[r];
	real.flags = d->rflags[r];
	err = lb_real_add(&lb, reals, &real, &real_id[s][r]);
	if (err)
		die("lb_real_add", err);
}

static void rebuild(int s)
{
	int err = lb_rebuild(&lb, reals, &svc_rec[s]);
	__u32 slot, id;
	int r;

	if (err)
		die("lb_rebuild", err);
	memset(in_table[s], 0, sizeof(in_table[s]));
	table_reals[s] = 0;
	for (slot = 0; slot < svc_rec[s].table_size; slot++) {
		err = lb_maglev_real(&lb, svc_rec[s].id, slot, &id);
		if (err)
			die("lb_maglev_real", err);
		for (r = 0; r < svc_defs[s].nreals; r++)
			if (id == real_id[s][r] && !in_table[s][r]) {
				in_table[s][r] = true;
				table_reals[s]++;
			}
	}
}

/* One CPU for the program (BPF_PROG_TEST_RUN runs it on the caller's):
 * its rate cap then counts every frame. */
static void pin_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		die("sched_getaffinity", errno);
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
		;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity", errno);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void setup(void)
{
	struct xdplb_config cfg = {
		.magic = XDPLB_MAGIC,
		.abi_version = XDPLB_ABI_VERSION,
		.table_size = TABLE_SIZE,
		.hash_seed = XDPLB_DEFAULT_HASH_SEED,
		.ct_size = CT_SIZE,
		.ct_rate = CT_RATE,
		.tcp_timeout = XDPLB_DEFAULT_TCP_TIMEOUT,
		.udp_timeout = XDPLB_DEFAULT_UDP_TIMEOUT,
	};
	size_t s;
	int tmpl, err, r;

	libbpf_set_print(quiet);
	pin_cpu();
	lb_init(&lb);
	skel = xdplb_bpf__open();
	if (!skel)
		die("xdplb_bpf__open", errno);
	skel->rodata->hash_seed = cfg.hash_seed;
	memcpy((void *)skel->rodata->ifmac, lb_mac, ETH_ALEN);
	memcpy(cfg.ifmac, lb_mac, ETH_ALEN);
	err = xdplb_size_conns(skel, CT_SIZE, CT_RATE,
			       XDPLB_DEFAULT_TCP_TIMEOUT * 1000000000ull,
			       XDPLB_DEFAULT_UDP_TIMEOUT * 1000000000ull);
	if (err)
		die("xdplb_size_conns", err);
	tmpl = xdplb_size_tables(skel, TABLE_SIZE);
	if (tmpl < 0)
		die("xdplb_size_tables", tmpl);
	err = xdplb_bpf__load(skel);
	close(tmpl);
	if (err)
		die("loading the XDP program", err);
	prog_fd = bpf_program__fd(skel->progs.xdplb);
	err = lb_from_skel(&lb, skel, &cfg);
	if (err)
		die("lb_from_skel", err);
	reals = calloc(XDPLB_MAX_REALS, sizeof(*reals));
	if (!reals)
		die("calloc", ENOMEM);
	err = lb_reals(&lb, reals);
	if (err)
		die("lb_reals", err);

	for (s = 0; s < N_SVC; s++) {
		const struct svc_def *d = &svc_defs[s];

		if (parse_vip(d->vip, &svc_key[s]))
			die(d->vip, EINVAL);
		err = lb_svc_add(&lb, &svc_key[s], d->flags, 0);
		if (!err)
			err = lb_svc_get(&lb, &svc_key[s], &svc_rec[s]);
		if (err)
			die("lb_svc_add", err);
		if (d->quorum) {
			struct xdplb_svc_opts o = { .quorum = d->quorum };

			err = lb_svc_opts_set(&lb, svc_rec[s].id, &o);
			if (err)
				die("lb_svc_opts_set", err);
		}
		for (r = 0; r < d->nreals; r++)
			add_real(s, r);
		if (d->nreals)
			rebuild(s);
	}
}

/* One change of the world, as an operator or the health checker makes it:
 * a weight, a real down or up, a real deleted and added back (its slot
 * then has a new generation: its tracked flows and fragments end). */
static void churn(void)
{
	int s, r, err;
	__u32 id;

	do
		s = rnd(N_SVC);
	while (!svc_defs[s].nreals);
	r = rnd(svc_defs[s].nreals);
	id = real_id[s][r];
	switch (rnd(4)) {
	case 0:
		reals[id].weight = rnd(4);
		break;
	case 1:
		reals[id].flags ^= XDPLB_REAL_F_DOWN;
		break;
	case 2:
		reals[id].flags ^= XDPLB_REAL_F_SORRY;
		break;
	default:
		/* As del-real: out of the table, then out of the reals
		 * (lb_real_del moves its counters to the service's). */
		reals[id].flags = 0;
		rebuild(s);
		err = lb_real_del(&lb, id);
		if (err)
			die("lb_real_del", err);
		add_real(s, r);
		rebuild(s);
		return;
	}
	err = lb_real_update(&lb, id, &reals[id]);
	if (err)
		die("lb_real_update", err);
	rebuild(s);
}

/* Frames ----------------------------------------------------------------- */

/* A frame, the fields it was built of (for mutations and reports), and
 * what the builder meant it to be. */
struct frame {
	__u8 data[PKT_MAX];
	__u32 len;
	struct {
		__u16 off, len;
		const char *name;
	} field[MAX_FIELDS];
	int nfields;
	/* Meant: the flow's destination and L4, when the frame is a TCP or
	 * UDP packet, a fragment of one, or an ICMP error quoting one. */
	int family;		/* 0: not IP */
	struct xdplb_addr dst;
	__u8 proto;		/* the flow's: TCP, UDP, else 0 */
	__u16 dport;		/* the flow's VIP port (host order) */
	bool ports;		/* dport is known: no later fragment */
	/* A TCP or UDP packet, no fragment, whose every header the program
	 * parses (at most two tags, at most XDPLB_MAX_IPV6_EXT extension
	 * headers): as built, it goes to its service or is passed. */
	bool plain;
	struct xdplb_flow flow;	/* a plain frame's */
	bool syn;		/* a plain frame opening a connection */
	bool mutated;
};

static void put(struct frame *f, const char *name, const void *v, __u32 n)
{
	if (f->len + n > PKT_MAX)
		return;
	memcpy(f->data + f->len, v, n);
	if (f->nfields < MAX_FIELDS) {
		f->field[f->nfields].off = f->len;
		f->field[f->nfields].len = n;
		f->field[f->nfields].name = name;
		f->nfields++;
	}
	f->len += n;
}

static void put8(struct frame *f, const char *name, __u8 v)
{
	put(f, name, &v, 1);
}

static void put16(struct frame *f, const char *name, __u16 v)
{
	__be16 be = htons(v);

	put(f, name, &be, 2);
}

static void put32(struct frame *f, const char *name, __u32 v)
{
	__be32 be = htonl(v);

	put(f, name, &be, 4);
}

static void put_rand(struct frame *f, const char *name, __u32 n)
{
	__u8 b[PKT_MAX];
	__u32 i;

	for (i = 0; i < n && i < sizeof(b); i++)
		b[i] = rnd(256);
	if (n)
		put(f, name, b, n);
}

static void addr_of(int family, const char *s, struct xdplb_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(family == XDPLB_AF_INET ? AF_INET : AF_INET6, s, a) != 1)
		die(s, EINVAL);
}

static void pick_addr(int family, bool vip, struct xdplb_addr *a)
{
	if (one_in(16)) {		/* anything at all */
		a->v6[0] = rnd64();
		a->v6[1] = family == XDPLB_AF_INET ? 0 : rnd64();
		a->v6[2] = family == XDPLB_AF_INET ? 0 : rnd64();
		a->v6[3] = family == XDPLB_AF_INET ? 0 : rnd64();
		return;
	}
	if (family == XDPLB_AF_INET)
		addr_of(family, vip ? vips4[rnd(ARRAY_SIZE(vips4))] :
				      clients4[rnd(ARRAY_SIZE(clients4))], a);
	else
		addr_of(family, vip ? vips6[rnd(ARRAY_SIZE(vips6))] :
				      clients6[rnd(ARRAY_SIZE(clients6))], a);
}

static __u16 pick_port(void)
{
	return one_in(4) ? rnd(65536) : ports[rnd(ARRAY_SIZE(ports))];
}

/* TCP or UDP header from sport to dport; TCP flags mostly ACK, at times
 * SYN, anything. Returns true for a SYN without ACK: a new connection. */
static bool l4_header(struct frame *f, __u8 proto, __u16 sport, __u16 dport)
{
	static const __u8 flags[] = { 0x10, 0x10, 0x18, 0x02, 0x02, 0x12,
				      0x11, 0x04, 0x00, 0xff };

	put16(f, "l4.source", sport);
	put16(f, "l4.dest", dport);
	if (proto == IPPROTO_TCP) {
		put32(f, "tcp.seq", rnd64());
		put32(f, "tcp.ack_seq", rnd64());
		put8(f, "tcp.doff", (5 + rnd(2) * rnd(11)) << 4);
		__u8 fl = one_in(8) ? rnd(256) : flags[rnd(ARRAY_SIZE(flags))];

		put8(f, "tcp.flags", fl);
		put16(f, "tcp.window", 65535);
		put16(f, "tcp.check", rnd(65536));
		put16(f, "tcp.urg_ptr", 0);
		return (fl & 0x12) == 0x02;
	}
	put16(f, "udp.len", 8 + rnd(200));
	put16(f, "udp.check", rnd(65536));
	return false;
}

/* An ICMP or ICMPv6 error quoting a packet from VIP vip, port vport, to a
 * client: the frame's flow is the quote's, turned around. The quote is
 * cut short at times. */
static void icmp_error(struct frame *f, int family,
		       const struct xdplb_addr *vip)
{
	static const __u8 types4[] = { 3, 11, 0, 8, 5, 12 };
	static const __u8 types6[] = { 1, 2, 3, 128, 135, 4 };
	__u8 proto = one_in(2) ? IPPROTO_TCP : one_in(4) ? IPPROTO_ICMP :
							  IPPROTO_UDP;
	__u16 vport = pick_port(), cport = pick_port();
	struct xdplb_addr client, src = *vip;
	__u32 start, words, i;

	if (one_in(16))
		pick_addr(family, true, &src);	/* another VIP's quote */
	pick_addr(family, false, &client);
	if (family == XDPLB_AF_INET) {
		put8(f, "icmp.type",
		     types4[one_in(8) ? rnd(ARRAY_SIZE(types4)) : rnd(2)]);
		put8(f, "icmp.code", one_in(2) ? 4 : rnd(16));
		put16(f, "icmp.check", rnd(65536));
		put32(f, "icmp.rest", 1400);
		start = f->len;
		words = one_in(4) ? 5 + rnd(11) : 5;
		put8(f, "quote.ipv4.version_ihl",
		     (one_in(32) ? rnd(16) : 4) << 4 |
		     (one_in(32) ? rnd(16) : words));
		put8(f, "quote.ipv4.tos", 0);
		put16(f, "quote.ipv4.tot_len", 1500);
		put16(f, "quote.ipv4.id", rnd(65536));
		put16(f, "quote.ipv4.frag_off",
		      one_in(8) ? rnd(65536) : 0x4000);
		put8(f, "quote.ipv4.ttl", 63);
		put8(f, "quote.ipv4.protocol", proto);
		put16(f, "quote.ipv4.check", 0);
		put(f, "quote.ipv4.saddr", &src.v4, 4);
		put(f, "quote.ipv4.daddr", &client.v4, 4);
		for (i = 5; i < words; i++)
			put32(f, "quote.ipv4.options", 0x01010101);
	} else {
		put8(f, "icmp6.type",
		     types6[one_in(8) ? rnd(ARRAY_SIZE(types6)) : rnd(3)]);
		put8(f, "icmp6.code", rnd(8));
		put16(f, "icmp6.check", rnd(65536));
		put32(f, "icmp6.rest", 1280);
		start = f->len;
		put32(f, "quote.ipv6.ver_tc_flow", (one_in(32) ? rnd(16) : 6)
						   << 28);
		put16(f, "quote.ipv6.payload_len", 1460);
		put8(f, "quote.ipv6.nexthdr", proto);
		put8(f, "quote.ipv6.hop_limit", 63);
		put(f, "quote.ipv6.saddr", src.v6, 16);
		put(f, "quote.ipv6.daddr", client.v6, 16);
	}
	put16(f, "quote.l4.source", vport);
	put16(f, "quote.l4.dest", cport);
	put32(f, "quote.l4.more", rnd64());
	/* A quote cut anywhere: the payload then follows the cut, and the
	 * flow is whatever its bytes say. */
	if (one_in(4)) {
		f->len = start + rnd(f->len - start + 1);
		return;
	}
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		f->proto = proto;
		f->dport = vport;
		f->ports = true;
	}
}

static const __u8 ext_types[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING,
				  IPPROTO_DSTOPTS, IPPROTO_FRAGMENT,
				  IPPROTO_AH };

/* A fragment header's frag_off: atomic, first, later (with M or the
 * last), or anything. */
static __u16 frag6_off(void)
{
	switch (rnd(5)) {
	case 0:
		return 0;
	case 1:
		return 1;			/* first: M */
	case 2:
		return (1 + rnd(200)) << 3 | 1;	/* later, more follow */
	case 3:
		return (1 + rnd(200)) << 3;	/* the last */
	default:
		return rnd(65536);
	}
}

static __u16 frag4_off(void)
{
	switch (rnd(6)) {
	case 0:
	case 1:
		return 0x4000;			/* DF: not a fragment */
	case 2:
		return 0x2000;			/* first */
	case 3:
		return 0x2000 | (1 + rnd(200));	/* later, more follow */
	case 4:
		return 1 + rnd(200);		/* the last */
	default:
		return rnd(65536);
	}
}

/* Build a valid frame. */
static void seed_frame(struct frame *f)
{
	static const __u16 l3s[] = { ETH_P_IP, ETH_P_IP, ETH_P_IP, ETH_P_IP,
				     ETH_P_IPV6, ETH_P_IPV6, ETH_P_IPV6,
				     ETH_P_IPV6, ETH_P_ARP, 0x88cc };
	__u16 type = l3s[rnd(ARRAY_SIZE(l3s))], tags = 0, i;
	struct xdplb_addr src, dst;
	__u8 proto, chain[9];
	int n = 0, family = 0;
	bool later = false, fragment = false;
	__u32 id = 1 + rnd(8);		/* identifications repeat */

	memset(f->data, 0, sizeof(f->data));
	f->len = 0;
	f->nfields = 0;
	f->family = 0;
	memset(&f->dst, 0, sizeof(f->dst));
	f->proto = 0;
	f->dport = 0;
	f->ports = false;
	f->plain = false;
	memset(&f->flow, 0, sizeof(f->flow));
	f->syn = false;
	f->mutated = false;
	if (one_in(4))
		tags = one_in(4) ? 1 + rnd(3) : 1 + rnd(2);
	put(f, "eth.dst", lb_mac, ETH_ALEN);
	put(f, "eth.src", client_mac, ETH_ALEN);
	for (i = 0; i < tags; i++) {
		put16(f, i ? "vlan.proto" : "eth.proto",
		      one_in(2) ? ETH_P_8021Q : ETH_P_8021AD);
		put16(f, "vlan.tci", rnd(4096));
	}
	put16(f, tags ? "vlan.proto" : "eth.proto", type);

	proto = one_in(8) ? rnd(256) :
		one_in(4) ? (type == ETH_P_IP ? IPPROTO_ICMP : IPPROTO_ICMPV6) :
		one_in(2) ? IPPROTO_TCP : IPPROTO_UDP;
	if (type == ETH_P_IP) {
		__u16 frag = frag4_off();
		__u8 words = one_in(4) ? 6 + rnd(10) : 5;

		family = XDPLB_AF_INET;
		pick_addr(family, false, &src);
		pick_addr(family, true, &dst);
		put8(f, "ipv4.version_ihl", 4 << 4 | words);
		put8(f, "ipv4.tos", 0);
		put16(f, "ipv4.tot_len", 0);	/* set below */
		put16(f, "ipv4.id", id);
		put16(f, "ipv4.frag_off", frag);
		put8(f, "ipv4.ttl", 64);
		put8(f, "ipv4.protocol", proto);
		put16(f, "ipv4.check", 0);
		put(f, "ipv4.saddr", &src.v4, 4);
		put(f, "ipv4.daddr", &dst.v4, 4);
		if (words > 5) {
			put8(f, "ipv4.opt.type", one_in(2) ? 7 : 1);
			put8(f, "ipv4.opt.len", (words - 5) * 4 - 1);
			put_rand(f, "ipv4.options", (words - 5) * 4 - 2);
		}
		later = frag & 0x1fff;
		fragment = frag & 0x3fff;
	} else if (type == ETH_P_IPV6) {
		family = XDPLB_AF_INET6;
		pick_addr(family, false, &src);
		pick_addr(family, true, &dst);
		if (one_in(3))
			n = one_in(4) ? rnd(9) : 1 + rnd(2);
		for (i = 0; i < n; i++)
			chain[i] = ext_types[rnd(ARRAY_SIZE(ext_types))];
		chain[n] = proto;
		put32(f, "ipv6.ver_tc_flow", 6u << 28 | rnd(1 << 20));
		put16(f, "ipv6.payload_len", 0);
		put8(f, "ipv6.nexthdr", chain[0]);
		put8(f, "ipv6.hop_limit", 64);
		put(f, "ipv6.saddr", src.v6, 16);
		put(f, "ipv6.daddr", dst.v6, 16);
		for (i = 0; i < n; i++) {
			__u8 len;

			switch (chain[i]) {
			case IPPROTO_FRAGMENT: {
				__u16 off = frag6_off();

				put8(f, "ipv6.frag.next", chain[i + 1]);
				put8(f, "ipv6.frag.reserved", 0);
				put16(f, "ipv6.frag.frag_off", off);
				put32(f, "ipv6.frag.id", id);
				later |= (off & 0xfff8) != 0;
				fragment |= (off & 0xfff9) != 0;
				break;
			}
			case IPPROTO_AH:
				len = 1 + rnd(4);
				put8(f, "ipv6.ah.next", chain[i + 1]);
				put8(f, "ipv6.ah.len", len);
				put16(f, "ipv6.ah.reserved", 0);
				put_rand(f, "ipv6.ah.data", (len + 2) * 4 - 4);
				break;
			default:
				len = rnd(3);
				put8(f, "ipv6.ext.next", chain[i + 1]);
				put8(f, "ipv6.ext.len", len);
				put8(f, "ipv6.ext.opt", 1);	/* PadN */
				put8(f, "ipv6.ext.optlen", (len + 1) * 8 - 4);
				put_rand(f, "ipv6.ext.data", (len + 1) * 8 - 4);
			}
		}
	} else if (type == ETH_P_ARP) {
		put_rand(f, "arp", 28);
	}

	if (family) {
		f->family = family;
		f->dst = dst;
		if (later) {
			put_rand(f, "fragment", rnd(300));
			/* IPv6 names a datagram without its protocol: a
			 * later fragment follows whatever its first was. */
			if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) &&
			    family == XDPLB_AF_INET)
				f->proto = proto;
		} else if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
			__u16 dport = pick_port(), sport = pick_port();

			f->syn = l4_header(f, proto, sport, dport);
			f->proto = proto;
			f->dport = dport;
			f->ports = true;
			f->plain = !fragment && n <= XDPLB_MAX_IPV6_EXT;
			f->flow.src = src;
			f->flow.dst = dst;
			f->flow.sport = htons(sport);
			f->flow.dport = htons(dport);
			f->flow.proto = proto;
			f->flow.family = family;
		} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
			if (one_in(4))
				put_rand(f, "icmp", 8);
			else
				icmp_error(f, family, &dst);
		}
	}
	put_rand(f, "payload", one_in(8) ? rnd(1200) : rnd(64));

	/* Lengths as the headers say them. */
	if (type == ETH_P_IP) {
		__u32 l3 = ETH_HLEN + tags * 4;
		__be16 v = htons(f->len - l3);

		memcpy(f->data + l3 + 2, &v, 2);
	} else if (type == ETH_P_IPV6) {
		__u32 l3 = ETH_HLEN + tags * 4;
		__be16 v = htons(f->len - l3 - 40);

		memcpy(f->data + l3 + 4, &v, 2);
	}
	/* What more than two tags hide, the program does not see. */
	if (tags > XDPLB_MAX_VLAN_TAGS) {
		f->family = 0;
		f->plain = false;
	}
}

/* Set a field to an edge value: zero, all ones, one, its top bit, or
 * random. */
static void mutate_field(struct frame *f)
{
	int k = rnd(f->nfields);
	__u32 off = f->field[k].off, n = f->field[k].len, i;
	__u8 how = rnd(5);

	for (i = 0; i < n && off + i < f->len; i++) {
		__u8 v;

		switch (how) {
		case 0:
			v = 0;
			break;
		case 1:
			v = 0xff;
			break;
		case 2:
			v = i + 1 == n;
			break;
		case 3:
			v = i ? 0 : 0x80;
			break;
		default:
			v = rnd(256);
		}
		f->data[off + i] = v;
	}
}

static void mutate(struct frame *f)
{
	__u32 pos, n, i;

	f->mutated = true;
	switch (rnd(8)) {
	case 0:
	case 1:
		mutate_field(f);
		break;
	case 2:
		f->data[rnd(f->len)] = rnd(256);
		break;
	case 3:
		f->data[rnd(f->len)] ^= 1 << rnd(8);
		break;
	case 4:		/* cut */
		f->len = ETH_HLEN + rnd(f->len - ETH_HLEN + 1);
		break;
	case 5:		/* grow */
		n = 1 + rnd(64);
		if (f->len + n <= PKT_MAX) {
			for (pos = 0; pos < n; pos++)
				f->data[f->len + pos] = rnd(256);
			f->len += n;
		}
		break;
	case 6:		/* insert */
		n = 1 + rnd(16);
		pos = rnd(f->len + 1);
		if (f->len + n <= PKT_MAX) {
			memmove(f->data + pos + n, f->data + pos, f->len - pos);
			for (i = 0; i < n; i++)
				f->data[pos + i] = rnd(256);
			f->len += n;
		}
		break;
	default:	/* delete */
		pos = rnd(f->len);
		n = 1 + rnd(16);
		if (pos + n > f->len)
			n = f->len - pos;
		memmove(f->data + pos, f->data + pos + n, f->len - pos - n);
		f->len -= n;
		if (f->len < ETH_HLEN)
			f->len = ETH_HLEN;
		break;
	}
}

/* Running and checking --------------------------------------------------- */

/* Counters as an array of __u64, named by their place in the struct. */
#define GS_IDX(f)	(offsetof(struct xdplb_global_stats, f) / 8)
#define GS_NAME(x)	[GS_IDX(x)] = #x,
static const char *const gs_names[] = { XDPLB_GLOBAL_STATS(GS_NAME) };
_Static_assert(ARRAY_SIZE(gs_names) ==
	       sizeof(struct xdplb_global_stats) / sizeof(__u64),
	       "XDPLB_GLOBAL_STATS must list every global counter");

#define GS(gs, i)	(((const __u64 *)(gs))[i])

static struct {
	__u64 frames, seeds, pass, drop, tx, failed, checks;
	__u64 plain, placed, tracked;	/* frames the finer checks saw */
} st;

static __u64 seed, iter;
static struct xdplb_global_stats gs_now;

static void global(struct xdplb_global_stats *gs)
{
	int err = lb_global(&lb, gs);

	if (err)
		die("lb_global", err);
}

static void hexdump(const __u8 *b, __u32 len)
{
	__u32 i;

	for (i = 0; i < len; i++)
		fprintf(stderr, "%02x%s", b[i], i % 32 == 31 || i + 1 == len ?
						"\n" : " ");
}

static void fail(const struct frame *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(const struct frame *f, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL seed %llu frame %llu (again: pktfuzz -s %llu "
		"-i %llu): ", (unsigned long long)seed,
		(unsigned long long)iter, (unsigned long long)seed,
		(unsigned long long)iter);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (f) {
		fprintf(stderr, "frame (%u bytes%s):\n", f->len,
			f->mutated ? ", mutated" : "");
		hexdump(f->data, f->len);
	}
	st.failed++;
}

/* The real whose MAC is mac, in use: its id (and service s, index r), or
 * -1. */
static int real_by_mac(const __u8 *mac, int *s, int *r)
{
	for (*s = 0; *s < (int)N_SVC; (*s)++)
		for (*r = 0; *r < svc_defs[*s].nreals; (*r)++) {
			__u32 id = real_id[*s][*r];

			if (!memcmp(reals[id].mac, mac, ETH_ALEN) &&
			    (reals[id].flags & XDPLB_REAL_F_USED) &&
			    reals[id].svc_id == svc_rec[*s].id)
				return id;
		}
	return -1;
}

/* The service a plain frame's flow belongs to, as the data path finds it
 * (the exact port, else the VIP's port 0), or -1. */
static int svc_of_flow(const struct frame *f)
{
	int s, any = -1;

	for (s = 0; s < (int)N_SVC; s++) {
		const struct xdplb_svc_key *k = &svc_key[s];

		if (k->family != f->family || k->proto != f->proto ||
		    memcmp(&k->addr, &f->dst, sizeof(f->dst)))
			continue;
		if (ntohs(k->port) == f->dport)
			return s;
		if (!k->port)
			any = s;
	}
	return any;
}

/* The destination address as the program finds it: after at most two
 * tags, IPv4's or IPv6's. */
static bool frame_dst(const struct frame *f, int *family,
		      struct xdplb_addr *dst)
{
	__u32 off = 12;
	__u16 type;
	int i;

	memset(dst, 0, sizeof(*dst));
	type = f->data[off] << 8 | f->data[off + 1];
	for (i = 0; i < XDPLB_MAX_VLAN_TAGS &&
		    (type == ETH_P_8021Q || type == ETH_P_8021AD); i++) {
		off += 4;
		if (off + 2 > f->len)
			return false;
		type = f->data[off] << 8 | f->data[off + 1];
	}
	off += 2;
	if (type == ETH_P_IP && off + 20 <= f->len) {
		*family = XDPLB_AF_INET;
		memcpy(&dst->v4, f->data + off + 16, 4);
		return true;
	}
	if (type == ETH_P_IPV6 && off + 40 <= f->len) {
		*family = XDPLB_AF_INET6;
		memcpy(dst->v6, f->data + off + 24, 16);
		return true;
	}
	return false;
}

/* What XDP_TX may change: the MACs, to a real of a service of the frame's
 * destination (and of its flow, for a seed as built; one its Maglev
 * table holds, for a flow placed anew), and ifmac. */
static void check_tx(const struct frame *f, const __u8 *out, bool placed)
{
	struct xdplb_addr dst;
	int family, id, s, r;

	if (memcmp(out + ETH_HLEN - 2, f->data + ETH_HLEN - 2,
		   f->len - (ETH_HLEN - 2))) {
		fail(f, "XDP_TX changed bytes past the MACs");
		return;
	}
	if (memcmp(out + ETH_ALEN, lb_mac, ETH_ALEN)) {
		fail(f, "XDP_TX with a source MAC other than ifmac");
		return;
	}
	id = real_by_mac(out, &s, &r);
	if (id < 0) {
		fail(f, "XDP_TX to %02x:%02x:%02x:%02x:%02x:%02x, no real in "
		     "use", out[0], out[1], out[2], out[3], out[4], out[5]);
		return;
	}
	if (!frame_dst(f, &family, &dst) || svc_key[s].family != family ||
	    memcmp(&svc_key[s].addr, &dst, sizeof(dst))) {
		fail(f, "XDP_TX to real %d of %s, not a service of the frame's "
		     "destination", id, svc_defs[s].vip);
		return;
	}
	st.placed += placed;
	if (placed && !in_table[s][r]) {
		fail(f, "a flow placed anew went to real %d of %s, which its "
		     "Maglev table does not hold (weight %u, flags %#x)", id,
		     svc_defs[s].vip, reals[id].weight, reals[id].flags);
		return;
	}
	if (f->mutated || !f->proto)
		return;
	if (svc_key[s].proto != f->proto ||
	    (f->ports && svc_key[s].port && ntohs(svc_key[s].port) != f->dport))
		fail(f, "XDP_TX of a flow to port %u/%u to real %d of %s",
		     f->dport, f->proto, id, svc_defs[s].vip);
}

/* A plain frame as built: to its service (dropped only when the service's
 * table is empty and the flow is not tracked), else passed. */
static void check_plain(const struct frame *f, __u32 verdict)
{
	int s = svc_of_flow(f);

	st.plain++;
	if (s < 0 && verdict != XDP_PASS)
		fail(f, "a flow to no service (port %u/%u): verdict %u, want "
		     "XDP_PASS", f->dport, f->proto, verdict);
	if (s >= 0 && verdict != XDP_TX &&
	    (verdict != XDP_DROP || table_reals[s]))
		fail(f, "a flow of %s (%d reals in its table): verdict %u",
		     svc_defs[s].vip, table_reals[s], verdict);
}

/* The real the connection table sends a plain frame's flow to: a live
 * entry, unless the frame is a SYN (a new connection, placed anew).
 * XDPLB_NO_REAL when there is none. */
static __u32 tracked_real(const struct frame *f)
{
	struct lb_conn_ways set[1];
	__u32 idx;
	int err, w;

	if (!f->plain || f->mutated || f->syn)
		return XDPLB_NO_REAL;
	idx = xdplb_flow_hash(&f->flow, XDPLB_DEFAULT_HASH_SEED) &
	      (lb_ct_sets(&lb) - 1);
	err = lb_conn_set(&lb, idx, set);
	if (err)
		die("lb_conn_set", err);
	for (w = 0; w < XDPLB_CT_WAYS; w++) {
		const struct lb_conn *c = &set->way[w];

		if (c->flow.family && c->real_id < XDPLB_MAX_REALS &&
		    !memcmp(&c->flow, &f->flow, sizeof(f->flow)) &&
		    lb_conn_live(&lb, c, &reals[c->real_id], lb_now_ns()))
			return c->real_id;
	}
	return XDPLB_NO_REAL;
}

/* Run a frame and check what must hold of every frame. */
static void run_frame(const struct frame *f)
{
	static const int pass_c[] = { GS_IDX(pass_not_ip), GS_IDX(pass_not_l4),
				      GS_IDX(pass_not_service),
				      GS_IDX(pass_ipv6_ext) };
	static const int drop_c[] = { GS_IDX(drop_truncated),
				      GS_IDX(drop_malformed),
				      GS_IDX(drop_fragment),
				      GS_IDX(drop_no_real) };
	__u8 out[PKT_MAX + 64];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->data,
		    .data_size_in = f->len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	struct xdplb_global_stats before = gs_now;
	const int *verdict_c;
	int err, moved = 0, which = -1;
	__u32 tracked;
	size_t i, n;

	st.frames++;
	tracked = tracked_real(f);
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (f->len < ETH_HLEN) {	/* the kernel refuses these */
		if (err != -EINVAL)
			fail(f, "a %u-byte frame ran: %s", f->len,
			     strerror(-err));
		return;
	}
	if (err) {
		fail(f, "bpf_prog_test_run_opts: %s", strerror(-err));
		return;
	}
	global(&gs_now);
	if (iter == show_iter) {
		printf("frame %llu (%u bytes%s): verdict %u\n",
		       (unsigned long long)iter, f->len,
		       f->mutated ? ", mutated" : "", opts.retval);
		for (i = 0; i < f->len; i++)
			printf("%02x%s", f->data[i],
			       i % 32 == 31 || i + 1 == f->len ? "\n" : " ");
	}
	if (opts.data_size_out != f->len)
		fail(f, "%u bytes came back", opts.data_size_out);

	switch (opts.retval) {
	case XDP_PASS:
		st.pass++;
		verdict_c = pass_c;
		n = ARRAY_SIZE(pass_c);
		break;
	case XDP_DROP:
		st.drop++;
		verdict_c = drop_c;
		n = ARRAY_SIZE(drop_c);
		break;
	case XDP_TX:
		st.tx++;
		verdict_c = NULL;
		n = 0;
		break;
	default:
		fail(f, "verdict %u", opts.retval);
		return;
	}
	if (opts.retval != XDP_TX &&
	    memcmp(out, f->data, f->len))
		fail(f, "%s changed the frame",
		     opts.retval == XDP_PASS ? "XDP_PASS" : "XDP_DROP");
#define MOVED(c)	(GS(&gs_now, GS_IDX(c)) != GS(&before, GS_IDX(c)))
	if (opts.retval == XDP_TX)
		check_tx(f, out, MOVED(ct_new) || MOVED(ct_flood) ||
			 MOVED(ct_ops) || MOVED(frag_src_ip) ||
			 (MOVED(icmp_fwd) && !MOVED(ct_hit)));
	if (f->plain && !f->mutated)
		check_plain(f, opts.retval);
	if (tracked != XDPLB_NO_REAL) {
		st.tracked++;
		if (opts.retval != XDP_TX ||
		    memcmp(out, reals[tracked].mac, ETH_ALEN))
			fail(f, "a tracked flow (to real %u) did not go to its "
			     "real: verdict %u", tracked, opts.retval);
	}

	/* Counters: one frame in, one verdict counter of its kind. */
	if (GS(&gs_now, GS_IDX(rx_packets)) - GS(&before, GS_IDX(rx_packets))
	    != 1 ||
	    GS(&gs_now, GS_IDX(rx_bytes)) - GS(&before, GS_IDX(rx_bytes)) !=
	    f->len)
		fail(f, "rx_packets or rx_bytes moved wrong");
	for (i = GS_IDX(tx_packets); i <= GS_IDX(drop_no_real); i++) {
		__u64 d = GS(&gs_now, i) - GS(&before, i);

		if (i == GS_IDX(tx_bytes)) {
			if (d != (opts.retval == XDP_TX ? f->len : 0))
				fail(f, "tx_bytes moved by %llu",
				     (unsigned long long)d);
			continue;
		}
		if (!d)
			continue;
		moved += d;
		which = i;
	}
	if (moved != 1) {
		fail(f, "%d verdict counters moved", moved);
		return;
	}
	if (opts.retval == XDP_TX) {
		if (which != (int)GS_IDX(tx_packets))
			fail(f, "XDP_TX counted as %s", gs_names[which]);
		return;
	}
	for (i = 0; i < n; i++)
		if (verdict_c[i] == which)
			return;
	fail(f, "verdict %u counted as %s", opts.retval, gs_names[which]);
}

/* Whether a is the address of a VIP (any service's). */
static bool is_vip(const struct xdplb_addr *a, __u8 family)
{
	size_t s;

	for (s = 0; s < N_SVC; s++)
		if (svc_key[s].family == family &&
		    !memcmp(&svc_key[s].addr, a, sizeof(*a)))
			return true;
	return false;
}

/* The maps: within their bounds, holding only what they may. */
static void check_maps(void)
{
	struct xdplb_frag_key k, next, *prev = NULL;
	struct xdplb_counters c, sum = {};
	struct lb_conn_ways *sets;
	int fd = bpf_map__fd(skel->maps.frags), err, w;
	__u32 nsets, i, j, x, nfrags = 0;
	struct xdplb_frag v;

	st.checks++;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (++nfrags > XDPLB_FRAG_ENTRIES)
			break;
		if (bpf_map_lookup_elem(fd, &k, &v))
			continue;	/* evicted meanwhile */
		if ((k.family != XDPLB_AF_INET && k.family != XDPLB_AF_INET6) ||
		    !is_vip(&k.dst, k.family) ||
		    (v.real_id != XDPLB_NO_REAL &&
		     v.real_id >= XDPLB_MAX_REALS))
			fail(NULL, "frags holds a datagram of family %u to a "
			     "non-VIP or a bad real %u", k.family, v.real_id);
	}
	if (nfrags > XDPLB_FRAG_ENTRIES)
		fail(NULL, "frags holds more than %u entries",
		     XDPLB_FRAG_ENTRIES);

	err = lb_conns(&lb, &sets, &nsets);
	if (err)
		die("lb_conns", err);
	if (nsets != CT_SIZE / XDPLB_CT_WAYS)
		fail(NULL, "the connection table has %u sets", nsets);
	for (i = 0; i < nsets; i++) {
		for (w = 0; w < XDPLB_CT_WAYS; w++) {
			const struct lb_conn *e = &sets[i].way[w];

			if (!e->flow.family)
				continue;
			if ((e->flow.proto != IPPROTO_TCP &&
			     e->flow.proto != IPPROTO_UDP) ||
			    !is_vip(&e->flow.dst, e->flow.family) ||
			    e->real_id >= XDPLB_MAX_REALS ||
			    !(e->tag & XDPLB_CT_TAG_USED))
				fail(NULL, "conns way %d of set %u holds a "
				     "flow of protocol %u, family %u, real "
				     "%u", w, i, e->flow.proto,
				     e->flow.family, e->real_id);
			for (x = w + 1; x < XDPLB_CT_WAYS; x++)
				if (sets[i].way[x].flow.family &&
				    !memcmp(&sets[i].way[x].flow, &e->flow,
					    sizeof(e->flow)))
					fail(NULL, "conns set %u holds a flow "
					     "twice", i);
		}
	}
	free(sets);

	/* What reals forwarded, and services through reals deleted. */
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		if (!(reals[i].flags & XDPLB_REAL_F_USED))
			continue;
		err = lb_counters(&lb, lb.real_stats_fd, i, &c);
		if (err)
			die("lb_counters", err);
		sum.packets += c.packets;
	}
	for (j = 0; j < N_SVC; j++) {
		err = lb_counters(&lb, lb.svc_stats_fd, svc_rec[j].id, &c);
		if (err)
			die("lb_counters", err);
		sum.packets += c.packets;
	}
	if (sum.packets != GS(&gs_now, GS_IDX(tx_packets)))
		fail(NULL, "reals and services forwarded %llu packets, "
		     "tx_packets says %llu", (unsigned long long)sum.packets,
		     (unsigned long long)GS(&gs_now, GS_IDX(tx_packets)));
}

static void usage(void)
{
	fprintf(stderr, "usage: pktfuzz [-n FRAMES] [-s SEED] [-i FRAME] "
		"[-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct frame f, cut;
	__u64 frames = 1000000, t0, t1;
	struct timespec ts;
	int c, k;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = ts.tv_nsec ^ ts.tv_sec;
	while ((c = getopt(argc, argv, "n:s:i:vh")) != -1) {
		switch (c) {
		case 'n':
			frames = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'i':	/* the frames before it too: the same world */
			show_iter = strtoull(optarg, NULL, 0);
			frames = ~0ull;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (geteuid() != 0) {
		fprintf(stderr, "pktfuzz: needs root for BPF_PROG_TEST_RUN\n");
		return 2;
	}
	setup();
	global(&gs_now);
	if (show_iter != ~0ull)
		printf("pktfuzz: seed %llu, up to frame %llu\n",
		       (unsigned long long)seed, (unsigned long long)show_iter);
	else
		printf("pktfuzz: seed %llu, %llu frames\n",
		       (unsigned long long)seed, (unsigned long long)frames);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	for (iter = 0; st.frames < frames && st.failed < 10 &&
		       iter <= show_iter; iter++) {
		rng_state = seed ^ (iter * 0xd1342543de82ef95ull);
		if (iter && iter % CHURN_EVERY == 0)
			churn();
		if (iter && iter % CHECK_EVERY == 0)
			check_maps();
		seed_frame(&f);
		st.seeds++;
		if (one_in(256)) {
			/* Cut at every length, the kernel's minimum less one
			 * included. */
			for (cut = f, k = ETH_HLEN - 1; k <= (int)f.len; k++) {
				cut.len = k;
				cut.mutated = k != (int)f.len;
				run_frame(&cut);
			}
			continue;
		}
		k = one_in(4) ? 0 : 1 + rnd(one_in(4) ? 8 : 3);
		while (k--)
			mutate(&f);
		run_frame(&f);
	}
	check_maps();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = ts.tv_sec * 1000000000ull + ts.tv_nsec;

	if (verbose)	/* every counter: which paths the frames took */
		for (i = 0; i < ARRAY_SIZE(gs_names); i++)
			printf("  %-18s %llu\n", gs_names[i],
			       (unsigned long long)GS(&gs_now, i));
	printf("pktfuzz: %llu frames (%llu seeds) in %.1f s, %.0f frames/s: "
	       "%llu XDP_TX (%llu placed anew), %llu XDP_PASS, %llu XDP_DROP; "
	       "%llu unmutated to a known verdict, %llu of them tracked; "
	       "%llu map checks; %llu failed\n",
	       (unsigned long long)st.frames,
	       (unsigned long long)st.seeds, (t1 - t0) / 1e9,
	       st.frames / ((t1 - t0) / 1e9), (unsigned long long)st.tx,
	       (unsigned long long)st.placed, (unsigned long long)st.pass,
	       (unsigned long long)st.drop, (unsigned long long)st.plain,
	       (unsigned long long)st.tracked, (unsigned long long)st.checks,
	       (unsigned long long)st.failed);
	lb_close(&lb);
	xdplb_bpf__destroy(skel);
	free(reals);
	return st.failed ? 1 : 0;
}
