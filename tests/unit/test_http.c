// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_http.c - the HTTP layer (user/web/http.c) on 127.0.0.1, its loop in a
 * thread as the exporter's and the daemon's run it: the route table (404,
 * 405 with Allow, HEAD), request bodies up to the route's cap (413, a
 * chunked body over it cut off), JSON errors, the per-client limit, the
 * request deadline against a client that trickles its head, TLS, a
 * server's auth callback (decides on the head, before any body is read)
 * and headers on every answer, and requests suspended by a callback and
 * resumed later while others are served.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "http.h"
#include "json.h"

static long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hello(void *ctx, const struct http_request *req,
		  struct http_reply *r)
{
	(void)ctx;
	fprintf(r->body, "hello %s %s\n", req->method, req->path);
}

/* Echoes the body's length and text; "fail" is refused. */
static void put_item(void *ctx, const struct http_request *req,
		     struct http_reply *r)
{
	(void)ctx;
	if (!strcmp(req->body, "fail")) {
		http_error(r, 422, "no <%s>", "thanks");
		return;
	}
	jw_start_object();
	jw_kv_uint("length", req->body_len);
	jw_kv_string("body", req->body);
	jw_end_object();
	jw_flush();
	http_add_header(r, "X-Test", "1");
}

/* How many times secret() ran. */
static int secret_runs;

/* What auth() found, and what the request says of itself. */
static void secret(void *ctx, const struct http_request *req,
		   struct http_reply *r)
{
	char client[64];

	(void)ctx;
	(void)r;
	__atomic_add_fetch(&secret_runs, 1, __ATOMIC_SEQ_CST);
	http_client_name(req, client, sizeof(client));
	jw_start_object();
	jw_kv_string("auth", req->auth);
	jw_kv_string("client", client);
	jw_kv_string("body", req->body);
	jw_end_object();
	jw_flush();
}

/* The request a callback suspended last, for the loop to resume when the
 * test says (srv.resume); the states freed with a server. */
static struct http_wait *waiting;
static int states_freed;

static void suspend(const struct http_request *req, int value)
{
	int *st = malloc(sizeof(*st));

	cr_assert(st);
	*st = value;
	http_suspend(req, st);
	__atomic_store_n(&waiting, req->wait, __ATOMIC_SEQ_CST);
}

static void free_state(void *ctx, void *state)
{
	(void)ctx;
	free(state);
	__atomic_add_fetch(&states_freed, 1, __ATOMIC_SEQ_CST);
}

/* Suspends first (what it wrote is dropped); answers with its state when
 * called again. */
static void later(void *ctx, const struct http_request *req,
		  struct http_reply *r)
{
	int *st = req->state;

	(void)ctx;
	if (!st) {
		fprintf(r->body, "dropped");
		http_add_header(r, "X-Dropped", "1");
		suspend(req, 42);
		return;
	}
	jw_start_object();
	jw_kv_uint("state", *st);
	jw_kv_string("body", req->body);
	jw_end_object();
	jw_flush();
	free(st);
}

/* X-Key good: on, with the cookie "who"; slow: 429; wait: suspended,
 * then on; else 401. */
static void auth(void *ctx, const struct http_request *req, void *out,
		 struct http_reply *r)
{
	const char *k = http_header(req, "X-Key");
	const char *who = http_cookie(req, "who");
	int *st = req->state;

	(void)ctx;
	cr_assert_str_eq(req->body, "", "auth sees a body");
	if (k && !strcmp(k, "wait")) {
		if (!st) {
			http_error(r, 401, "dropped");
			suspend(req, 7);
			return;
		}
		snprintf(out, HTTP_AUTH_SIZE, "waited %d", *st);
		free(st);
		return;
	}
	if (k && !strcmp(k, "good")) {
		snprintf(out, HTTP_AUTH_SIZE, "%s", who ? who : "-");
		return;
	}
	if (k && !strcmp(k, "slow")) {
		http_add_header(r, "Retry-After", "7");
		http_error(r, 429, "slow down");
		return;
	}
	http_add_header(r, "WWW-Authenticate", "Basic realm=\"t\"");
	http_error(r, 401, "who are you");
}

static const char *const every[][2] = {
	{ "X-Frame-Options", "DENY" },
	{ NULL, NULL },
};

static const struct http_route routes[] = {
	{ "GET", "/", hello, "text/plain", 0, 0 },
	{ "PUT", "/item", put_item, NULL, 16, HTTP_ROUTE_JSON },
	{ "DELETE", "/item", hello, NULL, 0, HTTP_ROUTE_JSON },
	{ "PUT", "/secret", secret, NULL, 16,
	  HTTP_ROUTE_JSON | HTTP_ROUTE_AUTH },
	{ "PUT", "/later", later, NULL, 16, HTTP_ROUTE_JSON },
};

struct srv {
	struct http_server *http;
	int stop;		/* eventfd */
	int resume;		/* eventfd: http_resume(waiting) */
	int port;
	pthread_t th;
};

static void *loop(void *arg)
{
	struct srv *s = arg;
	uint64_t n;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = s->stop, .events = POLLIN },
			{ .fd = http_fd(s->http), .events = POLLIN },
			{ .fd = s->resume, .events = POLLIN },
		};

		poll(p, 3, http_timeout(s->http));
		if (p[0].revents)
			return NULL;
		if (p[2].revents && read(s->resume, &n, sizeof(n)) > 0)
			http_resume(__atomic_exchange_n(&waiting, NULL,
							__ATOMIC_SEQ_CST));
		http_dispatch(s->http);
	}
}

/* A server on a free port of 127.0.0.1 with cfg's limits and TLS. */
static struct srv *start(struct http_config cfg)
{
	struct srv *s = calloc(1, sizeof(*s));
	char addr[32], err[256];
	int i, ret = -1;

	cr_assert(s);
	cfg.routes = routes;
	cfg.nroutes = sizeof(routes) / sizeof(routes[0]);
	for (i = 0; i < 100 && ret; i++) {
		s->port = 20000 + (getpid() * 7 + i * 131) % 30000;
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
		cfg.listen = addr;
		ret = http_server_new(&cfg, &s->http, err, sizeof(err));
		cr_assert(!ret || ret == -EADDRINUSE, "%s", err);
	}
	cr_assert(!ret, "no free port: %s", err);
	s->stop = eventfd(0, EFD_CLOEXEC);
	s->resume = eventfd(0, EFD_CLOEXEC);
	cr_assert(s->stop >= 0 && s->resume >= 0);
	cr_assert(!pthread_create(&s->th, NULL, loop, s));
	return s;
}

static void stop(struct srv *s)
{
	uint64_t one = 1;

	cr_assert(write(s->stop, &one, sizeof(one)) == sizeof(one));
	pthread_join(s->th, NULL);
	http_server_free(s->http);
	close(s->stop);
	close(s->resume);
	free(s);
}

static int dial(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = 3 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert(!connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
		  "connect: %s", strerror(errno));
	return fd;
}

/* Everything the server sends until it closes (or 3 s pass). */
static char *read_all(int fd)
{
	static char buf[65536];
	size_t n = 0;
	ssize_t k;

	while (n < sizeof(buf) - 1 &&
	       (k = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += k;
	buf[n] = '\0';
	return buf;
}

/* Send req on a new connection; the whole answer. */
static char *ask(struct srv *s, const char *req)
{
	int fd = dial(s->port);
	char *out;

	cr_assert(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	out = read_all(fd);
	close(fd);
	return out;
}

#define CLOSE "Connection: close\r\n"

Test(http, routes)
{
	struct srv *s = start((struct http_config){ 0 });
	char *out;

	out = ask(s, "GET /?q=1 HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n");
	cr_expect(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	cr_expect(strstr(out, "Content-Type: text/plain\r\n"), "%s", out);
	cr_expect(strstr(out, "Cache-Control: no-store\r\n"), "%s", out);
	cr_expect(strstr(out, "\r\n\r\nhello GET /\n"), "%s", out);

	out = ask(s, "HEAD / HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n");
	cr_expect(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	cr_expect(strstr(out, "Content-Length: 12\r\n"), "%s", out);
	cr_expect(!strstr(out, "hello"), "HEAD has a body: %s", out);

	out = ask(s, "GET /nope HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n");
	cr_expect(strstr(out, "HTTP/1.1 404 "), "%s", out);
	cr_expect(!strstr(out, "nope"), "404 echoes the path: %s", out);

	out = ask(s, "POST /item HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n");
	cr_expect(strstr(out, "HTTP/1.1 405 "), "%s", out);
	cr_expect(strstr(out, "Allow: PUT, DELETE\r\n"), "%s", out);

	out = ask(s, "GET / HTTP/1.1\r\n" CLOSE "\r\n");
	cr_expect(strstr(out, "HTTP/1.1 400 "), "no Host: %s", out);
	stop(s);
}

Test(http, bodies)
{
	struct srv *s = start((struct http_config){ 0 });
	char *out;

	out = ask(s, "PUT /item HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "Content-Length: 5\r\n\r\nabcde");
	cr_expect(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	cr_expect(strstr(out, "Content-Type: application/json\r\n"), "%s",
		  out);
	cr_expect(strstr(out, "X-Test: 1\r\n"), "%s", out);
	cr_expect(strstr(out, "{\"length\":5,\"body\":\"abcde\"}\n"), "%s",
		  out);

	/* Exactly the cap, chunked. */
	out = ask(s, "PUT /item HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "Transfer-Encoding: chunked\r\n\r\n"
		  "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n");
	cr_expect(strstr(out, "\"length\":16,"), "%s", out);

	/* Over it, said up front: 413 before the body is read. */
	out = ask(s, "PUT /item HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "Content-Length: 17\r\n\r\n");
	cr_expect(strstr(out, "HTTP/1.1 413 "), "%s", out);
	cr_expect(strstr(out, "{\"error\":\"Content Too Large\"}"), "%s",
		  out);

	/* Over it, chunked: cut off, nothing answered. */
	out = ask(s, "PUT /item HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "Transfer-Encoding: chunked\r\n\r\n"
		  "10\r\n0123456789abcdef\r\n1\r\nX\r\n0\r\n\r\n");
	cr_expect(!strstr(out, "200 OK"), "%s", out);

	/* A route without a body takes none. */
	out = ask(s, "GET / HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "Content-Length: 1\r\n\r\nx");
	cr_expect(strstr(out, "HTTP/1.1 413 "), "%s", out);

	/* A handler's error replaces what it wrote, as JSON. */
	out = ask(s, "PUT /item HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "Content-Length: 4\r\n\r\nfail");
	cr_expect(strstr(out, "HTTP/1.1 422 "), "%s", out);
	cr_expect(strstr(out, "\r\n\r\n{\"error\":\"no <thanks>\"}\n"), "%s",
		  out);
	stop(s);
}

/* Two connections from one address at most; a third is closed at once,
 * and taken again once one of the two is gone. */
Test(http, per_client_limit)
{
	struct srv *s = start((struct http_config){ .max_per_client = 2 });
	int a = dial(s->port), b = dial(s->port), c = dial(s->port);
	char buf[16];
	char *out;

	cr_expect(read(c, buf, sizeof(buf)) <= 0, "third connection served");
	close(c);
	close(a);
	usleep(200 * 1000);
	out = ask(s, "GET / HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n");
	cr_expect(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	close(b);
	stop(s);
}

/* A head trickled a byte every 100 ms is cut off at the deadline, though
 * libmicrohttpd's idle timeout never fires; so is one that sends nothing. */
Test(http, deadline)
{
	struct srv *s = start((struct http_config){ .timeout_ms = 600 });
	const char head[] = "GET / HTTP/1.1\r\nHost: x\r\nX: aaaaaaaaaaaaaaaaa"
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	int fd = dial(s->port), idle = dial(s->port);
	long t0 = ms_now(), cut = -1;
	size_t i;
	char buf[16];

	for (i = 0; i < sizeof(head) - 1; i++) {
		if (send(fd, head + i, 1, MSG_NOSIGNAL) != 1 ||
		    recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 0) {
			cut = ms_now() - t0;
			break;
		}
		usleep(100 * 1000);
	}
	cr_expect(cut >= 500 && cut <= 1200,
		  "trickling client cut after %ld ms (deadline 600)", cut);
	cr_expect(read(idle, buf, sizeof(buf)) == 0, "idle client not closed");
	close(fd);
	close(idle);
	stop(s);
}

/* With a key and certificate: HTTPS, checked by curl. */
Test(http, tls)
{
	char dir[] = "/tmp/xdplb-http-tls.XXXXXX", cmd[512], url[64];
	char *key = NULL, *cert = NULL, *out;
	size_t n = 0;
	struct srv *s;
	FILE *f;

	if (system("command -v openssl >/dev/null && command -v curl "
		   ">/dev/null"))
		cr_skip_test("needs openssl and curl");
	cr_assert(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost "
		 "-keyout %s/key.pem -out %s/cert.pem 2>/dev/null", dir, dir);
	cr_assert(!system(cmd), "openssl req failed");
	snprintf(cmd, sizeof(cmd), "%s/key.pem", dir);
	f = fopen(cmd, "r");
	cr_assert(f && getdelim(&key, &n, '\0', f) > 0);
	fclose(f);
	n = 0;
	snprintf(cmd, sizeof(cmd), "%s/cert.pem", dir);
	f = fopen(cmd, "r");
	cr_assert(f && getdelim(&cert, &n, '\0', f) > 0);
	fclose(f);

	s = start((struct http_config){ .tls_key = key, .tls_cert = cert });
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", s->port);
	snprintf(cmd, sizeof(cmd), "curl -sS -m 5 --cacert %s/cert.pem "
		 "--resolve localhost:%d:127.0.0.1 https://localhost:%d/ "
		 "2>&1", dir, s->port, s->port);
	f = popen(cmd, "r");
	cr_assert(f);
	out = read_all(fileno(f));
	pclose(f);
	cr_expect_str_eq(out, "hello GET /\n", "%s", url);
	out = ask(s, "GET / HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n");
	cr_expect(!strstr(out, "hello"), "plain HTTP served on TLS: %s", out);
	stop(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect(!system(cmd));
	free(key);
	free(cert);
}

/* The auth callback refuses on the head (no body read, the handler never
 * runs) or lets the handler see what it found; the server's headers are
 * on every answer. */
Test(http, auth)
{
	struct srv *s = start((struct http_config){ .auth = auth,
						    .headers = every });
	char *out;

	secret_runs = 0;
	out = ask(s, "PUT /secret HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "Content-Length: 5\r\n\r\nabcde");
	cr_expect(strstr(out, "HTTP/1.1 401 "), "%s", out);
	cr_expect(strstr(out, "WWW-Authenticate: Basic realm=\"t\"\r\n"), "%s",
		  out);
	cr_expect(strstr(out, "X-Frame-Options: DENY\r\n"), "%s", out);
	cr_expect(strstr(out, "{\"error\":\"who are you\"}"), "%s", out);

	out = ask(s, "PUT /secret HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "X-Key: slow\r\nContent-Length: 5\r\n\r\nabcde");
	cr_expect(strstr(out, "HTTP/1.1 429 "), "%s", out);
	cr_expect(strstr(out, "Retry-After: 7\r\n"), "%s", out);
	cr_expect_eq(__atomic_load_n(&secret_runs, __ATOMIC_SEQ_CST), 0,
		     "the handler ran for a refused request");

	out = ask(s, "PUT /secret HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "X-Key: good\r\nCookie: a=1; who=alice\r\n"
		  "Content-Length: 5\r\n\r\nabcde");
	cr_expect(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	cr_expect(strstr(out, "{\"auth\":\"alice\",\"client\":\"127.0.0.1\","
			 "\"body\":\"abcde\"}"), "%s", out);
	cr_expect_eq(__atomic_load_n(&secret_runs, __ATOMIC_SEQ_CST), 1);

	/* Routes without the flag are not asked about. */
	out = ask(s, "GET / HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n");
	cr_expect(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	cr_expect(strstr(out, "X-Frame-Options: DENY\r\n"), "%s", out);
	out = ask(s, "GET /nope HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n");
	cr_expect(strstr(out, "HTTP/1.1 404 "), "%s", out);
	cr_expect(strstr(out, "X-Frame-Options: DENY\r\n"), "%s", out);
	stop(s);

	/* A route that needs it, on a server without: refused. */
	s = start((struct http_config){ 0 });
	out = ask(s, "PUT /secret HTTP/1.1\r\nHost: x\r\n" CLOSE
		  "X-Key: good\r\nContent-Length: 1\r\n\r\nx");
	cr_expect(strstr(out, "HTTP/1.1 403 "), "%s", out);
	stop(s);
}

Test(http, bad_config)
{
	struct http_config cfg = { .listen = "127.0.0.1:0" };
	struct http_server *h = NULL;
	char err[256];

	cr_expect_eq(http_server_new(&cfg, &h, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "bad listen address '127.0.0.1:0'"), "%s", err);
	cfg.listen = "127.0.0.1:1";
	cfg.tls_key = "x";
	cr_expect_eq(http_server_new(&cfg, &h, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "both a key and a certificate"), "%s", err);
	cfg.tls_cert = "not a certificate";
	cr_expect_neq(http_server_new(&cfg, &h, err, sizeof(err)), 0);
	cr_expect(strstr(err, "cannot serve HTTP on 127.0.0.1:1"), "%s", err);
	cr_expect(!h);
}

/* Wait (2 s at most) until a callback has suspended a request. */
static void wait_suspended(void)
{
	int i;

	for (i = 0; i < 200 && !__atomic_load_n(&waiting, __ATOMIC_SEQ_CST);
	     i++)
		usleep(10 * 1000);
	cr_assert(__atomic_load_n(&waiting, __ATOMIC_SEQ_CST),
		  "nothing suspended");
}

static void resume(struct srv *s)
{
	uint64_t one = 1;

	cr_assert(write(s->resume, &one, sizeof(one)) == sizeof(one));
}

/* Send req on a new connection; wait until it is suspended. */
static int send_suspended(struct srv *s, const char *req)
{
	int fd = dial(s->port);
	char buf[16];

	cr_assert(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	wait_suspended();
	usleep(100 * 1000);
	cr_expect(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 &&
		  errno == EAGAIN, "answered while suspended");
	return fd;
}

/* A handler or an auth callback suspends its request: nothing is answered
 * (what it wrote is dropped) and other requests are served meanwhile;
 * once resumed, the same callback runs again with its state and answers.
 * A server freed with a request suspended frees its state and closes it. */
Test(http, suspend)
{
	struct srv *s = start((struct http_config){
		.auth = auth, .state_free = free_state });
	char *out;
	int fd;

	waiting = NULL;
	states_freed = 0;
	fd = send_suspended(s, "PUT /later HTTP/1.1\r\nHost: x\r\n" CLOSE
			    "Content-Length: 3\r\n\r\nabc");
	out = ask(s, "GET / HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n");
	cr_expect(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	resume(s);
	out = read_all(fd);
	close(fd);
	cr_expect(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	cr_expect(strstr(out, "\r\n\r\n{\"state\":42,\"body\":\"abc\"}\n"),
		  "%s", out);
	cr_expect(!strstr(out, "dropped") && !strstr(out, "X-Dropped"), "%s",
		  out);

	/* In the auth callback: the body is read once it lets it on. */
	secret_runs = 0;
	fd = send_suspended(s, "PUT /secret HTTP/1.1\r\nHost: x\r\n" CLOSE
			    "X-Key: wait\r\nContent-Length: 2\r\n\r\nhi");
	cr_expect_eq(__atomic_load_n(&secret_runs, __ATOMIC_SEQ_CST), 0);
	resume(s);
	out = read_all(fd);
	close(fd);
	cr_expect(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
	cr_expect(strstr(out, "{\"auth\":\"waited 7\",\"client\":"
			 "\"127.0.0.1\",\"body\":\"hi\"}"), "%s", out);
	cr_expect_eq(__atomic_load_n(&secret_runs, __ATOMIC_SEQ_CST), 1);

	/* Freed while suspended. */
	fd = send_suspended(s, "PUT /later HTTP/1.1\r\nHost: x\r\n" CLOSE
			    "Content-Length: 1\r\n\r\nx");
	stop(s);
	cr_expect_eq(states_freed, 1, "the state of a suspended request");
	out = read_all(fd);
	cr_expect(!strstr(out, "HTTP/1.1"), "%s", out);
	close(fd);
}
