// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_http_request.c - what HTTP clients send the exporter and the
 * daemon's --listen (http.h over libmicrohttpd): the first byte is a mode,
 * the rest the bytes a client writes, then it shuts its side down. Mode
 * bits:
 *   1     the server: clear, the exporter's real routes with no instance
 *         (every page 503); set, routes of a test that take a body (PUT
 *         /item, 16 bytes at most, echoed as JSON) and allow 2 connections
 *         per client;
 *   2     the bytes are split between two connections of one client, at
 *         once (and, on the test's server, a third is refused);
 *   4..   (mode >> 2) bytes a write, 0: all at once.
 * Each connection is a socket pair handed to the server
 * (http_add_connection) from 192.0.2.7, served by http_dispatch() until
 * the server closes it.
 *
 * The server closes every connection once its client is done (and none
 * is left, nor a deadline, after the input). What it sends is whole
 * answers, each `HTTP/1.x NNN ` with a status it may give, a head that
 * ends, and the body its Content-Length says (none for HEAD). Answers of
 * ours (X-Content-Type-Options) that are errors carry only the server's
 * own words: the status's reason or the handler's message, as text or
 * {"error": ...}. A handler never sees a body over its route's limit.
 */
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "fuzz.h"
#include "cmd.h"
#include "exporter.h"
#include "http.h"
#include "json.h"

#define MAX_OUT		(1 << 20)	/* bytes of answers a connection */
#define MAX_ROUNDS	10000		/* of dispatch, until all close (and one
					 * a byte written) */
#define STALL_ROUNDS	100		/* with nothing sent: hang up */
#define NO_INSTANCE	"no xdplb instance (detached?)"
#define REFUSED		"no <thanks>"

/* The command's global options, which the pages' code links against
 * (main.c has them in the xdplb command). */
struct options opts;

static struct lb *no_instance(void *ctx)
{
	(void)ctx;
	return NULL;
}

static struct exporter exp = { .instance = no_instance };

/* Echoes the body's length and text; "fail" is refused. */
static void put_item(void *ctx, const struct http_request *req,
		     struct http_reply *r)
{
	(void)ctx;
	FUZZ_ASSERT(req->body_len <= 16, "a body of %zu bytes", req->body_len);
	if (!strcmp(req->body, "fail")) {
		http_error(r, 422, "no <%s>", "thanks");
		return;
	}
	jw_start_object();
	jw_kv_uint("length", req->body_len);
	jw_kv_string("body", req->body);
	jw_end_object();
	jw_flush();
}

static void hello(void *ctx, const struct http_request *req,
		  struct http_reply *r)
{
	(void)ctx;
	fprintf(r->body, "hello %s\n", req->method);
}

static const struct http_route routes[] = {
	{ "GET", "/", hello, "text/plain", 0, 0 },
	{ "PUT", "/item", put_item, NULL, 16, HTTP_ROUTE_JSON },
	{ "DELETE", "/item", hello, NULL, 0, HTTP_ROUTE_JSON },
};

static struct http_server *srv[2];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct http_config cfg = {
		.routes = routes,
		.nroutes = sizeof(routes) / sizeof(routes[0]),
		.max_per_client = 2,
	};
	char err[256];

	(void)argc;
	(void)argv;
	if (exporter_listen(&exp, NULL, &srv[0], err, sizeof(err)) ||
	    http_server_new(&cfg, &srv[1], err, sizeof(err))) {
		fprintf(stderr, "fuzz_http_request: %s\n", err);
		abort();
	}
	return 0;
}

struct conn {
	int fd;			/* the client's end */
	const uint8_t *in;
	size_t left;
	bool shut, closed;
	char *out;
	size_t len;
};

static int add(struct http_server *s, struct conn *c)
{
	struct sockaddr_in from = { .sin_family = AF_INET,
				    .sin_port = htons(40000) };
	int sv[2], ret;

	from.sin_addr.s_addr = htonl(0xc0000207);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv))
		abort();
	c->fd = sv[0];
	ret = http_add_connection(s, sv[1], (struct sockaddr *)&from,
				  sizeof(from));
	if (ret)
		c->closed = true;
	return ret;
}

/* Is the body of an answer of ours with status st the server's words? */
static bool own_words(int st, const char *body, size_t len)
{
	const char *msgs[] = { MHD_get_reason_phrase_for(st), NO_INSTANCE,
			       REFUSED };
	char text[128], *json = NULL;
	size_t i, jlen = 0;
	bool ok = false;
	FILE *f;

	for (i = 0; i < 3 && !ok; i++) {
		snprintf(text, sizeof(text), "%s\n", msgs[i]);
		if (len == strlen(text) && !memcmp(body, text, len))
			return true;
		f = open_memstream(&json, &jlen);
		if (!f)
			abort();
		jw_set_output(f);
		jw_start_object();
		jw_kv_string("error", msgs[i]);
		jw_end_object();
		jw_flush();
		jw_set_output(NULL);
		fclose(f);
		ok = len == jlen && !memcmp(body, json, len);
		free(json);
		json = NULL;
	}
	return ok;
}

static bool status_known(int st)
{
	static const int known[] = { 100, 200, 400, 404, 405, 413, 414, 422, 431,
				     500, 501, 503, 505 };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (st == known[i])
			return true;
	return false;
}

/* The value of header name in head (up to its end), or NULL. */
static const char *header(const char *head, const char *end,
			  const char *name, size_t *vlen)
{
	size_t n = strlen(name);
	const char *p, *eol;

	for (p = memchr(head, '\n', end - head); p && p + 1 < end;
	     p = memchr(p + 1, '\n', end - p - 1)) {
		if ((size_t)(end - p - 1) > n + 1 &&
		    !strncasecmp(p + 1, name, n) && p[1 + n] == ':') {
			const char *v = p + 2 + n;

			while (*v == ' ')
				v++;
			eol = memchr(v, '\r', end - v);
			*vlen = eol ? (size_t)(eol - v) : 0;
			return v;
		}
	}
	return NULL;
}

static void check_answers(const char *out, size_t len)
{
	const char *p = out, *end;

	if (!len)
		return;
	end = out + len;
	while (p < end) {
		const char *head_end, *cl, *body;
		size_t rest = end - p, vlen = 0, blen;
		char num[24];
		int st;

		st = fuzz_status_line(p, rest);
		FUZZ_ASSERT(status_known(st), "status %d", st);
		head_end = memmem(p, rest, "\r\n\r\n", 4);
		FUZZ_ASSERT(head_end, "an answer's head does not end");
		head_end += 4;
		/* Expect: 100-continue: an interim answer, a head only. */
		if (st == 100) {
			p = head_end;
			continue;
		}
		cl = header(p, head_end, "Content-Length", &vlen);
		FUZZ_ASSERT(cl && vlen && vlen < sizeof(num),
			    "an answer without its length");
		memcpy(num, cl, vlen);
		num[vlen] = '\0';
		blen = strtoul(num, NULL, 10);
		body = head_end;
		/* HEAD: the length, no body (none starts so). */
		if (blen && (body == end || ((size_t)(end - body) >= 7 &&
					     !memcmp(body, "HTTP/1.", 7)))) {
			p = body;
			continue;
		}
		/* libmicrohttpd 0.9.75's own answer to a malformed request
		 * (not ours: no X-Content-Type-Options) may send its head
		 * twice (a Content-Length it cannot read): the connection
		 * closes after it, and what follows is its body. */
		if (!header(p, head_end, "X-Content-Type-Options", &vlen) &&
		    st == 400 && header(p, head_end, "Connection", &vlen))
			return;
		FUZZ_ASSERT((size_t)(end - body) >= blen,
			    "%zu bytes of a body of %zu", (size_t)(end - body),
			    blen);
		if (st >= 400 && header(p, head_end, "X-Content-Type-Options",
					&vlen))
			FUZZ_ASSERT(own_words(st, body, blen),
				    "a %d answer says '%.*s'", st, (int)blen,
				    body);
		p = body + blen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn c[3] = {};
	struct http_server *s;
	size_t piece, half;
	int n, i, k, round, ret, idle = 0;
	uint8_t mode;
	bool all;

	if (!size)
		return 0;
	mode = data[0];
	data++;
	size--;
	s = srv[mode & 1];
	n = mode & 2 ? 2 : 1;
	piece = mode >> 2 ? mode >> 2 : SIZE_MAX;
	half = n == 2 ? size / 2 : size;
	for (i = 0; i < n; i++) {
		ret = add(s, &c[i]);
		FUZZ_ASSERT(!ret, "connection %d refused: %d (one left over?)",
			    i, ret);
		c[i].in = data + (i ? half : 0);
		c[i].left = i ? size - half : half;
	}
	if (n == 2 && s == srv[1]) {
		ret = add(s, &c[2]);
		FUZZ_ASSERT(ret, "a third connection of one client taken");
		FUZZ_ASSERT(read(c[2].fd, &ret, 1) == 0, "refused, yet open");
		close(c[2].fd);
	}
	for (round = 0; round < MAX_ROUNDS + (int)size; round++) {
		for (i = 0; i < n; i++) {
			ssize_t w;

			if (c[i].left) {
				/* The server may have closed: no SIGPIPE. */
				w = send(c[i].fd, c[i].in, c[i].left < piece ?
					 c[i].left : piece, MSG_NOSIGNAL);
				if (w > 0) {
					c[i].in += w;
					c[i].left -= w;
					idle = 0;
				}
			}
			if (!c[i].left && !c[i].shut) {
				shutdown(c[i].fd, SHUT_WR);
				c[i].shut = true;
			}
		}
		http_dispatch(s);
		all = true;
		idle++;
		for (i = 0; i < n; i++) {
			char buf[65536];
			ssize_t r;

			while (!c[i].closed &&
			       (r = read(c[i].fd, buf, sizeof(buf))) != -1) {
				if (!r) {
					c[i].closed = true;
					break;
				}
				FUZZ_ASSERT(c[i].len + r <= MAX_OUT,
					    "over %d bytes of answers",
					    MAX_OUT);
				c[i].out = realloc(c[i].out, c[i].len + r);
				if (!c[i].out)
					abort();
				memcpy(c[i].out + c[i].len, buf, r);
				c[i].len += r;
				idle = 0;
			}
			all &= c[i].closed;
		}
		if (all)
			break;
		/*
		 * Nothing moves: a request cut short by the client's end
		 * (libmicrohttpd waits for the rest: it reads the end only
		 * with new input), or one the server reads no further. The
		 * connection must have a deadline then; the client hangs
		 * up, which the server must see (below).
		 */
		if (idle == STALL_ROUNDS) {
			FUZZ_ASSERT(http_timeout(s) >= 0, "a connection waits "
				    "without a deadline");
			for (i = 0; i < n; i++)
				if (!c[i].closed) {
					close(c[i].fd);
					c[i].fd = -1;
					c[i].closed = true;
				}
		}
	}
	for (k = 0; k < n; k++) {
		FUZZ_ASSERT(c[k].closed, "connection %d still open after %d "
			    "rounds (%zu bytes unsent)", k, round, c[k].left);
		check_answers(c[k].out, c[k].len);
		free(c[k].out);
		if (c[k].fd >= 0)
			close(c[k].fd);
	}
	for (round = 0; round < MAX_ROUNDS && http_timeout(s) != -1; round++)
		http_dispatch(s);
	FUZZ_ASSERT(http_timeout(s) == -1, "a connection or deadline is left "
		    "(%d ms)", http_timeout(s));
	return 0;
}
