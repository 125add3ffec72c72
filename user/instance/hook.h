/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * hook.h - what runs on an interface's XDP hook, in this network namespace,
 * and whether it is an instance's own program.
 *
 * A program is the instance's when it is the one pinned at its directory,
 * or when it runs the instance's global_stats map: the second covers an
 * `xdplb upgrade` killed between the swap and the new pin (hook_adopt()
 * pins it then). Other programs are never the instance's, whatever their
 * name.
 */
#ifndef XDPLB_HOOK_H
#define XDPLB_HOOK_H

#include <stdbool.h>
#include <linux/bpf.h>
#include "lb.h"
#include "release.h"

#define HOOK_MAX_PROGS	10	/* libxdp's dispatcher holds 10 at most */

struct hook {
	int ifindex;
	bool dispatcher;	/* libxdp's dispatcher, else one program */
	bool generic;		/* SKB (generic) mode */
	int n;			/* programs; 0: the hook is empty */
	struct {
		__u32 id;
		char name[BPF_OBJ_NAME_LEN];
	} prog[HOOK_MAX_PROGS];
};

/* Read the hook of ifindex. 0 or -errno. */
int hook_read(int ifindex, struct hook *h);

/* The id of the program pinned as dir/prog, of the map pinned as
 * dir/name; 0 when there is none. */
__u32 pinned_prog_id(const char *dir);
__u32 pinned_map_id(const char *dir, const char *name);

/* Does program prog_id use map map_id? */
bool prog_uses_map(__u32 prog_id, __u32 map_id);

/* The index in h of the instance's program (pinned_id, or one that runs
 * the map stats_map_id), -1 when none of them is. */
int hook_find(const struct hook *h, __u32 pinned_id, __u32 stats_map_id);

/* Is the instance lb holds running on its interface's hook here? */
bool instance_attached(const struct lb *lb);

/* The instance's program: the one on its hook here when it runs, else
 * the one pinned; and its build (release.h). */
struct running {
	__u32 id;		/* 0: none found */
	bool attached;		/* on the hook, in this namespace */
	struct prog_build build;
};

int instance_running(const struct lb *lb, struct running *out);

/* One line of what h holds: "no XDP program", "XDP program 'x' (id 7)",
 * "libxdp's dispatcher with 'a' (id 5), 'b' (id 9)". */
void hook_describe(const struct hook *h, char *buf, size_t len);

/* This process's network namespace cookie (SO_NETNS_COOKIE), 0 where the
 * kernel has none. */
__u64 netns_cookie(void);

#endif /* XDPLB_HOOK_H */
