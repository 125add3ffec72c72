/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * console.h - the web console of `xdplb daemon --console`: a page served
 * from the binary and the authenticated API it (and scripts) use, on a
 * listener of its own, apart from the exporter's --listen.
 *
 *   GET  /, /console.js, /console.css    the page (no login needed to load)
 *   POST /api/v1/login     {"user","password"} -> session cookie, {"csrf"}
 *   POST /api/v1/logout    end the session
 *   GET  /api/v1/session   who is logged in: user, role, csrf
 *   GET  /api/v1/status    `list -j`'s document, with tracked flows
 *   GET  /api/v1/config    the configuration in save form, with an ETag
 *   PUT  /api/v1/config    a whole configuration (restore), If-Match needed
 *   POST /api/v1/config    lines applied in order, all or nothing
 *   GET  /api/v1/inactive  reals deactivated here, and their weights
 *   GET  /api/v1/events    health and configuration changes, who made them
 *
 * Everything under /api/ but login needs a session (cookie, and the
 * X-CSRF-Token header on a change) or HTTP Basic; changes need an admin.
 * Users are those of the users file (users.h), read again when it
 * changes. Sessions live in the daemon's memory: a restart logs everyone
 * out.
 *
 * A change is applied to the instance through the owner's callbacks (the
 * daemon's lock discipline and config_apply) and written to the
 * configuration file whole (file.h), so that a restart or SIGHUP keeps it.
 */
#ifndef XDPLB_CONSOLE_H
#define XDPLB_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "http.h"
#include "lb.h"

/* What the console needs of its owner (the daemon). */
struct console_ops {
	/* The instance, or NULL while there is none (the status page). */
	struct lb *(*instance)(void *ctx);
	/* The pin directory's lock, never waiting: 0; -EWOULDBLOCK while
	 * another process holds it; -EINPROGRESS while a change of the
	 * owner's own waits for it (it goes first); -ENODEV without an
	 * instance. */
	int (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	/* With the lock held: make the instance's configuration want
	 * (config_apply), as the owner applies its file. */
	int (*apply)(void *ctx, const struct config *want,
		     struct config_diff *df);
	/* With the lock held: the configuration the instance runs
	 * (config_from_lb) into *out, and its default table size. */
	int (*read)(void *ctx, struct config **out, __u32 *table_size);
	void *ctx;
};

struct console_config {
	/* ADDR:PORT; NULL: no listening socket, connections come through
	 * console_add_connection() only, and are taken for loopback's (a
	 * request's Host must be, without TLS). */
	const char *listen;
	const char *users_file;
	const char *config_file;	/* what changes are written to */
	const char *tls_cert_file;	/* both, or neither */
	const char *tls_key_file;
	bool insecure;		/* plain HTTP on other than loopback */
};

struct console;

/*
 * Read the users and TLS files, listen. Without TLS, only on a loopback
 * address unless cfg->insecure. 0, or -errno with one line in err.
 */
int console_new(const struct console_config *cfg,
		const struct console_ops *ops, struct console **out,
		char *err, size_t len);
void console_free(struct console *c);

/* For the owner's loop, as http.h's: the descriptor to poll for input,
 * the milliseconds until there is something to do without input (-1:
 * never), and the work to do after each wake-up (never blocking: password
 * checks run on a thread of their own, pwcheck.h). */
int console_fd(const struct console *c);
int console_timeout(const struct console *c);
void console_dispatch(struct console *c);
/* Serve a connection accepted elsewhere, as http_add_connection(). */
int console_add_connection(struct console *c, int fd,
			   const struct sockaddr *addr, socklen_t len);

/* One entry of the event list the page shows: kind "health", "config",
 * "daemon" or "login"; user NULL for the daemon's own. c may be NULL. */
void console_event(struct console *c, const char *kind, const char *user,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* XDPLB_CONSOLE_H */
