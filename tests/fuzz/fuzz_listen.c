// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_listen.c - socket addresses as operators type them on the command
 * line (addr.h parse_sockaddr): `--listen ADDR:PORT` (exporter, daemon),
 * `--sync` and `--sync-peer ADDR[:PORT]` (sync_parse_addr). Any bytes, as
 * one string. An error is -EINVAL and nothing else. What parses is an
 * IPv4 or IPv6 address with a port that is not 0, the size said is its
 * family's; it prints, and the text parses again (as a LISTEN, port
 * required) to the same address, and prints the same. A string that is a
 * LISTEN is the same address as a sync address (a given port wins over
 * the default).
 */
#include <errno.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "addr.h"
#include "sync.h"

static void check(const char *s, const struct sockaddr_storage *ss,
		  socklen_t len)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	const struct sockaddr_in *sin = (const void *)ss;
	char text[ADDR_STRLEN], again[ADDR_STRLEN];
	struct sockaddr_storage back;
	socklen_t blen = 0;
	int ret;

	FUZZ_ASSERT(ss->ss_family == AF_INET || ss->ss_family == AF_INET6,
		    "'%s': family %u", s, ss->ss_family);
	FUZZ_ASSERT(len == (ss->ss_family == AF_INET ? sizeof(*sin) :
			    sizeof(*sin6)), "'%s': size %u", s, len);
	FUZZ_ASSERT(ss->ss_family == AF_INET ? sin->sin_port :
		    sin6->sin6_port, "'%s': port 0", s);
	format_sockaddr(ss, text, sizeof(text));
	ret = parse_sockaddr(text, 0, &back, &blen);
	FUZZ_ASSERT(!ret, "'%s' printed as '%s', which does not parse: %d",
		    s, text, ret);
	FUZZ_ASSERT(blen == len && !memcmp(&back, ss, len),
		    "'%s' -> '%s' -> another address", s, text);
	format_sockaddr(&back, again, sizeof(again));
	FUZZ_ASSERT(!strcmp(text, again), "printed '%s', then '%s'", text,
		    again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	struct sockaddr_storage listen, sync;
	socklen_t len = 0;
	int l, y;

	l = parse_sockaddr(s, 0, &listen, &len);
	FUZZ_ASSERT(l == 0 || l == -EINVAL, "'%s': %d", s, l);
	if (!l)
		check(s, &listen, len);
	y = sync_parse_addr(s, &sync);
	FUZZ_ASSERT(y == 0 || y == -EINVAL, "'%s': %d", s, y);
	if (!y) {
		len = sync.ss_family == AF_INET6 ?
		      sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		check(s, &sync, len);
	}
	if (!l)
		FUZZ_ASSERT(!y && !memcmp(&listen, &sync, sizeof(sync)),
			    "'%s': a LISTEN, but another sync address", s);
	free(s);
	return 0;
}
