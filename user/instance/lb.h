/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lb.h - the control plane over the data path's maps.
 *
 * A struct lb holds one file descriptor per map, either opened from the
 * pin directory (the xdplb command) or taken from a loaded skeleton (attach
 * and the packet tests), so that every change is made by the same code.
 * Functions return 0 or a negative errno and print nothing; callers turn
 * errors into messages.
 */
#ifndef XDPLB_LB_H
#define XDPLB_LB_H

#include <limits.h>
#include <stdbool.h>
#include "xdplb.h"

struct xdplb_bpf;

struct lb {
	int config_fd;
	int services_fd;
	int svc_index_fd;
	int maglev_fd;
	int reals_fd;
	int global_stats_fd;
	int svc_stats_fd;
	int real_stats_fd;
	int conns_fd;
	int ct_guard_fd;
	int svc_opts_fd;
	int vip_filter_fd;
	int lock_fd;
	/* lb_svc_add (and lb_svc_del) leave the index alone (index_dirty
	 * says it must be rebuilt): a bulk change compiles it once, as each
	 * swap of it waits an RCU grace period. New services take no traffic
	 * until the caller's lb_index_rebuild(); a deferred delete is only
	 * for a service not in the live index. */
	bool defer_index;
	bool index_dirty;
	/* A change in progress (repair.h): how deep lb_change_begin() is
	 * nested, and whether its marker was there before it (a change
	 * killed on its way, not yet repaired). who: what changes it, for
	 * the marker ("restore", "daemon"; NULL: "xdplb"). */
	int change_depth;
	bool change_inherited;
	const char *who;
	int ncpus;
	/* The connection table, mapped read-only on first use. */
	const struct xdplb_conn_set *ct_map;
	size_t ct_map_len;
	__u32 abi_found;	/* the instance's ABI, once its config is read */
	/* Not 0: the instance has this older layout, and lb is a read-only
	 * view of it in the current one (lb_open, layout.h). */
	__u32 view_abi;
	struct xdplb_config cfg;
	char pin_dir[PATH_MAX];
};

/* One service and its key, as listed. */
struct lb_service {
	struct xdplb_svc_key key;
	struct xdplb_svc svc;
};

void lb_init(struct lb *lb);
void lb_close(struct lb *lb);

/*
 * Before load: make every Maglev table of the skeleton table_size slots.
 * (The inner map's template is a map of that size; libbpf 1.1 cannot
 * resize the template it would make from the BPF object.) Returns the
 * template's fd, which libbpf borrows: close it after the object is
 * loaded. Or a negative errno.
 */
int xdplb_size_tables(struct xdplb_bpf *skel, __u32 table_size);

/*
 * Before load: the skeleton's settings from an instance's config (hash
 * seed, source MAC, the connection table's size, rate cap and timeouts),
 * the size of its Maglev tables, and this binary's build record (xdplb.h).
 * Returns the Maglev template's fd (close it once the object is loaded),
 * or -errno with *what naming what could not be set.
 */
int xdplb_configure(struct xdplb_bpf *skel, const struct xdplb_config *cfg,
		    const char **what);

/* Remove every pin under dir, whatever layout made them, and dir itself
 * unless keep_dir (or it is a mount point). */
int lb_unpin_all(const char *dir, bool keep_dir);

/* Fds of a loaded (not yet pinned) skeleton; cfg is written to config. */
int lb_from_skel(struct lb *lb, struct xdplb_bpf *skel,
		 const struct xdplb_config *cfg);

/*
 * Open the instance pinned at dir. One of an older layout this build
 * knows opens as a read-only view (lb->view_abi). Errors: -ENOENT with
 * *what NULL, no instance there; -ENOENT with *what set, that map is
 * missing; -EPROTONOSUPPORT, made by an xdplb of a map ABI this one does
 * not know (lb->abi_found); -EPROTO, the map in *what has another layout;
 * -EMEDIUMTYPE, dir is not on bpffs; -EPERM, dir is not root's alone
 * (pin_dir_trusted).
 */
int lb_open(struct lb *lb, const char *dir, const char **what);

/* The fields every version's config starts with (see xdplb.h), and, when
 * netns_cookie is not NULL, the network namespace the instance records
 * (0 when its layout records none: ABI 6). */
int lb_read_header(const char *dir, struct xdplb_config_header *hdr,
		   __u64 *netns_cookie);

/* Exclusive lock on the pin directory for a change; held until close.
 * -EPERM when the directory is not root's alone (pin_dir_trusted). */
int lb_lock_dir(struct lb *lb, const char *dir);
/* The same, without waiting: -EWOULDBLOCK while another holds it. */
int lb_trylock_dir(struct lb *lb, const char *dir);
/* Release it early, keeping the maps open (a daemon locks per change). */
void lb_unlock_dir(struct lb *lb);

bool pin_dir_on_bpffs(const char *dir);
/*
 * May only root change what is in dir? dir owned by root and writable by
 * no group or others, each directory above it up to its mount point the
 * same or root's and sticky (as /sys/fs/bpf, mode 1777), and no symbolic
 * link on the way owned by another user. Anyone else who could would
 * hold the lock (root's commands hang) or replace the pins. 0, or -EPERM
 * (or -errno) with why naming the path (why may be NULL).
 */
int pin_dir_trusted(const char *dir, char *why, size_t len);
/* Is the instance lb holds still the one pinned at its directory (not
 * detached, nor detached and attached again)? */
bool lb_still_pinned(struct lb *lb);

/* Services. lb_services() returns an array the caller frees, sorted by
 * lb_svc_key_cmp: family, address, protocol, port. */
int lb_svc_key_cmp(const struct xdplb_svc_key *a,
		   const struct xdplb_svc_key *b);
int lb_svc_get(struct lb *lb, const struct xdplb_svc_key *key,
	       struct xdplb_svc *svc);
/* The service a packet to key goes to, as the data path finds it: the
 * exact port, else the VIP's port-0 service. */
int lb_svc_match(struct lb *lb, const struct xdplb_svc_key *key,
		 struct xdplb_svc *svc);
/* table_size 0: the instance's default (config). */
int lb_svc_add(struct lb *lb, const struct xdplb_svc_key *key, __u32 flags,
	       __u32 table_size);
/* Change a service's flags and table size (0: keep it) in place: its id,
 * reals, counters and tracked flows stay. all: lb_reals(). */
int lb_svc_set(struct lb *lb, const struct xdplb_svc_key *key, __u32 flags,
	       __u32 table_size, const struct xdplb_real *all);
/* Health check and quorum of service id (svc_opts). */
int lb_svc_opts_get(struct lb *lb, __u32 id, struct xdplb_svc_opts *opts);
int lb_svc_opts_set(struct lb *lb, __u32 id,
		    const struct xdplb_svc_opts *opts);
int lb_svc_del(struct lb *lb, const struct xdplb_svc_key *key);
int lb_services(struct lb *lb, struct lb_service **out, int *n);

/* Compile services into a new svc_index and swap it in (add and del do
 * this themselves). -ENOSPC when a probe chain would be too long. */
int lb_index_rebuild(struct lb *lb);

/*
 * What the data path reads, derived from the configuration maps, piece by
 * piece: for repair.c, which compares each with what is live and rebuilds
 * what differs.
 */
/* Every entry of the services map, VIP markers included, sorted. */
int lb_svc_entries(struct lb *lb, struct lb_service **out, int *n);
/* The index of entries all (lb_svc_entries; the markers' fragment ports
 * are filled in) into slots, XDPLB_SVC_SLOTS of them. -ENOSPC when a probe
 * chain would be too long. */
int lb_index_compile(struct lb_service *all, int n,
		     struct xdplb_svc_slot *slots);
/* The live index's XDPLB_SVC_SLOTS slots; -ENOENT: there is none. */
int lb_index_read(struct lb *lb, struct xdplb_svc_slot *slots);
/* vip_filter's XDPLB_VIP_FILTER_WORDS words: as they are, as entries all
 * want them, and written where want differs from old. */
int lb_filter_read(struct lb *lb, __u64 *words);
void lb_filter_want(const struct lb_service *all, int n, __u64 *words);
int lb_filter_write(struct lb *lb, const __u64 *want, const __u64 *old);
/* The Maglev table lb_rebuild() builds for svc (packed as the map holds
 * it, XDPLB_MAGLEV_ELEMS(svc->table_size) elements; the caller frees it),
 * *out NULL when no real takes new flows: then it has no table. */
int lb_table_build(struct lb *lb, const struct xdplb_real *all,
		   const struct xdplb_svc *svc, struct xdplb_maglev_elem **out);
/* Make packed (NULL: none) svc's table, in place where the sizes allow. */
int lb_table_write(struct lb *lb, const struct xdplb_svc *svc,
		   const struct xdplb_maglev_elem *packed);
/* A copy of service svc_id's live table (the caller frees it) and its
 * number of elements; -ENOENT when it has none. */
int lb_table_read(struct lb *lb, __u32 svc_id,
		  struct xdplb_maglev_elem **out, __u32 *elems);
/* Write or delete one entry of the services map as it is (a VIP marker). */
int lb_svc_entry_put(struct lb *lb, const struct xdplb_svc_key *key,
		     const struct xdplb_svc *svc);
int lb_svc_entry_del(struct lb *lb, const struct xdplb_svc_key *key);

/* Reals. lb_reals() loads the whole reals array (XDPLB_MAX_REALS). */
int lb_reals(struct lb *lb, struct xdplb_real *all);
int lb_real_find(const struct xdplb_real *all, __u32 svc_id,
		 const struct xdplb_addr *addr, __u8 family);
int lb_real_add(struct lb *lb, struct xdplb_real *all,
		const struct xdplb_real *real, __u32 *id);
int lb_real_update(struct lb *lb, __u32 id, const struct xdplb_real *real);
int lb_real_del(struct lb *lb, __u32 id);
/* Add the counters of deleted real id to its service's svc_stats (what
 * the service forwarded through reals it no longer has). */
int lb_real_retire(struct lb *lb, __u32 id, __u32 svc_id);

/* Build the service's Maglev table from its reals (those up and of
 * weight > 0, or its sorry reals below quorum) and swap it in. */
int lb_rebuild(struct lb *lb, const struct xdplb_real *all,
	       const struct xdplb_svc *svc);
/* The real id in a slot of service svc_id's Maglev table, XDPLB_NO_REAL
 * when it has none (no real takes new flows). */
int lb_maglev_real(struct lb *lb, __u32 svc_id, __u32 slot, __u32 *real_id);

/* Tracked flows of a real that are still good (every CPU's table). */
int lb_real_conns(struct lb *lb, __u32 id, const struct xdplb_real *real,
		  __u64 *count);
/* The same for n reals at once, with one read of the table: counts[k]
 * for real id first + k, described by reals[k] (unused ones count 0). */
int lb_tracked_flows(struct lb *lb, const struct xdplb_real *reals,
		     __u32 first, __u32 n, __u64 *counts);

/* One way of a connection table set (struct xdplb_conn_set), as user
 * space reads it: all zero for an empty way (or one being written). */
struct lb_conn {
	struct xdplb_flow flow;
	__u32 real_id;
	__u16 real_gen;
	__u16 tag;
	__u64 created;		/* ns of lb_now_ns()'s clock, to the tick */
	__u64 last_seen;
};

struct lb_conn_ways {
	struct lb_conn way[XDPLB_CT_WAYS];
};

/*
 * An entry last used at tick last is live at tick now, as user space
 * judges it: used at most timeout ticks before now, or at any time after
 * (the data path wrote it after this reader took now, which a scan of the
 * whole table, or a lookup of the reals first, makes likely for a busy
 * flow; the data path's own xdplb_ct_fresh() allows it only a few ticks).
 */
static inline bool lb_ct_fresh(__u32 now, __u32 last, __u32 timeout)
{
	return (__s32)(now - last) <= (__s32)timeout;
}

/* Sets of the connection table (a flow's is its hash & (sets - 1)). */
static inline __u32 lb_ct_sets(const struct lb *lb)
{
	return lb->cfg.ct_size / XDPLB_CT_WAYS;
}

/* Read the whole connection table: nsets sets of ways. Caller frees. */
int lb_conns(struct lb *lb, struct lb_conn_ways **out, __u32 *nsets);
/* One set. */
int lb_conn_set(struct lb *lb, __u32 idx, struct lb_conn_ways *out);
/* An entry the data path would still follow at now (ns, lb_now_ns()):
 * real is the entry of its real id; judged in ticks (lb_ct_fresh). */
bool lb_conn_live(const struct lb *lb, const struct lb_conn *c,
		  const struct xdplb_real *real, __u64 now);

/* Now on the data path's clock (bpf_ktime_get_coarse_ns). */
__u64 lb_now_ns(void);

/*
 * Before load: the connection table of ct_size flows (every CPU's
 * together), its new-flow rate cap per CPU and idle timeouts (in ns,
 * rounded up to the table's ticks), and the sync log for every possible
 * CPU. 0 or -errno.
 */
int xdplb_size_conns(struct xdplb_bpf *skel, __u32 ct_size, __u64 ct_rate,
		     __u64 tcp_timeout_ns, __u64 udp_timeout_ns);

/* Counters summed over CPUs. */
int lb_counters(struct lb *lb, int fd, __u32 id, struct xdplb_counters *c);
/* What a service forwarded: its reals' counters, and those of its
 * deleted reals (svc_stats; the data path counts per real only). */
int lb_svc_counters(struct lb *lb, __u32 svc_id, const struct xdplb_real *all,
		    struct xdplb_counters *c);
int lb_global(struct lb *lb, struct xdplb_global_stats *gs);
/* The connection table's counters beside the verdicts (ct_guard), summed
 * over CPUs: new flows untracked as their set was full, or lost to
 * another writer. */
int lb_ct_counters(struct lb *lb, __u64 *full, __u64 *lost);

#endif /* XDPLB_LB_H */
