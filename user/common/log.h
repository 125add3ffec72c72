/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * log.h - messages. pr_warn/pr_info/pr_debug print to stderr by level
 * (-v raises it); libbpf's and libxdp's own output goes through here one
 * level lower than they rate it. p_err() reports the error that ends a
 * command: one line on stderr, or {"error": ...} on stdout in JSON mode.
 */
#ifndef XDPLB_LOG_H
#define XDPLB_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level {
	LOG_WARN = 0,
	LOG_INFO,
	LOG_DEBUG,
};

extern int log_level;
extern bool json_output;

void log_init(int verbosity);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "xdplb: msg" and a newline on f, as one line whatever msg holds: a
 * control byte in it (from an argument, a file) is written escaped
 * (\n, \t, \r, \xNN). */
void log_line(FILE *f, const char *msg);

#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* XDPLB_LOG_H */
