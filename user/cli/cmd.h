/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cmd.h - the xdplb command's handlers and what they share.
 *
 * Each handler takes its own argv (argv[0] is the command's name), parses
 * all of it before changing anything, and returns the exit status:
 * EXIT_OK, EXIT_FAIL (the command could not be done; nothing changed) or
 * EXIT_USAGE (the command line is wrong).
 */
#ifndef XDPLB_CMD_H
#define XDPLB_CMD_H

#include <stdbool.h>
#include "lb.h"

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2
/* The daemon cannot run the instance it finds (a layout it does not know,
 * or its upgrade failed): its systemd unit does not restart it on this. */
#define EXIT_INSTANCE	3

#define DEFAULT_PIN_DIR	"/sys/fs/bpf/xdplb"

struct options {
	const char *pin_dir;
	const char *command;	/* the command's name, as in the table */
	bool json;
	int verbose;
};

extern struct options opts;

int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_add_vip(int argc, char **argv);
int do_set_vip(int argc, char **argv);
int do_del_vip(int argc, char **argv);
int do_add_real(int argc, char **argv);
int do_set_real(int argc, char **argv);
int do_del_real(int argc, char **argv);
int do_list(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_conns(int argc, char **argv);
int do_flow(int argc, char **argv);
int do_save(int argc, char **argv);
int do_restore(int argc, char **argv);
int do_daemon(int argc, char **argv);
int do_real_setup(int argc, char **argv);
int do_check_real(int argc, char **argv);
int do_exporter(int argc, char **argv);
int do_passwd(int argc, char **argv);
int do_upgrade(int argc, char **argv);
int do_version(int argc, char **argv);
int do_verify(int argc, char **argv);
int do_help(int argc, char **argv);

/* Shared by the handlers (cmd_common.c). */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* How a command opens the instance: to read it, to read it all at once
 * (under the lock: never half of a change), or to change it (under the
 * lock; refused for an instance of an older layout, or of another network
 * namespace). Under the lock, what a change killed on its way left is
 * repaired first, and said in one line on stderr (repair.h). */
enum open_mode {
	OPEN_READ,
	OPEN_READ_LOCKED,
	OPEN_CHANGE,
};

int open_instance(struct lb *lb, enum open_mode mode);
/* Around the writes of a change, with the lock held (repair.h):
 * change_begin() says why it cannot start (-errno: write nothing);
 * change_end() takes the change's result and returns it, and warns when
 * its marker stays behind. */
int change_begin(struct lb *lb);
int change_end(struct lb *lb, int err);
/* Check the pin directory and take its lock (lb_init first). */
int lock_pin_dir(struct lb *lb, const char *dir);
/* Refuse pin dir dir, saying why, when path (dir, or where it is to be
 * made) is not root's alone (pin_dir_trusted). */
int trust_pin_dir(const char *dir, const char *path);
/* Print a parser's message (spec.h) when ret says it failed; ret. */
int spec_report(int ret, const char *err);
int parse_vip_arg(const char *s, struct xdplb_svc_key *key);
int find_service(struct lb *lb, const struct xdplb_svc_key *key,
		 struct xdplb_svc *svc);
int parse_svc_option(int opt, const char *arg, const struct xdplb_svc_key *key,
		     __u32 *flags);
/* A Maglev table size: a prime in XDPLB_MIN..MAX_TABLE_SIZE. */
int parse_table_size(const char *arg, __u32 *size);
const char *svc_hash_name(__u32 flags);

#endif /* XDPLB_CMD_H */
