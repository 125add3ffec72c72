/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * repair.h - a change that dies on its way, and its repair.
 *
 * The configuration lives in the services, reals and svc_opts maps. The
 * data path reads structures derived from them: the service index and the
 * VIP filter (from the services and their VIP markers), and each service's
 * Maglev table (from its reals' weights, health and sorry flags, and its
 * quorum). A change is many writes. Killed between two of them, it can
 * leave the derived structures out of step with the configuration: a
 * service that `save` prints but the index does not hold, a table built
 * from reals that are not the service's, reals of a service that is gone.
 * A later `restore` would not see it: it diffs the file against the
 * configuration maps, which say what the change already wrote.
 *
 * So every change is bracketed. lb_change_begin() pins CHANGE_MARK in the
 * pin directory before the change's first write; lb_change_end() removes
 * it after its last. A pin is made and removed atomically and outlives the
 * process that made it. Whoever takes the directory's lock next and finds
 * it (lb_repair(): every command that changes the instance, save, verify,
 * the daemon) makes every derived structure what the configuration maps
 * build (lb_reconcile()), with the marker still there, then removes it:
 * a repair killed on its way is made again by the next one. A change that
 * fails (rather than dies) also leaves the data path in step with the
 * configuration: lb_change_end() reconciles before it removes the marker.
 *
 * Why the marker covers every change this xdplb makes: every write of
 * those maps is made with the directory's lock held (flock: the kernel
 * drops it when its holder dies, however it dies), and inside a bracket
 * (attach's, made before anything is pinned, are seen by no one). A
 * process killed while it holds the lock dies before the marker (nothing
 * written), between marker and unlink (the marker is there), or after the
 * unlink (everything written). The next holder of the lock sees which.
 * What it does not cover: a change made by an xdplb that predates the
 * marker (same map ABI), and a crash of the whole host (bpffs goes with
 * it). For those, and for any doubt, `xdplb verify` compares every derived
 * structure with what the configuration builds, and `--repair` rebuilds
 * what differs. `restore` does not reconcile on every run: that is a
 * Maglev build of every table (about two seconds for a thousand services
 * of 65537 slots, on the lab's machines), for each reload of the daemon.
 *
 * The cost of a change that is not interrupted: one pin and one unlink.
 * The marker is no map of the data path's layout: a tiny array that only
 * names who changes (an xdplb that does not know it ignores it, detach
 * removes it with the rest). An upgrade to another layout carries it into
 * the new directory (lb_change_carry()), so a change interrupted before an
 * upgrade is repaired after it.
 */
#ifndef XDPLB_REPAIR_H
#define XDPLB_REPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include "lb.h"

#define CHANGE_MARK	"changing"

/*
 * Before the first write of a change, with the lock held: pin the marker
 * (nested calls only count). A marker already there (an interrupted change
 * not yet repaired) stays, and lb_change_end() repairs what it left. An
 * lb of no pin directory (attach's, before it pins) needs none. 0, or
 * -errno: the marker cannot be made, and nothing may be written.
 */
int lb_change_begin(struct lb *lb);

/*
 * After the last write: remove the marker (the outermost call). err: the
 * change failed; what it wrote and undid is then reconciled first (so is
 * an inherited marker's). 0, or -errno with the marker left for the next
 * holder of the lock.
 */
int lb_change_end(struct lb *lb, int err);

/* Is a change's marker in dir (one in progress, or interrupted)? */
bool lb_change_pending(const char *dir);

/*
 * With the lock held, the instance open: if a change left its marker,
 * reconcile, then remove it. msg: one line saying what was found and done
 * ("" when there was no marker). 0, or -errno with msg saying why.
 */
int lb_repair(struct lb *lb, char *msg, size_t len);

/* With the lock on from_dir held: pin its marker in to_dir too, if it has
 * one (an upgrade's new directory, before it takes from_dir's place). */
int lb_change_carry(const char *from_dir, const char *to_dir);

/* What lb_reconcile() compared, and what differed. */
struct lb_drift {
	int services;		/* services compared */
	int reals;		/* their reals */
	int tables;		/* the Maglev tables their reals build */
	int markers;		/* VIP markers missing, or of no service */
	int unindexed;		/* services that do not fit the index */
	bool index;		/* not what the services compile to */
	int filter;		/* VIP addresses whose filter bit is clear */
	int tables_wrong;	/* tables that differ from what reals build */
	int stale_tables;	/* tables of no service */
	int stale_reals;	/* reals of no service */
};

/* One problem found, in words ("VIP 198.18.0.100:80/tcp: ..."). */
typedef void (*lb_drift_fn)(void *ctx, const char *problem);

/*
 * Compare every structure the data path reads with what the configuration
 * maps build: the VIP markers, the service index and the VIP filter, each
 * service's Maglev table (as lb_rebuild() builds it), and tables and reals
 * of services that no longer exist. say (may be NULL) gets each problem.
 * fix: also rebuild what differs, in an order the data path can follow at
 * every instant (tables that grow before the index, those that shrink
 * after it, stale tables before stale reals), as the changes themselves
 * order it. Services the interrupted change added that do not fit in the
 * index are removed, as restore would have. With the lock held. 0, or
 * -errno.
 */
int lb_reconcile(struct lb *lb, bool fix, struct lb_drift *d,
		 lb_drift_fn say, void *ctx);

/* How many problems d counts. */
int lb_drift_count(const struct lb_drift *d);
/* What fixing d does, in a few words: "rebuilt the service index and 3
 * Maglev tables; removed 2 reals of deleted services". */
void lb_drift_text(const struct lb_drift *d, char *buf, size_t len);

#endif /* XDPLB_REPAIR_H */
