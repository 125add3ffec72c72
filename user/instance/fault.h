/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fault.h - failure injection at named steps of a change, for the tests
 * that prove a change which fails or dies at any step leaves the instance
 * as it was (or finishes it on the next run).
 *
 * XDPLB_FAULT=STEP[@N][=kill|=trace][,...] in the environment: at STEP,
 * fault() returns -EIO (the step fails as if the kernel had refused it);
 * with "=kill" the process kills itself with SIGKILL there; with "=trace"
 * it says on stderr that it got there ("XDPLB_FAULT: at STEP #K") and goes
 * on, so a test can count a command's steps. "@N": only the Nth time the
 * process reaches STEP (counted from 1), else every time. Steps are named
 * "verb:step", e.g. "upgrade:convert"; "lb:write" is before every write of
 * an instance's maps (lb.c), so "lb:write@N=kill" stops a change between
 * its writes N - 1 and N. Without the variable, fault() is one getenv()
 * and returns 0.
 */
#ifndef XDPLB_FAULT_H
#define XDPLB_FAULT_H

int fault(const char *step);

#endif /* XDPLB_FAULT_H */
