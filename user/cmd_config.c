// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_config.c - services and reals: add-vip, del-vip, add-real, set-real,
 * del-real. Each parses and checks everything first, then takes the pin
 * directory's lock and changes the maps; a service's Maglev table is
 * rebuilt and swapped in whole after every change of its reals.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cmd.h"
#include "lb.h"
#include "log.h"
#include "neigh.h"

#define NEIGH_TIMEOUT_MS 3000

/* The options add-vip and set-vip share, as given on the command line. */
struct vip_args {
	struct xdplb_svc_key key;
	const char *hash, *table_size;
	bool ops, no_ops;
	char vip[ADDR_STRLEN];
};

static int parse_vip_args(int argc, char **argv, bool set,
			  struct vip_args *a)
{
	static const struct option vip_opts[] = {
		{ "hash", required_argument, NULL, 'H' },
		{ "ops", no_argument, NULL, 'o' },
		{ "no-ops", no_argument, NULL, 'O' },
		{ "table-size", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 0;
	while ((c = getopt_long(argc, argv, "", vip_opts, NULL)) != -1) {
		if (c == 'H')
			a->hash = optarg;
		else if (c == 'o')
			a->ops = true;
		else if (c == 'O' && set)
			a->no_ops = true;
		else if (c == 't')
			a->table_size = optarg;
		else
			return usage_error(argv[0], "bad option");
	}
	if (optind != argc - 1)
		return usage_error(argv[0], "expected one VIP");
	if (set && !a->hash && !a->ops && !a->no_ops && !a->table_size)
		return usage_error(argv[0], "nothing to change (--hash, "
				   "--ops, --no-ops, --table-size)");
	if (a->ops && a->no_ops)
		return usage_error(argv[0], "--ops and --no-ops conflict");
	if (parse_vip_arg(argv[optind], &a->key))
		return EXIT_FAIL;
	format_vip(&a->key, a->vip, sizeof(a->vip));
	return EXIT_OK;
}

/* Apply the parsed options to a service's flags and table size. */
static int vip_options(const struct vip_args *a, __u32 *flags, __u32 *size)
{
	if ((a->hash && parse_svc_option('H', a->hash, &a->key, flags)) ||
	    (a->ops && parse_svc_option('o', NULL, &a->key, flags)) ||
	    (a->table_size && parse_table_size(a->table_size, size)))
		return -1;
	if (a->no_ops)
		*flags &= ~XDPLB_SVC_F_OPS;
	return 0;
}

int do_add_vip(int argc, char **argv)
{
	__u32 flags = 0, size = 0;
	struct vip_args a;
	struct lb lb;
	int err;

	err = parse_vip_args(argc, argv, false, &a);
	if (err)
		return err;
	if (vip_options(&a, &flags, &size))
		return EXIT_FAIL;
	if (open_instance(&lb, true))
		return EXIT_FAIL;
	err = lb_svc_add(&lb, &a.key, flags, size);
	lb_close(&lb);
	if (err == -EEXIST)
		p_err("VIP %s already exists", a.vip);
	else if (err == -ENOSPC)
		p_err("no room for VIP %s (at most %d services)", a.vip,
		      XDPLB_MAX_SERVICES);
	else if (err)
		p_err("cannot add VIP %s: %s", a.vip, strerror(-err));
	return err ? EXIT_FAIL : EXIT_OK;
}

/*
 * Change a service in place. Its tracked flows keep their reals; a new
 * table size or hash mode only changes where new flows are placed.
 */
int do_set_vip(int argc, char **argv)
{
	struct xdplb_real *all = NULL;
	struct xdplb_svc svc;
	struct vip_args a;
	__u32 flags, size;
	struct lb lb;
	int err;

	err = parse_vip_args(argc, argv, true, &a);
	if (err)
		return err;
	if (open_instance(&lb, true))
		return EXIT_FAIL;
	if (find_service(&lb, &a.key, &svc))
		goto fail;
	flags = svc.flags;
	size = svc.table_size;
	if (vip_options(&a, &flags, &size))
		goto fail;
	all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	err = all ? lb_reals(&lb, all) : -ENOMEM;
	if (!err)
		err = lb_svc_set(&lb, &a.key, flags, size, all);
	if (err) {
		p_err("cannot change VIP %s: %s", a.vip, strerror(-err));
		goto fail;
	}
	free(all);
	lb_close(&lb);
	return EXIT_OK;
fail:
	free(all);
	lb_close(&lb);
	return EXIT_FAIL;
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
	if (open_instance(&lb, true))
		return EXIT_FAIL;
	if (find_service(&lb, &key, &svc)) {
		lb_close(&lb);
		return EXIT_FAIL;
	}
	format_vip(&key, vip, sizeof(vip));
	err = lb_svc_del(&lb, &key);
	lb_close(&lb);
	if (err)
		p_err("cannot delete VIP %s: %s", vip, strerror(-err));
	return err ? EXIT_FAIL : EXIT_OK;
}

/* What the real-server commands share: --vip VIP REAL [--weight W]
 * [--mac MAC], parsed and checked against the running instance. */
struct real_args {
	const char *cmd;
	struct xdplb_svc_key key;
	struct xdplb_addr addr;
	__u8 family;
	bool has_vip, has_weight, has_mac;
	__u16 weight;
	__u8 mac[6];
	char vip[ADDR_STRLEN];
	char real[ADDR_STRLEN];
};

enum { ALLOW_WEIGHT = 1, ALLOW_MAC = 2 };

static int parse_real_args(int argc, char **argv, int allow,
			   struct real_args *a)
{
	static const struct option real_opts[] = {
		{ "vip", required_argument, NULL, 'V' },
		{ "weight", required_argument, NULL, 'w' },
		{ "mac", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->cmd = argv[0];
	a->weight = XDPLB_DEFAULT_WEIGHT;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", real_opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			if (parse_vip_arg(optarg, &a->key))
				return EXIT_FAIL;
			a->has_vip = true;
			break;
		case 'w':
			if (!(allow & ALLOW_WEIGHT))
				return usage_error(a->cmd, "--weight is not "
						   "an option here");
			if (parse_weight(optarg, &a->weight)) {
				p_err("weight '%s' out of range (0..%d)",
				      optarg, XDPLB_MAX_WEIGHT);
				return EXIT_FAIL;
			}
			a->has_weight = true;
			break;
		case 'M':
			if (!(allow & ALLOW_MAC))
				return usage_error(a->cmd, "--mac is not an "
						   "option here");
			if (parse_mac(optarg, a->mac)) {
				p_err("malformed MAC '%s' (expected a unicast "
				      "xx:xx:xx:xx:xx:xx)", optarg);
				return EXIT_FAIL;
			}
			a->has_mac = true;
			break;
		default:
			return usage_error(a->cmd, "bad option");
		}
	}
	if (!a->has_vip)
		return usage_error(a->cmd, "--vip VIP is required");
	if (optind != argc - 1)
		return usage_error(a->cmd, "expected one REAL address");
	if (parse_addr(argv[optind], &a->addr, &a->family)) {
		p_err("malformed real address '%s'", argv[optind]);
		return EXIT_FAIL;
	}
	format_vip(&a->key, a->vip, sizeof(a->vip));
	format_addr(&a->addr, a->family, a->real, sizeof(a->real));
	if (a->family != a->key.family) {
		p_err("real %s and VIP %s are not of the same address family",
		      a->real, a->vip);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* The instance, the service and all reals, ready for a change. */
struct real_ctx {
	struct lb lb;
	struct xdplb_svc svc;
	struct xdplb_real *all;
};

static int real_ctx_open(struct real_ctx *x, const struct real_args *a)
{
	int err;

	x->all = NULL;
	if (open_instance(&x->lb, true))
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

static int find_real(struct real_ctx *x, const struct real_args *a)
{
	int id = lb_real_find(x->all, x->svc.id, &a->addr, a->family);

	if (id < 0)
		p_err("no real %s in VIP %s", a->real, a->vip);
	return id;
}

int do_add_real(int argc, char **argv)
{
	struct xdplb_real real = {};
	struct real_args a;
	struct real_ctx x;
	char ifname[sizeof(x.lb.cfg.ifname)];
	int ret, err;
	__u32 id;

	ret = parse_real_args(argc, argv, ALLOW_WEIGHT | ALLOW_MAC, &a);
	if (ret)
		return ret;
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
	if (a.has_mac) {
		memcpy(real.mac, a.mac, 6);
		real.flags = XDPLB_REAL_F_MAC_MANUAL;
	} else {
		snprintf(ifname, sizeof(ifname), "%s", x.lb.cfg.ifname);
		err = neigh_resolve(x.lb.cfg.ifindex, a.family, &a.addr,
				    real.mac, NEIGH_TIMEOUT_MS);
		if (err == -EHOSTUNREACH) {
			p_err("cannot resolve the MAC of %s on '%s': no %s "
			      "reply (is it on %s's layer-2 segment? --mac "
			      "sets it by hand)", a.real, ifname,
			      a.family == XDPLB_AF_INET ? "ARP" :
			      "neighbour discovery", ifname);
			goto out;
		} else if (err) {
			p_err("cannot resolve the MAC of %s on '%s': %s",
			      a.real, ifname, strerror(-err));
			goto out;
		}
	}

	err = lb_real_add(&x.lb, x.all, &real, &id);
	if (err) {
		if (err == -ENOSPC)
			p_err("cannot add real %s: no room (at most %d reals)",
			      a.real, XDPLB_MAX_REALS);
		else
			p_err("cannot add real %s: %s", a.real,
			      strerror(-err));
		goto out;
	}
	err = lb_rebuild(&x.lb, x.all, &x.svc);
	if (err) {
		lb_real_del(&x.lb, id);
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
	struct real_args a;
	struct real_ctx x;
	int ret, id, err;

	ret = parse_real_args(argc, argv, ALLOW_WEIGHT, &a);
	if (ret)
		return ret;
	if (!a.has_weight)
		return usage_error(a.cmd, "--weight W is required");
	if (real_ctx_open(&x, &a))
		return EXIT_FAIL;
	ret = EXIT_FAIL;
	id = find_real(&x, &a);
	if (id < 0)
		goto out;

	changed = x.all[id];
	changed.weight = a.weight;
	err = commit_real(&x, id, &changed);
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
	struct real_args a;
	struct real_ctx x;
	int ret, id, err;

	ret = parse_real_args(argc, argv, 0, &a);
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
	err = commit_real(&x, id, &real);
	if (err) {
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
