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

#define MAX_STEPS	16	/* distinct steps counted */

/* How many times this process reached each step named in XDPLB_FAULT. */
static struct {
	char name[48];
	unsigned long hits;
} counted[MAX_STEPS];

static unsigned long reached(const char *step)
{
	int i;

	for (i = 0; i < MAX_STEPS && counted[i].name[0]; i++)
		if (!strcmp(counted[i].name, step))
			return ++counted[i].hits;
	if (i == MAX_STEPS || strlen(step) >= sizeof(counted[i].name))
		return 0;	/* not counted: no @N matches */
	strcpy(counted[i].name, step);
	return counted[i].hits = 1;
}

int fault(const char *step)
{
	const char *p = getenv("XDPLB_FAULT"), *next, *q;
	size_t n = strlen(step);
	unsigned long hits = 0, at;
	char *end;

	for (; p && *p; p = next ? next + 1 : NULL) {
		next = strchr(p, ',');
		if (strncmp(p, step, n) || (p[n] && !strchr(",=@", p[n])))
			continue;
		if (!hits)
			hits = reached(step);
		q = p + n;
		if (*q == '@') {
			at = strtoul(q + 1, &end, 10);
			if (at != hits)
				continue;
			q = end;
		}
		if (!strncmp(q, "=kill", 5)) {
			pr_warn("XDPLB_FAULT: killed at %s #%lu\n", step, hits);
			raise(SIGKILL);
		}
		if (!strncmp(q, "=trace", 6)) {
			pr_warn("XDPLB_FAULT: at %s #%lu\n", step, hits);
			continue;
		}
		pr_warn("XDPLB_FAULT: %s fails (#%lu)\n", step, hits);
		return -EIO;
	}
	return 0;
}
