/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lines.h - text files from outside, read line by line with every byte
 * checked: configuration files, real-setup's state file, values under
 * /proc/sys.
 *
 * A file that is not text is an error, never a shorter file: a NUL byte
 * (what a power loss leaves in a file's last blocks, or /dev/zero) or any
 * other control byte but tab, a line longer than the caller allows, more
 * bytes than the caller allows in all, a last line without its newline (a
 * file cut short), and a read error. Bytes 0x80 and above pass (UTF-8 in
 * comments). Each error is -EINVAL (the text is wrong) or the read's own
 * negative errno, with "NAME:LINE: what" in the caller's buffer.
 */
#ifndef XDPLB_LINES_H
#define XDPLB_LINES_H

#include <stddef.h>
#include <stdio.h>

struct lines {
	FILE *f;
	const char *name;	/* for messages: the path, or "<stdin>";
				 * NULL: the message alone (the caller
				 * names file and line, l->line) */
	size_t max_line;	/* bytes of a line, its newline not counted */
	size_t max_total;	/* bytes of the whole file */
	size_t total;		/* bytes read so far */
	int line;		/* the number of the line last read */
	char *buf;		/* max_line + 1 bytes */
};

/* Read f, which stays the caller's; -ENOMEM. */
int lines_open(struct lines *l, FILE *f, const char *name, size_t max_line,
	       size_t max_total);
/*
 * The next line, without its newline, NUL-terminated in *line (valid until
 * the next call): 1; 0 at the end of the file; or a negative errno with
 * the message in err.
 */
int lines_next(struct lines *l, char **line, char *err, size_t errlen);
void lines_close(struct lines *l);

/*
 * A small file of one line (a value under /proc/sys): that line, which
 * must fit in len bytes with its NUL, in buf. 0, -ENOENT and others from
 * fopen, or an error of lines_next (message in err, which may be NULL).
 */
int lines_read_one(const char *path, char *buf, size_t len, char *err,
		   size_t errlen);

#endif /* XDPLB_LINES_H */
