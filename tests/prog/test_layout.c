// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_layout.c - the pinned-map layouts (user/instance/layout.c): the
 * current one is exactly what the BPF object makes, and each older one
 * converts into it. An old instance is built here from its layout's own
 * description (types, sizes and the structs of include/xdplb_layouts.h),
 * never from today's structs, then converted as `xdplb upgrade` converts
 * it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/mman.h>
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
#include "xdplb_hash.h"
#include "lb.h"

static char dir[64];

/* What the old instance's per-CPU connection tables hold (ABIs 6, 7). */
#define OLD_CT_SIZE	1024		/* flows per CPU */
#define OLD_SETS	(OLD_CT_SIZE / XDPLB_CT_WAYS)

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
			    (__u32)libbpf_num_possible_cpus() * OLD_SETS, &o);
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


struct old_flow {
	int cpu;
	__u16 port;
	__u32 real;		/* id */
	__u32 idle;		/* ticks */
	bool live;		/* what must come through */
};

static void old_flow(const struct old_flow *f, struct xdplb_flow *flow)
{
	memset(flow, 0, sizeof(*flow));
	flow->src.v4 = htonl(0xc0000201);	/* 192.0.2.1 */
	flow->dst.v4 = htonl(0xc0a80064);
	flow->sport = htons(f->port);
	flow->dport = htons(80);
	flow->proto = IPPROTO_TCP;
	flow->family = XDPLB_AF_INET;
}

/*
 * An instance as release 0.6.0 (abi 6) or 0.7.0 (7) pinned it converts into
 * the current layout: the config keeps every field (recording the
 * namespace, and counting the connection table's flows over the CPUs),
 * the CPUs' tables merge into one (each live flow once, its newest copy,
 * confirmed; those idled out or of a deleted real gone), the per-CPU
 * state keeps what it had, the log starts empty; every other map is the
 * very same map with what it held.
 */
static void old_converts(__u32 abi)
{
	const struct layout *old = layout_get(abi), *cur = layout_current();
	struct xdplb_config_v7 c7 = {
		.magic = XDPLB_MAGIC, .abi_version = abi, .table_size = 65537,
		.hash_seed = 0x5eed1b00, .ifindex = 7, .xdp_mode = 2,
		.ifmac = { 2, 0, 0, 0, 0, 2 }, .ifname = "eth0",
		.ct_size = OLD_CT_SIZE, .ct_rate = 12345, .tcp_timeout = 900,
		.udp_timeout = 300, .netns_cookie = 0xc00c1e,
	};
	int ncpus = libbpf_num_possible_cpus();
	struct old_flow flows[] = {
		{ 0, 1001, 5, 10, true },
		{ ncpus - 1, 1002, 5, 20, true },
		{ 0, 1003, 6, 10, false },		/* real deleted */
		{ 0, 1004, 5, 900u << 8, false },	/* idled out */
		{ 0, 1005, 5, 30, true },		/* on two CPUs: */
		{ ncpus - 1, 1005, 5, 5, true },	/* this copy wins */
	};
	struct xdplb_real real = { .flags = XDPLB_REAL_F_USED, .weight = 3,
				   .gen = 9 }, got_real;
	int old_fd[LAYOUT_MAX_MAPS], new_fd[LAYOUT_MAX_MAPS], i, j, w, err;
	__u32 zero = 0, five = 5, now = lb_now_ns() >> XDPLB_CT_TICK_SHIFT;
	struct xdplb_ct_guard_v7 *g7 = calloc(ncpus, sizeof(*g7));
	struct xdplb_ct_guard *g8 = calloc(ncpus, sizeof(*g8));
	struct xdplb_conn_set *ot, *nt;
	struct xdplb_config cfg;
	struct migration m;
	size_t olen = (size_t)ncpus * OLD_SETS * sizeof(*ot);

	cr_assert_not_null(old);
	cr_assert(g7 && g8);
	for (i = 0; i < old->nmaps; i++)
		old_fd[i] = make_old_map(&old->maps[i]);
	for (i = 0; i < old->nmaps; i++) {
		const char *name = old->maps[i].name;

		/* 0.6.0's config is 0.7.0's first 64 bytes. */
		if (!strcmp(name, XDPLB_PIN_CONFIG))
			cr_assert_eq(bpf_map_update_elem(old_fd[i], &zero, &c7,
							 BPF_ANY), 0);
		if (!strcmp(name, XDPLB_PIN_REALS))
			cr_assert_eq(bpf_map_update_elem(old_fd[i], &five,
							 &real, BPF_ANY), 0);
		if (!strcmp(name, XDPLB_PIN_CT_GUARD)) {
			for (j = 0; j < ncpus; j++)
				g7[j].inserts = 100 + j;
			cr_assert_eq(bpf_map_update_elem(old_fd[i], &zero, g7,
							 BPF_ANY), 0);
		}
		if (strcmp(name, XDPLB_PIN_CONNS))
			continue;
		ot = mmap(NULL, olen, PROT_READ | PROT_WRITE, MAP_SHARED,
			  old_fd[i], 0);
		cr_assert_neq(ot, MAP_FAILED);
		for (j = 0; j < (int)(sizeof(flows) / sizeof(flows[0])); j++) {
			struct xdplb_flow f;
			__u32 h, set;

			old_flow(&flows[j], &f);
			h = xdplb_flow_hash(&f, c7.hash_seed);
			set = flows[j].cpu * OLD_SETS + (h & (OLD_SETS - 1));
			for (w = 0; ot[set].tag[w]; w++)
				;
			ot[set].tag[w] = ((h >> 16) & ~3u) |
					 XDPLB_CT_TAG_V7_USED;
			ot[set].flow[w] = f;
			ot[set].real_id[w] = flows[j].real;
			ot[set].real_gen[w] = flows[j].real == 5 ? 9 : 3;
			ot[set].created[w] = now - flows[j].idle - 100;
			ot[set].last_seen[w] = now - flows[j].idle;
		}
		munmap(ot, olen);
	}

	migration_init(&m);
	err = migration_open(&m, dir, abi, 0xc00c1e);
	cr_assert_eq(err, 0, "migration_open: %s (%s)", strerror(-err),
		     m.missing ? m.missing : "");
	cr_expect_eq(m.cfg.abi_version, XDPLB_ABI_VERSION);
	cr_expect_eq(memcmp((char *)&m.cfg + 8, (char *)&c7 + 8,
			    offsetof(struct xdplb_config, ct_size) - 8), 0,
		     "a field of the config before ct_size changed");
	cr_expect_eq(m.cfg.ct_rate, c7.ct_rate);
	cr_expect_eq(m.cfg.tcp_timeout, c7.tcp_timeout);
	cr_expect_eq(m.cfg.udp_timeout, c7.udp_timeout);
	cr_expect_eq(m.cfg.netns_cookie, 0xc00c1e);
	cr_expect_geq(m.cfg.ct_size, (__u32)ncpus * OLD_CT_SIZE,
		      "the table shrank: %u flows", m.cfg.ct_size);
	cr_expect_lt(m.cfg.ct_size, 2u * ncpus * OLD_CT_SIZE);

	for (i = 0; i < cur->nmaps; i++) {
		int reuse = migration_reuse_fd(&m, i);
		const char *name = cur->maps[i].name;

		new_fd[i] = -1;
		if (reuse < 0) {
			cr_expect_not_null(migration_why(&m, i));
			new_fd[i] = layout_create_map(i, &m.cfg);
			cr_assert_geq(new_fd[i], 0, "%s: %s", name,
				      strerror(-new_fd[i]));
			continue;
		}
		for (j = 0; j < old->nmaps; j++)
			if (!strcmp(old->maps[j].name, name))
				cr_expect_eq(id_of(reuse), id_of(old_fd[j]),
					     "%s: another map", name);
		if (!strcmp(name, XDPLB_PIN_REALS)) {
			cr_assert_eq(bpf_map_lookup_elem(reuse, &five,
							 &got_real), 0);
			cr_expect_eq(memcmp(&got_real, &real, sizeof(real)), 0);
		}
	}
	err = migration_fill(&m, new_fd);
	cr_assert_eq(err, 0, "migration_fill: %s (%s)", strerror(-err),
		     m.missing ? m.missing : "");

	for (i = 0; i < cur->nmaps; i++) {
		const char *name = cur->maps[i].name;
		size_t nlen = (size_t)m.cfg.ct_size / XDPLB_CT_WAYS *
			      sizeof(*nt);

		if (new_fd[i] < 0)
			continue;
		if (!strcmp(name, XDPLB_PIN_CONFIG)) {
			cr_assert_eq(bpf_map_lookup_elem(new_fd[i], &zero,
							 &cfg), 0);
			cr_expect_eq(memcmp(&cfg, &m.cfg, sizeof(cfg)), 0);
		}
		if (!strcmp(name, XDPLB_PIN_CT_GUARD)) {
			cr_assert_eq(bpf_map_lookup_elem(new_fd[i], &zero,
							 g8), 0);
			for (j = 0; j < ncpus; j++)
				cr_expect(g8[j].inserts == 100u + j &&
					  !g8[j].full && !g8[j].log_head,
					  "ct_guard of CPU %d", j);
		}
		if (!strcmp(name, XDPLB_PIN_CONNS)) {
			int found[6] = { 0 };

			nt = mmap(NULL, nlen, PROT_READ, MAP_SHARED, new_fd[i],
				  0);
			cr_assert_neq(nt, MAP_FAILED);
			for (j = 0; j < (int)(sizeof(flows) / sizeof(flows[0]));
			     j++) {
				struct xdplb_flow f;
				__u32 h, set;

				old_flow(&flows[j], &f);
				h = xdplb_flow_hash(&f, c7.hash_seed);
				set = h & (m.cfg.ct_size / XDPLB_CT_WAYS - 1);
				for (w = 0; w < XDPLB_CT_WAYS; w++) {
					if (!nt[set].tag[w] ||
					    memcmp(&nt[set].flow[w], &f,
						   sizeof(f)))
						continue;
					found[j]++;
					cr_expect_eq(nt[set].tag[w],
						     xdplb_ct_tag(h, f.proto) |
						     XDPLB_CT_TAG_CONFIRMED);
					cr_expect_eq(nt[set].real_id[w],
						     flows[j].real);
					if (j >= 4)	/* the newest copy */
						cr_expect_eq(now -
							     nt[set].last_seen[w],
							     5u);
				}
			}
			cr_expect(found[0] == 1 && found[1] == 1,
				  "live flows merged: %d %d", found[0],
				  found[1]);
			cr_expect(!found[2] && !found[3],
				  "dead flows kept: %d %d", found[2],
				  found[3]);
			cr_expect(found[4] == 1 && found[5] == 1,
				  "a flow of two CPUs is there %d times",
				  found[4]);
			munmap(nt, nlen);
		}
		close(new_fd[i]);
	}
	migration_close(&m);
	for (i = 0; i < old->nmaps; i++)
		close(old_fd[i]);
	free(g7);
	free(g8);
}

Test(layout, v6_converts)
{
	old_converts(6);
}

Test(layout, v7_converts)
{
	old_converts(7);
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
