// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_http_status.c - what a real answers an HTTP health check with
 * (hc_http_status): any bytes, whole or as they arrive in pieces. The
 * verdict is a status in 100..599, "not HTTP" or "read on" (never once
 * the answer is final); and it does not depend on how the bytes came:
 * once a prefix has a verdict, every longer one has the same.
 */
#include "fuzz.h"
#include "health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf;
	char *copy;
	int whole, part = HC_HTTP_MORE, v;
	size_t cut;

	/* Exactly size bytes, so that ASan sees a read past them. */
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	buf = copy;
	whole = hc_http_status(buf, size, true);
	FUZZ_ASSERT(whole == HC_HTTP_BAD || (whole >= 100 && whole <= 599),
		    "final verdict %d", whole);
	for (cut = 0; cut <= size; cut++) {
		v = hc_http_status(buf, cut, false);
		FUZZ_ASSERT(v == HC_HTTP_MORE || v == HC_HTTP_BAD ||
			    (v >= 100 && v <= 599), "verdict %d", v);
		if (part != HC_HTTP_MORE)
			FUZZ_ASSERT(v == part, "%zu bytes: %d, fewer: %d", cut,
				    v, part);
		part = v;
	}
	if (part != HC_HTTP_MORE)
		FUZZ_ASSERT(whole == part, "whole %d, in pieces %d", whole,
			    part);
	free(copy);
	return 0;
}
