// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_verify.c - verify: does the data path forward what the configuration
 * says? Every structure it reads is compared with what the configuration
 * maps build (repair.h): the service index, the VIP filter and markers,
 * each service's Maglev table, and tables and reals of services that are
 * gone. One line per problem; --repair rebuilds what differs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "json.h"
#include "log.h"
#include "repair.h"
#include "spec.h"

/* The problems, as they are found: printed, or kept for JSON. */
struct found {
	char **lines;
	int n, cap;
};

static void on_problem(void *ctx, const char *problem)
{
	struct found *f = ctx;
	char **v;

	if (!opts.json) {
		printf("%s\n", problem);
		return;
	}
	if (f->n == f->cap) {
		v = realloc(f->lines, (f->cap ? 2 * f->cap : 16) * sizeof(*v));
		if (!v)
			return;
		f->lines = v;
		f->cap = f->cap ? 2 * f->cap : 16;
	}
	f->lines[f->n] = strdup(problem);
	if (f->lines[f->n])
		f->n++;
}

static void print_result(const struct lb_drift *d, const struct found *f,
			 bool repaired)
{
	int i, n = lb_drift_count(d);
	char what[256];

	if (opts.json) {
		jw_start_object();
		jw_kv_bool("ok", !n || repaired);
		jw_kv_uint("services", d->services);
		jw_kv_uint("reals", d->reals);
		jw_kv_uint("tables", d->tables);
		jw_name("problems");
		jw_start_array();
		for (i = 0; i < f->n; i++)
			jw_string(f->lines[i]);
		jw_end_array();
		jw_kv_bool("repaired", repaired && n);
		jw_end_object();
		jw_flush();
		return;
	}
	lb_drift_text(d, what, sizeof(what));
	if (!n)
		printf("the data path forwards what the configuration says: "
		       "%d service%s, %d real%s, %d Maglev table%s checked\n",
		       d->services, d->services == 1 ? "" : "s", d->reals,
		       d->reals == 1 ? "" : "s", d->tables,
		       d->tables == 1 ? "" : "s");
	else if (repaired)
		printf("%s: the data path forwards what the configuration "
		       "says\n", what);
	else
		printf("%d problem%s: the data path does not forward exactly "
		       "what the configuration says (`xdplb verify --repair` "
		       "rebuilds it from the configuration)\n", n,
		       n == 1 ? "" : "s");
}

int do_verify(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct found f = {};
	char err[SPEC_ERRLEN];
	bool repair = false;
	struct lb_drift d;
	struct lb lb;
	int opt, ret, i;

	optind = 0;
	while ((opt = spec_getopt(argc, argv, lo, err, sizeof(err))) != -1) {
		if (opt != 'r')
			return spec_report(-opt, err);
		repair = true;
	}
	if (optind != argc)
		return usage_error(argv[0], "unexpected '%s'", argv[optind]);
	/* Under the lock: never half of a change (and a change killed on
	 * its way is repaired first, and said). */
	if (open_instance(&lb, repair ? OPEN_CHANGE : OPEN_READ_LOCKED))
		return EXIT_FAIL;
	if (lb.view_abi) {
		p_err("the instance at '%s' has the map layout of an older "
		      "xdplb (map ABI %u): upgrade it first (`xdplb upgrade "
		      "%s`)", opts.pin_dir, lb.view_abi, lb.cfg.ifname);
		lb_close(&lb);
		return EXIT_FAIL;
	}
	if (repair && change_begin(&lb)) {
		lb_close(&lb);
		return EXIT_FAIL;
	}
	ret = lb_reconcile(&lb, repair, &d, on_problem, &f);
	if (repair)
		ret = change_end(&lb, ret);
	lb_close(&lb);
	if (ret)
		p_err("cannot %s the instance at '%s': %s", repair ? "repair" :
		      "verify", opts.pin_dir, strerror(-ret));
	else
		print_result(&d, &f, repair);
	for (i = 0; i < f.n; i++)
		free(f.lines[i]);
	free(f.lines);
	if (ret)
		return EXIT_FAIL;
	return lb_drift_count(&d) && !repair ? EXIT_FAIL : EXIT_OK;
}
