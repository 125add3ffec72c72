// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_attach.c - attach and detach: load the XDP program, attach it
 * through libxdp (its multi-program dispatcher where the kernel allows it,
 * the program alone otherwise), pin every map under the pin directory, and
 * take all of it away again.
 */
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

#include "xdplb.skel.h"
#include "addr.h"
#include "cmd.h"
#include "lb.h"
#include "log.h"
#include "spec.h"

#define MAX_ATTACH_VIPS 64

static const char *const pin_names[] = {
	XDPLB_PIN_CONFIG, XDPLB_PIN_SERVICES, XDPLB_PIN_SVC_INDEX,
	XDPLB_PIN_MAGLEV, XDPLB_PIN_REALS, XDPLB_PIN_GLOBAL_STATS,
	XDPLB_PIN_SVC_STATS, XDPLB_PIN_REAL_STATS, XDPLB_PIN_CONNS,
	XDPLB_PIN_CT_GUARD, XDPLB_PIN_SVC_OPTS, XDPLB_PIN_VIP_FILTER,
	XDPLB_PIN_FRAGS, XDPLB_PIN_PROG,
};

#define N_PINS (sizeof(pin_names) / sizeof(pin_names[0]))

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

static void unpin_all(const char *dir)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < N_PINS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[i]);
		unlink(path);
	}
	rmdir(dir);	/* fails, harmlessly, on a mount point or if shared */
}

/* Pin every map of the object; each must be in pin_names, which detach
 * removes (-ENOTUNIQ: one is not, a bug caught by any attach). */
static int pin_all(struct xdplb_bpf *skel, const char *dir)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	size_t i;
	int err;

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;	/* .rodata: part of the program */
		for (i = 0; i < N_PINS; i++)
			if (!strcmp(pin_names[i], bpf_map__name(map)))
				break;
		if (i == N_PINS)
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
		.ct_rate = XDPLB_DEFAULT_CT_RATE,
		.tcp_timeout = XDPLB_DEFAULT_TCP_TIMEOUT,
		.udp_timeout = XDPLB_DEFAULT_UDP_TIMEOUT,
	};
	struct xdp_program *prog = NULL;
	struct xdplb_bpf *skel = NULL;
	const char *ifname, *dir = opts.pin_dir;
	char path[PATH_MAX], vip[ADDR_STRLEN], msg[SPEC_ERRLEN];
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
	snprintf(path, sizeof(path), "%s/%s", dir, XDPLB_PIN_CONFIG);
	if (!access(path, F_OK)) {
		struct lb other;
		const char *what;

		lb_init(&other);
		if (!lb_open(&other, dir, &what))
			p_err("'%s' already holds an instance attached to '%s' "
			      "(detach it first)", dir, other.cfg.ifname);
		else
			p_err("'%s' already holds pinned maps (detach them "
			      "first)", dir);
		lb_close(&other);
		goto out_unlock;
	}

	skel = xdplb_bpf__open();
	if (!skel) {
		p_err("cannot open the BPF object: %s", strerror(errno));
		goto out_unlock;
	}
	skel->rodata->hash_seed = cfg.hash_seed;
	memcpy((void *)skel->rodata->ifmac, cfg.ifmac, 6);
	err = xdplb_size_conns(skel, cfg.ct_size, cfg.ct_rate,
			       cfg.tcp_timeout * 1000000000ull,
			       cfg.udp_timeout * 1000000000ull);
	if (err) {
		p_err("cannot size the connection table: %s", strerror(-err));
		goto out_destroy;
	}
	template_fd = xdplb_size_tables(skel, cfg.table_size);
	if (template_fd < 0) {
		p_err("cannot size the Maglev table: %s",
		      strerror(-template_fd));
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
	unpin_all(dir);
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

/*
 * Detach reads only the config header and the pinned program, which every
 * version keeps, so an instance made by another xdplb can be taken down
 * too (an upgrade must never leave one that nothing can remove).
 */
int do_detach(int argc, char **argv)
{
	struct xdplb_config_header hdr;
	const char *ifname, *dir = opts.pin_dir;
	struct xdp_program *prog;
	enum xdp_attach_mode mode;
	char path[PATH_MAX], other[IF_NAMESIZE];
	int ifindex, fd, err;
	struct lb lb;

	if (argc != 2)
		return usage_error(argv[0], "expected one IFNAME");
	ifname = argv[1];
	ifindex = strlen(ifname) < IFNAMSIZ ? (int)if_nametoindex(ifname) : 0;
	if (!ifindex) {
		p_err("interface '%s' not found", ifname);
		return EXIT_FAIL;
	}
	lb_init(&lb);
	if (lock_pin_dir(&lb, dir))
		return EXIT_FAIL;
	err = lb_read_header(dir, &hdr);
	if (err) {
		p_err(err == -ENOENT ? "no xdplb instance at '%s' (give its "
		      "--pin-dir)" : "'%s' does not hold an xdplb instance",
		      dir);
		goto err_close;
	}
	if (hdr.ifindex != (__u32)ifindex) {
		p_err("the instance at '%s' is attached to '%s', not '%s'",
		      dir, if_indextoname(hdr.ifindex, other) ? other : "?",
		      ifname);
		goto err_close;
	}
	mode = hdr.xdp_mode == XDPLB_MODE_GENERIC ? XDP_MODE_SKB :
						    XDP_MODE_NATIVE;

	snprintf(path, sizeof(path), "%s/%s", dir, XDPLB_PIN_PROG);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		pr_warn("no pinned program at '%s'; removing the maps\n", path);
	} else {
		prog = xdp_program__from_fd(fd);
		err = libxdp_get_error(prog);
		if (!err) {
			err = xdp_program__detach(prog, ifindex, mode, 0);
			xdp_program__close(prog);
		} else {
			close(fd);
		}
		if (err == -ENOENT || err == -ENODEV) {
			pr_warn("the program was no longer attached to '%s'\n",
				ifname);
		} else if (err) {
			p_err("cannot detach from '%s': %s", ifname,
			      strerror(-err));
			goto err_close;
		}
	}
	unpin_all(dir);
	lb_close(&lb);
	if (!opts.json)
		printf("detached from %s\n", ifname);
	return EXIT_OK;

err_close:
	lb_close(&lb);
	return EXIT_FAIL;
}
