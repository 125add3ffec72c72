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
	 * Whole messages up to the end, each with its padding: the kernel
	 * sends them so, and libmnl reads a message's attributes up to its
	 * aligned end (mnl_nlmsg_get_payload_tail), past the bytes received
	 * when that padding is not there. It would also stop at the first
	 * message that is not whole, as if the answer ended there, and take
	 * a length of 2 GiB or more for a whole message (mnl_nlmsg_ok
	 * compares it as an int): each length is checked here first.
	 */
	while (off < len) {
		const struct nlmsghdr *nlh = (const void *)((const char *)buf +
							    off);

		/* len - off < 2 GiB: a length within it aligns without
		 * overflow. */
		if (len - off < sizeof(*nlh) ||
		    nlh->nlmsg_len < sizeof(*nlh) ||
		    nlh->nlmsg_len > len - off ||
		    NLMSG_ALIGN(nlh->nlmsg_len) > len - off)
			return -EBADMSG;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
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
