// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * release.c - build records: this binary's, a running program's (read from
 * its .rodata through its BTF), and the release table for programs older
 * than the record.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "build_info.h"
#include "json.h"
#include "release.h"
#include "version.h"

static const struct release releases[] = { XDPLB_RELEASES };

#define N_RELEASES (sizeof(releases) / sizeof(releases[0]))

_Static_assert(sizeof(XDPLB_VERSION) <=
	       sizeof(((struct xdplb_build *)0)->version),
	       "XDPLB_VERSION fits the build record");

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void build_self(struct xdplb_build *b)
{
	const char *hex = XDPLB_BPF_DIGEST;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->magic = XDPLB_BUILD_MAGIC;
	b->abi_version = XDPLB_ABI_VERSION;
	snprintf(b->version, sizeof(b->version), "%s", XDPLB_VERSION);
	/* Generated from sha256sum's output: 64 lower-case hex digits. */
	for (i = 0; i < sizeof(b->digest); i++)
		b->digest[i] = hex_digit(hex[2 * i]) << 4 |
			       hex_digit(hex[2 * i + 1]);
}

bool build_is_self(const struct xdplb_build *b)
{
	struct xdplb_build self;

	build_self(&self);
	return b->magic == self.magic && b->abi_version == self.abi_version &&
	       !strncmp(b->version, self.version, sizeof(b->version)) &&
	       !memcmp(b->digest, self.digest, sizeof(b->digest));
}

const struct release *release_by_abi(__u32 abi)
{
	const struct release *r = NULL;
	size_t i;

	for (i = 0; i < N_RELEASES; i++)
		if (releases[i].abi == abi)
			r = &releases[i];
	return r;
}

/*
 * The build record in the .rodata map map_fd, found by name in the
 * map's BTF (a DATASEC): where it lies differs between builds.
 * -ENOENT: this .rodata has none (a program older than the record).
 */
static int rodata_build(int map_fd, const struct bpf_map_info *mi,
			struct xdplb_build *out)
{
	const struct btf_var_secinfo *v;
	const struct btf_type *sec;
	struct btf *btf;
	__u32 zero = 0;
	char *value = NULL;
	int i, err = -ENOENT;

	if (!mi->btf_id || !mi->btf_value_type_id)
		return -ENOENT;
	btf = btf__load_from_kernel_by_id(mi->btf_id);
	if (!btf)
		return -errno;
	sec = btf__type_by_id(btf, mi->btf_value_type_id);
	if (!sec || !btf_is_datasec(sec))
		goto out;
	v = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);

		if (!var || strcmp(btf__name_by_offset(btf, var->name_off),
				   XDPLB_BUILD_VAR))
			continue;
		if (v->size != sizeof(*out) ||
		    (__u64)v->offset + v->size > mi->value_size) {
			err = -EPROTO;
			goto out;
		}
		value = malloc(mi->value_size);
		if (!value) {
			err = -ENOMEM;
			goto out;
		}
		if (bpf_map_lookup_elem(map_fd, &zero, value)) {
			err = -errno;
			goto out;
		}
		memcpy(out, value + v->offset, sizeof(*out));
		err = out->magic == XDPLB_BUILD_MAGIC ? 0 : -EPROTO;
		goto out;
	}
out:
	free(value);
	btf__free(btf);
	return err;
}

/* Look for the build record in every .rodata map program fd uses. */
static int prog_build_record(int fd, struct xdplb_build *out)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[64], i, n;
	int err = -ENOENT;

	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	n = info.nr_map_ids < sizeof(ids) / sizeof(ids[0]) ?
	    info.nr_map_ids : sizeof(ids) / sizeof(ids[0]);
	for (i = 0; i < n && err == -ENOENT; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		const char *dot;
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;	/* freed meanwhile */
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) &&
		    (dot = strrchr(mi.name, '.')) && !strcmp(dot, ".rodata"))
			err = rodata_build(mfd, &mi, out);
		close(mfd);
	}
	return err;
}

int build_of_prog(__u32 prog_id, __u32 abi, struct prog_build *out)
{
	const struct release *r;
	int fd, err;

	memset(out, 0, sizeof(*out));
	fd = bpf_prog_get_fd_by_id(prog_id);
	err = fd < 0 ? -errno : prog_build_record(fd, &out->b);
	if (fd >= 0)
		close(fd);
	if (!err) {
		out->recorded = out->known = true;
		return 0;
	}
	/* No record (a program older than it), or none this process may
	 * read (opening programs and maps by id takes CAP_SYS_ADMIN, which
	 * the exporter drops): the release that made the layout. */
	if (fd < 0 && err == -ENOENT)
		return err;	/* the program is gone */
	memset(&out->b, 0, sizeof(out->b));
	out->b.abi_version = abi;
	r = release_by_abi(abi);
	if (r) {
		snprintf(out->b.version, sizeof(out->b.version), "%s",
			 r->version);
		out->known = true;
	}
	return 0;
}

/* The numbers of "X.Y.Z[-suffix]", and where the suffix starts. */
static const char *version_parts(const char *v, unsigned long n[3])
{
	char *end;
	int i;

	for (i = 0; i < 3; i++) {
		n[i] = strtoul(v, &end, 10);
		v = *end == '.' ? end + 1 : end;
	}
	return v;
}

int version_cmp(const char *a, const char *b)
{
	unsigned long x[3], y[3];
	const char *sa = version_parts(a, x), *sb = version_parts(b, y);
	int i;

	for (i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	/* "0.7.0-rc1" comes before "0.7.0". */
	if (!*sa != !*sb)
		return *sa ? -1 : 1;
	return strcmp(sa, sb);
}

void format_build(const struct prog_build *pb, __u32 id, char *buf,
		  size_t len)
{
	int n = snprintf(buf, len, "%.*s (map ABI %u",
			 (int)sizeof(pb->b.version),
			 pb->known ? pb->b.version : "unknown",
			 pb->b.abi_version);

	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, id ? ", program %u)" : ")", id);
}

void format_digest(const __u8 digest[32], char buf[DIGEST_HEXLEN])
{
	int i;

	for (i = 0; i < 32; i++)
		snprintf(buf + 2 * i, 3, "%02x", digest[i]);
}

void release_json(const char *name, const struct prog_build *b, __u32 id)
{
	char digest[DIGEST_HEXLEN];

	jw_name(name);
	jw_start_object();
	if (b->known)
		jw_kv_string("version", b->b.version);
	jw_kv_uint("abi", b->b.abi_version);
	if (b->recorded) {
		format_digest(b->b.digest, digest);
		jw_kv_string("digest", digest);
	}
	if (id)
		jw_kv_uint("program_id", id);
	jw_end_object();
}
