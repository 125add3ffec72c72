/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rs_state.h - real-setup's state file: what it changed on a real server
 * (the VIPs it set up, addresses it added, sysctl values it replaced,
 * files, links and directories it made), so that --undo reverts exactly
 * that. One item a line:
 *
 *   vip ADDR
 *   addr ADDR/PLEN
 *   sysctl KEY OLD NEW      KEY a path under /proc/sys; OLD, NEW integers
 *   file PATH [SUM]         ROOT followed by one of the files it writes;
 *                           SUM "crc32:HEX:LENGTH" of what it wrote (none
 *                           in the files of older versions)
 *   link PATH               ROOT followed by its unit's link
 *   dir PATH                an absolute path
 *
 * What --undo does with the file's word (restore a sysctl, delete a file)
 * makes its reading strict: anything real-setup would not have written is
 * an error naming the line.
 */
#ifndef XDPLB_RS_STATE_H
#define XDPLB_RS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "xdplb.h"

#define RS_MAX_VIPS	64
#define RS_MAX_ITEMS	512
#define RS_PATHLEN	512
#define RS_VALLEN	24
#define RS_SUMLEN	40	/* "crc32:89abcdef:LENGTH" */

/* Where real-setup writes, under its ROOT. */
#define RS_STATE	"/var/lib/xdplb/real-setup.state"
#define RS_UNIT_NAME	"xdplb-real.service"
#define RS_UNIT		"/etc/systemd/system/" RS_UNIT_NAME
#define RS_UNIT_LINK	"/etc/systemd/system/multi-user.target.wants/" \
			RS_UNIT_NAME
#define RS_DROPIN	"/etc/sysctl.d/90-xdplb-real.conf"
/* The first line of the files it writes. */
#define RS_HEADER	"# Written by xdplb real-setup --persist"

/* A line of the state file at most: its longest item and then some. */
#define RS_MAX_LINE	(2 * RS_PATHLEN)

enum item_kind { IT_ADDR, IT_SYSCTL, IT_FILE, IT_LINK, IT_DIR };

/* One thing real-setup changed, as the state file records it. */
struct item {
	enum item_kind kind;
	char name[RS_PATHLEN];	/* addr: ADDR/PLEN; sysctl: path under
				 * /proc/sys; file, link, dir: its path */
	char old[RS_VALLEN];	/* sysctl: the value before */
	char val[RS_VALLEN];	/* sysctl: the value set */
	char sum[RS_SUMLEN];	/* file: what it wrote, "" unknown */
	struct xdplb_addr addr;	/* addr */
	__u8 family, plen;
	int line;		/* of the state file, when read from it */
};

struct vip {
	struct xdplb_addr addr;
	__u8 family;
};

struct state {
	struct vip vips[RS_MAX_VIPS];	/* VIPs set up (persist names
					 * them) */
	int nvips;
	struct item items[RS_MAX_ITEMS];
	int nitems;
};

/* VIP arguments: an address, or the VIP syntax (only its address counts). */
int parse_vip_addr(const char *s, struct vip *v);
void vip_name(const struct vip *v, char *buf, size_t len);

struct item *state_find(struct state *st, enum item_kind kind,
			const char *name);
/*
 * Read a state file from f into st (emptied first). 0, or -EINVAL (a line
 * real-setup does not write, or not text: lines.h) or a read error, with
 * "NAME:LINE: message" in err.
 */
int state_parse(struct state *st, FILE *f, const char *name, char *err,
		size_t errlen);
/* The file's text for st (malloc'd), or NULL when out of memory. */
char *state_text(const struct state *st);

#endif /* XDPLB_RS_STATE_H */
