/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * upgrade.h - replace an instance's running program with this binary's,
 * keeping every map: the hitless upgrade (`xdplb upgrade`, and the daemon
 * when it starts on an older instance).
 *
 * Same layout: the new program is loaded over the pinned maps themselves
 * and swapped in; nothing is copied. Another layout (layout.h): the maps
 * it changes are converted into new ones, the whole new instance is pinned
 * in a directory beside the old (DIR_upgrading), the program is swapped,
 * then the two directories are exchanged in one rename and the old one is
 * removed. The swap is atomic (XDP_FLAGS_REPLACE naming the old program,
 * or a new libxdp dispatcher replacing the old one): at no instant does
 * the interface run no program.
 *
 * Until the swap, a failure or a kill leaves the old program and maps as
 * they were (DIR_upgrading, if any, is removed by the next command that
 * takes the lock). After it, upgrade_recover() finishes what a kill left:
 * whoever takes the lock next makes the pins follow the program that runs.
 */
#ifndef XDPLB_UPGRADE_H
#define XDPLB_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include "layout.h"
#include "release.h"

/* DIR_upgrading (bpffs refuses names with a dot), holding the pinned
 * map UPGRADE_MARK, whose value is DIR's real path: only a directory that
 * says so is taken for an upgrade of DIR, never another instance's that
 * happens to have such a name. */
#define UPGRADE_STAGING	"_upgrading"
#define UPGRADE_MARK	"upgrading"

/* What an upgrade found, did or (--dry-run) would do. */
struct upgrade_report {
	char ifname[16];
	struct prog_build from;		/* the running program */
	struct prog_build to;		/* this binary's */
	__u32 from_id, to_id;		/* program ids; to_id 0: not done */
	__u32 from_abi;
	bool dispatcher;		/* inside libxdp's dispatcher */
	bool nothing;			/* it already runs this build */
	bool downgrade;			/* to an older version */
	/* Map by map of the current layout: converted (why), else reused. */
	const char *why[LAYOUT_MAX_MAPS];
	/* What the instance holds, kept either way. */
	int services, reals;
	__u64 flows;
};

/*
 * Upgrade the instance pinned at dir, attached to ifname, with the lock
 * on dir held. dry_run: only fill the report. 0, or -errno with err set
 * to one line naming the step that failed.
 */
int upgrade_instance(const char *dir, const char *ifname, bool dry_run,
		     struct upgrade_report *r, char *err, size_t errlen);

/*
 * The load and convert steps alone: this binary's program loaded for the
 * instance at dir (of layout abi), over the maps the migration keeps and
 * new ones it fills; nothing attached, pinned or changed. The packet
 * tests run packets through a migrated instance so.
 */
struct xdplb_bpf;
int upgrade_load(const char *dir, __u32 abi, __u64 netns_cookie,
		 struct xdplb_bpf **skel, char *err, size_t errlen);

/*
 * With the lock on dir held: finish or undo what an upgrade killed on the
 * way left behind (DIR_upgrading, a program swapped in but not pinned).
 * msg says what was done ("" when nothing was left). 0 or -errno.
 */
int upgrade_recover(const char *dir, char *msg, size_t len);

/* Does an interrupted upgrade's directory lie beside dir? */
bool upgrade_pending(const char *dir);

#endif /* XDPLB_UPGRADE_H */
