// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_layout.c - the pinned-map layouts (user/layout.c): the current one
 * is exactly what the BPF object makes, and each older one converts into
 * it. An old instance is built here from its layout's own description
 * (types, sizes and the structs of include/xdplb_layouts.h), never from
 * today's structs, then converted as `xdplb upgrade` converts it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>

/* xdplb.h first: the skeleton's .rodata names struct xdplb_build. */
#include "xdplb.h"
#include "xdplb.skel.h"
#include "xdplb_layouts.h"
#include "layout.h"
#include "lb.h"

static char dir[64];

static void need_bpffs(void)
{
	struct statfs st;

	if (geteuid() != 0)
		cr_skip_test("needs root for BPF maps");
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)
		cr_skip_test("no bpffs at /sys/fs/bpf");
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xdplb-test-layout-%d",
		 getpid());
	cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s: %s", dir,
		     strerror(errno));
}

static void cleanup(void)
{
	if (dir[0])
		lb_unpin_all(dir, false);
}

TestSuite(layout, .init = need_bpffs, .fini = cleanup, .timeout = 30);

/* Every map of the object is in the current layout as it is made, and
 * the layout lists no other: a change of a map forgotten there fails. */
Test(layout, current_is_the_object)
{
	const struct layout *cur = layout_current();
	struct xdplb_bpf *skel = xdplb_bpf__open();
	struct bpf_map *map;
	int n = 0;

	cr_assert_not_null(skel);
	cr_assert_eq(cur->abi, XDPLB_ABI_VERSION);
	bpf_object__for_each_map(map, skel->obj) {
		const struct layout_map *m;
		const char *name = bpf_map__name(map);

		if (bpf_map__is_internal(map))
			continue;
		n++;
		m = layout_map(cur, name);
		cr_assert_not_null(m, "map '%s' is not in layout %u", name,
				   cur->abi);
		cr_expect_eq(bpf_map__type(map), m->type, "%s: type", name);
		cr_expect_eq(bpf_map__key_size(map), m->key_size, "%s: key",
			     name);
		cr_expect_eq(bpf_map__value_size(map), m->value_size,
			     "%s: value", name);
		cr_expect_eq(bpf_map__map_flags(map), m->map_flags,
			     "%s: flags", name);
		if (m->max_entries)
			cr_expect_eq(bpf_map__max_entries(map), m->max_entries,
				     "%s: entries", name);
	}
	cr_expect_eq(n, cur->nmaps, "the layout lists %d maps, the object "
		     "has %d", cur->nmaps, n);
	xdplb_bpf__destroy(skel);
}

/* Pin map m of layout l as that layout made it. */
static int make_old_map(const struct layout_map *m)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = m->map_flags);
	char path[PATH_MAX];
	int inner = -1, fd;

	if (m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
		inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "inner", 4, 8, 7,
				       NULL);
		cr_assert_geq(inner, 0);
		o.inner_map_fd = inner;
	}
	fd = bpf_map_create(m->type, m->name, m->key_size, m->value_size,
			    m->max_entries ? m->max_entries :
			    (__u32)libbpf_num_possible_cpus() * 256, &o);
	cr_assert_geq(fd, 0, "create %s: %s", m->name, strerror(errno));
	if (inner >= 0)
		close(inner);
	snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	cr_assert_eq(bpf_obj_pin(fd, path), 0, "pin %s", path);
	return fd;
}

static __u32 id_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

/*
 * 6 -> 7: an instance as release 0.6.0 pinned it. The config is converted
 * (every field kept, the network namespace recorded); every other map is
 * the very same map afterwards, with what it held.
 */
Test(layout, v6_converts_to_v7)
{
	const struct layout *v6 = layout_get(6), *cur = layout_current();
	struct xdplb_config_v6 c6 = {
		.magic = XDPLB_MAGIC, .abi_version = 6, .table_size = 65537,
		.hash_seed = 0x5eed1b00, .ifindex = 7, .xdp_mode = 2,
		.ifmac = { 2, 0, 0, 0, 0, 2 }, .ifname = "eth0",
		.ct_size = 256 * 4, .ct_rate = 12345, .tcp_timeout = 900,
		.udp_timeout = 300,
	};
	struct xdplb_real real = { .flags = XDPLB_REAL_F_USED, .weight = 3,
				   .gen = 9 }, got_real;
	int old_fd[LAYOUT_MAX_MAPS], new_fd[LAYOUT_MAX_MAPS], i, j, err;
	struct xdplb_config cfg;
	struct migration m;
	__u32 zero = 0, five = 5;

	cr_assert_not_null(v6);
	for (i = 0; i < v6->nmaps; i++)
		old_fd[i] = make_old_map(&v6->maps[i]);
	for (i = 0; i < v6->nmaps; i++) {
		if (!strcmp(v6->maps[i].name, XDPLB_PIN_CONFIG))
			cr_assert_eq(bpf_map_update_elem(old_fd[i], &zero, &c6,
							 BPF_ANY), 0);
		if (!strcmp(v6->maps[i].name, XDPLB_PIN_REALS))
			cr_assert_eq(bpf_map_update_elem(old_fd[i], &five,
							 &real, BPF_ANY), 0);
	}

	migration_init(&m);
	err = migration_open(&m, dir, 6, 0xc00c1e);
	cr_assert_eq(err, 0, "migration_open: %s (%s)", strerror(-err),
		     m.missing ? m.missing : "");
	cr_expect_eq(memcmp(&m.cfg, &c6, offsetof(struct xdplb_config_v6,
						  abi_version)), 0);
	cr_expect_eq(m.cfg.abi_version, 7);
	cr_expect_eq(memcmp((char *)&m.cfg + 8, (char *)&c6 + 8,
			    sizeof(c6) - 8), 0, "a field of the config moved");
	cr_expect_eq(m.cfg.netns_cookie, 0xc00c1e);

	for (i = 0; i < cur->nmaps; i++) {
		int reuse = migration_reuse_fd(&m, i);

		new_fd[i] = -1;
		if (!strcmp(cur->maps[i].name, XDPLB_PIN_CONFIG)) {
			cr_expect_lt(reuse, 0, "config is not converted");
			cr_expect_not_null(migration_why(&m, i));
			new_fd[i] = layout_create_map(i);
			cr_assert_geq(new_fd[i], 0);
			continue;
		}
		cr_assert_geq(reuse, 0, "%s is not reused", cur->maps[i].name);
		for (j = 0; j < v6->nmaps; j++)
			if (!strcmp(v6->maps[j].name, cur->maps[i].name))
				cr_expect_eq(id_of(reuse), id_of(old_fd[j]),
					     "%s: another map",
					     cur->maps[i].name);
		if (!strcmp(cur->maps[i].name, XDPLB_PIN_REALS)) {
			cr_assert_eq(bpf_map_lookup_elem(reuse, &five,
							 &got_real), 0);
			cr_expect_eq(memcmp(&got_real, &real, sizeof(real)), 0);
		}
	}
	err = migration_fill(&m, new_fd);
	cr_assert_eq(err, 0, "migration_fill: %s", strerror(-err));
	for (i = 0; i < cur->nmaps; i++) {
		if (new_fd[i] < 0)
			continue;
		cr_assert_eq(bpf_map_lookup_elem(new_fd[i], &zero, &cfg), 0);
		cr_expect_eq(memcmp(&cfg, &m.cfg, sizeof(cfg)), 0);
		close(new_fd[i]);
	}
	migration_close(&m);
	for (i = 0; i < v6->nmaps; i++)
		close(old_fd[i]);
}

/* A layout this build does not know (a newer one) is refused, naming no
 * map: nothing is read of it. */
Test(layout, newer_is_refused)
{
	struct migration m;

	migration_init(&m);
	cr_expect_eq(migration_open(&m, dir, XDPLB_ABI_VERSION + 1, 0),
		     -EPROTONOSUPPORT);
	cr_expect_eq(migration_open(&m, dir, XDPLB_ABI_OLDEST - 1, 0),
		     -EPROTONOSUPPORT);
	migration_close(&m);
}
