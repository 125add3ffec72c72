// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * snapshot.c - one read of everything list, stats and the exporter show,
 * and the JSON of `list -j`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "cmd.h"
#include "json.h"
#include "snapshot.h"
#include "spec.h"
#include "version.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void snapshot_free(struct snapshot *s)
{
	free(s->svcs);
	free(s->reals);
	free(s->real);
	free(s->flows);
	free(s);
}

int snapshot_take_flows(struct lb *lb, struct snapshot *s)
{
	int err;

	free(s->flows);
	s->flows = calloc(XDPLB_MAX_REALS, sizeof(*s->flows));
	if (!s->flows)
		return -ENOMEM;
	err = lb_tracked_flows(lb, s->reals, 0, XDPLB_MAX_REALS, s->flows);
	if (err) {
		free(s->flows);
		s->flows = NULL;
	}
	return err;
}

struct snapshot *snapshot_take(struct lb *lb)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	int i, err;

	if (!s)
		return NULL;
	s->reals = calloc(XDPLB_MAX_REALS, sizeof(*s->reals));
	s->real = calloc(XDPLB_MAX_REALS, sizeof(*s->real));
	if (!s->reals || !s->real)
		goto err;
	err = lb_services(lb, &s->svcs, &s->nsvcs);
	if (!err)
		err = lb_reals(lb, s->reals);
	if (!err)
		err = lb_global(lb, &s->global);
	for (i = 0; !err && i < s->nsvcs; i++) {
		__u32 id = s->svcs[i].svc.id;

		err = lb_svc_counters(lb, id, s->reals, &s->svc[id]);
		if (!err)
			err = lb_svc_opts_get(lb, id, &s->opts[id]);
		svc_opts_normalize(&s->opts[id]);
	}
	for (i = 0; !err && i < XDPLB_MAX_REALS; i++)
		if (s->reals[i].flags & XDPLB_REAL_F_USED)
			err = lb_counters(lb, lb->real_stats_fd, i,
					  &s->real[i]);
	if (!err)
		err = lb_ct_counters(lb, &s->ct_full, &s->ct_lost);
	if (err) {
		errno = -err;
		goto err;
	}
	s->at = now_s();
	/* Not an error: a detached or foreign program only says so. */
	if (!instance_running(lb, &s->prog))
		s->prog_same = build_is_self(&s->prog.build.b);
	return s;
err:
	snapshot_free(s);
	return NULL;
}

static int real_cmp_addr(const struct xdplb_real *a, const struct xdplb_real *b)
{
	return memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

/* Real ids of one service, sorted by address. */
int snapshot_service_reals(const struct snapshot *s, __u32 svc_id, int *ids)
{
	int i, j, n = 0;

	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		if (!(s->reals[i].flags & XDPLB_REAL_F_USED) ||
		    s->reals[i].svc_id != svc_id)
			continue;
		for (j = n; j > 0 && real_cmp_addr(&s->reals[ids[j - 1]],
						   &s->reals[i]) > 0; j--)
			ids[j] = ids[j - 1];
		ids[j] = i;
		n++;
	}
	return n;
}

const char *lb_mode_name(const struct lb *lb)
{
	return lb->cfg.xdp_mode == XDPLB_MODE_GENERIC ? "generic" : "native";
}

/* A real's health state, and whether it is a fallback. */
const char *real_health(const struct xdplb_real *r)
{
	bool down = r->flags & XDPLB_REAL_F_DOWN;

	if (r->flags & XDPLB_REAL_F_SORRY)
		return down ? "down,sorry" : "up,sorry";
	return down ? "down" : "up";
}

static void check_json(const struct xdplb_svc_opts *o, bool served)
{
	char check[sizeof(o->arg) + 16];

	if (served)
		format_check_redacted(o, check, sizeof(check));
	else
		format_check(o, check, sizeof(check));
	jw_kv_string("check", check);
	jw_kv_double("interval", o->interval_ms / 1000.0);
	jw_kv_double("timeout", o->timeout_ms / 1000.0);
	jw_kv_uint("rise", o->rise);
	jw_kv_uint("fall", o->fall);
	jw_kv_uint("quorum", o->quorum);
}

void json_service_head(const struct lb_service *sv)
{
	char vip[ADDR_STRLEN], addr[ADDR_STRLEN];

	format_vip(&sv->key, vip, sizeof(vip));
	format_addr(&sv->key.addr, sv->key.family, addr, sizeof(addr));
	jw_kv_string("vip", vip);
	jw_kv_string("address", addr);
	jw_kv_uint("port", ntohs(sv->key.port));
	jw_kv_string("protocol", proto_name(sv->key.proto));
}

void json_real_head(const struct xdplb_real *r)
{
	char addr[ADDR_STRLEN];

	format_addr(&r->addr, r->family, addr, sizeof(addr));
	jw_kv_string("address", addr);
}

void snapshot_prog_text(const struct snapshot *s, char *buf, size_t len)
{
	const struct prog_build *b = &s->prog.build;

	if (!s->prog.id)
		snprintf(buf, len, "no program");
	else if (b->known)
		snprintf(buf, len, "xdplb %.*s, program %u",
			 (int)sizeof(b->b.version), b->b.version, s->prog.id);
	else
		snprintf(buf, len, "map ABI %u, program %u", b->b.abi_version,
			 s->prog.id);
}

void snapshot_prog_warning(const struct lb *lb, const struct snapshot *s,
			   char *buf, size_t len)
{
	char what[64];

	buf[0] = '\0';
	if (!s->prog.id)
		snprintf(buf, len, "no program of the instance is pinned or "
			 "attached");
	else if (!s->prog.attached)
		snprintf(buf, len, "the instance's program (id %u) is not "
			 "attached to '%s' in this network namespace",
			 s->prog.id, lb->cfg.ifname);
	if (buf[0] || s->prog_same)
		return;
	format_build(&s->prog.build, 0, what, sizeof(what));
	snprintf(buf, len, "'%s' runs xdplb %s; this is xdplb %s (map ABI "
		 "%d): `xdplb upgrade %s` replaces it", lb->cfg.ifname, what,
		 XDPLB_VERSION, XDPLB_ABI_VERSION, lb->cfg.ifname);
}

void snapshot_list_json(const struct lb *lb, const struct snapshot *s,
			int *ids, bool served)
{
	char mac[MAC_STRLEN];
	int i, j, n;

	jw_start_object();
	jw_kv_string("interface", lb->cfg.ifname);
	jw_kv_uint("ifindex", lb->cfg.ifindex);
	jw_kv_string("mode", lb_mode_name(lb));
	jw_kv_uint("table_size", lb->cfg.table_size);
	jw_kv_string("pin_dir", lb->pin_dir);
	jw_name("program");
	jw_start_object();
	jw_kv_uint("id", s->prog.id);
	jw_kv_bool("attached", s->prog.attached);
	jw_kv_bool("same_as_binary", s->prog_same);
	if (s->prog.build.known)
		jw_kv_string("version", s->prog.build.b.version);
	jw_kv_uint("abi", s->prog.build.b.abi_version);
	jw_end_object();
	if (served)
		jw_kv_double("sampled_at", s->at);
	jw_name("services");
	jw_start_array();
	for (i = 0; i < s->nsvcs; i++) {
		const struct lb_service *sv = &s->svcs[i];

		jw_start_object();
		json_service_head(sv);
		jw_kv_string("hash", svc_hash_name(sv->svc.flags));
		jw_kv_bool("ops", sv->svc.flags & XDPLB_SVC_F_OPS);
		jw_kv_uint("table_size", sv->svc.table_size);
		check_json(&s->opts[sv->svc.id], served);
		jw_kv_uint("packets", s->svc[sv->svc.id].packets);
		jw_kv_uint("bytes", s->svc[sv->svc.id].bytes);
		jw_name("reals");
		jw_start_array();
		n = snapshot_service_reals(s, sv->svc.id, ids);
		for (j = 0; j < n; j++) {
			const struct xdplb_real *r = &s->reals[ids[j]];

			jw_start_object();
			json_real_head(r);
			format_mac(r->mac, mac, sizeof(mac));
			jw_kv_string("mac", mac);
			jw_kv_bool("mac_manual",
				   r->flags & XDPLB_REAL_F_MAC_MANUAL);
			jw_kv_uint("weight", r->weight);
			jw_kv_string("health", r->flags & XDPLB_REAL_F_DOWN ?
				     "down" : "up");
			jw_kv_bool("sorry", r->flags & XDPLB_REAL_F_SORRY);
			jw_kv_uint("packets", s->real[ids[j]].packets);
			jw_kv_uint("bytes", s->real[ids[j]].bytes);
			if (s->flows)
				jw_kv_uint("flows", s->flows[ids[j]]);
			jw_end_object();
		}
		jw_end_array();
		jw_end_object();
	}
	jw_end_array();
	jw_end_object();
	jw_flush();
}
