// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * json.c - the streaming JSON writer (see json.h).
 */
#include <inttypes.h>
#include <stdio.h>

#include "json.h"

#define JW_MAX_DEPTH 32

static int depth;
static bool first[JW_MAX_DEPTH];	/* nothing written yet at this level */
static bool after_name;
static FILE *out;		/* NULL: stdout */

static FILE *jw_out(void)
{
	return out ? out : stdout;
}

void jw_set_output(FILE *f)
{
	out = f;
	depth = 0;
	after_name = false;
}

/* A value is about to be written: separate it from its predecessor. */
static void jw_sep(void)
{
	if (after_name) {
		after_name = false;
		return;
	}
	if (depth > 0) {
		if (!first[depth - 1])
			fputc(',', jw_out());
		first[depth - 1] = false;
	}
}

static void jw_open(char c)
{
	jw_sep();
	fputc(c, jw_out());
	if (depth < JW_MAX_DEPTH)
		first[depth] = true;
	depth++;
}

static void jw_close(char c)
{
	if (depth > 0)
		depth--;
	fputc(c, jw_out());
}

/* The length of the UTF-8 sequence s starts (1..4), or 0 when s does
 * not start a valid one (RFC 3629: no overlong form, no surrogate, nothing
 * above U+10FFFF). Never reads past a NUL. */
static int utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4 || (s[1] & 0xc0) != 0x80)
		return 0;
	if (s[0] < 0xe0)
		return 2;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f) ||
	    (s[2] & 0xc0) != 0x80)
		return 0;
	if (s[0] < 0xf0)
		return 3;
	return (s[3] & 0xc0) == 0x80 ? 4 : 0;
}

/* s as a JSON string: what is not UTF-8 (a byte of a client's request,
 * say) becomes U+FFFD, so that the document stays valid. */
static void jw_escaped(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	fputc('"', jw_out());
	while (*p) {
		unsigned char c = *p;

		n = utf8_len(p);
		if (c == '"' || c == '\\')
			fprintf(jw_out(), "\\%c", c);
		else if (c == '\n')
			fputs("\\n", jw_out());
		else if (c == '\t')
			fputs("\\t", jw_out());
		else if (c < 0x20)
			fprintf(jw_out(), "\\u%04x", c);
		else if (!n)
			fputs("\\ufffd", jw_out());
		else
			fwrite(p, 1, n, jw_out());
		p += n ? n : 1;
	}
	fputc('"', jw_out());
}

void jw_start_object(void) { jw_open('{'); }
void jw_end_object(void) { jw_close('}'); }
void jw_start_array(void) { jw_open('['); }
void jw_end_array(void) { jw_close(']'); }

void jw_name(const char *name)
{
	jw_sep();
	jw_escaped(name);
	fputc(':', jw_out());
	after_name = true;
}

void jw_string(const char *s)
{
	jw_sep();
	jw_escaped(s);
}

void jw_uint(uint64_t v)
{
	jw_sep();
	fprintf(jw_out(), "%" PRIu64, v);
}

void jw_double(double v)
{
	jw_sep();
	fprintf(jw_out(), "%.3f", v);
}

void jw_bool(bool v)
{
	jw_sep();
	fputs(v ? "true" : "false", jw_out());
}

void jw_flush(void)
{
	fputc('\n', jw_out());
	fflush(jw_out());
	depth = 0;
	after_name = false;
}

void jw_kv_string(const char *name, const char *s)
{
	jw_name(name);
	jw_string(s);
}

void jw_kv_uint(const char *name, uint64_t v)
{
	jw_name(name);
	jw_uint(v);
}

void jw_kv_double(const char *name, double v)
{
	jw_name(name);
	jw_double(v);
}

void jw_kv_bool(const char *name, bool v)
{
	jw_name(name);
	jw_bool(v);
}
