/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * exporter.h - what `xdplb exporter` and `xdplb daemon --listen` serve:
 *   GET /metrics       Prometheus text format (metrics.h)
 *   GET /              the status page (status_page.h)
 *   GET /status.json   `list -j`'s JSON, which the page refreshes from
 * (HEAD too); anything else 404, another method 405; 503 while there is no
 * instance. Each request reads the maps afresh; /metrics also reads the
 * connection table, once. What is served over HTTP never shows an exec
 * check's command line (it may hold secrets): only that it is an exec
 * check.
 */
#ifndef XDPLB_EXPORTER_H
#define XDPLB_EXPORTER_H

#include "http.h"
#include "lb.h"

/* The instance to read, or NULL when there is none (detached). */
typedef struct lb *(*exporter_instance_fn)(void *ctx);

/* More of /metrics, the serving process's own (the daemon's sync). */
typedef void (*exporter_more_fn)(FILE *f, void *ctx);

struct exporter {
	exporter_instance_fn instance;
	exporter_more_fn more;	/* NULL: nothing more */
	void *ctx;
};

enum exporter_page {
	EXPORTER_METRICS,	/* /metrics */
	EXPORTER_PAGE,		/* / */
	EXPORTER_JSON,		/* /status.json */
	EXPORTER_JSON_FLOWS,	/* the same with each real's tracked flows */
};

/* Read e's instance afresh and write page into r (503 without one); for
 * other routes that serve the same (the web console's status). */
void exporter_serve(struct exporter *e, enum exporter_page page,
		    struct http_reply *r);

/* Serve e's instance on listen (ADDR:PORT; NULL: only connections given
 * to http_add_connection()); as http_server_new(). */
int exporter_listen(struct exporter *e, const char *listen,
		    struct http_server **out, char *err, size_t len);

#endif /* XDPLB_EXPORTER_H */
