// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cmd_passwd.c - xdplb passwd [--users FILE] USER [--role admin|viewer]
 * [--delete]: the web console's users (users.h).
 *
 * The password comes from standard input: asked twice, without echo, on a
 * terminal; else its first line, once (for scripts). A new user is a
 * viewer unless --role says otherwise; an existing one keeps its role.
 * Two runs at once do not lose each other's change: the file's directory
 * is locked around the read, change and write. A running daemon reads the
 * file again at its next login.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "cmd.h"
#include "json.h"
#include "log.h"
#include "users.h"

#define ERRLEN	256

static const char passwd_usage[] =
	"passwd [--users FILE] USER [--role admin|viewer] [--delete]";

/* One line of fd into buf, without its end; echo off when a terminal
 * (prompt on stderr). 0, -EINVAL (empty input), -E2BIG (too long). */
static int read_line(FILE *in, bool tty, const char *prompt, char *buf,
		     size_t len)
{
	struct termios old, quiet;
	size_t n;
	int err = 0;

	if (tty) {
		fputs(prompt, stderr);
		fflush(stderr);
		if (tcgetattr(fileno(in), &old))
			return -errno;
		quiet = old;
		quiet.c_lflag &= ~(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		if (tcsetattr(fileno(in), TCSANOW, &quiet))
			return -errno;
	}
	if (!fgets(buf, len, in))
		err = -EINVAL;
	if (tty) {
		tcsetattr(fileno(in), TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (err)
		return err;
	n = strlen(buf);
	if (n && buf[n - 1] != '\n' && !feof(in))
		return -E2BIG;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

/* The new password into pw (USER_PASSWORD_MAX + 2 bytes). 0, or -1 said. */
static int get_password(const char *user, char *pw, size_t len)
{
	char again[USER_PASSWORD_MAX + 2], prompt[96];
	bool tty = isatty(STDIN_FILENO);
	int err;

	snprintf(prompt, sizeof(prompt), "New password for %s: ", user);
	err = read_line(stdin, tty, prompt, pw, len);
	if (!err && tty)
		err = read_line(stdin, tty, "Again: ", again, sizeof(again));
	if (err == -E2BIG || (!err && strlen(pw) > USER_PASSWORD_MAX)) {
		p_err("the password is longer than %d bytes",
		      USER_PASSWORD_MAX);
		err = -1;
	} else if (err) {
		p_err("no password on standard input");
		err = -1;
	} else if (strlen(pw) < USER_PASSWORD_MIN) {
		p_err("the password is shorter than %d characters",
		      USER_PASSWORD_MIN);
		err = -1;
	} else if (tty && strcmp(pw, again)) {
		p_err("the two passwords differ; nothing changed");
		err = -1;
	}
	sodium_memzero(again, sizeof(again));
	return err;
}

/* Lock the directory of path against another passwd: -1 when not, said. */
static int lock_dir_of(const char *path)
{
	char dir[4096];
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		p_err("cannot lock the directory of '%s': %s", path,
		      strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void say(const char *user, const char *role, const char *what,
		const char *file)
{
	if (opts.json) {
		jw_start_object();
		jw_kv_string("user", user);
		if (role)
			jw_kv_string("role", role);
		jw_kv_string("action", what);
		jw_kv_string("file", file);
		jw_end_object();
		jw_flush();
	} else if (role) {
		printf("%s %s (%s) in %s\n", what, user, role, file);
	} else {
		printf("%s %s from %s\n", what, user, file);
	}
}

int do_passwd(int argc, char **argv)
{
	static const struct option passwd_opts[] = {
		{ "users", required_argument, NULL, 'u' },
		{ "role", required_argument, NULL, 'r' },
		{ "delete", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = USERS_DEFAULT_FILE, *name, *role_arg = NULL;
	char pw[USER_PASSWORD_MAX + 2] = "", err[ERRLEN];
	struct users u = {};
	const struct user *old;
	enum user_role role = ROLE_VIEWER;
	bool del = false;
	int c, lk, ret = EXIT_FAIL, e;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", passwd_opts, NULL)) != -1) {
		if (c == 'u')
			file = optarg;
		else if (c == 'r')
			role_arg = optarg;
		else if (c == 'd')
			del = true;
		else
			return usage_error(argv[0], "bad option (%s)",
					   passwd_usage);
	}
	if (optind != argc - 1)
		return usage_error(argv[0], "expected one USER (%s)",
				   passwd_usage);
	name = argv[optind];
	if (!user_name_valid(name))
		return usage_error(argv[0], "bad user name '%.64s' (1..%d of "
				   "A-Z a-z 0-9 . _ -, not starting with -)",
				   name, USER_NAME_MAX);
	if (role_arg && role_parse(role_arg, &role))
		return usage_error(argv[0], "--role is admin or viewer, not "
				   "'%.32s'", role_arg);
	if (del && role_arg)
		return usage_error(argv[0], "--delete takes no --role");
	if (!*file)
		return usage_error(argv[0], "--users takes a file name");
	if (users_crypto_init()) {
		p_err("cannot initialize libsodium");
		return EXIT_FAIL;
	}
	/* The password first: nothing is locked while someone types. */
	if (!del && get_password(name, pw, sizeof(pw)))
		goto out;
	lk = lock_dir_of(file);
	if (lk < 0)
		goto out;
	e = users_load(file, false, &u, err, sizeof(err));
	if (e && e != -ENOENT) {
		p_err("%s", err);
		goto out_unlock;
	}
	old = users_find(&u, name);
	if (del) {
		if (!old) {
			p_err("no user '%s' in %s", name, file);
			goto out_unlock;
		}
		users_delete(&u, name);
	} else {
		if (old && !role_arg)
			role = old->role;
		e = users_set(&u, name, role, pw, strlen(pw));
		if (e) {
			p_err("cannot hash the password: %s", strerror(-e));
			goto out_unlock;
		}
	}
	e = users_save(file, &u, err, sizeof(err));
	if (e) {
		p_err("%s", err);
		goto out_unlock;
	}
	say(name, del ? NULL : role_name(role), del ? "deleted" : old ?
	    "changed" : "added", file);
	ret = EXIT_OK;
out_unlock:
	close(lk);
out:
	sodium_memzero(pw, sizeof(pw));
	users_free(&u);
	return ret;
}
