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

#ifndef XDPLB_VERSION
#define XDPLB_VERSION "0.1.0"
#endif

struct options opts = {
	.pin_dir = DEFAULT_PIN_DIR,
};

static const char usage_text[] =
"Usage: xdplb [--pin-dir DIR] [-j|--json] [-v] COMMAND [ARGS]\n"
"  attach IFNAME --vip VIP [SVCOPTS] [--vip VIP [SVCOPTS]]...\n"
"                [--mode native|generic] [--table-size PRIME]\n"
"                [--conn-table-size N] [--conn-rate N]\n"
"                [--tcp-timeout SEC] [--udp-timeout SEC]\n"
"  detach IFNAME\n"
"  add-vip VIP [SVCOPTS] [--table-size PRIME] [CHECKOPTS]\n"
"  set-vip VIP [SVCOPTS] [--no-ops] [--table-size PRIME] [CHECKOPTS]\n"
"                            change a service in place: tracked flows stay\n"
"  del-vip VIP\n"
"  add-real --vip VIP REAL [--weight W] [--mac MAC] [--sorry]\n"
"  set-real --vip VIP REAL --weight W\n"
"  del-real --vip VIP REAL\n"
"  list                      services, checks, reals, weights, MACs,\n"
"                            health, packets, bytes\n"
"  stats [--interval SEC [--count N]]\n"
"                            global, per-service and per-real counters;\n"
"                            rates per second with --interval\n"
"  conns [--vip VIP]         tracked flows: client, VIP, real, CPU, age\n"
"  flow --vip VIP CLIENT     which real this flow goes to now, and why\n"
"  save                      the configuration as add-vip/add-real lines\n"
"  restore [FILE]            make the configuration what FILE (- or none:\n"
"                            stdin) says, changing only what differs\n"
"  daemon --config FILE [--announce IFNAME [--bird-vips FILE\n"
"         [--bird-reload CMD]]]\n"
"                            apply FILE (again on SIGHUP), health-check\n"
"                            every real and drain those that fail, keep\n"
"                            MACs fresh; IFNAME: a TUN device that is up\n"
"                            while it is healthy; FILE of --bird-vips: the\n"
"                            VIPs as BIRD static routes via IFNAME, then\n"
"                            CMD (birdc configure); runs in the foreground\n"
"  help\n"
"\n"
"VIP   := ADDR:PORT[/tcp|/udp]  (tcp when omitted; ADDR is IPv4 or [IPv6];\n"
"                               PORT 0 takes every port of ADDR)\n"
"REAL  := address of a host on the attached interface's layer-2 segment\n"
"SVCOPTS := [--hash 5tuple|src-ip] [--ops]\n"
"             src-ip: Maglev on the client address (persistence);\n"
"             --ops: one-packet scheduling, UDP flows are not tracked\n"
"CHECKOPTS := [--check CHECK] [--interval SEC] [--timeout SEC] [--rise N]\n"
"             [--fall N] [--quorum N]\n"
"             the health check of the service's reals (run by the daemon):\n"
"             a real is down after --fall failures in a row (default 3),\n"
"             up after --rise passes (2); every --interval (2 s), each\n"
"             given --timeout (1 s, at most the interval). While fewer\n"
"             than --quorum reals (1) are up, new flows go to the\n"
"             service's --sorry reals\n"
"CHECK := tcp | http:PATH[:STATUS] | exec:COMMAND | none\n"
"             tcp: connect to the real's port; http: GET PATH (from /),\n"
"             expect STATUS (100..599, default 200); tcp and http need\n"
"             a PORT; exec: COMMAND exits 0; none: no check (set-vip)\n"
"CLIENT := ADDR:PORT           (IPv6 ADDR in brackets)\n"
"W     := 0..65535, default 1 (0 drains: no new flows)\n"
"MAC   := xx:xx:xx:xx:xx:xx, the real's MAC when it cannot be resolved\n"
"PRIME := Maglev slots of a service, a prime in 7..1048573; attach's\n"
"         sets the default of services added without one (65537)\n"
"N     := for --conn-table-size, tracked flows per CPU, a power of two\n"
"         in 1024..4194304 (default 65536); for --conn-rate, new tracked\n"
"         flows per CPU per second (default 100000); for --count, 0\n"
"         repeats until interrupted; for --rise and --fall 1..1000;\n"
"         for --quorum 1..16384\n"
"SEC   := seconds (default TCP 900, UDP 300); the --interval of stats,\n"
"         and check --interval and --timeout (0.01..3600), take fractions\n"
"FILE  := lines of add-vip and add-real (options as above, words quoted\n"
"         as in the shell), '#' comments: what save prints\n"
"\n"
"Options:\n"
"  --pin-dir DIR  where the instance's maps are pinned, on a bpffs\n"
"                 (default " DEFAULT_PIN_DIR ")\n"
"  -j, --json     JSON output, errors included\n"
"  -v, --verbose  more messages; twice for libbpf and libxdp debug\n"
"  -V, --version  print the version\n"
"  -h, --help     this text\n";

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
	{ "help", do_help, false },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The exact name, or an unambiguous prefix of one. */
static const struct command *find_command(const char *name, bool *ambiguous)
{
	const struct command *match = NULL;
	size_t i, len = strlen(name);

	*ambiguous = false;
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

static const struct option global_opts[] = {
	{ "pin-dir", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	const struct command *cmd;
	bool ambiguous;
	int c;

	/* Global options stop at the command ('+'). */
	while ((c = getopt_long(argc, argv, "+jvVh", global_opts, NULL)) != -1) {
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
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	log_init(opts.verbose);
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}

	cmd = find_command(argv[optind], &ambiguous);
	if (!cmd) {
		p_err("%s command '%s' (see 'xdplb help')",
		      ambiguous ? "ambiguous" : "unknown", argv[optind]);
		return EXIT_USAGE;
	}
	if (cmd->needs_root && geteuid() != 0) {
		p_err("%s: must be run as root (needs CAP_BPF and "
		      "CAP_NET_ADMIN)", cmd->name);
		return EXIT_FAIL;
	}
	argv[optind] = (char *)cmd->name;
	return cmd->fn(argc - optind, argv + optind);
}
