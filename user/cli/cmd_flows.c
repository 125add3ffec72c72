// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_flows.c - conns and flow: the connection table as operators ask
 * about it. conns lists the tracked flows; flow answers "where does this
 * client land", computing exactly what the data path would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "cmd.h"
#include "json.h"
#include "lb.h"
#include "log.h"
#include "spec.h"
#include "xdplb_hash.h"

/* A tracked entry the data path would still follow. */
static bool conn_live(const struct lb *lb, const struct lb_conn *c,
		      const struct xdplb_real *all, __u64 now)
{
	return c->real_id < XDPLB_MAX_REALS &&
	       lb_conn_live(lb, c, &all[c->real_id], now);
}

static void format_endpoint(const struct xdplb_addr *a, __u8 family,
			    __be16 port, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	format_addr(a, family, s, sizeof(s));
	snprintf(buf, len, family == XDPLB_AF_INET6 ? "[%s]:%u" : "%s:%u", s,
		 ntohs(port));
}

static double secs(__u64 ns)
{
	return ns / 1e9;
}

/* A tracked flow's state: "peer" (learnt from a peer, not seen here
 * since), "new" (one packet seen), "" (confirmed here). */
static const char *conn_state(const struct lb_conn *c)
{
	if (c->tag & XDPLB_CT_TAG_PEER)
		return "peer";
	return c->tag & XDPLB_CT_TAG_CONFIRMED ? "" : "new";
}

static void print_conn(const struct lb *lb, const struct lb_conn *c,
		       const struct xdplb_real *r, __u64 now)
{
	char client[ADDR_STRLEN], vip[ADDR_STRLEN], real[ADDR_STRLEN];

	(void)lb;
	format_endpoint(&c->flow.src, c->flow.family, c->flow.sport, client,
			sizeof(client));
	format_endpoint(&c->flow.dst, c->flow.family, c->flow.dport, vip,
			sizeof(vip));
	format_addr(&r->addr, r->family, real, sizeof(real));
	if (opts.json) {
		jw_start_object();
		jw_kv_string("protocol", proto_name(c->flow.proto));
		jw_kv_string("client", client);
		jw_kv_string("vip", vip);
		jw_kv_string("real", real);
		jw_kv_bool("confirmed", c->tag & XDPLB_CT_TAG_CONFIRMED);
		jw_kv_bool("peer", c->tag & XDPLB_CT_TAG_PEER);
		jw_kv_double("age", secs(now - c->created));
		jw_kv_double("idle", secs(now - c->last_seen));
		jw_end_object();
	} else {
		printf("%-4s %-40s %-40s %-24s %-5s %8.0f %6.0f\n",
		       c->flow.proto == IPPROTO_UDP ? "UDP" : "TCP", client,
		       vip, real, conn_state(c), secs(now - c->created),
		       secs(now - c->last_seen));
	}
}

static const struct option vip_only_opts[] = {
	{ "vip", required_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The options of conns and flow: --vip VIP at most, into *key (family 0
 * without one). EXIT_OK, or the exit status having said why. */
static int parse_vip_opt(int argc, char **argv, struct xdplb_svc_key *key)
{
	char msg[SPEC_ERRLEN];
	int c;

	optind = 0;
	key->family = 0;
	while ((c = spec_getopt(argc, argv, vip_only_opts, msg,
				sizeof(msg))) != -1) {
		if (c != 'V')
			return spec_report(-c, msg);
		if (parse_vip_arg(optarg, key))
			return EXIT_FAIL;
	}
	return EXIT_OK;
}

int do_conns(int argc, char **argv)
{
	struct xdplb_real *all = NULL;
	struct lb_conn_ways set;
	struct xdplb_svc_key key;
	struct xdplb_svc svc;
	bool filter;
	__u32 nsets, i;
	__u64 now, shown = 0;
	int w, err, ret;
	struct lb lb;

	ret = parse_vip_opt(argc, argv, &key);
	if (ret)
		return ret;
	ret = EXIT_FAIL;
	filter = key.family != 0;
	if (optind != argc)
		return usage_error(argv[0], "unexpected argument '%s'",
				   argv[optind]);
	if (open_instance(&lb, OPEN_READ))
		return EXIT_FAIL;
	if (filter && find_service(&lb, &key, &svc))
		goto out;
	all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	if (!all) {
		p_err("out of memory");
		goto out;
	}
	/* Set by set from the mapped table: no copy of it all. */
	err = lb_reals(&lb, all);
	if (!err)
		err = lb_conn_set(&lb, 0, &set);
	if (err) {
		p_err("cannot read the connection table: %s", strerror(-err));
		goto out;
	}

	now = lb_now_ns();
	nsets = lb_ct_sets(&lb);
	if (opts.json) {
		jw_start_object();
		jw_name("conns");
		jw_start_array();
	} else {
		printf("%-4s %-40s %-40s %-24s %-5s %8s %6s\n", "Prot",
		       "Client", "VirtualAddress:Port", "Real", "State",
		       "Age(s)", "Idle");
	}
	for (i = 0; i < nsets; i++) {
		if (i && lb_conn_set(&lb, i, &set))
			break;	/* cannot be: i < nsets, the table mapped */
		for (w = 0; w < XDPLB_CT_WAYS; w++) {
			const struct lb_conn *cn = &set.way[w];

			if (!conn_live(&lb, cn, all, now))
				continue;
			if (filter && all[cn->real_id].svc_id != svc.id)
				continue;
			print_conn(&lb, cn, &all[cn->real_id], now);
			shown++;
		}
	}
	if (opts.json) {
		jw_end_array();
		jw_kv_uint("count", shown);
		jw_end_object();
		jw_flush();
	}
	ret = EXIT_OK;
out:
	free(all);
	lb_close(&lb);
	return ret;
}

/* The real in the flow's Maglev slot, as the data path computes it. */
static int maglev_slot(struct lb *lb, const struct xdplb_svc *svc,
		       const struct xdplb_flow *flow, __u32 *slot,
		       __u32 *real_id)
{
	__u32 hash;

	hash = svc->flags & XDPLB_SVC_F_HASH_SRC ?
	       xdplb_src_hash(flow, lb->cfg.hash_seed) :
	       xdplb_flow_hash(flow, lb->cfg.hash_seed);
	*slot = xdplb_maglev_slot(hash, svc->table_size);
	return lb_maglev_real(lb, svc->id, *slot, real_id);
}

int do_flow(int argc, char **argv)
{
	char real[ADDR_STRLEN], vip[ADDR_STRLEN], client[ADDR_STRLEN];
	struct lb_conn_ways *set = NULL;
	struct xdplb_real *all = NULL;
	struct xdplb_svc_key key, ckey;
	struct xdplb_flow flow = {};
	struct xdplb_svc svc;
	const struct lb_conn *hit = NULL;
	int w, err, ret;
	__u32 idx, slot = 0, mag_real;	/* slot: set unless err */
	__u64 now;
	struct lb lb;

	ret = parse_vip_opt(argc, argv, &key);
	if (ret)
		return ret;
	ret = EXIT_FAIL;
	if (!key.family)
		return usage_error(argv[0], "--vip VIP is required");
	if (optind != argc - 1)
		return usage_error(argv[0], "expected one CLIENT_ADDR:PORT");
	if (parse_vip(argv[optind], &ckey) || strchr(argv[optind], '/')) {
		p_err("malformed client '%s' (expected ADDR:PORT, IPv6 ADDR "
		      "in brackets)", argv[optind]);
		return EXIT_FAIL;
	}
	if (ckey.family != key.family) {
		p_err("client %s and VIP are not of the same address family",
		      argv[optind]);
		return EXIT_FAIL;
	}
	if (open_instance(&lb, OPEN_READ))
		return EXIT_FAIL;

	if (lb_svc_match(&lb, &key, &svc)) {
		find_service(&lb, &key, &svc);	/* prints why */
		goto out;
	}
	flow.src = ckey.addr;
	flow.dst = key.addr;
	flow.sport = ckey.port;
	flow.dport = key.port;
	flow.proto = key.proto;
	flow.family = key.family;

	all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	set = calloc(1, sizeof(*set));
	if (!all || !set) {
		p_err("out of memory");
		goto out;
	}
	err = lb_reals(&lb, all);
	if (!err)
		err = maglev_slot(&lb, &svc, &flow, &slot, &mag_real);
	idx = xdplb_flow_hash(&flow, lb.cfg.hash_seed) &
	      (lb_ct_sets(&lb) - 1);
	if (!err)
		err = lb_conn_set(&lb, idx, set);
	if (err) {
		p_err("cannot read the maps: %s", strerror(-err));
		goto out;
	}
	now = lb_now_ns();
	for (w = 0; w < XDPLB_CT_WAYS && !hit; w++) {
		const struct lb_conn *cn = &set->way[w];

		/* Tracked to whichever service's real: the data path looks
		 * tracked flows up first. */
		if (!memcmp(&cn->flow, &flow, sizeof(flow)) &&
		    conn_live(&lb, cn, all, now))
			hit = cn;
	}

	format_endpoint(&flow.src, flow.family, flow.sport, client,
			sizeof(client));
	format_vip(&key, vip, sizeof(vip));
	if (opts.json) {
		jw_start_object();
		jw_kv_string("client", client);
		jw_kv_string("vip", vip);
		jw_kv_string("hash", svc_hash_name(svc.flags));
		jw_kv_uint("maglev_slot", slot);
	} else {
		printf("flow %s -> %s (hash %s)\n", client, vip,
		       svc_hash_name(svc.flags));
	}
	if (mag_real < XDPLB_MAX_REALS) {
		format_addr(&all[mag_real].addr, all[mag_real].family, real,
			    sizeof(real));
		if (opts.json)
			jw_kv_string("maglev_real", real);
		else
			printf("  Maglev slot %u: real %s\n", slot, real);
	} else if (!opts.json) {
		printf("  Maglev slot %u: no real takes new flows\n", slot);
	}
	if (hit) {
		format_addr(&all[hit->real_id].addr, all[hit->real_id].family,
			    real, sizeof(real));
		if (opts.json) {
			jw_kv_string("real", real);
			jw_kv_bool("tracked", true);
			jw_kv_bool("peer", hit->tag & XDPLB_CT_TAG_PEER);
			jw_kv_double("age", secs(now - hit->created));
			jw_kv_double("idle", secs(now - hit->last_seen));
		} else {
			printf("  tracked%s: real %s, age %.0fs, idle %.0fs\n",
			       hit->tag & XDPLB_CT_TAG_PEER ?
			       " (learnt from a peer)" : "", real,
			       secs(now - hit->created),
			       secs(now - hit->last_seen));
			printf("goes to %s (tracked)\n", real);
		}
	} else {
		if (opts.json) {
			if (mag_real < XDPLB_MAX_REALS)
				jw_kv_string("real", real);
			jw_kv_bool("tracked", false);
		} else if (mag_real < XDPLB_MAX_REALS) {
			printf("goes to %s (placed by Maglev, not tracked)\n",
			       real);
		} else {
			printf("dropped: the service has no real with weight "
			       "> 0\n");
		}
	}
	if (opts.json) {
		jw_end_object();
		jw_flush();
	}
	ret = EXIT_OK;
out:
	free(set);
	free(all);
	lb_close(&lb);
	return ret;
}
