// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_config.c - services and reals: add-vip, set-vip, del-vip, add-real,
 * set-real, del-real. Each parses and checks everything first (add-real
 * resolves the real's MAC too), then takes the pin directory's lock and
 * changes the maps; a service's Maglev table is rebuilt after every change
 * of its reals (rewritten in place; a new size is a new table).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cmd.h"
#include "config.h"
#include "ifaddr.h"
#include "lb.h"
#include "log.h"
#include "spec.h"

int do_add_vip(int argc, char **argv)
{
	char msg[SPEC_ERRLEN], vip[ADDR_STRLEN];
	__u32 flags = 0, size = 0;
	struct xdplb_svc_opts o;
	struct xdplb_svc svc;
	struct vip_spec v;
	struct lb lb;
	int ret, err;

	svc_opts_default(&o);
	ret = vip_spec_parse(argc, argv, false, &v, msg, sizeof(msg));
	if (!ret)
		ret = vip_spec_merge(&v, &flags, &size, &o, msg, sizeof(msg));
	if (ret)
		return spec_report(ret, msg);
	if (open_instance(&lb, OPEN_CHANGE))
		return EXIT_FAIL;
	format_vip(&v.key, vip, sizeof(vip));
	err = lb_svc_get(&lb, &v.key, &svc) ? 0 : -EEXIST;
	if (!err && change_begin(&lb)) {
		lb_close(&lb);
		return EXIT_FAIL;
	}
	if (!err) {
		err = lb_svc_add(&lb, &v.key, flags, size);
		if (!err) {
			err = lb_svc_get(&lb, &v.key, &svc);
			if (!err)
				err = lb_svc_opts_set(&lb, svc.id, &o);
			if (err)
				lb_svc_del(&lb, &v.key);
		}
		change_end(&lb, err);
	}
	lb_close(&lb);
	if (err == -EEXIST)
		p_err("VIP %s already exists", vip);
	else if (err == -ENOSPC)
		p_err("no room for VIP %s (at most %d services)", vip,
		      XDPLB_MAX_SERVICES);
	else if (err)
		p_err("cannot add VIP %s: %s", vip, strerror(-err));
	return err ? EXIT_FAIL : EXIT_OK;
}

/*
 * Change a service in place, as restore would: its reals, counters and
 * tracked flows stay; a new table size, hash mode or quorum only changes
 * where new flows are placed.
 */
int do_set_vip(int argc, char **argv)
{
	char msg[SPEC_ERRLEN], vip[ADDR_STRLEN];
	struct config_service *s = NULL;
	struct config *c = NULL;
	struct config_diff d;
	struct xdplb_svc svc;
	struct vip_spec v;
	int i, ret, err;
	struct lb lb;

	ret = vip_spec_parse(argc, argv, true, &v, msg, sizeof(msg));
	if (ret)
		return spec_report(ret, msg);
	if (open_instance(&lb, OPEN_CHANGE))
		return EXIT_FAIL;
	ret = EXIT_FAIL;
	format_vip(&v.key, vip, sizeof(vip));
	if (find_service(&lb, &v.key, &svc))
		goto out;
	err = config_from_lb(&lb, &c);
	if (err) {
		p_err("cannot read the instance: %s", strerror(-err));
		goto out;
	}
	for (i = 0; i < c->nsvcs; i++)
		if (!memcmp(&c->svcs[i].key, &v.key, sizeof(v.key)))
			s = &c->svcs[i];
	if (!s) {	/* found above, under the same lock: cannot be */
		p_err("unknown VIP %s", vip);
		goto out;
	}
	if (!s->table_size)
		s->table_size = lb.cfg.table_size;
	if (spec_report(vip_spec_merge(&v, &s->flags, &s->table_size,
				       &s->opts, msg, sizeof(msg)), msg))
		goto out;
	if (config_apply(&lb, c, 0, &d)) {
		p_err("cannot change VIP %s: %s", vip, d.error);
		goto out;
	}
	ret = EXIT_OK;
out:
	config_free(c);
	lb_close(&lb);
	return ret;
}

int do_del_vip(int argc, char **argv)
{
	struct xdplb_svc_key key;
	struct xdplb_svc svc;
	char vip[ADDR_STRLEN];
	struct lb lb;
	int err;

	if (argc != 2)
		return usage_error(argv[0], "expected one VIP");
	if (parse_vip_arg(argv[1], &key))
		return EXIT_FAIL;
	if (open_instance(&lb, OPEN_CHANGE))
		return EXIT_FAIL;
	if (find_service(&lb, &key, &svc)) {
		lb_close(&lb);
		return EXIT_FAIL;
	}
	format_vip(&key, vip, sizeof(vip));
	err = change_begin(&lb);
	if (err) {
		lb_close(&lb);
		return EXIT_FAIL;
	}
	err = change_end(&lb, lb_svc_del(&lb, &key));
	lb_close(&lb);
	if (err)
		p_err("cannot delete VIP %s: %s", vip, strerror(-err));
	return err ? EXIT_FAIL : EXIT_OK;
}

/* The instance, the service and all reals, ready for a change. */
struct real_ctx {
	struct lb lb;
	struct xdplb_svc svc;
	struct xdplb_real *all;
};

static int real_ctx_open(struct real_ctx *x, const struct real_spec *a)
{
	int err;

	x->all = NULL;
	if (open_instance(&x->lb, OPEN_CHANGE))
		return -1;
	if (find_service(&x->lb, &a->key, &x->svc))
		goto err_close;
	x->all = calloc(XDPLB_MAX_REALS, sizeof(*x->all));
	if (!x->all) {
		p_err("out of memory");
		goto err_close;
	}
	err = lb_reals(&x->lb, x->all);
	if (err) {
		p_err("cannot read the reals: %s", strerror(-err));
		goto err_free;
	}
	return 0;
err_free:
	free(x->all);
err_close:
	lb_close(&x->lb);
	return -1;
}

static void real_ctx_close(struct real_ctx *x)
{
	free(x->all);
	lb_close(&x->lb);
}

/*
 * Make reals[id] what *changed says: the service's table is rebuilt from
 * the new state first, so no new flow goes where it should not, then the
 * entry is written. Either failing puts the old table and entry back.
 */
static int commit_real(struct real_ctx *x, int id,
		       const struct xdplb_real *changed)
{
	struct xdplb_real old = x->all[id];
	int err;

	x->all[id] = *changed;
	err = lb_rebuild(&x->lb, x->all, &x->svc);
	if (!err)
		err = lb_real_update(&x->lb, id, changed);
	if (err) {
		x->all[id] = old;
		lb_rebuild(&x->lb, x->all, &x->svc);
	}
	return err;
}

static int find_real(struct real_ctx *x, const struct real_spec *a)
{
	int id = lb_real_find(x->all, x->svc.id, &a->addr, a->family);

	if (id < 0)
		p_err("no real %s in VIP %s", a->real, a->vip);
	return id;
}

/* Parse a real command's line; EXIT_OK or what to exit with. */
static int parse_real_cmd(int argc, char **argv, int allow,
			  struct real_spec *a)
{
	char msg[SPEC_ERRLEN];

	return spec_report(real_spec_parse(argc, argv, allow, a, msg,
					   sizeof(msg)), msg);
}

/* Can real a join the instance: not the address of any of its VIPs, and
 * a host on the segment (config_check_real)? -1 when not, said. */
static int check_new_real(struct lb *lb, const struct real_spec *a)
{
	struct host_addr *addrs = NULL;
	struct lb_service *svcs = NULL;
	char msg[SPEC_ERRLEN], vip[ADDR_STRLEN];
	int i, n = 0, err;

	err = lb_services(lb, &svcs, &n);
	if (err) {
		p_err("cannot read the services: %s", strerror(-err));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (svcs[i].key.family != a->family ||
		    !addr_equal(&svcs[i].key.addr, &a->addr))
			continue;
		format_vip(&svcs[i].key, vip, sizeof(vip));
		p_err("real %s is the address of VIP %s: a real is another "
		      "host on the segment", a->real, vip);
		free(svcs);
		return -1;
	}
	free(svcs);
	err = host_addrs(&addrs, &n);
	if (err) {
		p_err("cannot list this host's addresses: %s", strerror(-err));
		return -1;
	}
	err = config_check_real(lb, addrs, n, a->family, &a->addr, msg,
				sizeof(msg));
	free(addrs);
	if (err)
		p_err("%s", msg);
	return err ? -1 : 0;
}

int do_add_real(int argc, char **argv)
{
	struct xdplb_real real = {};
	char msg[SPEC_ERRLEN];
	struct real_spec a;
	struct real_ctx x;
	int ret, err;
	__u32 id;

	ret = parse_real_cmd(argc, argv, REAL_WEIGHT | REAL_MAC | REAL_SORRY |
			     REAL_NEW, &a);
	if (ret)
		return ret;
	/* The checks and the MAC first, without the lock: resolving it can
	 * take seconds, which the daemon (and any other command) would
	 * spend waiting. */
	if (open_instance(&x.lb, OPEN_READ))
		return EXIT_FAIL;
	err = find_service(&x.lb, &a.key, &x.svc) ||	/* says why */
	      check_new_real(&x.lb, &a);
	if (!err && a.has_mac) {
		memcpy(real.mac, a.mac, 6);
		real.flags |= XDPLB_REAL_F_MAC_MANUAL;
	} else if (!err) {
		err = config_resolve_mac(&x.lb, a.family, &a.addr, real.mac,
					 msg, sizeof(msg));
		if (err)
			p_err("%s", msg);
	}
	lb_close(&x.lb);
	if (err)
		return EXIT_FAIL;
	if (real_ctx_open(&x, &a))
		return EXIT_FAIL;
	ret = EXIT_FAIL;
	if (lb_real_find(x.all, x.svc.id, &a.addr, a.family) >= 0) {
		p_err("real %s is already in VIP %s", a.real, a.vip);
		goto out;
	}

	real.addr = a.addr;
	real.family = a.family;
	real.svc_id = x.svc.id;
	real.weight = a.weight;
	if (a.sorry)
		real.flags |= XDPLB_REAL_F_SORRY;

	if (change_begin(&x.lb))
		goto out;
	err = lb_real_add(&x.lb, x.all, &real, &id);
	if (err) {
		change_end(&x.lb, err);
		if (err == -ENOSPC)
			p_err("cannot add real %s: no room (at most %d reals)",
			      a.real, XDPLB_MAX_REALS);
		else
			p_err("cannot add real %s: %s", a.real,
			      strerror(-err));
		goto out;
	}
	err = lb_rebuild(&x.lb, x.all, &x.svc);
	if (err)
		lb_real_del(&x.lb, id);
	if (change_end(&x.lb, err)) {
		p_err("cannot rebuild the table of VIP %s: %s", a.vip,
		      strerror(-err));
		goto out;
	}
	ret = EXIT_OK;
out:
	real_ctx_close(&x);
	return ret;
}

int do_set_real(int argc, char **argv)
{
	struct xdplb_real changed;
	struct real_spec a;
	struct real_ctx x;
	int ret, id, err;

	ret = parse_real_cmd(argc, argv, REAL_WEIGHT, &a);
	if (ret)
		return ret;
	if (!a.has_weight)
		return usage_error(argv[0], "--weight W is required");
	if (real_ctx_open(&x, &a))
		return EXIT_FAIL;
	ret = EXIT_FAIL;
	id = find_real(&x, &a);
	if (id < 0)
		goto out;

	changed = x.all[id];
	changed.weight = a.weight;
	if (change_begin(&x.lb))
		goto out;
	err = change_end(&x.lb, commit_real(&x, id, &changed));
	if (err) {
		p_err("cannot set the weight of %s in VIP %s: %s", a.real,
		      a.vip, strerror(-err));
		goto out;
	}
	ret = EXIT_OK;
out:
	real_ctx_close(&x);
	return ret;
}

int do_del_real(int argc, char **argv)
{
	struct xdplb_real real;
	__u64 tracked = 0;
	struct real_spec a;
	struct real_ctx x;
	int ret, id, err;

	ret = parse_real_cmd(argc, argv, 0, &a);
	if (ret)
		return ret;
	if (real_ctx_open(&x, &a))
		return EXIT_FAIL;
	ret = EXIT_FAIL;
	id = find_real(&x, &a);
	if (id < 0)
		goto out;

	/* Out of the table, then out of the reals, which ends its tracked
	 * flows. */
	real = x.all[id];
	if (lb_real_conns(&x.lb, id, &real, &tracked))
		tracked = 0;
	real.flags = 0;	/* the slot keeps its generation and MAC */
	if (change_begin(&x.lb))
		goto out;
	err = commit_real(&x, id, &real);
	if (!err)
		lb_real_retire(&x.lb, id, x.svc.id);	/* counters only */
	if (change_end(&x.lb, err)) {
		p_err("cannot delete real %s from VIP %s: %s", a.real, a.vip,
		      strerror(-err));
		goto out;
	}
	if (!opts.json)
		printf("deleted real %s from VIP %s: %llu tracked flow%s "
		       "ended\n", a.real, a.vip, tracked,
		       tracked == 1 ? "" : "s");
	ret = EXIT_OK;
out:
	real_ctx_close(&x);
	return ret;
}
