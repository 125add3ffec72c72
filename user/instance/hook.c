// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * hook.c - what runs on an XDP hook, and whether it is an instance's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "hook.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static void add_prog(struct hook *h, const struct xdp_program *p)
{
	if (h->n == HOOK_MAX_PROGS)
		return;
	h->prog[h->n].id = xdp_program__id(p);
	snprintf(h->prog[h->n].name, sizeof(h->prog[h->n].name), "%s",
		 xdp_program__name(p));
	h->n++;
}

int hook_read(int ifindex, struct hook *h)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int err;

	memset(h, 0, sizeof(*h));
	h->ifindex = ifindex;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	err = libxdp_get_error(mp);
	if (err == -ENOENT || (!err && !mp))
		return 0;	/* nothing attached */
	if (err)
		return err;
	h->generic = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p)
			add_prog(h, p);
	} else {
		h->dispatcher = true;
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp))
			add_prog(h, p);
	}
	xdp_multiprog__close(mp);
	return 0;
}

static __u32 fd_id(int fd, bool prog)
{
	__u32 len;

	if (prog) {
		struct bpf_prog_info info = {};

		len = sizeof(info);
		return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
	} else {
		struct bpf_map_info info = {};

		len = sizeof(info);
		return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
	}
}

static __u32 pinned_id(const char *dir, const char *name, bool prog)
{
	char path[PATH_MAX];
	__u32 id;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	id = fd_id(fd, prog);
	close(fd);
	return id;
}

__u32 pinned_prog_id(const char *dir)
{
	return pinned_id(dir, XDPLB_PIN_PROG, true);
}

__u32 pinned_map_id(const char *dir, const char *name)
{
	return pinned_id(dir, name, false);
}

bool prog_uses_map(__u32 prog_id, __u32 map_id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[64], i;
	bool found = false;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		for (i = 0; i < info.nr_map_ids &&
			    i < sizeof(ids) / sizeof(ids[0]); i++)
			found |= ids[i] == map_id;
	close(fd);
	return found;
}

int hook_find(const struct hook *h, __u32 pinned_id, __u32 stats_map_id)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (pinned_id && h->prog[i].id == pinned_id)
			return i;
	for (i = 0; i < h->n; i++)
		if (stats_map_id && prog_uses_map(h->prog[i].id, stats_map_id))
			return i;
	return -1;
}

/* The id of the instance's program on its hook here, 0 if none. The
 * program alone on the hook is seen through netlink, which needs no
 * capability (the exporter keeps none); one in libxdp's dispatcher, or
 * one an interrupted upgrade left unpinned, through libxdp, which opens
 * programs by id (CAP_SYS_ADMIN). */
static __u32 attached_id(const struct lb *lb)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	__u32 pinned = pinned_prog_id(lb->pin_dir);
	struct hook h;
	int i;

	if (lb->cfg.netns_cookie && lb->cfg.netns_cookie != netns_cookie())
		return 0;
	if (pinned && !bpf_xdp_query(lb->cfg.ifindex, 0, &q) &&
	    q.prog_id == pinned)
		return pinned;
	if (hook_read(lb->cfg.ifindex, &h))
		return 0;
	i = hook_find(&h, pinned, fd_id(lb->global_stats_fd, false));
	return i < 0 ? 0 : h.prog[i].id;
}

bool instance_attached(const struct lb *lb)
{
	return attached_id(lb) != 0;
}

int instance_running(const struct lb *lb, struct running *out)
{
	memset(out, 0, sizeof(*out));
	out->id = attached_id(lb);
	out->attached = out->id != 0;
	if (!out->id)
		out->id = pinned_prog_id(lb->pin_dir);
	if (!out->id)
		return -ENOENT;
	return build_of_prog(out->id, lb->view_abi ? lb->view_abi :
			     XDPLB_ABI_VERSION, &out->build);
}

void hook_describe(const struct hook *h, char *buf, size_t len)
{
	size_t off;
	int i;

	if (!h->n) {
		snprintf(buf, len, "no XDP program");
		return;
	}
	if (!h->dispatcher) {
		snprintf(buf, len, "XDP program '%s' (id %u)", h->prog[0].name,
			 h->prog[0].id);
		return;
	}
	off = snprintf(buf, len, "libxdp's dispatcher with");
	for (i = 0; i < h->n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s '%s' (id %u)",
				i ? "," : "", h->prog[i].name, h->prog[i].id);
}

__u64 netns_cookie(void)
{
	socklen_t len = sizeof(__u64);
	__u64 cookie = 0;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		cookie = 0;
	close(fd);
	return cookie;
}
