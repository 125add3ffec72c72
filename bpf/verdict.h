/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * verdict.h - how the stages of the data path report back.
 *
 * A stage returns XDPLB_NEXT to let the pipeline go on, or a final XDP
 * action, which it has already counted in the global counters: every
 * verdict has exactly one counter, bumped where the decision is made.
 */
#ifndef XDPLB_VERDICT_H
#define XDPLB_VERDICT_H

#include <linux/bpf.h>
#include "xdplb.h"

#define XDPLB_NEXT	(-1)

/* Count the reason and return the action: return verdict(gs, x, XDP_PASS) */
#define verdict(gs, field, action) ({ (gs)->field++; (action); })

#endif /* XDPLB_VERDICT_H */
