/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * json.h - a small streaming JSON writer for -j output (on stdout) and
 * the exporter's /status.json. It tracks nesting to place commas; names
 * and strings are escaped. jw_flush() ends the document with a newline.
 */
#ifndef XDPLB_JSON_H
#define XDPLB_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Where the JSON goes from now on, a new document; NULL: stdout (the
 * default). */
void jw_set_output(FILE *f);

void jw_start_object(void);
void jw_end_object(void);
void jw_start_array(void);
void jw_end_array(void);
void jw_name(const char *name);
void jw_string(const char *s);
void jw_uint(uint64_t v);
void jw_double(double v);
void jw_bool(bool v);
void jw_flush(void);

void jw_kv_string(const char *name, const char *s);
void jw_kv_uint(const char *name, uint64_t v);
void jw_kv_double(const char *name, double v);
void jw_kv_bool(const char *name, bool v);

#endif /* XDPLB_JSON_H */
