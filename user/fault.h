/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fault.h - failure injection at named steps of a change, for the tests
 * that prove a change which fails or dies at any step leaves the instance
 * as it was (or finishes it on the next run).
 *
 * XDPLB_FAULT=STEP[=kill][,STEP...] in the environment: at STEP, fault()
 * returns -EIO (the step fails as if the kernel had refused it), or with
 * "=kill" the process kills itself with SIGKILL there. Steps are named
 * "verb:step", e.g. "upgrade:convert". Without the variable, fault() is
 * one getenv() and returns 0.
 */
#ifndef XDPLB_FAULT_H
#define XDPLB_FAULT_H

int fault(const char *step);

#endif /* XDPLB_FAULT_H */
