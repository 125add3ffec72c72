/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bird.h - the VIP routes that BIRD announces for an active/active load
 * balancer (ha/bird-lb.conf.in includes them), made from a configuration.
 *
 * One static protocol per family, xdplb_vips4 and xdplb_vips6, each with
 * `check link on` and one route per VIP address (a VIP on several ports is
 * one route) to the daemon's --announce interface: BIRD exports them while
 * that interface is up, i.e. while the daemon runs and is healthy. A family
 * without a VIP gets an empty protocol, so the names are always there for
 * the export filters.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef XDPLB_BIRD_H
#define XDPLB_BIRD_H

#include <stdbool.h>
#include "config.h"

/* The file's text for c's VIPs through interface ifname, in a buffer the
 * caller frees; source names the configuration in its first comment. */
int bird_vips_render(const struct config *c, const char *ifname,
		     const char *source, char **out);

/* Replace path with text (a temporary file renamed over it), unless it
 * already holds exactly that: *changed says whether it was written. */
int bird_vips_write(const char *path, const char *text, bool *changed);

#endif /* XDPLB_BIRD_H */
