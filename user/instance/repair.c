// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * repair.c - the marker of a change in progress, and the repair of what an
 * interrupted one left (repair.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xdplb.h"
#include "xdplb_hash.h"
#include "addr.h"
#include "fault.h"
#include "lb.h"
#include "repair.h"

/* The marker's one value: who changes. */
struct change_mark {
	__u32 pid;
	char who[60];
};

static void mark_path(const char *dir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, CHANGE_MARK);
}

bool lb_change_pending(const char *dir)
{
	char path[PATH_MAX + 16];

	mark_path(dir, path, sizeof(path));
	return !access(path, F_OK);
}

int lb_change_begin(struct lb *lb)
{
	struct change_mark m = { .pid = (__u32)getpid() };
	char path[PATH_MAX + 16];
	__u32 zero = 0;
	int fd, err = 0;

	if (lb->change_depth++ || !lb->pin_dir[0])
		return 0;
	mark_path(lb->pin_dir, path, sizeof(path));
	lb->change_inherited = !access(path, F_OK);
	if (lb->change_inherited)
		return 0;
	snprintf(m.who, sizeof(m.who), "%s", lb->who ? lb->who : "xdplb");
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdplb_changing",
			    sizeof(zero), sizeof(m), 1, NULL);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	if (bpf_map_update_elem(fd, &zero, &m, BPF_ANY) ||
	    bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
out:
	if (err)
		lb->change_depth--;
	return err;
}

/* Remove the marker: the last write of a change ("lb:write" too). */
static int unmark(const char *dir)
{
	char path[PATH_MAX + 16];
	int err = fault("lb:write");

	if (err)
		return err;
	mark_path(dir, path, sizeof(path));
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int lb_change_end(struct lb *lb, int err)
{
	struct lb_drift d;
	int ret;

	if (!lb->change_depth || --lb->change_depth || !lb->pin_dir[0])
		return 0;
	if (err || lb->change_inherited) {
		ret = lb_reconcile(lb, true, &d, NULL, NULL);
		if (ret)
			return ret;	/* the marker stays for the next */
	}
	ret = unmark(lb->pin_dir);
	if (!ret)
		lb->change_inherited = false;
	return ret;
}

/* Who left the marker in dir: "'xdplb restore' (pid 4242)". */
static void mark_who(const char *dir, char *buf, size_t len)
{
	struct change_mark m = {};
	char path[PATH_MAX + 16];
	__u32 zero = 0;
	int fd;

	mark_path(dir, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &zero, &m) && m.who[0]) {
		m.who[sizeof(m.who) - 1] = '\0';
		snprintf(buf, len, "'xdplb %s' (pid %u)", m.who, m.pid);
	} else {
		snprintf(buf, len, "an xdplb");
	}
	if (fd >= 0)
		close(fd);
}

int lb_repair(struct lb *lb, char *msg, size_t len)
{
	char who[96], what[256];
	struct lb_drift d;
	int err;

	msg[0] = '\0';
	if (!lb->pin_dir[0] || !lb_change_pending(lb->pin_dir))
		return 0;
	mark_who(lb->pin_dir, who, sizeof(who));
	err = lb_reconcile(lb, true, &d, NULL, NULL);
	if (!err)
		err = unmark(lb->pin_dir);
	if (err) {
		snprintf(msg, len, "%s was interrupted in a change, and "
			 "repairing what it left failed: %s (the next command "
			 "that changes the instance tries again)", who,
			 strerror(-err));
		return err;
	}
	if (lb_drift_count(&d))
		lb_drift_text(&d, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "nothing to repair");
	snprintf(msg, len, "%s was interrupted in a change: %s; the instance "
		 "forwards what `save` prints (make the change again to finish "
		 "it)", who, what);
	return 0;
}

int lb_change_carry(const char *from_dir, const char *to_dir)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];
	int fd, err = 0;

	mark_path(from_dir, from, sizeof(from));
	fd = bpf_obj_get(from);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	mark_path(to_dir, to, sizeof(to));
	if (bpf_obj_pin(fd, to) && errno != EEXIST)
		err = -errno;
	close(fd);
	return err;
}

/* Reconcile ------------------------------------------------------------- */

/* One pass of lb_reconcile. */
struct recon {
	struct lb *lb;
	bool fix;
	struct lb_drift *d;
	lb_drift_fn say;
	void *ctx;
	struct lb_service *ents;	/* the services map, markers too */
	int n;
	struct xdplb_real *all;		/* every real */
	bool *live;			/* per service id: in use */
	__u64 fwant[XDPLB_VIP_FILTER_WORDS];	/* the VIP filter wanted */
	__u64 flive[XDPLB_VIP_FILTER_WORDS];	/* and as it is */
	struct xdplb_svc *later;	/* tables to write after the index */
	int nlater;
};

static void say(struct recon *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct recon *r, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!r->say)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->say(r->ctx, line);
}

static bool is_marker(const struct lb_service *e)
{
	return e->svc.flags & XDPLB_SVC_F_MARKER;
}

static bool same_vip(const struct lb_service *a, const struct lb_service *b)
{
	return a->key.family == b->key.family &&
	       addr_equal(&a->key.addr, &b->key.addr);
}

static void vip_addr(const struct lb_service *e, char *buf, size_t len)
{
	format_addr(&e->key.addr, e->key.family, buf, len);
}

/* (Re)read the services map; live[] from it. */
static int read_services(struct recon *r)
{
	int i, err;

	free(r->ents);
	r->ents = NULL;
	err = lb_svc_entries(r->lb, &r->ents, &r->n);
	if (err)
		return err;
	memset(r->live, 0, XDPLB_MAX_SERVICES * sizeof(*r->live));
	for (i = 0; i < r->n; i++)
		if (!is_marker(&r->ents[i]) &&
		    r->ents[i].svc.id < XDPLB_MAX_SERVICES)
			r->live[r->ents[i].svc.id] = true;
	return 0;
}

/*
 * One VIP marker for each address that has services, and none for an
 * address that has none: lb_svc_add writes the marker before the service,
 * lb_svc_del removes it after the last one. (Sorted, an address's marker,
 * proto 0, comes first among its entries.)
 */
static int markers(struct recon *r)
{
	struct xdplb_svc mval = { .flags = XDPLB_SVC_F_MARKER,
				  .frag_tcp = XDPLB_NO_FRAG,
				  .frag_udp = XDPLB_NO_FRAG };
	char a[ADDR_STRLEN];
	int i, j, err = 0, changed = 0;

	for (i = 0; i < r->n && !err; i = j) {
		const struct lb_service *e = &r->ents[i];
		struct xdplb_svc_key m = { .addr = e->key.addr,
					   .family = e->key.family };
		bool marker = is_marker(e), services = false;

		for (j = i; j < r->n && same_vip(e, &r->ents[j]); j++)
			services |= !is_marker(&r->ents[j]);
		if (marker && services)
			continue;
		vip_addr(e, a, sizeof(a));
		r->d->markers++;
		changed++;
		if (marker) {
			say(r, "VIP %s: marked as a VIP in the services map, "
			    "but no service has it", a);
			if (r->fix)
				err = lb_svc_entry_del(r->lb, &m);
		} else {
			say(r, "VIP %s: has services, but no VIP marker in the "
			    "services map (its later fragments are not placed)",
			    a);
			if (r->fix)
				err = lb_svc_entry_put(r->lb, &m, &mval);
		}
	}
	if (!err && r->fix && changed)
		err = read_services(r);
	return err;
}

/* The slot of key in an index, probed as the data path probes it. */
static const struct xdplb_svc_slot *
index_find(const struct xdplb_svc_slot *slots, const struct xdplb_svc_key *key)
{
	__u32 home = xdplb_svc_hash(key), p;

	for (p = 0; p < XDPLB_SVC_PROBES; p++) {
		const struct xdplb_svc_slot *s =
			&slots[(home + p) & (XDPLB_SVC_SLOTS - 1)];

		if (!s->key.family)
			return NULL;
		if (!memcmp(&s->key, key, sizeof(*key)))
			return s;
	}
	return NULL;
}

static void entry_name(const struct xdplb_svc_key *key, char *buf,
		       size_t len)
{
	if (key->proto)
		format_vip(key, buf, len);
	else
		format_addr(&key->addr, key->family, buf, len);
}

/*
 * Services that do not fit in the index (a probe chain too long): only a
 * change that compiles the index once at the end (restore) can have left
 * them, and it would have removed them. Those not in the live index go.
 */
static int drop_unindexed(struct recon *r, const struct xdplb_svc_slot *live)
{
	char v[ADDR_STRLEN];
	int i, err, dropped = 0;

	for (i = 0; i < r->n; i++) {
		const struct xdplb_svc_key *key = &r->ents[i].key;

		if (is_marker(&r->ents[i]) || index_find(live, key))
			continue;
		format_vip(key, v, sizeof(v));
		say(r, "VIP %s: does not fit in the service index (a probe "
		    "chain would be too long)%s", v, r->fix ? ": removed, as "
		    "restore would have" : "");
		r->d->unindexed++;
		if (!r->fix)
			continue;
		err = lb_svc_entry_del(r->lb, key);
		if (err)
			return err;
		dropped++;
	}
	if (!r->fix)
		return 0;
	if (!dropped)
		return -ENOSPC;
	err = read_services(r);
	return err ? err : markers(r);
}

/* Differences between the index want and the live one, in words. */
static void index_diff(struct recon *r, const struct xdplb_svc_slot *want,
		       const struct xdplb_svc_slot *live)
{
	const struct xdplb_svc_slot *s, *w;
	char v[ADDR_STRLEN];
	int i;

	for (i = 0; i < XDPLB_SVC_SLOTS; i++) {
		w = &want[i];
		if (!w->key.family)
			continue;
		entry_name(&w->key, v, sizeof(v));
		s = index_find(live, &w->key);
		if (!s)
			say(r, "VIP %s: in the configuration, but not in the "
			    "service index (its packets are not balanced)", v);
		else if (memcmp(&s->svc, &w->svc, sizeof(s->svc)))
			say(r, "VIP %s: the service index holds other settings "
			    "for it than the configuration", v);
	}
	for (i = 0; i < XDPLB_SVC_SLOTS; i++) {
		s = &live[i];
		if (!s->key.family || index_find(want, &s->key))
			continue;
		entry_name(&s->key, v, sizeof(v));
		say(r, "VIP %s: in the service index, but not in the "
		    "configuration", v);
	}
}

/* The bits of the VIP filter that are clear where want has them. */
static void filter_diff(struct recon *r, const __u64 *live)
{
	char a[ADDR_STRLEN];
	int i;

	for (i = 0; i < r->n; i++) {
		const struct lb_service *e = &r->ents[i];
		__u32 bit = xdplb_vip_bit(&e->key.addr);

		if ((i && same_vip(e, &r->ents[i - 1])) ||
		    (live[bit >> 6] >> (bit & 63) & 1))
			continue;
		vip_addr(e, a, sizeof(a));
		say(r, "VIP %s: its bit in the VIP filter is clear (its "
		    "packets go to the kernel)", a);
		r->d->filter++;
	}
}

/* The service index and the VIP filter against what the services map
 * compiles to (r->index_differs, r->filter_differs); services that do not
 * fit dropped first (fix) or said. */
static int index_check(struct recon *r)
{
	struct xdplb_svc_slot *want, *live;
	int err;

	want = calloc(XDPLB_SVC_SLOTS, sizeof(*want));
	live = calloc(XDPLB_SVC_SLOTS, sizeof(*live));
	err = want && live ? 0 : -ENOMEM;
	if (!err)
		err = lb_index_read(r->lb, live);
	if (err == -ENOENT)	/* no index at all */
		err = 0;
	if (err)
		goto out;
	err = lb_index_compile(r->ents, r->n, want);
	if (err == -ENOSPC) {
		r->d->index = true;
		err = drop_unindexed(r, live);
		if (!err && r->fix)
			err = lb_index_compile(r->ents, r->n, want);
		if (err || !r->fix)
			goto out;
	}
	if (err)
		goto out;
	if (memcmp(want, live, XDPLB_SVC_SLOTS * sizeof(*want))) {
		r->d->index = true;
		index_diff(r, want, live);
	}
	err = lb_filter_read(r->lb, r->flive);
	if (err)
		goto out;
	lb_filter_want(r->ents, r->n, r->fwant);
	filter_diff(r, r->flive);
out:
	free(want);
	free(live);
	return err;
}

/* The filter first gains the new bits, then the index swaps, then the
 * filter loses the stale ones (lb_index_rebuild); or the filter alone. */
static int index_fix(struct recon *r)
{
	if (r->d->index)
		return lb_index_rebuild(r->lb);
	if (memcmp(r->fwant, r->flive, sizeof(r->fwant)))
		return lb_filter_write(r->lb, r->fwant, r->flive);
	return 0;
}

/*
 * Service e's table against what its reals build. Differing, and fix: a
 * table that is new or grows is written now, before the index (which may
 * already name its new size); any other waits in r->later until the index
 * names its size. Either way the data path never indexes past a table.
 */
static int table_check(struct recon *r, int i)
{
	const struct lb_service *e = &r->ents[i];
	struct xdplb_maglev_elem *want = NULL, *live = NULL;
	__u32 elems = XDPLB_MAGLEV_ELEMS(e->svc.table_size), lelems = 0, k;
	__u32 slots = 0;
	char v[ADDR_STRLEN];
	int err;

	err = lb_table_build(r->lb, r->all, &e->svc, &want);
	if (!err)
		err = lb_table_read(r->lb, e->svc.id, &live, &lelems);
	if (err == -ENOENT)
		err = 0;
	if (err)
		goto out;
	r->d->tables += !!want;
	if (want && live && lelems == elems)
		for (k = 0; k < elems * XDPLB_MAGLEV_PACK; k++)
			slots += want[k / XDPLB_MAGLEV_PACK].id[k %
							  XDPLB_MAGLEV_PACK] !=
				 live[k / XDPLB_MAGLEV_PACK].id[k %
							  XDPLB_MAGLEV_PACK];
	if ((!want && !live) || (want && live && lelems == elems && !slots))
		goto out;
	format_vip(&e->key, v, sizeof(v));
	if (!want)
		say(r, "VIP %s: has a Maglev table, but none of its reals "
		    "takes new flows", v);
	else if (!live)
		say(r, "VIP %s: has no Maglev table, but its reals build one "
		    "(its new flows are dropped)", v);
	else if (lelems != elems)
		say(r, "VIP %s: its Maglev table has room for %u slots, its "
		    "size is %u", v, lelems * XDPLB_MAGLEV_PACK,
		    e->svc.table_size);
	else
		say(r, "VIP %s: %u of the %u slots of its Maglev table differ "
		    "from what its reals build", v, slots, e->svc.table_size);
	r->d->tables_wrong++;
	if (!r->fix)
		goto out;
	if (want && (!live || elems > lelems))
		err = lb_table_write(r->lb, &e->svc, want);
	else
		r->later[r->nlater++] = e->svc;
out:
	free(want);
	free(live);
	return err;
}

/* Tables and reals of services that are gone (an interrupted del-vip):
 * the tables first, then the reals, as lb_svc_del orders them. */
static int stale(struct recon *r)
{
	char a[ADDR_STRLEN];
	__u32 id, lelems;
	int i, err;

	for (id = 0; id < XDPLB_MAX_SERVICES; id++) {
		struct xdplb_maglev_elem *live = NULL;
		struct xdplb_svc gone = { .id = id };

		if (r->live[id])
			continue;
		err = lb_table_read(r->lb, id, &live, &lelems);
		free(live);
		if (err == -ENOENT)
			continue;
		if (err)
			return err;
		say(r, "service id %u: has a Maglev table, but there is no "
		    "such service", id);
		r->d->stale_tables++;
		if (r->fix && (err = lb_table_write(r->lb, &gone, NULL)))
			return err;
	}
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		struct xdplb_real gone = r->all[i];

		if (!(gone.flags & XDPLB_REAL_F_USED))
			continue;
		if (gone.svc_id < XDPLB_MAX_SERVICES && r->live[gone.svc_id]) {
			r->d->reals++;
			continue;
		}
		format_addr(&gone.addr, gone.family, a, sizeof(a));
		say(r, "real %s (id %d): of service id %u, which does not "
		    "exist (its tracked flows still go to it)", a, i,
		    gone.svc_id);
		r->d->stale_reals++;
		gone.flags = 0;		/* as lb_svc_del: gen stays */
		if (r->fix && (err = lb_real_update(r->lb, i, &gone)))
			return err;
	}
	return 0;
}

int lb_reconcile(struct lb *lb, bool fix, struct lb_drift *d,
		 lb_drift_fn say_fn, void *ctx)
{
	struct recon *r = calloc(1, sizeof(*r));
	int i, err;

	memset(d, 0, sizeof(*d));
	if (!r)
		return -ENOMEM;
	*r = (struct recon){ .lb = lb, .fix = fix, .d = d, .say = say_fn,
			     .ctx = ctx };
	r->all = calloc(XDPLB_MAX_REALS, sizeof(*r->all));
	r->live = calloc(XDPLB_MAX_SERVICES, sizeof(*r->live));
	r->later = calloc(XDPLB_MAX_VIP_KEYS, sizeof(*r->later));
	err = r->all && r->live && r->later ? 0 : -ENOMEM;
	if (!err)
		err = lb_reals(lb, r->all);
	if (!err)
		err = read_services(r);
	if (!err)
		err = markers(r);
	if (!err)
		err = index_check(r);
	for (i = 0; !err && i < r->n; i++) {
		if (is_marker(&r->ents[i]))
			continue;
		d->services++;
		err = table_check(r, i);
	}
	if (!err && fix)
		err = index_fix(r);
	for (i = 0; !err && i < r->nlater; i++)
		err = lb_rebuild(lb, r->all, &r->later[i]);
	if (!err)
		err = stale(r);
	free(r->ents);
	free(r->later);
	free(r->live);
	free(r->all);
	free(r);
	return err;
}

int lb_drift_count(const struct lb_drift *d)
{
	return d->markers + d->unindexed + d->index + d->filter +
	       d->tables_wrong + d->stale_tables + d->stale_reals;
}

/* "N thing(s)" into parts[*n], when N is not 0. */
static void part(char parts[][64], int *n, int count, const char *one,
		 const char *many)
{
	if (count && !many)
		snprintf(parts[(*n)++], 64, "%s", one);
	else if (count)
		snprintf(parts[(*n)++], 64, "%d %s", count,
			 count == 1 ? one : many);
}

/* "VERB a, b and c" at buf + *off, after "; " when *off > 0. */
static void join(char *buf, size_t len, size_t *off, const char *verb,
		 char parts[][64], int n)
{
	int i;

	for (i = 0; i < n && *off < len; i++)
		*off += snprintf(buf + *off, len - *off, "%s%s%s",
				 i ? (i == n - 1 ? " and " : ", ") :
				 *off ? "; " : "", i ? "" : verb, parts[i]);
}

void lb_drift_text(const struct lb_drift *d, char *buf, size_t len)
{
	char made[4][64], gone[3][64];
	int nm = 0, ng = 0;
	size_t off = 0;

	part(made, &nm, d->index, "the service index", NULL);
	part(made, &nm, d->filter, "the VIP filter", NULL);
	part(made, &nm, d->markers, "VIP marker", "VIP markers");
	part(made, &nm, d->tables_wrong, "Maglev table", "Maglev tables");
	part(gone, &ng, d->unindexed, "service that did not fit in the index",
	     "services that did not fit in the index");
	part(gone, &ng, d->stale_tables, "Maglev table of a deleted service",
	     "Maglev tables of deleted services");
	part(gone, &ng, d->stale_reals, "real of a deleted service",
	     "reals of deleted services");
	buf[0] = '\0';
	join(buf, len, &off, "rebuilt ", made, nm);
	join(buf, len, &off, "removed ", gone, ng);
}
