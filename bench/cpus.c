// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cpus.c - what a packet of a flow its CPU does not track costs as the
 * CPU count grows, and what the connection table takes:
 *   xdplb-bench cpus NETNS ROUNDS NAME=PINDIR...
 *   xdplb-bench ctmem NAME=PINDIR...
 *
 * Each PINDIR is an instance that `xdplb attach` of release NAME loaded
 * for N possible CPUs, with one IPv4 TCP service; for `cpus` it is
 * attached to a veth in network namespace NETNS. scripts/bench-run.sh
 * makes N larger than the machine's count by binding a file over
 * /sys/devices/system/cpu/possible for the command, which is what
 * libbpf_num_possible_cpus() reads. N is read back from the maps: in map
 * ABI 7 (release 0.7.0) conns holds every possible CPU's table in turn,
 * and a packet that misses its own CPU's part looks in every other CPU's
 * (bpf_loop, bounded by the map's size); in ABI 8 there is one table that
 * every CPU shares, and ct_log holds a ring per CPU.
 *
 * The instance's own program (the one on its veth's hook, which must be
 * the one pinned) runs behind bench_flows's tail call, BPF_PROG_TEST_RUN
 * on CPU 0, so that every run is another flow (flow i: client
 * SRC + i / 16384, port 1024 + i % 16384), a 64-byte TCP ACK to the VIP:
 *   - untracked: flows no table holds, new ones every run. The instances
 *     keep their tables empty with the smallest new-flow cap
 *     (--conn-rate 1: one insert per CPU per second). ABI 7 misses on
 *     CPU 0, reads the set of every other CPU, then Maglev places the
 *     packet; ABI 8 reads one set, then Maglev. A run must find no flow
 *     (ct_hit unchanged) and send every packet.
 *   - first packet: PEER_FLOWS flows that another party tracks, written
 *     into the table through its mapping before each run. In ABI 8 as
 *     the sync daemon writes a flow learnt from a peer (user/daemon/sync.c
 *     apply(): tag CONFIRMED | PEER, the instance's hash seed and sets);
 *     in ABI 7 into another CPU's part: the last CPU's (the end of the
 *     walk, the worst case), or CPUs 1..N-1 in turn (half the walk on
 *     average), with the copy that CPU 0 adopted in the run before
 *     removed. A run must find every flow and, in ABI 8, leave none
 *     marked PEER: its first packet makes a learnt flow this load
 *     balancer's own.
 * The lines that a run's lookups read in the prepared sets are flushed
 * from the caches once written, as a flow learnt a while before would
 * be (x86 and arm64; elsewhere they stay cached). The floor is
 * floor.bpf.c behind the same tail call. Rounds interleave every case of
 * every instance; figures are medians of the rounds.
 *
 * ctmem: the kernel's memlock of each instance's conns, one row each (ABI
 * 8's per-CPU rings, ct_log, in the note).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/in.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdplb.h"
#include "xdplb_hash.h"
#include "xdplb_layouts.h"
#include "floor.skel.h"
#include "bench_flows.skel.h"
#include "hook.h"
#include "lb.h"
#include "bench.h"

#define MAX_INST	32
#define MAX_USE_REALS	16	/* reals the first-packet flows go to */
#define DEF_ROUNDS	7
#define UNTRACKED_REPEAT 131072	/* packets of an untracked run */
#define PEER_FLOWS	4096	/* flows (and packets) of a first-packet run */
#define PEER_RUNS	8	/* first-packet runs per round, averaged */
#define PORT_BITS	14	/* bench_flows.bpf.c: 16384 ports a client */
#define SRC_UNTRACKED	0x0a800000	/* 10.128.0.0 */
#define SRC_LAST	0x0a000000	/* 10.0.0.0 */
#define SRC_SPREAD	0x0a400000	/* 10.64.0.0 */
#define FLAT_LIMIT	1.10	/* ABI 8, N CPUs against the fewest */
#define LINE		64
#define FLOOR_NAME	"floor, new flow each run"

_Static_assert(sizeof(struct xdplb_config_v7) == sizeof(struct xdplb_config),
	       "ABI 7's config reads as ABI 8's");
_Static_assert(__builtin_offsetof(struct xdplb_config_v7, ct_size) ==
	       __builtin_offsetof(struct xdplb_config, ct_size),
	       "ABI 7's ct_size where ABI 8's is");

enum ccase { C_UNTRACKED, C_LAST, C_SPREAD, C_COUNT };

struct inst {
	const char *name;	/* the release, as given */
	const char *dir;
	__u32 abi;
	__u32 ncpus;		/* possible CPUs it was loaded for */
	__u32 parts;		/* tables in conns: ncpus (ABI 7), or 1 */
	__u32 sets;		/* sets of each */
	struct xdplb_config cfg;
	double conns_bytes;	/* memlock */
	double log_bytes;	/* ct_log's (ABI 8) */
	struct xdplb_svc_key vip;
	__u32 real_id[MAX_USE_REALS];
	__u16 real_gen[MAX_USE_REALS];
	int nreals;
	int conns_fd;
	int stats_fd;
	int prog_fd;
	struct xdplb_conn_set *ct;	/* conns, mapped */
	size_t ct_len;
	__u8 pkt[128];
	__u32 len;
	double ns[C_COUNT][BENCH_MAX_ROUNDS];
	bool warned;		/* that flows found their set full */
};

static int pin_fd(const struct inst *in, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", in->dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = -errno;
		fprintf(stderr, "bench: cannot open '%s': %s\n", path,
			strerror(errno));
	}
	return fd;
}

/* The map at a pin: memlock and max_entries. */
static int pin_map(const struct inst *in, const char *name, double *bytes,
		   unsigned *entries)
{
	unsigned type;
	int fd = pin_fd(in, name), err;

	if (fd < 0)
		return fd;
	err = bench_map_info(fd, bytes, &type, entries);
	close(fd);
	return err;
}

/*
 * The instance at arg (NAME=PINDIR): its config, its connection table's
 * memory and shape, and the CPU count it was loaded for.
 */
static int inst_open(struct inst *in, char *arg)
{
	char *eq = strchr(arg, '=');
	unsigned entries, log_entries;
	__u32 zero = 0;
	int fd, err;

	memset(in, 0, sizeof(*in));
	in->conns_fd = in->stats_fd = in->prog_fd = -1;
	if (!eq || eq == arg || !eq[1]) {
		fprintf(stderr, "bench: '%s' is not NAME=PINDIR\n", arg);
		return -EINVAL;
	}
	*eq = 0;
	in->name = arg;
	in->dir = eq + 1;
	fd = pin_fd(in, XDPLB_PIN_CONFIG);
	if (fd < 0)
		return fd;
	err = bpf_map_lookup_elem(fd, &zero, &in->cfg) ? -errno : 0;
	close(fd);
	in->abi = in->cfg.abi_version;
	in->sets = in->cfg.ct_size / XDPLB_CT_WAYS;
	if (err || in->cfg.magic != XDPLB_MAGIC ||
	    (in->abi != 7 && in->abi != XDPLB_ABI_VERSION) || !in->sets) {
		fprintf(stderr, "bench: %s: not an instance of map ABI 7 or "
			"%u\n", in->dir, XDPLB_ABI_VERSION);
		return err ? err : -EPROTONOSUPPORT;
	}
	err = pin_map(in, XDPLB_PIN_CONNS, &in->conns_bytes, &entries);
	if (err)
		return err;
	if (in->abi == 7) {
		in->parts = in->ncpus = entries / in->sets;
		if (entries % in->sets)
			in->ncpus = 0;
	} else {
		in->parts = entries == in->sets;
		err = pin_map(in, XDPLB_PIN_CT_LOG, &in->log_bytes,
			      &log_entries);
		if (err)
			return err;
		in->ncpus = log_entries / XDPLB_CT_LOG_SLOTS;
	}
	if (!in->parts || !in->ncpus) {
		fprintf(stderr, "bench: %s: conns has %u entries, not a "
			"whole number of tables of %u sets\n", in->dir,
			entries, in->sets);
		return -EPROTO;
	}
	return 0;
}

/* Its IPv4 TCP service and the reals of it. */
static int inst_service(struct inst *in)
{
	struct xdplb_svc_key key, *prev = NULL;
	struct xdplb_real real;
	struct xdplb_svc svc;
	int fd, rfd, err = -ENOENT;
	__u32 id;

	fd = pin_fd(in, XDPLB_PIN_SERVICES);
	if (fd < 0)
		return fd;
	while (err && !bpf_map_get_next_key(fd, prev, &key)) {
		in->vip = key;
		prev = &in->vip;
		if (key.proto == IPPROTO_TCP &&
		    key.family == XDPLB_AF_INET &&
		    !bpf_map_lookup_elem(fd, &key, &svc))
			err = 0;
	}
	close(fd);
	if (err) {
		fprintf(stderr, "bench: %s: no IPv4 TCP service\n", in->dir);
		return err;
	}
	rfd = pin_fd(in, XDPLB_PIN_REALS);
	if (rfd < 0)
		return rfd;
	for (id = 0; id < XDPLB_MAX_REALS && in->nreals < MAX_USE_REALS;
	     id++) {
		if (bpf_map_lookup_elem(rfd, &id, &real) ||
		    !(real.flags & XDPLB_REAL_F_USED) || real.svc_id != svc.id)
			continue;
		in->real_id[in->nreals] = id;
		in->real_gen[in->nreals++] = real.gen;
	}
	close(rfd);
	if (!in->nreals) {
		fprintf(stderr, "bench: %s: its service has no real\n",
			in->dir);
		return -ENOENT;
	}
	return 0;
}

/*
 * Ready to run: its program, found on its interface's hook (in this
 * network namespace) and checked to be the one pinned; its table mapped;
 * its packet.
 */
static int inst_ready(struct inst *in)
{
	__u32 pinned = pinned_prog_id(in->dir);
	struct hook h;
	int i, err;

	err = inst_service(in);
	if (err)
		return err;
	err = hook_read(in->cfg.ifindex, &h);
	i = err ? -1 : hook_find(&h, pinned, 0);
	if (i < 0) {
		fprintf(stderr, "bench: %s: its program is not attached to "
			"ifindex %u in this namespace\n", in->dir,
			in->cfg.ifindex);
		return err ? err : -ENOENT;
	}
	in->prog_fd = bpf_prog_get_fd_by_id(h.prog[i].id);
	in->conns_fd = pin_fd(in, XDPLB_PIN_CONNS);
	in->stats_fd = pin_fd(in, XDPLB_PIN_GLOBAL_STATS);
	if (in->prog_fd < 0 || in->conns_fd < 0 || in->stats_fd < 0)
		return -ENOENT;
	in->ct_len = (size_t)in->parts * in->sets * sizeof(*in->ct);
	in->ct = mmap(NULL, in->ct_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      in->conns_fd, 0);
	if (in->ct == MAP_FAILED) {
		in->ct = NULL;
		fprintf(stderr, "bench: %s: cannot map conns: %s\n", in->dir,
			strerror(errno));
		return -errno;
	}
	in->len = bench_tcp_ack(in->pkt, sizeof(in->pkt), in->vip.addr.v4,
				in->vip.port);
	return in->len ? 0 : -EINVAL;
}

static void inst_close(struct inst *in)
{
	if (in->ct)
		munmap(in->ct, in->ct_len);
	if (in->prog_fd >= 0)
		close(in->prog_fd);
	if (in->conns_fd >= 0)
		close(in->conns_fd);
	if (in->stats_fd >= 0)
		close(in->stats_fd);
}

/* Flow i of bench_flows with client base src, as the data path keys it. */
static void flow_of(const struct inst *in, __u32 src, __u32 i,
		    struct xdplb_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->src.v4 = htonl(src + (i >> PORT_BITS));
	f->dst = in->vip.addr;
	f->sport = htons(1024 + (i & ((1u << PORT_BITS) - 1)));
	f->dport = in->vip.port;
	f->proto = IPPROTO_TCP;
	f->family = XDPLB_AF_INET;
}

/* A TCP flow's tag in ABI 7 (xdplb_layouts.h): bits 18..31 of its hash
 * as bits 2..15, and USED. */
static __u16 tag_v7(__u32 hash)
{
	return ((hash >> 16) & ~3u) | XDPLB_CT_TAG_V7_USED;
}

/* The way of s that holds f; -1 when none does. */
static int way_of(const struct xdplb_conn_set *s, const struct xdplb_flow *f)
{
	int w;

	for (w = 0; w < XDPLB_CT_WAYS; w++)
		if ((s->tag[w] & XDPLB_CT_TAG_USED) &&
		    !memcmp(&s->flow[w], f, sizeof(*f)))
			return w;
	return -1;
}

/* Write back the lines from p on, len bytes, and drop them from every
 * cache. */
static void flush_lines(const void *p, size_t len)
{
	const char *c = p;
	size_t off;

	for (off = 0; off < len; off += LINE) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_clflush(c + off);
#elif defined(__aarch64__)
		asm volatile("dc civac, %0" : : "r"(c + off) : "memory");
#else
		(void)c;
#endif
	}
}

static __u32 src_of(enum ccase c)
{
	return c == C_UNTRACKED ? SRC_UNTRACKED : c == C_LAST ? SRC_LAST :
	       SRC_SPREAD;
}

/* The part (CPU's table) where the other party tracks flow i of case c:
 * in ABI 7 another CPU's, in ABI 8 the one table. */
static __u32 part_of(const struct inst *in, enum ccase c, __u32 i)
{
	if (in->abi != 7)
		return 0;
	return c == C_LAST ? in->parts - 1 : 1 + i % (in->parts - 1);
}

/* Flow i of case c, its hash and the index of its set in a part. */
static __u32 flow_set(const struct inst *in, enum ccase c, __u32 i,
		      struct xdplb_flow *f, __u32 *hash)
{
	flow_of(in, src_of(c), i, f);
	*hash = xdplb_flow_hash(f, in->cfg.hash_seed);
	return *hash & (in->sets - 1);
}

/*
 * Before a first-packet run of case c: every flow of it tracked by the
 * other party, as fresh as now (after forget(), nothing else tracks
 * them). Then the lines the lookups will read are flushed: each part's
 * first line of the flow's set, and the whole of the set written. Returns
 * the flows placed: those whose set had a free way.
 */
static __u32 prepare(struct inst *in, enum ccase c)
{
	__u32 now = lb_now_ns() >> XDPLB_CT_TICK_SHIFT, i, q, placed = 0;

	for (i = 0; i < PEER_FLOWS; i++) {
		__u32 hash, p = part_of(in, c, i);
		struct xdplb_flow f;
		__u32 idx = flow_set(in, c, i, &f, &hash);
		struct xdplb_conn_set *s = &in->ct[p * in->sets + idx];
		int w, r = i % in->nreals;
		__u16 tag;

		if (in->abi == 7)
			tag = tag_v7(hash);
		else
			tag = xdplb_ct_tag(hash, IPPROTO_TCP) |
			      XDPLB_CT_TAG_CONFIRMED | XDPLB_CT_TAG_PEER;
		for (w = 0; w < XDPLB_CT_WAYS && s->tag[w]; w++)
			;
		if (w < XDPLB_CT_WAYS) {
			s->flow[w] = f;
			s->real_id[w] = in->real_id[r];
			s->real_gen[w] = in->real_gen[r];
			s->created[w] = now;
			s->last_seen[w] = now;
			__atomic_store_n(&s->tag[w], tag, __ATOMIC_RELEASE);
			placed++;
		}
		for (q = 0; q < in->parts; q++)
			flush_lines(&in->ct[q * in->sets + idx],
				    q == p ? sizeof(*s) : LINE);
	}
	__sync_synchronize();
	return placed;
}

/* After a run of case c: its flows tracked nowhere, neither where
 * prepare() put them nor (ABI 7) where CPU 0 adopted them. */
static void forget(struct inst *in, enum ccase c)
{
	__u32 i, hash;

	for (i = 0; i < PEER_FLOWS; i++) {
		struct xdplb_flow f;
		__u32 idx = flow_set(in, c, i, &f, &hash);
		__u32 parts[2] = { 0, part_of(in, c, i) };
		int k, w;

		for (k = 0; k < 2; k++) {
			struct xdplb_conn_set *s =
				&in->ct[parts[k] * in->sets + idx];

			w = way_of(s, &f);
			if (w >= 0)
				__atomic_store_n(&s->tag[w], 0,
						 __ATOMIC_RELEASE);
		}
	}
}

/* Flows of case c still marked PEER (ABI 8) after a run. */
static __u32 still_peer(const struct inst *in, enum ccase c)
{
	__u32 i, hash, n = 0;

	for (i = 0; i < PEER_FLOWS; i++) {
		const struct xdplb_conn_set *s;
		struct xdplb_flow f;
		int w;

		s = &in->ct[flow_set(in, c, i, &f, &hash)];
		w = way_of(s, &f);
		n += w >= 0 && (s->tag[w] & XDPLB_CT_TAG_PEER);
	}
	return n;
}

/* Flows found in the table (ct_hit) and packets sent, over every CPU. */
static int counts(const struct inst *in, __u64 *hit, __u64 *tx)
{
	int n = libbpf_num_possible_cpus(), cpu, err = 0;
	struct xdplb_global_stats *v;
	__u32 zero = 0;

	if (n < 1)
		return n;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*hit = *tx = 0;
	if (bpf_map_lookup_elem(in->stats_fd, &zero, v))
		err = -errno;
	for (cpu = 0; !err && cpu < n; cpu++) {
		*hit += v[cpu].ct_hit;
		*tx += v[cpu].tx_packets;
	}
	free(v);
	return err;
}

/* repeat packets through bench_flows into prog_fd: flows first, first +
 * 1, ... (modulo nflows) of client base src; *ns the kernel's mean time
 * per packet. */
static int run(struct bench_flows_bpf *fl, int prog_fd, const __u8 *pkt,
	       __u32 len, __u32 src, __u32 nflows, __u32 first,
	       __u32 repeat, double *ns)
{
	__u8 out[128];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = pkt, .data_size_in = len,
		.data_out = out, .data_size_out = sizeof(out),
		.repeat = repeat);
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(fl->maps.target), &zero,
				&prog_fd, BPF_ANY))
		return -errno;
	fl->data->nflows = nflows;
	fl->data->nvips = 1;
	fl->data->sequential = 1;
	fl->data->src_base = src;
	fl->bss->seq = first;
	if (bpf_prog_test_run_opts(bpf_program__fd(fl->progs.bench_flows),
				   &opts))
		return -errno;
	if (opts.retval != XDP_TX) {
		fprintf(stderr, "bench: verdict %u, expected XDP_TX\n",
			opts.retval);
		return -EINVAL;
	}
	*ns = opts.duration;
	return 0;
}

static bool has_case(const struct inst *in, enum ccase c)
{
	if (c == C_UNTRACKED)
		return true;
	/* ABI 8 has one table: "another CPU's" is the same case. */
	return in->abi == 7 ? in->ncpus > 1 : c == C_LAST;
}

/* One run of case c on in, checked; *ns per packet. */
static int measure(struct bench_flows_bpf *fl, struct inst *in,
		   enum ccase c, __u32 *untracked_seq, double *ns)
{
	bool first = c != C_UNTRACKED;
	__u32 n = first ? PEER_FLOWS : UNTRACKED_REPEAT;
	__u32 found = first ? prepare(in, c) : 0;
	__u64 hit0, tx0, hit1, tx1;
	int err;

	if (found < (first ? n : 0) && !in->warned) {
		fprintf(stderr, "bench: %s: %u of %u flows found their set "
			"full: they go untracked\n", in->dir, n - found, n);
		in->warned = true;
	}
	err = counts(in, &hit0, &tx0);
	if (!err)
		err = run(fl, in->prog_fd, in->pkt, in->len, src_of(c),
			  first ? n : ~0u, first ? 0 : *untracked_seq, n, ns);
	if (!err)
		err = counts(in, &hit1, &tx1);
	/* A learnt flow is this load balancer's after its first packet. */
	if (!err && first && in->abi != 7 && still_peer(in, c)) {
		fprintf(stderr, "bench: %s: %u of %u flows learnt from a peer "
			"still marked so after their first packet\n", in->dir,
			still_peer(in, c), found);
		err = -EPROTO;
	}
	if (first)
		forget(in, c);
	else
		*untracked_seq += n;
	if (err)
		return err;
	if (tx1 - tx0 != n || hit1 - hit0 != found) {
		fprintf(stderr, "bench: %s (%s, %u CPUs): %llu of %u packets "
			"sent, %llu flows found, expected %u\n", in->dir,
			in->name, in->ncpus, (unsigned long long)(tx1 - tx0),
			n, (unsigned long long)(hit1 - hit0), found);
		return -EPROTO;
	}
	return 0;
}

static void case_name(const struct inst *in, enum ccase c, char *buf,
		      size_t len)
{
	static const char *const what[C_COUNT] = {
		[C_UNTRACKED] = "untracked ACK",
		[C_LAST] = "1st pkt, on last CPU",
		[C_SPREAD] = "1st pkt, on any CPU",
	};

	snprintf(buf, len, "%s, %u CPUs: %s", in->name, in->ncpus,
		 in->abi == 7 || c != C_LAST ? what[c] :
		 "1st pkt, peer's flow");
}

static void case_note(const struct inst *in, enum ccase c, double floor_x,
		      char *buf, size_t len)
{
	int off = snprintf(buf, len, "%.1fx the floor; ", floor_x);

	if (in->abi != 7)
		snprintf(buf + off, len - off, "%s", c == C_UNTRACKED ?
			 "one set read, then Maglev" :
			 "learnt from a peer: one set read, made its own");
	else if (c == C_UNTRACKED)
		snprintf(buf + off, len - off, "its own set, then those of %u "
			 "other CPUs, then Maglev", in->ncpus - 1);
	else if (c == C_LAST)
		snprintf(buf + off, len - off, "found in the last of %u other "
			 "CPUs' sets, copied to CPU 0's", in->ncpus - 1);
	else
		snprintf(buf + off, len - off, "tracked on CPUs 1..%u in turn:"
			 " found after %.1f other CPUs' sets on average",
			 in->ncpus - 1, in->ncpus / 2.0);
}

/* The first instance of in's release: the base of the others. */
static int first_of(const struct inst *all, int k)
{
	int j;

	for (j = 0; j < k; j++)
		if (!strcmp(all[j].name, all[k].name) &&
		    all[j].abi == all[k].abi)
			break;
	return j;
}

static void print_rows(const struct inst *all, int n, const double *floor,
		       int rounds)
{
	double floor_med = median(floor, rounds);
	char name[96], base_name[96], note[160];
	enum ccase c;
	int k;

	row_print(stdout, &(struct bench_row){
		.section = "cpus", .name = FLOOR_NAME, .value = floor_med,
		.unit = "ns", .note = "floor.bpf.c behind bench_flows",
		.samples = floor, .nsamples = rounds });
	for (c = 0; c < C_COUNT; c++) {
		for (k = 0; k < n; k++) {
			const struct inst *in = &all[k];
			int b = first_of(all, k);
			double v = median(in->ns[c], rounds);
			struct bench_row r = {
				.section = "cpus", .name = name, .value = v,
				.unit = "ns", .note = note,
				.samples = in->ns[c], .nsamples = rounds,
				.base_name = FLOOR_NAME, .base = floor_med,
			};

			if (!has_case(in, c))
				continue;
			case_name(in, c, name, sizeof(name));
			case_note(in, c, v / floor_med, note, sizeof(note));
			if (b != k) {
				case_name(&all[b], c, base_name,
					  sizeof(base_name));
				r.base_name = base_name;
				r.base = median(all[b].ns[c], rounds);
				/* The shared table: flat in the CPU count. */
				if (in->abi != 7) {
					r.target = T_RATIO_MAX;
					r.limit = FLAT_LIMIT;
				}
			}
			row_print(stdout, &r);
		}
	}
}

int cmd_cpus(int argc, char **argv)
{
	static struct inst all[MAX_INST];
	struct bench_flows_bpf *fl = NULL;
	struct floor_bpf *floor = NULL;
	double floor_ns[BENCH_MAX_ROUNDS];
	__u32 untracked_seq = 0;
	int n = argc - 3, rounds, round, i, k, r, err = -EINVAL;
	enum ccase c;

	if (argc < 4 || n > MAX_INST) {
		fprintf(stderr, "usage: xdplb-bench cpus NETNS ROUNDS "
			"NAME=PINDIR... (at most %d)\n", MAX_INST);
		return -EINVAL;
	}
	rounds = atoi(argv[2]);
	if (rounds < 1 || rounds > BENCH_MAX_ROUNDS)
		rounds = DEF_ROUNDS;
	if (pin_cpu(0))
		fprintf(stderr, "bench: cannot pin to CPU 0\n");
	err = bench_enter_netns(argv[1]);
	for (k = 0; !err && k < n; k++) {
		err = inst_open(&all[k], argv[3 + k]);
		if (!err)
			err = inst_ready(&all[k]);
	}
	if (err)
		goto out;
	floor = floor_bpf__open_and_load();
	fl = bench_flows_bpf__open_and_load();
	if (!floor || !fl) {
		fprintf(stderr, "bench: cannot load the floor programs\n");
		err = -ENOENT;
		goto out;
	}

	fprintf(stderr, "bench: CPU count, %d rounds of %d instances\n",
		rounds, n);
	/* Round -1 warms up (its figures are overwritten by round 0's). */
	for (round = -1; round < rounds; round++) {
		i = round < 0 ? 0 : round;
		err = run(fl, bpf_program__fd(floor->progs.xdp_floor),
			  all[0].pkt, all[0].len, SRC_UNTRACKED, ~0u,
			  untracked_seq, UNTRACKED_REPEAT, &floor_ns[i]);
		untracked_seq += UNTRACKED_REPEAT;
		for (c = 0; !err && c < C_COUNT; c++) {
			for (k = 0; !err && k < n; k++) {
				struct inst *in = &all[k];
				double sum = 0, ns;
				int runs = c == C_UNTRACKED ? 1 : PEER_RUNS;

				in->ns[c][i] = NAN;
				if (!has_case(in, c))
					continue;
				for (r = 0; !err && r < runs; r++) {
					err = measure(fl, in, c,
						      &untracked_seq, &ns);
					sum += ns;
				}
				in->ns[c][i] = sum / runs;
			}
		}
		if (err)
			goto out;
	}
	print_rows(all, n, floor_ns, rounds);
out:
	for (k = 0; k < n; k++)
		inst_close(&all[k]);
	bench_flows_bpf__destroy(fl);
	floor_bpf__destroy(floor);
	return err;
}

int cmd_ctmem(int argc, char **argv)
{
	static struct inst all[MAX_INST];
	char name[96], base_name[96], note[160];
	int n = argc - 1, k, b, err = 0;

	if (argc < 2 || n > MAX_INST) {
		fprintf(stderr, "usage: xdplb-bench ctmem NAME=PINDIR... "
			"(at most %d)\n", MAX_INST);
		return -EINVAL;
	}
	for (k = 0; !err && k < n; k++)
		err = inst_open(&all[k], argv[1 + k]);
	for (k = 0; !err && k < n; k++) {
		const struct inst *in = &all[k];
		struct bench_row r = {
			.section = "cpumem", .name = name,
			.value = in->conns_bytes / 1048576, .unit = "MiB",
			.note = note,
		};

		b = first_of(all, k);
		snprintf(name, sizeof(name), "%s, %u CPUs", in->name,
			 in->ncpus);
		if (in->abi == 7)
			snprintf(note, sizeof(note), "%u flows per CPU x %u "
				 "CPUs", in->cfg.ct_size, in->ncpus);
		else
			snprintf(note, sizeof(note), "%u flows, one table; "
				 "ct_log %.0f KiB more (a ring per CPU)",
				 in->cfg.ct_size, in->log_bytes / 1024);
		if (b != k) {
			snprintf(base_name, sizeof(base_name), "%s, %u CPUs",
				 all[b].name, all[b].ncpus);
			r.base_name = base_name;
			r.base = all[b].conns_bytes / 1048576;
			if (in->abi != 7) {
				r.target = T_RATIO_MAX;
				r.limit = 1.0;
			}
		}
		row_print(stdout, &r);
	}
	return err;
}
