// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * http.c - the exporter's HTTP server (see http.h).
 *
 * A connection goes READ -> WRITE -> DRAIN -> closed, each state with a
 * deadline. DRAIN: once the answer is written the write side is shut and
 * whatever the client still sends is read and thrown away until it closes
 * (or DRAIN_MS pass): closing a socket with unread input makes the kernel
 * send a reset, which can destroy an answer the client has not read yet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "addr.h"
#include "http.h"

#define DRAIN_MS	1000
#define ACCEPTS_PER_ROUND 64

enum conn_state { C_READ, C_WRITE, C_DRAIN };

struct conn {
	int fd;
	int slot;		/* in s->conns */
	enum conn_state state;
	unsigned long long deadline;	/* ms, CLOCK_MONOTONIC */
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	char in[HTTP_MAX_REQUEST + 1];	/* + a NUL */
};

struct http_server {
	int epfd;
	int lfd;
	http_handler_fn fn;
	void *ctx;
	struct conn *conns[HTTP_MAX_CLIENTS];
};

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* ADDR:PORT, as a VIP without a protocol, and a port. */
static int parse_listen(const char *str, struct sockaddr_storage *ss,
			socklen_t *len)
{
	struct xdplb_svc_key key;

	if (strchr(str, '/') || parse_vip(str, &key) || !key.port)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (key.family == XDPLB_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = key.port;
		sin->sin_addr.s_addr = key.addr.v4;
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = key.port;
		memcpy(&sin6->sin6_addr, key.addr.v6, 16);
		*len = sizeof(*sin6);
	}
	return 0;
}

static int watch(struct http_server *s, struct conn *c, int op,
		 unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(s->epfd, op, c->fd, &ev) ? -errno : 0;
}

static void conn_close(struct http_server *s, struct conn *c)
{
	close(c->fd);		/* leaves the epoll set with it */
	s->conns[c->slot] = NULL;
	free(c->out);
	free(c);
}

/* Connections --------------------------------------------------------- */

static void accept_all(struct http_server *s)
{
	int i, k, fd;

	for (k = 0; k < ACCEPTS_PER_ROUND; k++) {
		struct conn *c;

		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;	/* EAGAIN, or no descriptors: later */
		}
		for (i = 0; i < HTTP_MAX_CLIENTS && s->conns[i]; i++)
			;
		c = i < HTTP_MAX_CLIENTS ? malloc(sizeof(*c)) : NULL;
		if (!c) {
			close(fd);	/* full: the client sees a reset */
			continue;
		}
		memset(c, 0, offsetof(struct conn, in));
		c->fd = fd;
		c->slot = i;
		c->state = C_READ;
		c->deadline = now_ms() + HTTP_READ_TIMEOUT_MS;
		s->conns[i] = c;
		if (watch(s, c, EPOLL_CTL_ADD, EPOLLIN))
			conn_close(s, c);
	}
}

/* Request parsing ------------------------------------------------------- */

/* The next line of *p (ended by \n or \r\n, which are cut), or NULL. */
static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (!line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
	} else {
		*p = NULL;
	}
	return line;
}

/* RFC 9110 token characters. */
static bool is_token(const char *s)
{
	static const char punct[] = "!#$%&'*+-.^_`|~";

	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(punct, *s)))
			return false;
	return true;
}

/*
 * Check the request (NUL-terminated, without the empty line that ends
 * it). Returns 0 with the path (the target without query or fragment)
 * and whether it is HEAD, or the status of the error answer.
 */
static int parse_request(char *req, char **path, bool *head)
{
	char *rest = req, *line, *target, *version, *sp, *colon;
	int hosts = 0;
	bool v11;

	line = next_line(&rest);
	sp = strchr(line, ' ');
	if (!sp)
		return 400;
	*sp = '\0';
	target = sp + 1;
	sp = strchr(target, ' ');
	if (!sp)
		return 400;	/* HTTP/0.9 */
	*sp = '\0';
	version = sp + 1;
	if (!is_token(line) || strchr(version, ' ') ||
	    strncmp(version, "HTTP/", 5) || version[5] < '0' ||
	    version[5] > '9' || version[6] != '.' || version[7] < '0' ||
	    version[7] > '9' || version[8])
		return 400;
	for (sp = target; *sp; sp++)
		if ((unsigned char)*sp <= 0x20 || *sp == 0x7f)
			return 400;
	if (target[0] != '/')
		return 400;	/* absolute-form, authority-form, '*' */
	v11 = version[5] == '1' && version[7] >= '1';

	while ((line = next_line(&rest))) {
		if (!*line)
			break;
		if (*line == ' ' || *line == '\t')
			return 400;	/* obsolete line folding */
		colon = strchr(line, ':');
		if (!colon)
			return 400;
		*colon = '\0';
		if (!is_token(line))
			return 400;
		hosts += !strcasecmp(line, "host");
	}
	if (v11 ? hosts != 1 : hosts > 1)
		return 400;
	if (version[5] != '1')
		return 505;
	*head = !strcmp(req, "HEAD");
	if (!*head && strcmp(req, "GET"))
		return 405;
	target[strcspn(target, "?#")] = '\0';
	*path = target;
	return 0;
}

/* Answers --------------------------------------------------------------- */

static void conn_write(struct http_server *s, struct conn *c);

/* Answer the request (status 0: ask the handler), then write. */
static void respond(struct http_server *s, struct conn *c, int status,
		    const char *path, bool head)
{
	struct http_reply r = { .status = 200 };
	char *body = NULL, *hdr = NULL;
	size_t blen = 0, hlen = 0;
	FILE *f, *h;

	f = open_memstream(&body, &blen);
	if (!f)
		goto fail;
	r.body = f;
	if (status)
		r.status = status;
	else
		s->fn(s->ctx, path, &r);
	if (r.status >= 400 && ftell(f) == 0) {
		fprintf(f, "%d %s\n", r.status, reason(r.status));
		r.type = NULL;
		r.headers = NULL;
	}
	if (fclose(f))
		goto fail;
	h = open_memstream(&hdr, &hlen);
	if (!h)
		goto fail;
	fprintf(h, "HTTP/1.1 %d %s\r\n"
		"Server: xdplb\r\n"
		"Content-Type: %s\r\n"
		"Content-Length: %zu\r\n"
		"Cache-Control: no-store\r\n"
		"X-Content-Type-Options: nosniff\r\n"
		"%s%s"
		"Connection: close\r\n\r\n",
		r.status, reason(r.status),
		r.type ? r.type : "text/plain; charset=utf-8", blen,
		r.status == 405 ? "Allow: GET, HEAD\r\n" : "",
		r.headers ? r.headers : "");
	if (!head)
		fwrite(body, 1, blen, h);
	if (fclose(h))
		goto fail;
	free(body);
	c->out = hdr;
	c->out_len = hlen;
	c->out_off = 0;
	c->state = C_WRITE;
	c->deadline = now_ms() + HTTP_WRITE_TIMEOUT_MS;
	if (watch(s, c, EPOLL_CTL_MOD, EPOLLOUT)) {
		conn_close(s, c);
		return;
	}
	conn_write(s, c);	/* most answers fit in the socket buffer */
	return;
fail:
	free(body);
	free(hdr);
	conn_close(s, c);
}

static void conn_write(struct http_server *s, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(s, c);
			return;
		}
		c->out_off += n;
	}
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = C_DRAIN;
	c->deadline = now_ms() + DRAIN_MS;
	if (watch(s, c, EPOLL_CTL_MOD, EPOLLIN))
		conn_close(s, c);
}

/* Where the request ends (after its empty line), or 0 when not yet. */
static size_t request_end(const struct conn *c)
{
	size_t i;

	for (i = 1; i < c->in_len; i++) {
		if (c->in[i] != '\n')
			continue;
		if (c->in[i - 1] == '\n')
			return i + 1;
		if (i >= 2 && c->in[i - 1] == '\r' && c->in[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

static void conn_read(struct http_server *s, struct conn *c)
{
	char *path = NULL;
	bool head = false;
	size_t end;
	int status;

	for (;;) {
		ssize_t n;

		if (c->in_len == HTTP_MAX_REQUEST) {
			respond(s, c, 431, NULL, false);
			return;
		}
		n = read(c->fd, c->in + c->in_len,
			 HTTP_MAX_REQUEST - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(s, c);	/* gone before it asked */
			return;
		}
		c->in_len += n;
		end = request_end(c);
		if (end)
			break;
	}
	c->in[end] = '\0';
	status = memchr(c->in, '\0', end) ? 400 :
		 parse_request(c->in, &path, &head);
	respond(s, c, status, path, head);
}

static void conn_drain(struct http_server *s, struct conn *c)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(c->fd, buf, sizeof(buf))) > 0)
		;
	if (n == 0 || errno != EAGAIN)
		conn_close(s, c);
}

static void conn_event(struct http_server *s, struct conn *c)
{
	switch (c->state) {
	case C_READ:
		conn_read(s, c);
		break;
	case C_WRITE:
		conn_write(s, c);
		break;
	case C_DRAIN:
		conn_drain(s, c);
		break;
	}
}

/* A request not read in time gets 408; the rest are closed. */
static void expire(struct http_server *s)
{
	unsigned long long now = now_ms();
	int i;

	for (i = 0; i < HTTP_MAX_CLIENTS; i++) {
		struct conn *c = s->conns[i];

		if (!c || c->deadline > now)
			continue;
		if (c->state == C_READ && c->in_len)
			respond(s, c, 408, NULL, false);
		else
			conn_close(s, c);
	}
}

/* The server ---------------------------------------------------------- */

void http_dispatch(struct http_server *s)
{
	struct epoll_event ev[64];
	int n, i;

	n = epoll_wait(s->epfd, ev, 64, 0);
	for (i = 0; i < n; i++) {
		if (ev[i].data.ptr == s)
			accept_all(s);
		else
			conn_event(s, ev[i].data.ptr);
	}
	expire(s);
}

int http_timeout(const struct http_server *s)
{
	unsigned long long now = now_ms(), first = 0;
	int i;

	for (i = 0; i < HTTP_MAX_CLIENTS; i++)
		if (s->conns[i] && (!first || s->conns[i]->deadline < first))
			first = s->conns[i]->deadline;
	if (!first)
		return -1;
	return first > now ? (int)(first - now) : 0;
}

int http_fd(const struct http_server *s)
{
	return s->epfd;
}

int http_server_new(const char *listen_on, http_handler_fn fn, void *ctx,
		    struct http_server **out, char *err, size_t len)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage ss;
	struct http_server *s;
	socklen_t sslen;
	int one = 1, ret;

	if (parse_listen(listen_on, &ss, &sslen)) {
		snprintf(err, len, "bad listen address '%s' (ADDR:PORT, IPv6 "
			 "ADDR in brackets, PORT 1..65535)", listen_on);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	s->fn = fn;
	s->ctx = ctx;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
			SOCK_CLOEXEC, 0);
	if (s->epfd < 0 || s->lfd < 0 ||
	    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->lfd, (struct sockaddr *)&ss, sslen) ||
	    listen(s->lfd, 128)) {
		ret = -errno;
		snprintf(err, len, "cannot listen on %s: %s", listen_on,
			 strerror(-ret));
		goto err;
	}
	ev.data.ptr = s;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev)) {
		ret = -errno;
		snprintf(err, len, "cannot watch %s: %s", listen_on,
			 strerror(-ret));
		goto err;
	}
	*out = s;
	return 0;
err:
	http_server_free(s);
	return ret;
}

void http_server_free(struct http_server *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < HTTP_MAX_CLIENTS; i++)
		if (s->conns[i])
			conn_close(s, s->conns[i]);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}
