// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_rs_state.c - real-setup's state file (rs_state.h). A state read
 * whole is written as real-setup writes it; that text must read back to
 * the same state, and write the same text again.
 */
#include <errno.h>

#include "fuzz.h"
#include "rs_state.h"

static struct state st, st2;

static int parse(const void *text, size_t len, struct state *s, char *err,
		 size_t errlen)
{
	FILE *f;
	int ret;

	f = fmemopen((void *)(len ? text : "\n"), len ? len : 1, "r");
	FUZZ_ASSERT(f, "fmemopen");
	if (!len)
		fgetc(f);
	ret = state_parse(s, f, "fuzz.state", err, errlen);
	fclose(f);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[768], *text, *text2;
	int ret;

	ret = parse(data, size, &st, err, sizeof(err));
	if (ret) {
		FUZZ_ASSERT(ret == -EINVAL, "state_parse: %d", ret);
		FUZZ_ASSERT(!strncmp(err, "fuzz.state:", 11), "message '%s' "
			    "does not name the file", err);
		fuzz_message(err, sizeof(err));
		return 0;
	}
	text = state_text(&st);
	FUZZ_ASSERT(text, "state_text");
	ret = parse(text, strlen(text), &st2, err, sizeof(err));
	FUZZ_ASSERT(!ret, "what real-setup writes does not read back: %s\n%s",
		    err, text);
	/* The same items, each on another line of the text written. */
	for (ret = 0; ret < st.nitems; ret++)
		st.items[ret].line = st2.items[ret].line = 0;
	FUZZ_ASSERT(!memcmp(&st, &st2, sizeof(st)), "read back another "
		    "state:\n%s", text);
	text2 = state_text(&st2);
	FUZZ_ASSERT(text2 && !strcmp(text, text2), "written twice, two "
		    "texts:\n%s\n%s", text, text2);
	free(text);
	free(text2);
	return 0;
}
