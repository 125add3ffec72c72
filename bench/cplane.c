// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cplane.c - the control plane's figures that need C:
 *   xdplb-bench maglev [ROUNDS]  time of one Maglev build, 65537 slots and
 *                                1000 reals of weight 1, through
 *                                user/instance/maglev.c as the xdplb
 *                                command calls it
 *   xdplb-bench maps PINDIR      kernel-reported memory (memlock in
 *                                /proc/self/fdinfo) of every map pinned
 *                                there, and of the Maglev tables inside the
 *                                map-in-map outers
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maglev.h"
#include "xdplb.h"
#include "bench.h"

#define MAGLEV_SLOTS	65537
#define MAGLEV_REALS	1000
#define MAGLEV_ROUNDS	9
#define MAGLEV_PAPER_MS	1.8	/* Eisenbud et al., NSDI 2016, §5.3 */

int cmd_maglev(int argc, char **argv)
{
	struct maglev_backend *b = calloc(MAGLEV_REALS, sizeof(*b));
	uint32_t *table = calloc(MAGLEV_SLOTS, sizeof(*table));
	int rounds = argc > 1 ? atoi(argv[1]) : MAGLEV_ROUNDS;
	double ms[BENCH_MAX_ROUNDS];
	int i, r, err = -1;

	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS)
		rounds = MAGLEV_ROUNDS;
	if (!b || !table)
		goto out;
	pin_cpu(0);
	for (r = 0; r < rounds; r++) {
		double t;

		/* As lb.c keys a real: family, then the address. Given in
		 * reverse order, so that the build sorts them every time. */
		for (i = 0; i < MAGLEV_REALS; i++) {
			__u32 a = htobe32(0x0a800000 + MAGLEV_REALS - i);

			memset(&b[i], 0, sizeof(b[i]));
			b[i].key[0] = XDPLB_AF_INET;
			memcpy(&b[i].key[1], &a, sizeof(a));
			b[i].weight = 1;
			b[i].id = i;
		}
		t = now_s();
		if (maglev_build(b, MAGLEV_REALS, table, MAGLEV_SLOTS))
			goto out;
		ms[r] = (now_s() - t) * 1e3;
	}
	row_print(stdout, &(struct bench_row){
		.section = "control", .name = "Maglev build, 65537 slots x "
		"1000 reals", .value = median(ms, rounds), .unit = "ms",
		.base_name = "Maglev paper", .base = MAGLEV_PAPER_MS,
		.target = T_VALUE_MAX, .limit = 2.0, .samples = ms,
		.nsamples = rounds,
		.note = "base: the paper's figure, not measured here" });
	err = 0;
out:
	free(b);
	free(table);
	return err;
}

int bench_map_info(int fd, double *bytes, unsigned *type,
		       unsigned *entries)
{
	char path[64], line[256];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "map_type: %llu", &v) == 1) {
			*type = v;
			found = 1;
		} else if (sscanf(line, "max_entries: %llu", &v) == 1) {
			*entries = v;
		} else if (sscanf(line, "memlock: %llu", &v) == 1) {
			*bytes = v;
		}
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

/* Memory of the maps inside a map-in-map outer; *n of them. */
static double inner_bytes(int outer, unsigned *n)
{
	__u32 key, next, id, type, entries;
	__u32 *prev = NULL;
	double sum = 0, b;

	*n = 0;
	while (!bpf_map_get_next_key(outer, prev, &next)) {
		int fd;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(outer, &key, &id))
			continue;
		fd = bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;
		b = 0;
		if (!bench_map_info(fd, &b, &type, &entries)) {
			sum += b;
			(*n)++;
		}
		close(fd);
	}
	return sum;
}

static void map_row(const char *name, double bytes, const char *note)
{
	row_print(stdout, &(struct bench_row){
		.section = "memory", .name = name, .value = bytes / 1024,
		.unit = "KiB", .note = note });
}

int cmd_maps(int argc, char **argv)
{
	struct dirent **ents;
	double total = 0;
	int i, n;

	if (argc != 2) {
		fprintf(stderr, "usage: xdplb-bench maps PINDIR\n");
		return -EINVAL;
	}
	n = scandir(argv[1], &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "bench: cannot read '%s': %s\n", argv[1],
			strerror(errno));
		return -errno;
	}
	for (i = 0; i < n; i++) {
		char path[4096], note[128], name[300];
		unsigned type = 0, entries = 0, ninner;
		double bytes = 0, ib;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", argv[1],
			 ents[i]->d_name);
		fd = ents[i]->d_name[0] == '.' ? -1 : bpf_obj_get(path);
		if (fd >= 0 &&
		    !bench_map_info(fd, &bytes, &type, &entries)) {
			snprintf(note, sizeof(note), "%s, max_entries %u",
				 libbpf_bpf_map_type_str(type), entries);
			map_row(ents[i]->d_name, bytes, note);
			total += bytes;
			if (type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
			    type == BPF_MAP_TYPE_HASH_OF_MAPS) {
				ib = inner_bytes(fd, &ninner);
				snprintf(name, sizeof(name), "%s: inner maps",
					 ents[i]->d_name);
				snprintf(note, sizeof(note), "%u of them",
					 ninner);
				map_row(name, ib, note);
				total += ib;
			}
		}
		if (fd >= 0)
			close(fd);
		free(ents[i]);
	}
	free(ents);
	map_row("all maps", total, "sum of the rows above");
	return 0;
}
