// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * users.c - the console's users file (see users.h). Hashing and checking
 * passwords is libsodium's: crypto_pwhash_str makes the salt and encodes
 * the parameters, so a file keeps working if the limits change later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "file.h"
#include "users.h"

/* Interactive: about 0.1 s and 64 MiB per hash here. The daemon checks
 * passwords one at a time on a thread of its own (pwcheck.h): a login
 * waits for those before it, so not the "moderate" or "sensitive"
 * limits. */
#define PWHASH_OPS	crypto_pwhash_OPSLIMIT_INTERACTIVE
#define PWHASH_MEM	crypto_pwhash_MEMLIMIT_INTERACTIVE

int users_crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

bool user_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n && n <= USER_NAME_MAX && name[0] != '-' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

const char *role_name(enum user_role role)
{
	return role == ROLE_ADMIN ? "admin" : "viewer";
}

int role_parse(const char *s, enum user_role *role)
{
	if (!strcmp(s, "admin"))
		*role = ROLE_ADMIN;
	else if (!strcmp(s, "viewer"))
		*role = ROLE_VIEWER;
	else
		return -EINVAL;
	return 0;
}

void users_free(struct users *u)
{
	if (u->v)
		sodium_memzero(u->v, u->n * sizeof(*u->v));
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

const struct user *users_find(const struct users *u, const char *name)
{
	int i;

	for (i = 0; i < u->n; i++)
		if (!strcmp(u->v[i].name, name))
			return &u->v[i];
	return NULL;
}

/* One line NAME:ROLE:HASH into x; -EINVAL with the reason in err. */
static int parse_user(char *line, struct user *x, char *err, size_t errlen)
{
	char *role = strchr(line, ':'), *hash;

	hash = role ? strchr(role + 1, ':') : NULL;
	if (!hash) {
		snprintf(err, errlen, "expected NAME:ROLE:HASH");
		return -EINVAL;
	}
	*role++ = '\0';
	*hash++ = '\0';
	if (!user_name_valid(line)) {
		snprintf(err, errlen, "bad user name (1..%d of A-Z a-z 0-9 . "
			 "_ -, not starting with -)", USER_NAME_MAX);
		return -EINVAL;
	}
	if (role_parse(role, &x->role)) {
		snprintf(err, errlen, "role of '%s' is neither admin nor "
			 "viewer", line);
		return -EINVAL;
	}
	if (strncmp(hash, "$argon2id$", 10) && strncmp(hash, "$argon2i$", 9)) {
		snprintf(err, errlen, "password of '%s' is not an Argon2 hash "
			 "(set it with xdplb passwd)", line);
		return -EINVAL;
	}
	if (strlen(hash) >= sizeof(x->hash)) {
		snprintf(err, errlen, "password hash of '%s' is too long",
			 line);
		return -EINVAL;
	}
	snprintf(x->name, sizeof(x->name), "%s", line);
	snprintf(x->hash, sizeof(x->hash), "%s", hash);
	return 0;
}

int users_load(const char *path, bool strict, struct users *u, char *err,
	       size_t errlen)
{
	char *buf = NULL, msg[160];
	struct users out = {};
	struct stat st;
	size_t cap = 0;
	ssize_t n;
	int line = 0, ret = 0;
	FILE *f;

	*u = out;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot read users file '%s': %s%s",
			 path, strerror(-ret), ret == -ENOENT ? " (add users "
			 "with xdplb passwd)" : "");
		return ret;
	}
	if (fstat(fileno(f), &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot read users file '%s': %s", path,
			 strerror(-ret));
		goto out;
	}
	if (strict && (st.st_mode & 077)) {
		snprintf(err, errlen, "users file '%s' has mode %04o: others "
			 "than its owner may read or change it (chmod 600)",
			 path, st.st_mode & 07777);
		ret = -EPERM;
		goto out;
	}
	if (strict && st.st_uid != geteuid()) {
		snprintf(err, errlen, "users file '%s' is owned by uid %u, "
			 "not by this process's user (uid %u)", path,
			 st.st_uid, geteuid());
		ret = -EPERM;
		goto out;
	}
	while ((n = getline(&buf, &cap, f)) >= 0) {
		struct user x = {}, *v;

		line++;
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (!buf[strspn(buf, " \t")] || buf[strspn(buf, " \t")] == '#')
			continue;
		ret = parse_user(buf, &x, msg, sizeof(msg));
		if (!ret && users_find(&out, x.name)) {
			snprintf(msg, sizeof(msg), "user '%s' twice", x.name);
			ret = -EINVAL;
		}
		if (ret) {
			snprintf(err, errlen, "%s:%d: %s", path, line, msg);
			goto out;
		}
		v = realloc(out.v, (out.n + 1) * sizeof(*v));
		if (!v) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		out.v = v;
		out.v[out.n++] = x;
		sodium_memzero(&x, sizeof(x));
	}
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "cannot read users file '%s': %s", path,
			 strerror(EIO));
	}
out:
	fclose(f);
	if (buf)
		sodium_memzero(buf, cap);
	free(buf);
	if (ret)
		users_free(&out);
	else
		*u = out;
	return ret;
}

int users_save(const char *path, const struct users *u, char *err,
	       size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int i, ret;

	f = open_memstream(&text, &len);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fprintf(f, "# xdplb web console users (xdplb passwd): "
		"NAME:ROLE:HASH, Argon2id\n");
	for (i = 0; i < u->n; i++)
		fprintf(f, "%s:%s:%s\n", u->v[i].name, role_name(u->v[i].role),
			u->v[i].hash);
	if (fclose(f)) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = file_replace(path, text, len, 0600);
	if (ret)
		snprintf(err, errlen, "cannot write users file '%s': %s", path,
			 strerror(-ret));
	sodium_memzero(text, len);
	free(text);
	return ret;
}

int users_set(struct users *u, const char *name, enum user_role role,
	      const char *password, size_t len)
{
	struct user *x = (struct user *)users_find(u, name), *v;
	char hash[crypto_pwhash_STRBYTES];

	if (!user_name_valid(name))
		return -EINVAL;
	if (crypto_pwhash_str(hash, password, len, PWHASH_OPS, PWHASH_MEM))
		return -ENOMEM;	/* what libsodium fails for */
	if (!x) {
		v = realloc(u->v, (u->n + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		u->v = v;
		x = &u->v[u->n++];
		memset(x, 0, sizeof(*x));
		snprintf(x->name, sizeof(x->name), "%s", name);
	}
	x->role = role;
	memcpy(x->hash, hash, sizeof(hash));
	sodium_memzero(hash, sizeof(hash));
	return 0;
}

int users_delete(struct users *u, const char *name)
{
	const struct user *x = users_find(u, name);
	int i;

	if (!x)
		return -ENOENT;
	i = x - u->v;
	memmove(&u->v[i], &u->v[i + 1], (u->n - i - 1) * sizeof(*u->v));
	u->n--;
	return 0;
}

bool user_password_ok(const char *hash, const char *password, size_t len)
{
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}
