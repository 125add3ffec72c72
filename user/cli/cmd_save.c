// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_save.c - save and restore: the whole configuration as xdplb command
 * lines, and such lines applied as a difference (config.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "spec.h"

/* The lines of c, one JSON string each: {"lines": [...]}. */
static int save_json(const struct config *c)
{
	char *buf = NULL, *line, *next;
	size_t len = 0;
	FILE *f;
	int err;

	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	err = config_write(f, c);
	if (fclose(f) && !err)
		err = -errno;
	if (!err) {
		jw_start_object();
		jw_name("lines");
		jw_start_array();
		for (line = buf; *line; line = next) {
			next = strchr(line, '\n');
			*next++ = '\0';
			jw_string(line);
		}
		jw_end_array();
		jw_end_object();
		jw_flush();
	}
	free(buf);
	return err;
}

int do_save(int argc, char **argv)
{
	struct config *c = NULL;
	struct lb lb;
	int err;

	if (argc != 1)
		return usage_error(argv[0], "takes no arguments");
	/* Locked: never half of a restore. */
	if (open_instance(&lb, OPEN_READ_LOCKED))
		return EXIT_FAIL;
	err = config_from_lb(&lb, &c);
	lb_close(&lb);
	if (!err)
		err = opts.json ? save_json(c) : config_write(stdout, c);
	config_free(c);
	if (err) {
		p_err("cannot save the configuration: %s", strerror(-err));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static void print_diff(const struct config_diff *d)
{
	if (opts.json) {
		jw_start_object();
		config_diff_json(d);
		jw_end_object();
		jw_flush();
		return;
	}
	printf("restored: services %d added, %d removed, %d changed; reals %d "
	       "added, %d removed, %d changed\n", d->svcs_added,
	       d->svcs_removed, d->svcs_changed, d->reals_added,
	       d->reals_removed, d->reals_changed);
}

int do_restore(int argc, char **argv)
{
	static const struct option restore_opts[] = {
		{ "remove-all", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int flags = CONFIG_APPLY_NO_WIPE;
	char msg[1024] = "";
	const char *path, *name;
	struct config *c = NULL;
	struct config_diff d;
	struct lb lb;
	bool std_in;
	FILE *f;
	int err;

	optind = 0;
	while ((err = spec_getopt(argc, argv, restore_opts, msg,
				  sizeof(msg))) != -1) {
		if (err < 0)
			return spec_report(-err, msg);
		flags &= ~CONFIG_APPLY_NO_WIPE;
	}
	if (argc - optind > 1)
		return usage_error(argv[0], "expected at most one FILE");
	path = optind < argc ? argv[optind] : "-";
	std_in = !strcmp(path, "-");
	name = std_in ? "<stdin>" : path;
	f = std_in ? stdin : fopen(path, "re");
	if (!f) {
		p_err("cannot open '%s': %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	/* The whole file is checked before anything changes. */
	err = config_parse(f, name, &c, msg, sizeof(msg));
	if (!std_in)
		fclose(f);
	if (err) {
		p_err("%s", msg[0] ? msg : strerror(-err));
		return EXIT_FAIL;
	}
	if (open_instance(&lb, OPEN_CHANGE)) {
		config_free(c);
		return EXIT_FAIL;
	}
	err = config_apply(&lb, c, flags, &d);
	lb_close(&lb);
	config_free(c);
	if (err == -ECANCELED) {
		p_err("'%s' %s: refused (restore --remove-all applies it all "
		      "the same)", name, d.error);
		return EXIT_FAIL;
	}
	if (err && d.line)
		p_err("%s:%d: %s", name, d.line, d.error);
	else if (err)
		p_err("%s", d.error);
	if (err)
		return EXIT_FAIL;
	print_diff(&d);
	return EXIT_OK;
}
