// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_netlink.c - answers of the kernel's rtnetlink, as one recv() gives
 * them (nl.h): a neighbour entry (neigh_parse, the first byte 0) or part
 * of an address dump (ifaddr_parse, 1). The request's sequence number is
 * 1, the socket's port id 100; the rest of the bytes are the answer,
 * copied to a buffer of their size, aligned as the kernel's are.
 */
#include <errno.h>

#include "fuzz.h"
#include "ifaddr.h"
#include "neigh.h"

#define SEQ	1
#define PORTID	100

static void check_err(int ret)
{
	FUZZ_ASSERT(ret >= -4095, "error %d is not an errno", ret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ifaddr_dump d = {};
	struct neigh_entry r;
	void *buf;
	int ret, i;

	if (!size)
		return 0;
	buf = malloc(size);
	if (!buf)
		abort();
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1) {
		ret = ifaddr_parse(buf, size - 1, SEQ, PORTID, &d);
		check_err(ret);
		FUZZ_ASSERT(ret <= 1, "ifaddr_parse: %d", ret);
		FUZZ_ASSERT(d.n >= 0 && d.n <= d.cap, "%d of %d", d.n, d.cap);
		for (i = 0; i < d.n; i++)
			FUZZ_ASSERT(d.v[i].family == XDPLB_AF_INET ||
				    d.v[i].family == XDPLB_AF_INET6,
				    "family %u", d.v[i].family);
		free(d.v);
	} else {
		memset(&r, 0xa5, sizeof(r));
		ret = neigh_parse(buf, size - 1, SEQ, PORTID, &r);
		check_err(ret);
		FUZZ_ASSERT(ret <= 0, "neigh_parse: %d", ret);
		FUZZ_ASSERT(r.found || (!r.has_mac && !r.state),
			    "a MAC or state without an entry");
	}
	free(buf);
	return 0;
}
