// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_daemon.c - xdplb daemon: keeps an attached instance configured and
 * its reals checked.
 *
 * It applies a configuration file (config.h) and re-applies it on SIGHUP
 * with the same diff semantics; checks every real of every service that
 * has a health check (health.h) and drains one that fails by setting
 * XDPLB_REAL_F_DOWN and rebuilding its service's table, so established
 * flows stay and new ones go elsewhere; keeps reals' MACs fresh from the
 * neighbour table; and with --announce holds a non-persistent TUN device
 * up while it is healthy, for a routing daemon to export the VIPs through;
 * with --bird-vips writes those routes for BIRD (bird.h) from every
 * configuration it applies and has BIRD read them again.
 *
 * The daemon does not attach: attaching belongs to the host (interface,
 * mode, table sizes), the file to the cluster. Everything it does lives in
 * the pinned maps, so stopping or killing it leaves forwarding as it was;
 * only `detach` stops that. It holds the pin directory's lock only around
 * each change, so the xdplb command works while it runs; changes made by
 * hand are picked up within a second (a real added by hand is checked
 * like one from the file).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>

#include "addr.h"
#include "bird.h"
#include "cmd.h"
#include "config.h"
#include "exporter.h"
#include "health.h"
#include "lb.h"
#include "log.h"
#include "neigh.h"
#include "shell.h"
#include "spec.h"

#define TICK_MS		1000	/* instance, reals changed by hand,
				 * announce */
#define NEIGH_MS	5000	/* MACs */
#define ERRLEN		512
#define BIRD_CMD_MS	5000	/* --bird-reload's command, at most */
#define BIRD_WAIT_MS	3000	/* new reals' first checks, at most */
#define APPLY_RETRY_TICKS 10	/* an unapplied file, tried again */

/* A change of a real's DOWN flag that a check decided. */
struct pending {
	__u32 id;
	__u16 gen;
	bool up;
};

/* A change to make under the lock: the DOWN flag or the MAC of a real,
 * and the line that says so once it is made. */
struct change {
	__u32 id;
	__u16 gen;
	bool flag;		/* the DOWN flag, else the MAC */
	bool down;
	__u8 mac[6];
	bool skip;		/* gone meanwhile, or already so */
	char line[300];		/* "": nothing to say (said already) */
};

struct daemon {
	const char *file;
	const char *dir;
	struct lb lb;
	bool open;		/* lb holds the instance's maps */
	bool applied;		/* the file is applied to it */
	unsigned int unapplied;	/* ticks open but not applied */
	bool attached;
	struct config *cfg;	/* the file as last read */
	struct hc_engine *hc;
	struct xdplb_real *all;	/* scratch for lb_reals() */
	__u32 *known;		/* known[id]: gen + 1 of a real already
				 * seen, 0 none */
	bool *warned;		/* per service id: said it is unchecked */
	bool *fresh;		/* per real id: new, no check result yet */
	size_t nfresh;
	struct pending *pend;
	size_t npend, cap_pend;
	struct hc_target *targets;
	struct change *changes;
	size_t nchanges;
	int sigfd;
	int tun_fd;
	const char *tun_name;
	int tun_up;		/* -1 not set yet */
	struct exporter exp;	/* --listen: metrics and status page */
	struct http_server *http;
	bool judged;		/* sick says something */
	char sick[160];		/* why not healthy; "" healthy */
	const char *bird_file;	/* --bird-vips */
	const char *bird_cmd;	/* --bird-reload */
	bool bird_due;		/* a configuration was applied since */
	__u64 bird_due_ms;	/* when */
};

static void dlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, for the journal. */
static void dlog(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(stderr, msg);
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "VIP 198.18.0.100:80/tcp real 198.18.0.12" */
static void name_real(const struct xdplb_svc_key *key,
		      const struct xdplb_addr *addr, __u8 family, char *buf,
		      size_t len)
{
	char vip[ADDR_STRLEN], real[ADDR_STRLEN];

	format_vip(key, vip, sizeof(vip));
	format_addr(addr, family, real, sizeof(real));
	snprintf(buf, len, "VIP %s real %s", vip, real);
}

/* The file, as config_parse reads it; a file that declares no service is
 * refused (config_check_wipe). */
static int read_file(const char *file, struct config **out, char *err,
		     size_t len)
{
	FILE *f = fopen(file, "re");
	char msg[256];
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, len, "cannot open '%s': %s", file,
			 strerror(-ret));
		return ret;
	}
	ret = config_parse(f, file, out, err, len);
	fclose(f);
	if (ret)
		return ret;
	/* An empty file is refused before it meets an instance; one that
	 * would delete every service with reals, by config_apply. */
	ret = config_check_wipe(*out, NULL, msg, sizeof(msg));
	if (ret) {
		snprintf(err, len, "'%s' %s: refused", file, msg);
		config_free(*out);
		*out = NULL;
	}
	return ret;
}

static void say_diff(const char *what, const struct config_diff *df)
{
	if (!df->svcs_added && !df->svcs_removed && !df->svcs_changed &&
	    !df->reals_added && !df->reals_removed && !df->reals_changed) {
		dlog("%s: nothing to change", what);
		return;
	}
	dlog("%s: services %d added, %d removed, %d changed; reals %d "
	     "added, %d removed, %d changed", what, df->svcs_added,
	     df->svcs_removed, df->svcs_changed, df->reals_added,
	     df->reals_removed, df->reals_changed);
}

/* Changes ------------------------------------------------------------ */

static struct change *add_change(struct daemon *d, __u32 id)
{
	struct change *c = &d->changes[d->nchanges++];

	memset(c, 0, sizeof(*c));
	c->id = id;
	c->gen = d->all[id].gen;
	return c;
}

static const struct lb_service *svc_by_id(const struct lb_service *s, int n,
					  __u32 id)
{
	int i;

	for (i = 0; i < n; i++)
		if (s[i].svc.id == id)
			return &s[i];
	return NULL;
}

/*
 * Make d->changes, with the lock held and d->all read under it. DOWN
 * flags first go into d->all, and each service they touch gets one new
 * table, built from them; then the entries are written. A table that
 * cannot be built leaves that service's flags as they were. MACs are
 * written as they are: the data path reads them from the entry.
 */
static void commit_changes(struct daemon *d)
{
	struct lb_service *svcs = NULL;
	bool *touched = NULL;
	size_t i;
	int n = 0, err;

	if (!d->nchanges)
		return;
	touched = calloc(XDPLB_MAX_SERVICES, sizeof(*touched));
	err = touched ? lb_services(&d->lb, &svcs, &n) : -ENOMEM;
	if (err) {
		dlog("cannot read the services: %s", strerror(-err));
		goto out;
	}
	for (i = 0; i < d->nchanges; i++) {
		struct change *c = &d->changes[i];
		struct xdplb_real *r = &d->all[c->id];

		if (!(r->flags & XDPLB_REAL_F_USED) || r->gen != c->gen) {
			c->skip = true;
			continue;
		}
		if (!c->flag) {
			memcpy(r->mac, c->mac, 6);
			continue;
		}
		if (!(r->flags & XDPLB_REAL_F_DOWN) == !c->down) {
			c->skip = true;
			continue;
		}
		r->flags ^= XDPLB_REAL_F_DOWN;
		if (r->svc_id < XDPLB_MAX_SERVICES)
			touched[r->svc_id] = true;
	}
	for (i = 0; i < XDPLB_MAX_SERVICES; i++) {
		const struct lb_service *s;
		size_t k;

		if (!touched[i])
			continue;
		s = svc_by_id(svcs, n, i);
		err = s ? lb_rebuild(&d->lb, d->all, &s->svc) : -ENOENT;
		if (!err)
			continue;
		dlog("cannot rebuild the table of service %zu: %s", i,
		     strerror(-err));
		for (k = 0; k < d->nchanges; k++) {
			struct change *c = &d->changes[k];

			if (c->flag && !c->skip &&
			    d->all[c->id].svc_id == i) {
				d->all[c->id].flags ^= XDPLB_REAL_F_DOWN;
				c->skip = true;
			}
		}
	}
	for (i = 0; i < d->nchanges; i++) {
		struct change *c = &d->changes[i];

		if (c->skip)
			continue;
		err = lb_real_update(&d->lb, c->id, &d->all[c->id]);
		if (err)
			dlog("cannot write real %u: %s", c->id, strerror(-err));
		else if (c->line[0])
			dlog("%s", c->line);
	}
out:
	free(svcs);
	free(touched);
	d->nchanges = 0;
}

static int lock(struct daemon *d)
{
	int err = lb_lock_dir(&d->lb, d->dir);

	if (err)
		dlog("cannot lock '%s': %s", d->dir, strerror(-err));
	return err;
}

/* Reals ------------------------------------------------------------------ */

/* Is real id new, its first check result still to come? */
static void set_fresh(struct daemon *d, __u32 id, bool fresh)
{
	if (id >= XDPLB_MAX_REALS || d->fresh[id] == fresh)
		return;
	d->fresh[id] = fresh;
	if (fresh)
		d->nfresh++;
	else
		d->nfresh--;
}

/* Every real there now is one the daemon has seen: it keeps its state. */
static int adopt(struct daemon *d)
{
	int i, err = lb_reals(&d->lb, d->all);

	if (err)
		return err;
	for (i = 0; i < XDPLB_MAX_REALS; i++)
		d->known[i] = d->all[i].flags & XDPLB_REAL_F_USED ?
			      d->all[i].gen + 1u : 0;
	return 0;
}

/* Does this service's check apply to its reals? A port-0 service (every
 * port) has no port for tcp and http checks: said once, not checked. */
static bool checked(struct daemon *d, const struct lb_service *s,
		    const struct xdplb_svc_opts *o)
{
	char vip[ADDR_STRLEN];

	if (o->check == XDPLB_CHECK_NONE)
		return false;
	if (svc_opts_checks_reals(&s->key, o))
		return true;
	if (!d->warned[s->svc.id]) {
		format_vip(&s->key, vip, sizeof(vip));
		dlog("VIP %s takes every port: its reals cannot have a tcp "
		     "or http check (use exec); not checked", vip);
		d->warned[s->svc.id] = true;
	}
	return false;
}

/*
 * With the lock held: bring the checker and the DOWN flags in line with
 * the reals there are now. A real new to the daemon is down (the file's
 * are added so, one added by hand is set down here) and checked at once
 * (health.h); a real of a service without a check is never down; a real
 * whose flag differs from what its check says gets the check's word.
 */
static void sync_locked(struct daemon *d)
{
	struct xdplb_svc_opts *so = NULL;
	struct lb_service *svcs = NULL;
	int *svc_of = NULL;
	size_t nt = 0;
	int i, n = 0, err;

	err = lb_reals(&d->lb, d->all);
	if (!err)
		err = lb_services(&d->lb, &svcs, &n);
	if (err) {
		dlog("cannot read the instance: %s", strerror(-err));
		return;
	}
	so = calloc(n + 1, sizeof(*so));
	svc_of = malloc(XDPLB_MAX_SERVICES * sizeof(*svc_of));
	if (!so || !svc_of)
		goto out;
	for (i = 0; i < XDPLB_MAX_SERVICES; i++)
		svc_of[i] = -1;
	for (i = 0; i < n; i++) {
		if (svcs[i].svc.id < XDPLB_MAX_SERVICES)
			svc_of[svcs[i].svc.id] = i;
		lb_svc_opts_get(&d->lb, svcs[i].svc.id, &so[i]);
	}

	d->nchanges = 0;
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		const struct xdplb_real *r = &d->all[i];
		bool down = r->flags & XDPLB_REAL_F_DOWN, known;
		struct hc_target *t;
		struct change *c;
		int s, st;

		if (!(r->flags & XDPLB_REAL_F_USED) ||
		    r->svc_id >= XDPLB_MAX_SERVICES ||
		    (s = svc_of[r->svc_id]) < 0) {
			d->known[i] = 0;
			set_fresh(d, i, false);
			continue;
		}
		known = d->known[i] == r->gen + 1u;
		d->known[i] = r->gen + 1u;
		if (!checked(d, &svcs[s], &so[s])) {
			if (down) {
				c = add_change(d, i);
				c->flag = true;
				name_real(&svcs[s].key, &r->addr, r->family,
					  c->line, sizeof(c->line));
				strcat(c->line, " up: its service has no "
				       "health check");
			}
			continue;
		}
		t = &d->targets[nt++];
		memset(t, 0, sizeof(*t));
		t->vip = svcs[s].key;
		t->addr = r->addr;
		t->family = r->family;
		t->real_id = i;
		t->real_gen = r->gen;
		t->opts = so[s];
		st = known ? hc_state(d->hc, i, r->gen) : -ENOENT;
		if (!known) {
			char line[sizeof(d->changes->line)];

			t->init = HC_INIT_NEW;
			set_fresh(d, i, true);
			name_real(&svcs[s].key, &r->addr, r->family, line,
				  sizeof(line));
			strcat(line, " is new: no new flows until its first "
			       "check passes");
			if (down) {	/* so added by config_apply */
				dlog("%s", line);
			} else {
				c = add_change(d, i);
				c->flag = true;
				c->down = true;
				memcpy(c->line, line, sizeof(line));
			}
		} else if (st >= 0) {
			t->init = st ? HC_INIT_UP : HC_INIT_DOWN;
			if (st == down) {
				c = add_change(d, i);
				c->flag = true;
				c->down = !st;
				name_real(&svcs[s].key, &r->addr, r->family,
					  c->line, sizeof(c->line));
				strcat(c->line, st ? " up again, as its "
				       "checks say" : " down again, as its "
				       "checks say");
			}
		} else {
			t->init = down ? HC_INIT_DOWN : HC_INIT_UP;
		}
	}
	commit_changes(d);
	if (hc_sync(d->hc, d->targets, nt))
		dlog("cannot update the checks: out of memory");
out:
	free(svc_of);
	free(so);
	free(svcs);
}

static void sync_reals(struct daemon *d)
{
	if (lock(d))
		return;
	sync_locked(d);
	lb_unlock_dir(&d->lb);
}

/* The checker's verdicts, written into the maps. */
static void on_health(void *ctx, const struct hc_target *t, bool up,
		      const char *why)
{
	struct daemon *d = ctx;
	char who[160];

	name_real(&t->vip, &t->addr, t->family, who, sizeof(who));
	dlog("%s %s: %s", who, up ? "up" : "down", why);
	set_fresh(d, t->real_id, false);
	if (d->npend == d->cap_pend) {
		size_t cap = d->cap_pend ? 2 * d->cap_pend : 64;
		struct pending *p = realloc(d->pend, cap * sizeof(*p));

		if (!p)
			return;	/* the next sync repairs it */
		d->pend = p;
		d->cap_pend = cap;
	}
	d->pend[d->npend++] = (struct pending){ t->real_id, t->real_gen, up };
}

static void judge(struct daemon *d);

/* Write what the checks decided; the announcement follows at once. */
static void commit_pending(struct daemon *d)
{
	size_t i;

	if (!d->npend)
		return;
	if (!d->open || lock(d)) {
		d->npend = 0;	/* the next sync repairs it */
		return;
	}
	if (!lb_reals(&d->lb, d->all)) {
		d->nchanges = 0;
		for (i = 0; i < d->npend; i++) {
			struct change *c = add_change(d, d->pend[i].id);

			c->gen = d->pend[i].gen;
			c->flag = true;
			c->down = !d->pend[i].up;
		}
		commit_changes(d);
	}
	lb_unlock_dir(&d->lb);
	d->npend = 0;
	judge(d);
}

/* Look up every resolved real's neighbour entry; write the MACs that
 * changed. Entries that are missing or not fresh are refreshed for the
 * next round. */
static void refresh_macs(struct daemon *d)
{
	__u32 *ids;
	__u8 (*macs)[6];
	size_t n = 0, i;

	if (lb_reals(&d->lb, d->all))
		return;
	ids = calloc(XDPLB_MAX_REALS, sizeof(*ids));
	macs = calloc(XDPLB_MAX_REALS, sizeof(*macs));
	if (!ids || !macs)
		goto out;
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		const struct xdplb_real *r = &d->all[i];
		__u8 mac[6];

		if (!(r->flags & XDPLB_REAL_F_USED) ||
		    (r->flags & XDPLB_REAL_F_MAC_MANUAL))
			continue;
		if (neigh_peek(d->lb.cfg.ifindex, r->family, &r->addr, mac,
			       true) || !memcmp(mac, r->mac, 6))
			continue;
		ids[n] = i;
		memcpy(macs[n++], mac, 6);
	}
	if (!n || lock(d))
		goto out;
	if (!lb_reals(&d->lb, d->all)) {
		d->nchanges = 0;
		for (i = 0; i < n; i++) {
			const struct xdplb_real *r = &d->all[ids[i]];
			char a[MAC_STRLEN], b[MAC_STRLEN], real[ADDR_STRLEN];
			struct change *c;

			if (r->flags & XDPLB_REAL_F_MAC_MANUAL)
				continue;
			c = add_change(d, ids[i]);
			memcpy(c->mac, macs[i], 6);
			format_addr(&r->addr, r->family, real, sizeof(real));
			format_mac(r->mac, a, sizeof(a));
			format_mac(macs[i], b, sizeof(b));
			snprintf(c->line, sizeof(c->line), "real %s (id %u): "
				 "MAC changed from %s to %s", real, ids[i], a,
				 b);
		}
		commit_changes(d);
	}
	lb_unlock_dir(&d->lb);
out:
	free(macs);
	free(ids);
}

/* The instance ----------------------------------------------------------- */

/* Is the pinned program attached to the instance's interface, alone or
 * in libxdp's dispatcher? */
static bool prog_attached(struct daemon *d)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	char path[PATH_MAX];
	bool found = false;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->dir, XDPLB_PIN_PROG);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	mp = xdp_multiprog__get_from_ifindex(d->lb.cfg.ifindex);
	if (!info.id || libxdp_get_error(mp) || !mp)
		return false;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		found = p && xdp_program__id(p) == info.id;
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p && !found;
		     p = xdp_multiprog__next_prog(p, mp))
			found = xdp_program__id(p) == info.id;
	}
	xdp_multiprog__close(mp);
	return found;
}

/* Apply d->cfg with the lock held, then bring the reals in line. On
 * failure (config_apply has undone what it did) err says why. */
static int apply_locked(struct daemon *d, const char *what, char *err,
			size_t len)
{
	struct config_diff df;
	int ret;

	/* New reals down: unchecked, none may take a flow, not even for
	 * the moment until sync_locked() would set them down. */
	ret = config_apply(&d->lb, d->cfg, CONFIG_APPLY_NEW_DOWN |
			   CONFIG_APPLY_NO_WIPE, &df);
	if (ret == -ECANCELED) {
		snprintf(err, len, "'%s' %s: refused", d->file, df.error);
		return ret;
	}
	if (ret) {
		snprintf(err, len, "cannot apply '%s': %s", d->file,
			 df.error);
		return ret;
	}
	say_diff(what, &df);
	sync_locked(d);
	d->applied = true;
	d->bird_due = true;
	d->bird_due_ms = mono_ms();
	return 0;
}

static void close_instance(struct daemon *d, const char *why)
{
	dlog("%s; waiting for it to come back", why);
	lb_close(&d->lb);
	d->open = d->applied = d->attached = false;
	hc_sync(d->hc, NULL, 0);
	memset(d->fresh, 0, XDPLB_MAX_REALS * sizeof(*d->fresh));
	d->nfresh = 0;
}

/* Apply the file under the lock; a failure is logged, and retry_apply()
 * tries again. */
static void apply_file(struct daemon *d)
{
	char err[ERRLEN];

	if (lock(d))
		return;
	if (apply_locked(d, "apply", err, sizeof(err)))
		dlog("%s (tried again every %d s, and on SIGHUP)", err,
		     APPLY_RETRY_TICKS);
	lb_unlock_dir(&d->lb);
}

/* A new instance at the directory (attached again): adopt, apply. */
static void reopen(struct daemon *d)
{
	const char *what;

	lb_init(&d->lb);
	if (lb_open(&d->lb, d->dir, &what)) {
		lb_close(&d->lb);
		return;
	}
	d->open = true;
	d->attached = prog_attached(d);
	dlog("an instance is at '%s' again; applying '%s'", d->dir, d->file);
	d->unapplied = 0;
	if (!adopt(d))
		apply_file(d);	/* else tick() tries again */
}

/* Open but the file not applied (a reopen that failed): try again now and
 * then, so that an instance attached again is not left unconfigured (and
 * the load balancer unannounced) until someone sends SIGHUP. */
static void retry_apply(struct daemon *d)
{
	if (++d->unapplied % APPLY_RETRY_TICKS == 0)
		apply_file(d);
}

/* BIRD ------------------------------------------------------------------- */

/* Run cmd with /bin/sh -c, its output on our stderr; wait for it, at most
 * BIRD_CMD_MS (then kill it): a hung BIRD must not hang the checks for
 * long. Says how it ended when that was not exit status 0. */
static void run_cmd(const char *cmd)
{
	siginfo_t si;
	int i, err;
	pid_t pid;

	err = spawn_shell(cmd, environ, true, &pid);
	if (err) {
		dlog("cannot run '%s': %s", cmd, strerror(-err));
		return;
	}
	for (i = 0; i < BIRD_CMD_MS / 50; i++) {
		if (shell_reap(pid, -1, false, &si) == 1)
			goto done;
		usleep(50 * 1000);
	}
	kill(-pid, SIGKILL);	/* the shell and whatever it started */
	shell_reap(pid, -1, true, &si);
	dlog("'%s' did not end within %d s: killed", cmd, BIRD_CMD_MS / 1000);
	return;
done:
	if (si.si_code == CLD_EXITED && si.si_status)
		dlog("'%s' failed: exit status %d", cmd, si.si_status);
	else if (si.si_code != CLD_EXITED)
		dlog("'%s' failed: %s", cmd, strsignal(si.si_status));
}

/* After a configuration is applied: its VIP routes to --bird-vips, and,
 * when they changed, --bird-reload's command. */
static void bird_update(struct daemon *d)
{
	bool changed = false;
	char *text = NULL;
	int err;

	d->bird_due = false;
	if (!d->bird_file)
		return;
	err = bird_vips_render(d->cfg, d->tun_name, d->file, &text);
	if (!err)
		err = bird_vips_write(d->bird_file, text, &changed);
	free(text);
	if (err) {
		dlog("cannot write the VIP routes to '%s': %s", d->bird_file,
		     strerror(-err));
		return;
	}
	if (!changed)
		return;
	dlog("VIP routes written to '%s'; running '%s'", d->bird_file,
	     d->bird_cmd);
	run_cmd(d->bird_cmd);
}

/* Announce --------------------------------------------------------------- */

/* A TUN device that lives as long as this process: not persistent, so
 * the kernel deletes it when the last descriptor closes, however the
 * daemon ends. O_CLOEXEC: no check command inherits it. */
static int tun_open(const char *name)
{
	struct ifreq ifr = {};
	int fd, err;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		p_err("cannot open /dev/net/tun: %s", strerror(-err));
		return err;
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		p_err("cannot create TUN device '%s': %s%s", name,
		      strerror(-err), err == -EBUSY ? " (another process "
		      "holds it)" : err == -EINVAL ? " (a device of another "
		      "kind has that name)" : "");
		close(fd);
		return err;
	}
	if (!ioctl(fd, TUNGETIFF, &ifr) && (ifr.ifr_flags & IFF_PERSIST)) {
		p_err("TUN device '%s' is persistent: it would outlive the "
		      "daemon (delete it first)", name);
		close(fd);
		return -EEXIST;
	}
	return fd;
}

static int tun_set(const char *name, bool up)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
	} else {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			err = -errno;
	}
	close(fd);
	return err;
}

/*
 * Healthy: the instance is there and its program attached, the file is
 * applied, and at least one real of any service takes new flows (is not
 * down). Not "every service": when one service's reals are all down,
 * every load balancer sees the same, and withdrawing all of them would
 * take every other VIP down too; when this one cannot reach any real,
 * its own network is what failed, and another one should take over.
 */
static void judge(struct daemon *d)
{
	char sick[sizeof(d->sick)] = "";
	int i, up = 0, reals = 0;

	if (!d->open)
		snprintf(sick, sizeof(sick), "no instance at '%s'", d->dir);
	else if (!d->attached)
		snprintf(sick, sizeof(sick), "the program is not attached to "
			 "'%s'", d->lb.cfg.ifname);
	else if (!d->applied)
		snprintf(sick, sizeof(sick), "'%s' is not applied", d->file);
	else if (lb_reals(&d->lb, d->all))
		snprintf(sick, sizeof(sick), "cannot read the reals");
	if (!sick[0]) {
		for (i = 0; i < XDPLB_MAX_REALS; i++) {
			if (!(d->all[i].flags & XDPLB_REAL_F_USED))
				continue;
			reals++;
			up += !(d->all[i].flags & XDPLB_REAL_F_DOWN);
		}
		if (!up)
			snprintf(sick, sizeof(sick), reals ? "no real is up" :
				 "no reals");
	}
	if (!d->judged || strcmp(sick, d->sick)) {
		if (sick[0])
			dlog("unhealthy: %s", sick);
		else
			dlog("healthy");
	}
	d->judged = true;
	snprintf(d->sick, sizeof(d->sick), "%s", sick);
	if (d->tun_fd >= 0 && d->tun_up != !sick[0]) {
		int err;

		/* The routes BIRD exports through it are current first. */
		if (!sick[0] && d->bird_due)
			bird_update(d);
		err = tun_set(d->tun_name, !sick[0]);

		if (err) {
			dlog("cannot set '%s' %s: %s", d->tun_name,
			     sick[0] ? "down" : "up", strerror(-err));
			return;
		}
		d->tun_up = !sick[0];
		dlog("announce: '%s' %s", d->tun_name, sick[0] ? "down" : "up");
	}
}

/* The loop --------------------------------------------------------------- */

static void tick(struct daemon *d, bool macs)
{
	if (d->open && !lb_still_pinned(&d->lb))
		close_instance(d, "the instance is gone (detached?)");
	if (!d->open)
		reopen(d);
	if (d->open) {
		bool was = d->attached;

		d->attached = prog_attached(d);
		if (was != d->attached && !d->attached)
			dlog("the program is not attached to '%s'",
			     d->lb.cfg.ifname);
		if (!d->applied)
			retry_apply(d);
		sync_reals(d);
		if (macs)
			refresh_macs(d);
	}
	judge(d);
}

/* SIGHUP: the file again, with the diff semantics; a file that cannot
 * be read or applied changes nothing. */
static void reload(struct daemon *d)
{
	char err[ERRLEN];
	struct config *c = NULL, *old = d->cfg;

	if (read_file(d->file, &c, err, sizeof(err))) {
		dlog("reload: %s; the running configuration stays", err);
		return;
	}
	if (!d->open) {
		dlog("reload: read '%s'; applied when the instance is back",
		     d->file);
		config_free(old);
		d->cfg = c;
		return;
	}
	if (lock(d)) {
		config_free(c);
		return;
	}
	d->cfg = c;
	if (apply_locked(d, "reload", err, sizeof(err))) {
		dlog("reload: %s; the running configuration stays", err);
		d->cfg = old;
		old = c;
	}
	lb_unlock_dir(&d->lb);
	config_free(old);
}

/* Returns the exit status when a signal ends the daemon, else -1. */
static int on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			dlog("SIGHUP: reading '%s'", d->file);
			reload(d);
		} else {
			dlog("%s: exiting; the instance stays attached and "
			     "forwarding", strsignal(si.ssi_signo));
			return EXIT_OK;
		}
	}
	return -1;
}

static int run(struct daemon *d)
{
	/* The first tick a second after the start, so that the first
	 * judgement sees the first checks of new reals. */
	__u64 next_tick = mono_ms() + TICK_MS;
	__u64 next_neigh = mono_ms() + NEIGH_MS;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = d->sigfd, .events = POLLIN },
			{ .fd = hc_fd(d->hc), .events = POLLIN },
			{ .fd = d->http ? http_fd(d->http) : -1,
			  .events = POLLIN },
		};
		__u64 now = mono_ms();
		int t, ret, to_tick, th;

		/* The routes once the new reals' first checks are in, so
		 * that a new VIP is not announced before it has a real up
		 * (or before the interface goes up: judge()). */
		if (d->bird_due && (!d->nfresh ||
				    mono_ms() >= d->bird_due_ms + BIRD_WAIT_MS))
			bird_update(d);
		now = mono_ms();
		t = hc_timeout(d->hc);
		to_tick = next_tick > now ? (int)(next_tick - now) : 0;
		th = d->http ? http_timeout(d->http) : -1;

		if (t < 0 || t > to_tick)
			t = to_tick;
		if (th >= 0 && th < t)
			t = th;
		if (poll(p, 3, t) < 0 && errno != EINTR) {
			p_err("poll: %s", strerror(errno));
			return EXIT_FAIL;
		}
		if (p[0].revents && (ret = on_signal(d)) >= 0)
			return ret;
		hc_dispatch(d->hc);
		commit_pending(d);
		/* Checks first: a scrape must not delay their verdicts. */
		if (d->http)
			http_dispatch(d->http);
		now = mono_ms();
		if (now >= next_tick) {
			tick(d, now >= next_neigh);
			if (now >= next_neigh)
				next_neigh = now + NEIGH_MS;
			next_tick = now + TICK_MS;
		}
	}
}

/* Setup ------------------------------------------------------------------ */

static const char daemon_usage[] =
	"daemon --config FILE [--announce IFNAME [--bird-vips FILE "
	"[--bird-reload CMD]]] [--listen ADDR:PORT]";

/* What the exporter reads: the instance while the daemon holds one. */
static struct lb *daemon_instance(void *ctx)
{
	struct daemon *d = ctx;

	return d->open ? &d->lb : NULL;
}

static int setup(struct daemon *d)
{
	struct rlimit rl;
	sigset_t set;

	/* A socket per check in flight: use what the hard limit allows. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		p_err("cannot set up signals: %s", strerror(errno));
		return -1;
	}
	d->all = calloc(XDPLB_MAX_REALS, sizeof(*d->all));
	d->known = calloc(XDPLB_MAX_REALS, sizeof(*d->known));
	d->warned = calloc(XDPLB_MAX_SERVICES, sizeof(*d->warned));
	d->fresh = calloc(XDPLB_MAX_REALS, sizeof(*d->fresh));
	d->targets = calloc(XDPLB_MAX_REALS, sizeof(*d->targets));
	d->changes = calloc(XDPLB_MAX_REALS, sizeof(*d->changes));
	d->hc = hc_new(on_health, d);
	if (!d->all || !d->known || !d->warned || !d->fresh || !d->targets ||
	    !d->changes || !d->hc) {
		p_err("out of memory");
		return -1;
	}
	return 0;
}

static void teardown(struct daemon *d)
{
	http_server_free(d->http);
	hc_free(d->hc);
	if (d->tun_fd >= 0)
		close(d->tun_fd);	/* the kernel deletes the device */
	if (d->sigfd >= 0)
		close(d->sigfd);
	lb_close(&d->lb);
	config_free(d->cfg);
	free(d->pend);
	free(d->changes);
	free(d->targets);
	free(d->fresh);
	free(d->warned);
	free(d->known);
	free(d->all);
}

int do_daemon(int argc, char **argv)
{
	static const struct option daemon_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "announce", required_argument, NULL, 'a' },
		{ "listen", required_argument, NULL, 'l' },
		{ "bird-vips", required_argument, NULL, 'b' },
		{ "bird-reload", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .dir = opts.pin_dir, .sigfd = -1, .tun_fd = -1,
			    .tun_up = -1, .bird_cmd = "birdc configure" };
	const char *listen_on = NULL;
	char err[ERRLEN];
	int c, ret = EXIT_FAIL;

	optind = 0;
	while ((c = spec_getopt(argc, argv, daemon_opts, err,
				sizeof(err))) != -1) {
		if (c == 'c')
			d.file = optarg;
		else if (c == 'a')
			d.tun_name = optarg;
		else if (c == 'l')
			listen_on = optarg;
		else if (c == 'b')
			d.bird_file = optarg;
		else if (c == 'r')
			d.bird_cmd = optarg;
		else
			return spec_report(-c, err);
	}
	if (optind != argc)
		return usage_error(argv[0], "unexpected '%s' (%s)",
				   argv[optind], daemon_usage);
	if (!d.file)
		return usage_error(argv[0], "--config FILE is required");
	if (d.tun_name && (!*d.tun_name || strlen(d.tun_name) >= IFNAMSIZ))
		return usage_error(argv[0], "--announce: an interface name "
				   "of 1..%d characters", IFNAMSIZ - 1);
	if (d.bird_file && !d.tun_name)
		return usage_error(argv[0], "--bird-vips routes the VIPs to "
				   "the --announce interface: give both");
	if (!*d.bird_cmd || (d.bird_file && !*d.bird_file))
		return usage_error(argv[0], "--bird-vips and --bird-reload "
				   "take a non-empty argument");

	/* Everything that can fail before anything changes. */
	lb_init(&d.lb);
	if (read_file(d.file, &d.cfg, err, sizeof(err))) {
		p_err("%s", err);
		return EXIT_FAIL;
	}
	if (open_instance(&d.lb, false))
		goto out;
	d.open = true;
	d.attached = prog_attached(&d);
	if (setup(&d))
		goto out;
	if (d.tun_name && (d.tun_fd = tun_open(d.tun_name)) < 0)
		goto out;
	d.exp = (struct exporter){ .instance = daemon_instance, .ctx = &d };
	if (listen_on && http_server_new(listen_on, exporter_handle, &d.exp,
					 &d.http, err, sizeof(err))) {
		p_err("%s", err);
		goto out;
	}
	if (adopt(&d)) {
		p_err("cannot read the reals at '%s'", d.dir);
		goto out;
	}
	if (lb_lock_dir(&d.lb, d.dir)) {
		p_err("cannot lock '%s'", d.dir);
		goto out;
	}
	if (apply_locked(&d, "start", err, sizeof(err))) {
		p_err("%s; nothing changed", err);
		goto out;
	}
	lb_unlock_dir(&d.lb);
	dlog("running on '%s' (%s), pin dir '%s', configuration '%s'%s%s%s%s",
	     d.lb.cfg.ifname, d.lb.cfg.xdp_mode == XDPLB_MODE_GENERIC ?
	     "generic" : "native", d.dir, d.file,
	     d.tun_name ? ", announcing through " : "",
	     d.tun_name ? d.tun_name : "",
	     listen_on ? ", metrics and status page on " : "",
	     listen_on ? listen_on : "");
	ret = run(&d);
out:
	teardown(&d);
	return ret;
}
