/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * release.h - which build this binary is, which build a running program
 * is, and the releases before them (RELEASES).
 *
 * Every program this binary loads carries its build record (struct
 * xdplb_build: version, map ABI, SHA-256 of the BPF object) in its .rodata;
 * release_of_prog() reads it back from a running program through the
 * program's BTF. A program older than the record (release 0.6.0) is named
 * by its layout: the release table says which release made that layout.
 */
#ifndef XDPLB_RELEASE_H
#define XDPLB_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include "xdplb.h"

#define DIGEST_HEXLEN	65	/* 64 hex digits and a NUL */

/* A release of the table. */
struct release {
	const char *version;
	const char *commit;
	__u32 abi;
};

/* This binary's build record, as written into every program it loads. */
void build_self(struct xdplb_build *b);

/* The newest release of the table that made layout abi; NULL: none. */
const struct release *release_by_abi(__u32 abi);

/* The build of a running program. */
struct prog_build {
	struct xdplb_build b;	/* digest all zero when not recorded */
	bool recorded;		/* read from the program itself */
	bool known;		/* recorded, or named by the release table */
};

/*
 * The build record of program prog_id, or (for a program without one, or
 * when this process may not read it: opening a program by id takes
 * CAP_SYS_ADMIN) what the release table says of layout abi, the layout of
 * the instance it serves. 0 or -errno (the program is gone).
 */
int build_of_prog(__u32 prog_id, __u32 abi, struct prog_build *out);

/* Is b this binary's own build (same version, layout and object)? */
bool build_is_self(const struct xdplb_build *b);

/* Compare two X.Y.Z versions numerically (a suffix after a '-' sorts
 * before the plain version, as in semver): <0, 0, >0. */
int version_cmp(const char *a, const char *b);

/* "0.7.0 (map ABI 7)", with id "0.7.0 (map ABI 7, program 57)"; a
 * program neither records nor the release table names: "unknown". */
void format_build(const struct prog_build *pb, __u32 id, char *buf,
		  size_t len);
void format_digest(const __u8 digest[32], char buf[DIGEST_HEXLEN]);
/* "name": {"version", "abi", "digest", "program_id"} (what is known; id 0:
 * none). */
void release_json(const char *name, const struct prog_build *b, __u32 id);

#endif /* XDPLB_RELEASE_H */
