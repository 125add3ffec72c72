// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_console.c - what clients send the web console (console.h): logins,
 * cookies, CSRF tokens, HTTP Basic, If-Match, JSON and configuration
 * lines. A real console, on no listening socket, serves one connection a
 * run (console_add_connection) over an instance of the fuzzer's own: the
 * console's ops on a configuration in memory (no BPF map), which every run
 * starts from again. Its users file (made at start, in a directory of its
 * own) has an admin and a viewer with known passwords, hashed as `xdplb
 * passwd` does; both are logged in once at start (again when a run may
 * have ended their sessions), and a run's bytes may name their cookies and
 * CSRF tokens, and the ETag of the configuration, by the placeholders
 * below, which are replaced before the bytes are sent.
 *
 * The first byte is a mode: bit 0, the lock is busy (-EWOULDBLOCK); bit 1,
 * the instance refuses every apply; bit 2, the client is a new address
 * (else 192.0.2.7, which failed logins throttle); (mode >> 3) bytes a
 * write, 0: all at once. The client shuts its side down after the bytes.
 *
 * What must hold: the connection closes, and what it got is whole HTTP/1.x
 * answers with statuses the API documents, every error of ours JSON with
 * an "error" string (text on the page's routes); the configuration (and
 * its file) changes only when the run carries an admin's credentials (the
 * admin's Basic, or its cookie and CSRF token), and then only by a request
 * answered 200 (or none, when libmicrohttpd drops the connection
 * after it) whose "etag" is that of what runs now and whose "lines" are
 * exactly the lines that went and came; a refused apply changes
 * nothing, file included; an exec check's command line shows only to an
 * admin. FUZZ_CONSOLE_SHOW=1 prints each run's answers (to replay one).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "fuzz.h"
#include "cmd.h"
#include "config.h"
#include "console.h"
#include "users.h"

#define ADMIN_PW	"admin-pass-1"
#define VIEWER_PW	"viewer-pass-1"
#define SECRET		"s3cr3t-token"	/* in an exec check's command */
#define MAX_OUT		(4 << 20)
#define MAX_CHANGES	64
#define STALL_POLLS	100		/* of 10 ms with nothing moving */
#define MAX_ROUNDS	20000

/* Placeholders a run's bytes may hold. */
enum { P_ADMIN_SESSION, P_ADMIN_CSRF, P_VIEWER_SESSION, P_VIEWER_CSRF,
       P_ETAG, NPLACE };
static const char *const place[NPLACE] = {
	"@ADMIN_SESSION@", "@ADMIN_CSRF@", "@VIEWER_SESSION@",
	"@VIEWER_CSRF@", "@ETAG@",
};
static char value[NPLACE][80];

static const char initial_text[] =
	"add-vip 10.0.0.1:80\n"
	"add-real --vip 10.0.0.1:80 10.1.0.1 --weight 3\n"
	"add-real --vip 10.0.0.1:80 10.1.0.2 --weight 0\n"
	"add-vip 10.0.0.1:443 --check 'exec:/bin/true --token " SECRET "'\n"
	"add-real --vip 10.0.0.1:443 10.1.0.1 --weight 1\n"
	"add-vip [2001:db8::1]:53/udp --hash src-ip --ops\n"
	"add-real --vip [2001:db8::1]:53/udp 2001:db8:1::1 --weight 2\n";

/* The command's global options, which linked code reads (main.c). */
struct options opts;

static char dir[64], users_path[96], config_path[96], tmp_path[112];
static struct console *con;
static struct config *initial, *cur;	/* what "runs" */
static uint8_t mode;
static bool sessions_stale = true;

/* The changes of a run, and the answers before each. */
static struct change_seen {
	int answer;		/* index of the answer to its request */
	char *before, *after;	/* redacted save form */
	char etag[40];
} seen[MAX_CHANGES];
static int nseen;
static struct conn *current;

struct conn {
	int fd;
	bool closed;
	char *out;
	size_t len;
};

static struct lb *fake_instance(void *ctx)
{
	(void)ctx;
	return NULL;	/* the status page: 503, as without an instance */
}

static int fake_lock(void *ctx)
{
	(void)ctx;
	return mode & 1 ? -EWOULDBLOCK : 0;
}

static void fake_unlock(void *ctx)
{
	(void)ctx;
}

static int fake_read(void *ctx, struct config **out, __u32 *table_size)
{
	(void)ctx;
	*table_size = XDPLB_DEFAULT_TABLE_SIZE;
	*out = config_copy(cur);
	return *out ? 0 : -ENOMEM;
}

/* c in save form, exec commands replaced (redact) as the console does. */
static char *text_of(const struct config *c, bool redact)
{
	struct config *x = config_copy(c);
	char *t = NULL;
	size_t n;
	FILE *f;
	int i;

	FUZZ_ASSERT(x, "out of memory");
	for (i = 0; redact && i < x->nsvcs; i++)
		if (x->svcs[i].opts.check == XDPLB_CHECK_EXEC)
			snprintf(x->svcs[i].opts.arg,
				 sizeof(x->svcs[i].opts.arg), "(not shown)");
	f = open_memstream(&t, &n);
	FUZZ_ASSERT(f && !config_write(f, x) && !fclose(f), "config_write");
	config_free(x);
	return t;
}

static void etag_of(const char *text, char *buf, size_t len)
{
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof(h), (const unsigned char *)text,
			   strlen(text), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(buf, len, "\"%s\"", hex);
}

/* Read what the client's end has now. */
static void drain(struct conn *c)
{
	char buf[65536];
	ssize_t r;

	while (!c->closed && (r = read(c->fd, buf, sizeof(buf))) != -1) {
		if (!r) {
			c->closed = true;
			break;
		}
		FUZZ_ASSERT(c->len + r <= MAX_OUT, "over %d bytes of answers",
			    MAX_OUT);
		c->out = realloc(c->out, c->len + r);
		FUZZ_ASSERT(c->out, "out of memory");
		memcpy(c->out + c->len, buf, r);
		c->len += r;
	}
}

struct answer {
	int status;
	const char *head, *body;	/* head: from the status line */
	size_t head_len, body_len;
	bool no_body;		/* an answer to HEAD */
};

/* The value of header name in an answer's head, or NULL. */
static const char *header(const struct answer *a, const char *name,
			  size_t *vlen)
{
	const char *end = a->head + a->head_len, *p;
	size_t n = strlen(name);

	for (p = memchr(a->head, '\n', a->head_len); p && p + 1 < end;
	     p = memchr(p + 1, '\n', end - p - 1)) {
		if ((size_t)(end - p - 1) > n + 1 &&
		    !strncasecmp(p + 1, name, n) && p[1 + n] == ':') {
			const char *v = p + 2 + n, *eol;

			while (*v == ' ')
				v++;
			eol = memchr(v, '\r', end - v);
			*vlen = eol ? (size_t)(eol - v) : 0;
			return v;
		}
	}
	return NULL;
}

/*
 * The answers in out (100 Continue left out), at most max into a; their
 * number. whole: all of out must be answers; else stop at one not whole
 * yet.
 */
static int answers(const char *out, size_t len, bool whole,
		   struct answer *a, int max)
{
	const char *p = out, *end;
	int n = 0;

	if (!len)
		return 0;
	end = out + len;
	while (p < end) {
		struct answer x = { .head = p };
		size_t rest = end - p, vlen = 0;
		const char *he, *cl;
		char num[24];

		if (!whole && (rest < 13 || !memmem(p, rest, "\r\n\r\n", 4)))
			break;
		x.status = fuzz_status_line(p, rest);
		he = memmem(p, rest, "\r\n\r\n", 4);
		FUZZ_ASSERT(he, "an answer's head does not end");
		x.head_len = he + 4 - p;
		x.body = he + 4;
		if (x.status == 100) {
			p = x.body;
			continue;
		}
		cl = header(&x, "Content-Length", &vlen);
		FUZZ_ASSERT(cl && vlen && vlen < sizeof(num),
			    "an answer without its length");
		memcpy(num, cl, vlen);
		num[vlen] = '\0';
		x.body_len = strtoul(num, NULL, 10);
		/* HEAD: the length, no body. */
		if (x.body_len && (x.body == end ||
				   ((size_t)(end - x.body) >= 7 &&
				    !memcmp(x.body, "HTTP/1.", 7)))) {
			x.body_len = 0;
			x.no_body = true;
		} else if ((size_t)(end - x.body) < x.body_len) {
			/* libmicrohttpd's own 400 to a malformed request
			 * (not ours: no X-Content-Type-Options) may send its
			 * head twice; the connection closes after it. */
			if (whole && x.status == 400 &&
			    !header(&x, "X-Content-Type-Options", &vlen))
				x.body_len = end - x.body;
			FUZZ_ASSERT(!whole || x.body_len == (size_t)(end -
								    x.body),
				    "%zu bytes of a body of %zu",
				    (size_t)(end - x.body), x.body_len);
			if (!whole)
				break;
		}
		if (n < max)
			a[n] = x;
		n++;
		p = x.body + x.body_len;
	}
	return n;
}

/* Count of two configurations' differences, as config_apply counts. */
static void diff(const struct config *a, const struct config *b,
		 struct config_diff *df)
{
	int i, k;

	memset(df, 0, sizeof(*df));
	for (i = 0; i < b->nsvcs; i++) {
		for (k = 0; k < a->nsvcs; k++)
			if (!memcmp(&a->svcs[k].key, &b->svcs[i].key,
				    sizeof(b->svcs[i].key)))
				break;
		if (k == a->nsvcs)
			df->svcs_added++;
		else if (a->svcs[k].flags != b->svcs[i].flags ||
			 a->svcs[k].table_size != b->svcs[i].table_size ||
			 memcmp(&a->svcs[k].opts, &b->svcs[i].opts,
				sizeof(b->svcs[i].opts)))
			df->svcs_changed++;
	}
	df->svcs_removed = a->nsvcs + df->svcs_added - b->nsvcs;
	for (i = 0; i < b->nreals; i++) {
		const struct config_real *r = &b->reals[i];

		for (k = 0; k < a->nreals; k++)
			if (!memcmp(&a->reals[k].svc, &r->svc,
				    sizeof(r->svc)) &&
			    !memcmp(&a->reals[k].addr, &r->addr,
				    sizeof(r->addr)))
				break;
		if (k == a->nreals)
			df->reals_added++;
		else if (a->reals[k].weight != r->weight ||
			 a->reals[k].sorry != r->sorry ||
			 a->reals[k].mac_manual != r->mac_manual ||
			 (r->mac_manual && memcmp(a->reals[k].mac, r->mac, 6)))
			df->reals_changed++;
	}
	df->reals_removed = a->nreals + df->reals_added - b->nreals;
}

/* With the lock held: take want, and remember the change and which
 * request made it (the answers the client has before it). */
static int fake_apply(void *ctx, const struct config *want,
		      struct config_diff *df)
{
	struct change_seen *s = &seen[nseen];
	struct config *c;

	(void)ctx;
	FUZZ_ASSERT(!(mode & 1), "an apply without the lock");
	memset(df, 0, sizeof(*df));
	if (mode & 2) {
		snprintf(df->error, sizeof(df->error), "the fuzzer's instance "
			 "refuses every change");
		return -ENOSPC;
	}
	FUZZ_ASSERT(nseen < MAX_CHANGES, "over %d changes", MAX_CHANGES);
	c = config_copy(want);
	FUZZ_ASSERT(c, "out of memory");
	diff(cur, c, df);
	drain(current);
	s->answer = answers(current->out, current->len, false, NULL, 0);
	s->before = text_of(cur, true);
	s->after = text_of(c, true);
	config_free(cur);
	cur = c;
	/* What the console reads back, and its ETag. */
	free(s->after);
	s->after = text_of(cur, false);
	etag_of(s->after, s->etag, sizeof(s->etag));
	free(s->after);
	s->after = text_of(cur, true);
	nseen++;
	return 0;
}

static const struct console_ops ops = {
	.instance = fake_instance, .lock = fake_lock, .unlock = fake_unlock,
	.apply = fake_apply, .read = fake_read,
};

/* Serve bytes on one connection from addr until it closes; its answers
 * in *c. */
static void serve(const uint8_t *in, size_t left, size_t piece, __u32 addr,
		  struct conn *c)
{
	struct sockaddr_in from = { .sin_family = AF_INET,
				    .sin_port = htons(40000),
				    .sin_addr.s_addr = htonl(addr) };
	int sv[2], round, idle = 0;
	bool shut = false;

	memset(c, 0, sizeof(*c));
	FUZZ_ASSERT(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
				SOCK_CLOEXEC, 0, sv), "socketpair");
	c->fd = sv[0];
	FUZZ_ASSERT(!console_add_connection(con, sv[1],
					    (struct sockaddr *)&from,
					    sizeof(from)),
		    "connection refused (one left over?)");
	current = c;
	for (round = 0; round < MAX_ROUNDS && !c->closed; round++) {
		size_t had = c->len;
		bool moved = false;
		struct pollfd pfd = { .fd = console_fd(con),
				      .events = POLLIN };

		if (left) {
			ssize_t w = send(c->fd, in, left < piece ? left : piece,
					 MSG_NOSIGNAL);

			if (w > 0) {
				in += w;
				left -= w;
				moved = true;
			}
		}
		if (!left && !shut) {
			shutdown(c->fd, SHUT_WR);
			shut = true;
		}
		console_dispatch(con);
		drain(c);
		if (moved || c->len != had || c->closed) {
			idle = 0;
			continue;
		}
		/* A password being checked wakes the console's descriptor. */
		if (poll(&pfd, 1, 10) > 0)
			continue;
		if (++idle < STALL_POLLS)
			continue;
		/* Nothing moves: a request cut short. It has a deadline;
		 * the client hangs up. */
		FUZZ_ASSERT(console_timeout(con) >= 0, "a connection waits "
			    "without a deadline");
		close(c->fd);
		c->fd = -1;
		c->closed = true;
	}
	FUZZ_ASSERT(c->closed, "connection still open after %d rounds", round);
	if (c->fd >= 0)
		close(c->fd);
	/* Nothing of it left (a check under way for a request whose client
	 * hung up ends with it). */
	for (round = 0; round < 500 && console_timeout(con) != -1; round++) {
		struct pollfd pfd = { .fd = console_fd(con),
				      .events = POLLIN };

		poll(&pfd, 1, 10);
		console_dispatch(con);
	}
	FUZZ_ASSERT(console_timeout(con) == -1, "a connection or deadline is "
		    "left (%d ms)", console_timeout(con));
	current = NULL;
}

/* The JSON body of an answer, or NULL. */
static json_t *json_of(const struct answer *a)
{
	return json_loadb(a->body, a->body_len, 0, NULL);
}

/* Log in (or check that the session is alive): the cookie and token. */
static void login(const char *user, const char *pw, int s, int t)
{
	char req[512], body[128];
	struct answer a;
	struct conn c;
	const char *v;
	size_t vlen;
	json_t *j;

	if (value[s][0]) {
		snprintf(req, sizeof(req), "GET /api/v1/session HTTP/1.1\r\n"
			 "Host: localhost\r\nConnection: close\r\n"
			 "Cookie: xdplb_session=%s\r\n\r\n", value[s]);
		serve((uint8_t *)req, strlen(req), SIZE_MAX, 0x7f000001, &c);
		FUZZ_ASSERT(answers(c.out, c.len, true, &a, 1) == 1,
			    "no answer to GET /api/v1/session");
		free(c.out);
		if (a.status == 200)
			return;
	}
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}",
		 user, pw);
	snprintf(req, sizeof(req), "POST /api/v1/login HTTP/1.1\r\n"
		 "Host: localhost\r\nConnection: close\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		 "\r\n%s", strlen(body), body);
	serve((uint8_t *)req, strlen(req), SIZE_MAX, 0x7f000001, &c);
	FUZZ_ASSERT(answers(c.out, c.len, true, &a, 1) == 1 &&
		    a.status == 200, "cannot log %s in", user);
	v = header(&a, "Set-Cookie", &vlen);
	FUZZ_ASSERT(v && vlen > 14 + 64 && !memcmp(v, "xdplb_session=", 14),
		    "no session cookie");
	memcpy(value[s], v + 14, 64);
	value[s][64] = '\0';
	j = json_of(&a);
	v = json_string_value(json_object_get(j, "csrf"));
	FUZZ_ASSERT(v && strlen(v) == 64, "no csrf token");
	snprintf(value[t], sizeof(value[t]), "%s", v);
	json_decref(j);
	free(c.out);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	FUZZ_ASSERT(f && fputs(text, f) >= 0 && !fclose(f), "cannot write %s",
		    path);
}

static char *read_file(const char *path)
{
	char *t = NULL;
	size_t n = 0;
	FILE *f = fopen(path, "re"), *m = open_memstream(&t, &n);
	char buf[4096];
	size_t r;

	FUZZ_ASSERT(f && m, "cannot read %s", path);
	while ((r = fread(buf, 1, sizeof(buf), f)))
		fwrite(buf, 1, r, m);
	fclose(f);
	fclose(m);
	return t;
}

static void cleanup(void)
{
	console_free(con);
	config_free(cur);
	config_free(initial);
	unlink(users_path);
	unlink(config_path);
	unlink(tmp_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct console_config cc = {};
	struct users u = {};
	char err[256];
	FILE *f;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/xdplb-fuzz-console.XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	FUZZ_ASSERT(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(users_path, sizeof(users_path), "%s/users", dir);
	snprintf(config_path, sizeof(config_path), "%s/xdplb.conf", dir);
	snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", config_path);
	atexit(cleanup);
	FUZZ_ASSERT(!users_crypto_init(), "sodium_init");
	FUZZ_ASSERT(!users_set(&u, "admin", ROLE_ADMIN, ADMIN_PW,
			       strlen(ADMIN_PW)) &&
		    !users_set(&u, "viewer", ROLE_VIEWER, VIEWER_PW,
			       strlen(VIEWER_PW)) &&
		    !users_save(users_path, &u, err, sizeof(err)),
		    "users file: %s", err);
	users_free(&u);
	f = fmemopen((void *)initial_text, strlen(initial_text), "r");
	FUZZ_ASSERT(f && !config_parse(f, "initial", &initial, err,
				       sizeof(err)), "initial: %s", err);
	fclose(f);
	cur = config_copy(initial);
	{
		char *t = text_of(initial, false);

		write_file(config_path, t);
		etag_of(t, value[P_ETAG], sizeof(value[P_ETAG]));
		free(t);
	}
	cc.users_file = users_path;
	cc.config_file = config_path;
	FUZZ_ASSERT(!console_new(&cc, &ops, &con, err, sizeof(err)),
		    "console_new: %s", err);
	return 0;
}

/* data with the placeholders replaced, in a buffer to free. */
static uint8_t *substitute(const uint8_t *data, size_t size, size_t *out)
{
	uint8_t *b = malloc(size * 7 + 1);
	size_t i = 0, n = 0;
	int k;

	FUZZ_ASSERT(b, "out of memory");
	while (i < size) {
		for (k = 0; k < NPLACE; k++) {
			size_t pl = strlen(place[k]);

			if (size - i >= pl && !memcmp(data + i, place[k], pl)) {
				memcpy(b + n, value[k], strlen(value[k]));
				n += strlen(value[k]);
				i += pl;
				break;
			}
		}
		if (k == NPLACE)
			b[n++] = data[i++];
	}
	*out = n;
	return b;
}

static bool has(const uint8_t *data, size_t size, const char *s)
{
	return memmem(data, size, s, strlen(s)) != NULL;
}

/* Does data carry the admin's HTTP Basic credentials (in any header
 * named Authorization, as the console decodes them)? */
static bool admin_basic(const uint8_t *data, size_t size)
{
	const char want[] = "admin:" ADMIN_PW;
	size_t i;

	for (i = 0; i + 14 < size; i++) {
		const char *v = (const char *)data + i + 14;
		char cred[128];
		size_t vlen, n;

		if (strncasecmp((const char *)data + i, "Authorization:", 14))
			continue;
		while (v < (const char *)data + size && (*v == ' ' ||
							 *v == '\t'))
			v++;
		for (vlen = 0; v + vlen < (const char *)data + size &&
			       v[vlen] != '\r' && v[vlen] != '\n'; vlen++)
			;
		if (vlen < 6 || strncasecmp(v, "Basic ", 6))
			continue;
		if (!sodium_base642bin((unsigned char *)cred, sizeof(cred),
				       v + 6, vlen - 6, " \t", &n, NULL,
				       sodium_base64_VARIANT_ORIGINAL) &&
		    n == strlen(want) && !memcmp(cred, want, n))
			return true;
	}
	return false;
}

/* Is x one of the lines of text? */
static bool line_in(const char *text, const char *x, size_t n)
{
	const char *p;

	for (p = text; (p = strstr(p, x)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* How many lines of a are not lines of b. */
static size_t lines_only(const char *a, const char *b)
{
	size_t k = 0, n;
	char *x;

	for (; *a; a += n + 1) {
		n = strcspn(a, "\n");
		x = strndup(a, n);
		FUZZ_ASSERT(x, "out of memory");
		k += !line_in(b, x, n);
		free(x);
		if (!a[n])
			break;
	}
	return k;
}

/* The lines a change's answer says went (side 0) or came (1): exactly
 * those of one text that the other has not. */
static void check_lines(const struct change_seen *s, json_t *lines,
			int side)
{
	const char *from = side ? s->after : s->before;
	const char *to = side ? s->before : s->after;
	json_t *v = json_object_get(lines, side ? "added" : "removed");
	size_t i;

	FUZZ_ASSERT(json_is_array(v), "no lines %s", side ? "added" :
		    "removed");
	for (i = 0; i < json_array_size(v); i++) {
		const char *x = json_string_value(json_array_get(v, i));

		FUZZ_ASSERT(x && line_in(from, x, strlen(x)) &&
			    !line_in(to, x, strlen(x)), "'%s' said %s", x,
			    side ? "added" : "removed");
	}
	FUZZ_ASSERT(json_array_size(v) == lines_only(from, to),
		    "%zu lines said %s, %zu were", json_array_size(v),
		    side ? "added" : "removed", lines_only(from, to));
}

/* The answer of a change: 200, the ETag of what runs after it, exactly
 * its lines. */
static void check_change(const struct change_seen *s, const struct answer *a,
			 int n)
{
	json_t *j;

	/* libmicrohttpd may close a connection without the answer queued
	 * when what follows it is malformed (a bare LF, garbage): then no
	 * answer came after the change. */
	FUZZ_ASSERT(s->answer <= n, "answers lost");
	if (s->answer == n)
		return;
	a += s->answer;
	FUZZ_ASSERT(a->status == 200, "a change answered %d", a->status);
	j = json_of(a);
	FUZZ_ASSERT(json_is_string(json_object_get(j, "etag")) &&
		    !strcmp(json_string_value(json_object_get(j, "etag")),
			    s->etag), "the change's ETag is not what runs");
	check_lines(s, json_object_get(j, "lines"), 0);
	check_lines(s, json_object_get(j, "lines"), 1);
	json_decref(j);
}

static bool status_known(int st)
{
	/* The API's (doc/xdplb.8.md WEB CONSOLE) and libmicrohttpd's own
	 * (http.h). */
	static const int known[] = { 200, 400, 401, 403, 404, 405, 409, 412,
				     413, 414, 415, 428, 429, 431, 500, 501,
				     503, 505 };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (st == known[i])
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u32 fresh = 0xc6120000;	/* 198.18.0.0/15 */
	struct answer a[256];
	bool admin, admin_get;
	char *file_before, *file_after, *t;
	uint8_t *in;
	size_t len;
	struct conn c;
	int n, i;

	if (!size)
		return 0;
	if (sessions_stale) {
		login("admin", ADMIN_PW, P_ADMIN_SESSION, P_ADMIN_CSRF);
		login("viewer", VIEWER_PW, P_VIEWER_SESSION, P_VIEWER_CSRF);
		sessions_stale = false;
	}
	mode = data[0];
	data++;
	size--;
	/* A run that may log out or in may end the sessions. */
	sessions_stale = has(data, size, "log") || has(data, size, "%");
	admin = admin_basic(data, size) ||
		(has(data, size, place[P_ADMIN_SESSION]) &&
		 has(data, size, place[P_ADMIN_CSRF]));
	admin_get = admin || has(data, size, place[P_ADMIN_SESSION]);
	config_free(cur);
	cur = config_copy(initial);
	file_before = read_file(config_path);
	nseen = 0;
	in = substitute(data, size, &len);
	serve(in, len, mode >> 3 ? mode >> 3 : SIZE_MAX,
	      mode & 4 ? fresh++ : 0xc0000207, &c);
	free(in);
	if (fresh >= 0xc6140000)
		fresh = 0xc6120000;

	n = answers(c.out, c.len, true, a, 256);
	if (getenv("FUZZ_CONSOLE_SHOW")) {
		fprintf(stderr, "changes %d:", nseen);
		for (i = 0; i < n && i < 256; i++)
			fprintf(stderr, " %d %.*s", a[i].status,
				(int)(a[i].body_len < 100 ? a[i].body_len : 100),
				a[i].body);
		fputc('\n', stderr);
	}
	for (i = 0; i < n && i < 256; i++) {
		size_t vlen;
		const char *ct;
		json_t *j;

		FUZZ_ASSERT(status_known(a[i].status), "status %d",
			    a[i].status);
		FUZZ_ASSERT(admin_get || !memmem(a[i].body, a[i].body_len,
						 SECRET, strlen(SECRET)),
			    "an exec check's command shown to a non-admin");
		if (a[i].status < 400 || a[i].no_body ||
		    !header(&a[i], "X-Content-Type-Options", &vlen))
			continue;
		ct = header(&a[i], "Content-Type", &vlen);
		/* Text: only the server's own, for no route of the API. */
		if (!ct || vlen < 16 || memcmp(ct, "application/json", 16)) {
			const char *why = MHD_get_reason_phrase_for(
				a[i].status);

			FUZZ_ASSERT(a[i].body_len == strlen(why) + 1 &&
				    !memcmp(a[i].body, why, strlen(why)),
				    "a %d answer in text: '%.*s'", a[i].status,
				    (int)a[i].body_len, a[i].body);
			continue;
		}
		j = json_of(&a[i]);
		FUZZ_ASSERT(json_is_string(json_object_get(j, "error")),
			    "a %d answer without an error: '%.*s'",
			    a[i].status, (int)a[i].body_len, a[i].body);
		json_decref(j);
	}
	FUZZ_ASSERT(!nseen || admin, "a change without an admin's "
		    "credentials");
	FUZZ_ASSERT(!(mode & 2) || !nseen, "a refused apply changed");
	for (i = 0; i < nseen; i++)
		check_change(&seen[i], a, n < 256 ? n : 256);
	free(c.out);
	FUZZ_ASSERT(access(tmp_path, F_OK), "%s left over", tmp_path);
	file_after = read_file(config_path);
	if (!nseen) {
		FUZZ_ASSERT(!strcmp(file_before, file_after), "the file "
			    "changed without a change");
	} else {
		/* The file is what runs (less its comments). */
		struct config *fc = NULL;
		char err[256], *ft;
		FILE *f = fmemopen(file_after, strlen(file_after), "r");

		FUZZ_ASSERT(f && !config_parse(f, "file", &fc, err,
					       sizeof(err)), "file: %s", err);
		fclose(f);
		ft = text_of(fc, false);
		t = text_of(cur, false);
		FUZZ_ASSERT(!strcmp(ft, t), "the file is not what runs");
		free(ft);
		free(t);
		config_free(fc);
	}
	free(file_before);
	free(file_after);
	for (i = 0; i < nseen; i++) {
		free(seen[i].before);
		free(seen[i].after);
	}
	return 0;
}
