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
 * configuration it applies and has BIRD read them again; with --console
 * serves the web console (console.h), whose changes it applies like its
 * file (console_apply) under the same lock discipline, and which writes
 * them to the file.
 *
 * The daemon does not attach: attaching belongs to the host (interface,
 * mode, table sizes), the file to the cluster. Everything it does lives in
 * the pinned maps, so stopping or killing it leaves forwarding as it was;
 * only `detach` stops that. It holds the pin directory's lock only around
 * each change, so the xdplb command works while it runs; changes made by
 * hand are picked up within a second (a real added by hand is checked
 * like one from the file). It never waits for that lock: while another
 * process holds it, checks, /metrics and the announcement go on, and what
 * is to change (health, MACs, a reload) waits, tried again every
 * LOCK_RETRY_MS, and is made as soon as the lock is free.
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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>

#include "addr.h"
#include "bird.h"
#include "cmd.h"
#include "config.h"
#include "console.h"
#include "exporter.h"
#include "health.h"
#include "hook.h"
#include "lb.h"
#include "log.h"
#include "neigh.h"
#include "repair.h"
#include "shell.h"
#include "spec.h"
#include "sync.h"
#include "upgrade.h"
#include "users.h"
#include "version.h"

#define TICK_MS		1000	/* instance, reals changed by hand,
				 * announce */
#define NEIGH_MS	5000	/* MACs */
#define ERRLEN		512
#define BIRD_CMD_MS	5000	/* --bird-reload's command, at most */
#define BIRD_WAIT_MS	3000	/* new reals' first checks, at most */
#define APPLY_RETRY_TICKS 10	/* an unapplied file, tried again */
#define LOCK_RETRY_MS	50	/* the lock, while another holds it */

/* A change of a real's DOWN flag that a check decided. */
struct pending {
	__u32 id;
	__u16 gen;
	bool up;
};

/* A MAC a neighbour entry gave a real, to be written. */
struct pending_mac {
	__u32 id;
	__u16 gen;
	__u8 mac[6];
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
	bool console_on;	/* --console: may start from no service */
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
	struct pending *pend;	/* health verdicts, one per real */
	size_t npend, cap_pend;
	struct pending_mac *pmacs;	/* the last round's changed MACs */
	size_t npmacs;
	/* What waits for the lock (work()), besides pend and pmacs. */
	bool sync_due;		/* sync_locked() */
	const char *apply_due;	/* the file, at "start" or on "apply" */
	struct config *reload_cfg;	/* SIGHUP's file */
	bool lock_wait;		/* another process holds the lock */
	int lock_err;		/* the last error locking it, said once */
	__u64 lock_since_ms;	/* since when we wait */
	__u64 lock_retry_ms;	/* when to try again */
	struct hc_target *targets;
	struct change *changes;
	size_t nchanges;
	int sigfd;
	int tun_fd;
	const char *tun_name;
	int tun_up;		/* -1 not set yet */
	struct exporter exp;	/* --listen: metrics and status page */
	struct http_server *http;
	struct console *console;	/* --console: the web console */
	bool judged;		/* sick says something */
	char sick[160];		/* why not healthy; "" healthy */
	const char *bird_file;	/* --bird-vips */
	const char *bird_cmd;	/* --bird-reload */
	bool bird_due;		/* a configuration was applied since */
	char refusal[ERRLEN];	/* why the instance there is not run */
	/* Flows shared with peer load balancers (sync.h). */
	struct sync_opts flowsync_opts;	/* --sync, --sync-peer, --sync-key */
	struct sync *flowsync;	/* NULL without --sync */
	bool flowsync_said;	/* said the peers' tables are in */
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

/* The file, as config_parse reads it. (One that would wipe out what runs,
 * config_apply refuses: CONFIG_APPLY_NO_WIPE, which knows what runs.) */
static int read_file(const char *file, struct config **out, char *err,
		     size_t len)
{
	FILE *f = fopen(file, "re");
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, len, "cannot open '%s': %s", file,
			 strerror(-ret));
		return ret;
	}
	ret = config_parse(f, file, out, err, len);
	fclose(f);
	return ret;
}

static void say_diff(struct daemon *d, const char *what,
		     const struct config_diff *df)
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
	console_event(d->console, "config", NULL, "%s of '%s': services %d "
		      "added, %d removed, %d changed; reals %d added, %d "
		      "removed, %d changed", what, d->file, df->svcs_added,
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
	/* Tables, then entries: a daemon killed between them leaves the
	 * marker, and the next holder of the lock repairs (repair.h). */
	err = lb_change_begin(&d->lb);
	if (err) {
		dlog("cannot mark the instance as changing: %s; health and "
		     "MAC changes wait", strerror(-err));
		goto out;
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
	lb_change_end(&d->lb, 0);
out:
	free(svcs);
	free(touched);
	d->nchanges = 0;
}

/* With the lock just taken: repair what a change killed on its way left
 * (repair.h), a line in the log when there was one. */
static void repair_locked(struct daemon *d)
{
	char msg[ERRLEN + 256];

	lb_repair(&d->lb, msg, sizeof(msg));
	if (msg[0])
		dlog("%s", msg);
}

/* Who holds the pin directory's flock, as /proc/locks names it: "pid
 * 4242 (xdplb restore FILE)", or "another process". */
static void lock_holder(struct daemon *d, char *buf, size_t len)
{
	char line[256], cmd[128] = "";
	unsigned int maj, min;
	unsigned long ino;
	struct stat st;
	int pid = 0, p, fd;
	ssize_t n, i;
	FILE *f;

	snprintf(buf, len, "another process");
	if (stat(d->dir, &st))
		return;
	f = fopen("/proc/locks", "re");
	if (!f)
		return;
	while (!pid && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d: FLOCK %*s WRITE %d %x:%x:%lu", &p, &maj,
			   &min, &ino) == 4 && ino == st.st_ino &&
		    maj == major(st.st_dev) && min == minor(st.st_dev))
			pid = p;
	fclose(f);
	if (!pid)
		return;
	snprintf(line, sizeof(line), "/proc/%d/cmdline", pid);
	fd = open(line, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, cmd, sizeof(cmd) - 1) : -1;
	if (fd >= 0)
		close(fd);
	for (i = 0; i < n; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	while (n > 0 && cmd[n - 1] == ' ')
		n--;
	cmd[n > 0 ? n : 0] = '\0';
	snprintf(buf, len, cmd[0] ? "pid %d (%s)" : "pid %d", pid, cmd);
}

/*
 * The pin directory's lock, without waiting (lb_trylock_dir): -1 when
 * not taken, and tried again after LOCK_RETRY_MS. While another process
 * holds it, what waits is said once, and once more when it is made.
 */
static int try_lock(struct daemon *d, const char *what)
{
	__u64 now = mono_ms();
	char who[200];
	int err;

	err = lb_trylock_dir(&d->lb, d->dir);
	if (!err) {
		repair_locked(d);
		if (d->lock_wait)
			dlog("the lock on '%s' is free after %.1f s: making "
			     "what waited (%s)", d->dir,
			     (now - d->lock_since_ms) / 1000.0, what);
		d->lock_wait = false;
		d->lock_err = 0;
		return 0;
	}
	d->lock_retry_ms = now + LOCK_RETRY_MS;
	if (err == -EWOULDBLOCK && !d->lock_wait) {
		lock_holder(d, who, sizeof(who));
		dlog("'%s' is locked by %s; waiting for it to make: %s "
		     "(checks, metrics and the announcement go on)", d->dir,
		     who, what);
		d->lock_wait = true;
		d->lock_since_ms = now;
	} else if (err != -EWOULDBLOCK && err != d->lock_err) {
		dlog("cannot lock '%s': %s", d->dir, strerror(-err));
	}
	d->lock_err = err;
	return -1;
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

	d->sync_due = false;
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

/* The checker's verdicts, written into the maps. */
static void on_health(void *ctx, const struct hc_target *t, bool up,
		      const char *why)
{
	struct daemon *d = ctx;
	char who[160];
	size_t i;

	name_real(&t->vip, &t->addr, t->family, who, sizeof(who));
	dlog("%s %s: %s", who, up ? "up" : "down", why);
	console_event(d->console, "health", NULL, "%s %s: %s", who,
		      up ? "up" : "down", why);
	set_fresh(d, t->real_id, false);
	/* One per real: the last verdict is the one to make (while the lock
	 * is taken, a real may go down and up again). */
	for (i = 0; i < d->npend; i++) {
		if (d->pend[i].id == t->real_id) {
			d->pend[i].gen = t->real_gen;
			d->pend[i].up = up;
			return;
		}
	}
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

/* With the lock held: write what the checks decided. */
static void pending_locked(struct daemon *d)
{
	size_t i;

	if (!d->npend)
		return;
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
	d->npend = 0;	/* when unread, the next sync repairs it */
}

/* Look up every resolved real's neighbour entry; the MACs that changed
 * wait in d->pmacs (this round's replace the last one's). Entries that
 * are missing or not fresh are refreshed for the next round. */
static void refresh_macs(struct daemon *d)
{
	size_t i;

	if (lb_reals(&d->lb, d->all))
		return;
	d->npmacs = 0;
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		const struct xdplb_real *r = &d->all[i];
		struct pending_mac *m = &d->pmacs[d->npmacs];

		if (!(r->flags & XDPLB_REAL_F_USED) ||
		    (r->flags & XDPLB_REAL_F_MAC_MANUAL))
			continue;
		/* Never a broadcast or multicast MAC (a neighbour entry
		 * made by hand can hold one): the real's stays. */
		if (neigh_peek(d->lb.cfg.ifindex, r->family, &r->addr, m->mac,
			       true) || !memcmp(m->mac, r->mac, 6) ||
		    !mac_is_host(m->mac))
			continue;
		m->id = i;
		m->gen = r->gen;
		d->npmacs++;
	}
}

/* With the lock held: write the MACs that changed. */
static void macs_locked(struct daemon *d)
{
	size_t i;

	if (!d->npmacs)
		return;
	if (!lb_reals(&d->lb, d->all)) {
		d->nchanges = 0;
		for (i = 0; i < d->npmacs; i++) {
			const struct pending_mac *m = &d->pmacs[i];
			const struct xdplb_real *r = &d->all[m->id];
			char a[MAC_STRLEN], b[MAC_STRLEN], real[ADDR_STRLEN];
			struct change *c;

			if (r->flags & XDPLB_REAL_F_MAC_MANUAL)
				continue;
			c = add_change(d, m->id);
			c->gen = m->gen;
			memcpy(c->mac, m->mac, 6);
			format_addr(&r->addr, r->family, real, sizeof(real));
			format_mac(r->mac, a, sizeof(a));
			format_mac(m->mac, b, sizeof(b));
			snprintf(c->line, sizeof(c->line), "real %s (id %u): "
				 "MAC changed from %s to %s", real, m->id, a,
				 b);
		}
		commit_changes(d);
	}
	d->npmacs = 0;
}

/* The instance ----------------------------------------------------------- */

/* Is the instance's program attached to its interface (hook.h)? */
static bool prog_attached(struct daemon *d)
{
	return instance_attached(&d->lb);
}

/*
 * With the lock held, before the instance is opened: upgrade it when this
 * daemon's build is newer than what runs (an older layout, or an older or
 * other build of this one), as after a package upgrade. 0: go on (upgraded,
 * or nothing to do); -EPROTONOSUPPORT with err set: this daemon cannot run
 * the instance (a newer layout); another -errno: the upgrade failed, and
 * the instance runs on as it was.
 */
/*
 * Is there something for upgrade_found() to do at dir (read without the
 * lock): an interrupted upgrade to finish, an instance of another layout,
 * or a program of an older build of this one? Says once of a newer one
 * that it is not downgraded.
 */
static bool upgrade_wanted(const char *dir)
{
	struct xdplb_config_header hdr;
	char from[96];
	struct prog_build pb;
	__u32 id;

	if (upgrade_pending(dir))
		return true;
	if (lb_read_header(dir, &hdr, NULL))
		return false;	/* opening it says why */
	if (hdr.abi_version != XDPLB_ABI_VERSION)
		return true;
	id = pinned_prog_id(dir);
	if (!id || build_of_prog(id, hdr.abi_version, &pb) ||
	    build_is_self(&pb.b))
		return false;
	if (pb.recorded && version_cmp(pb.b.version, XDPLB_VERSION) > 0) {
		format_build(&pb, id, from, sizeof(from));
		dlog("the instance at '%s' runs xdplb %s, newer than this "
		     "daemon (%s): not downgraded", dir, from, XDPLB_VERSION);
		return false;
	}
	return true;
}

static int upgrade_found(const char *dir, char *err, size_t len)
{
	struct xdplb_config_header hdr;
	struct upgrade_report r;
	char ifname[IF_NAMESIZE], from[96], to[96], msg[512];
	int ret;

	ret = upgrade_recover(dir, msg, sizeof(msg));
	if (msg[0])
		dlog("%s", msg);
	if (ret || !upgrade_wanted(dir) || lb_read_header(dir, &hdr, NULL))
		return 0;	/* opening it says why */
	if (!if_indextoname(hdr.ifindex, ifname)) {
		snprintf(err, len, "the instance at '%s' is from another "
			 "xdplb and its interface (index %u) is not in this "
			 "network namespace: cannot upgrade it", dir,
			 hdr.ifindex);
		return -ENODEV;
	}
	ret = upgrade_instance(dir, ifname, false, &r, err, len);
	if (ret)
		return ret;
	format_build(&r.from, r.from_id, from, sizeof(from));
	format_build(&r.to, r.to_id, to, sizeof(to));
	dlog("upgraded the instance on '%s' from xdplb %s to xdplb %s, as "
	     "this daemon's build is newer: kept %d services, %d reals, %llu "
	     "tracked flows", ifname, from, to, r.services, r.reals,
	     (unsigned long long)r.flows);
	return 0;
}

/* The sync with peers (sync.h) follows the instance the daemon holds,
 * from the moment its file is applied (the peers' flows name its reals). */
static void flowsync_applied(struct daemon *d)
{
	int err;

	if (!d->flowsync)
		return;
	if (sync_attached(d->flowsync)) {
		sync_reals_changed(d->flowsync);
		return;
	}
	d->flowsync_said = false;
	err = sync_attach(d->flowsync, &d->lb);
	if (err)
		dlog("sync: cannot map the connection table of '%s': %s; "
		     "flows are neither sent nor learnt", d->dir,
		     strerror(-err));
}

static void judge(struct daemon *d);

/* What came from peers, what is due to them; the announcement once the
 * peers' tables are in. */
static void flowsync_tick(struct daemon *d)
{
	const struct sync_stats *st;

	sync_dispatch(d->flowsync);
	if (d->flowsync_said || !sync_ready(d->flowsync))
		return;
	d->flowsync_said = true;
	st = sync_stats(d->flowsync);
	dlog("sync: the peers' tables are in (%llu flows learnt, %llu for "
	     "reals this instance lacks)", (unsigned long long)st->applied,
	     (unsigned long long)st->unknown_real);
	judge(d);
}

/* The sync's counters, after the instance's metrics. */
static void flowsync_metrics(FILE *f, void *ctx)
{
	struct daemon *d = ctx;
	const struct sync_stats *st;

	if (!d->flowsync)
		return;
	st = sync_stats(d->flowsync);
	fprintf(f, "# HELP xdplb_sync_messages_total Sync datagrams sent to "
		"peers, and received from them: verified and taken, failing "
		"verification (rejected), seen before or too old (replayed), "
		"over the receive rate (dropped).\n"
		"# TYPE xdplb_sync_messages_total counter\n"
		"xdplb_sync_messages_total{result=\"sent\"} %llu\n"
		"xdplb_sync_messages_total{result=\"received\"} %llu\n"
		"xdplb_sync_messages_total{result=\"rejected\"} %llu\n"
		"xdplb_sync_messages_total{result=\"replayed\"} %llu\n"
		"xdplb_sync_messages_total{result=\"dropped\"} %llu\n",
		(unsigned long long)st->sent, (unsigned long long)st->received,
		(unsigned long long)st->rejected,
		(unsigned long long)st->replayed,
		(unsigned long long)st->dropped);
	fprintf(f, "# HELP xdplb_sync_flows_total Flows sent to peers, and "
		"received from them: written into the table (applied), for a "
		"real this instance lacks (unknown_real), with no room in their "
		"set (full), idle beyond their timeout already or tracked here "
		"(stale); notes of the data path lost before they were read "
		"(notes_lost; the periodic pass sends those flows).\n"
		"# TYPE xdplb_sync_flows_total counter\n"
		"xdplb_sync_flows_total{result=\"sent\"} %llu\n"
		"xdplb_sync_flows_total{result=\"received\"} %llu\n"
		"xdplb_sync_flows_total{result=\"applied\"} %llu\n"
		"xdplb_sync_flows_total{result=\"unknown_real\"} %llu\n"
		"xdplb_sync_flows_total{result=\"full\"} %llu\n"
		"xdplb_sync_flows_total{result=\"stale\"} %llu\n"
		"xdplb_sync_flows_total{result=\"notes_lost\"} %llu\n",
		(unsigned long long)st->sent_flows,
		(unsigned long long)st->received_flows,
		(unsigned long long)st->applied,
		(unsigned long long)st->unknown_real,
		(unsigned long long)st->full,
		(unsigned long long)st->stale,
		(unsigned long long)st->notes_lost);
}

/* With the lock held, a configuration just applied: the reals brought in
 * line, the routes for BIRD due. */
static void applied_locked(struct daemon *d)
{
	sync_locked(d);
	flowsync_applied(d);
	d->applied = true;
	d->bird_due = true;
	d->bird_due_ms = mono_ms();
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
			   CONFIG_APPLY_NO_WIPE |
			   (d->console_on ? CONFIG_APPLY_EMPTY_IF_IDLE : 0),
			   &df);
	if (ret == -ECANCELED) {
		snprintf(err, len, "'%s' %s: refused", d->file, df.error);
		return ret;
	}
	if (ret && df.line) {
		snprintf(err, len, "cannot apply %s:%d: %s", d->file,
			 df.line, df.error);
		return ret;
	} else if (ret) {
		snprintf(err, len, "cannot apply '%s': %s", d->file,
			 df.error);
		return ret;
	}
	say_diff(d, what, &df);
	applied_locked(d);
	return 0;
}

static void close_instance(struct daemon *d, const char *why)
{
	dlog("%s", why);
	if (d->flowsync)
		sync_attach(d->flowsync, NULL);
	lb_close(&d->lb);
	d->open = d->applied = d->attached = false;
	hc_sync(d->hc, NULL, 0);
	memset(d->fresh, 0, XDPLB_MAX_REALS * sizeof(*d->fresh));
	d->nfresh = 0;
	/* What waited was for this instance; a file read on SIGHUP is the
	 * one to apply to the next. */
	d->npend = d->npmacs = 0;
	d->sync_due = false;
	d->apply_due = NULL;
	d->lock_wait = false;
	d->lock_err = 0;
	if (d->reload_cfg) {
		config_free(d->cfg);
		d->cfg = d->reload_cfg;
		d->reload_cfg = NULL;
	}
}

/* With the lock held: the file read on SIGHUP. A file that cannot be
 * applied changes nothing. */
static void reload_locked(struct daemon *d)
{
	struct config *old = d->cfg;
	char err[ERRLEN];

	d->cfg = d->reload_cfg;
	d->reload_cfg = NULL;
	if (apply_locked(d, "reload", err, sizeof(err))) {
		dlog("reload: %s; the running configuration stays", err);
		config_free(d->cfg);
		d->cfg = old;
		return;
	}
	config_free(old);
	d->apply_due = NULL;	/* done: that was the file too */
}

/* With the lock held: the file, at start or again. A failure is logged,
 * and retry_apply() tries again. */
static void apply_due_locked(struct daemon *d)
{
	const char *what = d->apply_due;
	char err[ERRLEN];

	d->apply_due = NULL;
	if (apply_locked(d, what, err, sizeof(err)))
		dlog("%s (tried again every %d s, and on SIGHUP)", err,
		     APPLY_RETRY_TICKS);
}

/* What waits for the lock, in words: "1 health change, 2 MACs". */
static void what_waits(struct daemon *d, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (d->npend)
		n += snprintf(buf + n, len - n, ", %zu health change%s",
			      d->npend, d->npend == 1 ? "" : "s");
	if (d->npmacs && n < len)
		n += snprintf(buf + n, len - n, ", %zu MAC%s", d->npmacs,
			      d->npmacs == 1 ? "" : "s");
	if (d->reload_cfg && n < len)
		n += snprintf(buf + n, len - n, ", the reload of '%s'",
			      d->file);
	else if (d->apply_due && n < len)
		n += snprintf(buf + n, len - n, ", the file '%s'", d->file);
	if (!n)
		snprintf(buf, len, ", a look at changes made by hand");
	memmove(buf, buf + 2, strlen(buf + 2) + 1);
}

static void judge(struct daemon *d);

/* Does anything wait for the lock? */
static bool waits(const struct daemon *d)
{
	return d->npend || d->npmacs || d->reload_cfg || d->apply_due ||
	       d->sync_due;
}

/*
 * Make what waits for the pin directory's lock, when something does and
 * the lock is free (never waiting for it): the checks' verdicts, MACs, the
 * file (read on SIGHUP, or at start or again), then the reals brought in
 * line with the checks (sync_locked). The announcement follows at once.
 */
static void work(struct daemon *d)
{
	char what[160];

	if (!d->open || !waits(d) || d->lock_retry_ms > mono_ms())
		return;
	what_waits(d, what, sizeof(what));
	if (try_lock(d, what))
		return;
	pending_locked(d);
	macs_locked(d);
	if (d->reload_cfg)
		reload_locked(d);
	else if (d->apply_due)
		apply_due_locked(d);
	if (d->sync_due)
		sync_locked(d);
	lb_unlock_dir(&d->lb);
	judge(d);
}

/* The file, under the lock when it is free (work()). */
static void apply_file(struct daemon *d, const char *what)
{
	d->apply_due = what;
	work(d);
}

/* A new instance at the directory (attached again): upgrade it if it is
 * of an older build (when the lock is free: else at a later tick), adopt,
 * apply. */
static void reopen(struct daemon *d)
{
	char err[ERRLEN] = "";
	const char *what;

	lb_init(&d->lb);
	d->lb.who = "daemon";
	if (!upgrade_wanted(d->dir)) {
		/* nothing to upgrade */
	} else if (!lb_trylock_dir(&d->lb, d->dir)) {
		upgrade_found(d->dir, err, sizeof(err));
		lb_unlock_dir(&d->lb);
	} else {
		struct xdplb_config_header hdr;

		/* An upgrade first, and the lock is busy: a later tick. */
		if (!lb_read_header(d->dir, &hdr, NULL) &&
		    hdr.abi_version != XDPLB_ABI_VERSION)
			return;
	}
	if (err[0] && strcmp(err, d->refusal))	/* said once */
		dlog("%s; the instance runs on as it was, unmanaged", err);
	snprintf(d->refusal, sizeof(d->refusal), "%s", err);
	if (lb_open(&d->lb, d->dir, &what) || d->lb.view_abi) {
		lb_close(&d->lb);
		return;
	}
	d->open = true;
	d->attached = prog_attached(d);
	dlog("an instance is at '%s' again; applying '%s'", d->dir, d->file);
	d->unapplied = 0;
	if (!adopt(d))
		apply_file(d, "apply");	/* else tick() tries again */
}

/* Open but the file not applied (a reopen that failed): try again now and
 * then, so that an instance attached again is not left unconfigured (and
 * the load balancer unannounced) until someone sends SIGHUP. */
static void retry_apply(struct daemon *d)
{
	if (!d->apply_due && ++d->unapplied % APPLY_RETRY_TICKS == 0)
		apply_file(d, "apply");
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
	else if (d->flowsync && !sync_ready(d->flowsync))
		snprintf(sick, sizeof(sick), "learning the peers' tracked "
			 "flows (--sync)");
	else if (lb_reals(&d->lb, d->all))
		snprintf(sick, sizeof(sick), "cannot read the reals");
	if (!sick[0]) {
		/* Verdicts that wait for the lock count as made. */
		for (i = 0; i < (int)d->npend; i++) {
			struct xdplb_real *r = &d->all[d->pend[i].id];

			if (d->pend[i].id >= XDPLB_MAX_REALS ||
			    r->gen != d->pend[i].gen)
				continue;
			r->flags = d->pend[i].up ? r->flags & ~XDPLB_REAL_F_DOWN :
				   r->flags | XDPLB_REAL_F_DOWN;
		}
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
	if (d->open && !lb_still_pinned(&d->lb)) {
		struct xdplb_config_header hdr;

		close_instance(d, lb_read_header(d->dir, &hdr, NULL) ?
			       "the instance is gone (detached?); waiting for "
			       "it to come back" : "the instance was replaced "
			       "(upgraded, or attached again); opening the new "
			       "one");
	}
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
		d->sync_due = true;
		if (macs)
			refresh_macs(d);
		work(d);
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
	/* Applied under the lock, as soon as it is free: a later SIGHUP's
	 * file replaces one still waiting. */
	config_free(d->reload_cfg);
	d->reload_cfg = c;
	work(d);
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
		struct console *con = d->console;
		struct pollfd p[5] = {
			{ .fd = d->sigfd, .events = POLLIN },
			{ .fd = hc_fd(d->hc), .events = POLLIN },
			{ .fd = d->http ? http_fd(d->http) : -1,
			  .events = POLLIN },
			{ .fd = d->flowsync ? sync_fd(d->flowsync) : -1,
			  .events = POLLIN },
			{ .fd = con ? console_fd(con) : -1, .events = POLLIN },
		};
		__u64 now = mono_ms();
		int t, ret, to_tick, th, tl;

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
		if (d->flowsync && sync_timeout(d->flowsync) < t)
			t = sync_timeout(d->flowsync);
		th = con ? console_timeout(con) : -1;
		if (th >= 0 && th < t)
			t = th;
		/* Something waits for the lock: try it again soon. */
		if ((d->lock_wait || d->lock_err) && waits(d)) {
			tl = d->lock_retry_ms > now ?
			     (int)(d->lock_retry_ms - now) : 0;
			if (tl < t)
				t = tl;
		}
		if (poll(p, 5, t) < 0 && errno != EINTR) {
			p_err("poll: %s", strerror(errno));
			return EXIT_FAIL;
		}
		if (p[0].revents && (ret = on_signal(d)) >= 0)
			return ret;
		hc_dispatch(d->hc);
		work(d);
		if (d->flowsync)
			flowsync_tick(d);
		/* Checks first: a scrape must not delay their verdicts. */
		if (d->http)
			http_dispatch(d->http);
		if (con)
			console_dispatch(con);
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

#define START_LOCK_MS	30000	/* the lock, waited for at start at most */

/* At start, the lock for an upgrade: waited for START_LOCK_MS at most,
 * saying once who holds it. 0, or -1 having said why not. */
static int lock_for_start(struct daemon *d)
{
	__u64 until = mono_ms() + START_LOCK_MS;
	char who[200];
	bool said = false;
	int err;

	if (pin_dir_trusted(d->dir, who, sizeof(who))) {
		p_err("%s", who);
		return -1;
	}
	while ((err = lb_trylock_dir(&d->lb, d->dir)) == -EWOULDBLOCK &&
	       mono_ms() < until) {
		if (!said) {
			lock_holder(d, who, sizeof(who));
			dlog("'%s' is locked by %s; waiting up to %d s to "
			     "start", d->dir, who, START_LOCK_MS / 1000);
			said = true;
		}
		usleep(50 * 1000);
	}
	if (err)
		p_err("cannot lock '%s' to start: %s", d->dir,
		      err == -EWOULDBLOCK ? "held by another process for "
		      "30 s" : strerror(-err));
	return err ? -1 : 0;
}

static const char daemon_usage[] =
	"daemon --config FILE [--announce IFNAME [--bird-vips FILE "
	"[--bird-reload CMD]]] [--listen ADDR:PORT] [--sync LISTEN "
	"--sync-peer ADDR[:PORT]... --sync-key FILE] [--console ADDR:PORT "
	"[--users FILE] [--tls-cert FILE --tls-key FILE] "
	"[--console-insecure]]";

/* What the exporter reads: the instance while the daemon holds one. */
static struct lb *daemon_instance(void *ctx)
{
	struct daemon *d = ctx;

	return d->open ? &d->lb : NULL;
}

/* The console's changes (console.h) ------------------------------------- */

/* The lock for a change of the console's, never waiting; the daemon's own
 * waiting change (its file, on SIGHUP or again) goes first. */
static int console_lock(void *ctx)
{
	struct daemon *d = ctx;

	if (!d->open || !lb_still_pinned(&d->lb))
		return -ENODEV;
	if (d->reload_cfg || d->apply_due)
		return -EINPROGRESS;
	return lb_trylock_dir(&d->lb, d->dir);
}

static void console_unlock(void *ctx)
{
	struct daemon *d = ctx;

	lb_unlock_dir(&d->lb);
	judge(d);
}

/* With the lock held: want applied as the file would be, and the file's
 * configuration from now on (the console has written it). */
static int console_apply(void *ctx, const struct config *want,
			 struct config_diff *df)
{
	struct daemon *d = ctx;
	struct config *c = config_copy(want);
	int ret;

	if (!c) {
		memset(df, 0, sizeof(*df));
		snprintf(df->error, sizeof(df->error), "out of memory");
		return -ENOMEM;
	}
	ret = config_apply(&d->lb, c, CONFIG_APPLY_NEW_DOWN, df);
	if (ret) {
		config_free(c);
		return ret;
	}
	config_free(d->cfg);
	d->cfg = c;
	applied_locked(d);
	return 0;
}

/* With the lock held: what the instance runs, for the console. */
static int console_read(void *ctx, struct config **out, __u32 *table_size)
{
	struct daemon *d = ctx;

	*table_size = d->lb.cfg.table_size;
	return config_from_lb(&d->lb, out);
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
	d->pmacs = calloc(XDPLB_MAX_REALS, sizeof(*d->pmacs));
	d->hc = hc_new(on_health, d);
	if (!d->all || !d->known || !d->warned || !d->fresh || !d->targets ||
	    !d->changes || !d->pmacs || !d->hc) {
		p_err("out of memory");
		return -1;
	}
	return 0;
}

static void teardown(struct daemon *d)
{
	sync_free(d->flowsync);
	console_free(d->console);
	http_server_free(d->http);
	hc_free(d->hc);
	if (d->tun_fd >= 0)
		close(d->tun_fd);	/* the kernel deletes the device */
	if (d->sigfd >= 0)
		close(d->sigfd);
	lb_close(&d->lb);
	config_free(d->cfg);
	config_free(d->reload_cfg);
	free(d->pmacs);
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
		{ "sync", required_argument, NULL, 's' },
		{ "sync-peer", required_argument, NULL, 'P' },
		{ "sync-key", required_argument, NULL, 'k' },
		{ "console", required_argument, NULL, 'C' },
		{ "users", required_argument, NULL, 'u' },
		{ "tls-cert", required_argument, NULL, 'T' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "console-insecure", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	struct sync_opts *so;
	const char *sync_on = NULL;
	struct daemon d = { .dir = opts.pin_dir, .sigfd = -1, .tun_fd = -1,
			    .tun_up = -1, .bird_cmd = "birdc configure" };
	struct console_config cc = {};
	struct sockaddr_storage cc_addr;
	const char *listen_on = NULL;
	char err[ERRLEN];
	int c, lk, ret = EXIT_FAIL;

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
		else if (c == 's')
			sync_on = optarg;
		else if (c == 'k')
			d.flowsync_opts.key_file = optarg;
		else if (c == 'P' && d.flowsync_opts.npeers == SYNC_MAX_PEERS)
			return usage_error(argv[0], "at most %d --sync-peer",
					   SYNC_MAX_PEERS);
		else if (c == 'P' && sync_parse_addr(optarg,
				&d.flowsync_opts.peer[d.flowsync_opts.npeers++]))
			return usage_error(argv[0], "--sync-peer '%s': expected "
					   "ADDR[:PORT] (IPv6 ADDR in "
					   "brackets)", optarg);
		else if (c == 'C')
			cc.listen = optarg;
		else if (c == 'u')
			cc.users_file = optarg;
		else if (c == 'T')
			cc.tls_cert_file = optarg;
		else if (c == 'K')
			cc.tls_key_file = optarg;
		else if (c == 'I')
			cc.insecure = true;
		else if (c != 'P')
			return spec_report(-c, err);
	}
	d.console_on = cc.listen;
	so = &d.flowsync_opts;
	if (sync_on && sync_parse_addr(sync_on, &so->listen))
		return usage_error(argv[0], "--sync '%s': expected ADDR[:PORT] "
				   "(IPv6 ADDR in brackets)", sync_on);
	if (!sync_on != !so->key_file || !sync_on != !so->npeers)
		return usage_error(argv[0], "--sync LISTEN, --sync-key FILE "
				   "and one --sync-peer at least go together");
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
	if (cc.listen && parse_sockaddr(cc.listen, 0, &cc_addr, NULL))
		return usage_error(argv[0], "--console '%s': expected "
				   "ADDR:PORT (IPv6 ADDR in brackets)",
				   cc.listen);
	if (!cc.listen && (cc.tls_cert_file || cc.tls_key_file ||
			   cc.insecure || cc.users_file))
		return usage_error(argv[0], "--users, --tls-cert, --tls-key "
				   "and --console-insecure are options of "
				   "--console");
	if (!cc.tls_cert_file != !cc.tls_key_file)
		return usage_error(argv[0], "TLS needs both --tls-cert and "
				   "--tls-key");
	cc.config_file = d.file;
	if (!cc.users_file)
		cc.users_file = USERS_DEFAULT_FILE;

	/* Everything that can fail before anything changes. */
	lb_init(&d.lb);
	if (read_file(d.file, &d.cfg, err, sizeof(err))) {
		p_err("%s", err);
		return EXIT_FAIL;
	}
	/* An instance of an older build is upgraded first (a package
	 * upgrade, then a restart): one this daemon cannot run stops it,
	 * with an exit status its unit does not restart on. Only then is
	 * the lock waited for, and a while at most: held longer, the daemon
	 * exits with 1 and systemd starts it again. */
	c = 0;
	if (upgrade_wanted(d.dir)) {
		if (lock_for_start(&d))
			goto out;
		c = upgrade_found(d.dir, err, sizeof(err));
		lb_unlock_dir(&d.lb);
	}
	if (c) {
		p_err("%s; the instance runs on as it was", err);
		ret = EXIT_INSTANCE;
		goto out;
	}
	if (open_instance(&d.lb, OPEN_READ))
		goto out;
	if (d.lb.view_abi) {
		p_err("the instance at '%s' has map ABI %u: this daemon (%s, "
		      "map ABI %d) cannot change it", d.dir, d.lb.view_abi,
		      XDPLB_VERSION, XDPLB_ABI_VERSION);
		ret = EXIT_INSTANCE;
		goto out;
	}
	d.open = true;
	d.attached = prog_attached(&d);
	if (setup(&d))
		goto out;
	if (sync_on) {
		if (!so->npeers) {
			p_err("--sync needs one --sync-peer at least");
			goto out;
		}
		if (sync_new(&d.flowsync, so, err, sizeof(err))) {
			p_err("%s", err);
			goto out;
		}
	}
	if (d.tun_name && (d.tun_fd = tun_open(d.tun_name)) < 0)
		goto out;
	d.exp = (struct exporter){ .instance = daemon_instance,
				   .more = flowsync_metrics, .ctx = &d };
	if (listen_on && exporter_listen(&d.exp, listen_on, &d.http, err,
					 sizeof(err))) {
		p_err("%s", err);
		goto out;
	}
	if (cc.listen && console_new(&cc, &(struct console_ops){
			.instance = daemon_instance, .lock = console_lock,
			.unlock = console_unlock, .apply = console_apply,
			.read = console_read, .ctx = &d }, &d.console, err, sizeof(err))) {
		p_err("%s", err);
		goto out;
	}
	if (adopt(&d)) {
		p_err("cannot read the reals at '%s'", d.dir);
		goto out;
	}
	/* Never waiting for the lock: while another process holds it, the
	 * file is applied as soon as it is free (and a failure is then
	 * logged, not an exit). */
	lk = lb_trylock_dir(&d.lb, d.dir);
	if (lk && lk != -EWOULDBLOCK) {
		p_err("cannot lock '%s': %s", d.dir, strerror(-lk));
		goto out;
	}
	if (!lk)
		repair_locked(&d);
	if (!lk && apply_locked(&d, "start", err, sizeof(err))) {
		p_err("%s; nothing changed", err);
		goto out;
	}
	lb_unlock_dir(&d.lb);
	if (lk)
		apply_file(&d, "start");
	dlog("running on '%s' (%s), pin dir '%s', configuration '%s'%s%s%s%s"
	     "%s%s%s%s%s", d.lb.cfg.ifname, d.lb.cfg.xdp_mode ==
	     XDPLB_MODE_GENERIC ? "generic" : "native", d.dir, d.file,
	     d.tun_name ? ", announcing through " : "",
	     d.tun_name ? d.tun_name : "",
	     listen_on ? ", metrics and status page on " : "",
	     listen_on ? listen_on : "",
	     sync_on ? ", sharing tracked flows on " : "",
	     sync_on ? sync_on : "",
	     cc.listen ? ", web console on " : "", cc.listen ? cc.listen : "",
	     !cc.listen ? "" : cc.tls_cert_file ? " (HTTPS)" : " (HTTP)");
	console_event(d.console, "daemon", NULL, "started with the "
		      "configuration '%s'", d.file);
	/* Judged now, not at the first tick: reals the instance had keep
	 * their health, so a daemon restarted (a package upgrade) announces
	 * again at once instead of a second later; new reals are down until
	 * their first check passes either way. */
	judge(&d);
	ret = run(&d);
out:
	teardown(&d);
	return ret;
}
