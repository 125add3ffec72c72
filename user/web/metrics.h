/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics.h - an instance in the Prometheus text exposition format
 * (version 0.0.4): families named xdplb_*, each with HELP and TYPE,
 * counters ending in _total, label values escaped.
 */
#ifndef XDPLB_METRICS_H
#define XDPLB_METRICS_H

#include <stdio.h>
#include "snapshot.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* flows[id]: tracked flows of real id (lb_tracked_flows), or NULL to
 * leave xdplb_tracked_flows out. ids: scratch of XDPLB_MAX_REALS. */
void metrics_write(FILE *f, const struct lb *lb, const struct snapshot *s,
		   const __u64 *flows, int *ids);

#endif /* XDPLB_METRICS_H */
