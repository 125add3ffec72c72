// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * spec.c - service and real lines: parsed the same way from the command
 * line and from configuration files. See spec.h.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "spec.h"

static int fail(char *err, size_t len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Put the message in err; return ret (EXIT_FAIL or EXIT_USAGE). */
static int fail(char *err, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return ret;
}

const struct option global_opts[] = {
	{ "pin-dir", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The option getopt_long just refused, as given: "--name" (its value
 * cut off) or "-c". */
static void refused_option(char **argv, char *buf, size_t len)
{
	const char *a = argv[optind - 1];

	if (!strncmp(a, "--", 2))
		snprintf(buf, len, "%.*s", (int)strcspn(a, "="), a);
	else if (optopt > ' ' && optopt < 0x7f)
		snprintf(buf, len, "-%c", optopt);
	else
		snprintf(buf, len, "%s", a);
}

int spec_getopt_from(int argc, char **argv, const char *shortopts,
		     const struct option *longopts, const char *who,
		     char *err, size_t len)
{
	const struct option *o, *match = NULL;
	bool plus = shortopts[0] == '+', ambiguous = false;
	char opt[64], optstr[16];
	int saved = opterr, c;

	/* ':' first (after a '+'): a missing value is told from an
	 * unknown option. */
	snprintf(optstr, sizeof(optstr), "%s:%s", plus ? "+" : "",
		 shortopts + plus);
	opterr = 0;
	c = getopt_long(argc, argv, optstr, longopts, NULL);
	opterr = saved;
	if (c != '?' && c != ':')
		return c;
	refused_option(argv, opt, sizeof(opt));
	if (c == ':')
		return -fail(err, len, EXIT_USAGE, "%s%s'%s' needs a value",
			     who ? who : "", who ? ": " : "", opt);
	/* A long option getopt_long refused: which ones its name can be
	 * (getopt_long takes an unambiguous abbreviation). */
	for (o = longopts; !strncmp(opt, "--", 2) && o->name; o++) {
		if (strncmp(o->name, opt + 2, strlen(opt + 2)))
			continue;
		if (!strcmp(o->name, opt + 2) || !match)
			match = o;
		else if (strcmp(match->name, opt + 2))
			ambiguous = true;
	}
	if (match && (!ambiguous || !strcmp(match->name, opt + 2)) &&
	    match->has_arg == no_argument)
		return -fail(err, len, EXIT_USAGE, "%s%s'--%s' takes no value",
			     who ? who : "", who ? ": " : "", match->name);
	if (match && ambiguous)
		return -fail(err, len, EXIT_USAGE, "%s%sambiguous option '%s' "
			     "(--%s, ...)", who ? who : "", who ? ": " : "",
			     opt, match->name);
	return -fail(err, len, EXIT_USAGE, "%s%sunknown option '%s'",
		     who ? who : "", who ? ": " : "", opt);
}

int spec_getopt(int argc, char **argv, const struct option *longopts,
		char *err, size_t len)
{
	return spec_getopt_from(argc, argv, "", longopts, argv[0], err, len);
}

int spec_vip(const char *s, struct xdplb_svc_key *key,
			   char *err, size_t len)
{
	if (!parse_vip(s, key))
		return 0;
	return fail(err, len, EXIT_FAIL, "malformed VIP '%s' (expected "
		    "ADDR:PORT[/tcp|/udp], IPv6 ADDR in brackets)", s);
}

int spec_secs(const char *name, const char *s, __u32 *ms, char *err,
	      size_t len)
{
	double v = -1;
	char *end;

	if (isdigit((unsigned char)s[0]) && !strpbrk(s, "xXeEpP")) {
		errno = 0;
		v = strtod(s, &end);
		if (errno || *end)
			v = -1;
	}
	/* To whole milliseconds; nonsense stays out of range. */
	v = v >= 0 && v < 1e7 ? (double)(long long)(v * 1000 + 0.5) : -1;
	if (!(v >= SPEC_MIN_SECS_MS && v <= SPEC_MAX_SECS_MS))
		return fail(err, len, EXIT_FAIL, "%s '%s' is not a number of "
			    "seconds in " SPEC_SECS_RANGE, name, s);
	*ms = (__u32)v;
	return 0;
}

static int parse_count(const char *name, const char *s, unsigned long lo,
		       unsigned long hi, __u32 *out, char *err, size_t len)
{
	unsigned long v;

	if (parse_ulong(s, hi, &v) || v < lo)
		return fail(err, len, EXIT_FAIL, "%s '%s' out of range "
			    "(%lu..%lu)", name, s, lo, hi);
	*out = (__u32)v;
	return 0;
}

/* What an http path or exec command may hold: printable, one line. */
static bool printable(const char *s, bool spaces)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s) || (!spaces && *s == ' '))
			return false;
	return true;
}

static int parse_check(const char *s, const struct xdplb_svc_key *key,
		       struct xdplb_svc_opts *o, char *err, size_t len)
{
	const char *arg = strchr(s, ':') ? strchr(s, ':') + 1 : "";
	size_t n = strlen(arg);

	memset(o->arg, 0, sizeof(o->arg));
	o->http_status = 0;
	if (!strcmp(s, "none")) {
		o->check = XDPLB_CHECK_NONE;
		return 0;
	} else if (!strcmp(s, "tcp")) {
		o->check = XDPLB_CHECK_TCP;
	} else if (!strncmp(s, "http:", 5)) {
		const char *colon = strrchr(arg, ':');
		__u32 status = XDPLB_DEFAULT_HTTP_STATUS;

		if (colon && colon[1] &&
		    strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
			if (parse_count("http check STATUS", colon + 1,
					SPEC_MIN_HTTP_STATUS,
					SPEC_MAX_HTTP_STATUS, &status, err,
					len))
				return EXIT_FAIL;
			n = colon - arg;
		}
		if (arg[0] != '/' || !printable(arg, false))
			return fail(err, len, EXIT_FAIL, "http check path in "
				    "'%s' must start with '/' and hold no "
				    "spaces", s);
		if (n >= sizeof(o->arg))
			return fail(err, len, EXIT_FAIL, "http check path is "
				    "too long (at most %zu bytes)",
				    sizeof(o->arg) - 1);
		o->check = XDPLB_CHECK_HTTP;
		o->http_status = status;
		memcpy(o->arg, arg, n);
	} else if (!strncmp(s, "exec:", 5)) {
		if (strspn(arg, " ") == n)
			return fail(err, len, EXIT_FAIL, "exec check needs a "
				    "command (exec:COMMAND)");
		if (!printable(arg, true))
			return fail(err, len, EXIT_FAIL, "exec check command "
				    "holds a control character");
		if (n >= sizeof(o->arg))
			return fail(err, len, EXIT_FAIL, "exec check command "
				    "is too long (at most %zu bytes)",
				    sizeof(o->arg) - 1);
		o->check = XDPLB_CHECK_EXEC;
		memcpy(o->arg, arg, n);
	} else {
		return fail(err, len, EXIT_FAIL, "unknown check '%s' (tcp, "
			    "http:PATH[:STATUS], exec:COMMAND or none)", s);
	}
	if (o->check != XDPLB_CHECK_EXEC && !key->port)
		return fail(err, len, EXIT_FAIL, "a %s check needs a service "
			    "with a port, and this one takes every port "
			    "(port 0): use exec:COMMAND",
			    o->check == XDPLB_CHECK_TCP ? "tcp" : "http");
	return 0;
}

int spec_hash_mode(const char *arg, __u32 *flags, char *err, size_t len)
{
	if (!strcmp(arg, "5tuple"))
		*flags &= ~XDPLB_SVC_F_HASH_SRC;
	else if (!strcmp(arg, "src-ip"))
		*flags |= XDPLB_SVC_F_HASH_SRC;
	else
		return fail(err, len, EXIT_FAIL, "unknown hash mode '%s' "
			    "(5tuple or src-ip)", arg);
	return 0;
}

int spec_ops(const struct xdplb_svc_key *key, __u32 *flags, char *err,
	     size_t len)
{
	if (key->proto != IPPROTO_UDP)
		return fail(err, len, EXIT_FAIL, "--ops is for UDP services "
			    "(one-packet scheduling)");
	*flags |= XDPLB_SVC_F_OPS;
	return 0;
}

int spec_table_size(const char *arg, __u32 *size, char *err, size_t len)
{
	unsigned long v;

	if (parse_ulong(arg, XDPLB_MAX_TABLE_SIZE, &v) ||
	    v < XDPLB_MIN_TABLE_SIZE || !is_prime(v))
		return fail(err, len, EXIT_FAIL, "table size '%s' is not a "
			    "prime in %d..%d", arg, XDPLB_MIN_TABLE_SIZE,
			    XDPLB_MAX_TABLE_SIZE);
	*size = (__u32)v;
	return 0;
}

/* The option of one vip_spec field: its flag, and how to parse it. */
static int vip_option(int c, const char *arg, struct vip_spec *v, char *err,
		      size_t len)
{
	struct xdplb_svc_opts *o = &v->opts;

	switch (c) {
	case 'H':
		v->given |= VIP_HASH;
		return spec_hash_mode(arg, &v->flags, err, len);
	case 'o':
		v->given |= VIP_OPS;
		return spec_ops(&v->key, &v->flags, err, len);
	case 't':
		v->given |= VIP_TABLE;
		return spec_table_size(arg, &v->table_size, err, len);
	case 'c':
		v->given |= VIP_CHECK;
		return parse_check(arg, &v->key, o, err, len);
	case 'i':
		v->given |= VIP_INTERVAL;
		return spec_secs("interval", arg, &o->interval_ms, err, len);
	case 'T':
		v->given |= VIP_TIMEOUT;
		return spec_secs("timeout", arg, &o->timeout_ms, err, len);
	case 'q':
		v->given |= VIP_QUORUM;
		return parse_count("quorum", arg, 1, XDPLB_MAX_REALS,
				   &o->quorum, err, len);
	}
	/* rise, fall */
	{
		__u32 n = 0;

		if (parse_count(c == 'r' ? "rise" : "fall", arg, 1,
				SPEC_MAX_RISE_FALL, &n, err, len))
			return EXIT_FAIL;
		v->given |= c == 'r' ? VIP_RISE : VIP_FALL;
		*(c == 'r' ? &o->rise : &o->fall) = (__u16)n;
		return 0;
	}
}

int vip_spec_parse(int argc, char **argv, bool set, struct vip_spec *v,
		   char *err, size_t errlen)
{
	static const struct option vip_opts[] = {
		{ "hash", required_argument, NULL, 'H' },
		{ "ops", no_argument, NULL, 'o' },
		{ "no-ops", no_argument, NULL, 'O' },
		{ "table-size", required_argument, NULL, 't' },
		{ "check", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "rise", required_argument, NULL, 'r' },
		{ "fall", required_argument, NULL, 'f' },
		{ "quorum", required_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0];
	int c, ret;

	memset(v, 0, sizeof(*v));
	/* The VIP first (options may refer to it), wherever it stands. */
	optind = 0;
	while ((c = spec_getopt(argc, argv, vip_opts, err, errlen)) >= 0)
		;
	if (c != -1)
		return -c;
	if (optind != argc - 1)
		return fail(err, errlen, EXIT_USAGE, "%s: expected one VIP",
			    cmd);
	if (spec_vip(argv[optind], &v->key, err, errlen))
		return EXIT_FAIL;
	format_vip(&v->key, v->vip, sizeof(v->vip));

	optind = 0;
	while ((c = spec_getopt(argc, argv, vip_opts, err, errlen)) >= 0) {
		if (c == 'O') {
			if (!set)
				return fail(err, errlen, EXIT_USAGE, "%s: "
					    "--no-ops is for set-vip", cmd);
			v->given |= VIP_NO_OPS;
		} else {
			ret = vip_option(c, optarg, v, err, errlen);
			if (ret)
				return ret;
		}
	}
	if (set && !v->given)
		return fail(err, errlen, EXIT_USAGE, "%s: nothing to change "
			    "(--hash, --ops, --no-ops, --table-size, --check, "
			    "--interval, --timeout, --rise, --fall, --quorum)",
			    cmd);
	if ((v->given & VIP_OPS) && (v->given & VIP_NO_OPS))
		return fail(err, errlen, EXIT_USAGE, "%s: --ops and --no-ops "
			    "conflict", cmd);
	return 0;
}

void svc_opts_default(struct xdplb_svc_opts *o)
{
	memset(o, 0, sizeof(*o));
	svc_opts_normalize(o);
}

void svc_opts_normalize(struct xdplb_svc_opts *o)
{
	size_t n = strnlen(o->arg, sizeof(o->arg) - 1);

	o->pad = 0;
	o->pad2 = 0;
	memset(o->arg + n, 0, sizeof(o->arg) - n);
	if (!o->quorum)
		o->quorum = XDPLB_DEFAULT_QUORUM;
	if (!o->interval_ms)
		o->interval_ms = XDPLB_DEFAULT_CHECK_INTERVAL_MS;
	if (!o->timeout_ms)
		o->timeout_ms = XDPLB_DEFAULT_CHECK_TIMEOUT_MS;
	if (!o->rise)
		o->rise = XDPLB_DEFAULT_CHECK_RISE;
	if (!o->fall)
		o->fall = XDPLB_DEFAULT_CHECK_FALL;
	if (o->check == XDPLB_CHECK_HTTP && !o->http_status)
		o->http_status = XDPLB_DEFAULT_HTTP_STATUS;
	if (o->check != XDPLB_CHECK_HTTP)
		o->http_status = 0;
	if (o->check != XDPLB_CHECK_HTTP && o->check != XDPLB_CHECK_EXEC)
		memset(o->arg, 0, sizeof(o->arg));
	if (o->check == XDPLB_CHECK_NONE) {
		o->interval_ms = XDPLB_DEFAULT_CHECK_INTERVAL_MS;
		o->timeout_ms = XDPLB_DEFAULT_CHECK_TIMEOUT_MS;
		o->rise = XDPLB_DEFAULT_CHECK_RISE;
		o->fall = XDPLB_DEFAULT_CHECK_FALL;
	}
}

bool svc_opts_equal(const struct xdplb_svc_opts *a,
		    const struct xdplb_svc_opts *b)
{
	struct xdplb_svc_opts x = *a, y = *b;

	svc_opts_normalize(&x);
	svc_opts_normalize(&y);
	return !memcmp(&x, &y, sizeof(x));
}

bool svc_opts_checks_reals(const struct xdplb_svc_key *key,
			   const struct xdplb_svc_opts *o)
{
	if (o->check == XDPLB_CHECK_NONE)
		return false;
	return key->port || o->check == XDPLB_CHECK_EXEC;
}

int vip_spec_merge(const struct vip_spec *v, __u32 *flags, __u32 *table_size,
		   struct xdplb_svc_opts *so, char *err, size_t errlen)
{
	const struct xdplb_svc_opts *g = &v->opts;
	char a[16], b[16];

	if (v->given & VIP_HASH)
		*flags = (*flags & ~XDPLB_SVC_F_HASH_SRC) |
			 (v->flags & XDPLB_SVC_F_HASH_SRC);
	if (v->given & VIP_OPS)
		*flags |= XDPLB_SVC_F_OPS;
	if (v->given & VIP_NO_OPS)
		*flags &= ~XDPLB_SVC_F_OPS;
	if (v->given & VIP_TABLE)
		*table_size = v->table_size;
	if (v->given & VIP_CHECK) {
		__u32 quorum = so->quorum;

		/* A new check starts from the default timings. */
		memset(so, 0, sizeof(*so));
		so->quorum = quorum;
		so->check = g->check;
		so->http_status = g->http_status;
		memcpy(so->arg, g->arg, sizeof(so->arg));
	}
	if (so->check == XDPLB_CHECK_NONE &&
	    (v->given & (VIP_INTERVAL | VIP_TIMEOUT | VIP_RISE | VIP_FALL)))
		return fail(err, errlen, EXIT_FAIL, "--interval, --timeout, "
			    "--rise and --fall are options of a health check "
			    "(--check) and VIP %s has none", v->vip);
	if (v->given & VIP_INTERVAL)
		so->interval_ms = g->interval_ms;
	if (v->given & VIP_TIMEOUT)
		so->timeout_ms = g->timeout_ms;
	if (v->given & VIP_RISE)
		so->rise = g->rise;
	if (v->given & VIP_FALL)
		so->fall = g->fall;
	if (v->given & VIP_QUORUM)
		so->quorum = g->quorum;
	svc_opts_normalize(so);
	if (so->timeout_ms > so->interval_ms) {
		format_secs(so->timeout_ms, a, sizeof(a));
		format_secs(so->interval_ms, b, sizeof(b));
		return fail(err, errlen, EXIT_FAIL, "check timeout %ss is "
			    "longer than its interval %ss", a, b);
	}
	return 0;
}

/* What no network makes a real: not a host's address, or the VIP's. */
static int real_spec_usable(const struct real_spec *r, char *err,
			    size_t errlen)
{
	const char *why = addr_not_host(&r->addr, r->family);

	if (why)
		return fail(err, errlen, EXIT_FAIL, "real %s is %s: a real "
			    "is a unicast host address on the segment",
			    r->real, why);
	if (addr_equal(&r->addr, &r->key.addr))
		return fail(err, errlen, EXIT_FAIL, "real %s is the address "
			    "of VIP %s itself: a real is another host on the "
			    "segment", r->real, r->vip);
	return 0;
}

int real_spec_parse(int argc, char **argv, int allow, struct real_spec *r,
		    char *err, size_t errlen)
{
	static const struct option real_opts[] = {
		{ "vip", required_argument, NULL, 'V' },
		{ "weight", required_argument, NULL, 'w' },
		{ "mac", required_argument, NULL, 'M' },
		{ "sorry", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0];
	bool has_vip = false;
	int c;

	memset(r, 0, sizeof(*r));
	r->weight = XDPLB_DEFAULT_WEIGHT;
	optind = 0;
	while ((c = spec_getopt(argc, argv, real_opts, err, errlen)) >= 0) {
		if ((c == 'w' && !(allow & REAL_WEIGHT)) ||
		    (c == 'M' && !(allow & REAL_MAC)) ||
		    (c == 's' && !(allow & REAL_SORRY)))
			return fail(err, errlen, EXIT_USAGE, "%s: --%s is not "
				    "an option here", cmd, c == 'w' ? "weight" :
				    c == 'M' ? "mac" : "sorry");
		switch (c) {
		case 'V':
			if (spec_vip(optarg, &r->key, err, errlen))
				return EXIT_FAIL;
			has_vip = true;
			break;
		case 'w':
			if (parse_weight(optarg, &r->weight))
				return fail(err, errlen, EXIT_FAIL, "weight "
					    "'%s' out of range (0..%d)",
					    optarg, XDPLB_MAX_WEIGHT);
			r->has_weight = true;
			break;
		case 'M':
			if (parse_mac(optarg, r->mac) == -EDOM)
				return fail(err, errlen, EXIT_FAIL, "MAC '%s' "
					    "is not a host's (broadcast, "
					    "multicast or all zeros)", optarg);
			if (parse_mac(optarg, r->mac))
				return fail(err, errlen, EXIT_FAIL, "malformed "
					    "MAC '%s' (expected a unicast "
					    "xx:xx:xx:xx:xx:xx)", optarg);
			r->has_mac = true;
			break;
		case 's':
			r->sorry = true;
			break;
		}
	}
	if (c != -1)
		return -c;
	if (!has_vip)
		return fail(err, errlen, EXIT_USAGE, "%s: --vip VIP is "
			    "required", cmd);
	if (optind != argc - 1)
		return fail(err, errlen, EXIT_USAGE, "%s: expected one REAL "
			    "address", cmd);
	if (parse_addr(argv[optind], &r->addr, &r->family))
		return fail(err, errlen, EXIT_FAIL, "malformed real address "
			    "'%s'", argv[optind]);
	format_vip(&r->key, r->vip, sizeof(r->vip));
	format_addr(&r->addr, r->family, r->real, sizeof(r->real));
	if (r->family != r->key.family)
		return fail(err, errlen, EXIT_FAIL, "real %s and VIP %s are "
			    "not of the same address family", r->real, r->vip);
	if (allow & REAL_NEW)
		return real_spec_usable(r, err, errlen);
	return 0;
}

void format_secs(__u32 ms, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%u.%03u", ms / 1000, ms % 1000);

	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

void format_check(const struct xdplb_svc_opts *o, char *buf, size_t len)
{
	switch (o->check) {
	case XDPLB_CHECK_TCP:
		snprintf(buf, len, "tcp");
		break;
	case XDPLB_CHECK_HTTP:
		/* The status too when the path holds a ':' */
		if ((o->http_status &&
		     o->http_status != XDPLB_DEFAULT_HTTP_STATUS) ||
		    memchr(o->arg, ':', sizeof(o->arg)))
			snprintf(buf, len, "http:%.*s:%u",
				 (int)sizeof(o->arg), o->arg, o->http_status);
		else
			snprintf(buf, len, "http:%.*s", (int)sizeof(o->arg),
				 o->arg);
		break;
	case XDPLB_CHECK_EXEC:
		snprintf(buf, len, "exec:%.*s", (int)sizeof(o->arg), o->arg);
		break;
	default:
		snprintf(buf, len, "none");
	}
}

void format_check_redacted(const struct xdplb_svc_opts *o, char *buf,
			   size_t len)
{
	if (o->check == XDPLB_CHECK_EXEC)
		snprintf(buf, len, "exec");
	else
		format_check(o, buf, len);
}
