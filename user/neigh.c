// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "log.h"
#include "neigh.h"
#include "nl.h"

/* States in which the entry's link-layer address can be used. */
#define NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | \
		    NUD_PERMANENT | NUD_NOARP)

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct neigh_entry *r = data;

	/* A link-layer address of another length is not an Ethernet MAC:
	 * the entry is of no use to us, not a malformed answer. */
	if (mnl_attr_get_type(attr) == NDA_LLADDR &&
	    mnl_attr_get_payload_len(attr) == 6) {
		memcpy(r->mac, mnl_attr_get_payload(attr), 6);
		r->has_mac = true;
	}
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_entry *r = data;

	if (nlh->nlmsg_type != RTM_NEWNEIGH)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	r->found = true;
	r->state = ndm->ndm_state;
	mnl_attr_parse(nlh, sizeof(*ndm), attr_cb, r);
	return MNL_CB_OK;
}

int neigh_parse(const void *buf, size_t len, __u32 seq, __u32 portid,
		struct neigh_entry *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = nl_parse(buf, len, seq, portid, neigh_cb, r);
	return ret < 0 ? ret : 0;
}

/* Send one request and run the callback on its answer. */
static int talk(struct mnl_socket *nl, struct nlmsghdr *nlh,
		struct neigh_entry *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	__u32 seq = nlh->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* Neither request is a dump: the answer is one message (the entry,
	 * the ack, or an error). */
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0)
		return -errno;
	return neigh_parse(buf, ret, seq, portid, r);
}

static struct nlmsghdr *neigh_msg(char *buf, __u16 type, __u16 flags,
				  int ifindex, __u8 family,
				  const struct xdplb_addr *addr, __u32 seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, family == AF_INET6 ? 16 : 4, addr);
	return nlh;
}

static int lookup(struct mnl_socket *nl, int ifindex, __u8 family,
		  const struct xdplb_addr *addr, struct neigh_entry *r,
		  __u32 seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int err;

	memset(r, 0, sizeof(*r));
	nlh = neigh_msg(buf, RTM_GETNEIGH, 0, ifindex, family, addr, seq);
	err = talk(nl, nlh, r);
	return err == -ENOENT ? 0 : err;	/* no entry yet */
}

/* Have the kernel resolve the address as if a packet waited for it. */
static int kick(struct mnl_socket *nl, int ifindex, __u8 family,
		const struct xdplb_addr *addr, __u32 seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct neigh_entry r = {};
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	nlh = neigh_msg(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK, ifindex,
			family, addr, seq);
	ndm = mnl_nlmsg_get_payload(nlh);
	ndm->ndm_flags = NTF_USE;
	ndm->ndm_state = NUD_NONE;
	return talk(nl, nlh, &r);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int neigh_resolve(int ifindex, __u8 family, const struct xdplb_addr *addr,
		  __u8 mac[6], int timeout_ms)
{
	struct mnl_socket *nl;
	struct neigh_entry r;
	long deadline = now_ms() + timeout_ms;
	__u32 seq = (__u32)time(NULL);
	bool kicked = false;
	int err;

	family = family == XDPLB_AF_INET6 ? AF_INET6 : AF_INET;
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}

	for (;;) {
		err = lookup(nl, ifindex, family, addr, &r, ++seq);
		if (err)
			goto out;
		if (r.found && r.has_mac && (r.state & NUD_USABLE)) {
			memcpy(mac, r.mac, 6);
			err = 0;
			goto out;
		}
		if (kicked && r.found && (r.state & NUD_FAILED)) {
			err = -EHOSTUNREACH;
			goto out;
		}
		if (!kicked || (r.found && !(r.state & NUD_INCOMPLETE))) {
			err = kick(nl, ifindex, family, addr, ++seq);
			if (err)
				goto out;
			kicked = true;
			pr_debug("asked the kernel to resolve a neighbour\n");
		}
		if (now_ms() > deadline) {
			err = -EHOSTUNREACH;
			goto out;
		}
		usleep(20000);
	}
out:
	mnl_socket_close(nl);
	return err;
}

int neigh_peek(int ifindex, __u8 family, const struct xdplb_addr *addr,
	       __u8 mac[6], bool refresh)
{
	__u32 seq = (__u32)time(NULL);
	struct mnl_socket *nl;
	struct neigh_entry r;
	int err;

	family = family == XDPLB_AF_INET6 ? AF_INET6 : AF_INET;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	err = lookup(nl, ifindex, family, addr, &r, ++seq);
	if (err)
		goto out;
	if (refresh && !(r.found && (r.state & (NUD_REACHABLE |
						 NUD_PERMANENT | NUD_NOARP |
						 NUD_INCOMPLETE))))
		kick(nl, ifindex, family, addr, ++seq);
	if (r.found && r.has_mac && (r.state & NUD_USABLE))
		memcpy(mac, r.mac, 6);
	else
		err = -ENOENT;
out:
	mnl_socket_close(nl);
	return err;
}
