/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdplb_layouts.h - the pinned-map layouts that earlier releases made and
 * this one still upgrades: the structs of each that differ from its
 * successor's, never changed once released. user/layout.c holds what
 * every layout's maps look like and the step that converts each into the
 * next; RELEASES names the release that made each layout.
 *
 * Adding a layout (a change of xdplb.h that bumps XDPLB_ABI_VERSION): copy
 * here, suffixed with the old number, every struct the change touches, as
 * it was; describe the old maps in user/layout.c and write the step from
 * it to the new one, with its test (tests/unit/test_layout.c).
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

#endif /* XDPLB_LAYOUTS_H */
