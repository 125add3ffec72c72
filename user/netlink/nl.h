/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nl.h - answers from rtnetlink, read strictly (neigh.c, ifaddr.c).
 */
#ifndef XDPLB_NL_H
#define XDPLB_NL_H

#include <stddef.h>
#include <libmnl/libmnl.h>

/*
 * mnl_cb_run() over what one recv() gave, buf[0..len), with what it lets
 * pass refused too: bytes after the last whole message (libmnl stops
 * there without a word), a message without its padding (libmnl reads up
 * to its aligned end), and an error number out of range. Returns 1
 * when more messages are to come (a dump), 0 at the end (NLMSG_DONE, an
 * acknowledgement, or cb said stop), or a negative errno: the kernel's
 * error, cb's (errno as cb set it), -EBADMSG for a malformed answer,
 * -EPROTO or -ESRCH for an answer to another request (seq, portid),
 * -EINTR for a dump the kernel says was interrupted.
 */
int nl_parse(const void *buf, size_t len, unsigned int seq,
	     unsigned int portid, mnl_cb_t cb, void *data);

#endif /* XDPLB_NL_H */
