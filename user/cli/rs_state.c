// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rs_state.c - real-setup's state file, read strictly and written
 * (rs_state.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "lines.h"
#include "rs_state.h"

/* Of the state file: its lines at most, and its bytes. */
#define RS_MAX_BYTES	((RS_MAX_VIPS + RS_MAX_ITEMS + 16) * RS_MAX_LINE)

static const char *const kind_word[] = {
	[IT_ADDR] = "addr", [IT_SYSCTL] = "sysctl", [IT_FILE] = "file",
	[IT_LINK] = "link", [IT_DIR] = "dir",
};

int parse_vip_addr(const char *s, struct vip *v)
{
	struct xdplb_svc_key key;

	if (!parse_addr(s, &v->addr, &v->family))
		return 0;
	if (parse_vip(s, &key))
		return -EINVAL;
	v->addr = key.addr;
	v->family = key.family;
	return 0;
}

void vip_name(const struct vip *v, char *buf, size_t len)
{
	format_addr(&v->addr, v->family, buf, len);
}

struct item *state_find(struct state *st, enum item_kind kind,
			const char *name)
{
	int i;

	for (i = 0; i < st->nitems; i++)
		if (st->items[i].kind == kind &&
		    !strcmp(st->items[i].name, name))
			return &st->items[i];
	return NULL;
}

static int parse_prefix(char *s, struct item *it)
{
	char *slash = strchr(s, '/');
	unsigned long plen;

	if (!slash)
		return -EINVAL;
	*slash = '\0';
	if (parse_addr(s, &it->addr, &it->family) ||
	    parse_ulong(slash + 1, it->family == XDPLB_AF_INET ? 32 : 128,
			&plen))
		return -EINVAL;
	*slash = '/';
	it->plen = plen;
	return 0;
}

/* A path of '/'-separated parts, none of them empty, "." or "..";
 * absolute or not as asked. */
static bool clean_path(const char *p, bool absolute)
{
	const char *part = p;

	if ((*p == '/') != absolute)
		return false;
	if (absolute)
		part++;
	for (;;) {
		size_t n = strcspn(part, "/");

		if (!n || (n == 1 && part[0] == '.') ||
		    (n == 2 && part[0] == '.' && part[1] == '.'))
			return false;
		if (!part[n])
			return true;
		part += n + 1;
	}
}

/* ROOT (absolute, or nothing) followed by suffix. */
static bool under_root(const char *p, const char *suffix)
{
	size_t n = strlen(p), k = strlen(suffix);

	return n >= k && !strcmp(p + n - k, suffix) && clean_path(p, true);
}

/* A sysctl value as real-setup reads and writes them: an integer. */
static bool int_value(const char *s)
{
	if (*s == '-')
		s++;
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* One line of the state file (its words in w, n of them) into st, or why
 * not. */
static const char *state_words(struct state *st, char **w, int n)
{
	struct item *it;
	int i;

	if (!strcmp(w[0], "vip")) {
		if (n != 2)
			return "vip takes one address";
		if (st->nvips == RS_MAX_VIPS)
			return "too many VIPs";
		if (parse_vip_addr(w[1], &st->vips[st->nvips]))
			return "not a VIP address";
		for (i = 0; i < st->nvips; i++)
			if (!memcmp(&st->vips[i], &st->vips[st->nvips],
				    sizeof(st->vips[i])))
				return "a VIP recorded twice";
		st->nvips++;
		return NULL;
	}
	for (i = 0; i <= IT_DIR; i++)
		if (!strcmp(w[0], kind_word[i]))
			break;
	if (i > IT_DIR)
		return "not an item real-setup records";
	if (i == IT_FILE ? n != 2 && n != 3 : n != (i == IT_SYSCTL ? 4 : 2))
		return i == IT_SYSCTL ? "sysctl takes a key and two values" :
		       i == IT_FILE ? "file takes a path and its sum" :
		       "an item takes one name";
	if (st->nitems == RS_MAX_ITEMS)
		return "too many items";
	if (strlen(w[1]) >= RS_PATHLEN)
		return "a name too long";
	if (state_find(st, i, w[1]))
		return "an item recorded twice";
	it = &st->items[st->nitems];
	memset(it, 0, sizeof(*it));
	it->kind = i;
	strcpy(it->name, w[1]);
	switch (it->kind) {
	case IT_ADDR:
		if (parse_prefix(it->name, it))
			return "not an ADDR/PLEN";
		break;
	case IT_SYSCTL:
		if (!clean_path(w[1], false))
			return "not a key under /proc/sys";
		if (strlen(w[2]) >= RS_VALLEN || strlen(w[3]) >= RS_VALLEN ||
		    !int_value(w[2]) || !int_value(w[3]))
			return "sysctl values are integers";
		strcpy(it->old, w[2]);
		strcpy(it->val, w[3]);
		break;
	case IT_FILE:
		if (!under_root(w[1], RS_UNIT) && !under_root(w[1], RS_DROPIN))
			return "not a file real-setup writes";
		if (n == 3 && (strlen(w[2]) >= RS_SUMLEN ||
			       strncmp(w[2], "crc32:", 6)))
			return "not a sum real-setup writes";
		if (n == 3)
			strcpy(it->sum, w[2]);
		break;
	case IT_LINK:
		if (!under_root(w[1], RS_UNIT_LINK))
			return "not the link real-setup makes";
		break;
	case IT_DIR:
		if (!clean_path(w[1], true))
			return "not an absolute path";
		break;
	}
	st->nitems++;
	return NULL;
}

int state_parse(struct state *st, FILE *f, const char *name, char *err,
		size_t errlen)
{
	char *line, *w[5], *save;
	struct lines in;
	const char *why;
	int ret, n;

	memset(st, 0, sizeof(*st));
	ret = lines_open(&in, f, name, RS_MAX_LINE, RS_MAX_BYTES);
	if (ret) {
		snprintf(err, errlen, "%s: %s", name, strerror(-ret));
		return ret;
	}
	while ((ret = lines_next(&in, &line, err, errlen)) > 0) {
		for (n = 0; n < 5; n++) {
			w[n] = strtok_r(n ? NULL : line, " \t", &save);
			if (!w[n])
				break;
		}
		if (!n || w[0][0] == '#')
			continue;
		why = n == 5 ? "too many words" : state_words(st, w, n);
		if (!why && w[0][0] != 'v')	/* an item: where it is */
			st->items[st->nitems - 1].line = in.line;
		if (why) {
			snprintf(err, errlen, "%s:%d: '%s': %s, not a line "
				 "real-setup writes: the state file is "
				 "refused, nothing changed (fix or remove it)",
				 name, in.line, n > 1 ? w[1] : w[0], why);
			ret = -EINVAL;
			break;
		}
	}
	lines_close(&in);
	if (ret)
		memset(st, 0, sizeof(*st));
	return ret;
}

char *state_text(const struct state *st)
{
	char *buf = NULL, name[ADDR_STRLEN];
	size_t len = 0;
	FILE *m;
	int i;

	m = open_memstream(&buf, &len);
	if (!m)
		return NULL;
	fputs("# xdplb real-setup: what it changed, for --undo\n", m);
	for (i = 0; i < st->nvips; i++) {
		vip_name(&st->vips[i], name, sizeof(name));
		fprintf(m, "vip %s\n", name);
	}
	for (i = 0; i < st->nitems; i++) {
		const struct item *it = &st->items[i];

		fprintf(m, "%s %s", kind_word[it->kind], it->name);
		if (it->kind == IT_SYSCTL)
			fprintf(m, " %s %s", it->old, it->val);
		if (it->kind == IT_FILE && it->sum[0])
			fprintf(m, " %s", it->sum);
		fputc('\n', m);
	}
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	return buf;
}
