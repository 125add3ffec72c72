/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdplb_hash.h - the flow hash, shared by the XDP program (which picks a
 * Maglev slot with it) and the xdplb command (which predicts where a flow
 * lands). Both must compute the same value for the same flow and seed, so
 * it lives here once.
 *
 * The flow hash is NH (UMAC's inner hash) folded by a multiply-shift; the
 * others take their mixing steps from MurmurHash3 (public domain): a few
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

/*
 * Hash of the 5-tuple: NH (the inner hash of UMAC) over its 32-bit words,
 * then one multiply-shift to fold the 64-bit sum into 32 well-mixed bits.
 * Each pair of words (xored with the seed) is offset by key words and
 * multiplied into a 64-bit product; the products are independent, so the
 * CPU computes them side by side, where a Murmur-style chain of rounds
 * (one per word) waits on each previous round: this is a third of the
 * cost for IPv4 and far less for IPv6's nine words. Ports are taken as
 * they sit in the packet (network order), so the value does not depend on
 * who computes it on this host.
 *
 * The offsets are added in 64 bits (keys below 2^31, so that each is one
 * immediate), so a factor is never 0: with 32-bit factors, the one word
 * value whose sum with its key wraps to 0 would erase its partner word
 * from the hash (one VIP address, say, would make every client alike).
 * The key words come one pair per pair of words hashed.
 */
#define XDPLB_NH_K0	0x13f8a5a7	/* ports, protocol */
#define XDPLB_NH_K1	0x7f4a7c15
#define XDPLB_NH_K2	0x2d358dcc	/* source (IPv4: source, destination) */
#define XDPLB_NH_K3	0x2a6c78b2
#define XDPLB_NH_K4	0x5bd1e995	/* source, second half */
#define XDPLB_NH_K5	0x68e31da4
#define XDPLB_NH_K6	0x35297a4d	/* destination */
#define XDPLB_NH_K7	0x1b56c4e9
#define XDPLB_NH_K8	0x3c6ef372	/* destination, second half */
#define XDPLB_NH_K9	0x254ff53a

static __always_inline __u64 xdplb_nh(__u32 a, __u32 b, __u32 ka, __u32 kb)
{
	return ((__u64)a + ka) * ((__u64)b + kb);
}

static __always_inline __u32 xdplb_nh_fold(__u64 s)
{
	s ^= s >> 32;
	s *= 0x9e3779b97f4a7c15ull;	/* 2^64 / golden ratio, odd */
	return s >> 32;
}

static __always_inline __u32 xdplb_flow_hash(const struct xdplb_flow *f,
					     __u32 seed)
{
	__u32 ports = ((__u32)f->sport << 16) | f->dport;
	__u64 s = xdplb_nh(ports ^ seed, f->proto, XDPLB_NH_K0, XDPLB_NH_K1);

	if (f->family == XDPLB_AF_INET6) {
		s += xdplb_nh(f->src.v6[0] ^ seed, f->src.v6[1] ^ seed,
			      XDPLB_NH_K2, XDPLB_NH_K3);
		s += xdplb_nh(f->src.v6[2] ^ seed, f->src.v6[3] ^ seed,
			      XDPLB_NH_K4, XDPLB_NH_K5);
		s += xdplb_nh(f->dst.v6[0] ^ seed, f->dst.v6[1] ^ seed,
			      XDPLB_NH_K6, XDPLB_NH_K7);
		s += xdplb_nh(f->dst.v6[2] ^ seed, f->dst.v6[3] ^ seed,
			      XDPLB_NH_K8, XDPLB_NH_K9);
		return xdplb_nh_fold(s);
	}
	s += xdplb_nh(f->src.v4 ^ seed, f->dst.v4 ^ seed,
		      XDPLB_NH_K2, XDPLB_NH_K3);
	return xdplb_nh_fold(s);
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

/* The Maglev slot of a hash in a table of size slots: the hash scaled to
 * the table (its high bits pick the slot), one multiplication where a
 * remainder would be a division. */
static __always_inline __u32 xdplb_maglev_slot(__u32 hash, __u32 size)
{
	return ((__u64)hash * size) >> 32;
}

/* The connection table tag of a flow of this hash (xdplb.h), its state
 * bits clear: 12 bits of the hash the set index does not use (sets are at
 * most 2^20), USED, and UDP. What a way's tag is compared with, masked by
 * XDPLB_CT_TAG_KEY. */
#define XDPLB_CT_TAG_KEY	((__u16)~XDPLB_CT_TAG_STATE)

static __always_inline __u16 xdplb_ct_tag(__u32 hash, __u8 proto)
{
	return ((hash >> 16) & 0xfff0u) | XDPLB_CT_TAG_USED |
	       (proto == 17 /* IPPROTO_UDP */ ? XDPLB_CT_TAG_UDP : 0);
}

_Static_assert(XDPLB_MAX_CT_SIZE / XDPLB_CT_WAYS <= 1u << 20,
	       "the set index and the tag's hash bits do not overlap");

/* The vip_filter bit of an address (IPv4: v6[1..3] are zero). */
static __always_inline __u32 xdplb_vip_bit(const struct xdplb_addr *a)
{
	__u32 x = a->v6[0] ^ a->v6[1] ^ a->v6[2] ^ a->v6[3];

	x *= 0x9e3779b1u;
	return x >> 16;		/* XDPLB_VIP_FILTER_WORDS * 64 bits */
}

_Static_assert(XDPLB_VIP_FILTER_WORDS * 64 == 1 << 16, "vip_filter bits");

#endif /* XDPLB_HASH_H */
