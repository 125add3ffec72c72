// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report.c - `xdplb-bench report ROWS JSON`: the rows of one run (bench.h)
 * as a table on stdout and as JSON in the file JSON. Each figure is shown
 * with its ratio to its base and its target, met or not; a target not met
 * is reported, never an error.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "bench.h"

#define MAX_ROWS	128
#define NFIELDS		10

struct rrow {
	char *f[NFIELDS];	/* the fields, "-" turned into NULL */
};

enum { F_SECTION, F_NAME, F_VALUE, F_UNIT, F_BASE_NAME, F_BASE, F_KIND,
       F_LIMIT, F_NOTE, F_SAMPLES };

static const struct {
	const char *key;
	const char *title;
} sections[] = {
	{ "program", "Program only: BPF_PROG_TEST_RUN, CPU 0, 10M repeats; "
	  "floor = Ethernet and IPv4\nbounds check, MAC rewrite, XDP_TX; "
	  "new flows via bench_flows, floor too" },
	{ "scale", "Cost at scale: 16384 random tracked flows via "
	  "bench_flows, 2M repeats;\nthe small case is the base of the "
	  "large one" },
	{ "cpus", "A flow its CPU does not track, by possible CPUs (programs "
	  "loaded for N):\nBPF_PROG_TEST_RUN via bench_flows, CPU 0; base: "
	  "the floor at the fewest CPUs,\nelse the same case at the fewest" },
	{ "cpumem", "Connection table by possible CPUs (kernel's memlock of "
	  "conns); base: the fewest" },
	{ "live", "Live traffic: veth, 64-byte UDP, XDP_TX back to a sink" },
	{ "http", "HTTP through the direct-routing lab (wrk)" },
	{ "control", "Control plane" },
	{ "memory", "Memory of every map, default sizes (kernel's memlock)" },
};

static double num(const char *s)
{
	return s ? strtod(s, NULL) : NAN;
}

/* -1 no target, 0 not met, 1 met; *ratio NaN without a base. */
static int judge(const struct rrow *r, double *ratio)
{
	double v = num(r->f[F_VALUE]), base = num(r->f[F_BASE]);
	double limit = num(r->f[F_LIMIT]);
	const char *k = r->f[F_KIND];

	*ratio = base > 0 ? v / base : NAN;
	if (!k || isnan(v) || isnan(limit))
		return -1;
	if (!strcmp(k, "ratio_max"))
		return isnan(*ratio) ? -1 : *ratio <= limit;
	if (!strcmp(k, "ratio_min"))
		return isnan(*ratio) ? -1 : *ratio >= limit;
	if (!strcmp(k, "value_max"))
		return v <= limit;
	return -1;
}

static void target_text(const struct rrow *r, char *buf, size_t len)
{
	const char *k = r->f[F_KIND];
	double limit = num(r->f[F_LIMIT]);

	if (!k || isnan(limit))
		snprintf(buf, len, "%s", "");
	else if (!strcmp(k, "ratio_max"))
		snprintf(buf, len, "<= %.2fx", limit);
	else if (!strcmp(k, "ratio_min"))
		snprintf(buf, len, ">= %.2fx", limit);
	else
		snprintf(buf, len, "<= %g %s", limit,
			 r->f[F_UNIT] ? r->f[F_UNIT] : "");
}

static int read_rows(const char *path, struct rrow *rows, int *n)
{
	char line[4096];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "bench: cannot read '%s': %s\n", path,
			strerror(errno));
		return -errno;
	}
	*n = 0;
	while (*n < MAX_ROWS && fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok, *s = line;
		int i;

		line[strcspn(line, "\n")] = 0;
		if (!*line || *line == '#')
			continue;
		for (i = 0; i < NFIELDS; i++, s = NULL) {
			tok = strtok_r(s, "\t", &save);
			rows[*n].f[i] = tok && strcmp(tok, "-") ?
					strdup(tok) : NULL;
		}
		(*n)++;
	}
	fclose(f);
	return 0;
}

/* A figure with its unit, as many decimals as its size deserves. */
static void fmt_value(char *buf, size_t len, double v, const char *unit)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f %s", v >= 100 ? 0 : v >= 10 ? 1 : 2,
			 v, unit ? unit : "");
}

static void print_table(const struct rrow *rows, int n)
{
	size_t s;
	int i;

	for (s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		int first = 1;

		for (i = 0; i < n; i++) {
			const struct rrow *r = &rows[i];
			char val[32], ratio_s[16], tgt[32], base[32];
			double ratio, v = num(r->f[F_VALUE]);
			int met;

			if (!r->f[F_SECTION] ||
			    strcmp(r->f[F_SECTION], sections[s].key))
				continue;
			if (first) {
				printf("\n%s\n  %-40s %12s %7s %9s %-8s %s\n",
				       sections[s].title, "case", "value",
				       "x base", "target", "", "base");
				first = 0;
			}
			met = judge(r, &ratio);
			fmt_value(val, sizeof(val), v, r->f[F_UNIT]);
			if (isnan(ratio))
				snprintf(ratio_s, sizeof(ratio_s), "%s", "");
			else
				snprintf(ratio_s, sizeof(ratio_s), "%.2f",
					 ratio);
			target_text(r, tgt, sizeof(tgt));
			printf("  %-40.40s %12s %7s %9s %-8s", r->f[F_NAME],
			       val, ratio_s, tgt, met < 0 ? "" : met ?
			       "met" : "NOT met");
			fmt_value(base, sizeof(base), num(r->f[F_BASE]),
				  r->f[F_UNIT]);
			if (r->f[F_BASE_NAME])
				printf(" %s (%s)", r->f[F_BASE_NAME], base);
			printf("\n");
			if (r->f[F_NOTE])
				printf("  %40s   (%s)\n", "", r->f[F_NOTE]);
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v))
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

/* , "key": value (no comma before the first of an object). */
static void json_kv_str(FILE *f, const char *key, const char *v, int comma)
{
	fprintf(f, "%s\"%s\": ", comma ? ", " : "", key);
	json_str(f, v);
}

static void json_kv_num(FILE *f, const char *key, double v)
{
	fprintf(f, ", \"%s\": ", key);
	json_num(f, v);
}

static void cpu_model(char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			snprintf(buf, len, "%s", c + 2);
			buf[strcspn(buf, "\n")] = 0;
			break;
		}
	}
	if (f)
		fclose(f);
}

static int write_json(const char *path, const struct rrow *rows, int n)
{
	char cpu[128], date[32];
	struct utsname u;
	time_t now = time(NULL);
	FILE *f = fopen(path, "w");
	int i;

	if (!f) {
		fprintf(stderr, "bench: cannot write '%s': %s\n", path,
			strerror(errno));
		return -errno;
	}
	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(f, "{\n  \"date\": \"%s\",\n  \"machine\": {", date);
	json_kv_str(f, "cpu", cpu, 0);
	json_kv_num(f, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
	json_kv_str(f, "kernel", u.release, 1);
	fprintf(f, "},\n  \"results\": [");
	for (i = 0; i < n; i++) {
		const struct rrow *r = &rows[i];
		double ratio;
		int met = judge(r, &ratio);
		char *s, *save = NULL, *samples;

		fprintf(f, "%s\n    {", i ? "," : "");
		json_kv_str(f, "section", r->f[F_SECTION], 0);
		json_kv_str(f, "case", r->f[F_NAME], 1);
		json_kv_num(f, "value", num(r->f[F_VALUE]));
		json_kv_str(f, "unit", r->f[F_UNIT], 1);
		json_kv_str(f, "base", r->f[F_BASE_NAME], 1);
		json_kv_num(f, "base_value", num(r->f[F_BASE]));
		json_kv_num(f, "ratio", ratio);
		json_kv_str(f, "target", r->f[F_KIND], 1);
		json_kv_num(f, "limit", num(r->f[F_LIMIT]));
		fprintf(f, ", \"met\": %s",
			met < 0 ? "null" : met ? "true" : "false");
		json_kv_str(f, "note", r->f[F_NOTE], 1);
		fputs(", \"samples\": [", f);
		samples = r->f[F_SAMPLES] ? strdup(r->f[F_SAMPLES]) : NULL;
		for (s = samples ? strtok_r(samples, ",", &save) : NULL; s;
		     s = strtok_r(NULL, ",", &save))
			fprintf(f, "%s%s", s == samples ? "" : ", ", s);
		free(samples);
		fputs("]}", f);
	}
	fprintf(f, "\n  ]\n}\n");
	return fclose(f) ? -errno : 0;
}

int cmd_report(int argc, char **argv)
{
	static struct rrow rows[MAX_ROWS];
	char cpu[128];
	struct utsname u;
	int n = 0, err;

	if (argc != 3) {
		fprintf(stderr, "usage: xdplb-bench report ROWS JSON\n");
		return -EINVAL;
	}
	err = read_rows(argv[1], rows, &n);
	if (err)
		return err;
	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	printf("xdplb bench: %s, %ld CPUs, kernel %s\n"
	       "each figure is a median of interleaved rounds; x base is "
	       "its ratio to the base\nmeasured in the same run (the floor, "
	       "or the small case of a scale pair)\n", cpu,
	       sysconf(_SC_NPROCESSORS_ONLN), u.release);
	print_table(rows, n);
	err = write_json(argv[2], rows, n);
	if (!err)
		printf("\nJSON: %s\n", argv[2]);
	return err;
}
