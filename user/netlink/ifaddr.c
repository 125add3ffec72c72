// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "addr.h"
#include "ifaddr.h"
#include "nl.h"

static __u8 af_of(__u8 family)
{
	return family == XDPLB_AF_INET6 ? AF_INET6 : AF_INET;
}

static size_t addr_len(__u8 family)
{
	return family == XDPLB_AF_INET6 ? 16 : 4;
}

struct attrs {
	const struct nlattr *local, *address, *flags, *cacheinfo;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct attrs *a = data;

	switch (mnl_attr_get_type(attr)) {
	case IFA_LOCAL:
		a->local = attr;
		break;
	case IFA_ADDRESS:
		a->address = attr;
		break;
	case IFA_FLAGS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		a->flags = attr;
		break;
	case IFA_CACHEINFO:
		if (mnl_attr_validate2(attr, MNL_TYPE_UNSPEC,
				       sizeof(struct ifa_cacheinfo)) < 0)
			return MNL_CB_ERROR;
		a->cacheinfo = attr;
		break;
	}
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *which;
	struct ifaddr_dump *d = data;
	struct attrs a = {};
	struct host_addr *x;
	__u8 family;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		goto bad;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	family = ifa->ifa_family == AF_INET6 ? XDPLB_AF_INET6 : XDPLB_AF_INET;
	if (mnl_attr_parse(nlh, sizeof(*ifa), attr_cb, &a) != MNL_CB_OK)
		goto bad;
	/* IPv4: IFA_LOCAL is the address (IFA_ADDRESS the peer's on
	 * point-to-point links); IPv6 has only IFA_ADDRESS. */
	which = a.local ? a.local : a.address;
	if (!which || mnl_attr_get_payload_len(which) != addr_len(family))
		goto bad;
	if (d->n == d->cap) {
		int cap = d->cap ? d->cap * 2 : 16;
		void *p = realloc(d->v, cap * sizeof(*d->v));

		if (!p) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		d->v = p;
		d->cap = cap;
	}
	x = &d->v[d->n++];
	memset(x, 0, sizeof(*x));
	memcpy(&x->addr, mnl_attr_get_payload(which), addr_len(family));
	x->family = family;
	x->ifindex = ifa->ifa_index;
	x->prefixlen = ifa->ifa_prefixlen;
	x->scope = ifa->ifa_scope;
	x->flags = a.flags ? mnl_attr_get_u32(a.flags) : ifa->ifa_flags;
	x->preferred = IFADDR_FOREVER;
	if (a.cacheinfo) {
		const struct ifa_cacheinfo *ci =
			mnl_attr_get_payload(a.cacheinfo);

		x->preferred = ci->ifa_prefered;
	}
	return MNL_CB_OK;
bad:
	errno = EBADMSG;
	return MNL_CB_ERROR;
}

int ifaddr_parse(const void *buf, size_t len, __u32 seq, __u32 portid,
		 struct ifaddr_dump *d)
{
	return nl_parse(buf, len, seq, portid, addr_cb, d);
}

struct mnl_socket *rtnl_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		mnl_socket_close(nl);
		errno = err;
		return NULL;
	}
	return nl;
}

int host_addrs(struct host_addr **out, int *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ifaddr_dump d = {};
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	__u32 seq = (__u32)time(NULL), portid;
	int ret, err = 0;

	nl = rtnl_open();
	if (!nl)
		return -errno;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	do {
		ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (ret < 0)
			ret = -errno;
		else
			ret = ifaddr_parse(buf, ret, seq, portid, &d);
	} while (ret > 0);
	err = ret;
out:
	mnl_socket_close(nl);
	if (err) {
		free(d.v);
		return err;
	}
	*out = d.v;
	*n = d.n;
	return 0;
}

const struct host_addr *ifaddr_find(const struct host_addr *list, int n, __u8 family,
				 const struct xdplb_addr *addr)
{
	int i;

	for (i = 0; i < n; i++)
		if (list[i].family == family && addr_equal(&list[i].addr, addr))
			return &list[i];
	return NULL;
}

/* One RTM_NEWADDR or RTM_DELADDR, acknowledged. */
static int addr_change(__u16 type, __u16 flags, int ifindex, __u8 family,
		       const struct xdplb_addr *addr, __u8 prefixlen,
		       bool not_source)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	__u32 seq = (__u32)time(NULL);
	int ret, err = 0;

	nl = rtnl_open();
	if (!nl)
		return -errno;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = af_of(family);
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(family), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(family), addr);
	if (type == RTM_NEWADDR && family == XDPLB_AF_INET6) {
		struct ifa_cacheinfo ci = {
			.ifa_prefered = not_source ? 0 : IFADDR_FOREVER,
			.ifa_valid = IFADDR_FOREVER,
		};

		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0)
		err = -errno;
	else
		err = nl_parse(buf, ret, seq, mnl_socket_get_portid(nl),
			       NULL, NULL);
	if (err > 0)
		err = -EBADMSG;	/* not an acknowledgement */
out:
	mnl_socket_close(nl);
	return err;
}

int ifaddr_add(int ifindex, __u8 family, const struct xdplb_addr *addr,
	       __u8 prefixlen, bool not_source)
{
	return addr_change(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex,
			   family, addr, prefixlen, not_source);
}

int ifaddr_del(int ifindex, __u8 family, const struct xdplb_addr *addr,
	       __u8 prefixlen)
{
	return addr_change(RTM_DELADDR, 0, ifindex, family, addr, prefixlen,
			   false);
}
