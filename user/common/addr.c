// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"

/* An IPv4 address, or an IPv6 one with or without brackets. */
int parse_addr(const char *s, struct xdplb_addr *addr, __u8 *family)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);

	memset(addr, 0, sizeof(*addr));
	if (n >= sizeof(buf) || n == 0)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &addr->v4) == 1) {
		*family = XDPLB_AF_INET;
		return 0;
	}
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return -EINVAL;
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET6, s, addr->v6) == 1) {
		*family = XDPLB_AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* VIP := ADDR:PORT[/tcp|/udp]; IPv6 ADDR in brackets. tcp by default. */
int parse_vip(const char *s, struct xdplb_svc_key *key)
{
	char buf[ADDR_STRLEN + 8], *slash, *colon, *host;
	unsigned long port;

	memset(key, 0, sizeof(*key));
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);

	key->proto = IPPROTO_TCP;
	slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (!strcmp(slash + 1, "tcp"))
			key->proto = IPPROTO_TCP;
		else if (!strcmp(slash + 1, "udp"))
			key->proto = IPPROTO_UDP;
		else
			return -EINVAL;
	}

	host = buf;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		colon = close + 1;
	} else {
		colon = strrchr(buf, ':');
		if (!colon || strchr(buf, ':') != colon)
			return -EINVAL;	/* IPv6 without brackets */
	}
	*colon = '\0';
	if (parse_ulong(colon + 1, 65535, &port))
		return -EINVAL;
	if (parse_addr(host, &key->addr, &key->family))
		return -EINVAL;
	key->port = htons((__u16)port);
	return 0;
}

int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) ||
		    !isxdigit((unsigned char)s[i * 3 + 1]))
			return -EINVAL;
		mac[i] = (__u8)b[i];
	}
	return mac_is_host(mac) ? 0 : -EDOM;
}

bool mac_is_host(const __u8 mac[6])
{
	if (mac[0] & 1)		/* multicast or broadcast */
		return false;
	return mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5];
}

bool addr_is_loopback(const struct xdplb_addr *addr, __u8 family)
{
	static const __u8 lo6[16] = { [15] = 1 };

	if (family == XDPLB_AF_INET)
		return ((const __u8 *)addr)[0] == 127;
	return !memcmp(addr, lo6, sizeof(lo6));
}

const char *addr_not_host(const struct xdplb_addr *addr, __u8 family)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	const __u8 *b = (const __u8 *)addr;
	static const __u8 zero[16];

	if (family == XDPLB_AF_INET) {
		if (b[0] == 0)
			return "unspecified (0.0.0.0/8)";
		if (b[0] == 127)
			return "a loopback address";
		if (b[0] >= 224 && b[0] < 240)
			return "a multicast address";
		if (!memcmp(b, "\xff\xff\xff\xff", 4))
			return "the broadcast address";
		if (b[0] >= 240)
			return "reserved (240.0.0.0/4)";
		return NULL;
	}
	if (b[0] == 0xff)
		return "a multicast address";
	if (!memcmp(b, mapped, sizeof(mapped)))
		return "IPv4-mapped (::ffff:0:0/96)";
	if (memcmp(b, zero, 12))
		return NULL;
	if (!memcmp(b + 12, zero, 4))
		return "unspecified";
	if (!memcmp(b + 12, "\0\0\0\1", 4))
		return "a loopback address";
	return "IPv4-compatible (::/96, deprecated)";
}

/* A decimal number in 0..max, nothing before or after it. */
int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_weight(const char *s, __u16 *weight)
{
	unsigned long v;

	if (parse_ulong(s, XDPLB_MAX_WEIGHT, &v))
		return -EINVAL;
	*weight = (__u16)v;
	return 0;
}

bool is_prime(unsigned long n)
{
	unsigned long d;

	if (n < 2)
		return false;
	for (d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

const char *proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	default:
		return "?";
	}
}

void format_addr(const struct xdplb_addr *addr, __u8 family, char *buf,
		 size_t len)
{
	if (!inet_ntop(family == XDPLB_AF_INET6 ? AF_INET6 : AF_INET,
		       addr, buf, len))
		snprintf(buf, len, "?");
}

void format_vip(const struct xdplb_svc_key *key, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	format_addr(&key->addr, key->family, a, sizeof(a));
	snprintf(buf, len, key->family == XDPLB_AF_INET6 ? "[%s]:%u/%s" :
		 "%s:%u/%s", a, ntohs(key->port), proto_name(key->proto));
}

void format_mac(const __u8 mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

bool addr_equal(const struct xdplb_addr *a, const struct xdplb_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

int parse_sockaddr(const char *s, __u16 port, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	char buf[ADDR_STRLEN + 8];
	struct xdplb_svc_key key;
	size_t n = strlen(s);

	memset(ss, 0, sizeof(*ss));
	/* Without a port (an IPv4 address without a colon, or one in
	 * brackets): the default's. */
	if (port && n && (s[0] == '[' ? s[n - 1] == ']' : !strchr(s, ':'))) {
		if ((size_t)snprintf(buf, sizeof(buf), "%s:%u", s, port) >=
		    sizeof(buf))
			return -EINVAL;
		s = buf;
	}
	if (strchr(s, '/') || parse_vip(s, &key) || !key.port)
		return -EINVAL;
	if (key.family == XDPLB_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = key.port;
		sin->sin_addr.s_addr = key.addr.v4;
		if (len)
			*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = key.port;
		memcpy(&sin6->sin6_addr, key.addr.v6, 16);
		if (len)
			*len = sizeof(*sin6);
	}
	return 0;
}

void format_sockaddr(const struct sockaddr_storage *ss, char *buf,
		     size_t len)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)))
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	else if (ss->ss_family == AF_INET6 &&
		 inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a)))
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	else
		snprintf(buf, len, "?");
}
