// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_packets.c - the XDP program, packet by packet, through
 * BPF_PROG_TEST_RUN.
 *
 * Every test loads the real skeleton with 251-slot Maglev tables, seeds a
 * small world of services and reals through the control plane (user/lb.c,
 * the code the xdplb command uses), and runs frames built field by field.
 * A case is a row of a table: a description, the packet (struct spec, read
 * by the builders below), and what must happen: the verdict and the one
 * global counter that counts it. The expected output follows from the
 * verdict: XDP_PASS and XDP_DROP give the input back byte for byte; XDP_TX
 * gives it back with the destination MAC set to the real that the flow
 * hash and the service's Maglev table predict, and the source MAC set to
 * ifmac. A failure names the case and the field (or counter) that differed.
 *
 * What BPF_PROG_TEST_RUN does on this kernel (6.18), as these tests rely
 * on it: frames shorter than ETH_HLEN (14 bytes) are refused with -EINVAL
 * and the program does not run (the truncation test checks that, then
 * cuts frames at every length from 14 on); the frame is copied back for
 * every verdict, XDP_DROP included, so drops are checked to leave it
 * untouched too; an output buffer too small gives -ENOSPC. Frames above
 * 3520 bytes are accepted even for this non-frags program, but it sees
 * only the first 3520 (the rest goes to fragments), so none is used here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>

#include "xdplb.skel.h"
#include "xdplb.h"
#include "xdplb_hash.h"
#include "addr.h"
#include "lb.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define TABLE_SIZE	251
#define SEED		XDPLB_DEFAULT_HASH_SEED
#define PKT_MAX		512
#define MAX_FIELDS	64

/* The load balancer's own MAC (ifmac), which frames from the client are
 * addressed to, and the client's (router's) MAC. */
static const __u8 lb_mac[ETH_ALEN] = { 0x02, 0x1b, 0x00, 0x00, 0x00, 0xfe };
static const __u8 client_mac[ETH_ALEN] = { 0x02, 0xcc, 0x00, 0x00, 0x00, 0x01 };

#define CLIENT4		"192.0.2.10"
#define CLIENT6		"2001:db8:c::10"

/* The world ---------------------------------------------------------------- */

enum {
	S_V4_TCP,	/* 10.0.0.1:80/tcp */
	S_V4_UDP,	/* 10.0.0.1:53/udp */
	S_V6_TCP,	/* [2001:db8::1]:80/tcp */
	S_V6_UDP,	/* [2001:db8::1]:53/udp */
	S_ANY_PORT,	/* 10.0.0.2:0/tcp: every port of the VIP */
	S_EXACT,	/* 10.0.0.2:443/tcp: wins over S_ANY_PORT */
	S_NO_REALS,	/* 10.0.0.3:80/tcp, never given a real */
	S_ALL_ZERO,	/* 10.0.0.4:80/tcp, every real drained */
	S_DRAIN,	/* 10.0.0.5:80/tcp, weights 1, 2, 3 */
	N_SVC,
};

#define MAX_REALS_PER_SVC 4

static const struct svc_def {
	const char *vip;
	int nreals;
	__u16 weight[MAX_REALS_PER_SVC];
} svc_defs[N_SVC] = {
	[S_V4_TCP] = { "10.0.0.1:80/tcp", 3, { 1, 1, 1 } },
	[S_V4_UDP] = { "10.0.0.1:53/udp", 2, { 1, 2 } },
	[S_V6_TCP] = { "[2001:db8::1]:80/tcp", 3, { 1, 1, 2 } },
	[S_V6_UDP] = { "[2001:db8::1]:53/udp", 2, { 1, 1 } },
	[S_ANY_PORT] = { "10.0.0.2:0/tcp", 2, { 1, 1 } },
	[S_EXACT] = { "10.0.0.2:443/tcp", 2, { 1, 1 } },
	[S_NO_REALS] = { "10.0.0.3:80/tcp", 0, { 0 } },
	[S_ALL_ZERO] = { "10.0.0.4:80/tcp", 2, { 1, 1 } },
	[S_DRAIN] = { "10.0.0.5:80/tcp", 3, { 1, 2, 3 } },
};

static struct xdplb_bpf *skel;
static struct lb lb;
static struct xdplb_real *reals;	/* the whole reals array */
static __u32 svc_id[N_SVC];
static __u32 real_id[N_SVC][MAX_REALS_PER_SVC];
static int prog_fd = -1;

/* Real r of service s: MAC 02:52:00:00:s:r+1, so that a MAC names both. */
static void real_mac(int s, int r, __u8 mac[ETH_ALEN])
{
	static const __u8 base[ETH_ALEN] = { 0x02, 0x52, 0, 0, 0, 0 };

	memcpy(mac, base, ETH_ALEN);
	mac[4] = s;
	mac[5] = r + 1;
}

static void add_reals(int s)
{
	const struct svc_def *d = &svc_defs[s];
	struct xdplb_svc_key key;
	int r, err;

	for (r = 0; r < d->nreals; r++) {
		struct xdplb_real real = {};
		char addr[64];

		cr_assert_eq(parse_vip(d->vip, &key), 0);
		if (key.family == XDPLB_AF_INET6)
			snprintf(addr, sizeof(addr), "2001:db8:100:%x::%x", s,
				 r + 1);
		else
			snprintf(addr, sizeof(addr), "10.100.%d.%d", s, r + 1);
		cr_assert_eq(parse_addr(addr, &real.addr, &real.family), 0);
		real_mac(s, r, real.mac);
		real.svc_id = svc_id[s];
		real.weight = d->weight[r];
		err = lb_real_add(&lb, reals, &real, &real_id[s][r]);
		cr_assert_eq(err, 0, "lb_real_add %s #%d: %s", d->vip, r,
			     strerror(-err));
	}
	if (d->nreals) {
		err = lb_rebuild(&lb, reals, svc_id[s]);
		cr_assert_eq(err, 0, "lb_rebuild %s: %s", d->vip,
			     strerror(-err));
	}
}

/* Set the weight of real r of service s and rebuild its table. */
static void set_weight(int s, int r, __u16 weight)
{
	__u32 id = real_id[s][r];
	int err;

	reals[id].weight = weight;
	err = lb_real_update(&lb, id, &reals[id]);
	cr_assert_eq(err, 0, "lb_real_update: %s", strerror(-err));
	err = lb_rebuild(&lb, reals, svc_id[s]);
	cr_assert_eq(err, 0, "lb_rebuild: %s", strerror(-err));
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
		.hash_seed = SEED,
	};
	int tmpl, err, s;

	lb_init(&lb);
	if (geteuid() != 0)
		cr_skip_test("needs root for BPF_PROG_TEST_RUN");
	libbpf_set_print(quiet);

	skel = xdplb_bpf__open();
	cr_assert_not_null(skel, "xdplb_bpf__open: %s", strerror(errno));
	skel->rodata->table_size = TABLE_SIZE;
	skel->rodata->hash_seed = SEED;
	memcpy((void *)skel->rodata->ifmac, lb_mac, ETH_ALEN);
	memcpy(cfg.ifmac, lb_mac, ETH_ALEN);
	tmpl = xdplb_size_tables(skel, TABLE_SIZE);
	cr_assert_geq(tmpl, 0, "xdplb_size_tables: %s", strerror(-tmpl));
	err = xdplb_bpf__load(skel);
	close(tmpl);
	if (err == -EPERM)
		cr_skip_test("cannot load BPF here: %s", strerror(-err));
	cr_assert_eq(err, 0, "xdplb_bpf__load: %s", strerror(-err));
	prog_fd = bpf_program__fd(skel->progs.xdplb);

	err = lb_from_skel(&lb, skel, &cfg);
	cr_assert_eq(err, 0, "lb_from_skel: %s", strerror(-err));
	reals = calloc(XDPLB_MAX_REALS, sizeof(*reals));
	cr_assert_not_null(reals);
	cr_assert_eq(lb_reals(&lb, reals), 0);

	for (s = 0; s < N_SVC; s++) {
		struct xdplb_svc_key key;
		struct xdplb_svc svc;

		cr_assert_eq(parse_vip(svc_defs[s].vip, &key), 0);
		err = lb_svc_add(&lb, &key);
		cr_assert_eq(err, 0, "lb_svc_add %s: %s", svc_defs[s].vip,
			     strerror(-err));
		cr_assert_eq(lb_svc_get(&lb, &key, &svc), 0);
		svc_id[s] = svc.id;
		add_reals(s);
	}
	/* Drained after the fact, as an operator would. */
	set_weight(S_ALL_ZERO, 0, 0);
	set_weight(S_ALL_ZERO, 1, 0);
}

static void teardown(void)
{
	lb_close(&lb);
	free(reals);
	xdplb_bpf__destroy(skel);
}

TestSuite(packets, .init = setup, .fini = teardown, .timeout = 30);

/* Packet builders ---------------------------------------------------------- */

/* A frame and the name of every field in it, so a failure can say which
 * field a byte belongs to. flow is the flow the data path should see. */
struct pkt {
	__u8 data[PKT_MAX];
	__u32 len;
	struct {
		__u16 off, len;
		char name[24];
	} field[MAX_FIELDS];
	int nfields;
	int l3_off, l4_off;	/* -1 when absent */
	__u32 l4_end;		/* end of the TCP/UDP header */
	int family;
	__u8 l4;
	struct xdplb_flow flow;
};

static void put(struct pkt *p, const char *name, const void *v, __u32 n)
{
	cr_assert(p->len + n <= PKT_MAX && p->nfields < MAX_FIELDS);
	memcpy(p->data + p->len, v, n);
	p->field[p->nfields].off = p->len;
	p->field[p->nfields].len = n;
	snprintf(p->field[p->nfields].name, sizeof(p->field[0].name), "%s",
		 name);
	p->nfields++;
	p->len += n;
}

static void put8(struct pkt *p, const char *name, __u8 v)
{
	put(p, name, &v, 1);
}

static void put16(struct pkt *p, const char *name, __u16 v)
{
	__be16 be = htons(v);

	put(p, name, &be, 2);
}

static void put32(struct pkt *p, const char *name, __u32 v)
{
	__be32 be = htonl(v);

	put(p, name, &be, 4);
}

static const char *field_at(const struct pkt *p, __u32 off)
{
	int i;

	for (i = 0; i < p->nfields; i++)
		if (off >= p->field[i].off &&
		    off < (__u32)p->field[i].off + p->field[i].len)
			return p->field[i].name;
	return "?";
}

static void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->l3_off = p->l4_off = -1;
}

static void eth(struct pkt *p, __u16 proto)
{
	put(p, "eth.dst", lb_mac, ETH_ALEN);
	put(p, "eth.src", client_mac, ETH_ALEN);
	put16(p, "eth.proto", proto);
}

static void vlan(struct pkt *p, int n, __u16 tci, __u16 proto)
{
	char name[24];

	snprintf(name, sizeof(name), "vlan[%d].tci", n);
	put16(p, name, tci);
	snprintf(name, sizeof(name), "vlan[%d].proto", n);
	put16(p, name, proto);
}

static void addr_of(int family, const char *s, struct xdplb_addr *a)
{
	memset(a, 0, sizeof(*a));
	cr_assert_eq(inet_pton(family == XDPLB_AF_INET ? AF_INET : AF_INET6,
			       s, a), 1, "bad test address %s", s);
}

/* IPv4 with ihl 32-bit words of header (options after the first 5), the
 * version field as given. Lengths and checksum are set by finish(). */
static void ipv4(struct pkt *p, const char *src, const char *dst, __u8 proto,
		 __u8 version, __u8 ihl, __u16 frag_off)
{
	__u8 opt[40], words = ihl & 0xf;
	int i, optlen = words > 5 ? (words - 5) * 4 : 0;

	p->family = XDPLB_AF_INET;
	p->l3_off = p->len;
	p->flow.family = XDPLB_AF_INET;
	addr_of(XDPLB_AF_INET, src, &p->flow.src);
	addr_of(XDPLB_AF_INET, dst, &p->flow.dst);
	put8(p, "ipv4.version_ihl", version << 4 | words);
	put8(p, "ipv4.tos", 0x10);
	put16(p, "ipv4.tot_len", 0);
	put16(p, "ipv4.id", 0x1234);
	put16(p, "ipv4.frag_off", frag_off);
	put8(p, "ipv4.ttl", 64);
	put8(p, "ipv4.protocol", proto);
	put16(p, "ipv4.check", 0);
	put(p, "ipv4.saddr", &p->flow.src.v4, 4);
	put(p, "ipv4.daddr", &p->flow.dst.v4, 4);
	if (optlen) {
		/* A record-route option over the whole space. */
		opt[0] = 7;
		opt[1] = optlen - 1;
		opt[2] = 4;
		for (i = 3; i < optlen - 1; i++)
			opt[i] = 0xa0 + i;
		opt[optlen - 1] = 0;	/* end of options */
		put(p, "ipv4.options", opt, optlen);
	}
}

static void ipv6(struct pkt *p, const char *src, const char *dst, __u8 next,
		 __u8 version)
{
	p->family = XDPLB_AF_INET6;
	p->l3_off = p->len;
	p->flow.family = XDPLB_AF_INET6;
	addr_of(XDPLB_AF_INET6, src, &p->flow.src);
	addr_of(XDPLB_AF_INET6, dst, &p->flow.dst);
	put32(p, "ipv6.ver_tc_flow", (__u32)version << 28 | 0x12345);
	put16(p, "ipv6.payload_len", 0);
	put8(p, "ipv6.nexthdr", next);
	put8(p, "ipv6.hop_limit", 64);
	put(p, "ipv6.saddr", p->flow.src.v6, 16);
	put(p, "ipv6.daddr", p->flow.dst.v6, 16);
}

/* One extension header of type `type` followed by `next`. Options headers
 * and the routing header are padded with PadN; the destination options
 * header is 16 bytes, to exercise the length field; AH carries a 12-byte
 * ICV (24 bytes in all). */
static void ipv6_ext(struct pkt *p, __u8 type, __u8 next, __u16 frag_off)
{
	static const __u8 pad[14] = { 1, 12 };
	static const __u8 pad4[6] = { 1, 4 };
	static const __u8 icv[12] = { 0xde, 0xad, 0xbe, 0xef };

	switch (type) {
	case IPPROTO_HOPOPTS:
		put8(p, "ipv6.hopopts.next", next);
		put8(p, "ipv6.hopopts.len", 0);
		put(p, "ipv6.hopopts.opts", pad4, sizeof(pad4));
		break;
	case IPPROTO_DSTOPTS:
		put8(p, "ipv6.dstopts.next", next);
		put8(p, "ipv6.dstopts.len", 1);
		put(p, "ipv6.dstopts.opts", pad, sizeof(pad));
		break;
	case IPPROTO_ROUTING:
		put8(p, "ipv6.routing.next", next);
		put8(p, "ipv6.routing.len", 0);
		put8(p, "ipv6.routing.type", 4);
		put8(p, "ipv6.routing.segleft", 0);
		put32(p, "ipv6.routing.data", 0);
		break;
	case IPPROTO_FRAGMENT:
		put8(p, "ipv6.frag.next", next);
		put8(p, "ipv6.frag.reserved", 0);
		put16(p, "ipv6.frag.frag_off", frag_off);
		put32(p, "ipv6.frag.id", 0xcafe);
		break;
	case IPPROTO_AH:
		put8(p, "ipv6.ah.next", next);
		put8(p, "ipv6.ah.len", 4);
		put16(p, "ipv6.ah.reserved", 0);
		put32(p, "ipv6.ah.spi", 0x100);
		put32(p, "ipv6.ah.seq", 1);
		put(p, "ipv6.ah.icv", icv, sizeof(icv));
		break;
	default:
		cr_assert_fail("no builder for extension header %u", type);
	}
}

static void tcp(struct pkt *p, __u16 sport, __u16 dport)
{
	p->l4_off = p->len;
	p->flow.sport = htons(sport);
	p->flow.dport = htons(dport);
	p->flow.proto = IPPROTO_TCP;
	put16(p, "tcp.source", sport);
	put16(p, "tcp.dest", dport);
	put32(p, "tcp.seq", 0x01020304);
	put32(p, "tcp.ack_seq", 0);
	put16(p, "tcp.doff_flags", 5 << 12 | 0x02);	/* SYN */
	put16(p, "tcp.window", 65535);
	put16(p, "tcp.check", 0x5a5a);
	put16(p, "tcp.urg_ptr", 0);
	p->l4_end = p->len;
}

static void udp(struct pkt *p, __u16 sport, __u16 dport)
{
	p->l4_off = p->len;
	p->flow.sport = htons(sport);
	p->flow.dport = htons(dport);
	p->flow.proto = IPPROTO_UDP;
	put16(p, "udp.source", sport);
	put16(p, "udp.dest", dport);
	put16(p, "udp.len", 0);
	put16(p, "udp.check", 0x5a5a);
	p->l4_end = p->len;
}

static void icmp_echo(struct pkt *p)
{
	p->l4_off = p->len;
	put8(p, "icmp.type", 8);
	put8(p, "icmp.code", 0);
	put16(p, "icmp.check", 0);
	put16(p, "icmp.id", 0x4242);
	put16(p, "icmp.seq", 1);
}

/* Neighbour solicitation for the target, without options. */
static void icmp6_ns(struct pkt *p, const char *target)
{
	struct xdplb_addr t;

	addr_of(XDPLB_AF_INET6, target, &t);
	p->l4_off = p->len;
	put8(p, "icmp6.type", 135);
	put8(p, "icmp6.code", 0);
	put16(p, "icmp6.check", 0);
	put32(p, "icmp6.reserved", 0);
	put(p, "icmp6.target", t.v6, 16);
}

static void arp_request(struct pkt *p, const char *sender, const char *target)
{
	struct xdplb_addr s, t;
	static const __u8 zero[ETH_ALEN];

	addr_of(XDPLB_AF_INET, sender, &s);
	addr_of(XDPLB_AF_INET, target, &t);
	put16(p, "arp.htype", 1);
	put16(p, "arp.ptype", ETH_P_IP);
	put8(p, "arp.hlen", 6);
	put8(p, "arp.plen", 4);
	put16(p, "arp.op", 1);
	put(p, "arp.sha", client_mac, ETH_ALEN);
	put(p, "arp.spa", &s.v4, 4);
	put(p, "arp.tha", zero, ETH_ALEN);
	put(p, "arp.tpa", &t.v4, 4);
}

static void payload(struct pkt *p, __u32 n)
{
	__u8 b[PKT_MAX];
	__u32 i;

	for (i = 0; i < n; i++)
		b[i] = 0x30 + i % 64;
	if (n)
		put(p, "payload", b, n);
}

static __u16 csum(const __u8 *b, __u32 n)
{
	__u32 sum = 0, i;

	for (i = 0; i + 1 < n; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Length fields and the IPv4 header checksum. (The data path reads no
 * length or checksum field; they are right so that the frames are.) */
static void finish(struct pkt *p)
{
	__u8 *ip = p->data + p->l3_off;
	__u16 v;

	if (p->l3_off < 0)
		return;
	if (p->family == XDPLB_AF_INET) {
		__u32 hlen = (ip[0] & 0xf) * 4;

		v = htons(p->len - p->l3_off);
		memcpy(ip + 2, &v, 2);
		if (hlen >= 20 && p->l3_off + hlen <= p->len) {
			v = htons(csum(ip, hlen));
			memcpy(ip + 10, &v, 2);
		}
	} else {
		v = htons(p->len - p->l3_off - 40);
		memcpy(ip + 4, &v, 2);
	}
	if (p->l4 == IPPROTO_UDP && p->l4_off >= 0) {
		v = htons(p->len - p->l4_off);
		memcpy(p->data + p->l4_off + 4, &v, 2);
	}
}

/* What a case's packet is made of. Zero fields take the defaults: the
 * client's address as source, source port 40000, IP version and IHL right,
 * no tags, no extension headers. */
enum { L3_IPV4 = 1, L3_IPV6, L3_ARP, L3_OTHER };

struct spec {
	int l3;
	__u16 ethertype;	/* L3_OTHER, or a lie about the L3 header */
	__u16 tpid[3];		/* VLAN tags, outer first */
	const char *src, *dst;
	__u8 version;		/* IP version field */
	__u8 ihl;		/* IPv4 header length field */
	__u16 frag;		/* IPv4 frag_off field */
	__u16 ext[8];		/* IPv6 extension headers, EH(type) */
	__u16 frag6;		/* frag_off of an IPv6 fragment header */
	__u8 l4;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, 0 */
	__u16 sport, dport;
	__u16 payload;
};

/* An entry of spec.ext: IPPROTO_HOPOPTS is 0, so a flag marks it used. */
#define EH(type)	(0x100 | IPPROTO_##type)

static void build(struct pkt *p, const struct spec *s)
{
	__u16 type, tci = 100;
	__u8 next;
	int i, n;

	pkt_init(p);
	switch (s->l3) {
	case L3_IPV4:
		type = ETH_P_IP;
		break;
	case L3_IPV6:
		type = ETH_P_IPV6;
		break;
	case L3_ARP:
		type = ETH_P_ARP;
		break;
	default:
		type = s->ethertype;
	}
	if (s->ethertype)
		type = s->ethertype;

	for (n = 0; n < 3 && s->tpid[n]; n++)
		;
	eth(p, n ? s->tpid[0] : type);
	for (i = 0; i < n; i++)
		vlan(p, i, tci + i, i + 1 < n ? s->tpid[i + 1] : type);

	p->l4 = s->l4;
	switch (s->l3) {
	case L3_IPV4:
		ipv4(p, s->src ? s->src : CLIENT4, s->dst, s->l4,
		     s->version ? s->version : 4, s->ihl ? s->ihl : 5,
		     s->frag);
		break;
	case L3_IPV6:
		ipv6(p, s->src ? s->src : CLIENT6, s->dst,
		     s->ext[0] ? s->ext[0] & 0xff : s->l4,
		     s->version ? s->version : 6);
		for (i = 0; i < 8 && s->ext[i]; i++) {
			next = i + 1 < 8 && s->ext[i + 1] ?
				       s->ext[i + 1] & 0xff : s->l4;
			ipv6_ext(p, s->ext[i] & 0xff, next, s->frag6);
		}
		break;
	case L3_ARP:
		arp_request(p, CLIENT4, s->dst);
		break;
	default:
		break;
	}

	switch (s->l4) {
	case IPPROTO_TCP:
		tcp(p, s->sport ? s->sport : 40000, s->dport);
		break;
	case IPPROTO_UDP:
		udp(p, s->sport ? s->sport : 40000, s->dport);
		break;
	case IPPROTO_ICMP:
		icmp_echo(p);
		break;
	case IPPROTO_ICMPV6:
		icmp6_ns(p, s->dst);
		break;
	default:
		break;
	}
	payload(p, s->payload);
	finish(p);
}

/* The builders themselves, against lengths and bytes worked out by hand:
 * a packet test is only as good as the frames it sends. */
Test(builders, frames)
{
	static const struct {
		struct spec spec;
		__u32 len;
	} c[] = {
		{ { L3_IPV4, .dst = "10.0.0.1", .l4 = IPPROTO_TCP }, 54 },
		{ { L3_IPV4, .dst = "10.0.0.1", .l4 = IPPROTO_UDP,
		    .payload = 3 }, 45 },
		{ { L3_IPV4, .tpid = { ETH_P_8021AD, ETH_P_8021Q }, .ihl = 15,
		    .dst = "10.0.0.1", .l4 = IPPROTO_UDP }, 90 },
		{ { L3_IPV6, .ext = { EH(HOPOPTS), EH(DSTOPTS) },
		    .dst = "::1", .l4 = IPPROTO_TCP }, 98 },
		{ { L3_IPV6, .ext = { EH(AH) }, .dst = "::1",
		    .l4 = IPPROTO_TCP }, 98 },
		{ { L3_IPV6, .ext = { EH(FRAGMENT) }, .dst = "::1",
		    .l4 = IPPROTO_UDP }, 70 },
		{ { L3_ARP, .dst = "10.0.0.1" }, 42 },
	};
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		build(&p, &c[i].spec);
		cr_expect_eq(p.len, c[i].len, "frame %zu: %u bytes, want %u", i,
			     p.len, c[i].len);
	}

	/* IPv6, hop-by-hop (next header 0), destination options, TCP. */
	build(&p, &c[3].spec);
	cr_expect_eq(p.data[12] << 8 | p.data[13], ETH_P_IPV6);
	cr_expect_eq(p.data[14] >> 4, 6);
	cr_expect_eq(p.data[14 + 4] << 8 | p.data[14 + 5], 98 - 54,
		     "payload length");
	cr_expect_eq(p.data[14 + 6], IPPROTO_HOPOPTS);
	cr_expect_eq(p.data[54], IPPROTO_DSTOPTS);
	cr_expect_eq(p.data[62], IPPROTO_TCP);
	cr_expect_eq(p.data[63], 1, "dstopts length, 8-byte units less one");
	cr_expect_eq(p.data[78 + 12] >> 4, 5, "tcp data offset");

	/* QinQ, IPv4 with options: tags, header length, checksum. */
	build(&p, &c[2].spec);
	cr_expect_eq(p.data[12] << 8 | p.data[13], ETH_P_8021AD);
	cr_expect_eq(p.data[16] << 8 | p.data[17], ETH_P_8021Q);
	cr_expect_eq(p.data[20] << 8 | p.data[21], ETH_P_IP);
	cr_expect_eq(p.data[22], 0x4f);
	cr_expect_eq(p.data[24] << 8 | p.data[25], 68, "tot_len");
	cr_expect_eq(csum(p.data + 22, 60), 0, "IPv4 header checksum");
	cr_expect_eq(p.data[82 + 4] << 8 | p.data[82 + 5], 8, "udp.len");
}

/* Running and checking ----------------------------------------------------- */

#define GS_FIELDS(X)							\
	X(rx_packets) X(rx_bytes) X(tx_packets) X(tx_bytes)		\
	X(pass_not_ip) X(pass_not_l4) X(pass_not_service)		\
	X(pass_ipv6_ext) X(drop_truncated) X(drop_malformed)		\
	X(drop_fragment) X(drop_no_real)

#define GS_NAME(f) { offsetof(struct xdplb_global_stats, f), #f },
static const struct {
	size_t off;
	const char *name;
} gs_fields[] = { GS_FIELDS(GS_NAME) };

#define GS(gs, i) (*(__u64 *)((char *)(gs) + gs_fields[i].off))
#define CNT(f) offsetof(struct xdplb_global_stats, f)

struct expect {
	__u32 action;
	size_t counter;		/* the global counter of the verdict */
	int svc;		/* XDP_TX: the service, S_* */
};

#define TX(s)		{ XDP_TX, CNT(tx_packets), s }
#define PASS(f)		{ XDP_PASS, CNT(f), -1 }
#define DROP(f)		{ XDP_DROP, CNT(f), -1 }

/* What happened to one packet. */
struct result {
	__u32 action;
	__u32 len;
	__u8 out[PKT_MAX];
	int svc, real;		/* XDP_TX: service and real it went to */
};

static const char *action_name(__u32 a)
{
	switch (a) {
	case XDP_ABORTED:
		return "XDP_ABORTED";
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	default:
		return "?";
	}
}

static const char *counter_name(size_t off)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(gs_fields); i++)
		if (gs_fields[i].off == off)
			return gs_fields[i].name;
	return "?";
}

static void global(struct xdplb_global_stats *gs)
{
	int err = lb_global(&lb, gs);

	cr_assert_eq(err, 0, "lb_global: %s", strerror(-err));
}

static struct xdplb_counters counters(int fd, __u32 id)
{
	struct xdplb_counters c;
	int err = lb_counters(&lb, fd, id, &c);

	cr_assert_eq(err, 0, "lb_counters: %s", strerror(-err));
	return c;
}

/* The real the data path must pick for a flow of service s: the flow
 * hash, the slot, and the slot's entry in the service's inner table. */
static __u32 predict(const struct xdplb_flow *flow, int s)
{
	__u32 id = svc_id[s], inner, slot, real = XDPLB_NO_REAL;
	int fd;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.maglev), &id, &inner))
		return XDPLB_NO_REAL;
	fd = bpf_map_get_fd_by_id(inner);
	cr_assert_geq(fd, 0, "inner map %u: %s", inner, strerror(errno));
	slot = xdplb_flow_hash(flow, SEED) % TABLE_SIZE;
	cr_assert_eq(bpf_map_lookup_elem(fd, &slot, &real), 0);
	close(fd);
	return real;
}

/* Run the first len bytes of p through the program once. */
static int run(const struct pkt *p, __u32 len, struct result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->data,
		    .data_size_in = len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .repeat = 1);
	int err;

	memset(r, 0, sizeof(*r));
	r->svc = r->real = -1;
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return err;
	r->action = opts.retval;
	r->len = opts.data_size_out;
	return 0;
}

/* Which of our reals has this MAC: sets r->svc and r->real. */
static void who(struct result *r)
{
	int s, i;
	__u8 mac[ETH_ALEN];

	for (s = 0; s < N_SVC; s++)
		for (i = 0; i < svc_defs[s].nreals; i++) {
			real_mac(s, i, mac);
			if (!memcmp(mac, r->out, ETH_ALEN)) {
				r->svc = s;
				r->real = i;
			}
		}
}

/*
 * Run the first len bytes of p and check the verdict, the output and the
 * global counters against e. Returns true when everything matched; every
 * mismatch is reported with the case and the field.
 */
static bool check(const char *desc, const struct pkt *p, __u32 len,
		  const struct expect *e, struct result *r)
{
	struct xdplb_global_stats before, after, want = {};
	__u8 expected[PKT_MAX];
	bool ok = true;
	size_t i;
	int err;

	global(&before);
	err = run(p, len, r);
	cr_assert_eq(err, 0, "%s: bpf_prog_test_run_opts: %s", desc,
		     strerror(-err));
	global(&after);

	if (r->action != e->action) {
		cr_expect_fail("%s (%u bytes): verdict %s, want %s (%s)",
			       desc, len, action_name(r->action),
			       action_name(e->action),
			       counter_name(e->counter));
		ok = false;
	}
	if (r->len != len) {
		cr_expect_fail("%s: output is %u bytes, input %u", desc, r->len,
			       len);
		ok = false;
	}

	/* The expected output. */
	memcpy(expected, p->data, len);
	if (e->action == XDP_TX) {
		__u32 id = predict(&p->flow, e->svc);

		if (id >= XDPLB_MAX_REALS) {
			cr_expect_fail("%s: service %s has no real to predict",
				       desc, svc_defs[e->svc].vip);
			return false;
		}
		memcpy(expected, reals[id].mac, ETH_ALEN);
		memcpy(expected + ETH_ALEN, lb_mac, ETH_ALEN);
		who(r);
		if (r->action == XDP_TX && r->svc != e->svc) {
			cr_expect_fail("%s: went to %s%s, want a real of %s",
				       desc,
				       r->svc < 0 ? "an unknown MAC" :
						    "a real of ",
				       r->svc < 0 ? "" : svc_defs[r->svc].vip,
				       svc_defs[e->svc].vip);
			ok = false;
		}
	}
	for (i = 0; i < len && i < r->len; i++) {
		if (r->out[i] == expected[i])
			continue;
		cr_expect_fail("%s: byte %zu (%s) is 0x%02x, want 0x%02x%s",
			       desc, i, field_at(p, i), r->out[i], expected[i],
			       i < ETH_ALEN && e->action == XDP_TX ?
				       " (the predicted real's MAC)" : "");
		ok = false;
		break;
	}

	/* One packet in, one verdict counted. */
	GS(&want, 0) = 1;
	GS(&want, 1) = len;
	*(__u64 *)((char *)&want + e->counter) += 1;
	if (e->action == XDP_TX)
		want.tx_bytes = len;
	for (i = 0; i < ARRAY_SIZE(gs_fields); i++) {
		__u64 d = GS(&after, i) - GS(&before, i);

		if (d != GS(&want, i)) {
			cr_expect_fail("%s: counter %s moved by %llu, "
				       "want %llu", desc, gs_fields[i].name,
				       (unsigned long long)d,
				       (unsigned long long)GS(&want, i));
			ok = false;
		}
	}
	return ok;
}

/* The table ---------------------------------------------------------------- */

#define VIP4	"10.0.0.1"
#define VIP4B	"10.0.0.2"
#define VIP6	"2001:db8::1"
#define OTHER4	"10.9.9.9"
#define OTHER6	"2001:db8:9::9"
#define V4	.l3 = L3_IPV4
#define V6	.l3 = L3_IPV6
#define TCP	.l4 = IPPROTO_TCP
#define UDP	.l4 = IPPROTO_UDP
#define QINQ	.tpid = { ETH_P_8021AD, ETH_P_8021Q }

struct pcase {
	const char *desc;
	struct spec spec;
	struct expect expect;
};

static const struct pcase cases[] = {
	/* To a service: forwarded, only the MACs change. */
	{ "IPv4 TCP to a service",
	  { V4, .dst = VIP4, TCP, .dport = 80, .payload = 32 },
	  TX(S_V4_TCP) },
	{ "IPv4 UDP to a service",
	  { V4, .dst = VIP4, UDP, .dport = 53, .payload = 40 },
	  TX(S_V4_UDP) },
	{ "IPv6 TCP to a service",
	  { V6, .dst = VIP6, TCP, .dport = 80, .payload = 32 },
	  TX(S_V6_TCP) },
	{ "IPv6 UDP to a service",
	  { V6, .dst = VIP6, UDP, .dport = 53, .payload = 7 },
	  TX(S_V6_UDP) },
	{ "IPv4 TCP, no payload",
	  { V4, .dst = VIP4, TCP, .dport = 80, .sport = 1 },
	  TX(S_V4_TCP) },
	{ "IPv4 TCP, DF set (not a fragment)",
	  { V4, .dst = VIP4, TCP, .dport = 80, .frag = 0x4000 },
	  TX(S_V4_TCP) },
	{ "802.1Q, IPv4 TCP",
	  { V4, .tpid = { ETH_P_8021Q }, .dst = VIP4, TCP, .dport = 80,
	    .payload = 10 },
	  TX(S_V4_TCP) },
	{ "802.1ad only, IPv4 UDP",
	  { V4, .tpid = { ETH_P_8021AD }, .dst = VIP4, UDP, .dport = 53 },
	  TX(S_V4_UDP) },
	{ "QinQ (802.1ad + 802.1Q), IPv4 TCP",
	  { V4, QINQ, .dst = VIP4, TCP, .dport = 80, .payload = 10 },
	  TX(S_V4_TCP) },
	{ "QinQ (802.1ad + 802.1Q), IPv6 UDP",
	  { V6, QINQ, .dst = VIP6, UDP, .dport = 53, .payload = 10 },
	  TX(S_V6_UDP) },
	{ "three VLAN tags: passed",
	  { V4, .tpid = { ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021Q },
	    .dst = VIP4, TCP, .dport = 80 },
	  PASS(pass_not_ip) },
	{ "IPv4 IHL 6 (4 bytes of options)",
	  { V4, .ihl = 6, .dst = VIP4, TCP, .dport = 80, .payload = 8 },
	  TX(S_V4_TCP) },
	{ "IPv4 IHL 15 (40 bytes of options)",
	  { V4, .ihl = 15, .dst = VIP4, UDP, .dport = 53, .payload = 8 },
	  TX(S_V4_UDP) },
	{ "IPv4 IHL 15 in QinQ",
	  { V4, QINQ, .ihl = 15, .dst = VIP4, TCP, .dport = 80 },
	  TX(S_V4_TCP) },
	{ "IPv6 hop-by-hop + destination options, TCP",
	  { V6, .ext = { EH(HOPOPTS), EH(DSTOPTS) }, .dst = VIP6,
	    TCP, .dport = 80, .payload = 16 },
	  TX(S_V6_TCP) },
	{ "IPv6 routing header, UDP",
	  { V6, .ext = { EH(ROUTING) }, .dst = VIP6, UDP, .dport = 53 },
	  TX(S_V6_UDP) },
	{ "IPv6 AH (24 bytes), TCP",
	  { V6, .ext = { EH(AH) }, .dst = VIP6, TCP, .dport = 80 },
	  TX(S_V6_TCP) },
	{ "IPv6 atomic fragment (offset 0, M 0), TCP",
	  { V6, .ext = { EH(FRAGMENT) }, .dst = VIP6, TCP, .dport = 80 },
	  TX(S_V6_TCP) },
	{ "IPv6 six extension headers (the bound), TCP",
	  { V6, .ext = { EH(HOPOPTS), EH(DSTOPTS), EH(ROUTING),
			 EH(FRAGMENT), EH(AH), EH(DSTOPTS) },
	    .dst = VIP6, TCP, .dport = 80 },
	  TX(S_V6_TCP) },
	{ "IPv6 seven extension headers: passed",
	  { V6, .ext = { EH(HOPOPTS), EH(DSTOPTS), EH(ROUTING),
			 EH(DSTOPTS), EH(DSTOPTS), EH(DSTOPTS),
			 EH(DSTOPTS) },
	    .dst = VIP6, TCP, .dport = 80 },
	  PASS(pass_ipv6_ext) },

	/* Port-0 services and the exact match. */
	{ "port-0 service: port 8080",
	  { V4, .dst = VIP4B, TCP, .dport = 8080 },
	  TX(S_ANY_PORT) },
	{ "port-0 service: port 1",
	  { V4, .dst = VIP4B, TCP, .dport = 1 },
	  TX(S_ANY_PORT) },
	{ "port-0 service: port 65535",
	  { V4, .dst = VIP4B, TCP, .dport = 65535 },
	  TX(S_ANY_PORT) },
	{ "port-0 service: port 0",
	  { V4, .dst = VIP4B, TCP, .dport = 0 },
	  TX(S_ANY_PORT) },
	{ "exact port wins over port 0",
	  { V4, .dst = VIP4B, TCP, .dport = 443 },
	  TX(S_EXACT) },
	{ "port-0 service is TCP only: UDP passed",
	  { V4, .dst = VIP4B, UDP, .dport = 443 },
	  PASS(pass_not_service) },

	/* Not ours: passed unchanged. */
	{ "TCP to a VIP, port without a service",
	  { V4, .dst = VIP4, TCP, .dport = 81 },
	  PASS(pass_not_service) },
	{ "IPv6 TCP to a VIP, port without a service",
	  { V6, .dst = VIP6, TCP, .dport = 443 },
	  PASS(pass_not_service) },
	{ "TCP to another address",
	  { V4, .dst = OTHER4, TCP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "IPv6 TCP to another address",
	  { V6, .dst = OTHER6, TCP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "UDP to a TCP-only service port",
	  { V4, .dst = VIP4, UDP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "TCP to a UDP-only service port",
	  { V6, .dst = VIP6, TCP, .dport = 53 },
	  PASS(pass_not_service) },
	{ "ARP request for the VIP",
	  { .l3 = L3_ARP, .dst = VIP4 },
	  PASS(pass_not_ip) },
	{ "unknown ethertype (0x88b5)",
	  { .l3 = L3_OTHER, .ethertype = 0x88b5, .payload = 46 },
	  PASS(pass_not_ip) },
	{ "unknown ethertype in a VLAN tag",
	  { .l3 = L3_OTHER, .ethertype = 0x88b5, .tpid = { ETH_P_8021Q },
	    .payload = 46 },
	  PASS(pass_not_ip) },
	{ "ICMP echo to the VIP",
	  { V4, .dst = VIP4, .l4 = IPPROTO_ICMP, .payload = 56 },
	  PASS(pass_not_l4) },
	{ "ICMPv6 neighbour solicitation",
	  { V6, .src = "fe80::1", .dst = "ff02::1:ff00:1",
	    .l4 = IPPROTO_ICMPV6 },
	  PASS(pass_not_l4) },
	{ "ICMPv6 to the VIP behind a hop-by-hop header",
	  { V6, .ext = { EH(HOPOPTS) }, .dst = VIP6,
	    .l4 = IPPROTO_ICMPV6 },
	  PASS(pass_not_l4) },

	/* Malformed. */
	{ "IPv4 ethertype, version 5",
	  { V4, .version = 5, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv4 ethertype, version 6",
	  { V4, .version = 6, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv6 ethertype, version 4",
	  { V6, .version = 4, .dst = VIP6, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv4 IHL 0",
	  { V4, .ihl = 0x10, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv4 IHL 4",
	  { V4, .ihl = 4, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv4 IHL 1 in QinQ",
	  { V4, QINQ, .ihl = 1, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },

	/* Fragments: dropped when addressed to a VIP, passed otherwise. */
	{ "IPv4 first fragment (MF) to a VIP",
	  { V4, .frag = 0x2000, .dst = VIP4, TCP, .dport = 80, .payload = 8 },
	  DROP(drop_fragment) },
	{ "IPv4 later fragment (offset 185) to a VIP",
	  { V4, .frag = 185, .dst = VIP4, TCP, .dport = 80, .payload = 64 },
	  DROP(drop_fragment) },
	{ "IPv4 last fragment (offset 1, DF clear) to a port-0 VIP",
	  { V4, .frag = 1, .dst = VIP4B, UDP, .payload = 8 },
	  DROP(drop_fragment) },
	{ "IPv4 MF to a VIP port without a service",
	  { V4, .frag = 0x2000, .dst = VIP4, UDP, .dport = 9999 },
	  DROP(drop_fragment) },
	{ "IPv4 fragment to another address",
	  { V4, .frag = 0x2000, .dst = OTHER4, TCP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "IPv4 later fragment to another address",
	  { V4, .frag = 185, .dst = OTHER4, TCP, .payload = 64 },
	  PASS(pass_not_service) },
	{ "IPv6 fragment, offset 0 and M, to a VIP",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 0x0001, .dst = VIP6,
	    TCP, .dport = 80 },
	  DROP(drop_fragment) },
	{ "IPv6 fragment, offset 100, to a VIP",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 100 << 3, .dst = VIP6,
	    .l4 = IPPROTO_TCP, .dport = 80 },
	  DROP(drop_fragment) },
	{ "IPv6 fragment after hop-by-hop, to a VIP",
	  { V6, .ext = { EH(HOPOPTS), EH(FRAGMENT) },
	    .frag6 = 8 << 3 | 1, .dst = VIP6, UDP, .dport = 53 },
	  DROP(drop_fragment) },
	{ "IPv6 fragment to another address",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 100 << 3,
	    .dst = OTHER6, TCP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "IPv6 fragment with M to another address",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 1, .dst = OTHER6,
	    UDP, .dport = 53 },
	  PASS(pass_not_service) },

	/* No real to send to. */
	{ "service without reals",
	  { V4, .dst = "10.0.0.3", TCP, .dport = 80 },
	  DROP(drop_no_real) },
	{ "service whose reals are all weight 0",
	  { V4, .dst = "10.0.0.4", TCP, .dport = 80 },
	  DROP(drop_no_real) },
};

Test(packets, table)
{
	struct result r;
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		build(&p, &cases[i].spec);
		check(cases[i].desc, &p, p.len, &cases[i].expect, &r);
	}
}

/* IHL 6..15, every one: the options are skipped and left as they were. */
Test(packets, ipv4_options)
{
	struct result r;
	struct pkt p;
	char desc[64];
	__u8 ihl;

	for (ihl = 5; ihl <= 15; ihl++) {
		struct spec s = { V4, .ihl = ihl, .dst = VIP4, TCP,
				  .dport = 80, .payload = 20 };
		struct expect e = TX(S_V4_TCP);

		build(&p, &s);
		snprintf(desc, sizeof(desc), "IPv4 IHL %u", ihl);
		check(desc, &p, p.len, &e, &r);
	}
	for (ihl = 0; ihl < 5; ihl++) {
		struct spec s = { V4, .ihl = ihl ? ihl : 0x10, .dst = VIP4,
				  TCP, .dport = 80, .payload = 20 };
		struct expect e = DROP(drop_malformed);

		build(&p, &s);
		snprintf(desc, sizeof(desc), "IPv4 IHL %u", ihl);
		check(desc, &p, p.len, &e, &r);
	}
}

/* Many flows, v4 and v6: each lands on the real the hash predicts, and
 * every real of the service gets some. */
static void check_prediction(int s, const struct spec *base)
{
	int hits[MAX_REALS_PER_SVC] = { 0 }, i;
	struct result r;
	struct pkt p;
	char desc[64];

	for (i = 0; i < 300; i++) {
		struct spec sp = *base;
		struct expect e = TX(s);

		sp.sport = 1024 + i * 7;
		build(&p, &sp);
		snprintf(desc, sizeof(desc), "%s, flow %d", svc_defs[s].vip, i);
		if (!check(desc, &p, p.len, &e, &r))
			return;
		hits[r.real]++;
	}
	for (i = 0; i < svc_defs[s].nreals; i++)
		cr_expect_gt(hits[i], 0, "%s: real %d never chosen in 300 "
			     "flows", svc_defs[s].vip, i);
}

Test(packets, real_is_predicted)
{
	struct spec v4 = { V4, .dst = VIP4, TCP, .dport = 80 };
	struct spec v6 = { V6, .dst = VIP6, UDP, .dport = 53 };
	struct spec v6t = { V6, .dst = VIP6, TCP, .dport = 80,
			    .src = "2001:db8:c::77" };

	check_prediction(S_V4_TCP, &v4);
	check_prediction(S_V6_UDP, &v6);
	check_prediction(S_V6_TCP, &v6t);
}

/* Truncation --------------------------------------------------------------- */

static const struct pcase trunc_bases[] = {
	{ "IPv4 TCP", { V4, .dst = VIP4, TCP, .dport = 80, .payload = 6 },
	  TX(S_V4_TCP) },
	{ "IPv4 UDP", { V4, .dst = VIP4, UDP, .dport = 53, .payload = 6 },
	  TX(S_V4_UDP) },
	{ "IPv6 TCP", { V6, .dst = VIP6, TCP, .dport = 80, .payload = 6 },
	  TX(S_V6_TCP) },
	{ "IPv6 UDP", { V6, .dst = VIP6, UDP, .dport = 53, .payload = 6 },
	  TX(S_V6_UDP) },
	{ "802.1Q IPv4 TCP",
	  { V4, .tpid = { ETH_P_8021Q }, .dst = VIP4, TCP, .dport = 80,
	    .payload = 6 },
	  TX(S_V4_TCP) },
	{ "QinQ IPv6 UDP",
	  { V6, QINQ, .dst = VIP6, UDP, .dport = 53, .payload = 6 },
	  TX(S_V6_UDP) },
	{ "IPv4 IHL 15 TCP",
	  { V4, .ihl = 15, .dst = VIP4, TCP, .dport = 80, .payload = 6 },
	  TX(S_V4_TCP) },
	{ "IPv6 hop-by-hop + dstopts + fragment + AH, TCP",
	  { V6, .ext = { EH(HOPOPTS), EH(DSTOPTS), EH(FRAGMENT),
			 EH(AH) },
	    .dst = VIP6, TCP, .dport = 80, .payload = 6 },
	  TX(S_V6_TCP) },
};

Test(packets, truncated)
{
	const struct expect trunc = DROP(drop_truncated);
	struct xdplb_global_stats before, after;
	struct result r;
	struct pkt p;
	char desc[96];
	size_t i, f;
	__u32 len;
	int err;

	for (i = 0; i < ARRAY_SIZE(trunc_bases); i++) {
		const struct pcase *c = &trunc_bases[i];

		build(&p, &c->spec);
		cr_assert_gt(p.l4_end, 0);

		/* The kernel refuses frames shorter than an Ethernet header
		 * without running the program. */
		for (len = 0; len < ETH_HLEN; len++) {
			global(&before);
			err = run(&p, len, &r);
			global(&after);
			cr_expect_eq(err, -EINVAL, "%s cut to %u bytes: test "
				     "run returned %d, want -EINVAL", c->desc,
				     len, err);
			for (f = 0; f < ARRAY_SIZE(gs_fields); f++)
				cr_expect_eq(GS(&after, f), GS(&before, f),
					     "%s cut to %u: %s moved", c->desc,
					     len, gs_fields[f].name);
		}
		/* Every cut inside the headers is a counted drop... */
		for (len = ETH_HLEN; len < p.l4_end; len++) {
			snprintf(desc, sizeof(desc), "%s cut at %u (in %s)",
				 c->desc, len, field_at(&p, len));
			if (!check(desc, &p, len, &trunc, &r))
				break;
		}
		/* ...and from the end of the L4 header on it is forwarded. */
		for (len = p.l4_end; len <= p.len; len++) {
			snprintf(desc, sizeof(desc), "%s cut at %u", c->desc,
				 len);
			if (!check(desc, &p, len, &c->expect, &r))
				break;
		}
	}
}

/* Weights ------------------------------------------------------------------ */

/* Send n flows to S_DRAIN; count them per real. */
static void spray(int n, int hits[MAX_REALS_PER_SVC])
{
	struct expect e = TX(S_DRAIN);
	struct result r;
	struct pkt p;
	char desc[64];
	int i;

	memset(hits, 0, MAX_REALS_PER_SVC * sizeof(*hits));
	for (i = 0; i < n; i++) {
		struct spec s = { V4, .dst = "10.0.0.5", TCP, .dport = 80,
				  .sport = 1024 + i };

		build(&p, &s);
		snprintf(desc, sizeof(desc), "drain: flow %d", i);
		if (!check(desc, &p, p.len, &e, &r))
			cr_assert_fail("stopping after the first failure");
		hits[r.real]++;
	}
}

/* Within five standard deviations of the binomial mean. */
static void expect_share(int got, int n, double share, const char *what)
{
	double mean = n * share, var = n * share * (1 - share);

	cr_expect((got - mean) * (got - mean) <= 25 * var,
		  "%s: %d of %d flows, expected %.0f, variance %.0f", what, got,
		  n, mean, var);
}

Test(packets, weight_zero_is_never_chosen)
{
	enum { N = 2000 };
	int hits[MAX_REALS_PER_SVC];

	/* Weights 1, 2, 3: real 2 gets about half. */
	spray(N, hits);
	cr_log_info("weights 1,2,3: %d %d %d\n", hits[0], hits[1], hits[2]);
	expect_share(hits[0], N, 1.0 / 6, "weight 1 of 6");
	expect_share(hits[1], N, 2.0 / 6, "weight 2 of 6");
	expect_share(hits[2], N, 3.0 / 6, "weight 3 of 6");

	/* Drain real 2: none for it, the rest split 1:2. */
	set_weight(S_DRAIN, 2, 0);
	spray(N, hits);
	cr_log_info("weights 1,2,0: %d %d %d\n", hits[0], hits[1], hits[2]);
	cr_expect_eq(hits[2], 0, "drained real chosen for %d of %d flows",
		     hits[2], N);
	expect_share(hits[0], N, 1.0 / 3, "weight 1 of 3");
	expect_share(hits[1], N, 2.0 / 3, "weight 2 of 3");

	/* Back to weight 3: it takes flows again. */
	set_weight(S_DRAIN, 2, 3);
	spray(N, hits);
	cr_expect_gt(hits[2], 0, "undrained real gets nothing");
}

/* Every real of S_DRAIN drained, then one back. */
Test(packets, all_drained_then_back)
{
	struct spec s = { V4, .dst = "10.0.0.5", TCP, .dport = 80 };
	struct expect no_real = DROP(drop_no_real), tx = TX(S_DRAIN);
	struct result r;
	struct pkt p;

	build(&p, &s);
	check("before draining", &p, p.len, &tx, &r);
	set_weight(S_DRAIN, 0, 0);
	set_weight(S_DRAIN, 1, 0);
	set_weight(S_DRAIN, 2, 0);
	check("every real at weight 0", &p, p.len, &no_real, &r);
	set_weight(S_DRAIN, 1, 5);
	check("one real back", &p, p.len, &tx, &r);
	cr_expect_eq(r.real, 1, "went to real %d, the only one is 1", r.real);
}

/* Counters ----------------------------------------------------------------- */

Test(packets, counters_add_up)
{
	__u64 svc_pk[N_SVC] = { 0 }, svc_by[N_SVC] = { 0 };
	__u64 real_pk[N_SVC][MAX_REALS_PER_SVC] = { { 0 } };
	__u64 real_by[N_SVC][MAX_REALS_PER_SVC] = { { 0 } };
	__u64 rx = 0, rx_bytes = 0, tx = 0, tx_bytes = 0, sum;
	struct xdplb_global_stats gs;
	struct result r;
	struct pkt p;
	size_t i, f;
	int round, s, k;

	/* Every case of the table, a few truncated frames, many flows. */
	for (round = 0; round < 3; round++) {
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			struct spec sp = cases[i].spec;
			__u32 len;

			sp.sport = 2000 + round * 100 + i;
			build(&p, &sp);
			len = round == 2 && i % 4 == 0 ? p.len - 1 : p.len;
			cr_assert_eq(run(&p, len, &r), 0);
			rx++;
			rx_bytes += len;
			if (r.action != XDP_TX)
				continue;
			who(&r);
			cr_assert_geq(r.svc, 0, "%s: sent to an unknown MAC",
				      cases[i].desc);
			tx++;
			tx_bytes += len;
			svc_pk[r.svc]++;
			svc_by[r.svc] += len;
			real_pk[r.svc][r.real]++;
			real_by[r.svc][r.real] += len;
		}
	}
	cr_assert_gt(tx, 0);
	cr_assert_lt(tx, rx);

	global(&gs);
	cr_expect_eq(gs.rx_packets, rx, "rx_packets %llu, sent %llu",
		     (unsigned long long)gs.rx_packets,
		     (unsigned long long)rx);
	cr_expect_eq(gs.rx_bytes, rx_bytes, "rx_bytes %llu, sent %llu",
		     (unsigned long long)gs.rx_bytes,
		     (unsigned long long)rx_bytes);
	cr_expect_eq(gs.tx_packets, tx, "tx_packets %llu, XDP_TX %llu",
		     (unsigned long long)gs.tx_packets,
		     (unsigned long long)tx);
	cr_expect_eq(gs.tx_bytes, tx_bytes, "tx_bytes %llu, XDP_TX %llu",
		     (unsigned long long)gs.tx_bytes,
		     (unsigned long long)tx_bytes);
	sum = 0;
	for (f = 0; f < ARRAY_SIZE(gs_fields); f++)
		if (!strncmp(gs_fields[f].name, "pass_", 5) ||
		    !strncmp(gs_fields[f].name, "drop_", 5))
			sum += GS(&gs, f);
	cr_expect_eq(gs.rx_packets, gs.tx_packets + sum,
		     "rx_packets %llu != tx_packets %llu + pass/drop %llu",
		     (unsigned long long)gs.rx_packets,
		     (unsigned long long)gs.tx_packets,
		     (unsigned long long)sum);

	for (s = 0; s < N_SVC; s++) {
		struct xdplb_counters c = counters(lb.svc_stats_fd, svc_id[s]);

		cr_expect(c.packets == svc_pk[s] && c.bytes == svc_by[s],
			  "svc_stats %s: %llu packets %llu bytes, forwarded "
			  "%llu packets %llu bytes", svc_defs[s].vip,
			  (unsigned long long)c.packets,
			  (unsigned long long)c.bytes,
			  (unsigned long long)svc_pk[s],
			  (unsigned long long)svc_by[s]);
		for (k = 0; k < svc_defs[s].nreals; k++) {
			c = counters(lb.real_stats_fd, real_id[s][k]);
			cr_expect(c.packets == real_pk[s][k] &&
				  c.bytes == real_by[s][k],
				  "real_stats %s #%d: %llu packets %llu bytes, "
				  "forwarded %llu packets %llu bytes",
				  svc_defs[s].vip, k,
				  (unsigned long long)c.packets,
				  (unsigned long long)c.bytes,
				  (unsigned long long)real_pk[s][k],
				  (unsigned long long)real_by[s][k]);
		}
	}
}
