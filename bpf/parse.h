/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse.h - header parsing: Ethernet (up to two VLAN tags), IPv4 (any
 * header length), IPv6 (extension headers skipped to a bound), TCP, UDP.
 *
 * Contract of every parser: the packet's cursor points at the header to
 * parse; the parser checks the whole header against the end of the frame
 * before it reads a byte, advances the cursor past it, and fills in the
 * flow. Nothing is written to the packet. A header that runs past the end
 * is a counted drop (drop_truncated), one whose fields contradict
 * themselves is a counted drop (drop_malformed); anything the load
 * balancer does not handle is a counted XDP_PASS.
 */
#ifndef XDPLB_PARSE_H
#define XDPLB_PARSE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "xdplb.h"
#include "verdict.h"

#define IPV4_MF		0x2000	/* more fragments */
#define IPV4_OFFSET	0x1fff	/* fragment offset, 8-byte units */
#define IPV6_FRAG_MASK	0xfff9	/* fragment offset and M flag */
#define IPV6_OFFSET	0xfff8	/* fragment offset, 8-byte units */

struct vlan_tag {
	__be16 tci;
	__be16 proto;		/* the ethertype that follows */
};

struct ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* A packet on its way through the pipeline. */
struct packet {
	void *pos;		/* cursor: the next header to parse */
	void *end;
	__u32 len;		/* frame length */
	__u16 l3_proto;		/* ethertype after the VLAN tags */
	bool fragment;		/* one of a datagram's fragments */
	bool frag_later;	/* ... not the first: it has no ports */
	__u32 frag_id;		/* the datagram's identification */
	bool icmp_error;	/* flow is the one the error quotes */
	bool tcp_syn;		/* SYN without ACK: a new connection */
	struct xdplb_flow flow;
};

/* The first 8 bytes of ICMP and ICMPv6 headers. */
struct icmp_head {
	__u8 type;
	__u8 code;
	__be16 checksum;
	__be32 rest;
};

#define ICMP_DEST_UNREACH	3
#define ICMP_TIME_EXCEEDED	11
#define ICMPV6_DEST_UNREACH	1
#define ICMPV6_PKT_TOOBIG	2
#define ICMPV6_TIME_EXCEED	3

static __always_inline int parse_eth(struct packet *pkt,
				     struct xdplb_global_stats *gs)
{
	struct ethhdr *eth = pkt->pos;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > pkt->end)
		return verdict(gs, drop_truncated, XDP_DROP);
	pkt->pos = eth + 1;
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < XDPLB_MAX_VLAN_TAGS; i++) {
		struct vlan_tag *tag = pkt->pos;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(tag + 1) > pkt->end)
			return verdict(gs, drop_truncated, XDP_DROP);
		proto = tag->proto;
		pkt->pos = tag + 1;
	}

	if (proto == bpf_htons(ETH_P_IP))
		pkt->flow.family = XDPLB_AF_INET;
	else if (proto == bpf_htons(ETH_P_IPV6))
		pkt->flow.family = XDPLB_AF_INET6;
	else
		return verdict(gs, pass_not_ip, XDP_PASS);
	pkt->l3_proto = bpf_ntohs(proto);
	return XDPLB_NEXT;
}

static __always_inline int parse_ipv4(struct packet *pkt,
				      struct xdplb_global_stats *gs)
{
	struct iphdr *iph = pkt->pos;
	__u32 hlen;

	if ((void *)(iph + 1) > pkt->end)
		return verdict(gs, drop_truncated, XDP_DROP);
	if (iph->version != 4)
		return verdict(gs, drop_malformed, XDP_DROP);
	/* ihl is four bits: the verifier knows hlen <= 60. */
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph))
		return verdict(gs, drop_malformed, XDP_DROP);
	if (pkt->pos + hlen > pkt->end)
		return verdict(gs, drop_truncated, XDP_DROP);

	pkt->flow.src.v4 = iph->saddr;
	pkt->flow.dst.v4 = iph->daddr;
	pkt->flow.proto = iph->protocol;
	pkt->fragment = !!(iph->frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET));
	pkt->frag_later = !!(iph->frag_off & bpf_htons(IPV4_OFFSET));
	pkt->frag_id = iph->id;
	pkt->pos += hlen;
	return XDPLB_NEXT;
}

static __always_inline bool ipv6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_AH;
}

/*
 * Skip extension headers up to XDPLB_MAX_IPV6_EXT of them. The loop is
 * unrolled, and each step moves the cursor by at most 2 KiB, so the
 * verifier can bound the cursor's offset; a longer chain is passed to the
 * kernel. A fragment header with offset 0 and no M flag (an "atomic
 * fragment") is skipped like any other header. A later fragment stops at
 * its fragment header, as what follows it is no header; a first one goes
 * on to its ports through the headers after it (RFC 8200 puts the final
 * destination's options and AH there). A second fragment header ends the
 * chain, which then goes to the kernel.
 */
static __always_inline int parse_ipv6(struct packet *pkt,
				      struct xdplb_global_stats *gs)
{
	struct ipv6hdr *ip6 = pkt->pos;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > pkt->end)
		return verdict(gs, drop_truncated, XDP_DROP);
	if (ip6->version != 6)
		return verdict(gs, drop_malformed, XDP_DROP);

	__builtin_memcpy(pkt->flow.src.v6, &ip6->saddr, 16);
	__builtin_memcpy(pkt->flow.dst.v6, &ip6->daddr, 16);
	pkt->pos = ip6 + 1;
	nh = ip6->nexthdr;

#pragma unroll
	for (i = 0; i < XDPLB_MAX_IPV6_EXT; i++) {
		if (nh == IPPROTO_FRAGMENT && !pkt->fragment) {
			struct ipv6_frag *fh = pkt->pos;

			if ((void *)(fh + 1) > pkt->end)
				return verdict(gs, drop_truncated, XDP_DROP);
			nh = fh->nexthdr;
			pkt->pos = fh + 1;
			if (fh->frag_off & bpf_htons(IPV6_FRAG_MASK)) {
				pkt->fragment = true;
				pkt->frag_later = !!(fh->frag_off &
						     bpf_htons(IPV6_OFFSET));
				pkt->frag_id = fh->identification;
				if (pkt->frag_later)
					break;
			}
		} else if (nh != IPPROTO_FRAGMENT && ipv6_is_ext(nh)) {
			struct ipv6_opt_hdr *oh = pkt->pos;
			__u32 len;

			if ((void *)(oh + 1) > pkt->end)
				return verdict(gs, drop_truncated, XDP_DROP);
			/* AH counts 4-byte units less two, the others
			 * 8-byte units less one. */
			if (nh == IPPROTO_AH)
				len = ((__u32)oh->hdrlen + 2) * 4;
			else
				len = ((__u32)oh->hdrlen + 1) * 8;
			nh = oh->nexthdr;
			pkt->pos += len;
		} else {
			break;
		}
	}
	if (!pkt->frag_later && ipv6_is_ext(nh))
		return verdict(gs, pass_ipv6_ext, XDP_PASS);

	pkt->flow.proto = nh;
	return XDPLB_NEXT;
}

static __always_inline int parse_l3(struct packet *pkt,
				    struct xdplb_global_stats *gs)
{
	if (pkt->flow.family == XDPLB_AF_INET)
		return parse_ipv4(pkt, gs);
	return parse_ipv6(pkt, gs);
}

/* The ports the quoted header of an ICMP error carries. */
struct quoted_ports {
	__be16 source;
	__be16 dest;
};

/*
 * An ICMP error (destination unreachable, fragmentation needed, time
 * exceeded; ICMPv6 packet too big) about a packet a real sent from a VIP
 * quotes that packet's headers. The flow it belongs to is the quote with
 * addresses and ports swapped: steering the error by that flow brings it
 * to the real that owns the connection, so path-MTU discovery works.
 * Anything else, or an error quoting too little, goes to the kernel.
 */
static __always_inline int parse_icmp_error(struct packet *pkt,
					    struct xdplb_global_stats *gs)
{
	struct icmp_head *icmp = pkt->pos;
	struct quoted_ports *ports;
	__u8 proto;

	if ((void *)(icmp + 1) > pkt->end)
		return verdict(gs, drop_truncated, XDP_DROP);

	if (pkt->flow.family == XDPLB_AF_INET) {
		struct iphdr *in = (void *)(icmp + 1);
		__u32 hlen;

		if (icmp->type != ICMP_DEST_UNREACH &&
		    icmp->type != ICMP_TIME_EXCEEDED)
			return verdict(gs, pass_not_l4, XDP_PASS);
		if ((void *)(in + 1) > pkt->end || in->version != 4)
			return verdict(gs, pass_not_l4, XDP_PASS);
		hlen = in->ihl * 4;
		/* The quote must be of a packet sent from the address the
		 * error comes back to, and carry its ports. */
		if (hlen < sizeof(*in) || in->saddr != pkt->flow.dst.v4 ||
		    (in->frag_off & bpf_htons(IPV4_OFFSET)))
			return verdict(gs, pass_not_l4, XDP_PASS);
		ports = (void *)in + hlen;
		if ((void *)(ports + 1) > pkt->end)
			return verdict(gs, pass_not_l4, XDP_PASS);
		proto = in->protocol;
		pkt->flow.src.v4 = in->daddr;
		pkt->flow.dst.v4 = in->saddr;
	} else {
		struct ipv6hdr *in = (void *)(icmp + 1);

		if (icmp->type != ICMPV6_DEST_UNREACH &&
		    icmp->type != ICMPV6_PKT_TOOBIG &&
		    icmp->type != ICMPV6_TIME_EXCEED)
			return verdict(gs, pass_not_l4, XDP_PASS);
		ports = (void *)(in + 1);
		if ((void *)(ports + 1) > pkt->end || in->version != 6 ||
		    in->saddr.in6_u.u6_addr32[0] != pkt->flow.dst.v6[0] ||
		    in->saddr.in6_u.u6_addr32[1] != pkt->flow.dst.v6[1] ||
		    in->saddr.in6_u.u6_addr32[2] != pkt->flow.dst.v6[2] ||
		    in->saddr.in6_u.u6_addr32[3] != pkt->flow.dst.v6[3])
			return verdict(gs, pass_not_l4, XDP_PASS);
		proto = in->nexthdr;
		__builtin_memcpy(pkt->flow.src.v6, &in->daddr, 16);
		__builtin_memcpy(pkt->flow.dst.v6, &in->saddr, 16);
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return verdict(gs, pass_not_l4, XDP_PASS);
	pkt->flow.proto = proto;
	pkt->flow.sport = ports->dest;
	pkt->flow.dport = ports->source;
	pkt->icmp_error = true;
	return XDPLB_NEXT;
}

/* Ports of TCP and UDP; other protocols were passed before this. */
static __always_inline int parse_l4(struct packet *pkt,
				    struct xdplb_global_stats *gs)
{
	if (pkt->flow.proto == IPPROTO_TCP) {
		struct tcphdr *th = pkt->pos;

		if ((void *)(th + 1) > pkt->end)
			return verdict(gs, drop_truncated, XDP_DROP);
		pkt->flow.sport = th->source;
		pkt->flow.dport = th->dest;
		pkt->tcp_syn = th->syn && !th->ack;
		return XDPLB_NEXT;
	}
	if (pkt->flow.proto == IPPROTO_UDP) {
		struct udphdr *uh = pkt->pos;

		if ((void *)(uh + 1) > pkt->end)
			return verdict(gs, drop_truncated, XDP_DROP);
		pkt->flow.sport = uh->source;
		pkt->flow.dport = uh->dest;
		return XDPLB_NEXT;
	}
	/* ICMP fragments go to the kernel, which reassembles them: an error
	 * is small enough to be fragmented rarely, and only its first
	 * fragment would hold the quote to steer it by. */
	if ((pkt->flow.proto == IPPROTO_ICMP ||
	     pkt->flow.proto == IPPROTO_ICMPV6) && !pkt->fragment)
		return parse_icmp_error(pkt, gs);
	return verdict(gs, pass_not_l4, XDP_PASS);
}

#endif /* XDPLB_PARSE_H */
