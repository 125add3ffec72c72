// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nl.c - answers from rtnetlink, read strictly (nl.h).
 */
#include <errno.h>
#include <limits.h>

#include "nl.h"

/* The largest errno there is (include/linux/err.h's MAX_ERRNO). */
#define NL_MAX_ERRNO	4095

int nl_parse(const void *buf, size_t len, unsigned int seq,
	     unsigned int portid, mnl_cb_t cb, void *data)
{
	size_t off = 0;
	int ret;

	if (len > INT_MAX)
		return -EMSGSIZE;
	/*
	 * Whole messages up to the end. libmnl would stop at the first that
	 * is not one, as if the answer ended there, and takes a length of
	 * 2 GiB or more for a whole message (mnl_nlmsg_ok compares it as an
	 * int): each length is checked here first.
	 */
	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)((const char *)buf +
							    off);

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			return -EBADMSG;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (off > len)
			off = len;
	}
	if (off != len)
		return -EBADMSG;
	errno = 0;
	ret = mnl_cb_run(buf, len, seq, portid, cb, data);
	if (ret > 0)
		return 1;
	if (ret == 0)
		return 0;
	if (errno <= 0 || errno > NL_MAX_ERRNO)
		return -EBADMSG;
	return -errno;
}
