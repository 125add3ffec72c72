// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_addr.c - addresses as operators type them (addr.h): ADDR, VIP,
 * MAC, numbers, weights. What parses is printed and parsed again: it must
 * come back the same, and print the same.
 */
#include <netinet/in.h>

#include "fuzz.h"
#include "addr.h"

static void addr_round_trip(const char *s)
{
	struct xdplb_addr a, b;
	char text[ADDR_STRLEN], again[ADDR_STRLEN];
	__u8 fa = 0xff, fb = 0xff;

	if (parse_addr(s, &a, &fa))
		return;
	FUZZ_ASSERT(fa == XDPLB_AF_INET || fa == XDPLB_AF_INET6,
		    "family %u", fa);
	format_addr(&a, fa, text, sizeof(text));
	FUZZ_ASSERT(!parse_addr(text, &b, &fb), "'%s' printed as '%s', "
		    "which does not parse", s, text);
	FUZZ_ASSERT(fa == fb && addr_equal(&a, &b), "'%s' -> '%s' -> "
		    "another address", s, text);
	format_addr(&b, fb, again, sizeof(again));
	FUZZ_ASSERT(!strcmp(text, again), "printed '%s', then '%s'", text,
		    again);
}

static void vip_round_trip(const char *s)
{
	struct xdplb_svc_key k, k2;
	char text[ADDR_STRLEN];

	if (parse_vip(s, &k))
		return;
	FUZZ_ASSERT(k.proto == IPPROTO_TCP || k.proto == IPPROTO_UDP,
		    "protocol %u", k.proto);
	format_vip(&k, text, sizeof(text));
	FUZZ_ASSERT(!parse_vip(text, &k2), "VIP '%s' printed as '%s', which "
		    "does not parse", s, text);
	FUZZ_ASSERT(!memcmp(&k, &k2, sizeof(k)), "VIP '%s' -> '%s' -> "
		    "another key", s, text);
}

static void mac_round_trip(const char *s)
{
	__u8 m[6], m2[6];
	char text[MAC_STRLEN];

	if (parse_mac(s, m))
		return;
	FUZZ_ASSERT(!(m[0] & 1), "a multicast MAC from '%s'", s);
	format_mac(m, text, sizeof(text));
	FUZZ_ASSERT(!strcasecmp(text, s), "MAC '%s' printed as '%s'", s,
		    text);
	FUZZ_ASSERT(!parse_mac(text, m2) && !memcmp(m, m2, 6),
		    "MAC '%s' does not parse back", text);
}

static void number(const char *s)
{
	unsigned long v = 0, max = 65535;
	char text[24];
	__u16 w;

	if (!parse_ulong(s, max, &v)) {
		FUZZ_ASSERT(v <= max, "%lu above %lu", v, max);
		snprintf(text, sizeof(text), "%lu", v);
		/* Leading zeros aside, the digits are the number's. */
		FUZZ_ASSERT(!strcmp(s + strspn(s, "0"), v ? text : ""),
			    "'%s' read as %lu", s, v);
	}
	if (!parse_weight(s, &w))
		FUZZ_ASSERT(w <= XDPLB_MAX_WEIGHT, "weight %u", w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);

	addr_round_trip(s);
	vip_round_trip(s);
	mac_round_trip(s);
	number(s);
	free(s);
	return 0;
}
