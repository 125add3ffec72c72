/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bench.h - what the parts of xdplb-bench share.
 *
 * Every measurement is printed as one row, a line of tab-separated fields
 * (scripts/bench-run.sh writes the same format for what it measures in
 * shell), and `xdplb-bench report` turns the rows of a run into the table
 * and the JSON. A row names its base: the floor, or the smaller case of a
 * scale pair, measured in the same run; its target applies to the ratio
 * value / base, or to the value itself.
 *
 *   section name value unit base-name base-value target-kind limit note
 *   samples
 *
 * "-" is an empty field; samples are the per-round values, comma
 * separated. Target kinds: see enum bench_target.
 */
#ifndef XDPLB_BENCH_H
#define XDPLB_BENCH_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#define BENCH_MAX_ROUNDS	16

enum bench_target {
	T_NONE,		/* a figure, no target */
	T_RATIO_MAX,	/* value / base at most limit */
	T_RATIO_MIN,	/* value / base at least limit */
	T_VALUE_MAX,	/* value at most limit */
};

struct bench_row {
	const char *section;
	const char *name;
	double value;		/* NaN: not measured (say why in note) */
	const char *unit;
	const char *base_name;	/* NULL: no base */
	double base;
	enum bench_target target;
	double limit;
	const char *note;
	const double *samples;
	int nsamples;
};

void row_print(FILE *f, const struct bench_row *r);

double median(const double *v, int n);

/* Pin the calling thread to cpu; 0 or -errno. */
int pin_cpu(int cpu);

/* Seconds on CLOCK_MONOTONIC. */
double now_s(void);

/* Enter network namespace /var/run/netns/name; 0 or -errno (said). */
int bench_enter_netns(const char *name);

/* memlock (bytes, as the kernel counts it in fdinfo), map_type and
 * max_entries of the map at fd; -ENOENT: not a map. */
int bench_map_info(int fd, double *bytes, unsigned *type, unsigned *entries);

/* The program-only cases' 64-byte IPv4 TCP ACK (prog.c), to daddr:dport
 * (network order), into buf of size bytes; its length, 0 if too small. */
__u32 bench_tcp_ack(__u8 *buf, size_t size, __be32 daddr, __be16 dport);

int cmd_prog(int argc, char **argv);
int cmd_maglev(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_maps(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_lines(int argc, char **argv);
int cmd_cpus(int argc, char **argv);
int cmd_ctmem(int argc, char **argv);

#endif /* XDPLB_BENCH_H */
