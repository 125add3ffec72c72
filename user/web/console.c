// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * console.c - the web console and its API (see console.h).
 *
 * Who asks. Every /api/ route but login is HTTP_ROUTE_AUTH: authorize()
 * decides on the request's head, before its body is read, so that nobody
 * without credentials can make the daemon buffer a body. HTTP Basic
 * (scripts) is checked first when the request carries it, else the
 * session cookie. Passwords are checked with Argon2id (users.h), about
 * 0.1 s of CPU and 64 MiB each, never on the daemon's loop: on pwcheck's
 * thread (pwcheck.h), while the request waits suspended (http_suspend),
 * so that health checks, failover and /metrics go on however many clients
 * log in. Its queue is short and shared: when it is full, or a client has
 * PW_PER_CLIENT checks in it already, the answer is 503 at once. A
 * client's failures are counted (throttle_*), and past THROTTLE_FREE
 * within THROTTLE_WINDOW_S it gets 429 for a time that doubles with each
 * further failure, before any hash is computed; a Basic user's verified
 * password is remembered for BASIC_CACHE_MS (as a keyed BLAKE2b tag, not
 * the password) so that a script polling with Basic does not cost a hash
 * per request. A user unknown costs the same hash as one known, so that
 * timing does not tell which names exist.
 *
 * Sessions. A random 256-bit id in a cookie (HttpOnly, SameSite=Strict,
 * Secure under TLS) and a random CSRF token that every cookie-authenticated
 * change must carry in X-CSRF-Token (compared in constant time). They
 * end after SESSION_IDLE_S without a request, SESSION_MAX_S after login,
 * at logout, or when their user is deleted from the users file or has
 * its password set again; the role is the file's at each request.
 *
 * Changes. Taken under the pin directory's lock when it is free, never
 * waiting: the daemon's loop must not block on another process (an xdplb
 * command holding it). When it is busy the answer is 503 with Retry-After:
 * queueing the change instead would have to answer later with its outcome
 * (412, 400 and the diff are decided under the lock), which an HTTP answer
 * held open for an unknown time does not do well, and a script or the page
 * simply tries again. Under the lock: the ETag of what runs is checked
 * against If-Match, the new configuration is built and checked whole (a
 * bad line: 400 naming it, nothing changed), written to FILE.tmp and
 * synced, applied (config_apply undoes itself on failure), then renamed
 * over the file and the directory synced; a rename that fails undoes the
 * apply. So the file and the instance never disagree for longer than the
 * change itself takes.
 *
 * Exec checks run their command as root. The console never sets or
 * changes one (403): they are set with the xdplb command or in the file,
 * by root. A service keeps the one it has, and one may be replaced by
 * another kind of check. Viewers see them without the command line;
 * admins see it in GET /api/v1/config.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <jansson.h>
#include <sodium.h>

#include "addr.h"
#include "cmd.h"
#include "console.h"
#include "exporter.h"
#include "file.h"
#include "json.h"
#include "pwcheck.h"
#include "spec.h"
#include "users.h"
#include "web_assets.h"

#define COOKIE			"xdplb_session"
#define SESSION_IDLE_S		1800
#define SESSION_MAX_S		(12 * 3600)
#define MAX_SESSIONS		64
#define THROTTLE_FREE		5	/* failures before 429 */
#define THROTTLE_WINDOW_S	60	/* ... within this of each other */
#define THROTTLE_FIRST_S	5	/* the first 429, doubled each time */
#define THROTTLE_MAX_S		900
#define THROTTLE_SLOTS		256
#define PW_PER_CLIENT		2	/* checks queued for one client */
#define MAX_EVENTS		200
#define BASIC_CACHE		16
#define BASIC_CACHE_MS		60000
#define ID_BYTES		32
#define PW_TAG_BYTES		16	/* a session's user's password */
#define ETAG_BYTES		16
#define LOGIN_MAX_BODY		4096
#define CONFIG_MAX_BODY		(4 << 20)	/* 16384 reals, long lines */
#define MAX_LOG_LINES		20	/* a change's lines in the log */
#define INACTIVE_TAG		"# inactive "

/* What the page may load: its own script, style and API; no frames. */
#define CONSOLE_CSP \
	"default-src 'none'; script-src 'self'; style-src 'self'; " \
	"connect-src 'self'; img-src 'self' data:; form-action 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'"

static const char *const console_headers[][2] = {
	{ "Content-Security-Policy", CONSOLE_CSP },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ NULL, NULL },
};

struct session {
	bool used;
	unsigned char id[ID_BYTES];
	char csrf[2 * ID_BYTES + 1];
	char user[USER_NAME_MAX + 1];
	unsigned char pw[PW_TAG_BYTES];	/* of the user's hash at login */
	__u64 created_ms, seen_ms;
};

struct throttle {
	char client[64];	/* "" free */
	unsigned int fails;
	__u64 last_ms, until_ms;
};

struct event {
	__u64 seq;
	time_t at;
	char kind[8];
	char user[USER_NAME_MAX + 1];
	char text[480];
};

/* A Basic user whose password was verified lately. */
struct basic_ok {
	unsigned char tag[crypto_generichash_BYTES];
	char user[USER_NAME_MAX + 1];
	__u64 at_ms;
	unsigned int gen;	/* of the users file */
};

/* A real deactivated here, and the weight Activate gives it back. */
struct inactive {
	struct xdplb_svc_key key;
	struct xdplb_addr addr;
	__u8 family;
	__u16 weight;
};

/* Who asks, as authorize() found out (the request's auth bytes). */
struct principal {
	char user[USER_NAME_MAX + 1];
	enum user_role role;
	int session;		/* -1: HTTP Basic */
	char client[64];
};
_Static_assert(sizeof(struct principal) <= HTTP_AUTH_SIZE, "principal");

struct console {
	struct console_ops ops;
	struct exporter exp;	/* its status, as the exporter's */
	struct http_server *http;
	struct pwcheck *pw;	/* the password checks' thread */
	int epfd;		/* http's and pw's descriptors */
	struct http_route *routes;
	char *users_file;
	char *config_file;
	char *tls_key, *tls_cert;
	size_t tls_key_len;
	struct users users;
	struct stat users_st;	/* of the file read, to see changes */
	unsigned int users_gen;
	bool users_bad;		/* said that it cannot be read */
	bool loopback_http;	/* plain HTTP on loopback: host_ok() */
	struct session sessions[MAX_SESSIONS];
	struct throttle throttle[THROTTLE_SLOTS];
	unsigned char cache_key[crypto_generichash_KEYBYTES];
	struct basic_ok basic[BASIC_CACHE];
	struct event events[MAX_EVENTS];
	__u64 next_seq;
	struct inactive *inactive;
	int ninactive;
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void con_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, as the daemon logs. */
static void con_log(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "xdplb: console: %s\n", msg);
}

/* Events ------------------------------------------------------------------ */

void console_event(struct console *c, const char *kind, const char *user,
		   const char *fmt, ...)
{
	struct event *e;
	va_list ap;

	if (!c)
		return;
	e = &c->events[c->next_seq % MAX_EVENTS];
	memset(e, 0, sizeof(*e));
	e->seq = ++c->next_seq;
	e->at = time(NULL);
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	snprintf(e->user, sizeof(e->user), "%s", user ? user : "");
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

/* Users ------------------------------------------------------------------- */

/* The users file as it is now: read again when it changed since. A file
 * that cannot be read leaves no users (nobody logs in), said once. */
static void users_refresh(struct console *c)
{
	struct users u;
	char err[256];
	struct stat st;
	int ret;

	if (!stat(c->users_file, &st) && !c->users_bad &&
	    st.st_ino == c->users_st.st_ino &&
	    st.st_dev == c->users_st.st_dev &&
	    st.st_size == c->users_st.st_size &&
	    st.st_mtim.tv_sec == c->users_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == c->users_st.st_mtim.tv_nsec &&
	    st.st_ctim.tv_sec == c->users_st.st_ctim.tv_sec &&
	    st.st_ctim.tv_nsec == c->users_st.st_ctim.tv_nsec)
		return;
	ret = users_load(c->users_file, true, &u, err, sizeof(err));
	users_free(&c->users);
	c->users_gen++;
	if (ret) {
		memset(&c->users_st, 0, sizeof(c->users_st));
		if (!c->users_bad)
			con_log("%s; nobody can log in until it is mended",
				err);
		c->users_bad = true;
		return;
	}
	if (c->users_bad || c->users_st.st_ino)
		con_log("read the users file '%s' again: %d user%s",
			c->users_file, u.n, u.n == 1 ? "" : "s");
	c->users = u;
	c->users_st = st;
	c->users_bad = false;
}

enum pw_verdict {
	PW_OK,
	PW_BAD,		/* wrong user or password */
	PW_WAIT,	/* the request is suspended: answer nothing now */
	PW_BUSY,	/* the queue is full: 503 */
	PW_MINE,	/* this client has PW_PER_CLIENT queued: 503 */
};

/*
 * Is pw the password of user name? Asked on the request's first call, it
 * queues the check on pwcheck's thread and suspends the request (PW_WAIT);
 * the same call on the resumed request (req->state: the check) answers
 * (PW_OK with the user in *out, or PW_BAD). The same work whether or not
 * the user exists; a password changed meanwhile does not match.
 */
static enum pw_verdict password_check(struct console *c,
				      const struct http_request *req,
				      const char *client, const char *name,
				      const char *pw, size_t len,
				      const struct user **out)
{
	const struct user *u = user_name_valid(name) ?
			       users_find(&c->users, name) : NULL;
	struct pwcheck_job *job = req->state;
	bool ok;

	*out = NULL;
	if (job) {
		ok = pwcheck_matched(job, u ? u->hash : NULL);
		pwcheck_release(c->pw, job);
		*out = ok ? u : NULL;
		return ok ? PW_OK : PW_BAD;
	}
	job = pwcheck_submit(c->pw, client, PW_PER_CLIENT, u ? u->hash : NULL,
			     pw, len, req->wait);
	if (!job)
		return errno == EBUSY ? PW_BUSY : errno == EAGAIN ? PW_MINE :
		       PW_BAD;	/* EINVAL: longer than any password */
	http_suspend(req, job);
	return PW_WAIT;
}

/* The answer to PW_BUSY and PW_MINE. */
static void pw_busy(struct http_reply *r, enum pw_verdict v)
{
	http_add_header(r, "Retry-After", "1");
	if (v == PW_MINE)
		http_error(r, 503, "passwords from this address are being "
			   "checked already: try again");
	else
		http_error(r, 503, "too many logins at once: try again");
}

/* A request answered without its check: the check is dropped. (Never
 * seen: a resumed request takes the path that queued the check.) */
static void check_drop(struct console *c, const struct http_request *req)
{
	if (req->state)
		pwcheck_release(c->pw, req->state);
}

/* A check done (pwcheck_dispatch): its request goes on. */
static void password_checked(void *ctx, struct pwcheck_job *job, void *arg)
{
	(void)ctx;
	(void)job;
	http_resume(arg);
}

/* A request suspended when the server stops: its check is dropped. */
static void password_dropped(void *ctx, void *state)
{
	struct console *c = ctx;

	pwcheck_release(c->pw, state);
}

/* A user name fit for a log line: itself when valid. */
static const char *loggable(const char *name)
{
	return user_name_valid(name) ? name : "(not a valid user name)";
}

/* Throttle ---------------------------------------------------------------- */

static struct throttle *throttle_find(struct console *c, const char *client,
				      bool make)
{
	struct throttle *t, *oldest = &c->throttle[0];
	int i;

	for (i = 0; i < THROTTLE_SLOTS; i++) {
		t = &c->throttle[i];
		if (!strcmp(t->client, client))
			return t;
		if (!t->client[0] || (oldest->client[0] &&
				      t->last_ms < oldest->last_ms))
			oldest = t;
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->client, sizeof(oldest->client), "%s", client);
	return oldest;
}

/* Seconds the client must still wait, 0 when it may try. */
static unsigned int throttle_wait(struct console *c, const char *client)
{
	struct throttle *t = throttle_find(c, client, false);
	__u64 now = now_ms();

	if (!t || t->until_ms <= now)
		return 0;
	return (t->until_ms - now + 999) / 1000;
}

static void throttle_fail(struct console *c, const char *client)
{
	struct throttle *t = throttle_find(c, client, true);
	__u64 now = now_ms(), secs;

	if (now - t->last_ms > THROTTLE_WINDOW_S * 1000ull)
		t->fails = 0;
	t->fails++;
	t->last_ms = now;
	if (t->fails < THROTTLE_FREE)
		return;
	secs = THROTTLE_FIRST_S;
	secs <<= t->fails - THROTTLE_FREE < 16 ? t->fails - THROTTLE_FREE : 16;
	if (secs > THROTTLE_MAX_S)
		secs = THROTTLE_MAX_S;
	t->until_ms = now + secs * 1000;
	con_log("%u failed logins from %s: refused for %llu s", t->fails,
		client, (unsigned long long)secs);
}

static void throttle_ok(struct console *c, const char *client)
{
	struct throttle *t = throttle_find(c, client, false);

	if (t)
		memset(t, 0, sizeof(*t));
}

static void too_many(struct http_reply *r, unsigned int secs)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", secs);
	http_add_header(r, "Retry-After", v);
	http_error(r, 429, "too many failed logins from this address: try "
		   "again in %u s", secs);
}

/* Sessions ---------------------------------------------------------------- */

static void session_end(struct session *s)
{
	sodium_memzero(s, sizeof(*s));
}

/* The session of cookie value v, or NULL (unknown, or expired: ended). */
static struct session *session_find(struct console *c, const char *v)
{
	unsigned char id[ID_BYTES];
	struct session *found = NULL;
	__u64 now = now_ms();
	size_t n;
	int i;

	if (strlen(v) != 2 * ID_BYTES ||
	    sodium_hex2bin(id, sizeof(id), v, 2 * ID_BYTES, NULL, &n, NULL) ||
	    n != sizeof(id))
		return NULL;
	for (i = 0; i < MAX_SESSIONS; i++) {
		struct session *s = &c->sessions[i];

		if (!s->used)
			continue;
		if (now - s->seen_ms > SESSION_IDLE_S * 1000ull ||
		    now - s->created_ms > SESSION_MAX_S * 1000ull) {
			session_end(s);
			continue;
		}
		if (!sodium_memcmp(s->id, id, sizeof(id)))
			found = s;
	}
	return found;
}

/* The tag of u's password hash: a new salt, a new tag. */
static void pw_tag(const struct user *u, unsigned char *tag)
{
	crypto_generichash(tag, PW_TAG_BYTES, (const unsigned char *)u->hash,
			   strlen(u->hash), NULL, 0);
}

/* A new session for user u; its cookie value into v (2 * ID_BYTES + 1). */
static struct session *session_new(struct console *c, const struct user *u,
				   char *v)
{
	struct session *s = NULL;
	unsigned char csrf[ID_BYTES];
	int i;

	for (i = 0; i < MAX_SESSIONS; i++) {
		struct session *x = &c->sessions[i];

		if (!x->used) {
			s = x;
			break;
		}
		if (!s || x->seen_ms < s->seen_ms)
			s = x;	/* the one idle longest goes */
	}
	session_end(s);
	s->used = true;
	randombytes_buf(s->id, sizeof(s->id));
	randombytes_buf(csrf, sizeof(csrf));
	sodium_bin2hex(s->csrf, sizeof(s->csrf), csrf, sizeof(csrf));
	sodium_bin2hex(v, 2 * ID_BYTES + 1, s->id, sizeof(s->id));
	snprintf(s->user, sizeof(s->user), "%s", u->name);
	pw_tag(u, s->pw);
	s->created_ms = s->seen_ms = now_ms();
	return s;
}

static void set_cookie(const struct http_request *req, struct http_reply *r,
		       const char *value)
{
	char v[160];

	snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
		 COOKIE, value, *value ? "" : "; Max-Age=0",
		 req->tls ? "; Secure" : "");
	http_add_header(r, "Set-Cookie", v);
}

/* Authorization ----------------------------------------------------------- */

static void unauthorized(const struct http_request *req, struct http_reply *r,
			 const char *why)
{
	/* Not to the page's own requests: a browser would pop up its
	 * password dialog over the page. */
	if (!http_header(req, "X-Requested-With"))
		http_add_header(r, "WWW-Authenticate",
				"Basic realm=\"xdplb console\", "
				"charset=\"UTF-8\"");
	http_error(r, 401, "%s", why);
}

/* HTTP Basic: 0 with p filled; else the refusal in r, or the request
 * suspended until its password is checked. */
static int basic(struct console *c, const struct http_request *req,
		 const char *h, struct principal *p, struct http_reply *r)
{
	unsigned char tag[crypto_generichash_BYTES];
	char cred[USER_NAME_MAX + USER_PASSWORD_MAX + 2], *colon;
	const struct user *u;
	struct basic_ok *b, *slot = &c->basic[0];
	__u64 now = now_ms();
	enum pw_verdict v;
	unsigned int wait;
	size_t n, i;

	if (strncasecmp(h, "Basic ", 6) ||
	    sodium_base642bin((unsigned char *)cred, sizeof(cred) - 1, h + 6,
			      strlen(h + 6), " ", &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    !(colon = memchr(cred, ':', n))) {
		check_drop(c, req);
		unauthorized(req, r, "malformed Authorization (HTTP Basic: "
			     "base64 of USER:PASSWORD)");
		return -1;
	}
	cred[n] = '\0';
	*colon = '\0';
	crypto_generichash(tag, sizeof(tag), (unsigned char *)cred, n,
			   c->cache_key, sizeof(c->cache_key));
	for (i = 0; i < BASIC_CACHE; i++) {
		b = &c->basic[i];
		if (!req->state && b->gen == c->users_gen &&
		    now - b->at_ms < BASIC_CACHE_MS &&
		    !sodium_memcmp(b->tag, tag, sizeof(tag)) &&
		    (u = users_find(&c->users, b->user)))
			goto ok;
		if (b->at_ms < slot->at_ms)
			slot = b;
	}
	wait = req->state ? 0 : throttle_wait(c, p->client);
	if (wait) {
		too_many(r, wait);
		goto out;
	}
	v = password_check(c, req, p->client, cred, colon + 1,
			   n - (colon + 1 - cred), &u);
	if (v == PW_WAIT) {
		sodium_memzero(cred, sizeof(cred));
		return 1;
	}
	if (v == PW_BUSY || v == PW_MINE) {
		pw_busy(r, v);
		goto out;
	}
	if (!u) {
		con_log("HTTP Basic of user %s from %s: wrong user or password",
			loggable(cred), p->client);
		throttle_fail(c, p->client);
		unauthorized(req, r, "wrong user or password");
		goto out;
	}
	throttle_ok(c, p->client);
	memcpy(slot->tag, tag, sizeof(tag));
	snprintf(slot->user, sizeof(slot->user), "%s", u->name);
	slot->at_ms = now;
	slot->gen = c->users_gen;
ok:
	snprintf(p->user, sizeof(p->user), "%s", u->name);
	p->role = u->role;
	p->session = -1;
out:
	sodium_memzero(cred, sizeof(cred));
	return r->status >= 400 ? -1 : 0;
}

static bool changes(const struct http_request *req)
{
	return strcmp(req->method, "GET") && strcmp(req->method, "HEAD");
}

/*
 * Is the request from a page of another origin? A browser says so (Origin,
 * Sec-Fetch-Site) and sends credentials it holds along, HTTP Basic ones
 * too: a form on another site could post a change with them. Scripts send
 * neither header.
 */
static bool cross_origin(const struct http_request *req)
{
	const char *o = http_header(req, "Origin");
	const char *site = http_header(req, "Sec-Fetch-Site");
	const char *host = http_header(req, "Host"), *p;

	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return true;
	if (!o)
		return false;
	/* Either scheme: behind a proxy that does TLS, the page's is https
	 * and ours http. */
	p = strstr(o, "://");
	return !p || !host || strcmp(p + 3, host);
}

/*
 * Is the request's Host one of loopback's (localhost, 127.0.0.0/8, [::1],
 * with or without a port)? Asked only of a console of plain HTTP on
 * loopback: a page of another site whose name its attacker has pointed at
 * 127.0.0.1 (DNS rebinding) is same-origin to the browser, and could
 * otherwise send logins from the console's own host (and get that
 * address throttled). Under TLS, the certificate does not fit such a
 * name; behind a proxy, the names are the proxy's.
 */
static bool host_ok(const struct console *c, const struct http_request *req)
{
	const char *h = http_header(req, "Host"), *start = h, *end;
	struct xdplb_addr a;
	char name[64];
	__u8 family;

	if (!c->loopback_http || !h)
		return true;	/* no Host: no browser (they all send one) */
	if (*h == '[') {
		start = h + 1;
		end = strchr(start, ']');
		if (end && end[1] && end[1] != ':')
			return false;
	} else {
		end = strchr(h, ':');
		if (!end)
			end = h + strlen(h);
	}
	if (!end || end - start >= (long)sizeof(name))
		return false;
	memcpy(name, start, end - start);
	name[end - start] = '\0';
	if (!strcasecmp(name, "localhost"))
		return true;
	return !parse_addr(name, &a, &family) && addr_is_loopback(&a, family);
}

static void wrong_host(struct http_reply *r)
{
	http_error(r, 403, "a console on loopback answers requests for "
		   "localhost or a loopback address only (Host)");
}

/* HTTP_ROUTE_AUTH routes: who asks, and may they (http_auth_fn). */
static void authorize(void *ctx, const struct http_request *req, void *auth,
		      struct http_reply *r)
{
	struct console *c = ctx;
	struct principal *p = auth;
	unsigned char tag[PW_TAG_BYTES];
	const struct user *u;
	struct session *s;
	const char *h, *v;

	if (!host_ok(c, req)) {
		check_drop(c, req);
		wrong_host(r);
		return;
	}
	users_refresh(c);
	http_client_name(req, p->client, sizeof(p->client));
	if (changes(req) && cross_origin(req)) {
		check_drop(c, req);
		http_error(r, 403, "a change from a page of another origin");
		return;
	}
	h = http_header(req, "Authorization");
	if (h) {
		if (basic(c, req, h, p, r))
			return;
	} else if ((v = http_cookie(req, COOKIE))) {
		s = session_find(c, v);
		if (!s) {
			unauthorized(req, r, "the session has ended: log in "
				     "again");
			return;
		}
		u = users_find(&c->users, s->user);
		if (u)
			pw_tag(u, tag);
		/* Deleted, or its password set again (say, because someone
		 * else knew it): its sessions end. */
		if (!u || sodium_memcmp(tag, s->pw, sizeof(tag))) {
			con_log("session of %s ended: %s", s->user, u ?
				"its password was set again" :
				"no such user any more");
			session_end(s);
			unauthorized(req, r, "the session has ended: log in "
				     "again");
			return;
		}
		v = http_header(req, "X-CSRF-Token");
		if (changes(req) && (!v || strlen(v) != strlen(s->csrf) ||
				     sodium_memcmp(v, s->csrf,
						   strlen(s->csrf)))) {
			http_error(r, 403, "a change with the session cookie "
				   "needs the session's X-CSRF-Token header");
			return;
		}
		s->seen_ms = now_ms();
		snprintf(p->user, sizeof(p->user), "%s", u->name);
		p->role = u->role;
		p->session = s - c->sessions;
	} else {
		unauthorized(req, r, "log in (POST /api/v1/login) or use "
			     "HTTP Basic");
		return;
	}
	if (changes(req) && !strcmp(req->path, "/api/v1/config") &&
	    p->role != ROLE_ADMIN)
		http_error(r, 403, "%s is a viewer: only an admin changes the "
			   "configuration", p->user);
}

/* The page ---------------------------------------------------------------- */

static void get_asset(void *ctx, const struct http_request *req,
		      struct http_reply *r)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < sizeof(web_assets) / sizeof(web_assets[0]); i++) {
		if (strcmp(web_assets[i].path, req->path))
			continue;
		r->type = web_assets[i].type;
		fwrite(web_assets[i].data, 1, web_assets[i].len, r->body);
		return;
	}
	r->status = 404;
}

/* Login, logout, session -------------------------------------------------- */

static void session_json(const struct principal *p, const char *csrf,
			 bool tls)
{
	jw_start_object();
	jw_kv_string("user", p->user);
	jw_kv_string("role", role_name(p->role));
	if (csrf)
		jw_kv_string("csrf", csrf);
	jw_kv_uint("idle_timeout", SESSION_IDLE_S);
	jw_kv_bool("tls", tls);
	jw_end_object();
	jw_flush();
}

static void post_login(void *ctx, const struct http_request *req,
		       struct http_reply *r)
{
	struct console *c = ctx;
	struct principal p = { .session = -1 };
	const char *name = NULL, *pw = NULL, *ct;
	char cookie[2 * ID_BYTES + 1];
	const struct user *u;
	struct session *s;
	json_t *j, *jn, *jp;
	enum pw_verdict v;
	unsigned int wait;
	size_t pwlen = 0;

	http_client_name(req, p.client, sizeof(p.client));
	/* JSON only: a form on another site cannot send it without the
	 * preflight this server never answers (no login CSRF). */
	if (!host_ok(c, req)) {
		check_drop(c, req);
		wrong_host(r);
		return;
	}
	ct = http_header(req, "Content-Type");
	if (!ct || strncasecmp(ct, "application/json", 16) ||
	    cross_origin(req)) {
		check_drop(c, req);
		http_error(r, 415, "a login is application/json from the "
			   "console's own origin");
		return;
	}
	/* (Not again once its password is checked.) */
	wait = req->state ? 0 : throttle_wait(c, p.client);
	if (wait) {
		too_many(r, wait);
		return;
	}
	j = json_loadb(req->body, req->body_len, 0, NULL);
	jn = json_object_get(j, "user");
	jp = json_object_get(j, "password");
	if (json_is_string(jn) && json_is_string(jp)) {
		name = json_string_value(jn);
		pw = json_string_value(jp);
		pwlen = json_string_length(jp);
	}
	if (!name || pwlen > USER_PASSWORD_MAX) {
		json_decref(j);
		check_drop(c, req);
		http_error(r, 400, "expected {\"user\": NAME, \"password\": "
			   "PASSWORD}");
		return;
	}
	users_refresh(c);
	v = password_check(c, req, p.client, name, pw, pwlen, &u);
	if (v == PW_WAIT || v == PW_BUSY || v == PW_MINE) {
		json_decref(j);
		if (v != PW_WAIT)
			pw_busy(r, v);
		return;
	}
	if (!u) {
		con_log("login of %s from %s failed: wrong user or password",
			loggable(name), p.client);
		throttle_fail(c, p.client);
		json_decref(j);
		http_error(r, 401, "wrong user or password");
		return;
	}
	json_decref(j);
	throttle_ok(c, p.client);
	s = session_new(c, u, cookie);
	snprintf(p.user, sizeof(p.user), "%s", u->name);
	p.role = u->role;
	set_cookie(req, r, cookie);
	sodium_memzero(cookie, sizeof(cookie));
	con_log("%s (%s) logged in from %s", u->name, role_name(u->role),
		p.client);
	console_event(c, "login", u->name, "logged in from %s", p.client);
	session_json(&p, s->csrf, req->tls);
}

static void post_logout(void *ctx, const struct http_request *req,
			struct http_reply *r)
{
	struct console *c = ctx;
	const struct principal *p = req->auth;

	if (p->session >= 0) {
		session_end(&c->sessions[p->session]);
		con_log("%s logged out", p->user);
	}
	set_cookie(req, r, "");
	jw_start_object();
	jw_kv_bool("logged_out", p->session >= 0);
	jw_end_object();
	jw_flush();
}

static void get_session(void *ctx, const struct http_request *req,
			struct http_reply *r)
{
	struct console *c = ctx;
	const struct principal *p = req->auth;

	(void)r;
	session_json(p, p->session >= 0 ? c->sessions[p->session].csrf : NULL,
		     req->tls);
}

/* Status and events ------------------------------------------------------- */

static void get_status(void *ctx, const struct http_request *req,
		       struct http_reply *r)
{
	struct console *c = ctx;

	(void)req;
	exporter_serve(&c->exp, EXPORTER_JSON_FLOWS, r);
}

static void get_events(void *ctx, const struct http_request *req,
		       struct http_reply *r)
{
	struct console *c = ctx;
	__u64 seq = c->next_seq > MAX_EVENTS ? c->next_seq - MAX_EVENTS : 0;
	char when[32];

	(void)req;
	(void)r;
	jw_start_object();
	jw_name("events");
	jw_start_array();
	for (seq++; seq <= c->next_seq; seq++) {
		const struct event *e = &c->events[(seq - 1) % MAX_EVENTS];
		struct tm tm;

		gmtime_r(&e->at, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		jw_start_object();
		jw_kv_uint("seq", e->seq);
		jw_kv_string("time", when);
		jw_kv_string("kind", e->kind);
		jw_kv_string("user", e->user);
		jw_kv_string("text", e->text);
		jw_end_object();
	}
	jw_end_array();
	jw_end_object();
	jw_flush();
}

static void get_inactive(void *ctx, const struct http_request *req,
			 struct http_reply *r)
{
	struct console *c = ctx;
	char vip[ADDR_STRLEN], addr[ADDR_STRLEN];
	int i;

	(void)req;
	(void)r;
	jw_start_object();
	jw_name("reals");
	jw_start_array();
	for (i = 0; i < c->ninactive; i++) {
		format_vip(&c->inactive[i].key, vip, sizeof(vip));
		format_addr(&c->inactive[i].addr, c->inactive[i].family, addr,
			    sizeof(addr));
		jw_start_object();
		jw_kv_string("vip", vip);
		jw_kv_string("address", addr);
		jw_kv_uint("weight", c->inactive[i].weight);
		jw_end_object();
	}
	jw_end_array();
	jw_end_object();
	jw_flush();
}

/* Configuration text ------------------------------------------------------ */

/* c in save form (exec commands left out: redact), in a buffer to free. */
static int config_text(const struct config *c, bool redact, char **text,
		       size_t *len)
{
	struct config *x = NULL;
	FILE *f;
	int i, err;

	if (redact) {
		x = config_copy(c);
		if (!x)
			return -ENOMEM;
		for (i = 0; i < x->nsvcs; i++)
			if (x->svcs[i].opts.check == XDPLB_CHECK_EXEC)
				snprintf(x->svcs[i].opts.arg,
					 sizeof(x->svcs[i].opts.arg),
					 "(not shown)");
		c = x;
	}
	*text = NULL;
	f = open_memstream(text, len);
	if (!f) {
		config_free(x);
		return -ENOMEM;
	}
	err = config_write(f, c);
	if (fclose(f) && !err)
		err = -ENOMEM;
	config_free(x);
	if (err) {
		free(*text);
		*text = NULL;
	}
	return err;
}

/* "\"<hex>\"": a strong ETag of the configuration's text. */
static void etag_of(const char *text, size_t len, char *buf, size_t buflen)
{
	unsigned char h[ETAG_BYTES];
	char hex[2 * ETAG_BYTES + 1];

	crypto_generichash(h, sizeof(h), (const unsigned char *)text, len,
			   NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(buf, buflen, "\"%s\"", hex);
}

/* Does If-Match (a list of ETags, or *) name etag? */
static bool if_match(const char *h, const char *etag)
{
	size_t n = strlen(etag);

	while (*h) {
		size_t k;

		h += strspn(h, " \t,");
		k = strcspn(h, " \t,");
		if ((k == 1 && *h == '*') || (k == n && !memcmp(h, etag, n)))
			return true;
		h += k;
	}
	return false;
}

/* The inactive reals from the comments of the configuration file. */
static void inactive_load(struct console *c)
{
	char line[512], vip[ADDR_STRLEN], addr[ADDR_STRLEN];
	unsigned int w;
	FILE *f = fopen(c->config_file, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct inactive x = {}, *v;

		if (strncmp(line, INACTIVE_TAG, strlen(INACTIVE_TAG)) ||
		    sscanf(line + strlen(INACTIVE_TAG),
			   "--vip %63s %63s --weight %u", vip, addr, &w) != 3 ||
		    parse_vip(vip, &x.key) ||
		    parse_addr(addr, &x.addr, &x.family) || !w ||
		    w > XDPLB_MAX_WEIGHT)
			continue;
		x.weight = w;
		v = realloc(c->inactive, (c->ninactive + 1) * sizeof(*v));
		if (!v)
			break;
		c->inactive = v;
		c->inactive[c->ninactive++] = x;
	}
	fclose(f);
}

static int inactive_find(const struct inactive *v, int n,
			 const struct config_real *r)
{
	int i;

	for (i = 0; i < n; i++)
		if (!memcmp(&v[i].key, &r->svc, sizeof(r->svc)) &&
		    v[i].family == r->family &&
		    addr_equal(&v[i].addr, &r->addr))
			return i;
	return -1;
}

/* Changes ----------------------------------------------------------------- */

/* A change being made: what runs, what is wanted, the inactive reals as
 * they will be. */
struct change {
	struct console *c;
	struct config *have, *want;
	__u32 table_size;	/* the instance's default */
	struct inactive *inactive;
	int ninactive;
	char err[SPEC_ERRLEN];
	int line;
};

static int real_in(struct config *c, const struct real_spec *a)
{
	int i;

	for (i = 0; i < c->nreals; i++)
		if (!memcmp(&c->reals[i].svc, &a->key, sizeof(a->key)) &&
		    addr_equal(&c->reals[i].addr, &a->addr))
			return i;
	return -1;
}

/* Remember w as the weight of real r, inactive now. */
static int remember(struct change *ch, const struct config_real *r, __u16 w)
{
	int i = inactive_find(ch->inactive, ch->ninactive, r);
	struct inactive *v;

	if (i < 0) {
		v = realloc(ch->inactive, (ch->ninactive + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ch->inactive = v;
		i = ch->ninactive++;
		memset(&v[i], 0, sizeof(v[i]));
		v[i].key = r->svc;
		v[i].addr = r->addr;
		v[i].family = r->family;
	}
	ch->inactive[i].weight = w;
	return 0;
}

/*
 * The console's own lines (config_line_fn): deactivate --vip VIP REAL
 * drains the real to weight 0 and remembers its weight; activate --vip
 * VIP REAL gives it back (1 when none is remembered), as Piranha's
 * (DE)ACTIVATE.
 */
static int activate_line(void *ctx, struct config *c, int argc, char **argv,
			 int line, char *err, size_t errlen)
{
	struct change *ch = ctx;
	bool on = !strcmp(argv[0], "activate");
	struct config_real *r;
	struct real_spec a;
	int i, ret;

	(void)line;
	if (!on && strcmp(argv[0], "deactivate"))
		return -ENOENT;
	ret = real_spec_parse(argc, argv, 0, &a, err, errlen);
	if (ret)
		return ret;
	i = real_in(c, &a);
	if (i < 0) {
		snprintf(err, errlen, "no real %s in VIP %s", a.real, a.vip);
		return EXIT_FAIL;
	}
	r = &c->reals[i];
	if (!on) {
		if (!r->weight)
			return 0;
		ret = remember(ch, r, r->weight);
		if (!ret)
			r->weight = 0;
		return ret;
	}
	if (r->weight)
		return 0;
	i = inactive_find(ch->inactive, ch->ninactive, r);
	r->weight = i >= 0 ? ch->inactive[i].weight : XDPLB_DEFAULT_WEIGHT;
	return 0;
}

/* The inactive reals after the change: those of weight 0 that were
 * inactive, or that the change drained; no others. */
static int inactive_settle(struct change *ch)
{
	struct inactive *v = NULL;
	int i, k, n = 0;

	for (i = 0; i < ch->want->nreals; i++) {
		const struct config_real *r = &ch->want->reals[i];
		__u16 w = 0;

		if (r->weight)
			continue;
		k = inactive_find(ch->inactive, ch->ninactive, r);
		if (k >= 0) {
			w = ch->inactive[k].weight;
		} else {
			for (k = 0; k < ch->have->nreals; k++)
				if (!memcmp(&ch->have->reals[k].svc, &r->svc,
					    sizeof(r->svc)) &&
				    addr_equal(&ch->have->reals[k].addr,
					       &r->addr))
					w = ch->have->reals[k].weight;
		}
		if (!w)
			continue;
		if (!(n & (n - 1)) || !v) {
			struct inactive *x = realloc(v, (n ? 2 * n : 1) *
						     sizeof(*x));

			if (!x) {
				free(v);
				return -ENOMEM;
			}
			v = x;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].key = r->svc;
		v[n].addr = r->addr;
		v[n].family = r->family;
		v[n].weight = w;
		n++;
	}
	free(ch->inactive);
	ch->inactive = v;
	ch->ninactive = n;
	return 0;
}

/* An exec check the change would set or change: its line, or 0. */
static int new_exec(const struct config *have, const struct config *want,
		    char *err, size_t errlen)
{
	char vip[ADDR_STRLEN];
	int i, k;

	for (i = 0; i < want->nsvcs; i++) {
		const struct config_service *s = &want->svcs[i];

		if (s->opts.check != XDPLB_CHECK_EXEC)
			continue;
		for (k = 0; k < have->nsvcs; k++)
			if (!memcmp(&have->svcs[k].key, &s->key,
				    sizeof(s->key)) &&
			    have->svcs[k].opts.check == XDPLB_CHECK_EXEC &&
			    !strncmp(have->svcs[k].opts.arg, s->opts.arg,
				     sizeof(s->opts.arg)))
				break;
		if (k < have->nsvcs)
			continue;
		format_vip(&s->key, vip, sizeof(vip));
		snprintf(err, errlen, "VIP %s: an exec check runs its command "
			 "as root, so the console does not set one (use the "
			 "xdplb command or the file)", vip);
		return s->line ? s->line : -1;
	}
	return 0;
}

/* The lines of text, sorted, in an array to free (pointing into text,
 * whose newlines become NULs). */
static char **lines_of(char *text, int *n)
{
	char **v, *p;
	int k = 0, cap = 16;

	v = malloc(cap * sizeof(*v));
	for (p = text; v && *p; k++) {
		if (k == cap) {
			char **x = realloc(v, 2 * cap * sizeof(*v));

			if (!x) {
				free(v);
				return NULL;
			}
			v = x;
			cap *= 2;
		}
		v[k] = p;
		p += strcspn(p, "\n");
		if (*p)
			*p++ = '\0';
	}
	*n = k;
	return v;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines in la (sorted) that lb (sorted) does not have, into out. */
static int only_in(char **la, int na, char **lb, int nb, char **out)
{
	int i, k = 0, n = 0, d;

	for (i = 0; i < na; i++) {
		d = 1;
		while (k < nb && (d = strcmp(la[i], lb[k])) > 0)
			k++;
		if (d)
			out[n++] = la[i];
	}
	return n;
}

/*
 * What changed, line by line (exec commands left out): the lines that
 * went and those that came, as the JSON object "lines" {"removed",
 * "added"}, in the log ("- LINE", "+ LINE") and in the event list.
 */
static void say_lines(struct console *c, const struct principal *p,
		      const char *how, const struct config *have,
		      const struct config *want, const struct config_diff *df)
{
	char *a = NULL, *b = NULL, **la = NULL, **lb = NULL, **v[2] = {};
	int na = 0, nb = 0, n[2] = {}, side, i, said = 0, k;
	size_t alen, blen;
	char ev[sizeof(((struct event *)0)->text)];

	if (config_text(have, true, &a, &alen) ||
	    config_text(want, true, &b, &blen) ||
	    !(la = lines_of(a, &na)) || !(lb = lines_of(b, &nb)) ||
	    !(v[0] = calloc(na + 1, sizeof(char *))) ||
	    !(v[1] = calloc(nb + 1, sizeof(char *))))
		goto out;
	qsort(la, na, sizeof(*la), str_cmp);
	qsort(lb, nb, sizeof(*lb), str_cmp);
	n[0] = only_in(la, na, lb, nb, v[0]);
	n[1] = only_in(lb, nb, la, na, v[1]);
	if (n[0] || n[1])
		con_log("%s changed the configuration (%s): services %d "
			"added, %d removed, %d changed; reals %d added, %d "
			"removed, %d changed", p->user, how, df->svcs_added,
			df->svcs_removed, df->svcs_changed, df->reals_added,
			df->reals_removed, df->reals_changed);
	k = snprintf(ev, sizeof(ev), "%s", how);
	jw_name("lines");
	jw_start_object();
	for (side = 0; side < 2; side++) {
		jw_name(side ? "added" : "removed");
		jw_start_array();
		for (i = 0; i < n[side]; i++) {
			jw_string(v[side][i]);
			if (said++ < MAX_LOG_LINES)
				con_log("%s: %c %s", p->user, side ? '+' : '-',
					v[side][i]);
			if (k < (int)sizeof(ev))
				k += snprintf(ev + k, sizeof(ev) - k,
					      "%s%c %s", k > (int)strlen(how) ?
					      "\n" : ":\n", side ? '+' : '-',
					      v[side][i]);
		}
		jw_end_array();
	}
	jw_end_object();
	if (said > MAX_LOG_LINES)
		con_log("%s: and %d more lines", p->user, said - MAX_LOG_LINES);
	if (k >= (int)sizeof(ev))
		snprintf(ev + sizeof(ev) - 4, 4, "...");
	if (said)
		console_event(c, "config", p->user, "%s", ev);
out:
	free(v[0]);
	free(v[1]);
	free(la);
	free(lb);
	free(a);
	free(b);
}

/* The file's text for want: its save form, who wrote it, the inactive
 * reals' weights. */
static int file_text(struct change *ch, const struct principal *p,
		     char **text, size_t *len)
{
	char vip[ADDR_STRLEN], addr[ADDR_STRLEN], when[32];
	time_t t = time(NULL);
	struct tm tm;
	FILE *f;
	int i, err;

	*text = NULL;
	f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "# written by the xdplb web console for %s at %s (save "
		"form; comments are not kept)\n", p->user, when);
	err = config_write(f, ch->want);
	if (ch->ninactive)
		fprintf(f, "# reals deactivated in the console, and the weight "
			"Activate gives back:\n");
	for (i = 0; i < ch->ninactive; i++) {
		format_vip(&ch->inactive[i].key, vip, sizeof(vip));
		format_addr(&ch->inactive[i].addr, ch->inactive[i].family,
			    addr, sizeof(addr));
		fprintf(f, INACTIVE_TAG "--vip %s %s --weight %u\n", vip, addr,
			ch->inactive[i].weight);
	}
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(*text);
		*text = NULL;
	}
	return err;
}

/* What runs now is what was written (text, replaced by what runs when
 * not: never seen, but the ETag must be the truth). */
static void check_written(struct console *c, char **text, size_t *len)
{
	struct config *now = NULL;
	char *t = NULL;
	size_t n;

	__u32 ts;

	if (c->ops.read(c->ops.ctx, &now, &ts) ||
	    config_text(now, false, &t, &n)) {
		config_free(now);
		return;
	}
	config_free(now);
	if (n != *len || memcmp(t, *text, n)) {
		con_log("what runs differs from what was written to '%s'; "
			"`xdplb save` shows it", c->config_file);
		free(*text);
		*text = t;
		*len = n;
		return;
	}
	free(t);
}

static void busy(struct http_reply *r, int err)
{
	http_add_header(r, "Retry-After", "1");
	if (err == -ENODEV)
		http_error(r, 503, "no xdplb instance (detached?)");
	else if (err == -EINPROGRESS)
		http_error(r, 503, "the daemon is applying its configuration "
			   "file: try again");
	else if (err == -EWOULDBLOCK)
		http_error(r, 503, "another process holds the pin directory's "
			   "lock: try again");
	else
		http_error(r, 503, "cannot lock the pin directory: %s",
			   strerror(-err));
}

/* A 400 (or 403) naming the line of the request that is wrong. */
static void bad_line(struct http_reply *r, int status, const char *msg,
		     int line)
{
	r->status = status;
	jw_start_object();
	jw_kv_string("error", msg);
	if (line > 0)
		jw_kv_uint("line", line);
	jw_end_object();
	jw_flush();
}

/* Build ch->want from the request (with the lock held). 0, or the
 * answer made. */
static int build_want(struct change *ch, const struct http_request *req,
		      struct http_reply *r, bool whole)
{
	size_t len = req->body_len;
	char *text = NULL;
	FILE *f = NULL;
	int i, err;

	/* The body is whole (its length says so): its last line may go
	 * without the newline a file must end in (lines.h). */
	if (len) {
		text = malloc(len + 1);
		if (text) {
			memcpy(text, req->body, len);
			if (text[len - 1] != '\n')
				text[len++] = '\n';
			f = fmemopen(text, len, "r");
		}
		if (!f) {
			free(text);
			http_error(r, 500, "out of memory");
			return -1;
		}
	}
	ch->want = whole ? calloc(1, sizeof(*ch->want)) :
		       config_copy(ch->have);
	err = !ch->want ? -ENOMEM :
	      f ? config_edit(ch->want, f, !whole,
			      whole ? NULL : activate_line, ch, &ch->line,
			      ch->err, sizeof(ch->err)) : 0;
	if (f)
		fclose(f);
	free(text);
	if (err == -ENOMEM) {
		http_error(r, 500, "out of memory");
		return -1;
	}
	if (err) {
		bad_line(r, 400, ch->err, ch->line);
		return -1;
	}
	/* A whole configuration that would wipe out the running one is an
	 * empty or cut-off body more often than a wish (as for the daemon's
	 * file): del-vip lines (POST) say that wish outright. */
	if (whole && ch->have->nsvcs &&
	    config_check_wipe(ch->want, ch->have, ch->err, sizeof(ch->err))) {
		snprintf(ch->err + strlen(ch->err),
			 sizeof(ch->err) - strlen(ch->err), ": refused; "
			 "remove services with del-vip lines (POST)");
		bad_line(r, 400, ch->err, 0);
		return -1;
	}
	/* The default table size is no table size: as save writes it. */
	for (i = 0; i < ch->want->nsvcs; i++)
		if (ch->want->svcs[i].table_size == ch->table_size)
			ch->want->svcs[i].table_size = 0;
	ch->line = new_exec(ch->have, ch->want, ch->err, sizeof(ch->err));
	if (ch->line) {
		bad_line(r, 403, ch->err, ch->line);
		return -1;
	}
	if (inactive_settle(ch)) {
		http_error(r, 500, "out of memory");
		return -1;
	}
	return 0;
}

/* Does the change leave everything as it was? */
static bool no_change(const struct console *c, const struct change *ch,
		      const char *have, size_t hlen, const char *want,
		      size_t wlen)
{
	return hlen == wlen && !memcmp(have, want, hlen) &&
	       ch->ninactive == c->ninactive &&
	       (!c->ninactive || !memcmp(ch->inactive, c->inactive,
					 c->ninactive * sizeof(*c->inactive)));
}

/*
 * With the lock held, ch->want built: write it to FILE.tmp, apply it, put
 * the file in place (or undo the apply). 0, or the answer made.
 */
static int make_change(struct console *c, struct change *ch,
		       const struct principal *p, struct http_reply *r,
		       struct config_diff *df)
{
	struct config_diff undo;
	struct file_tmp tmp;
	char *text = NULL, *real;
	size_t len;
	int err;

	err = file_text(ch, p, &text, &len);
	if (err) {
		http_error(r, 500, "out of memory");
		return -1;
	}
	/* A link's target is replaced, the link kept. */
	real = realpath(c->config_file, NULL);
	err = file_write_tmp(&tmp, real ? real : c->config_file, text, len,
			     FILE_MODE_KEEP);
	free(real);
	free(text);
	if (err) {
		http_error(r, 500, "cannot write '%s.tmp': %s; nothing "
			   "changed", c->config_file, strerror(-err));
		return -1;
	}
	err = c->ops.apply(c->ops.ctx, ch->want, df);
	if (err) {
		file_abort(&tmp);
		/* A line of the request, or the instance's own refusal
		 * (no room, a table that cannot be built). */
		bad_line(r, df->line > 0 ? 400 : 409, df->error, df->line);
		con_log("%s: change refused: %s", p->user, df->error);
		return -1;
	}
	err = file_commit(&tmp);
	if (err) {
		if (c->ops.apply(c->ops.ctx, ch->have, &undo))
			con_log("cannot undo a change whose file was not "
				"written: %s", undo.error);
		http_error(r, 500, "cannot rename '%s.tmp' over '%s': %s; "
			   "nothing changed", c->config_file, c->config_file,
			   strerror(-err));
		return -1;
	}
	free(c->inactive);
	c->inactive = ch->inactive;
	c->ninactive = ch->ninactive;
	ch->inactive = NULL;
	return 0;
}

/*
 * PUT (whole) or POST: build, check, write, apply, put in place, as the
 * comment atop this file says, and answer with what changed.
 */
static void change(struct console *c, const struct http_request *req,
		   struct http_reply *r, bool whole)
{
	const struct principal *p = req->auth;
	char etag[2 * ETAG_BYTES + 3], *text = NULL, *next = NULL;
	const char *match = http_header(req, "If-Match");
	struct change ch = { .c = c };
	struct config_diff df = {};
	size_t len, nlen;
	int err;

	if (whole && !match) {
		http_error(r, 428, "PUT needs If-Match with the ETag of GET "
			   "/api/v1/config");
		return;
	}
	err = c->ops.lock(c->ops.ctx);
	if (err) {
		busy(r, err);
		return;
	}
	ch.inactive = malloc((c->ninactive + 1) * sizeof(*ch.inactive));
	if (!ch.inactive || c->ops.read(c->ops.ctx, &ch.have,
					&ch.table_size) ||
	    config_text(ch.have, false, &text, &len)) {
		http_error(r, 500, "cannot read the instance's configuration");
		goto out;
	}
	/* (None: c->inactive is NULL, which memcpy may not take.) */
	if (c->ninactive)
		memcpy(ch.inactive, c->inactive,
		       c->ninactive * sizeof(*ch.inactive));
	ch.ninactive = c->ninactive;
	etag_of(text, len, etag, sizeof(etag));
	if (match && !if_match(match, etag)) {
		http_add_header(r, "ETag", etag);
		http_error(r, 412, "the configuration changed since that ETag "
			   "(now %s): GET it again", etag);
		goto out;
	}
	if (build_want(&ch, req, r, whole))
		goto out;
	if (config_text(ch.want, false, &next, &nlen)) {
		http_error(r, 500, "out of memory");
		goto out;
	}
	if (!no_change(c, &ch, text, len, next, nlen)) {
		if (make_change(c, &ch, p, r, &df))
			goto out;
		check_written(c, &next, &nlen);
	}
	etag_of(next, nlen, etag, sizeof(etag));
	http_add_header(r, "ETag", etag);
	jw_start_object();
	jw_kv_string("etag", etag);
	config_diff_json(&df);
	say_lines(c, p, whole ? "PUT" : "POST", ch.have, ch.want, &df);
	jw_end_object();
	jw_flush();
out:
	c->ops.unlock(c->ops.ctx);
	free(ch.inactive);
	free(next);
	free(text);
	config_free(ch.want);
	config_free(ch.have);
}

static void get_config(void *ctx, const struct http_request *req,
		       struct http_reply *r)
{
	const struct principal *p = req->auth;
	struct console *c = ctx;
	struct config *have = NULL;
	char etag[2 * ETAG_BYTES + 3], *text = NULL, *shown = NULL;
	size_t len, slen;
	__u32 ts;
	int err;

	/* Under the lock: never half of another process's change. */
	err = c->ops.lock(c->ops.ctx);
	if (err) {
		busy(r, err);
		return;
	}
	err = c->ops.read(c->ops.ctx, &have, &ts);
	c->ops.unlock(c->ops.ctx);
	if (!err)
		err = config_text(have, false, &text, &len);
	if (!err && p->role != ROLE_ADMIN)
		err = config_text(have, true, &shown, &slen);
	if (err) {
		http_error(r, 500, "cannot read the instance's configuration: "
			   "%s", strerror(-err));
		goto out;
	}
	etag_of(text, len, etag, sizeof(etag));
	http_add_header(r, "ETag", etag);
	if (shown)
		fwrite(shown, 1, slen, r->body);
	else
		fwrite(text, 1, len, r->body);
out:
	config_free(have);
	free(shown);
	free(text);
}

static void put_config(void *ctx, const struct http_request *req,
		       struct http_reply *r)
{
	change(ctx, req, r, true);
}

static void post_config(void *ctx, const struct http_request *req,
			struct http_reply *r)
{
	change(ctx, req, r, false);
}

/* Setup ------------------------------------------------------------------- */

static const struct http_route api_routes[] = {
	{ "POST", "/api/v1/login", post_login, NULL, LOGIN_MAX_BODY,
	  HTTP_ROUTE_JSON },
	{ "POST", "/api/v1/logout", post_logout, NULL, 0,
	  HTTP_ROUTE_JSON | HTTP_ROUTE_AUTH },
	{ "GET", "/api/v1/session", get_session, NULL, 0,
	  HTTP_ROUTE_JSON | HTTP_ROUTE_AUTH },
	{ "GET", "/api/v1/status", get_status, NULL, 0,
	  HTTP_ROUTE_JSON | HTTP_ROUTE_AUTH },
	{ "GET", "/api/v1/events", get_events, NULL, 0,
	  HTTP_ROUTE_JSON | HTTP_ROUTE_AUTH },
	{ "GET", "/api/v1/inactive", get_inactive, NULL, 0,
	  HTTP_ROUTE_JSON | HTTP_ROUTE_AUTH },
	/* The text of save, its errors JSON as every route's of the API. */
	{ "GET", "/api/v1/config", get_config, "text/plain; charset=utf-8",
	  0, HTTP_ROUTE_JSON | HTTP_ROUTE_AUTH },
	{ "PUT", "/api/v1/config", put_config, "application/json",
	  CONFIG_MAX_BODY, HTTP_ROUTE_JSON | HTTP_ROUTE_AUTH },
	{ "POST", "/api/v1/config", post_config, "application/json",
	  CONFIG_MAX_BODY, HTTP_ROUTE_JSON | HTTP_ROUTE_AUTH },
};

#define N_API	(sizeof(api_routes) / sizeof(api_routes[0]))
#define N_WEB	(sizeof(web_assets) / sizeof(web_assets[0]))

/* Is listen (ADDR:PORT) on a loopback address? */
static bool loopback(const char *listen)
{
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;
	struct sockaddr_storage ss;

	if (parse_sockaddr(listen, 0, &ss, NULL))
		return false;	/* http_server_new says why */
	s4 = (const struct sockaddr_in *)&ss;
	s6 = (const struct sockaddr_in6 *)&ss;
	if (ss.ss_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
}

/* A whole file into a NUL-terminated buffer to free. */
static int slurp(const char *path, char **out, size_t *len, char *err,
		 size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;
	int ret = 0;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 strerror(-ret));
		return ret;
	}
	if (fseek(f, 0, SEEK_END) || (long)(n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc(n + 1)) ||
	    fread(buf, 1, n, f) != n) {
		ret = -EIO;
		snprintf(err, errlen, "cannot read '%s'", path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*out = buf;
	*len = n;
	return ret;
}

/* One descriptor for the owner's loop: the server's and the checks'. */
static int epoll_watch(struct console *c, char *err, size_t len)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0)
		goto fail;
	ev.data.fd = http_fd(c->http);
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		goto fail;
	ev.data.fd = pwcheck_fd(c->pw);
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		goto fail;
	return 0;
fail:
	ret = -errno;
	snprintf(err, len, "cannot watch the console's descriptors: %s",
		 strerror(-ret));
	return ret;
}

int console_new(const struct console_config *cfg,
		const struct console_ops *ops, struct console **out,
		char *err, size_t len)
{
	struct http_config hc = {
		.listen = cfg->listen,
		.headers = console_headers,
		.auth = authorize,
		.state_free = password_dropped,
	};
	struct console *c;
	size_t i, n;
	int ret;

	if (!cfg->tls_cert_file != !cfg->tls_key_file) {
		snprintf(err, len, "TLS needs both --tls-cert and --tls-key");
		return -EINVAL;
	}
	if (!cfg->tls_cert_file && !cfg->insecure && cfg->listen &&
	    !loopback(cfg->listen)) {
		snprintf(err, len, "the console without TLS listens on a "
			 "loopback address only ('%s' is not): give "
			 "--tls-cert and --tls-key, or --console-insecure",
			 cfg->listen);
		return -EINVAL;
	}
	if (users_crypto_init()) {
		snprintf(err, len, "cannot initialize libsodium");
		return -EIO;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	c->epfd = -1;
	c->loopback_http = !cfg->tls_cert_file &&
			   (!cfg->listen || loopback(cfg->listen));
	c->ops = *ops;
	c->exp = (struct exporter){ .instance = ops->instance,
				    .ctx = ops->ctx };
	c->users_file = strdup(cfg->users_file);
	c->config_file = strdup(cfg->config_file);
	c->routes = calloc(N_API + N_WEB, sizeof(*c->routes));
	if (!c->users_file || !c->config_file || !c->routes) {
		snprintf(err, len, "out of memory");
		ret = -ENOMEM;
		goto err;
	}
	ret = users_load(c->users_file, true, &c->users, err, len);
	if (ret)
		goto err;
	stat(c->users_file, &c->users_st);
	if (!c->users.n)
		con_log("no users in '%s': nobody can log in (xdplb passwd "
			"USER --role admin)", c->users_file);
	if (cfg->tls_cert_file) {
		ret = slurp(cfg->tls_cert_file, &c->tls_cert, &n, err, len);
		if (!ret)
			ret = slurp(cfg->tls_key_file, &c->tls_key,
				    &c->tls_key_len, err, len);
		if (ret)
			goto err;
		hc.tls_cert = c->tls_cert;
		hc.tls_key = c->tls_key;
	}
	randombytes_buf(c->cache_key, sizeof(c->cache_key));
	inactive_load(c);
	for (i = 0; i < N_WEB; i++)
		c->routes[i] = (struct http_route){ "GET", web_assets[i].path,
						    get_asset,
						    web_assets[i].type, 0, 0 };
	memcpy(c->routes + N_WEB, api_routes, sizeof(api_routes));
	hc.routes = c->routes;
	hc.nroutes = N_API + N_WEB;
	hc.ctx = c;
	ret = pwcheck_new(0, 0, password_checked, c, &c->pw);
	if (ret) {
		snprintf(err, len, "cannot start the password checks' thread: "
			 "%s", strerror(-ret));
		goto err;
	}
	ret = http_server_new(&hc, &c->http, err, len);
	if (ret)
		goto err;
	ret = epoll_watch(c, err, len);
	if (ret)
		goto err;
	*out = c;
	return 0;
err:
	console_free(c);
	return ret;
}

void console_free(struct console *c)
{
	if (!c)
		return;
	if (c->epfd >= 0)
		close(c->epfd);
	/* The server first: its suspended requests release their checks. */
	http_server_free(c->http);
	pwcheck_free(c->pw);
	users_free(&c->users);
	if (c->tls_key)
		sodium_memzero(c->tls_key, c->tls_key_len);
	free(c->tls_key);
	free(c->tls_cert);
	free(c->routes);
	free(c->users_file);
	free(c->config_file);
	free(c->inactive);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

int console_fd(const struct console *c)
{
	return c->epfd;
}

int console_timeout(const struct console *c)
{
	return http_timeout(c->http);
}

void console_dispatch(struct console *c)
{
	/* Checks done first: their requests are answered by the server. */
	pwcheck_dispatch(c->pw);
	http_dispatch(c->http);
}

int console_add_connection(struct console *c, int fd,
			   const struct sockaddr *addr, socklen_t len)
{
	return http_add_connection(c->http, fd, addr, len);
}
