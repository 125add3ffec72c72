// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * file.c - replacing a file atomically and durably (see file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "file.h"

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

int file_write_tmp(struct file_tmp *t, const char *path, const void *data,
		   size_t len, mode_t mode)
{
	char dir[PATH_MAX];
	struct stat st;
	bool keep = mode == FILE_MODE_KEEP;
	int fd, err = 0;

	t->dirfd = -1;
	t->tmp[0] = '\0';
	if (snprintf(t->path, sizeof(t->path), "%s", path) >=
	    (int)sizeof(t->path) ||
	    snprintf(t->tmp, sizeof(t->tmp), "%s.tmp", path) >=
	    (int)sizeof(t->tmp))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	t->dirfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0)
		return -errno;
	if (keep)
		mode = stat(path, &st) ? 0644 : st.st_mode & 07777;
	/* A stale one from a crash goes; never through a link. */
	unlink(t->tmp);
	fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0) {
		err = -errno;
		goto err_dir;
	}
	err = write_all(fd, data, len);
	/* The mode asked for, whatever the umask; the old file's owner. */
	if (!err && fchmod(fd, mode))
		err = -errno;
	if (!err && keep && stat(path, &st) == 0 &&
	    fchown(fd, st.st_uid, st.st_gid) && errno != EPERM)
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (err)
		goto err_tmp;
	return 0;

err_tmp:
	unlink(t->tmp);
err_dir:
	close(t->dirfd);
	t->dirfd = -1;
	t->tmp[0] = '\0';
	return err;
}

int file_commit(struct file_tmp *t)
{
	int err = 0;

	if (rename(t->tmp, t->path)) {
		err = -errno;
		unlink(t->tmp);
	} else if (fsync(t->dirfd)) {
		err = -errno;	/* renamed, but perhaps not on disk yet */
	}
	close(t->dirfd);
	t->dirfd = -1;
	t->tmp[0] = '\0';
	return err;
}

void file_abort(struct file_tmp *t)
{
	if (t->tmp[0])
		unlink(t->tmp);
	if (t->dirfd >= 0)
		close(t->dirfd);
	t->dirfd = -1;
	t->tmp[0] = '\0';
}

int file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	struct file_tmp t;
	int err;

	err = file_write_tmp(&t, path, data, len, mode);
	return err ? err : file_commit(&t);
}
