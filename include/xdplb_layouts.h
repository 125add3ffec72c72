/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdplb_layouts.h - the pinned-map layouts that earlier releases made and
 * this one still upgrades: the structs of each that differ from its
 * successor's, never changed once released. user/instance/layout.c holds
 * what every layout's maps look like and the step that converts each into
 * the next; RELEASES names the release that made each layout.
 *
 * Adding a layout (a change of xdplb.h that bumps XDPLB_ABI_VERSION): copy
 * here, suffixed with the old number, every struct the change touches, as
 * it was; describe the old maps in user/instance/layout.c and write the
 * step from it to the new one, with its test (tests/unit/test_layout.c).
 */
#ifndef XDPLB_LAYOUTS_H
#define XDPLB_LAYOUTS_H

#include <linux/types.h>

/* The oldest layout upgraded: release 0.6.0's. */
#define XDPLB_ABI_OLDEST	6

/*
 * ABI 6 (release 0.6.0). Every map as in ABI 7 but config, whose value
 * had no netns_cookie: 6 -> 7 adds the network namespace, taken from the
 * one the instance's program is found attached in.
 */
struct xdplb_config_v6 {
	__u32 magic;
	__u32 abi_version;
	__u32 table_size;
	__u32 hash_seed;
	__u32 ifindex;
	__u32 xdp_mode;
	__u8 ifmac[6];
	__u8 pad[2];
	char ifname[16];
	__u32 ct_size;
	__u32 ct_rate;
	__u32 tcp_timeout;
	__u32 udp_timeout;
};

_Static_assert(sizeof(struct xdplb_config_v6) == 64, "xdplb_config_v6");

/*
 * ABI 7 (release 0.7.0). As ABI 8 but for the connection table: config's
 * ct_size counted flows per CPU; conns held every possible CPU's table in
 * turn (conns[cpu * sets + set], sets = ct_size / 4), a set as struct
 * xdplb_conn_set is, its tags USED, UDP and 14 bits of the hash (bits 18
 * to 31 of it, as bits 2 to 15 of the tag); ct_guard had neither counters
 * nor a log head, and there was no ct_log. 7 -> 8 merges the CPUs' tables
 * into one of as many flows (a power of two), keeping each flow's newest
 * entry, every one of them confirmed.
 */
struct xdplb_config_v7 {
	__u32 magic;
	__u32 abi_version;
	__u32 table_size;
	__u32 hash_seed;
	__u32 ifindex;
	__u32 xdp_mode;
	__u8 ifmac[6];
	__u8 pad[2];
	char ifname[16];
	__u32 ct_size;		/* per CPU */
	__u32 ct_rate;
	__u32 tcp_timeout;
	__u32 udp_timeout;
	__u64 netns_cookie;
};

struct xdplb_ct_guard_v7 {
	__u64 window_start;
	__u64 inserts;
	__u64 jiffies;
	__u64 now;
	__u32 tick;
	__u32 pad;
};

#define XDPLB_CT_TAG_V7_USED	0x1
#define XDPLB_CT_TAG_V7_UDP	0x2

_Static_assert(sizeof(struct xdplb_config_v7) == 72, "xdplb_config_v7");
_Static_assert(sizeof(struct xdplb_ct_guard_v7) == 40, "xdplb_ct_guard_v7");

#endif /* XDPLB_LAYOUTS_H */
