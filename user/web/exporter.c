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

void exporter_serve(struct exporter *e, enum exporter_page page,
		    struct http_reply *r)
{
	struct snapshot *s = NULL;
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
	case EXPORTER_METRICS:
		/* Without the table (out of memory, a map error), the
		 * rest is still worth a scrape. */
		snapshot_take_flows(lb, s);
		metrics_write(r->body, lb, s, s->flows, ids);
		if (e->more)
			e->more(r->body, e->ctx);
		break;
	case EXPORTER_PAGE:
		if (http_add_header(r, "Content-Security-Policy",
				    STATUS_PAGE_CSP))
			http_error(r, 500, "out of memory");
		else
			status_page_write(r->body, lb, s, ids);
		break;
	case EXPORTER_JSON_FLOWS:
		snapshot_take_flows(lb, s);	/* without them, the rest */
		/* fall through */
	case EXPORTER_JSON:
		snapshot_list_json(lb, s, ids, true);
		break;
	}
out:
	if (s)
		snapshot_free(s);
	free(ids);
}

static void get_metrics(void *ctx, const struct http_request *req,
			struct http_reply *r)
{
	(void)req;
	exporter_serve(ctx, EXPORTER_METRICS, r);
}

static void get_status(void *ctx, const struct http_request *req,
		       struct http_reply *r)
{
	(void)req;
	exporter_serve(ctx, EXPORTER_PAGE, r);
}

static void get_json(void *ctx, const struct http_request *req,
		     struct http_reply *r)
{
	(void)req;
	exporter_serve(ctx, EXPORTER_JSON, r);
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
