// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_parse.c - what operators type (user/common/addr.c,
 * user/cli/spec.c): VIPs, addresses, MACs, weights, table sizes, the
 * printed form of a VIP, the one-line usage errors of options, seconds
 * (SEC) and the help text's range of them; and the one-line form of every
 * error message (log.c).
 *
 * Expected values are written out as bytes, or come from inet_pton, never
 * from the functions under test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "addr.h"
#include "cmd.h"
#include "log.h"
#include "spec.h"
#include "usage.h"	/* the help text, from doc/xdplb.8.md */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* parse_vip ------------------------------------------------------------- */

struct vip_ok {
	const char *in;
	int family;		/* AF_INET or AF_INET6, for inet_pton */
	const char *addr;
	__u16 port;
	__u8 proto;
};

static const struct vip_ok vip_ok[] = {
	{ "10.0.0.1:80", AF_INET, "10.0.0.1", 80, IPPROTO_TCP },
	{ "10.0.0.1:80/tcp", AF_INET, "10.0.0.1", 80, IPPROTO_TCP },
	{ "10.0.0.1:53/udp", AF_INET, "10.0.0.1", 53, IPPROTO_UDP },
	{ "192.0.2.255:0", AF_INET, "192.0.2.255", 0, IPPROTO_TCP },
	{ "192.0.2.1:65535/udp", AF_INET, "192.0.2.1", 65535, IPPROTO_UDP },
	{ "0.0.0.0:1", AF_INET, "0.0.0.0", 1, IPPROTO_TCP },
	{ "[2001:db8::1]:443", AF_INET6, "2001:db8::1", 443, IPPROTO_TCP },
	{ "[2001:db8::1]:443/tcp", AF_INET6, "2001:db8::1", 443, IPPROTO_TCP },
	{ "[::1]:53/udp", AF_INET6, "::1", 53, IPPROTO_UDP },
	{ "[::]:0", AF_INET6, "::", 0, IPPROTO_TCP },
	{ "[fe80::1:2:3:4]:65535", AF_INET6, "fe80::1:2:3:4", 65535,
	  IPPROTO_TCP },
};

Test(parse_vip, accepts)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vip_ok); i++) {
		const struct vip_ok *c = &vip_ok[i];
		struct xdplb_svc_key key, want;
		int err;

		memset(&key, 0xa5, sizeof(key));	/* no stale bytes */
		memset(&want, 0, sizeof(want));
		cr_assert_eq(inet_pton(c->family, c->addr, &want.addr), 1);
		want.family = c->family == AF_INET ? XDPLB_AF_INET :
						     XDPLB_AF_INET6;
		want.port = htons(c->port);
		want.proto = c->proto;

		err = parse_vip(c->in, &key);
		cr_assert_eq(err, 0, "parse_vip(\"%s\") = %d", c->in, err);
		cr_expect_eq(key.family, want.family, "\"%s\": family %u",
			     c->in, key.family);
		cr_expect_eq(ntohs(key.port), c->port, "\"%s\": port %u",
			     c->in, ntohs(key.port));
		cr_expect_eq(key.proto, c->proto, "\"%s\": proto %u", c->in,
			     key.proto);
		cr_expect(!memcmp(&key.addr, &want.addr, sizeof(key.addr)),
			  "\"%s\": address bytes differ", c->in);
		/* The whole key, as the map will see it. */
		cr_expect(!memcmp(&key, &want, sizeof(key)),
			  "\"%s\": key differs from the expected one", c->in);
	}
}

static const char *const vip_bad[] = {
	"",
	"garbage",
	"1.2.3.4",		/* no port */
	"1.2.3.4:",
	"1.2.3.4:65536",
	"1.2.3.4:99999999999999999999",
	"1.2.3.4:-1",
	"1.2.3.4:+80",
	"1.2.3.4: 80",
	"1.2.3.4:08x",
	"1.2.3.4:80x",
	"1.2.3.4:80/sctp",
	"1.2.3.4:80/",
	"1.2.3.4:80/TCP/udp",
	"1.2.3.4/tcp",
	"1.2.3.256:80",
	"1.2.3:80",
	"1.2.3.4:80:80",
	":80",
	"::1:80",		/* IPv6 without brackets */
	"2001:db8::1:80",
	"[::1]80",
	"[::1]",
	"[::1]:",
	"[::1:80",
	"::1]:80",
	"[]:80",
	"[1.2.3.4]:80",
	"[::1]:65536",
	"[::1]:80/icmp",
	"host.example:80",
	"[2001:db8:0:0:0:0:0:0:1]:80",
};

Test(parse_vip, rejects)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vip_bad); i++) {
		struct xdplb_svc_key key;
		int err = parse_vip(vip_bad[i], &key);

		cr_expect_eq(err, -EINVAL,
			     "parse_vip(\"%s\") = %d, want -EINVAL", vip_bad[i],
			     err);
	}
}

Test(parse_vip, too_long)
{
	char s[256];
	struct xdplb_svc_key key;

	memset(s, '1', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	cr_assert_eq(parse_vip(s, &key), -EINVAL);
}

/* parse_addr ------------------------------------------------------------ */

Test(parse_addr, ipv4)
{
	struct xdplb_addr a;
	__u8 family = 0;
	static const __u8 want[16] = { 192, 0, 2, 7 };

	memset(&a, 0xff, sizeof(a));
	cr_assert_eq(parse_addr("192.0.2.7", &a, &family), 0);
	cr_assert_eq(family, XDPLB_AF_INET);
	cr_assert(!memcmp(&a, want, 16), "IPv4: bytes or zero tail wrong");
}

Test(parse_addr, ipv6)
{
	static const __u8 want[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				       0, 0, 0, 0, 0, 0, 0xab, 0xcd };
	static const char *const forms[] = { "2001:db8::abcd",
					     "[2001:db8::abcd]",
					     "2001:0DB8:0:0:0:0:0:ABCD" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		struct xdplb_addr a;
		__u8 family = 0;

		cr_assert_eq(parse_addr(forms[i], &a, &family), 0, "%s",
			     forms[i]);
		cr_assert_eq(family, XDPLB_AF_INET6, "%s", forms[i]);
		cr_assert(!memcmp(&a, want, 16), "%s: bytes differ",
			  forms[i]);
	}
}

Test(parse_addr, rejects)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "1.2.3.256", " 1.2.3.4", "1.2.3.4 ",
		"1.2.3.4/32", "[1.2.3.4]", "[", "[]", "[::1", "::1]",
		"[[::1]]", "2001:db8::g", "2001:db8:::1", "localhost",
		"[::1]:80",
		"0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:1",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct xdplb_addr a;
		__u8 family;
		int err = parse_addr(bad[i], &a, &family);

		cr_expect_eq(err, -EINVAL, "parse_addr(\"%s\") = %d", bad[i],
			     err);
	}
}

/* parse_mac ------------------------------------------------------------- */

Test(parse_mac, accepts)
{
	static const struct {
		const char *in;
		__u8 mac[6];
	} ok[] = {
		{ "02:00:00:00:00:01", { 0x02, 0, 0, 0, 0, 0x01 } },
		{ "aa:bb:cc:dd:ee:ff", { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff } },
		{ "AA:BB:CC:DD:EE:0F", { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f } },
		{ "00:00:00:00:00:01", { 0, 0, 0, 0, 0, 0x01 } },
		{ "fe:ff:ff:ff:ff:ff", { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff } },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		__u8 mac[6];
		int err;

		memset(mac, 0x5a, sizeof(mac));
		err = parse_mac(ok[i].in, mac);
		cr_expect_eq(err, 0, "parse_mac(\"%s\") = %d", ok[i].in, err);
		cr_expect(!memcmp(mac, ok[i].mac, 6), "\"%s\": bytes differ",
			  ok[i].in);
	}
}

/* Well formed, but no host's: -EDOM, so that the message can say so. */
Test(parse_mac, rejects_what_no_host_has)
{
	static const char *const bad[] = {
		"01:00:5e:00:00:01",	/* IPv4 multicast */
		"33:33:00:00:00:01",	/* IPv6 multicast */
		"ff:ff:ff:ff:ff:ff",	/* broadcast */
		"03:00:00:00:00:00",	/* the group bit alone */
		"00:00:00:00:00:00",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		__u8 mac[6];
		int err = parse_mac(bad[i], mac);

		cr_expect_eq(err, -EDOM, "parse_mac(\"%s\") = %d", bad[i],
			     err);
	}
}

Test(parse_mac, rejects)
{
	static const char *const bad[] = {
		"",
		"02:00:00:00:00",
		"02:00:00:00:00:1",
		"2:00:00:00:00:01",
		"02:00:00:00:00:0g",
		"g2:00:00:00:00:01",
		"02:00:00:00:00:01x",
		"02:00:00:00:00:01:",
		"02:00:00:00:00:01 ",
		" 2:00:00:00:00:01",
		"+2:00:00:00:00:01",
		"02-00-00-00-00-01",
		"0200.0000.0001",
		"020000000001",
		"02:00:00:00:00:001",
		"02::00:00:00:00:1",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		__u8 mac[6];
		int err = parse_mac(bad[i], mac);

		cr_expect_eq(err, -EINVAL, "parse_mac(\"%s\") = %d", bad[i],
			     err);
	}
}

/* addr_not_host --------------------------------------------------------- */

Test(addr_not_host, refuses_what_no_host_is)
{
	static const struct {
		const char *in;
		const char *says;	/* NULL: a host's address */
	} cases[] = {
		{ "0.0.0.0", "unspecified" },
		{ "0.1.2.3", "unspecified" },
		{ "127.0.0.1", "loopback" },
		{ "127.255.255.254", "loopback" },
		{ "224.0.0.1", "multicast" },
		{ "239.255.255.255", "multicast" },
		{ "255.255.255.255", "broadcast" },
		{ "240.0.0.1", "reserved" },
		{ "255.255.255.254", "reserved" },
		{ "::", "unspecified" },
		{ "::1", "loopback" },
		{ "ff02::1", "multicast" },
		{ "ff05::1:3", "multicast" },
		{ "::ffff:10.0.0.1", "IPv4-mapped" },
		{ "::10.0.0.1", "IPv4-compatible" },
		{ "1.0.0.0", NULL },
		{ "10.0.0.255", NULL },		/* broadcast only on a /24 */
		{ "169.254.1.1", NULL },
		{ "223.255.255.255", NULL },
		{ "126.255.255.255", NULL },
		{ "128.0.0.0", NULL },
		{ "2001:db8::1", NULL },
		{ "fe80::1", NULL },
		{ "fd00::1", NULL },
		{ "::1:0:0:1", NULL },
		{ "::fffe:10.0.0.1", NULL },
		{ "fe00::1", NULL },
		{ "64:ff9b::10.0.0.1", NULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct xdplb_addr a;
		const char *why;
		__u8 family;

		cr_assert_eq(parse_addr(cases[i].in, &a, &family), 0);
		cr_expect_eq(addr_is_loopback(&a, family), cases[i].says &&
			     !strcmp(cases[i].says, "loopback"), "%s",
			     cases[i].in);
		why = addr_not_host(&a, family);
		if (!cases[i].says)
			cr_expect_null(why, "%s: '%s'", cases[i].in, why);
		else
			cr_expect(why && strstr(why, cases[i].says),
				  "%s: '%s', want '%s'", cases[i].in,
				  why ? why : "(null)", cases[i].says);
	}
}

Test(parse_mac, format_round_trip)
{
	static const __u8 mac[6] = { 0x02, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e };
	char buf[MAC_STRLEN];
	__u8 back[6];

	format_mac(mac, buf, sizeof(buf));
	cr_assert_str_eq(buf, "02:1a:2b:3c:4d:5e");
	cr_assert_eq(parse_mac(buf, back), 0);
	cr_assert(!memcmp(mac, back, 6));
}

/* parse_weight, parse_ulong --------------------------------------------- */

Test(parse_weight, accepts)
{
	static const struct {
		const char *in;
		__u16 w;
	} ok[] = { { "0", 0 }, { "1", 1 }, { "100", 100 },
		   { "65535", 65535 }, { "007", 7 } };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		__u16 w = 12345;
		int err = parse_weight(ok[i].in, &w);

		cr_expect_eq(err, 0, "parse_weight(\"%s\") = %d", ok[i].in,
			     err);
		cr_expect_eq(w, ok[i].w, "\"%s\" -> %u", ok[i].in, w);
	}
}

Test(parse_weight, rejects)
{
	static const char *const bad[] = {
		"65536", "-1", "1x", "", " 1", "1 ", "+1", "0x10", "1.5",
		"99999999999999999999999", "4294967296", "w",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		__u16 w = 12345;
		int err = parse_weight(bad[i], &w);

		cr_expect_eq(err, -EINVAL, "parse_weight(\"%s\") = %d", bad[i],
			     err);
		cr_expect_eq(w, 12345, "\"%s\": weight written on error",
			     bad[i]);
	}
}

Test(parse_ulong, bounds)
{
	unsigned long v = 0;

	cr_assert_eq(parse_ulong("1048573", 1048573, &v), 0);
	cr_assert_eq(v, 1048573);
	cr_assert_eq(parse_ulong("1048574", 1048573, &v), -EINVAL);
	cr_assert_eq(parse_ulong("0", 0, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(parse_ulong("1", 0, &v), -EINVAL);
	cr_assert_eq(parse_ulong("18446744073709551616", ~0ul, &v), -EINVAL);
}

/* is_prime -------------------------------------------------------------- */

Test(is_prime, small_numbers_against_a_sieve)
{
	enum { N = 20000 };
	static bool composite[N];
	unsigned long i, j;

	composite[0] = composite[1] = true;
	for (i = 2; i * i < N; i++)
		if (!composite[i])
			for (j = i * i; j < N; j += i)
				composite[j] = true;
	for (i = 0; i < N; i++)
		cr_assert_eq(is_prime(i), !composite[i], "is_prime(%lu) = %d",
			     i, is_prime(i));
}

Test(is_prime, table_sizes)
{
	cr_assert(is_prime(XDPLB_DEFAULT_TABLE_SIZE));
	cr_assert(is_prime(XDPLB_MAX_TABLE_SIZE));
	cr_assert(is_prime(XDPLB_MIN_TABLE_SIZE));
	cr_assert(is_prime(251));
	cr_assert(!is_prime(65536));
	cr_assert(!is_prime(1048575));		/* 3 * 5^2 * 11 * 31 * 41 */
	cr_assert(!is_prime(1048576));
	cr_assert(!is_prime(999983ul * 999983ul));	/* a prime squared */
	cr_assert(is_prime(4294967291ul));	/* largest prime < 2^32 */
}

/* format_vip ------------------------------------------------------------ */

Test(format_vip, round_trip)
{
	static const struct {
		const char *in;
		const char *out;	/* canonical form */
	} cases[] = {
		{ "10.0.0.1:80", "10.0.0.1:80/tcp" },
		{ "10.0.0.1:80/tcp", "10.0.0.1:80/tcp" },
		{ "10.0.0.1:53/udp", "10.0.0.1:53/udp" },
		{ "1.2.3.4:0", "1.2.3.4:0/tcp" },
		{ "1.2.3.4:065535/udp", "1.2.3.4:65535/udp" },
		{ "[2001:DB8:0::1]:443", "[2001:db8::1]:443/tcp" },
		{ "[::1]:53/udp", "[::1]:53/udp" },
		{ "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535/udp",
		  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535/udp" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct xdplb_svc_key key, again;
		char buf[ADDR_STRLEN];

		cr_assert_eq(parse_vip(cases[i].in, &key), 0, "%s",
			     cases[i].in);
		format_vip(&key, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].out,
				 "format_vip(%s) = \"%s\" (ADDR_STRLEN %d)",
				 cases[i].in, buf, ADDR_STRLEN);
		cr_assert_eq(parse_vip(buf, &again), 0, "%s", buf);
		cr_expect(!memcmp(&key, &again, sizeof(key)),
			  "%s -> %s parses to another key", cases[i].in, buf);
	}
}

/* Options -------------------------------------------------------------- */

/* spec_getopt over a command line; its message in err. */
static int getopt_all(int argc, char **argv, char *err)
{
	static const struct option lo[] = {
		{ "vip", required_argument, NULL, 'V' },
		{ "sorry", no_argument, NULL, 's' },
		{ "view", no_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = spec_getopt(argc, argv, lo, err, SPEC_ERRLEN)) >= 0)
		;
	return c;
}

Test(spec_getopt, one_line_usage_errors)
{
	static const struct {
		const char *args[4];
		const char *says;
	} cases[] = {
		{ { "--vip" }, "stats: '--vip' needs a value" },
		{ { "x", "--vip" }, "stats: '--vip' needs a value" },
		{ { "--bogus" }, "stats: unknown option '--bogus'" },
		{ { "--bogus=1" }, "stats: unknown option '--bogus'" },
		{ { "--sorry=1" }, "stats: '--sorry' takes no value" },
		{ { "--so=1" }, "stats: '--sorry' takes no value" },
		{ { "--v", "x" }, "stats: ambiguous option '--v' (--vip, ...)" },
		{ { "--vi=1" }, "stats: ambiguous option '--vi' (--vip, ...)" },
		{ { "-x" }, "stats: unknown option '-x'" },
		{ { "-s" }, "stats: unknown option '-s'" },
	};
	char err[SPEC_ERRLEN], *argv[6];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		argv[0] = "stats";
		for (n = 0; n < 4 && cases[i].args[n]; n++)
			argv[n + 1] = (char *)cases[i].args[n];
		argv[n + 1] = NULL;
		cr_expect_eq(getopt_all(n + 1, argv, err), -EXIT_USAGE,
			     "case %zu", i);
		cr_expect_str_eq(err, cases[i].says, "case %zu", i);
	}
}

/* The global options: short ones too, and no "WHO: " before the message. */
Test(spec_getopt, global)
{
	static const struct option lo[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	char err[SPEC_ERRLEN];
	char *a1[] = { "xdplb", "-jz", "list", NULL };
	char *a2[] = { "xdplb", "--pin-dir", NULL };
	char *a3[] = { "xdplb", "-j", "list", "--vip", NULL };

	optind = 0;
	cr_expect_eq(spec_getopt_from(3, a1, "+j", lo, NULL, err, sizeof(err)),
		     'j');
	cr_expect_eq(spec_getopt_from(3, a1, "+j", lo, NULL, err, sizeof(err)),
		     -EXIT_USAGE);
	cr_expect_str_eq(err, "unknown option '-z'");
	optind = 0;
	cr_expect_eq(spec_getopt_from(2, a2, "+j", lo, NULL, err, sizeof(err)),
		     -EXIT_USAGE);
	cr_expect_str_eq(err, "'--pin-dir' needs a value");
	/* '+': the command's own options are not the global ones. */
	optind = 0;
	cr_expect_eq(spec_getopt_from(4, a3, "+j", lo, NULL, err, sizeof(err)),
		     'j');
	cr_expect_eq(spec_getopt_from(4, a3, "+j", lo, NULL, err, sizeof(err)),
		     -1);
	cr_expect_eq(optind, 2);
}

/* One line whatever a message holds. */
Test(log_line, escapes_control_bytes)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert(f);
	log_line(f, "unknown command 'li\nst\t\x1b[0m\r\x7f' (see)");
	fclose(f);
	cr_expect_str_eq(out, "xdplb: unknown command "
			 "'li\\nst\\t\\x1b[0m\\r\\x7f' (see)\n");
	free(out);
}

/* SEC -------------------------------------------------------------------- */

Test(spec_secs, range)
{
	static const struct {
		const char *s;
		__u32 ms;	/* 0: refused */
	} cases[] = {
		{ "0.01", 10 }, { "3600", 3600000 }, { "0.5", 500 },
		{ "0.0049", 0 }, { "3600.001", 0 }, { "0", 0 }, { "1e3", 0 },
		{ "0x10", 0 }, { "inf", 0 }, { "nan", 0 }, { "-1", 0 },
		{ " 1", 0 }, { "1 ", 0 }, { "", 0 },
	};
	char err[SPEC_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u32 ms = 0;
		int ret = spec_secs("interval", cases[i].s, &ms, err,
				    sizeof(err));

		cr_expect_eq(ret, cases[i].ms ? 0 : EXIT_FAIL, "'%s'",
			     cases[i].s);
		if (cases[i].ms)
			cr_expect_eq(ms, cases[i].ms, "'%s': %u ms",
				     cases[i].s, ms);
		else
			cr_expect(strstr(err, "in " SPEC_SECS_RANGE), "%s",
				  err);
	}
}

/* The help text (doc/xdplb.8.md, the one source of it) gives the ranges
 * the code has: SPEC_SECS_RANGE is the millisecond limits, and the help
 * says both ranges of SEC. */
Test(spec_secs, help_says_the_range)
{
	char lo[16], hi[16], range[40], flow[40];
	const char *sec = strstr(usage_text, "\nSEC   := ");
	char text[400];
	size_t n;

	format_secs(SPEC_MIN_SECS_MS, lo, sizeof(lo));
	format_secs(SPEC_MAX_SECS_MS, hi, sizeof(hi));
	snprintf(range, sizeof(range), "%s..%s", lo, hi);
	cr_expect_str_eq(range, SPEC_SECS_RANGE);
	cr_assert(sec, "no SEC in the help text");
	/* SEC's definition: up to the next metavariable's line. */
	n = strstr(sec + 1, "\nLISTEN") ? (size_t)(strstr(sec + 1, "\nLISTEN") -
						   sec) : strlen(sec);
	snprintf(text, sizeof(text), "%.*s", (int)n, sec);
	cr_expect(strstr(text, SPEC_SECS_RANGE), "SEC in help: %s", text);
	snprintf(flow, sizeof(flow), "1..%d", SPEC_MAX_FLOW_TIMEOUT);
	cr_expect(strstr(text, flow), "SEC in help: %s", text);
}
