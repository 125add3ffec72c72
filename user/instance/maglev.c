// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "maglev.h"

/* 64-bit FNV-1a then the splitmix64 finaliser: fixed, portable, and
 * different enough between the two seeds for offset and skip. */
static uint64_t key_hash(const uint8_t *key, size_t len, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= key[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

static int backend_cmp(const void *a, const void *b)
{
	return memcmp(((const struct maglev_backend *)a)->key,
		      ((const struct maglev_backend *)b)->key, MAGLEV_KEY_MAX);
}

#define PROBES	4	/* slots of a permutation tested at once */
_Static_assert(PROBES == 4, "next_free()'s unroll pragmas say 4");

struct fill {
	uint32_t pos;		/* next slot of the permutation */
	uint32_t step[PROBES + 1];	/* 0 .. PROBES skips, mod m */
	uint64_t credit;	/* weighted turn-taking */
	uint32_t quota;		/* slots this backend ends up with */
	uint32_t count;
};

/*
 * Quotas by largest remainder: floor(m * w / W) each, then one more slot to
 * the backends with the largest remainders (ties to the lower sorted
 * index) until all m slots are handed out.
 */
struct remainder {
	uint64_t rem;
	size_t index;
};

static int remainder_cmp(const void *a, const void *b)
{
	const struct remainder *x = a, *y = b;

	if (x->rem != y->rem)
		return x->rem < y->rem ? 1 : -1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int set_quotas(const struct maglev_backend *b, struct fill *f,
		      size_t n, uint32_t m, uint64_t total)
{
	struct remainder *r;
	uint64_t given = 0;
	size_t i;

	r = calloc(n, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		f[i].quota = (uint32_t)((uint64_t)m * b[i].weight / total);
		given += f[i].quota;
		r[i].rem = b[i].weight ? (uint64_t)m * b[i].weight % total : 0;
		r[i].index = i;
	}
	qsort(r, n, sizeof(*r), remainder_cmp);
	/* The remainders sum to (m - given) * total, so at most n - 1 of
	 * the backends need the extra slot, all with weight > 0. */
	for (i = 0; given < m && i < n; i++, given++)
		f[r[i].index].quota++;
	free(r);
	return 0;
}

/* a + b mod m, for a, b < m < 2^31. */
static inline uint32_t add_mod(uint32_t a, uint32_t b, uint32_t m)
{
	uint32_t s = a + b;

	return s >= m ? s - m : s;
}

static inline int is_taken(const uint64_t *taken, uint32_t slot)
{
	return taken[slot / 64] >> (slot % 64) & 1;
}

/*
 * The next free slot of f's permutation, which it takes. PROBES slots of
 * the permutation are worked out and tested at a time: each from the first
 * by one addition, not each from the last, so they do not wait on each
 * other. The slot found is the first free one in the permutation's order,
 * as probing one at a time finds.
 */
static uint32_t next_free(struct fill *f, uint64_t *taken, uint32_t m)
{
	uint32_t p[PROBES + 1], slot;
	int k;

	p[0] = f->pos;
	for (;;) {
#pragma GCC unroll 4
		for (k = 1; k <= PROBES; k++)
			p[k] = add_mod(p[0], f->step[k], m);
#pragma GCC unroll 4
		for (k = 0; k < PROBES; k++)
			if (!is_taken(taken, p[k]))
				goto found;
		p[0] = p[PROBES];
	}
found:
	slot = p[k];
	f->pos = p[k + 1];
	taken[slot / 64] |= 1ull << (slot % 64);
	return slot;
}

int maglev_build(struct maglev_backend *b, size_t n, uint32_t *table,
		 uint32_t m)
{
	uint64_t total = 0, max_weight = 0, *taken;
	struct fill *f;
	uint32_t filled = 0;
	uint64_t skip;
	size_t i;
	int k;

	if (m < 2 || !is_prime(m))
		return -EINVAL;
	for (i = 0; i < m; i++)
		table[i] = MAGLEV_EMPTY;
	for (i = 0; i < n; i++) {
		total += b[i].weight;
		if (b[i].weight > max_weight)
			max_weight = b[i].weight;
	}
	if (!total)
		return 0;

	qsort(b, n, sizeof(*b), backend_cmp);
	f = calloc(n, sizeof(*f));
	/* A bit per slot: the probes below test it, in 8 KiB at the
	 * default size, where the table is 256 KiB. */
	taken = calloc((m + 63) / 64, sizeof(*taken));
	if (!f || !taken) {
		free(f);
		free(taken);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		f[i].pos = key_hash(b[i].key, MAGLEV_KEY_MAX, 0x6d61676c) % m;
		skip = key_hash(b[i].key, MAGLEV_KEY_MAX, 0x736b6970) % (m - 1) +
		       1;
		for (k = 0; k <= PROBES; k++)
			f[i].step[k] = skip * k % m;
	}
	if (set_quotas(b, f, n, m, total)) {
		free(f);
		free(taken);
		return -ENOMEM;
	}

	/*
	 * Backends take turns in sorted order; each turn adds its weight to
	 * its credit and it claims a slot for every max_weight of credit,
	 * so the table fills in proportion to weight throughout, not only in
	 * the final counts. A claim takes the next slot of the backend's own
	 * permutation (offset, offset + skip, ... mod m; m prime, so skip
	 * visits all) that is still free. The permutation is stepped by
	 * additions, not a division per probe: that is most of the build.
	 */
	while (filled < m) {
		for (i = 0; i < n && filled < m; i++) {
			uint32_t slot;

			if (!b[i].weight || f[i].count >= f[i].quota)
				continue;
			f[i].credit += b[i].weight;
			if (f[i].credit < max_weight)
				continue;
			f[i].credit -= max_weight;
			slot = next_free(&f[i], taken, m);
			table[slot] = b[i].id;
			f[i].count++;
			filled++;
		}
	}
	free(f);
	free(taken);
	return 0;
}
