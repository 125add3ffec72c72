// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_attach.c - attach and detach: load the XDP program, attach it
 * through libxdp (its multi-program dispatcher where the kernel allows it,
 * the program alone otherwise), pin every map under the pin directory, and
 * take all of it away again.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

/* xdplb.h first: the skeleton's .rodata names struct xdplb_build. */
#include "xdplb.h"
#include "xdplb.skel.h"
#include "addr.h"
#include "cmd.h"
#include "hook.h"
#include "layout.h"
#include "lb.h"
#include "log.h"
#include "spec.h"
#include "upgrade.h"

#define MAX_ATTACH_VIPS 64

static int if_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		err = -EPFNOSUPPORT;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/* Pin every map of the object under the names of the current layout,
 * and the program (-ENOTUNIQ: a map the layout does not list, a bug
 * caught by any attach). */
static int pin_all(struct xdplb_bpf *skel, const char *dir)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;	/* .rodata: part of the program */
		if (!layout_map(layout_current(), bpf_map__name(map)))
			return -ENOTUNIQ;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err)
			return err;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, XDPLB_PIN_PROG);
	return bpf_program__pin(skel->progs.xdplb, path);
}

/*
 * libxdp keeps its own pins on a bpffs, by default /sys/fs/bpf. Under `ip
 * netns exec` that is not a bpffs (the command remounts /sys): then point
 * libxdp at the bpffs our pin directory is on.
 */
static void libxdp_bpffs(const char *pin_dir)
{
	char *dir, *slash;

	if (getenv("LIBXDP_BPFFS") || pin_dir_on_bpffs("/sys/fs/bpf"))
		return;
	dir = strdup(pin_dir);
	if (!dir)
		return;
	/* The highest ancestor still on bpffs is the mount point. */
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (!pin_dir_on_bpffs(dir)) {
			*slash = '/';
			break;
		}
	}
	setenv("LIBXDP_BPFFS", dir, 1);
	pr_debug("libxdp bpffs: %s\n", dir);
	free(dir);
}

/* Does dir hold anything? */
static bool dir_has_entries(const char *dir)
{
	struct dirent *e;
	bool any = false;
	DIR *d = opendir(dir);

	while (d && !any && (e = readdir(d)))
		any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return any;
}

/* The pin directory must be on bpffs; create it if its parent is. */
static int prepare_pin_dir(const char *dir)
{
	char parent[PATH_MAX], *slash;

	if (!access(dir, F_OK)) {
		if (!pin_dir_on_bpffs(dir)) {
			p_err("pin dir '%s' is not on a bpffs (mount one: "
			      "mount -t bpf bpf DIR)", dir);
			return -1;
		}
		return 0;
	}
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), "/");
	if (!pin_dir_on_bpffs(parent)) {
		p_err("pin dir '%s' is not on a bpffs (mount one: mount -t bpf "
		      "bpf %s)", dir, parent);
		return -1;
	}
	if (trust_pin_dir(dir, parent))
		return -1;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		p_err("cannot create pin dir '%s': %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static const struct option attach_opts[] = {
	{ "vip", required_argument, NULL, 'V' },
	{ "hash", required_argument, NULL, 'H' },
	{ "ops", no_argument, NULL, 'o' },
	{ "mode", required_argument, NULL, 'm' },
	{ "table-size", required_argument, NULL, 't' },
	{ "conn-table-size", required_argument, NULL, 'c' },
	{ "conn-rate", required_argument, NULL, 'r' },
	{ "tcp-timeout", required_argument, NULL, 'T' },
	{ "udp-timeout", required_argument, NULL, 'U' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The XDP hook can be shared only through libxdp's dispatcher. When the
 * attach failed, say what holds the hook and how to proceed, in one line.
 */
static void attach_error(const char *ifname, int ifindex, int err)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *other = NULL;

	if (mp && !libxdp_get_error(mp))
		other = xdp_multiprog__main_prog(mp);
	if (!other) {
		p_err("cannot attach to '%s': %s", ifname, strerror(-err));
	} else if (xdp_multiprog__is_legacy(mp)) {
		p_err("cannot attach to '%s': XDP program '%s' (id %u) owns "
		      "its XDP hook, attached without libxdp's dispatcher; "
		      "remove it (ip link set dev %s %s off) or, where the "
		      "dispatcher works, load it with xdp-loader, then attach "
		      "again", ifname, xdp_program__name(other),
		      xdp_program__id(other), ifname,
		      xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ?
		      "xdpgeneric" : "xdpdrv");
	} else {
		p_err("cannot attach to '%s' through libxdp's dispatcher "
		      "(which holds %d program(s), %s mode): %s", ifname,
		      xdp_multiprog__program_count(mp),
		      xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ?
		      "generic" : "native", strerror(-err));
	}
	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
}

/*
 * Print how prog sits on the hook of ifindex: in libxdp's dispatcher (its
 * priority, and the programs beside it), or alone, owning the hook (libxdp
 * falls back to that when the dispatcher cannot load; -v says why).
 */
static void print_hook(struct xdp_program *prog, int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	int n = 0;

	if (!mp || libxdp_get_error(mp) || xdp_multiprog__is_legacy(mp)) {
		printf("attached directly (owns the XDP hook; libxdp's "
		       "dispatcher could not be used, -v says why)\n");
		goto out;
	}
	printf("attached through the libxdp dispatcher (priority %u, ",
	       xdp_program__run_prio(prog));
	while ((p = xdp_multiprog__next_prog(p, mp))) {
		if (xdp_program__id(p) == xdp_program__id(prog))
			continue;
		printf("%s%s", n++ ? ", " : "alongside: ",
		       xdp_program__name(p));
	}
	printf("%s)\n", n ? "" : "alone");
out:
	if (mp && !libxdp_get_error(mp))
		xdp_multiprog__close(mp);
}

/* A number in lo..hi for option name, or an error naming it. */
static int parse_range(const char *name, const char *s, unsigned long lo,
		       unsigned long hi, __u32 *out)
{
	unsigned long v;

	if (parse_ulong(s, hi, &v) || v < lo) {
		p_err("%s '%s' out of range (%lu..%lu)", name, s, lo, hi);
		return -1;
	}
	*out = (__u32)v;
	return 0;
}

int do_attach(int argc, char **argv)
{
	struct xdplb_svc_key vips[MAX_ATTACH_VIPS];
	__u32 vip_flags[MAX_ATTACH_VIPS] = {};
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	struct xdplb_config cfg = {
		.magic = XDPLB_MAGIC,
		.abi_version = XDPLB_ABI_VERSION,
		.table_size = XDPLB_DEFAULT_TABLE_SIZE,
		.hash_seed = XDPLB_DEFAULT_HASH_SEED,
		.xdp_mode = XDPLB_MODE_NATIVE,
		.ct_size = XDPLB_DEFAULT_CT_SIZE,
		.ct_rate = 0,		/* from the table's size, unless given */
		.tcp_timeout = XDPLB_DEFAULT_TCP_TIMEOUT,
		.udp_timeout = XDPLB_DEFAULT_UDP_TIMEOUT,
	};
	struct xdp_program *prog = NULL;
	struct xdplb_bpf *skel = NULL;
	const char *ifname, *dir = opts.pin_dir, *what;
	char path[PATH_MAX], vip[ADDR_STRLEN], msg[512] = "";
	int nvips = 0, i, c, err, ret = EXIT_FAIL, template_fd = -1;
	struct lb lb;

	optind = 0;
	while ((c = spec_getopt(argc, argv, attach_opts, msg,
				sizeof(msg))) != -1) {
		switch (c) {
		case 'V':
			if (nvips == MAX_ATTACH_VIPS)
				return usage_error(argv[0], "at most %d --vip",
						   MAX_ATTACH_VIPS);
			if (parse_vip_arg(optarg, &vips[nvips]))
				return EXIT_FAIL;
			for (i = 0; i < nvips; i++)
				if (!memcmp(&vips[i], &vips[nvips],
					    sizeof(vips[i]))) {
					p_err("duplicate VIP '%s'", optarg);
					return EXIT_FAIL;
				}
			nvips++;
			break;
		case 'H':
		case 'o':
			/* Options of the --vip they follow. */
			if (!nvips)
				return usage_error(argv[0], "--%s goes after "
						   "the --vip it is for",
						   c == 'H' ? "hash" : "ops");
			if (parse_svc_option(c, optarg, &vips[nvips - 1],
					     &vip_flags[nvips - 1]))
				return EXIT_FAIL;
			break;
		case 'c':
			if (parse_range("connection table size", optarg,
					XDPLB_MIN_CT_SIZE, XDPLB_MAX_CT_SIZE,
					&cfg.ct_size))
				return EXIT_FAIL;
			if (cfg.ct_size & (cfg.ct_size - 1)) {
				p_err("connection table size '%s' is not a "
				      "power of two", optarg);
				return EXIT_FAIL;
			}
			break;
		case 'r':
			if (parse_range("connection rate", optarg, 1,
					100000000, &cfg.ct_rate))
				return EXIT_FAIL;
			break;
		case 'T':
			if (parse_range("TCP timeout", optarg, 1,
					SPEC_MAX_FLOW_TIMEOUT,
					&cfg.tcp_timeout))
				return EXIT_FAIL;
			break;
		case 'U':
			if (parse_range("UDP timeout", optarg, 1,
					SPEC_MAX_FLOW_TIMEOUT,
					&cfg.udp_timeout))
				return EXIT_FAIL;
			break;
		case 'm':
			if (!strcmp(optarg, "native")) {
				mode = XDP_MODE_NATIVE;
				cfg.xdp_mode = XDPLB_MODE_NATIVE;
			} else if (!strcmp(optarg, "generic")) {
				mode = XDP_MODE_SKB;
				cfg.xdp_mode = XDPLB_MODE_GENERIC;
			} else {
				return usage_error(argv[0], "unknown mode '%s' "
						   "(native or generic)",
						   optarg);
			}
			break;
		case 't':
			if (parse_table_size(optarg, &cfg.table_size))
				return EXIT_FAIL;
			break;
		default:
			return spec_report(-c, msg);
		}
	}
	if (optind != argc - 1)
		return usage_error(argv[0], "expected one IFNAME");
	if (!cfg.ct_rate)
		cfg.ct_rate = xdplb_ct_default_rate(cfg.ct_size);
	if (!nvips)
		return usage_error(argv[0], "at least one --vip is needed");
	ifname = argv[optind];

	if (strlen(ifname) >= IFNAMSIZ || !(cfg.ifindex = if_nametoindex(ifname))) {
		p_err("interface '%s' not found", ifname);
		return EXIT_FAIL;
	}
	snprintf(cfg.ifname, sizeof(cfg.ifname), "%s", ifname);
	err = if_mac(ifname, cfg.ifmac);
	if (err) {
		p_err("cannot use interface '%s': %s", ifname,
		      err == -EPFNOSUPPORT ? "not an Ethernet device" :
		      strerror(-err));
		return EXIT_FAIL;
	}

	lb_init(&lb);
	if (prepare_pin_dir(dir) || lock_pin_dir(&lb, dir))
		return EXIT_FAIL;
	/* An upgrade killed on its way is finished or undone first. */
	msg[0] = '\0';	/* the options' message buffer before */
	if (upgrade_pending(dir) && upgrade_recover(dir, msg, sizeof(msg))) {
		p_err("%s", msg);
		goto out_unlock;
	}
	if (msg[0])
		pr_warn("%s\n", msg);
	snprintf(path, sizeof(path), "%s/%s", dir, XDPLB_PIN_CONFIG);
	if (!access(path, F_OK)) {
		struct xdplb_config_header hdr;
		char other[IF_NAMESIZE];

		if (!lb_read_header(dir, &hdr, NULL))
			p_err("'%s' already holds an instance attached to '%s' "
			      "(detach it first)", dir,
			      if_indextoname(hdr.ifindex, other) ? other :
			      "an interface not in this network namespace");
		else
			p_err("'%s' already holds pinned maps (detach them "
			      "first)", dir);
		goto out_unlock;
	}
	/* Pins without a config: what an instance's detach by an older
	 * xdplb, or a crash, left. Nothing can use them any more. */
	if (dir_has_entries(dir)) {
		pr_warn("removing stray pins under '%s' (no instance's config "
			"among them)\n", dir);
		err = lb_unpin_all(dir, true);
		if (err) {
			p_err("cannot remove stray pins under '%s': %s", dir,
			      strerror(-err));
			goto out_unlock;
		}
	}

	cfg.netns_cookie = netns_cookie();
	skel = xdplb_bpf__open();
	if (!skel) {
		p_err("cannot open the BPF object: %s", strerror(errno));
		goto out_unlock;
	}
	template_fd = xdplb_configure(skel, &cfg, &what);
	if (template_fd < 0) {
		p_err("cannot size %s: %s", what, strerror(-template_fd));
		goto out_destroy;
	}

	/* libxdp loads the object, then attaches it. */
	libxdp_bpffs(dir);
	prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
	err = libxdp_get_error(prog);
	if (err) {
		prog = NULL;
		p_err("cannot prepare the XDP program: %s", strerror(-err));
		goto out_destroy;
	}
	err = xdp_program__attach(prog, cfg.ifindex, mode, 0);
	if (err) {
		attach_error(ifname, cfg.ifindex, err);
		goto out_destroy;
	}

	err = lb_from_skel(&lb, skel, &cfg);
	for (i = 0; !err && i < nvips; i++)
		err = lb_svc_add(&lb, &vips[i], vip_flags[i], 0);
	if (err) {
		p_err("cannot configure the services: %s", strerror(-err));
		goto out_detach;
	}
	err = pin_all(skel, dir);
	if (err) {
		p_err("cannot pin maps under '%s': %s", dir, strerror(-err));
		goto out_detach;
	}

	if (!opts.json) {
		printf("attached to %s (%s) with Maglev table %u", ifname,
		       cfg.xdp_mode == XDPLB_MODE_NATIVE ? "native" : "generic",
		       cfg.table_size);
		for (i = 0; i < nvips; i++) {
			format_vip(&vips[i], vip, sizeof(vip));
			printf("%s%s", i ? ", " : "; services ", vip);
		}
		printf("\n");
		print_hook(prog, cfg.ifindex);
	}
	ret = EXIT_OK;
	goto out_destroy;

out_detach:
	xdp_program__detach(prog, cfg.ifindex, mode, 0);
	lb_unpin_all(dir, false);
out_destroy:
	if (template_fd >= 0)
		close(template_fd);
	xdp_program__close(prog);
	xdplb_bpf__destroy(skel);
out_unlock:
	lb_close(&lb);
	if (ret != EXIT_OK)
		rmdir(dir);	/* only if we made it and it is empty */
	return ret;
}

/* Take the instance's program off the hook: program id inside the
 * dispatcher or alone, through libxdp either way. */
static int detach_prog(int ifindex, __u32 id, bool generic)
{
	struct xdp_program *prog = xdp_program__from_id(id);
	int err = libxdp_get_error(prog);

	if (err)
		return err;
	err = xdp_program__detach(prog, ifindex, generic ? XDP_MODE_SKB :
				  XDP_MODE_NATIVE, 0);
	xdp_program__close(prog);
	return err;
}

static const char detach_usage[] = "detach IFNAME [--force]";

/*
 * Detach reads only the config's first fields and the pins, which every
 * layout keeps, so an instance made by any xdplb can be taken down. It
 * removes nothing until it has found the instance's own program (by id)
 * on the interface, in this network namespace, and taken it off; what it
 * finds instead, it says. Where the program is gone for sure (the
 * instance records this namespace, and the hook is empty or the
 * interface gone), the pins go too. --force removes the pins whatever is
 * found, for an instance whose namespace is gone.
 */
int do_detach(int argc, char **argv)
{
	static const struct option detach_opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct xdplb_config_header hdr;
	const char *ifname, *dir = opts.pin_dir;
	char other[IF_NAMESIZE], found[256], msg[512];
	__u32 pinned;
	int ifindex, idx, c, err;
	bool force = false, here;
	__u64 cookie;
	struct hook h;
	struct lb lb;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", detach_opts, NULL)) != -1) {
		if (c != 'f')
			return usage_error(argv[0], "bad option (%s)",
					   detach_usage);
		force = true;
	}
	if (optind != argc - 1)
		return usage_error(argv[0], "expected one IFNAME (%s)",
				   detach_usage);
	ifname = argv[optind];
	lb_init(&lb);
	if (lock_pin_dir(&lb, dir))
		return EXIT_FAIL;
	err = upgrade_recover(dir, msg, sizeof(msg));
	if (err && !force) {
		p_err("%s", msg);
		goto err_close;
	}
	if (msg[0] && !err)
		pr_warn("%s\n", msg);
	err = lb_read_header(dir, &hdr, &cookie);
	if (err) {
		p_err(err == -ENOENT ? "no xdplb instance at '%s' (give its "
		      "--pin-dir)" : "'%s' does not hold an xdplb instance",
		      dir);
		goto err_close;
	}
	/* here: the instance records this namespace as its own. */
	here = cookie && cookie == netns_cookie();
	if (cookie && !here && !force) {
		p_err("the instance at '%s' is attached in another network "
		      "namespace: detach it there (nsenter --net=...); nothing "
		      "removed", dir);
		goto err_close;
	}
	ifindex = strlen(ifname) < IFNAMSIZ ? (int)if_nametoindex(ifname) : 0;
	if (!ifindex) {
		if (!force && !here) {
			p_err("interface '%s' not found", ifname);
			goto err_close;
		}
		/* Its interface is gone, and the program with it. */
		pr_warn("interface '%s' is gone; removing the instance's "
			"pins\n", ifname);
		goto unpin;
	}
	if (hdr.ifindex != (__u32)ifindex) {
		p_err("the instance at '%s' is attached to '%s', not '%s'",
		      dir, if_indextoname(hdr.ifindex, other) ? other : "?",
		      ifname);
		goto err_close;
	}

	err = hook_read(ifindex, &h);
	if (err) {
		p_err("cannot read the XDP hook of '%s': %s", ifname,
		      strerror(-err));
		goto err_close;
	}
	pinned = pinned_prog_id(dir);
	idx = hook_find(&h, pinned, pinned_map_id(dir, XDPLB_PIN_GLOBAL_STATS));
	if (idx >= 0) {
		err = detach_prog(ifindex, h.prog[idx].id, h.generic);
		if (err) {
			p_err("cannot detach from '%s': %s", ifname,
			      strerror(-err));
			goto err_close;
		}
	} else if (!h.n && here) {
		pr_warn("no XDP program on '%s': the instance's program (id "
			"%u) was taken off by something else; removing its "
			"pins\n", ifname, pinned);
	} else if (force) {
		hook_describe(&h, found, sizeof(found));
		pr_warn("'%s' runs %s, not the instance's program (id %u); "
			"--force: removing the instance's pins\n", ifname,
			found, pinned);
	} else {
		hook_describe(&h, found, sizeof(found));
		p_err("'%s' runs %s, not the instance's program (id %u): "
		      "nothing removed (%s; --force removes the pins anyway)",
		      ifname, found, pinned, cookie ?
		      "detach it where it runs" : "if it runs in another "
		      "network namespace, detach it there");
		goto err_close;
	}
unpin:
	err = lb_unpin_all(dir, false);
	lb_close(&lb);
	if (err) {
		p_err("detached from '%s', but cannot remove every pin under "
		      "'%s': %s", ifname, dir, strerror(-err));
		return EXIT_FAIL;
	}
	if (!opts.json)
		printf("detached from %s\n", ifname);
	return EXIT_OK;

err_close:
	lb_close(&lb);
	return EXIT_FAIL;
}
