// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config.c - configurations: parsed from files of command lines, read from
 * an instance, written as command lines, applied as a difference. See
 * config.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net/if.h>
#include <linux/rtnetlink.h>

#include "addr.h"
#include "cmd.h"
#include "config.h"
#include "ifaddr.h"
#include "json.h"
#include "lines.h"
#include "neigh.h"
#include "repair.h"
#include "spec.h"

#define NEIGH_TIMEOUT_MS	3000
#define MAX_WORDS		64	/* words of one line */

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->svcs);
	free(c->reals);
	free(c);
}

static int find_svc(const struct config *c, const struct xdplb_svc_key *key)
{
	int i;

	for (i = 0; i < c->nsvcs; i++)
		if (!memcmp(&c->svcs[i].key, key, sizeof(*key)))
			return i;
	return -1;
}

static int find_real(const struct config *c, const struct xdplb_svc_key *svc,
		     const struct xdplb_addr *addr)
{
	int i;

	for (i = 0; i < c->nreals; i++)
		if (addr_equal(&c->reals[i].addr, addr) &&
		    !memcmp(&c->reals[i].svc, svc, sizeof(*svc)))
			return i;
	return -1;
}

/* Room for element n of *v, which has room for n elements when n is 16
 * or a larger power of two, and for 16 or the next one otherwise. NULL
 * when out of memory. */
static void *grow(void **v, int n, size_t size)
{
	void *p;

	if (n > 16 && (n & (n - 1)))
		return (char *)*v + n * size;
	p = realloc(*v, (n < 16 ? 16 : 2 * (size_t)n) * size);
	if (!p)
		return NULL;
	*v = p;
	return (char *)p + n * size;
}

/* parse ---------------------------------------------------------------- */

/*
 * Split line into words in place, as the shell does: blanks separate
 * words, '...' quotes everything, "..." everything but \" and \\, a \
 * outside quotes the next character, and a word starting with # starts a
 * comment. Returns the number of words, or -1 with the message in err.
 */
static int split_words(char *line, char **argv, char *err, size_t errlen)
{
	char *in = line, *out = line;
	int argc = 0;

	for (;;) {
		while (*in == ' ' || *in == '\t')
			in++;
		if (!*in || *in == '#')
			return argc;
		if (argc == MAX_WORDS) {
			snprintf(err, errlen, "more than %d words", MAX_WORDS);
			return -1;
		}
		argv[argc++] = out;
		while (*in && *in != ' ' && *in != '\t') {
			char q = *in;

			if (q == '\\' && in[1]) {
				*out++ = in[1];
				in += 2;
			} else if (q == '\'' || q == '"') {
				for (in++; *in && *in != q; in++) {
					if (q == '"' && *in == '\\' &&
					    (in[1] == '"' || in[1] == '\\'))
						in++;
					*out++ = *in;
				}
				if (!*in) {
					snprintf(err, errlen, "unterminated "
						 "%c quote", q);
					return -1;
				}
				in++;
			} else {
				*out++ = *in++;
			}
		}
		if (*in)
			in++;
		*out++ = '\0';
	}
}

/* A service or real declared twice: where the first one is. */
static void said_before(char *buf, size_t len, int line)
{
	if (line)
		snprintf(buf, len, "is already declared on line %d", line);
	else
		snprintf(buf, len, "already exists");
}

static int parse_svc_line(struct config *c, int argc, char **argv, int line,
			  char *err, size_t errlen)
{
	struct config_service s = { .line = line };
	char where[48];
	struct vip_spec v;
	int ret, dup;

	ret = vip_spec_parse(argc, argv, false, &v, err, errlen);
	if (ret)
		return ret;
	svc_opts_default(&s.opts);
	ret = vip_spec_merge(&v, &s.flags, &s.table_size, &s.opts, err,
			     errlen);
	if (ret)
		return ret;
	s.key = v.key;
	dup = find_svc(c, &s.key);
	if (dup >= 0) {
		said_before(where, sizeof(where), c->svcs[dup].line);
		snprintf(err, errlen, "VIP %s %s", v.vip, where);
		return EXIT_FAIL;
	}
	if (c->nsvcs == XDPLB_MAX_SERVICES) {
		snprintf(err, errlen, "more than %d services",
			 XDPLB_MAX_SERVICES);
		return EXIT_FAIL;
	}
	if (!grow((void **)&c->svcs, c->nsvcs, sizeof(s))) {
		snprintf(err, errlen, "out of memory");
		return EXIT_FAIL;
	}
	c->svcs[c->nsvcs++] = s;
	return 0;
}

static int parse_real_line(struct config *c, int argc, char **argv, int line,
			   char *err, size_t errlen)
{
	struct config_real r = { .line = line };
	struct real_spec a;
	char where[48];
	int ret, dup;

	ret = real_spec_parse(argc, argv, REAL_WEIGHT | REAL_MAC | REAL_SORRY |
			      REAL_NEW, &a, err, errlen);
	if (ret)
		return ret;
	if (find_svc(c, &a.key) < 0) {
		snprintf(err, errlen, "VIP %s is not declared (by an add-vip "
			 "line before this one)", a.vip);
		return EXIT_FAIL;
	}
	dup = find_real(c, &a.key, &a.addr);
	if (dup >= 0) {
		said_before(where, sizeof(where), c->reals[dup].line);
		snprintf(err, errlen, "real %s of VIP %s %s", a.real, a.vip,
			 where);
		return EXIT_FAIL;
	}
	if (c->nreals == XDPLB_MAX_REALS) {
		snprintf(err, errlen, "more than %d reals", XDPLB_MAX_REALS);
		return EXIT_FAIL;
	}
	r.svc = a.key;
	r.addr = a.addr;
	r.family = a.family;
	r.weight = a.weight;
	r.sorry = a.sorry;
	r.mac_manual = a.has_mac;
	memcpy(r.mac, a.mac, sizeof(r.mac));
	if (!grow((void **)&c->reals, c->nreals, sizeof(r))) {
		snprintf(err, errlen, "out of memory");
		return EXIT_FAIL;
	}
	c->reals[c->nreals++] = r;
	return 0;
}

/* set-vip: the options given, over the service's own. */
static int edit_set_vip(struct config *c, int argc, char **argv, char *err,
			size_t errlen)
{
	struct config_service *s;
	struct vip_spec v;
	int ret, i;

	ret = vip_spec_parse(argc, argv, true, &v, err, errlen);
	if (ret)
		return ret;
	i = find_svc(c, &v.key);
	if (i < 0) {
		snprintf(err, errlen, "unknown VIP %s", v.vip);
		return EXIT_FAIL;
	}
	s = &c->svcs[i];
	return vip_spec_merge(&v, &s->flags, &s->table_size, &s->opts, err,
			      errlen);
}

/* del-vip: the service and its reals. */
static int edit_del_vip(struct config *c, int argc, char **argv, char *err,
			size_t errlen)
{
	struct xdplb_svc_key key;
	int i, n = 0;

	if (argc != 2) {
		snprintf(err, errlen, "%s: expected one VIP", argv[0]);
		return EXIT_USAGE;
	}
	if (spec_vip(argv[1], &key, err, errlen))
		return EXIT_FAIL;
	i = find_svc(c, &key);
	if (i < 0) {
		snprintf(err, errlen, "unknown VIP %s", argv[1]);
		return EXIT_FAIL;
	}
	memmove(&c->svcs[i], &c->svcs[i + 1],
		(c->nsvcs - i - 1) * sizeof(*c->svcs));
	c->nsvcs--;
	for (i = 0; i < c->nreals; i++)
		if (memcmp(&c->reals[i].svc, &key, sizeof(key)))
			c->reals[n++] = c->reals[i];
	c->nreals = n;
	return 0;
}

/* set-real (--weight) and del-real. */
static int edit_real(struct config *c, int argc, char **argv, bool del,
		     char *err, size_t errlen)
{
	struct real_spec a;
	int ret, i;

	ret = real_spec_parse(argc, argv, del ? 0 : REAL_WEIGHT, &a, err,
			      errlen);
	if (ret)
		return ret;
	if (!del && !a.has_weight) {
		snprintf(err, errlen, "%s: --weight W is required", argv[0]);
		return EXIT_USAGE;
	}
	if (find_svc(c, &a.key) < 0) {
		snprintf(err, errlen, "unknown VIP %s", a.vip);
		return EXIT_FAIL;
	}
	i = find_real(c, &a.key, &a.addr);
	if (i < 0) {
		snprintf(err, errlen, "no real %s in VIP %s", a.real, a.vip);
		return EXIT_FAIL;
	}
	if (!del) {
		c->reals[i].weight = a.weight;
		return 0;
	}
	memmove(&c->reals[i], &c->reals[i + 1],
		(c->nreals - i - 1) * sizeof(*c->reals));
	c->nreals--;
	return 0;
}

/* A real at the address of any VIP of the file (its own is refused with
 * its line): the load balancer, or another one, owns that address. The
 * real's line (the VIP's for a real from before), or 0 when none. */
static int vip_as_real(const struct config *c, char *err, size_t errlen)
{
	char vip[ADDR_STRLEN], real[ADDR_STRLEN];
	int i, j;

	for (i = 0; i < c->nreals; i++) {
		const struct config_real *r = &c->reals[i];

		for (j = 0; j < c->nsvcs; j++) {
			const struct config_service *s = &c->svcs[j];

			if (s->key.family != r->family ||
			    !addr_equal(&s->key.addr, &r->addr))
				continue;
			format_addr(&r->addr, r->family, real, sizeof(real));
			format_vip(&s->key, vip, sizeof(vip));
			if (s->line)
				snprintf(err, errlen, "real %s is the address "
					 "of VIP %s (line %d): a real is "
					 "another host on the segment", real,
					 vip, s->line);
			else
				snprintf(err, errlen, "real %s is the address "
					 "of VIP %s: a real is another host on "
					 "the segment", real, vip);
			return r->line ? r->line : s->line;
		}
	}
	return 0;
}

int config_edit(struct config *c, FILE *f, bool edit, config_line_fn other,
		void *ctx, int *errline, char *err, size_t errlen)
{
	char *argv[MAX_WORDS + 1], *text;
	struct lines in;
	int i, argc, ret;

	*errline = 0;
	/* What c holds already is "from before", whatever file it was. */
	for (i = 0; i < c->nsvcs; i++)
		c->svcs[i].line = 0;
	for (i = 0; i < c->nreals; i++)
		c->reals[i].line = 0;
	/* Every byte checked (lines.h): a NUL would hide the rest of its
	 * line, a file cut short would pass for a shorter configuration. */
	ret = lines_open(&in, f, NULL, CONFIG_MAX_LINE, CONFIG_MAX_BYTES);
	if (ret) {
		snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	while (!ret && (ret = lines_next(&in, &text, err, errlen)) > 0) {
		argc = split_words(text, argv, err, errlen);
		if (argc <= 0)
			ret = argc;
		else if (!strcmp(argv[0], "add-vip"))
			ret = parse_svc_line(c, argc, argv, in.line, err,
					     errlen);
		else if (!strcmp(argv[0], "add-real"))
			ret = parse_real_line(c, argc, argv, in.line, err,
					      errlen);
		else if (edit && !strcmp(argv[0], "set-vip"))
			ret = edit_set_vip(c, argc, argv, err, errlen);
		else if (edit && !strcmp(argv[0], "del-vip"))
			ret = edit_del_vip(c, argc, argv, err, errlen);
		else if (edit && (!strcmp(argv[0], "set-real") ||
				  !strcmp(argv[0], "del-real")))
			ret = edit_real(c, argc, argv, argv[0][0] == 'd', err,
					errlen);
		else if (other && (ret = other(ctx, c, argc, argv, in.line,
					       err, errlen)) != -ENOENT)
			;
		else if (edit) {
			snprintf(err, errlen, "unknown line '%s' (add-vip, "
				 "set-vip, del-vip, add-real, set-real, "
				 "del-real)", argv[0]);
			ret = -1;
		} else {
			snprintf(err, errlen, "'%s' does not declare "
				 "anything (a configuration has add-vip and "
				 "add-real lines)", argv[0]);
			ret = -1;
		}
	}
	if (ret) {
		*errline = in.line;
	} else {
		*errline = vip_as_real(c, err, errlen);
		ret = *errline ? -1 : 0;
	}
	lines_close(&in);
	return ret ? (ret < 0 && ret != -1 ? ret : -EINVAL) : 0;
}

int config_parse(FILE *f, const char *name, struct config **out, char *err,
		 size_t errlen)
{
	struct config *c = calloc(1, sizeof(*c));
	char msg[SPEC_ERRLEN];
	int line, ret;

	if (!c)
		return -ENOMEM;
	ret = config_edit(c, f, false, NULL, NULL, &line, msg, sizeof(msg));
	if (ret) {
		if (line)
			snprintf(err, errlen, "%s:%d: %s", name, line, msg);
		else
			snprintf(err, errlen, "%s: %s", name, msg);
		config_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* from an instance ------------------------------------------------------ */

/* Sort order of reals: their service's place, then the address. */
struct real_order {
	int svc;
	const struct config_real *r;
};

static int real_order_cmp(const void *a, const void *b)
{
	const struct real_order *x = a, *y = b;

	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	return memcmp(&x->r->addr, &y->r->addr, sizeof(x->r->addr));
}

int config_from_lb(struct lb *lb, struct config **out)
{
	struct xdplb_real *all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	struct config *c = calloc(1, sizeof(*c));
	int *place = calloc(XDPLB_MAX_SERVICES, sizeof(*place));
	struct lb_service *svcs = NULL;
	struct real_order *order = NULL;
	struct config_real *sorted;
	int i, n = 0, err = -ENOMEM;

	if (!all || !c || !place)
		goto out;
	err = lb_services(lb, &svcs, &n);
	if (!err)
		err = lb_reals(lb, all);
	if (err)
		goto out;
	c->svcs = calloc(n + 1, sizeof(*c->svcs));
	c->reals = calloc(XDPLB_MAX_REALS, sizeof(*c->reals));
	order = calloc(XDPLB_MAX_REALS, sizeof(*order));
	err = -ENOMEM;
	if (!c->svcs || !c->reals || !order)
		goto out;
	for (i = 0; i < XDPLB_MAX_SERVICES; i++)
		place[i] = -1;
	for (i = 0; i < n; i++) {
		struct config_service *s = &c->svcs[i];

		s->key = svcs[i].key;
		s->flags = svcs[i].svc.flags &
			   (XDPLB_SVC_F_HASH_SRC | XDPLB_SVC_F_OPS);
		s->table_size = svcs[i].svc.table_size == lb->cfg.table_size ?
				0 : svcs[i].svc.table_size;
		err = lb_svc_opts_get(lb, svcs[i].svc.id, &s->opts);
		if (err)
			goto out;
		svc_opts_normalize(&s->opts);
		if (svcs[i].svc.id < XDPLB_MAX_SERVICES)
			place[svcs[i].svc.id] = i;
	}
	c->nsvcs = n;
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		const struct xdplb_real *x = &all[i];
		struct config_real *r = &c->reals[c->nreals];

		if (!(x->flags & XDPLB_REAL_F_USED) ||
		    x->svc_id >= XDPLB_MAX_SERVICES || place[x->svc_id] < 0)
			continue;	/* left by a failed del-vip */
		r->svc = c->svcs[place[x->svc_id]].key;
		r->addr = x->addr;
		r->family = x->family;
		r->weight = x->weight;
		r->mac_manual = x->flags & XDPLB_REAL_F_MAC_MANUAL;
		r->sorry = x->flags & XDPLB_REAL_F_SORRY;
		memcpy(r->mac, x->mac, sizeof(r->mac));
		order[c->nreals].svc = place[x->svc_id];
		order[c->nreals].r = r;
		c->nreals++;
	}
	/* By service, then address: sort a copy through the order. */
	qsort(order, c->nreals, sizeof(*order), real_order_cmp);
	sorted = calloc(c->nreals + 1, sizeof(*sorted));
	if (!sorted)
		goto out;
	for (i = 0; i < c->nreals; i++)
		sorted[i] = *order[i].r;
	free(c->reals);
	c->reals = sorted;
	*out = c;
	c = NULL;
	err = 0;
out:
	free(order);
	free(svcs);
	free(place);
	free(all);
	config_free(c);
	return err;
}

/* write ----------------------------------------------------------------- */

/* A word as config_parse reads it back: bare when it can be, else in
 * single quotes ('\'' for a quote). */
static void put_word(FILE *f, const char *w)
{
	static const char bare[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789@%+=:,./-_[]";

	fputc(' ', f);
	if (*w && *w != '#' && strspn(w, bare) == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (; *w; w++) {
		if (*w == '\'')
			fputs("'\\''", f);
		else
			fputc(*w, f);
	}
	fputc('\'', f);
}

static void put_opt(FILE *f, const char *name, const char *value)
{
	put_word(f, name);
	if (value)
		put_word(f, value);
}

static void put_uint(FILE *f, const char *name, unsigned long v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lu", v);
	put_opt(f, name, buf);
}

static void put_secs(FILE *f, const char *name, __u32 ms)
{
	char buf[24];

	format_secs(ms, buf, sizeof(buf));
	put_opt(f, name, buf);
}

static void write_service(FILE *f, const struct config_service *s)
{
	struct xdplb_svc_opts o = s->opts;
	char buf[sizeof(o.arg) + 16];

	svc_opts_normalize(&o);
	format_vip(&s->key, buf, sizeof(buf));
	fputs("add-vip", f);
	put_word(f, buf);
	if (s->flags & XDPLB_SVC_F_HASH_SRC)
		put_opt(f, "--hash", "src-ip");
	if (s->flags & XDPLB_SVC_F_OPS)
		put_opt(f, "--ops", NULL);
	if (s->table_size)
		put_uint(f, "--table-size", s->table_size);
	if (o.check != XDPLB_CHECK_NONE) {
		format_check(&o, buf, sizeof(buf));
		put_opt(f, "--check", buf);
		if (o.interval_ms != XDPLB_DEFAULT_CHECK_INTERVAL_MS)
			put_secs(f, "--interval", o.interval_ms);
		if (o.timeout_ms != XDPLB_DEFAULT_CHECK_TIMEOUT_MS)
			put_secs(f, "--timeout", o.timeout_ms);
		if (o.rise != XDPLB_DEFAULT_CHECK_RISE)
			put_uint(f, "--rise", o.rise);
		if (o.fall != XDPLB_DEFAULT_CHECK_FALL)
			put_uint(f, "--fall", o.fall);
	}
	if (o.quorum != XDPLB_DEFAULT_QUORUM)
		put_uint(f, "--quorum", o.quorum);
	fputc('\n', f);
}

static void write_real(FILE *f, const struct config_real *r)
{
	char buf[ADDR_STRLEN];

	fputs("add-real", f);
	format_vip(&r->svc, buf, sizeof(buf));
	put_opt(f, "--vip", buf);
	format_addr(&r->addr, r->family, buf, sizeof(buf));
	put_word(f, buf);
	put_uint(f, "--weight", r->weight);
	if (r->mac_manual) {
		format_mac(r->mac, buf, sizeof(buf));
		put_opt(f, "--mac", buf);
	}
	if (r->sorry)
		put_opt(f, "--sorry", NULL);
	fputc('\n', f);
}

static int svc_place_cmp(const void *a, const void *b)
{
	return lb_svc_key_cmp(&(*(const struct config_service *const *)a)->key,
			      &(*(const struct config_service *const *)b)->key);
}

int config_write(FILE *f, const struct config *c)
{
	const struct config_service **svcs;
	struct real_order *order;
	int i, j, err = 0;

	svcs = calloc(c->nsvcs + 1, sizeof(*svcs));
	order = calloc(c->nreals + 1, sizeof(*order));
	if (!svcs || !order) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < c->nsvcs; i++)
		svcs[i] = &c->svcs[i];
	qsort(svcs, c->nsvcs, sizeof(*svcs), svc_place_cmp);
	for (i = 0; i < c->nreals; i++) {
		order[i].r = &c->reals[i];
		for (j = 0; j < c->nsvcs; j++)
			if (!memcmp(&svcs[j]->key, &c->reals[i].svc,
				    sizeof(svcs[j]->key)))
				order[i].svc = j;
	}
	qsort(order, c->nreals, sizeof(*order), real_order_cmp);
	for (i = 0, j = 0; i < c->nsvcs; i++) {
		write_service(f, svcs[i]);
		for (; j < c->nreals && order[j].svc == i; j++)
			write_real(f, order[j].r);
	}
	if (fflush(f) || ferror(f))
		err = -errno;
out:
	free(order);
	free(svcs);
	return err;
}

static void json_counts(const char *name, int added, int removed,
			int changed)
{
	jw_name(name);
	jw_start_object();
	jw_kv_uint("added", added);
	jw_kv_uint("removed", removed);
	jw_kv_uint("changed", changed);
	jw_end_object();
}

void config_diff_json(const struct config_diff *d)
{
	json_counts("services", d->svcs_added, d->svcs_removed,
		    d->svcs_changed);
	json_counts("reals", d->reals_added, d->reals_removed,
		    d->reals_changed);
}

/* apply ----------------------------------------------------------------- */

static int fail(struct config_diff *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record why the apply failed (the first reason only); return err. */
static int fail(struct config_diff *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (!d->error[0]) {
		va_start(ap, fmt);
		vsnprintf(d->error, sizeof(d->error), fmt, ap);
		va_end(ap);
	}
	return err;
}

int config_resolve_mac(struct lb *lb, __u8 family,
		       const struct xdplb_addr *addr, __u8 mac[6], char *err,
		       size_t errlen)
{
	const char *ifname = lb->cfg.ifname;
	char real[ADDR_STRLEN];
	int ret;

	ret = neigh_resolve(lb->cfg.ifindex, family, addr, mac,
			    NEIGH_TIMEOUT_MS);
	format_addr(addr, family, real, sizeof(real));
	if (!ret && !mac_is_host(mac)) {
		char m[MAC_STRLEN];

		format_mac(mac, m, sizeof(m));
		snprintf(err, errlen, "real %s resolves to %s on '%.16s', not "
			 "a host's MAC (broadcast, multicast or zero)", real,
			 m, ifname);
		return -EINVAL;
	}
	if (!ret)
		return 0;
	if (ret == -EHOSTUNREACH)
		snprintf(err, errlen, "cannot resolve the MAC of %s on '%.16s': "
			 "no %s reply (is it on %.16s's layer-2 segment? --mac "
			 "sets it by hand)", real, ifname,
			 family == XDPLB_AF_INET ? "ARP" :
			 "neighbour discovery", ifname);
	else
		snprintf(err, errlen, "cannot resolve the MAC of %s on '%.16s': "
			 "%s", real, ifname, strerror(-ret));
	return ret;
}

/* The name of interface ifindex, or its number. */
static const char *if_name(int ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

int config_check_real(struct lb *lb, const struct host_addr *addrs,
		      int naddrs, __u8 family, const struct xdplb_addr *addr,
		      char *err, size_t errlen)
{
	char real[ADDR_STRLEN], gw[ADDR_STRLEN], on[IF_NAMESIZE];
	const char *ifname = lb->cfg.ifname;
	const struct host_addr *own;
	struct neigh_route rt;
	__u8 mac[6];
	int ret;

	format_addr(addr, family, real, sizeof(real));
	own = ifaddr_find(addrs, naddrs, family, addr);
	if (own) {
		snprintf(err, errlen, "real %s is an address of this load "
			 "balancer (on '%s'): a real is another host on the "
			 "segment", real, if_name(own->ifindex, on));
		return -EINVAL;
	}
	ret = neigh_route(lb->cfg.ifindex, family, addr, &rt);
	if (!ret && rt.type == RTN_UNICAST && !rt.gateway &&
	    rt.oif == (int)lb->cfg.ifindex)
		return 0;
	if (!ret && rt.type != RTN_UNICAST) {
		snprintf(err, errlen, "real %s is %s on '%s': a real is a "
			 "unicast host address on the segment", real,
			 rt.type == RTN_LOCAL ? "a local address" :
			 rt.type == RTN_BROADCAST ? "a broadcast address" :
			 rt.type == RTN_MULTICAST ? "a multicast address" :
			 rt.type == RTN_ANYCAST ? "an anycast address" :
			 "not a unicast address", if_name(rt.oif, on));
		return -EINVAL;
	}
	/* No on-link route there; a neighbour entry there will do. */
	if (!neigh_peek(lb->cfg.ifindex, family, addr, mac, false))
		return 0;
	if (ret)
		snprintf(err, errlen, "real %s is not on the segment of '%s': "
			 "no route to it (%s)", real, ifname, strerror(-ret));
	else if (rt.gateway)
		snprintf(err, errlen, "real %s is not on the segment of '%s': "
			 "it is reached through the gateway %s on '%s', and a "
			 "real must be on the link", real, ifname,
			 (format_addr(&rt.gw, rt.gw_family, gw, sizeof(gw)),
			  gw), if_name(rt.oif, on));
	else
		snprintf(err, errlen, "real %s is not on the segment of '%s': "
			 "it is reached through '%s'", real, ifname,
			 if_name(rt.oif, on));
	return -EINVAL;
}

/* What reals[id] becomes for want: weight, sorry, MAC; health kept. */
static struct xdplb_real real_wanted(const struct xdplb_real *cur,
				     const struct config_real *w)
{
	struct xdplb_real r = *cur;

	r.weight = w->weight;
	r.flags &= ~(XDPLB_REAL_F_SORRY | XDPLB_REAL_F_MAC_MANUAL);
	if (w->sorry)
		r.flags |= XDPLB_REAL_F_SORRY;
	if (w->mac_manual)
		r.flags |= XDPLB_REAL_F_MAC_MANUAL;
	/* A resolved MAC stays; one given by hand, or given up, changes. */
	if (w->mac_manual || (cur->flags & XDPLB_REAL_F_MAC_MANUAL))
		memcpy(r.mac, w->mac, sizeof(r.mac));
	return r;
}

/* The reals of one service, made what want says; its table rebuilt once
 * when anything that shapes it changed (rebuild: its options did). */
static int apply_reals(struct lb *lb, const struct config *want,
		       const struct config_service *s, struct xdplb_svc *svc,
		       struct xdplb_real *all, bool *matched, bool rebuild,
		       unsigned int flags, struct config_diff *d)
{
	__u32 size = s->table_size ? s->table_size : lb->cfg.table_size;
	bool new_down = (flags & CONFIG_APPLY_NEW_DOWN) &&
			svc_opts_checks_reals(&s->key, &s->opts);
	int i, j, ngone = 0, err = 0;
	char vip[ADDR_STRLEN];
	__u32 *gone, id;

	format_vip(&s->key, vip, sizeof(vip));
	gone = calloc(XDPLB_MAX_REALS, sizeof(*gone));
	if (!gone)
		return fail(d, -ENOMEM, "out of memory");
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		struct xdplb_real r;

		if (!(all[i].flags & XDPLB_REAL_F_USED) ||
		    all[i].svc_id != svc->id)
			continue;
		j = find_real(want, &s->key, &all[i].addr);
		if (j < 0) {
			gone[ngone++] = i;
			continue;
		}
		matched[j] = true;
		r = real_wanted(&all[i], &want->reals[j]);
		if (!memcmp(&r, &all[i], sizeof(r)))
			continue;
		err = lb_real_update(lb, i, &r);
		if (err)
			goto fail_real;
		all[i] = r;
		d->reals_changed++;
		rebuild = true;
	}
	/* New reals first, while the slots of those going are taken (there
	 * is room for them: make_room). */
	for (j = 0; j < want->nreals; j++) {
		const struct config_real *w = &want->reals[j];
		struct xdplb_real r = { .addr = w->addr, .family = w->family,
					.svc_id = svc->id };

		if (matched[j] || memcmp(&w->svc, &s->key, sizeof(s->key)))
			continue;
		r = real_wanted(&r, w);
		memcpy(r.mac, w->mac, sizeof(r.mac));
		/* Down before it is in any table: never a flow unchecked. */
		if (new_down)
			r.flags |= XDPLB_REAL_F_DOWN;
		err = lb_real_add(lb, all, &r, &id);
		if (err)
			goto fail_real;
		matched[j] = true;
		d->reals_added++;
		rebuild = true;
	}
	/* Out of the table first, then out of the reals. */
	for (i = 0; i < ngone; i++)
		all[gone[i]].flags &= ~XDPLB_REAL_F_USED;
	d->reals_removed += ngone;
	if (size != svc->table_size ||
	    s->flags != (svc->flags & (XDPLB_SVC_F_HASH_SRC |
				       XDPLB_SVC_F_OPS))) {
		/* lb_svc_set rebuilds the table when its size changes. */
		err = lb_svc_set(lb, &s->key, s->flags, size, all);
		if (err)
			goto fail_svc;
		if (size != svc->table_size)
			rebuild = false;
		svc->flags = s->flags;
		svc->table_size = size;
	}
	if (rebuild || ngone) {
		err = lb_rebuild(lb, all, svc);
		if (err)
			goto fail_svc;
	}
	for (i = 0; i < ngone; i++) {
		err = lb_real_del(lb, gone[i]);
		if (err) {
			goto fail_real;
		}
	}
	free(gone);
	return 0;

fail_svc:
	free(gone);
	return fail(d, err, "cannot change VIP %s: %s", vip, strerror(-err));
fail_real:
	free(gone);
	return fail(d, err, "cannot change the reals of VIP %s: %s", vip,
		    err == -ENOSPC ? "no room for more reals" :
		    strerror(-err));
}

/*
 * Free the slots of the reals that go before any real comes, when there
 * would not be room for the new ones otherwise (at XDPLB_MAX_REALS): each
 * service that loses reals gets a table without them, then their slots
 * are freed. (With room enough, apply_reals adds first and gives each
 * service one new table; here a service that both loses and gains reals
 * gets two.) svcs: the services before this pass, all: every real.
 */
static int make_room(struct lb *lb, const struct config *want,
		     const struct lb_service *svcs, int n,
		     struct xdplb_real *all, struct config_diff *d)
{
	int *place = malloc(XDPLB_MAX_SERVICES * sizeof(*place));
	__u32 *gone = calloc(XDPLB_MAX_REALS, sizeof(*gone));
	int i, k, used = 0, kept = 0, ngone, err = 0;
	char vip[ADDR_STRLEN];

	if (!place || !gone) {
		err = fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < XDPLB_MAX_SERVICES; i++)
		place[i] = -1;
	for (k = 0; k < n; k++)
		if (svcs[k].svc.id < XDPLB_MAX_SERVICES &&
		    find_svc(want, &svcs[k].key) >= 0)
			place[svcs[k].svc.id] = k;
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		if (!(all[i].flags & XDPLB_REAL_F_USED))
			continue;
		used++;
		k = all[i].svc_id < XDPLB_MAX_SERVICES ?
		    place[all[i].svc_id] : -1;
		kept += k >= 0 && find_real(want, &svcs[k].key,
					    &all[i].addr) >= 0;
	}
	if (used + (want->nreals - kept) <= XDPLB_MAX_REALS)
		goto out;
	for (k = 0; k < n; k++) {
		if (svcs[k].svc.id >= XDPLB_MAX_SERVICES ||
		    place[svcs[k].svc.id] != k)
			continue;	/* deleted with its reals */
		ngone = 0;
		for (i = 0; i < XDPLB_MAX_REALS; i++)
			if ((all[i].flags & XDPLB_REAL_F_USED) &&
			    all[i].svc_id == svcs[k].svc.id &&
			    find_real(want, &svcs[k].key, &all[i].addr) < 0)
				gone[ngone++] = i;
		if (!ngone)
			continue;
		/* Out of the table first, then out of the reals. */
		for (i = 0; i < ngone; i++)
			all[gone[i]].flags &= ~XDPLB_REAL_F_USED;
		err = lb_rebuild(lb, all, &svcs[k].svc);
		for (i = 0; i < ngone && !err; i++) {
			err = lb_real_del(lb, gone[i]);
			if (err)
				break;
		}
		if (err) {
			format_vip(&svcs[k].key, vip, sizeof(vip));
			for (; i < ngone; i++)	/* not freed: still there */
				all[gone[i]].flags |= XDPLB_REAL_F_USED;
			fail(d, err, "cannot remove the reals of VIP %s: %s",
			     vip, strerror(-err));
			goto out;
		}
		d->reals_removed += ngone;
	}
out:
	free(gone);
	free(place);
	return err;
}

/* The services this pass added, when the index could not take them:
 * never in the live index, they go without rebuilding it, then the
 * index of the services before them is built again. */
static void drop_unindexed(struct lb *lb, const struct xdplb_svc_key *keys,
			   int n)
{
	int i;

	lb->defer_index = true;
	for (i = 0; i < n; i++)
		lb_svc_del(lb, &keys[i]);
	lb->defer_index = false;
	lb->index_dirty = false;
	lb_index_rebuild(lb);
}

/* One pass from what runs to want, stopping at the first failure. */
static int apply_config(struct lb *lb, const struct config *want,
			unsigned int flags, struct config_diff *d)
{
	struct xdplb_real *all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	bool *matched = calloc(want->nreals + 1, sizeof(*matched));
	struct lb_service *svcs = NULL;
	struct xdplb_svc_key *added_keys = NULL;
	char vip[ADDR_STRLEN];
	int i, k, n, err, nadded = 0;

	if (!all || !matched) {
		err = fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	err = lb_services(lb, &svcs, &n);
	if (!err)
		err = lb_reals(lb, all);
	if (err) {
		fail(d, err, "cannot read the instance: %s", strerror(-err));
		goto out;
	}
	/* Services that go, with their reals. */
	for (i = 0; i < n; i++) {
		if (find_svc(want, &svcs[i].key) >= 0)
			continue;
		format_vip(&svcs[i].key, vip, sizeof(vip));
		err = lb_svc_del(lb, &svcs[i].key);
		if (err) {
			fail(d, err, "cannot delete VIP %s: %s", vip,
			     strerror(-err));
			goto out;
		}
		d->svcs_removed++;
		for (k = 0; k < XDPLB_MAX_REALS; k++)
			if ((all[k].flags & XDPLB_REAL_F_USED) &&
			    all[k].svc_id == svcs[i].svc.id)
				d->reals_removed++;
	}
	err = lb_reals(lb, all);
	if (err) {
		fail(d, err, "cannot read the reals: %s", strerror(-err));
		goto out;
	}
	err = make_room(lb, want, svcs, n, all, d);
	if (err)
		goto out;

	/* New services go into the index together, after their tables. */
	added_keys = calloc(want->nsvcs + 1, sizeof(*added_keys));
	if (!added_keys) {
		err = fail(d, -ENOMEM, "out of memory");
		goto out;
	}
	lb->defer_index = true;
	for (i = 0; i < want->nsvcs; i++) {
		const struct config_service *s = &want->svcs[i];
		struct xdplb_svc_opts cur;
		struct xdplb_svc svc;
		bool added = false, rebuild = false;

		format_vip(&s->key, vip, sizeof(vip));
		if (lb_svc_get(lb, &s->key, &svc)) {
			err = lb_svc_add(lb, &s->key, s->flags, s->table_size);
			if (!err)
				err = lb_svc_get(lb, &s->key, &svc);
			if (err) {
				fail(d, err, "cannot add VIP %s: %s", vip,
				     err == -ENOSPC ? "no room" :
				     strerror(-err));
				goto out;
			}
			added = true;
			added_keys[nadded++] = s->key;
			d->svcs_added++;
		}
		err = lb_svc_opts_get(lb, svc.id, &cur);
		if (!err && !svc_opts_equal(&cur, &s->opts)) {
			svc_opts_normalize(&cur);
			rebuild = cur.quorum != s->opts.quorum;
			err = lb_svc_opts_set(lb, svc.id, &s->opts);
			if (!added && !err)
				d->svcs_changed++;
		} else if (!added &&
			   (svc.flags & (XDPLB_SVC_F_HASH_SRC |
					 XDPLB_SVC_F_OPS)) != s->flags) {
			d->svcs_changed++;
		} else if (!added && svc.table_size !=
			   (s->table_size ? s->table_size :
			    lb->cfg.table_size)) {
			d->svcs_changed++;
		}
		if (err) {
			fail(d, err, "cannot set the options of VIP %s: %s",
			     vip, strerror(-err));
			goto out;
		}
		err = apply_reals(lb, want, s, &svc, all, matched, rebuild,
				  flags, d);
		if (err)
			goto out;
	}
out:
	lb->defer_index = false;
	if (lb->index_dirty) {
		int e = lb_index_rebuild(lb);

		lb->index_dirty = false;
		if (e && !err)
			err = fail(d, e, "cannot compile the service index: %s",
				   e == -ENOSPC ? "a probe chain would be too "
				   "long" : strerror(-e));
		if (e)
			drop_unindexed(lb, added_keys, nadded);
	}
	free(added_keys);
	free(svcs);
	free(matched);
	free(all);
	return err;
}

/* Room for n elements as grow() expects it to be there. */
static size_t room_for(int n)
{
	size_t cap = 16;

	while (cap < (size_t)n)
		cap *= 2;
	return cap;
}

struct config *config_copy(const struct config *c)
{
	struct config *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->svcs = calloc(room_for(c->nsvcs), sizeof(*d->svcs));
	d->reals = calloc(room_for(c->nreals), sizeof(*d->reals));
	if (!d->svcs || !d->reals) {
		config_free(d);
		return NULL;
	}
	memcpy(d->svcs, c->svcs, c->nsvcs * sizeof(*d->svcs));
	memcpy(d->reals, c->reals, c->nreals * sizeof(*d->reals));
	d->nsvcs = c->nsvcs;
	d->nreals = c->nreals;
	return d;
}

/* The reals of want that have does not hold, as config_check_real sees
 * them. (Those already there stay whatever the network does now: a link
 * down for a moment must not make a file unappliable.) */
static int check_new_reals(struct lb *lb, const struct config *have,
			   const struct config *want, struct config_diff *d)
{
	struct host_addr *addrs = NULL;
	int i, n = -1, err = 0;

	for (i = 0; i < want->nreals; i++) {
		const struct config_real *r = &want->reals[i];

		if (find_real(have, &r->svc, &r->addr) >= 0)
			continue;
		if (n < 0) {	/* the host's addresses, once a real is new */
			err = host_addrs(&addrs, &n);
			if (err)
				return fail(d, err, "cannot list this host's "
					    "addresses: %s", strerror(-err));
		}
		err = config_check_real(lb, addrs, n, r->family, &r->addr,
					d->error, sizeof(d->error));
		if (err) {
			d->line = r->line;
			break;
		}
	}
	free(addrs);
	return err;
}

int config_check_wipe(const struct config *want, const struct config *have,
		      char *err, size_t errlen)
{
	int i, serving = 0, reals = 0, kept = 0;
	char vip[ADDR_STRLEN] = "";

	if (!want->nsvcs) {
		snprintf(err, errlen, "declares no service");
		return -ECANCELED;
	}
	for (i = 0; have && i < have->nsvcs; i++) {
		int j, n = 0;

		for (j = 0; j < have->nreals; j++)
			n += !memcmp(&have->reals[j].svc, &have->svcs[i].key,
				     sizeof(have->svcs[i].key));
		if (!n)
			continue;
		if (!serving++)
			format_vip(&have->svcs[i].key, vip, sizeof(vip));
		reals += n;
		kept += find_svc(want, &have->svcs[i].key) >= 0;
	}
	if (!serving || kept)
		return 0;
	snprintf(err, errlen, "would delete every service that has reals (%d "
		 "service%s with %d real%s: %s%s)", serving,
		 serving == 1 ? "" : "s", reals, reals == 1 ? "" : "s", vip,
		 serving > 1 ? ", ..." : "");
	return -ECANCELED;
}

int config_apply(struct lb *lb, const struct config *want,
		 unsigned int flags, struct config_diff *out)
{
	struct config *have = NULL, *w = NULL;
	struct config_diff undo = {};
	int i, j, err;

	memset(out, 0, sizeof(*out));
	err = config_from_lb(lb, &have);
	if (err)
		return fail(out, err, "cannot read the instance: %s",
			    strerror(-err));
	if ((flags & CONFIG_APPLY_NO_WIPE) &&
	    !((flags & CONFIG_APPLY_EMPTY_IF_IDLE) && !want->nsvcs &&
	      !have->nreals)) {
		err = config_check_wipe(want, have, out->error,
					sizeof(out->error));
		if (err)
			goto out;
	}
	w = config_copy(want);
	if (!w) {
		err = fail(out, -ENOMEM, "out of memory");
		goto out;
	}
	/* Every new real checked, then every MAC: a real that cannot be
	 * one, or cannot be resolved, changes nothing. */
	err = check_new_reals(lb, have, w, out);
	for (i = 0; !err && i < w->nreals; i++) {
		struct config_real *r = &w->reals[i];

		if (r->mac_manual)
			continue;
		j = find_real(have, &r->svc, &r->addr);
		if (j >= 0 && !have->reals[j].mac_manual) {
			memcpy(r->mac, have->reals[j].mac, sizeof(r->mac));
			continue;
		}
		err = config_resolve_mac(lb, r->family, &r->addr, r->mac,
					 out->error, sizeof(out->error));
		if (err)
			out->line = r->line;
	}
	if (err)
		goto out;
	/* From here on every write is made under the change's marker: killed
	 * on its way, the next holder of the lock repairs (repair.h). */
	err = lb_change_begin(lb);
	if (err) {
		fail(out, err, "cannot mark the instance as changing: %s",
		     strerror(-err));
		goto out;
	}
	err = apply_config(lb, w, flags, out);
	if (err && apply_config(lb, have, flags, &undo)) {
		char why[sizeof(out->error)];

		snprintf(why, sizeof(why), "%s", out->error);
		snprintf(out->error, sizeof(out->error), "%.120s; and undoing "
			 "it failed: %.100s", why, undo.error);
	}
	/* Failed: what the data path reads is made what the configuration
	 * maps say, whatever the undo managed. */
	lb_change_end(lb, err);
out:
	config_free(w);
	config_free(have);
	return err;
}
