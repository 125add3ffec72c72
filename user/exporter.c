// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * exporter.c - routes the exporter's requests (see exporter.h).
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

void exporter_handle(void *ctx, const char *path, struct http_reply *r)
{
	struct exporter *e = ctx;
	struct snapshot *s = NULL;
	__u64 *flows = NULL;
	int *ids = NULL;
	struct lb *lb;
	enum page page;

	if (!strcmp(path, "/metrics")) {
		page = PAGE_METRICS;
	} else if (!strcmp(path, "/")) {
		page = PAGE_STATUS;
	} else if (!strcmp(path, "/status.json")) {
		page = PAGE_JSON;
	} else {
		r->status = 404;
		return;
	}
	lb = e->instance(e->ctx);
	if (!lb) {
		r->status = 503;
		fprintf(r->body, "no xdplb instance (detached?)\n");
		return;
	}
	ids = calloc(XDPLB_MAX_REALS, sizeof(*ids));
	s = ids ? snapshot_take(lb) : NULL;
	if (!s) {
		r->status = 500;
		fprintf(r->body, "cannot read the maps: %s\n",
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
		r->type = METRICS_CONTENT_TYPE;
		metrics_write(r->body, lb, s, flows, ids);
		break;
	case PAGE_STATUS:
		r->type = "text/html; charset=utf-8";
		r->headers = STATUS_PAGE_HEADERS;
		status_page_write(r->body, lb, s, ids);
		break;
	case PAGE_JSON:
		r->type = "application/json";
		jw_set_output(r->body);
		snapshot_list_json(lb, s, ids, true);
		jw_set_output(NULL);
		break;
	}
out:
	free(flows);
	if (s)
		snapshot_free(s);
	free(ids);
}
