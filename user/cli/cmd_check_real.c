// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_check_real.c - check-real: is every real of the instance a working
 * direct-routing real? Run on the load balancer.
 *
 * For each real of each service (or of --vip's):
 *   1. its MAC resolves on the instance's interface, and is the one the
 *      instance forwards to (unless set by hand with --mac);
 *   2. it answers on the direct-routing path: a frame for the VIP sent to
 *      the real's MAC (as the data path sends it) gets an answer from that
 *      MAC. TCP services with a port: a SYN to VIP:PORT, a SYN-ACK passes
 *      and an RST means "VIP present, port closed". UDP services and port
 *      0 have no reply to count on, so an echo request to the VIP stands
 *      in: it shows the VIP is on the real, not that the port is served;
 *   3. it stays silent when the VIP is asked for by ARP or neighbour
 *      solicitation (one broadcast per VIP address; the load balancer's
 *      own MAC is not on the wire we listen to, any other answer is a
 *      problem).
 * Probes leave from the interface's own address (never a VIP, or the
 * real would answer itself) through an AF_PACKET socket, all at once,
 * and answers are collected for one short window. The kernel resets the
 * SYN-ACKs it did not ask for, which is harmless. XDP only sees ingress,
 * and the answers are addressed to the load balancer, not to a VIP, so
 * the data path passes them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>

#include "addr.h"
#include "cmd.h"
#include "ifaddr.h"
#include "json.h"
#include "lb.h"
#include "log.h"
#include "neigh.h"
#include "spec.h"

#define RESOLVE_MS	1000	/* all MACs, resolved together */
#define LISTEN_MS	500	/* answers to all probes */
#define MAX_PROBLEMS	6
#define MAX_ANSWERERS	8
#define FRAME_MAX	128

enum path_result { PATH_NONE, PATH_SYNACK, PATH_RST, PATH_ECHO, PATH_SKIP };

/* One real of one service, and what was found about it. */
struct target {
	struct xdplb_svc_key key;
	struct xdplb_real real;
	__u8 resolved[6];
	bool has_resolved;
	__u8 to_mac[6];		/* where the probe goes: the instance's MAC */
	bool syn;		/* SYN probe, else echo */
	__u16 token;		/* SYN source port, or echo identifier */
	enum path_result path;
	bool answers_nd;
	char *problems[MAX_PROBLEMS];
	int nproblems;
};

/* One VIP address asked for by ARP/ND, and the MACs that answered. */
struct vip_probe {
	struct xdplb_addr addr;
	__u8 family;
	__u8 macs[MAX_ANSWERERS][6];
	int nmacs;
};

struct check {
	struct lb lb;
	struct target *t;
	int nt;
	struct vip_probe *v;
	int nv;
	struct xdplb_addr src4, src6;
	bool has_src4, has_src6;
	char *problems[MAX_PROBLEMS];	/* not of one real */
	int nproblems;
	int fd;
};

static void add_problem(char **list, int *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_problem(char **list, int *n, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (*n == MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		list[(*n)++] = s;
	va_end(ap);
}

#define t_problem(t, ...) add_problem((t)->problems, &(t)->nproblems, \
				      __VA_ARGS__)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_v6(const struct target *t)
{
	return t->real.family == XDPLB_AF_INET6;
}

/* gathering ------------------------------------------------------------- */

static bool is_vip_addr(const struct lb_service *svcs, int n, __u8 family,
			const struct xdplb_addr *a)
{
	int i;

	for (i = 0; i < n; i++)
		if (svcs[i].key.family == family &&
		    addr_equal(&svcs[i].key.addr, a))
			return true;
	return false;
}

/* The interface's own addresses to probe from: not a VIP; for IPv6 a
 * global one that may be a source, else the link-local one. */
static int pick_sources(struct check *c, const struct lb_service *svcs,
			int nsvcs)
{
	struct host_addr *a;
	int i, n, err, best6 = 0;

	err = host_addrs(&a, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		int rank;

		if (a[i].ifindex != (int)c->lb.cfg.ifindex ||
		    is_vip_addr(svcs, nsvcs, a[i].family, &a[i].addr))
			continue;
		if (a[i].family == XDPLB_AF_INET && !c->has_src4) {
			c->src4 = a[i].addr;
			c->has_src4 = true;
		}
		if (a[i].family != XDPLB_AF_INET6 ||
		    (a[i].flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)))
			continue;
		rank = a[i].scope == RT_SCOPE_LINK ? 1 :
		       a[i].preferred == 0 ? 2 : 3;
		if (rank > best6) {
			c->src6 = a[i].addr;
			c->has_src6 = true;
			best6 = rank;
		}
	}
	free(a);
	return 0;
}

static int gather(struct check *c, const struct xdplb_svc_key *only)
{
	struct lb_service *svcs = NULL;
	struct xdplb_real *all;
	int nsvcs, i, j, err;

	all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	c->t = calloc(XDPLB_MAX_REALS, sizeof(*c->t));
	c->v = calloc(XDPLB_MAX_REALS, sizeof(*c->v));
	if (!all || !c->t || !c->v) {
		err = -ENOMEM;
		goto out;
	}
	err = lb_services(&c->lb, &svcs, &nsvcs);
	if (!err)
		err = lb_reals(&c->lb, all);
	if (!err)
		err = pick_sources(c, svcs, nsvcs);
	if (err)
		goto out;
	for (i = 0; i < nsvcs; i++) {
		const struct lb_service *s = &svcs[i];

		if (only && lb_svc_key_cmp(only, &s->key))
			continue;
		for (j = 0; j < XDPLB_MAX_REALS; j++) {
			struct target *t = &c->t[c->nt];

			if (!(all[j].flags & XDPLB_REAL_F_USED) ||
			    all[j].svc_id != s->svc.id)
				continue;
			t->key = s->key;
			t->real = all[j];
			t->syn = s->key.proto == IPPROTO_TCP && s->key.port;
			c->nt++;
		}
	}
out:
	free(svcs);
	free(all);
	return err;
}

/* 1. MACs: every lookup started at once, then polled together. */
static void resolve_macs(struct check *c)
{
	const char *ifname = c->lb.cfg.ifname;
	long deadline = now_ms() + RESOLVE_MS;
	bool first = true;	/* have the kernel ask those it lacks */
	int i, left, err;

	for (;; first = false) {
		left = 0;
		for (i = 0; i < c->nt; i++) {
			struct target *t = &c->t[i];

			if (t->has_resolved)
				continue;
			err = neigh_peek(c->lb.cfg.ifindex, t->real.family,
					 &t->real.addr, t->resolved, first);
			t->has_resolved = !err;
			left += !!err;
		}
		if (!left || now_ms() >= deadline)
			break;
		usleep(20000);
	}
	for (i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];
		char want[MAC_STRLEN], got[MAC_STRLEN];
		bool manual = t->real.flags & XDPLB_REAL_F_MAC_MANUAL;

		memcpy(t->to_mac, t->real.mac, 6);
		if (!t->has_resolved) {
			if (!manual)
				t_problem(t, "its MAC does not resolve on "
					  "'%.16s' (no %s reply)", ifname,
					  is_v6(t) ? "neighbour discovery" :
					  "ARP");
			continue;
		}
		if (!memcmp(t->resolved, t->real.mac, 6))
			continue;
		format_mac(t->real.mac, want, sizeof(want));
		format_mac(t->resolved, got, sizeof(got));
		t_problem(t, "the instance forwards to MAC %s, but it "
			  "resolves to %s%s", want, got,
			  manual ? " (--mac was given by hand)" : "");
	}
}

/* frames ---------------------------------------------------------------- */

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static __u16 get16(const __u8 *p)
{
	return p[0] << 8 | p[1];
}

static __u32 csum_add(__u32 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* The L4 checksum over the pseudo-header of IPv4 or IPv6. */
static __u16 l4_csum(bool v6, const __u8 *src, const __u8 *dst, __u8 proto,
		     const __u8 *l4, size_t len)
{
	size_t alen = v6 ? 16 : 4;
	__u32 sum = 0;

	sum = csum_add(sum, src, alen);
	sum = csum_add(sum, dst, alen);
	sum += proto + len;
	return csum_fold(csum_add(sum, l4, len));
}

static size_t put_eth(__u8 *f, const __u8 *dst, const __u8 *src, __u16 type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

/* IP header with l4len bytes of protocol proto to follow; its length. */
static size_t put_ip(__u8 *p, bool v6, const void *src, const void *dst,
		     __u8 proto, size_t l4len, __u8 ttl)
{
	if (v6) {
		memset(p, 0, 40);
		p[0] = 0x60;
		put16(p + 4, l4len);
		p[6] = proto;
		p[7] = ttl;
		memcpy(p + 8, src, 16);
		memcpy(p + 24, dst, 16);
		return 40;
	}
	memset(p, 0, 20);
	p[0] = 0x45;
	put16(p + 2, 20 + l4len);
	put16(p + 6, 0x4000);	/* DF */
	p[8] = ttl;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	put16(p + 10, csum_fold(csum_add(0, p, 20)));
	return 20;
}

/* The frame a real's probe is: a SYN or an echo request for the VIP. */
static size_t probe_frame(const struct check *c, const struct target *t,
			  __u8 *f)
{
	bool v6 = is_v6(t);
	const void *src = v6 ? (const void *)&c->src6 : &c->src4;
	size_t l4len = t->syn ? 24 : 16, n;
	__u8 *l4, proto;

	n = put_eth(f, t->to_mac, c->lb.cfg.ifmac, v6 ? ETH_P_IPV6 : ETH_P_IP);
	proto = t->syn ? IPPROTO_TCP : v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	n += put_ip(f + n, v6, src, &t->key.addr, proto, l4len, 64);
	l4 = f + n;
	memset(l4, 0, l4len);
	if (t->syn) {
		put16(l4, t->token);
		put16(l4 + 2, ntohs(t->key.port));
		put16(l4 + 4, t->token);	/* sequence number */
		l4[12] = 6 << 4;		/* 24 bytes: MSS option */
		l4[13] = 0x02;			/* SYN */
		put16(l4 + 14, 64240);
		l4[20] = 2;
		l4[21] = 4;
		put16(l4 + 22, 1460);
	} else {
		l4[0] = v6 ? 128 : 8;		/* echo request */
		put16(l4 + 4, t->token);
		put16(l4 + 6, 1);
		memcpy(l4 + 8, "xdplbchk", 8);
	}
	put16(l4 + (t->syn ? 16 : 2), v6 || t->syn ?
	      l4_csum(v6, src, (const __u8 *)&t->key.addr, proto, l4, l4len) :
	      csum_fold(csum_add(0, l4, l4len)));
	return n + l4len;
}

/* Who has the VIP? ARP to broadcast, or a neighbour solicitation to the
 * VIP's solicited-node group. */
static size_t ask_frame(const struct check *c, const struct vip_probe *v,
			__u8 *f)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const __u8 *mac = c->lb.cfg.ifmac, *a = (const __u8 *)&v->addr;
	__u8 group[16] = { 0xff, 0x02, [11] = 1, [12] = 0xff }, gmac[6];
	size_t n;
	__u8 *l4;

	if (v->family == XDPLB_AF_INET) {
		n = put_eth(f, bcast, mac, ETH_P_ARP);
		put16(f + n, 1);		/* Ethernet */
		put16(f + n + 2, ETH_P_IP);
		f[n + 4] = 6;
		f[n + 5] = 4;
		put16(f + n + 6, 1);		/* request */
		memcpy(f + n + 8, mac, 6);
		memcpy(f + n + 14, &c->src4, 4);
		memset(f + n + 18, 0, 6);
		memcpy(f + n + 24, a, 4);
		return n + 28;
	}
	memcpy(group + 13, a + 13, 3);
	gmac[0] = gmac[1] = 0x33;
	memcpy(gmac + 2, group + 12, 4);
	n = put_eth(f, gmac, mac, ETH_P_IPV6);
	n += put_ip(f + n, true, &c->src6, group, IPPROTO_ICMPV6, 32, 255);
	l4 = f + n;
	memset(l4, 0, 32);
	l4[0] = 135;				/* neighbour solicitation */
	memcpy(l4 + 8, a, 16);
	l4[24] = 1;				/* source link-layer address */
	l4[25] = 1;
	memcpy(l4 + 26, mac, 6);
	put16(l4 + 2, l4_csum(true, (const __u8 *)&c->src6, group,
			      IPPROTO_ICMPV6, l4, 32));
	return n + 32;
}

/* answers --------------------------------------------------------------- */

static void note_answerer(struct vip_probe *v, const __u8 *mac)
{
	int i;

	for (i = 0; i < v->nmacs; i++)
		if (!memcmp(v->macs[i], mac, 6))
			return;
	if (v->nmacs < MAX_ANSWERERS)
		memcpy(v->macs[v->nmacs++], mac, 6);
}

static void vip_answered(struct check *c, __u8 family, const __u8 *addr,
			 const __u8 *mac)
{
	int i;

	if (!memcmp(mac, c->lb.cfg.ifmac, 6))
		return;
	for (i = 0; i < c->nv; i++)
		if (c->v[i].family == family &&
		    !memcmp(&c->v[i].addr, addr, family == XDPLB_AF_INET ?
			    4 : 16))
			note_answerer(&c->v[i], mac);
}

/* An answer to a real's probe: from the VIP, to our address, from the MAC
 * the probe went to, carrying its token. */
static void path_answered(struct check *c, bool v6, const __u8 *eth_src,
			  const __u8 *ip_src, const __u8 *ip_dst, __u8 proto,
			  const __u8 *l4, size_t l4len)
{
	const void *ours = v6 ? (const void *)&c->src6 : &c->src4;
	size_t alen = v6 ? 16 : 4;
	int i;

	if (memcmp(ip_dst, ours, alen) || l4len < 8)
		return;
	for (i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];

		if (is_v6(t) != v6 || t->path != PATH_NONE ||
		    memcmp(&t->key.addr, ip_src, alen) ||
		    memcmp(t->to_mac, eth_src, 6))
			continue;
		if (t->syn && proto == IPPROTO_TCP && l4len >= 20 &&
		    get16(l4) == ntohs(t->key.port) &&
		    get16(l4 + 2) == t->token) {
			if (l4[13] & 0x04)
				t->path = PATH_RST;
			else if ((l4[13] & 0x12) == 0x12)
				t->path = PATH_SYNACK;
		} else if (!t->syn && proto == (v6 ? IPPROTO_ICMPV6 :
						IPPROTO_ICMP) &&
			   l4[0] == (v6 ? 129 : 0) &&
			   get16(l4 + 4) == t->token) {
			t->path = PATH_ECHO;
		}
	}
}

static void frame_in(struct check *c, const __u8 *f, size_t len)
{
	__u16 type;

	if (len < 14)
		return;
	type = get16(f + 12);
	f += 14;
	len -= 14;
	if (type == ETH_P_ARP && len >= 28 && get16(f + 6) == 2 &&
	    f[4] == 6 && f[5] == 4) {
		vip_answered(c, XDPLB_AF_INET, f + 14, f - 8);
	} else if (type == ETH_P_IP && len >= 20 && (f[0] >> 4) == 4) {
		size_t hl = (f[0] & 15) * 4, tot = get16(f + 2);

		if (hl < 20 || tot > len || tot < hl)
			return;
		path_answered(c, false, f - 8, f + 12, f + 16, f[9], f + hl,
			      tot - hl);
	} else if (type == ETH_P_IPV6 && len >= 40 && (f[0] >> 4) == 6) {
		size_t pl = get16(f + 4);

		if (40 + pl > len)
			return;
		if (f[6] == IPPROTO_ICMPV6 && pl >= 24 && f[40] == 136)
			vip_answered(c, XDPLB_AF_INET6, f + 48, f - 8);
		else
			path_answered(c, true, f - 8, f + 8, f + 24, f[6],
				      f + 40, pl);
	}
}

/* 2. and 3.: send every probe, then listen once. */
static int probe(struct check *c)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = c->lb.cfg.ifindex,
		.sll_halen = 6,
	};
	__u8 f[2048];
	__u16 base;
	long deadline;
	int i, j;

	c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (c->fd < 0)
		return -errno;
	if (bind(c->fd, (struct sockaddr *)&to, sizeof(to)))
		return -errno;
	if (getrandom(&base, sizeof(base), 0) != sizeof(base))
		base = getpid();
	base = 32768 + base % (28000 - XDPLB_MAX_REALS);

	for (i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];
		bool has_src = is_v6(t) ? c->has_src6 : c->has_src4;
		static const __u8 zero[6];

		t->token = base + i;
		if (!has_src) {
			t->path = PATH_SKIP;
			t_problem(t, "cannot be probed: '%.16s' has no IPv%c "
				  "address of its own (other than VIPs)",
				  c->lb.cfg.ifname, is_v6(t) ? '6' : '4');
			continue;
		}
		if (!memcmp(t->to_mac, zero, 6)) {
			t->path = PATH_SKIP;	/* no MAC: said so already */
			continue;
		}
		memcpy(to.sll_addr, t->to_mac, 6);
		if (sendto(c->fd, f, probe_frame(c, t, f), 0,
			   (struct sockaddr *)&to, sizeof(to)) < 0)
			return -errno;
		for (j = 0; j < c->nv; j++)
			if (c->v[j].family == t->key.family &&
			    addr_equal(&c->v[j].addr, &t->key.addr))
				break;
		if (j == c->nv) {
			c->v[j].family = t->key.family;
			c->v[j].addr = t->key.addr;
			c->nv++;
		}
	}
	for (j = 0; j < c->nv; j++) {
		size_t n = ask_frame(c, &c->v[j], f);

		memcpy(to.sll_addr, f, 6);
		if (sendto(c->fd, f, n, 0, (struct sockaddr *)&to,
			   sizeof(to)) < 0)
			return -errno;
	}

	deadline = now_ms() + LISTEN_MS;
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&p, 1, left) <= 0)
			continue;
		n = recvfrom(c->fd, f, sizeof(f), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n > 0 && from.sll_pkttype != PACKET_OUTGOING)
			frame_in(c, f, n);
	}
	return 0;
}

/* Findings of the probes as problems. */
static void judge(struct check *c)
{
	char vip[ADDR_STRLEN], mac[MAC_STRLEN];
	int i, j, k;

	for (i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];

		format_addr(&t->key.addr, t->key.family, vip, sizeof(vip));
		if (t->path == PATH_NONE && t->syn)
			t_problem(t, "does not answer on the direct-routing "
				  "path: no reply to a SYN for %s port %u sent "
				  "to its MAC (is the VIP on its lo? see "
				  "real-setup)", vip, ntohs(t->key.port));
		else if (t->path == PATH_NONE)
			t_problem(t, "does not answer on the direct-routing "
				  "path: no reply to an echo request for %s "
				  "sent to its MAC (is the VIP on its lo? see "
				  "real-setup)", vip);
		else if (t->path == PATH_RST)
			t_problem(t, "VIP present but port %u closed (RST to "
				  "a SYN for the VIP)", ntohs(t->key.port));
	}
	for (j = 0; j < c->nv; j++) {
		struct vip_probe *v = &c->v[j];
		const char *how = v->family == XDPLB_AF_INET ? "ARP" :
				  "neighbour solicitation";

		format_addr(&v->addr, v->family, vip, sizeof(vip));
		for (k = 0; k < v->nmacs; k++) {
			bool named = false;

			for (i = 0; i < c->nt; i++) {
				struct target *t = &c->t[i];

				if (t->key.family != v->family ||
				    !addr_equal(&t->key.addr, &v->addr) ||
				    (memcmp(t->real.mac, v->macs[k], 6) &&
				     (!t->has_resolved ||
				      memcmp(t->resolved, v->macs[k], 6))))
					continue;
				named = true;
				t->answers_nd = true;
				t_problem(t, "answers %s for the VIP (%s)", how,
					  v->family == XDPLB_AF_INET ?
					  "arp_ignore? see real-setup" :
					  "is the VIP on an interface other "
					  "than lo?");
			}
			format_mac(v->macs[k], mac, sizeof(mac));
			if (!named)
				add_problem(c->problems, &c->nproblems,
					    "VIP %s: host %s (not among the "
					    "reals checked) answers %s for the "
					    "VIP", vip, mac, how);
		}
	}
}

/* output ---------------------------------------------------------------- */

static const char *const path_name[] = {
	[PATH_NONE] = "none", [PATH_SYNACK] = "syn-ack", [PATH_RST] = "rst",
	[PATH_ECHO] = "echo-reply", [PATH_SKIP] = "not probed",
};

static int report(struct check *c)
{
	char vip[ADDR_STRLEN], real[ADDR_STRLEN], mac[MAC_STRLEN];
	int i, j, bad = c->nproblems;

	for (i = 0; i < c->nt; i++)
		bad += c->t[i].nproblems;
	if (opts.json) {
		jw_start_object();
		jw_kv_string("interface", c->lb.cfg.ifname);
		jw_kv_bool("ok", !bad);
		jw_name("reals");
		jw_start_array();
	}
	for (i = 0; i < c->nt; i++) {
		struct target *t = &c->t[i];

		format_vip(&t->key, vip, sizeof(vip));
		format_addr(&t->real.addr, t->real.family, real, sizeof(real));
		if (!opts.json) {
			for (j = 0; j < t->nproblems; j++)
				printf("real %s (VIP %s): %s\n", real, vip,
				       t->problems[j]);
			continue;
		}
		jw_start_object();
		jw_kv_string("vip", vip);
		jw_kv_string("real", real);
		format_mac(t->real.mac, mac, sizeof(mac));
		jw_kv_string("mac", mac);
		if (t->has_resolved) {
			format_mac(t->resolved, mac, sizeof(mac));
			jw_kv_string("resolved_mac", mac);
		}
		jw_kv_string("probe", t->syn ? "tcp-syn" : "echo");
		jw_kv_string("path", path_name[t->path]);
		jw_kv_bool("answers_for_vip", t->answers_nd);
		jw_kv_bool("ok", !t->nproblems);
		jw_name("problems");
		jw_start_array();
		for (j = 0; j < t->nproblems; j++)
			jw_string(t->problems[j]);
		jw_end_array();
		jw_end_object();
	}
	if (opts.json) {
		jw_end_array();
		jw_name("problems");
		jw_start_array();
	}
	for (j = 0; j < c->nproblems; j++) {
		if (opts.json)
			jw_string(c->problems[j]);
		else
			printf("%s\n", c->problems[j]);
	}
	if (opts.json) {
		jw_end_array();
		jw_end_object();
		jw_flush();
	} else if (!bad) {
		printf("%d real%s checked on '%s': all fine\n", c->nt,
		       c->nt == 1 ? "" : "s", c->lb.cfg.ifname);
	}
	return bad ? EXIT_FAIL : EXIT_OK;
}

static void check_free(struct check *c)
{
	int i, j;

	for (i = 0; i < c->nt; i++)
		for (j = 0; j < c->t[i].nproblems; j++)
			free(c->t[i].problems[j]);
	for (j = 0; j < c->nproblems; j++)
		free(c->problems[j]);
	if (c->fd >= 0)
		close(c->fd);
	free(c->t);
	free(c->v);
	lb_close(&c->lb);
	free(c);
}

int do_check_real(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "vip", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct xdplb_svc_key key;
	struct xdplb_svc svc;
	const char *vip = NULL;
	char err[SPEC_ERRLEN];
	struct check *c;
	int opt, ret = EXIT_FAIL;

	optind = 0;
	while ((opt = spec_getopt(argc, argv, lo, err, sizeof(err))) != -1) {
		if (opt != 'V')
			return spec_report(-opt, err);
		vip = optarg;
	}
	if (optind != argc)
		return usage_error(argv[0], "unexpected '%s'", argv[optind]);
	if (vip && parse_vip_arg(vip, &key))
		return EXIT_FAIL;

	c = calloc(1, sizeof(*c));
	if (!c) {
		p_err("check-real: out of memory");
		return EXIT_FAIL;
	}
	c->fd = -1;
	if (open_instance(&c->lb, OPEN_READ)) {
		free(c);
		return EXIT_FAIL;
	}
	if (vip && find_service(&c->lb, &key, &svc))
		goto out;
	opt = gather(c, vip ? &key : NULL);
	if (opt) {
		p_err("check-real: cannot read the instance at '%s': %s",
		      opts.pin_dir, strerror(-opt));
		goto out;
	}
	if (!c->nt) {
		if (opts.json) {
			jw_start_object();
			jw_kv_bool("ok", true);
			jw_name("reals");
			jw_start_array();
			jw_end_array();
			jw_end_object();
			jw_flush();
		} else {
			printf("no reals to check\n");
		}
		ret = EXIT_OK;
		goto out;
	}
	resolve_macs(c);
	opt = probe(c);
	if (opt) {
		p_err("check-real: cannot probe on '%.16s': %s",
		      c->lb.cfg.ifname, strerror(-opt));
		goto out;
	}
	judge(c);
	ret = report(c);
out:
	check_free(c);
	return ret;
}
