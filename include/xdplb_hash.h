/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdplb_hash.h - the flow hash, shared by the XDP program (which picks a
 * Maglev slot with it) and the xdplb command (which predicts where a flow
 * lands). Both must compute the same value for the same flow and seed, so
 * it lives here once.
 *
 * The mixing steps are those of MurmurHash3 (public domain): a few
 * multiply-rotate rounds, no table, no loop the verifier has to bound.
 */
#ifndef XDPLB_HASH_H
#define XDPLB_HASH_H

#include "xdplb.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline __u32 xdplb_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static __always_inline __u32 xdplb_hash_round(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51;
	k = xdplb_rotl32(k, 15);
	k *= 0x1b873593;
	h ^= k;
	h = xdplb_rotl32(h, 13);
	return h * 5 + 0xe6546b64;
}

static __always_inline __u32 xdplb_hash_final(__u32 h, __u32 len)
{
	h ^= len;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Hash of the 5-tuple. Ports are taken as they sit in the packet (network
 * order), so the value does not depend on who computes it on this host. */
static __always_inline __u32 xdplb_flow_hash(const struct xdplb_flow *f,
					     __u32 seed)
{
	__u32 ports = ((__u32)f->sport << 16) | f->dport;
	__u32 h = seed ^ f->proto;

	if (f->family == XDPLB_AF_INET6) {
		h = xdplb_hash_round(h, f->src.v6[0]);
		h = xdplb_hash_round(h, f->src.v6[1]);
		h = xdplb_hash_round(h, f->src.v6[2]);
		h = xdplb_hash_round(h, f->src.v6[3]);
		h = xdplb_hash_round(h, f->dst.v6[0]);
		h = xdplb_hash_round(h, f->dst.v6[1]);
		h = xdplb_hash_round(h, f->dst.v6[2]);
		h = xdplb_hash_round(h, f->dst.v6[3]);
		h = xdplb_hash_round(h, ports);
		return xdplb_hash_final(h, 36);
	}
	h = xdplb_hash_round(h, f->src.v4);
	h = xdplb_hash_round(h, f->dst.v4);
	h = xdplb_hash_round(h, ports);
	return xdplb_hash_final(h, 12);
}

/* Hash of the client address alone: src-ip services (client persistence)
 * place every flow of a client with it. */
static __always_inline __u32 xdplb_src_hash(const struct xdplb_flow *f,
					    __u32 seed)
{
	__u32 h = seed ^ f->family;

	h = xdplb_hash_round(h, f->src.v6[0]);
	if (f->family == XDPLB_AF_INET6) {
		h = xdplb_hash_round(h, f->src.v6[1]);
		h = xdplb_hash_round(h, f->src.v6[2]);
		h = xdplb_hash_round(h, f->src.v6[3]);
	}
	return xdplb_hash_final(h, 16);
}

/*
 * Home slot of a service key in svc_index (before masking): the folded
 * key through MurmurHash3's finalizer, so that every input bit moves the
 * low bits the mask keeps. (One multiplication was not enough: a thousand
 * consecutive VIP addresses made a probe chain longer than the bound.)
 */
static __always_inline __u32 xdplb_svc_hash(const struct xdplb_svc_key *k)
{
	__u32 x = k->addr.v6[0] ^ k->addr.v6[1] ^ k->addr.v6[2] ^
		  k->addr.v6[3];

	x ^= ((__u32)k->port << 16) | ((__u32)k->proto << 8) | k->family;
	return xdplb_hash_final(x, 0);
}

/* The connection table tag of a flow of this hash (xdplb.h): 14 bits of
 * the hash the set index does not use, USED, and UDP. */
static __always_inline __u16 xdplb_ct_tag(__u32 hash, __u8 proto)
{
	return ((hash >> 16) & ~3u) | XDPLB_CT_TAG_USED |
	       (proto == 17 /* IPPROTO_UDP */ ? XDPLB_CT_TAG_UDP : 0);
}

/* The vip_filter bit of an address (IPv4: v6[1..3] are zero). */
static __always_inline __u32 xdplb_vip_bit(const struct xdplb_addr *a)
{
	__u32 x = a->v6[0] ^ a->v6[1] ^ a->v6[2] ^ a->v6[3];

	x *= 0x9e3779b1u;
	return x >> 16;		/* XDPLB_VIP_FILTER_WORDS * 64 bits */
}

_Static_assert(XDPLB_VIP_FILTER_WORDS * 64 == 1 << 16, "vip_filter bits");

#endif /* XDPLB_HASH_H */
