// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - xdplb-bench: the measuring parts of `make bench`, one command
 * each; scripts/bench-run.sh runs them in order, builds the namespaces the
 * live part needs, and ends with `report`. Every measuring command prints
 * rows (bench.h) on stdout and notes on stderr; none fails on a figure.
 * `lines` serves scripts/bench-profile.sh instead (lines.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static void field_str(FILE *f, const char *s, char sep)
{
	fprintf(f, "%s%c", s && *s ? s : "-", sep);
}

static void field_num(FILE *f, double v, char sep)
{
	if (isnan(v))
		fprintf(f, "-%c", sep);
	else
		fprintf(f, "%.6g%c", v, sep);
}

void row_print(FILE *f, const struct bench_row *r)
{
	static const char *const kinds[] = {
		[T_NONE] = "-", [T_RATIO_MAX] = "ratio_max",
		[T_RATIO_MIN] = "ratio_min", [T_VALUE_MAX] = "value_max",
	};
	int i;

	field_str(f, r->section, '\t');
	field_str(f, r->name, '\t');
	field_num(f, r->value, '\t');
	field_str(f, r->unit, '\t');
	field_str(f, r->base_name, '\t');
	field_num(f, r->base_name ? r->base : NAN, '\t');
	field_str(f, kinds[r->target], '\t');
	field_num(f, r->target == T_NONE ? NAN : r->limit, '\t');
	field_str(f, r->note, '\t');
	if (!r->nsamples)
		fputc('-', f);
	for (i = 0; i < r->nsamples; i++)
		fprintf(f, "%s%.6g", i ? "," : "", r->samples[i]);
	fputc('\n', f);
	fflush(f);
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(const double *v, int n)
{
	double s[BENCH_MAX_ROUNDS];

	if (n <= 0 || n > BENCH_MAX_ROUNDS)
		return NAN;
	memcpy(s, v, n * sizeof(s[0]));
	qsort(s, n, sizeof(s[0]), dbl_cmp);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int pin_cpu(int cpu)
{
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	return sched_setaffinity(0, sizeof(cpus), &cpus) ? -errno : 0;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int bench_enter_netns(const char *name)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		fprintf(stderr, "bench: cannot enter netns '%s': %s\n", name,
			strerror(-err));
	return err;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "prog", cmd_prog, "[ROUNDS [MATCH]]: program-only cases and scale" },
	{ "maglev", cmd_maglev, "Maglev table build, 65537 slots x 1000 reals" },
	{ "live", cmd_live, "live frames through veth (see live.c)" },
	{ "maps", cmd_maps, "PINDIR: memory of every map of an instance" },
	{ "report", cmd_report, "ROWS JSON: print the table, write the JSON" },
	{ "lines", cmd_lines, "[NAME]: JIT address of each source line (lines.c)" },
	{ "cpus", cmd_cpus, "NETNS ROUNDS NAME=PINDIR...: by CPU count (cpus.c)" },
	{ "ctmem", cmd_ctmem, "NAME=PINDIR...: connection table memory" },
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1) ? 1 : 0;
	fprintf(stderr, "usage: xdplb-bench COMMAND [ARGS]\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	return 2;
}
