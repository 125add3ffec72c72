/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * spec.h - the grammar of service and real lines, shared by the command
 * line (add-vip, set-vip, add-real, set-real, del-real) and configuration
 * files (config.c): a line of a configuration file is a command line.
 *
 * Parsers neither print nor touch an instance. They return 0, EXIT_FAIL (a
 * value is wrong) or EXIT_USAGE (the line is malformed), with the message
 * in err. Health-check options are kept in a service's svc_opts in one
 * canonical form (svc_opts_normalize), so that two equal configurations
 * compare equal byte for byte.
 */
#ifndef XDPLB_SPEC_H
#define XDPLB_SPEC_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include "addr.h"
#include "xdplb.h"

#define SPEC_ERRLEN	256

/*
 * SEC: the seconds of check --interval and --timeout and of stats
 * --interval, fractions allowed. The range as doc/xdplb.8.md gives it
 * (a unit test holds the page to it).
 */
#define SPEC_MIN_SECS_MS	10
#define SPEC_MAX_SECS_MS	3600000
#define SPEC_SECS_RANGE		"0.01..3600"
/* Whole seconds of attach's --tcp-timeout and --udp-timeout. */
#define SPEC_MAX_FLOW_TIMEOUT	(7 * 86400)

/* Limits of the other health-check options. */
#define SPEC_MAX_RISE_FALL	1000
#define SPEC_MIN_HTTP_STATUS	100
#define SPEC_MAX_HTTP_STATUS	599

/* What an add-vip or set-vip line gives (vip_spec.given). */
enum {
	VIP_HASH	= 1 << 0,
	VIP_OPS		= 1 << 1,
	VIP_NO_OPS	= 1 << 2,
	VIP_TABLE	= 1 << 3,
	VIP_CHECK	= 1 << 4,
	VIP_INTERVAL	= 1 << 5,
	VIP_TIMEOUT	= 1 << 6,
	VIP_RISE	= 1 << 7,
	VIP_FALL	= 1 << 8,
	VIP_QUORUM	= 1 << 9,
};

/* add-vip/set-vip VIP [options], as given: only the fields named in given
 * mean anything. */
struct vip_spec {
	struct xdplb_svc_key key;
	unsigned int given;		/* VIP_* */
	__u32 flags;			/* XDPLB_SVC_F_HASH_SRC, _OPS */
	__u32 table_size;
	struct xdplb_svc_opts opts;
	char vip[ADDR_STRLEN];
};

/* set: the set-vip grammar (--no-ops, and something to change). */
int vip_spec_parse(int argc, char **argv, bool set, struct vip_spec *v,
		   char *err, size_t errlen);

/*
 * Apply a parsed line to a service's flags, table size (0: the instance
 * default) and options: the defaults for add-vip, the service's own for
 * set-vip. Checks what only the whole can tell (a timeout longer than the
 * interval, check timings without a check). opts comes out normalized.
 */
int vip_spec_merge(const struct vip_spec *v, __u32 *flags, __u32 *table_size,
		   struct xdplb_svc_opts *opts, char *err, size_t errlen);

/*
 * getopt_long over argv with our own messages (opterr off: getopt's would
 * be a second line). Returns the option, or -1 at the end, or EXIT_USAGE
 * (negated, so it cannot be an option) with the message in err. Reset
 * optind to 0 before the first call.
 */
int spec_getopt(int argc, char **argv, const struct option *longopts,
		char *err, size_t len);
/* The global options, before the command: getopt's short ones ('+':
 * they stop at the command) and the long ones. */
#define GLOBAL_SHORT_OPTS	"+jvVh"
extern const struct option global_opts[];

/* The same with short options too (getopt's optstring; '+' first stops
 * at the first word that is not an option), messages prefixed with
 * "WHO: " (NULL: nothing). */
int spec_getopt_from(int argc, char **argv, const char *shortopts,
		     const struct option *longopts, const char *who,
		     char *err, size_t len);

/* SEC (above) to milliseconds; name names it in the message. */
int spec_secs(const char *name, const char *s, __u32 *ms, char *err,
	      size_t len);

/* VIP := ADDR:PORT[/tcp|/udp] */
int spec_vip(const char *s, struct xdplb_svc_key *key, char *err, size_t len);

/* One option each, shared with attach: --hash MODE, --ops, --table-size
 * PRIME (a prime in XDPLB_MIN..MAX_TABLE_SIZE). */
int spec_hash_mode(const char *arg, __u32 *flags, char *err, size_t len);
int spec_ops(const struct xdplb_svc_key *key, __u32 *flags, char *err,
	     size_t len);
int spec_table_size(const char *arg, __u32 *size, char *err, size_t len);

/* What the add-real, set-real and del-real lines may carry. REAL_NEW: the
 * line adds the real, whose address must then be one a host can have
 * (addr_not_host) and not the VIP's own; set-real and del-real take any,
 * so that a real added before these checks can still be removed. */
enum { REAL_WEIGHT = 1, REAL_MAC = 2, REAL_SORRY = 4, REAL_NEW = 8 };

/* --vip VIP REAL [--weight W] [--mac MAC] [--sorry], as given. */
struct real_spec {
	struct xdplb_svc_key key;
	struct xdplb_addr addr;
	__u8 family;
	bool has_weight, has_mac, sorry;
	__u16 weight;			/* XDPLB_DEFAULT_WEIGHT unless given */
	__u8 mac[6];
	char vip[ADDR_STRLEN];
	char real[ADDR_STRLEN];
};

/* allow: REAL_* options the command takes. */
int real_spec_parse(int argc, char **argv, int allow, struct real_spec *r,
		    char *err, size_t errlen);

/* Service options with nothing set: no check, default timings, quorum. */
void svc_opts_default(struct xdplb_svc_opts *o);
/* The canonical form: defaults where 0, nothing a check does not use. */
void svc_opts_normalize(struct xdplb_svc_opts *o);
bool svc_opts_equal(const struct xdplb_svc_opts *a,
		    const struct xdplb_svc_opts *b);
/* Can the daemon check the reals of this service? It has a check, and a
 * port to check unless the check is exec: a port-0 service (every port)
 * gives tcp and http checks nowhere to connect. */
bool svc_opts_checks_reals(const struct xdplb_svc_key *key,
			   const struct xdplb_svc_opts *o);

/* --check's argument: "none", "tcp", "http:/path[:STATUS]" (the status
 * only when not the default), "exec:COMMAND". */
void format_check(const struct xdplb_svc_opts *o, char *buf, size_t len);
/* The same for what is served over HTTP: an exec check is "exec", without
 * its command line, which may hold secrets (root's own `list` and `save`
 * show it). */
void format_check_redacted(const struct xdplb_svc_opts *o, char *buf,
			   size_t len);
/* Milliseconds as seconds, as short as exact: "2", "0.5", "1.25". */
void format_secs(__u32 ms, char *buf, size_t len);

#endif /* XDPLB_SPEC_H */
