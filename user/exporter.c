// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * exporter.c - the exporter's routes (see exporter.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "json.h"
#include "metrics.h"
#include "snapshot.h"
#include "status_page.h"

enum page { PAGE_METRICS, PAGE_STATUS, PAGE_JSON };

/* Read the instance and write page into r. */
static void serve(struct exporter *e, enum page page, struct http_reply *r)
{
	struct snapshot *s = NULL;
	__u64 *flows = NULL;
	int *ids = NULL;
	struct lb *lb;

	lb = e->instance(e->ctx);
	if (!lb) {
		http_error(r, 503, "no xdplb instance (detached?)");
		return;
	}
	ids = calloc(XDPLB_MAX_REALS, sizeof(*ids));
	s = ids ? snapshot_take(lb) : NULL;
	if (!s) {
		http_error(r, 500, "cannot read the maps: %s",
			   strerror(ids ? errno : ENOMEM));
		goto out;
	}
	switch (page) {
	case PAGE_METRICS:
		/* Without the table (out of memory, a map error), the
		 * rest is still worth a scrape. */
		flows = calloc(XDPLB_MAX_REALS, sizeof(*flows));
		if (flows && lb_tracked_flows(lb, s->reals, 0, XDPLB_MAX_REALS,
					      flows)) {
			free(flows);
			flows = NULL;
		}
		metrics_write(r->body, lb, s, flows, ids);
		if (e->more)
			e->more(r->body, e->ctx);
		break;
	case PAGE_STATUS:
		if (http_add_header(r, "Content-Security-Policy",
				    STATUS_PAGE_CSP))
			http_error(r, 500, "out of memory");
		else
			status_page_write(r->body, lb, s, ids);
		break;
	case PAGE_JSON:
		snapshot_list_json(lb, s, ids, true);
		break;
	}
out:
	free(flows);
	if (s)
		snapshot_free(s);
	free(ids);
}

static void get_metrics(void *ctx, const struct http_request *req,
			struct http_reply *r)
{
	(void)req;
	serve(ctx, PAGE_METRICS, r);
}

static void get_status(void *ctx, const struct http_request *req,
		       struct http_reply *r)
{
	(void)req;
	serve(ctx, PAGE_STATUS, r);
}

static void get_json(void *ctx, const struct http_request *req,
		     struct http_reply *r)
{
	(void)req;
	serve(ctx, PAGE_JSON, r);
}

static const struct http_route routes[] = {
	{ "GET", "/metrics", get_metrics, METRICS_CONTENT_TYPE, 0, 0 },
	{ "GET", "/", get_status, "text/html; charset=utf-8", 0, 0 },
	{ "GET", "/status.json", get_json, NULL, 0, HTTP_ROUTE_JSON },
};

int exporter_listen(struct exporter *e, const char *listen,
		    struct http_server **out, char *err, size_t len)
{
	struct http_config cfg = {
		.listen = listen,
		.routes = routes,
		.nroutes = sizeof(routes) / sizeof(routes[0]),
		.ctx = e,
	};

	return http_server_new(&cfg, out, err, len);
}
