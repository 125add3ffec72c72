/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * status_page.h - the exporter's / : one self-contained HTML page (inline
 * CSS and script, nothing fetched from elsewhere) with the services,
 * reals, weights, health and counters as a table rendered on the server,
 * which its script then refreshes every 2 s from /status.json (the JSON
 * of `list -j`), adding packets/s and bytes/s from successive samples.
 */
#ifndef XDPLB_STATUS_PAGE_H
#define XDPLB_STATUS_PAGE_H

#include <stdio.h>
#include "snapshot.h"

/* What the page may load: itself, and status.json from the same place
 * (the Content-Security-Policy header's value). */
#define STATUS_PAGE_CSP \
	"default-src 'none'; style-src 'unsafe-inline'; " \
	"script-src 'unsafe-inline'; connect-src 'self'; img-src data:"

/* ids: scratch of XDPLB_MAX_REALS. */
void status_page_write(FILE *f, const struct lb *lb, const struct snapshot *s,
		       int *ids);

#endif /* XDPLB_STATUS_PAGE_H */
