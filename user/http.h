/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * http.h - a small HTTP/1.1 server for GET and HEAD, built to live inside
 * another program's event loop (the daemon's, the exporter's).
 *
 * One listening socket (IPv4 or IPv6), non-blocking, every connection in
 * one epoll set. A request is read whole (at most HTTP_MAX_REQUEST bytes
 * of request line and headers, within HTTP_READ_TIMEOUT_MS), answered by
 * the handler in one go and the connection closed (`Connection: close`):
 * no keep-alive, no request bodies. Malformed requests get 400, methods
 * other than GET and HEAD 405, oversized ones 431, slow ones 408; HEAD
 * gets GET's headers without the body. At most HTTP_MAX_CLIENTS
 * connections are open; more are closed at once.
 *
 * The owner polls http_fd() for input with http_timeout() as the timeout
 * and calls http_dispatch() after each wake-up; the handler is called
 * from inside http_dispatch().
 */
#ifndef XDPLB_HTTP_H
#define XDPLB_HTTP_H

#include <stddef.h>
#include <stdio.h>

#define HTTP_MAX_REQUEST	8192
#define HTTP_MAX_CLIENTS	256
#define HTTP_READ_TIMEOUT_MS	10000
#define HTTP_WRITE_TIMEOUT_MS	10000

/* What a handler answers. status is 200 unless it sets another; a status
 * >= 400 with an empty body gets a one-line body naming it. */
struct http_reply {
	int status;
	const char *type;	/* Content-Type, default text/plain */
	const char *headers;	/* more header lines, each ending in \r\n */
	FILE *body;		/* write the body here */
};

/* path: the request target without its query; method GET or HEAD (the
 * server drops the body of a HEAD). */
typedef void (*http_handler_fn)(void *ctx, const char *path,
				struct http_reply *r);

struct http_server;

/*
 * Listen on ADDR:PORT (IPv6 in brackets: [::1]:9100, 0.0.0.0:9100).
 * Returns 0 and the server in *out, or a negative errno and a message in
 * err ("cannot listen on 127.0.0.1:9100: Address already in use").
 */
int http_server_new(const char *listen, http_handler_fn fn, void *ctx,
		    struct http_server **out, char *err, size_t len);
void http_server_free(struct http_server *s);

int http_fd(const struct http_server *s);
/* Milliseconds until the next connection times out, -1 for none. */
int http_timeout(const struct http_server *s);
/* Accept, read, answer, write and time out whatever is ready; never
 * blocks. */
void http_dispatch(struct http_server *s);

#endif /* XDPLB_HTTP_H */
