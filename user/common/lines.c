// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lines.c - text files read line by line, every byte checked (lines.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

int lines_open(struct lines *l, FILE *f, const char *name, size_t max_line,
	       size_t max_total)
{
	memset(l, 0, sizeof(*l));
	l->buf = malloc(max_line + 1);
	if (!l->buf)
		return -ENOMEM;
	l->f = f;
	l->name = name;
	l->max_line = max_line;
	l->max_total = max_total;
	return 0;
}

void lines_close(struct lines *l)
{
	free(l->buf);
	l->buf = NULL;
}

static int bad(const struct lines *l, int ret, char *err, size_t errlen,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "NAME:LINE: message" in err (the message alone without a NAME); return
 * ret. */
static int bad(const struct lines *l, int ret, char *err, size_t errlen,
	       const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err && l->name)
		snprintf(err, errlen, "%s:%d: %s", l->name, l->line, msg);
	else if (err)
		snprintf(err, errlen, "%s", msg);
	return ret;
}

/* Why byte c cannot stand in a line. */
static int bad_byte(const struct lines *l, int c, size_t col, char *err,
		    size_t errlen)
{
	if (!c)
		return bad(l, -EINVAL, err, errlen, "a NUL byte at column "
			   "%zu (not text: a zero-filled or binary file?)",
			   col);
	if (c == '\r')
		return bad(l, -EINVAL, err, errlen, "a carriage return at "
			   "column %zu (DOS line ends? dos2unix converts "
			   "them)", col);
	return bad(l, -EINVAL, err, errlen, "control byte 0x%02x at column "
		   "%zu (only tab may stand in a line)", c, col);
}

int lines_next(struct lines *l, char **line, char *err, size_t errlen)
{
	size_t n = 0;
	int c;

	for (;;) {
		c = getc(l->f);
		if (c == EOF)
			break;
		if (n == 0)
			l->line++;
		if (++l->total > l->max_total)
			return bad(l, -EINVAL, err, errlen, "the file is "
				   "larger than %zu bytes", l->max_total);
		if (c == '\n') {
			l->buf[n] = '\0';
			*line = l->buf;
			return 1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return bad_byte(l, c, n + 1, err, errlen);
		if (n == l->max_line)
			return bad(l, -EINVAL, err, errlen, "a line longer "
				   "than %zu bytes", l->max_line);
		l->buf[n++] = (char)c;
	}
	if (ferror(l->f)) {
		int e = errno ? errno : EIO;

		if (!n)
			l->line++;
		return bad(l, -e, err, errlen, "cannot read: %s",
			   strerror(e));
	}
	if (n)
		return bad(l, -EINVAL, err, errlen, "the last line has no "
			   "newline (the file is cut short?)");
	return 0;
}

int lines_read_one(const char *path, char *buf, size_t len, char *err,
		   size_t errlen)
{
	struct lines l;
	char *line;
	FILE *f;
	int ret;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		if (err)
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = lines_open(&l, f, path, len - 1, len);
	if (!ret) {
		ret = lines_next(&l, &line, err, errlen);
		if (ret == 0)
			ret = bad(&l, -EINVAL, err, errlen, "empty");
		else if (ret > 0)
			ret = 0;
		if (!ret)
			memcpy(buf, line, strlen(line) + 1);
		lines_close(&l);
	}
	fclose(f);
	return ret;
}
