// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_config.c - configuration files (user/instance/config.c): what
 * config_parse accepts and what it makes of it, every kind of bad line with
 * its line number, and config_write's lines read back to the same
 * configuration; the line reader under it (lines.h), and lines_read_one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "config.h"
#include "lines.h"
#include "spec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* config_parse over a string; err holds the message. */
static int parse(const char *text, struct config **c, char *err, size_t len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	cr_assert(f);
	err[0] = '\0';
	ret = config_parse(f, "test.conf", c, err, len);
	fclose(f);
	return ret;
}

/* config_write into a string the caller frees. */
static char *write_str(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	cr_assert_eq(config_write(f, c), 0);
	fclose(f);
	return buf;
}

static const char good[] =
	"# a comment, then a blank line\n"
	"\n"
	"add-vip 10.0.0.1:80 --check http:/health:204 --interval 0.5 "
	"--timeout 0.25 --rise 3 --fall 4 --quorum 2   # trailing comment\n"
	"add-real --vip 10.0.0.1:80/tcp 10.0.0.11 --weight 2\n"
	"   add-real --vip 10.0.0.1:80 10.0.0.12 --mac 02:00:00:00:00:0c "
	"--sorry\n"
	"add-vip 10.0.0.1:53/udp --ops --hash src-ip --table-size 7 "
	"--check 'exec:/bin/check --name \"a b\"'\n"
	"add-real --vip 10.0.0.1:53/udp 10.0.0.13 --weight 0\n"
	"\tadd-vip [fd00::1]:0 --check \"exec:/bin/it's\"\n"
	"add-real --vip [fd00::1]:0 fd00::11\n";

Test(config_parse, accepts)
{
	struct config *c = NULL;
	const struct config_service *s;
	const struct config_real *r;
	char err[512];
	int ret;

	ret = parse(good, &c, err, sizeof(err));
	cr_assert_eq(ret, 0, "config_parse: %d: %s", ret, err);
	cr_assert_eq(c->nsvcs, 3);
	cr_assert_eq(c->nreals, 4);

	s = &c->svcs[0];
	cr_expect_eq(s->line, 3);
	cr_expect_eq(ntohs(s->key.port), 80);
	cr_expect_eq(s->key.proto, IPPROTO_TCP);
	cr_expect_eq(s->flags, 0);
	cr_expect_eq(s->table_size, 0);
	cr_expect_eq(s->opts.check, XDPLB_CHECK_HTTP);
	cr_expect_str_eq(s->opts.arg, "/health");
	cr_expect_eq(s->opts.http_status, 204);
	cr_expect_eq(s->opts.interval_ms, 500);
	cr_expect_eq(s->opts.timeout_ms, 250);
	cr_expect_eq(s->opts.rise, 3);
	cr_expect_eq(s->opts.fall, 4);
	cr_expect_eq(s->opts.quorum, 2);

	s = &c->svcs[1];
	cr_expect_eq(s->key.proto, IPPROTO_UDP);
	cr_expect_eq(s->flags, XDPLB_SVC_F_OPS | XDPLB_SVC_F_HASH_SRC);
	cr_expect_eq(s->table_size, 7);
	cr_expect_eq(s->opts.check, XDPLB_CHECK_EXEC);
	cr_expect_str_eq(s->opts.arg, "/bin/check --name \"a b\"");
	cr_expect_eq(s->opts.interval_ms, XDPLB_DEFAULT_CHECK_INTERVAL_MS);
	cr_expect_eq(s->opts.quorum, XDPLB_DEFAULT_QUORUM);

	s = &c->svcs[2];
	cr_expect_eq(s->key.family, XDPLB_AF_INET6);
	cr_expect_str_eq(s->opts.arg, "/bin/it's");

	r = &c->reals[0];
	cr_expect_eq(r->line, 4);
	cr_expect_eq(r->weight, 2);
	cr_expect(!r->mac_manual && !r->sorry);
	cr_expect(!memcmp(&r->svc, &c->svcs[0].key, sizeof(r->svc)),
		  "a real's VIP, /tcp or not, is its service's key");
	r = &c->reals[1];
	cr_expect_eq(r->weight, XDPLB_DEFAULT_WEIGHT);
	cr_expect(r->mac_manual && r->sorry);
	cr_expect_eq(r->mac[5], 0x0c);
	cr_expect_eq(c->reals[2].weight, 0);
	cr_expect_eq(c->reals[3].family, XDPLB_AF_INET6);
	config_free(c);
}

Test(config_parse, empty_file)
{
	struct config *c = NULL;
	char err[512];

	cr_assert_eq(parse("# nothing\n\n   \n", &c, err, sizeof(err)), 0);
	cr_expect_eq(c->nsvcs, 0);
	cr_expect_eq(c->nreals, 0);
	config_free(c);
}

/* What config_write prints is canonical: read back, it prints the same,
 * and the services and reals come sorted whatever the file's order. */
Test(config_write, round_trip)
{
	static const char want[] =
		"add-vip 10.0.0.1:80/tcp --check http:/health:204 "
		"--interval 0.5 --timeout 0.25 --rise 3 --fall 4 --quorum 2\n"
		"add-real --vip 10.0.0.1:80/tcp 10.0.0.11 --weight 2\n"
		"add-real --vip 10.0.0.1:80/tcp 10.0.0.12 --weight 1 --mac "
		"02:00:00:00:00:0c --sorry\n"
		"add-vip 10.0.0.1:53/udp --hash src-ip --ops --table-size 7 "
		"--check 'exec:/bin/check --name \"a b\"'\n"
		"add-real --vip 10.0.0.1:53/udp 10.0.0.13 --weight 0\n"
		"add-vip [fd00::1]:0/tcp --check 'exec:/bin/it'\\''s'\n"
		"add-real --vip [fd00::1]:0/tcp fd00::11 --weight 1\n";
	struct config *c = NULL, *c2 = NULL;
	char err[512], *out, *out2;

	cr_assert_eq(parse(good, &c, err, sizeof(err)), 0, "%s", err);
	out = write_str(c);
	cr_expect_str_eq(out, want);
	cr_assert_eq(parse(out, &c2, err, sizeof(err)), 0, "%s", err);
	out2 = write_str(c2);
	cr_expect_str_eq(out2, out);
	free(out);
	free(out2);
	config_free(c);
	config_free(c2);
}

struct bad_case {
	const char *text;
	int line;
	const char *says;	/* a part of the message */
};

#define V "add-vip 10.0.0.1:80\n"
#define R "add-real --vip 10.0.0.1:80 "

static const struct bad_case bad[] = {
	{ V "set-real --vip 10.0.0.1:80 10.0.0.2 --weight 1\n", 2,
	  "'set-real' does not declare" },
	{ "xdplb add-vip 10.0.0.1:80\n", 1, "'xdplb' does not declare" },
	{ "add-vip\n", 1, "expected one VIP" },
	{ "add-vip 10.0.0.1:80 10.0.0.2:80\n", 1, "expected one VIP" },
	{ "add-vip 10.0.0.1\n", 1, "malformed VIP '10.0.0.1'" },
	{ "add-vip 10.0.0.1:80 --bogus\n", 1, "unknown option '--bogus'" },
	{ "add-vip 10.0.0.1:80 --hash\n", 1, "'--hash' needs a value" },
	{ "add-vip 10.0.0.1:80 --hash rr\n", 1, "unknown hash mode 'rr'" },
	{ "add-vip 10.0.0.1:80 --ops\n", 1, "--ops is for UDP" },
	{ "add-vip 10.0.0.1:53/udp --no-ops\n", 1, "--no-ops is for set-vip" },
	{ "add-vip 10.0.0.1:80 --table-size 1000\n", 1, "table size '1000'" },
	{ "add-vip 10.0.0.1:80 --check ping\n", 1, "unknown check 'ping'" },
	{ "add-vip 10.0.0.1:0 --check tcp\n", 1, "needs a service with a port" },
	{ "add-vip 10.0.0.1:80 --check http:health\n", 1, "must start with '/'" },
	{ "add-vip 10.0.0.1:80 --check 'http:/a b'\n", 1, "no spaces" },
	{ "add-vip 10.0.0.1:80 --check http:/x:99\n", 1, "STATUS '99'" },
	{ "add-vip 10.0.0.1:80 --check http:/x:600\n", 1, "STATUS '600'" },
	{ "add-vip 10.0.0.1:80 --check exec:\n", 1, "needs a command" },
	{ "add-vip 10.0.0.1:80 --check 'exec:   '\n", 1, "needs a command" },
	{ "add-vip 10.0.0.1:80 --check exec:"
	  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	  "cccccccccccccccccccccccccccc\n", 1, "too long" },
	{ "add-vip 10.0.0.1:80 --check tcp --interval 0\n", 1, "interval '0'" },
	{ "add-vip 10.0.0.1:80 --check tcp --interval 1h\n", 1,
	  "interval '1h'" },
	{ "add-vip 10.0.0.1:80 --check tcp --interval 3601\n", 1,
	  "interval '3601'" },
	{ "add-vip 10.0.0.1:80 --check tcp --timeout -1\n", 1,
	  "timeout '-1'" },
	{ "add-vip 10.0.0.1:80 --check tcp --interval 1 --timeout 1.5\n", 1,
	  "timeout 1.5s is longer than its interval 1s" },
	{ "add-vip 10.0.0.1:80 --check tcp --rise 0\n", 1, "rise '0'" },
	{ "add-vip 10.0.0.1:80 --check tcp --fall 1001\n", 1, "fall '1001'" },
	{ "add-vip 10.0.0.1:80 --quorum 0\n", 1, "quorum '0'" },
	{ "add-vip 10.0.0.1:80 --interval 1\n", 1, "options of a health check" },
	{ V "# comment\n" V, 3, "already declared on line 1" },
	{ V "add-vip 10.0.0.1:80/tcp\n", 2, "already declared on line 1" },
	{ R "10.0.0.2\n", 1, "VIP 10.0.0.1:80/tcp is not declared" },
	{ V "add-real --vip 10.0.0.1:81 10.0.0.2\n", 2, "is not declared" },
	{ V R "10.0.0.2\n" R "10.0.0.2 --weight 3\n", 3,
	  "already declared on line 2" },
	{ V R "10.0.0.2 --weight 65536\n", 2, "weight '65536'" },
	{ V R "10.0.0.2 --weight x\n", 2, "weight 'x'" },
	{ V R "10.0.0.2 --mac 01:00:00:00:00:01\n", 2,
	  "MAC '01:00:00:00:00:01' is not a host's" },
	{ V R "10.0.0.2 --mac 02:00:00:00:00\n", 2, "malformed MAC" },
	{ V R "255.255.255.255\n", 2, "real 255.255.255.255 is the broadcast" },
	{ V R "224.0.0.5\n", 2, "real 224.0.0.5 is a multicast address" },
	{ V R "0.0.0.0 --mac 02:00:00:00:00:01\n", 2, "unspecified" },
	{ V R "127.0.0.2\n", 2, "loopback" },
	{ V R "10.0.0.1\n", 2, "address of VIP 10.0.0.1:80/tcp itself" },
	{ "add-vip [fd00::1]:80\n"
	  "add-real --vip [fd00::1]:80 ::ffff:10.0.0.2\n", 2, "IPv4-mapped" },
	{ "add-vip [fd00::1]:80\nadd-real --vip [fd00::1]:80 ::\n", 2,
	  "real :: is unspecified" },
	{ "add-vip [fd00::1]:80\nadd-real --vip [fd00::1]:80 ff02::2\n", 2,
	  "multicast" },
	{ "add-vip [fd00::1]:80\nadd-real --vip [fd00::1]:80 ::1\n", 2,
	  "loopback" },
	{ "add-vip [fd00::1]:80\nadd-real --vip [fd00::1]:80 fd00::1\n", 2,
	  "itself" },
	/* Another VIP's address, declared before or after: the real's line. */
	{ V "add-vip 10.0.0.9:443\n" R "10.0.0.9\n", 3,
	  "real 10.0.0.9 is the address of VIP 10.0.0.9:443/tcp (line 2)" },
	{ V R "10.0.0.2\n" R "10.0.0.9\n" "add-vip 10.0.0.9:53/udp\n", 3,
	  "real 10.0.0.9 is the address of VIP 10.0.0.9:53/udp (line 4)" },
	{ V R "10.0.0.300\n", 2, "malformed real address '10.0.0.300'" },
	{ V R "fd00::2\n", 2, "same address family" },
	{ V "add-real 10.0.0.2\n", 2, "--vip VIP is required" },
	{ V R "\n", 2, "expected one REAL" },
	{ V R "10.0.0.2 --ops\n", 2, "unknown option '--ops'" },
	{ V "\n\n" R "10.0.0.2 'unterminated\n", 4, "unterminated ' quote" },
	{ V R "10.0.0.2 \"unterminated\n", 2, "unterminated \" quote" },
};

Test(config_parse, rejects_with_line_number)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct config *c = (struct config *)0x1;
		char err[512], want[32];
		int ret;

		ret = parse(bad[i].text, &c, err, sizeof(err));
		cr_expect_eq(ret, -EINVAL, "case %zu (%s): returned %d", i,
			     bad[i].text, ret);
		cr_expect_eq(c, (struct config *)0x1,
			     "case %zu: *out changed on error", i);
		snprintf(want, sizeof(want), "test.conf:%d: ", bad[i].line);
		cr_expect(!strncmp(err, want, strlen(want)),
			  "case %zu (%s): message '%s' does not start '%s'",
			  i, bad[i].text, err, want);
		cr_expect(strstr(err, bad[i].says),
			  "case %zu (%s): message '%s' does not say '%s'", i,
			  bad[i].text, err, bad[i].says);
		cr_expect(!strchr(err, '\n'), "case %zu: two lines", i);
	}
}

/* The first bad line is the one named, even with good lines after it. */
Test(config_parse, first_bad_line)
{
	struct config *c = NULL;
	char err[512];

	cr_assert_eq(parse(V R "10.0.0.2\n" R "10.0.0.3 --weight -1\n"
			   R "10.0.0.4\n" "bogus\n", &c, err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "test.conf:3: weight '-1' out of range "
			 "(0..65535)");
}

/* Not text, or not all of it: each an error naming the file and line,
 * never a file that ends early. */

/* config_parse over len bytes (NULs included). */
static int parse_bytes(const char *text, size_t len, struct config **c,
		       char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int ret;

	cr_assert(f);
	err[0] = '\0';
	ret = config_parse(f, "test.conf", c, err, errlen);
	fclose(f);
	return ret;
}

#define BYTES(s) s, sizeof(s) - 1

static const struct {
	const char *text;
	size_t len;
	int line;
	const char *says;
} not_text[] = {
	/* A NUL in a weight: "--weight 1" must not pass for "10". */
	{ BYTES(V R "10.0.0.2 --weight 1\0000\n"), 2, "NUL byte at column 47" },
	{ BYTES("\0\0\0\0\0\0\0\0\n"), 1, "NUL byte at column 1" },
	{ BYTES(V "\n" R "10.0.0.2\033[0m\n"), 3, "control byte 0x1b" },
	{ BYTES(V R "10.0.0.2\x7f\n"), 2, "control byte 0x7f" },
	{ BYTES(V R "10.0.0.2\f\n"), 2, "control byte 0x0c" },
	{ BYTES("add-vip 10.0.0.1:80\r\n"), 1, "carriage return at column 20" },
	{ BYTES(V R "10.0.0.2 --weight 10"), 2, "no newline" },
	{ BYTES("# only a comment"), 1, "no newline" },
};

Test(config_parse, not_text)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(not_text); i++) {
		struct config *c = (struct config *)0x1;
		char err[512], want[32];
		int ret;

		ret = parse_bytes(not_text[i].text, not_text[i].len, &c, err,
				  sizeof(err));
		cr_expect_eq(ret, -EINVAL, "case %zu: returned %d", i, ret);
		cr_expect_eq(c, (struct config *)0x1, "case %zu: *out set", i);
		snprintf(want, sizeof(want), "test.conf:%d: ",
			 not_text[i].line);
		cr_expect(!strncmp(err, want, strlen(want)) &&
			  strstr(err, not_text[i].says), "case %zu: message "
			  "'%s', want '%s...%s'", i, err, want,
			  not_text[i].says);
	}
}

/* What a power loss leaves: a file of zeros. */
Test(config_parse, zero_filled)
{
	static char zeros[4096];
	struct config *c = NULL;
	char err[512];

	cr_expect_eq(parse_bytes(zeros, sizeof(zeros), &c, err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "test.conf:1: a NUL byte at column 1 (not "
			 "text: a zero-filled or binary file?)");
}

/* Tab is the one control byte a line may hold. */
Test(config_parse, tabs)
{
	struct config *c = NULL;
	char err[512];

	cr_assert_eq(parse("\tadd-vip\t10.0.0.1:80\t# x\t\n", &c, err,
			   sizeof(err)), 0, "%s", err);
	cr_expect_eq(c->nsvcs, 1);
	config_free(c);
}

Test(config_parse, long_line)
{
	char *text = malloc(CONFIG_MAX_LINE + 3);
	struct config *c = NULL;
	char err[512];

	cr_assert(text);
	/* The longest line that is allowed, then one byte more. */
	memset(text, ' ', CONFIG_MAX_LINE);
	text[0] = '#';
	text[CONFIG_MAX_LINE] = '\n';
	cr_expect_eq(parse_bytes(text, CONFIG_MAX_LINE + 1, &c, err,
				 sizeof(err)), 0, "%s", err);
	config_free(c);
	memset(text, ' ', CONFIG_MAX_LINE + 1);
	text[0] = '#';
	text[CONFIG_MAX_LINE + 1] = '\n';
	cr_expect_eq(parse_bytes(text, CONFIG_MAX_LINE + 2, &c, err,
				 sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "test.conf:1: a line longer than 4096 bytes");
	free(text);
}

Test(config_parse, huge_file)
{
	size_t len = CONFIG_MAX_BYTES + 100, i;
	char *text = malloc(len);
	struct config *c = NULL;
	char err[512];

	cr_assert(text);
	/* Comment lines of 64 bytes, past the limit. */
	for (i = 0; i < len; i++)
		text[i] = i % 64 == 63 ? '\n' : '#';
	cr_expect_eq(parse_bytes(text, len - len % 64, &c, err, sizeof(err)),
		     -EINVAL);
	cr_expect_str_eq(err, "test.conf:262145: the file is larger than "
			 "16777216 bytes");
	free(text);
}

/* A read that fails after some lines: the error, by line, never the end
 * of the file (and ENOMEM the same). */
struct failing {
	const char *text;
	size_t off;
	int err;
};

static ssize_t failing_read(void *cookie, char *buf, size_t size)
{
	struct failing *fl = cookie;
	size_t n = strlen(fl->text) - fl->off;

	if (!n) {
		errno = fl->err;
		return -1;
	}
	if (n > size)
		n = size;
	memcpy(buf, fl->text + fl->off, n);
	fl->off += n;
	return n;
}

static void read_fails(int e, const char *says)
{
	struct failing fl = { .text = V R "10.0.0.2\n", .err = e };
	cookie_io_functions_t io = { .read = failing_read };
	struct config *c = (struct config *)0x1;
	char err[512];
	FILE *f = fopencookie(&fl, "r", io);
	int ret;

	cr_assert(f);
	ret = config_parse(f, "test.conf", &c, err, sizeof(err));
	fclose(f);
	cr_expect_eq(ret, -e, "returned %d", ret);
	cr_expect_eq(c, (struct config *)0x1);
	cr_expect_str_eq(err, says);
}

Test(config_parse, read_error)
{
	read_fails(EIO, "test.conf:3: cannot read: Input/output error");
}

Test(config_parse, out_of_memory_is_no_end)
{
	read_fails(ENOMEM, "test.conf:3: cannot read: Cannot allocate "
		   "memory");
}

/* A value under /proc/sys, as real-setup reads one: the one line, whole. */
static int read_one(const char *text, size_t len, char *buf, size_t buflen,
		    char *err)
{
	char path[] = "/tmp/xdplb-lines-XXXXXX";
	int fd = mkstemp(path), ret;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	ret = lines_read_one(path, buf, buflen, err, 256);
	unlink(path);
	return ret;
}

Test(lines_read_one, value)
{
	char buf[8], err[256];

	cr_expect_eq(read_one("2\n", 2, buf, sizeof(buf), err), 0);
	cr_expect_str_eq(buf, "2");
	cr_expect_eq(read_one("1234567\n", 8, buf, sizeof(buf), err), 0);
	cr_expect_eq(read_one("12345678\n", 9, buf, sizeof(buf), err),
		     -EINVAL, "a value longer than the buffer is no value");
	cr_expect(strstr(err, ":1: a line longer than 7 bytes"), "%s", err);
	cr_expect_eq(read_one("2", 1, buf, sizeof(buf), err), -EINVAL);
	cr_expect_eq(read_one("", 0, buf, sizeof(buf), err), -EINVAL);
	cr_expect(strstr(err, ": empty"), "%s", err);
	cr_expect_eq(read_one("\0\n", 2, buf, sizeof(buf), err), -EINVAL);
	cr_expect_eq(lines_read_one("/nonexistent/x", buf, sizeof(buf), err,
				    sizeof(err)), -ENOENT);
}

/* config_check_wipe: what restore refuses without --remove-all, and the
 * daemon always. */
Test(config_check_wipe, empty_or_all_gone)
{
	struct config *empty, *have, *other, *keeps, *bare;
	char err[256];

	cr_assert_eq(parse("# nothing\n", &empty, err, sizeof(err)), 0);
	cr_assert_eq(parse(V R "10.0.0.2\n" R "10.0.0.3\n"
			   "add-vip 10.0.0.1:81\n"
			   "add-real --vip 10.0.0.1:81 10.0.0.2\n"
			   "add-vip 10.0.0.1:82\n", &have, err, sizeof(err)),
		     0);
	cr_assert_eq(parse("add-vip 10.0.0.9:80\n"
			   "add-real --vip 10.0.0.9:80 10.0.0.2\n", &other,
			   err, sizeof(err)), 0);
	cr_assert_eq(parse("add-vip 10.0.0.1:81\n", &keeps, err,
			   sizeof(err)), 0);
	cr_assert_eq(parse("add-vip 10.0.0.1:82\n", &bare, err, sizeof(err)),
		     0);

	cr_expect_eq(config_check_wipe(empty, NULL, err, sizeof(err)),
		     -ECANCELED);
	cr_expect_str_eq(err, "declares no service");
	cr_expect_eq(config_check_wipe(empty, have, err, sizeof(err)),
		     -ECANCELED);
	cr_expect_eq(config_check_wipe(other, have, err, sizeof(err)),
		     -ECANCELED);
	cr_expect_str_eq(err, "would delete every service that has reals (2 "
			 "services with 3 reals: 10.0.0.1:80/tcp, ...)");
	/* One service with reals kept (its reals may go): no wipe. */
	cr_expect_eq(config_check_wipe(keeps, have, err, sizeof(err)), 0);
	/* Only a service without reals kept: a wipe all the same. */
	cr_expect_eq(config_check_wipe(bare, have, err, sizeof(err)),
		     -ECANCELED);
	/* Nothing serves (a fresh instance): anything goes but nothing. */
	cr_expect_eq(config_check_wipe(other, bare, err, sizeof(err)), 0);
	cr_expect_eq(config_check_wipe(other, NULL, err, sizeof(err)), 0);
	config_free(empty);
	config_free(have);
	config_free(other);
	config_free(keeps);
	config_free(bare);
}

Test(format_secs, shortest_exact)
{
	static const struct {
		__u32 ms;
		const char *s;
	} cases[] = {
		{ 2000, "2" }, { 500, "0.5" }, { 1250, "1.25" },
		{ 10, "0.01" }, { 3599999, "3599.999" }, { 3600000, "3600" },
	};
	char buf[16];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		format_secs(cases[i].ms, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].s, "%u ms", cases[i].ms);
	}
}

/* config_edit over a copy of the configuration text base, with lines;
 * returns its result, the copy's save form in *out (to free). */
static int edit(const char *base, const char *lines, config_line_fn other,
		void *ctx, char **out, int *line, char *err, size_t len)
{
	struct config *c = NULL, *x;
	FILE *f;
	int ret;

	cr_assert_eq(parse(base, &c, err, len), 0, "base: %s", err);
	x = config_copy(c);
	cr_assert(x);
	f = fmemopen((void *)lines, strlen(lines), "r");
	cr_assert(f);
	ret = config_edit(x, f, true, other, ctx, line, err, len);
	fclose(f);
	*out = write_str(x);
	config_free(x);
	config_free(c);
	return ret;
}

static const char base[] =
	"add-vip 10.0.0.1:80 --check tcp\n"
	"add-real --vip 10.0.0.1:80 10.0.0.11 --weight 2\n"
	"add-real --vip 10.0.0.1:80 10.0.0.12\n"
	"add-vip 10.0.0.1:53/udp\n"
	"add-real --vip 10.0.0.1:53/udp 10.0.0.13\n";

/* Each line of the save grammar changes the configuration as the command
 * would an instance, in order. */
Test(config_edit, applies_in_order)
{
	char err[256], *out;
	int line, ret;

	ret = edit(base, "set-real --vip 10.0.0.1:80 10.0.0.12 --weight 5\n"
		   "del-real --vip 10.0.0.1:80 10.0.0.11\n"
		   "# a comment\n\n"
		   "add-real --vip 10.0.0.1:80 10.0.0.11 --weight 7 "
		   "--mac 02:00:00:00:00:0b\n"
		   "set-vip 10.0.0.1:80 --hash src-ip --quorum 2\n"
		   "del-vip 10.0.0.1:53/udp\n"
		   "add-vip [fd00::1]:443\n", NULL, NULL, &out, &line, err,
		   sizeof(err));
	cr_assert_eq(ret, 0, "line %d: %s", line, err);
	cr_expect_str_eq(out,
		"add-vip 10.0.0.1:80/tcp --hash src-ip --check tcp "
		"--quorum 2\n"
		"add-real --vip 10.0.0.1:80/tcp 10.0.0.11 --weight 7 "
		"--mac 02:00:00:00:00:0b\n"
		"add-real --vip 10.0.0.1:80/tcp 10.0.0.12 --weight 5\n"
		"add-vip [fd00::1]:443/tcp\n");
	free(out);
}

/* A bad line: its number and the reason, the same words as the command. */
Test(config_edit, names_the_bad_line)
{
	static const struct {
		const char *lines;
		int line;
		const char *says;
	} wrong[] = {
		{ "add-vip 10.0.0.1:80\n", 1, "VIP 10.0.0.1:80/tcp already "
		  "exists" },
		{ "add-vip 10.0.0.2:80\nadd-vip 10.0.0.2:80\n", 2,
		  "already declared on line 1" },
		{ "\nadd-real --vip 10.0.0.1:80 10.0.0.11\n", 2,
		  "real 10.0.0.11 of VIP 10.0.0.1:80/tcp already exists" },
		{ "set-real --vip 10.0.0.1:80 10.0.0.99 --weight 1\n", 1,
		  "no real 10.0.0.99 in VIP 10.0.0.1:80/tcp" },
		{ "set-real --vip 10.0.0.1:80 10.0.0.11\n", 1,
		  "--weight W is required" },
		{ "set-real --vip 10.0.0.1:80 10.0.0.11 --weight 70000\n", 1,
		  "weight '70000' out of range" },
		{ "del-real --vip 10.0.0.9:80 10.0.0.11\n", 1,
		  "unknown VIP 10.0.0.9:80/tcp" },
		{ "del-vip 10.0.0.9:80\n", 1, "unknown VIP 10.0.0.9:80" },
		{ "del-vip\n", 1, "expected one VIP" },
		{ "set-vip 10.0.0.1:80\n", 1, "nothing to change" },
		{ "set-vip 10.0.0.1:80 --ops\n", 1, "--ops is for UDP" },
		{ "del-real --vip 10.0.0.1:80 10.0.0.11\n"
		  "set-real --vip 10.0.0.1:80 10.0.0.11 --weight 1\n", 2,
		  "no real 10.0.0.11" },
		{ "attach eth0\n", 1, "unknown line 'attach'" },
		{ "add-vip 10.0.0.11:443\n", 1, "real 10.0.0.11 is the "
		  "address of VIP 10.0.0.11:443/tcp (line 1)" },
	};
	char err[256], *out;
	size_t i;
	int line;

	for (i = 0; i < ARRAY_SIZE(wrong); i++) {
		cr_expect_eq(edit(base, wrong[i].lines, NULL, NULL, &out, &line,
				  err, sizeof(err)), -EINVAL, "case %zu", i);
		cr_expect_eq(line, wrong[i].line, "case %zu: line %d (%s)", i,
			     line, err);
		cr_expect(strstr(err, wrong[i].says),
			  "case %zu: '%s' does not say '%s'", i, err,
			  wrong[i].says);
		free(out);
	}
}

/* A line of the caller's own kind goes to its callback; -ENOENT: not its
 * either. */
static int drain(void *ctx, struct config *c, int argc, char **argv,
		 int line, char *err, size_t len)
{
	int i;

	(void)line;
	(void)err;
	(void)len;
	if (strcmp(argv[0], "drain-all") || argc != 1)
		return -ENOENT;
	for (i = 0; i < c->nreals; i++)
		c->reals[i].weight = 0;
	(*(int *)ctx)++;
	return 0;
}

Test(config_edit, other_lines)
{
	char err[256], *out;
	int line, calls = 0;

	cr_expect_eq(edit(base, "drain-all\n", drain, &calls, &out, &line, err,
			  sizeof(err)), 0, "%s", err);
	cr_expect_eq(calls, 1);
	cr_expect(strstr(out, "10.0.0.11 --weight 0\n"), "%s", out);
	free(out);
	cr_expect_eq(edit(base, "drain-some\n", drain, &calls, &out, &line,
			  err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "unknown line 'drain-some'"), "%s", err);
	free(out);
}

/* A copy takes more than 16 elements, and one more after that (the
 * growth rule of the arrays). */
Test(config_edit, copy_grows)
{
	char *text = NULL, *lines = NULL, err[256], *out;
	size_t tl = 0, ll = 0;
	FILE *t = open_memstream(&text, &tl), *l = open_memstream(&lines, &ll);
	int i, line;

	fprintf(t, "add-vip 10.0.0.1:80\n");
	for (i = 0; i < 21; i++)
		fprintf(t, "add-real --vip 10.0.0.1:80 10.0.1.%d\n", i + 1);
	for (i = 0; i < 40; i++)
		fprintf(l, "add-real --vip 10.0.0.1:80 10.0.2.%d\n", i + 1);
	fclose(t);
	fclose(l);
	cr_assert_eq(edit(text, lines, NULL, NULL, &out, &line, err,
			  sizeof(err)), 0, "%s", err);
	cr_expect(strstr(out, "10.0.1.21 --weight 1\nadd-real --vip "
			 "10.0.0.1:80/tcp 10.0.2.1 --weight 1\n"), "%s", out);
	cr_expect(strstr(out, "10.0.2.40 --weight 1\n"), "%s", out);
	free(out);
	free(text);
	free(lines);
}
