// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_users.c - the web console's users file (user/web/users.c): passwords
 * hashed with Argon2id and checked, the file written whole with mode 0600
 * and read back, what a daemon refuses to read (a file others may read or
 * change), and bad lines named with their number.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <criterion/criterion.h>

#include "users.h"

static char dir[] = "/tmp/xdplb-users.XXXXXX";
static char path[64];

static void setup(void)
{
	cr_assert_eq(users_crypto_init(), 0);
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/users", dir);
}

static void teardown(void)
{
	char tmp[80];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	unlink(path);
	rmdir(dir);
}

TestSuite(users, .init = setup, .fini = teardown);

static void put(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

Test(users, set_save_load_check)
{
	struct users u = {}, back = {};
	const struct user *a;
	struct stat st;
	char err[256];

	cr_assert_eq(users_set(&u, "alice", ROLE_ADMIN, "correct horse", 13),
		     0);
	cr_assert_eq(users_set(&u, "bob.v", ROLE_VIEWER, "battery staple",
			       14), 0);
	cr_expect_eq(strncmp(u.v[0].hash, "$argon2id$", 10), 0, "%s",
		     u.v[0].hash);
	cr_assert_eq(users_save(path, &u, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode);

	cr_assert_eq(users_load(path, true, &back, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(back.n, 2);
	a = users_find(&back, "alice");
	cr_assert(a);
	cr_expect_eq(a->role, ROLE_ADMIN);
	cr_expect(user_password_ok(a->hash, "correct horse", 13));
	cr_expect(!user_password_ok(a->hash, "correct horsE", 13));
	cr_expect(!user_password_ok(a->hash, "correct hors", 12));
	cr_expect_eq(users_find(&back, "bob.v")->role, ROLE_VIEWER);

	/* A new password, the same name: one user, the new hash. */
	cr_assert_eq(users_set(&back, "alice", ROLE_VIEWER, "new password",
			       12), 0);
	cr_expect_eq(back.n, 2);
	a = users_find(&back, "alice");
	cr_expect(user_password_ok(a->hash, "new password", 12));
	cr_expect_eq(a->role, ROLE_VIEWER);
	cr_expect_eq(users_delete(&back, "alice"), 0);
	cr_expect_eq(users_delete(&back, "alice"), -ENOENT);
	cr_expect_eq(back.n, 1);
	users_free(&u);
	users_free(&back);
}

Test(users, strict_refuses_open_files)
{
	struct users u = {};
	char err[256];

	put("# nobody\n", 0644);
	cr_expect_eq(users_load(path, true, &u, err, sizeof(err)), -EPERM);
	cr_expect(strstr(err, "mode 0644") && strstr(err, "chmod 600"), "%s",
		  err);
	cr_expect_eq(users_load(path, false, &u, err, sizeof(err)), 0, "%s",
		     err);
	chmod(path, 0600);
	cr_expect_eq(users_load(path, true, &u, err, sizeof(err)), 0, "%s",
		     err);
	unlink(path);
	cr_expect_eq(users_load(path, true, &u, err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "xdplb passwd"), "%s", err);
}

Test(users, bad_lines)
{
	static const struct {
		const char *text;
		const char *says;
	} bad[] = {
		{ "\nalice\n", ":2: expected NAME:ROLE:HASH" },
		{ "al ice:admin:$argon2id$x\n", ":1: bad user name" },
		{ "alice:root:$argon2id$x\n",
		  ":1: role of 'alice' is neither" },
		{ "alice:admin:plain\n", ":1: password of 'alice' is not an "
		  "Argon2 hash" },
		{ "a:admin:$argon2id$x\na:viewer:$argon2id$y\n",
		  ":2: user 'a' twice" },
	};
	struct users u = {};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(bad[i].text, 0600);
		cr_expect_eq(users_load(path, true, &u, err, sizeof(err)),
			     -EINVAL, "case %zu", i);
		cr_expect(strstr(err, bad[i].says), "case %zu: %s", i, err);
		cr_expect_eq(u.n, 0);
	}
}

Test(users, names)
{
	cr_expect(user_name_valid("alice"));
	cr_expect(user_name_valid("ops.team_2-x"));
	cr_expect(!user_name_valid(""));
	cr_expect(!user_name_valid("-alice"));
	cr_expect(!user_name_valid("a:b"));
	cr_expect(!user_name_valid("a b"));
	cr_expect(!user_name_valid("0123456789012345678901234567890123"));
}
