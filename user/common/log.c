// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "json.h"
#include "log.h"

int log_level = LOG_WARN;
bool json_output;

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > log_level)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* Libraries rate their chatter higher than an operator does: their
 * warnings are our info, their info our debug. */
static int lib_print(enum log_level level, const char *fmt, va_list ap)
{
	if ((int)level > log_level)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	return lib_print(level == LIBBPF_WARN ? LOG_INFO : LOG_DEBUG, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	return lib_print(level == LIBXDP_WARN ? LOG_INFO : LOG_DEBUG, fmt, ap);
}

void log_init(int verbosity)
{
	log_level = verbosity > LOG_DEBUG ? LOG_DEBUG : verbosity;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

void log_line(FILE *f, const char *msg)
{
	/* Each byte of msg takes 4 at most; one write, so that the line
	 * reaches an unbuffered stderr whole. */
	char line[4 * 1024 + 16];
	size_t n = 0;

	n += snprintf(line, sizeof(line), "xdplb: ");
	for (; *msg && n < sizeof(line) - 6; msg++) {
		unsigned char c = (unsigned char)*msg;

		if (c == '\n' || c == '\t' || c == '\r') {
			line[n++] = '\\';
			line[n++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else if (c < 0x20 || c == 0x7f) {
			n += snprintf(line + n, sizeof(line) - n, "\\x%02x", c);
		} else {
			line[n++] = c;
		}
	}
	line[n++] = '\n';
	fwrite(line, 1, n, f);
}

void p_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (json_output) {
		jw_start_object();
		jw_kv_string("error", msg);
		jw_end_object();
		jw_flush();
	} else {
		log_line(stderr, msg);
	}
}
