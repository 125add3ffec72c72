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

#include "ifaddr.h"
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

/* Send one request and run cb on its answer, read strictly (nl.h). */
static int talk_cb(struct mnl_socket *nl, struct nlmsghdr *nlh,
		   mnl_cb_t cb, void *data)
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
	ret = nl_parse(buf, ret, seq, portid, cb, data);
	return ret < 0 ? ret : 0;
}

static int talk(struct mnl_socket *nl, struct nlmsghdr *nlh,
		struct neigh_entry *r)
{
	return talk_cb(nl, nlh, neigh_cb, r);
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
	nl = rtnl_open();
	if (!nl)
		return -errno;

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
	nl = rtnl_open();
	if (!nl)
		return -errno;
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

/* Routes ----------------------------------------------------------------- */

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	struct neigh_route *r = data;
	const void *p = mnl_attr_get_payload(attr);
	size_t len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case RTA_OIF:
		if (len == sizeof(__u32))
			r->oif = (int)mnl_attr_get_u32(attr);
		break;
	case RTA_GATEWAY:
		if (len == 4 || len == 16) {
			r->gateway = true;
			r->gw_family = len == 4 ? XDPLB_AF_INET :
				       XDPLB_AF_INET6;
			memcpy(&r->gw, p, len);
		}
		break;
	case RTA_VIA:	/* an IPv4 route through an IPv6 next hop */
		if (len >= sizeof(struct rtvia) + 16) {
			const struct rtvia *v = p;

			r->gateway = v->rtvia_family == AF_INET6;
			r->gw_family = XDPLB_AF_INET6;
			memcpy(&r->gw, v->rtvia_addr, 16);
		}
		break;
	}
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct neigh_route *r = data;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	r->found = true;
	r->type = rtm->rtm_type;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, r);
	return MNL_CB_OK;
}

int neigh_route(int ifindex, __u8 family, const struct xdplb_addr *addr,
		struct neigh_route *out)
{
	const __u8 *b = (const __u8 *)addr;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int err;

	memset(out, 0, sizeof(*out));
	nl = rtnl_open();
	if (!nl)
		return -errno;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = (__u32)time(NULL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family == XDPLB_AF_INET6 ? AF_INET6 : AF_INET;
	rtm->rtm_dst_len = family == XDPLB_AF_INET6 ? 128 : 32;
	mnl_attr_put(nlh, RTA_DST, family == XDPLB_AF_INET6 ? 16 : 4, addr);
	/* A link-local address means something on one link only. (Not for
	 * others: IPv4 takes an output interface as "on link there" when no
	 * route says otherwise.) */
	if (family == XDPLB_AF_INET6 && b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		mnl_attr_put_u32(nlh, RTA_OIF, (__u32)ifindex);
	err = talk_cb(nl, nlh, route_cb, out);
	if (!err && !out->found)
		err = -ENETUNREACH;
	mnl_socket_close(nl);
	return err;
}
