// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_real_setup.c - real-setup: make this host a real server of a
 * direct-routing load balancer, and --undo it. Runs on the real, without
 * an xdplb instance.
 *
 * What it does, each only where needed: every VIP on lo (/32, /128; IPv6
 * without DAD and deprecated, so never a source address); arp_ignore 1
 * and arp_announce 2 on all and lo (the job of LVS-DR's arptables rules);
 * strict rp_filter (1) made loose (2); with --persist, a systemd unit that
 * runs real-setup at boot and a sysctl.d drop-in. Every change is recorded
 * in a state file (previous sysctl values, the addresses it added as
 * opposed to those that were there, the files it wrote with a checksum of
 * what it wrote), and --undo reverts exactly those. A state file that
 * names anything else (a path real-setup does not write under --root, a
 * sysctl it does not set) is refused whole, and a file or link changed
 * since real-setup made it is left alone. The whole change is planned
 * before anything is touched; a step that fails reverts the steps before
 * it.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include "addr.h"
#include "cmd.h"
#include "ifaddr.h"
#include "json.h"
#include "lines.h"
#include "log.h"
#include "rs_state.h"
#include "spec.h"

#define SYSCTL_DIR	"/proc/sys/"
#define CONF4		"net/ipv4/conf/"

enum step_op {
	ST_ADDR_ADD, ST_ADDR_DEL, ST_SYSCTL, ST_FILE_WRITE, ST_FILE_DEL,
	ST_LINK, ST_LINK_DEL,
};

/* One change to make; what it needs to be reverted, too. */
struct step {
	enum step_op op;
	struct item it;		/* what it adds or removes */
	char from[RS_VALLEN];	/* sysctl: now; restoring: the value set */
	char to[RS_VALLEN];
	char *content;		/* file: what to write */
	char *prev;		/* file: what was there (NULL: nothing) */
	bool restore;		/* sysctl: put back the value recorded */
};

struct rs {
	char root[RS_PATHLEN / 2], state_path[RS_PATHLEN];
	const char *state_arg;	/* --state as given (the unit repeats it) */
	bool undo, persist;
	struct vip args[RS_MAX_VIPS];
	int nargs;
	struct state st;
	struct host_addr *addrs;
	int naddrs;
	int lo;
	struct step steps[RS_MAX_ITEMS];
	int nsteps;
	char made[16][RS_PATHLEN];	/* directories this run created */
	int nmade;
	char err[768];
};

static int rs_fail(struct rs *rs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record the one error of the run; return -1. */
static int rs_fail(struct rs *rs, const char *fmt, ...)
{
	va_list ap;

	if (!rs->err[0]) {
		va_start(ap, fmt);
		vsnprintf(rs->err, sizeof(rs->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* helpers --------------------------------------------------------------- */

static bool vip_equal(const struct vip *a, const struct vip *b)
{
	return a->family == b->family && addr_equal(&a->addr, &b->addr);
}

static int vip_index(const struct vip *v, int n, const struct vip *x)
{
	int i;

	for (i = 0; i < n; i++)
		if (vip_equal(&v[i], x))
			return i;
	return -1;
}

/* A unicast address a host can serve on: not unspecified, loopback,
 * link-local, multicast or broadcast. */
static bool vip_usable(const struct vip *v)
{
	const __u8 *b = (const __u8 *)&v->addr;
	static const __u8 zero[16], one[16] = { [15] = 1 };

	if (v->family == XDPLB_AF_INET)
		return b[0] != 0 && b[0] != 127 && b[0] < 224;
	return memcmp(b, zero, 16) && memcmp(b, one, 16) && b[0] != 0xff &&
	       !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
}

/* "net/ipv4/conf/eth0.100/rp_filter" as sysctl(8) and sysctl.d write it:
 * dots between the parts, a slash for a dot inside an interface name. */
static void sysctl_name(const char *path, char *buf, size_t len)
{
	size_t i, j = 0, pre = strlen(CONF4);
	const char *last = strrchr(path, '/');

	for (i = 0; path[i] && j + 1 < len; i++, j++) {
		bool in_ifname = !strncmp(path, CONF4, pre) && i >= pre &&
				 path + i < last;

		if (path[i] == '/')
			buf[j] = '.';
		else if (path[i] == '.' && in_ifname)
			buf[j] = '/';
		else
			buf[j] = path[i];
	}
	buf[j] = '\0';
}

/* The integer value of a key under /proc/sys, as text. */
static int sysctl_read(const char *key, char *val, size_t len)
{
	char path[RS_PATHLEN];
	int err;

	snprintf(path, sizeof(path), SYSCTL_DIR "%s", key);
	err = lines_read_one(path, val, len, NULL, 0);
	if (err)
		return err;
	if (*val == '-')
		val++;
	return *val && strspn(val, "0123456789") == strlen(val) ? 0 : -EINVAL;
}

/* Open path for writing (truncated), write text, close. */
static int put_text(const char *path, const char *text)
{
	int err = 0;
	FILE *f;

	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fputs(text, f) < 0)
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static int sysctl_write(const char *key, const char *val)
{
	char path[RS_PATHLEN];

	snprintf(path, sizeof(path), SYSCTL_DIR "%s", key);
	return put_text(path, val);
}

/* The files real-setup writes (a unit, a drop-in) are small: one larger
 * than this is not one of them. */
#define RS_MAX_FILE	(64 << 10)

/*
 * The whole file, or NULL with errno: ENOENT when there is none, another
 * when it cannot be read whole (EFBIG: larger than RS_MAX_FILE; EINVAL:
 * it holds a NUL byte, so it is not text and not one of ours).
 */
static char *read_file(const char *path)
{
	char *buf = NULL;
	size_t len = 0, n;
	int err = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	buf = malloc(RS_MAX_FILE + 1);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	while ((n = fread(buf + len, 1, RS_MAX_FILE + 1 - len, f)) > 0)
		len += n;
	if (ferror(f))
		err = errno ? errno : EIO;
	else if (len > RS_MAX_FILE)
		err = EFBIG;
	else if (memchr(buf, '\0', len))
		err = EINVAL;
	buf[len < RS_MAX_FILE ? len : RS_MAX_FILE] = '\0';
out:
	fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	return buf;
}

/* mkdir -p of path's directory; those it makes are noted in rs->made. */
static int make_parent(struct rs *rs, const char *path)
{
	char dir[RS_PATHLEN], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (!mkdir(dir, 0755)) {
			if (rs->nmade < 16)
				strcpy(rs->made[rs->nmade++], dir);
		} else if (errno != EEXIST) {
			return -errno;
		}
		*p = '/';
	}
	return 0;
}

/* Write path whole, or not at all (a temporary file renamed over it). */
static int write_file(struct rs *rs, const char *path, const char *content,
		      mode_t mode)
{
	char tmp[RS_PATHLEN + 8];
	int err;

	err = make_parent(rs, path);
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	err = put_text(tmp, content);
	if (!err && chmod(tmp, mode))
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* What real-setup wrote at a path, to tell later whether it is still
 * that: its CRC-32 (zlib) and length. A change by hand is what this is
 * to catch, not a forgery: only root writes there. */
static void file_sum(const char *content, char *buf, size_t len)
{
	size_t n = strlen(content);

	snprintf(buf, len, "crc32:%08x:%zu",
		 (unsigned int)crc32(0L, (const Bytef *)content, (uInt)n), n);
}

/* Is content still what real-setup wrote (the sum recorded; a state file
 * of an older version kept none: the header real-setup writes)? */
static bool file_ours(const struct item *it, const char *content)
{
	char sum[RS_SUMLEN];

	if (!it->sum[0])
		return !strncmp(content, RS_HEADER, strlen(RS_HEADER));
	file_sum(content, sum, sizeof(sum));
	return !strcmp(sum, it->sum);
}

/* Is path the link real-setup makes (to the unit)? */
static bool link_ours(const char *path)
{
	char target[RS_PATHLEN];
	ssize_t l = readlink(path, target, sizeof(target) - 1);

	if (l <= 0)
		return false;
	target[l] = '\0';
	return !strcmp(target, RS_UNIT);
}

/* the state file ---------------------------------------------------------- */

static int state_load(struct rs *rs)
{
	char msg[sizeof(rs->err)];
	FILE *f;
	int err;

	f = fopen(rs->state_path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return rs_fail(rs, "cannot read the state file '%s': %s",
			       rs->state_path, strerror(errno));
	}
	err = state_parse(&rs->st, f, rs->state_path, msg, sizeof(msg));
	fclose(f);
	return err ? rs_fail(rs, "%s", msg) : 0;
}

/* Is dir a directory above path ("/a" is above "/a/b/c"; "/" is never
 * one real-setup made)? */
static bool dir_above(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	return n > 1 && !strncmp(dir, path, n) && path[n] == '/';
}

/* A decimal number, as the sysctls real-setup sets hold. */
static bool is_number(const char *v)
{
	return *v && strspn(v, "0123456789") == strlen(v);
}

/* A key real-setup sets: net/ipv4/conf/IFNAME/ then arp_ignore or
 * rp_filter, or arp_announce of all and lo. */
static bool sysctl_ours(const char *key)
{
	const char *ifn = key + strlen(CONF4), *leaf;
	size_t n;

	if (strncmp(key, CONF4, strlen(CONF4)) || !(leaf = strchr(ifn, '/')))
		return false;
	n = leaf++ - ifn;
	if (!n || n >= IF_NAMESIZE || ifn[0] == '.')
		return false;
	if (!strcmp(leaf, "arp_ignore") || !strcmp(leaf, "rp_filter"))
		return true;
	return !strcmp(leaf, "arp_announce") &&
	       (!strncmp(ifn, "all/", 4) || !strncmp(ifn, "lo/", 3));
}

/*
 * Everything the state names must be what real-setup makes: its unit,
 * drop-in and link at their paths under the root, directories above
 * those or above the state file, the sysctls it sets (with numbers), and
 * /32 or /128 addresses of its VIPs. Anything else, which --undo would
 * remove or write, refuses the whole file before anything is touched.
 */
static int state_check(struct rs *rs)
{
	char unit[RS_PATHLEN], link[RS_PATHLEN], dropin[RS_PATHLEN];
	const char *paths[] = { unit, link, dropin, rs->state_path };
	const char *root = rs->root[0] ? rs->root : "/";
	char why[RS_PATHLEN + 64];
	unsigned int j;
	struct vip v;
	bool ok;
	int i;

	snprintf(unit, sizeof(unit), "%s" RS_UNIT, rs->root);
	snprintf(link, sizeof(link), "%s" RS_UNIT_LINK, rs->root);
	snprintf(dropin, sizeof(dropin), "%s" RS_DROPIN, rs->root);
	for (i = 0; i < rs->st.nitems; i++) {
		const struct item *it = &rs->st.items[i];

		why[0] = '\0';
		switch (it->kind) {
		case IT_FILE:
			if (strcmp(it->name, unit) && strcmp(it->name, dropin))
				snprintf(why, sizeof(why), "not a file "
					 "real-setup writes (under root '%s')",
					 root);
			break;
		case IT_LINK:
			if (strcmp(it->name, link))
				snprintf(why, sizeof(why), "not the link "
					 "real-setup makes (under root '%s')",
					 root);
			break;
		case IT_DIR:
			for (ok = false, j = 0; j < 4; j++)
				ok |= dir_above(it->name, paths[j]);
			if (!ok)
				snprintf(why, sizeof(why), "not a directory "
					 "above what real-setup writes (under "
					 "root '%s')", root);
			break;
		case IT_SYSCTL:
			if (!sysctl_ours(it->name) || !is_number(it->old) ||
			    !is_number(it->val))
				snprintf(why, sizeof(why), "not a sysctl "
					 "real-setup sets, or not with numbers");
			break;
		case IT_ADDR:
			v.addr = it->addr;
			v.family = it->family;
			if (it->plen != (v.family == XDPLB_AF_INET ? 32 : 128) ||
			    !vip_usable(&v) ||
			    vip_index(rs->st.vips, rs->st.nvips, &v) < 0)
				snprintf(why, sizeof(why), "not the address of "
					 "a VIP real-setup set up");
			break;
		}
		if (why[0])
			return rs_fail(rs, "%s:%d: '%s' is %s: the state file is "
				       "refused, nothing changed",
				       rs->state_path, it->line, it->name, why);
	}
	return 0;
}

/* Write the state if it differs from the file (remove the file when the
 * state is empty). */
static int state_save(struct rs *rs)
{
	char *want = NULL, *have = read_file(rs->state_path);
	int err = 0, i;

	/* Read and checked by state_load just now: only what changed since
	 * (or vanished) can fail here. */
	if (!have && errno != ENOENT)
		return rs_fail(rs, "cannot read the state file '%s': %s",
			       rs->state_path, strerror(errno));

	if (rs->st.nvips || rs->st.nitems) {
		/* The state's own directory, made before it is described. */
		err = make_parent(rs, rs->state_path);
		for (i = 0; i < rs->nmade && rs->st.nitems < RS_MAX_ITEMS; i++) {
			struct item *it = &rs->st.items[rs->st.nitems++];

			memset(it, 0, sizeof(*it));
			it->kind = IT_DIR;
			strcpy(it->name, rs->made[i]);
		}
		rs->nmade = 0;
	}
	if (err) {
		/* reported below */
	} else if (rs->st.nvips || rs->st.nitems) {
		want = state_text(&rs->st);
		if (!want)
			err = -ENOMEM;
		else if (!have || strcmp(have, want))
			err = write_file(rs, rs->state_path, want, 0644);
	} else if (have && unlink(rs->state_path)) {
		err = -errno;
	}
	free(want);
	free(have);
	if (err)
		return rs_fail(rs, "cannot write the state file '%s': %s",
			       rs->state_path, strerror(-err));
	return 0;
}

static void state_drop(struct state *st, const struct item *it)
{
	int i = it - st->items;

	memmove(&st->items[i], &st->items[i + 1],
		(st->nitems - i - 1) * sizeof(*it));
	st->nitems--;
}

/* planning ---------------------------------------------------------------- */

static struct step *step_new(struct rs *rs, enum step_op op)
{
	struct step *s;

	if (rs->nsteps == RS_MAX_ITEMS)
		return NULL;
	s = &rs->steps[rs->nsteps++];
	memset(s, 0, sizeof(*s));
	s->op = op;
	return s;
}

static int plan_addrs(struct rs *rs)
{
	char name[ADDR_STRLEN], ifname[IF_NAMESIZE];
	const struct host_addr *have;
	struct step *s;
	int i;

	for (i = 0; i < rs->nargs; i++) {
		const struct vip *v = &rs->args[i];

		vip_name(v, name, sizeof(name));
		have = ifaddr_find(rs->addrs, rs->naddrs, v->family, &v->addr);
		if (have && have->ifindex == rs->lo)
			continue;
		if (have)
			return rs_fail(rs, "VIP %s is on %s: a real must have "
				       "it on lo only, or it answers ARP and "
				       "neighbour discovery for it (remove it "
				       "there first)", name,
				       if_indextoname(have->ifindex, ifname) ?
				       ifname : "another interface");
		s = step_new(rs, ST_ADDR_ADD);
		if (!s)
			return rs_fail(rs, "too many changes");
		s->it.kind = IT_ADDR;
		s->it.addr = v->addr;
		s->it.family = v->family;
		s->it.plen = v->family == XDPLB_AF_INET ? 32 : 128;
		snprintf(s->it.name, sizeof(s->it.name), "%s/%u", name,
			 s->it.plen);
	}
	return 0;
}

/* Plan key := want when it is not that now. The value recorded as "before"
 * is the first one real-setup found, however often it set the key since. */
static int plan_sysctl(struct rs *rs, const char *key, const char *now,
		       long want)
{
	struct item *had = state_find(&rs->st, IT_SYSCTL, key);
	struct step *s;

	if (strtol(now, NULL, 10) == want)
		return 0;
	s = step_new(rs, ST_SYSCTL);
	if (!s)
		return rs_fail(rs, "too many changes");
	s->it.kind = IT_SYSCTL;
	snprintf(s->it.name, sizeof(s->it.name), "%s", key);
	snprintf(s->it.old, sizeof(s->it.old), "%s", had ? had->old : now);
	snprintf(s->it.val, sizeof(s->it.val), "%ld", want);
	snprintf(s->from, sizeof(s->from), "%s", now);
	snprintf(s->to, sizeof(s->to), "%ld", want);
	return 0;
}

/* The value of a key after the planned steps. */
static long sysctl_after(struct rs *rs, const char *key, const char *now)
{
	int i;

	for (i = 0; i < rs->nsteps; i++)
		if (rs->steps[i].op == ST_SYSCTL &&
		    !strcmp(rs->steps[i].it.name, key))
			return strtol(rs->steps[i].to, NULL, 10);
	return strtol(now, NULL, 10);
}

static int read_key(struct rs *rs, const char *key, char *val)
{
	int err = sysctl_read(key, val, RS_VALLEN);
	char name[RS_PATHLEN];

	if (!err)
		return 0;
	sysctl_name(key, name, sizeof(name));
	return rs_fail(rs, "cannot read %s: %s", name, strerror(-err));
}

/*
 * The kernel takes the larger of conf/all and conf/IFNAME for arp_ignore,
 * arp_announce and rp_filter. arp_ignore 1 (or 2): answer ARP only for
 * addresses of the interface it came in on, so never for a VIP on lo;
 * arp_announce 2: never a VIP as the source of the host's ARP requests.
 * Both on all and lo, as LVS-DR's documentation has it; an interface of
 * its own above 2 (3..7 answer for lo's addresses) is brought to 1.
 * rp_filter 1 (strict) drops a packet when the route back to its source
 * leaves by another interface, which is the case of a real with several
 * interfaces taking the load balancer's traffic on one that is not its
 * route to the client; 2 (loose) only wants a route back at all.
 */
static int plan_sysctls(struct rs *rs)
{
	static const char *const arp_keys[] = {
		CONF4 "all/arp_ignore", CONF4 "lo/arp_ignore",
		CONF4 "all/arp_announce", CONF4 "lo/arp_announce",
	};
	char now[RS_VALLEN], key[RS_PATHLEN];
	long v, rp_all;
	struct dirent *de;
	unsigned int i;
	DIR *d;
	int err = 0;

	for (i = 0; i < sizeof(arp_keys) / sizeof(arp_keys[0]); i++) {
		if (read_key(rs, arp_keys[i], now))
			return -1;
		v = strtol(now, NULL, 10);
		if (strstr(arp_keys[i], "announce"))
			err = plan_sysctl(rs, arp_keys[i], now, 2);
		else
			err = plan_sysctl(rs, arp_keys[i], now,
					  v == 1 || v == 2 ? v : 1);
		if (err)
			return err;
	}
	if (read_key(rs, CONF4 "all/rp_filter", now))
		return -1;
	rp_all = strtol(now, NULL, 10);
	if (rp_all == 1 && plan_sysctl(rs, CONF4 "all/rp_filter", now, 2))
		return -1;

	d = opendir(SYSCTL_DIR CONF4);
	if (!d)
		return rs_fail(rs, "cannot list " SYSCTL_DIR CONF4 ": %s",
			       strerror(errno));
	while (!err && (de = readdir(d))) {
		const char *n = de->d_name;

		if (n[0] == '.' || !strcmp(n, "all") ||
		    !strcmp(n, "default") || !strcmp(n, "lo"))
			continue;
		snprintf(key, sizeof(key), CONF4 "%s/arp_ignore", n);
		err = read_key(rs, key, now);
		v = strtol(now, NULL, 10);
		if (!err && v >= 3 && v <= 7)
			err = plan_sysctl(rs, key, now, 1);
		snprintf(key, sizeof(key), CONF4 "%s/rp_filter", n);
		if (!err)
			err = read_key(rs, key, now);
		if (!err && rp_all == 0 && strtol(now, NULL, 10) == 1)
			err = plan_sysctl(rs, key, now, 2);
	}
	closedir(d);
	return err;
}

/* Plan path to hold content; a file there that real-setup did not write is
 * refused. */
static int plan_file(struct rs *rs, const char *path, char *content)
{
	const struct item *had = state_find(&rs->st, IT_FILE, path);
	char *have = read_file(path);
	struct step *s;

	if (!have && errno != ENOENT) {
		free(content);
		return rs_fail(rs, "cannot read '%s': %s", path,
			       strerror(errno));
	}
	if (have && !strcmp(have, content)) {
		free(have);
		free(content);
		return 0;
	}
	if (have && (!had || !file_ours(had, have))) {
		free(have);
		free(content);
		return rs_fail(rs, "'%s' exists and real-setup did not write "
			       "it%s (move it away first)", path,
			       had ? ", or it changed since" : "");
	}
	s = step_new(rs, ST_FILE_WRITE);
	if (!s) {
		free(have);
		free(content);
		return rs_fail(rs, "too many changes");
	}
	s->it.kind = IT_FILE;
	snprintf(s->it.name, sizeof(s->it.name), "%s", path);
	file_sum(content, s->it.sum, sizeof(s->it.sum));
	s->content = content;
	s->prev = have;
	return 0;
}

static char *unit_text(struct rs *rs, const struct vip *vips, int n)
{
	char exe[PATH_MAX], name[ADDR_STRLEN], *buf = NULL;
	size_t len = 0;
	ssize_t l;
	FILE *m;
	int i;

	l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l <= 0) {
		rs_fail(rs, "cannot find this program's path: %s",
			strerror(errno));
		return NULL;
	}
	exe[l] = '\0';
	m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	fprintf(m,
		RS_HEADER "; real-setup --undo removes it.\n"
		"[Unit]\n"
		"Description=xdplb real server: VIPs on lo, no ARP for them\n"
		"DefaultDependencies=no\n"
		"After=local-fs.target systemd-sysctl.service\n"
		"Before=network-pre.target shutdown.target\n"
		"Wants=network-pre.target\n"
		"Conflicts=shutdown.target\n"
		"\n"
		"[Service]\n"
		"Type=oneshot\n"
		"RemainAfterExit=yes\n"
		"ExecStart=%s real-setup", exe);
	if (rs->state_arg)
		fprintf(m, " --state %s", rs->state_path);
	for (i = 0; i < n; i++) {
		vip_name(&vips[i], name, sizeof(name));
		fprintf(m, " %s", name);
	}
	fprintf(m, "\n\n[Install]\nWantedBy=multi-user.target\n");
	fclose(m);
	return buf;
}

/* The drop-in: the ARP settings as they are after this run, and every
 * other key real-setup set. */
static char *dropin_text(struct rs *rs)
{
	static const char *const keys[] = {
		CONF4 "all/arp_ignore", CONF4 "lo/arp_ignore",
		CONF4 "all/arp_announce", CONF4 "lo/arp_announce",
	};
	char now[RS_VALLEN], name[RS_PATHLEN], *buf = NULL;
	size_t len = 0;
	unsigned int i;
	FILE *m;
	int j;

	m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	fputs(RS_HEADER "; real-setup --undo removes it.\n"
	      "# A real server of a direct-routing load balancer: no ARP for "
	      "the VIPs\n# on lo, never a VIP as ARP source, loose "
	      "reverse-path filtering.\n", m);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (sysctl_read(keys[i], now, sizeof(now)))
			now[0] = '\0';
		sysctl_name(keys[i], name, sizeof(name));
		fprintf(m, "%s = %ld\n", name, sysctl_after(rs, keys[i], now));
	}
	/* Recorded keys, then those this run sets for the first time. */
	for (j = 0; j < rs->st.nitems + rs->nsteps; j++) {
		const struct item *it = j < rs->st.nitems ? &rs->st.items[j] :
					&rs->steps[j - rs->st.nitems].it;
		bool arp = false;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			arp |= !strcmp(it->name, keys[i]);
		if (it->kind != IT_SYSCTL || arp ||
		    (j >= rs->st.nitems &&
		     state_find(&rs->st, IT_SYSCTL, it->name)))
			continue;
		sysctl_name(it->name, name, sizeof(name));
		fprintf(m, "%s = %s\n", name, it->val);
	}
	fclose(m);
	return buf;
}

static int plan_persist(struct rs *rs, const struct vip *vips, int n)
{
	char unit[RS_PATHLEN], link[RS_PATHLEN], dropin[RS_PATHLEN];
	char target[RS_PATHLEN];
	struct step *s;
	char *text;
	ssize_t l;

	snprintf(unit, sizeof(unit), "%s" RS_UNIT, rs->root);
	snprintf(link, sizeof(link), "%s" RS_UNIT_LINK, rs->root);
	snprintf(dropin, sizeof(dropin), "%s" RS_DROPIN, rs->root);
	text = unit_text(rs, vips, n);
	if (!text || plan_file(rs, unit, text))
		return rs_fail(rs, "cannot make the unit: out of memory");
	text = dropin_text(rs);
	if (!text || plan_file(rs, dropin, text))
		return rs_fail(rs, "cannot make the drop-in: out of memory");

	/* Enabled as systemctl enable does it, without systemd running;
	 * anything else there is someone else's. */
	if (link_ours(link))
		return 0;
	l = readlink(link, target, sizeof(target) - 1);
	if (l >= 0 || errno != ENOENT)
		return rs_fail(rs, "'%s' exists and is not the link "
			       "real-setup makes (move it away first)", link);
	s = step_new(rs, ST_LINK);
	if (!s)
		return rs_fail(rs, "too many changes");
	s->it.kind = IT_LINK;
	snprintf(s->it.name, sizeof(s->it.name), "%s", link);
	return 0;
}

/* The undo of everything recorded about the given VIPs, and of the rest
 * when no VIP is left. */
static int plan_undo(struct rs *rs, struct vip *left, int *nleft)
{
	char now[RS_VALLEN];
	struct step *s;
	int i;

	for (i = 0; i < rs->nargs; i++) {
		char name[ADDR_STRLEN];

		vip_name(&rs->args[i], name, sizeof(name));
		if (vip_index(rs->st.vips, rs->st.nvips, &rs->args[i]) < 0)
			return rs_fail(rs, "VIP %s was not set up by "
				       "real-setup (state '%s')", name,
				       rs->state_path);
	}
	*nleft = 0;
	for (i = 0; i < rs->st.nvips; i++)
		if (rs->nargs && vip_index(rs->args, rs->nargs,
					   &rs->st.vips[i]) < 0)
			left[(*nleft)++] = rs->st.vips[i];

	for (i = 0; i < rs->st.nitems; i++) {
		const struct item *it = &rs->st.items[i];
		struct vip v = { .addr = it->addr, .family = it->family };
		const struct host_addr *have;
		struct stat sb;
		bool gone;	/* nothing to do but forget the record */
		enum step_op op;

		if (it->kind == IT_DIR) {
			continue;	/* removed after the state (undo_dirs) */
		} else if (it->kind == IT_ADDR) {
			if (vip_index(left, *nleft, &v) >= 0)
				continue;
			have = ifaddr_find(rs->addrs, rs->naddrs, v.family,
					   &v.addr);
			op = ST_ADDR_DEL;
			gone = !have || have->ifindex != rs->lo;
		} else if (*nleft) {
			continue;	/* shared by the VIPs that stay */
		} else if (it->kind == IT_SYSCTL) {
			op = ST_SYSCTL;
			gone = sysctl_read(it->name, now, sizeof(now)) != 0;
		} else if (it->kind == IT_FILE) {
			op = ST_FILE_DEL;
			gone = lstat(it->name, &sb) != 0;
		} else {
			op = ST_LINK_DEL;
			gone = lstat(it->name, &sb) != 0;
		}
		s = step_new(rs, op);
		if (!s)
			return rs_fail(rs, "too many changes");
		s->it = *it;
		if (gone) {
			s->to[0] = '-';
			continue;
		}
		if (op == ST_SYSCTL) {
			s->restore = true;
			snprintf(s->from, sizeof(s->from), "%s", now);
			/* Changed by someone else since: theirs stays. */
			if (strtol(now, NULL, 10) != strtol(it->val, NULL, 10))
				s->to[0] = '!';
			else
				snprintf(s->to, sizeof(s->to), "%s", it->old);
		}
		/* Changed since real-setup made it: someone's now. */
		if (op == ST_FILE_DEL) {
			s->prev = read_file(it->name);
			if (!S_ISREG(sb.st_mode) || !s->prev ||
			    !file_ours(it, s->prev))
				s->to[0] = '!';
		}
		if (op == ST_LINK_DEL && !link_ours(it->name))
			s->to[0] = '!';
	}
	return 0;
}

/* applying ---------------------------------------------------------------- */

/* Do one step (undo: revert it). */
static int step_run(struct rs *rs, struct step *s, bool undo)
{
	const char *set;
	int err = 0;

	if (s->to[0] == '-' || s->to[0] == '!')
		return 0;
	switch (s->op) {
	case ST_ADDR_ADD:
	case ST_ADDR_DEL:
		if ((s->op == ST_ADDR_ADD) != undo)
			err = ifaddr_add(rs->lo, s->it.family, &s->it.addr,
					 s->it.plen, true);
		else
			err = ifaddr_del(rs->lo, s->it.family, &s->it.addr,
					 s->it.plen);
		break;
	case ST_SYSCTL:
		set = undo ? s->from : s->to;
		err = sysctl_write(s->it.name, set);
		break;
	case ST_FILE_WRITE:
		if (!undo)
			err = write_file(rs, s->it.name, s->content, 0644);
		else if (s->prev)
			err = write_file(rs, s->it.name, s->prev, 0644);
		else if (unlink(s->it.name))
			err = -errno;
		break;
	case ST_FILE_DEL:
		if (undo)
			err = write_file(rs, s->it.name, s->prev, 0644);
		else if (unlink(s->it.name))
			err = -errno;
		break;
	case ST_LINK:
	case ST_LINK_DEL:
		if ((s->op == ST_LINK) == undo) {
			if (unlink(s->it.name))
				err = -errno;
			break;
		}
		err = make_parent(rs, s->it.name);
		if (!err && symlink(RS_UNIT, s->it.name))
			err = -errno;
		break;
	}
	return err;
}

static const char *step_verb(const struct step *s)
{
	if (s->to[0] == '!')
		return "kept";
	switch (s->op) {
	case ST_ADDR_ADD:
		return "added";
	case ST_ADDR_DEL:
		return "removed";
	case ST_SYSCTL:
		return s->restore ? "restored" : "set";
	case ST_FILE_WRITE:
		return s->prev ? "rewrote" : "wrote";
	case ST_LINK:
		return "linked";
	default:
		return "deleted";
	}
}

/* Why a file or link that --undo would remove stays. */
static const char *kept_why(const struct step *s)
{
	return s->it.kind == IT_FILE ? "changed since real-setup wrote it" :
	       "no longer the link real-setup made";
}

static void step_print(const struct step *s)
{
	char name[RS_PATHLEN];
	const char *what;

	if (s->to[0] == '-')
		return;
	what = s->it.kind == IT_ADDR ? "address" :
	       s->it.kind == IT_SYSCTL ? "sysctl" :
	       s->it.kind == IT_FILE ? "file" : "link";
	snprintf(name, sizeof(name), "%s", s->it.name);
	if (s->it.kind == IT_SYSCTL)
		sysctl_name(s->it.name, name, sizeof(name));
	if (opts.json) {
		jw_start_object();
		jw_kv_string("action", step_verb(s));
		jw_kv_string("object", what);
		jw_kv_string("name", name);
		if (s->it.kind == IT_ADDR)
			jw_kv_string("dev", "lo");
		if (s->it.kind == IT_SYSCTL) {
			jw_kv_string("from", s->from);
			jw_kv_string("to", s->to[0] == '!' ? s->from : s->to);
		}
		if (s->it.kind == IT_LINK)
			jw_kv_string("target", RS_UNIT);
		if (s->to[0] == '!' && s->it.kind != IT_SYSCTL)
			jw_kv_string("reason", kept_why(s));
		jw_end_object();
		return;
	}
	if (s->to[0] == '!' && s->it.kind != IT_SYSCTL) {
		printf("kept %s (%s)\n", name, kept_why(s));
		return;
	}
	switch (s->op) {
	case ST_ADDR_ADD:
		printf("added %s to lo%s\n", name,
		       s->it.family == XDPLB_AF_INET6 ?
		       " (nodad, preferred_lft 0: never a source address)" :
		       "");
		break;
	case ST_ADDR_DEL:
		printf("removed %s from lo\n", name);
		break;
	case ST_SYSCTL:
		if (s->to[0] == '!')
			printf("kept %s = %s (changed since real-setup set "
			       "it to %s; it was %s before)\n", name, s->from,
			       s->it.val, s->it.old);
		else
			printf("%s %s %s -> %s\n", step_verb(s), name, s->from,
			       s->to);
		break;
	case ST_LINK:
		printf("linked %s -> %s\n", name, RS_UNIT);
		break;
	default:
		printf("%s %s\n", step_verb(s), name);
	}
}

/* Fold the steps done into the state. */
static void state_update(struct rs *rs)
{
	struct item *had;
	int i;

	for (i = 0; i < rs->nsteps; i++) {
		const struct step *s = &rs->steps[i];

		had = state_find(&rs->st, s->it.kind, s->it.name);
		switch (s->op) {
		case ST_ADDR_ADD:
		case ST_SYSCTL:
		case ST_FILE_WRITE:
		case ST_LINK:
			if (s->restore) {
				if (had)
					state_drop(&rs->st, had);
			} else if (had) {
				*had = s->it;
			} else if (rs->st.nitems < RS_MAX_ITEMS) {
				rs->st.items[rs->st.nitems++] = s->it;
			}
			break;
		default:
			if (had)
				state_drop(&rs->st, had);
		}
	}
}

/* Revert the steps done and remove the directories made for them. */
static void revert(struct rs *rs, int nsteps, bool report)
{
	int i;

	for (i = nsteps - 1; i >= 0; i--)
		if (step_run(rs, &rs->steps[i], true) && report)
			snprintf(rs->err + strlen(rs->err),
				 sizeof(rs->err) - strlen(rs->err),
				 "; and could not revert %s",
				 rs->steps[i].it.name);
	for (i = rs->nmade - 1; i >= 0; i--)
		rmdir(rs->made[i]);
	rs->nmade = 0;
}

static int apply(struct rs *rs)
{
	int i, err = 0;

	for (i = 0; i < rs->nsteps; i++) {
		err = step_run(rs, &rs->steps[i], false);
		if (err)
			break;
	}
	if (!err)
		return 0;
	rs_fail(rs, "cannot %s %s: %s",
		rs->steps[i].op == ST_ADDR_ADD ? "add" :
		rs->steps[i].op == ST_ADDR_DEL ? "remove" :
		rs->steps[i].op == ST_SYSCTL ? "set" : "write",
		rs->steps[i].it.name, strerror(-err));
	revert(rs, i, true);
	return -1;
}

/* A whole undo: the directories real-setup made go last, those that are
 * empty; out of the state before it is saved (or deleted). */
static int undo_dirs_take(struct rs *rs, char (*dirs)[RS_PATHLEN])
{
	int i, n = 0;

	for (i = rs->st.nitems - 1; i >= 0; i--) {
		if (rs->st.items[i].kind != IT_DIR)
			continue;
		if (n < 16)
			strcpy(dirs[n++], rs->st.items[i].name);
		state_drop(&rs->st, &rs->st.items[i]);
	}
	return n;
}

static void undo_dirs_remove(char (*dirs)[RS_PATHLEN], int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (rmdir(dirs[i]))
			continue;	/* not empty: someone else's now */
		if (opts.json) {
			jw_start_object();
			jw_kv_string("action", "removed");
			jw_kv_string("object", "dir");
			jw_kv_string("name", dirs[i]);
			jw_end_object();
		} else {
			printf("removed %s\n", dirs[i]);
		}
	}
}

static void rs_free(struct rs *rs)
{
	int i;

	for (i = 0; i < rs->nsteps; i++) {
		free(rs->steps[i].content);
		free(rs->steps[i].prev);
	}
	free(rs->addrs);
	free(rs);
}

/* A path the state file and the unit can hold. */
static bool recordable(const char *path)
{
	if (*path != '/')
		return false;
	for (; *path; path++)
		if ((unsigned char)*path <= ' ' || *path == 0x7f)
			return false;
	return true;
}

static const char rs_usage[] =
	"real-setup VIPADDR... [--persist] [--root ROOT] [--state STATE] | "
	"real-setup [VIPADDR...] --undo";

static int parse_args(struct rs *rs, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "undo", no_argument, NULL, 'u' },
		{ "persist", no_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "state", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = getenv("XDPLB_ROOT");
	const char *state = getenv("XDPLB_REAL_STATE");
	char err[SPEC_ERRLEN];
	int c, i;

	optind = 0;
	while ((c = spec_getopt(argc, argv, lo, err, sizeof(err))) != -1) {
		switch (c) {
		case 'u':
			rs->undo = true;
			break;
		case 'p':
			rs->persist = true;
			break;
		case 'r':
			root = optarg;
			break;
		case 's':
			state = optarg;
			rs->state_arg = optarg;
			break;
		default:
			return spec_report(-c, err);
		}
	}
	if (rs->undo && rs->persist)
		return usage_error(argv[0], "--undo takes back --persist too; "
				   "give only one of them");
	if (optind >= argc && !rs->undo)
		return usage_error(argv[0], "which VIPs? %s", rs_usage);
	if (argc - optind > RS_MAX_VIPS)
		return usage_error(argv[0], "at most %d VIPs", RS_MAX_VIPS);
	for (i = optind; i < argc; i++) {
		struct vip *v = &rs->args[rs->nargs];

		if (parse_vip_addr(argv[i], v)) {
			p_err("VIP '%s': not an address, nor ADDR:PORT"
			      "[/tcp|/udp] (IPv6 ADDR in brackets)", argv[i]);
			return EXIT_FAIL;
		}
		if (!vip_usable(v)) {
			p_err("VIP '%s': not a unicast address a host can "
			      "serve on", argv[i]);
			return EXIT_FAIL;
		}
		if (vip_index(rs->args, rs->nargs, v) < 0)
			rs->nargs++;
	}
	if ((root && strlen(root) >= sizeof(rs->root)) ||
	    (state && strlen(state) >= sizeof(rs->state_path))) {
		p_err("real-setup: --root or --state too long");
		return EXIT_FAIL;
	}
	/* The state file records paths under ROOT as words, and the unit
	 * names STATE for a boot with another working directory. */
	if ((root && !recordable(root)) || (state && !recordable(state))) {
		p_err("real-setup: --root and --state take an absolute path "
		      "without blanks or control characters");
		return EXIT_FAIL;
	}
	if (root && strcmp(root, "/"))
		snprintf(rs->root, sizeof(rs->root), "%s", root);
	if (state)
		snprintf(rs->state_path, sizeof(rs->state_path), "%s", state);
	else
		snprintf(rs->state_path, sizeof(rs->state_path),
			 "%s" RS_STATE, rs->root);
	return EXIT_OK;
}

int do_real_setup(int argc, char **argv)
{
	struct vip left[RS_MAX_VIPS];
	char unit[RS_PATHLEN], dirs[16][RS_PATHLEN];
	int nleft = 0, ndirs = 0, i, ret, err;
	struct rs *rs;

	rs = calloc(1, sizeof(*rs));
	if (!rs) {
		p_err("real-setup: out of memory");
		return EXIT_FAIL;
	}
	ret = parse_args(rs, argc, argv);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	rs->lo = if_nametoindex("lo");
	if (!rs->lo) {
		p_err("real-setup: no interface 'lo': %s", strerror(errno));
		goto out;
	}
	err = host_addrs(&rs->addrs, &rs->naddrs);
	if (err) {
		p_err("real-setup: cannot list addresses: %s", strerror(-err));
		goto out;
	}
	if (state_load(rs) || state_check(rs))
		goto fail;

	if (rs->undo) {
		if (plan_undo(rs, left, &nleft))
			goto fail;
		/* Some VIPs stay: a unit of ours names only those. */
		snprintf(unit, sizeof(unit), "%s" RS_UNIT, rs->root);
		if (nleft && state_find(&rs->st, IT_FILE, unit)) {
			char *text = unit_text(rs, left, nleft);

			if (!text || plan_file(rs, unit, text))
				goto fail;
		}
	} else {
		for (nleft = 0; nleft < rs->st.nvips; nleft++)
			left[nleft] = rs->st.vips[nleft];
		for (i = 0; i < rs->nargs; i++)
			if (vip_index(left, nleft, &rs->args[i]) < 0)
				left[nleft++] = rs->args[i];
		if (nleft > RS_MAX_VIPS) {
			rs_fail(rs, "at most %d VIPs", RS_MAX_VIPS);
			goto fail;
		}
		if (plan_addrs(rs) || plan_sysctls(rs) ||
		    (rs->persist && plan_persist(rs, left, nleft)))
			goto fail;
	}

	if (apply(rs))
		goto fail;
	state_update(rs);
	memcpy(rs->st.vips, left, nleft * sizeof(left[0]));
	rs->st.nvips = nleft;
	if (rs->undo && !nleft)
		ndirs = undo_dirs_take(rs, dirs);
	if (state_save(rs)) {
		revert(rs, rs->nsteps, false);
		goto fail;
	}

	if (opts.json) {
		jw_start_object();
		jw_kv_string("state", rs->state_path);
		jw_name("changes");
		jw_start_array();
	}
	for (i = 0; i < rs->nsteps; i++)
		step_print(&rs->steps[i]);
	undo_dirs_remove(dirs, ndirs);
	if (opts.json) {
		jw_end_array();
		jw_end_object();
		jw_flush();
	} else {
		for (i = 0; i < rs->nsteps && rs->steps[i].to[0] == '-'; i++)
			;
		if (i == rs->nsteps && !ndirs)
			printf("nothing to change\n");
	}
	ret = EXIT_OK;
	goto out;
fail:
	p_err("real-setup: %s", rs->err);
out:
	rs_free(rs);
	return ret;
}
