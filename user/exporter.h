/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * exporter.h - what `xdplb exporter` and `xdplb daemon --listen` serve:
 *   /metrics       Prometheus text format (metrics.h)
 *   /              the status page (status_page.h)
 *   /status.json   `list -j`'s JSON, which the page refreshes from
 * anything else 404; 503 while there is no instance. Each request reads
 * the maps afresh; /metrics also reads the connection table, once.
 */
#ifndef XDPLB_EXPORTER_H
#define XDPLB_EXPORTER_H

#include "http.h"
#include "lb.h"

/* The instance to read, or NULL when there is none (detached). */
typedef struct lb *(*exporter_instance_fn)(void *ctx);

struct exporter {
	exporter_instance_fn instance;
	void *ctx;
};

/* An http_handler_fn; ctx is a struct exporter. */
void exporter_handle(void *ctx, const char *path, struct http_reply *r);

#endif /* XDPLB_EXPORTER_H */
