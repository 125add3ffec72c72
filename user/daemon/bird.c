// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bird.c - the VIP routes of ha/bird-lb.conf.in, from a configuration. See
 * bird.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "bird.h"

/* Is service i the first of c's services with its address? */
static bool first_with_addr(const struct config *c, int i)
{
	int k;

	for (k = 0; k < i; k++)
		if (c->svcs[k].key.family == c->svcs[i].key.family &&
		    addr_equal(&c->svcs[k].key.addr, &c->svcs[i].key.addr))
			return false;
	return true;
}

static void put_protocol(FILE *f, const struct config *c, __u8 family,
			 const char *ifname)
{
	bool v6 = family == XDPLB_AF_INET6;
	char a[ADDR_STRLEN];
	int i;

	fprintf(f, "\nprotocol static xdplb_vips%c {\n", v6 ? '6' : '4');
	fprintf(f, "\t%s;\n\tcheck link on;\n", v6 ? "ipv6" : "ipv4");
	for (i = 0; i < c->nsvcs; i++) {
		const struct xdplb_svc_key *k = &c->svcs[i].key;

		if (k->family != family || !first_with_addr(c, i))
			continue;
		format_addr(&k->addr, k->family, a, sizeof(a));
		fprintf(f, "\troute %s/%d via \"%s\";\n", a, v6 ? 128 : 32,
			ifname);
	}
	fputs("}\n", f);
}

int bird_vips_render(const struct config *c, const char *ifname,
		     const char *source, char **out)
{
	size_t len = 0;
	FILE *f;

	*out = NULL;
	f = open_memstream(out, &len);
	if (!f)
		return -errno;
	fprintf(f, "# The VIP routes of xdplb's configuration '%s',\n",
		source);
	fputs("# written by `xdplb daemon --bird-vips` at each start and "
	      "reload: do not edit.\n", f);
	fprintf(f, "# Exported while '%s' is up (the daemon is healthy).\n",
		ifname);
	put_protocol(f, c, XDPLB_AF_INET, ifname);
	put_protocol(f, c, XDPLB_AF_INET6, ifname);
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Does path hold exactly text? */
static bool holds(const char *path, const char *text)
{
	size_t n = strlen(text);
	char *buf = malloc(n + 1);
	FILE *f = fopen(path, "re");
	bool same = false;

	if (f && buf)
		same = fread(buf, 1, n + 1, f) == n && !memcmp(buf, text, n);
	if (f)
		fclose(f);
	free(buf);
	return same;
}

int bird_vips_write(const char *path, const char *text, bool *changed)
{
	char tmp[4096];
	FILE *f;
	int err = 0;

	*changed = false;
	if (holds(path, text))
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (fputs(text, f) < 0 || fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	else
		*changed = true;
	return err;
}
