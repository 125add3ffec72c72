/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * snapshot.h - what list, stats and the exporter show, read in one pass:
 * services, their options and counters, reals and their counters, the
 * global counters. Also the JSON of `list -j`, which the exporter's status
 * page reads as /status.json.
 */
#ifndef XDPLB_SNAPSHOT_H
#define XDPLB_SNAPSHOT_H

#include "hook.h"
#include "lb.h"

struct snapshot {
	struct xdplb_global_stats global;
	struct lb_service *svcs;
	int nsvcs;
	struct xdplb_counters svc[XDPLB_MAX_SERVICES];
	struct xdplb_svc_opts opts[XDPLB_MAX_SERVICES];	/* normalized */
	struct xdplb_real *reals;
	struct xdplb_counters *real;	/* by real id */
	double at;			/* CLOCK_MONOTONIC seconds */
	struct running prog;		/* what runs (id 0: none found) */
	__u64 ct_full, ct_lost;		/* ct_guard's, every CPU's */
	bool prog_same;			/* it is this binary's build */
	__u64 *flows;			/* by real id; NULL: not counted */
};

/* NULL with errno set when the maps cannot be read. */
struct snapshot *snapshot_take(struct lb *lb);
void snapshot_free(struct snapshot *s);
/* Count the tracked flows of each real into s->flows (one walk of the
 * connection table); 0 or -errno, s->flows NULL then. */
int snapshot_take_flows(struct lb *lb, struct snapshot *s);

/* Real ids of one service into ids (XDPLB_MAX_REALS), sorted by address;
 * returns how many. */
int snapshot_service_reals(const struct snapshot *s, __u32 svc_id, int *ids);

/* "up", "down", "up,sorry", "down,sorry". */
const char *real_health(const struct xdplb_real *r);
const char *lb_mode_name(const struct lb *lb);

/* The JSON objects' first fields of a service and a real. */
void json_service_head(const struct lb_service *sv);
void json_real_head(const struct xdplb_real *r);
/* The line that says the program that runs is not this binary's, and how
 * to replace it; "" when it is. */
void snapshot_prog_warning(const struct lb *lb, const struct snapshot *s,
			   char *buf, size_t len);
/* "xdplb 0.7.0, program 57": what runs, for headers. */
void snapshot_prog_text(const struct snapshot *s, char *buf, size_t len);

/* `list -j`: the instance, its services with checks, reals and counters.
 * served (the exporter's /status.json): also when the counters were read
 * (sampled_at, CLOCK_MONOTONIC seconds), which rates are best computed
 * from, and exec checks without their command lines. With s->flows, each
 * real's tracked flows too ("flows"). */
void snapshot_list_json(const struct lb *lb, const struct snapshot *s,
			int *ids, bool served);

#endif /* XDPLB_SNAPSHOT_H */
