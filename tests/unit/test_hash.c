// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_hash.c - the flow hash (include/xdplb_hash.h), which places flows
 * in connection-table sets (its low bits), tags them (bits 16 to 31) and
 * picks their Maglev slot (hash mod a prime).
 *
 * What is checked, and against what:
 *  - spread: for the flow populations a load balancer sees (one client's
 *    ports, many clients on one port, clients x ports, many VIPs, random;
 *    IPv4 and IPv6), the counts in 16384 sets, 65537 Maglev slots and
 *    1024 tag buckets pass a chi-square test: the statistic, as a z-score
 *    (chi2 - bins) / sqrt(2 bins), stays under MAX_Z. A uniform hash gives
 *    |z| of 1 or 2 (measured: at most 2.1); a hash that ignores a word or
 *    a byte of one gives hundreds;
 *  - every input bit counts: flipping any one bit of a flow (address,
 *    port, protocol) changes the hash for nearly every flow;
 *  - the seed counts, and source and destination are not interchangeable;
 *  - no word value erases another word: with one VIP address (one that
 *    made a 32-bit NH factor wrap to 0 with the default seed), clients
 *    still hash apart, and so on for every word of every pair.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "xdplb_hash.h"

#define SEED	XDPLB_DEFAULT_HASH_SEED
#define NFLOWS	(1 << 20)
#define MAX_Z	6.0

TestSuite(hash, .timeout = 60);

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

/* Flow i of a population. */
typedef void (*gen_fn)(uint32_t i, struct xdplb_flow *f);

static void v4(struct xdplb_flow *f, uint32_t src, uint32_t dst,
	       uint16_t sport, uint16_t dport)
{
	memset(f, 0, sizeof(*f));
	f->family = XDPLB_AF_INET;
	f->proto = 6;
	f->src.v4 = htonl(src);
	f->dst.v4 = htonl(dst);
	f->sport = htons(sport);
	f->dport = htons(dport);
}

static void v6(struct xdplb_flow *f, uint32_t prefix, uint64_t iid,
	       uint32_t vip, uint16_t sport)
{
	memset(f, 0, sizeof(*f));
	f->family = XDPLB_AF_INET6;
	f->proto = 6;
	f->src.v6[0] = htonl(0x20010db8);
	f->src.v6[1] = htonl(prefix);
	f->src.v6[2] = htonl((uint32_t)(iid >> 32));
	f->src.v6[3] = htonl((uint32_t)iid);
	f->dst.v6[0] = htonl(0xfd000018);
	f->dst.v6[3] = htonl(vip);
	f->sport = htons(sport);
	f->dport = htons(443);
}

/* One client behind a NAT: every port, many times over the port range
 * would repeat flows, so the client address moves every 60000 ports. */
static void g_ports(uint32_t i, struct xdplb_flow *f)
{
	v4(f, 0x0a000001 + i / 60000, 0xc6120064, 1024 + i % 60000, 80);
}

static void g_clients(uint32_t i, struct xdplb_flow *f)
{
	v4(f, 0x0a000000 + i, 0xc6120064, 40000, 80);
}

static void g_mixed(uint32_t i, struct xdplb_flow *f)
{
	v4(f, 0x0a000000 + (i >> 14), 0xc6120064, 1024 + (i & 16383), 443);
}

static void g_vips(uint32_t i, struct xdplb_flow *f)
{
	v4(f, 0xc0a80000 + i % 1024, 0xc6121000 + i / 1024, 50000, 80);
}

static void g_random4(uint32_t i, struct xdplb_flow *f)
{
	(void)i;
	v4(f, rng(), 0xc6120064, rng() & 0xffff, 80);
}

static void g_v6_iids(uint32_t i, struct xdplb_flow *f)
{
	v6(f, 0x100, 0x1000 + i, 0x100, 40000);
}

static void g_v6_prefixes(uint32_t i, struct xdplb_flow *f)
{
	v6(f, i >> 6, 1, 0x100 + (i & 63), 40000 + (i & 63));
}

static void g_v6_ports(uint32_t i, struct xdplb_flow *f)
{
	v6(f, 0x100, 0x1000 + i / 60000, 0x100, 1024 + i % 60000);
}

static void g_random6(uint32_t i, struct xdplb_flow *f)
{
	(void)i;
	v6(f, rng(), ((uint64_t)rng() << 32) | rng(), 0x100, rng() & 0xffff);
}

static double chi2_z(const uint32_t *count, uint32_t bins, uint32_t n)
{
	double expect = (double)n / bins, chi2 = 0;
	uint32_t b;

	for (b = 0; b < bins; b++) {
		double d = count[b] - expect;

		chi2 += d * d / expect;
	}
	return (chi2 - bins) / sqrt(2.0 * bins);
}

static void check_spread(const char *name, gen_fn gen)
{
	static const struct {
		const char *what;
		uint32_t bins;
	} uses[] = {
		{ "connection-table sets", 16384 },
		{ "Maglev slots", XDPLB_DEFAULT_TABLE_SIZE },
		{ "tag buckets", 1024 },
	};
	uint32_t *count[3], i, u;

	for (u = 0; u < 3; u++)
		cr_assert_not_null(count[u] = calloc(uses[u].bins, 4));
	for (i = 0; i < NFLOWS; i++) {
		struct xdplb_flow f;
		uint32_t h;

		gen(i, &f);
		h = xdplb_flow_hash(&f, SEED);
		count[0][h & 16383]++;
		count[1][h % XDPLB_DEFAULT_TABLE_SIZE]++;
		count[2][(xdplb_ct_tag(h, 6) >> 4) & 1023]++;
	}
	for (u = 0; u < 3; u++) {
		double z = chi2_z(count[u], uses[u].bins, NFLOWS);

		cr_expect(fabs(z) < MAX_Z, "%s over %s: chi-square z = %.1f",
			  name, uses[u].what, z);
		free(count[u]);
	}
}

Test(hash, spread_ipv4)
{
	check_spread("one client's ports", g_ports);
	check_spread("clients on one port", g_clients);
	check_spread("clients x ports", g_mixed);
	check_spread("1024 clients x 1024 VIPs", g_vips);
	check_spread("random IPv4 flows", g_random4);
}

Test(hash, spread_ipv6)
{
	check_spread("interface ids of one /64", g_v6_iids);
	check_spread("prefixes x VIPs", g_v6_prefixes);
	check_spread("one client's ports (v6)", g_v6_ports);
	check_spread("random IPv6 flows", g_random6);
}

/* Flip one bit of a flow, through bytes (the compiler may not assume a
 * 32-bit store leaves the 16- and 8-bit fields alone). */
static void flip(struct xdplb_flow *f, uint32_t word, uint32_t bit)
{
	uint32_t w;

	memcpy(&w, (unsigned char *)f + word * 4, 4);
	w ^= 1u << bit;
	memcpy((unsigned char *)f + word * 4, &w, 4);
}

/* Flip each bit of the flow's words that the hash reads. */
static void check_bits(gen_fn gen, int words)
{
	uint32_t bit, i;

	for (bit = 0; bit < (uint32_t)words * 32; bit++) {
		uint32_t same = 0;

		/* word 9 holds the family: proto is its low byte */
		if (bit / 32 == 9 && bit % 32 >= 8)
			continue;
		for (i = 0; i < 1000; i++) {
			struct xdplb_flow f, g;

			gen(i * 997, &f);
			g = f;
			flip(&g, bit / 32, bit % 32);
			same += xdplb_flow_hash(&f, SEED) ==
				xdplb_flow_hash(&g, SEED);
		}
		cr_expect(same <= 2, "bit %u of the flow: %u of 1000 hashes "
			  "unchanged", bit, same);
	}
}

Test(hash, every_bit_counts)
{
	check_bits(g_random6, 10);
}

Test(hash, every_ipv4_bit_counts)
{
	uint32_t bit, i;

	/* IPv4 reads words 0 (src), 4 (dst), 8 (ports) and the protocol. */
	for (bit = 0; bit < 104; bit++) {
		uint32_t same = 0, word = bit < 96 ? (bit / 32) * 4 : 9;

		for (i = 0; i < 1000; i++) {
			struct xdplb_flow f, g;

			g_random4(i, &f);
			g = f;
			flip(&g, word, bit % 32);
			same += xdplb_flow_hash(&f, SEED) ==
				xdplb_flow_hash(&g, SEED);
		}
		cr_expect(same <= 2, "IPv4 word %u bit %u: %u of 1000 hashes "
			  "unchanged", word, bit % 32, same);
	}
}

Test(hash, seed_and_direction_count)
{
	struct xdplb_flow f, r;
	uint32_t i, seed_same = 0, swap_same = 0;

	for (i = 0; i < 10000; i++) {
		g_random4(i, &f);
		r = f;
		r.src = f.dst;
		r.dst = f.src;
		r.sport = f.dport;
		r.dport = f.sport;
		seed_same += xdplb_flow_hash(&f, SEED) ==
			     xdplb_flow_hash(&f, SEED + 1);
		swap_same += xdplb_flow_hash(&f, SEED) ==
			     xdplb_flow_hash(&r, SEED);
	}
	cr_expect(seed_same <= 2, "%u of 10000 hashes ignore the seed",
		  seed_same);
	cr_expect(swap_same <= 2, "%u of 10000 hashes ignore the direction",
		  swap_same);
}

/* 78.156.126.11 with the default seed made (dst ^ seed) + key wrap to 0 in
 * 32 bits, which erased the client address: every client hashed alike. */
Test(hash, one_vip_keeps_clients_apart)
{
	struct xdplb_flow f;
	uint32_t *h = calloc(4096, sizeof(*h)), i, same = 0;

	cr_assert_not_null(h);
	for (i = 0; i < 4096; i++) {
		v4(&f, 0x0a000000 + i * 7919, 0x4e9c7e0b, 50000, 80);
		h[i] = xdplb_flow_hash(&f, SEED);
	}
	for (i = 1; i < 4096; i++)
		same += h[i] == h[0];
	cr_expect(same <= 2, "78.156.126.11: %u of 4095 clients hash like "
		  "the first", same);
	free(h);
}

/* Every word at each value that would wrap its sum with a key to 0 in
 * 32 bits (key - 2^32 for every key the hash uses): the other words still
 * count. */
Test(hash, no_word_erases_another)
{
	static const uint32_t keys[] = { XDPLB_NH_K0, XDPLB_NH_K1,
		XDPLB_NH_K2, XDPLB_NH_K3, XDPLB_NH_K4, XDPLB_NH_K5,
		XDPLB_NH_K6, XDPLB_NH_K7, XDPLB_NH_K8, XDPLB_NH_K9 };
	uint32_t k, word, other, i;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (word = 0; word < 9; word++) {
			for (other = 0; other < 9; other++) {
				uint32_t same = 0;

				if (other == word)
					continue;
				for (i = 0; i < 64; i++) {
					struct xdplb_flow f, g;
					uint32_t bad = (0u - keys[k]) ^ SEED;

					g_random6(i, &f);
					memcpy((unsigned char *)&f + word * 4,
					       &bad, 4);
					g = f;
					flip(&g, other, i % 32);
					same += xdplb_flow_hash(&f, SEED) ==
						xdplb_flow_hash(&g, SEED);
				}
				cr_expect(same <= 1, "word %u at %#x: word %u "
					  "no longer counts (%u of 64 alike)",
					  word, (0u - keys[k]) ^ SEED, other,
					  same);
			}
		}
	}
}
