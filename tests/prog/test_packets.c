// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_packets.c - the XDP program, packet by packet, through
 * BPF_PROG_TEST_RUN.
 *
 * Every test loads the real skeleton with 251-slot Maglev tables, seeds a
 * small world of services and reals through the control plane
 * (user/instance/lb.c, the code the xdplb command uses), and runs frames
 * built field by field. A case is a row of a table: a description, the
 * packet (struct spec, read by the builders below), and what must happen:
 * the verdict and the one global counter that counts it. The expected
 * output follows from the verdict: XDP_PASS and XDP_DROP give the input
 * back byte for byte; XDP_TX gives it back with the destination MAC set to
 * the real the flow must go to, and the source MAC set to ifmac. A failure
 * names the case and the field (or counter) that differed.
 *
 * Where a flow must go depends on the connection table, so check() reads
 * the flow's set before every packet: a flow tracked to a real that is
 * still there goes to that real (ct_hit); any other goes where its hash
 * and the service's Maglev table say (the client address's hash for
 * src-ip services), and is tracked (ct_new, plus ct_expired when a stale
 * entry is replaced) unless it is an ICMP error, a fragment, a UDP flow
 * of a one-packet-scheduling service, or over the rate cap. After the
 * packet the flow's set must hold exactly that, every other way of it
 * untouched. A test can also say what it expects of the table (struct
 * expect's ct), and check() holds the table to it. The test process is
 * pinned to one CPU: BPF_PROG_TEST_RUN runs the program on the calling
 * CPU, and the table and the rate cap are per CPU.
 *
 * What BPF_PROG_TEST_RUN does on this kernel (6.18), as these tests rely
 * on it: frames shorter than ETH_HLEN (14 bytes) are refused with -EINVAL
 * and the program does not run (the truncation test checks that, then
 * cuts frames at every length from 14 on); the frame is copied back for
 * every verdict, XDP_DROP included, so drops are checked to leave it
 * untouched too; an output buffer too small gives -ENOSPC. Frames above
 * 3520 bytes are accepted even for this non-frags program, but it sees
 * only the first 3520 (the rest goes to fragments), so none is used here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>

/* xdplb.h first: the skeleton's .rodata names struct xdplb_build. */
#include "xdplb.h"
#include "xdplb.skel.h"
#include "xdplb_hash.h"
#include "xdplb_layouts.h"
#include "addr.h"
#include "config.h"
#include "layout.h"
#include "lb.h"
#include "upgrade.h"
#include "spec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define TABLE_SIZE	251
#define SEED		XDPLB_DEFAULT_HASH_SEED
#define PKT_MAX		512
#define MAX_FIELDS	64

/* The load balancer's own MAC (ifmac), which frames from the client are
 * addressed to, and the client's (router's) MAC. */
static const __u8 lb_mac[ETH_ALEN] = { 0x02, 0x1b, 0x00, 0x00, 0x00, 0xfe };
static const __u8 client_mac[ETH_ALEN] = { 0x02, 0xcc, 0x00, 0x00, 0x00, 0x01 };

#define CLIENT4		"192.0.2.10"
#define CLIENT6		"2001:db8:c::10"
/* A router on the way back to the client, which sends ICMP errors. */
#define ROUTER4		"198.51.100.1"
#define ROUTER6		"2001:db8:ff::1"

#define MSEC		1000000ull
#define NSEC		1000000000ull

/* The world ---------------------------------------------------------------- */

enum {
	S_V4_TCP,	/* 10.0.0.1:80/tcp */
	S_V4_UDP,	/* 10.0.0.1:53/udp */
	S_V6_TCP,	/* [2001:db8::1]:80/tcp */
	S_V6_UDP,	/* [2001:db8::1]:53/udp */
	S_ANY_PORT,	/* 10.0.0.2:0/tcp: every port of the VIP */
	S_EXACT,	/* 10.0.0.2:443/tcp: wins over S_ANY_PORT */
	S_NO_REALS,	/* 10.0.0.3:80/tcp, never given a real */
	S_ALL_ZERO,	/* 10.0.0.4:80/tcp, every real drained */
	S_DRAIN,	/* 10.0.0.5:80/tcp, weights 1, 2, 3 */
	S_SRC4,		/* 10.0.0.6:80/tcp, src-ip: the TCP fragments */
	S_SRC6,		/* [2001:db8::6]:53/udp, src-ip: the UDP ones */
	S_OPS,		/* 10.0.0.7:53/udp, one-packet scheduling */
	S_CHURN,	/* 10.0.0.8:80/tcp, weights 1, 1, 1 and a spare at 0 */
	S_LATE,		/* 10.0.0.2:8443/tcp, added by its test only */
	N_SVC,
};

#define MAX_REALS_PER_SVC 6

static const struct svc_def {
	const char *vip;
	int nreals;
	__u16 weight[MAX_REALS_PER_SVC];
	__u32 flags;		/* XDPLB_SVC_F_* */
	bool late;		/* not in the world setup() makes */
} svc_defs[N_SVC] = {
	[S_V4_TCP] = { "10.0.0.1:80/tcp", 3, { 1, 1, 1 } },
	[S_V4_UDP] = { "10.0.0.1:53/udp", 2, { 1, 2 } },
	[S_V6_TCP] = { "[2001:db8::1]:80/tcp", 3, { 1, 1, 2 } },
	[S_V6_UDP] = { "[2001:db8::1]:53/udp", 2, { 1, 1 } },
	[S_ANY_PORT] = { "10.0.0.2:0/tcp", 2, { 1, 1 } },
	[S_EXACT] = { "10.0.0.2:443/tcp", 2, { 1, 1 } },
	[S_NO_REALS] = { "10.0.0.3:80/tcp", 0, { 0 } },
	[S_ALL_ZERO] = { "10.0.0.4:80/tcp", 2, { 1, 1 } },
	[S_DRAIN] = { "10.0.0.5:80/tcp", 3, { 1, 2, 3 } },
	[S_SRC4] = { "10.0.0.6:80/tcp", 4, { 1, 1, 1, 1 },
		     XDPLB_SVC_F_HASH_SRC },
	[S_SRC6] = { "[2001:db8::6]:53/udp", 3, { 1, 1, 1 },
		     XDPLB_SVC_F_HASH_SRC },
	[S_OPS] = { "10.0.0.7:53/udp", 2, { 1, 1 }, XDPLB_SVC_F_OPS },
	[S_CHURN] = { "10.0.0.8:80/tcp", 4, { 1, 1, 1, 0 } },
	[S_LATE] = { "10.0.0.2:8443/tcp", 2, { 1, 1 }, 0, true },
};

static struct xdplb_bpf *skel;
static struct lb lb;
static struct xdplb_real *reals;	/* the whole reals array */
static __u32 svc_id[N_SVC];
static struct xdplb_svc svc_rec[N_SVC];	/* as added */
static __u32 real_id[N_SVC][MAX_REALS_PER_SVC];
static int n_real[N_SVC];		/* reals given, deleted ones too */
static int prog_fd = -1;

/* What a test loads: the connection table's size, rate cap, timeouts. */
struct load {
	__u32 ct_sets;		/* a power of two */
	__u64 ct_rate;
	__u64 tcp_timeout_ns;
	__u64 udp_timeout_ns;
};

/* What attach loads without options. */
static const struct load attach_load = {
	.ct_sets = XDPLB_DEFAULT_CT_SIZE / XDPLB_CT_WAYS,
	.ct_rate = XDPLB_DEFAULT_CT_SIZE / XDPLB_CT_RATE_DIV,
	.tcp_timeout_ns = XDPLB_DEFAULT_TCP_TIMEOUT * NSEC,
	.udp_timeout_ns = XDPLB_DEFAULT_UDP_TIMEOUT * NSEC,
};

/* A table of 65536 flows; a rate cap no test meets but the flood's. */
static const struct load default_load = {
	.ct_sets = 65536 / XDPLB_CT_WAYS,
	.ct_rate = 1000000,
	.tcp_timeout_ns = XDPLB_DEFAULT_TCP_TIMEOUT * NSEC,
	.udp_timeout_ns = XDPLB_DEFAULT_UDP_TIMEOUT * NSEC,
};

static struct load ld;			/* what this test loaded */
static int ct_cpu;			/* the CPU the test runs on */
static struct lb_conn_ways ct_buf[2];	/* a set, before and after */
static __u8 *ct_fill;			/* flows a test keeps, per set */

/* Real r of service s: MAC 02:52:00:00:s:r+1, so that a MAC names both. */
static void real_mac(int s, int r, __u8 mac[ETH_ALEN])
{
	static const __u8 base[ETH_ALEN] = { 0x02, 0x52, 0, 0, 0, 0 };

	memcpy(mac, base, ETH_ALEN);
	mac[4] = s;
	mac[5] = r + 1;
}

/* Rebuild the Maglev table of service s from the reals. */
static void rebuild(int s)
{
	int err = lb_rebuild(&lb, reals, &svc_rec[s]);

	cr_assert_eq(err, 0, "lb_rebuild %s: %s", svc_defs[s].vip,
		     strerror(-err));
}

/* Give service s its next real r (10.100.s.r+1 or 2001:db8:100:s::r+1,
 * with real_mac(s, r)), without rebuilding its table. Returns r. */
static int add_real(int s, __u16 weight)
{
	const struct svc_def *d = &svc_defs[s];
	struct xdplb_real real = {};
	struct xdplb_svc_key key;
	int r = n_real[s], err;
	char addr[64];

	cr_assert_lt(r, MAX_REALS_PER_SVC, "%s: no room for a real", d->vip);
	cr_assert_eq(parse_vip(d->vip, &key), 0);
	if (key.family == XDPLB_AF_INET6)
		snprintf(addr, sizeof(addr), "2001:db8:100:%x::%x", s, r + 1);
	else
		snprintf(addr, sizeof(addr), "10.100.%d.%d", s, r + 1);
	cr_assert_eq(parse_addr(addr, &real.addr, &real.family), 0);
	real_mac(s, r, real.mac);
	real.svc_id = svc_id[s];
	real.weight = weight;
	err = lb_real_add(&lb, reals, &real, &real_id[s][r]);
	cr_assert_eq(err, 0, "lb_real_add %s #%d: %s", d->vip, r,
		     strerror(-err));
	n_real[s]++;
	return r;
}

static void add_reals(int s)
{
	const struct svc_def *d = &svc_defs[s];
	int r;

	for (r = 0; r < d->nreals; r++)
		add_real(s, d->weight[r]);
	if (d->nreals)
		rebuild(s);
}

/* Add service s and its reals. */
static void add_service(int s)
{
	struct xdplb_svc_key key;
	struct xdplb_svc svc;
	int err;

	cr_assert_eq(parse_vip(svc_defs[s].vip, &key), 0);
	err = lb_svc_add(&lb, &key, svc_defs[s].flags, 0);
	cr_assert_eq(err, 0, "lb_svc_add %s: %s", svc_defs[s].vip,
		     strerror(-err));
	cr_assert_eq(lb_svc_get(&lb, &key, &svc), 0);
	svc_id[s] = svc.id;
	svc_rec[s] = svc;
	add_reals(s);
}

/* Set the weight of real r of service s, without rebuilding. */
static void update_weight(int s, int r, __u16 weight)
{
	__u32 id = real_id[s][r];
	int err;

	reals[id].weight = weight;
	err = lb_real_update(&lb, id, &reals[id]);
	cr_assert_eq(err, 0, "lb_real_update: %s", strerror(-err));
}

/* Set the weight of real r of service s and rebuild its table. */
static void set_weight(int s, int r, __u16 weight)
{
	update_weight(s, r, weight);
	rebuild(s);
}

/* Delete real r of service s as `xdplb del-real` does: out of the Maglev
 * table first, then out of the reals; the slot keeps its generation. */
static void del_real(int s, int r)
{
	__u32 id = real_id[s][r];
	int err;

	reals[id].flags = 0;
	rebuild(s);
	err = lb_real_del(&lb, id);
	cr_assert_eq(err, 0, "lb_real_del: %s", strerror(-err));
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Stay on the first CPU we may use: BPF_PROG_TEST_RUN runs the program on
 * the calling CPU, so every packet then sees the same copy of the per-CPU
 * connection table and rate cap. */
static void pin_cpu(void)
{
	cpu_set_t set;
	int cpu;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
		;
	cr_assert_lt(cpu, CPU_SETSIZE);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0,
		     "sched_setaffinity: %s", strerror(errno));
	ct_cpu = cpu;
}

static void setup_with(const struct load *l)
{
	struct xdplb_config cfg = {
		.magic = XDPLB_MAGIC,
		.abi_version = XDPLB_ABI_VERSION,
		.table_size = TABLE_SIZE,
		.hash_seed = SEED,
		.ct_size = l->ct_sets * XDPLB_CT_WAYS,
		.ct_rate = l->ct_rate,
		/* Whole seconds, rounded up: only user space reads them. */
		.tcp_timeout = (l->tcp_timeout_ns + NSEC - 1) / NSEC,
		.udp_timeout = (l->udp_timeout_ns + NSEC - 1) / NSEC,
	};
	int tmpl, err, s;

	memset(n_real, 0, sizeof(n_real));
	lb_init(&lb);
	if (geteuid() != 0)
		cr_skip_test("needs root for BPF_PROG_TEST_RUN");
	libbpf_set_print(quiet);
	pin_cpu();
	cr_assert_lt(ct_cpu, lb.ncpus);
	ld = *l;

	skel = xdplb_bpf__open();
	cr_assert_not_null(skel, "xdplb_bpf__open: %s", strerror(errno));
	skel->rodata->hash_seed = SEED;
	memcpy((void *)skel->rodata->ifmac, lb_mac, ETH_ALEN);
	memcpy(cfg.ifmac, lb_mac, ETH_ALEN);
	err = xdplb_size_conns(skel, l->ct_sets * XDPLB_CT_WAYS, l->ct_rate,
			       l->tcp_timeout_ns, l->udp_timeout_ns);
	cr_assert_eq(err, 0, "xdplb_size_conns: %s", strerror(-err));
	tmpl = xdplb_size_tables(skel, TABLE_SIZE);
	cr_assert_geq(tmpl, 0, "xdplb_size_tables: %s", strerror(-tmpl));
	err = xdplb_bpf__load(skel);
	close(tmpl);
	if (err == -EPERM)
		cr_skip_test("cannot load BPF here: %s", strerror(-err));
	cr_assert_eq(err, 0, "xdplb_bpf__load: %s", strerror(-err));
	prog_fd = bpf_program__fd(skel->progs.xdplb);

	err = lb_from_skel(&lb, skel, &cfg);
	cr_assert_eq(err, 0, "lb_from_skel: %s", strerror(-err));
	reals = calloc(XDPLB_MAX_REALS, sizeof(*reals));
	ct_fill = calloc(l->ct_sets, 1);
	cr_assert(reals && ct_fill);
	cr_assert_eq(lb_reals(&lb, reals), 0);

	for (s = 0; s < N_SVC; s++)
		if (!svc_defs[s].late)
			add_service(s);
	/* Drained after the fact, as an operator would. */
	set_weight(S_ALL_ZERO, 0, 0);
	set_weight(S_ALL_ZERO, 1, 0);
}

static void setup(void)
{
	setup_with(&default_load);
}

static void setup_attach_defaults(void)
{
	setup_with(&attach_load);
}

/* A cap of FLOOD_RATE new tracked flows per second. */
#define FLOOD_RATE	5

static void setup_flood(void)
{
	struct load l = default_load;

	l.ct_rate = FLOOD_RATE;
	setup_with(&l);
}

/* UDP flows tracked for UDP_TIMEOUT_MS, TCP ones for the default 900 s. */
#define UDP_TIMEOUT_MS	50

static void setup_udp_timeout(void)
{
	struct load l = default_load;

	l.udp_timeout_ns = UDP_TIMEOUT_MS * MSEC;
	setup_with(&l);
}

static void teardown(void)
{
	lb_close(&lb);
	free(reals);
	free(ct_fill);
	xdplb_bpf__destroy(skel);
}

TestSuite(packets, .init = setup, .fini = teardown, .timeout = 30);
/* Tests that load other settings name their own .init. */
TestSuite(ct_load, .fini = teardown, .timeout = 30);

/*
 * The same world as an instance of the oldest layout (ABI 6, release
 * 0.6.0), converted by the load step of `xdplb upgrade`: its maps pinned as
 * 0.6.0 pinned them (every map the layouts did not change is the fresh
 * instance's own; the config, the CPUs' connection tables and ct_guard
 * are made as that layout had them), and the program this binary loads for
 * it over them. The tests then follow the converted maps, and packets must
 * meet the same verdicts there as on a fresh instance.
 */
static struct xdplb_bpf *migrated;
static char mig_dir[64];

/* Pin a map made as layout 6 made map name, of entries entries. */
static void pin_v6(const char *name, __u32 entries, const void *value)
{
	const struct layout_map *m = layout_map(layout_get(6), name);
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = m->map_flags);
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd;

	fd = bpf_map_create(m->type, name, m->key_size, m->value_size,
			    entries, &o);
	cr_assert_geq(fd, 0, "create %s: %s", name, strerror(errno));
	if (value)
		cr_assert_eq(bpf_map_update_elem(fd, &zero, value, BPF_ANY),
			     0);
	snprintf(path, sizeof(path), "%s/%s", mig_dir, name);
	cr_assert_eq(bpf_obj_pin(fd, path), 0);
	close(fd);
}

/* lb's fd of a map, from the migrated program's. */
static void follow(int *lb_fd, struct bpf_map *map)
{
	close(*lb_fd);
	*lb_fd = dup(bpf_map__fd(map));
	cr_assert_geq(*lb_fd, 0);
}

static void setup_migrated(void)
{
	struct xdplb_config_v6 v6;
	char err[512], path[PATH_MAX];
	struct bpf_map *map;
	struct statfs st;
	__u32 zero = 0;
	int ret;

	setup();
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)
		cr_skip_test("no bpffs at /sys/fs/bpf");
	snprintf(mig_dir, sizeof(mig_dir), "/sys/fs/bpf/xdplb-test-v6-%d",
		 getpid());
	cr_assert_eq(mkdir(mig_dir, 0700), 0, "mkdir %s: %s", mig_dir,
		     strerror(errno));
	bpf_object__for_each_map(map, skel->obj) {
		const struct layout_map *m6 = bpf_map__is_internal(map) ? NULL :
			layout_map(layout_get(6), bpf_map__name(map));

		/* Those 6 did not have, or had otherwise, are not pinned
		 * here: the ones below stand for them. */
		if (!m6 || m6->value_size != bpf_map__value_size(map) ||
		    !strcmp(bpf_map__name(map), XDPLB_PIN_CONNS))
			continue;
		snprintf(path, sizeof(path), "%s/%s", mig_dir,
			 bpf_map__name(map));
		cr_assert_eq(bpf_obj_pin(bpf_map__fd(map), path), 0);
	}
	/* 0.6.0's config: flows per CPU, all of them on one CPU's share. */
	memcpy(&v6, &lb.cfg, sizeof(v6));
	v6.abi_version = 6;
	v6.ct_size = lb.cfg.ct_size / lb.ncpus >= XDPLB_MIN_CT_SIZE ?
		     lb.cfg.ct_size / lb.ncpus : XDPLB_MIN_CT_SIZE;
	while (v6.ct_size & (v6.ct_size - 1))
		v6.ct_size &= v6.ct_size - 1;
	pin_v6(XDPLB_PIN_CONFIG, 1, &v6);
	pin_v6(XDPLB_PIN_CONNS, lb.ncpus * v6.ct_size / XDPLB_CT_WAYS, NULL);
	pin_v6(XDPLB_PIN_CT_GUARD, 1, NULL);
	ret = upgrade_load(mig_dir, 6, 0, &migrated, err, sizeof(err));
	cr_assert_eq(ret, 0, "upgrade_load: %s", err);
	prog_fd = bpf_program__fd(migrated->progs.xdplb);

	/* What the tests read is the converted instance. */
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(migrated->maps.config),
					 &zero, &lb.cfg), 0);
	follow(&lb.config_fd, migrated->maps.config);
	follow(&lb.conns_fd, migrated->maps.conns);
	follow(&lb.ct_guard_fd, migrated->maps.ct_guard);
	if (lb.ct_map)
		munmap((void *)lb.ct_map, lb.ct_map_len);
	lb.ct_map = NULL;
	ld.ct_sets = lb.cfg.ct_size / XDPLB_CT_WAYS;
	free(ct_fill);
	ct_fill = calloc(ld.ct_sets, 1);
	cr_assert_not_null(ct_fill);
}

static void teardown_migrated(void)
{
	if (mig_dir[0])
		lb_unpin_all(mig_dir, false);
	xdplb_bpf__destroy(migrated);
	migrated = NULL;
	teardown();
}

TestSuite(migrated, .init = setup_migrated, .fini = teardown_migrated,
	  .timeout = 30);

/* Packet builders ---------------------------------------------------------- */

/* A frame and the name of every field in it, so a failure can say which
 * field a byte belongs to. flow is the flow the data path should see. */
struct pkt {
	__u8 data[PKT_MAX];
	__u32 len;
	struct {
		__u16 off, len;
		char name[24];
	} field[MAX_FIELDS];
	int nfields;
	int l3_off, l4_off;	/* -1 when absent */
	__u32 l4_end;		/* end of the TCP/UDP header; of the quoted
				 * ports in an ICMP error */
	__u32 icmp_end;		/* end of an ICMP error's ICMP header */
	int family;
	__u8 l4;
	bool fragment;		/* IPv4 MF or offset, IPv6 fragment header
				 * with M or offset */
	bool frag_first;	/* ... and offset 0: it carries the ports */
	__u32 frag_id;		/* the identification, as frags keys it */
	bool icmp_error;	/* an ICMP message carrying a quote */
	struct xdplb_flow flow;
};

static void put(struct pkt *p, const char *name, const void *v, __u32 n)
{
	cr_assert(p->len + n <= PKT_MAX && p->nfields < MAX_FIELDS);
	memcpy(p->data + p->len, v, n);
	p->field[p->nfields].off = p->len;
	p->field[p->nfields].len = n;
	snprintf(p->field[p->nfields].name, sizeof(p->field[0].name), "%s",
		 name);
	p->nfields++;
	p->len += n;
}

static void put8(struct pkt *p, const char *name, __u8 v)
{
	put(p, name, &v, 1);
}

static void put16(struct pkt *p, const char *name, __u16 v)
{
	__be16 be = htons(v);

	put(p, name, &be, 2);
}

static void put32(struct pkt *p, const char *name, __u32 v)
{
	__be32 be = htonl(v);

	put(p, name, &be, 4);
}

/* Cut the frame at len bytes, fields and all. */
static void cut(struct pkt *p, __u32 len)
{
	int i;

	if (len >= p->len)
		return;
	p->len = len;
	for (i = 0; i < p->nfields; i++) {
		if (p->field[i].off >= len)
			break;
		if (p->field[i].off + p->field[i].len > len)
			p->field[i].len = len - p->field[i].off;
	}
	p->nfields = i;
}

static const char *field_at(const struct pkt *p, __u32 off)
{
	int i;

	for (i = 0; i < p->nfields; i++)
		if (off >= p->field[i].off &&
		    off < (__u32)p->field[i].off + p->field[i].len)
			return p->field[i].name;
	return "?";
}

static void pkt_init(struct pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->l3_off = p->l4_off = -1;
}

static void eth(struct pkt *p, __u16 proto)
{
	put(p, "eth.dst", lb_mac, ETH_ALEN);
	put(p, "eth.src", client_mac, ETH_ALEN);
	put16(p, "eth.proto", proto);
}

static void vlan(struct pkt *p, int n, __u16 tci, __u16 proto)
{
	char name[24];

	snprintf(name, sizeof(name), "vlan[%d].tci", n);
	put16(p, name, tci);
	snprintf(name, sizeof(name), "vlan[%d].proto", n);
	put16(p, name, proto);
}

static void addr_of(int family, const char *s, struct xdplb_addr *a)
{
	memset(a, 0, sizeof(*a));
	cr_assert_eq(inet_pton(family == XDPLB_AF_INET ? AF_INET : AF_INET6,
			       s, a), 1, "bad test address %s", s);
}

/* IPv4 with ihl 32-bit words of header (options after the first 5), the
 * version field as given. Lengths and checksum are set by finish(). */
static void ipv4(struct pkt *p, const char *src, const char *dst, __u8 proto,
		 __u8 version, __u8 ihl, __u16 frag_off, __u16 id)
{
	__u8 opt[40], words = ihl & 0xf;
	int i, optlen = words > 5 ? (words - 5) * 4 : 0;

	p->family = XDPLB_AF_INET;
	p->l3_off = p->len;
	p->flow.family = XDPLB_AF_INET;
	addr_of(XDPLB_AF_INET, src, &p->flow.src);
	addr_of(XDPLB_AF_INET, dst, &p->flow.dst);
	put8(p, "ipv4.version_ihl", version << 4 | words);
	put8(p, "ipv4.tos", 0x10);
	put16(p, "ipv4.tot_len", 0);
	put16(p, "ipv4.id", id);
	p->frag_id = htons(id);
	put16(p, "ipv4.frag_off", frag_off);
	put8(p, "ipv4.ttl", 64);
	put8(p, "ipv4.protocol", proto);
	put16(p, "ipv4.check", 0);
	put(p, "ipv4.saddr", &p->flow.src.v4, 4);
	put(p, "ipv4.daddr", &p->flow.dst.v4, 4);
	if (optlen) {
		/* A record-route option over the whole space. */
		opt[0] = 7;
		opt[1] = optlen - 1;
		opt[2] = 4;
		for (i = 3; i < optlen - 1; i++)
			opt[i] = 0xa0 + i;
		opt[optlen - 1] = 0;	/* end of options */
		put(p, "ipv4.options", opt, optlen);
	}
}

static void ipv6(struct pkt *p, const char *src, const char *dst, __u8 next,
		 __u8 version)
{
	p->family = XDPLB_AF_INET6;
	p->l3_off = p->len;
	p->flow.family = XDPLB_AF_INET6;
	addr_of(XDPLB_AF_INET6, src, &p->flow.src);
	addr_of(XDPLB_AF_INET6, dst, &p->flow.dst);
	put32(p, "ipv6.ver_tc_flow", (__u32)version << 28 | 0x12345);
	put16(p, "ipv6.payload_len", 0);
	put8(p, "ipv6.nexthdr", next);
	put8(p, "ipv6.hop_limit", 64);
	put(p, "ipv6.saddr", p->flow.src.v6, 16);
	put(p, "ipv6.daddr", p->flow.dst.v6, 16);
}

/* One extension header of type `type` followed by `next`. Options headers
 * and the routing header are padded with PadN; the destination options
 * header is 16 bytes, to exercise the length field; AH carries a 12-byte
 * ICV (24 bytes in all). */
static void ipv6_ext(struct pkt *p, __u8 type, __u8 next, __u16 frag_off,
		     __u32 id)
{
	static const __u8 pad[14] = { 1, 12 };
	static const __u8 pad4[6] = { 1, 4 };
	static const __u8 icv[12] = { 0xde, 0xad, 0xbe, 0xef };

	switch (type) {
	case IPPROTO_HOPOPTS:
		put8(p, "ipv6.hopopts.next", next);
		put8(p, "ipv6.hopopts.len", 0);
		put(p, "ipv6.hopopts.opts", pad4, sizeof(pad4));
		break;
	case IPPROTO_DSTOPTS:
		put8(p, "ipv6.dstopts.next", next);
		put8(p, "ipv6.dstopts.len", 1);
		put(p, "ipv6.dstopts.opts", pad, sizeof(pad));
		break;
	case IPPROTO_ROUTING:
		put8(p, "ipv6.routing.next", next);
		put8(p, "ipv6.routing.len", 0);
		put8(p, "ipv6.routing.type", 4);
		put8(p, "ipv6.routing.segleft", 0);
		put32(p, "ipv6.routing.data", 0);
		break;
	case IPPROTO_FRAGMENT:
		put8(p, "ipv6.frag.next", next);
		put8(p, "ipv6.frag.reserved", 0);
		put16(p, "ipv6.frag.frag_off", frag_off);
		put32(p, "ipv6.frag.id", id);
		p->frag_id = htonl(id);
		break;
	case IPPROTO_AH:
		put8(p, "ipv6.ah.next", next);
		put8(p, "ipv6.ah.len", 4);
		put16(p, "ipv6.ah.reserved", 0);
		put32(p, "ipv6.ah.spi", 0x100);
		put32(p, "ipv6.ah.seq", 1);
		put(p, "ipv6.ah.icv", icv, sizeof(icv));
		break;
	default:
		cr_assert_fail("no builder for extension header %u", type);
	}
}

/* Flags of the TCP segments built: ACK, a segment of an established
 * connection; a test sets TCP_SYN to open a new one. */
#define TCP_ACK 0x10
#define TCP_SYN 0x02
static __u16 tcp_flags = TCP_ACK;

static void tcp(struct pkt *p, __u16 sport, __u16 dport)
{
	p->l4_off = p->len;
	p->flow.sport = htons(sport);
	p->flow.dport = htons(dport);
	p->flow.proto = IPPROTO_TCP;
	put16(p, "tcp.source", sport);
	put16(p, "tcp.dest", dport);
	put32(p, "tcp.seq", 0x01020304);
	put32(p, "tcp.ack_seq", 0);
	put16(p, "tcp.doff_flags", 5 << 12 | tcp_flags);
	put16(p, "tcp.window", 65535);
	put16(p, "tcp.check", 0x5a5a);
	put16(p, "tcp.urg_ptr", 0);
	p->l4_end = p->len;
}

static void udp(struct pkt *p, __u16 sport, __u16 dport)
{
	p->l4_off = p->len;
	p->flow.sport = htons(sport);
	p->flow.dport = htons(dport);
	p->flow.proto = IPPROTO_UDP;
	put16(p, "udp.source", sport);
	put16(p, "udp.dest", dport);
	put16(p, "udp.len", 0);
	put16(p, "udp.check", 0x5a5a);
	p->l4_end = p->len;
}

static void icmp_echo(struct pkt *p)
{
	p->l4_off = p->len;
	put8(p, "icmp.type", 8);
	put8(p, "icmp.code", 0);
	put16(p, "icmp.check", 0);
	put16(p, "icmp.id", 0x4242);
	put16(p, "icmp.seq", 1);
}

/* Neighbour solicitation for the target, without options. */
static void icmp6_ns(struct pkt *p, const char *target)
{
	struct xdplb_addr t;

	addr_of(XDPLB_AF_INET6, target, &t);
	p->l4_off = p->len;
	put8(p, "icmp6.type", 135);
	put8(p, "icmp6.code", 0);
	put16(p, "icmp6.check", 0);
	put32(p, "icmp6.reserved", 0);
	put(p, "icmp6.target", t.v6, 16);
}

static void arp_request(struct pkt *p, const char *sender, const char *target)
{
	struct xdplb_addr s, t;
	static const __u8 zero[ETH_ALEN];

	addr_of(XDPLB_AF_INET, sender, &s);
	addr_of(XDPLB_AF_INET, target, &t);
	put16(p, "arp.htype", 1);
	put16(p, "arp.ptype", ETH_P_IP);
	put8(p, "arp.hlen", 6);
	put8(p, "arp.plen", 4);
	put16(p, "arp.op", 1);
	put(p, "arp.sha", client_mac, ETH_ALEN);
	put(p, "arp.spa", &s.v4, 4);
	put(p, "arp.tha", zero, ETH_ALEN);
	put(p, "arp.tpa", &t.v4, 4);
}

static void payload(struct pkt *p, __u32 n)
{
	__u8 b[PKT_MAX];
	__u32 i;

	for (i = 0; i < n; i++)
		b[i] = 0x30 + i % 64;
	if (n)
		put(p, "payload", b, n);
}

/* The one's complement sum of n bytes as 16-bit words, added to sum. */
static __u32 sum16(__u32 sum, const __u8 *b, __u32 n)
{
	__u32 i;

	for (i = 0; i + 1 < n; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	return sum;
}

static __u16 fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __u16 csum(const __u8 *b, __u32 n)
{
	return fold(sum16(0, b, n));
}

/* The ICMPv6 checksum covers a pseudo-header: addresses, length, 58. */
static __u16 csum6(const __u8 *ip6, const __u8 *msg, __u32 n)
{
	__u32 sum = sum16(0, ip6 + 8, 32);

	sum += (n >> 16) + (n & 0xffff) + IPPROTO_ICMPV6;
	return fold(sum16(sum, msg, n));
}

/* Length fields, the IPv4 header checksum and the ICMP checksums. (The
 * data path reads no length or checksum field; they are right so that the
 * frames are.) */
static void finish(struct pkt *p)
{
	__u8 *ip = p->data + p->l3_off;
	__u16 v;

	if (p->l3_off < 0)
		return;
	if (p->family == XDPLB_AF_INET) {
		__u32 hlen = (ip[0] & 0xf) * 4;

		v = htons(p->len - p->l3_off);
		memcpy(ip + 2, &v, 2);
		if (hlen >= 20 && p->l3_off + hlen <= p->len) {
			v = htons(csum(ip, hlen));
			memcpy(ip + 10, &v, 2);
		}
	} else {
		v = htons(p->len - p->l3_off - 40);
		memcpy(ip + 4, &v, 2);
	}
	if (p->l4 == IPPROTO_UDP && p->l4_off >= 0) {
		v = htons(p->len - p->l4_off);
		memcpy(p->data + p->l4_off + 4, &v, 2);
	}
	if (p->l4_off >= 0 && p->len >= p->l4_off + 4U &&
	    (p->l4 == IPPROTO_ICMP || p->l4 == IPPROTO_ICMPV6)) {
		__u8 *msg = p->data + p->l4_off;
		__u32 n = p->len - p->l4_off;

		msg[2] = msg[3] = 0;
		if (p->l4 == IPPROTO_ICMP)
			v = htons(csum(msg, n));
		else
			v = htons(csum6(ip, msg, n));
		memcpy(msg + 2, &v, 2);
	}
}

/* What a case's packet is made of. Zero fields take the defaults: the
 * client's address as source, source port 40000, IP version and IHL right,
 * no tags, no extension headers. */
enum { L3_IPV4 = 1, L3_IPV6, L3_ARP, L3_OTHER };

/* The packet an ICMP message quotes. For an error about a flow, that is a
 * packet a real sent back: from the VIP (the frame's dst, port dport) to
 * the client (port sport), so the flow it belongs to is the quote's,
 * turned around. */
struct quote {
	const char *src, *dst;	/* default: the frame's dst, the client */
	__u8 proto;		/* default IPPROTO_TCP */
	__u8 version;		/* IP version field */
	__u8 ihl;		/* IPv4 header length field, default 5 */
	__u8 len;		/* bytes quoted: 0 is the IP header and 8 */
};

struct spec {
	int l3;
	__u16 ethertype;	/* L3_OTHER, or a lie about the L3 header */
	__u16 tpid[3];		/* VLAN tags, outer first */
	const char *src, *dst;
	__u8 version;		/* IP version field */
	__u8 ihl;		/* IPv4 header length field */
	__u16 frag;		/* IPv4 frag_off field */
	__u16 ext[8];		/* IPv6 extension headers, EH(type) */
	__u16 frag6;		/* frag_off of an IPv6 fragment header */
	__u32 ip_id;		/* identification; 0: 0x1234, IPv6 0xcafe */
	__u8 l4;		/* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, 0 */
	__u8 icmp_type;		/* 0: echo request (ICMP), neighbour
				 * solicitation (ICMPv6); else a message of
				 * this type quoting q, as errors do */
	__u8 icmp_code;
	struct quote q;
	__u16 sport, dport;
	__u16 payload;
};

/* An entry of spec.ext: IPPROTO_HOPOPTS is 0, so a flag marks it used. */
#define EH(type)	(0x100 | IPPROTO_##type)

/*
 * An ICMP or ICMPv6 message of type s->icmp_type quoting s->q: a 20-byte
 * IPv4 header (with NOP options up to its IHL) or a 40-byte IPv6 one, then
 * the first 8 bytes of TCP or UDP, cut to q.len bytes if given. Packet too
 * big and fragmentation needed carry an MTU. The frame's flow becomes the
 * quote's, turned around.
 */
static void icmp_quote(struct pkt *p, const struct spec *s)
{
	const struct quote *q = &s->q;
	bool v4 = p->family == XDPLB_AF_INET;
	__u8 proto = q->proto ? q->proto : IPPROTO_TCP;
	__u16 vport = s->dport, cport = s->sport ? s->sport : 40000;
	__u32 rest = 0, start, i;
	struct xdplb_addr qs, qd;

	if (v4 && s->icmp_type == 3 && s->icmp_code == 4)
		rest = 1400;		/* next-hop MTU */
	else if (!v4 && s->icmp_type == 2)
		rest = 1280;		/* MTU */
	addr_of(p->family, q->src ? q->src : s->dst, &qs);
	addr_of(p->family, q->dst ? q->dst : v4 ? CLIENT4 : CLIENT6, &qd);

	p->l4_off = p->len;
	put8(p, v4 ? "icmp.type" : "icmp6.type", s->icmp_type);
	put8(p, v4 ? "icmp.code" : "icmp6.code", s->icmp_code);
	put16(p, v4 ? "icmp.check" : "icmp6.check", 0);
	put32(p, v4 ? "icmp.rest" : "icmp6.rest", rest);
	p->icmp_end = p->len;

	start = p->len;
	if (v4) {
		__u8 words = q->ihl ? q->ihl : 5;

		put8(p, "quote.ipv4.version_ihl",
		     (q->version ? q->version : 4) << 4 | words);
		put8(p, "quote.ipv4.tos", 0);
		put16(p, "quote.ipv4.tot_len", 1500);
		put16(p, "quote.ipv4.id", 0x4321);
		put16(p, "quote.ipv4.frag_off", 0x4000);	/* DF */
		put8(p, "quote.ipv4.ttl", 63);
		put8(p, "quote.ipv4.protocol", proto);
		put16(p, "quote.ipv4.check", 0);
		put(p, "quote.ipv4.saddr", &qs.v4, 4);
		put(p, "quote.ipv4.daddr", &qd.v4, 4);
		for (i = 5; i < words; i++)
			put32(p, "quote.ipv4.options", 0x01010101);
		if (words >= 5) {
			__u16 v = htons(csum(p->data + start, words * 4));

			memcpy(p->data + start + 10, &v, 2);
		}
	} else {
		put32(p, "quote.ipv6.ver_tc_flow",
		      (__u32)(q->version ? q->version : 6) << 28);
		put16(p, "quote.ipv6.payload_len", 1460);
		put8(p, "quote.ipv6.nexthdr", proto);
		put8(p, "quote.ipv6.hop_limit", 63);
		put(p, "quote.ipv6.saddr", qs.v6, 16);
		put(p, "quote.ipv6.daddr", qd.v6, 16);
	}
	put16(p, "quote.l4.source", vport);
	put16(p, "quote.l4.dest", cport);
	p->l4_end = p->len;
	if (proto == IPPROTO_UDP)
		put32(p, "quote.l4.len_check", 1460 << 16);
	else
		put32(p, "quote.l4.seq", 0x05060708);
	if (q->len)
		cut(p, start + q->len);

	p->flow.src = qd;
	p->flow.dst = qs;
	p->flow.sport = htons(cport);
	p->flow.dport = htons(vport);
	p->flow.proto = proto;
	p->icmp_error = true;
}

static void build(struct pkt *p, const struct spec *s)
{
	__u16 type, tci = 100;
	__u8 next;
	int i, n;

	pkt_init(p);
	switch (s->l3) {
	case L3_IPV4:
		type = ETH_P_IP;
		break;
	case L3_IPV6:
		type = ETH_P_IPV6;
		break;
	case L3_ARP:
		type = ETH_P_ARP;
		break;
	default:
		type = s->ethertype;
	}
	if (s->ethertype)
		type = s->ethertype;

	for (n = 0; n < 3 && s->tpid[n]; n++)
		;
	eth(p, n ? s->tpid[0] : type);
	for (i = 0; i < n; i++)
		vlan(p, i, tci + i, i + 1 < n ? s->tpid[i + 1] : type);

	p->l4 = s->l4;
	switch (s->l3) {
	case L3_IPV4:
		ipv4(p, s->src ? s->src : CLIENT4, s->dst, s->l4,
		     s->version ? s->version : 4, s->ihl ? s->ihl : 5,
		     s->frag, s->ip_id ? s->ip_id : 0x1234);
		break;
	case L3_IPV6:
		ipv6(p, s->src ? s->src : CLIENT6, s->dst,
		     s->ext[0] ? s->ext[0] & 0xff : s->l4,
		     s->version ? s->version : 6);
		for (i = 0; i < 8 && s->ext[i]; i++) {
			next = i + 1 < 8 && s->ext[i + 1] ?
				       s->ext[i + 1] & 0xff : s->l4;
			ipv6_ext(p, s->ext[i] & 0xff, next, s->frag6,
				 s->ip_id ? s->ip_id : 0xcafe);
		}
		break;
	case L3_ARP:
		arp_request(p, CLIENT4, s->dst);
		break;
	default:
		break;
	}

	switch (s->l4) {
	case IPPROTO_TCP:
		tcp(p, s->sport ? s->sport : 40000, s->dport);
		break;
	case IPPROTO_UDP:
		udp(p, s->sport ? s->sport : 40000, s->dport);
		break;
	case IPPROTO_ICMP:
		if (s->icmp_type)
			icmp_quote(p, s);
		else
			icmp_echo(p);
		break;
	case IPPROTO_ICMPV6:
		if (s->icmp_type)
			icmp_quote(p, s);
		else
			icmp6_ns(p, s->dst);
		break;
	default:
		break;
	}
	payload(p, s->payload);
	finish(p);

	if (s->l3 == L3_IPV4) {
		p->fragment = s->frag & 0x3fff;		/* MF, offset */
		p->frag_first = p->fragment && !(s->frag & 0x1fff);
	}
	for (i = 0; s->l3 == L3_IPV6 && i < 8 && s->ext[i]; i++)
		if ((s->ext[i] & 0xff) == IPPROTO_FRAGMENT) {
			p->fragment = s->frag6 & 0xfff9;	/* offset, M */
			p->frag_first = p->fragment && !(s->frag6 & 0xfff8);
		}
}

/* The builders themselves, against lengths and bytes worked out by hand:
 * a packet test is only as good as the frames it sends. */
Test(builders, frames)
{
	static const struct {
		struct spec spec;
		__u32 len;
	} c[] = {
		{ { L3_IPV4, .dst = "10.0.0.1", .l4 = IPPROTO_TCP }, 54 },
		{ { L3_IPV4, .dst = "10.0.0.1", .l4 = IPPROTO_UDP,
		    .payload = 3 }, 45 },
		{ { L3_IPV4, .tpid = { ETH_P_8021AD, ETH_P_8021Q }, .ihl = 15,
		    .dst = "10.0.0.1", .l4 = IPPROTO_UDP }, 90 },
		{ { L3_IPV6, .ext = { EH(HOPOPTS), EH(DSTOPTS) },
		    .dst = "::1", .l4 = IPPROTO_TCP }, 98 },
		{ { L3_IPV6, .ext = { EH(AH) }, .dst = "::1",
		    .l4 = IPPROTO_TCP }, 98 },
		{ { L3_IPV6, .ext = { EH(FRAGMENT) }, .dst = "::1",
		    .l4 = IPPROTO_UDP }, 70 },
		{ { L3_ARP, .dst = "10.0.0.1" }, 42 },
		{ { L3_IPV4, .src = "198.51.100.1", .dst = "10.0.0.1",
		    .l4 = IPPROTO_ICMP, .icmp_type = 3, .icmp_code = 4,
		    .sport = 40000, .dport = 80 }, 70 },
		{ { L3_IPV6, .src = "2001:db8:ff::1", .dst = "2001:db8::1",
		    .l4 = IPPROTO_ICMPV6, .icmp_type = 2, .dport = 53,
		    .q = { .proto = IPPROTO_UDP }, .payload = 4 }, 114 },
		{ { L3_IPV4, .dst = "10.0.0.1", .l4 = IPPROTO_ICMP,
		    .icmp_type = 11, .dport = 80,
		    .q = { .ihl = 6, .len = 25 } }, 67 },
	};
	struct xdplb_flow want = { .family = XDPLB_AF_INET };
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		build(&p, &c[i].spec);
		cr_expect_eq(p.len, c[i].len, "frame %zu: %u bytes, want %u", i,
			     p.len, c[i].len);
	}

	/* IPv6, hop-by-hop (next header 0), destination options, TCP. */
	build(&p, &c[3].spec);
	cr_expect_eq(p.data[12] << 8 | p.data[13], ETH_P_IPV6);
	cr_expect_eq(p.data[14] >> 4, 6);
	cr_expect_eq(p.data[14 + 4] << 8 | p.data[14 + 5], 98 - 54,
		     "payload length");
	cr_expect_eq(p.data[14 + 6], IPPROTO_HOPOPTS);
	cr_expect_eq(p.data[54], IPPROTO_DSTOPTS);
	cr_expect_eq(p.data[62], IPPROTO_TCP);
	cr_expect_eq(p.data[63], 1, "dstopts length, 8-byte units less one");
	cr_expect_eq(p.data[78 + 12] >> 4, 5, "tcp data offset");

	/* QinQ, IPv4 with options: tags, header length, checksum. */
	build(&p, &c[2].spec);
	cr_expect_eq(p.data[12] << 8 | p.data[13], ETH_P_8021AD);
	cr_expect_eq(p.data[16] << 8 | p.data[17], ETH_P_8021Q);
	cr_expect_eq(p.data[20] << 8 | p.data[21], ETH_P_IP);
	cr_expect_eq(p.data[22], 0x4f);
	cr_expect_eq(p.data[24] << 8 | p.data[25], 68, "tot_len");
	cr_expect_eq(csum(p.data + 22, 60), 0, "IPv4 header checksum");
	cr_expect_eq(p.data[82 + 4] << 8 | p.data[82 + 5], 8, "udp.len");

	/* ICMP fragmentation needed from a router to the VIP, quoting the
	 * VIP's TCP segment to the client: the flow is client -> VIP. */
	build(&p, &c[7].spec);
	cr_expect_eq(p.data[23], IPPROTO_ICMP);
	cr_expect_eq(p.data[34], 3, "icmp.type");
	cr_expect_eq(p.data[35], 4, "icmp.code");
	cr_expect_eq(p.data[40] << 8 | p.data[41], 1400, "next-hop MTU");
	cr_expect_eq(csum(p.data + 34, 36), 0, "ICMP checksum");
	cr_expect_eq(p.data[42], 0x45, "quote: version and IHL");
	cr_expect_eq(p.data[51], IPPROTO_TCP, "quote: protocol");
	cr_expect_eq(csum(p.data + 42, 20), 0, "quote: header checksum");
	cr_expect_eq(memcmp(p.data + 54, p.data + 30, 4), 0,
		     "quote: source is the frame's destination (the VIP)");
	cr_expect_eq(p.data[62] << 8 | p.data[63], 80, "quote: VIP port");
	cr_expect_eq(p.data[64] << 8 | p.data[65], 40000, "quote: client");
	cr_expect_eq(p.l4_end, 66u);
	cr_expect_eq(p.icmp_end, 42u);
	addr_of(XDPLB_AF_INET, CLIENT4, &want.src);
	addr_of(XDPLB_AF_INET, "10.0.0.1", &want.dst);
	want.sport = htons(40000);
	want.dport = htons(80);
	want.proto = IPPROTO_TCP;
	cr_expect_eq(memcmp(&p.flow, &want, sizeof(want)), 0, "ICMP flow");
	cr_expect(p.icmp_error && !p.fragment);

	/* ICMPv6 packet too big, quoting UDP, 4 more bytes quoted. */
	build(&p, &c[8].spec);
	cr_expect_eq(p.data[20], IPPROTO_ICMPV6);
	cr_expect_eq(p.data[54], 2, "icmp6.type");
	cr_expect_eq(p.data[58] << 24 | p.data[59] << 16 |
		     p.data[60] << 8 | p.data[61], 1280, "MTU");
	cr_expect_eq(csum6(p.data + 14, p.data + 54, 60), 0,
		     "ICMPv6 checksum");
	cr_expect_eq(p.data[62] >> 4, 6, "quote: version");
	cr_expect_eq(p.data[68], IPPROTO_UDP, "quote: next header");
	cr_expect_eq(memcmp(p.data + 70, p.data + 38, 16), 0,
		     "quote: source is the frame's destination");
	cr_expect_eq(p.data[102] << 8 | p.data[103], 53, "quote: VIP port");

	/* A quote cut to 25 bytes: 24 of IPv4 header with options, then
	 * the first byte of the source port. */
	build(&p, &c[9].spec);
	cr_expect_eq(p.data[42], 0x46);
	cr_expect_eq(csum(p.data + 42, 24), 0, "quote: header checksum");
	cr_expect_eq(p.data[66], 0, "quote: first byte of port 80");
	cr_expect_str_eq(field_at(&p, 66), "quote.l4.source");
}

/* Fragments, and what the builder calls one. */
Test(builders, fragments)
{
	static const struct {
		struct spec spec;
		bool fragment;
	} c[] = {
		{ { L3_IPV4, .dst = "10.0.0.1", .l4 = IPPROTO_TCP,
		    .frag = 0x4000 }, false },
		{ { L3_IPV4, .dst = "10.0.0.1", .l4 = IPPROTO_TCP,
		    .frag = 0x2000 }, true },
		{ { L3_IPV4, .dst = "10.0.0.1", .l4 = IPPROTO_TCP,
		    .frag = 185 }, true },
		{ { L3_IPV6, .ext = { 0x100 | IPPROTO_FRAGMENT },
		    .dst = "::1", .l4 = IPPROTO_UDP }, false },
		{ { L3_IPV6, .ext = { 0x100 | IPPROTO_FRAGMENT },
		    .frag6 = 1, .dst = "::1", .l4 = IPPROTO_UDP }, true },
		{ { L3_IPV6, .ext = { 0x100 | IPPROTO_FRAGMENT },
		    .frag6 = 100 << 3, .dst = "::1", .l4 = IPPROTO_UDP },
		  true },
	};
	struct pkt p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		build(&p, &c[i].spec);
		cr_expect_eq(p.fragment, c[i].fragment, "frame %zu", i);
	}
	build(&p, &c[2].spec);
	cr_expect_eq(p.data[20] << 8 | p.data[21], 185, "ipv4.frag_off");
	build(&p, &c[5].spec);
	cr_expect_eq(p.data[54], IPPROTO_UDP, "ipv6.frag.next");
	cr_expect_eq(p.data[56] << 8 | p.data[57], 800, "ipv6.frag.frag_off");
}

/* Running and checking ----------------------------------------------------- */


#define GS_NAME(f) { offsetof(struct xdplb_global_stats, f), #f },
static const struct {
	size_t off;
	const char *name;
} gs_fields[] = { XDPLB_GLOBAL_STATS(GS_NAME) };

/* A counter added to the data path and not here would go unchecked. */
_Static_assert(sizeof(gs_fields) / sizeof(gs_fields[0]) ==
	       sizeof(struct xdplb_global_stats) / sizeof(__u64),
	       "XDPLB_GLOBAL_STATS must list every global counter");

#define GS(gs, i) (*(__u64 *)((char *)(gs) + gs_fields[i].off))
#define CNT(f) offsetof(struct xdplb_global_stats, f)

/* What the connection table makes of a packet, and the counters that
 * say so. */
enum ct_how {
	CT_AUTO,	/* (expect) whatever the table and service call for */
	CT_NONE,	/* not looked up: not forwarded, or a later
			 * fragment */
	CT_HIT,		/* tracked: to its real; ct_hit */
	CT_NEW,		/* untracked: placed by Maglev, tracked; ct_new */
	CT_RENEW,	/* tracked but stale: placed again, tracked;
			 * ct_expired and ct_new */
	CT_FLOOD,	/* untracked: placed, over the rate cap; ct_flood */
	CT_OPS,		/* one-packet scheduling: placed; ct_ops */
	CT_MISS,	/* untracked: an ICMP error placed by Maglev, or a
			 * service with no real; nothing tracked */
	CT_FRESH,	/* a SYN of a tracked flow: a new connection on a
			 * reused port, placed again in its way; ct_new */
	CT_FULL,	/* untracked: placed, its set holds four live
			 * confirmed flows (ct_guard's full) */
};

static const char *const ct_names[] = {
	[CT_AUTO] = "?",
	[CT_NONE] = "not looked up",
	[CT_HIT] = "a hit",
	[CT_NEW] = "new",
	[CT_RENEW] = "stale, placed again",
	[CT_FLOOD] = "over the rate cap",
	[CT_OPS] = "one-packet scheduled",
	[CT_MISS] = "placed, not tracked",
	[CT_FRESH] = "a SYN, placed again",
	[CT_FULL] = "placed, not tracked: its set is full",
};

struct expect {
	__u32 action;
	size_t counter;		/* the global counter of the verdict */
	int svc;		/* XDP_TX: the service, S_* */
	int ct;			/* CT_*: what the table must do */
};

#define TX(s)		{ XDP_TX, CNT(tx_packets), s, CT_AUTO }
#define TXCT(s, how)	{ XDP_TX, CNT(tx_packets), s, how }
#define PASS(f)		{ XDP_PASS, CNT(f), -1, CT_AUTO }
#define DROP(f)		{ XDP_DROP, CNT(f), -1, CT_AUTO }

/* What happened to one packet. */
struct result {
	__u32 action;
	__u32 len;
	__u8 out[PKT_MAX];
	int svc, real;		/* XDP_TX: service and real it went to */
	__u32 id;		/* XDP_TX: the real's id */
	int ct;			/* CT_*: what the table made of it */
};

static const char *action_name(__u32 a)
{
	switch (a) {
	case XDP_ABORTED:
		return "XDP_ABORTED";
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	default:
		return "?";
	}
}

static const char *counter_name(size_t off)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(gs_fields); i++)
		if (gs_fields[i].off == off)
			return gs_fields[i].name;
	return "?";
}

static void global(struct xdplb_global_stats *gs)
{
	int err = lb_global(&lb, gs);

	cr_assert_eq(err, 0, "lb_global: %s", strerror(-err));
}

static struct xdplb_counters counters(int fd, __u32 id)
{
	struct xdplb_counters c;
	int err = lb_counters(&lb, fd, id, &c);

	cr_assert_eq(err, 0, "lb_counters: %s", strerror(-err));
	return c;
}

/* The real in a slot of service s's Maglev table, XDPLB_NO_REAL without
 * a table. */
static __u32 maglev_at(int s, __u32 slot)
{
	__u32 real;
	int err = lb_maglev_real(&lb, svc_id[s], slot, &real);

	cr_assert_eq(err, 0, "lb_maglev_real: %s", strerror(-err));
	return real;
}

/* The real Maglev places a flow of service s on: the flow hash (of the
 * client address alone for src-ip services), the slot, and the slot's
 * entry in the service's inner table. XDPLB_NO_REAL without a table. */
static __u32 predict(const struct xdplb_flow *flow, int s)
{
	__u32 hash;

	if (svc_defs[s].flags & XDPLB_SVC_F_HASH_SRC)
		hash = xdplb_src_hash(flow, SEED);
	else
		hash = xdplb_flow_hash(flow, SEED);
	return maglev_at(s, xdplb_maglev_slot(hash, svc_rec[s].table_size));
}

/* The connection table ----------------------------------------------------- */

/* The set a flow lives in. */
static __u32 ct_set_of(const struct xdplb_flow *f)
{
	return xdplb_flow_hash(f, SEED) & (ld.ct_sets - 1);
}

/* One set of the table, which every CPU shares. */
static void ct_read(__u32 set, struct lb_conn_ways *ways)
{
	int err = lb_conn_set(&lb, set, ways);

	cr_assert_eq(err, 0, "conns[%u]: %s", set, strerror(-err));
}

/* The way holding the flow, or -1. */
static int ct_way(const struct lb_conn_ways *set,
		  const struct xdplb_flow *f)
{
	int i;

	for (i = 0; i < XDPLB_CT_WAYS; i++)
		if (set->way[i].flow.family &&
		    !memcmp(&set->way[i].flow, f, sizeof(*f)))
			return i;
	return -1;
}

/* The entry of a flow: false when it is not tracked. */
static bool ct_entry(const struct xdplb_flow *f, struct lb_conn *c)
{
	int way;

	ct_read(ct_set_of(f), &ct_buf[0]);
	way = ct_way(&ct_buf[0], f);
	if (way < 0)
		return false;
	*c = ct_buf[0].way[way];
	return true;
}

/* The connection table keeps time in ticks (xdplb.h): now, and a
 * protocol's timeout as the data path has it, rounded up to ticks. */
#define CT_TICK	(1ull << XDPLB_CT_TICK_SHIFT)

static __u64 tick_now(void)
{
	return lb_now_ns() / CT_TICK * CT_TICK;
}

/*
 * The earliest time a packet run after tick_now() may record: the data
 * path reads the coarse clock once a jiffy (ct_clock), and jiffies move
 * a moment before the coarse clock does, so a packet at a jiffy's start
 * can keep the time of the tick before for that jiffy.
 */
static __u64 tick_floor(__u64 t0)
{
	return t0 - CT_TICK;
}

static __u64 ct_timeout(const struct xdplb_flow *f)
{
	return XDPLB_CT_TICKS(f->proto == IPPROTO_UDP ? ld.udp_timeout_ns :
						       ld.tcp_timeout_ns) * CT_TICK;
}

/* Why an entry no longer holds for a flow of service s (NULL: it does):
 * its real slot must be in use by the same real (generation) of the same
 * service, and the flow not idle past its protocol's timeout. */
static const char *ct_stale(const struct lb_conn *c, int s, __u64 now)
{
	const struct xdplb_real *real;

	if (c->real_id >= XDPLB_MAX_REALS)
		return "real id out of range";
	real = &reals[c->real_id];
	if (!(real->flags & XDPLB_REAL_F_USED))
		return "its real is deleted";
	if (real->gen != c->real_gen)
		return "its real's slot has a new real";
	if (s < 0 || real->svc_id != svc_id[s])
		return "its real is another service's";
	if (now - c->last_seen > ct_timeout(&c->flow))
		return "idle past the timeout";
	return NULL;
}

/* The way a new entry takes (xdplb.h): the first empty or idled-out
 * one, else the least recently used of those not confirmed; -1 when
 * every way holds a live confirmed flow. */
static int ct_victim(const struct lb_conn_ways *set, __u64 now)
{
	const struct lb_conn *w = set->way;
	int i, lru = -1;

	for (i = 0; i < XDPLB_CT_WAYS; i++) {
		if (!w[i].flow.family ||
		    now - w[i].last_seen > ct_timeout(&w[i].flow))
			return i;
		if ((w[i].tag & XDPLB_CT_TAG_CONFIRMED) ||
		    (lru >= 0 && w[i].last_seen >= w[lru].last_seen))
			continue;
		lru = i;
	}
	return lru;
}

/* How stale a last use gets before a hit writes it again, in ns. */
static __u64 ct_refresh(const struct xdplb_flow *f)
{
	return xdplb_ct_refresh(ct_timeout(f) / CT_TICK) * CT_TICK;
}

/*
 * The flow's set after a packet. A hit confirmed its entry and refreshed
 * its last use if that was older than the refresh interval
 * (xdplb_ct_refresh()); a new flow took the way ct_victim() names, a
 * stale one or a SYN's its own way, unconfirmed, with the real it went
 * to. Nothing else changed; nothing at all for packets that track nothing.
 */
static bool ct_after(const char *desc, const struct pkt *p, int how,
		     const struct lb_conn_ways *s0,
		     const struct lb_conn_ways *s1, __u32 id, __u64 t0,
		     __u64 t1)
{
	int way0 = ct_way(s0, &p->flow), way = -1, i;
	__u16 key = xdplb_ct_tag(xdplb_flow_hash(&p->flow, SEED),
				 p->flow.proto);
	const struct lb_conn *c;
	bool ok = true;

	if (how == CT_HIT || how == CT_NEW || how == CT_RENEW ||
	    how == CT_FRESH) {
		way = ct_way(s1, &p->flow);
		if (way < 0) {
			cr_expect_fail("%s: the flow is not tracked after the "
				       "packet (%s)", desc, ct_names[how]);
			return false;
		}
		c = &s1->way[way];
		if (how == CT_NEW && way != ct_victim(s0, t0)) {
			cr_expect_fail("%s: new flow took way %d, want %d",
				       desc, way, ct_victim(s0, t0));
			ok = false;
		}
		if (how != CT_NEW && way != way0) {
			cr_expect_fail("%s: tracked flow moved from way %d to "
				       "%d", desc, way0, way);
			ok = false;
		}
		if (c->real_id != id || c->real_gen != reals[id].gen) {
			cr_expect_fail("%s: tracked to real %u gen %u, want "
				       "%u gen %u", desc, c->real_id,
				       c->real_gen, id, reals[id].gen);
			ok = false;
		}
		if (how == CT_HIT) {
			const struct lb_conn *o = &s0->way[way0];
			__u64 r = ct_refresh(&p->flow);

			if (c->created != o->created) {
				cr_expect_fail("%s: a hit changed the entry's "
					       "creation time", desc);
				ok = false;
			}
			if ((t0 - o->last_seen >= r &&
			     (c->last_seen < tick_floor(t0) || c->last_seen > t1)) ||
			    (t1 - o->last_seen < r &&
			     c->last_seen != o->last_seen)) {
				cr_expect_fail("%s: last seen %llu, was %llu: "
					       "the packet ran in [%llu, "
					       "%llu], refreshing after %llu",
					       desc,
					       (unsigned long long)c->last_seen,
					       (unsigned long long)o->last_seen,
					       (unsigned long long)t0,
					       (unsigned long long)t1,
					       (unsigned long long)r);
				ok = false;
			}
			if (c->tag != (key | XDPLB_CT_TAG_CONFIRMED)) {
				cr_expect_fail("%s: after a hit the tag is %#x, "
					       "want %#x (confirmed)", desc,
					       c->tag,
					       key | XDPLB_CT_TAG_CONFIRMED);
				ok = false;
			}
		} else {
			if (c->created != c->last_seen || c->created < tick_floor(t0) ||
			    c->created > t1) {
				cr_expect_fail("%s: entry created %llu, last "
					       "seen %llu, want both in [%llu, "
					       "%llu]", desc,
					       (unsigned long long)c->created,
					       (unsigned long long)c->last_seen,
					       (unsigned long long)t0,
					       (unsigned long long)t1);
				ok = false;
			}
			if (c->tag != key) {
				cr_expect_fail("%s: a new entry's tag is %#x, "
					       "want %#x (unconfirmed)", desc,
					       c->tag, key);
				ok = false;
			}
		}
	}
	for (i = 0; i < XDPLB_CT_WAYS; i++) {
		if (i == way || !memcmp(&s0->way[i], &s1->way[i],
					sizeof(s0->way[i])))
			continue;
		cr_expect_fail("%s: way %d of set %u changed (%s)", desc, i,
			       ct_set_of(&p->flow), ct_names[how]);
		ok = false;
	}
	return ok;
}

/* Run the first len bytes of p through the program once. */
static int run(const struct pkt *p, __u32 len, struct result *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->data,
		    .data_size_in = len, .data_out = r->out,
		    .data_size_out = sizeof(r->out), .repeat = 1);
	int err;

	memset(r, 0, sizeof(*r));
	r->svc = r->real = -1;
	r->id = XDPLB_NO_REAL;
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return err;
	r->action = opts.retval;
	r->len = opts.data_size_out;
	return 0;
}

/* Which of our reals has this MAC: sets r->svc, r->real and r->id. */
static void who(struct result *r)
{
	int s, i;
	__u8 mac[ETH_ALEN];

	for (s = 0; s < N_SVC; s++)
		for (i = 0; i < n_real[s]; i++) {
			real_mac(s, i, mac);
			if (!memcmp(mac, r->out, ETH_ALEN)) {
				r->svc = s;
				r->real = i;
				r->id = real_id[s][i];
			}
		}
}

/* Fragments ---------------------------------------------------------------- */

/* A fragment after the first: no ports, it follows its datagram. */
static bool later_frag(const struct pkt *p)
{
	return p->fragment && !p->frag_first;
}

/* The frags key of p's datagram: addresses, identification, and IPv4's
 * protocol (an IPv6 datagram is named without one, RFC 8200). */
static void frag_key_of(const struct pkt *p, struct xdplb_frag_key *k)
{
	memset(k, 0, sizeof(*k));
	k->src = p->flow.src;
	k->dst = p->flow.dst;
	k->id = p->frag_id;
	k->proto = p->flow.family == XDPLB_AF_INET ? p->flow.proto : 0;
	k->family = p->flow.family;
}

/* The frags entry of p's datagram, if there is one. */
static bool frag_entry(const struct pkt *p, struct xdplb_frag *f)
{
	struct xdplb_frag_key k;

	frag_key_of(p, &k);
	return !bpf_map_lookup_elem(bpf_map__fd(skel->maps.frags), &k, f);
}

/* Whether p, a later fragment, goes where its first went (in *id): the
 * entry is there, its real is as it was, and the first is recent. */
static bool frag_follows(const struct pkt *p, __u32 *id)
{
	struct xdplb_frag f;
	struct xdplb_real r;

	if (!frag_entry(p, &f) ||
	    bpf_map_lookup_elem(bpf_map__fd(skel->maps.reals), &f.real_id,
				&r) ||
	    !(r.flags & XDPLB_REAL_F_USED) || r.gen != f.real_gen ||
	    lb_now_ns() - f.first_ns > XDPLB_FRAG_TIMEOUT * NSEC)
		return false;
	*id = f.real_id;
	return true;
}

/* Forget every datagram. */
static void frags_clear(void)
{
	int fd = bpf_map__fd(skel->maps.frags);
	struct xdplb_frag_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		cr_assert_eq(bpf_map_delete_elem(fd, &k), 0);
}

/*
 * What the connection table must make of p, given the flow's way in its
 * set (-1: not there), why that entry is stale, and the way a new flow
 * would take (-1: none).
 */
static int ct_expect(const struct pkt *p, const struct expect *e, int way,
		     const char *stale, int victim)
{
	if (e->action == XDP_TX && later_frag(p))
		return CT_NONE;	/* after its first, or by client address */
	if (e->action != XDP_TX && e->counter != CNT(drop_no_real))
		return CT_NONE;
	if (way >= 0 && e->action == XDP_TX && !p->icmp_error &&
	    p->flow.proto == IPPROTO_TCP && !later_frag(p) &&
	    (tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		return CT_FRESH;
	if (way >= 0 && !stale)
		return CT_HIT;
	if (p->icmp_error || e->action != XDP_TX)
		return CT_MISS;
	if ((svc_defs[e->svc].flags & XDPLB_SVC_F_OPS) &&
	    p->flow.proto == IPPROTO_UDP)
		return CT_OPS;
	if (way < 0 && victim < 0)
		return CT_FULL;
	if (e->ct == CT_FLOOD)		/* the table cannot tell */
		return CT_FLOOD;
	return way >= 0 ? CT_RENEW : CT_NEW;
}

/*
 * Run the first len bytes of p and check the verdict, the output, the
 * global counters and the connection table against e. Returns true when
 * everything matched; every mismatch is reported with the case and the
 * field.
 */
static bool check(const char *desc, const struct pkt *p, __u32 len,
		  const struct expect *e, struct result *r)
{
	struct xdplb_global_stats before, after, want = {};
	__u32 set = ct_set_of(&p->flow), id = XDPLB_NO_REAL;
	const struct lb_conn_ways *mine;
	__u8 expected[PKT_MAX];
	const char *stale = NULL;
	int err, way, how;
	bool ok = true, follows = false;
	struct xdplb_frag fe;
	__u64 t0, t1;
	size_t i;

	/* Where the flow must go, as the connection table has it. */
	ct_read(set, &ct_buf[0]);
	mine = &ct_buf[0];
	way = ct_way(mine, &p->flow);
	t0 = tick_now();
	if (way >= 0)
		stale = ct_stale(&mine->way[way], e->svc, t0);
	how = ct_expect(p, e, way, stale, ct_victim(mine, t0));
	if (e->ct != CT_AUTO && e->ct != how) {
		cr_expect_fail("%s: the connection table %s%s%s, so the flow "
			       "would be %s; the test expects it %s", desc,
			       way < 0 ? "does not hold it" : "holds it",
			       stale ? ", stale: " : "", stale ? stale : "",
			       ct_names[how], ct_names[e->ct]);
		ok = false;
	}
	if (how == CT_HIT)
		id = mine->way[way].real_id;
	else if (e->action == XDP_TX && later_frag(p) && frag_follows(p, &id))
		follows = true;
	else if (e->action == XDP_TX)
		id = predict(&p->flow, e->svc);

	global(&before);
	err = run(p, len, r);
	cr_assert_eq(err, 0, "%s: bpf_prog_test_run_opts: %s", desc,
		     strerror(-err));
	t1 = tick_now();
	global(&after);
	r->ct = how;

	if (r->action != e->action) {
		cr_expect_fail("%s (%u bytes): verdict %s, want %s (%s)",
			       desc, len, action_name(r->action),
			       action_name(e->action),
			       counter_name(e->counter));
		ok = false;
	}
	if (r->len != len) {
		cr_expect_fail("%s: output is %u bytes, input %u", desc, r->len,
			       len);
		ok = false;
	}

	/* The expected output. */
	memcpy(expected, p->data, len);
	if (e->action == XDP_TX) {
		if (id >= XDPLB_MAX_REALS) {
			cr_expect_fail("%s: service %s has no real to predict",
				       desc, svc_defs[e->svc].vip);
			return false;
		}
		memcpy(expected, reals[id].mac, ETH_ALEN);
		memcpy(expected + ETH_ALEN, lb_mac, ETH_ALEN);
		who(r);
		if (r->action == XDP_TX && r->svc != e->svc) {
			cr_expect_fail("%s: went to %s%s, want a real of %s",
				       desc,
				       r->svc < 0 ? "an unknown MAC" :
						    "a real of ",
				       r->svc < 0 ? "" : svc_defs[r->svc].vip,
				       svc_defs[e->svc].vip);
			ok = false;
		}
	}
	for (i = 0; i < len && i < r->len; i++) {
		if (r->out[i] == expected[i])
			continue;
		cr_expect_fail("%s: byte %zu (%s) is 0x%02x, want 0x%02x%s",
			       desc, i, field_at(p, i), r->out[i], expected[i],
			       i >= ETH_ALEN || e->action != XDP_TX ? "" :
			       how == CT_HIT ? " (the tracked real's MAC)" :
					       " (the predicted real's MAC)");
		ok = false;
		break;
	}

	/* One packet in, one verdict counted, and how the real was found. */
	GS(&want, 0) = 1;
	GS(&want, 1) = len;
	*(__u64 *)((char *)&want + e->counter) += 1;
	if (e->action == XDP_TX)
		want.tx_bytes = len;
	want.ct_hit = how == CT_HIT;
	want.ct_new = how == CT_NEW || how == CT_RENEW || how == CT_FRESH;
	want.ct_flood = how == CT_FLOOD;
	want.ct_ops = how == CT_OPS;
	want.ct_expired = how != CT_NONE && how != CT_HIT &&
			  how != CT_FRESH && way >= 0;
	want.frag_first = e->action == XDP_TX && p->frag_first &&
			  !p->icmp_error;
	want.frag_fwd = e->action == XDP_TX && later_frag(p) && follows;
	want.frag_src_ip = e->action == XDP_TX && later_frag(p) && !follows;
	want.icmp_fwd = e->action == XDP_TX && !later_frag(p) &&
			p->icmp_error;
	for (i = 0; i < ARRAY_SIZE(gs_fields); i++) {
		__u64 d = GS(&after, i) - GS(&before, i);

		if (d != GS(&want, i)) {
			cr_expect_fail("%s: counter %s moved by %llu, "
				       "want %llu", desc, gs_fields[i].name,
				       (unsigned long long)d,
				       (unsigned long long)GS(&want, i));
			ok = false;
		}
	}

	/* A first fragment forwarded: its datagram's later ones follow. */
	if (r->action == XDP_TX && want.frag_first &&
	    (!frag_entry(p, &fe) || fe.real_id != r->id)) {
		cr_expect_fail("%s: frags does not send the datagram's later "
			       "fragments to real %u", desc, r->id);
		ok = false;
	}

	/* What the packet left in the connection table. */
	if (r->action == e->action) {
		ct_read(set, &ct_buf[1]);
		ok &= ct_after(desc, p, how, &ct_buf[0], &ct_buf[1], id, t0,
			       t1);
	}
	return ok;
}

/* The table ---------------------------------------------------------------- */

#define VIP4	"10.0.0.1"
#define VIP4B	"10.0.0.2"
#define VIP6	"2001:db8::1"
#define VIP4S	"10.0.0.6"	/* src-ip TCP service */
#define VIP6S	"2001:db8::6"	/* src-ip UDP service */
#define VIP4O	"10.0.0.7"	/* one-packet-scheduling UDP service */
#define VIP4C	"10.0.0.8"	/* S_CHURN */
#define OTHER4	"10.9.9.9"
#define OTHER6	"2001:db8:9::9"
#define V4	.l3 = L3_IPV4
#define V6	.l3 = L3_IPV6
#define TCP	.l4 = IPPROTO_TCP
#define UDP	.l4 = IPPROTO_UDP
#define QINQ	.tpid = { ETH_P_8021AD, ETH_P_8021Q }
/* An ICMP message from a router, of type t and code c; errors quote a
 * packet from the VIP (.dst, port .dport) to the client (port .sport). */
#define ICMP4(t, c)	.src = ROUTER4, .l4 = IPPROTO_ICMP, .icmp_type = t, \
			.icmp_code = c
#define ICMP6(t, c)	.src = ROUTER6, .l4 = IPPROTO_ICMPV6, \
			.icmp_type = t, .icmp_code = c

struct pcase {
	const char *desc;
	struct spec spec;
	struct expect expect;
};

static const struct pcase cases[] = {
	/* To a service: forwarded, only the MACs change. */
	{ "IPv4 TCP to a service",
	  { V4, .dst = VIP4, TCP, .dport = 80, .payload = 32 },
	  TX(S_V4_TCP) },
	{ "IPv4 UDP to a service",
	  { V4, .dst = VIP4, UDP, .dport = 53, .payload = 40 },
	  TX(S_V4_UDP) },
	{ "IPv6 TCP to a service",
	  { V6, .dst = VIP6, TCP, .dport = 80, .payload = 32 },
	  TX(S_V6_TCP) },
	{ "IPv6 UDP to a service",
	  { V6, .dst = VIP6, UDP, .dport = 53, .payload = 7 },
	  TX(S_V6_UDP) },
	{ "IPv4 TCP to a service, the same flow again",
	  { V4, .dst = VIP4, TCP, .dport = 80, .payload = 1 },
	  TXCT(S_V4_TCP, CT_HIT) },
	{ "IPv6 UDP to a service, the same flow again",
	  { V6, .dst = VIP6, UDP, .dport = 53 },
	  TXCT(S_V6_UDP, CT_HIT) },
	{ "TCP to a src-ip service",
	  { V4, .dst = VIP4S, TCP, .dport = 80, .payload = 12 },
	  TXCT(S_SRC4, CT_NEW) },
	{ "IPv6 UDP to a src-ip service",
	  { V6, .dst = VIP6S, UDP, .dport = 53, .payload = 12 },
	  TXCT(S_SRC6, CT_NEW) },
	{ "UDP to a one-packet-scheduling service",
	  { V4, .dst = VIP4O, UDP, .dport = 53, .payload = 20 },
	  TXCT(S_OPS, CT_OPS) },
	{ "UDP to a one-packet-scheduling service, again",
	  { V4, .dst = VIP4O, UDP, .dport = 53, .payload = 20 },
	  TXCT(S_OPS, CT_OPS) },
	{ "IPv4 TCP, no payload",
	  { V4, .dst = VIP4, TCP, .dport = 80, .sport = 1 },
	  TX(S_V4_TCP) },
	{ "IPv4 TCP, DF set (not a fragment)",
	  { V4, .dst = VIP4, TCP, .dport = 80, .frag = 0x4000 },
	  TX(S_V4_TCP) },
	{ "802.1Q, IPv4 TCP",
	  { V4, .tpid = { ETH_P_8021Q }, .dst = VIP4, TCP, .dport = 80,
	    .payload = 10 },
	  TX(S_V4_TCP) },
	{ "802.1ad only, IPv4 UDP",
	  { V4, .tpid = { ETH_P_8021AD }, .dst = VIP4, UDP, .dport = 53 },
	  TX(S_V4_UDP) },
	{ "QinQ (802.1ad + 802.1Q), IPv4 TCP",
	  { V4, QINQ, .dst = VIP4, TCP, .dport = 80, .payload = 10 },
	  TX(S_V4_TCP) },
	{ "QinQ (802.1ad + 802.1Q), IPv6 UDP",
	  { V6, QINQ, .dst = VIP6, UDP, .dport = 53, .payload = 10 },
	  TX(S_V6_UDP) },
	{ "three VLAN tags: passed",
	  { V4, .tpid = { ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021Q },
	    .dst = VIP4, TCP, .dport = 80 },
	  PASS(pass_not_ip) },
	{ "IPv4 IHL 6 (4 bytes of options)",
	  { V4, .ihl = 6, .dst = VIP4, TCP, .dport = 80, .payload = 8 },
	  TX(S_V4_TCP) },
	{ "IPv4 IHL 15 (40 bytes of options)",
	  { V4, .ihl = 15, .dst = VIP4, UDP, .dport = 53, .payload = 8 },
	  TX(S_V4_UDP) },
	{ "IPv4 IHL 15 in QinQ",
	  { V4, QINQ, .ihl = 15, .dst = VIP4, TCP, .dport = 80 },
	  TX(S_V4_TCP) },
	{ "IPv6 hop-by-hop + destination options, TCP",
	  { V6, .ext = { EH(HOPOPTS), EH(DSTOPTS) }, .dst = VIP6,
	    TCP, .dport = 80, .payload = 16 },
	  TX(S_V6_TCP) },
	{ "IPv6 routing header, UDP",
	  { V6, .ext = { EH(ROUTING) }, .dst = VIP6, UDP, .dport = 53 },
	  TX(S_V6_UDP) },
	{ "IPv6 AH (24 bytes), TCP",
	  { V6, .ext = { EH(AH) }, .dst = VIP6, TCP, .dport = 80 },
	  TX(S_V6_TCP) },
	{ "IPv6 atomic fragment (offset 0, M 0), TCP",
	  { V6, .ext = { EH(FRAGMENT) }, .dst = VIP6, TCP, .dport = 80 },
	  TX(S_V6_TCP) },
	{ "IPv6 six extension headers (the bound), TCP",
	  { V6, .ext = { EH(HOPOPTS), EH(DSTOPTS), EH(ROUTING),
			 EH(FRAGMENT), EH(AH), EH(DSTOPTS) },
	    .dst = VIP6, TCP, .dport = 80 },
	  TX(S_V6_TCP) },
	{ "IPv6 seven extension headers: passed",
	  { V6, .ext = { EH(HOPOPTS), EH(DSTOPTS), EH(ROUTING),
			 EH(DSTOPTS), EH(DSTOPTS), EH(DSTOPTS),
			 EH(DSTOPTS) },
	    .dst = VIP6, TCP, .dport = 80 },
	  PASS(pass_ipv6_ext) },

	/* Port-0 services and the exact match. */
	{ "port-0 service: port 8080",
	  { V4, .dst = VIP4B, TCP, .dport = 8080 },
	  TX(S_ANY_PORT) },
	{ "port-0 service: port 1",
	  { V4, .dst = VIP4B, TCP, .dport = 1 },
	  TX(S_ANY_PORT) },
	{ "port-0 service: port 65535",
	  { V4, .dst = VIP4B, TCP, .dport = 65535 },
	  TX(S_ANY_PORT) },
	{ "port-0 service: port 0",
	  { V4, .dst = VIP4B, TCP, .dport = 0 },
	  TX(S_ANY_PORT) },
	{ "exact port wins over port 0",
	  { V4, .dst = VIP4B, TCP, .dport = 443 },
	  TX(S_EXACT) },
	{ "port-0 service is TCP only: UDP passed",
	  { V4, .dst = VIP4B, UDP, .dport = 443 },
	  PASS(pass_not_service) },

	/* Not ours: passed unchanged. */
	{ "TCP to a VIP, port without a service",
	  { V4, .dst = VIP4, TCP, .dport = 81 },
	  PASS(pass_not_service) },
	{ "IPv6 TCP to a VIP, port without a service",
	  { V6, .dst = VIP6, TCP, .dport = 443 },
	  PASS(pass_not_service) },
	{ "TCP to another address",
	  { V4, .dst = OTHER4, TCP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "IPv6 TCP to another address",
	  { V6, .dst = OTHER6, TCP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "UDP to a TCP-only service port",
	  { V4, .dst = VIP4, UDP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "TCP to a UDP-only service port",
	  { V6, .dst = VIP6, TCP, .dport = 53 },
	  PASS(pass_not_service) },
	{ "ARP request for the VIP",
	  { .l3 = L3_ARP, .dst = VIP4 },
	  PASS(pass_not_ip) },
	{ "unknown ethertype (0x88b5)",
	  { .l3 = L3_OTHER, .ethertype = 0x88b5, .payload = 46 },
	  PASS(pass_not_ip) },
	{ "unknown ethertype in a VLAN tag",
	  { .l3 = L3_OTHER, .ethertype = 0x88b5, .tpid = { ETH_P_8021Q },
	    .payload = 46 },
	  PASS(pass_not_ip) },
	{ "ICMP echo to the VIP",
	  { V4, .dst = VIP4, .l4 = IPPROTO_ICMP, .payload = 56 },
	  PASS(pass_not_l4) },
	{ "ICMPv6 neighbour solicitation",
	  { V6, .src = "fe80::1", .dst = "ff02::1:ff00:1",
	    .l4 = IPPROTO_ICMPV6 },
	  PASS(pass_not_l4) },
	{ "ICMPv6 to the VIP behind a hop-by-hop header",
	  { V6, .ext = { EH(HOPOPTS) }, .dst = VIP6,
	    .l4 = IPPROTO_ICMPV6 },
	  PASS(pass_not_l4) },
	{ "TCP to the one-packet-scheduling VIP (a UDP service)",
	  { V4, .dst = VIP4O, TCP, .dport = 53 },
	  PASS(pass_not_service) },

	/* ICMP errors go to the real of the flow they quote (the TCP and
	 * UDP cases above tracked client:40000 -> VIP:80 and :53). */
	{ "ICMP fragmentation needed about a tracked TCP flow",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80, .payload = 20 },
	  TXCT(S_V4_TCP, CT_HIT) },
	{ "ICMP port unreachable about a tracked UDP flow",
	  { V4, .dst = VIP4, ICMP4(3, 3), .dport = 53,
	    .q = { .proto = IPPROTO_UDP } },
	  TXCT(S_V4_UDP, CT_HIT) },
	{ "ICMP time exceeded about an untracked TCP flow",
	  { V4, .dst = VIP4, ICMP4(11, 0), .dport = 80, .sport = 40001 },
	  TXCT(S_V4_TCP, CT_MISS) },
	{ "ICMP error in QinQ, outer IHL 6",
	  { V4, QINQ, .ihl = 6, .dst = VIP4, ICMP4(3, 1), .dport = 80,
	    .sport = 40002 },
	  TXCT(S_V4_TCP, CT_MISS) },
	{ "ICMP error quoting 40 bytes of IPv4 options",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80, .q = { .ihl = 15 } },
	  TXCT(S_V4_TCP, CT_HIT) },
	{ "ICMP error quoting only the ports",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80, .q = { .len = 24 } },
	  TXCT(S_V4_TCP, CT_HIT) },
	{ "ICMP error about a one-packet-scheduling flow",
	  { V4, .dst = VIP4O, ICMP4(3, 3), .dport = 53,
	    .q = { .proto = IPPROTO_UDP } },
	  TXCT(S_OPS, CT_MISS) },
	{ "ICMP error about a src-ip service's flow",
	  { V4, .dst = VIP4S, ICMP4(3, 4), .dport = 80 },
	  TXCT(S_SRC4, CT_HIT) },
	{ "ICMP error to a port-0 service",
	  { V4, .dst = VIP4B, ICMP4(3, 4), .dport = 8080, .sport = 40004 },
	  TXCT(S_ANY_PORT, CT_MISS) },
	{ "ICMPv6 packet too big about a tracked TCP flow",
	  { V6, .dst = VIP6, ICMP6(2, 0), .dport = 80, .payload = 20 },
	  TXCT(S_V6_TCP, CT_HIT) },
	{ "ICMPv6 destination unreachable about a tracked UDP flow",
	  { V6, .dst = VIP6, ICMP6(1, 4), .dport = 53,
	    .q = { .proto = IPPROTO_UDP } },
	  TXCT(S_V6_UDP, CT_HIT) },
	{ "ICMPv6 time exceeded about an untracked flow, 802.1Q",
	  { V6, .tpid = { ETH_P_8021Q }, .dst = VIP6, ICMP6(3, 0),
	    .dport = 80, .sport = 40003 },
	  TXCT(S_V6_TCP, CT_MISS) },
	{ "ICMPv6 packet too big behind a hop-by-hop header",
	  { V6, .ext = { EH(HOPOPTS) }, .dst = VIP6, ICMP6(2, 0),
	    .dport = 80 },
	  TXCT(S_V6_TCP, CT_HIT) },
	{ "ICMPv6 packet too big quoting only the ports",
	  { V6, .dst = VIP6, ICMP6(2, 0), .dport = 80, .q = { .len = 44 } },
	  TXCT(S_V6_TCP, CT_HIT) },

	/* ICMP that is not an error, or quotes nothing we serve: passed. */
	{ "ICMP echo request with a body like a quote",
	  { V4, .dst = VIP4, ICMP4(8, 0), .dport = 80 },
	  PASS(pass_not_l4) },
	{ "ICMP echo reply",
	  { V4, .dst = VIP4, ICMP4(0, 0), .dport = 80 },
	  PASS(pass_not_l4) },
	{ "ICMP redirect",
	  { V4, .dst = VIP4, ICMP4(5, 1), .dport = 80 },
	  PASS(pass_not_l4) },
	{ "ICMP parameter problem",
	  { V4, .dst = VIP4, ICMP4(12, 0), .dport = 80 },
	  PASS(pass_not_l4) },
	{ "ICMPv6 echo request",
	  { V6, .dst = VIP6, ICMP6(128, 0), .dport = 80 },
	  PASS(pass_not_l4) },
	{ "ICMPv6 parameter problem",
	  { V6, .dst = VIP6, ICMP6(4, 0), .dport = 80 },
	  PASS(pass_not_l4) },
	{ "ICMP error quoting a port without a service",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 81 },
	  PASS(pass_not_service) },
	{ "ICMPv6 error quoting a port without a service",
	  { V6, .dst = VIP6, ICMP6(2, 0), .dport = 443 },
	  PASS(pass_not_service) },
	{ "ICMP error quoting UDP to a TCP-only port",
	  { V4, .dst = VIP4, ICMP4(3, 3), .dport = 80,
	    .q = { .proto = IPPROTO_UDP } },
	  PASS(pass_not_service) },
	/* A quote not sent from the address the error comes to is not
	 * about any of our flows: the kernel gets it as plain ICMP. */
	{ "ICMP error quoting another address",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80,
	    .q = { .src = OTHER4 } },
	  PASS(pass_not_l4) },
	{ "ICMPv6 error quoting another address",
	  { V6, .dst = VIP6, ICMP6(2, 0), .dport = 80,
	    .q = { .src = OTHER6 } },
	  PASS(pass_not_l4) },
	{ "ICMP error quoting ICMP",
	  { V4, .dst = VIP4, ICMP4(11, 0), .q = { .proto = IPPROTO_ICMP } },
	  PASS(pass_not_l4) },
	{ "ICMPv6 error quoting a header chain",
	  { V6, .dst = VIP6, ICMP6(2, 0), .dport = 80,
	    .q = { .proto = IPPROTO_DSTOPTS } },
	  PASS(pass_not_l4) },
	{ "ICMP error quoting IP version 6",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80,
	    .q = { .version = 6 } },
	  PASS(pass_not_l4) },
	{ "ICMP error quoting IHL 4",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80, .q = { .ihl = 4 } },
	  PASS(pass_not_l4) },
	{ "ICMP error, quote cut in the IPv4 header",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80, .q = { .len = 10 } },
	  PASS(pass_not_l4) },
	{ "ICMP error, quote cut in the ports",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80, .q = { .len = 23 } },
	  PASS(pass_not_l4) },
	{ "ICMP error, quote cut at 20 bytes of IPv4 options",
	  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80,
	    .q = { .ihl = 10, .len = 40 } },
	  PASS(pass_not_l4) },
	{ "ICMPv6 error, quote cut in the ports",
	  { V6, .dst = VIP6, ICMP6(2, 0), .dport = 80, .q = { .len = 43 } },
	  PASS(pass_not_l4) },

	/* Malformed. */
	{ "IPv4 ethertype, version 5",
	  { V4, .version = 5, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv4 ethertype, version 6",
	  { V4, .version = 6, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv6 ethertype, version 4",
	  { V6, .version = 4, .dst = VIP6, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv4 IHL 0",
	  { V4, .ihl = 0x10, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv4 IHL 4",
	  { V4, .ihl = 4, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },
	{ "IPv4 IHL 1 in QinQ",
	  { V4, QINQ, .ihl = 1, .dst = VIP4, TCP, .dport = 80 },
	  DROP(drop_malformed) },

	/* Fragments. A first one (it has the ports) goes as its flow does
	 * and is remembered; each case starts with none remembered, so a
	 * later one follows its flow only to a VIP with a src-ip service
	 * for its protocol, and is dropped at any other VIP. Fragments to
	 * any other address, and of other protocols, go to the kernel. */
	{ "IPv4 first fragment (MF) to a src-ip VIP",
	  { V4, .frag = 0x2000, .dst = VIP4S, TCP, .dport = 80,
	    .payload = 8 },
	  TX(S_SRC4) },
	{ "IPv4 later fragment (offset 185) to a src-ip VIP",
	  { V4, .frag = 185, .dst = VIP4S, TCP, .payload = 64 },
	  TX(S_SRC4) },
	{ "IPv4 last fragment (offset 1), 802.1Q, to a src-ip VIP",
	  { V4, .tpid = { ETH_P_8021Q }, .frag = 1, .dst = VIP4S, TCP,
	    .payload = 8 },
	  TX(S_SRC4) },
	{ "IPv4 MF to a src-ip VIP, another client",
	  { V4, .frag = 0x2000, .src = "203.0.113.7", .dst = VIP4S, TCP,
	    .dport = 80 },
	  TX(S_SRC4) },
	{ "IPv4 UDP first fragment to a VIP whose src-ip service is TCP",
	  { V4, .frag = 0x2000, .dst = VIP4S, UDP, .dport = 80 },
	  DROP(drop_fragment) },
	{ "IPv4 UDP later fragment to a VIP whose src-ip service is TCP",
	  { V4, .frag = 185, .dst = VIP4S, UDP, .payload = 64 },
	  DROP(drop_fragment) },
	{ "IPv4 ICMP fragment to a src-ip VIP",
	  { V4, .frag = 0x2000, .dst = VIP4S, .l4 = IPPROTO_ICMP },
	  PASS(pass_not_l4) },
	{ "IPv4 later ICMP fragment to a src-ip VIP",
	  { V4, .frag = 185, .dst = VIP4S, .l4 = IPPROTO_ICMP },
	  PASS(pass_not_l4) },
	{ "IPv4 first fragment to a one-packet-scheduling VIP",
	  { V4, .frag = 0x2000, .dst = VIP4O, UDP, .dport = 53 },
	  TX(S_OPS) },
	{ "IPv4 later fragment to a one-packet-scheduling VIP",
	  { V4, .frag = 185, .dst = VIP4O, UDP, .payload = 64 },
	  DROP(drop_fragment) },
	{ "IPv6 fragment, offset 0 and M, to a src-ip VIP",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 0x0001, .dst = VIP6S,
	    UDP, .dport = 53, .payload = 8 },
	  TX(S_SRC6) },
	{ "IPv6 fragment, offset 100, to a src-ip VIP",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 100 << 3, .dst = VIP6S,
	    UDP, .payload = 64 },
	  TX(S_SRC6) },
	{ "IPv6 fragment after hop-by-hop, to a src-ip VIP",
	  { V6, .ext = { EH(HOPOPTS), EH(FRAGMENT) },
	    .frag6 = 8 << 3 | 1, .dst = VIP6S, UDP, .dport = 53 },
	  TX(S_SRC6) },
	{ "IPv6 TCP first fragment to a VIP whose src-ip service is UDP",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 1, .dst = VIP6S, TCP,
	    .dport = 53 },
	  DROP(drop_fragment) },
	{ "IPv6 TCP later fragment to a VIP whose src-ip service is UDP",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 100 << 3, .dst = VIP6S,
	    TCP, .payload = 64 },
	  DROP(drop_fragment) },
	{ "IPv6 atomic fragment to a src-ip VIP: not a fragment",
	  { V6, .ext = { EH(FRAGMENT) }, .dst = VIP6S, UDP, .dport = 53 },
	  TX(S_SRC6) },
	{ "IPv4 first fragment (MF) to a VIP",
	  { V4, .frag = 0x2000, .dst = VIP4, TCP, .dport = 80, .payload = 8 },
	  TX(S_V4_TCP) },
	{ "IPv4 first fragment (MF), QinQ, to a VIP's UDP service",
	  { V4, QINQ, .frag = 0x2000, .dst = VIP4, UDP, .dport = 53,
	    .payload = 8 },
	  TX(S_V4_UDP) },
	{ "IPv4 first fragment (MF) to a port-0 VIP",
	  { V4, .frag = 0x2000, .dst = VIP4B, TCP, .dport = 22 },
	  TX(S_ANY_PORT) },
	{ "IPv4 later fragment (offset 185) to a VIP",
	  { V4, .frag = 185, .dst = VIP4, TCP, .dport = 80, .payload = 64 },
	  DROP(drop_fragment) },
	{ "IPv4 last fragment (offset 1, DF clear) to a port-0 VIP",
	  { V4, .frag = 1, .dst = VIP4B, UDP, .payload = 8 },
	  DROP(drop_fragment) },
	{ "IPv4 MF to a VIP port without a service",
	  { V4, .frag = 0x2000, .dst = VIP4, UDP, .dport = 9999 },
	  DROP(drop_fragment) },
	{ "IPv4 fragment to another address",
	  { V4, .frag = 0x2000, .dst = OTHER4, TCP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "IPv4 later fragment to another address",
	  { V4, .frag = 185, .dst = OTHER4, TCP, .payload = 64 },
	  PASS(pass_not_service) },
	{ "IPv6 fragment, offset 0 and M, to a VIP",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 0x0001, .dst = VIP6,
	    TCP, .dport = 80 },
	  TX(S_V6_TCP) },
	{ "IPv6 fragment, offset 0 and M, after hop-by-hop, to a VIP",
	  { V6, .ext = { EH(HOPOPTS), EH(FRAGMENT) }, .frag6 = 0x0001,
	    .dst = VIP6, UDP, .dport = 53 },
	  TX(S_V6_UDP) },
	{ "IPv6 first fragment, destination options after its fragment "
	  "header, to a VIP",
	  { V6, .ext = { EH(FRAGMENT), EH(DSTOPTS) }, .frag6 = 0x0001,
	    .dst = VIP6, UDP, .dport = 53, .payload = 8 },
	  TX(S_V6_UDP) },
	{ "IPv6 first fragment, AH after its fragment header, to a VIP",
	  { V6, .ext = { EH(FRAGMENT), EH(AH) }, .frag6 = 0x0001,
	    .dst = VIP6, TCP, .dport = 80, .payload = 8 },
	  TX(S_V6_TCP) },
	{ "IPv6 later fragment whose fragment header names destination "
	  "options, to a VIP, its first not seen",
	  { V6, .ext = { EH(FRAGMENT), EH(DSTOPTS) }, .frag6 = 100 << 3,
	    .dst = VIP6, UDP, .payload = 64 },
	  PASS(pass_not_l4) },
	{ "IPv6 first fragment with a second fragment header",
	  { V6, .ext = { EH(FRAGMENT), EH(FRAGMENT) }, .frag6 = 0x0001,
	    .dst = VIP6, UDP, .dport = 53 },
	  PASS(pass_ipv6_ext) },
	{ "IPv6 first fragment to a VIP port without a service",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 0x0001, .dst = VIP6,
	    UDP, .dport = 9999 },
	  DROP(drop_fragment) },
	{ "IPv6 fragment, offset 100, to a VIP",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 100 << 3, .dst = VIP6,
	    .l4 = IPPROTO_TCP, .dport = 80 },
	  DROP(drop_fragment) },
	{ "IPv6 fragment after hop-by-hop, to a VIP",
	  { V6, .ext = { EH(HOPOPTS), EH(FRAGMENT) },
	    .frag6 = 8 << 3 | 1, .dst = VIP6, UDP, .dport = 53 },
	  DROP(drop_fragment) },
	{ "IPv6 fragment to another address",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 100 << 3,
	    .dst = OTHER6, TCP, .dport = 80 },
	  PASS(pass_not_service) },
	{ "IPv6 fragment with M to another address",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 1, .dst = OTHER6,
	    UDP, .dport = 53 },
	  PASS(pass_not_service) },

	/* No real to send to. */
	{ "service without reals",
	  { V4, .dst = "10.0.0.3", TCP, .dport = 80 },
	  DROP(drop_no_real) },
	{ "service whose reals are all weight 0",
	  { V4, .dst = "10.0.0.4", TCP, .dport = 80 },
	  DROP(drop_no_real) },
};

static void run_table(void)
{
	struct result r;
	struct pkt p;
	size_t i;

	/* Each case on its own: no fragment finds an earlier case's first. */
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		build(&p, &cases[i].spec);
		frags_clear();
		check(cases[i].desc, &p, p.len, &cases[i].expect, &r);
	}
}

Test(packets, table)
{
	run_table();
}

Test(migrated, table)
{
	run_table();
}

/* IHL 6..15, every one: the options are skipped and left as they were. */
Test(packets, ipv4_options)
{
	struct result r;
	struct pkt p;
	char desc[64];
	__u8 ihl;

	for (ihl = 5; ihl <= 15; ihl++) {
		struct spec s = { V4, .ihl = ihl, .dst = VIP4, TCP,
				  .dport = 80, .payload = 20 };
		struct expect e = TX(S_V4_TCP);

		build(&p, &s);
		snprintf(desc, sizeof(desc), "IPv4 IHL %u", ihl);
		check(desc, &p, p.len, &e, &r);
	}
	for (ihl = 0; ihl < 5; ihl++) {
		struct spec s = { V4, .ihl = ihl ? ihl : 0x10, .dst = VIP4,
				  TCP, .dport = 80, .payload = 20 };
		struct expect e = DROP(drop_malformed);

		build(&p, &s);
		snprintf(desc, sizeof(desc), "IPv4 IHL %u", ihl);
		check(desc, &p, p.len, &e, &r);
	}
}

/* Many flows, v4 and v6: the first packet of each lands on the real the
 * hash predicts, and every real of the service gets some; the second one
 * is a hit on the same real. */
static void check_prediction(int s, const struct spec *base)
{
	int hits[MAX_REALS_PER_SVC] = { 0 }, first[300], i;
	struct expect e = TXCT(s, CT_NEW), again = TXCT(s, CT_HIT);
	struct result r;
	struct pkt p;
	char desc[64];

	for (i = 0; i < 300; i++) {
		struct spec sp = *base;

		sp.sport = 1024 + i * 7;
		build(&p, &sp);
		snprintf(desc, sizeof(desc), "%s, flow %d", svc_defs[s].vip, i);
		if (!check(desc, &p, p.len, &e, &r))
			return;
		first[i] = r.real;
		hits[r.real]++;
	}
	for (i = 0; i < svc_defs[s].nreals; i++)
		cr_expect_gt(hits[i], 0, "%s: real %d never chosen in 300 "
			     "flows", svc_defs[s].vip, i);
	for (i = 0; i < 300; i++) {
		struct spec sp = *base;

		sp.sport = 1024 + i * 7;
		build(&p, &sp);
		snprintf(desc, sizeof(desc), "%s, flow %d again",
			 svc_defs[s].vip, i);
		if (!check(desc, &p, p.len, &again, &r))
			return;
		cr_expect_eq(r.real, first[i], "%s: went to real %d, first to "
			     "%d", desc, r.real, first[i]);
	}
}

Test(packets, real_is_predicted)
{
	struct spec v4 = { V4, .dst = VIP4, TCP, .dport = 80 };
	struct spec v6 = { V6, .dst = VIP6, UDP, .dport = 53 };
	struct spec v6t = { V6, .dst = VIP6, TCP, .dport = 80,
			    .src = "2001:db8:c::77" };

	check_prediction(S_V4_TCP, &v4);
	check_prediction(S_V6_UDP, &v6);
	check_prediction(S_V6_TCP, &v6t);
}

/* Truncation --------------------------------------------------------------- */

static const struct pcase trunc_bases[] = {
	{ "IPv4 TCP", { V4, .dst = VIP4, TCP, .dport = 80, .payload = 6 },
	  TX(S_V4_TCP) },
	{ "IPv4 UDP", { V4, .dst = VIP4, UDP, .dport = 53, .payload = 6 },
	  TX(S_V4_UDP) },
	{ "IPv6 TCP", { V6, .dst = VIP6, TCP, .dport = 80, .payload = 6 },
	  TX(S_V6_TCP) },
	{ "IPv6 UDP", { V6, .dst = VIP6, UDP, .dport = 53, .payload = 6 },
	  TX(S_V6_UDP) },
	{ "802.1Q IPv4 TCP",
	  { V4, .tpid = { ETH_P_8021Q }, .dst = VIP4, TCP, .dport = 80,
	    .payload = 6 },
	  TX(S_V4_TCP) },
	{ "QinQ IPv6 UDP",
	  { V6, QINQ, .dst = VIP6, UDP, .dport = 53, .payload = 6 },
	  TX(S_V6_UDP) },
	{ "IPv4 IHL 15 TCP",
	  { V4, .ihl = 15, .dst = VIP4, TCP, .dport = 80, .payload = 6 },
	  TX(S_V4_TCP) },
	{ "IPv6 hop-by-hop + dstopts + fragment + AH, TCP",
	  { V6, .ext = { EH(HOPOPTS), EH(DSTOPTS), EH(FRAGMENT),
			 EH(AH) },
	    .dst = VIP6, TCP, .dport = 80, .payload = 6 },
	  TX(S_V6_TCP) },
	{ "IPv4 first fragment, TCP",
	  { V4, .frag = 0x2000, .dst = VIP4, TCP, .dport = 80,
	    .payload = 6 },
	  TX(S_V4_TCP) },
	{ "IPv6 first fragment, UDP",
	  { V6, .ext = { EH(FRAGMENT) }, .frag6 = 0x0001, .dst = VIP6, UDP,
	    .dport = 53, .payload = 6 },
	  TX(S_V6_UDP) },
};

Test(packets, truncated)
{
	const struct expect trunc = DROP(drop_truncated);
	struct xdplb_global_stats before, after;
	struct result r;
	struct pkt p;
	char desc[96];
	size_t i, f;
	__u32 len;
	int err;

	for (i = 0; i < ARRAY_SIZE(trunc_bases); i++) {
		const struct pcase *c = &trunc_bases[i];

		build(&p, &c->spec);
		cr_assert_gt(p.l4_end, 0);

		/* The kernel refuses frames shorter than an Ethernet header
		 * without running the program. */
		for (len = 0; len < ETH_HLEN; len++) {
			global(&before);
			err = run(&p, len, &r);
			global(&after);
			cr_expect_eq(err, -EINVAL, "%s cut to %u bytes: test "
				     "run returned %d, want -EINVAL", c->desc,
				     len, err);
			for (f = 0; f < ARRAY_SIZE(gs_fields); f++)
				cr_expect_eq(GS(&after, f), GS(&before, f),
					     "%s cut to %u: %s moved", c->desc,
					     len, gs_fields[f].name);
		}
		/* Every cut inside the headers is a counted drop... */
		for (len = ETH_HLEN; len < p.l4_end; len++) {
			snprintf(desc, sizeof(desc), "%s cut at %u (in %s)",
				 c->desc, len, field_at(&p, len));
			if (!check(desc, &p, len, &trunc, &r))
				break;
		}
		/* ...and from the end of the L4 header on it is forwarded. */
		for (len = p.l4_end; len <= p.len; len++) {
			snprintf(desc, sizeof(desc), "%s cut at %u", c->desc,
				 len);
			if (!check(desc, &p, len, &c->expect, &r))
				break;
		}
	}
}

/* Weights ------------------------------------------------------------------ */

/* Whether the table has room for one more flow a test keeps: at most
 * XDPLB_CT_WAYS of them per set, so that none evicts another and every
 * one is still tracked when the test comes back to it. */
static bool ct_room(const struct xdplb_flow *f)
{
	__u32 set = ct_set_of(f);

	if (ct_fill[set] >= XDPLB_CT_WAYS)
		return false;
	ct_fill[set]++;
	return true;
}

#define MAX_FLOWS 2000

/* Flows of one service a test comes back to: their source ports, and the
 * real (index in the service) each went to. */
struct flows {
	int s;
	struct spec base;
	int n;
	__u16 sport[MAX_FLOWS];
	int real[MAX_FLOWS];
};

static void flow_pkt(const struct flows *f, int i, struct pkt *p)
{
	struct spec sp = f->base;

	sp.sport = f->sport[i];
	build(p, &sp);
}

/* Start n new flows of service s from base, source ports from port on
 * (skipping any the table has no room for): each must be placed by
 * Maglev and tracked. hits[] counts them per real. */
static void flows_start(struct flows *f, int s, const struct spec *base,
			__u32 port, int n, int hits[MAX_REALS_PER_SVC])
{
	struct expect e = TXCT(s, CT_NEW);
	struct result r;
	struct pkt p;
	char desc[96];

	cr_assert_leq(n, MAX_FLOWS);
	memset(hits, 0, MAX_REALS_PER_SVC * sizeof(*hits));
	f->s = s;
	f->base = *base;
	for (f->n = 0; f->n < n; port++) {
		cr_assert_lt(port, 65536, "out of source ports");
		f->sport[f->n] = port;
		flow_pkt(f, f->n, &p);
		if (!ct_room(&p.flow))
			continue;
		snprintf(desc, sizeof(desc), "%s: new flow from port %u",
			 svc_defs[s].vip, port);
		if (!check(desc, &p, p.len, &e, &r))
			cr_assert_fail("stopping after the first failure");
		f->real[f->n++] = r.real;
		hits[r.real]++;
	}
}

/* Send every flow again: each must be a hit on the real it went to
 * first. hits[] (if given) counts them per real. */
static void flows_again(const struct flows *f, const char *when,
			int hits[MAX_REALS_PER_SVC])
{
	struct expect e = TXCT(f->s, CT_HIT);
	struct result r;
	struct pkt p;
	char desc[128];
	int i;

	if (hits)
		memset(hits, 0, MAX_REALS_PER_SVC * sizeof(*hits));
	for (i = 0; i < f->n; i++) {
		flow_pkt(f, i, &p);
		snprintf(desc, sizeof(desc), "%s, %s: flow from port %u",
			 svc_defs[f->s].vip, when, f->sport[i]);
		if (!check(desc, &p, p.len, &e, &r) || r.real != f->real[i])
			cr_assert_fail("%s: went to real %d, first to real %d; "
				       "stopping", desc, r.real, f->real[i]);
		if (hits)
			hits[r.real]++;
	}
}

/* Within five standard deviations of the binomial mean. */
static void expect_share(int got, int n, double share, const char *what)
{
	double mean = n * share, var = n * share * (1 - share);

	cr_expect((got - mean) * (got - mean) <= 25 * var,
		  "%s: %d of %d flows, expected %.0f, variance %.0f", what, got,
		  n, mean, var);
}

/* Draining a real sends it no new flow and keeps the flows it has. */
Test(packets, weight_zero_is_never_chosen)
{
	enum { N = 2000 };
	static struct flows before, drained, after;
	struct spec base = { V4, .dst = "10.0.0.5", TCP, .dport = 80 };
	int hits[MAX_REALS_PER_SVC], on2;

	/* Weights 1, 2, 3: real 2 gets about half. */
	flows_start(&before, S_DRAIN, &base, 1024, N, hits);
	cr_log_info("weights 1,2,3: %d %d %d\n", hits[0], hits[1], hits[2]);
	expect_share(hits[0], N, 1.0 / 6, "weight 1 of 6");
	expect_share(hits[1], N, 2.0 / 6, "weight 2 of 6");
	expect_share(hits[2], N, 3.0 / 6, "weight 3 of 6");
	on2 = hits[2];

	/* Drain real 2: no new flow for it, the new ones split 1:2... */
	set_weight(S_DRAIN, 2, 0);
	flows_start(&drained, S_DRAIN, &base, 10000, N, hits);
	cr_log_info("weights 1,2,0: %d %d %d\n", hits[0], hits[1], hits[2]);
	cr_expect_eq(hits[2], 0, "drained real chosen for %d of %d new flows",
		     hits[2], N);
	expect_share(hits[0], N, 1.0 / 3, "weight 1 of 3");
	expect_share(hits[1], N, 2.0 / 3, "weight 2 of 3");
	/* ...and the flows it had stay with it. */
	flows_again(&before, "real 2 drained", hits);
	cr_expect_eq(hits[2], on2, "drained real kept %d of its %d flows",
		     hits[2], on2);

	/* Back to weight 3: it takes new flows again, and the flows placed
	 * while it was drained stay where they are. */
	set_weight(S_DRAIN, 2, 3);
	flows_start(&after, S_DRAIN, &base, 20000, N, hits);
	cr_expect_gt(hits[2], 0, "undrained real gets nothing");
	flows_again(&drained, "real 2 back", hits);
	cr_expect_eq(hits[2], 0, "flows placed while real 2 was drained "
		     "moved to it");
}

/* Every real of S_DRAIN drained, then one back. */
Test(packets, all_drained_then_back)
{
	struct spec s = { V4, .dst = "10.0.0.5", TCP, .dport = 80 };
	struct spec s2 = { V4, .dst = "10.0.0.5", TCP, .dport = 80,
			   .sport = 40001 };
	struct expect no_real = DROP(drop_no_real);
	struct expect hit = TXCT(S_DRAIN, CT_HIT), tx = TXCT(S_DRAIN, CT_NEW);
	struct result r;
	struct pkt p, p2;
	int first;

	build(&p, &s);
	build(&p2, &s2);
	check("before draining", &p, p.len, &tx, &r);
	first = r.real;
	set_weight(S_DRAIN, 0, 0);
	set_weight(S_DRAIN, 1, 0);
	set_weight(S_DRAIN, 2, 0);
	check("every real at weight 0, a tracked flow", &p, p.len, &hit, &r);
	cr_expect_eq(r.real, first, "tracked flow went to real %d, first to "
		     "%d", r.real, first);
	check("every real at weight 0, a new flow", &p2, p2.len, &no_real,
	      &r);
	set_weight(S_DRAIN, 1, 5);
	check("one real back, the tracked flow", &p, p.len, &hit, &r);
	cr_expect_eq(r.real, first, "tracked flow went to real %d, first to "
		     "%d", r.real, first);
	check("one real back, the new flow", &p2, p2.len, &tx, &r);
	cr_expect_eq(r.real, 1, "went to real %d, the only one is 1", r.real);
}

/* Counters ----------------------------------------------------------------- */

/* Service s's counters (its reals' and its deleted reals') are these. */
static void expect_svc_counters(int s, __u64 packets, __u64 bytes,
				const char *when)
{
	struct xdplb_counters c;

	cr_assert_eq(lb_svc_counters(&lb, svc_id[s], reals, &c), 0);
	cr_expect(c.packets == packets && c.bytes == bytes,
		  "service %s%s: %llu packets %llu bytes, forwarded %llu "
		  "packets %llu bytes", svc_defs[s].vip, when,
		  (unsigned long long)c.packets, (unsigned long long)c.bytes,
		  (unsigned long long)packets, (unsigned long long)bytes);
}

static void counters_add_up(void);

Test(packets, counters_add_up)
{
	counters_add_up();
}

Test(migrated, counters_add_up)
{
	counters_add_up();
}

static void counters_add_up(void)
{
	__u64 svc_pk[N_SVC] = { 0 }, svc_by[N_SVC] = { 0 };
	__u64 real_pk[N_SVC][MAX_REALS_PER_SVC] = { { 0 } };
	__u64 real_by[N_SVC][MAX_REALS_PER_SVC] = { { 0 } };
	__u64 rx = 0, rx_bytes = 0, tx = 0, tx_bytes = 0, sum;
	__u64 tx_later = 0, tx_first = 0, tx_icmp = 0, tx_ops = 0;
	__u64 tx_flow = 0;
	struct xdplb_global_stats gs;
	struct result r;
	struct pkt p;
	size_t i, f;
	int round, s, k;

	/* Every case of the table, a few truncated frames, many flows: each
	 * case and round its own flow, so none is tracked yet. */
	cr_assert_lt(ARRAY_SIZE(cases), 1000);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			struct spec sp = cases[i].spec;
			__u32 len;

			sp.sport = 2000 + round * 1000 + i;
			build(&p, &sp);
			len = round == 2 && i % 4 == 0 ? p.len - 1 : p.len;
			cr_assert_eq(run(&p, len, &r), 0);
			rx++;
			rx_bytes += len;
			if (r.action != XDP_TX)
				continue;
			who(&r);
			cr_assert_geq(r.svc, 0, "%s: sent to an unknown MAC",
				      cases[i].desc);
			tx++;
			tx_bytes += len;
			svc_pk[r.svc]++;
			svc_by[r.svc] += len;
			real_pk[r.svc][r.real]++;
			real_by[r.svc][r.real] += len;
			if (p.fragment && !p.frag_first) {
				tx_later++;
				continue;
			}
			if (p.frag_first)
				tx_first++;
			if (p.icmp_error)
				tx_icmp++;
			else if (svc_defs[r.svc].flags & XDPLB_SVC_F_OPS)
				tx_ops++;
			else
				tx_flow++;
		}
	}
	cr_assert_gt(tx, 0);
	cr_assert_lt(tx, rx);
	cr_assert(tx_later && tx_first && tx_icmp && tx_ops && tx_flow);

	global(&gs);
	cr_expect_eq(gs.rx_packets, rx, "rx_packets %llu, sent %llu",
		     (unsigned long long)gs.rx_packets,
		     (unsigned long long)rx);
	cr_expect_eq(gs.rx_bytes, rx_bytes, "rx_bytes %llu, sent %llu",
		     (unsigned long long)gs.rx_bytes,
		     (unsigned long long)rx_bytes);
	cr_expect_eq(gs.tx_packets, tx, "tx_packets %llu, XDP_TX %llu",
		     (unsigned long long)gs.tx_packets,
		     (unsigned long long)tx);
	cr_expect_eq(gs.tx_bytes, tx_bytes, "tx_bytes %llu, XDP_TX %llu",
		     (unsigned long long)gs.tx_bytes,
		     (unsigned long long)tx_bytes);
	/* Verdicts add up; ct_*, frag_fwd and icmp_fwd are not verdicts. */
	sum = 0;
	for (f = 0; f < ARRAY_SIZE(gs_fields); f++)
		if (!strncmp(gs_fields[f].name, "pass_", 5) ||
		    !strncmp(gs_fields[f].name, "drop_", 5))
			sum += GS(&gs, f);
	cr_expect_eq(gs.rx_packets, gs.tx_packets + sum,
		     "rx_packets %llu != tx_packets %llu + pass/drop %llu",
		     (unsigned long long)gs.rx_packets,
		     (unsigned long long)gs.tx_packets,
		     (unsigned long long)sum);

	/* How the forwarded packets found their real: later fragments after
	 * their first (the table's cases share datagram ids) or by client
	 * address, ICMP errors by the untracked flows they quote, UDP of
	 * the one-packet-scheduling service untracked, every other one,
	 * first fragments too, the first packet of a new flow. */
	cr_expect_eq(gs.frag_fwd + gs.frag_src_ip, tx_later,
		     "frag_fwd %llu + frag_src_ip %llu, later fragments "
		     "forwarded %llu", (unsigned long long)gs.frag_fwd,
		     (unsigned long long)gs.frag_src_ip,
		     (unsigned long long)tx_later);
	cr_expect_eq(gs.frag_first, tx_first, "frag_first %llu, first "
		     "fragments forwarded %llu",
		     (unsigned long long)gs.frag_first,
		     (unsigned long long)tx_first);
	cr_expect_eq(gs.icmp_fwd, tx_icmp, "icmp_fwd %llu, ICMP errors "
		     "forwarded %llu", (unsigned long long)gs.icmp_fwd,
		     (unsigned long long)tx_icmp);
	cr_expect_eq(gs.ct_ops, tx_ops, "ct_ops %llu, one-packet-scheduled "
		     "forwarded %llu", (unsigned long long)gs.ct_ops,
		     (unsigned long long)tx_ops);
	cr_expect_eq(gs.ct_new, tx_flow, "ct_new %llu, new flows forwarded "
		     "%llu", (unsigned long long)gs.ct_new,
		     (unsigned long long)tx_flow);
	cr_expect(!gs.ct_hit && !gs.ct_expired && !gs.ct_flood,
		  "ct_hit %llu, ct_expired %llu, ct_flood %llu: every flow "
		  "was new", (unsigned long long)gs.ct_hit,
		  (unsigned long long)gs.ct_expired,
		  (unsigned long long)gs.ct_flood);

	for (s = 0; s < N_SVC; s++) {
		struct xdplb_counters c;

		if (svc_defs[s].late)
			continue;
		expect_svc_counters(s, svc_pk[s], svc_by[s], "");
		for (k = 0; k < n_real[s]; k++) {
			c = counters(lb.real_stats_fd, real_id[s][k]);
			cr_expect(c.packets == real_pk[s][k] &&
				  c.bytes == real_by[s][k],
				  "real_stats %s #%d: %llu packets %llu bytes, "
				  "forwarded %llu packets %llu bytes",
				  svc_defs[s].vip, k,
				  (unsigned long long)c.packets,
				  (unsigned long long)c.bytes,
				  (unsigned long long)real_pk[s][k],
				  (unsigned long long)real_by[s][k]);
		}
	}

	/* A service keeps what its deleted reals forwarded. */
	for (s = 0; s < N_SVC; s++) {
		if (svc_defs[s].late || !n_real[s] || !real_pk[s][0])
			continue;
		cr_assert_eq(lb_real_del(&lb, real_id[s][0]), 0);
		cr_assert_eq(lb_reals(&lb, reals), 0);
		expect_svc_counters(s, svc_pk[s], svc_by[s],
				    " after deleting real 0");
	}
}

/* The connection table ----------------------------------------------------- */

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * The first packet of a flow misses: it goes where Maglev says, ct_new
 * counts it, and its entry is in its set (flow hash & (sets - 1)),
 * unconfirmed. The second one hits: same real, ct_hit, the entry
 * confirmed; its last use is not written again so soon (less than
 * xdplb_ct_refresh() since). Checked here by hand, apart from check()'s
 * own model.
 */
Test(packets, ct_miss_then_hit)
{
	static const struct pcase c[] = {
		{ "IPv4 TCP", { V4, .dst = VIP4, TCP, .dport = 80,
				.sport = 5555 }, TX(S_V4_TCP) },
		{ "IPv4 UDP", { V4, .dst = VIP4, UDP, .dport = 53,
				.sport = 5555 }, TX(S_V4_UDP) },
		{ "IPv6 TCP", { V6, .dst = VIP6, TCP, .dport = 80,
				.sport = 5555 }, TX(S_V6_TCP) },
		{ "IPv6 UDP", { V6, .dst = VIP6, UDP, .dport = 53,
				.sport = 5555 }, TX(S_V6_UDP) },
	};
	struct xdplb_global_stats g0, g1;
	struct lb_conn_ways *set = &ct_buf[0];
	const struct lb_conn *w;
	__u64 t0, t1, created;
	struct result r;
	struct pkt p;
	__u32 idx, id;
	__u16 key;
	int way;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		const char *d = c[i].desc;

		build(&p, &c[i].spec);
		idx = xdplb_flow_hash(&p.flow, SEED) & (ld.ct_sets - 1);
		key = xdplb_ct_tag(xdplb_flow_hash(&p.flow, SEED),
				   p.flow.proto);
		id = predict(&p.flow, c[i].expect.svc);

		global(&g0);
		t0 = tick_now();
		cr_assert_eq(run(&p, p.len, &r), 0);
		t1 = tick_now();
		global(&g1);
		who(&r);
		cr_assert_eq(r.action, XDP_TX, "%s: first packet %s", d,
			     action_name(r.action));
		cr_expect_eq(r.id, id, "%s: first packet to real %u, Maglev "
			     "says %u", d, r.id, id);
		cr_expect(g1.ct_new - g0.ct_new == 1 &&
			  g1.ct_hit == g0.ct_hit &&
			  g1.ct_expired == g0.ct_expired,
			  "%s: first packet: ct_new +%llu, ct_hit +%llu, "
			  "ct_expired +%llu, want +1, +0, +0", d,
			  (unsigned long long)(g1.ct_new - g0.ct_new),
			  (unsigned long long)(g1.ct_hit - g0.ct_hit),
			  (unsigned long long)(g1.ct_expired - g0.ct_expired));

		ct_read(idx, set);
		way = ct_way(set, &p.flow);
		cr_assert_geq(way, 0, "%s: no entry in conns[%u]", d, idx);
		w = &set->way[way];
		cr_expect(w->real_id == id && w->real_gen == reals[id].gen,
			  "%s: entry names real %u gen %u, want %u gen %u", d,
			  w->real_id, w->real_gen, id, reals[id].gen);
		cr_expect(w->created == w->last_seen &&
			  w->created >= tick_floor(t0) &&
			  w->created <= t1, "%s: entry created %llu, last "
			  "seen %llu, the packet ran in [%llu, %llu]", d,
			  (unsigned long long)w->created,
			  (unsigned long long)w->last_seen,
			  (unsigned long long)t0, (unsigned long long)t1);
		cr_expect_eq(w->tag, key, "%s: a new entry's tag %#x, want "
			     "%#x: unconfirmed", d, w->tag, key);
		created = w->created;

		/* Past a tick of the coarse clock, but not the refresh. */
		sleep_ms(20);
		global(&g0);
		cr_assert_eq(run(&p, p.len, &r), 0);
		global(&g1);
		who(&r);
		cr_assert_eq(r.action, XDP_TX, "%s: second packet %s", d,
			     action_name(r.action));
		cr_expect_eq(r.id, id, "%s: second packet to real %u, the "
			     "first to %u", d, r.id, id);
		cr_expect(g1.ct_hit - g0.ct_hit == 1 &&
			  g1.ct_new == g0.ct_new &&
			  g1.ct_expired == g0.ct_expired,
			  "%s: second packet: ct_hit +%llu, ct_new +%llu, "
			  "ct_expired +%llu, want +1, +0, +0", d,
			  (unsigned long long)(g1.ct_hit - g0.ct_hit),
			  (unsigned long long)(g1.ct_new - g0.ct_new),
			  (unsigned long long)(g1.ct_expired - g0.ct_expired));
		ct_read(idx, set);
		w = &set->way[way];
		cr_expect(!memcmp(&w->flow, &p.flow, sizeof(p.flow)) &&
			  w->real_id == id && w->created == created &&
			  w->last_seen == created,
			  "%s: the hit changed the entry (or its last use, "
			  "%llu ns after it was written)", d,
			  (unsigned long long)(w->last_seen - created));
		cr_expect_eq(w->tag, key | XDPLB_CT_TAG_CONFIRMED,
			     "%s: after the second packet the tag is %#x, "
			     "want %#x: confirmed", d, w->tag,
			     key | XDPLB_CT_TAG_CONFIRMED);
	}
}

/* No change to a service's reals moves a tracked flow: a real added,
 * weights changed, another real deleted, the table rebuilt. */
static void tracked_flows_stay_put(void);

Test(packets, tracked_flows_stay_put)
{
	tracked_flows_stay_put();
}

Test(migrated, tracked_flows_stay_put)
{
	tracked_flows_stay_put();
}

static void tracked_flows_stay_put(void)
{
	static struct flows f, g;
	struct spec base = { V4, .dst = VIP4C, TCP, .dport = 80 };
	int hits[MAX_REALS_PER_SVC], added, moved = 0, i;
	struct pkt p;

	flows_start(&f, S_CHURN, &base, 3000, 200, hits);
	cr_assert_eq(hits[3], 0, "the spare at weight 0 got flows");

	added = add_real(S_CHURN, 2);
	update_weight(S_CHURN, 0, 3);
	update_weight(S_CHURN, 1, 2);
	del_real(S_CHURN, 3);		/* the spare; rebuilds the table */

	/* Maglev alone would move some of them: the test proves something. */
	for (i = 0; i < f.n; i++) {
		flow_pkt(&f, i, &p);
		if (predict(&p.flow, S_CHURN) != real_id[S_CHURN][f.real[i]])
			moved++;
	}
	cr_log_info("the new table moves %d of %d flows\n", moved, f.n);
	cr_assert_gt(moved, 0, "the new table moves no tracked flow");

	flows_again(&f, "reals changed", NULL);

	/* New flows follow the new table, the added real included. */
	flows_start(&g, S_CHURN, &base, 30000, 200, hits);
	cr_expect_gt(hits[added], 0, "the added real gets no new flow");
	cr_expect_eq(hits[3], 0, "the deleted real gets new flows");
}

/*
 * A service's table size changes in place (set-vip --table-size): its
 * inner map takes the new size, new flows are placed by it, and tracked
 * flows stay put, whether the table shrinks or grows.
 */
Test(packets, table_resize_keeps_tracked_flows)
{
	/* 65537 and 65539 pack into as many elements: rewritten in place. */
	static const __u32 sizes[] = { 7, 65521, 1009, 65537, 65539, 65537 };
	static struct flows f, g;
	struct spec base = { V4, .dst = VIP4C, TCP, .dport = 80 };
	int hits[MAX_REALS_PER_SVC], moved, i, err;
	struct bpf_map_info info;
	__u32 len, inner, id, slot;
	struct xdplb_svc_key key;
	struct pkt p;
	size_t k;
	int fd;

	cr_assert_eq(parse_vip(svc_defs[S_CHURN].vip, &key), 0);
	flows_start(&f, S_CHURN, &base, 3000, 200, hits);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		err = lb_svc_set(&lb, &key, svc_rec[S_CHURN].flags, sizes[k],
				 reals);
		cr_assert_eq(err, 0, "lb_svc_set %u: %s", sizes[k],
			     strerror(-err));
		cr_assert_eq(lb_svc_get(&lb, &key, &svc_rec[S_CHURN]), 0);
		cr_assert_eq(svc_rec[S_CHURN].table_size, sizes[k]);
		cr_assert_eq(svc_rec[S_CHURN].id, svc_id[S_CHURN],
			     "resizing changed the service's id");

		id = svc_id[S_CHURN];
		cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.maglev),
						 &id, &inner), 0);
		fd = bpf_map_get_fd_by_id(inner);
		cr_assert_geq(fd, 0);
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
		close(fd);
		cr_assert_eq(info.max_entries, XDPLB_MAGLEV_ELEMS(sizes[k]),
			     "inner map has %u elements, want %u slots",
			     info.max_entries, sizes[k]);
		/* Slots packed into the last element past the end: none. */
		for (slot = sizes[k]; slot % XDPLB_MAGLEV_PACK; slot++)
			cr_assert_eq(maglev_at(S_CHURN, slot), XDPLB_NO_REAL,
				     "slot %u past the end names a real", slot);
		cr_assert_neq(maglev_at(S_CHURN, sizes[k] - 1), XDPLB_NO_REAL);

		/* The new size would move some: the test proves something. */
		for (i = 0, moved = 0; i < f.n; i++) {
			flow_pkt(&f, i, &p);
			if (predict(&p.flow, S_CHURN) !=
			    real_id[S_CHURN][f.real[i]])
				moved++;
		}
		cr_log_info("table size %u moves %d of %d flows\n", sizes[k],
			    moved, f.n);
		cr_assert_gt(moved, 0, "size %u moves no tracked flow",
			     sizes[k]);
		flows_again(&f, "table resized", NULL);
		/* New flows: placed by the new table (predict checks it). */
		flows_start(&g, S_CHURN, &base, 20000 + 1000 * k, 100, hits);
	}
}

/* Set or clear flag on real r of service s and rebuild its table. */
static void set_real_flag(int s, int r, __u8 flag, bool on)
{
	__u32 id = real_id[s][r];
	int err;

	if (on)
		reals[id].flags |= flag;
	else
		reals[id].flags &= ~flag;
	err = lb_real_update(&lb, id, &reals[id]);
	cr_assert_eq(err, 0, "lb_real_update: %s", strerror(-err));
	rebuild(s);
}

/*
 * Health and quorum, as the daemon drives them: a real marked down gets no
 * new flow and keeps its tracked ones; a sorry real gets new flows only
 * while fewer reals than the service's quorum are up, and then all of them.
 */
Test(packets, down_and_sorry_reals)
{
	static struct flows f, g;
	struct spec base = { V4, .dst = VIP4C, TCP, .dport = 80 };
	struct xdplb_svc_opts o = { .quorum = 3 };
	int hits[MAX_REALS_PER_SVC];

	/* Real 3, the spare, becomes the sorry real. */
	update_weight(S_CHURN, 3, 1);
	set_real_flag(S_CHURN, 3, XDPLB_REAL_F_SORRY, true);
	flows_start(&f, S_CHURN, &base, 3000, 300, hits);
	cr_expect_eq(hits[3], 0, "the sorry real got %d flows with every "
		     "real up", hits[3]);
	cr_assert_gt(hits[0], 0);

	set_real_flag(S_CHURN, 0, XDPLB_REAL_F_DOWN, true);
	flows_again(&f, "real 0 down", NULL);
	flows_start(&g, S_CHURN, &base, 20000, 200, hits);
	cr_expect(hits[0] == 0 && hits[3] == 0, "real 0 down: %d new flows "
		  "to it, %d to the sorry real", hits[0], hits[3]);

	/* Two reals up, quorum three: the sorry real takes every new flow. */
	cr_assert_eq(lb_svc_opts_set(&lb, svc_id[S_CHURN], &o), 0);
	rebuild(S_CHURN);
	flows_again(&f, "below quorum", NULL);
	flows_start(&g, S_CHURN, &base, 30000, 100, hits);
	cr_expect_eq(hits[3], 100, "below quorum: %d of 100 new flows to the "
		     "sorry real", hits[3]);

	set_real_flag(S_CHURN, 0, XDPLB_REAL_F_DOWN, false);
	flows_start(&g, S_CHURN, &base, 40000, 200, hits);
	cr_expect(hits[0] > 0 && hits[3] == 0, "back to quorum: %d new flows "
		  "to real 0, %d to the sorry real", hits[0], hits[3]);
}

/* Draining, IPv6 and UDP: the drained real keeps its flows and gets no
 * new one. */
Test(packets, drain_keeps_established_flows)
{
	static struct flows f, g;
	struct spec base = { V6, .dst = VIP6, UDP, .dport = 53 };
	int hits[MAX_REALS_PER_SVC], on0;

	flows_start(&f, S_V6_UDP, &base, 3000, 200, hits);
	on0 = hits[0];
	cr_assert_gt(on0, 0);
	set_weight(S_V6_UDP, 0, 0);
	flows_again(&f, "real 0 drained", hits);
	cr_expect_eq(hits[0], on0, "drained real kept %d of its %d flows",
		     hits[0], on0);
	flows_start(&g, S_V6_UDP, &base, 30000, 200, hits);
	cr_expect_eq(hits[0], 0, "drained real got %d of 200 new flows",
		     hits[0]);
}

/*
 * A SYN is a new connection even when its 5-tuple is tracked (a client
 * reusing a port): it is placed by Maglev again, so it never follows the
 * old entry to a real drained since; the ACKs after it follow the SYN.
 */
Test(packets, syn_is_placed_anew)
{
	static struct flows f;
	struct spec base = { V4, .dst = VIP4C, TCP, .dport = 80 };
	struct expect fresh = TXCT(S_CHURN, CT_FRESH);
	struct expect hit = TXCT(S_CHURN, CT_HIT);
	int hits[MAX_REALS_PER_SVC], i, moved = 0;
	struct result r;
	struct pkt p;

	flows_start(&f, S_CHURN, &base, 5000, 100, hits);
	cr_assert_gt(hits[0], 0);
	set_weight(S_CHURN, 0, 0);
	for (i = 0; i < f.n; i++) {
		if (f.real[i] != 0)
			continue;
		tcp_flags = TCP_SYN;
		flow_pkt(&f, i, &p);
		if (!check("SYN on a port tracked to the drained real", &p,
			   p.len, &fresh, &r))
			cr_assert_fail("stopping after the first failure");
		cr_expect_neq(r.real, 0, "a new connection went to the "
			      "drained real");
		tcp_flags = TCP_ACK;
		flow_pkt(&f, i, &p);
		if (!check("ACK after it", &p, p.len, &hit, &r))
			cr_assert_fail("stopping after the first failure");
		moved++;
	}
	cr_expect_eq(moved, hits[0]);
}

/* Run on cpu from now on (the test's CPU, ct_cpu, is where it started);
 * false when this process may not run there. */
static bool run_on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return !sched_setaffinity(0, sizeof(set), &set);
}

/*
 * A SYN that reuses a client port on another CPU than the one that tracked
 * the old connection (issue 15, defect 10): the next packets of the new
 * connection, back on the first CPU, go where the SYN placed it. With a
 * table per CPU the first CPU still held the old connection's entry and
 * sent them to the old, drained real, which reset them; the one shared
 * table holds one entry a flow.
 */
Test(packets, syn_on_another_cpu_replaces_the_flow)
{
	static struct flows f;
	struct spec base = { V4, .dst = VIP4C, TCP, .dport = 80 };
	struct expect fresh = TXCT(S_CHURN, CT_FRESH);
	struct expect hit = TXCT(S_CHURN, CT_HIT);
	int hits[MAX_REALS_PER_SVC], i, other, moved = 0, first = ct_cpu;
	struct result r, syn;
	struct pkt p;

	for (other = 0; other < lb.ncpus; other++)
		if (other != first && run_on_cpu(other))
			break;
	if (other == lb.ncpus)
		cr_skip_test("needs a second CPU to run on");
	cr_assert(run_on_cpu(first));
	flows_start(&f, S_CHURN, &base, 2000, 100, hits);
	cr_assert_gt(hits[0], 0);
	set_weight(S_CHURN, 0, 0);
	for (i = 0; i < f.n; i++) {
		if (f.real[i] != 0)
			continue;
		cr_assert(run_on_cpu(other));
		tcp_flags = TCP_SYN;
		flow_pkt(&f, i, &p);
		if (!check("SYN on another CPU, its port tracked to the "
			   "drained real", &p, p.len, &fresh, &syn))
			cr_assert_fail("stopping after the first failure");
		cr_assert(run_on_cpu(first));
		tcp_flags = TCP_ACK;
		flow_pkt(&f, i, &p);
		if (!check("ACK on the first CPU", &p, p.len, &hit, &r))
			cr_assert_fail("stopping after the first failure");
		cr_expect_eq(r.real, syn.real, "flow %d: the SYN went to real "
			     "%d, its ACK to %d", i, syn.real, r.real);
		moved++;
	}
	cr_expect_eq(moved, hits[0]);
}

/*
 * Deleting a real ends its flows: each is placed again (ct_expired,
 * ct_new) on another real, the other flows stay put. A new real given the
 * freed slot has the same id and a new generation: the entries that still
 * name the old real are not followed to it.
 */
Test(packets, deleted_real_ends_its_flows)
{
	static struct flows f;
	static bool later[MAX_FLOWS];
	struct spec base = { V4, .dst = VIP4C, TCP, .dport = 80 };
	struct expect renew = TXCT(S_CHURN, CT_RENEW);
	struct expect hit = TXCT(S_CHURN, CT_HIT);
	int hits[MAX_REALS_PER_SVC], i, k = 0, half, added, to_new = 0;
	__u32 id = real_id[S_CHURN][1];
	__u16 gen = reals[id].gen;
	struct result r;
	__u64 tracked;
	struct pkt p;
	char desc[96];

	flows_start(&f, S_CHURN, &base, 3000, 200, hits);
	cr_assert_geq(hits[1], 4);
	half = hits[1] / 2;
	/* What `xdplb del-real` reports as the flows it ends. */
	cr_assert_eq(lb_real_conns(&lb, id, &reals[id], &tracked), 0);
	cr_expect_eq(tracked, (__u64)hits[1], "lb_real_conns: %llu, real 1 "
		     "has %d", (unsigned long long)tracked, hits[1]);

	del_real(S_CHURN, 1);
	/* Half of its flows now, the rest once its slot is reused. */
	for (i = 0; i < f.n; i++) {
		bool gone = f.real[i] == 1;

		if (gone && k++ >= half) {
			later[i] = true;
			continue;
		}
		flow_pkt(&f, i, &p);
		snprintf(desc, sizeof(desc), "real 1 deleted: flow from port "
			 "%u", f.sport[i]);
		if (!check(desc, &p, p.len, gone ? &renew : &hit, &r))
			cr_assert_fail("stopping after the first failure");
		if (gone) {
			cr_expect_neq(r.real, 1, "%s: to the deleted real",
				      desc);
			f.real[i] = r.real;
		} else {
			cr_expect_eq(r.real, f.real[i], "%s: moved", desc);
		}
	}

	/* A new real takes the freed slot: same id, next generation. The
	 * reals read back from the map, as the next `xdplb add-real` does. */
	cr_assert_eq(lb_reals(&lb, reals), 0);
	added = add_real(S_CHURN, 1);
	rebuild(S_CHURN);
	cr_assert_eq(real_id[S_CHURN][added], id, "the new real is %u, the "
		     "freed slot %u", real_id[S_CHURN][added], id);
	cr_assert_eq(reals[id].gen, (__u16)(gen + 1));
	for (i = 0; i < f.n; i++) {
		flow_pkt(&f, i, &p);
		snprintf(desc, sizeof(desc), "slot %u reused: flow from port "
			 "%u", id, f.sport[i]);
		if (!check(desc, &p, p.len, later[i] ? &renew : &hit, &r))
			cr_assert_fail("stopping after the first failure");
		if (later[i]) {
			to_new += r.real == added;
			f.real[i] = r.real;
		} else {
			cr_expect_eq(r.real, f.real[i], "%s: moved", desc);
		}
	}
	cr_log_info("%d of %d flows of the deleted real placed on the new "
		    "one\n", to_new, hits[1] - half);
	flows_again(&f, "all placed again", NULL);
}

/*
 * A tracked flow keeps its real when a service added later would match it
 * (an exact-port service over a port-0 one), as an IPVS connection does:
 * the connection lives on. A new connection from the same port (a SYN)
 * goes to the new service; deleting that service ends the flows of its
 * reals, which the port-0 service then places again.
 */
Test(packets, new_service_takes_new_flows)
{
	struct spec sp = { V4, .dst = VIP4B, TCP, .dport = 8443,
			   .sport = 6000 };
	struct expect any_new = TXCT(S_ANY_PORT, CT_NEW);
	struct expect any_hit = TXCT(S_ANY_PORT, CT_HIT);
	struct expect any_renew = TXCT(S_ANY_PORT, CT_RENEW);
	struct expect late_fresh = TXCT(S_LATE, CT_FRESH);
	struct expect late_hit = TXCT(S_LATE, CT_HIT);
	struct xdplb_svc_key key;
	struct result r;
	struct pkt p;
	int err;

	build(&p, &sp);
	check("port-0 service", &p, p.len, &any_new, &r);
	add_service(S_LATE);
	check("exact-port service added: the tracked flow", &p, p.len,
	      &any_hit, &r);

	tcp_flags = TCP_SYN;
	build(&p, &sp);
	check("exact-port service added: a new connection", &p, p.len,
	      &late_fresh, &r);
	tcp_flags = TCP_ACK;
	build(&p, &sp);
	check("exact-port service, the new connection again", &p, p.len,
	      &late_hit, &r);

	cr_assert_eq(parse_vip(svc_defs[S_LATE].vip, &key), 0);
	err = lb_svc_del(&lb, &key);
	cr_assert_eq(err, 0, "lb_svc_del: %s", strerror(-err));
	cr_assert_eq(lb_reals(&lb, reals), 0);
	check("exact-port service deleted", &p, p.len, &any_renew, &r);
}

/* vip_filter bit of a VIP address, read from the map. */
static bool filter_bit(const char *vip)
{
	struct xdplb_svc_key key;
	__u32 bit, word;
	__u64 w = 0;

	cr_assert_eq(parse_vip(vip, &key), 0);
	bit = xdplb_vip_bit(&key.addr);
	word = bit >> 6;
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.vip_filter),
					 &word, &w), 0);
	return (w >> (bit & 63)) & 1;
}

/*
 * The VIP filter the data path checks first: a bit for every VIP address,
 * cleared when the address's last service goes (so traffic to it is
 * passed without a connection table lookup); then a packet to it passes.
 */
Test(packets, vip_filter_follows_services)
{
	struct spec sp = { V4, .dst = VIP4C, TCP, .dport = 80 };
	struct expect pass = PASS(pass_not_service);
	struct xdplb_svc_key key;
	struct result r;
	struct pkt p;
	int s, err;

	for (s = 0; s < N_SVC; s++)
		if (!svc_defs[s].late)
			cr_expect(filter_bit(svc_defs[s].vip), "no filter bit "
				  "for %s", svc_defs[s].vip);
	cr_assert_eq(parse_vip(svc_defs[S_CHURN].vip, &key), 0);
	err = lb_svc_del(&lb, &key);
	cr_assert_eq(err, 0, "lb_svc_del: %s", strerror(-err));
	for (s = 0; s < N_SVC; s++) {
		struct xdplb_svc_key other;

		cr_assert_eq(parse_vip(svc_defs[s].vip, &other), 0);
		if (s != S_CHURN && !svc_defs[s].late &&
		    xdplb_vip_bit(&other.addr) == xdplb_vip_bit(&key.addr))
			cr_assert_fail("%s shares the bit of %s: pick another "
				       "address", svc_defs[s].vip,
				       svc_defs[S_CHURN].vip);
	}
	cr_expect_not(filter_bit(svc_defs[S_CHURN].vip),
		      "the bit of deleted %s is still set",
		      svc_defs[S_CHURN].vip);
	build(&p, &sp);
	check("to the deleted VIP", &p, p.len, &pass, &r);
}

/* A freed real slot reads svc_id 0, service 0's id: for service 0 only its
 * used flag tells that a flow tracked to it must be placed again. */
Test(packets, deleted_real_of_service_0)
{
	static struct flows f;
	struct spec base = { V4, .dst = VIP4, TCP, .dport = 80 };
	struct expect renew = TXCT(S_V4_TCP, CT_RENEW);
	struct expect hit = TXCT(S_V4_TCP, CT_HIT);
	int hits[MAX_REALS_PER_SVC], i;
	struct result r;
	struct pkt p;
	char desc[64];

	cr_assert_eq(svc_id[S_V4_TCP], 0);
	flows_start(&f, S_V4_TCP, &base, 3000, 30, hits);
	cr_assert_gt(hits[0], 0);
	del_real(S_V4_TCP, 0);
	for (i = 0; i < f.n; i++) {
		flow_pkt(&f, i, &p);
		snprintf(desc, sizeof(desc), "real 0 deleted: flow from port "
			 "%u", f.sport[i]);
		check(desc, &p, p.len, f.real[i] == 0 ? &renew : &hit, &r);
		cr_expect_neq(r.real, 0, "%s: to the deleted real", desc);
	}
}

/* A UDP flow idle past its timeout (50 ms here) is placed again; a TCP
 * one idle as long, with its own timeout, is not. */
Test(ct_load, udp_timeout, .init = setup_udp_timeout)
{
	struct spec us = { V4, .dst = VIP4, UDP, .dport = 53 };
	struct spec ts = { V4, .dst = VIP4, TCP, .dport = 80, .sport = 7000 };
	struct expect u = TX(S_V4_UDP), t = TX(S_V4_TCP);
	struct lb_conn c;
	struct pkt up, tp;
	struct result r;
	__u32 port;

	build(&tp, &ts);
	t.ct = CT_NEW;
	check("TCP, first packet", &tp, tp.len, &t, &r);

	/* Seen again well within the timeout: a hit. (Should the test be
	 * held up 20 ms between two packets, it tries another flow.) */
	for (port = 7000;; port++) {
		cr_assert_lt(port, 7010, "ten tries, each held up 20 ms");
		us.sport = port;
		build(&up, &us);
		u.ct = CT_NEW;
		check("UDP, first packet", &up, up.len, &u, &r);
		cr_assert(ct_entry(&up.flow, &c), "UDP flow not tracked");
		if (lb_now_ns() - c.last_seen < 20 * MSEC)
			break;
	}
	u.ct = CT_HIT;
	check("UDP, again within the timeout", &up, up.len, &u, &r);

	/* Idle twice the timeout: far more than a tick of the coarse clock
	 * past it. */
	sleep_ms(2 * UDP_TIMEOUT_MS);
	u.ct = CT_RENEW;
	check("UDP, idle past the timeout", &up, up.len, &u, &r);
	u.ct = CT_HIT;
	check("UDP, tracked again", &up, up.len, &u, &r);
	t.ct = CT_HIT;
	check("TCP, idle as long, within its timeout", &tp, tp.len, &t, &r);
}

/* The next flow like base, from client 100.0.0.0/8 port 1024 + ... on
 * (*n counts them), that lives in set. */
static void flow_in_set(const struct spec *base, __u32 set, __u32 *n,
			struct pkt *p)
{
	struct spec sp = *base;
	struct xdplb_flow f;
	char src[32];

	/* A packet per address; its 256 ports tried on the flow alone. */
	for (;; (*n)++) {
		cr_assert_lt(*n, 1u << 31, "no flow in set %u", set);
		if (!(*n & 0xff) || sp.src != src) {
			snprintf(src, sizeof(src), "100.%u.%u.%u",
				 *n >> 24 & 0xff, *n >> 16 & 0xff,
				 *n >> 8 & 0xff);
			sp.src = src;
			sp.sport = 1024;
			build(p, &sp);
			f = p->flow;
		}
		f.sport = htons(1024 + (*n & 0xff));
		if (ct_set_of(&f) == set)
			break;
	}
	sp.sport = 1024 + (*n & 0xff);
	build(p, &sp);
	(*n)++;
}

/*
 * A full set: three live TCP flows, then a UDP flow that expires while
 * they live on. A new flow must take the expired way (xdplb.h: "a new
 * flow takes an empty or expired way, else the least recently used"), and
 * the least recently used TCP flow, still live, stays tracked.
 */
Test(ct_load, expired_way_goes_first, .init = setup_udp_timeout)
{
	struct spec tcp4 = { V4, .dst = VIP4, TCP, .dport = 80 };
	struct spec udp4 = { V4, .dst = VIP4, UDP, .dport = 53 };
	struct expect t_new = TXCT(S_V4_TCP, CT_NEW);
	struct expect t_hit = TXCT(S_V4_TCP, CT_HIT);
	struct expect u_new = TXCT(S_V4_UDP, CT_NEW);
	struct pkt live[3], expiring, late;
	__u32 set, n = 0;
	struct result r;
	char desc[64];
	int i;

	build(&live[0], &tcp4);
	set = ct_set_of(&live[0].flow);
	for (i = 1; i < 3; i++)
		flow_in_set(&tcp4, set, &n, &live[i]);
	flow_in_set(&udp4, set, &n, &expiring);
	flow_in_set(&tcp4, set, &n, &late);

	for (i = 0; i < 3; i++) {
		snprintf(desc, sizeof(desc), "live TCP flow %d", i);
		check(desc, &live[i], live[i].len, &t_new, &r);
	}
	sleep_ms(20);		/* the UDP flow is the most recent */
	check("UDP flow", &expiring, expiring.len, &u_new, &r);
	sleep_ms(2 * UDP_TIMEOUT_MS);
	check("a new flow, the set full", &late, late.len, &t_new, &r);
	for (i = 0; i < 3; i++) {
		snprintf(desc, sizeof(desc), "live TCP flow %d again", i);
		check(desc, &live[i], live[i].len, &t_hit, &r);
	}
}

/*
 * The rate cap: of 2 * FLOOD_RATE new flows in one second, the first
 * FLOOD_RATE are tracked and the others forwarded where Maglev says,
 * untracked (ct_flood), again and again within the second. Hits take no
 * allowance; the next second the others are tracked.
 */
Test(ct_load, flood_guard, .init = setup_flood)
{
	enum { N = 2 * FLOOD_RATE };
	static struct pkt p[N + 1];
	struct spec sp = { V4, .dst = VIP4, TCP, .dport = 80 };
	struct xdplb_global_stats g0, g1;
	struct result r;
	char desc[64];
	int i, round;
	__u64 t0;

	for (i = 0; i < N; i++) {
		sp.sport = 8000 + i;
		build(&p[i], &sp);
	}
	global(&g0);
	t0 = lb_now_ns();
	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++) {
			struct expect e = TXCT(S_V4_TCP, i >= FLOOD_RATE ?
					       CT_FLOOD : round ? CT_HIT :
					       CT_NEW);

			snprintf(desc, sizeof(desc), "flow %d of %d%s", i + 1,
				 N, round ? ", again" : "");
			check(desc, &p[i], p[i].len, &e, &r);
		}
	}
	global(&g1);
	cr_assert_lt(lb_now_ns() - t0, NSEC / 2, "two rounds took half a "
		     "second: the cap's window may have moved");
	cr_expect(g1.ct_new - g0.ct_new == FLOOD_RATE &&
		  g1.ct_flood - g0.ct_flood == N &&
		  g1.ct_hit - g0.ct_hit == FLOOD_RATE &&
		  g1.tx_packets - g0.tx_packets == 2 * N,
		  "ct_new +%llu, ct_flood +%llu, ct_hit +%llu, tx +%llu",
		  (unsigned long long)(g1.ct_new - g0.ct_new),
		  (unsigned long long)(g1.ct_flood - g0.ct_flood),
		  (unsigned long long)(g1.ct_hit - g0.ct_hit),
		  (unsigned long long)(g1.tx_packets - g0.tx_packets));

	/* A new second, a new allowance: a new flow starts it, the hits
	 * take none of it, and all but one of the flows left out fit. */
	sleep_ms(1100);
	sp.sport = 8000 + N;
	build(&p[N], &sp);
	for (i = 0; i <= N; i++) {
		int k = (i + N) % (N + 1);	/* the new flow first */
		struct expect e = TXCT(S_V4_TCP,
				       k < FLOOD_RATE ? CT_HIT :
				       k == N - 1 ? CT_FLOOD : CT_NEW);

		snprintf(desc, sizeof(desc), "flow %d of %d, a second later",
			 k + 1, N + 1);
		check(desc, &p[k], p[k].len, &e, &r);
	}
}

/* The connection table's per-CPU counters and notes (ct_guard) of the
 * CPU the test runs on. */
static struct xdplb_ct_guard guard(void)
{
	struct xdplb_ct_guard *g = calloc(lb.ncpus, sizeof(*g)), mine;
	__u32 zero = 0;

	cr_assert_not_null(g);
	cr_assert_eq(bpf_map_lookup_elem(lb.ct_guard_fd, &zero, g), 0);
	mine = g[ct_cpu];
	free(g);
	return mine;
}

/*
 * Defect 4 of issue 15: at the default settings, a SYN flood does not push
 * idle established flows out of the table. An established flow has seen a
 * second packet (confirmed), and a confirmed flow that is live is never
 * evicted (xdplb.h), whatever the flood's size and rate. A flood aimed at
 * the sets of 16 idle flows, eight SYNs into each (twice what a set
 * holds: the least recently used policy of the per-CPU tables lost every
 * one of them), and each is still tracked to its real; the SYNs were all
 * placed, and churned only the ways the flood itself had taken.
 */
Test(ct_load, flood_keeps_idle_flows, .init = setup_attach_defaults)
{
	enum { IDLE = 16, PER_SET = 2 * XDPLB_CT_WAYS };
	struct spec sp = { V4, .dst = VIP4, TCP, .dport = 80 };
	struct spec spoof = { V4, .dst = VIP4, TCP, .dport = 80 };
	struct expect hit = TXCT(S_V4_TCP, CT_HIT);
	struct expect e_new = TXCT(S_V4_TCP, CT_NEW);
	struct xdplb_global_stats g0, g1;
	struct xdplb_ct_guard c0, c1;
	static struct pkt idle[IDLE];
	__u64 lost = 0;
	struct result r;
	char desc[64];
	struct pkt p;
	__u32 n = 0;
	int i, k;

	cr_assert_eq(ld.ct_rate, xdplb_ct_default_rate(XDPLB_DEFAULT_CT_SIZE));
	for (i = 0; i < IDLE; i++) {
		sp.sport = 20000 + i;
		build(&idle[i], &sp);
		snprintf(desc, sizeof(desc), "idle flow %d", i);
		check(desc, &idle[i], idle[i].len, &e_new, &r);
		snprintf(desc, sizeof(desc), "idle flow %d, confirmed", i);
		check(desc, &idle[i], idle[i].len, &hit, &r);
	}
	global(&g0);
	c0 = guard();
	for (i = 0; i < IDLE; i++) {
		for (k = 0; k < PER_SET; k++) {
			tcp_flags = TCP_SYN;
			flow_in_set(&spoof, ct_set_of(&idle[i].flow), &n, &p);
			tcp_flags = TCP_ACK;
			cr_assert_eq(run(&p, p.len, &r), 0);
			cr_assert_eq(r.action, XDP_TX, "flood SYN %d: %s", k,
				     action_name(r.action));
		}
	}
	global(&g1);
	c1 = guard();
	cr_expect_eq(g1.ct_new + g1.ct_flood - g0.ct_new - g0.ct_flood +
		     c1.full - c0.full, IDLE * PER_SET,
		     "not every SYN of the flood was placed");
	for (i = 0; i < IDLE; i++) {
		struct lb_conn c;

		if (!ct_entry(&idle[i].flow, &c)) {
			lost++;
			continue;
		}
		snprintf(desc, sizeof(desc), "idle flow %d after the flood", i);
		check(desc, &idle[i], idle[i].len, &hit, &r);
	}
	cr_expect_eq(lost, 0, "the flood pushed %llu of %d idle flows out",
		     (unsigned long long)lost, IDLE);
}

/* One-packet scheduling: every UDP packet is placed by Maglev on its own
 * and nothing is tracked, so the flow follows the table when it changes. */
Test(packets, ops_udp_is_not_tracked)
{
	struct spec sp = { V4, .dst = VIP4O, UDP, .dport = 53, .sport = 9000 };
	struct expect e = TXCT(S_OPS, CT_OPS);
	struct lb_conn c;
	struct result r;
	struct pkt p;
	int first;

	build(&p, &sp);
	check("first packet", &p, p.len, &e, &r);
	first = r.real;
	cr_expect(!ct_entry(&p.flow, &c), "the flow is tracked");
	check("second packet", &p, p.len, &e, &r);
	cr_expect_eq(r.real, first, "second packet to real %d, first to %d",
		     r.real, first);
	set_weight(S_OPS, first, 0);
	check("its real drained", &p, p.len, &e, &r);
	cr_expect_neq(r.real, first, "still to the drained real");
	cr_expect(!ct_entry(&p.flow, &c), "the flow is tracked");
}

/*
 * One client of a src-ip service: its flows from 50 source ports all go
 * to one real, the one in slot xdplb_maglev_slot(xdplb_src_hash), and its
 * fragments go there too: a first one as a flow of its own, the later
 * ones (which carry no ports) after their first (frag_fwd) or, when
 * their first was not seen, by the client address (frag_src_ip).
 */
static void one_client(int s, const struct spec *base,
		       const struct spec *frags, int nfrags)
{
	struct expect e = TXCT(s, CT_NEW), fe = TXCT(s, CT_NONE);
	struct expect first = TXCT(s, CT_AUTO);
	struct result r;
	struct pkt p;
	char desc[96];
	__u32 want = XDPLB_NO_REAL;
	int i;

	for (i = 0; i < 50; i++) {
		struct spec sp = *base;

		sp.sport = 1024 + 97 * i;
		build(&p, &sp);
		if (!i)
			want = maglev_at(s, xdplb_maglev_slot(
					    xdplb_src_hash(&p.flow, SEED),
					    TABLE_SIZE));
		snprintf(desc, sizeof(desc), "%s: flow from port %u",
			 svc_defs[s].vip, sp.sport);
		check(desc, &p, p.len, &e, &r);
		cr_expect_eq(r.id, want, "%s: to real %u, the client's slot "
			     "holds %u", desc, r.id, want);
	}
	for (i = 0; i < nfrags; i++) {
		build(&p, &frags[i]);
		cr_assert(p.fragment);
		snprintf(desc, sizeof(desc), "%s: fragment %d", svc_defs[s].vip,
			 i);
		check(desc, &p, p.len, p.frag_first ? &first : &fe, &r);
		cr_expect_eq(r.id, want, "%s: to real %u, the client's flows "
			     "to %u", desc, r.id, want);
	}
}

/*
 * Fragments of a 5-tuple service: each datagram's first fragment goes as
 * its flow does, and its later ones (no ports) follow it, so datagrams of
 * one client still spread over the reals. A later fragment whose first
 * was not seen, is too old, or went to a real since deleted (its slot
 * reused or not) has nothing to follow at a VIP without a src-ip service,
 * and is dropped; so is one whose first was dropped, even at a VIP with a
 * src-ip service.
 */
Test(packets, fragments_follow_their_first)
{
	struct expect first = TX(S_V4_TCP), later = TXCT(S_V4_TCP, CT_NONE);
	struct expect first6 = TX(S_V6_UDP), later6 = TXCT(S_V6_UDP, CT_NONE);
	const struct expect lost = DROP(drop_fragment);
	struct expect src_ip = TXCT(S_SRC4, CT_NONE);
	bool seen[MAX_REALS_PER_SVC] = { false };
	struct xdplb_global_stats gs;
	int to[20], to6[6], n = 0, i, gone, added;
	__u32 id;
	struct xdplb_frag f;
	struct result r;
	struct pkt p;
	char desc[96];

	for (i = 0; i < 20; i++) {
		struct spec a = { V4, .dst = VIP4, TCP, .dport = 80,
				  .sport = 3000 + i, .frag = 0x2000,
				  .ip_id = 100 + i, .payload = 8 };
		struct spec b = { V4, .dst = VIP4, TCP, .frag = 185,
				  .ip_id = 100 + i, .payload = 64 };

		build(&p, &a);
		snprintf(desc, sizeof(desc), "datagram %d: first fragment", i);
		check(desc, &p, p.len, &first, &r);
		to[i] = r.real;
		n += !seen[r.real];
		seen[r.real] = true;
		build(&p, &b);
		snprintf(desc, sizeof(desc), "datagram %d: later fragment", i);
		check(desc, &p, p.len, &later, &r);
		cr_expect_eq(r.real, to[i], "%s: to real %d, its first to %d",
			     desc, r.real, to[i]);
	}
	cr_expect_geq(n, 2, "20 datagrams all on one real");

	/* Even datagrams: options before the fragment header (in every
	 * fragment); odd ones: after it (only the first shows them, and the
	 * fragment header of each names them). */
	for (i = 0; i < 6; i++) {
		struct spec a = { V6, .ext = { EH(FRAGMENT) }, .frag6 = 1,
				  .dst = VIP6, UDP, .dport = 53,
				  .sport = 5000 + i, .ip_id = 0x10000 + i,
				  .payload = 8 };
		struct spec b = { V6, .ext = { EH(DSTOPTS), EH(FRAGMENT) },
				  .frag6 = 100 << 3, .dst = VIP6, UDP,
				  .ip_id = 0x10000 + i, .payload = 64 };
		int real;

		if (i & 1) {
			a.ext[1] = EH(DSTOPTS);
			b.ext[0] = EH(FRAGMENT);
			b.ext[1] = EH(DSTOPTS);
		}

		build(&p, &a);
		snprintf(desc, sizeof(desc), "IPv6 datagram %d: first", i);
		check(desc, &p, p.len, &first6, &r);
		real = r.real;
		build(&p, &b);
		snprintf(desc, sizeof(desc), "IPv6 datagram %d: later", i);
		check(desc, &p, p.len, &later6, &r);
		cr_expect_eq(r.real, real, "%s: to real %d, its first to %d",
			     desc, r.real, real);
		to6[i] = real;
	}

	/* Another datagram of the same client: no first seen. */
	build(&p, &(struct spec){ V4, .dst = VIP4, TCP, .frag = 185,
				  .ip_id = 99, .payload = 64 });
	check("later fragment, its first not seen", &p, p.len, &lost, &r);

	/* Datagram 0's first fragment, as if seen longer ago than the
	 * datagram's fragments follow it. */
	build(&p, &(struct spec){ V4, .dst = VIP4, TCP, .frag = 185,
				  .ip_id = 100, .payload = 64 });
	cr_assert(frag_entry(&p, &f));
	{
		struct xdplb_frag_key k;

		frag_key_of(&p, &k);

		f.first_ns = lb_now_ns() - (XDPLB_FRAG_TIMEOUT + 1) * NSEC;
		cr_assert_eq(bpf_map_update_elem(
				     bpf_map__fd(skel->maps.frags), &k, &f,
				     BPF_EXIST), 0);
	}
	check("later fragment, its first too old", &p, p.len, &lost, &r);

	/* Datagram 1's real deleted; then its slot taken by a new real (the
	 * next generation), which must not get the datagram either. */
	gone = to[1];
	id = real_id[S_V4_TCP][gone];
	del_real(S_V4_TCP, gone);
	build(&p, &(struct spec){ V4, .dst = VIP4, TCP, .frag = 185,
				  .ip_id = 101, .payload = 64 });
	check("later fragment, its first's real deleted", &p, p.len, &lost,
	      &r);
	cr_assert_eq(lb_reals(&lb, reals), 0);
	added = add_real(S_V4_TCP, 1);
	rebuild(S_V4_TCP);
	cr_assert_eq(real_id[S_V4_TCP][added], id, "the new real is %u, the "
		     "freed slot %u", real_id[S_V4_TCP][added], id);
	check("later fragment, its first's real's slot reused", &p, p.len,
	      &lost, &r);

	/* A first fragment dropped (no service on its port): its later
	 * ones are dropped too, though the VIP's src-ip service would take
	 * a later fragment whose first it had not seen. */
	build(&p, &(struct spec){ V4, .dst = VIP4S, TCP, .dport = 443,
				  .frag = 0x2000, .ip_id = 77 });
	check("first fragment to a src-ip VIP's port without a service", &p,
	      p.len, &lost, &r);
	build(&p, &(struct spec){ V4, .dst = VIP4S, TCP, .frag = 185,
				  .ip_id = 77, .payload = 64 });
	check("later fragment, its first dropped", &p, p.len, &lost, &r);
	build(&p, &(struct spec){ V4, .dst = VIP4S, TCP, .frag = 185,
				  .ip_id = 78, .payload = 64 });
	check("later fragment to a src-ip VIP, its first not seen", &p, p.len,
	      &src_ip, &r);
	for (i = 2; i < 20; i++) {
		if (to[i] == gone)
			continue;
		build(&p, &(struct spec){ V4, .dst = VIP4, TCP, .frag = 185,
					  .ip_id = 100 + i, .payload = 64 });
		snprintf(desc, sizeof(desc), "datagram %d: later fragment "
			 "after another real's deletion", i);
		check(desc, &p, p.len, &later, &r);
		cr_expect_eq(r.real, to[i], "%s: to real %d, its first to %d",
			     desc, r.real, to[i]);
	}
	/* IPv6 datagram 1's real deleted: its later fragments name the
	 * options header, no protocol a src-ip service could place, and
	 * the kernel never saw their first: dropped too. */
	del_real(S_V6_UDP, to6[1]);
	build(&p, &(struct spec){ V6, .ext = { EH(FRAGMENT), EH(DSTOPTS) },
				  .frag6 = 100 << 3, .dst = VIP6, UDP,
				  .ip_id = 0x10001, .payload = 64 });
	check("IPv6 later fragment naming options, its first's real deleted",
	      &p, p.len, &lost, &r);

	global(&gs);
	cr_expect_geq(gs.frag_fwd, 26, "frag_fwd %llu",
		      (unsigned long long)gs.frag_fwd);
	cr_expect_eq(gs.frag_src_ip, 1, "frag_src_ip %llu",
		     (unsigned long long)gs.frag_src_ip);
}

Test(packets, src_ip_keeps_a_client_on_one_real)
{
	static const struct spec frag4[] = {
		{ V4, .frag = 0x2000, .dst = VIP4S, TCP, .dport = 80,
		  .payload = 8 },
		{ V4, .frag = 0x2000 | 185, .dst = VIP4S, TCP,
		  .payload = 64 },
		{ V4, .frag = 370, .dst = VIP4S, TCP, .payload = 16 },
	};
	static const struct spec frag6[] = {
		{ V6, .ext = { EH(FRAGMENT) }, .frag6 = 1, .dst = VIP6S, UDP,
		  .dport = 53, .payload = 8 },
		{ V6, .ext = { EH(FRAGMENT) }, .frag6 = 100 << 3 | 1,
		  .dst = VIP6S, UDP, .payload = 64 },
		{ V6, .ext = { EH(DSTOPTS), EH(FRAGMENT) }, .frag6 = 200 << 3,
		  .dst = VIP6S, UDP, .payload = 16 },
	};
	struct spec v4 = { V4, .dst = VIP4S, TCP, .dport = 80 };
	struct spec v6 = { V6, .dst = VIP6S, UDP, .dport = 53 };
	struct expect e = TXCT(S_SRC4, CT_NEW);
	bool seen[MAX_REALS_PER_SVC] = { false };
	struct result r;
	struct pkt p;
	char src[32];
	int i, n = 0;

	one_client(S_SRC4, &v4, frag4, ARRAY_SIZE(frag4));
	one_client(S_SRC6, &v6, frag6, ARRAY_SIZE(frag6));

	/* Different clients still spread over the reals. */
	for (i = 0; i < 32; i++) {
		snprintf(src, sizeof(src), "203.0.113.%d", i + 1);
		v4.src = src;
		build(&p, &v4);
		check(src, &p, p.len, &e, &r);
		if (r.real >= 0 && !seen[r.real]) {
			seen[r.real] = true;
			n++;
		}
	}
	cr_expect_geq(n, 2, "32 clients all on one real");
}

/*
 * An ICMP error about a tracked flow goes to the flow's real even after a
 * weight change has Maglev place the flow elsewhere, and tracks nothing
 * of its own; one about a flow never seen goes where Maglev says.
 */
static void icmp_follows(int s, const struct spec *fwd,
			 const struct spec *err)
{
	struct expect e_new = TXCT(s, CT_NEW), e_hit = TXCT(s, CT_HIT);
	struct expect e_miss = TXCT(s, CT_MISS);
	struct spec fwd2 = *fwd, err2 = *err;
	struct pkt pf, pe, pf2, pe2;
	const char *vip = svc_defs[s].vip;
	struct result r;
	char desc[96];
	int a, i;

	build(&pf, fwd);
	build(&pe, err);
	cr_assert_eq(memcmp(&pf.flow, &pe.flow, sizeof(pf.flow)), 0,
		     "%s: the error quotes another flow", vip);
	snprintf(desc, sizeof(desc), "%s: the flow's first packet", vip);
	check(desc, &pf, pf.len, &e_new, &r);
	a = r.real;

	/* Every other real weight 50: Maglev now places the flow elsewhere. */
	for (i = 0; i < n_real[s]; i++)
		if (i != a)
			update_weight(s, i, 50);
	rebuild(s);
	cr_assert_neq(predict(&pf.flow, s), real_id[s][a],
		      "%s: the weight change does not move the flow", vip);

	snprintf(desc, sizeof(desc), "%s: ICMP error about it", vip);
	check(desc, &pe, pe.len, &e_hit, &r);
	cr_expect_eq(r.real, a, "%s: to real %d, the flow's is %d", desc,
		     r.real, a);

	/* About a flow never seen: where Maglev says, and that flow's first
	 * packet is then still new. */
	fwd2.sport = err2.sport = fwd->sport + 1;
	build(&pf2, &fwd2);
	build(&pe2, &err2);
	snprintf(desc, sizeof(desc), "%s: ICMP error about another flow", vip);
	check(desc, &pe2, pe2.len, &e_miss, &r);
	snprintf(desc, sizeof(desc), "%s: that flow's first packet", vip);
	check(desc, &pf2, pf2.len, &e_new, &r);
	snprintf(desc, sizeof(desc), "%s: the first flow again", vip);
	check(desc, &pf, pf.len, &e_hit, &r);
	cr_expect_eq(r.real, a, "%s: to real %d, first to %d", desc, r.real,
		     a);
}

Test(packets, icmp_error_follows_its_flow)
{
	struct spec fwd4 = { V4, .dst = VIP4, TCP, .dport = 80,
			     .sport = 41000 };
	struct spec err4 = { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80,
			     .sport = 41000, .payload = 20 };
	struct spec fwd6 = { V6, .dst = VIP6, TCP, .dport = 80,
			     .sport = 41000 };
	struct spec err6 = { V6, .dst = VIP6, ICMP6(2, 0), .dport = 80,
			     .sport = 41000, .payload = 20 };

	icmp_follows(S_V4_TCP, &fwd4, &err4);
	icmp_follows(S_V6_TCP, &fwd6, &err6);
}

/* ICMP errors cut at every length: up to the end of the ICMP header a
 * counted drop, in the quote before the end of the ports passed, from
 * there on forwarded; none of them tracks the flow. */
Test(packets, icmp_error_truncated)
{
	static const struct pcase bases[] = {
		{ "ICMP fragmentation needed",
		  { V4, .dst = VIP4, ICMP4(3, 4), .dport = 80, .payload = 8 },
		  TXCT(S_V4_TCP, CT_MISS) },
		{ "ICMP time exceeded in QinQ, quoting UDP with options",
		  { V4, QINQ, .dst = VIP4, ICMP4(11, 0), .dport = 53,
		    .q = { .proto = IPPROTO_UDP, .ihl = 7 } },
		  TXCT(S_V4_UDP, CT_MISS) },
		{ "ICMPv6 packet too big",
		  { V6, .dst = VIP6, ICMP6(2, 0), .dport = 80, .payload = 8 },
		  TXCT(S_V6_TCP, CT_MISS) },
	};
	const struct expect trunc = DROP(drop_truncated);
	const struct expect short_quote = PASS(pass_not_l4);
	const struct expect *e;
	struct result r;
	struct pkt p;
	char desc[96];
	__u32 len;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		const struct pcase *c = &bases[i];

		build(&p, &c->spec);
		cr_assert(p.icmp_end > ETH_HLEN && p.l4_end > p.icmp_end);
		for (len = ETH_HLEN; len <= p.len; len++) {
			e = len < p.icmp_end ? &trunc :
			    len < p.l4_end ? &short_quote : &c->expect;
			snprintf(desc, sizeof(desc), "%s cut at %u (in %s)",
				 c->desc, len, field_at(&p, len));
			if (!check(desc, &p, len, e, &r))
				break;
		}
	}
	for (i = 0; i < ARRAY_SIZE(bases); i++) {
		struct spec sp = bases[i].spec;
		struct expect e_new = TXCT(bases[i].expect.svc, CT_NEW);

		/* The flow the errors quote, from the client. */
		sp.src = NULL;
		sp.l4 = sp.q.proto ? sp.q.proto : IPPROTO_TCP;
		sp.icmp_type = 0;
		build(&p, &sp);
		snprintf(desc, sizeof(desc), "%s: the flow's first packet",
			 bases[i].desc);
		check(desc, &p, p.len, &e_new, &r);
	}
}

/* Configurations applied --------------------------------------------------- */

/*
 * A segment for the reals config_apply adds, which it checks are hosts on
 * the instance's interface: this test's own network namespace (criterion
 * runs each test in a process of its own) with a veth on 10.100.0.0/16
 * and 2001:db8:100::/48, which becomes the instance's interface.
 */
static void conf_segment(void)
{
	int err;

	if (unshare(CLONE_NEWNET))
		cr_skip_test("cannot make a network namespace: %s",
			     strerror(errno));
	err = system("ip link add seg0 type veth peer name seg1 && "
		     "ip link set seg0 up && ip link set seg1 up && "
		     "ip addr add 10.100.255.254/16 dev seg0 && "
		     "ip addr add 2001:db8:100:ffff::1/48 dev seg0 nodad");
	cr_assert_eq(err, 0, "cannot set up the segment (ip: %d)", err);
	lb.cfg.ifindex = if_nametoindex("seg0");
	cr_assert_neq(lb.cfg.ifindex, 0);
	snprintf(lb.cfg.ifname, sizeof(lb.cfg.ifname), "seg0");
}

/* Append to c a real of service s at 10.100.s.n with a MAC given (so that
 * nothing is resolved); returns its place in c. */
static int conf_add_real(struct config *c, int s, int n)
{
	struct config_real *r, *v;
	char addr[32];

	v = realloc(c->reals, (c->nreals + 1) * sizeof(*v));
	cr_assert_not_null(v);
	c->reals = v;
	r = memset(&v[c->nreals], 0, sizeof(*r));
	cr_assert_eq(parse_vip(svc_defs[s].vip, &r->svc), 0);
	snprintf(addr, sizeof(addr), "10.100.%d.%d", s, n);
	cr_assert_eq(parse_addr(addr, &r->addr, &r->family), 0);
	r->weight = 1;
	r->mac_manual = true;
	real_mac(s, n - 1, r->mac);
	return c->nreals++;
}

/* The place in c of service s. */
static struct config_service *conf_svc(struct config *c, int s)
{
	struct xdplb_svc_key key;
	int i;

	cr_assert_eq(parse_vip(svc_defs[s].vip, &key), 0);
	for (i = 0; i < c->nsvcs; i++)
		if (!memcmp(&c->svcs[i].key, &key, sizeof(key)))
			return &c->svcs[i];
	cr_assert_fail("%s is not in the configuration", svc_defs[s].vip);
	return NULL;
}

/* How many slots of service s's Maglev table name real id. */
static int slots_of(int s, __u32 id)
{
	__u32 slot;
	int n = 0;

	for (slot = 0; slot < TABLE_SIZE; slot++)
		n += maglev_at(s, slot) == id;
	return n;
}

/* The id of real n of service s added by conf_add_real, and its flags. */
static __u32 conf_real_id(int s, int n, __u8 *flags)
{
	struct xdplb_addr a;
	char addr[32];
	__u8 fam;
	int id;

	snprintf(addr, sizeof(addr), "10.100.%d.%d", s, n);
	cr_assert_eq(parse_addr(addr, &a, &fam), 0);
	cr_assert_eq(lb_reals(&lb, reals), 0);
	id = lb_real_find(reals, svc_id[s], &a, fam);
	cr_assert_geq(id, 0, "real %s of %s is not there", addr,
		      svc_defs[s].vip);
	*flags = reals[id].flags;
	return id;
}

/*
 * config_apply's new reals. With CONFIG_APPLY_NEW_DOWN (the daemon's
 * reloads), a new real of a service whose reals have a check is added
 * down: no slot of the table ever names it before a check has passed
 * (the daemon then brings it up). A new real of a service without one,
 * or of a port-0 service with a tcp check (nothing to connect to), is
 * added up, and so is every new real without the flag (`restore`, which
 * no checker follows).
 */
Test(packets, config_apply_new_reals_down)
{
	struct config *c = NULL;
	struct config_diff d;
	__u8 fl;
	__u32 id;
	int err;

	conf_segment();
	cr_assert_eq(config_from_lb(&lb, &c), 0);
	conf_svc(c, S_DRAIN)->opts.check = XDPLB_CHECK_TCP;
	conf_svc(c, S_ANY_PORT)->opts.check = XDPLB_CHECK_TCP;
	conf_add_real(c, S_DRAIN, 9);
	conf_add_real(c, S_ANY_PORT, 9);
	conf_add_real(c, S_V4_TCP, 9);
	err = config_apply(&lb, c, CONFIG_APPLY_NEW_DOWN, &d);
	cr_assert_eq(err, 0, "config_apply: %s", d.error);
	cr_expect_eq(d.reals_added, 3);
	cr_expect_eq(d.svcs_changed, 2);

	id = conf_real_id(S_DRAIN, 9, &fl);
	cr_expect(fl & XDPLB_REAL_F_DOWN, "checked service: the new real is "
		  "up (flags %#x)", fl);
	cr_expect_eq(slots_of(S_DRAIN, id), 0, "checked service: the new "
		     "real is in %d slots", slots_of(S_DRAIN, id));
	id = conf_real_id(S_ANY_PORT, 9, &fl);
	cr_expect(!(fl & XDPLB_REAL_F_DOWN), "port-0 service, tcp check: "
		  "the new real is down");
	cr_expect_gt(slots_of(S_ANY_PORT, id), 0);
	id = conf_real_id(S_V4_TCP, 9, &fl);
	cr_expect(!(fl & XDPLB_REAL_F_DOWN), "no check: the new real is down");
	cr_expect_gt(slots_of(S_V4_TCP, id), 0);

	/* Without the flag, as restore: up and in the table, check or not. */
	conf_add_real(c, S_DRAIN, 10);
	err = config_apply(&lb, c, 0, &d);
	cr_assert_eq(err, 0, "config_apply: %s", d.error);
	cr_expect_eq(d.reals_added, 1);
	id = conf_real_id(S_DRAIN, 10, &fl);
	cr_expect(!(fl & XDPLB_REAL_F_DOWN), "restore: the new real is down");
	cr_expect_gt(slots_of(S_DRAIN, id), 0);
	/* The first one is still down: applying keeps health states. */
	conf_real_id(S_DRAIN, 9, &fl);
	cr_expect(fl & XDPLB_REAL_F_DOWN, "applying again brought a real up");
	config_free(c);
}

/*
 * A flood cannot evict an established flow: a set of four flows, each
 * seen twice (confirmed), takes no fifth, which is placed by Maglev but
 * not tracked (ct_guard's full), however many come; the four stay on
 * their reals. With one of them unconfirmed (a SYN, a first datagram),
 * a new flow takes its way: what a flood brings churns only itself.
 */
Test(packets, confirmed_flows_survive_a_flood)
{
	struct spec tcp4 = { V4, .dst = VIP4, TCP, .dport = 80 };
	struct expect new = TXCT(S_V4_TCP, CT_NEW);
	struct expect hit = TXCT(S_V4_TCP, CT_HIT);
	struct expect full = TXCT(S_V4_TCP, CT_FULL);
	struct pkt est[4], flood[20];
	struct xdplb_ct_guard g0, g1;
	__u32 set, n = 0;
	struct result r;
	char desc[64];
	int i;

	build(&est[0], &tcp4);
	set = ct_set_of(&est[0].flow);
	for (i = 1; i < 4; i++)
		flow_in_set(&tcp4, set, &n, &est[i]);
	for (i = 0; i < 20; i++)
		flow_in_set(&tcp4, set, &n, &flood[i]);

	for (i = 0; i < 4; i++) {
		snprintf(desc, sizeof(desc), "established flow %d", i);
		check(desc, &est[i], est[i].len, &new, &r);
		check(desc, &est[i], est[i].len, &hit, &r);	/* confirms */
	}
	g0 = guard();
	for (i = 0; i < 20; i++) {
		snprintf(desc, sizeof(desc), "flood flow %d, the set full", i);
		check(desc, &flood[i], flood[i].len, &full, &r);
	}
	g1 = guard();
	cr_expect_eq(g1.full - g0.full, 20, "ct_guard's full moved by %llu, "
		     "want 20", (unsigned long long)(g1.full - g0.full));
	for (i = 0; i < 4; i++) {
		snprintf(desc, sizeof(desc), "established flow %d after the "
			 "flood", i);
		check(desc, &est[i], est[i].len, &hit, &r);
	}

	/* One of the four unconfirmed: the flood churns its way only. */
	ct_read(set, &ct_buf[0]);
	i = ct_way(&ct_buf[0], &est[3].flow);
	cr_assert_geq(i, 0);
	{
		struct xdplb_conn_set *s;
		size_t len = (size_t)ld.ct_sets * sizeof(*s);

		s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 lb.conns_fd, 0);
		cr_assert_neq(s, MAP_FAILED);
		s[set].tag[i] &= ~XDPLB_CT_TAG_CONFIRMED;
		munmap(s, len);
	}
	for (i = 0; i < 5; i++) {
		snprintf(desc, sizeof(desc), "flood flow %d, one way "
			 "unconfirmed", i);
		check(desc, &flood[i], flood[i].len, &new, &r);
	}
	for (i = 0; i < 3; i++) {
		snprintf(desc, sizeof(desc), "established flow %d, finally",
			 i);
		check(desc, &est[i], est[i].len, &hit, &r);
	}
}

/*
 * With a short timeout the refresh interval is short too (an eighth of
 * it): a hit past it writes the last use again, and a flow kept busy
 * outlives its timeout many times over.
 */
Test(ct_load, busy_flow_outlives_its_timeout, .init = setup_udp_timeout)
{
	struct spec udp4 = { V4, .dst = VIP4, UDP, .dport = 53 };
	struct expect new = TXCT(S_V4_UDP, CT_NEW);
	struct expect hit = TXCT(S_V4_UDP, CT_HIT);
	struct lb_conn c0, c1;
	struct result r;
	struct pkt p;
	int i;

	build(&p, &udp4);
	check("first datagram", &p, p.len, &new, &r);
	cr_assert(ct_entry(&p.flow, &c0));
	for (i = 0; i < 3 * UDP_TIMEOUT_MS / 10; i++) {
		sleep_ms(10);
		if (!check("a datagram every 10 ms", &p, p.len, &hit, &r))
			break;
	}
	cr_assert(ct_entry(&p.flow, &c1));
	cr_expect_gt(c1.last_seen, c0.last_seen, "the last use never moved");
	cr_expect_eq(c1.created, c0.created);
}

/*
 * The sync daemon's notes: a flow confirmed here is noted once in this
 * CPU's ring (its set, way and tag); so is a flow learnt from a peer when
 * a packet of it first comes here, which makes it this load balancer's.
 */
Test(packets, confirmed_flows_are_noted)
{
	struct spec tcp4 = { V4, .dst = VIP4, TCP, .dport = 80,
			     .sport = 6001 };
	struct expect new = TXCT(S_V4_TCP, CT_NEW);
	struct expect hit = TXCT(S_V4_TCP, CT_HIT);
	struct xdplb_ct_guard g0, g1, g2;
	struct xdplb_ct_note note;
	struct result r;
	struct pkt p;
	__u32 set, pos;
	int way, fd = bpf_map__fd(skel->maps.ct_log);

	build(&p, &tcp4);
	set = ct_set_of(&p.flow);
	g0 = guard();
	check("first packet", &p, p.len, &new, &r);
	cr_expect_eq(guard().log_head, g0.log_head, "a new flow was noted");
	check("second packet", &p, p.len, &hit, &r);
	g1 = guard();
	cr_assert_eq(g1.log_head, g0.log_head + 1, "the confirmed flow was "
		     "not noted once: %llu notes",
		     (unsigned long long)(g1.log_head - g0.log_head));
	pos = ct_cpu * XDPLB_CT_LOG_SLOTS +
	      (g0.log_head & (XDPLB_CT_LOG_SLOTS - 1));
	cr_assert_eq(bpf_map_lookup_elem(fd, &pos, &note), 0);
	ct_read(set, &ct_buf[0]);
	way = ct_way(&ct_buf[0], &p.flow);
	cr_expect(note.set == set && note.way == way &&
		  note.tag == ct_buf[0].way[way].tag,
		  "note: set %u way %u tag %#x, want %u %d %#x", note.set,
		  note.way, note.tag, set, way, ct_buf[0].way[way].tag);
	check("third packet", &p, p.len, &hit, &r);
	cr_expect_eq(guard().log_head, g1.log_head, "noted twice");

	/* Learnt from a peer: the first packet here makes it ours. */
	{
		struct xdplb_conn_set *s;
		size_t len = (size_t)ld.ct_sets * sizeof(*s);

		s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 lb.conns_fd, 0);
		cr_assert_neq(s, MAP_FAILED);
		s[set].tag[way] |= XDPLB_CT_TAG_PEER;
		munmap(s, len);
	}
	check("a packet of a flow learnt from a peer", &p, p.len, &hit, &r);
	g2 = guard();
	cr_expect_eq(g2.log_head, g1.log_head + 1, "not noted when it "
		     "became ours");
	ct_read(set, &ct_buf[0]);
	cr_expect_eq(ct_buf[0].way[way].tag & XDPLB_CT_TAG_STATE,
		     XDPLB_CT_TAG_CONFIRMED, "tag %#x after a packet here",
		     ct_buf[0].way[way].tag);
}

/*
 * A configuration at both limits: XDPLB_MAX_SERVICES services (even ones
 * IPv4, odd ones IPv6), XDPLB_MAX_REALS reals, as many to each; gen 0 and
 * 1 share no VIP and no real. MACs are given, so nothing is resolved.
 */
static struct config *limit_conf(int gen)
{
	const int per = XDPLB_MAX_REALS / XDPLB_MAX_SERVICES;
	struct config *c = calloc(1, sizeof(*c));
	char addr[64];
	int i, j;

	cr_assert_not_null(c);
	c->svcs = calloc(XDPLB_MAX_SERVICES + 1, sizeof(*c->svcs));
	c->reals = calloc(XDPLB_MAX_REALS, sizeof(*c->reals));
	cr_assert(c->svcs && c->reals);
	for (i = 0; i < XDPLB_MAX_SERVICES; i++) {
		struct config_service *s = &c->svcs[c->nsvcs++];

		if (i % 2)
			snprintf(addr, sizeof(addr), "[2001:db8:%x::%x]:80",
				 gen + 1, i + 1);
		else
			snprintf(addr, sizeof(addr), "10.%d.%d.%d:80",
				 gen + 1, i / 250, i % 250 + 1);
		cr_assert_eq(parse_vip(addr, &s->key), 0, "%s", addr);
		svc_opts_default(&s->opts);
		for (j = 0; j < per; j++) {
			struct config_real *r = &c->reals[c->nreals];
			int n = c->nreals++;

			if (i % 2)
				snprintf(addr, sizeof(addr),
					 "2001:db8:100:%x::%x", gen + 1, n + 1);
			else
				snprintf(addr, sizeof(addr), "10.100.%d.%d",
					 64 * (gen + 1) + n / 256, n % 256);
			cr_assert_eq(parse_addr(addr, &r->addr, &r->family),
				     0, "%s", addr);
			r->svc = s->key;
			r->weight = 1 + n % 3;
			r->mac_manual = true;
			r->mac[0] = 0x02;
			r->mac[1] = gen;
			r->mac[4] = n >> 8;
			r->mac[5] = n;
		}
	}
	cr_assert_eq(c->nreals, XDPLB_MAX_REALS);
	return c;
}

/* The instance's configuration is c, exactly: as save prints both. */
static void expect_running(const struct config *c, const char *when)
{
	char *want = NULL, *have = NULL;
	size_t wl = 0, hl = 0;
	struct config *run = NULL;
	FILE *f;

	cr_assert_eq(config_from_lb(&lb, &run), 0);
	f = open_memstream(&want, &wl);
	cr_assert_eq(config_write(f, c), 0);
	fclose(f);
	f = open_memstream(&have, &hl);
	cr_assert_eq(config_write(f, run), 0);
	fclose(f);
	cr_expect_eq(run->nsvcs, c->nsvcs, "%s: %d services, want %d", when,
		     run->nsvcs, c->nsvcs);
	cr_expect_eq(run->nreals, c->nreals, "%s: %d reals, want %d", when,
		     run->nreals, c->nreals);
	cr_expect(!strcmp(want, have), "%s: the instance is not the "
		  "configuration", when);
	free(want);
	free(have);
	config_free(run);
}

/*
 * The limits hold from any starting state: a configuration at the limits
 * of services and reals applied over another one at the limits that
 * shares nothing with it. Those that go are deleted before those that
 * come are added. And one that fails at the end (a service too many)
 * leaves the configuration that ran, also at the limits.
 */
Test(packets, config_apply_at_the_limits, .timeout = 240)
{
	const int per = XDPLB_MAX_REALS / XDPLB_MAX_SERVICES;
	struct config *a = limit_conf(0), *b = limit_conf(1), *ab;
	struct config_diff d;
	int i, err;

	conf_segment();
	err = config_apply(&lb, a, 0, &d);
	cr_assert_eq(err, 0, "config_apply A over the tests' own: %s",
		     d.error);
	cr_expect_eq(d.svcs_added, XDPLB_MAX_SERVICES);
	cr_expect_eq(d.reals_added, XDPLB_MAX_REALS);
	expect_running(a, "A");

	/* A's services with B's reals: only the reals change, all of them
	 * (the reals that go must free their slots first). */
	ab = limit_conf(1);
	memcpy(ab->svcs, a->svcs, a->nsvcs * sizeof(*a->svcs));
	for (i = 0; i < ab->nreals; i++)
		ab->reals[i].svc = a->svcs[i / per].key;
	err = config_apply(&lb, ab, 0, &d);
	cr_assert_eq(err, 0, "config_apply A's services, B's reals: %s",
		     d.error);
	cr_expect_eq(d.svcs_added + d.svcs_removed + d.svcs_changed, 0);
	cr_expect_eq(d.reals_added, XDPLB_MAX_REALS);
	cr_expect_eq(d.reals_removed, XDPLB_MAX_REALS);
	cr_expect_eq(d.reals_changed, 0);
	expect_running(ab, "A's services with B's reals");
	config_free(ab);

	/* Every service and real other. */
	err = config_apply(&lb, b, 0, &d);
	cr_assert_eq(err, 0, "config_apply B: %s", d.error);
	cr_expect_eq(d.svcs_added, XDPLB_MAX_SERVICES);
	cr_expect_eq(d.svcs_removed, XDPLB_MAX_SERVICES);
	cr_expect_eq(d.reals_added, XDPLB_MAX_REALS);
	cr_expect_eq(d.reals_removed, XDPLB_MAX_REALS);
	expect_running(b, "B");

	/* A and a service too many: refused at the very end, after A was
	 * all but applied; B is put back. */
	cr_assert_eq(parse_vip("10.9.9.9:80", &a->svcs[a->nsvcs].key), 0);
	svc_opts_default(&a->svcs[a->nsvcs++].opts);
	err = config_apply(&lb, a, 0, &d);
	cr_expect_neq(err, 0, "1025 services applied");
	cr_expect(strstr(d.error, "10.9.9.9"), "the error does not name the "
		  "service too many: %s", d.error);
	cr_expect(!strstr(d.error, "undoing"), "undoing failed: %s", d.error);
	expect_running(b, "after a failed A");
	config_free(a);
	config_free(b);
}
