// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_config_parse.c - configuration files (config_parse, and the line
 * reader under it). A file read whole is written back as save writes it;
 * that text must read back to the same configuration and write the same
 * text again, its lines within the reader's limit; and a configuration
 * never wipes out itself.
 */
#include <errno.h>

#include "config.h"
#include "fuzz.h"

/* a and b declare the same, in whatever order, line numbers aside. */
static void same_config(const struct config *a, const struct config *b)
{
	int i, j;

	FUZZ_ASSERT(a->nsvcs == b->nsvcs && a->nreals == b->nreals,
		    "%d services, %d reals read back as %d, %d", a->nsvcs,
		    a->nreals, b->nsvcs, b->nreals);
	for (i = 0; i < a->nsvcs; i++) {
		struct config_service x = a->svcs[i], y;

		for (j = 0; j < b->nsvcs; j++)
			if (!memcmp(&b->svcs[j].key, &x.key, sizeof(x.key)))
				break;
		FUZZ_ASSERT(j < b->nsvcs, "service %d is gone", i);
		y = b->svcs[j];
		x.line = y.line = 0;
		FUZZ_ASSERT(!memcmp(&x, &y, sizeof(x)), "service %d differs",
			    i);
	}
	for (i = 0; i < a->nreals; i++) {
		struct config_real x = a->reals[i], y;

		for (j = 0; j < b->nreals; j++)
			if (!memcmp(&b->reals[j].svc, &x.svc, sizeof(x.svc)) &&
			    !memcmp(&b->reals[j].addr, &x.addr,
				    sizeof(x.addr)))
				break;
		FUZZ_ASSERT(j < b->nreals, "real %d is gone", i);
		y = b->reals[j];
		x.line = y.line = 0;
		FUZZ_ASSERT(!memcmp(&x, &y, sizeof(x)), "real %d differs", i);
	}
}

/* config_write into a string. */
static char *write_text(const struct config *c, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	FUZZ_ASSERT(f, "open_memstream");
	FUZZ_ASSERT(!config_write(f, c), "config_write failed");
	fclose(f);
	return buf;
}

static struct config *parse(const void *text, size_t len, int *ret,
			    char *err, size_t errlen)
{
	struct config *c = (struct config *)&c;
	FILE *f;

	/* fmemopen of 0 bytes fails: an empty file is a file of one
	 * byte that is not read. */
	f = fmemopen((void *)(len ? text : "\n"), len ? len : 1, "r");
	FUZZ_ASSERT(f, "fmemopen");
	if (!len)
		fgetc(f);
	err[0] = '\0';
	*ret = config_parse(f, "fuzz.conf", &c, err, errlen);
	fclose(f);
	if (*ret) {
		FUZZ_ASSERT(c == (struct config *)&c, "*out set on error");
		return NULL;
	}
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c, *c2;
	char err[512], *text, *text2, *line;
	size_t len, len2;
	int ret;

	c = parse(data, size, &ret, err, sizeof(err));
	if (!c) {
		FUZZ_ASSERT(ret == -EINVAL, "config_parse: %d", ret);
		FUZZ_ASSERT(!strncmp(err, "fuzz.conf:", 10), "message '%s' "
			    "does not name the file", err);
		fuzz_message(err, sizeof(err));
		return 0;
	}
	text = write_text(c, &len);
	for (line = text; *line; line = strchr(line, '\n') + 1)
		FUZZ_ASSERT(strcspn(line, "\n") <= CONFIG_MAX_LINE,
			    "save wrote a line of %zu bytes",
			    strcspn(line, "\n"));
	c2 = parse(text, len, &ret, err, sizeof(err));
	FUZZ_ASSERT(c2, "what save wrote does not read back: %s\n%s", err,
		    text);
	same_config(c, c2);
	text2 = write_text(c2, &len2);
	FUZZ_ASSERT(len == len2 && !memcmp(text, text2, len),
		    "written twice, two texts:\n%s\n%s", text, text2);
	/* Keeping what runs loses nothing, but a file without services is
	 * a wipe whatever runs. */
	FUZZ_ASSERT(config_check_wipe(c, c, err, sizeof(err)) ==
		    (c->nsvcs ? 0 : -ECANCELED), "wipe check of itself");
	FUZZ_ASSERT(config_check_wipe(c, NULL, err, sizeof(err)) ==
		    (c->nsvcs ? 0 : -ECANCELED), "wipe check alone");
	free(text);
	free(text2);
	config_free(c);
	config_free(c2);
	return 0;
}
