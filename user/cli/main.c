// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - xdplb: global options, then one command from the table.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "spec.h"
#include "version.h"

struct options opts = {
	.pin_dir = DEFAULT_PIN_DIR,
};

/*
 * usage_text: generated at build time from doc/xdplb.8.md, the one source
 * of this text, the man page, README's command reference and the bash
 * completion (scripts/gendoc.py). A new command is described there.
 */
#include "usage.h"

int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage_text, stdout);
	return EXIT_OK;
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	bool needs_root;
};

static const struct command commands[] = {
	{ "attach", do_attach, true },
	{ "detach", do_detach, true },
	{ "add-vip", do_add_vip, true },
	{ "set-vip", do_set_vip, true },
	{ "del-vip", do_del_vip, true },
	{ "add-real", do_add_real, true },
	{ "set-real", do_set_real, true },
	{ "del-real", do_del_real, true },
	{ "list", do_list, true },
	{ "stats", do_stats, true },
	{ "conns", do_conns, true },
	{ "flow", do_flow, true },
	{ "save", do_save, true },
	{ "restore", do_restore, true },
	{ "daemon", do_daemon, true },
	{ "real-setup", do_real_setup, true },
	{ "check-real", do_check_real, true },
	{ "exporter", do_exporter, true },
	/* The users file's permissions decide. */
	{ "passwd", do_passwd, false },
	{ "upgrade", do_upgrade, true },
	{ "verify", do_verify, true },
	{ "version", do_version, false },
	{ "help", do_help, false },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The exact name, or an unambiguous prefix of one. */
static const struct command *find_command(const char *name, bool *ambiguous)
{
	const struct command *match = NULL;
	size_t i, len = strlen(name);

	*ambiguous = false;
	if (!len)
		return NULL;
	for (i = 0; i < N_COMMANDS; i++) {
		if (!strcmp(commands[i].name, name))
			return &commands[i];
		if (!strncmp(commands[i].name, name, len)) {
			if (match)
				*ambiguous = true;
			match = &commands[i];
		}
	}
	return *ambiguous ? NULL : match;
}

/* The commands name abbreviates, as "a, b or c", in buf. */
static const char *candidates(const char *name, char *buf, size_t len)
{
	size_t i, n = 0, k = 0, at = 0;

	for (i = 0; i < N_COMMANDS; i++)
		n += !strncmp(commands[i].name, name, strlen(name));
	buf[0] = '\0';
	for (i = 0; i < N_COMMANDS && at < len; i++) {
		if (strncmp(commands[i].name, name, strlen(name)))
			continue;
		k++;
		at += snprintf(buf + at, len - at, "%s%s",
			       k == 1 ? "" : k == n ? " or " : ", ",
			       commands[i].name);
	}
	return buf;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	char err[SPEC_ERRLEN];
	bool ambiguous;
	int c;

	/* Global options stop at the command ('+'). */
	optind = 0;
	while ((c = spec_getopt_from(argc, argv, GLOBAL_SHORT_OPTS,
				     global_opts, NULL, err,
				     sizeof(err))) != -1) {
		switch (c) {
		case 'p':
			opts.pin_dir = optarg;
			break;
		case 'j':
			opts.json = true;
			json_output = true;
			break;
		case 'v':
			opts.verbose++;
			break;
		case 'V':
			printf("xdplb %s (map ABI %d)\n", XDPLB_VERSION,
			       XDPLB_ABI_VERSION);
			return EXIT_OK;
		case 'h':
			return do_help(0, NULL);
		default:
			return spec_report(-c, err);
		}
	}
	log_init(opts.verbose);
	if (optind >= argc) {
		p_err("which command? (see 'xdplb help')");
		return EXIT_USAGE;
	}

	cmd = find_command(argv[optind], &ambiguous);
	if (!cmd && ambiguous) {
		p_err("ambiguous command '%s': %s", argv[optind],
		      candidates(argv[optind], err, sizeof(err)));
		return EXIT_USAGE;
	} else if (!cmd) {
		p_err("unknown command '%s' (see 'xdplb help')",
		      argv[optind]);
		return EXIT_USAGE;
	}
	if (cmd->needs_root && geteuid() != 0) {
		p_err("%s: must be run as root (needs CAP_NET_ADMIN%s)",
		      cmd->name, strcmp(cmd->name, "real-setup") ?
		      " and CAP_BPF" : "");
		return EXIT_FAIL;
	}
	argv[optind] = (char *)cmd->name;
	opts.command = cmd->name;
	return cmd->fn(argc - optind, argv + optind);
}
