// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_show.c - list and stats: what is configured and what it carried.
 * One printer per object writes text or JSON.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "cmd.h"
#include "json.h"
#include "lb.h"
#include "log.h"
#include "snapshot.h"
#include "spec.h"

/* list ------------------------------------------------------------------ */

/* A service's check and quorum, on a line of their own when set. */
static void check_text(const struct xdplb_svc_opts *o)
{
	char check[sizeof(o->arg) + 16], iv[16], to[16];

	if (o->check != XDPLB_CHECK_NONE) {
		format_check(o, check, sizeof(check));
		format_secs(o->interval_ms, iv, sizeof(iv));
		format_secs(o->timeout_ms, to, sizeof(to));
		printf("     check %s, every %ss, timeout %ss, rise %u, fall "
		       "%u, quorum %u\n", check, iv, to, o->rise, o->fall,
		       o->quorum);
	} else if (o->quorum != XDPLB_DEFAULT_QUORUM) {
		printf("     no check, quorum %u\n", o->quorum);
	}
}

static void list_text(const struct lb *lb, const struct snapshot *s, int *ids)
{
	/* The VIP and its options: " src-ip ops table 1048573". */
	char vip[ADDR_STRLEN + 32], addr[ADDR_STRLEN], mac[MAC_STRLEN];
	char prog[96];
	int i, j, n;

	snapshot_prog_text(s, prog, sizeof(prog));
	printf("xdplb on %s (%s; %s), Maglev tables %u slots by default, pin "
	       "dir %s\n",
	       lb->cfg.ifname, lb_mode_name(lb), prog, lb->cfg.table_size,
	       lb->pin_dir);
	printf("%-4s %-40s %6s  %-17s %-10s %12s %14s\n", "Prot",
	       "VirtualAddress:Port", "", "", "", "Packets", "Bytes");
	printf("  -> %-38s %6s  %-17s %s\n", "RealAddress", "Weight", "MAC",
	       "Health");
	for (i = 0; i < s->nsvcs; i++) {
		const struct lb_service *sv = &s->svcs[i];
		const struct xdplb_counters *c = &s->svc[sv->svc.id];

		format_vip(&sv->key, vip, sizeof(vip));
		*strrchr(vip, '/') = '\0';
		snprintf(vip + strlen(vip), sizeof(vip) - strlen(vip), "%s%s",
			 sv->svc.flags & XDPLB_SVC_F_HASH_SRC ? " src-ip" : "",
			 sv->svc.flags & XDPLB_SVC_F_OPS ? " ops" : "");
		if (sv->svc.table_size != lb->cfg.table_size)
			snprintf(vip + strlen(vip), sizeof(vip) - strlen(vip),
				 " table %u", sv->svc.table_size);
		printf("%-4s %-40s %6s  %-17s %-10s %12llu %14llu\n",
		       sv->key.proto == IPPROTO_UDP ? "UDP" : "TCP", vip, "",
		       "", "", c->packets, c->bytes);
		check_text(&s->opts[sv->svc.id]);
		n = snapshot_service_reals(s, sv->svc.id, ids);
		for (j = 0; j < n; j++) {
			const struct xdplb_real *r = &s->reals[ids[j]];

			format_addr(&r->addr, r->family, addr, sizeof(addr));
			format_mac(r->mac, mac, sizeof(mac));
			printf("  -> %-38s %6u  %-17s %-10s %12llu %14llu\n",
			       addr, r->weight, mac, real_health(r),
			       s->real[ids[j]].packets,
			       s->real[ids[j]].bytes);
		}
	}
}

int do_list(int argc, char **argv)
{
	struct snapshot *s;
	struct lb lb;
	int *ids;

	if (argc != 1)
		return usage_error(argv[0], "takes no arguments");
	if (open_instance(&lb, OPEN_READ))
		return EXIT_FAIL;
	s = snapshot_take(&lb);
	ids = calloc(XDPLB_MAX_REALS, sizeof(*ids));
	if (!s || !ids) {
		p_err("cannot read the maps: %s", strerror(errno));
		free(ids);
		if (s)
			snapshot_free(s);
		lb_close(&lb);
		return EXIT_FAIL;
	}
	{
		char warn[256];

		snapshot_prog_warning(&lb, s, warn, sizeof(warn));
		if (warn[0])
			pr_warn("warning: %s\n", warn);
	}
	if (opts.json)
		snapshot_list_json(&lb, s, ids, false);
	else
		list_text(&lb, s, ids);
	free(ids);
	snapshot_free(s);
	lb_close(&lb);
	return EXIT_OK;
}

/* stats ----------------------------------------------------------------- */

#define GLOBAL_FIELD(f) { #f, offsetof(struct xdplb_global_stats, f) }

static const struct {
	const char *name;
	size_t offset;
} global_fields[] = {
	GLOBAL_FIELD(rx_packets), GLOBAL_FIELD(rx_bytes),
	GLOBAL_FIELD(tx_packets), GLOBAL_FIELD(tx_bytes),
	GLOBAL_FIELD(pass_not_ip), GLOBAL_FIELD(pass_not_l4),
	GLOBAL_FIELD(pass_not_service), GLOBAL_FIELD(pass_ipv6_ext),
	GLOBAL_FIELD(drop_truncated), GLOBAL_FIELD(drop_malformed),
	GLOBAL_FIELD(drop_fragment), GLOBAL_FIELD(drop_no_real),
	GLOBAL_FIELD(ct_hit), GLOBAL_FIELD(ct_new), GLOBAL_FIELD(ct_expired),
	GLOBAL_FIELD(ct_flood), GLOBAL_FIELD(ct_ops),
	GLOBAL_FIELD(frag_first), GLOBAL_FIELD(frag_fwd),
	GLOBAL_FIELD(frag_src_ip), GLOBAL_FIELD(icmp_fwd),
};

#define N_GLOBAL (sizeof(global_fields) / sizeof(global_fields[0]))

static __u64 global_value(const struct snapshot *s, size_t i)
{
	return *(const __u64 *)((const char *)&s->global +
				global_fields[i].offset);
}

/* A counter's value, or with a previous snapshot its rate per second. */
static double value(__u64 now, __u64 before, double secs)
{
	if (secs <= 0)
		return (double)now;
	return now >= before ? (now - before) / secs : 0;
}

static void stats_text(const struct snapshot *s, const struct snapshot *prev,
		       int *ids)
{
	double secs = prev ? s->at - prev->at : 0;
	/* Rates as ipvsadm -L --rate names them (in: to the reals; a
	 * direct-routing director sees no out). */
	const char *pk = prev ? "InPPS" : "Packets";
	const char *by = prev ? "InBPS" : "Bytes";
	char vip[ADDR_STRLEN], addr[ADDR_STRLEN];
	size_t i;
	int j, n;

	printf("%s\n", prev ? "Global (per second)" : "Global");
	for (i = 0; i < N_GLOBAL; i++)
		printf("  %-42s %14.0f\n", global_fields[i].name,
		       value(global_value(s, i),
			     prev ? global_value(prev, i) : 0, secs));
	printf("  %-42s %14.0f\n  %-42s %14.0f\n", "ct_full",
	       value(s->ct_full, prev ? prev->ct_full : 0, secs), "ct_lost",
	       value(s->ct_lost, prev ? prev->ct_lost : 0, secs));
	/* Connections are counted as new tracked flows, of every service
	 * together: the data path does not count them per service. */
	if (prev)
		printf("%-44s %14.0f\n",
		       "CPS (new tracked flows, all services)",
		       value(s->global.ct_new, prev->global.ct_new, secs));
	printf("%-44s %14s %16s\n", "Services", pk, by);
	for (i = 0; i < (size_t)s->nsvcs; i++) {
		const struct lb_service *sv = &s->svcs[i];
		__u32 id = sv->svc.id;

		format_vip(&sv->key, vip, sizeof(vip));
		printf("  %-42s %14.0f %16.0f\n", vip,
		       value(s->svc[id].packets,
			     prev ? prev->svc[id].packets : 0, secs),
		       value(s->svc[id].bytes, prev ? prev->svc[id].bytes : 0,
			     secs));
		n = snapshot_service_reals(s, id, ids);
		for (j = 0; j < n; j++) {
			const struct xdplb_real *r = &s->reals[ids[j]];
			const struct xdplb_counters *c = &s->real[ids[j]];
			const struct xdplb_counters *p =
				prev ? &prev->real[ids[j]] : NULL;

			format_addr(&r->addr, r->family, addr, sizeof(addr));
			printf("    -> %-37s %14.0f %16.0f\n", addr,
			       value(c->packets, p ? p->packets : 0, secs),
			       value(c->bytes, p ? p->bytes : 0, secs));
		}
	}
}

static void json_counter(const char *name, __u64 now, __u64 before,
			 double secs)
{
	if (secs > 0)
		jw_kv_double(name, value(now, before, secs));
	else
		jw_kv_uint(name, now);
}

static void stats_json(const struct snapshot *s, const struct snapshot *prev,
		       int *ids)
{
	double secs = prev ? s->at - prev->at : 0;
	const char *pk = prev ? "packets_per_sec" : "packets";
	const char *by = prev ? "bytes_per_sec" : "bytes";
	char name[64];
	size_t i;
	int j, n;

	jw_start_object();
	if (prev)
		jw_kv_double("interval", secs);
	jw_name("global");
	jw_start_object();
	for (i = 0; i < N_GLOBAL; i++) {
		snprintf(name, sizeof(name), "%s%s", global_fields[i].name,
			 prev ? "_per_sec" : "");
		json_counter(name, global_value(s, i),
			     prev ? global_value(prev, i) : 0, secs);
	}
	json_counter(prev ? "ct_full_per_sec" : "ct_full", s->ct_full,
		     prev ? prev->ct_full : 0, secs);
	json_counter(prev ? "ct_lost_per_sec" : "ct_lost", s->ct_lost,
		     prev ? prev->ct_lost : 0, secs);
	jw_end_object();
	jw_name("services");
	jw_start_array();
	for (i = 0; i < (size_t)s->nsvcs; i++) {
		const struct lb_service *sv = &s->svcs[i];
		__u32 id = sv->svc.id;

		jw_start_object();
		json_service_head(sv);
		json_counter(pk, s->svc[id].packets,
			     prev ? prev->svc[id].packets : 0, secs);
		json_counter(by, s->svc[id].bytes,
			     prev ? prev->svc[id].bytes : 0, secs);
		jw_name("reals");
		jw_start_array();
		n = snapshot_service_reals(s, id, ids);
		for (j = 0; j < n; j++) {
			const struct xdplb_counters *c = &s->real[ids[j]];
			const struct xdplb_counters *p =
				prev ? &prev->real[ids[j]] : NULL;

			jw_start_object();
			json_real_head(&s->reals[ids[j]]);
			json_counter(pk, c->packets, p ? p->packets : 0, secs);
			json_counter(by, c->bytes, p ? p->bytes : 0, secs);
			jw_end_object();
		}
		jw_end_array();
		jw_end_object();
	}
	jw_end_array();
	jw_end_object();
	jw_flush();
}

static const struct option stats_opts[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, 'c' },
	{ NULL, 0, NULL, 0 },
};

int do_stats(int argc, char **argv)
{
	struct snapshot *prev = NULL, *s = NULL;
	double interval = 0;
	unsigned long count = 1, k;
	bool has_count = false;
	char msg[SPEC_ERRLEN];
	int c, *ids, ret = EXIT_FAIL;
	struct lb lb;
	__u32 ms;

	optind = 0;
	while ((c = spec_getopt(argc, argv, stats_opts, msg,
				sizeof(msg))) != -1) {
		switch (c) {
		case 'i':
			if (spec_secs("interval", optarg, &ms, msg,
				      sizeof(msg)))
				return spec_report(EXIT_FAIL, msg);
			interval = ms / 1000.0;
			break;
		case 'c':
			if (parse_ulong(optarg, 1000000, &count)) {
				p_err("count '%s' is not a number in "
				      "0..1000000", optarg);
				return EXIT_FAIL;
			}
			has_count = true;
			break;
		default:
			return spec_report(-c, msg);
		}
	}
	if (optind != argc)
		return usage_error(argv[0], "unexpected argument '%s'",
				   argv[optind]);
	if (has_count && interval == 0)
		return usage_error(argv[0], "--count repeats --interval: give "
				   "both");
	if (open_instance(&lb, OPEN_READ))
		return EXIT_FAIL;
	ids = calloc(XDPLB_MAX_REALS, sizeof(*ids));
	if (!ids)
		goto out;

	/* Without --interval: the counters once. With it: rates over each
	 * interval, --count times (0: until interrupted). */
	if (interval > 0) {
		prev = snapshot_take(&lb);
		if (!prev)
			goto err_read;
	}
	for (k = 0; interval == 0 ? k < 1 : (!count || k < count); k++) {
		if (interval > 0)
			usleep((useconds_t)(interval * 1e6));
		s = snapshot_take(&lb);
		if (!s)
			goto err_read;
		if (opts.json)
			stats_json(s, prev, ids);
		else
			stats_text(s, prev, ids);
		if (prev)
			snapshot_free(prev);
		prev = s;
		s = NULL;
		fflush(stdout);
	}
	ret = EXIT_OK;
	goto out;
err_read:
	p_err("cannot read the counters: %s", strerror(errno));
out:
	if (prev)
		snapshot_free(prev);
	free(ids);
	lb_close(&lb);
	return ret;
}
