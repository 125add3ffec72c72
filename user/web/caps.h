/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * caps.h - giving up privileges for good (libcap), for a process that
 * serves the network: first find what an operation needs with caps_try(),
 * then keep only that with caps_limit().
 */
#ifndef XDPLB_CAPS_H
#define XDPLB_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/capability.h>

/* Is cap in the permitted set? */
bool caps_permitted(cap_value_t cap);

/* The effective set becomes exactly keep[0..n) (each one permitted); the
 * permitted set stays, so that another try may follow. 0 or -errno. */
int caps_try(const cap_value_t *keep, int n);

/*
 * Keep keep[0..n) and nothing else: permitted and effective exactly those,
 * none inheritable or ambient, the bounding set cut to them where
 * CAP_SETPCAP allows (without it, no_new_privs makes it moot), and
 * no_new_privs set, so nothing this process runs can gain any. Checks
 * the result. 0, or -errno and one line in err.
 */
int caps_limit(const cap_value_t *keep, int n, char *err, size_t len);

/* The process's capabilities as text ("cap_bpf=ep", "=" for none); the
 * caller frees it with cap_free(). NULL on error. */
char *caps_text(void);

#endif /* XDPLB_CAPS_H */
