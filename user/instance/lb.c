// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* xdplb.h first: the skeleton's .rodata names struct xdplb_build. */
#include "xdplb.h"
#include "xdplb.skel.h"
#include "xdplb_hash.h"
#include "addr.h"
#include "fault.h"
#include "layout.h"
#include "lb.h"
#include "maglev.h"
#include "release.h"

/* Which of lb's fds holds each map of the current layout (layout.c says
 * what each must look like). The frags map is the data path's alone. */
static const struct {
	const char *name;
	size_t fd_offset;
} lb_maps[] = {
#define LB_MAP(pin, field) { pin, offsetof(struct lb, field) }
	LB_MAP(XDPLB_PIN_CONFIG, config_fd),
	LB_MAP(XDPLB_PIN_SERVICES, services_fd),
	LB_MAP(XDPLB_PIN_SVC_INDEX, svc_index_fd),
	LB_MAP(XDPLB_PIN_MAGLEV, maglev_fd),
	LB_MAP(XDPLB_PIN_REALS, reals_fd),
	LB_MAP(XDPLB_PIN_GLOBAL_STATS, global_stats_fd),
	LB_MAP(XDPLB_PIN_SVC_STATS, svc_stats_fd),
	LB_MAP(XDPLB_PIN_REAL_STATS, real_stats_fd),
	LB_MAP(XDPLB_PIN_CONNS, conns_fd),
	LB_MAP(XDPLB_PIN_CT_GUARD, ct_guard_fd),
	LB_MAP(XDPLB_PIN_SVC_OPTS, svc_opts_fd),
	LB_MAP(XDPLB_PIN_VIP_FILTER, vip_filter_fd),
#undef LB_MAP
};

#define N_MAPS (sizeof(lb_maps) / sizeof(lb_maps[0]))

static int *map_fd(struct lb *lb, size_t i)
{
	return (int *)((char *)lb + lb_maps[i].fd_offset);
}

/* lb's fd of the map called name, NULL if lb does not hold it. */
static int *map_fd_by_name(struct lb *lb, const char *name)
{
	size_t i;

	for (i = 0; i < N_MAPS; i++)
		if (!strcmp(lb_maps[i].name, name))
			return map_fd(lb, i);
	return NULL;
}

/*
 * Every write of an instance's map that the data path or another command
 * can see goes through these two: XDPLB_FAULT's step "lb:write" (fault.h)
 * fails or kills a change before any of them, so a test can stop a change
 * between any two of its writes. They return as bpf_map_update_elem()
 * does: 0, or a negative error with errno set.
 */
static int map_update(int fd, const void *key, const void *value,
		      __u64 flags)
{
	int err = fault("lb:write");

	if (err) {
		errno = -err;
		return err;
	}
	return bpf_map_update_elem(fd, key, value, flags);
}

static int map_delete(int fd, const void *key)
{
	int err = fault("lb:write");

	if (err) {
		errno = -err;
		return err;
	}
	return bpf_map_delete_elem(fd, key);
}

void lb_init(struct lb *lb)
{
	size_t i;

	memset(lb, 0, sizeof(*lb));
	for (i = 0; i < N_MAPS; i++)
		*map_fd(lb, i) = -1;
	lb->lock_fd = -1;
	lb->ncpus = libbpf_num_possible_cpus();
}

void lb_close(struct lb *lb)
{
	size_t i;

	if (lb->ct_map)
		munmap((void *)lb->ct_map, lb->ct_map_len);
	lb->ct_map = NULL;

	for (i = 0; i < N_MAPS; i++) {
		int *fd = map_fd(lb, i);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	lb_unlock_dir(lb);
}

bool pin_dir_on_bpffs(const char *dir)
{
	struct statfs st;

	return !statfs(dir, &st) && st.f_type == BPF_FS_MAGIC;
}

/* Who may change what is in a directory: its owner, and a group or
 * others that may write to it. The sticky bit keeps those to their own
 * entries, which is enough for a mount point (as for /tmp): bpffs mounts
 * are mode 1777. */
static int dir_trusted(const char *path, const struct stat *st,
		       bool mount_point, char *why, size_t len)
{
	if (st->st_uid != 0) {
		snprintf(why, len, "'%s' is owned by uid %u, not root", path,
			 (unsigned int)st->st_uid);
		return -EPERM;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) &&
	    !(mount_point && (st->st_mode & S_ISVTX))) {
		snprintf(why, len, "'%s' is writable by %s (mode %04o)", path,
			 st->st_mode & S_IWOTH ? "others" : "its group",
			 (unsigned int)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int pin_dir_trusted(const char *dir, char *why, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX], *slash;
	struct stat st, up;
	bool top;
	size_t i;
	int err;

	if (!why) {
		why = path;
		len = sizeof(path);
	}
	/* No link on the way that someone else made (or could replace). */
	snprintf(path, sizeof(path), "%s", dir);
	for (i = 1; i <= strlen(dir) && i < sizeof(path); i++) {
		if (dir[i] != '/' && dir[i])
			continue;
		path[i] = '\0';
		if (!lstat(path, &st) && S_ISLNK(st.st_mode) && st.st_uid) {
			snprintf(why, len, "'%s' is a symbolic link owned by "
				 "uid %u, not root", path,
				 (unsigned int)st.st_uid);
			return -EPERM;
		}
		path[i] = dir[i];
	}
	/* The directory and those above it, up to its mount point. */
	if (!realpath(dir, real) || stat(real, &st)) {
		err = -errno;
		snprintf(why, len, "'%s': %s", dir, strerror(-err));
		return err;
	}
	for (;;) {
		snprintf(path, sizeof(path), "%s", real);
		slash = strrchr(path, '/');
		top = !strcmp(real, "/");
		if (!top) {
			if (slash == path)	/* "/x": its parent is "/" */
				slash[1] = '\0';
			else
				*slash = '\0';
			if (stat(path, &up))
				return -errno;
			top = up.st_dev != st.st_dev;
		}
		err = dir_trusted(real, &st, top, why, len);
		if (err || top)
			return err;
		memcpy(real, path, sizeof(real));
		st = up;
	}
}

/*
 * how: LOCK_EX, with LOCK_NB or not. The lock is on the directory itself.
 * An upgrade that changes the layout swaps the whole directory for a new
 * one (upgrade.c): whoever waited on the old one must then lock the new
 * one, so a lock is only taken once the directory locked is still the one
 * at the path.
 */
static int lock_dir(struct lb *lb, const char *dir, int how)
{
	struct stat locked, now;
	int fd, err, tries;

	for (tries = 0; tries < 100; tries++) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		/* The directory opened is root's (pin_dir_trusted said so
		 * of the path; this says it of what the path led to). */
		if (fstat(fd, &locked) || locked.st_uid != 0 ||
		    (locked.st_mode & (S_IWGRP | S_IWOTH))) {
			close(fd);
			return -EPERM;
		}
		if (flock(fd, how) < 0)
			goto err_close;
		if (stat(dir, &now))
			goto err_close;
		if (locked.st_ino == now.st_ino &&
		    locked.st_dev == now.st_dev) {
			lb->lock_fd = fd;
			return 0;
		}
		close(fd);	/* swapped meanwhile: lock the new one */
	}
	return -EAGAIN;

err_close:
	err = -errno;
	close(fd);
	return err;
}

int lb_lock_dir(struct lb *lb, const char *dir)
{
	return lock_dir(lb, dir, LOCK_EX);
}

int lb_trylock_dir(struct lb *lb, const char *dir)
{
	return lock_dir(lb, dir, LOCK_EX | LOCK_NB);
}

void lb_unlock_dir(struct lb *lb)
{
	if (lb->lock_fd >= 0)
		close(lb->lock_fd);	/* releases the flock */
	lb->lock_fd = -1;
}

int xdplb_size_tables(struct xdplb_bpf *skel, __u32 table_size)
{
	int fd, err;

	LIBBPF_OPTS(bpf_map_create_opts, o,
		    .map_flags = XDPLB_MAGLEV_MAP_FLAGS);

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdplb_maglev", sizeof(__u32),
			    sizeof(struct xdplb_maglev_elem),
			    XDPLB_MAGLEV_ELEMS(table_size), &o);
	if (fd < 0)
		return -errno;
	err = bpf_map__set_inner_map_fd(skel->maps.maglev, fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* Timeouts the 32-bit tick arithmetic of the data path can hold (with
 * room for XDPLB_CT_SKEW): half the wrap, 104 days. */
#define CT_MAX_TIMEOUT_TICKS	0x7fffffffull

int xdplb_size_conns(struct xdplb_bpf *skel, __u32 ct_size, __u64 ct_rate,
		     __u64 tcp_timeout_ns, __u64 udp_timeout_ns)
{
	int ncpus = libbpf_num_possible_cpus(), err;

	if (ncpus < 0)
		return ncpus;
	if (ct_size < XDPLB_CT_WAYS || (ct_size & (ct_size - 1)))
		return -EINVAL;
	if (ct_size > XDPLB_MAX_CT_SIZE ||
	    XDPLB_CT_TICKS(tcp_timeout_ns) > CT_MAX_TIMEOUT_TICKS ||
	    XDPLB_CT_TICKS(udp_timeout_ns) > CT_MAX_TIMEOUT_TICKS)
		return -E2BIG;
	skel->rodata->ct_sets = ct_size / XDPLB_CT_WAYS;
	skel->rodata->ct_rate = ct_rate;
	skel->rodata->tcp_timeout = XDPLB_CT_TICKS(tcp_timeout_ns);
	skel->rodata->udp_timeout = XDPLB_CT_TICKS(udp_timeout_ns);
	err = bpf_map__set_max_entries(skel->maps.conns,
				       ct_size / XDPLB_CT_WAYS);
	if (err)
		return err;
	return bpf_map__set_max_entries(skel->maps.ct_log, (__u32)ncpus *
					XDPLB_CT_LOG_SLOTS);
}

int xdplb_configure(struct xdplb_bpf *skel, const struct xdplb_config *cfg,
		    const char **what)
{
	int err;

	skel->rodata->hash_seed = cfg->hash_seed;
	memcpy((void *)skel->rodata->ifmac, cfg->ifmac, 6);
	build_self((struct xdplb_build *)&skel->rodata->xdplb_build);
	*what = "the connection table";
	err = xdplb_size_conns(skel, cfg->ct_size, cfg->ct_rate,
			       cfg->tcp_timeout * 1000000000ull,
			       cfg->udp_timeout * 1000000000ull);
	if (err)
		return err;
	*what = "the Maglev tables";
	return xdplb_size_tables(skel, cfg->table_size);
}

/* Remove everything under name (in parent), then name itself unless
 * keep or it is a mount point: rm -r, no links followed. */
static int unpin_tree(int parent, const char *name, bool keep)
{
	struct dirent *e;
	int fd, err = 0;
	DIR *d;

	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((e = readdir(d))) {
		int r = 0;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(fd, e->d_name, 0))
			r = errno == EISDIR ? unpin_tree(fd, e->d_name, false) :
			    errno == ENOENT ? 0 : -errno;
		if (r && !err)
			err = r;
	}
	closedir(d);
	if (!keep && unlinkat(parent, name, AT_REMOVEDIR) && errno != ENOENT &&
	    errno != EBUSY && !err)
		err = -errno;
	return err;
}

int lb_unpin_all(const char *dir, bool keep_dir)
{
	return unpin_tree(AT_FDCWD, dir, keep_dir);
}

int lb_from_skel(struct lb *lb, struct xdplb_bpf *skel,
		 const struct xdplb_config *cfg)
{
	__u32 zero = 0;

	lb->config_fd = dup(bpf_map__fd(skel->maps.config));
	lb->services_fd = dup(bpf_map__fd(skel->maps.services));
	lb->svc_index_fd = dup(bpf_map__fd(skel->maps.svc_index));
	lb->maglev_fd = dup(bpf_map__fd(skel->maps.maglev));
	lb->reals_fd = dup(bpf_map__fd(skel->maps.reals));
	lb->global_stats_fd = dup(bpf_map__fd(skel->maps.global_stats));
	lb->svc_stats_fd = dup(bpf_map__fd(skel->maps.svc_stats));
	lb->real_stats_fd = dup(bpf_map__fd(skel->maps.real_stats));
	lb->conns_fd = dup(bpf_map__fd(skel->maps.conns));
	lb->ct_guard_fd = dup(bpf_map__fd(skel->maps.ct_guard));
	lb->svc_opts_fd = dup(bpf_map__fd(skel->maps.svc_opts));
	lb->vip_filter_fd = dup(bpf_map__fd(skel->maps.vip_filter));
	if (lb->config_fd < 0 || lb->services_fd < 0 ||
	    lb->svc_index_fd < 0 || lb->maglev_fd < 0 ||
	    lb->reals_fd < 0 || lb->global_stats_fd < 0 ||
	    lb->svc_stats_fd < 0 || lb->real_stats_fd < 0 ||
	    lb->conns_fd < 0 || lb->ct_guard_fd < 0 || lb->svc_opts_fd < 0 ||
	    lb->vip_filter_fd < 0)
		return -EBADF;
	lb->cfg = *cfg;
	if (bpf_map_update_elem(lb->config_fd, &zero, cfg, BPF_ANY))
		return -errno;
	return 0;
}

int lb_read_header(const char *dir, struct xdplb_config_header *hdr,
		   __u64 *netns_cookie)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	char path[PATH_MAX];
	void *value = NULL;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, XDPLB_PIN_CONFIG);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto out;
	}
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != 4 ||
	    info.value_size < sizeof(*hdr)) {
		err = -EPROTO;
		goto out;
	}
	value = calloc(1, info.value_size);
	if (!value) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(fd, &zero, value))
		err = -errno;
	else
		memcpy(hdr, value, sizeof(*hdr));
	if (!err && hdr->magic != XDPLB_MAGIC)
		err = -EPROTO;
	if (!err && netns_cookie) {
		*netns_cookie = 0;
		if (hdr->abi_version >= 7 && info.value_size >=
		    offsetof(struct xdplb_config, netns_cookie) + 8)
			memcpy(netns_cookie, (char *)value +
			       offsetof(struct xdplb_config, netns_cookie), 8);
	}
out:
	free(value);
	close(fd);
	return err;
}

/*
 * A read-only view of an instance of an older layout (abi): every map the
 * migration to the current layout reuses is the instance's own, live;
 * every map it converts is a private copy made now (layout.h). Enough for
 * list, save, stats and the exporter; a change needs `xdplb upgrade`.
 */
static int open_view(struct lb *lb, const char *dir, __u32 abi,
		     const char **what)
{
	const struct layout *cur = layout_current();
	int new_fd[LAYOUT_MAX_MAPS], i, err;
	struct migration m;

	migration_init(&m);
	for (i = 0; i < LAYOUT_MAX_MAPS; i++)
		new_fd[i] = -1;
	err = migration_open(&m, dir, abi, 0);
	if (err) {
		*what = m.missing;
		goto out;
	}
	for (i = 0; i < cur->nmaps; i++) {
		int *fd = map_fd_by_name(lb, cur->maps[i].name), reuse;

		if (!fd)
			continue;
		*what = cur->maps[i].name;
		reuse = migration_reuse_fd(&m, i);
		*fd = reuse >= 0 ? dup(reuse) : layout_create_map(i, &m.cfg);
		if (*fd < 0) {
			err = reuse >= 0 ? -errno : *fd;
			*fd = -1;
			goto out;
		}
		if (reuse < 0)
			new_fd[i] = *fd;
	}
	err = migration_fill(&m, new_fd);
	if (err) {
		*what = m.missing;
		goto out;
	}
	lb->cfg = m.cfg;
	lb->view_abi = abi;
out:
	migration_close(&m);
	return err;
}

/* Every map of the current layout from dir, checked. */
static int open_maps(struct lb *lb, const char *dir, const char **what)
{
	const struct layout *cur = layout_current();
	char path[PATH_MAX];
	__u32 zero = 0;
	int i, fd, err;

	for (i = 0; i < cur->nmaps; i++) {
		int *lb_fd = map_fd_by_name(lb, cur->maps[i].name);

		if (!lb_fd)
			continue;
		*what = cur->maps[i].name;
		snprintf(path, sizeof(path), "%s/%s", dir, cur->maps[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			return -errno;	/* -ENOENT: this map is missing */
		*lb_fd = fd;
		err = layout_check_map(fd, &cur->maps[i]);
		if (err)
			return err;
	}
	*what = XDPLB_PIN_CONFIG;
	if (bpf_map_lookup_elem(lb->config_fd, &zero, &lb->cfg))
		return -errno;
	return 0;
}

int lb_open(struct lb *lb, const char *dir, const char **what)
{
	struct xdplb_config_header hdr;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err;

	*what = NULL;
	snprintf(lb->pin_dir, sizeof(lb->pin_dir), "%s", dir);
	if (access(dir, F_OK))
		return -ENOENT;
	if (!pin_dir_on_bpffs(dir))
		return -EMEDIUMTYPE;
	if (pin_dir_trusted(dir, NULL, 0))
		return -EPERM;

	/* Who made the instance, before anything else is read. */
	err = lb_read_header(dir, &hdr, NULL);
	if (err == -ENOENT)
		return -ENOENT;
	*what = XDPLB_PIN_CONFIG;
	if (err)
		return err;
	lb->abi_found = hdr.abi_version;
	if (hdr.abi_version > XDPLB_ABI_VERSION)
		return -EPROTONOSUPPORT;
	err = hdr.abi_version == XDPLB_ABI_VERSION ?
	      open_maps(lb, dir, what) : open_view(lb, dir, hdr.abi_version,
						   what);
	if (err)
		return err;
	*what = XDPLB_PIN_CONFIG;
	if (!is_prime(lb->cfg.table_size))
		return -EPROTO;
	/* Sized for this host's possible CPUs at attach. */
	*what = XDPLB_PIN_CONNS;
	if (bpf_obj_get_info_by_fd(lb->conns_fd, &info, &len))
		return -errno;
	if (info.max_entries != lb_ct_sets(lb))
		return -EPROTO;
	*what = NULL;
	return 0;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

bool lb_still_pinned(struct lb *lb)
{
	char path[PATH_MAX + 16];
	__u32 id;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", lb->pin_dir, XDPLB_PIN_CONFIG);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	id = map_id(fd);
	close(fd);
	return id && id == map_id(lb->config_fd);
}

/* Set every CPU's copy of a per-CPU array slot to zero. */
static int zero_percpu(struct lb *lb, int fd, __u32 id, size_t value_size)
{
	size_t sz = ((value_size + 7) & ~(size_t)7) * lb->ncpus;
	void *zeros = calloc(1, sz);
	int err = 0;

	if (!zeros)
		return -ENOMEM;
	if (map_update(fd, &id, zeros, BPF_ANY))
		err = -errno;
	free(zeros);
	return err;
}

int lb_counters(struct lb *lb, int fd, __u32 id, struct xdplb_counters *c)
{
	struct xdplb_counters *v = calloc(lb->ncpus, sizeof(*v));
	int i;

	memset(c, 0, sizeof(*c));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &id, v)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < lb->ncpus; i++) {
		c->packets += v[i].packets;
		c->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}

int lb_global(struct lb *lb, struct xdplb_global_stats *gs)
{
	struct xdplb_global_stats *v = calloc(lb->ncpus, sizeof(*v));
	__u32 zero = 0;
	size_t f, nf = sizeof(*gs) / sizeof(__u64);
	int i;

	memset(gs, 0, sizeof(*gs));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(lb->global_stats_fd, &zero, v)) {
		free(v);
		return -errno;
	}
	/* The struct is all __u64 counters: sum field by field. */
	for (i = 0; i < lb->ncpus; i++)
		for (f = 0; f < nf; f++)
			((__u64 *)gs)[f] += ((__u64 *)&v[i])[f];
	free(v);
	return 0;
}

int lb_ct_counters(struct lb *lb, __u64 *full, __u64 *lost)
{
	struct xdplb_ct_guard *v = calloc(lb->ncpus, sizeof(*v));
	__u32 zero = 0;
	int i, err = 0;

	*full = *lost = 0;
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(lb->ct_guard_fd, &zero, v))
		err = -errno;
	for (i = 0; !err && i < lb->ncpus; i++) {
		*full += v[i].full;
		*lost += v[i].lost;
	}
	free(v);
	return err;
}

/* Services ------------------------------------------------------------ */

int lb_svc_get(struct lb *lb, const struct xdplb_svc_key *key,
	       struct xdplb_svc *svc)
{
	if (bpf_map_lookup_elem(lb->services_fd, key, svc))
		return -errno;
	return 0;
}

int lb_svc_key_cmp(const struct xdplb_svc_key *x,
		   const struct xdplb_svc_key *y)
{
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(&x->addr, &y->addr, sizeof(x->addr));
	if (c)
		return c;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return (int)ntohs(x->port) - (int)ntohs(y->port);
}

int lb_svc_match(struct lb *lb, const struct xdplb_svc_key *key,
		 struct xdplb_svc *svc)
{
	struct xdplb_svc_key any = *key;

	if (!lb_svc_get(lb, key, svc))
		return 0;
	any.port = 0;
	return lb_svc_get(lb, &any, svc);
}

static int svc_cmp(const void *a, const void *b)
{
	return lb_svc_key_cmp(&((const struct lb_service *)a)->key,
			      &((const struct lb_service *)b)->key);
}

/* svc_keys() through BPF_MAP_LOOKUP_BATCH; -EOPNOTSUPP: not here. */
static int svc_keys_batch(struct lb *lb, struct lb_service *v, int *n,
			  bool all)
{
	static struct xdplb_svc_key keys[XDPLB_MAX_VIP_KEYS];
	static struct xdplb_svc vals[XDPLB_MAX_VIP_KEYS];
	/* The batch token: a bucket number for hash maps, key-sized room. */
	struct xdplb_svc_key token, *in = NULL;
	__u32 got = 0, count, i;
	int err;

	for (;;) {
		count = XDPLB_MAX_VIP_KEYS - got;
		if (!count)
			break;
		err = bpf_map_lookup_batch(lb->services_fd, in, &token,
					   keys + got, vals + got, &count,
					   NULL);
		if (err && errno != ENOENT)
			/* 524: the kernel's ENOTSUPP */
			return errno == EINVAL || errno == 524 ||
			       errno == EOPNOTSUPP ? -EOPNOTSUPP : -errno;
		got += count;
		if (err)	/* ENOENT: that was the last of them */
			break;
		in = &token;
	}
	*n = 0;
	for (i = 0; i < got; i++) {
		if (!all && (vals[i].flags & XDPLB_SVC_F_MARKER))
			continue;
		v[*n].key = keys[i];
		v[(*n)++].svc = vals[i];
	}
	return 0;
}

/* Every key of the services map, markers included when all is set. */
static int svc_keys(struct lb *lb, struct lb_service **out, int *n, bool all)
{
	struct xdplb_svc_key key, next, *prev = NULL;
	struct lb_service *v;
	int cnt = 0, err;

	v = calloc(XDPLB_MAX_VIP_KEYS, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* One batch read, at most a few syscalls: restore adds a thousand
	 * services, and every add reads them all. */
	err = svc_keys_batch(lb, v, &cnt, all);
	if (err != -EOPNOTSUPP) {
		if (err) {
			free(v);
			return err;
		}
		goto sort;
	}
	/* Kernels without batch operations on hash maps: key by key. */
	cnt = 0;
	while (!bpf_map_get_next_key(lb->services_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (cnt == XDPLB_MAX_VIP_KEYS)
			break;
		if (bpf_map_lookup_elem(lb->services_fd, &key, &v[cnt].svc))
			continue;	/* deleted meanwhile */
		if (!all && (v[cnt].svc.flags & XDPLB_SVC_F_MARKER))
			continue;
		v[cnt++].key = key;
	}
sort:
	qsort(v, cnt, sizeof(*v), svc_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

int lb_services(struct lb *lb, struct lb_service **out, int *n)
{
	return svc_keys(lb, out, n, false);
}

/* Read all n values of an array map: one batch lookup where the kernel
 * has them, else one by one. */
static int read_array(int fd, void *values, __u32 value_size, __u32 n)
{
	__u32 count = n, token, i, *keys;
	int err;

	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	err = bpf_map_lookup_batch(fd, NULL, &token, keys, values, &count,
				   NULL);
	free(keys);
	if ((!err || errno == ENOENT) && count == n)
		return 0;
	for (i = 0; i < n; i++)
		if (bpf_map_lookup_elem(fd, &i, (char *)values +
					(size_t)i * value_size))
			return -errno;
	return 0;
}

/* Write all n values of an array map: one batch update where the kernel
 * has them, else one by one. */
static int fill_array(int fd, const void *values, __u32 value_size, __u32 n)
{
	__u32 count = n, i, *keys;
	int err = 0;

	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		keys[i] = i;
	if (bpf_map_update_batch(fd, keys, values, &count, NULL)) {
		for (i = 0; i < n && !err; i++)
			if (bpf_map_update_elem(fd, &keys[i],
						(const char *)values +
						(size_t)i * value_size,
						BPF_ANY))
				err = -errno;
	}
	free(keys);
	return err;
}

/*
 * Write n packed elements of a Maglev table into its map
 * (XDPLB_MAGLEV_MAP_FLAGS) through mmap(): plain stores, where a batch
 * update costs milliseconds. The data path reads each slot old or new
 * (a 16-bit store is atomic). live: the data path may read the map now;
 * a change can then be stopped before either half (fault.h, "lb:write"),
 * leaving half of the table old and half new.
 */
static int copy_maglev(int fd, const void *values, __u32 value_size,
		       __u32 n, bool live)
{
	size_t len = (size_t)n * value_size, i, half;
	const __u16 *from = values;
	volatile __u16 *m;
	int err;

	if (live && (err = fault("lb:write")))
		return err;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return fill_array(fd, values, value_size, n);
	half = len / sizeof(*m) / 2;
	for (i = 0; i < len / sizeof(*m); i++) {
		if (live && i == half && (err = fault("lb:write"))) {
			munmap((void *)m, len);
			return err;
		}
		m[i] = from[i];
	}
	munmap((void *)m, len);
	return 0;
}

static int fill_maglev(int fd, const void *values, __u32 value_size,
		       __u32 n)
{
	return copy_maglev(fd, values, value_size, n, false);
}

/* A table of real ids as the map holds it (xdplb.h): slots packed, those
 * without a real and those past the end XDPLB_MAGLEV_NONE. */
static struct xdplb_maglev_elem *maglev_pack(const __u32 *table, __u32 size)
{
	__u32 n = XDPLB_MAGLEV_ELEMS(size), i;
	struct xdplb_maglev_elem *e = malloc(n * sizeof(*e));

	if (!e)
		return NULL;
	for (i = 0; i < n * XDPLB_MAGLEV_PACK; i++)
		e[i / XDPLB_MAGLEV_PACK].id[i % XDPLB_MAGLEV_PACK] =
			i < size && table[i] != XDPLB_NO_REAL ?
			(__u16)table[i] : XDPLB_MAGLEV_NONE;
	return e;
}

typedef int (*fill_fn)(int fd, const void *values, __u32 value_size,
		       __u32 n);

/* Write a fully built array into a new inner map (created with
 * map_flags, which must be the outer map's template's); swap it in at key
 * slot of outer. The outer map keeps the inner one alive. */
static int swap_inner(int outer_fd, __u32 slot, const char *name,
		      __u32 map_flags, fill_fn fill, const void *values,
		      __u32 value_size, __u32 n)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = map_flags);
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32),
			    value_size, n, &o);
	if (fd < 0)
		return -errno;
	err = fill(fd, values, value_size, n);
	/* An update of a map-in-map waits an RCU grace period (the kernel
	 * makes sure no program still uses the old inner map): about 10 ms
	 * on this kind of machine. */
	if (!err && map_update(outer_fd, &slot, &fd, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

/* The inner map at slot of a map-in-map: its fd (the caller closes it),
 * -ENOENT when there is none. */
static int inner_fd(int outer_fd, __u32 slot)
{
	__u32 inner_id;
	int fd;

	if (bpf_map_lookup_elem(outer_fd, &slot, &inner_id))
		return errno == ENOENT ? -ENOENT : -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	return fd < 0 ? -errno : fd;
}

/* Service svc_id's live table: an fd of it (the caller closes it) and its
 * number of elements; -ENOENT when it has none. */
static int table_open(struct lb *lb, __u32 svc_id, __u32 *elems)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = inner_fd(lb->maglev_fd, svc_id), err;

	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	*elems = info.max_entries;
	return fd;
}

/* The service's current Maglev table, when it has n elements: its fd
 * (the caller closes it), else -1. */
static int maglev_table_fd(struct lb *lb, __u32 svc_id, __u32 n)
{
	__u32 elems;
	int fd = table_open(lb, svc_id, &elems);

	if (fd >= 0 && elems != n) {
		close(fd);
		fd = -1;
	}
	return fd < 0 ? -1 : fd;
}

int lb_table_read(struct lb *lb, __u32 svc_id,
		  struct xdplb_maglev_elem **out, __u32 *elems)
{
	struct xdplb_maglev_elem *t;
	size_t len;
	void *m;
	int fd, err = 0;

	*out = NULL;
	fd = table_open(lb, svc_id, elems);
	if (fd < 0)
		return fd;
	len = (size_t)*elems * sizeof(*t);
	t = malloc(len);
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (m != MAP_FAILED) {
		memcpy(t, m, len);
		munmap(m, len);
	} else {
		err = read_array(fd, t, sizeof(*t), *elems);
	}
	close(fd);
	if (err)
		free(t);
	else
		*out = t;
	return err;
}

int lb_filter_read(struct lb *lb, __u64 *words)
{
	return read_array(lb->vip_filter_fd, words, sizeof(*words),
			  XDPLB_VIP_FILTER_WORDS);
}

void lb_filter_want(const struct lb_service *all, int n, __u64 *words)
{
	int k;

	memset(words, 0, XDPLB_VIP_FILTER_WORDS * sizeof(*words));
	for (k = 0; k < n; k++) {
		__u32 bit = xdplb_vip_bit(&all[k].key.addr);

		words[bit >> 6] |= 1ull << (bit & 63);
	}
}

int lb_filter_write(struct lb *lb, const __u64 *want, const __u64 *old)
{
	__u32 i;

	for (i = 0; i < XDPLB_VIP_FILTER_WORDS; i++)
		if (want[i] != old[i] &&
		    map_update(lb->vip_filter_fd, &i, &want[i], BPF_ANY))
			return -errno;
	return 0;
}

/*
 * vip_filter around an index swap: the bits of every VIP of the new index
 * are set before it goes in (so no packet to a new VIP is passed to the
 * kernel unlooked at), the bits only old VIPs needed cleared after.
 */
static int filter_update(struct lb *lb, const struct lb_service *all, int n,
			 bool before)
{
	__u64 old[XDPLB_VIP_FILTER_WORDS], want[XDPLB_VIP_FILTER_WORDS];
	int err;
	__u32 i;

	err = lb_filter_read(lb, old);
	if (err)
		return err;
	lb_filter_want(all, n, want);
	if (before)
		for (i = 0; i < XDPLB_VIP_FILTER_WORDS; i++)
			want[i] |= old[i];
	return lb_filter_write(lb, want, old);
}

int lb_svc_entries(struct lb *lb, struct lb_service **out, int *n)
{
	return svc_keys(lb, out, n, true);
}

int lb_index_compile(struct lb_service *all, int n,
		     struct xdplb_svc_slot *slots)
{
	int i;

	memset(slots, 0, XDPLB_SVC_SLOTS * sizeof(*slots));
	/* Each VIP marker names the port of the src-ip service (port 0
	 * first, else the lowest port) that takes the VIP's later fragments
	 * of each protocol whose first is not remembered (fragment.h). */
	for (i = 0; i < n; i++) {
		struct xdplb_svc *m = &all[i].svc;
		int j;

		if (!(m->flags & XDPLB_SVC_F_MARKER))
			continue;
		m->frag_tcp = m->frag_udp = XDPLB_NO_FRAG;
		for (j = 0; j < n; j++) {
			const struct lb_service *o = &all[j];
			__u32 *slot;

			if (o->key.family != all[i].key.family ||
			    !addr_equal(&o->key.addr, &all[i].key.addr) ||
			    !(o->svc.flags & XDPLB_SVC_F_HASH_SRC))
				continue;
			slot = o->key.proto == IPPROTO_TCP ? &m->frag_tcp :
			       o->key.proto == IPPROTO_UDP ? &m->frag_udp :
			       NULL;
			if (slot && *slot == XDPLB_NO_FRAG)
				*slot = o->key.port;	/* sorted: first wins */
		}
	}

	/* Sorted keys: the same services give the same index. */
	for (i = 0; i < n; i++) {
		__u32 home = xdplb_svc_hash(&all[i].key), p;

		for (p = 0; p < XDPLB_SVC_PROBES; p++) {
			struct xdplb_svc_slot *s =
				&slots[(home + p) & (XDPLB_SVC_SLOTS - 1)];

			if (!s->key.family) {
				s->key = all[i].key;
				s->svc = all[i].svc;
				break;
			}
		}
		if (p == XDPLB_SVC_PROBES)
			return -ENOSPC;
	}
	return 0;
}

int lb_index_read(struct lb *lb, struct xdplb_svc_slot *slots)
{
	int fd = inner_fd(lb->svc_index_fd, 0), err;

	if (fd < 0)
		return fd;
	err = read_array(fd, slots, sizeof(*slots), XDPLB_SVC_SLOTS);
	close(fd);
	return err;
}

int lb_index_rebuild(struct lb *lb)
{
	struct xdplb_svc_slot *slots;
	struct lb_service *all;
	int n, err;

	err = svc_keys(lb, &all, &n, true);
	if (err)
		return err;
	err = filter_update(lb, all, n, true);
	if (err) {
		free(all);
		return err;
	}
	slots = calloc(XDPLB_SVC_SLOTS, sizeof(*slots));
	if (!slots) {
		free(all);
		return -ENOMEM;
	}
	err = lb_index_compile(all, n, slots);
	if (!err)
		err = swap_inner(lb->svc_index_fd, 0, "xdplb_svc_index", 0,
				 fill_array, slots, sizeof(*slots),
				 XDPLB_SVC_SLOTS);
	/* The new index is live: clearing stale bits is tidying (a set bit
	 * only means "maybe a VIP"), not a reason to call it failed. */
	if (!err)
		filter_update(lb, all, n, false);
	free(slots);
	free(all);
	return err;
}

static struct xdplb_svc_key marker_key(const struct xdplb_svc_key *key)
{
	struct xdplb_svc_key m = { .addr = key->addr, .family = key->family };

	return m;
}

int lb_svc_entry_put(struct lb *lb, const struct xdplb_svc_key *key,
		     const struct xdplb_svc *svc)
{
	return map_update(lb->services_fd, key, svc, BPF_ANY) ? -errno : 0;
}

int lb_svc_entry_del(struct lb *lb, const struct xdplb_svc_key *key)
{
	if (map_delete(lb->services_fd, key) && errno != ENOENT)
		return -errno;
	return 0;
}

/* The services changed: rebuild the index now, or mark it for later. */
static int index_changed(struct lb *lb)
{
	if (!lb->defer_index)
		return lb_index_rebuild(lb);
	lb->index_dirty = true;
	return 0;
}

int lb_svc_add(struct lb *lb, const struct xdplb_svc_key *key, __u32 flags,
	       __u32 table_size)
{
	struct xdplb_svc_key marker = marker_key(key);
	struct xdplb_svc svc = { .frag_tcp = XDPLB_NO_FRAG,
				 .frag_udp = XDPLB_NO_FRAG };
	struct xdplb_svc mval = { .flags = XDPLB_SVC_F_MARKER,
				  .frag_tcp = XDPLB_NO_FRAG,
				  .frag_udp = XDPLB_NO_FRAG };
	struct xdplb_svc_opts no_opts = {};
	static bool used[XDPLB_MAX_SERVICES];
	struct xdplb_svc old_marker;
	struct xdplb_real *reals;
	struct lb_service *all;
	bool had_marker;
	int i, n, err;
	__u32 id;

	if (!lb_svc_get(lb, key, &svc))
		return -EEXIST;
	err = svc_keys(lb, &all, &n, false);
	if (err)
		return err;
	memset(used, 0, sizeof(used));
	for (i = 0; i < n; i++)
		if (all[i].svc.id < XDPLB_MAX_SERVICES)
			used[all[i].svc.id] = true;
	free(all);
	/* An id some real still names (a del-vip that failed half-way) is
	 * not free: its reals would join the new service's table. */
	reals = calloc(XDPLB_MAX_REALS, sizeof(*reals));
	if (!reals)
		return -ENOMEM;
	err = lb_reals(lb, reals);
	for (i = 0; !err && i < XDPLB_MAX_REALS; i++)
		if ((reals[i].flags & XDPLB_REAL_F_USED) &&
		    reals[i].svc_id < XDPLB_MAX_SERVICES)
			used[reals[i].svc_id] = true;
	free(reals);
	if (err)
		return err;
	for (id = 0; id < XDPLB_MAX_SERVICES && used[id]; id++)
		;
	if (id == XDPLB_MAX_SERVICES)
		return -ENOSPC;

	/* A fresh id: no stale table or options, counters from zero. */
	{
		__u32 inner;

		/* A delete from a map-in-map waits a grace period: only
		 * when there is something to delete. */
		if (!bpf_map_lookup_elem(lb->maglev_fd, &id, &inner))
			map_delete(lb->maglev_fd, &id);
	}
	err = zero_percpu(lb, lb->svc_stats_fd, id,
			  sizeof(struct xdplb_counters));
	if (!err && map_update(lb->svc_opts_fd, &id, &no_opts,
					BPF_ANY))
		err = -errno;
	if (err)
		return err;
	had_marker = !lb_svc_get(lb, &marker, &old_marker);
	if (map_update(lb->services_fd, &marker, &mval, BPF_ANY))
		return -errno;
	svc.id = id;
	svc.flags = flags;
	svc.table_size = table_size ? table_size : lb->cfg.table_size;
	if (map_update(lb->services_fd, key, &svc, BPF_NOEXIST)) {
		err = -errno;
		goto err_marker;
	}
	err = index_changed(lb);
	if (!err)
		return 0;
	/* Not in the index, so not in the configuration either. */
	map_delete(lb->services_fd, key);
err_marker:
	if (!had_marker)
		map_delete(lb->services_fd, &marker);
	lb_index_rebuild(lb);
	return err;
}

/*
 * The new table size's Maglev table and the index entry that names its
 * size cannot change in one update. Whichever goes first, the data path
 * must never index past the end of the table it finds: a table that grows
 * is swapped in before the index, one that shrinks after it.
 */
int lb_svc_set(struct lb *lb, const struct xdplb_svc_key *key, __u32 flags,
	       __u32 table_size, const struct xdplb_real *all)
{
	struct xdplb_svc old, svc;
	bool resize, grow;
	int err;

	err = lb_svc_get(lb, key, &old);
	if (err)
		return err;
	svc = old;
	svc.flags = flags;
	svc.table_size = table_size ? table_size : old.table_size;
	if (!memcmp(&svc, &old, sizeof(svc)))
		return 0;
	resize = svc.table_size != old.table_size;
	grow = svc.table_size > old.table_size;
	if (grow && (err = lb_rebuild(lb, all, &svc)))
		return err;
	if (map_update(lb->services_fd, key, &svc, BPF_EXIST)) {
		err = -errno;
		goto undo_table;
	}
	err = lb_index_rebuild(lb);
	if (err)
		goto undo_svc;
	if (resize && !grow && (err = lb_rebuild(lb, all, &svc)))
		goto undo_svc;
	return 0;

undo_svc:
	map_update(lb->services_fd, key, &old, BPF_EXIST);
	lb_index_rebuild(lb);
undo_table:
	if (resize)
		lb_rebuild(lb, all, &old);
	return err;
}

int lb_svc_opts_get(struct lb *lb, __u32 id, struct xdplb_svc_opts *opts)
{
	if (bpf_map_lookup_elem(lb->svc_opts_fd, &id, opts))
		return -errno;
	return 0;
}

int lb_svc_opts_set(struct lb *lb, __u32 id, const struct xdplb_svc_opts *opts)
{
	if (map_update(lb->svc_opts_fd, &id, opts, BPF_ANY))
		return -errno;
	return 0;
}

int lb_svc_del(struct lb *lb, const struct xdplb_svc_key *key)
{
	struct xdplb_svc_key marker = marker_key(key);
	struct xdplb_real *all;
	struct lb_service *svcs;
	struct xdplb_svc svc;
	int i, n, err;
	bool vip_used = false;

	err = lb_svc_get(lb, key, &svc);
	if (err)
		return err;
	/* New flows first go to the kernel, then the table and reals go;
	 * the reals going ends the tracked flows (a hit does not look at
	 * the service), so every one is cleared even past a failure. */
	if (map_delete(lb->services_fd, key))
		return -errno;
	err = index_changed(lb);
	if (err) {
		/* Still in the live index: keep it configured too. */
		map_update(lb->services_fd, key, &svc, BPF_NOEXIST);
		return err;
	}
	map_delete(lb->maglev_fd, &svc.id);

	all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	if (!all)
		return -ENOMEM;
	err = lb_reals(lb, all);
	for (i = 0; i < XDPLB_MAX_REALS; i++) {	/* what was read */
		struct xdplb_real gone = all[i];
		__u32 id = i;

		if (!(all[i].flags & XDPLB_REAL_F_USED) ||
		    all[i].svc_id != svc.id)
			continue;
		gone.flags = 0;		/* as lb_real_del: flags only */
		if (map_update(lb->reals_fd, &id, &gone, BPF_ANY) &&
		    !err)
			err = -errno;	/* the first; the others go on */
	}
	free(all);
	if (err)
		return err;

	err = svc_keys(lb, &svcs, &n, false);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (svcs[i].key.family == key->family &&
		    addr_equal(&svcs[i].key.addr, &key->addr))
			vip_used = true;
	free(svcs);
	if (!vip_used) {
		map_delete(lb->services_fd, &marker);
		return index_changed(lb);
	}
	return 0;
}

/* Reals --------------------------------------------------------------- */

int lb_reals(struct lb *lb, struct xdplb_real *all)
{
	return read_array(lb->reals_fd, all, sizeof(*all), XDPLB_MAX_REALS);
}

int lb_real_find(const struct xdplb_real *all, __u32 svc_id,
		 const struct xdplb_addr *addr, __u8 family)
{
	int i;

	for (i = 0; i < XDPLB_MAX_REALS; i++)
		if ((all[i].flags & XDPLB_REAL_F_USED) &&
		    all[i].svc_id == svc_id && all[i].family == family &&
		    addr_equal(&all[i].addr, addr))
			return i;
	return -ENOENT;
}

int lb_real_add(struct lb *lb, struct xdplb_real *all,
		const struct xdplb_real *real, __u32 *id)
{
	__u16 real_gen;
	__u32 i;
	int err;

	if (lb_real_find(all, real->svc_id, &real->addr, real->family) >= 0)
		return -EEXIST;
	for (i = 0; i < XDPLB_MAX_REALS; i++)
		if (!(all[i].flags & XDPLB_REAL_F_USED))
			break;
	if (i == XDPLB_MAX_REALS)
		return -ENOSPC;

	err = zero_percpu(lb, lb->real_stats_fd, i,
			  sizeof(struct xdplb_counters));
	if (err)
		return err;
	real_gen = all[i].gen;	/* kept when the slot was freed */
	all[i] = *real;
	all[i].gen = real_gen + 1;
	/* Written unused first, then marked used: a reader that catches
	 * the slot half-written never sees the old generation as used. */
	all[i].flags &= ~XDPLB_REAL_F_USED;
	if (map_update(lb->reals_fd, &i, &all[i], BPF_ANY))
		goto err_slot;
	all[i].flags |= XDPLB_REAL_F_USED;
	if (map_update(lb->reals_fd, &i, &all[i], BPF_ANY))
		goto err_slot;
	*id = i;
	return 0;

err_slot:
	err = -errno;
	all[i].flags = 0;
	all[i].gen = real_gen;
	return err;
}

int lb_real_update(struct lb *lb, __u32 id, const struct xdplb_real *real)
{
	if (map_update(lb->reals_fd, &id, real, BPF_ANY))
		return -errno;
	return 0;
}

/* Free the slot but keep its generation, so the next real given this id
 * gets a new one and no tracked flow of this real follows it. */
int lb_real_retire(struct lb *lb, __u32 id, __u32 svc_id)
{
	struct xdplb_counters *r, *s;
	int cpu, err = 0;

	r = calloc(lb->ncpus, sizeof(*r));
	s = calloc(lb->ncpus, sizeof(*s));
	if (!r || !s) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(lb->real_stats_fd, &id, r) ||
	    bpf_map_lookup_elem(lb->svc_stats_fd, &svc_id, s)) {
		err = -errno;
		goto out;
	}
	for (cpu = 0; cpu < lb->ncpus; cpu++) {
		s[cpu].packets += r[cpu].packets;
		s[cpu].bytes += r[cpu].bytes;
	}
	if (map_update(lb->svc_stats_fd, &svc_id, s, BPF_ANY))
		err = -errno;
out:
	free(r);
	free(s);
	return err;
}

int lb_real_del(struct lb *lb, __u32 id)
{
	struct xdplb_real old;
	int err;

	/* Only the flag changes: a packet that has just matched the entry
	 * still reads the real's MAC, not zeros. */
	if (bpf_map_lookup_elem(lb->reals_fd, &id, &old))
		return -errno;
	old.flags = 0;
	err = lb_real_update(lb, id, &old);
	if (!err)
		lb_real_retire(lb, id, old.svc_id);	/* counters only */
	return err;
}

int lb_svc_counters(struct lb *lb, __u32 svc_id, const struct xdplb_real *all,
		    struct xdplb_counters *c)
{
	struct xdplb_counters rc;
	int i, err;

	err = lb_counters(lb, lb->svc_stats_fd, svc_id, c);
	for (i = 0; !err && i < XDPLB_MAX_REALS; i++) {
		if (!(all[i].flags & XDPLB_REAL_F_USED) ||
		    all[i].svc_id != svc_id)
			continue;
		err = lb_counters(lb, lb->real_stats_fd, i, &rc);
		c->packets += rc.packets;
		c->bytes += rc.bytes;
	}
	return err;
}

__u64 lb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Map the connection table read-only (once): the data path's own array,
 * read in place with no system call. */
static int ct_mmap(struct lb *lb)
{
	size_t len = (size_t)lb_ct_sets(lb) * sizeof(*lb->ct_map);
	void *m;

	if (lb->ct_map)
		return 0;
	m = mmap(NULL, len, PROT_READ, MAP_SHARED, lb->conns_fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	lb->ct_map = m;
	lb->ct_map_len = len;
	return 0;
}

/* A time in ticks of the table's clock (the last 2^32 ticks before now,
 * or a little after: another CPU's clock) in ns. */
static __u64 tick_ns(__u32 t, __u64 now_ns)
{
	__u64 now = now_ns >> XDPLB_CT_TICK_SHIFT;

	return (now - (__s32)((__u32)now - t)) << XDPLB_CT_TICK_SHIFT;
}

/*
 * The ways of set idx. A writer claims a way (its tag BUSY, USED clear)
 * before it fills it and gives it its tag last; a way whose tag is not a
 * flow's, or changed while it was read, is left out as if empty.
 */
static void conn_ways(const struct lb *lb, __u32 idx, __u64 now,
		      struct lb_conn_ways *v)
{
	const struct xdplb_conn_set *s = &lb->ct_map[idx];
	int w;

	memset(v, 0, sizeof(*v));
	for (w = 0; w < XDPLB_CT_WAYS; w++) {
		struct lb_conn *c = &v->way[w];
		__u16 tag = *(volatile const __u16 *)&s->tag[w];

		if (!(tag & XDPLB_CT_TAG_USED))
			continue;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		c->flow = s->flow[w];
		c->real_id = s->real_id[w];
		c->real_gen = s->real_gen[w];
		c->tag = tag;
		c->created = tick_ns(s->created[w], now);
		c->last_seen = tick_ns(s->last_seen[w], now);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (*(volatile const __u16 *)&s->tag[w] != tag)
			memset(c, 0, sizeof(*c));
	}
}

int lb_conn_set(struct lb *lb, __u32 idx, struct lb_conn_ways *out)
{
	int err = ct_mmap(lb);

	if (err)
		return err;
	if (idx >= lb_ct_sets(lb))
		return -ERANGE;
	conn_ways(lb, idx, lb_now_ns(), out);
	return 0;
}

int lb_conns(struct lb *lb, struct lb_conn_ways **out, __u32 *nsets)
{
	__u32 sets = lb_ct_sets(lb), s;
	struct lb_conn_ways *v;
	__u64 now = lb_now_ns();
	int err = ct_mmap(lb);

	if (err)
		return err;
	v = calloc(sets, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (s = 0; s < sets; s++)
		conn_ways(lb, s, now, &v[s]);
	*out = v;
	*nsets = sets;
	return 0;
}

bool lb_conn_live(const struct lb *lb, const struct lb_conn *c,
		  const struct xdplb_real *real, __u64 now)
{
	__u64 timeout = XDPLB_CT_TICKS((c->flow.proto == IPPROTO_UDP ?
					lb->cfg.udp_timeout :
					lb->cfg.tcp_timeout) * 1000000000ull);

	return c->flow.family && real && (real->flags & XDPLB_REAL_F_USED) &&
	       real->gen == c->real_gen &&
	       lb_ct_fresh(now >> XDPLB_CT_TICK_SHIFT,
			      c->last_seen >> XDPLB_CT_TICK_SHIFT, timeout);
}

/* One pass over the mapped table, whatever the number of reals: each
 * flow has one entry. */
int lb_tracked_flows(struct lb *lb, const struct xdplb_real *reals,
		     __u32 first, __u32 n, __u64 *counts)
{
	__u32 nsets = lb_ct_sets(lb), s;
	struct lb_conn_ways set;
	__u64 now = lb_now_ns();
	int w, err = ct_mmap(lb);

	if (err)
		return err;
	memset(counts, 0, n * sizeof(*counts));
	for (s = 0; s < nsets; s++) {
		conn_ways(lb, s, now, &set);
		for (w = 0; w < XDPLB_CT_WAYS; w++) {
			const struct lb_conn *c = &set.way[w];

			if (c->flow.family && c->real_id >= first &&
			    c->real_id - first < n &&
			    lb_conn_live(lb, c, &reals[c->real_id - first],
					 now))
				counts[c->real_id - first]++;
		}
	}
	return 0;
}

int lb_real_conns(struct lb *lb, __u32 id, const struct xdplb_real *real,
		  __u64 *count)
{
	struct xdplb_real r = *real;

	r.flags |= XDPLB_REAL_F_USED;	/* del-real asks as it deletes */
	return lb_tracked_flows(lb, &r, id, 1, count);
}

/*
 * The reals a service's new flows go to: those of weight > 0 not marked
 * down by their health check; or, while fewer of them than the service's
 * quorum are up, its sorry reals (when it has any). Fills b, returns how
 * many.
 */
static size_t table_backends(struct lb *lb, const struct xdplb_real *all,
			     __u32 svc_id, struct maglev_backend *b)
{
	struct xdplb_svc_opts opts = {};
	size_t n = 0, up = 0, quorum;
	bool sorry;
	int i;

	lb_svc_opts_get(lb, svc_id, &opts);	/* none: zeros, quorum 1 */
	quorum = opts.quorum ? opts.quorum : XDPLB_DEFAULT_QUORUM;
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		const struct xdplb_real *r = &all[i];

		if ((r->flags & XDPLB_REAL_F_USED) && r->svc_id == svc_id &&
		    r->weight && !(r->flags & (XDPLB_REAL_F_DOWN |
					      XDPLB_REAL_F_SORRY)))
			up++;
	}
	for (sorry = up < quorum;; sorry = false) {
		for (i = 0; i < XDPLB_MAX_REALS; i++) {
			const struct xdplb_real *r = &all[i];

			if (!(r->flags & XDPLB_REAL_F_USED) ||
			    r->svc_id != svc_id || !r->weight ||
			    (r->flags & XDPLB_REAL_F_DOWN) ||
			    !(r->flags & XDPLB_REAL_F_SORRY) != !sorry)
				continue;
			b[n].key[0] = r->family;
			memcpy(&b[n].key[1], &r->addr, sizeof(r->addr));
			b[n].weight = r->weight;
			b[n].id = i;
			n++;
		}
		/* Below quorum without a sorry real: what is up serves. */
		if (n || !sorry)
			return n;
	}
}

int lb_maglev_real(struct lb *lb, __u32 svc_id, __u32 slot, __u32 *real_id)
{
	__u32 inner_id, elem = slot / XDPLB_MAGLEV_PACK;
	struct xdplb_maglev_elem e;
	int fd, err = 0;

	*real_id = XDPLB_NO_REAL;
	if (bpf_map_lookup_elem(lb->maglev_fd, &svc_id, &inner_id))
		return 0;	/* no table */
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	if (bpf_map_lookup_elem(fd, &elem, &e))
		err = -errno;
	else
		*real_id = xdplb_maglev_real(&e, slot);
	close(fd);
	return err;
}

int lb_table_build(struct lb *lb, const struct xdplb_real *all,
		   const struct xdplb_svc *svc, struct xdplb_maglev_elem **out)
{
	struct maglev_backend *b;
	__u32 *table = NULL;
	size_t n;
	int err = 0;

	*out = NULL;
	b = calloc(XDPLB_MAX_REALS, sizeof(*b));
	if (!b)
		return -ENOMEM;
	n = table_backends(lb, all, svc->id, b);
	if (n) {
		table = malloc(svc->table_size * sizeof(*table));
		err = table ? maglev_build(b, n, table, svc->table_size) :
			      -ENOMEM;
	}
	if (n && !err) {
		*out = maglev_pack(table, svc->table_size);
		if (!*out)
			err = -ENOMEM;
	}
	free(table);
	free(b);
	return err;
}

int lb_table_write(struct lb *lb, const struct xdplb_svc *svc,
		   const struct xdplb_maglev_elem *packed)
{
	__u32 svc_id = svc->id, elems = XDPLB_MAGLEV_ELEMS(svc->table_size);
	int fd, err;

	if (!packed) {
		/* No real takes new flows: the service drops (counted). */
		if (map_delete(lb->maglev_fd, &svc_id) && errno != ENOENT)
			return -errno;
		return 0;
	}
	/* A table of as many elements is rewritten in place (also for a new
	 * size that packs into as many: lb_svc_set orders that): a packet
	 * reads each slot old or new, both reals that exist until this
	 * returns (a real is deleted after its table is rebuilt), and no
	 * grace period is waited. Other sizes and first tables are new
	 * inner maps. */
	fd = maglev_table_fd(lb, svc_id, elems);
	if (fd >= 0) {
		err = copy_maglev(fd, packed, sizeof(*packed), elems, true);
		close(fd);
		return err;
	}
	return swap_inner(lb->maglev_fd, svc_id, "xdplb_maglev",
			  XDPLB_MAGLEV_MAP_FLAGS, fill_maglev, packed,
			  sizeof(*packed), elems);
}

int lb_rebuild(struct lb *lb, const struct xdplb_real *all,
	       const struct xdplb_svc *svc)
{
	struct xdplb_maglev_elem *packed;
	int err;

	err = lb_table_build(lb, all, svc, &packed);
	if (!err)
		err = lb_table_write(lb, svc, packed);
	free(packed);
	return err;
}
