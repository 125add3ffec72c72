// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_spec.c - command lines (spec.h): the words of add-vip, set-vip,
 * add-real, set-real and del-real, check specs, table sizes, seconds,
 * hash modes, and the global options. The first byte picks the parser,
 * the rest is the words, split at NUL bytes. What parses is printed as
 * save prints it and parsed again: it must come back the same.
 */
#include <getopt.h>

#include "fuzz.h"
#include "cmd.h"
#include "spec.h"

#define MAX_ARGS	24

static const char *const verbs[] = { "add-vip", "set-vip", "add-real",
				     "set-real", "del-real" };

static void check_ret(int ret, const char *err)
{
	FUZZ_ASSERT(ret == 0 || ret == EXIT_FAIL || ret == EXIT_USAGE,
		    "returned %d", ret);
	if (ret)
		fuzz_message(err, SPEC_ERRLEN);
}

/* A parsed add-vip line, printed as save prints its options and parsed
 * again: the same service. */
static void vip_round_trip(const struct vip_spec *v)
{
	char vip[ADDR_STRLEN], check[300], ival[24], tval[24], err[SPEC_ERRLEN];
	char rise[16], fall[16], quorum[16];
	__u32 flags = 0, size = 0, flags2 = 0, size2 = 0;
	struct xdplb_svc_opts o, o2;
	char *argv[20] = { "add-vip", vip };
	struct vip_spec v2;
	int argc = 2, ret;

	svc_opts_default(&o);
	if (vip_spec_merge(v, &flags, &size, &o, err, sizeof(err))) {
		fuzz_message(err, sizeof(err));
		return;
	}
	format_vip(&v->key, vip, sizeof(vip));
	FUZZ_ASSERT(!strcmp(vip, v->vip), "%s printed as %s", v->vip, vip);
	if (o.check != XDPLB_CHECK_NONE) {
		format_check(&o, check, sizeof(check));
		format_secs(o.interval_ms, ival, sizeof(ival));
		format_secs(o.timeout_ms, tval, sizeof(tval));
		argv[argc++] = "--check";
		argv[argc++] = check;
		argv[argc++] = "--interval";
		argv[argc++] = ival;
		argv[argc++] = "--timeout";
		argv[argc++] = tval;
		snprintf(rise, sizeof(rise), "%u", o.rise);
		snprintf(fall, sizeof(fall), "%u", o.fall);
		argv[argc++] = "--rise";
		argv[argc++] = rise;
		argv[argc++] = "--fall";
		argv[argc++] = fall;
	}
	snprintf(quorum, sizeof(quorum), "%u", o.quorum);
	argv[argc++] = "--quorum";
	argv[argc++] = quorum;
	argv[argc] = NULL;
	ret = vip_spec_parse(argc, argv, false, &v2, err, sizeof(err));
	FUZZ_ASSERT(!ret, "%s %s does not parse back: %s", vip,
		    o.check ? check : "", err);
	FUZZ_ASSERT(!memcmp(&v2.key, &v->key, sizeof(v->key)), "VIP %s "
		    "parsed back to another key", vip);
	svc_opts_default(&o2);
	ret = vip_spec_merge(&v2, &flags2, &size2, &o2, err, sizeof(err));
	FUZZ_ASSERT(!ret, "%s: merge of the printed line: %s", vip, err);
	FUZZ_ASSERT(svc_opts_equal(&o, &o2), "%s: check '%s' parsed back "
		    "to other options", vip, o.check ? check : "none");
}

static void real_spec(int argc, char **argv, int allow)
{
	char err[SPEC_ERRLEN], addr[ADDR_STRLEN];
	struct real_spec r;
	int ret;

	ret = real_spec_parse(argc, argv, allow, &r, err, sizeof(err));
	check_ret(ret, err);
	if (ret)
		return;
	FUZZ_ASSERT(r.family == r.key.family, "families differ");
	FUZZ_ASSERT(r.weight <= XDPLB_MAX_WEIGHT, "weight %u", r.weight);
	FUZZ_ASSERT(!r.has_mac || !(r.mac[0] & 1), "a multicast MAC");
	format_addr(&r.addr, r.family, addr, sizeof(addr));
	FUZZ_ASSERT(!strcmp(addr, r.real), "real %s printed as %s", r.real,
		    addr);
}

/* The global options, as main() reads them. */
static void global_options(int argc, char **argv)
{
	char err[SPEC_ERRLEN];
	int c;

	optind = 0;
	while ((c = spec_getopt_from(argc, argv, GLOBAL_SHORT_OPTS,
				     global_opts, NULL, err,
				     sizeof(err))) != -1) {
		if (c < 0) {
			FUZZ_ASSERT(c == -EXIT_USAGE, "getopt: %d", c);
			fuzz_message(err, sizeof(err));
			return;
		}
		FUZZ_ASSERT(strchr("pjvVh", c), "option %d", c);
		FUZZ_ASSERT(c != 'p' || optarg, "--pin-dir without a value");
	}
	FUZZ_ASSERT(optind >= 1 && optind <= argc, "optind %d of %d", optind,
		    argc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 1], *buf, err[SPEC_ERRLEN];
	struct vip_spec v;
	__u32 u = 0;
	int argc, ret, sel;

	if (!size)
		return 0;
	sel = data[0] % 10;
	argc = fuzz_argv(sel < 5 ? verbs[sel] : "xdplb", data + 1, size - 1,
			 argv, MAX_ARGS, &buf);
	switch (sel) {
	case 0:
	case 1:
		ret = vip_spec_parse(argc, argv, sel == 1, &v, err,
				     sizeof(err));
		check_ret(ret, err);
		if (!ret)
			vip_round_trip(&v);
		break;
	case 2:
		real_spec(argc, argv, REAL_WEIGHT | REAL_MAC | REAL_SORRY);
		break;
	case 3:
		real_spec(argc, argv, REAL_WEIGHT);
		break;
	case 4:
		real_spec(argc, argv, 0);
		break;
	case 5:
		global_options(argc, argv);
		break;
	case 6:
		if (argc > 1) {
			ret = spec_table_size(argv[1], &u, err, sizeof(err));
			check_ret(ret, err);
			FUZZ_ASSERT(ret || (u >= XDPLB_MIN_TABLE_SIZE &&
					    u <= XDPLB_MAX_TABLE_SIZE &&
					    is_prime(u)), "table size %u", u);
		}
		break;
	case 7:
		if (argc > 1) {
			char back[24];
			__u32 u2 = 0;

			ret = spec_secs("interval", argv[1], &u, err,
					sizeof(err));
			check_ret(ret, err);
			if (ret)
				break;
			FUZZ_ASSERT(u >= SPEC_MIN_SECS_MS &&
				    u <= SPEC_MAX_SECS_MS, "%u ms", u);
			format_secs(u, back, sizeof(back));
			FUZZ_ASSERT(!spec_secs("interval", back, &u2, err,
					       sizeof(err)) && u2 == u,
				    "%u ms printed as %s", u, back);
		}
		break;
	case 8:
		if (argc > 1) {
			ret = spec_hash_mode(argv[1], &u, err, sizeof(err));
			check_ret(ret, err);
		}
		break;
	default:
		/* A whole add-vip line with a --check from the bytes. */
		if (argc > 1) {
			char *w[] = { "add-vip", "10.0.0.1:80", "--check",
				      argv[1], NULL };

			ret = vip_spec_parse(4, w, false, &v, err,
					     sizeof(err));
			check_ret(ret, err);
			if (!ret)
				vip_round_trip(&v);
		}
		break;
	}
	free(buf);
	return 0;
}
