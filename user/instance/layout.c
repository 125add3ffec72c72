// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * layout.c - every pinned-map layout this build knows, and the steps
 * between them (layout.h). Older layouts are written with the numbers
 * they had, never with today's sizeof: they must not move when xdplb.h
 * does.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "layout.h"
#include "lb.h"
#include "xdplb_hash.h"
#include "xdplb_layouts.h"

#define MAP(n, t, k, v, e, f) { n, BPF_MAP_TYPE_##t, k, v, e, f }

/* ABI 8: include/xdplb.h as it is. */
static const struct layout_map maps_v8[] = {
	MAP(XDPLB_PIN_CONFIG, ARRAY, 4, sizeof(struct xdplb_config), 1, 0),
	MAP(XDPLB_PIN_SERVICES, HASH, sizeof(struct xdplb_svc_key),
	    sizeof(struct xdplb_svc), XDPLB_MAX_VIP_KEYS, BPF_F_NO_PREALLOC),
	MAP(XDPLB_PIN_SVC_INDEX, ARRAY_OF_MAPS, 4, 4, 1, 0),
	MAP(XDPLB_PIN_MAGLEV, ARRAY_OF_MAPS, 4, 4, XDPLB_MAX_SERVICES, 0),
	MAP(XDPLB_PIN_REALS, ARRAY, 4, sizeof(struct xdplb_real),
	    XDPLB_MAX_REALS, 0),
	MAP(XDPLB_PIN_GLOBAL_STATS, PERCPU_ARRAY, 4,
	    sizeof(struct xdplb_global_stats), 1, 0),
	MAP(XDPLB_PIN_SVC_STATS, PERCPU_ARRAY, 4,
	    sizeof(struct xdplb_counters), XDPLB_MAX_SERVICES, 0),
	MAP(XDPLB_PIN_REAL_STATS, PERCPU_ARRAY, 4,
	    sizeof(struct xdplb_counters), XDPLB_MAX_REALS, 0),
	/* Sized at attach: config's ct_size / 4 sets. */
	MAP(XDPLB_PIN_CONNS, ARRAY, 4, sizeof(struct xdplb_conn_set), 0,
	    BPF_F_MMAPABLE),
	MAP(XDPLB_PIN_CT_GUARD, PERCPU_ARRAY, 4,
	    sizeof(struct xdplb_ct_guard), 1, 0),
	/* Sized at attach: XDPLB_CT_LOG_SLOTS for every possible CPU. */
	MAP(XDPLB_PIN_CT_LOG, ARRAY, 4, sizeof(struct xdplb_ct_note), 0,
	    BPF_F_MMAPABLE),
	MAP(XDPLB_PIN_SVC_OPTS, ARRAY, 4, sizeof(struct xdplb_svc_opts),
	    XDPLB_MAX_SERVICES, 0),
	MAP(XDPLB_PIN_VIP_FILTER, ARRAY, 4, 8, XDPLB_VIP_FILTER_WORDS, 0),
	MAP(XDPLB_PIN_FRAGS, LRU_HASH, sizeof(struct xdplb_frag_key),
	    sizeof(struct xdplb_frag), XDPLB_FRAG_ENTRIES, 0),
};

/* ABI 7 (release 0.7.0): every CPU's own connection table in conns,
 * sized at attach (ncpus x ct_size / 4 sets); no ct_log. */
static const struct layout_map maps_v7[] = {
	MAP("config", ARRAY, 4, 72, 1, 0),
	MAP("services", HASH, 20, 20, 2048, BPF_F_NO_PREALLOC),
	MAP("svc_index", ARRAY_OF_MAPS, 4, 4, 1, 0),
	MAP("maglev", ARRAY_OF_MAPS, 4, 4, 1024, 0),
	MAP("reals", ARRAY, 4, 32, 16384, 0),
	MAP("global_stats", PERCPU_ARRAY, 4, 168, 1, 0),
	MAP("svc_stats", PERCPU_ARRAY, 4, 16, 1024, 0),
	MAP("real_stats", PERCPU_ARRAY, 4, 16, 16384, 0),
	MAP("conns", ARRAY, 4, 256, 0, BPF_F_MMAPABLE),
	MAP("ct_guard", PERCPU_ARRAY, 4, 40, 1, 0),
	MAP("svc_opts", ARRAY, 4, 256, 1024, 0),
	MAP("vip_filter", ARRAY, 4, 8, 1024, 0),
	MAP("frags", LRU_HASH, 40, 16, 16384, 0),
};

/* ABI 6 (release 0.6.0): ABI 7 with a config of 64 bytes. */
static const struct layout_map maps_v6[] = {
	MAP("config", ARRAY, 4, 64, 1, 0),
	MAP("services", HASH, 20, 20, 2048, BPF_F_NO_PREALLOC),
	MAP("svc_index", ARRAY_OF_MAPS, 4, 4, 1, 0),
	MAP("maglev", ARRAY_OF_MAPS, 4, 4, 1024, 0),
	MAP("reals", ARRAY, 4, 32, 16384, 0),
	MAP("global_stats", PERCPU_ARRAY, 4, 168, 1, 0),
	MAP("svc_stats", PERCPU_ARRAY, 4, 16, 1024, 0),
	MAP("real_stats", PERCPU_ARRAY, 4, 16, 16384, 0),
	MAP("conns", ARRAY, 4, 256, 0, BPF_F_MMAPABLE),
	MAP("ct_guard", PERCPU_ARRAY, 4, 40, 1, 0),
	MAP("svc_opts", ARRAY, 4, 256, 1024, 0),
	MAP("vip_filter", ARRAY, 4, 8, 1024, 0),
	MAP("frags", LRU_HASH, 40, 16, 16384, 0),
};

#define LAYOUT(abi, maps) { abi, maps, sizeof(maps) / sizeof(maps[0]) }

static const struct layout layouts[] = {
	LAYOUT(6, maps_v6),
	LAYOUT(7, maps_v7),
	LAYOUT(XDPLB_ABI_VERSION, maps_v8),
};

_Static_assert(XDPLB_ABI_VERSION == 8,
	       "a new layout: add it above, and its step below");

/* The steps ------------------------------------------------------------ */

/* A step from layout from to from + 1: its config, in memory, and each
 * other map it changes, from the old map into a new one. */
struct step_map {
	const char *name;
	const char *why;	/* what --dry-run says of it */
	/* NULL: a map the step adds, which starts empty (or the config,
	 * which is converted in memory). */
	int (*fill)(const struct migration *m, int old_fd, int new_fd);
};

struct step {
	__u32 from;
	/* old: the config as layout from has it; new: layout from + 1's.
	 * 0 or -errno. */
	int (*config)(struct migration *m, const void *old, void *new);
	const struct step_map *maps;
	int nmaps;
};

/* 6 -> 7: the config learns the network namespace of its interface. */
static int config_6_to_7(struct migration *m, const void *old, void *new)
{
	const struct xdplb_config_v6 *o = old;
	struct xdplb_config_v7 *c = new;

	memset(c, 0, sizeof(*c));
	memcpy(c, o, sizeof(*o));	/* the same fields, in order */
	c->abi_version = 7;
	c->netns_cookie = m->netns_cookie;
	return 0;
}

static const struct step_map maps_6_to_7[] = {
	{ XDPLB_PIN_CONFIG, "records the network namespace", NULL },
};

static int old_fd_of(const struct migration *m, const char *name);

static __u32 max_entries_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

/*
 * 7 -> 8: the CPUs' tables become one of as many flows (a power of two,
 * at most XDPLB_MAX_CT_SIZE); ct_size counts them all. How many CPUs had a
 * table follows from the old conns map.
 */
static int config_7_to_8(struct migration *m, const void *old, void *new)
{
	const struct xdplb_config_v7 *o = old;
	struct xdplb_config *c = new;
	__u64 flows, size = XDPLB_MIN_CT_SIZE;
	__u32 sets = o->ct_size / XDPLB_CT_WAYS;

	if (!sets || max_entries_of(old_fd_of(m, XDPLB_PIN_CONNS)) % sets)
		return -EPROTO;
	m->ct_ncpus_was = max_entries_of(old_fd_of(m, XDPLB_PIN_CONNS)) /
			  sets;
	m->ct_size_was = o->ct_size;
	flows = (__u64)o->ct_size * m->ct_ncpus_was;
	while (size < flows && size < XDPLB_MAX_CT_SIZE)
		size <<= 1;
	memset(c, 0, sizeof(*c));
	memcpy(c, o, sizeof(*o));	/* the same fields, in order */
	c->abi_version = 8;
	c->ct_size = size;
	return 0;
}

/* The per-CPU state: what there was, and the new counters from zero. */
static int ct_guard_7_to_8(const struct migration *m, int old_fd, int new_fd)
{
	int n = libbpf_num_possible_cpus(), cpu, err = 0;
	struct xdplb_ct_guard_v7 *o;
	struct xdplb_ct_guard *g;
	__u32 zero = 0;

	(void)m;
	o = calloc(n, sizeof(*o));
	g = calloc(n, sizeof(*g));
	if (!o || !g) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(old_fd, &zero, o)) {
		err = -errno;
		goto out;
	}
	for (cpu = 0; cpu < n; cpu++)
		memcpy(&g[cpu], &o[cpu], sizeof(*o));
	if (bpf_map_update_elem(new_fd, &zero, g, BPF_ANY))
		err = -errno;
out:
	free(o);
	free(g);
	return err;
}

/* Put an entry into a set of the new table, a flow once: the newest of
 * its copies (every CPU that saw it had one), and of a full set's
 * entries the newest four. */
static void merge_way(struct xdplb_conn_set *set, const struct xdplb_flow *f,
		      __u16 tag, __u32 real_id, __u16 gen, __u32 created,
		      __u32 last, __u32 now)
{
	int w, pick = -1;

	for (w = 0; w < XDPLB_CT_WAYS; w++) {
		if (set->tag[w] && !memcmp(&set->flow[w], f, sizeof(*f))) {
			if ((__s32)(last - set->last_seen[w]) <= 0)
				return;	/* a newer copy is there */
			pick = w;
			break;
		}
	}
	for (w = 0; pick < 0 && w < XDPLB_CT_WAYS; w++)
		if (!set->tag[w])
			pick = w;
	for (w = 0; pick < 0 && w < XDPLB_CT_WAYS; w++)
		if ((__s32)(last - set->last_seen[w]) > 0 &&
		    (pick < 0 || (__s32)(set->last_seen[pick] -
				       set->last_seen[w]) > 0))
			pick = w;
	if (pick < 0)
		return;		/* older than the four there */
	set->tag[pick] = tag;
	set->flow[pick] = *f;
	set->real_id[pick] = real_id;
	set->real_gen[pick] = gen;
	set->created[pick] = created;
	set->last_seen[pick] = last;
	(void)now;
}

/*
 * The CPUs' tables into the one: every live entry (its real there, same
 * generation; not idle past its timeout) goes to its flow's set in the
 * new table, confirmed (the flow was tracked before: established, or as
 * good as), its tag in the new form. The new map is no program's yet:
 * plain stores.
 */
static int conns_7_to_8(const struct migration *m, int old_fd, int new_fd)
{
	__u32 osets = m->ct_size_was / XDPLB_CT_WAYS;
	__u32 nsets = m->cfg.ct_size / XDPLB_CT_WAYS;
	size_t olen = (size_t)osets * m->ct_ncpus_was *
		      sizeof(struct xdplb_conn_set);
	size_t nlen = (size_t)nsets * sizeof(struct xdplb_conn_set);
	__u32 now = lb_now_ns() >> XDPLB_CT_TICK_SHIFT, i, tcp, udp;
	const struct xdplb_conn_set *o;
	struct xdplb_conn_set *n;
	struct xdplb_real *reals;
	int w, err = 0;

	reals = calloc(XDPLB_MAX_REALS, sizeof(*reals));
	if (!reals)
		return -ENOMEM;
	for (i = 0; i < XDPLB_MAX_REALS; i++)
		if (bpf_map_lookup_elem(old_fd_of(m, XDPLB_PIN_REALS), &i,
					&reals[i])) {
			err = -errno;
			goto out_reals;
		}
	o = mmap(NULL, olen, PROT_READ, MAP_SHARED, old_fd, 0);
	if (o == MAP_FAILED) {
		err = -errno;
		goto out_reals;
	}
	n = mmap(NULL, nlen, PROT_READ | PROT_WRITE, MAP_SHARED, new_fd, 0);
	if (n == MAP_FAILED) {
		err = -errno;
		goto out_old;
	}
	tcp = XDPLB_CT_TICKS(m->cfg.tcp_timeout * 1000000000ull);
	udp = XDPLB_CT_TICKS(m->cfg.udp_timeout * 1000000000ull);
	for (i = 0; i < osets * m->ct_ncpus_was; i++) {
		for (w = 0; w < XDPLB_CT_WAYS; w++) {
			const struct xdplb_conn_set *s = &o[i];
			__u16 tag = s->tag[w];
			__u32 id = s->real_id[w], hash;
			const struct xdplb_real *r;

			if (!(tag & XDPLB_CT_TAG_V7_USED) ||
			    id >= XDPLB_MAX_REALS)
				continue;
			r = &reals[id];
			if (!(r->flags & XDPLB_REAL_F_USED) ||
			    r->gen != s->real_gen[w] ||
			    !lb_ct_fresh(now, s->last_seen[w],
					    tag & XDPLB_CT_TAG_V7_UDP ? udp :
					    tcp))
				continue;
			hash = xdplb_flow_hash(&s->flow[w], m->cfg.hash_seed);
			merge_way(&n[hash & (nsets - 1)], &s->flow[w],
				  xdplb_ct_tag(hash, s->flow[w].proto) |
				  XDPLB_CT_TAG_CONFIRMED, id, s->real_gen[w],
				  s->created[w], s->last_seen[w], now);
		}
	}
	munmap(n, nlen);
out_old:
	munmap((void *)o, olen);
out_reals:
	free(reals);
	return err;
}

static const struct step_map maps_7_to_8[] = {
	{ XDPLB_PIN_CONFIG, "counts the connection table's flows over every "
	  "CPU", NULL },
	{ XDPLB_PIN_CONNS, "every CPU's table merged into one, shared",
	  conns_7_to_8 },
	{ XDPLB_PIN_CT_GUARD, "gains counters and the log's head",
	  ct_guard_7_to_8 },
	{ XDPLB_PIN_CT_LOG, "new: confirmed flows, for the sync daemon",
	  NULL },
};

#define STEP(from, maps) \
	{ from, config_##from##_to_##maps, maps_##from##_to_##maps, \
	  sizeof(maps_##from##_to_##maps) / \
	  sizeof(maps_##from##_to_##maps[0]) }

static const struct step steps[] = {
	STEP(6, 7),
	STEP(7, 8),
};

#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

static const struct step *step_from(__u32 abi)
{
	size_t i;

	for (i = 0; i < N_STEPS; i++)
		if (steps[i].from == abi)
			return &steps[i];
	return NULL;
}

/* The step of [from, current) that last changes map name, NULL if none
 * does (it is reused). */
static const struct step_map *last_change(__u32 from, const char *name)
{
	const struct step_map *found = NULL;
	__u32 abi;
	int i;

	for (abi = from; abi < XDPLB_ABI_VERSION; abi++) {
		const struct step *s = step_from(abi);

		for (i = 0; s && i < s->nmaps; i++)
			if (!strcmp(s->maps[i].name, name))
				found = &s->maps[i];
	}
	return found;
}

/* Layouts -------------------------------------------------------------- */

const struct layout *layout_get(__u32 abi)
{
	size_t i;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].abi == abi)
			return &layouts[i];
	return NULL;
}

const struct layout *layout_current(void)
{
	return layout_get(XDPLB_ABI_VERSION);
}

const struct layout_map *layout_map(const struct layout *l, const char *name)
{
	int i;

	for (i = 0; i < l->nmaps; i++)
		if (!strcmp(l->maps[i].name, name))
			return &l->maps[i];
	return NULL;
}

int layout_check_map(int fd, const struct layout_map *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != m->type || info.key_size != m->key_size ||
	    info.value_size != m->value_size ||
	    (m->max_entries && info.max_entries != m->max_entries))
		return -EPROTO;
	return 0;
}

int layout_create_map(int i, const struct xdplb_config *cfg)
{
	const struct layout_map *m = &layout_current()->maps[i];
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = m->map_flags);
	__u32 entries = m->max_entries;
	int fd;

	/* Those sized at attach, as xdplb_size_conns() sizes them. */
	if (!strcmp(m->name, XDPLB_PIN_CONNS))
		entries = cfg->ct_size / XDPLB_CT_WAYS;
	else if (!strcmp(m->name, XDPLB_PIN_CT_LOG))
		entries = libbpf_num_possible_cpus() * XDPLB_CT_LOG_SLOTS;
	/* A map of maps needs its inner map's template: no step converts
	 * one yet, the one that does says how to make it. */
	if (m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS || !entries)
		return -EOPNOTSUPP;
	fd = bpf_map_create(m->type, m->name, m->key_size, m->value_size,
			    entries, &o);
	return fd < 0 ? -errno : fd;
}

/* Migrations ----------------------------------------------------------- */

void migration_init(struct migration *m)
{
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < LAYOUT_MAX_MAPS; i++)
		m->old_fd[i] = -1;
}

void migration_close(struct migration *m)
{
	int i;

	for (i = 0; i < LAYOUT_MAX_MAPS; i++)
		if (m->old_fd[i] >= 0)
			close(m->old_fd[i]);
	migration_init(m);
}

/* The old map of that name (every map of the current layout that a step
 * does not add has one). */
static int old_fd_of(const struct migration *m, const char *name)
{
	int i;

	for (i = 0; i < m->from->nmaps; i++)
		if (!strcmp(m->from->maps[i].name, name))
			return m->old_fd[i];
	return -1;
}

int migration_open(struct migration *m, const char *dir, __u32 abi,
		   __u64 netns_cookie)
{
	const struct layout *cur = layout_current();
	char path[PATH_MAX], old_cfg[256], next_cfg[256];
	const struct layout_map *cm;
	__u32 zero = 0, a;
	int i, fd, err;

	m->from = layout_get(abi);
	m->netns_cookie = netns_cookie;
	if (!m->from)
		return -EPROTONOSUPPORT;
	for (a = abi; a < XDPLB_ABI_VERSION; a++)
		if (!step_from(a) || !layout_get(a + 1))
			return -EPROTONOSUPPORT;
	for (i = 0; i < m->from->nmaps; i++) {
		const struct layout_map *lm = &m->from->maps[i];

		m->missing = lm->name;
		snprintf(path, sizeof(path), "%s/%s", dir, lm->name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			return -errno;
		m->old_fd[i] = fd;
		err = layout_check_map(fd, lm);
		if (err)
			return err;
	}
	/* A map the current layout keeps must be the same in both. */
	for (i = 0; i < cur->nmaps; i++) {
		const struct layout_map *om;

		cm = &cur->maps[i];
		if (last_change(abi, cm->name))
			continue;
		om = layout_map(m->from, cm->name);
		m->missing = cm->name;
		if (!om || om->type != cm->type ||
		    om->key_size != cm->key_size ||
		    om->value_size != cm->value_size ||
		    om->max_entries != cm->max_entries)
			return -EPROTONOSUPPORT;	/* a bug of the table */
	}

	/* The config, step by step. */
	m->missing = XDPLB_PIN_CONFIG;
	cm = layout_map(m->from, XDPLB_PIN_CONFIG);
	if (cm->value_size > sizeof(old_cfg))
		return -EPROTONOSUPPORT;
	memset(old_cfg, 0, sizeof(old_cfg));
	if (bpf_map_lookup_elem(old_fd_of(m, XDPLB_PIN_CONFIG), &zero,
				old_cfg))
		return -errno;
	for (a = abi; a < XDPLB_ABI_VERSION; a++) {
		memset(next_cfg, 0, sizeof(next_cfg));
		err = step_from(a)->config(m, old_cfg, next_cfg);
		if (err)
			return err;
		memcpy(old_cfg, next_cfg, sizeof(old_cfg));
	}
	memcpy(&m->cfg, old_cfg, sizeof(m->cfg));
	m->missing = NULL;
	return 0;
}

int migration_reuse_fd(const struct migration *m, int i)
{
	const char *name = layout_current()->maps[i].name;

	return last_change(m->from->abi, name) ? -1 : old_fd_of(m, name);
}

const char *migration_why(const struct migration *m, int i)
{
	const struct step_map *sm =
		last_change(m->from->abi, layout_current()->maps[i].name);

	return sm ? sm->why : NULL;
}

int migration_fill(struct migration *m, const int *new_fd)
{
	const struct layout *cur = layout_current();
	__u32 zero = 0;
	int i, err;

	for (i = 0; i < cur->nmaps; i++) {
		const struct step_map *sm = last_change(m->from->abi,
							cur->maps[i].name);

		if (!sm || new_fd[i] < 0)
			continue;
		m->missing = cur->maps[i].name;
		if (!strcmp(sm->name, XDPLB_PIN_CONFIG)) {
			if (bpf_map_update_elem(new_fd[i], &zero, &m->cfg,
						BPF_ANY))
				return -errno;
			continue;
		}
		if (!sm->fill)
			continue;	/* new, and empty */
		/* A map changed by one step only (a chain of two steps that
		 * change one map goes through a map of the layout between,
		 * which the second step's author adds here). */
		err = sm->fill(m, old_fd_of(m, sm->name), new_fd[i]);
		if (err)
			return err;
	}
	m->missing = NULL;
	return 0;
}
