/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fuzz.h - what the fuzzers share (tests/fuzz/fuzz_*.c, one libFuzzer
 * binary each: `make fuzz`). A fuzzer feeds a parser of outside input
 * arbitrary bytes; AddressSanitizer and UBSan catch what it does wrong
 * with them, and FUZZ_ASSERT what it says wrong: each fuzzer checks what
 * it can of the result (what is printed of a parse parses back to it).
 */
#ifndef XDPLB_FUZZ_H
#define XDPLB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A finding: say what, and abort (libFuzzer keeps the input). */
#define FUZZ_ASSERT(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: %s: ", __FILE__,	\
				__LINE__, #cond);			\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			abort();					\
		}							\
	} while (0)

/* A parser's message: a string that ends within its buffer, not empty.
 * (It may quote a control byte of the input: log_line() escapes those
 * where it is printed.) */
static inline void fuzz_message(const char *err, size_t len)
{
	size_t n = strnlen(err, len);

	FUZZ_ASSERT(n < len, "message not terminated");
	FUZZ_ASSERT(n > 0, "an error without a message");
}

/* data[0..size) as a NUL-terminated string (cut at a NUL inside). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split data at NUL bytes into at most max words after name (argv[0]),
 * as a command line: argv is NULL-terminated; free *buf after. */
static inline int fuzz_argv(const char *name, const uint8_t *data,
			    size_t size, char **argv, int max, char **buf)
{
	char *s = malloc(size + 1), *p;
	int argc = 1;

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	argv[0] = (char *)name;
	for (p = s; argc < max && p < s + size; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	*buf = s;
	return argc;
}

/* The status of the HTTP/1.x answer that p (rest bytes) must start with. */
static inline int fuzz_status_line(const char *p, size_t rest)
{
	FUZZ_ASSERT(rest >= 13 && (!memcmp(p, "HTTP/1.1 ", 9) ||
				   !memcmp(p, "HTTP/1.0 ", 9)) &&
		    p[9] >= '1' && p[9] <= '5' &&
		    p[10] >= '0' && p[10] <= '9' &&
		    p[11] >= '0' && p[11] <= '9' && p[12] == ' ',
		    "not a status line: '%.*s'",
		    (int)(rest < 40 ? rest : 40), p);
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + p[11] - '0';
}

#endif /* XDPLB_FUZZ_H */
