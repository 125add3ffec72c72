// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_bird.c - the VIP routes the daemon writes for BIRD (user/daemon/bird.c):
 * one route per VIP address and family, whatever its ports; empty
 * protocols for a family without VIPs; the file rewritten only when its
 * text changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "bird.h"
#include "config.h"

static struct config *parse(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct config *c = NULL;
	char err[256] = "";

	cr_assert(f);
	cr_assert_eq(config_parse(f, "t.conf", &c, err, sizeof(err)), 0,
		     "config_parse: %s", err);
	fclose(f);
	return c;
}

/* The text after the comment lines atop it. */
static const char *body(const char *text)
{
	while (*text == '#')
		text = strchr(text, '\n') + 1;
	return text;
}

Test(bird_vips, one_route_per_address)
{
	struct config *c = parse("add-vip 10.0.0.1:80\n"
				 "add-vip 10.0.0.1:443\n"
				 "add-vip 10.0.0.2:53/udp\n"
				 "add-vip [fd00::1]:80\n"
				 "add-real --vip 10.0.0.1:80 10.0.1.1\n");
	char *text = NULL;

	cr_assert_eq(bird_vips_render(c, "xdplb-up", "t.conf", &text), 0);
	cr_expect(strstr(text, "'t.conf'") && strstr(text, "'xdplb-up'"),
		  "the comment names neither the file nor the interface: %s",
		  text);
	cr_expect_str_eq(body(text),
			 "\n"
			 "protocol static xdplb_vips4 {\n"
			 "\tipv4;\n"
			 "\tcheck link on;\n"
			 "\troute 10.0.0.1/32 via \"xdplb-up\";\n"
			 "\troute 10.0.0.2/32 via \"xdplb-up\";\n"
			 "}\n"
			 "\n"
			 "protocol static xdplb_vips6 {\n"
			 "\tipv6;\n"
			 "\tcheck link on;\n"
			 "\troute fd00::1/128 via \"xdplb-up\";\n"
			 "}\n");
	free(text);
	config_free(c);
}

Test(bird_vips, no_vips_empty_protocols)
{
	struct config *c = parse("# nothing\n");
	char *text = NULL;

	cr_assert_eq(bird_vips_render(c, "lb0", "t.conf", &text), 0);
	cr_expect_str_eq(body(text),
			 "\n"
			 "protocol static xdplb_vips4 {\n"
			 "\tipv4;\n"
			 "\tcheck link on;\n"
			 "}\n"
			 "\n"
			 "protocol static xdplb_vips6 {\n"
			 "\tipv6;\n"
			 "\tcheck link on;\n"
			 "}\n");
	free(text);
	config_free(c);
}

Test(bird_vips, written_when_changed)
{
	char path[] = "/tmp/xdplb-test-bird-XXXXXX";
	char buf[64] = "";
	bool changed;
	FILE *f;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(bird_vips_write(path, "a\n", &changed), 0);
	cr_expect(changed, "an empty file was not rewritten");
	cr_assert_eq(bird_vips_write(path, "a\n", &changed), 0);
	cr_expect(!changed, "the same text was written again");
	cr_assert_eq(bird_vips_write(path, "a\nb\n", &changed), 0);
	cr_expect(changed);
	cr_assert_eq(bird_vips_write(path, "a\n", &changed), 0);
	cr_expect(changed, "a shorter text was taken for the same");
	f = fopen(path, "r");
	cr_assert(f);
	cr_expect_eq(fread(buf, 1, sizeof(buf) - 1, f), 2);
	cr_expect_str_eq(buf, "a\n");
	fclose(f);
	unlink(path);
}
