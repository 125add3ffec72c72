// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sync.c - sharing tracked flows with peers (sync.h).
 *
 * The wire is described in sync.h.
 *
 * The table is written as the data path writes it (xdplb.h): a way is
 * claimed with a compare-and-swap of the set's tags (BUSY in it), filled,
 * then given its tag with a release store. A flow this load balancer
 * sees itself (PEER clear) is never overwritten by what a peer says.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "addr.h"
#include "sync.h"
#include "xdplb_hash.h"

#define SYNC_TICK_MS		50	/* notes read, batches sent */
#define SYNC_SEND_PPS		2000	/* datagrams a second, all peers */
#define SYNC_RECV_TICK		200	/* datagrams taken per tick */
#define SYNC_SKEW_MS		30000	/* a sender's clock from ours */
#define SYNC_ASK_MS		1000	/* a table is asked for again */
#define SYNC_WAIT_MS		5000	/* a silent peer is given up */
#define SYNC_DUMP_SETS		32768	/* sets of a table sent per tick */
#define SYNC_SENDERS		64	/* senders whose sequence is kept */
#define SYNC_REALS_MS		1000	/* reals read again */
#define SYNC_KEY_MAX		1024

#define MAC_LEN		SYNC_MAC_LEN

_Static_assert(SYNC_MAC_LEN == crypto_auth_hmacsha256_BYTES, "MAC");
_Static_assert(sizeof(struct sync_wire_hdr) == 40, "wire_hdr");
_Static_assert(sizeof(struct sync_wire_flow) == 64, "wire_flow");
_Static_assert(SYNC_MAX_FLOWS == 20, "flows in a datagram");

struct batch {
	struct sync_wire_flow f[SYNC_MAX_FLOWS];
	int n;
};

struct peer {
	struct sockaddr_storage sa;
	socklen_t salen;
	/* Its table, asked for at start. */
	__u64 ask_id;
	__u64 first_ms;		/* first asked: the wait starts */
	__u64 asked_ms;		/* last asked */
	__u64 heard_ms;		/* last part of its answer, 0 none */
	bool done;		/* it said SYNC_MSG_END */
	/* Ours, while it asks for it. */
	bool dumping;
	__u64 dump_id;		/* the request being, or last, answered */
	__u32 dump_pos;
	struct batch dump;
};

/* What a sender has sent, for replays. */
struct sender {
	__u64 id;
	__u64 top;		/* highest sequence number taken */
	__u64 window;		/* bit n: top - n taken */
	__u64 used_ms;
};

/* Reals by (service, address): for the flows peers send. */
struct real_slot {
	__u32 id;		/* + 1; 0: empty */
};

#define REAL_SLOTS	(2 * XDPLB_MAX_REALS)

struct sync {
	int fd;
	unsigned char key[SYNC_KEY_MAX];
	size_t keylen;
	__u64 me, seq;
	struct peer peer[SYNC_MAX_PEERS];
	int npeers;
	struct sender senders[SYNC_SENDERS];
	__u64 start_ms, next_ms;
	double tokens;
	__u64 tokens_ms;
	struct batch out;
	struct sync_stats st;
	/* The table flows are read from and written to (tbl.ct NULL: none),
	 * and the instance it is of (NULL: a table given by
	 * sync_attach_table()). ct_len: the mapping of tbl.ct, if ours. */
	struct sync_table tbl;
	struct lb *lb;
	size_t ct_len;
	const struct xdplb_ct_note *log;
	size_t log_len;
	int ncpus;
	__u64 *log_pos;
	struct xdplb_ct_guard *guards;
	__u32 scan_pos;
	struct xdplb_real *reals;
	struct real_slot *real_index;
	__u64 reals_ms;
};

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __u64 real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Now in the connection table's ticks, and ms as ticks (xdplb.h). */
static __u32 ticks_now(void)
{
	return lb_now_ns() >> XDPLB_CT_TICK_SHIFT;
}

static __u32 ms_ticks(__u64 ms)
{
	return XDPLB_CT_TICKS(ms * 1000000ull);
}

static __u64 ticks_ms(__u32 t)
{
	return ((__u64)t << XDPLB_CT_TICK_SHIFT) / 1000000ull;
}

/* Addresses ------------------------------------------------------------- */

int sync_parse_addr(const char *s, struct sockaddr_storage *sa)
{
	return parse_sockaddr(s, SYNC_DEFAULT_PORT, sa, NULL);
}

static socklen_t sa_len(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					    sizeof(struct sockaddr_in);
}

static bool sa_equal(const struct sockaddr_storage *a,
		     const struct sockaddr_storage *b)
{
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, 16);
}

/* The key ----------------------------------------------------------------- */

int sync_read_key(const char *file, unsigned char *key, size_t *len,
		  char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		n = -errno;
		snprintf(err, errlen, "cannot open sync key '%s': %s", file,
			 strerror(errno));
		return n;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077)) {
		snprintf(err, errlen, "sync key '%s' must be a file of root's "
			 "that only root may read (mode 0600)", file);
		close(fd);
		return -EPERM;
	}
	n = read(fd, key, SYNC_KEY_MAX);
	close(fd);
	if (n < 0) {
		n = -errno;
		snprintf(err, errlen, "cannot read sync key '%s': %s", file,
			 strerror(-n));
		return n;
	}
	if (n == SYNC_KEY_MAX) {
		snprintf(err, errlen, "sync key '%s' is longer than %d bytes",
			 file, SYNC_KEY_MAX - 1);
		return -E2BIG;
	}
	if (n > 0 && key[n - 1] == '\n')
		n--;
	if (n < 32) {
		snprintf(err, errlen, "sync key '%s' has %zd bytes, at least "
			 "32 are needed (e.g. 64 hexadecimal characters)",
			 file, n);
		return -EINVAL;
	}
	*len = n;
	return 0;
}

static void mac(const struct sync *s, const void *buf, size_t len,
		unsigned char out[MAC_LEN])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, s->key, s->keylen);
	crypto_auth_hmacsha256_update(&st, buf, len);
	crypto_auth_hmacsha256_final(&st, out);
}

/* Sending ----------------------------------------------------------------- */

/* A token of the send rate; false when there is none now. */
static bool token(struct sync *s)
{
	__u64 now = mono_ms();

	s->tokens += (now - s->tokens_ms) * (SYNC_SEND_PPS / 1000.0);
	if (s->tokens > SYNC_SEND_PPS / 10.0)
		s->tokens = SYNC_SEND_PPS / 10.0;	/* a burst of 100 ms */
	s->tokens_ms = now;
	if (s->tokens < 1)
		return false;
	s->tokens -= 1;
	return true;
}

/* Send a message to one peer: false when the rate allows none now. */
static bool send_msg(struct sync *s, struct peer *p, int type, __u64 request,
		     const struct batch *b)
{
	unsigned char buf[SYNC_DGRAM];
	struct sync_wire_hdr *h = (void *)buf;
	size_t n = b ? (size_t)b->n : 0, len;

	if (!token(s))
		return false;
	memset(h, 0, sizeof(*h));
	h->magic = htonl(SYNC_MAGIC);
	h->version = SYNC_VERSION;
	h->type = type;
	h->count = htons(n);
	h->sender = htobe64(s->me);
	h->seq = htobe64(++s->seq);
	h->time_ms = htobe64(real_ms());
	h->request = htobe64(request);
	len = sizeof(*h);
	if (n) {
		memcpy(buf + len, b->f, n * sizeof(b->f[0]));
		len += n * sizeof(b->f[0]);
	}
	mac(s, buf, len, buf + len);
	len += MAC_LEN;
	/* A peer that is down: the datagram is lost, nothing waits. */
	if (sendto(s->fd, buf, len, MSG_DONTWAIT, (void *)&p->sa, p->salen) >=
	    0) {
		s->st.sent++;
		s->st.sent_flows += n;
	}
	return true;
}

/* The batch of flows for every peer, sent when full (or at the end of a
 * tick); false when the rate allowed it to none. */
static bool flush(struct sync *s)
{
	bool any = false;
	int i;

	if (!s->out.n)
		return true;
	for (i = 0; i < s->npeers; i++)
		any |= send_msg(s, &s->peer[i], SYNC_MSG_FLOWS, 0, &s->out);
	if (any || !s->npeers)
		s->out.n = 0;
	return any;
}

/* The table -------------------------------------------------------------- */

static void reals_index(struct sync *s)
{
	int i;

	memset(s->real_index, 0, REAL_SLOTS * sizeof(*s->real_index));
	for (i = 0; i < XDPLB_MAX_REALS; i++) {
		const struct xdplb_real *r = &s->reals[i];
		__u32 h;

		if (!(r->flags & XDPLB_REAL_F_USED))
			continue;
		h = xdplb_hash_final(xdplb_hash_round(
			xdplb_hash_round(r->svc_id, r->addr.v6[0] ^
					 r->addr.v6[3]),
			r->addr.v6[1] ^ r->addr.v6[2]), r->family);
		while (s->real_index[h % REAL_SLOTS].id)
			h++;
		s->real_index[h % REAL_SLOTS].id = i + 1;
	}
}

static void reals_read(struct sync *s, bool now)
{
	__u64 t = mono_ms();

	if (!s->tbl.ct || (!now && t - s->reals_ms < SYNC_REALS_MS))
		return;
	if (!s->tbl.reals(s->tbl.ctx, s->reals))
		reals_index(s);
	s->reals_ms = t;
}

/* Real id of service svc_id at addr, -1 if it has none there. */
static int real_of(const struct sync *s, __u32 svc_id,
		   const struct xdplb_addr *addr, __u8 family)
{
	__u32 h = xdplb_hash_final(xdplb_hash_round(
		xdplb_hash_round(svc_id, addr->v6[0] ^ addr->v6[3]),
		addr->v6[1] ^ addr->v6[2]), family);
	__u32 k;

	for (k = 0; k < REAL_SLOTS; k++, h++) {
		__u32 id = s->real_index[h % REAL_SLOTS].id;
		const struct xdplb_real *r;

		if (!id)
			return -1;
		r = &s->reals[id - 1];
		if (r->svc_id == svc_id && r->family == family &&
		    addr_equal(&r->addr, addr))
			return id - 1;
	}
	return -1;
}

static __u32 timeout_ticks(const struct sync *s, __u16 tag)
{
	__u32 secs = tag & XDPLB_CT_TAG_UDP ? s->tbl.cfg.udp_timeout :
					       s->tbl.cfg.tcp_timeout;

	return XDPLB_CT_TICKS(secs * 1000000000ull);
}

/* The way w of set idx, for sending: a live flow this load balancer
 * tracks itself (confirmed, not a peer's), read between two reads of its
 * tag. want: the tag it must have (0: any such). */
static bool way_flow(struct sync *s, __u32 idx, int w, __u16 want,
		     __u32 max_idle, struct sync_wire_flow *out)
{
	const struct xdplb_conn_set *set = &s->tbl.ct[idx];
	__u16 tag = __atomic_load_n(&set->tag[w], __ATOMIC_ACQUIRE);
	__u32 now = ticks_now(), id, last;
	const struct xdplb_real *r;

	if ((want && tag != want) || !(tag & XDPLB_CT_TAG_USED) ||
	    (tag & XDPLB_CT_TAG_STATE) != XDPLB_CT_TAG_CONFIRMED)
		return false;
	memset(out, 0, sizeof(*out));
	out->flow = set->flow[w];
	id = set->real_id[w];
	last = set->last_seen[w];
	if (__atomic_load_n(&set->tag[w], __ATOMIC_ACQUIRE) != tag ||
	    id >= XDPLB_MAX_REALS)
		return false;
	r = &s->reals[id];
	if (!(r->flags & XDPLB_REAL_F_USED) || r->gen != set->real_gen[w] ||
	    !lb_ct_fresh(now, last, max_idle))
		return false;
	out->real = r->addr;
	out->real_family = r->family;
	out->idle_ms = htonl((__s32)(now - last) > 0 ?
			     (__u32)ticks_ms(now - last) : 0);
	return true;
}

/* Notes the data path left since the last tick: flows to send now. */
static void read_notes(struct sync *s)
{
	__u32 zero = 0;
	int cpu;

	if (bpf_map_lookup_elem(s->lb->ct_guard_fd, &zero, s->guards))
		return;
	for (cpu = 0; cpu < s->ncpus; cpu++) {
		__u64 head = s->guards[cpu].log_head, *pos = &s->log_pos[cpu];

		if (head - *pos > XDPLB_CT_LOG_SLOTS) {
			s->st.notes_lost += head - *pos - XDPLB_CT_LOG_SLOTS;
			*pos = head - XDPLB_CT_LOG_SLOTS;
		}
		for (; *pos < head; (*pos)++) {
			__u64 raw = __atomic_load_n((const __u64 *)&s->log[
				(size_t)cpu * XDPLB_CT_LOG_SLOTS +
				(*pos & (XDPLB_CT_LOG_SLOTS - 1))],
				__ATOMIC_ACQUIRE);
			struct xdplb_ct_note note;

			memcpy(&note, &raw, sizeof(note));
			if (s->out.n == (int)SYNC_MAX_FLOWS && !flush(s))
				return;	/* the rate: the rest next tick */
			if (note.set < s->tbl.sets && note.way < XDPLB_CT_WAYS &&
			    way_flow(s, note.set, note.way, note.tag,
				     timeout_ticks(s, note.tag),
				     &s->out.f[s->out.n]))
				s->out.n++;
		}
	}
}

/*
 * The refresh: a slice of the table each tick, the whole every
 * min(timeouts) / 4, sending the flows used since the last pass (those
 * idle longer idle out at the peers as they do here).
 */
static void refresh(struct sync *s)
{
	__u32 secs = s->tbl.cfg.udp_timeout < s->tbl.cfg.tcp_timeout ?
		     s->tbl.cfg.udp_timeout : s->tbl.cfg.tcp_timeout;
	__u64 period_ms = secs * 1000ull / 4;
	__u32 n, i;
	int w;

	if (period_ms < 1000)
		period_ms = 1000;
	n = (__u64)s->tbl.sets * SYNC_TICK_MS / period_ms + 1;
	for (i = 0; i < n && i < s->tbl.sets; i++) {
		__u32 idx = s->scan_pos++ % s->tbl.sets;

		for (w = 0; w < XDPLB_CT_WAYS; w++) {
			if (s->out.n == (int)SYNC_MAX_FLOWS && !flush(s))
				return;
			if (way_flow(s, idx, w, 0, ms_ticks(period_ms),
				     &s->out.f[s->out.n]))
				s->out.n++;
		}
	}
}

/* Our table to a peer that asked: a part each tick, then SYNC_MSG_END. */
static void dump(struct sync *s, struct peer *p)
{
	__u32 n;
	int w;

	for (n = 0; s->tbl.ct && n < SYNC_DUMP_SETS && p->dump_pos < s->tbl.sets;
	     n++, p->dump_pos++) {
		for (w = 0; w < XDPLB_CT_WAYS; w++) {
			if (p->dump.n == (int)SYNC_MAX_FLOWS) {
				if (!send_msg(s, p, SYNC_MSG_FLOWS, p->dump_id,
					      &p->dump))
					return;
				p->dump.n = 0;
			}
			if (way_flow(s, p->dump_pos, w, 0,
				     timeout_ticks(s, XDPLB_CT_TAG_UDP) >
				     timeout_ticks(s, 0) ?
				     timeout_ticks(s, XDPLB_CT_TAG_UDP) :
				     timeout_ticks(s, 0),
				     &p->dump.f[p->dump.n]))
				p->dump.n++;
		}
	}
	if (s->tbl.ct && p->dump_pos < s->tbl.sets)
		return;
	if (p->dump.n && !send_msg(s, p, SYNC_MSG_FLOWS, p->dump_id, &p->dump))
		return;
	p->dump.n = 0;
	if (send_msg(s, p, SYNC_MSG_END, p->dump_id, NULL))
		p->dumping = false;
}

static bool flow_equal(const struct xdplb_flow *a, const struct xdplb_flow *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Write a flow a peer tracks into the table, as the data path writes. */
static void apply(struct sync *s, const struct sync_wire_flow *f)
{
	struct xdplb_svc_key key = {
		.addr = f->flow.dst, .port = f->flow.dport,
		.proto = f->flow.proto, .family = f->flow.family,
	};
	__u32 idle = ms_ticks(ntohl(f->idle_ms)), now = ticks_now(), hash;
	__u32 last = now - idle, idx, timeout;
	struct xdplb_conn_set *set;
	struct xdplb_svc svc;
	__u16 tag, want;
	int id, w, tries;

	if (s->tbl.svc_match(s->tbl.ctx, &key, &svc)) {
		s->st.unknown_real++;	/* no service: no such real */
		return;
	}
	id = real_of(s, svc.id, &f->real, f->real_family);
	if (id < 0) {
		reals_read(s, false);
		id = real_of(s, svc.id, &f->real, f->real_family);
	}
	if (id < 0) {
		s->st.unknown_real++;
		return;
	}
	hash = xdplb_flow_hash(&f->flow, s->tbl.cfg.hash_seed);
	idx = hash & (s->tbl.sets - 1);
	want = xdplb_ct_tag(hash, f->flow.proto);
	timeout = timeout_ticks(s, want);
	if (idle > timeout) {
		s->st.stale++;	/* idled out at the peer already */
		return;
	}
	set = &s->tbl.ct[idx];
	tag = want | XDPLB_CT_TAG_CONFIRMED | XDPLB_CT_TAG_PEER;

	for (tries = 0; tries < 4; tries++) {
		__u64 tags = __atomic_load_n(&set->tags, __ATOMIC_ACQUIRE);
		int victim = -1, lru = -1, mine = -1;
		__u32 oldest = 0;

		for (w = 0; w < XDPLB_CT_WAYS; w++) {
			__u16 t = tags >> (16 * w);
			const struct xdplb_real *r;

			if (!(t & XDPLB_CT_TAG_USED)) {
				if (!t && victim < 0)
					victim = w;
				continue;
			}
			if ((t & XDPLB_CT_TAG_KEY) == want &&
			    flow_equal(&set->flow[w], &f->flow)) {
				mine = w;
				break;
			}
			r = set->real_id[w] < XDPLB_MAX_REALS ?
			    &s->reals[set->real_id[w]] : NULL;
			if (!lb_ct_fresh(now, set->last_seen[w],
					 timeout_ticks(s, t)) || !r ||
			    !(r->flags & XDPLB_REAL_F_USED) ||
			    r->gen != set->real_gen[w]) {
				if (victim < 0)
					victim = w;
				continue;
			}
			if (!(t & XDPLB_CT_TAG_CONFIRMED) &&
			    (__s32)(now - set->last_seen[w]) > 0 &&
			    (lru < 0 || now - set->last_seen[w] > oldest)) {
				oldest = now - set->last_seen[w];
				lru = w;
			}
		}
		if (mine >= 0) {
			__u16 t = tags >> (16 * mine);

			if (!(t & XDPLB_CT_TAG_PEER)) {
				s->st.stale++;	/* seen here: ours says */
				return;
			}
			if (set->real_id[mine] == (__u32)id &&
			    set->real_gen[mine] == s->reals[id].gen) {
				if ((__s32)(last - set->last_seen[mine]) > 0)
					__atomic_store_n(&set->last_seen[mine],
							 last,
							 __ATOMIC_RELAXED);
				s->st.applied++;
				return;
			}
			victim = mine;	/* the peer moved it: rewrite */
		}
		if (victim < 0)
			victim = lru;
		if (victim < 0) {
			s->st.full++;
			return;
		}
		{
			__u64 busy = (tags & ~(0xffffull << (16 * victim))) |
				     ((__u64)XDPLB_CT_TAG_BUSY <<
				      (16 * victim));

			if (!__atomic_compare_exchange_n(&set->tags, &tags,
							 busy, false,
							 __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE))
				continue;	/* another writer: again */
		}
		set->flow[victim] = f->flow;
		set->real_id[victim] = id;
		set->real_gen[victim] = s->reals[id].gen;
		set->created[victim] = last;
		set->last_seen[victim] = last;
		__atomic_store_n(&set->tag[victim], tag, __ATOMIC_RELEASE);
		s->st.applied++;
		return;
	}
	s->st.full++;	/* data path writers won the set every time */
}

/* Receiving --------------------------------------------------------------- */

/* The sequence of sender id: a datagram seen before, or older than the
 * window, is a replay. */
static bool fresh_seq(struct sync *s, __u64 id, __u64 seq)
{
	struct sender *x = NULL, *lru = &s->senders[0];
	__u64 d;
	int i;

	for (i = 0; i < SYNC_SENDERS; i++) {
		if (s->senders[i].id == id && s->senders[i].used_ms) {
			x = &s->senders[i];
			break;
		}
		if (s->senders[i].used_ms < lru->used_ms)
			lru = &s->senders[i];
	}
	if (!x) {
		x = lru;
		memset(x, 0, sizeof(*x));
		x->id = id;
		x->top = seq;
		x->window = 1;
		x->used_ms = mono_ms();
		return true;
	}
	x->used_ms = mono_ms();
	if (seq > x->top) {
		d = seq - x->top;
		x->window = d >= 64 ? 1 : (x->window << d) | 1;
		x->top = seq;
		return true;
	}
	d = x->top - seq;
	if (d >= 64 || (x->window & (1ull << d)))
		return false;
	x->window |= 1ull << d;
	return true;
}

static struct peer *peer_of(struct sync *s, const struct sockaddr_storage *sa)
{
	int i;

	for (i = 0; i < s->npeers; i++)
		if (sa_equal(&s->peer[i].sa, sa))
			return &s->peer[i];
	return NULL;
}

int sync_take(struct sync *s, const void *data, size_t n,
	      const struct sockaddr_storage *from)
{
	/* Aligned for the header's and the flows' fields, wherever the
	 * bytes came from. */
	union {
		struct sync_wire_hdr h;
		unsigned char b[SYNC_DGRAM];
	} u;
	const struct sync_wire_hdr *h = &u.h;
	unsigned char m[MAC_LEN];
	struct peer *p;
	size_t count, i;
	__u64 t;

	p = peer_of(s, from);
	if (n > sizeof(u) || n < sizeof(*h) + MAC_LEN || !p) {
		s->st.rejected++;
		return -EBADMSG;
	}
	memcpy(u.b, data, n);
	count = ntohs(h->count);
	if (count > SYNC_MAX_FLOWS ||
	    n != sizeof(*h) + count * sizeof(struct sync_wire_flow) + MAC_LEN) {
		s->st.rejected++;
		return -EBADMSG;
	}
	mac(s, u.b, n - MAC_LEN, m);
	if (crypto_verify_32(m, u.b + n - MAC_LEN) ||
	    ntohl(h->magic) != SYNC_MAGIC || h->version != SYNC_VERSION) {
		s->st.rejected++;
		return -EBADMSG;
	}
	t = be64toh(h->time_ms);
	if (be64toh(h->sender) == s->me ||
	    t + SYNC_SKEW_MS < real_ms() || t > real_ms() + SYNC_SKEW_MS ||
	    !fresh_seq(s, be64toh(h->sender), be64toh(h->seq))) {
		s->st.replayed++;
		return -ESTALE;
	}
	s->st.received++;
	/* A part of the answer to our request. */
	if (h->request && be64toh(h->request) == p->ask_id &&
	    h->type != SYNC_MSG_ASK)
		p->heard_ms = mono_ms();
	if (h->type == SYNC_MSG_ASK) {
		/* A new request: our table from the start. The one being
		 * answered, asked again: go on, or say again that it was
		 * all (SYNC_MSG_END was lost). */
		if (be64toh(h->request) != p->dump_id) {
			p->dump_id = be64toh(h->request);
			p->dump_pos = 0;
			p->dump.n = 0;
		}
		p->dumping = true;
	} else if (h->type == SYNC_MSG_END) {
		if (be64toh(h->request) == p->ask_id)
			p->done = true;
	} else if (h->type == SYNC_MSG_FLOWS && s->tbl.ct) {
		const struct sync_wire_flow *f = (const void *)(h + 1);

		s->st.received_flows += count;
		for (i = 0; i < count; i++)
			apply(s, &f[i]);
	}
	return 0;
}

static void receive(struct sync *s)
{
	/* One byte more than a datagram may have: a longer one is seen. */
	unsigned char buf[SYNC_DGRAM + 1];
	struct sockaddr_storage from;
	int taken;

	for (taken = 0;; taken++) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (void *)&from, &fl);

		if (n < 0)
			return;
		if (taken >= SYNC_RECV_TICK) {
			s->st.dropped++;	/* the rate: drained */
			continue;
		}
		sync_take(s, buf, n, &from);
	}
}

/* Life ------------------------------------------------------------------ */

/* Still waiting for peer p's table: not yet asked, or it sent a part of
 * it within SYNC_WAIT_MS (of the first ask, or of the last part). */
static bool waiting(const struct peer *p, __u64 now)
{
	__u64 since = p->heard_ms > p->first_ms ? p->heard_ms : p->first_ms;

	return !p->first_ms || now - since < SYNC_WAIT_MS;
}

int sync_new(struct sync **out, const struct sync_opts *o, char *err,
	     size_t errlen)
{
	struct sync *s;
	int i, on = 1, ret;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return -ENOSYS;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	if (o->key_file) {
		ret = sync_read_key(o->key_file, s->key, &s->keylen, err,
				    errlen);
		if (ret)
			goto err;
	} else if (o->keylen < 32 || o->keylen >= SYNC_KEY_MAX) {
		snprintf(err, errlen, "a sync key has 32 to %d bytes",
			 SYNC_KEY_MAX - 1);
		ret = -EINVAL;
		goto err;
	} else {
		memcpy(s->key, o->key, o->keylen);
		s->keylen = o->keylen;
	}
	s->fd = socket(o->listen.ss_family, SOCK_DGRAM | SOCK_CLOEXEC |
		       SOCK_NONBLOCK, 0);
	if (s->fd < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(s->fd, (const void *)&o->listen, sa_len(&o->listen))) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen for sync messages: %s",
			 strerror(-ret));
		goto err;
	}
	for (i = 0; i < o->npeers; i++) {
		if (o->peer[i].ss_family != o->listen.ss_family) {
			snprintf(err, errlen, "sync peer %d is not of the "
				 "address family --sync listens on", i + 1);
			ret = -EAFNOSUPPORT;
			goto err;
		}
		s->peer[i].sa = o->peer[i];
		s->peer[i].salen = sa_len(&o->peer[i]);
	}
	s->npeers = o->npeers;
	randombytes_buf(&s->me, sizeof(s->me));
	s->start_ms = s->tokens_ms = mono_ms();
	s->tokens = SYNC_SEND_PPS / 10.0;
	*out = s;
	return 0;
err:
	sync_free(s);
	return ret;
}

static void detach(struct sync *s)
{
	if (s->ct_len)
		munmap(s->tbl.ct, s->ct_len);
	if (s->log)
		munmap((void *)s->log, s->log_len);
	free(s->log_pos);
	free(s->guards);
	free(s->reals);
	free(s->real_index);
	memset(&s->tbl, 0, sizeof(s->tbl));
	s->ct_len = 0;
	s->log = NULL;
	s->log_pos = NULL;
	s->guards = NULL;
	s->reals = NULL;
	s->real_index = NULL;
	s->lb = NULL;
}

void sync_free(struct sync *s)
{
	if (!s)
		return;
	detach(s);
	if (s->fd >= 0)
		close(s->fd);
	sodium_memzero(s->key, sizeof(s->key));
	free(s);
}

/* Take t (detached before), and ask the peers for their tables anew. */
static int attach_table(struct sync *s, const struct sync_table *t)
{
	int i;

	s->reals = calloc(XDPLB_MAX_REALS, sizeof(*s->reals));
	s->real_index = calloc(REAL_SLOTS, sizeof(*s->real_index));
	if (!s->reals || !s->real_index)
		return -ENOMEM;
	s->tbl = *t;
	for (i = 0; i < s->npeers; i++) {
		struct peer *p = &s->peer[i];

		randombytes_buf(&p->ask_id, sizeof(p->ask_id));
		p->first_ms = p->asked_ms = p->heard_ms = 0;
		p->done = false;
	}
	reals_read(s, true);
	return 0;
}

int sync_attach_table(struct sync *s, const struct sync_table *t)
{
	int err;

	detach(s);
	if (!t || !t->ct)
		return 0;
	if (!t->sets || (t->sets & (t->sets - 1)) || !t->svc_match ||
	    !t->reals)
		return -EINVAL;
	err = attach_table(s, t);
	if (err)
		detach(s);
	return err;
}

static int lb_table_svc_match(void *ctx, const struct xdplb_svc_key *key,
			      struct xdplb_svc *svc)
{
	return lb_svc_match(ctx, key, svc);
}

static int lb_table_reals(void *ctx, struct xdplb_real *all)
{
	return lb_reals(ctx, all);
}

int sync_attach(struct sync *s, struct lb *lb)
{
	struct sync_table t = {
		.svc_match = lb_table_svc_match,
		.reals = lb_table_reals,
		.ctx = lb,
	};
	char path[PATH_MAX + 16];
	__u32 zero = 0;
	int fd, cpu, err = 0;
	size_t len;

	detach(s);
	if (!lb)
		return 0;
	t.sets = lb_ct_sets(lb);
	t.cfg = lb->cfg;
	len = (size_t)t.sets * sizeof(*t.ct);
	t.ct = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		    lb->conns_fd, 0);
	if (t.ct == MAP_FAILED)
		return -errno;
	s->tbl.ct = t.ct;
	s->ct_len = len;
	err = attach_table(s, &t);
	if (err)
		goto err;
	s->ncpus = libbpf_num_possible_cpus();
	s->log_len = (size_t)s->ncpus * XDPLB_CT_LOG_SLOTS *
		     sizeof(struct xdplb_ct_note);
	s->log_pos = calloc(s->ncpus, sizeof(*s->log_pos));
	s->guards = calloc(s->ncpus, sizeof(*s->guards));
	if (!s->log_pos || !s->guards) {
		err = -ENOMEM;
		goto err;
	}
	snprintf(path, sizeof(path), "%s/%s", lb->pin_dir, XDPLB_PIN_CT_LOG);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		goto err;
	}
	s->log = mmap(NULL, s->log_len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (s->log == MAP_FAILED) {
		s->log = NULL;
		err = -errno;
		goto err;
	}
	s->lb = lb;
	/* Notes from before are made good by the refresh. */
	if (!bpf_map_lookup_elem(lb->ct_guard_fd, &zero, s->guards))
		for (cpu = 0; cpu < s->ncpus; cpu++)
			s->log_pos[cpu] = s->guards[cpu].log_head;
	return 0;
err:
	detach(s);
	return err;
}

bool sync_attached(const struct sync *s)
{
	return s->tbl.ct;
}

void sync_reals_changed(struct sync *s)
{
	reals_read(s, true);
}

int sync_fd(const struct sync *s)
{
	return s->fd;
}

int sync_timeout(const struct sync *s)
{
	__u64 now = mono_ms();

	return s->next_ms > now ? (int)(s->next_ms - now) : 0;
}

void sync_dispatch(struct sync *s)
{
	__u64 now = mono_ms();
	int i;

	receive(s);
	if (now < s->next_ms)
		return;
	s->next_ms = now + SYNC_TICK_MS;
	/* Ask for each peer's table until it has sent it, or is silent;
	 * again only when no part of it came since, so that a peer sending
	 * it is not made to start over. Not without a table to write it
	 * into. */
	for (i = 0; s->tbl.ct && i < s->npeers; i++) {
		struct peer *p = &s->peer[i];

		if (p->done || !waiting(p, now) || p->heard_ms > p->asked_ms ||
		    (p->asked_ms && now - p->asked_ms < SYNC_ASK_MS) ||
		    !send_msg(s, p, SYNC_MSG_ASK, p->ask_id, NULL))
			continue;
		if (!p->first_ms)
			p->first_ms = now;
		p->asked_ms = now;
	}
	if (s->tbl.ct) {
		reals_read(s, false);
		/* The data path's notes: only an instance has them. */
		if (s->lb)
			read_notes(s);
		refresh(s);
		flush(s);
	}
	for (i = 0; i < s->npeers; i++)
		if (s->peer[i].dumping)
			dump(s, &s->peer[i]);
}

bool sync_ready(const struct sync *s)
{
	__u64 now = mono_ms();
	int i;

	for (i = 0; i < s->npeers; i++)
		if (!s->peer[i].done && waiting(&s->peer[i], now))
			return false;
	return true;
}

const struct sync_stats *sync_stats(const struct sync *s)
{
	return &s->st;
}
