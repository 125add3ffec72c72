/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maglev.h - weighted Maglev consistent hashing (Eisenbud et al., "Maglev:
 * A Fast and Reliable Software Network Load Balancer", NSDI 2016, §3.4).
 *
 * maglev_build() fills a table of m slots (m prime) with backend ids. The
 * result depends only on the set of (key, weight) pairs: backends are
 * sorted by key first, and every hash is fixed, so two load balancers with
 * the same reals build byte-identical tables whatever order the reals were
 * added in. Each backend's share is exact: its slot count is the largest-
 * remainder rounding of m * weight / total weight. Weight 0 gets no slot;
 * when every weight is 0 the table is all MAGLEV_EMPTY.
 */
#ifndef XDPLB_MAGLEV_H
#define XDPLB_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#define MAGLEV_EMPTY		0xffffffffu
#define MAGLEV_KEY_MAX		20

struct maglev_backend {
	uint8_t key[MAGLEV_KEY_MAX];	/* identity: family + address */
	uint32_t weight;
	uint32_t id;			/* what goes into the table */
};

/* Returns 0, -EINVAL (m not prime or too small) or -ENOMEM. Sorts b. */
int maglev_build(struct maglev_backend *b, size_t n, uint32_t *table,
		 uint32_t m);

#endif /* XDPLB_MAGLEV_H */
