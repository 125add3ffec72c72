/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sync.h - load balancers that share what they track (`daemon --sync`).
 *
 * Two load balancers with one configuration place every new flow alike
 * (Maglev), but after a change of reals or weights only the one that
 * tracked a flow knows where it belongs. The daemon sends its peers each
 * flow its instance confirms (the data path notes them in ct_log) within
 * about 100 ms, and again while it is live, often enough that no peer
 * forgets it; it writes what peers send into its own table, on the same
 * real, named by address (real ids differ between load balancers), as a
 * flow learnt from a peer (XDPLB_CT_TAG_PEER), which the data path makes
 * its own at its first packet there.
 *
 * Messages are UDP datagrams of up to SYNC_MAX_FLOWS flows, authenticated
 * with HMAC-SHA256 (libsodium) under a shared key; each carries its
 * sender's random id, a sequence number and the sender's time, and a
 * receiver drops one it has seen, one too old, and anything it cannot
 * verify (counted). Both directions are bounded in rate; a peer that is
 * down costs one datagram now and then. A daemon that starts asks its
 * peers for their whole table first, and says it is ready (sync_ready())
 * once each has sent it, or has not answered within a few seconds.
 */
#ifndef XDPLB_SYNC_H
#define XDPLB_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include "lb.h"

#define SYNC_DEFAULT_PORT	8848	/* as IPVS's sync daemon */
#define SYNC_MAX_PEERS		16

/*
 * The wire: a header, count flows, and an HMAC-SHA256 of both under the
 * shared key; at most SYNC_DGRAM bytes. Everything is in network order
 * except what the connection table itself holds in network order already
 * (a flow's addresses and ports). A flow is sent with its real's address,
 * never its id, and how long it has been idle, never a time: clocks
 * differ.
 */
#define SYNC_MAGIC		0x7873796eu	/* "xsyn" */
#define SYNC_VERSION		1
#define SYNC_DGRAM		1400	/* bytes at most: fits any path */
#define SYNC_MAC_LEN		32

enum {
	SYNC_MSG_FLOWS = 1,	/* flows, tracked and live */
	SYNC_MSG_ASK = 2,	/* send me your table (request id) */
	SYNC_MSG_END = 3,	/* that was all of it (request id) */
};

struct sync_wire_hdr {
	__be32 magic;
	__u8 version;
	__u8 type;
	__be16 count;
	__be64 sender;		/* random, per daemon start */
	__be64 seq;		/* per sender, from 1 */
	__be64 time_ms;		/* the sender's CLOCK_REALTIME */
	__be64 request;		/* ASK, END: which table */
};

struct sync_wire_flow {
	struct xdplb_flow flow;	/* as the table has it */
	struct xdplb_addr real;
	__u8 real_family;
	__u8 pad[3];
	__be32 idle_ms;
};

#define SYNC_MAX_FLOWS	((SYNC_DGRAM - sizeof(struct sync_wire_hdr) - \
			  SYNC_MAC_LEN) / sizeof(struct sync_wire_flow))

struct sync_opts {
	struct sockaddr_storage listen;
	struct sockaddr_storage peer[SYNC_MAX_PEERS];
	int npeers;
	const char *key_file;
	/* Or, key_file NULL, the key itself (at least 32 bytes). */
	const unsigned char *key;
	size_t keylen;
};

/* Counters, for /metrics and the log. */
struct sync_stats {
	__u64 sent;		/* datagrams */
	__u64 sent_flows;
	__u64 received;		/* datagrams verified and taken */
	__u64 received_flows;	/* = applied + unknown_real + full + stale */
	__u64 applied;		/* flows written into the table */
	__u64 unknown_real;	/* flows for a real this instance lacks */
	__u64 full;		/* flows whose set held no room */
	__u64 stale;		/* flows idle beyond their timeout already,
				 * or tracked here (ours says) */
	__u64 rejected;		/* datagrams that failed verification */
	__u64 replayed;		/* datagrams seen before, or too old */
	__u64 dropped;		/* datagrams over the receive rate */
	__u64 notes_lost;	/* ct_log notes overwritten before read */
};

struct sync;

/*
 * Parse ADDR[:PORT] (IPv6 in brackets; PORT default SYNC_DEFAULT_PORT)
 * into sa. 0 or -EINVAL.
 */
int sync_parse_addr(const char *s, struct sockaddr_storage *sa);

/* Read the key (sync_new does), bind, ask the peers for their tables.
 * 0, or -errno with err set to one line. */
int sync_new(struct sync **out, const struct sync_opts *o, char *err,
	     size_t errlen);
void sync_free(struct sync *s);

/* The socket to poll, and the ms until sync_dispatch() has work due. */
int sync_fd(const struct sync *s);
int sync_timeout(const struct sync *s);

/* The instance to read and write (NULL: none now), its configuration
 * applied: flows for reals it lacks are not learnt. The sync keeps its own
 * mappings of its connection table and log; lb must stay open meanwhile.
 * A new instance's table is empty: the peers are asked for theirs again
 * (sync_ready() false until they sent it). */
int sync_attach(struct sync *s, struct lb *lb);
bool sync_attached(const struct sync *s);

/*
 * The table the sync reads and writes, as sync_attach() makes it of an
 * instance: its connection table (sets of XDPLB_CT_WAYS, as the data path
 * has them), its settings (hash seed, timeouts: cfg), and the look-ups of
 * a service (as lb_svc_match()) and of every real (as lb_reals(), into
 * XDPLB_MAX_REALS). sync_attach_table() takes one from elsewhere: no
 * data path notes are read then, the periodic pass and the answers to
 * peers read ct (the fuzzer's table lives in memory).
 */
struct sync_table {
	struct xdplb_conn_set *ct;	/* NULL: none (detach) */
	__u32 sets;			/* a power of two */
	struct xdplb_config cfg;
	int (*svc_match)(void *ctx, const struct xdplb_svc_key *key,
			 struct xdplb_svc *svc);
	int (*reals)(void *ctx, struct xdplb_real *all);
	void *ctx;
};

/* Attach t (copied; ct must outlive it), as sync_attach(). 0, -EINVAL
 * (sets not a power of two, a look-up missing) or -ENOMEM. */
int sync_attach_table(struct sync *s, const struct sync_table *t);

/*
 * One datagram of n bytes from the address from, as it came off the
 * socket (sync_dispatch() takes each so): verified (a peer's, its length,
 * the MAC, the magic and version), refused if seen before, too old or
 * our own, then taken (flows written into the table, if attached; a
 * request for our table noted). Counted in the stats either way: 0
 * (received), -EBADMSG (rejected) or -ESTALE (replayed).
 */
int sync_take(struct sync *s, const void *buf, size_t n,
	      const struct sockaddr_storage *from);

/* The instance's reals changed (a configuration applied): read them now,
 * so that what peers send for a new real is learnt. */
void sync_reals_changed(struct sync *s);

/* Take what came, send what is due. */
void sync_dispatch(struct sync *s);

/* Every peer has sent its table, or has not answered for long enough. */
bool sync_ready(const struct sync *s);

const struct sync_stats *sync_stats(const struct sync *s);

/* The key file's problem, if any: missing, not root's mode 0600, shorter
 * than 32 bytes. 0, or -errno with err set. For the daemon's checks before
 * it starts, and the tests. */
int sync_read_key(const char *file, unsigned char *key, size_t *len,
		  char *err, size_t errlen);

#endif /* XDPLB_SYNC_H */
