// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <stdio.h>

#include "json.h"

#define JW_MAX_DEPTH 32

static int depth;
static bool first[JW_MAX_DEPTH];	/* nothing written yet at this level */
static bool after_name;

/* A value is about to be written: separate it from its predecessor. */
static void jw_sep(void)
{
	if (after_name) {
		after_name = false;
		return;
	}
	if (depth > 0) {
		if (!first[depth - 1])
			putchar(',');
		first[depth - 1] = false;
	}
}

static void jw_open(char c)
{
	jw_sep();
	putchar(c);
	if (depth < JW_MAX_DEPTH)
		first[depth] = true;
	depth++;
}

static void jw_close(char c)
{
	if (depth > 0)
		depth--;
	putchar(c);
}

static void jw_escaped(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void jw_start_object(void) { jw_open('{'); }
void jw_end_object(void) { jw_close('}'); }
void jw_start_array(void) { jw_open('['); }
void jw_end_array(void) { jw_close(']'); }

void jw_name(const char *name)
{
	jw_sep();
	jw_escaped(name);
	putchar(':');
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
	printf("%" PRIu64, v);
}

void jw_double(double v)
{
	jw_sep();
	printf("%.3f", v);
}

void jw_bool(bool v)
{
	jw_sep();
	fputs(v ? "true" : "false", stdout);
}

void jw_flush(void)
{
	putchar('\n');
	fflush(stdout);
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
