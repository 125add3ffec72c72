// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "hook.h"
#include "cmd.h"
#include "log.h"
#include "repair.h"
#include "spec.h"
#include "upgrade.h"
#include "version.h"

int usage_error(const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p_err("%s: %s (see 'xdplb help')", cmd, msg);
	return EXIT_USAGE;
}

/* Open the instance at --pin-dir, locked for a change when asked; print
 * why not and return -1 when it cannot be used. */
/* The pin directory must exist and be on bpffs; say why not. */
static int check_pin_dir(const char *dir)
{
	if (access(dir, F_OK)) {
		p_err("no xdplb instance at '%s' (attach one first, or give "
		      "its --pin-dir)", dir);
		return -1;
	}
	if (!pin_dir_on_bpffs(dir)) {
		p_err("pin dir '%s' is not on a bpffs", dir);
		return -1;
	}
	return trust_pin_dir(dir, dir);
}

int trust_pin_dir(const char *dir, const char *path)
{
	char why[PATH_MAX + 64];

	if (!pin_dir_trusted(path, why, sizeof(why)))
		return 0;
	p_err("pin dir '%s' refused: %s; another user could take its lock "
	      "or replace its pins (make it root's, not writable by others, "
	      "or give another --pin-dir)", dir, why);
	return -1;
}

int lock_pin_dir(struct lb *lb, const char *dir)
{
	int err;

	if (check_pin_dir(dir))
		return -1;
	err = lb_lock_dir(lb, dir);
	if (err) {
		p_err("cannot lock '%s': %s", dir, strerror(-err));
		return -1;
	}
	return 0;
}

/* An upgrade killed on its way is finished or undone before the instance
 * is read: under the lock, which a reader takes only then. */
static int recover(struct lb *lb, const char *dir, bool locked)
{
	char msg[512];
	int err;

	if (!locked && !upgrade_pending(dir))
		return 0;
	if (!locked && lb_lock_dir(lb, dir))
		return 0;	/* the next command that locks does it */
	err = upgrade_recover(dir, msg, sizeof(msg));
	if (!locked)
		lb_unlock_dir(lb);
	if (err)
		p_err("%s", msg);
	else if (msg[0])
		pr_warn("%s\n", msg);
	return err;
}

/* A change killed on its way is repaired before the instance is read
 * (repair.h), under the lock. A change refuses to go on when that
 * fails; a reader reads the configuration as it is. */
static int repair(struct lb *lb, bool change)
{
	char msg[768];
	int err;

	err = lb_repair(lb, msg, sizeof(msg));
	if (err && change) {
		p_err("%s", msg);
		return err;
	}
	if (msg[0])
		pr_warn("xdplb: %s\n", msg);
	return 0;
}

int change_begin(struct lb *lb)
{
	int err = lb_change_begin(lb);

	if (err)
		p_err("cannot mark the instance at '%s' as changing: %s "
		      "(nothing changed)", lb->pin_dir, strerror(-err));
	return err;
}

int change_end(struct lb *lb, int err)
{
	int e = lb_change_end(lb, err);

	if (e)
		pr_warn("xdplb: cannot close the change at '%s': %s (the next "
			"command that takes its lock repairs what it left)\n",
			lb->pin_dir, strerror(-e));
	return err;
}

int open_instance(struct lb *lb, enum open_mode mode)
{
	const char *dir = opts.pin_dir, *what = NULL;
	bool lock = mode != OPEN_READ, change = mode == OPEN_CHANGE;
	__u64 here;
	int err;

	lb_init(lb);
	if (lock ? lock_pin_dir(lb, dir) : check_pin_dir(dir))
		return -1;
	if (recover(lb, dir, lock))
		goto err;
	err = lb_open(lb, dir, &what);
	if (err)
		goto err_open;
	lb->who = opts.command;
	if (lock && !lb->view_abi && repair(lb, change))
		goto err;
	here = netns_cookie();
	if (change && lb->view_abi) {
		p_err("the instance at '%s' has the map layout of an older "
		      "xdplb (map ABI %u): this one (%s, map ABI %d) reads it, "
		      "and changes it once `xdplb upgrade %s` has converted "
		      "it", dir, lb->view_abi, XDPLB_VERSION,
		      XDPLB_ABI_VERSION, lb->cfg.ifname);
		goto err;
	}
	if (change && lb->cfg.netns_cookie && here &&
	    lb->cfg.netns_cookie != here) {
		p_err("the instance at '%s' runs on '%s' in another network "
		      "namespace: change it from there (nsenter --net=...)",
		      dir, lb->cfg.ifname);
		goto err;
	}
	return 0;

err_open:
	if (err == -ENOENT && !what)
		p_err("no xdplb instance at '%s' (attach one first, or give "
		      "its --pin-dir)", dir);
	else if (err == -ENOENT)
		p_err("pinned map '%s/%s' is missing: not a whole xdplb "
		      "instance", dir, what);
	else if (err == -EPROTONOSUPPORT && lb->abi_found > XDPLB_ABI_VERSION)
		p_err("the instance at '%s' was made by a newer xdplb (map ABI "
		      "%u); this one (%s) knows map ABIs up to %d: use that "
		      "xdplb (detach works across versions)", dir,
		      lb->abi_found, XDPLB_VERSION, XDPLB_ABI_VERSION);
	else if (err == -EPROTONOSUPPORT)
		p_err("the instance at '%s' has map ABI %u, which this xdplb "
		      "(%s) no longer reads: upgrade it with the xdplb "
		      "release that follows the one that made it", dir,
		      lb->abi_found, XDPLB_VERSION);
	else if (err == -EPROTO)
		p_err("pinned map '%s/%s' has an incompatible layout (not made "
		      "by this xdplb version, ABI %d)", dir, what,
		      XDPLB_ABI_VERSION);
	else
		p_err("cannot open pinned map '%s/%s': %s", dir,
		      what ? what : "?", strerror(-err));
err:
	lb_close(lb);
	return -1;
}

int spec_report(int ret, const char *err)
{
	if (ret == EXIT_USAGE)
		p_err("%s (see 'xdplb help')", err);
	else if (ret)
		p_err("%s", err);
	return ret;
}

int parse_vip_arg(const char *s, struct xdplb_svc_key *key)
{
	char err[SPEC_ERRLEN];

	return spec_report(spec_vip(s, key, err, sizeof(err)), err) ? -1 : 0;
}

int find_service(struct lb *lb, const struct xdplb_svc_key *key,
		 struct xdplb_svc *svc)
{
	char vip[ADDR_STRLEN];

	if (!lb_svc_get(lb, key, svc))
		return 0;
	format_vip(key, vip, sizeof(vip));
	p_err("unknown VIP %s (add it with add-vip)", vip);
	return -1;
}

/* A service's own options: --hash MODE ('H') and --ops ('o'). */
int parse_svc_option(int opt, const char *arg, const struct xdplb_svc_key *key,
		     __u32 *flags)
{
	char err[SPEC_ERRLEN];
	int ret;

	ret = opt == 'o' ? spec_ops(key, flags, err, sizeof(err)) :
			   spec_hash_mode(arg, flags, err, sizeof(err));
	return spec_report(ret, err) ? -1 : 0;
}

int parse_table_size(const char *arg, __u32 *size)
{
	char err[SPEC_ERRLEN];

	return spec_report(spec_table_size(arg, size, err, sizeof(err)), err) ?
	       -1 : 0;
}

const char *svc_hash_name(__u32 flags)
{
	return flags & XDPLB_SVC_F_HASH_SRC ? "src-ip" : "5tuple";
}
