/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config.h - a load balancer's configuration as data: services with their
 * options and health checks, reals with their weights. It is read from a
 * file of xdplb command lines (`add-vip ...`, `add-real ...`, the grammar
 * of the command line itself, spec.h), taken from a running instance,
 * written back as such lines (`xdplb save`), and applied to an instance as
 * the difference from what runs there (`xdplb restore`, the daemon).
 *
 * The interface attachment is not part of it: one file serves several
 * load balancers. Runtime state is not part of it either: counters,
 * tracked flows and the health state (XDPLB_REAL_F_DOWN) of reals.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef XDPLB_CONFIG_H
#define XDPLB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "lb.h"

/* One service. */
struct config_service {
	struct xdplb_svc_key key;
	__u32 flags;		/* XDPLB_SVC_F_HASH_SRC, XDPLB_SVC_F_OPS */
	__u32 table_size;	/* 0: the instance's default */
	struct xdplb_svc_opts opts;	/* normalized (spec.h) */
	int line;		/* in the file; 0 when from an instance */
};

/* One real of one service. */
struct config_real {
	struct xdplb_svc_key svc;	/* the key of its service */
	struct xdplb_addr addr;
	__u8 family;		/* XDPLB_AF_*, the service's */
	bool mac_manual;	/* --mac given: mac is the real's MAC */
	bool sorry;		/* --sorry: a fallback real */
	__u16 weight;
	__u8 mac[6];		/* mac_manual, or from an instance: its MAC */
	int line;
};

struct config {
	struct config_service *svcs;
	int nsvcs;
	struct config_real *reals;
	int nreals;
};

/* What config_apply changed, and why it failed when it did. The reals
 * of a removed service count as removed. */
struct config_diff {
	int svcs_added, svcs_removed, svcs_changed;
	int reals_added, reals_removed, reals_changed;
	char error[256];	/* set when config_apply fails */
	int line;		/* and the line of want it names, 0: none */
};

/*
 * Limits of a configuration file, far above what any configuration xdplb
 * can hold needs, so that only garbage reaches them: the longest line save
 * writes is about 1.1 KiB (an add-vip with the longest exec check, every
 * character a quote to escape), the largest file about 4 MiB (1024 such
 * services and 16384 reals of at most 150 bytes); the rest is room for
 * comments.
 */
#define CONFIG_MAX_LINE		4096
#define CONFIG_MAX_BYTES	(16u << 20)

/*
 * Read a configuration file: add-vip and add-real lines (options as on the
 * command line), '#' comments, blank lines; words may be quoted as in the
 * shell ('...', "...", \). The file must be text (lines.h: no NUL or
 * control byte but tab, a newline at the end, CONFIG_MAX_LINE and
 * CONFIG_MAX_BYTES at most) and every line is checked: a real's VIP must
 * be declared by an earlier line, nothing may be declared twice. On a bad
 * line: -EINVAL with "NAME:LINE: message" in err, and *out untouched; a
 * read error is its negative errno, with the same kind of message.
 */
int config_parse(FILE *f, const char *name, struct config **out, char *err,
		 size_t errlen);

/* A line config_edit does not know, split into words: 0 when done (c
 * changed as it says), -ENOENT when not one of the callback's either,
 * another value with the message in err when it is wrong. */
typedef int (*config_line_fn)(void *ctx, struct config *c, int argc,
			      char **argv, int line, char *err, size_t errlen);

/*
 * Apply the lines of f to c in order, as the commands they name would
 * change an instance: add-vip and add-real lines, and with edit also
 * set-vip (the options given, over the service's), del-vip (with its
 * reals), set-real (--weight) and del-real; lines of other kinds go to
 * other (may be NULL). f must be text as for config_parse (lines.h).
 * What c held before is said to "already exist"
 * (its line numbers become 0). On a bad line: -EINVAL, the message in
 * err (no file name) and the line in *errline (0: not one line's
 * fault); c is then partly changed, so edit a copy (config_copy).
 */
int config_edit(struct config *c, FILE *f, bool edit, config_line_fn other,
		void *ctx, int *errline, char *err, size_t errlen);

/* A copy of c that config_edit can change; NULL when out of memory. */
struct config *config_copy(const struct config *c);

/* The configuration running on lb: services in `list` order, the reals
 * of each by address, table sizes equal to the instance's default as 0. */
int config_from_lb(struct lb *lb, struct config **out);

/*
 * Write c as lines config_parse reads (the lines of `xdplb save`):
 * services in `list` order, each followed by its reals by address;
 * options only where they are not the default, --mac only for reals given
 * one by hand, --weight always.
 */
int config_write(FILE *f, const struct config *c);

/* config_apply's flags. */
enum {
	/* A new real of a service whose reals can be checked
	 * (svc_opts_checks_reals) is added down (XDPLB_REAL_F_DOWN), so it
	 * takes no flow before its caller's first check has passed: for the
	 * daemon, which checks them. Without it new reals are added up, as
	 * `restore` wants with no checker to bring them up. */
	CONFIG_APPLY_NEW_DOWN = 1 << 0,
	/* Refuse what config_check_wipe() calls a wipe: -ECANCELED. */
	CONFIG_APPLY_NO_WIPE = 1 << 1,
	/* With NO_WIPE: a configuration that declares no service is no
	 * wipe of an instance that has no real (nothing it serves is lost),
	 * for a daemon whose console builds the configuration from an
	 * empty file; without it, an empty file is refused all the same
	 * (what a crash or a full disk leaves). */
	CONFIG_APPLY_EMPTY_IF_IDLE = 1 << 2,
};

/*
 * Would want wipe out an instance that runs have (NULL: not known)? It
 * would when it declares no service, or when it would delete every
 * service of have that has reals (if one has): what an empty, cut-off or
 * wrong file does. -ECANCELED with why in err ("declares no service",
 * "would delete every service that has reals (...)"), else 0.
 */
int config_check_wipe(const struct config *want, const struct config *have,
		      char *err, size_t errlen);

/*
 * Make lb's configuration what want says, changing only what differs:
 * services and reals not in want are deleted, new ones added, changed
 * ones changed in place (a service keeps its reals, counters and tracked
 * flows; a real its flows and its health state), and each service whose
 * reals or quorum changed gets one new Maglev table at the end. Applying
 * what runs changes nothing at all. MACs of new reals without --mac are
 * resolved first (neighbour table, ARP or ND), so an unresolvable real
 * changes nothing, and so does a new real that config_check_real refuses
 * (out->line names its line). New reals are up unless flags
 * (CONFIG_APPLY_*) say otherwise. When a step fails, what was done is
 * undone as far as it can be, and out->error says what failed.
 * Take the pin directory's lock (lb_lock_dir) around it.
 */
int config_apply(struct lb *lb, const struct config *want,
		 unsigned int flags, struct config_diff *out);

void config_free(struct config *c);

/* The counts of d as the fields "services" and "reals" of the JSON
 * object being written (json.h), each {"added","removed","changed"}. */
void config_diff_json(const struct config_diff *d);

/*
 * The MAC of real addr on lb's interface, as add-real finds it: the
 * neighbour table, else an ARP or ND exchange (up to 3 s). On failure
 * err says why, naming the real and the interface.
 */
int config_resolve_mac(struct lb *lb, __u8 family,
		       const struct xdplb_addr *addr, __u8 mac[6], char *err,
		       size_t errlen);

/*
 * Can addr be a new real of lb's instance, as this host sees it? Not one
 * of its own addresses (addrs: host_addrs(), VIPs on its interfaces
 * included), and reached directly on the instance's interface (a
 * unicast route there without a gateway, or a neighbour entry there):
 * not through a gateway or another interface, not a broadcast address.
 * 0, or -EINVAL with err saying what is wrong, naming the real.
 */
struct host_addr;
int config_check_real(struct lb *lb, const struct host_addr *addrs,
		      int naddrs, __u8 family, const struct xdplb_addr *addr,
		      char *err, size_t errlen);

#endif /* XDPLB_CONFIG_H */
