// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fault.c - XDPLB_FAULT (fault.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"

int fault(const char *step)
{
	const char *p = getenv("XDPLB_FAULT"), *next;
	size_t n = strlen(step);

	for (; p && *p; p = next ? next + 1 : NULL) {
		next = strchr(p, ',');
		if (strncmp(p, step, n) || (p[n] && p[n] != ',' && p[n] != '='))
			continue;
		if (!strncmp(p + n, "=kill", 5)) {
			pr_warn("XDPLB_FAULT: killed at %s\n", step);
			raise(SIGKILL);
		}
		pr_warn("XDPLB_FAULT: %s fails\n", step);
		return -EIO;
	}
	return 0;
}
