// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_upgrade.c - upgrade and version: which build runs, and replacing it
 * with this binary's without losing a map (upgrade.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "hook.h"
#include "json.h"
#include "layout.h"
#include "lb.h"
#include "log.h"
#include "release.h"
#include "upgrade.h"
#include "version.h"

/* "xdplb 0.6.0 (map ABI 6, program 41)" */
static void build_text(const struct prog_build *b, __u32 id, char *buf,
		       size_t len)
{
	char what[96];

	format_build(b, id, what, sizeof(what));
	snprintf(buf, len, "xdplb %s", what);
}

static void report_json(const struct upgrade_report *r, bool dry_run)
{
	const struct layout *cur = layout_current();
	int i;

	jw_start_object();
	jw_kv_string("interface", r->ifname);
	release_json("from", &r->from, r->from_id);
	release_json("to", &r->to, r->to_id);
	jw_kv_bool("done", !dry_run && !r->nothing);
	jw_kv_bool("nothing_to_do", r->nothing);
	jw_kv_bool("downgrade", r->downgrade);
	jw_kv_bool("dispatcher", r->dispatcher);
	jw_name("maps");
	jw_start_array();
	for (i = 0; i < cur->nmaps; i++) {
		jw_start_object();
		jw_kv_string("name", cur->maps[i].name);
		jw_kv_string("action", r->why[i] ? "convert" : "reuse");
		if (r->why[i])
			jw_kv_string("why", r->why[i]);
		jw_end_object();
	}
	jw_end_array();
	jw_kv_uint("services", r->services);
	jw_kv_uint("reals", r->reals);
	jw_kv_uint("tracked_flows", r->flows);
	jw_end_object();
	jw_flush();
}

static void report_text(const struct upgrade_report *r, bool dry_run)
{
	const struct layout *cur = layout_current();
	char from[128], to[128];
	int i;

	build_text(&r->from, r->from_id, from, sizeof(from));
	build_text(&r->to, r->to_id, to, sizeof(to));
	if (r->nothing) {
		printf("%s already runs %s: nothing to do\n", r->ifname, from);
		return;
	}
	printf("%s %s: %s -> %s%s\n", dry_run ? "would upgrade" :
	       r->downgrade ? "downgraded" : "upgraded", r->ifname, from, to,
	       r->dispatcher ? ", inside libxdp's dispatcher" : "");
	if (dry_run)
		for (i = 0; i < cur->nmaps; i++)
			printf("  %-13s %s%s\n", cur->maps[i].name,
			       r->why[i] ? "converted: " : "kept as it is",
			       r->why[i] ? r->why[i] : "");
	printf("kept: %d services, %d reals, %llu tracked flows%s\n",
	       r->services, r->reals,
	       (unsigned long long)r->flows,
	       dry_run ? "; nothing changed (--dry-run)" : "");
}

static const char upgrade_usage[] = "upgrade IFNAME [--dry-run]";

int do_upgrade(int argc, char **argv)
{
	static const struct option upgrade_opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct upgrade_report r;
	bool dry_run = false;
	char err[512];
	struct lb lb;
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", upgrade_opts, NULL)) != -1) {
		if (c != 'n')
			return usage_error(argv[0], "bad option (%s)",
					   upgrade_usage);
		dry_run = true;
	}
	if (optind != argc - 1)
		return usage_error(argv[0], "expected one IFNAME (%s)",
				   upgrade_usage);
	lb_init(&lb);
	if (lock_pin_dir(&lb, opts.pin_dir))
		return EXIT_FAIL;
	ret = upgrade_instance(opts.pin_dir, argv[optind], dry_run, &r, err,
			       sizeof(err));
	lb_close(&lb);
	if (ret) {
		p_err("%s", err);
		return EXIT_FAIL;
	}
	if (err[0])	/* an interrupted upgrade, finished first */
		pr_warn("%s\n", err);
	if (opts.json)
		report_json(&r, dry_run);
	else
		report_text(&r, dry_run);
	return EXIT_OK;
}

/* version -------------------------------------------------------------- */

/* The instance at --pin-dir, if any: its program and build. */
static int instance_of(struct lb *lb, struct running *run)
{
	const char *what;
	int err;

	lb_init(lb);
	err = lb_open(lb, opts.pin_dir, &what);
	if (!err)
		err = instance_running(lb, run);
	return err;
}

int do_version(int argc, char **argv)
{
	struct xdplb_build self;
	char digest[DIGEST_HEXLEN], inst[128];
	struct running run;
	struct lb lb;
	bool same;
	int err;

	if (argc != 1)
		return usage_error(argv[0], "takes no arguments");
	build_self(&self);
	format_digest(self.digest, digest);
	err = instance_of(&lb, &run);
	same = !err && build_is_self(&run.build.b);
	if (err == -EPROTONOSUPPORT) {
		/* A layout this xdplb does not know: its program still
		 * says which build it is. */
		memset(&run, 0, sizeof(run));
		run.id = pinned_prog_id(opts.pin_dir);
		if (run.id && !build_of_prog(run.id, lb.abi_found, &run.build))
			build_text(&run.build, run.id, inst, sizeof(inst));
		else
			snprintf(inst, sizeof(inst), "map ABI %u",
				 lb.abi_found);
	} else if (!err) {
		build_text(&run.build, run.id, inst, sizeof(inst));
	}
	if (opts.json) {
		jw_start_object();
		jw_kv_string("version", XDPLB_VERSION);
		jw_kv_uint("abi", XDPLB_ABI_VERSION);
		jw_kv_string("digest", digest);
		if (!err) {
			jw_name("instance");
			jw_start_object();
			jw_kv_string("pin_dir", opts.pin_dir);
			jw_kv_string("interface", lb.cfg.ifname);
			jw_kv_bool("attached", run.attached);
			jw_kv_bool("same_as_binary", same);
			release_json("program", &run.build, run.id);
			jw_end_object();
		}
		jw_end_object();
		jw_flush();
	} else {
		printf("xdplb %s, map ABI %d, BPF object sha256 %s\n",
		       XDPLB_VERSION, XDPLB_ABI_VERSION, digest);
		if (err == -ENOENT && lb.abi_found == 0)
			printf("no instance at '%s'\n", opts.pin_dir);
		else if (err == -EPROTONOSUPPORT)
			printf("instance at '%s': %s, a map layout this xdplb "
			       "does not know (a newer xdplb made it)\n",
			       opts.pin_dir, inst);
		else if (err)
			printf("instance at '%s': cannot read it: %s\n",
			       opts.pin_dir, strerror(-err));
		else if (same)
			printf("instance at '%s' on %s: %s%s, the same as this "
			       "binary\n", opts.pin_dir, lb.cfg.ifname, inst,
			       run.attached ? "" : ", not attached in this "
			       "network namespace");
		else
			printf("instance at '%s' on %s: %s%s, not this "
			       "binary's (`xdplb upgrade %s` replaces it)\n",
			       opts.pin_dir, lb.cfg.ifname, inst, run.attached ?
			       "" : ", not attached in this network namespace",
			       lb.cfg.ifname);
	}
	lb_close(&lb);
	return EXIT_OK;
}
