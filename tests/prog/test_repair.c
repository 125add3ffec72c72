// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_repair.c - what a change killed between two writes leaves, and its
 * repair (user/instance/repair.c): on a loaded instance, each state such a
 * kill can leave is made by hand (the configuration maps written, what the
 * data path reads left behind), lb_reconcile() must name it, and with fix
 * make every structure what the configuration builds, after which it finds
 * nothing. Then the marker: pinned by lb_change_begin(), removed by
 * lb_change_end(), and found and repaired by lb_repair().
 */
#include <arpa/inet.h>
#include <errno.h>
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
#include "lb.h"
#include "repair.h"
#include "spec.h"

#define TABLE_SIZE	251

static struct xdplb_bpf *skel;
static struct lb lb;
static struct xdplb_real *all;

/* Three services, two of one VIP address; their reals' addresses. */
static const struct {
	const char *vip;
	const char *reals[3];
	__u16 weights[3];
} defs[] = {
	{ "192.0.2.1:80", { "10.0.0.1", "10.0.0.2", "10.0.0.3" }, { 1, 2, 3 } },
	{ "192.0.2.1:53/udp", { "10.0.0.1", "10.0.0.4" }, { 1, 1 } },
	{ "[2001:db8::1]:80", { "2001:db8::11", "2001:db8::12" }, { 5, 1 } },
};

#define N_DEFS	(sizeof(defs) / sizeof(defs[0]))

static struct xdplb_svc_key keys[N_DEFS];
static char pin_dir[64];

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void add(size_t s)
{
	struct xdplb_svc svc;
	char err[SPEC_ERRLEN];
	int i, e;

	cr_assert_eq(spec_vip(defs[s].vip, &keys[s], err, sizeof(err)), 0,
		     "%s", err);
	e = lb_svc_add(&lb, &keys[s], 0, 0);
	cr_assert_eq(e, 0, "lb_svc_add %s: %s", defs[s].vip, strerror(-e));
	cr_assert_eq(lb_svc_get(&lb, &keys[s], &svc), 0);
	for (i = 0; i < 3 && defs[s].reals[i]; i++) {
		struct xdplb_real r = { .svc_id = svc.id,
					.weight = defs[s].weights[i] };
		__u32 id;

		r.family = keys[s].family;
		cr_assert_eq(inet_pton(r.family == XDPLB_AF_INET ? AF_INET :
				       AF_INET6, defs[s].reals[i], &r.addr),
			     1);
		e = lb_real_add(&lb, all, &r, &id);
		cr_assert_eq(e, 0, "lb_real_add: %s", strerror(-e));
	}
	cr_assert_eq(lb_rebuild(&lb, all, &svc), 0);
}

static void setup(void)
{
	struct xdplb_config cfg = {
		.magic = XDPLB_MAGIC,
		.abi_version = XDPLB_ABI_VERSION,
		.table_size = TABLE_SIZE,
		.hash_seed = 42,
		.ct_size = 1024,
		.ct_rate = 1000,
		.tcp_timeout = 900,
		.udp_timeout = 300,
	};
	const char *what;
	struct statfs st;
	size_t s;
	int tmpl, err;

	if (geteuid() != 0)
		cr_skip_test("needs root for BPF maps");
	libbpf_set_print(quiet);
	lb_init(&lb);
	skel = xdplb_bpf__open();
	cr_assert_not_null(skel, "xdplb_bpf__open: %s", strerror(errno));
	tmpl = xdplb_configure(skel, &cfg, &what);
	cr_assert_geq(tmpl, 0, "%s: %s", what, strerror(-tmpl));
	err = xdplb_bpf__load(skel);
	close(tmpl);
	if (err == -EPERM)
		cr_skip_test("cannot load BPF here: %s", strerror(-err));
	cr_assert_eq(err, 0, "xdplb_bpf__load: %s", strerror(-err));
	cr_assert_eq(lb_from_skel(&lb, skel, &cfg), 0);
	all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	cr_assert_not_null(all);
	cr_assert_eq(lb_reals(&lb, all), 0);
	for (s = 0; s < N_DEFS; s++)
		add(s);
	/* The marker goes in a directory of its own (the maps are not
	 * pinned: nothing else needs them there). */
	if (!statfs("/sys/fs/bpf", &st) && st.f_type == BPF_FS_MAGIC) {
		snprintf(pin_dir, sizeof(pin_dir),
			 "/sys/fs/bpf/xdplb-test-repair-%d", getpid());
		cr_assert_eq(mkdir(pin_dir, 0700), 0, "mkdir %s: %s", pin_dir,
			     strerror(errno));
	}
}

static void teardown(void)
{
	if (pin_dir[0])
		lb_unpin_all(pin_dir, false);
	pin_dir[0] = '\0';
	free(all);
	lb_close(&lb);
	xdplb_bpf__destroy(skel);
}

TestSuite(repair, .init = setup, .fini = teardown, .timeout = 60);

/* What lb_reconcile finds (fix: and repairs). */
static struct lb_drift drift(bool fix)
{
	struct lb_drift d;
	int err = lb_reconcile(&lb, fix, &d, NULL, NULL);

	cr_assert_eq(err, 0, "lb_reconcile: %s", strerror(-err));
	return d;
}

/* Repair what is found, then find nothing; the live index is then what
 * the services compile to, and each table what its reals build. */
static void repaired(void)
{
	struct xdplb_svc_slot *want, *live;
	struct lb_service *ents;
	struct lb_drift d;
	int n, i;

	drift(true);
	d = drift(false);
	cr_assert_eq(lb_drift_count(&d), 0, "still %d problems after a repair",
		     lb_drift_count(&d));
	want = calloc(XDPLB_SVC_SLOTS, sizeof(*want));
	live = calloc(XDPLB_SVC_SLOTS, sizeof(*live));
	cr_assert(want && live);
	cr_assert_eq(lb_svc_entries(&lb, &ents, &n), 0);
	cr_assert_eq(lb_index_compile(ents, n, want), 0);
	cr_assert_eq(lb_index_read(&lb, live), 0);
	cr_assert_eq(memcmp(want, live, XDPLB_SVC_SLOTS * sizeof(*want)), 0);
	cr_assert_eq(lb_reals(&lb, all), 0);
	for (i = 0; i < n; i++) {
		struct xdplb_maglev_elem *b = NULL, *t = NULL;
		__u32 elems = 0;

		if (ents[i].svc.flags & XDPLB_SVC_F_MARKER)
			continue;
		cr_assert_eq(lb_table_build(&lb, all, &ents[i].svc, &b), 0);
		if (lb_table_read(&lb, ents[i].svc.id, &t, &elems) == -ENOENT) {
			cr_assert_null(b, "service %u has no table", i);
			continue;
		}
		cr_assert_not_null(b);
		cr_assert_eq(elems, XDPLB_MAGLEV_ELEMS(ents[i].svc.table_size));
		cr_assert_eq(memcmp(b, t, elems * sizeof(*t)), 0,
			     "service %d's table is not what its reals build",
			     i);
		free(b);
		free(t);
	}
	free(ents);
	free(want);
	free(live);
}

Test(repair, nothing_after_changes)
{
	struct lb_drift d = drift(false);

	cr_assert_eq(lb_drift_count(&d), 0);
	cr_assert_eq(d.services, 3);
	cr_assert_eq(d.reals, 7);
	cr_assert_eq(d.tables, 3);
}

/* restore killed before its one index compile: services the index has
 * not, one of a new VIP address (its marker written before it). */
Test(repair, services_not_indexed)
{
	struct xdplb_svc_key k = keys[0], m = { .family = XDPLB_AF_INET };
	struct xdplb_svc v = { .id = 7, .table_size = TABLE_SIZE,
			       .frag_tcp = XDPLB_NO_FRAG,
			       .frag_udp = XDPLB_NO_FRAG };
	struct lb_drift d;

	k.port = htons(81);
	cr_assert_eq(lb_svc_entry_put(&lb, &k, &v), 0);
	k.addr.v4 = m.addr.v4 = htonl(0xc0000202);	/* 192.0.2.2 */
	v.id = 8;
	cr_assert_eq(lb_svc_entry_put(&lb, &k, &v), 0);
	d = drift(false);
	cr_assert(d.index);
	cr_assert_eq(d.markers, 1, "the new VIP address has no marker");
	cr_assert_eq(d.filter, 1, "192.0.2.2's filter bit is clear");
	repaired();
	cr_assert_eq(lb_svc_get(&lb, &m, &v), 0, "no marker for 192.0.2.2");
}

/* add-real or set-real killed between the real's entry and its table
 * (and the daemon between a table and the DOWN flags). */
Test(repair, table_out_of_step)
{
	struct lb_drift d;
	int id;

	cr_assert_eq(lb_reals(&lb, all), 0);
	id = lb_real_find(all, 0, &all[0].addr, all[0].family);
	cr_assert_geq(id, 0);
	all[id].weight = 9;
	cr_assert_eq(lb_real_update(&lb, id, &all[id]), 0);
	all[id + 1].flags |= XDPLB_REAL_F_DOWN;
	cr_assert_eq(lb_real_update(&lb, id + 1, &all[id + 1]), 0);
	d = drift(false);
	cr_assert_eq(d.tables_wrong, 1);
	cr_assert_not(d.index);
	repaired();
}

/* set-vip --table-size killed with the services entry written: to a
 * smaller size (the index then names it, the table is still the old one)
 * and to a larger one (the table is not there yet). */
Test(repair, table_sizes)
{
	static const __u32 sizes[] = { 7, 4093, TABLE_SIZE };
	struct xdplb_svc v;
	struct lb_drift d;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cr_assert_eq(lb_svc_get(&lb, &keys[2], &v), 0);
		v.table_size = sizes[i];
		cr_assert_eq(lb_svc_entry_put(&lb, &keys[2], &v), 0);
		d = drift(false);
		cr_assert(d.index);
		cr_assert_eq(d.tables_wrong, 1, "size %u", sizes[i]);
		repaired();
	}
}

/* del-vip killed after the services entry went: the index still has it,
 * and its table and reals are there; the VIP's last service, so its
 * marker is left too. */
Test(repair, deleted_service)
{
	struct xdplb_svc v;
	struct lb_drift d;
	int i;

	cr_assert_eq(lb_svc_get(&lb, &keys[2], &v), 0);
	cr_assert_eq(lb_svc_entry_del(&lb, &keys[2]), 0);
	d = drift(false);
	cr_assert(d.index);
	cr_assert_eq(d.markers, 1);
	cr_assert_eq(d.stale_tables, 1);
	cr_assert_eq(d.stale_reals, 2);
	repaired();
	cr_assert_eq(lb_reals(&lb, all), 0);
	for (i = 0; i < XDPLB_MAX_REALS; i++)
		cr_assert(!(all[i].flags & XDPLB_REAL_F_USED) ||
			  all[i].svc_id != v.id);
}

/* A problem is said once, in words naming what differs. */
static void note(void *ctx, const char *problem)
{
	char *buf = ctx;

	strncat(buf, problem, 4095 - strlen(buf));
	strncat(buf, "\n", 4095 - strlen(buf));
}

Test(repair, said)
{
	static char said[4096];
	struct lb_drift d;

	cr_assert_eq(lb_svc_entry_del(&lb, &keys[2]), 0);
	cr_assert_eq(lb_reconcile(&lb, false, &d, note, said), 0);
	cr_assert_not_null(strstr(said, "VIP [2001:db8::1]:80/tcp: in the "
				  "service index, but not in the "
				  "configuration"), "%s", said);
	cr_assert_not_null(strstr(said, "real 2001:db8::11"), "%s", said);
	cr_assert_eq(lb_drift_count(&d), 5, "%s", said);
}

/* The marker: pinned by the outermost begin, removed by its end. */
Test(repair, marker)
{
	char msg[512];

	if (!pin_dir[0])
		cr_skip_test("no bpffs at /sys/fs/bpf");
	snprintf(lb.pin_dir, sizeof(lb.pin_dir), "%s", pin_dir);
	lb.who = "restore";
	cr_assert_eq(lb_change_begin(&lb), 0);
	cr_assert(lb_change_pending(pin_dir));
	cr_assert_eq(lb_change_begin(&lb), 0);
	cr_assert_eq(lb_change_end(&lb, 0), 0);
	cr_assert(lb_change_pending(pin_dir), "a nested end removed it");
	cr_assert_eq(lb_change_end(&lb, 0), 0);
	cr_assert_not(lb_change_pending(pin_dir));

	/* Killed in the middle: the marker stays; the next one repairs. */
	cr_assert_eq(lb_change_begin(&lb), 0);
	cr_assert_eq(lb_svc_entry_del(&lb, &keys[2]), 0);
	lb.change_depth = 0;	/* the process is gone */
	cr_assert_eq(lb_repair(&lb, msg, sizeof(msg)), 0);
	cr_assert_not(lb_change_pending(pin_dir));
	cr_assert_not_null(strstr(msg, "'xdplb restore' (pid "), "%s", msg);
	cr_assert_not_null(strstr(msg, "was interrupted in a change: rebuilt "
				  "the service index"), "%s", msg);
	repaired();
	cr_assert_eq(lb_repair(&lb, msg, sizeof(msg)), 0);
	cr_assert_str_empty(msg, "no marker, yet: %s", msg);
}

/* A failed change (or one that found an unrepaired marker) is reconciled
 * before its marker goes. */
Test(repair, end_of_failed_change)
{
	struct lb_drift d;

	if (!pin_dir[0])
		cr_skip_test("no bpffs at /sys/fs/bpf");
	snprintf(lb.pin_dir, sizeof(lb.pin_dir), "%s", pin_dir);
	cr_assert_eq(lb_change_begin(&lb), 0);
	cr_assert_eq(lb_svc_entry_del(&lb, &keys[0]), 0);
	cr_assert_eq(lb_change_end(&lb, -EIO), 0);
	cr_assert_not(lb_change_pending(pin_dir));
	d = drift(false);
	cr_assert_eq(lb_drift_count(&d), 0);

	/* Inherited: a marker there before the change began. */
	cr_assert_eq(lb_change_begin(&lb), 0);
	lb.change_depth = 0;
	cr_assert_eq(lb_svc_entry_del(&lb, &keys[1]), 0);
	cr_assert_eq(lb_change_begin(&lb), 0);
	cr_assert_eq(lb_change_end(&lb, 0), 0);
	d = drift(false);
	cr_assert_eq(lb_drift_count(&d), 0);
}
