/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * file.h - replacing a file whole or not at all: the new text goes to
 * PATH.tmp, which is synced to disk, renamed over PATH, and the directory
 * synced, so that after a crash at any instant PATH holds either the old
 * text or the new one, and the new one once file_commit() has returned.
 *
 * Two steps, so that a caller can write the new file, then make the change
 * it records, and only then put it in place (or throw it away).
 *
 * Functions return 0 or a negative errno.
 */
#ifndef XDPLB_FILE_H
#define XDPLB_FILE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct file_tmp {
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	int dirfd;		/* the directory, to sync after the rename */
};

/* Keep the mode and owner of the file there (0644, ours, when none). */
#define FILE_MODE_KEEP	((mode_t)-1)

/* Write data to path.tmp, synced, with mode (or FILE_MODE_KEEP); t
 * remembers it for file_commit() or file_abort(). */
int file_write_tmp(struct file_tmp *t, const char *path, const void *data,
		   size_t len, mode_t mode);
/* Rename it over path, then sync the directory. On failure the temporary
 * file is removed and path is as it was. */
int file_commit(struct file_tmp *t);
/* Remove the temporary file; path is as it was. */
void file_abort(struct file_tmp *t);
/* Both steps. */
int file_replace(const char *path, const void *data, size_t len, mode_t mode);

#endif /* XDPLB_FILE_H */
