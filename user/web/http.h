/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * http.h - the HTTP server of `xdplb exporter` and `xdplb daemon --listen`:
 * libmicrohttpd, driven from the owner's single-threaded event loop, with
 * handlers as a table of method + path -> function.
 *
 * libmicrohttpd parses the requests and writes the answers (keep-alive,
 * HEAD without the body, 400/414/431/505 for what it cannot take, its own
 * fixed text for those). This layer adds what an exposed server needs on
 * top:
 *   - at most HTTP_MAX_CONNS connections, HTTP_MAX_PER_CLIENT from one
 *     client (an IPv4 address, or an IPv6 /64); more are closed as soon
 *     as they are accepted;
 *   - a deadline for every phase of a connection: the request's head
 *     within HTTP_TIMEOUT_MS of the connection's start (or of the previous
 *     answer, with keep-alive), its body and the answer within as long
 *     again. A client that trickles a request a byte at a time (slowloris)
 *     is cut off at the deadline, however busy it keeps the socket; one
 *     that sends nothing at all is also closed by libmicrohttpd's own idle
 *     timeout;
 *   - request heads of at most about HTTP_MAX_HEAD bytes, bodies of at
 *     most the route's max_body (413 beyond, before the body is read);
 *   - 404 for an unknown path, 405 with Allow for a known path with
 *     another method; error answers carry only the server's own words.
 *   - TLS (GnuTLS, through libmicrohttpd) when given a key and certificate.
 *
 * The owner polls http_fd() for input with http_timeout() as the timeout
 * and calls http_dispatch() after each wake-up; handlers are called from
 * inside http_dispatch(), one at a time.
 *
 * A server may also authorize requests (http_config.auth): for the routes
 * that say so, its callback runs as soon as a request's head is in, before
 * any of its body is read, and either refuses the request (401, 403,
 * 429...) or leaves what it found out (who asks) in the request for the
 * handler.
 *
 * A callback (auth or handler) whose answer waits for work done on
 * another thread (a password hash, pwcheck.h) suspends its request
 * (http_suspend) instead of blocking the loop: the connection is left
 * alone until the owner resumes it (http_resume), and then the same
 * callback is called again for the same request.
 */
#ifndef XDPLB_HTTP_H
#define XDPLB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#define HTTP_MAX_CONNS		256
#define HTTP_MAX_PER_CLIENT	16
#define HTTP_TIMEOUT_MS		10000
#define HTTP_MAX_HEAD		8192
#define HTTP_MAX_REPLY_HEADERS	8
#define HTTP_AUTH_SIZE		256	/* what an auth callback leaves */

struct MHD_Connection;
struct http_wait;

/* A request as a handler sees it. */
struct http_request {
	const char *method;	/* "GET" also for HEAD */
	const char *path;	/* decoded, without the query */
	const char *body;	/* NUL-terminated; "" when none */
	size_t body_len;
	struct MHD_Connection *conn;	/* for http_header() */
	/* HTTP_ROUTE_AUTH routes: what the server's auth callback left,
	 * HTTP_AUTH_SIZE bytes; NULL on other routes. */
	void *auth;
	bool tls;		/* on a TLS connection */
	struct http_wait *wait;	/* this request, for http_resume() */
	/* What the callback gave http_suspend() when it was called before
	 * for this request, and is its own again; NULL the first time. */
	void *state;
};

/* What a handler answers: the status (200 unless it sets another), the
 * body written to body (JSON routes: through json.h, whose output is set
 * to it), or an error set with http_error(), which replaces the body. */
struct http_reply {
	int status;
	const char *type;	/* Content-Type; default from the route */
	FILE *body;
	char error[256];	/* http_error()'s message */
	int nheaders;
	char *headers[HTTP_MAX_REPLY_HEADERS][2];	/* owned copies */
};

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
				struct http_reply *r);

enum {
	/* application/json unless the route's type says otherwise; the
	 * body goes through json.h; errors are {"error": "..."} */
	HTTP_ROUTE_JSON = 1 << 0,
	/* http_config.auth decides on the request's head first. */
	HTTP_ROUTE_AUTH = 1 << 1,
};

struct http_route {
	const char *method;	/* "GET" answers HEAD too */
	const char *path;	/* exact */
	http_handler_fn fn;
	const char *type;	/* Content-Type (of a success, on a JSON
				 * route whose errors are JSON) */
	size_t max_body;	/* 0: no body */
	unsigned int flags;
};

/*
 * Called for an HTTP_ROUTE_AUTH route when the request's head is in (its
 * body is "" yet): return 0 to go on, having written what the handler is
 * to know into auth (HTTP_AUTH_SIZE bytes, zeroed); or refuse the request
 * with http_error() on r (and headers: WWW-Authenticate, Retry-After),
 * and its body is never read.
 */
typedef void (*http_auth_fn)(void *ctx, const struct http_request *req,
			     void *auth, struct http_reply *r);

struct http_config {
	/* ADDR:PORT, IPv6 ADDR in brackets; NULL: no listening socket,
	 * connections come through http_add_connection() only. */
	const char *listen;
	const struct http_route *routes;
	size_t nroutes;
	void *ctx;		/* every handler's */
	http_auth_fn auth;	/* for HTTP_ROUTE_AUTH routes */
	/* The state of a request suspended when the server is freed. */
	void (*state_free)(void *ctx, void *state);
	/* Headers of every answer, errors included: {name, value} pairs,
	 * {NULL, NULL} after the last; NULL: none. */
	const char *const (*headers)[2];
	/* PEM text of a TLS key and its certificate (chain); both NULL:
	 * plain HTTP. */
	const char *tls_key;
	const char *tls_cert;
	/* 0: the defaults above. */
	unsigned int max_conns;
	unsigned int max_per_client;
	unsigned int timeout_ms;
};

struct http_server;

/*
 * Listen and serve as cfg says (the routes and strings must outlive the
 * server). Returns 0 and the server in *out, or a negative errno and one
 * line in err ("cannot listen on 127.0.0.1:9100: Address already in use",
 * "bad listen address '...'").
 */
int http_server_new(const struct http_config *cfg, struct http_server **out,
		    char *err, size_t len);
void http_server_free(struct http_server *s);

/* The descriptor to poll for input. */
int http_fd(const struct http_server *s);
/* Milliseconds until the server has something to do without input, -1
 * for never. */
int http_timeout(const struct http_server *s);
/* Accept, read, answer, write and time out whatever is ready; never
 * blocks. */
void http_dispatch(struct http_server *s);
/*
 * Serve a connection accepted elsewhere (fd, non-blocking; the server owns
 * it from now on and closes it), from the client at addr, which the
 * per-client limit counts as it counts those the server accepts. 0, or a
 * negative errno when it is refused (over a limit; fd is closed then).
 */
int http_add_connection(struct http_server *s, int fd,
			const struct sockaddr *addr, socklen_t len);

/*
 * From a callback: answer later. Once the callback has returned (without
 * an answer: whatever it set in its reply is dropped), its request waits,
 * neither read nor written, until http_resume(req->wait) on the owner's
 * thread; then the same callback is called again for it, with state in
 * req->state. Until then state is the server's (state_free).
 */
void http_suspend(const struct http_request *req, void *state);
/* Go on with a suspended request (at the next http_dispatch()). */
void http_resume(struct http_wait *w);

/* The value of a request header, or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* The value of a cookie the request carries, or NULL. */
const char *http_cookie(const struct http_request *req, const char *name);
/* The client as the per-client limit counts it, as text: its IPv4
 * address, or its IPv6 /64 ("2001:db8:1:2::/64"); "?" when unknown. */
void http_client_name(const struct http_request *req, char *buf,
		      size_t len);
/* Answer status with one line of the server's own (never a request's
 * bytes unless escaped by the caller): text, or {"error": ...} on a JSON
 * route. Whatever the handler wrote to the body is dropped. */
void http_error(struct http_reply *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* One more header of the answer; returns 0 or -ENOMEM/-E2BIG. */
int http_add_header(struct http_reply *r, const char *name,
		    const char *value);

#endif /* XDPLB_HTTP_H */
