// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_json.c - the JSON writer (user/common/json.c): commas and nesting, and
 * strings escaped so that the document stays valid JSON whatever bytes
 * they hold (control characters, quotes, and bytes that are not UTF-8,
 * such as those of a client's request echoed in an error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <criterion/criterion.h>

#include "json.h"

/* jw_string(s) as a document of its own. */
static char *string_doc(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	jw_set_output(f);
	jw_string(s);
	jw_flush();
	jw_set_output(NULL);
	fclose(f);
	return buf;
}

Test(json, nesting)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	jw_set_output(f);
	jw_start_object();
	jw_kv_string("a", "x");
	jw_name("b");
	jw_start_array();
	jw_uint(1);
	jw_bool(false);
	jw_end_array();
	jw_kv_double("c", 0.5);
	jw_end_object();
	jw_flush();
	jw_set_output(NULL);
	fclose(f);
	cr_expect_str_eq(buf, "{\"a\":\"x\",\"b\":[1,false],\"c\":0.500}\n");
	free(buf);
}

Test(json, escapes)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "q\"b\\", "\"q\\\"b\\\\\"" },
		{ "a\nb\tc\r\x1b", "\"a\\nb\\tc\\u000d\\u001b\"" },
		/* UTF-8 as it is: 2, 3 and 4 bytes. */
		{ "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		/* Not UTF-8: each bad byte U+FFFD. */
		{ "\xff\xfe:80", "\"\\ufffd\\ufffd:80\"" },
		{ "a\xc3", "\"a\\ufffd\"" },		/* cut short */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },	/* overlong '/' */
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },	/* surrogate */
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		{ "\xe2\x82x", "\"\\ufffd\\ufffdx\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *doc = string_doc(cases[i].in), want[128];

		snprintf(want, sizeof(want), "%s\n", cases[i].out);
		cr_expect_str_eq(doc, want, "case %zu", i);
		free(doc);
	}
}
