// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * upgrade.c - replace an instance's program, keeping its maps (upgrade.h).
 *
 * The steps, each a failure point of its own (fault.h: "upgrade:STEP"):
 *   load     the new program, over the maps it reuses and new ones for
 *            those the layouts' steps convert
 *   convert  fill the new maps from the old
 *   stage    (another layout) pin the whole new instance in DIR_upgrading
 *   switch   swap the program on the interface
 *   swapped  (after it) the pins follow: the directories are exchanged,
 *            or the new program is pinned over the old one's pin
 * A failure before the swap undoes what the steps made; nothing of the old
 * instance has been written. After it, the old instance is gone from the
 * interface, and what is left is finishing (upgrade_recover()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

/* xdplb.h first: the skeleton's .rodata names struct xdplb_build. */
#include "xdplb.h"
#include "xdplb.skel.h"
#include "fault.h"
#include "hook.h"
#include "lb.h"
#include "repair.h"
#include "upgrade.h"
#include "version.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static void say(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* DIR_upgrading, DIR without a trailing slash. */
static void staging_path(const char *dir, char *buf, size_t len)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	snprintf(buf, len, "%.*s%s", (int)n, dir, UPGRADE_STAGING);
}

/* The real path of dir, for the mark: "" when it cannot be had. */
static void mark_value(const char *dir, char value[PATH_MAX])
{
	memset(value, 0, PATH_MAX);
	if (!realpath(dir, value))
		memset(value, 0, PATH_MAX);
}

/* Pin the mark in staging: it upgrades dir. */
static int mark(const char *staging, const char *dir)
{
	char value[PATH_MAX], path[PATH_MAX + 16];
	__u32 zero = 0;
	int fd, err = 0;

	mark_value(dir, value);
	if (!value[0])
		return -errno;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdplb_upgrading", 4,
			    PATH_MAX, 1, NULL);
	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", staging, UPGRADE_MARK);
	if (bpf_map_update_elem(fd, &zero, value, BPF_ANY) ||
	    bpf_obj_pin(fd, path))
		err = -errno;
	close(fd);
	return err;
}

/* The mark came into dir with the exchange: it is no upgrade of itself. */
static void unmark(const char *dir)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", dir, UPGRADE_MARK);
	unlink(path);
}

/* Does staging say it upgrades dir? */
static bool marked_for(const char *staging, const char *dir)
{
	char want[PATH_MAX], got[PATH_MAX], path[PATH_MAX + 16];
	__u32 zero = 0;
	bool yes = false;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", staging, UPGRADE_MARK);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	mark_value(dir, want);
	if (want[0] && !bpf_map_lookup_elem(fd, &zero, got))
		yes = !strncmp(want, got, PATH_MAX);
	close(fd);
	return yes;
}

bool upgrade_pending(const char *dir)
{
	char staging[PATH_MAX], pin[PATH_MAX];

	staging_path(dir, staging, sizeof(staging));
	snprintf(pin, sizeof(pin), "%s/%s_new", dir, XDPLB_PIN_PROG);
	return marked_for(staging, dir) || !access(pin, F_OK);
}

static int exchange(const char *a, const char *b)
{
	return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) ? -errno :
									  0;
}

/* Pin program fd as dir/prog, replacing the pin there in one rename. */
static int pin_prog(int fd, const char *dir)
{
	char tmp[PATH_MAX], path[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s/%s_new", dir, XDPLB_PIN_PROG);
	snprintf(path, sizeof(path), "%s/%s", dir, XDPLB_PIN_PROG);
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	if (rename(tmp, path)) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

/* Recovery ------------------------------------------------------------- */

/* DIR_upgrading is there: its program runs (the kill came after the
 * swap: exchange, then drop the old) or does not (before it: drop it). */
static int recover_staging(const char *dir, const char *staging, char *msg,
			   size_t len)
{
	struct xdplb_config_header hdr;
	__u64 cookie;
	__u32 staged;
	struct hook h;
	int err, i;
	bool runs = false;

	err = lb_read_header(staging, &hdr, &cookie);
	if (!err && cookie && cookie != netns_cookie()) {
		say(msg, len, "an upgrade of the instance at '%s' was "
		    "interrupted in another network namespace: run xdplb "
		    "there to finish it", dir);
		return -EXDEV;
	}
	staged = pinned_prog_id(staging);
	if (!err && staged && !hook_read(hdr.ifindex, &h))
		for (i = 0; i < h.n; i++)
			runs |= h.prog[i].id == staged;
	if (runs) {
		err = exchange(staging, dir);
		if (err) {
			say(msg, len, "cannot finish the interrupted upgrade "
			    "of '%s' (exchange with '%s': %s)", dir, staging,
			    strerror(-err));
			return err;
		}
		unmark(dir);
	}
	err = lb_unpin_all(staging, false);
	if (err) {
		say(msg, len, "cannot remove '%s', left by an interrupted "
		    "upgrade: %s", staging, strerror(-err));
		return err;
	}
	if (runs)
		say(msg, len, "finished an interrupted upgrade: the pins at "
		    "'%s' follow the program that runs (id %u)", dir, staged);
	else
		say(msg, len, "undid an interrupted upgrade: removed '%s' (its "
		    "program never ran)", staging);
	return 0;
}

/* A program of the instance runs but is not the one pinned: an upgrade
 * of the same layout was killed between the swap and the pin. */
static int recover_pin(const char *dir, char *msg, size_t len)
{
	struct xdplb_config_header hdr;
	char tmp[PATH_MAX];
	__u32 pinned;
	__u64 cookie;
	struct hook h;
	int idx, fd, err;

	snprintf(tmp, sizeof(tmp), "%s/%s_new", dir, XDPLB_PIN_PROG);
	unlink(tmp);
	unmark(dir);	/* an exchange killed before it went */
	if (lb_read_header(dir, &hdr, &cookie) ||
	    hdr.abi_version != XDPLB_ABI_VERSION ||
	    (cookie && cookie != netns_cookie()) ||
	    hook_read(hdr.ifindex, &h))
		return 0;	/* nothing this can judge */
	pinned = pinned_prog_id(dir);
	idx = hook_find(&h, pinned, pinned_map_id(dir, XDPLB_PIN_GLOBAL_STATS));
	if (idx < 0 || h.prog[idx].id == pinned)
		return 0;
	fd = bpf_prog_get_fd_by_id(h.prog[idx].id);
	if (fd < 0)
		return 0;	/* gone meanwhile */
	err = pin_prog(fd, dir);
	close(fd);
	if (err) {
		say(msg, len, "cannot pin the program an interrupted upgrade "
		    "swapped in (id %u) at '%s': %s", h.prog[idx].id, dir,
		    strerror(-err));
		return err;
	}
	say(msg, len, "finished an interrupted upgrade: pinned the program "
	    "that runs (id %u) at '%s'", h.prog[idx].id, dir);
	return 0;
}

int upgrade_recover(const char *dir, char *msg, size_t len)
{
	char staging[PATH_MAX];

	msg[0] = '\0';
	staging_path(dir, staging, sizeof(staging));
	if (marked_for(staging, dir))
		return recover_staging(dir, staging, msg, len);
	return recover_pin(dir, msg, len);
}

/* The upgrade ---------------------------------------------------------- */

struct job {
	const char *dir;
	const char *ifname;
	bool staged;			/* DIR_upgrading was made */
	char staging[PATH_MAX];
	int staging_lock;		/* fd holding DIR_upgrading's lock */
	int ifindex;
	struct hook hook;
	struct migration m;
	bool relayout;			/* another layout: stage, exchange */
	struct xdplb_bpf *skel;		/* the new program and maps */
	struct xdplb_bpf *disp_skel;	/* its copy for the dispatcher */
	struct xdp_program *disp_prog;
	int new_prog_fd;		/* what runs after the swap */
	char *err;
	size_t errlen;
};

static int layout_index(const char *name)
{
	const struct layout *cur = layout_current();
	int i;

	for (i = 0; i < cur->nmaps; i++)
		if (!strcmp(cur->maps[i].name, name))
			return i;
	return -1;
}

/* Open and configure a skeleton of this binary's program for the
 * instance: its settings from the converted config; every map either the
 * fd of reuse(i) or, where that is -1, made at load. */
static struct xdplb_bpf *open_skel(struct job *j, int (*reuse)(struct job *,
							      int),
				   int *template_fd)
{
	struct xdplb_bpf *skel;
	struct bpf_map *map;
	const char *what;
	int err, i, fd;

	*template_fd = -1;
	skel = xdplb_bpf__open();
	if (!skel) {
		say(j->err, j->errlen, "upgrade: cannot open the BPF object: "
		    "%s", strerror(errno));
		return NULL;
	}
	*template_fd = xdplb_configure(skel, &j->m.cfg, &what);
	if (*template_fd < 0) {
		say(j->err, j->errlen, "upgrade: cannot size %s: %s", what,
		    strerror(-*template_fd));
		goto err;
	}
	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		i = layout_index(bpf_map__name(map));
		if (i < 0) {
			say(j->err, j->errlen, "upgrade: map '%s' of the "
			    "program is not in layout %u (a bug)",
			    bpf_map__name(map), XDPLB_ABI_VERSION);
			goto err;
		}
		fd = reuse(j, i);
		if (fd >= 0 && (err = bpf_map__reuse_fd(map, fd))) {
			say(j->err, j->errlen, "upgrade: cannot reuse map "
			    "'%s': %s", bpf_map__name(map), strerror(-err));
			goto err;
		}
	}
	return skel;
err:
	if (*template_fd >= 0)
		close(*template_fd);
	*template_fd = -1;
	xdplb_bpf__destroy(skel);
	return NULL;
}

static int reuse_old(struct job *j, int i)
{
	return migration_reuse_fd(&j->m, i);
}

/* Load: the new program over the old maps it keeps and new ones for the
 * maps the layouts' steps convert; then convert. */
static int load_and_convert(struct job *j)
{
	const struct layout *cur = layout_current();
	int new_fd[LAYOUT_MAX_MAPS], template_fd, i, err;
	struct bpf_map *map;

	j->skel = open_skel(j, reuse_old, &template_fd);
	if (!j->skel)
		return -EINVAL;
	err = fault("upgrade:load");
	if (!err)
		err = xdplb_bpf__load(j->skel);
	close(template_fd);
	if (err) {
		say(j->err, j->errlen, "upgrade: cannot load the new program: "
		    "%s (-v says more)", strerror(-err));
		return err;
	}
	for (i = 0; i < cur->nmaps; i++)
		new_fd[i] = -1;
	bpf_object__for_each_map(map, j->skel->obj) {
		i = bpf_map__is_internal(map) ? -1 :
		    layout_index(bpf_map__name(map));
		if (i >= 0)
			new_fd[i] = bpf_map__fd(map);
	}
	err = fault("upgrade:convert");
	if (!err)
		err = migration_fill(&j->m, new_fd);
	if (err) {
		say(j->err, j->errlen, "upgrade: cannot convert map '%s': %s",
		    j->m.missing ? j->m.missing : "config", strerror(-err));
		return err;
	}
	j->new_prog_fd = bpf_program__fd(j->skel->progs.xdplb);
	return 0;
}

static bool is_mount_point(const char *dir)
{
	char parent[PATH_MAX];
	struct stat a, b;

	snprintf(parent, sizeof(parent), "%s/..", dir);
	return stat(dir, &a) || stat(parent, &b) || a.st_dev != b.st_dev ||
	       a.st_ino == b.st_ino;
}

/* Stage: the whole new instance, pinned beside the old, locked. */
static int stage(struct job *j)
{
	char path[PATH_MAX + 32];
	struct bpf_map *map;
	int err;

	if (is_mount_point(j->dir)) {
		say(j->err, j->errlen, "upgrade: '%s' is a mount point: an "
		    "upgrade that changes the map layout replaces the "
		    "directory in one rename (pin the instance in a "
		    "directory on the bpffs, e.g. %s/xdplb)", j->dir, j->dir);
		return -EBUSY;
	}
	/* An empty one is what a kill right after mkdir leaves. */
	rmdir(j->staging);
	if (mkdir(j->staging, 0700)) {
		err = -errno;
		say(j->err, j->errlen, "upgrade: cannot create '%s': %s%s",
		    j->staging, strerror(-err), err == -EEXIST ? " (it is not "
		    "an upgrade of this instance: move it away)" : "");
		return err;
	}
	j->staged = true;
	j->staging_lock = open(j->staging, O_RDONLY | O_DIRECTORY |
			       O_CLOEXEC);
	if (j->staging_lock < 0 || flock(j->staging_lock, LOCK_EX))
		goto err_errno;
	err = mark(j->staging, j->dir);
	if (err) {
		say(j->err, j->errlen, "upgrade: cannot mark '%s' as the "
		    "upgrade of '%s': %s", j->staging, j->dir, strerror(-err));
		return err;
	}
	/* A change interrupted before the upgrade (repair.h) is repaired
	 * after it: its marker goes with the new directory, before anything
	 * could make that directory the instance's. */
	err = lb_change_carry(j->dir, j->staging);
	if (err) {
		say(j->err, j->errlen, "upgrade: cannot carry the marker of an "
		    "interrupted change into '%s': %s", j->staging,
		    strerror(-err));
		return err;
	}
	bpf_object__for_each_map(map, j->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", j->staging,
			 bpf_map__name(map));
		if (bpf_obj_pin(bpf_map__fd(map), path))
			goto err_errno;
	}
	snprintf(path, sizeof(path), "%s/%s", j->staging, XDPLB_PIN_PROG);
	if (bpf_obj_pin(j->new_prog_fd, path))
		goto err_errno;
	err = fault("upgrade:stage");
	if (!err)
		return 0;
	say(j->err, j->errlen, "upgrade: cannot pin the new instance under "
	    "'%s': %s", j->staging, strerror(-err));
	return err;
err_errno:
	err = -errno;
	say(j->err, j->errlen, "upgrade: cannot pin the new instance under "
	    "'%s': %s", j->staging, strerror(-err));
	return err;
}

static int reuse_new(struct job *j, int i)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, j->skel->obj)
		if (!bpf_map__is_internal(map) &&
		    !strcmp(bpf_map__name(map), layout_current()->maps[i].name))
			return bpf_map__fd(map);
	return -1;
}

/*
 * Inside libxdp's dispatcher: a second copy of the new program, over the
 * new maps, which libxdp loads as a dispatcher component; adding it and
 * removing the old one each replace the whole dispatcher atomically. For
 * the moment between the two both run, in priority order: a packet the
 * first passes on is seen by the second too.
 */
static int swap_in_dispatcher(struct job *j, __u32 old_id)
{
	enum xdp_attach_mode mode = j->hook.generic ? XDP_MODE_SKB :
						      XDP_MODE_NATIVE;
	struct xdp_program *old;
	int template_fd, err;

	j->disp_skel = open_skel(j, reuse_new, &template_fd);
	if (!j->disp_skel)
		return -EINVAL;
	j->disp_prog = xdp_program__from_bpf_obj(j->disp_skel->obj, "xdp");
	err = libxdp_get_error(j->disp_prog);
	if (!err)
		err = xdp_program__attach(j->disp_prog, j->ifindex, mode, 0);
	close(template_fd);
	if (err) {
		j->disp_prog = NULL;
		return err;
	}
	old = xdp_program__from_id(old_id);
	err = libxdp_get_error(old);
	if (!err) {
		err = xdp_program__detach(old, j->ifindex, mode, 0);
		xdp_program__close(old);
	}
	if (err) {
		xdp_program__detach(j->disp_prog, j->ifindex, mode, 0);
		return err;
	}
	j->new_prog_fd = xdp_program__fd(j->disp_prog);
	return 0;
}

static int swap_prog(struct job *j, __u32 old_id)
{
	__u32 flags = XDP_FLAGS_REPLACE | (j->hook.generic ?
					   XDP_FLAGS_SKB_MODE :
					   XDP_FLAGS_DRV_MODE);
	int old_fd, err;

	err = fault("upgrade:switch");
	if (err)
		return err;
	if (j->hook.dispatcher)
		return swap_in_dispatcher(j, old_id);
	old_fd = bpf_prog_get_fd_by_id(old_id);
	if (old_fd < 0)
		return -errno;
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = old_fd);

		/* Fails (EEXIST) unless old_fd is what runs: nothing
		 * changed since the hook was read. */
		err = bpf_xdp_attach(j->ifindex, j->new_prog_fd, flags, &o);
	}
	close(old_fd);
	return err;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* After the swap: the pins follow the program that runs. */
static int finish(struct job *j)
{
	int err;

	err = fault("upgrade:swapped");
	if (!err && j->relayout) {
		/* The dispatcher runs its own copy: pin that one. */
		if (j->hook.dispatcher)
			err = pin_prog(j->new_prog_fd, j->staging);
		if (!err)
			err = exchange(j->staging, j->dir);
		if (!err) {
			unmark(j->dir);
			/* Now the old instance. */
			lb_unpin_all(j->staging, false);
		}
	} else if (!err) {
		err = pin_prog(j->new_prog_fd, j->dir);
	}
	if (err)
		say(j->err, j->errlen, "upgrade: the new program runs on "
		    "'%s', but its pins at '%s' could not follow it (%s): "
		    "any xdplb command that changes the instance finishes "
		    "it", j->ifname, j->dir, strerror(-err));
	return err;
}

static void job_free(struct job *j)
{
	if (j->disp_prog)
		xdp_program__close(j->disp_prog);
	xdplb_bpf__destroy(j->disp_skel);
	xdplb_bpf__destroy(j->skel);
	if (j->staging_lock >= 0)
		close(j->staging_lock);
	migration_close(&j->m);
}

/* What the instance holds, for the report: through a view if need be. */
static void count(const char *dir, struct upgrade_report *r)
{
	struct lb_service *svcs = NULL;
	struct xdplb_real *all;
	const char *what;
	struct lb lb;
	int i, n = 0;

	lb_init(&lb);
	all = calloc(XDPLB_MAX_REALS, sizeof(*all));
	if (all && !lb_open(&lb, dir, &what) && !lb_services(&lb, &svcs, &n) &&
	    !lb_reals(&lb, all)) {
		__u64 *flows = calloc(XDPLB_MAX_REALS, sizeof(*flows));

		r->services = n;
		for (i = 0; i < XDPLB_MAX_REALS; i++)
			r->reals += !!(all[i].flags & XDPLB_REAL_F_USED);
		if (flows && !lb_tracked_flows(&lb, all, 0, XDPLB_MAX_REALS,
					       flows))
			for (i = 0; i < XDPLB_MAX_REALS; i++)
				r->flows += flows[i];
		free(flows);
	}
	free(svcs);
	free(all);
	lb_close(&lb);
}

/* Find the instance and its program; fill what the report says of them. */
static int survey(struct job *j, const char *ifname, struct upgrade_report *r)
{
	struct xdplb_config_header hdr;
	__u64 cookie, here = netns_cookie();
	char found[256], other[IF_NAMESIZE];
	__u32 pinned;
	int idx, err, i;

	err = lb_read_header(j->dir, &hdr, &cookie);
	if (err) {
		say(j->err, j->errlen, err == -ENOENT ? "no xdplb instance at "
		    "'%s' (give its --pin-dir)" : "'%s' does not hold an xdplb "
		    "instance", j->dir);
		return err;
	}
	r->from_abi = hdr.abi_version;
	snprintf(r->ifname, sizeof(r->ifname), "%s", ifname);
	if (cookie && cookie != here) {
		say(j->err, j->errlen, "the instance at '%s' runs in another "
		    "network namespace: upgrade it from there (nsenter "
		    "--net=...)", j->dir);
		return -EXDEV;
	}
	j->ifindex = strlen(ifname) < IF_NAMESIZE ?
		     (int)if_nametoindex(ifname) : 0;
	if (!j->ifindex) {
		say(j->err, j->errlen, "interface '%s' not found", ifname);
		return -ENODEV;
	}
	if (hdr.ifindex != (__u32)j->ifindex) {
		say(j->err, j->errlen, "the instance at '%s' is attached to "
		    "'%s', not '%s'", j->dir, if_indextoname(hdr.ifindex, other)
		    ? other : "?", ifname);
		return -EINVAL;
	}
	err = hook_read(j->ifindex, &j->hook);
	if (err) {
		say(j->err, j->errlen, "cannot read the XDP hook of '%s': %s",
		    ifname, strerror(-err));
		return err;
	}
	pinned = pinned_prog_id(j->dir);
	idx = hook_find(&j->hook, pinned,
			pinned_map_id(j->dir, XDPLB_PIN_GLOBAL_STATS));
	if (idx >= 0) {
		r->from_id = j->hook.prog[idx].id;
		r->dispatcher = j->hook.dispatcher;
		err = build_of_prog(r->from_id, hdr.abi_version, &r->from);
		if (err) {
			say(j->err, j->errlen, "cannot read program %u: %s",
			    r->from_id, strerror(-err));
			return err;
		}
	} else {
		r->from.b.abi_version = hdr.abi_version;
	}
	build_self(&r->to.b);
	r->to.recorded = r->to.known = true;
	if (hdr.abi_version > XDPLB_ABI_VERSION ||
	    !layout_get(hdr.abi_version)) {
		char from[96];

		format_build(&r->from, 0, from, sizeof(from));
		say(j->err, j->errlen, "the instance at '%s' is of xdplb %s, "
		    "whose map layout this xdplb (%s, map ABI %d) %s: use that "
		    "xdplb, or a newer one", j->dir, from, XDPLB_VERSION,
		    XDPLB_ABI_VERSION, hdr.abi_version > XDPLB_ABI_VERSION ?
		    "cannot convert back" : "no longer converts");
		return -EPROTONOSUPPORT;
	}
	if (idx < 0) {
		hook_describe(&j->hook, found, sizeof(found));
		say(j->err, j->errlen, "'%s' runs %s, not the instance's "
		    "program (id %u): nothing upgraded (is the instance in "
		    "another network namespace?)", ifname, found, pinned);
		return -ESRCH;
	}
	if (hdr.abi_version == XDPLB_ABI_VERSION &&
	    build_is_self(&r->from.b))
		r->nothing = true;
	r->downgrade = hdr.abi_version == XDPLB_ABI_VERSION &&
		       r->from.recorded &&
		       version_cmp(r->from.b.version, r->to.b.version) > 0;
	err = migration_open(&j->m, j->dir, hdr.abi_version, here);
	if (err) {
		say(j->err, j->errlen, "cannot read the instance at '%s': map "
		    "'%s': %s", j->dir, j->m.missing ? j->m.missing : "?",
		    err == -EPROTO ? "another layout than its config says" :
		    strerror(-err));
		return err;
	}
	j->relayout = hdr.abi_version != XDPLB_ABI_VERSION;
	for (i = 0; i < layout_current()->nmaps; i++)
		r->why[i] = migration_why(&j->m, i);
	count(j->dir, r);
	return 0;
}

int upgrade_load(const char *dir, __u32 abi, __u64 cookie,
		 struct xdplb_bpf **skel, char *errbuf, size_t errlen)
{
	struct job j = { .dir = dir, .staging_lock = -1, .new_prog_fd = -1,
			 .err = errbuf, .errlen = errlen };
	int err;

	errbuf[0] = '\0';
	migration_init(&j.m);
	err = migration_open(&j.m, dir, abi, cookie);
	if (err)
		say(errbuf, errlen, "cannot read the instance at '%s': map "
		    "'%s': %s", dir, j.m.missing ? j.m.missing : "?",
		    strerror(-err));
	else
		err = load_and_convert(&j);
	if (!err) {
		*skel = j.skel;
		j.skel = NULL;
	}
	job_free(&j);
	return err;
}

int upgrade_instance(const char *dir, const char *ifname, bool dry_run,
		     struct upgrade_report *r, char *errbuf, size_t errlen)
{
	struct job j = { .dir = dir, .ifname = ifname, .staging_lock = -1,
			 .new_prog_fd = -1, .err = errbuf, .errlen = errlen };
	int err;

	memset(r, 0, sizeof(*r));
	errbuf[0] = '\0';
	migration_init(&j.m);
	staging_path(dir, j.staging, sizeof(j.staging));
	err = upgrade_recover(dir, errbuf, errlen);
	if (err)
		return err;
	err = survey(&j, ifname, r);
	if (err || r->nothing || dry_run)
		goto out;
	err = load_and_convert(&j);
	if (!err && j.relayout)
		err = stage(&j);
	if (err)
		goto undo;
	err = swap_prog(&j, r->from_id);
	if (err) {
		say(errbuf, errlen, "upgrade: cannot swap the program on '%s' "
		    "(%s): the old one runs on, unchanged", ifname,
		    strerror(-err));
		goto undo;
	}
	r->to_id = prog_id(j.new_prog_fd);
	err = finish(&j);
	goto out;
undo:
	if (j.staged)
		lb_unpin_all(j.staging, false);
out:
	job_free(&j);
	return err;
}
