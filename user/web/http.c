// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * http.c - the HTTP server (see http.h): libmicrohttpd in external-epoll
 * mode, so that its epoll descriptor sits in the owner's poll() and every
 * callback runs on the owner's thread.
 *
 * Deadlines. libmicrohttpd's own timeout is an idle timeout: any byte
 * restarts it, so a client that sends its request a byte every few
 * seconds would hold its connection for ever. Each connection therefore
 * also has a deadline, set when it starts, when its request's head is in
 * and when its answer is done (for the next request); one that passes
 * gets shutdown(2) on its socket, which libmicrohttpd sees as the client
 * gone and closes (it owns the descriptor: no close here, so no race with
 * a reused number). Every deadline is "now + timeout", so appending to a
 * list keeps it sorted: the first entry is always the next to expire.
 *
 * Clients. The per-client limit is ours (on_accept), not libmicrohttpd's
 * per-IP one, which counts every IPv6 address apart: a host that has a
 * /64 would be 2^64 clients.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <microhttpd.h>

#include "addr.h"
#include "http.h"
#include "json.h"
#include "log.h"

/*
 * Per-connection memory of libmicrohttpd: its read buffer, the parsed
 * head and the answer's head. It answers 431 (414 for a long target) to a
 * head that does not fit, but 0.9.75 closes without a word when the head
 * fits and the answer's head then does not (measured with 8 KiB: heads of
 * 7.76 to 7.94 KiB). So twice HTTP_MAX_HEAD, and heads over HTTP_MAX_HEAD
 * get our 431, far from that edge.
 */
#define HTTP_CONN_MEMORY	(2 * HTTP_MAX_HEAD)
#define LISTEN_BACKLOG		128
/* TLS 1.2 and 1.3 only. */
#define TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* Who a client is, for the per-client limit: an IPv4 address (also one
 * mapped into IPv6), or an IPv6 /64, which a single host usually has whole
 * (so one attacker does not count as 2^64 clients). */
struct client {
	unsigned char family;	/* 4 or 6 */
	unsigned char addr[8];	/* IPv4: 4 bytes; IPv6: the /64 */
};

/* A connection: its socket, client and deadline (socket context). */
struct conn {
	TAILQ_ENTRY(conn) by_deadline;	/* while it has a deadline */
	bool listed;
	LIST_ENTRY(conn) all;		/* until it is closed */
	struct client who;
	int fd;
	unsigned long long deadline;	/* ms, CLOCK_MONOTONIC */
};

/* A request (libmicrohttpd's con_cls); also the http_wait of
 * http_suspend() and http_resume(). */
struct req {
	const struct http_route *route;
	struct http_server *s;
	struct MHD_Connection *mc;
	bool authorized;	/* the auth callback let it through */
	bool suspend;		/* a callback called http_suspend() */
	bool suspended;		/* and it is, until http_resume() */
	LIST_ENTRY(req) waiting;	/* while suspended */
	void *state;		/* the callback's, across a suspension */
	char *body;
	size_t len;
	union {			/* the auth callback's verdict */
		unsigned char b[HTTP_AUTH_SIZE];
		max_align_t align;
	} auth;
};

struct http_server {
	struct MHD_Daemon *mhd;
	const struct http_route *routes;
	size_t nroutes;
	void *ctx;
	http_auth_fn auth;
	void (*state_free)(void *ctx, void *state);
	const char *const (*headers)[2];
	bool tls;
	unsigned int timeout_ms;
	unsigned int max_per_client;
	TAILQ_HEAD(, conn) deadlines;	/* soonest first */
	LIST_HEAD(, conn) conns;	/* every one, cut off or not */
	LIST_HEAD(, req) waiting;	/* suspended requests */
	char last_log[256];	/* libmicrohttpd's last message */
};

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Deadlines ---------------------------------------------------------- */

static void unlist(struct http_server *s, struct conn *c)
{
	if (!c->listed)
		return;
	TAILQ_REMOVE(&s->deadlines, c, by_deadline);
	c->listed = false;
}

/* The next phase of c ends within the timeout from now. */
static void arm(struct http_server *s, struct conn *c)
{
	unlist(s, c);
	c->deadline = now_ms() + s->timeout_ms;
	TAILQ_INSERT_TAIL(&s->deadlines, c, by_deadline);
	c->listed = true;
}

static void arm_connection(struct http_server *s, struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context)
		arm(s, ci->socket_context);
}

/* Cut off every connection whose deadline has passed. */
static void expire(struct http_server *s)
{
	unsigned long long now = now_ms();
	struct conn *c;

	while ((c = TAILQ_FIRST(&s->deadlines)) && c->deadline <= now) {
		unlist(s, c);
		shutdown(c->fd, SHUT_RDWR);
		pr_debug("xdplb: http: connection cut off at its deadline\n");
	}
}

/* Clients -------------------------------------------------------------- */

static int client_of(const struct sockaddr *sa, socklen_t len,
		     struct client *c)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(c, 0, sizeof(*c));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		c->family = 4;
		memcpy(c->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const unsigned char *a =
			((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (!memcmp(a, mapped, sizeof(mapped))) {
			c->family = 4;
			memcpy(c->addr, a + 12, 4);
		} else {
			c->family = 6;
			memcpy(c->addr, a, 8);
		}
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* Accept a new connection only while its client has fewer than
 * max_per_client open (cut off ones count until they are closed). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa,
				 socklen_t len)
{
	struct http_server *s = cls;
	unsigned int n = 0;
	struct client who;
	struct conn *c;

	if (client_of(sa, len, &who))
		return MHD_NO;
	LIST_FOREACH(c, &s->conns, all)
		if (!memcmp(&c->who, &who, sizeof(who)) &&
		    ++n >= s->max_per_client) {
			pr_debug("xdplb: http: a client over %u connections: "
				 "refused\n", s->max_per_client);
			return MHD_NO;
		}
	return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *mc,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci, *addr;
	struct http_server *s = cls;
	struct conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c) {
			unlist(s, c);
			LIST_REMOVE(c, all);
			free(c);
		}
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	c = calloc(1, sizeof(*c));
	addr = MHD_get_connection_info(mc,
				       MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!c || !addr || client_of(addr->client_addr,
				     sizeof(struct sockaddr_storage),
				     &c->who)) {
		/* A connection without a deadline is not served. */
		free(c);
		shutdown(ci->connect_fd, SHUT_RDWR);
		return;
	}
	c->fd = ci->connect_fd;
	LIST_INSERT_HEAD(&s->conns, c, all);
	arm(s, c);
	*socket_context = c;
}

/* Answers ------------------------------------------------------------ */

void http_error(struct http_reply *r, int status, const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

int http_add_header(struct http_reply *r, const char *name,
		    const char *value)
{
	char *n, *v;

	if (r->nheaders == HTTP_MAX_REPLY_HEADERS)
		return -E2BIG;
	n = strdup(name);
	v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	r->headers[r->nheaders][0] = n;
	r->headers[r->nheaders][1] = v;
	r->nheaders++;
	return 0;
}

static void reply_free(struct http_reply *r)
{
	int i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i][0]);
		free(r->headers[i][1]);
	}
	r->nheaders = 0;
}

/* The body of an error answer: the message, as text or JSON. */
static int error_body(const struct http_route *route, int status,
		      const char *msg, char **body, size_t *len)
{
	FILE *f = open_memstream(body, len);

	if (!f)
		return -ENOMEM;
	if (!*msg)
		msg = MHD_get_reason_phrase_for(status);
	if (route && (route->flags & HTTP_ROUTE_JSON)) {
		jw_set_output(f);
		jw_start_object();
		jw_kv_string("error", msg);
		jw_end_object();
		jw_flush();
		jw_set_output(NULL);
	} else {
		fprintf(f, "%s\n", msg);
	}
	return fclose(f) ? -errno : 0;
}

static const char *route_type(const struct http_route *route, bool error)
{
	if (route && route->type && !error)
		return route->type;
	if (route && (route->flags & HTTP_ROUTE_JSON))
		return "application/json";
	return "text/plain; charset=utf-8";
}

/* Queue status with body (taken over), the server's headers and those of
 * r. */
static enum MHD_Result queue(const struct http_server *s,
			     struct MHD_Connection *mc, int status,
			     const char *type, char *body, size_t len,
			     const struct http_reply *r, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	bool ok;
	int i;

	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	ok = MHD_add_response_header(resp, "Content-Type", type) &&
	     MHD_add_response_header(resp, "Cache-Control", "no-store") &&
	     MHD_add_response_header(resp, "X-Content-Type-Options",
				     "nosniff");
	if (ok && allow)
		ok = MHD_add_response_header(resp, "Allow", allow);
	for (i = 0; ok && s->headers && s->headers[i][0]; i++)
		ok = MHD_add_response_header(resp, s->headers[i][0],
					     s->headers[i][1]);
	for (i = 0; ok && r && i < r->nheaders; i++)
		ok = MHD_add_response_header(resp, r->headers[i][0],
					     r->headers[i][1]);
	/* A header libmicrohttpd refuses (a CR or LF in it) is a bug of
	 * ours: no answer rather than a broken one. */
	ret = ok ? MHD_queue_response(mc, status, resp) : MHD_NO;
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result queue_error(const struct http_server *s,
				   struct MHD_Connection *mc,
				   const struct http_route *route, int status,
				   const char *msg, const char *allow)
{
	char *body = NULL;
	size_t len = 0;

	if (error_body(route, status, msg, &body, &len)) {
		free(body);
		return MHD_NO;
	}
	return queue(s, mc, status, route_type(route, true), body, len, NULL,
		     allow);
}

/* Queue r with body (taken over); an error of r replaces the body. */
static enum MHD_Result answer(const struct http_server *s,
			      struct MHD_Connection *mc,
			      const struct http_route *rt, struct http_reply *r,
			      char *body, size_t len)
{
	enum MHD_Result ret;
	bool error = r->error[0] || r->status >= 400;

	if (r->error[0] || (r->status >= 400 && !len)) {
		free(body);
		body = NULL;
		if (error_body(rt, r->status, r->error, &body, &len)) {
			free(body);
			reply_free(r);
			return MHD_NO;
		}
	}
	ret = queue(s, mc, r->status, error ? route_type(rt, true) :
		    r->type ? r->type : route_type(rt, false), body, len, r,
		    NULL);
	reply_free(r);
	return ret;
}

/* Requests ----------------------------------------------------------- */

static bool method_is(const struct http_route *rt, const char *method)
{
	return !strcmp(rt->method, method) ||
	       (!strcmp(method, "HEAD") && !strcmp(rt->method, "GET"));
}

/*
 * The route for method and path; 0, or 404 (no such path) or 405 (with
 * the path's methods in allow).
 */
static int route_find(const struct http_server *s, const char *method,
		      const char *path, const struct http_route **out,
		      char *allow, size_t len)
{
	bool known = false;
	size_t i;

	*allow = '\0';
	for (i = 0; i < s->nroutes; i++) {
		const struct http_route *rt = &s->routes[i];

		if (strcmp(rt->path, path))
			continue;
		if (method_is(rt, method)) {
			*out = rt;
			return 0;
		}
		known = true;
		snprintf(allow + strlen(allow), len - strlen(allow), "%s%s%s",
			 *allow ? ", " : "", rt->method,
			 strcmp(rt->method, "GET") ? "" : ", HEAD");
	}
	return known ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND;
}

/* 0; 431 for a head over HTTP_MAX_HEAD; 400 for HTTP/1.1 without exactly
 * one Host (RFC 9112 3.2), checked here rather than by libmicrohttpd's
 * strict mode, whose answer to a missing Host in 0.9.75 repeats its own
 * head inside the body. */
static enum MHD_Result count_host(void *cls, enum MHD_ValueKind kind,
				  const char *key, const char *value)
{
	(void)kind;
	(void)value;
	*(int *)cls += !strcasecmp(key, MHD_HTTP_HEADER_HOST);
	return MHD_YES;
}

static int check_head(struct MHD_Connection *mc, const char *version)
{
	const union MHD_ConnectionInfo *ci;
	int hosts = 0;

	ci = MHD_get_connection_info(mc,
				     MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (!ci || ci->header_size > HTTP_MAX_HEAD)
		return MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
	MHD_get_connection_values(mc, MHD_HEADER_KIND, count_host, &hosts);
	if (strcmp(version, MHD_HTTP_VERSION_1_1))
		return hosts > 1 ? MHD_HTTP_BAD_REQUEST : 0;
	return hosts == 1 ? 0 : MHD_HTTP_BAD_REQUEST;
}

/* 0, or 413 when the request says its body is longer than the route
 * takes (or says it in a way that cannot be read: 400). */
static int check_length(struct MHD_Connection *mc,
			const struct http_route *rt)
{
	const char *cl, *te;
	unsigned long long n;
	char *end;

	te = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (te && !rt->max_body)
		return MHD_HTTP_CONTENT_TOO_LARGE;
	cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (errno || end == cl || *end)
		return MHD_HTTP_BAD_REQUEST;
	return n > rt->max_body ? MHD_HTTP_CONTENT_TOO_LARGE : 0;
}

/* The request q as handlers see it. */
static struct http_request request_of(const struct http_server *s,
				      struct MHD_Connection *mc, struct req *q,
				      const char *path)
{
	const struct http_route *rt = q->route;

	return (struct http_request){
		.method = rt->method,
		.path = path,
		.body = q->body ? q->body : "",
		.body_len = q->len,
		.conn = mc,
		.auth = rt->flags & HTTP_ROUTE_AUTH ? q->auth.b : NULL,
		.tls = s->tls,
		.wait = (struct http_wait *)q,
		.state = q->state,
	};
}

/* After a callback: suspend the request if it asked to (http_suspend);
 * true if it is. */
static bool suspend_if_asked(struct req *q, struct http_reply *r)
{
	if (!q->suspend)
		return false;
	q->suspend = false;
	reply_free(r);
	q->suspended = true;
	LIST_INSERT_HEAD(&q->s->waiting, q, waiting);
	MHD_suspend_connection(q->mc);
	return true;
}

/* Run the route's handler and queue its answer. */
static enum MHD_Result run_handler(struct http_server *s,
				   struct MHD_Connection *mc, struct req *q,
				   const char *path)
{
	const struct http_route *rt = q->route;
	struct http_request req = request_of(s, mc, q, path);
	struct http_reply r = { .status = MHD_HTTP_OK };
	char *body = NULL;
	size_t len = 0;

	q->state = NULL;	/* the handler's now */
	r.body = open_memstream(&body, &len);
	if (!r.body)
		return queue_error(s, mc, rt, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "out of memory", NULL);
	if (rt->flags & HTTP_ROUTE_JSON)
		jw_set_output(r.body);
	rt->fn(s->ctx, &req, &r);
	if (rt->flags & HTTP_ROUTE_JSON)
		jw_set_output(NULL);
	if (fclose(r.body) && !r.error[0])
		http_error(&r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			   "out of memory");
	if (suspend_if_asked(q, &r)) {
		free(body);
		return MHD_YES;
	}
	return answer(s, mc, rt, &r, body, len);
}

/* The server's auth callback on a request's head: MHD_YES to go on (the
 * verdict in q->auth), else the refusal is queued. */
static enum MHD_Result authorize(struct http_server *s,
				 struct MHD_Connection *mc, struct req *q,
				 const char *path)
{
	const struct http_route *rt = q->route;
	struct http_request req = request_of(s, mc, q, path);
	struct http_reply r = { .status = MHD_HTTP_OK };

	q->state = NULL;	/* the callback's now */
	if (!(rt->flags & HTTP_ROUTE_AUTH)) {
		q->authorized = true;
		return MHD_YES;
	}
	if (!s->auth)	/* a route that needs it, a server without */
		return queue_error(s, mc, rt, MHD_HTTP_FORBIDDEN, "", NULL);
	s->auth(s->ctx, &req, q->auth.b, &r);
	if (suspend_if_asked(q, &r))
		return MHD_YES;
	if (r.status < 400 && !r.error[0]) {
		reply_free(&r);
		q->authorized = true;
		return MHD_YES;
	}
	return answer(s, mc, rt, &r, NULL, 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct req *q = *con_cls;
	char allow[64];
	int status;

	if (!q) {
		/* The head is in: its body and the answer are due next. */
		arm_connection(s, mc);
		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		q->s = s;
		q->mc = mc;
		*con_cls = q;
		status = check_head(mc, version);
		if (!status)
			status = route_find(s, method, url, &q->route, allow,
					    sizeof(allow));
		if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
			return queue_error(s, mc, NULL, status, "", allow);
		if (!status)
			status = check_length(mc, q->route);
		if (status)
			return queue_error(s, mc, q->route, status, "", NULL);
		return authorize(s, mc, q, url);
	}
	/* Resumed while its head was being authorized: again. */
	if (!q->authorized)
		return authorize(s, mc, q, url);
	if (*upload_size) {
		/* A body longer than the route takes that did not say so
		 * up front (chunked): not worth reading to the end. */
		if (*upload_size > q->route->max_body - q->len)
			return MHD_NO;
		if (!q->body) {
			q->body = malloc(q->route->max_body + 1);
			if (!q->body)
				return MHD_NO;
		}
		memcpy(q->body + q->len, upload, *upload_size);
		q->len += *upload_size;
		q->body[q->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	return run_handler(s, mc, q, url);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct req *q = *con_cls;

	(void)toe;
	/* With keep-alive, the next request's head is due next. */
	arm_connection(s, mc);
	if (q) {
		if (q->suspended)	/* the server stops */
			LIST_REMOVE(q, waiting);
		if (q->state && s->state_free)
			s->state_free(s->ctx, q->state);
		free(q->body);
		free(q);
	}
	*con_cls = NULL;
}

/* libmicrohttpd's messages: malformed requests, clients over a limit;
 * a flood of them under abuse, so debug level. The last one explains a
 * failed start. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	size_t n;

	vsnprintf(s->last_log, sizeof(s->last_log), fmt, ap);
	n = strlen(s->last_log);
	while (n && (s->last_log[n - 1] == '\n' || s->last_log[n - 1] == '.'))
		s->last_log[--n] = '\0';
	pr_debug("xdplb: http: %s\n", s->last_log);
}

/* The server --------------------------------------------------------- */

/* Our own listening socket: its errors are the ones an operator needs
 * ("Address already in use"), which libmicrohttpd only logs. */
static int listen_on(const char *addr, char *err, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1, ret;

	if (parse_sockaddr(addr, 0, &ss, &sslen)) {
		snprintf(err, len, "bad listen address '%s' (ADDR:PORT, IPv6 "
			 "ADDR in brackets, PORT 1..65535)", addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, sslen) ||
	    listen(fd, LISTEN_BACKLOG)) {
		ret = -errno;
		snprintf(err, len, "cannot listen on %s: %s", addr,
			 strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

int http_server_new(const struct http_config *cfg, struct http_server **out,
		    char *err, size_t len)
{
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			     MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem o[16];
	struct stat st = {}, again;
	struct http_server *s;
	int n = 0, lfd, ret;

#define OPT(opt, val, ptr) \
	(o[n++] = (struct MHD_OptionItem){ (opt), (intptr_t)(val), (ptr) })

	if (!MHD_is_feature_supported(MHD_FEATURE_EPOLL)) {
		snprintf(err, len, "this libmicrohttpd has no epoll support");
		return -EOPNOTSUPP;
	}
	if (!cfg->tls_key != !cfg->tls_cert) {
		snprintf(err, len, "TLS needs both a key and a certificate");
		return -EINVAL;
	}
	if (cfg->tls_key && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		snprintf(err, len, "this libmicrohttpd has no TLS support");
		return -EOPNOTSUPP;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	TAILQ_INIT(&s->deadlines);
	LIST_INIT(&s->conns);
	LIST_INIT(&s->waiting);
	s->routes = cfg->routes;
	s->nroutes = cfg->nroutes;
	s->ctx = cfg->ctx;
	s->auth = cfg->auth;
	s->state_free = cfg->state_free;
	s->headers = cfg->headers;
	s->tls = cfg->tls_key;
	s->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : HTTP_TIMEOUT_MS;
	s->max_per_client = cfg->max_per_client ? cfg->max_per_client :
			    HTTP_MAX_PER_CLIENT;

	if (cfg->listen) {
		lfd = listen_on(cfg->listen, err, len);
		if (lfd < 0) {
			free(s);
			return lfd;
		}
	} else {
		lfd = -1;
		flags |= MHD_USE_NO_LISTEN_SOCKET;
	}
	OPT(MHD_OPTION_EXTERNAL_LOGGER, on_log, s);	/* first: for all */
	if (lfd >= 0)
		OPT(MHD_OPTION_LISTEN_SOCKET, lfd, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT,
	    cfg->max_conns ? cfg->max_conns : HTTP_MAX_CONNS, NULL);
	/* Idle: whole seconds, rounded up. */
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, (s->timeout_ms + 999) / 1000, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, s);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, s);
	if (cfg->tls_key) {
		flags |= MHD_USE_TLS;
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)cfg->tls_key);
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cfg->tls_cert);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT

	if (lfd >= 0)
		fstat(lfd, &st);
	s->mhd = MHD_start_daemon(flags, 0, on_accept, s, on_request, s,
				  MHD_OPTION_ARRAY, o, MHD_OPTION_END);
	if (!s->mhd) {
		ret = -EINVAL;
		snprintf(err, len, "cannot serve HTTP on %s: %s",
			 cfg->listen ? cfg->listen : "handed connections",
			 s->last_log[0] ? s->last_log :
			 "libmicrohttpd did not start");
		/* It closes the socket on some failures (bad TLS), not on
		 * all: close it only if it is still the one. */
		if (lfd >= 0 && !fstat(lfd, &again) && again.st_ino == st.st_ino &&
		    again.st_dev == st.st_dev)
			close(lfd);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void http_server_free(struct http_server *s)
{
	struct req *q;

	if (!s)
		return;
	/* libmicrohttpd must not stop with a connection suspended; resumed,
	 * it is closed with the others (its state freed then). */
	LIST_FOREACH(q, &s->waiting, waiting)
		MHD_resume_connection(q->mc);
	/* Closes the listening socket and every connection; the close
	 * notifications free their struct conn. */
	MHD_stop_daemon(s->mhd);
	free(s);
}

int http_fd(const struct http_server *s)
{
	const union MHD_DaemonInfo *di;

	di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return di ? di->epoll_fd : -1;
}

int http_timeout(const struct http_server *s)
{
	const struct conn *first = TAILQ_FIRST(&s->deadlines);
	MHD_UNSIGNED_LONG_LONG mhd_ms;
	unsigned long long now = now_ms();
	long long t = -1;

	if (MHD_get_timeout(s->mhd, &mhd_ms) == MHD_YES)
		t = mhd_ms > INT32_MAX ? INT32_MAX : (long long)mhd_ms;
	if (first) {
		long long d = first->deadline > now ?
			      (long long)(first->deadline - now) : 0;

		if (t < 0 || d < t)
			t = d;
	}
	return (int)t;
}

int http_add_connection(struct http_server *s, int fd,
			const struct sockaddr *addr, socklen_t len)
{
	errno = 0;
	if (MHD_add_connection(s->mhd, fd, addr, len) == MHD_YES)
		return 0;
	return errno ? -errno : -ECONNREFUSED;
}

void http_dispatch(struct http_server *s)
{
	MHD_run(s->mhd);
	expire(s);
}

void http_suspend(const struct http_request *req, void *state)
{
	struct req *q = (struct req *)req->wait;

	q->suspend = true;
	q->state = state;
}

void http_resume(struct http_wait *w)
{
	struct req *q = (struct req *)w;

	if (!q->suspended)
		return;
	q->suspended = false;
	LIST_REMOVE(q, waiting);
	MHD_resume_connection(q->mc);
}

const char *http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_cookie(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

void http_client_name(const struct http_request *req, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	unsigned char a6[16] = {};
	char a[INET6_ADDRSTRLEN];
	struct client c;

	ci = MHD_get_connection_info(req->conn,
				     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || client_of(ci->client_addr, sizeof(struct sockaddr_storage),
			     &c)) {
		snprintf(buf, len, "?");
		return;
	}
	if (c.family == 4) {
		inet_ntop(AF_INET, c.addr, a, sizeof(a));
		snprintf(buf, len, "%s", a);
		return;
	}
	memcpy(a6, c.addr, 8);
	inet_ntop(AF_INET6, a6, a, sizeof(a));
	snprintf(buf, len, "%s/64", a);
}
