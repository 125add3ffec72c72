/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * layout.h - the pinned-map layouts this build knows, and the migrations
 * between them, as a database keeps its schema versions.
 *
 * A layout (a map ABI) is the set of maps an instance pins, each with its
 * type, key and value sizes and size. The current one is what include/
 * xdplb.h defines; each older one that `upgrade` still converts is kept
 * here as it was (with its structs in xdplb_layouts.h), with the step that
 * turns it into the next. A migration from layout A runs the steps A ->
 * A+1 -> ... -> current: a map no step changes is reused as it is (the
 * same kernel map, with everything in it), the others are converted into
 * new maps, entry by entry.
 *
 * The instance's config is converted first, in memory (the new program's
 * load-time settings come from it); then the other maps, after the new
 * maps exist. Every conversion reads the old maps only: until the new
 * program and pins take over, the old instance stays exactly as it was.
 */
#ifndef XDPLB_LAYOUT_H
#define XDPLB_LAYOUT_H

#include <stdbool.h>
#include "xdplb.h"

#define LAYOUT_MAX_MAPS	16

/* One map of a layout. */
struct layout_map {
	const char *name;	/* its pin, under the pin directory */
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;	/* 0: sized at attach (conns) */
	__u32 map_flags;
};

struct layout {
	__u32 abi;
	const struct layout_map *maps;
	int nmaps;
};

/* The layout of map ABI abi, NULL when this build does not know it. */
const struct layout *layout_get(__u32 abi);
/* The map named name in l, NULL when it has none. */
const struct layout_map *layout_map(const struct layout *l,
				    const char *name);
/* Does the map at fd look like m? 0 or -EPROTO (-errno if unreadable). */
int layout_check_map(int fd, const struct layout_map *m);

/*
 * A migration of the instance pinned at dir from its layout to the
 * current one. migration_open() opens every old map and checks it, reads
 * the old config and converts it; migration_dst() says, map by map of the
 * current layout, whether it is reused (the old fd) or must be made new
 * and filled by migration_fill().
 */
struct migration {
	const struct layout *from;
	int old_fd[LAYOUT_MAX_MAPS];	/* by index in from->maps */
	/* The config, converted: what the new maps and program follow. */
	struct xdplb_config cfg;
	/* The namespace the instance's program was found running in: what
	 * 6 -> 7 records. */
	__u64 netns_cookie;
	const char *missing;	/* the map that is missing or differs */
	/* The connection table before ABI 8: CPUs with a table, flows per
	 * CPU (what 7 -> 8 merges). */
	__u32 ct_ncpus_was;
	__u32 ct_size_was;
};

void migration_init(struct migration *m);
void migration_close(struct migration *m);
/* -ENOENT (m->missing: that map is missing), -EPROTO (m->missing: that
 * map has another layout), -EPROTONOSUPPORT (no known layout or step). */
int migration_open(struct migration *m, const char *dir, __u32 abi,
		   __u64 netns_cookie);

/*
 * For map i of the current layout: the old fd to reuse as it is (not to
 * be closed by the caller), or -1 when it is converted and the caller
 * makes it new (same attributes as the current layout says, sized for the
 * instance: conns as m->cfg says).
 */
int migration_reuse_fd(const struct migration *m, int i);

/* What converts map i of the current layout, for --dry-run: NULL when
 * it is reused. */
const char *migration_why(const struct migration *m, int i);

/* Fill every converted map: new_fd[i] for map i of the current layout
 * (only those migration_reuse_fd() says are new are read; -1: not wanted,
 * as by a view that does not read that map). */
int migration_fill(struct migration *m, const int *new_fd);

/* Create a map as the current layout's map i, for a read-only view of an
 * older instance of config cfg (no program, no BTF). -EOPNOTSUPP for a
 * map this cannot make (a map of maps: no step converts one). */
int layout_create_map(int i, const struct xdplb_config *cfg);

/* The current layout. */
const struct layout *layout_current(void);

#endif /* XDPLB_LAYOUT_H */
