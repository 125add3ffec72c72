/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * users.h - the web console's users (`xdplb passwd`, `daemon --users`):
 * a file of lines NAME:ROLE:HASH, where ROLE is admin or viewer and HASH
 * libsodium's Argon2id string (crypto_pwhash_str: algorithm, parameters,
 * salt and hash in one "$argon2id$v=19$m=...,t=...,p=1$...$..." string),
 * '#' comments and blank lines. The file is root's, mode 0600: a hash is
 * slow to test guesses against, not a secret to hand out.
 *
 * A viewer reads; an admin also changes the configuration.
 *
 * Functions return 0 or a negative errno, with one line in err where they
 * take one.
 */
#ifndef XDPLB_USERS_H
#define XDPLB_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sodium.h>

#define USERS_DEFAULT_FILE	"/etc/xdplb/users"
#define USER_NAME_MAX		32	/* [A-Za-z0-9._-], not starting '-' */
#define USER_PASSWORD_MIN	8
#define USER_PASSWORD_MAX	1024

enum user_role {
	ROLE_VIEWER = 1,
	ROLE_ADMIN,
};

struct user {
	char name[USER_NAME_MAX + 1];
	enum user_role role;
	char hash[crypto_pwhash_STRBYTES];
};

struct users {
	struct user *v;
	int n;
};

/* 0 once libsodium is ready (sodium_init), else -EIO. */
int users_crypto_init(void);

bool user_name_valid(const char *name);
const char *role_name(enum user_role role);
/* "admin" or "viewer"; 0, or -EINVAL. */
int role_parse(const char *s, enum user_role *role);

/*
 * Read path into u. strict: refuse a file that others than its owner may
 * read or write, or that another user than this process's owns (a daemon
 * would take whoever can write it at their word). A missing file is
 * -ENOENT (and u empty).
 */
int users_load(const char *path, bool strict, struct users *u, char *err,
	       size_t errlen);
/* Write u to path whole (file.h), mode 0600. */
int users_save(const char *path, const struct users *u, char *err,
	       size_t errlen);
void users_free(struct users *u);

const struct user *users_find(const struct users *u, const char *name);
/* Add user name, or change its password and role: password hashed with
 * Argon2id (crypto_pwhash_str, libsodium's interactive limits). */
int users_set(struct users *u, const char *name, enum user_role role,
	      const char *password, size_t len);
/* -ENOENT when there is no such user. */
int users_delete(struct users *u, const char *name);

/* Does password match hash (crypto_pwhash_str_verify)? */
bool user_password_ok(const char *hash, const char *password, size_t len);

#endif /* XDPLB_USERS_H */
